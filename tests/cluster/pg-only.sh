#!/usr/bin/env bash
# PostgreSQL failover on the multi-host test bed (tests/cluster/lib.sh): the monitor in mon,
# pg1 and pg2 as a pg_auto_failover formation with synchronous replication and TLS
# verify-full, and a writer in cli inserting numbered rows through app_conninfo (one
# connection per insert, tests/cluster/writer.sh), recording each acknowledged insert.
# Then, while it writes:
#   1. the secondary's host is killed (host_kill) and revived: how long commits wait
#      before the primary goes on alone (wait_primary), synchronous_standby_names then;
#   2. the primary's host is killed: seconds until an insert is acknowledged again, every
#      acknowledged row on the new primary exactly once; the old host is revived and
#      rejoins as secondary;
#   3. the same the other way (the new primary is killed);
#   4. the primary is partitioned (its switch port stops forwarding, its processes run
#      on): a second writer inside it must get no insert acknowledged that the new primary
#      lacks, and it must demote itself (timeout.network_partition_timeout); healed, it
#      rejoins as secondary.
# At the end every acknowledged row must be on the primary exactly once.
#
#   tests/cluster/pg-only.sh [--keep]     (root; --keep leaves the run's files in /tmp)
#
# CLUSTER_INJECT_LOSS=1 adds an acknowledgement of a row never written before the last
# check (the run must then fail: lost=1).
# Last line: "pg-cluster: kills=N partitions=N acked=N lost=0 duplicated=0 failover_max_s=X";
# exit status 1 on any loss or duplicate, a failover over CLUSTER_FAILOVER_MAX_S (default
# 30) seconds, a node that does not rejoin, or an isolated primary that does not demote.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "${1:-}" == --keep ]] && export CLUSTER_KEEP=1
FAILOVER_MAX_S="${CLUSTER_FAILOVER_MAX_S:-30}"
HERE="$ROOT/tests/cluster"
kills=0
partitions=0
failover_max=0
failures=0

fail() {
    log "FAIL: $*"
    failures=$((failures + 1))
}

# Start a writer in HOST numbering from FIRST; its acknowledgements go to NAME.ack.
start_writer() {
    local host="$1" conninfo="$2" first="$3" name="$4"
    rm -f -- "$CLUSTER_DIR/$name.stop"
    : >"$CLUSTER_DIR/$name.ack"
    host_spawn "$host" "$CLUSTER_DIR/logs/$name.log" "$HERE/writer.sh" "$conninfo" "$first" \
        "$CLUSTER_DIR/$name.ack" "$CLUSTER_DIR/$name.stop"
}

# Stop writer NAME and wait (up to 15 s) for its last line.
stop_writer() {
    local name="$1" i
    touch "$CLUSTER_DIR/$name.stop"
    for ((i = 0; i < 60; i++)); do
        grep -q '^writer: last=' "$CLUSTER_DIR/logs/$name.log" && return 0
        sleep 0.25
    done
    log "warning: writer $name did not stop"
}

# Seconds from T0 until writer NAME's first acknowledgement of an insert begun after T0
# (waits up to SECS).
seconds_to_ack() {
    local name="$1" t0="$2" secs="$3" i first
    for ((i = 0; i < secs * 4; i++)); do
        first="$(awk -v t="$t0" '$2 > t { print $3; exit }' "$CLUSTER_DIR/$name.ack")"
        if [[ -n "$first" ]]; then
            awk -v a="$first" -v b="$t0" 'BEGIN { printf "%.1f\n", a - b }'
            return 0
        fi
        sleep 0.25
    done
    return 1
}

note_failover() {
    local what="$1" s="$2"
    log "$what: writes acknowledged again after ${s}s"
    failover_max="$(awk -v a="$failover_max" -v b="$s" 'BEGIN { print (b > a) ? b : a }')"
    if awk -v s="$s" -v m="$FAILOVER_MAX_S" 'BEGIN { exit !(s > m) }'; then
        fail "$what: failover took ${s}s > ${FAILOVER_MAX_S}s"
    fi
}

# Every row acknowledged to writer NAME (so far) on the current primary exactly once.
# The latest counts per writer are kept in LOST[NAME] and DUPLICATED[NAME].
check_rows() {
    local name="$1" acked stored l d
    acked="$CLUSTER_DIR/$name.acked"
    stored="$CLUSTER_DIR/$name.stored"
    awk '{ print $1 }' "$CLUSTER_DIR/$name.ack" | sort -u >"$acked"
    app_psql cli -c 'SELECT n, count(*) FROM writes GROUP BY n' | tr '|' ' ' | sort >"$stored"
    l="$(awk '{ print $1 }' "$stored" | sort -u | comm -23 "$acked" - | wc -l)"
    d="$(awk '$2 > 1' "$stored" | wc -l)"
    LOST[$name]=$l
    DUPLICATED[$name]=$d
    log "check $name: acked=$(wc -l <"$acked") lost=$l duplicated=$d (primary $(pg_primary))"
    [[ $l -eq 0 && $d -eq 0 ]] || fail "$name: $l acknowledged rows lost, $d duplicated"
}

show_sync() {
    local host="$1"
    log "$host: SHOW synchronous_standby_names = '$(pg_local_sql "$host" postgres 'SHOW synchronous_standby_names')'"
}

# What pg_auto_failover 2.0 makes of one secondary: number_sync_standbys stays 0 (it
# refuses 1, which needs two standbys), the secondary is in the replication quorum.
show_quorum() {
    local out
    log "formation default: number_sync_standbys=$(monitor_sql "SELECT number_sync_standbys FROM pgautofailover.formation WHERE formationid = 'default'"), replication_quorum: $(monitor_sql "SELECT string_agg(nodename || '=' || replicationquorum, ' ' ORDER BY nodeid) FROM pgautofailover.node")"
    if out="$(monitor_sql "SELECT pgautofailover.set_formation_number_sync_standbys('default', 1)" 2>&1)"; then
        log "number_sync_standbys=1 was accepted with one secondary: $out"
    else
        log "number_sync_standbys=1 refused with one secondary: ${out//$'\n'/ }"
    fi
}

# Only TLS with the right certificate and a password gets in; no `trust` in any pg_hba.conf.
check_security() {
    local ca="$CLUSTER_DIR/tls/ca.crt" h base
    base="dbname=report user=report passfile=$CLUSTER_DIR/app.pgpass connect_timeout=2"
    if host_exec cli psql -X -Atc 'SELECT 1' "host=pg1.$CLUSTER_DOMAIN sslmode=disable $base" >/dev/null 2>&1; then
        fail "a connection without TLS was accepted"
    fi
    if host_exec cli psql -X -Atc 'SELECT 1' "host=pg2.$CLUSTER_DOMAIN hostaddr=$(cluster_addr pg1) sslmode=verify-full sslrootcert=$ca $base" >/dev/null 2>&1; then
        fail "verify-full accepted pg1's certificate for pg2"
    fi
    if host_exec cli env PGPASSWORD=wrong psql -X -Atc 'SELECT 1' "host=pg1.$CLUSTER_DOMAIN sslmode=verify-full sslrootcert=$ca dbname=report user=report passfile=/dev/null" >/dev/null 2>&1; then
        fail "a wrong password was accepted"
    fi
    for h in mon pg1 pg2; do
        if grep -v '^#' "$CLUSTER_DIR/$h/pgdata/pg_hba.conf" | grep -qw trust; then
            fail "$h: trust in pg_hba.conf"
        fi
    done
    pg_local_sql pg1 postgres 'CREATE ROLE report_probe LOGIN' && app_role_password report_probe
    [[ "$(host_exec cli psql -X -Atc 'SELECT current_user' "$(app_conninfo report_probe)")" == report_probe ]] ||
        fail "app_role_password: report_probe cannot log in"
    log "security: no plain TCP, verify-full checks the name, wrong password refused, no trust"
}

other_of() { [[ "$1" == pg1 ]] && echo pg2 || echo pg1; }

# Revive HOST's link and pg_autoctl; it must come back as secondary of OTHER.
rejoin() {
    local host="$1" other="$2" t0="$EPOCHREALTIME"
    host_revive "$host"
    pg_node_start "$host"
    if pg_wait_states 120 "$host:secondary" "$other:primary"; then
        log "$host rejoined as secondary in $(awk -v t="$t0" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.1f", n - t }')s"
        show_sync "$other"
    else
        fail "$host did not rejoin as secondary"
    fi
}

# 1. The secondary dies: commits wait until the monitor gives up on it (wait_primary).
kill_secondary() {
    local p s t0 secs
    p="$(pg_primary)"
    s="$(other_of "$p")"
    log "--- kill the secondary's host $s"
    t0="$EPOCHREALTIME"
    host_kill "$s"
    kills=$((kills + 1))
    secs="$(seconds_to_ack main "$t0" 60)" || { fail "no write acknowledged after $s died"; return 0; }
    log "secondary $s dead: the primary acknowledged writes again after ${secs}s"
    pg_wait_states 60 "$p:wait_primary" || fail "$p not wait_primary"
    show_sync "$p"
    check_rows main
    rejoin "$s" "$p"
}

# 2., 3. The primary dies.
kill_primary() {
    local p o t0 secs
    p="$(pg_primary)"
    o="$(other_of "$p")"
    log "--- kill the primary's host $p"
    t0="$EPOCHREALTIME"
    host_kill "$p"
    kills=$((kills + 1))
    secs="$(seconds_to_ack main "$t0" 90)" || { fail "no write acknowledged after $p died"; return 0; }
    note_failover "primary $p killed" "$secs"
    pg_wait_states 60 "$o:wait_primary" || fail "$o not wait_primary"
    show_sync "$o"
    check_rows main
    rejoin "$p" "$o"
}

# Seconds from T0 until HOST's own server no longer takes writes (stopped or in recovery).
seconds_to_demote() {
    local host="$1" t0="$2" secs="$3" i r
    for ((i = 0; i < secs * 4; i++)); do
        r="$(pg_local_sql "$host" postgres 'SELECT pg_is_in_recovery()' 2>/dev/null || echo down)"
        if [[ "$r" != f ]]; then
            awk -v t="$t0" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", n - t }'
            return 0
        fi
        sleep 0.25
    done
    return 1
}

# 4. The primary is cut off; a writer inside it tries to write to it meanwhile.
partition_primary() {
    local p o t0 secs demote iso
    p="$(pg_primary)"
    o="$(other_of "$p")"
    log "--- partition the primary $p"
    iso="host=$p.$CLUSTER_DOMAIN port=$CLUSTER_PGPORT dbname=report user=report passfile=$CLUSTER_DIR/app.pgpass sslmode=verify-full sslrootcert=$CLUSTER_DIR/tls/ca.crt connect_timeout=2"
    start_writer "$p" "$iso" 1000000 isolated
    sleep 1
    partition "$p"
    t0="$EPOCHREALTIME"
    partitions=$((partitions + 1))
    if host_exec "$p" timeout 2 bash -c "exec 3<>/dev/tcp/mon.$CLUSTER_DOMAIN/$CLUSTER_PGPORT" 2>/dev/null; then
        fail "partition: $p still reaches the monitor"
    fi
    demote="$(seconds_to_demote "$p" "$t0" 60)" || fail "isolated $p did not demote itself"
    log "isolated $p stopped taking writes after ${demote:-?}s"
    secs="$(seconds_to_ack main "$t0" 90)" || { fail "no write acknowledged after partition of $p"; return 0; }
    note_failover "primary $p partitioned" "$secs"
    if [[ -n "$demote" ]] && awk -v d="$demote" -v s="$secs" 'BEGIN { exit !(d >= s) }'; then
        fail "isolated $p took writes until ${demote}s, the new primary from ${secs}s"
    fi
    pg_wait_states 60 "$o:wait_primary" || fail "$o not wait_primary"
    stop_writer isolated
    log "isolated writer: $(awk -v t="$t0" '$3 > t' "$CLUSTER_DIR/isolated.ack" | wc -l) inserts acknowledged after the partition"
    heal "$p"
    pg_wait_states 120 "$p:secondary" "$o:primary" || fail "$p did not rejoin after heal"
    check_rows isolated
    check_rows main
}

declare -A LOST=() DUPLICATED=()

main() {
    local acked lost=0 duplicated=0 name
    cluster_cleanup_stale
    cluster_net_up
    cluster_pg_up
    pg_node_states >&2
    show_sync pg1
    show_quorum
    check_security
    log "app_conninfo: $(app_conninfo report)"
    app_psql cli -c 'CREATE TABLE writes (id bigserial PRIMARY KEY, n bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp())'
    start_writer cli "$(app_conninfo report)" 1 main
    sleep 3
    kill_secondary
    kill_primary
    kill_primary
    partition_primary
    sleep 2
    stop_writer main
    if [[ -n "${CLUSTER_INJECT_LOSS:-}" ]]; then
        # proves the check can fail: an acknowledgement for a row never written
        printf '%s %s %s\n' 999999999 "$EPOCHREALTIME" "$EPOCHREALTIME" >>"$CLUSTER_DIR/main.ack"
    fi
    check_rows main
    acked=$(($(wc -l <"$CLUSTER_DIR/main.acked") + $(wc -l <"$CLUSTER_DIR/isolated.acked")))
    [[ $acked -gt 0 ]] || fail "nothing was acknowledged"
    for name in "${!LOST[@]}"; do
        lost=$((lost + LOST[$name]))
        duplicated=$((duplicated + DUPLICATED[$name]))
    done
    if [[ $failures -gt 0 ]]; then
        mkdir -p "$ROOT/var/cluster"
        cp -r -- "$CLUSTER_DIR/logs" "$ROOT/var/cluster/$CLUSTER_ID"
        log "$failures failure(s); logs copied to var/cluster/$CLUSTER_ID"
    fi
    printf 'pg-cluster: kills=%d partitions=%d acked=%d lost=%d duplicated=%d failover_max_s=%s\n' \
        "$kills" "$partitions" "$acked" "$lost" "$duplicated" "$failover_max"
    [[ $failures -eq 0 ]]
}

main "$@"
