#!/usr/bin/env bash
# Fault suite: real processes (report-store, report-collector, report-aggregator, reportctl)
# on a private PostgreSQL, steady load from four client loops (reportctl push, one unit key
# each, every update a fresh UUID, every id logged with its outcome; a push that ends with
# UNKNOWN, exit 75, is re-run with the same file until it exits 0), and faults injected at
# random moments. After each scenario the database is checked: every acknowledged id
# (STORED/DUPLICATE) is in `updates` exactly once, for the same unit, with the text and
# item_key sent; no (unit_code, update_id) twice; no id_conflict (or other) refusal.
#
#   tests/faults/run.sh [--short] [--seed N] [--only NAME[,NAME...]] [--keep-logs]
#
#   --short      one fault of each kind, a few seconds each (the form run by tests/run.sh)
#   --seed N     seed of the random moments (printed; pass it again to replay a run)
#   --only LIST  run only these scenarios (names as printed: store_kill, collector_kill,
#                two_stores, two_collectors, pg_restart, sigstop, sigstop_takeover,
#                stale_answer, aggregator, misbehaving)
#
# Layout: var/faults/ (PostgreSQL in var/faults/pg, port REPORT_FAULTS_PGPORT, default 25460;
# services on 26300-26399, loopback only; logs in var/faults/logs and var/faults/<scenario>/).
# Binaries: REPORT_BIN_DIR (default build/bin; built when absent).
#
# Last line: "faults: scenarios=N acked=N lost=0 duplicated=0 conflicts=0"; exit status 1 on
# any loss, duplicate, conflict, refusal, content mismatch, client that did not finish, or
# scenario over its time bound.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/load.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/load.sh"

usage() {
    sed -n '2,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

short=0
seed=""
only=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --short) short=1 ;;
    --seed) seed="${2:?--seed N}"; shift ;;
    --seed=*) seed="${1#--seed=}" ;;
    --only) only="${2:?--only LIST}"; shift ;;
    --only=*) only="${1#--only=}" ;;
    --keep-logs) ;;
    -h | --help) usage ;;
    *) log "unknown option: $1"; usage ;;
    esac
    shift
done
[[ -n "$seed" ]] || seed=$(( $(date +%s) % 100000 ))
[[ "$seed" =~ ^[0-9]+$ ]] || die "--seed wants a number"
RANDOM=$seed

VAR="$ROOT/var/faults"
PGDATA_DIR="$VAR/pg"
PG_PORT="${REPORT_FAULTS_PGPORT:-25460}"
BIN="${REPORT_BIN_DIR:-$ROOT/build/bin}"
KEYS="$VAR/keys"
LOGS="$VAR/logs"
P=${REPORT_FAULTS_PORT_BASE:-26300} # 20 ports from here
CA_PORT=$P                           # collector A: units
SA_PORT=$((P + 1))                   # collector A: stores
CB_PORT=$((P + 2))                   # collector B: units
SB_PORT=$((P + 3))                   # collector B: stores
PUB_PORT=$((P + 4))
CATCH_PORT=$((P + 5))
CTRL_PORT=$((P + 6))
M_CA=$((P + 10)) M_CB=$((P + 11)) M_S1=$((P + 12)) M_S2=$((P + 13)) M_AGG=$((P + 14))
PEERS="http://127.0.0.1:$M_CA,http://127.0.0.1:$M_S1,http://127.0.0.1:$M_AGG"
PERIOD=2018-11 # the fault updates; the aggregator scenario publishes 2018-07 (the samples)

if [[ $short -eq 1 ]]; then
    KILLS_STORE=1 KILLS_COLLECTOR=1 KILLS_TWO=1 PG_RESTARTS=1 FREEZE_S=7 PUBLISHES=3
    SUB_RESTARTS=2 MIN_GAP=1 MAX_GAP=2 SCEN_BOUND=75 PUSH_DEADLINE_MS=5000 IDLE_CONNS=1000
    STEADY_S=3 FLOOD=20
else
    KILLS_STORE=20 KILLS_COLLECTOR=10 KILLS_TWO=6 PG_RESTARTS=5 FREEZE_S=20 PUBLISHES=6
    SUB_RESTARTS=6 MIN_GAP=1 MAX_GAP=4 SCEN_BOUND=180 PUSH_DEADLINE_MS=15000 IDLE_CONNS=1000
    STEADY_S=10 FLOOD=200
fi
CLIENTS=4
UPDATES_PER_FILE=20
MAX_TRIES=12 # pushes of one file (each bounded by PUSH_DEADLINE_MS)
COLLECTOR_MAX_CONNECTIONS=1500
COLLECTOR_MAX_PER_PEER=1200
RSS_BOUND_MB="${REPORT_FAULTS_RSS_MB:-256}" # per service, printed with the settings that bound it

ALL_PIDS=()
WATCHDOG=""
SCEN="setup"
TOTAL_ACKED=0 TOTAL_LOST=0 TOTAL_DUP=0 TOTAL_CONFLICTS=0 SCENARIOS=0 FAILED_SCENARIOS=()
declare -A SVC=()    # name -> pid
declare -A SVCCMD=() # name -> command (for restarts), one argument per line
cleanup_done=0
cleanup() {
    [[ $cleanup_done -eq 1 ]] && return 0
    cleanup_done=1
    local p
    [[ -z "$WATCHDOG" ]] || kill_tree "$WATCHDOG"
    for p in "${ALL_PIDS[@]}"; do
        kill_tree "$p"
    done
    for p in "${ALL_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    pg_stop "$PGDATA_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap on_hang USR1

final_line() {
    echo
    if [[ ${#FAILED_SCENARIOS[@]} -gt 0 ]]; then
        echo "failed scenarios: ${FAILED_SCENARIOS[*]} (seed $seed)"
    fi
    echo "faults: scenarios=$SCENARIOS acked=$TOTAL_ACKED lost=$TOTAL_LOST duplicated=$TOTAL_DUP conflicts=$TOTAL_CONFLICTS"
}
on_hang() {
    trap - USR1
    log "error: scenario $SCEN still running 30 s after its bound of ${SCEN_BOUND}s: hang"
    FAILED_SCENARIOS+=("$SCEN(hang)")
    SCENARIOS=$((SCENARIOS + 1))
    cleanup
    final_line
    exit 1
}

rand() { # rand MIN MAX (inclusive)
    echo $(($1 + RANDOM % ($2 - $1 + 1)))
}
# a random pause between MIN_GAP and MAX_GAP seconds, in tenths
rand_sleep() {
    local t
    t=$(rand $((MIN_GAP * 10)) $((MAX_GAP * 10)))
    sleep "$((t / 10)).$((t % 10))"
}
# wait_bounded PID SECONDS: reap PID, killing it when it outlives SECONDS
wait_bounded() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -KILL "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
        return 1
    fi
    wait "$1" 2>/dev/null || true
}

# ------------------------------------------------------------------ services

# svc_start NAME CMD...: start (or restart) a service, remembered for svc_restart. When
# SVCPORT[NAME] is set, waits until that port answers; a service that exits because its
# port is taken is started again (the ports lie in the kernel's ephemeral range: a client
# reconnecting to a collector that is down may, rarely, hold its port for a moment).
declare -A SVCPORT=()
svc_start() {
    local name="$1" attempt i pid
    shift
    SVCCMD[$name]="$(printf '%s\n' "$@")"
    for ((attempt = 1; attempt <= 10; attempt++)); do
        start_service "$name" "$LOGS/$name.log" "$@"
        pid=$REPORT_LAST_PID
        SVC[$name]=$pid
        ALL_PIDS+=("$pid")
        [[ -n "${SVCPORT[$name]:-}" ]] || return 0
        for ((i = 0; i < 150; i++)); do
            if (exec 3<>"/dev/tcp/127.0.0.1/${SVCPORT[$name]}") 2>/dev/null; then
                return 0
            fi
            service_alive "$pid" || break
            sleep 0.1
        done
        if service_alive "$pid"; then
            die "$name does not answer on port ${SVCPORT[$name]} after 15 s"
        fi
        wait "$pid" 2>/dev/null || true
        tail -n 3 "$LOGS/$name.log" | grep -q 'already in use' ||
            die "$name exited at start (see ${LOGS#"$ROOT"/}/$name.log)"
        log "warning: $name: port in use, starting it again in ${attempt}s"
        sleep "$attempt"
    done
    die "$name: its port stays in use"
}
svc_restart() {
    local name="$1" cmd=()
    mapfile -t cmd <<<"${SVCCMD[$name]}"
    svc_start "$name" "${cmd[@]}"
}
svc_kill9() {
    local pid="${SVC[$1]:-}"
    [[ -n "$pid" ]] || return 0
    kill -CONT "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset 'SVC[$1]'
}
svc_stop() {
    local pid="${SVC[$1]:-}"
    [[ -n "$pid" ]] || return 0
    kill -CONT "$pid" 2>/dev/null || true
    _stop_pid "$1" "$pid"
    wait "$pid" 2>/dev/null || true
    unset 'SVC[$1]'
}
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }

STORE_EXTRA=()
start_store() { # NAME METRICS_PORT COLLECTORS
    SVCPORT[$1]=$2
    svc_start "$1" "$BIN/report-store" --db "$INGEST_DB" --collectors "$3" --store-id "$1" \
        --key "$KEYS/clients/store.key" --collector-key "$KEYS/server.pub" \
        --heartbeat-ms 500 --reconnect-max-ms 1000 "${STORE_EXTRA[@]}" \
        --metrics-address "127.0.0.1:$2" --status-peers "$PEERS" --log-level warn
}
start_collector() { # NAME UNIT_PORT STORE_PORT METRICS_PORT
    SVCPORT[$1]=$2
    svc_start "$1" "$BIN/report-collector" --endpoint "tcp://127.0.0.1:$2" \
        --store-endpoint "tcp://127.0.0.1:$3" --keys-dir "$KEYS" --store-timeout-ms 2000 \
        --max-connections "$COLLECTOR_MAX_CONNECTIONS" \
        --max-connections-per-peer "$COLLECTOR_MAX_PER_PEER" \
        --metrics-address "127.0.0.1:$4" --status-peers "$PEERS" --log-level warn
}
start_aggregator() {
    SVCPORT[aggregator]=$CTRL_PORT
    svc_start aggregator "$BIN/report-aggregator" --db "$REPORTER_DB" \
        --control-endpoint "tcp://127.0.0.1:$CTRL_PORT" --publish-endpoint "tcp://127.0.0.1:$PUB_PORT" \
        --catchup-endpoint "tcp://127.0.0.1:$CATCH_PORT" --keys-dir "$KEYS" --status-period 2018-07 \
        --metrics-address "127.0.0.1:$M_AGG" --status-peers "$PEERS" --log-level warn
}
wait_port() { # PORT NAME
    wait_for_tcp 127.0.0.1 "$1" 15 || die "$2 does not answer on port $1"
}

# The client loops, and the check of what they were told against the database: tests/lib/load.sh

scenario_begin() {
    SCEN="$1"
    SCEN_FAIL=0
    SCEN_START=$(now)
    SCEN_DEADLINE=$((SCEN_START + SCEN_BOUND))
    printf '\n== scenario %s (bound %ss)\n' "$SCEN" "$SCEN_BOUND"
    # the watchdog: a scenario still running 30 s after its bound is a hang; it ends the run
    # (USR1 to this shell, then SIGKILL to whatever child blocks the shell)
    (
        trap - EXIT
        sleep $((SCEN_BOUND + 30))
        kill -USR1 $$ 2>/dev/null || exit 0
        sleep 2
        pkill -KILL -P $$ 2>/dev/null || true
    ) </dev/null >/dev/null 2>&1 &
    WATCHDOG=$!
}
scenario_end() {
    local t=$(($(now) - SCEN_START))
    kill_tree "$WATCHDOG"
    wait "$WATCHDOG" 2>/dev/null || true
    SCENARIOS=$((SCENARIOS + 1))
    if ((t > SCEN_BOUND)); then
        log "error: $SCEN took ${t}s, over its bound of ${SCEN_BOUND}s"
        SCEN_FAIL=1
    fi
    if [[ $SCEN_FAIL -ne 0 ]]; then
        FAILED_SCENARIOS+=("$SCEN")
        printf '  %s: FAILED (%ss; logs in %s and %s)\n' "$SCEN" "$t" "${SCEN_DIR#"$ROOT"/}" "${LOGS#"$ROOT"/}"
    else
        printf '  %s: ok (%ss)\n' "$SCEN" "$t"
    fi
}

wanted() { [[ -z "$only" || ",$only," == *",$1,"* ]]; }

# the base stack: collector A, store1, clients on collector A
base_up() {
    [[ -n "${SVC[store1]:-}" ]] || start_store store1 "$M_S1" "tcp://127.0.0.1:$SA_PORT"
    [[ -n "${SVC[collA]:-}" ]] || start_collector collA "$CA_PORT" "$SA_PORT" "$M_CA"
    wait_port "$CA_PORT" collector
}
EP_A="tcp://127.0.0.1:$CA_PORT"
EP_B="tcp://127.0.0.1:$CB_PORT"

# ------------------------------------------------------------------ scenarios

scen_store_kill() {
    scenario_begin store_kill
    base_up
    start_clients store_kill "$EP_A"
    local i
    for ((i = 1; i <= KILLS_STORE && $(now) < SCEN_DEADLINE - 30; i++)); do
        rand_sleep
        svc_kill9 store1
        printf '  kill -9 store (%d/%d)\n' "$i" "$KILLS_STORE"
        sleep "0.$(rand 1 9)"
        svc_restart store1
    done
    sleep "$STEADY_S"
    stop_clients
    check_db
    scenario_end
}

scen_collector_kill() {
    scenario_begin collector_kill
    base_up
    start_clients collector_kill "$EP_A"
    local i
    for ((i = 1; i <= KILLS_COLLECTOR && $(now) < SCEN_DEADLINE - 30; i++)); do
        rand_sleep
        svc_kill9 collA
        printf '  kill -9 collector (%d/%d)\n' "$i" "$KILLS_COLLECTOR"
        sleep "0.$(rand 1 9)"
        svc_restart collA
    done
    sleep "$STEADY_S"
    stop_clients
    check_db
    scenario_end
}

scen_two_stores() {
    scenario_begin two_stores
    base_up
    start_store store2 "$M_S2" "tcp://127.0.0.1:$SA_PORT"
    start_clients two_stores "$EP_A"
    local i
    for ((i = 1; i <= KILLS_TWO && $(now) < SCEN_DEADLINE - 30; i++)); do
        rand_sleep
        svc_kill9 store1
        printf '  kill -9 store1 of two (%d/%d)\n' "$i" "$KILLS_TWO"
        sleep "0.$(rand 1 9)"
        svc_restart store1
    done
    sleep "$STEADY_S"
    stop_clients
    svc_stop store2
    check_db
    scenario_end
}

scen_two_collectors() {
    scenario_begin two_collectors
    base_up
    # one store serving both collectors
    svc_stop store1
    start_store store1 "$M_S1" "tcp://127.0.0.1:$SA_PORT,tcp://127.0.0.1:$SB_PORT"
    start_collector collB "$CB_PORT" "$SB_PORT" "$M_CB"
    wait_port "$CB_PORT" "collector B"
    start_clients two_collectors "$EP_A" "$EP_B" "$EP_A" "$EP_B"
    rand_sleep
    svc_kill9 collB
    echo "  kill -9 collector B (clients 1 and 3 push to it)"
    sleep "$(rand 2 4)"
    svc_restart collB
    echo "  collector B restarted"
    sleep "$STEADY_S"
    stop_clients
    svc_stop collB
    svc_stop store1
    start_store store1 "$M_S1" "tcp://127.0.0.1:$SA_PORT"
    check_db
    scenario_end
}

pg_kill() {
    local dir
    dir="$(pg_socket_dir "$PGDATA_DIR")"
    _pg_run "$PG_BIN/pg_ctl" stop -D "$dir" -m immediate -w -t 30 -s >&2 || true
}

scen_pg_restart() {
    scenario_begin pg_restart
    base_up
    start_clients pg_restart "$EP_A"
    local i
    for ((i = 1; i <= PG_RESTARTS && $(now) < SCEN_DEADLINE - 30; i++)); do
        rand_sleep
        pg_kill
        printf '  pg_ctl stop -m immediate (%d/%d)\n' "$i" "$PG_RESTARTS"
        sleep "$(rand 1 3)"
        pg_start "$PGDATA_DIR" "$PG_PORT" >/dev/null || die "PostgreSQL did not restart"
    done
    sleep "$STEADY_S"
    stop_clients
    check_db
    scenario_end
}

scen_sigstop() { # NAME TAKEOVER(0|1)
    scenario_begin "$1"
    base_up
    [[ "$2" -eq 1 ]] && start_store store2 "$M_S2" "tcp://127.0.0.1:$SA_PORT"
    start_clients "$1" "$EP_A"
    rand_sleep
    kill -STOP "${SVC[store1]}"
    printf '  SIGSTOP store1 for %ss%s\n' "$FREEZE_S" "$([[ "$2" -eq 1 ]] && echo ' (store2 takes over)')"
    sleep "$FREEZE_S"
    kill -CONT "${SVC[store1]}"
    echo "  SIGCONT store1"
    sleep "$STEADY_S"
    stop_clients
    [[ "$2" -eq 1 ]] && svc_stop store2
    check_db
    scenario_end
}

# A collector restarted while a store is in the middle of a slow commit (another session
# holds a lock on updates), a second store connecting meanwhile; then the lock is released.
scen_stale_answer() {
    scenario_begin stale_answer
    base_up
    # the stores wait for the lock longer than the collector's restart takes
    svc_stop store1
    STORE_EXTRA=(--lock-timeout-ms 20000 --statement-timeout-ms 30000)
    start_store store1 "$M_S1" "tcp://127.0.0.1:$SA_PORT"
    start_clients stale_answer "$EP_A"
    sleep "$(rand 1 2)"
    local fifo="$SCEN_DIR/lock.fifo" lockpid
    mkfifo "$fifo"
    psql -X -q -d report -v ON_ERROR_STOP=1 <"$fifo" >"$SCEN_DIR/lock.log" 2>&1 &
    lockpid=$!
    ALL_PIDS+=("$lockpid")
    exec {lockfd}>"$fifo"
    printf 'BEGIN;\nLOCK TABLE updates IN EXCLUSIVE MODE;\nSELECT 1;\n' >&"$lockfd"
    echo "  LOCK TABLE updates IN EXCLUSIVE MODE (held by another session)"
    sleep 2
    svc_kill9 collA
    echo "  kill -9 collector during the blocked commit"
    sleep 0.5
    svc_restart collA
    start_store store2 "$M_S2" "tcp://127.0.0.1:$SA_PORT"
    echo "  collector restarted, store2 connected"
    sleep 3
    # \q: the services started meanwhile inherited the fifo, so no end of file comes
    printf "COMMIT;\n\\q\n" >&"$lockfd"
    exec {lockfd}>&-
    wait_bounded "$lockpid" 10 || { log "error: the locking psql did not end"; SCEN_FAIL=1; }
    echo "  lock released"
    sleep "$STEADY_S"
    stop_clients
    svc_stop store2
    svc_stop store1
    STORE_EXTRA=()
    start_store store1 "$M_S1" "tcp://127.0.0.1:$SA_PORT"
    check_db
    scenario_end
}

# ------------------------------------------------------------------ aggregator

start_subscriber() { # N
    svc_start "sub$1" "$BIN/reportctl" subscribe --out "$SCEN_DIR/inbox$1" --log-level info \
        --key "$KEYS/clients/leader.key" --server-key "$KEYS/server.pub" \
        --publish-endpoint "tcp://127.0.0.1:$PUB_PORT" --catchup-endpoint "tcp://127.0.0.1:$CATCH_PORT"
}

OFFICE=()
# amend I: a new revision of an item of 2018-07 under a new id (the next version differs)
AMENDS=0
amend() {
    local v
    AMENDS=$((AMENDS + 1))
    v="$(</proc/sys/kernel/random/uuid)"
    printf '{"update_id":"%s","unit":"QLKH","period":"2018-07","section":"result","area":"NHIEM_VU","item_key":"fault-amended","order":9,"revision":%d,"text":"Fault suite amendment %d, %s"}\n' \
        "$v" "$AMENDS" "$1" "$v" >"$SCEN_DIR/amend-$1.json"
    timeout 40 "$BIN/reportctl" push --endpoint "$EP_A" --server-key "$KEYS/server.pub" \
        --key "$KEYS/clients/QLKH.key" --timeout-ms 1000 --deadline-ms 30000 \
        "$SCEN_DIR/amend-$1.json" >>"$SCEN_DIR/amend.out" 2>&1 || {
        log "error: amendment $1 not stored"
        SCEN_FAIL=1
    }
}
next_number() {
    psql -X -q -A -t -d report -c "SELECT coalesce(max(number), 600) + 1 FROM published_reports"
}
# publish_start I NUMBER: reportctl publish in the background (PUBLISH_PID)
publish_start() {
    OFFICE=(--key "$KEYS/clients/office.key" --server-key "$KEYS/server.pub"
        --control-endpoint "tcp://127.0.0.1:$CTRL_PORT" --timeout-ms 15000)
    timeout 30 "$BIN/reportctl" publish 2018-07 "${OFFICE[@]}" --number "$2" \
        --date 2018-07-19 --basis "Fault suite publish $1" >"$SCEN_DIR/publish-$1.out" 2>&1 &
    PUBLISH_PID=$!
    ALL_PIDS+=("$PUBLISH_PID")
}

scen_aggregator() {
    scenario_begin aggregator
    SCEN_DIR="$VAR/aggregator"
    rm -rf -- "$SCEN_DIR"
    mkdir -p "$SCEN_DIR"
    : >"$LOGS/sub1.log"
    : >"$LOGS/sub2.log"
    base_up
    [[ -n "${SVC[aggregator]:-}" ]] || start_aggregator
    wait_port "$CTRL_PORT" aggregator
    start_subscriber 1
    start_subscriber 2
    local i rc number pubpid killed=0 subkilled
    for ((i = 1; i <= PUBLISHES && $(now) < SCEN_DEADLINE - 25; i++)); do
        amend "$i"
        number=$(next_number)
        publish_start "$i" "$number"
        pubpid=$PUBLISH_PID
        subkilled=0
        # a subscriber killed (or stopped) while the report is published, restarted after it
        if ((i <= SUB_RESTARTS)); then
            sleep "0.$(rand 0 3)"
            if ((RANDOM % 2)); then svc_kill9 sub2; else svc_stop sub2; fi
            subkilled=1
        fi
        # the aggregator killed while publishing: on the second publish inside its transaction
        # (another session holds a lock on published_reports, the insert waits), else at a
        # random moment now and then
        if ((i == 2)); then
            local fifo="$SCEN_DIR/lock.fifo" lockpid lockfd busy=0 w
            rm -f "$fifo"
            mkfifo "$fifo"
            psql -X -q -d report -v ON_ERROR_STOP=1 <"$fifo" >"$SCEN_DIR/lock.log" 2>&1 &
            lockpid=$!
            ALL_PIDS+=("$lockpid")
            exec {lockfd}>"$fifo"
            printf 'BEGIN;\nLOCK TABLE published_reports IN EXCLUSIVE MODE;\nSELECT 1;\n' >&"$lockfd"
            # the publish started before the lock: start another one, which will wait on it
            wait "$pubpid" || true
            i=$((i + 1))
            amend "$i"
            number=$(next_number)
            publish_start "$i" "$number"
            pubpid=$PUBLISH_PID
            for ((w = 0; w < 100; w++)); do
                busy="$(psql -X -q -A -t -d report -c "SELECT count(*) FROM pg_stat_activity
                    WHERE usename = 'report_reporter' AND wait_event_type = 'Lock'" 2>/dev/null || echo 0)"
                ((busy > 0)) && break
                sleep 0.05
            done
            svc_kill9 aggregator
            printf '  kill -9 aggregator while publishing number %d (%s)\n' "$number" \
                "$([[ $busy -gt 0 ]] && echo 'its insert waiting on a lock' || echo 'its insert NOT seen waiting')"
            printf 'COMMIT;\n\\q\n' >&"$lockfd"
            exec {lockfd}>&-
            wait_bounded "$lockpid" 10 || true
            killed=$((killed + 1))
            sleep 0.3
            start_aggregator
            rc=0
            wait "$pubpid" || rc=$?
            printf '  publish number %d: exit %d (%s); the same command again:\n' "$number" "$rc" \
                "$(tail -n 1 "$SCEN_DIR/publish-$i.out" | cut -c1-110)"
            # the operator does not know whether it was published: running it again is safe
            publish_start "$i" "$number"
            pubpid=$PUBLISH_PID
        elif ((RANDOM % 4 == 0)); then
            sleep "0.$(rand 0 2)$(rand 0 9)"
            svc_kill9 aggregator
            printf '  kill -9 aggregator at a random moment of publish number %d\n' "$number"
            killed=$((killed + 1))
            sleep 0.3
            start_aggregator
            wait_port "$CTRL_PORT" aggregator
        fi
        rc=0
        wait "$pubpid" || rc=$?
        printf '  publish number %d: exit %d (%s)\n' "$number" "$rc" \
            "$(tail -n 1 "$SCEN_DIR/publish-$i.out" | cut -c1-110)"
        if ((subkilled == 1)); then
            sleep "0.$(rand 1 5)"
            start_subscriber 2
            echo "  subscriber 2 restarted"
        fi
    done
    # every subscriber ends with every published version, once, checksums verified
    local rows want n f sha got ok=0 s
    rows="$(psql -X -q -A -t -F ' ' -d report -c \
        "SELECT version, sha256 FROM published_reports WHERE year = 2018 AND month = 7 ORDER BY version")"
    want="$(printf '%s\n' "$rows" | grep -c . || true)"
    for ((n = 0; n < 100; n++)); do
        ok=1
        for s in 1 2; do
            got="$(find "$SCEN_DIR/inbox$s" -maxdepth 1 -name 'SKHCN-2018-07-v*.txt' 2>/dev/null | wc -l)"
            ((got >= want)) || ok=0
        done
        ((ok == 1)) && break
        sleep 0.2
    done
    local bad=0
    for s in 1 2; do
        got="$(find "$SCEN_DIR/inbox$s" -maxdepth 1 -name 'SKHCN-2018-07-v*.txt' | wc -l)"
        if ((got != want)); then
            log "error: subscriber $s holds $got versions, $want published"
            bad=1
        fi
        while read -r v sha; do
            [[ -n "$v" ]] || continue
            f="$SCEN_DIR/inbox$s/SKHCN-2018-07-v$v.txt"
            if [[ ! -f "$f" ]]; then
                log "error: subscriber $s: version $v missing"
                bad=1
            elif [[ "$(sha256sum <"$f" | cut -d' ' -f1)" != "$sha" ]]; then
                log "error: subscriber $s: version $v checksum differs from published_reports.sha256"
                bad=1
            fi
            # received (applied) once over all the subscriber's runs
            n="$(grep -c "^received SKHCN 2018-07 version=$v " "$LOGS/sub$s.log" || true)"
            if ((n != 1)); then
                log "error: subscriber $s applied version $v $n times"
                bad=1
            fi
        done <<<"$rows"
    done
    printf '  check: published=%s versions; subscribers 1 and 2: every version once, sha256 verified: %s\n' \
        "$want" "$([[ $bad -eq 0 ]] && echo yes || echo NO)"
    ((want >= 2)) || { log "error: fewer than 2 versions published"; bad=1; }
    [[ $bad -eq 0 ]] || SCEN_FAIL=1
    svc_stop sub1
    svc_stop sub2
    scenario_end
}

# ------------------------------------------------------------------ misbehaving peers

# A ZMTP 3.0 greeting (mechanism CURVE, as client), then a command frame announcing 1 TiB.
oversized_frame() {
    local fd
    exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 0
    # shellcheck disable=SC2261  # $fd is a fresh descriptor, never 2
    {
        printf '\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f\x03\x00CURVE'
        head -c 15 /dev/zero
        printf '\x00'
        head -c 31 /dev/zero
        printf '\x06\x00\x00\x01\x00\x00\x00\x00\x00'
        head -c 65536 /dev/urandom
    } >&"$fd" 2>/dev/null || true
    exec {fd}>&-
}

print_rss() { # LABEL
    local name
    for name in collA store1 aggregator; do
        printf '  %-6s %-11s VmRSS %6s kB\n' "$1" "$name" "$(rss_kb "${SVC[$name]}")"
    done
}

scen_misbehaving() {
    scenario_begin misbehaving
    base_up
    [[ -n "${SVC[aggregator]:-}" ]] || start_aggregator
    wait_port "$CTRL_PORT" aggregator
    echo "  bounds: collector max-message-bytes=262144 hwm=1000 max-inflight=10000" \
        "max-inflight-per-client=1000 max-connections=$COLLECTOR_MAX_CONNECTIONS" \
        "max-connections-per-peer=$COLLECTOR_MAX_PER_PEER handshake-ms=5000;" \
        "store capacity=2000; aggregator max-request-bytes=65536 max-connections=1000;" \
        "suite bound VmRSS <= ${RSS_BOUND_MB} MB per service"
    print_rss before
    start_clients misbehaving "$EP_A"
    # a client that never reads its replies: a push of 2000 updates, frozen once it has sent
    local d="$SCEN_DIR" big="$SCEN_DIR/noread.json" i fds=() fd
    : >"$d/noread.sent"
    UPDATES_PER_FILE=2000 gen_file noread 9 1 TT_TTUD "$big" "$d/noread.sent"
    "$BIN/reportctl" push --endpoint "$EP_A" --server-key "$KEYS/server.pub" \
        --key "$KEYS/clients/TT_TTUD.key" --deadline-ms 600000 "$big" >/dev/null 2>&1 &
    local noread=$!
    ALL_PIDS+=("$noread")
    # a subscriber that never reads
    svc_start sub9 "$BIN/reportctl" subscribe --out "$d/inbox9" \
        --key "$KEYS/clients/leader.key" --server-key "$KEYS/server.pub" \
        --publish-endpoint "tcp://127.0.0.1:$PUB_PORT" --catchup-endpoint "tcp://127.0.0.1:$CATCH_PORT"
    sleep 0.5
    kill -STOP "$noread" "${SVC[sub9]}" 2>/dev/null || true
    echo "  a client that never reads its replies, a subscriber that never reads (SIGSTOP)"
    # idle TCP connections: opened, never a byte sent
    for ((i = 0; i < IDLE_CONNS; i++)); do
        if exec {fd}<>"/dev/tcp/127.0.0.1/$CA_PORT" 2>/dev/null; then
            fds+=("$fd")
        fi
    done
    printf '  %d idle TCP connections to the collector\n' "${#fds[@]}"
    # a flood of oversized frames, on the collector and the aggregator's catch-up
    for ((i = 0; i < FLOOD; i++)); do
        oversized_frame "$CA_PORT"
        oversized_frame "$CATCH_PORT"
    done
    printf '  %d frames announcing 1 TiB to the collector and the catch-up socket\n' "$FLOOD"
    # meanwhile a report is published: a well-behaved subscriber gets it
    : >"$LOGS/sub1.log"
    start_subscriber 1
    amend 1
    local number v rc=0
    number=$(next_number)
    publish_start 1 "$number"
    wait "$PUBLISH_PID" || rc=$?
    v="$(sed -n 's/^published .* version=\([0-9]*\) .*/\1/p' "$d/publish-1.out")"
    for ((i = 0; i < 100; i++)); do
        [[ -n "$v" && -f "$d/inbox1/SKHCN-2018-07-v$v.txt" ]] && break
        sleep 0.2
    done
    if [[ $rc -eq 0 && -n "$v" && -f "$d/inbox1/SKHCN-2018-07-v$v.txt" ]]; then
        printf '  published version %s (number %d); the other subscriber received it\n' "$v" "$number"
    else
        log "error: publish during the misbehaving peers: exit $rc, version '${v}', not received"
        SCEN_FAIL=1
    fi
    sleep "$STEADY_S"
    print_rss during
    for fd in "${fds[@]}"; do
        exec {fd}>&-
    done
    stop_clients
    check_db
    print_rss after
    local name kb
    for name in collA store1 aggregator; do
        kb="$(rss_kb "${SVC[$name]}")"
        if ((kb > RSS_BOUND_MB * 1024)); then
            log "error: $name VmRSS ${kb} kB over the bound of ${RSS_BOUND_MB} MB"
            SCEN_FAIL=1
        fi
        if ! service_alive "${SVC[$name]}"; then
            log "error: $name died"
            SCEN_FAIL=1
        fi
    done
    kill -KILL "$noread" 2>/dev/null || true
    wait "$noread" 2>/dev/null || true
    svc_kill9 sub9
    svc_stop sub1
    scenario_end
}

# ------------------------------------------------------------------ main

echo "faults: seed=$seed ($([[ $short -eq 1 ]] && echo short || echo full) run; replay with --seed $seed)"
for exe in report-store report-collector report-aggregator reportctl; do
    if [[ ! -x "$BIN/$exe" ]]; then
        build_project "$ROOT/build" >/dev/null || die "build failed"
        break
    fi
done
mkdir -p "$VAR"
rm -rf -- "$LOGS" "$KEYS"
mkdir -p "$LOGS"
for p in $CA_PORT $SA_PORT $CB_PORT $SB_PORT $PUB_PORT $CATCH_PORT $CTRL_PORT $M_CA $M_CB $M_S1 $M_S2 $M_AGG; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        die "port $p is already in use (another fault run?)"
    fi
done

pg_wipe "$PGDATA_DIR" >/dev/null
pg_start "$PGDATA_DIR" "$PG_PORT" >/dev/null # exports PGHOST PGPORT PGUSER
DB="$(pg_conninfo "$PGDATA_DIR" "$PG_PORT" report)"
INGEST_DB="$DB user=report_ingest"
REPORTER_DB="$DB user=report_reporter"

mkdir -p "$KEYS/clients"
chmod 700 "$KEYS" "$KEYS/clients"
"$BIN/reportctl" keygen --out "$KEYS/server" >/dev/null
for who in VAN_PHONG THANH_TRA CHI_CUC_TDC QLKH QLCN TT_TTUD store office leader; do
    case "$who" in
    store) kind=store ;;
    office) kind=operator ;;
    leader) kind=recipient ;;
    *) kind=unit ;;
    esac
    "$BIN/reportctl" keygen --out "$KEYS/clients/$who" >/dev/null
    "$BIN/reportctl" enrol "$kind" "$who" --public "$KEYS/clients/$who.pub" --keys-dir "$KEYS" >/dev/null
done
"$BIN/reportctl" migrate --db "$DB" --log-level warn >/dev/null || die "migrations failed"
base_up
if wanted aggregator || wanted misbehaving; then
    # the sample months, the content of the published report
    "$BIN/reportctl" push --endpoint "$EP_A" --server-key "$KEYS/server.pub" --unit-keys "$KEYS/clients" \
        --timeout-ms 1000 --deadline-ms 60000 "$ROOT"/deploy/sample/2018-0[1-7].json >/dev/null 2>&1 ||
        die "the samples were not stored"
fi

wanted store_kill && scen_store_kill
wanted collector_kill && scen_collector_kill
wanted two_stores && scen_two_stores
wanted two_collectors && scen_two_collectors
wanted pg_restart && scen_pg_restart
wanted sigstop && scen_sigstop sigstop 0
wanted sigstop_takeover && scen_sigstop sigstop_takeover 1
wanted stale_answer && scen_stale_answer
wanted aggregator && scen_aggregator
wanted misbehaving && scen_misbehaving

# over the whole table, whatever the scenario
all_dup="$(psql -X -q -A -t -d report -c \
    "SELECT count(*) FROM (SELECT unit_code, update_id FROM updates GROUP BY 1, 2 HAVING count(*) > 1) x")"
if ((all_dup > TOTAL_DUP)); then
    TOTAL_DUP=$all_dup
fi
cleanup
final_line
[[ ${#FAILED_SCENARIOS[@]} -eq 0 && $TOTAL_LOST -eq 0 && $TOTAL_DUP -eq 0 && $TOTAL_CONFLICTS -eq 0 ]]
