#!/usr/bin/env bash
# The pipeline on several hosts (issue 12): the test bed of tests/cluster/lib.sh (one network
# namespace per host, a pg_auto_failover PostgreSQL with TLS verify-full and scram-sha-256)
# with the real services on it:
#
#   mon  pg_auto_failover monitor      col1, col2  report-collector (units :5570, stores :5571)
#   pg1  PostgreSQL (primary)          sto1, sto2  report-store, each linked to both collectors
#   pg2  PostgreSQL (sync secondary)   agg1, agg2  report-aggregator, active/standby
#   cli  the units (client loops of reportctl push with both collectors, Freelance), two
#        leadership subscribers (both aggregators), the operator (reportctl publish with both
#        control endpoints)
#
# Under steady load it kills a whole host (every process of its namespace, then its link
# down) for each role in turn, PostgreSQL's primary included, and partitions hosts (their
# switch port drops every packet); the aggregator leader is killed while it publishes.
# After each fault: every acknowledged update in the database exactly once with the content
# sent (tests/lib/load.sh), every subscriber holding every published version once with its
# SHA-256, and the seconds until acknowledgements resumed (the first push begun after the
# fault that had every update answered).
#
#   tests/cluster/run.sh [--short] [--keep] [--seed N]
#
#   --short  one kill of each role and one partition (the form tests/run.sh runs)
#   --keep   leave the run's files (logs, database files) in /tmp
#
# Root. Binaries: REPORT_BIN_DIR (default build/bin; built when absent).
# Last line: "cluster: hosts=N kills=N partitions=N acked=N lost=0 duplicated=0 failover_max_s=X";
# exit status 1 on any loss, duplicate, refusal, content mismatch, subscriber missing or
# repeating a version, or acknowledgements not resumed within CLUSTER_RESUME_MAX_S (30) s.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../lib/load.sh
. "$ROOT/tests/lib/load.sh"

usage() {
    sed -n '2,30s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

short=0
seed=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --short) short=1 ;;
    --keep) export CLUSTER_KEEP=1 ;;
    --seed) seed="${2:?--seed N}"; shift ;;
    -h | --help) usage ;;
    *) log "unknown option: $1"; usage ;;
    esac
    shift
done
[[ ${EUID} -eq 0 ]] || die "the cluster test needs root (network namespaces)"
[[ -n "$seed" ]] || seed=$(($(date +%s) % 100000))
RANDOM=$seed

RESUME_MAX_S="${CLUSTER_RESUME_MAX_S:-30}"
BIN="${REPORT_BIN_DIR:-$ROOT/build/bin}"
if [[ ! -x "$BIN/report-store" ]]; then
    ensure_packages
    build_project build >/dev/null || die "build failed"
fi

# the load (tests/lib/load.sh)
PERIOD=2018-11
CLIENTS=4
UPDATES_PER_FILE=20
MAX_TRIES=20
PUSH_DEADLINE_MS=20000
STEADY_S=3
ALL_PIDS=()
SCEN="setup"
SCEN_DEADLINE=0
KILLS=0 PARTITIONS=0 FAILOVER_MAX=0 NEXT_NUMBER=600 FINAL_FAIL=0
FAILED=()

D="cluster.test"
COLLECTORS="tcp://col1.$D:5570,tcp://col2.$D:5570"
COLLECTORS_BA="tcp://col2.$D:5570,tcp://col1.$D:5570"
STORE_LINKS="tcp://col1.$D:5571,tcp://col2.$D:5571"
CONTROLS="tcp://agg1.$D:5574,tcp://agg2.$D:5574"
PUBS="tcp://agg1.$D:5572,tcp://agg2.$D:5572"
CATCHUPS="tcp://agg1.$D:5573,tcp://agg2.$D:5573"

cleanup_run() {
    local p
    for p in "${ALL_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
}
export CLUSTER_NO_TRAP=1
trap 'cleanup_run; cluster_down' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ services

# http HOST PORT PATH: a GET from the client host (the services' ops endpoints)
http() {
    host_exec cli curl -s --max-time 2 "http://$1.$D:$2$3"
}

# svc_wait HOST PORT: the service's HTTP endpoint answers (within 20 s), or the run ends
svc_wait() {
    local i
    for ((i = 0; i < 80; i++)); do
        http "$1" "$2" /healthz >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    tail -n 5 "$CLUSTER_DIR/logs/$1.log" >&2
    die "$1 did not start (log: $CLUSTER_DIR/logs/$1.log)"
}

# svc HOST: start the service of HOST (collector, store or aggregator by its name)
svc() {
    local host="$1" log="$CLUSTER_DIR/logs/$1.log"
    local common=(--config "" --log-level warn --status-peers "")
    case "$host" in
    col*)
        host_spawn "$host" "$log" "$BIN/report-collector" --endpoint "tcp://0.0.0.0:5570" \
            --store-endpoint "tcp://0.0.0.0:5571" --keys-dir "$KEYS" --store-timeout-ms 2000 \
            --metrics-address "0.0.0.0:9570" "${common[@]}"
        ;;
    sto*)
        host_spawn "$host" "$log" "$BIN/report-store" --db "$(app_conninfo report_ingest)" \
            --collectors "$STORE_LINKS" --store-id "$host" --key "$KEYS/clients/store.key" \
            --collector-key "$KEYS/server.pub" --heartbeat-ms 500 --reconnect-max-ms 1000 \
            --migrate=false --metrics-address "0.0.0.0:9571" "${common[@]}"
        ;;
    agg*)
        host_spawn "$host" "$log" "$BIN/report-aggregator" --db "$(app_conninfo report_reporter)" \
            --control-endpoint "tcp://0.0.0.0:5574" --publish-endpoint "tcp://0.0.0.0:5572" \
            --catchup-endpoint "tcp://0.0.0.0:5573" --keys-dir "$KEYS" --instance-name "$host" \
            --leader-check-ms 500 --migrate=false --metrics-address "0.0.0.0:9572" "${common[@]}"
        ;;
    esac
    case "$host" in
    col*) svc_wait "$host" 9570 ;;
    sto*) svc_wait "$host" 9571 ;;
    agg*) svc_wait "$host" 9572 ;;
    esac
}


# db SQL: one query as report_ops (read-only) from the client host, rows as text
db() {
    host_exec cli "$CLUSTER_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
        -d "$(app_conninfo report_ops)" -c "$1"
}

# leader: the aggregator host that holds the leadership, as the database says
leader() {
    db "SELECT holder FROM aggregator_leader" 2>/dev/null || true
}

# keys: the agency's CURVE server key (shared by collectors and aggregators), units, a
# store, an operator and two recipients, enrolled in the one keys directory every host reads
make_keys() {
    local who kind
    KEYS="$CLUSTER_DIR/keys"
    mkdir -p "$KEYS/clients"
    chmod 700 "$KEYS" "$KEYS/clients"
    "$BIN/reportctl" keygen --out "$KEYS/server" >/dev/null
    for who in VAN_PHONG THANH_TRA CHI_CUC_TDC QLKH QLCN TT_TTUD store office leader deputy; do
        case "$who" in
        store) kind=store ;;
        office) kind=operator ;;
        leader | deputy) kind=recipient ;;
        *) kind=unit ;;
        esac
        "$BIN/reportctl" keygen --out "$KEYS/clients/$who" >/dev/null
        "$BIN/reportctl" enrol "$kind" "$who" --public "$KEYS/clients/$who.pub" \
            --keys-dir "$KEYS" >/dev/null
    done
}

# the schema (as postgres on the primary, over its Unix socket: a copy of reportctl postgres
# can run wherever the build is), then the services' roles get passwords for scram over TLS;
# the servers notice a dead client within seconds (keepalives), so that a partitioned
# aggregator's session, and the leadership lock with it, goes
make_schema() {
    local p h setting
    p="$(pg_primary)"
    install -m 755 "$BIN/reportctl" "$CLUSTER_DIR/reportctl"
    pg_exec "$p" "$CLUSTER_DIR/reportctl" migrate --db "host=/run/postgresql dbname=report" \
        --log-level warn >/dev/null || die "migrations failed"
    for h in pg1 pg2; do
        for setting in tcp_keepalives_idle=2 tcp_keepalives_interval=1 tcp_keepalives_count=3 \
            tcp_user_timeout=5000; do
            pg_local_sql "$h" postgres "ALTER SYSTEM SET ${setting%%=*} = ${setting#*=}" >/dev/null
        done
        pg_local_sql "$h" postgres "SELECT pg_reload_conf()" >/dev/null
    done
    app_role_password report_ingest
    app_role_password report_reporter
    app_role_password report_ops
}

subscribers_start() {
    local who
    for who in leader deputy; do
        host_spawn cli "$CLUSTER_DIR/logs/sub-$who.log" "$BIN/reportctl" subscribe \
            --out "$CLUSTER_DIR/inbox-$who" --key "$KEYS/clients/$who.key" \
            --server-key "$KEYS/server.pub" --publish-endpoint "$PUBS" \
            --catchup-endpoint "$CATCHUPS" --catchup-timeout-ms 1000 \
            --catchup-interval-ms 2000 --log-level info
    done
}

# publish N: reportctl publish of 2018-07 as document number N, from the client host with
# both control endpoints, asked again (up to 60 s) while no leader answers; the same number
# again is safe (a version that was published after all is answered duplicate_number)
publish() {
    local n="$1" out i
    for ((i = 0; i < 30; i++)); do
        out="$(host_exec cli "$BIN/reportctl" publish 2018-07 --number "$n" --date 2018-07-19 \
            --force --control-endpoint "$CONTROLS" --key "$KEYS/clients/office.key" \
            --server-key "$KEYS/server.pub" --timeout-ms 5000 2>&1)" && return 0
        if grep -q duplicate_number <<<"$out"; then
            return 0
        fi
        sleep 2
    done
    log "error: publish $n: $out"
    return 1
}

# every subscriber holds every published version of 2018-07 once, with its SHA-256
check_subscribers() {
    local rows want who got v sha f n bad=0 i
    rows="$(db "SELECT version, sha256 FROM published_reports
                WHERE year = 2018 AND month = 7 ORDER BY version" | tr '|' ' ')"
    want="$(grep -c . <<<"$rows" || true)"
    for who in leader deputy; do
        for ((i = 0; i < 60; i++)); do
            got="$(find "$CLUSTER_DIR/inbox-$who" -maxdepth 1 -name 'SKHCN-2018-07-v*.txt' 2>/dev/null | wc -l)"
            ((got >= want)) && break
            sleep 0.5
        done
        if ((got != want)); then
            log "error: subscriber $who holds $got versions, $want published"
            bad=1
        fi
        while read -r v sha; do
            [[ -n "$v" ]] || continue
            f="$CLUSTER_DIR/inbox-$who/SKHCN-2018-07-v$v.txt"
            if [[ ! -f "$f" || "$(sha256sum <"$f" | cut -d' ' -f1)" != "$sha" ]]; then
                log "error: subscriber $who: version $v missing or not the published text"
                bad=1
            fi
            n="$(grep -c "^received SKHCN 2018-07 version=$v " "$CLUSTER_DIR/logs/sub-$who.log" || true)"
            if ((n != 1)); then
                log "error: subscriber $who received version $v $n times"
                bad=1
            fi
        done <<<"$rows"
    done
    printf '  subscribers: %s versions published; leader and deputy hold each once: %s\n' \
        "$want" "$([[ $bad -eq 0 ]] && echo yes || echo NO)"
    [[ $bad -eq 0 ]] || SCEN_FAIL=1
}

# ------------------------------------------------------------------ scenarios

scenario_begin() {
    SCEN="$1"
    SCEN_FAIL=0
    SCEN_START=$(date +%s)
    SCEN_DEADLINE=$((SCEN_START + 240))
    printf '\n== %s\n' "$SCEN"
    start_clients "$SCEN" "$COLLECTORS" "$COLLECTORS_BA" "$COLLECTORS" "$COLLECTORS_BA"
    sleep "$STEADY_S"
}

# resumed T0 WHAT: the seconds until acknowledgements resumed after T0, recorded
resumed() {
    local t0="$1" what="$2" s="" i
    for ((i = 0; i < 4 * (RESUME_MAX_S + 30); i++)); do
        s="$(acks_resumed_after "$t0")" && break
        sleep 0.25
    done
    if [[ -z "$s" ]]; then
        log "error: $what: no acknowledgement after the fault"
        SCEN_FAIL=1
        return 0
    fi
    printf '  %s: acknowledgements resumed after %ss\n' "$what" "$s"
    FAILOVER_MAX="$(awk -v a="$FAILOVER_MAX" -v b="$s" 'BEGIN { print (b > a) ? b : a }')"
    if awk -v s="$s" -v m="$RESUME_MAX_S" 'BEGIN { exit !(s > m) }'; then
        log "error: $what: acknowledgements resumed after ${s}s > ${RESUME_MAX_S}s"
        SCEN_FAIL=1
    fi
}

scenario_end() {
    sleep "$STEADY_S"
    stop_clients
    check_db
    local t=$(($(date +%s) - SCEN_START))
    if [[ $SCEN_FAIL -ne 0 ]]; then
        FAILED+=("$SCEN")
        printf '  %s: FAILED (%ss; logs in %s)\n' "$SCEN" "$t" "$CLUSTER_DIR/logs"
    else
        printf '  %s: ok (%ss)\n' "$SCEN" "$t"
    fi
}

# kill_host HOST: the host dies under load; the survivors carry on; then it comes back
kill_host() {
    local host="$1" t0
    scenario_begin "kill_$host"
    t0=$EPOCHREALTIME
    host_kill "$host"
    KILLS=$((KILLS + 1))
    printf '  host %s killed (every process, link down)\n' "$host"
    resumed "$t0" "$host killed"
    host_revive "$host"
    svc "$host"
    scenario_end
}

# pg_primary_fault kill|partition: PostgreSQL's primary host dies, or is cut off (then it
# demotes itself); pg_auto_failover promotes the secondary; the stores reconnect to it
# (target_session_attrs=read-write) and commit what they hold; the old primary comes back
# (revived or healed) and rejoins as secondary
pg_primary_fault() {
    local how="$1" p o t0
    p="$(pg_primary)"
    o=$([[ "$p" == pg1 ]] && echo pg2 || echo pg1)
    scenario_begin "${how}_${p}_primary"
    t0=$EPOCHREALTIME
    if [[ "$how" == kill ]]; then
        host_kill "$p"
        KILLS=$((KILLS + 1))
    else
        partition "$p"
        PARTITIONS=$((PARTITIONS + 1))
    fi
    printf '  PostgreSQL primary %s: %s\n' "$p" "$how"
    resumed "$t0" "primary $p: $how"
    printf '  store sto1 on: %s\n' "$(http sto1 9571 /status.json | jq -r '.store.database_server + " (failovers " + (.store.database_failovers|tostring) + ")"' 2>/dev/null || echo '?')"
    if [[ "$how" == kill ]]; then
        host_revive "$p"
        pg_node_start "$p"
    else
        heal "$p"
    fi
    pg_wait_states 180 "$p:secondary" "$o:primary" || {
        log "error: $p did not rejoin as secondary"
        SCEN_FAIL=1
    }
    scenario_end
}

# partition_host HOST: its switch port drops everything for a while; processes run on
partition_host() {
    local host="$1" t0 hold="${2:-8}"
    scenario_begin "partition_$host"
    t0=$EPOCHREALTIME
    partition "$host"
    PARTITIONS=$((PARTITIONS + 1))
    printf '  host %s partitioned for %ss\n' "$host" "$hold"
    resumed "$t0" "$host partitioned"
    sleep "$hold"
    heal "$host"
    scenario_end
}

# kill_leader_publishing: the aggregator leader dies while it publishes; the standby takes
# over (the leadership lock went with the dead session) and the operator's publish, asked
# again with both control endpoints, lands once; subscribers hold every version once
kill_leader_publishing() {
    local l n=$NEXT_NUMBER pid
    NEXT_NUMBER=$((NEXT_NUMBER + 2))
    l="$(leader)"
    scenario_begin "kill_${l}_leader_publishing"
    publish "$n" &
    pid=$!
    sleep 0.$((RANDOM % 9 + 1))
    host_kill "$l"
    KILLS=$((KILLS + 1))
    printf '  aggregator leader %s killed while publishing number %s\n' "$l" "$n"
    wait "$pid" || SCEN_FAIL=1
    printf '  leader now: %s\n' "$(leader)"
    publish $((n + 1)) || SCEN_FAIL=1
    host_revive "$l"
    svc "$l"
    check_subscribers
    scenario_end
}

# partition_leader: the aggregator leader is cut off; the database drops its session (server
# keepalives), the lock with it, and the standby takes over and publishes; healed, the old
# leader finds its session gone and stays standby
partition_leader() {
    local l now n=$NEXT_NUMBER i t0
    NEXT_NUMBER=$((NEXT_NUMBER + 1))
    l="$(leader)"
    scenario_begin "partition_${l}_leader"
    partition "$l"
    t0=$EPOCHREALTIME
    PARTITIONS=$((PARTITIONS + 1))
    for ((i = 0; i < 120; i++)); do
        now="$(leader)"
        [[ -n "$now" && "$now" != "$l" ]] && break
        sleep 0.5
    done
    printf '  aggregator leader %s partitioned; %s leads after %.1fs\n' "$l" "$now" \
        "$(awk -v t="$t0" -v n="$EPOCHREALTIME" 'BEGIN { print n - t }')"
    [[ "$now" != "$l" ]] || { log "error: the standby did not take over"; SCEN_FAIL=1; }
    publish "$n" || SCEN_FAIL=1
    heal "$l"
    sleep 3
    [[ "$(leader)" == "$now" ]] || { log "error: the leadership moved back after the heal"; SCEN_FAIL=1; }
    check_subscribers
    scenario_end
}

# ------------------------------------------------------------------ main

ensure_packages curl jq
cluster_net_up
cluster_pg_up
make_keys
make_schema
LOAD_EXEC=()
_host_cmd cli
LOAD_EXEC=("${CLUSTER_CMD[@]}")
LOAD_PSQL=("${CLUSTER_CMD[@]}" "$CLUSTER_PG_BIN/psql" "$(app_conninfo report_reporter)")
VAR="$CLUSTER_DIR/load"
for h in col1 col2 sto1 sto2 agg1; do
    svc "$h"
done
sleep 1
svc agg2 # agg1 leads: started first
subscribers_start
host_exec cli "$BIN/reportctl" push --endpoint "$COLLECTORS" --server-key "$KEYS/server.pub" \
    --unit-keys "$KEYS/clients" --timeout-ms 2000 --deadline-ms 120000 \
    "$ROOT"/deploy/sample/2018-0[1-7].json >/dev/null 2>&1 || die "the samples were not stored"
publish 588 || die "the first publication failed"
printf 'cluster up: %s hosts, PostgreSQL primary %s, aggregator leader %s (seed %s)\n' \
    "${#CLUSTER_HOSTS[@]}" "$(pg_primary)" "$(leader)" "$seed"

kill_host col1
kill_host sto1
kill_leader_publishing
pg_primary_fault kill
partition_host col2
if [[ $short -eq 0 ]]; then
    kill_host col2
    kill_host sto2
    kill_leader_publishing
    partition_host sto1
    partition_leader
    pg_primary_fault kill
    pg_primary_fault partition
fi
SCEN_FAIL=0
check_subscribers
FINAL_FAIL=$SCEN_FAIL

echo
[[ ${#FAILED[@]} -eq 0 ]] || echo "failed scenarios: ${FAILED[*]} (seed $seed)"
echo "cluster: hosts=${#CLUSTER_HOSTS[@]} kills=$KILLS partitions=$PARTITIONS acked=$TOTAL_ACKED lost=$TOTAL_LOST duplicated=$TOTAL_DUP failover_max_s=$FAILOVER_MAX"
[[ ${#FAILED[@]} -eq 0 && $FINAL_FAIL -eq 0 && $TOTAL_LOST -eq 0 && $TOTAL_DUP -eq 0 && $TOTAL_CONFLICTS -eq 0 ]]
