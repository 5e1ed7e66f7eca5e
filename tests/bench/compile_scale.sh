#!/usr/bin/env bash
# Compile scaling: times the compile of one month (2018-07 of the seed's agency) holding 1k,
# 10k, 100k and 1M stored updates (amendments included), best of 3 each, and prints
#   compile: n=N updates=U current_items=I ms=X (sql+doc ... render ...)
#   compile_scale: 1k_ms=.. 10k_ms=.. 100k_ms=.. 1m_ms=..
# A private PostgreSQL (var/compile-pg, port 55473) gets the migrations (reportctl migrate),
# then for each size the tables updates and indicator_values are emptied and refilled in SQL
# (tests/bench/compile_scale.sql: N updates in July, N/10 in each of January to June for the
# year to date; item_heads filled by the statement the trigger of migration 007 runs, since
# the loading session skips triggers), vacuumed and analysed, and build-bench/bin/bench_compile
# runs report_compile()
# (the aggregator's compile path: the same statements over libpq, the document built in C)
# plus the text rendering, connected as the aggregator's role report_reporter.
#
#   tests/bench/compile_scale.sh [SIZE...]     default: 1000 10000 100000 1000000
#
# Environment: REPORT_COMPILE_PGPORT (55470-55479, default 55473), REPORT_COMPILE_RUNS (3),
# REPORT_COMPILE_BUILD_DIR (a Release build to use as it is, instead of building build-bench;
# tests/bench/run.sh passes its own),
# REPORT_COMPILE_SOURCES=1 to time, after each plain compile, one with the office's sources
# (the provenance statements and the JSON with them: "compile_sources: ..." lines),
# REPORT_COMPILE_KEEP=1 to keep the cluster with the last size loaded (for EXPLAIN; start it
# again with: . deploy/lib/common.sh; pg_start var/compile-pg 55473).
# Not part of the test suite. Loading the 1M month takes a few minutes on 2 cores.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000 10000 100000 1000000)
for n in "${sizes[@]}"; do
    [[ "$n" =~ ^[1-9][0-9]{0,7}$ ]] || die "SIZE must be a number of updates (1 to 99999999)"
done
port="${REPORT_COMPILE_PGPORT:-55473}"
[[ "$port" =~ ^5547[0-9]$ ]] || die "REPORT_COMPILE_PGPORT must be 55470-55479"
runs="${REPORT_COMPILE_RUNS:-3}"
pgdata="$ROOT/var/compile-pg"
build="${REPORT_COMPILE_BUILD_DIR:-$ROOT/build-bench}"
sql="$ROOT/tests/bench/compile_scale.sql"

# shellcheck disable=SC2119  # no extra packages
ensure_packages
if [[ -z "${REPORT_COMPILE_BUILD_DIR:-}" ]]; then
    build_project "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
for exe in reportctl bench_compile; do
    [[ -x "$build/bin/$exe" ]] || die "$build/bin/$exe was not built"
done

cleanup() {
    if [[ "${REPORT_COMPILE_KEEP:-0}" == 1 ]]; then
        pg_stop "$pgdata" || true
    else
        pg_wipe "$pgdata" || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_wipe "$pgdata"
pg_start "$pgdata" "$port" >/dev/null
conninfo="$(pg_conninfo "$pgdata" "$port")"
timeout 120 "$build/bin/reportctl" migrate --db "$conninfo" >/dev/null 2>&1 ||
    die "reportctl migrate failed"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL" \
    "$(psql -X -A -t -c 'SHOW server_version' report) (shared_buffers 32MB, fsync on)"

q() { timeout 900 psql -X -q -A -t -v ON_ERROR_STOP=1 -d report "$@"; }

label() {
    case "$1" in
    1000) echo 1k ;;
    10000) echo 10k ;;
    100000) echo 100k ;;
    1000000) echo 1m ;;
    *) echo "$1" ;;
    esac
}

summary=()
for n in "${sizes[@]}"; do
    t0=$(date +%s)
    # Generated bench data: durability does not matter, so this session alone commits
    # asynchronously and skips the foreign-key triggers (the rows are consistent by construction).
    {
        echo "SET synchronous_commit = off;"
        echo "SET session_replication_role = replica;"
        echo "TRUNCATE indicator_values, updates, item_heads RESTART IDENTITY;"
        for m in 1 2 3 4 5 6; do
            echo "\\set n $((n / 10 > 0 ? n / 10 : 1))"
            echo "\\set y 2018"
            echo "\\set m $m"
            echo "\\set tag s$n"
            echo "\\i $sql"
        done
        echo "\\set n $n"
        echo "\\set m 7"
        echo "\\i $sql"
    } | q >/dev/null
    q -c "VACUUM (ANALYZE) updates, indicator_values, item_heads" >/dev/null
    read -r updates items total < <(q -F ' ' -c "
        SELECT (SELECT count(*) FROM updates WHERE year = 2018 AND month = 7),
               (SELECT count(*) FROM current_items WHERE year = 2018 AND month = 7
                   AND NOT withdrawn),
               (SELECT count(*) FROM updates)")
    load_s=$(($(date +%s) - t0))
    out="$(timeout 600 "$build/bin/bench_compile" --db "$conninfo user=report_reporter" \
        --year 2018 --month 7 --runs "$runs")"
    ms="$(sed -n 's/.* best_ms=\([0-9]*\) .*/\1/p' <<<"$out")"
    echo "compile: n=$n updates=$updates current_items=$items ms=$ms" \
        "($out; table holds $total updates; loaded in ${load_s} s)"
    summary+=("$(label "$n")_ms=$ms")
    if [[ "${REPORT_COMPILE_SOURCES:-0}" == 1 ]]; then
        out="$(timeout 600 "$build/bin/bench_compile" --db "$conninfo user=report_reporter" \
            --year 2018 --month 7 --runs "$runs" --sources)"
        ms="$(sed -n 's/.* best_ms=\([0-9]*\) .*/\1/p' <<<"$out")"
        echo "compile_sources: n=$n ms=$ms ($out)"
        summary+=("$(label "$n")_sources_ms=$ms")
    fi
done
echo "compile_scale: ${summary[*]}"
