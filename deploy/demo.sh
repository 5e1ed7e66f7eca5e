#!/usr/bin/env bash
# Demo: build (Release), start a private PostgreSQL and the services (store,
# collector, aggregator, a leadership subscriber), push the sample months
# January-July 2018, publish the July report as number 588 dated 2018-07-19, and
# print its text as the subscriber received it.
#
#   deploy/demo.sh           run the demo, then stop everything it started
#   deploy/demo.sh --keep    leave the stack running (pids in var/demo.pids)
#   deploy/demo.sh --stop    stop a stack left running by --keep
#   deploy/demo.sh --valgrind  run every service and reportctl under valgrind and
#                            fail if any of them has "definitely lost" blocks
#
# Layout: PostgreSQL data in var/demo-pg (port 55432, unix socket only),
# service logs in var/demo-logs/*.log. Each run starts from an empty database,
# except when a --keep stack is running: then its services are restarted and
# its database is reused.
#
# Environment: REPORT_DEMO_PGPORT (default 55432), REPORT_DEMO_COLLECTOR_PORT
# (5570), REPORT_DEMO_STORE_PORT (5571), REPORT_DEMO_PUBLISH_PORT (5572),
# REPORT_DEMO_CATCHUP_PORT (5573), REPORT_DEMO_CONTROL_PORT (5574).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
    sed -n '2,21s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

mode=run
case "${1:-}" in
"") ;;
--keep) mode=keep ;;
--stop) mode=stop ;;
--valgrind) mode=run VALGRIND_MODE=1 ;;
-h | --help) usage ;;
*) log "unknown option: $1"; usage ;;
esac
[[ $# -le 1 ]] || usage

VAR_DIR="$ROOT/var"
DEMO_PGDATA="$VAR_DIR/demo-pg"
DEMO_PGPORT="${REPORT_DEMO_PGPORT:-55432}"
LOG_DIR="$VAR_DIR/demo-logs"
PIDS_FILE="$VAR_DIR/demo.pids"
BIN_DIR="$ROOT/build/bin"
COLLECTOR_PORT="${REPORT_DEMO_COLLECTOR_PORT:-5570}"
STORE_PORT="${REPORT_DEMO_STORE_PORT:-5571}"
COLLECTOR_ENDPOINT="tcp://127.0.0.1:$COLLECTOR_PORT"
PUBLISH_PORT="${REPORT_DEMO_PUBLISH_PORT:-5572}"
CATCHUP_PORT="${REPORT_DEMO_CATCHUP_PORT:-5573}"
CONTROL_PORT="${REPORT_DEMO_CONTROL_PORT:-5574}"
CONTROL_ENDPOINT="tcp://127.0.0.1:$CONTROL_PORT"
DESK_PORT="${REPORT_DEMO_DESK_PORT:-5575}"
DESK_ENDPOINT="tcp://127.0.0.1:$DESK_PORT"
METRICS_PORTS=("${REPORT_DEMO_COLLECTOR_METRICS_PORT:-9570}" "${REPORT_DEMO_STORE_METRICS_PORT:-9571}"
    "${REPORT_DEMO_AGGREGATOR_METRICS_PORT:-9572}")
PEERS="http://127.0.0.1:${METRICS_PORTS[0]},http://127.0.0.1:${METRICS_PORTS[1]},http://127.0.0.1:${METRICS_PORTS[2]}"
KEYS_DIR="$VAR_DIR/demo-keys"
INBOX="$VAR_DIR/demo-inbox"
LATE_INBOX="$VAR_DIR/demo-inbox-late"
BASIS="Công văn số 2026/UBND-TH ngày 04 tháng 7 năm 2018 của Ủy ban nhân dân tỉnh về việc đổi mới, nâng cao chất lượng các báo cáo kinh tế - xã hội"

if [[ $mode == stop ]]; then
    stop_services "$PIDS_FILE"
    pg_stop "$DEMO_PGDATA"
    echo "demo stopped"
    exit 0
fi

cleanup_done=0
cleanup() {
    [[ $cleanup_done -eq 1 ]] && return 0
    cleanup_done=1
    echo "stopping the demo stack"
    stop_services
    rm -f -- "$PIDS_FILE"
    pg_stop "$DEMO_PGDATA" || true
}

show_logs() {
    local f
    for f in "$LOG_DIR"/*.log; do
        [[ -f "$f" ]] || continue
        log "---- last lines of $f"
        tail -n 20 "$f" >&2 || true
    done
}

fail() {
    log "error: $*"
    show_logs
    exit 1
}

port_answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

echo "== packages"
# shellcheck disable=SC2119  # no extra packages
ensure_packages

VALGRIND=()
if [[ ${VALGRIND_MODE:-0} -eq 1 ]]; then
    ensure_packages valgrind
    mkdir -p "$ROOT/var/demo-logs"
    rm -f "$ROOT"/var/demo-logs/valgrind-*.log
    VALGRIND=(valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
        --log-file="$ROOT/var/demo-logs/valgrind-%p.log")
fi

echo "== build (Release) in build/"
build_project "$ROOT/build" -DCMAKE_BUILD_TYPE=Release
for exe in report-store report-collector report-aggregator reportctl; do
    [[ -x "$BIN_DIR/$exe" ]] || die "$BIN_DIR/$exe was not built"
done

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

reuse=0
if [[ -f "$PIDS_FILE" ]]; then
    echo "== a --keep stack is running: restarting its services, keeping its database"
    stop_services "$PIDS_FILE"
    reuse=1
fi
for p in "$COLLECTOR_PORT" "$STORE_PORT" "$PUBLISH_PORT" "$CATCHUP_PORT" "$CONTROL_PORT" \
    "${METRICS_PORTS[@]}"; do
    if port_answers "$p"; then
        die "port $p is already in use (an old demo? try ./deploy/demo.sh --stop)"
    fi
done

echo "== PostgreSQL in var/demo-pg (port $DEMO_PGPORT)"
mkdir -p "$VAR_DIR"
if [[ $reuse -eq 0 ]]; then
    pg_wipe "$DEMO_PGDATA"
    rm -f -- "$LOG_DIR"/*.log
    rm -rf -- "$INBOX" "$LATE_INBOX"
fi
pg_start "$DEMO_PGDATA" "$DEMO_PGPORT" >/dev/null # exports PGHOST PGPORT PGUSER
DB_CONNINFO="$(pg_conninfo "$DEMO_PGDATA" "$DEMO_PGPORT" report)"
echo "$DB_CONNINFO"
export PGDATABASE=report

# CURVE keys, made on the first run: the servers' pair, one pair per subdivision (its public
# key enrolled as that unit), the store, an operator of the office and a leadership recipient.
# The secret keys of the clients stay in $KEYS_DIR/clients/ (in real life: on their machines).
make_keys() {
    local k="$1" who kind
    mkdir -p "$k/clients"
    chmod 700 "$k" "$k/clients"
    "$BIN_DIR/reportctl" keygen --out "$k/server" >/dev/null
    local units
    units="$(sed -n "s/^ *('\([A-Z0-9_]*\)', 'SKHCN',.*/\1/p" "$ROOT/db/migrations/002_seed_caobang.sql")"
    for who in $units store office leader; do
        case "$who" in
        store) kind=store ;;
        office) kind=operator ;;
        leader) kind=recipient ;;
        *) kind=unit ;;
        esac
        "$BIN_DIR/reportctl" keygen --out "$k/clients/$who" >/dev/null
        "$BIN_DIR/reportctl" enrol "$kind" "$who" --public "$k/clients/$who.pub" \
            --keys-dir "$k" >/dev/null
    done
}
if [[ ! -f "$KEYS_DIR/server.key" ]]; then
    echo "== CURVE keys (first run): $KEYS_DIR"
    make_keys "$KEYS_DIR"
fi
ls "$KEYS_DIR"/units "$KEYS_DIR"/recipients "$KEYS_DIR"/operators "$KEYS_DIR"/stores | sed 's/^/   /'
SERVER_PUB="$KEYS_DIR/server.pub"

echo "== migrations (as the owner), then each service connects as its own role"
"$BIN_DIR/reportctl" migrate --db "$DB_CONNINFO" --log-level warn || fail "migrations failed"
INGEST_DB="$DB_CONNINFO user=report_ingest"
REPORTER_DB="$DB_CONNINFO user=report_reporter"

echo "== services (logs in var/demo-logs/)"
mkdir -p "$LOG_DIR"
if [[ $mode == keep ]]; then
    REPORT_PIDS_FILE="$PIDS_FILE"
    : >"$PIDS_FILE"
fi
start_service report-store "$LOG_DIR/report-store.log" \
    "${VALGRIND[@]}" "$BIN_DIR/report-store" --db "$INGEST_DB" --collectors "tcp://127.0.0.1:$STORE_PORT" \
    --key "$KEYS_DIR/clients/store.key" --collector-key "$SERVER_PUB" \
    --metrics-address "0.0.0.0:${METRICS_PORTS[1]}" --status-peers "$PEERS"
store_pid=$REPORT_LAST_PID
start_service report-collector "$LOG_DIR/report-collector.log" \
    "${VALGRIND[@]}" "$BIN_DIR/report-collector" --endpoint "tcp://*:$COLLECTOR_PORT" \
    --store-endpoint "tcp://127.0.0.1:$STORE_PORT" --keys-dir "$KEYS_DIR" \
    --metrics-address "0.0.0.0:${METRICS_PORTS[0]}" --status-peers "$PEERS"
collector_pid=$REPORT_LAST_PID
start_service report-aggregator "$LOG_DIR/report-aggregator.log" \
    "${VALGRIND[@]}" "$BIN_DIR/report-aggregator" --db "$REPORTER_DB" --control-endpoint "$CONTROL_ENDPOINT" \
    --publish-endpoint "tcp://*:$PUBLISH_PORT" --catchup-endpoint "tcp://*:$CATCHUP_PORT" \
    --desk-endpoint "$DESK_ENDPOINT" --keys-dir "$KEYS_DIR" --status-period 2018-07 \
    --metrics-address "0.0.0.0:${METRICS_PORTS[2]}" --status-peers "$PEERS"
aggregator_pid=$REPORT_LAST_PID
# A leadership subscriber, online before the publication.
start_service subscriber "$LOG_DIR/subscriber.log" \
    "${VALGRIND[@]}" "$BIN_DIR/reportctl" subscribe --out "$INBOX" --log-level info \
    --key "$KEYS_DIR/clients/leader.key" --server-key "$SERVER_PUB" \
    --publish-endpoint "tcp://127.0.0.1:$PUBLISH_PORT" \
    --catchup-endpoint "tcp://127.0.0.1:$CATCHUP_PORT"

wait_for_tcp 127.0.0.1 "$COLLECTOR_PORT" 10 "$store_pid" "$collector_pid" ||
    fail "the collector does not answer on port $COLLECTOR_PORT"
wait_for_tcp 127.0.0.1 "$STORE_PORT" 10 "$store_pid" "$collector_pid" ||
    fail "nothing answers on port $STORE_PORT"
# the store checks the migrations at start: wait for the schema
for ((i = 0; i < 100; i++)); do
    ready="$(psql -X -q -A -t -c "SELECT to_regclass('updates') IS NOT NULL" 2>/dev/null || true)"
    [[ "$ready" == t ]] && break
    service_alive "$store_pid" || fail "report-store exited"
    sleep 0.1
done
[[ "${ready:-}" == t ]] || fail "the store did not create the schema within 10 s"
wait_for_tcp 127.0.0.1 "$CONTROL_PORT" 10 "$aggregator_pid" ||
    fail "the aggregator does not answer on port $CONTROL_PORT"
echo "report-store pid $store_pid, report-collector pid $collector_pid, report-aggregator pid $aggregator_pid"

echo "== push the samples"
shopt -s nullglob
samples=("$ROOT"/deploy/sample/2018-0[1-7].json)
shopt -u nullglob
[[ ${#samples[@]} -gt 0 ]] || die "no deploy/sample/2018-0[1-7].json"
for f in "${samples[@]}"; do
    echo "-- ${f#"$ROOT"/}"
    # each subdivision's updates go with its own key: a unit may push only for itself
    "${VALGRIND[@]}" "$BIN_DIR/reportctl" push --endpoint "$COLLECTOR_ENDPOINT" --server-key "$SERVER_PUB" \
        --unit-keys "$KEYS_DIR/clients" "$f" ||
        fail "reportctl push $f failed"
done

# the pipeline is asynchronous: wait until the stored count stops changing
prev=-1
for ((i = 0; i < 20; i++)); do
    n="$(psql -X -q -A -t -c "SELECT count(*) FROM updates" 2>/dev/null || echo -1)"
    [[ "$n" != -1 && "$n" != 0 && "$n" == "$prev" ]] && break
    prev="$n"
    sleep 0.5
done

echo "== stored updates per period and unit"
psql -X -q -v ON_ERROR_STOP=1 -P footer=off <<'SQL'
SELECT CASE WHEN GROUPING(u.year) = 1 THEN 'total'
            ELSE format('%s-%s', u.year, lpad(u.month::text, 2, '0')) END AS period,
       CASE WHEN GROUPING(u.unit_code) = 1 THEN '' ELSE u.unit_code END AS unit,
       count(DISTINCT u.seq) AS updates,
       count(iv.indicator_code) AS indicator_values
FROM updates u
LEFT JOIN indicator_values iv ON iv.update_seq = u.seq
GROUP BY GROUPING SETS ((u.year, u.month, u.unit_code), ())
ORDER BY GROUPING(u.year), u.year, u.month, u.unit_code;
SQL

echo "== draft of 2018-07 (units that have not reported are listed, outside the report)"
OFFICE=(--key "$KEYS_DIR/clients/office.key" --server-key "$SERVER_PUB")
"$BIN_DIR/reportctl" compile 2018-07 --control-endpoint "$CONTROL_ENDPOINT" "${OFFICE[@]}" >/dev/null ||
    fail "reportctl compile failed"

echo "== publish 2018-07 as number 588 dated 2018-07-19"
published="$(psql -X -q -A -t -c "SELECT count(*) FROM published_reports WHERE number = 588 AND doc_year = 2018")"
if [[ "$published" == 0 ]]; then
    "${VALGRIND[@]}" "$BIN_DIR/reportctl" publish 2018-07 --control-endpoint "$CONTROL_ENDPOINT" "${OFFICE[@]}" \
        --number 588 --date 2018-07-19 --basis "$BASIS" || fail "reportctl publish failed"
else
    echo "(already published by an earlier run of this --keep stack)"
fi

echo "== the subscriber's inbox"
received="$INBOX/SKHCN-2018-07-v1.txt"
for ((i = 0; i < 200; i++)); do
    [[ -f "$received" ]] && break
    sleep 0.1
done
[[ -f "$received" ]] || fail "the subscriber did not receive the report within 20 s"
grep '^received' "$LOG_DIR/subscriber.log" || true
ls -l "$INBOX"

echo "== a subscriber that was offline at publication catches up"
"${VALGRIND[@]}" "$BIN_DIR/reportctl" subscribe --out "$LATE_INBOX" --once --deadline-ms 20000 \
    --key "$KEYS_DIR/clients/leader.key" --server-key "$SERVER_PUB" \
    --publish-endpoint "tcp://127.0.0.1:$PUBLISH_PORT" \
    --catchup-endpoint "tcp://127.0.0.1:$CATCHUP_PORT" || fail "catch-up failed"

echo "== the pipeline as ops see it (reportctl status, from the services' metrics endpoints)"
"$BIN_DIR/reportctl" status --services "$PEERS" || fail "reportctl status reports a service down"

echo
echo "================ report as received by the subscriber: ${received#"$ROOT"/} ================"
cat "$received"
echo "================ end of report ================"

pdf="$INBOX/SKHCN-2018-07-v1.pdf"
[[ -f "$pdf" ]] || fail "the subscriber received no PDF"
pages="$(pdfinfo "$pdf" | sed -n 's/^Pages: *//p')"
echo "PDF (PDF/A-2b, to sign): ${pdf#"$ROOT"/}, $pages page(s), $(stat -c %s "$pdf") bytes"
[[ -f "$INBOX/index.html" ]] || fail "the subscriber kept no inbox page"
echo "inbox page: ${INBOX#"$ROOT"/}/index.html ($(grep -c '<tr><td>' "$INBOX/index.html") report(s) listed)"

if [[ $mode == keep ]]; then
    cleanup_done=1 # leave everything running
    pg_data_real="$(pg_socket_dir "$DEMO_PGDATA")"
    cat <<INFO

The demo stack is running (pids in ${PIDS_FILE#"$ROOT"/}):
  collector   $COLLECTOR_ENDPOINT
              push more: build/bin/reportctl push --endpoint $COLLECTOR_ENDPOINT --server-key $SERVER_PUB --key $KEYS_DIR/clients/UNIT.key FILE
  keys        $KEYS_DIR (enrol: build/bin/reportctl enrol unit CODE --public FILE --keys-dir $KEYS_DIR)
  aggregator  control $CONTROL_ENDPOINT, PUB tcp://127.0.0.1:$PUBLISH_PORT, catch-up tcp://127.0.0.1:$CATCHUP_PORT
              build/bin/reportctl compile 2018-07 ${OFFICE[*]}
              build/bin/reportctl publish 2018-07 --number N --date YYYY-MM-DD --basis TEXT ${OFFICE[*]}
  desk        a unit's web page (prints its URL): build/bin/reportctl desk --key $KEYS_DIR/clients/THANH_TRA.key --server-key $SERVER_PUB --desk-endpoint $DESK_ENDPOINT --collector $COLLECTOR_ENDPOINT
  subscriber  files in ${INBOX#"$ROOT"/}/
  ops         metrics: curl http://127.0.0.1:${METRICS_PORTS[0]}/metrics (collector), :${METRICS_PORTS[1]} (store), :${METRICS_PORTS[2]} (aggregator)
              status page: http://127.0.0.1:${METRICS_PORTS[0]}/status   health: /healthz, /readyz
              build/bin/reportctl status --watch --services $PEERS
              Prometheus: deploy/prometheus/prometheus.yml and rules.yml
  database    psql "$DB_CONNINFO"
  logs        ${LOG_DIR#"$ROOT"/}/report-store.log
              ${LOG_DIR#"$ROOT"/}/report-collector.log
              ${LOG_DIR#"$ROOT"/}/report-aggregator.log
              ${LOG_DIR#"$ROOT"/}/subscriber.log
              $pg_data_real/server.log (PostgreSQL)
  stop it     ./deploy/demo.sh --stop
INFO
fi

if [[ ${VALGRIND_MODE:-0} -eq 1 ]]; then
    cleanup # stop the services so that valgrind writes their leak summaries
    echo "== valgrind: definitely lost blocks per process"
    bad=0
    for f in "$ROOT"/var/demo-logs/valgrind-*.log; do
        cmd="$(sed -n 's/^==[0-9]*== Command: //p' "$f" | head -n 1)"
        lost="$(sed -n 's/^==[0-9]*==    definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | head -n 1)"
        [[ -n "$lost" ]] || lost=0
        args="${cmd#* }"
        cmd="${cmd%% *}"
        printf '  %-18s definitely lost: %s bytes   (%s)\n' "${cmd##*/} ${args%% *}" "$lost" \
            "${f#"$ROOT"/}"
        [[ "$lost" == 0 ]] || bad=1
    done
    [[ $bad -eq 0 ]] || die "valgrind found definitely lost blocks"
    echo "valgrind: no definitely lost blocks"
fi
