#!/usr/bin/env bash
# Benchmark of the real services (issue 9): a private PostgreSQL (fsync and synchronous_commit
# on), report-store and report-collector started as separate processes with CURVE on, and
# build/bin/bench_load driving many concurrent clients, each with the key of its own unit:
#
#   1. closed loop for --seconds: each client keeps --window updates in flight (the maximum
#      rate: acked_per_s, client-side p50/p99);
#   2. open loop for --half-seconds at half that rate, on a fixed schedule (at_half_p99_ms);
#   3. on the same server, the physical limit: COPY of the very rows stored into identical
#      tables (LIKE ... INCLUDING ALL plus the same foreign keys), one transaction (copy_per_s);
#   4. the disk's rate from pg_test_fsync (fsync_per_s), the services' resident memory sampled
#      every second, and (full run only) RabbitMQ with the same load (tests/bench/rabbitmq.sh);
#   5. (full run only) the compile of a month holding 1k, 10k, 100k and 1M stored updates
#      (tests/bench/compile_scale.sh, its own PostgreSQL; "compile_scale: ..." line), and the
#      PDF's rendering and PDF/A conversion for 3, 40 and 200 items ("pdf: ..." lines).
#
# Last lines: "peer: rabbitmq_classic_per_s=N rabbitmq_quorum_per_s=N" (full run) and
# "bench: acked_per_s=N copy_per_s=N ratio=R p50_ms=X p99_ms=X at_half_p99_ms=X
#  collector_rss_mb=N store_rss_mb=N fsync_per_s=N".
#
#   tests/bench/run.sh                 full run: 600 s + 120 s of load, then RabbitMQ
#   tests/bench/run.sh --smoke         about 20 s of load, no RabbitMQ (tests/run.sh runs this)
#   options: --seconds N  --half-seconds N  --clients N (16)  --window N (64)  --no-peer
#            --peer-seconds N (60)  --no-compile  --build-dir DIR (build, Release)  --no-build
#
# Ports (environment): REPORT_BENCH_PGPORT (25450), REPORT_BENCH_PORT_BASE (26100: collector,
# +1 store link, +2 and +3 metrics), REPORT_BENCH_RABBIT_PORT_BASE (26200). Data and logs in
# var/bench-run/ (REPORT_BENCH_VAR to change it).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

usage() {
    sed -n '2,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

seconds=600
half_seconds=120
clients=16
window=64
peer=1
compile=1
peer_seconds=60
build_dir="$ROOT/build"
do_build=1
fsync_secs=2
drain=15
while [[ $# -gt 0 ]]; do
    case "$1" in
    --smoke) seconds=12 half_seconds=8 peer=0 compile=0 fsync_secs=1 drain=5 ;;
    --seconds) seconds="${2:?}"; shift ;;
    --half-seconds) half_seconds="${2:?}"; shift ;;
    --clients) clients="${2:?}"; shift ;;
    --window) window="${2:?}"; shift ;;
    --no-peer) peer=0 ;;
    --no-compile) compile=0 ;;
    --peer-seconds) peer_seconds="${2:?}"; shift ;;
    --build-dir) build_dir="$(cd "${2:?}" && pwd -P)"; shift ;;
    --no-build) do_build=0 ;;
    -h | --help) usage ;;
    *) log "unknown option: $1"; usage ;;
    esac
    shift
done
for v in "$seconds" "$half_seconds" "$clients" "$window" "$peer_seconds"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "durations, clients and window must be positive numbers"
done
[[ $clients -le 999 ]] || die "at most 999 clients"

VAR="${REPORT_BENCH_VAR:-$ROOT/var/bench-run}"
PGDATA_DIR="$VAR/pg"
PGPORT_BENCH="${REPORT_BENCH_PGPORT:-25450}"
base="${REPORT_BENCH_PORT_BASE:-26100}"
COLLECTOR_PORT=$base STORE_PORT=$((base + 1))
COLLECTOR_METRICS=$((base + 2)) STORE_METRICS=$((base + 3))
KEYS="$VAR/keys"
LOGS="$VAR/logs"
BIN="$build_dir/bin"

echo "== packages and build ($build_dir)"
if [[ $peer -eq 1 ]]; then
    ensure_packages rabbitmq-server librabbitmq-dev
else
    # shellcheck disable=SC2119  # no extra packages
    ensure_packages
fi
mkdir -p "$VAR"
if [[ $do_build -eq 1 ]]; then
    build_project "$build_dir" -DCMAKE_BUILD_TYPE=Release >"$VAR/build.log" 2>&1 ||
        { tail -n 30 "$VAR/build.log" >&2; die "build failed"; }
fi
for exe in report-store report-collector reportctl bench_load; do
    [[ -x "$BIN/$exe" ]] || die "$BIN/$exe was not built"
done
if [[ $peer -eq 1 && ! -x "$BIN/bench_rabbitmq" ]]; then
    die "$BIN/bench_rabbitmq was not built (librabbitmq-dev missing when CMake ran?)"
fi

SAMPLER_PID=
cleanup() {
    # Every step may fail without ending the cleanup (errexit applies in a trap too: a killed
    # sampler's wait status once stopped it before the services were stopped).
    if [[ -n "$SAMPLER_PID" ]]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
    fi
    SAMPLER_PID=
    # shellcheck disable=SC2119  # stops what this shell started
    stop_services
    pg_stop "$PGDATA_DIR" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    log "error: $*"
    local f
    for f in "$LOGS"/*.log; do
        [[ -f "$f" ]] || continue
        log "---- last lines of $f"
        tail -n 15 "$f" >&2 || true
    done
    exit 1
}

for p in "$COLLECTOR_PORT" "$STORE_PORT" "$COLLECTOR_METRICS" "$STORE_METRICS"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        die "port $p is in use (REPORT_BENCH_PORT_BASE picks others)"
    fi
done

echo "== PostgreSQL (port $PGPORT_BENCH, fsync and synchronous_commit on)"
mkdir -p "$VAR"
pg_wipe "$PGDATA_DIR"
rm -rf -- "$KEYS" "$LOGS"
mkdir -p "$LOGS"
pg_start "$PGDATA_DIR" "$PGPORT_BENCH" >/dev/null
DB="$(pg_conninfo "$PGDATA_DIR" "$PGPORT_BENCH" report)"
export PGDATABASE=report
PGREAL="$(pg_socket_dir "$PGDATA_DIR")"
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
[[ "$(q -c 'SHOW fsync')" == on && "$(q -c 'SHOW synchronous_commit')" == on ]] ||
    die "fsync or synchronous_commit is off"
# Checkpoints and autovacuum runs go to the server's log, so that the run can say which of
# them fell inside the open loop (they are what its slowest seconds line up with).
q -d postgres -c "ALTER SYSTEM SET log_checkpoints = on" \
    -c "ALTER SYSTEM SET log_autovacuum_min_duration = 0" -c "ALTER SYSTEM SET log_timezone = 'UTC'" \
    -c "SELECT pg_reload_conf()" >/dev/null

# The disk first, while nothing else runs: 8 kB writes with the method PostgreSQL uses.
sync_method="$(q -c 'SHOW wal_sync_method')"
echo "== pg_test_fsync -s $fsync_secs on the data directory's file system ($sync_method)"
fsync_out="$(_pg_run "$PG_BIN/pg_test_fsync" -s "$fsync_secs" -f "$PGREAL/bench_fsync.tmp" 2>&1)" ||
    { printf '%s\n' "$fsync_out" >&2; die "pg_test_fsync failed"; }
# the first section ("one 8kB write") lists each method once; take the server's
fsync_per_s="$(awk -v m="$sync_method" '
    /using one 8kB write/ { s = 1; next }
    s && /^Compare/ { exit }
    s && $1 == m && $2 ~ /^[0-9.]+$/ { printf "%.0f", $2; exit }' <<<"$fsync_out")"
[[ -n "$fsync_per_s" ]] || { printf '%s\n' "$fsync_out" >&2; die "no $sync_method rate from pg_test_fsync"; }
echo "$sync_method, one 8kB write: $fsync_per_s ops/s"

echo "== schema, $clients bench units and their keys"
"$BIN/reportctl" migrate --db "$DB" --log-level warn || fail "migrations failed"
q -c "INSERT INTO units (code, agency_code, name, position)
      SELECT format('BENCH_%s', lpad(i::text, 3, '0')), 'SKHCN', format('Đơn vị thử tải %s', i), 100 + i
      FROM generate_series(1, $clients) AS i ON CONFLICT DO NOTHING"
mkdir -p "$KEYS/clients"
chmod 700 "$KEYS" "$KEYS/clients"
"$BIN/reportctl" keygen --out "$KEYS/server" >/dev/null
"$BIN/reportctl" keygen --out "$KEYS/clients/store" >/dev/null
"$BIN/reportctl" enrol store store --public "$KEYS/clients/store.pub" --keys-dir "$KEYS" >/dev/null
for ((i = 1; i <= clients; i++)); do
    unit="$(printf 'BENCH_%03d' "$i")"
    "$BIN/reportctl" keygen --out "$KEYS/clients/$unit" >/dev/null
    "$BIN/reportctl" enrol unit "$unit" --public "$KEYS/clients/$unit.pub" --keys-dir "$KEYS" >/dev/null
done

echo "== services: report-store, report-collector (CURVE, logs in ${LOGS#"$ROOT"/})"
start_service report-store "$LOGS/report-store.log" \
    "$BIN/report-store" --db "$DB user=report_ingest" --collectors "tcp://127.0.0.1:$STORE_PORT" \
    --key "$KEYS/clients/store.key" --collector-key "$KEYS/server.pub" \
    --metrics-address "127.0.0.1:$STORE_METRICS" --log-level warn
store_pid=$REPORT_LAST_PID
start_service report-collector "$LOGS/report-collector.log" \
    "$BIN/report-collector" --endpoint "tcp://127.0.0.1:$COLLECTOR_PORT" \
    --store-endpoint "tcp://127.0.0.1:$STORE_PORT" --keys-dir "$KEYS" \
    --max-inflight $((clients * window + 1000)) --max-inflight-per-client $((window + 100)) \
    --metrics-address "127.0.0.1:$COLLECTOR_METRICS" --log-level warn
collector_pid=$REPORT_LAST_PID
wait_for_tcp 127.0.0.1 "$COLLECTOR_PORT" 20 "$store_pid" "$collector_pid" ||
    fail "the collector does not answer on port $COLLECTOR_PORT"
wait_for_tcp 127.0.0.1 "$STORE_PORT" 20 "$store_pid" "$collector_pid" || fail "no store link on $STORE_PORT"

# Resident memory of both services, every second: "seconds collector_kB store_kB phase".
RSS_FILE="$VAR/rss.tsv"
PHASE_FILE="$VAR/phase"
echo setup >"$PHASE_FILE"
(
    trap - EXIT INT TERM
    t=0
    while kill -0 "$collector_pid" 2>/dev/null && kill -0 "$store_pid" 2>/dev/null; do
        c="$(awk '/^VmRSS:/ { print $2 }' "/proc/$collector_pid/status" 2>/dev/null || echo 0)"
        s="$(awk '/^VmRSS:/ { print $2 }' "/proc/$store_pid/status" 2>/dev/null || echo 0)"
        printf '%s\t%s\t%s\t%s\n' "$t" "${c:-0}" "${s:-0}" "$(cat "$PHASE_FILE" 2>/dev/null)"
        sleep 1
        t=$((t + 1))
    done
) >"$RSS_FILE" &
SAMPLER_PID=$!

field() { sed -n -E "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }

load_args=(--endpoint "tcp://127.0.0.1:$COLLECTOR_PORT" --server-key "$KEYS/server.pub"
    --unit-keys "$KEYS/clients" --unit-prefix BENCH_ --clients "$clients" --window "$window"
    --drain-seconds "$drain")
echo "== phase 1: closed loop, $clients clients x window $window, $seconds s"
echo closed >"$PHASE_FILE"
closed="$("$BIN/bench_load" "${load_args[@]}" --seconds "$seconds")" || {
    printf '%s\n' "$closed"
    fail "bench_load (closed loop) failed"
}
echo "$closed"
acked_per_s="$(field acked_per_s "$closed")"
[[ "${acked_per_s:-0}" =~ ^[0-9]+$ && $acked_per_s -gt 0 ]] || fail "nothing was acknowledged"

half=$(((acked_per_s + 1) / 2))
echo "== phase 2: open loop at half that rate ($half updates/s on a fixed schedule), $half_seconds s"
echo open >"$PHASE_FILE"
open_from="$(date -u '+%F %T')"
open="$("$BIN/bench_load" "${load_args[@]}" --seconds "$half_seconds" --rate "$half" --seed 2 \
    --timeline)" || {
    printf '%s\n' "$open"
    fail "bench_load (open loop) failed"
}
open_to="$(date -u '+%F %T')"
grep -v '^timeline:' <<<"$open" || true
# the three seconds (of send time) whose slowest reply was slowest
slowest="$(sed -n -E 's/^timeline: second=([0-9]+) replies=[0-9]+ max_ms=([0-9.]+)$/\2 \1/p' <<<"$open" |
    sort -rn | head -n 3 | awk '{ printf "%s%s ms at %s s", (NR > 1 ? ", " : ""), $1, $2 }')"
# what the server did meanwhile: checkpoints started, tables vacuumed or analysed
maintenance="$(awk -v from="$open_from" -v to="$open_to" '
    substr($0, 1, 19) >= from && substr($0, 1, 19) <= to {
        if (/checkpoint starting/) c++
        else if (match($0, /automatic (vacuum|analyze) of table "report\.(public|pg_toast)\.[^"]*"/)) {
            m = substr($0, RSTART + 10, RLENGTH - 11)
            sub(/ of table "report\./, " ", m)
            t[m] = 1
        }
    }
    END {
        printf "%d checkpoint(s)", c
        for (k in t) printf ", %s", k
    }' "$PGREAL/server.log" 2>/dev/null || echo "server log not readable")"
echo after >"$PHASE_FILE"
sleep 1
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=

# Memory: at the start of the load, 10 % into it (after the pools filled), peak, at the end;
# growth is end against the 10 % mark, what a leak would move.
rss_stats() { # column (2 collector, 3 store) -> "start warm peak end growth_pct" in MiB
    awk -F'\t' -v c="$1" '
        $4 == "closed" || $4 == "open" { v[n++] = $c; if ($c > peak) peak = $c }
        END {
            if (!n) { print "0 0 0 0 0"; exit }
            w = v[int(n / 10)]
            printf "%.1f %.1f %.1f %.1f %.1f\n", v[0] / 1024, w / 1024, peak / 1024,
                v[n - 1] / 1024, w ? (v[n - 1] - w) * 100 / w : 0
        }' "$RSS_FILE"
}
read -r c_start c_warm c_peak c_end c_growth <<<"$(rss_stats 2)"
read -r s_start s_warm s_peak s_end s_growth <<<"$(rss_stats 3)"
# shellcheck disable=SC2119  # stops what this shell started
stop_services

echo "== the physical limit: COPY of the stored rows into identical tables, one transaction"
rows="$(q -c 'SELECT count(*) FROM updates')"
ivrows="$(q -c 'SELECT count(*) FROM indicator_values')"
# The copies: same columns, defaults, checks, indexes (LIKE ... INCLUDING ALL) and the same
# foreign keys, the one from indicator_values to updates pointing at the copy of updates.
q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_copy_indicator_values, bench_copy_updates;
CREATE TABLE bench_copy_updates (LIKE updates INCLUDING ALL);
CREATE TABLE bench_copy_indicator_values (LIKE indicator_values INCLUDING ALL);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.conrelid::regclass::text AS tab, pg_get_constraintdef(c.oid) AS def
             FROM pg_constraint c
             WHERE c.contype = 'f' AND c.conrelid IN ('updates'::regclass, 'indicator_values'::regclass)
    LOOP
        EXECUTE format('ALTER TABLE %I ADD %s', 'bench_copy_' || r.tab,
                       regexp_replace(r.def, 'REFERENCES updates\(', 'REFERENCES bench_copy_updates('));
    END LOOP;
END $$;
SQL
fks="$(q -c "SELECT string_agg(conrelid::regclass || ': ' || pg_get_constraintdef(oid), '; ' ORDER BY 1)
             FROM pg_constraint WHERE contype = 'f'
             AND conrelid IN ('bench_copy_updates'::regclass, 'bench_copy_indicator_values'::regclass)")"
echo "foreign keys of the copies: $fks"
# The server writes and reads the files itself (COPY ... TO/FROM 'file', as superuser), in
# its data directory; only the loads are timed, in one transaction, synchronous_commit on.
q -c "COPY (SELECT * FROM updates ORDER BY seq) TO '$PGREAL/bench_updates.copy'"
q -c "COPY (SELECT * FROM indicator_values) TO '$PGREAL/bench_iv.copy'"
timing="$(psql -X -q -v ON_ERROR_STOP=1 <<SQL
\\timing on
BEGIN;
COPY bench_copy_updates FROM '$PGREAL/bench_updates.copy';
COPY bench_copy_indicator_values FROM '$PGREAL/bench_iv.copy';
COMMIT;
SQL
)" || fail "COPY failed"
mapfile -t ms < <(sed -n -E 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$timing")
[[ ${#ms[@]} -eq 4 ]] || { printf '%s\n' "$timing" >&2; fail "no timings from psql"; }
copied="$(q -c 'SELECT count(*) FROM bench_copy_updates')"
[[ "$copied" == "$rows" ]] || fail "copied $copied rows of $rows"
rm -f -- "$PGREAL/bench_updates.copy" "$PGREAL/bench_iv.copy"
read -r copy_ms copy_per_s upd_ms iv_ms commit_ms < <(awk -v r="$rows" -v a="${ms[0]}" -v b="${ms[1]}" \
    -v c="${ms[2]}" -v d="${ms[3]}" 'BEGIN { t = a + b + c + d; printf "%.1f %.0f %.1f %.1f %.1f\n", t, (t > 0 ? r * 1000 / t : 0), b, c, d }')
ratio="$(awk -v a="$acked_per_s" -v c="$copy_per_s" 'BEGIN { printf "%.2f", (c > 0 ? a / c : 0) }')"
pg_stop "$PGDATA_DIR"

peer_line=
if [[ $peer -eq 1 ]]; then
    mean_bytes="$(field mean_update_bytes "$closed")"
    echo "== peer: RabbitMQ, same clients, window and message size (tests/bench/rabbitmq.sh)"
    peer_out="$("$ROOT/tests/bench/rabbitmq.sh" --bin "$BIN/bench_rabbitmq" --clients "$clients" \
        --window "$window" --seconds "$peer_seconds" --mean-bytes "${mean_bytes:-1150}")" ||
        { printf '%s\n' "$peer_out"; fail "the RabbitMQ run failed"; }
    printf '%s\n' "$peer_out" | grep -v '^peer:' || true
    peer_line="$(grep '^peer:' <<<"$peer_out" | tail -n 1)"
fi

compile_line=
if [[ $compile -eq 1 ]]; then
    echo "== compile of a month holding 1k, 10k, 100k and 1M updates (tests/bench/compile_scale.sh)"
    compile_out="$(REPORT_COMPILE_BUILD_DIR="$build_dir" "$ROOT/tests/bench/compile_scale.sh")" ||
        { printf '%s\n' "$compile_out"; fail "the compile scaling run failed"; }
    printf '%s\n' "$compile_out" | grep -v '^compile_scale:' || true
    compile_line="$(grep '^compile_scale:' <<<"$compile_out" | tail -n 1)"
fi

pdf_lines=()
if [[ $compile -eq 1 ]]; then
    echo "== the PDF: rendering and PDF/A conversion of a month of 3, 40 and 200 items (bench_pdf)"
    for items in 3 40 200; do
        pdf_lines+=("$("$BIN/bench_pdf" "$items" 3)") || fail "bench_pdf $items failed"
    done
fi

p50="$(field p50_ms "$closed")"
p99="$(field p99_ms "$closed")"
half_p99="$(field p99_ms "$open")"
echo
echo "== results ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
    "PostgreSQL $(cat "$PGREAL/PG_VERSION"), $(date -u '+%F %H:%M UTC'))"
fmt() { printf '%-44s %s\n' "$1" "$2"; }
fmt "clients x window" "$clients x $window (each client its own unit and CURVE key)"
fmt "closed loop ($seconds s): acked updates/s" "$acked_per_s (stored $(field stored "$closed"), refused $(field refused "$closed"), busy $(field busy "$closed"), unanswered $(field unanswered "$closed"))"
fmt "  reply latency p50 / p90 / p99 / max" "$p50 / $(field p90_ms "$closed") / $p99 / $(field max_ms "$closed") ms"
fmt "  mean update size (protobuf)" "$(field mean_update_bytes "$closed") bytes"
fmt "open loop at $half/s ($half_seconds s): acked/s" "$(field acked_per_s "$open") (skipped $(field skipped "$open"), unanswered $(field unanswered "$open"))"
fmt "  latency from scheduled send p50 / p99" "$(field p50_ms "$open") / $half_p99 ms"
fmt "  slowest seconds of the open loop" "${slowest:-none}"
fmt "  meanwhile in PostgreSQL" "$maintenance"
fmt "COPY into identical tables, 1 transaction" "$rows updates + $ivrows indicator values in $copy_ms ms = $copy_per_s updates/s"
fmt "  updates / indicator_values / COMMIT" "$upd_ms / $iv_ms / $commit_ms ms"
fmt "ratio acked / COPY" "$ratio"
fmt "collector RSS start / 10% / peak / end" "$c_start / $c_warm / $c_peak / $c_end MiB (growth $c_growth %)"
fmt "store RSS start / 10% / peak / end" "$s_start / $s_warm / $s_peak / $s_end MiB (growth $s_growth %)"
fmt "disk: pg_test_fsync $sync_method 8kB" "$fsync_per_s /s"
[[ -n "$compile_line" ]] && echo "$compile_line"
for line in "${pdf_lines[@]}"; do
    echo "$line"
done
[[ -n "$peer_line" ]] && echo "$peer_line"
printf 'bench: acked_per_s=%s copy_per_s=%s ratio=%s p50_ms=%s p99_ms=%s at_half_p99_ms=%s collector_rss_mb=%.0f store_rss_mb=%.0f fsync_per_s=%s\n' \
    "$acked_per_s" "$copy_per_s" "$ratio" "$p50" "$p99" "$half_p99" "$c_peak" "$s_peak" "$fsync_per_s"
