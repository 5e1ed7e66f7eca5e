#!/usr/bin/env bash
# Whole test suite: packages, build, private PostgreSQL, ctest, format check, the fuzz,
# bench and fault-suite smoke runs, the backup restore drill, the Debian package's install
# test, the several-hosts test's short form, and (CI=true or --sanitize) an ASan+UBSan build
# with its own ctest run.
#
#   tests/run.sh [--sanitize] [--no-asan] [--fast | --fuzz-only] [-- CTEST_ARGS...]
#
#   --sanitize   also build build-asan/ (-DREPORT_SANITIZE=ON) and run its tests
#                (implied by CI=true)
#   --no-asan    skip the sanitizer pass even when CI=true
#   --fast       only the normal build and its tests (no format check, fuzz, bench,
#                faults, backup drill, package, cluster or ASan)
#   --fuzz-only  only the fuzz smoke run (no ctest, format check or ASan)
#   -- ARGS      extra arguments for every ctest run (e.g. -- -R store)
#
# Exported to the tests:
#   REPORT_ROOT         repository root
#   REPORT_BIN_DIR      <build dir>/bin of the build under test
#   REPORT_TEST_PGDATA  data directory of the private server (for deploy/pg.sh)
#   REPORT_TEST_PGPORT  its port (55433; set it before the run to test two checkouts at once)
#   REPORT_TEST_PG      conninfo "host=<socket dir> port=55433 user=postgres dbname=postgres"
#   PGHOST PGPORT PGUSER  same server, for psql and libpq defaults
#
# Environment: CI=true enables the sanitizer pass; REPORT_ASAN_CC=clang picks
# the compiler of the sanitizer build (default: CMake's default, i.e. cc).
#
# The last line printed is "N passed, M failed" (tests summed over all ctest
# runs; a failed build, a ctest run without result or a format check failure
# each count as one failure). Exit status is 1 when M > 0.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../deploy/lib/common.sh"

usage() {
    sed -n '2,28s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

sanitize=0
[[ "${CI:-}" == true ]] && sanitize=1
no_asan=0
fast=0
fuzz_only=0
ctest_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --sanitize) sanitize=1 ;;
    --no-asan) no_asan=1 ;;
    --fast) fast=1 ;;
    --fuzz-only) fuzz_only=1 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h | --help) usage ;;
    *) log "unknown option: $1"; usage ;;
    esac
    shift
done
if [[ $no_asan -eq 1 || $fast -eq 1 || $fuzz_only -eq 1 ]]; then
    sanitize=0
fi

TEST_PGDATA="$ROOT/var/test-pg"
TEST_PGPORT="${REPORT_TEST_PGPORT:-55433}" # another port lets two checkouts test at once
passed=0
failed=0

CTEST_PID=
TAIL_PID=
cleanup() {
    local p
    for p in "$CTEST_PID" "$TAIL_PID"; do
        if [[ -n "$p" ]]; then
            kill -TERM "$p" 2>/dev/null || true
        fi
    done
    pg_stop "$TEST_PGDATA" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section() { printf '\n===== %s\n' "$*"; }

# script_test NAME LOG REGEX CMD...: one test that runs a script (its output to LOG) and passes
# when it exits 0 and its last line starting like REGEX matches REGEX (BASH_REMATCH is left
# for the caller's further checks, which may turn the result into a failure: returns 1 then).
# Prints that line; on failure, the exit status and the log's last lines. Counts the result.
script_test() {
    local name="$1" logfile="$2" re="$3" rc=0 line
    shift 3
    "$@" >"$logfile" 2>&1 || rc=$?
    line="$(grep -E "${re%%[[:space:]=]*}" "$logfile" | tail -n 1 || true)"
    if [[ $rc -eq 0 && "$line" =~ $re ]]; then
        echo "$line"
        return 0
    fi
    log "error: $name failed (exit status $rc); last lines of $logfile:"
    tail -n 40 "$logfile" >&2 || true
    return 1
}
count() { if [[ $1 -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

# A fresh, empty server for each ctest run.
fresh_pg() {
    pg_wipe "$TEST_PGDATA" || return 1
    pg_start "$TEST_PGDATA" "$TEST_PGPORT" >/dev/null || return 1
    REPORT_TEST_PGDATA="$TEST_PGDATA"
    REPORT_TEST_PGPORT="$TEST_PGPORT"
    REPORT_TEST_PG="$(pg_conninfo "$TEST_PGDATA" "$TEST_PGPORT" postgres)"
    export REPORT_TEST_PGDATA REPORT_TEST_PGPORT REPORT_TEST_PG
    echo "PostgreSQL: $REPORT_TEST_PG"
}

# run_ctest BUILD_DIR: run the tests of BUILD_DIR and add up the results.
run_ctest() {
    local dir="$1" out rc line total nfail
    if ! fresh_pg; then
        log "error: could not start the test PostgreSQL server"
        failed=$((failed + 1))
        return 0
    fi
    export REPORT_ROOT="$ROOT" REPORT_BIN_DIR="$dir/bin"
    out="$dir/ctest-output.log"
    rc=0
    # ctest runs in the background so that a SIGTERM to this script is handled
    # at once (bash runs traps only between foreground commands)
    ctest --test-dir "$dir" --output-on-failure "${ctest_args[@]}" >"$out" 2>&1 &
    CTEST_PID=$!
    tail -s 0.2 -n +1 -f --pid="$CTEST_PID" "$out" &
    TAIL_PID=$!
    wait "$CTEST_PID" || rc=$?
    wait "$TAIL_PID" || true
    CTEST_PID=
    TAIL_PID=
    line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1 || true)"
    if [[ -n "$line" ]]; then
        nfail="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
        total="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
        passed=$((passed + total - nfail))
        failed=$((failed + nfail))
        if [[ $rc -ne 0 && $nfail -eq 0 ]]; then
            log "error: ctest in $dir exited with status $rc"
            failed=$((failed + 1))
        fi
    elif [[ $rc -eq 0 ]] && grep -q 'No tests were found' "$out"; then
        log "warning: no tests registered in $dir"
    else
        log "error: ctest in $dir gave no result (exit status $rc)"
        failed=$((failed + 1))
    fi
    pg_stop "$TEST_PGDATA" || true
}

check_format() {
    local dirs=() d files=()
    for d in services tests; do
        [[ -d "$ROOT/$d" ]] && dirs+=("$ROOT/$d")
    done
    if [[ ${#dirs[@]} -gt 0 ]]; then
        mapfile -d '' files < <(find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
    fi
    if [[ ${#files[@]} -eq 0 ]]; then
        echo "no C files to check"
        return 0
    fi
    local out rc=0
    out="$(clang-format --dry-run --Werror "${files[@]}" 2>&1)" || rc=$?
    if [[ $rc -eq 0 ]]; then
        echo "formatting ok (${#files[@]} files)"
    else
        printf '%s\n' "$out" | head -n 30 >&2
        log "error: these files are not clang-formatted (fix: clang-format -i FILE...):"
        printf '%s\n' "$out" | sed -n -E 's/^(.*):[0-9]+:[0-9]+: (error|warning): code should be clang-formatted.*/  \1/p' |
            sort -u | sed "s|$ROOT/||" >&2
        failed=$((failed + 1))
    fi
}

section "packages"
# promtool (tests/prometheus, promtool check metrics) and headless Chromium (the status page)
ensure_packages prometheus chromium
# npm for the desk's browser test (playwright-core): Debian's nodejs comes without it, NodeSource's
# nodejs bundles it (and conflicts with Debian's npm package)
command -v npm >/dev/null 2>&1 || ensure_packages npm

if [[ $fuzz_only -eq 1 ]]; then
    build_ok=1
else
    section "build (Debug) in build/"
    if build_project "$ROOT/build" -DCMAKE_BUILD_TYPE=Debug -DREPORT_WERROR=ON; then
        section "tests (build/)"
        run_ctest "$ROOT/build"
        build_ok=1
        section "settings: the README's table against --help"
        if python3 "$ROOT/tests/check_settings.py" "$ROOT/build/bin" "$ROOT/README.md"; then
            passed=$((passed + 1))
        else
            log "error: the README's settings table and the programs' --help differ"
            failed=$((failed + 1))
        fi
    else
        log "error: build failed"
        failed=$((failed + 1))
        build_ok=0
    fi
fi

if [[ $fast -eq 0 && $fuzz_only -eq 0 ]]; then
    section "format check"
    check_format
fi

# Fuzz smoke run: every libFuzzer target (tests/fuzz/fuzz_*.c, one per parser of outside
# bytes) for its share of REPORT_FUZZ_SECONDS (default 60 in all), from the committed seeds
# in tests/fuzz/corpus/<target>/ into a scratch corpus var/fuzz-corpus/<target>/. Each target
# counts as one test. See the README to run them for hours.
fuzz_one() {
    local target="$1" seconds="$2" scratch="$ROOT/var/fuzz-corpus/$1" log="$ROOT/build-fuzz/$1.log"
    mkdir -p "$scratch"
    # -close_fd_mask=3: the parsers' own messages (settings errors, logs) would slow the run;
    # libFuzzer keeps its own output and the sanitizer reports
    if "$ROOT/build-fuzz/bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$ROOT/var/fuzz-$target-" \
        "$scratch" "$ROOT/tests/fuzz/corpus/$target" >"$log" 2>&1; then
        printf '%s: no crash, leak or sanitizer report; %s\n' "$target" \
            "$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed -E 's/^#([0-9]+)[[:space:]]+DONE[[:space:]]+(cov: [0-9]+).*/\1 inputs, \2/' || true)"
        passed=$((passed + 1))
    else
        log "error: $target found a problem (artifact in var/fuzz-$target-*):"
        grep -v '^ts=' "$log" | tail -n 40 >&2 || true
        failed=$((failed + 1))
    fi
}

if [[ $fast -eq 0 && $build_ok -eq 1 ]]; then
    section "fuzz smoke run (build-fuzz/, ${REPORT_FUZZ_SECONDS:-60} s in all)"
    mapfile -t fuzz_targets < <(find "$ROOT/tests/fuzz" -maxdepth 1 -name 'fuzz_*.c' -printf '%f\n' |
        sed 's/\.c$//' | sort)
    if cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DREPORT_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null &&
        cmake --build "$ROOT/build-fuzz" -j "${REPORT_BUILD_JOBS:-2}" --target fuzz_all; then
        share=$((${REPORT_FUZZ_SECONDS:-60} / ${#fuzz_targets[@]}))
        [[ $share -ge 1 ]] || share=1
        for target in "${fuzz_targets[@]}"; do
            fuzz_one "$target" "$share"
        done
    else
        log "error: fuzz build failed"
        failed=$((failed + ${#fuzz_targets[@]}))
    fi
fi

# Bench smoke run (issue 9): tests/bench/run.sh --smoke, about 20 s of load on the Debug build
# (real services as processes, CURVE, private PostgreSQL on its own port; no RabbitMQ peer).
# One test: it passes when the bench ran and printed a well-formed "bench:" line with
# acked_per_s > 0; no speed is asserted. Skipped with --fast and --fuzz-only.
if [[ $fast -eq 0 && $fuzz_only -eq 0 && $build_ok -eq 1 ]]; then
    section "bench smoke run (tests/bench/run.sh --smoke)"
    rc=0
    script_test "the bench smoke run" "$ROOT/build/bench-smoke.log" \
        '^bench: acked_per_s=([0-9]+) copy_per_s=[0-9]+ ratio=[0-9.]+ p50_ms=[0-9.]+ p99_ms=[0-9.]+ at_half_p99_ms=[0-9.]+ collector_rss_mb=[0-9]+ store_rss_mb=[0-9]+ fsync_per_s=[0-9]+$' \
        env REPORT_BENCH_PGPORT="${REPORT_BENCH_SMOKE_PGPORT:-25451}" \
        REPORT_BENCH_PORT_BASE="${REPORT_BENCH_SMOKE_PORT_BASE:-26110}" \
        REPORT_BENCH_VAR="$ROOT/var/bench-smoke" \
        timeout 600 "$ROOT/tests/bench/run.sh" --smoke --build-dir "$ROOT/build" --no-build || rc=1
    [[ $rc -ne 0 || ${BASH_REMATCH[1]} -gt 0 ]] || { log "error: no update acknowledged"; rc=1; }
    count $rc
fi

# The Debian package (tests/package/run.sh): built from build/ with CPack, installed by dpkg
# into an empty root, its files, conffiles, user, programs, client library and systemd units
# checked, then removed and purged. One test; skipped with --fast and --fuzz-only.
if [[ $fast -eq 0 && $fuzz_only -eq 0 && $build_ok -eq 1 ]]; then
    section "Debian package (tests/package/run.sh)"
    package_log="$ROOT/build/package-test.log"
    if "$ROOT/tests/package/run.sh" --build-dir "$ROOT/build" --no-build >"$package_log" 2>&1; then
        grep -E '^(package: ok|size:|Overall exposure)' "$package_log" || true
        passed=$((passed + 1))
    else
        log "error: the package test failed; last lines of $package_log:"
        tail -n 30 "$package_log" >&2 || true
        failed=$((failed + 1))
    fi
fi

# Fault suite, short form: the real services under load from four clients, one fault of each
# kind (kill -9, PostgreSQL stopped, SIGSTOP, collector restarted during a locked commit,
# aggregator killed while publishing, misbehaving peers), each update checked in the
# database. About two minutes; counts as one test. Its own PostgreSQL (port
# REPORT_FAULTS_PGPORT, 25460) and ports (REPORT_FAULTS_PORT_BASE, 26300). The full run:
# tests/faults/run.sh (see the README).
if [[ $fast -eq 0 && $fuzz_only -eq 0 && $build_ok -eq 1 ]]; then
    section "fault suite, short form (tests/faults/run.sh --short)"
    if REPORT_BIN_DIR="$ROOT/build/bin" "$ROOT/tests/faults/run.sh" --short; then
        passed=$((passed + 1))
    else
        log "error: the fault suite failed (logs in var/faults/)"
        failed=$((failed + 1))
    fi
fi

# Restore drill (issue 12): WAL archiving to an encrypted pgBackRest repository, a full
# backup, publications after it, an operator's DELETE, a point-in-time restore to a fresh
# data directory; passes when every published version is back and compiles again to its
# SHA-256 and the deleted rows are back. About 40 s; counts as one test. Its own PostgreSQL
# servers (REPORT_DRILL_PGPORT 55630, REPORT_DRILL_RESTORE_PGPORT 55631) and ports
# (REPORT_DRILL_PORT_BASE, 26630). Skipped with --fast and --fuzz-only.
if [[ $fast -eq 0 && $fuzz_only -eq 0 && $build_ok -eq 1 ]]; then
    section "backup restore drill (tests/backup/drill.sh)"
    rc=0
    script_test "the restore drill" "$ROOT/build/backup-drill.log" \
        '^backup-drill: backup_s=[0-9.]+ restore_s=[0-9.]+ versions=([0-9]+) identical=([0-9]+) rows_before=([0-9]+) rows_after=([0-9]+) recovery_target=.+$' \
        env REPORT_BIN_DIR="$ROOT/build/bin" timeout 600 "$ROOT/tests/backup/drill.sh" || rc=1
    if [[ $rc -eq 0 ]] && ! [[ ${BASH_REMATCH[1]} -gt 0 && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" &&
        ${BASH_REMATCH[3]} == "${BASH_REMATCH[4]}" ]]; then
        log "error: the restore drill's figures do not add up"
        rc=1
    fi
    count $rc
fi

# Several hosts, short form (tests/cluster/run.sh --short): ten hosts as network namespaces,
# PostgreSQL as a pg_auto_failover pair with TLS verify-full, two collectors, two stores, two
# aggregators; under steady load one kill of a collector, a store, the aggregator leader while
# it publishes and PostgreSQL's primary, and one partition. About 2.5 minutes; counts as
# one test. Needs root (skipped, and said, without it). The full run: tests/cluster/run.sh.
if [[ $fast -eq 0 && $fuzz_only -eq 0 && $build_ok -eq 1 ]]; then
    section "several hosts, short form (tests/cluster/run.sh --short)"
    if [[ ${EUID} -ne 0 ]]; then
        echo "skipped: network namespaces need root"
    else
        rc=0
        script_test "the cluster test" "$ROOT/build/cluster-short.log" \
            '^cluster: hosts=[0-9]+ kills=[0-9]+ partitions=[0-9]+ acked=([0-9]+) lost=0 duplicated=0 failover_max_s=[0-9.]+$' \
            env REPORT_BIN_DIR="$ROOT/build/bin" timeout 900 "$ROOT/tests/cluster/run.sh" --short ||
            rc=1
        [[ $rc -ne 0 || ${BASH_REMATCH[1]} -gt 0 ]] || { log "error: no update acknowledged"; rc=1; }
        grep -E 'resumed after|leader now|subscribers:' "$ROOT/build/cluster-short.log" || true
        count $rc
    fi
fi

if [[ $sanitize -eq 1 && $build_ok -eq 1 ]]; then
    section "build (Debug, ASan+UBSan) in build-asan/"
    asan_args=(-DCMAKE_BUILD_TYPE=Debug -DREPORT_WERROR=ON -DREPORT_SANITIZE=ON)
    if [[ -n "${REPORT_ASAN_CC:-}" ]]; then
        asan_args+=(-DCMAKE_C_COMPILER="$REPORT_ASAN_CC")
    fi
    if build_project "$ROOT/build-asan" "${asan_args[@]}"; then
        section "tests (build-asan/)"
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
        export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
        run_ctest "$ROOT/build-asan"
        unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
    else
        log "error: sanitizer build failed"
        failed=$((failed + 1))
    fi
fi

cleanup
echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
