# shellcheck shell=bash
# Multi-host test bed on one machine: every host is a Linux network namespace, and
# PostgreSQL 15 runs as a pg_auto_failover formation (monitor, primary, secondary) with
# TLS verify-full and scram-sha-256 between the hosts. Source it, do not run it:
#   . "$ROOT/tests/cluster/lib.sh"
# It sources deploy/lib/common.sh (ensure_packages, log, die). Needs root.
#
# Topology (one run; names prefixed by the run id, CLUSTER_ID, e.g. rc4242-pg1):
#
#   namespace sw: bridge br0 (no address), one port p-HOST per host
#   namespace HOST: eth0 = CLUSTER_NET.N/24, lo; its names in /etc/netns/ID-HOST/hosts
#
#     mon  .10  pg_auto_failover monitor        col1 .21  col2 .22  collectors
#     pg1  .11  PostgreSQL node                 sto1 .31  sto2 .32  stores
#     pg2  .12  PostgreSQL node                 agg1 .41  agg2 .42  aggregators
#     cli  .50  client
#
# CLUSTER_NET (default 10.203.0) is the /24 used; it exists only inside the namespaces,
# nothing is added to the root namespace. HOST.CLUSTER_DOMAIN (default cluster.test)
# resolves in every host through /etc/netns/ID-HOST/hosts, which `ip netns exec`
# bind-mounts over /etc/hosts. Each host also gets its own /run/postgresql (a directory
# of the run bind-mounted by host_exec), so three servers on port 5432 do not share a
# Unix socket path.
#
# Files of a run live in CLUSTER_DIR (mktemp -d, readable by postgres):
#   tls/ca.crt                   the cluster's CA (ca.key beside it, root only)
#   HOST/run/tls/server.{crt,key} server certificate of HOST (SAN DNS:HOST.cluster.test),
#                                key 0600; /run/postgresql/tls/ inside HOST (see cluster_tls_cert)
#   HOST/pgdata                  PostgreSQL data of mon, pg1, pg2 (owner postgres)
#   HOST/xdg/                    pg_autoctl's config, state and pid files (XDG_* of the host)
#   HOST/pgpass                  passwords pg_autoctl uses on that host (PGPASSFILE)
#   app.pgpass                   the application user's password (for app_conninfo)
#   HOST.pids, logs/             pids started by host_spawn, logs
#
# Security between hosts: every TCP connection to PostgreSQL is hostssl; the clients
# (pg_autoctl to the monitor, replication, pg_rewind, the application) use
# sslmode=verify-full against tls/ca.crt. Authentication is scram-sha-256 for
# autoctl_node (nodes to monitor), pgautofailover_replicator (replication, pg_rewind),
# pgautofailover_monitor (the monitor's health check, with pg_autoctl's fixed, public
# password: it only proves the server answers) and the application's roles (report, and
# any role given a password by app_role_password) to database report. pg_hba.conf is ours
# (--skip-pg-hba): `peer` for postgres on the Unix socket, scram over TLS from
# CLUSTER_NET for the roles above, nothing else; no `trust` line at all (pg_autoctl's own
# rules would have been `trust` for replication and for the health check).
#
# Timings. With the defaults a dead primary is noticed after ~20 s and the monitor then
# waits a 30 s drain before it lets the secondary take writes (measured: writes again 58 s
# after the primary's host died; commits stalled 25 s when the secondary's died). Chosen:
#   monitor: health_check_period 1000 ms, health_check_timeout 1000 ms,
#            health_check_max_retries 1, health_check_retry_delay 500 ms,
#            node_considered_unhealthy_timeout 4000 ms, primary_demote_timeout 10000 ms
#   keepers: timeout.network_partition_timeout 3 s; monitor URI with connect_timeout=2,
#            keepalives 1/1/3 and tcp_user_timeout=3000 (see _monitor_uri)
#   nodes:   wal_sender_timeout 5 s (a cut-off primary keeps a dead walsender, and so
#            "still has a standby", until then), checkpoint_completion_target 0
# An isolated primary must stop taking writes before the monitor may promote the other
# node: it demotes itself after ~5 s (walsender gone) + 3 s, the monitor promotes after
# 4 s + 10 s. Measured (tests/cluster/pg-only.sh, 2-core VM shared with other builds):
# writes acknowledged again 14.5-16.8 s after the primary's host was killed or cut off;
# the isolated primary stopped taking writes after 6-8 s. All are CLUSTER_* variables.
#
# Functions (HOST is a short name: mon, pg1, ..., cli):
#   cluster_net_up                 make CLUSTER_DIR, the switch and every host; sets traps
#                                  (EXIT: cluster_down; INT, TERM: exit) unless CLUSTER_NO_TRAP
#                                  is set; CLUSTER_KEEP=1 keeps CLUSTER_DIR at cluster_down
#   cluster_ns HOST                the namespace name of HOST
#   cluster_addr HOST              the IPv4 address of HOST
#   host_exec HOST CMD...          run CMD in HOST (foreground)
#   host_spawn HOST LOG CMD...     run CMD in HOST in the background, output to LOG; its pid
#                                  is appended to CLUSTER_DIR/HOST.pids and left in HOST_PID
#                                  (the root-namespace wrapper waiting for it: HOST.wrappers)
#   host_kill HOST                 SIGKILL every process of HOST (ip netns pids), then its
#                                  link down: the host is dead to the others
#   host_revive HOST               link up again (start its programs again yourself)
#   partition HOST / heal HOST     the switch stops / resumes forwarding the host's port:
#                                  processes keep running and keep their link up and carrier,
#                                  their packets just vanish (no RST, no ICMP) as with a
#                                  failed switch port. Chosen over link-down (which tells
#                                  the host at once: ENETUNREACH) and over nft/iptables (not
#                                  needed, one package less).
#   cluster_down                   kill everything of the run, delete namespaces and files
#   cluster_cleanup_stale          the same for runs whose owning shell is gone
#   cluster_tls_make               CA and server certificates for mon, pg1, pg2
#   cluster_tls_cert HOST          a server certificate for any other HOST (same layout)
#   cluster_pg_up                  monitor, pg1 (primary), pg2 (secondary), db/role report
#   pg_node_start HOST             (re)start pg_autoctl run on HOST (after host_revive)
#   pg_exec HOST CMD...            run CMD in HOST as postgres with that node's environment
#   pg_local_sql HOST DB SQL       run SQL on HOST's own server through its Unix socket
#   monitor_sql SQL                run SQL on the monitor's pg_auto_failover database
#   pg_node_states                 "name reported_state assigned_state" per node
#   pg_wait_states SECS NAME:STATE... wait until the nodes reported and assigned are exactly these
#   pg_primary                     the host name of the node reported primary/wait_primary
#   app_conninfo [USER]            multi-host libpq conninfo of the application (any host)
#   app_role_password ROLE         a scram password for ROLE (exists on the primary), in
#                                  the passfile app_conninfo names
#   app_psql HOST ARGS...          psql with app_conninfo from HOST

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

CLUSTER_NET="${CLUSTER_NET:-10.203.0}"
CLUSTER_DOMAIN="${CLUSTER_DOMAIN:-cluster.test}"
CLUSTER_PGPORT="${CLUSTER_PGPORT:-5432}"
CLUSTER_ID="${CLUSTER_ID:-rc$$}"
CLUSTER_STATE_DIR="${CLUSTER_STATE_DIR:-/run/report-cluster}"
CLUSTER_HOSTS=(mon pg1 pg2 col1 col2 sto1 sto2 agg1 agg2 cli)
declare -A CLUSTER_OCTET=(
    [mon]=10 [pg1]=11 [pg2]=12 [col1]=21 [col2]=22
    [sto1]=31 [sto2]=32 [agg1]=41 [agg2]=42 [cli]=50
)

# Monitor timings (ms) and the keepers' partition timeout (s); see the header.
CLUSTER_HC_PERIOD_MS="${CLUSTER_HC_PERIOD_MS:-1000}"
CLUSTER_HC_TIMEOUT_MS="${CLUSTER_HC_TIMEOUT_MS:-1000}"
CLUSTER_HC_MAX_RETRIES="${CLUSTER_HC_MAX_RETRIES:-1}"
CLUSTER_HC_RETRY_DELAY_MS="${CLUSTER_HC_RETRY_DELAY_MS:-500}"
CLUSTER_UNHEALTHY_MS="${CLUSTER_UNHEALTHY_MS:-4000}"
CLUSTER_DEMOTE_MS="${CLUSTER_DEMOTE_MS:-10000}"
CLUSTER_PARTITION_S="${CLUSTER_PARTITION_S:-3}"
CLUSTER_WAL_SENDER_TIMEOUT_S="${CLUSTER_WAL_SENDER_TIMEOUT_S:-5}"
CLUSTER_TCP_USER_TIMEOUT_MS="${CLUSTER_TCP_USER_TIMEOUT_MS:-3000}"

CLUSTER_PG_BIN="${REPORT_PG_BIN:-/usr/lib/postgresql/15/bin}"
CLUSTER_DIR=""

cluster_ns() { printf '%s-%s\n' "$CLUSTER_ID" "${1:?cluster_ns: HOST}"; }
cluster_addr() { printf '%s.%s\n' "$CLUSTER_NET" "${CLUSTER_OCTET[${1:?cluster_addr: HOST}]:?unknown host $1}"; }

_cluster_ensure_packages() {
    ensure_packages iproute2 openssl pg-auto-failover-cli postgresql-15-auto-failover
}

# ---------------------------------------------------------------- hosts

# The command line that runs CMD inside HOST, in CLUSTER_CMD: `ip netns exec` gives it a
# mount namespace of its own with /etc/netns/NS/hosts over /etc/hosts; we add the host's
# own /run/postgresql there and start from / (readable by postgres).
_host_cmd() {
    local host="$1"
    shift
    # shellcheck disable=SC2016  # expanded by that sh
    CLUSTER_CMD=(ip netns exec "$(cluster_ns "$host")" /bin/sh -c
        'mount --bind "$0" /run/postgresql && cd / && exec "$@"'
        "$CLUSTER_DIR/$host/run" "$@")
}

host_exec() {
    local host="${1:?host_exec: HOST}"
    shift
    _host_cmd "$host" "$@"
    "${CLUSTER_CMD[@]}"
}

host_spawn() {
    local host="${1:?host_spawn: HOST}" logfile="${2:?host_spawn: LOG}" pidfile i
    shift 2
    _host_cmd "$host" "$@"
    printf '=== %s: %s\n' "$(date '+%F %T')" "$*" >>"$logfile"
    pidfile="$CLUSTER_DIR/$host.spawn"
    rm -f -- "$pidfile"
    # A wrapper subshell waits for CMD: when host_kill's SIGKILL ends CMD the wrapper
    # exits normally, so bash prints no "Killed" job report.
    (
        "${CLUSTER_CMD[@]}" </dev/null >>"$logfile" 2>&1 &
        printf '%s\n' "$!" >"$pidfile.tmp"
        mv -- "$pidfile.tmp" "$pidfile"
        wait "$!"
    ) 2>/dev/null &
    printf '%s\n' "$!" >>"$CLUSTER_DIR/$host.wrappers"
    for ((i = 0; i < 100; i++)); do
        [[ -s "$pidfile" ]] && break
        sleep 0.01
    done
    read -r HOST_PID <"$pidfile"
    printf '%s\n' "$HOST_PID" >>"$CLUSTER_DIR/$host.pids"
}

# SIGKILL every process of namespace NS until none is left (a dying pg_autoctl may still
# fork), then reap those that are our children.
_ns_kill_all() {
    local ns="$1" i pids
    for ((i = 0; i < 100; i++)); do
        pids="$(ip netns pids "$ns" 2>/dev/null || true)"
        [[ -z "$pids" ]] && break
        # shellcheck disable=SC2086  # a list of pids
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    [[ -z "$pids" ]] || log "warning: processes left in $ns: $pids"
}

_host_reap() {
    local host="$1" pid
    [[ -f "$CLUSTER_DIR/$host.wrappers" ]] || return 0
    while read -r pid; do
        wait "$pid" 2>/dev/null || true
    done <"$CLUSTER_DIR/$host.wrappers"
    : >"$CLUSTER_DIR/$host.wrappers"
}

host_kill() {
    local host="${1:?host_kill: HOST}"
    _ns_kill_all "$(cluster_ns "$host")"
    _host_reap "$host"
    ip -n "$(cluster_ns "$host")" link set eth0 down
}

host_revive() {
    local host="${1:?host_revive: HOST}"
    ip -n "$(cluster_ns "$host")" link set eth0 up
}

# STP state 1 ("listening": forward nothing, learn nothing). The kernel keeps it while
# the bridge runs no STP; states 0 and 4 were not taken by this kernel's bridge.
partition() {
    bridge -n "$(cluster_ns sw)" link set dev "p-${1:?partition: HOST}" state 1
}

heal() {
    bridge -n "$(cluster_ns sw)" link set dev "p-${1:?heal: HOST}" state 3
}

_cluster_hosts_file() {
    local h
    printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n'
    for h in "${CLUSTER_HOSTS[@]}"; do
        printf '%s %s.%s %s\n' "$(cluster_addr "$h")" "$h" "$CLUSTER_DOMAIN" "$h"
    done
}

_cluster_host_up() {
    local h="$1" sw ns
    sw="$(cluster_ns sw)"
    ns="$(cluster_ns "$h")"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "p-$h" netns "$sw"
    ip -n "$sw" link set "p-$h" master br0 up
    ip -n "$ns" addr add "$(cluster_addr "$h")/24" dev eth0
    ip -n "$ns" link set eth0 up
    mkdir -p "/etc/netns/$ns" "$CLUSTER_DIR/$h/run"
    _cluster_hosts_file >"/etc/netns/$ns/hosts"
    chown postgres:postgres "$CLUSTER_DIR/$h" "$CLUSTER_DIR/$h/run"
    chmod 2775 "$CLUSTER_DIR/$h/run"
}

cluster_net_up() {
    local h sw
    [[ ${EUID} -eq 0 ]] || die "tests/cluster needs root (network namespaces)"
    _cluster_ensure_packages
    CLUSTER_DIR="$(mktemp -d /tmp/report-cluster.XXXXXX)"
    chmod 755 "$CLUSTER_DIR"
    mkdir -p "$CLUSTER_DIR/logs" "$CLUSTER_STATE_DIR" /run/postgresql
    printf '%s %s %s\n' "$$" "$(_proc_start $$)" "$CLUSTER_DIR" >"$CLUSTER_STATE_DIR/$CLUSTER_ID"
    if [[ -z "${CLUSTER_NO_TRAP:-}" ]]; then
        trap 'cluster_down' EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
    fi
    sw="$(cluster_ns sw)"
    ip netns add "$sw"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add br0 type bridge stp_state 0
    ip -n "$sw" link set br0 up
    for h in "${CLUSTER_HOSTS[@]}"; do
        _cluster_host_up "$h"
    done
    log "cluster $CLUSTER_ID: net $CLUSTER_NET.0/24 up, files in $CLUSTER_DIR"
}

# Remove every namespace, /etc/netns entry and file of run ID (state file "PID START DIR").
_cluster_remove() {
    local id="$1" ns dir="" pid start
    if [[ -f "$CLUSTER_STATE_DIR/$id" ]]; then
        read -r pid start dir <"$CLUSTER_STATE_DIR/$id" || true
    fi
    for ns in $(ip netns list 2>/dev/null | awk -v p="$id-" 'index($1, p) == 1 { print $1 }'); do
        _ns_kill_all "$ns"
    done
    for ns in $(ip netns list 2>/dev/null | awk -v p="$id-" 'index($1, p) == 1 { print $1 }'); do
        ip netns del "$ns" 2>/dev/null || log "warning: could not delete namespace $ns"
    done
    rm -rf -- /etc/netns/"$id"-*
    if [[ -n "$dir" && "$dir" == /tmp/report-cluster.* && -z "${CLUSTER_KEEP:-}" ]]; then
        rm -rf -- "$dir"
    fi
    rm -f -- "$CLUSTER_STATE_DIR/$id"
}

cluster_down() {
    local h
    [[ -n "$CLUSTER_DIR" ]] || return 0
    _cluster_remove "$CLUSTER_ID"
    for h in "${CLUSTER_HOSTS[@]}"; do
        _host_reap "$h" 2>/dev/null || true
    done
    [[ -n "${CLUSTER_KEEP:-}" ]] && log "cluster $CLUSTER_ID: files kept in $CLUSTER_DIR"
    CLUSTER_DIR=""
}

# Runs (rcPID) whose owning process is gone: from their state files and from namespaces
# named rcPID-* without one (a crash before the state file was written).
cluster_cleanup_stale() {
    local f id pid start dir ns
    for f in "$CLUSTER_STATE_DIR"/rc*; do
        [[ -f "$f" ]] || continue
        id="${f##*/}"
        [[ "$id" == "$CLUSTER_ID" ]] && continue
        read -r pid start dir <"$f" || true
        if [[ -n "$pid" && "$(_proc_start "$pid")" == "$start" ]]; then
            continue
        fi
        log "cluster: removing stale run $id"
        _cluster_remove "$id"
    done
    for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E '^rc[0-9]+-' || true); do
        id="${ns%%-*}"
        [[ "$id" == "$CLUSTER_ID" || -f "$CLUSTER_STATE_DIR/$id" ]] && continue
        log "cluster: removing stale namespace $ns"
        _ns_kill_all "$ns"
        ip netns del "$ns" 2>/dev/null || true
        rm -rf -- "/etc/netns/$ns"
    done
}

# ---------------------------------------------------------------- TLS

# One server certificate for HOST signed by the CA: EC P-256, SAN = HOST.CLUSTER_DOMAIN,
# key owned by postgres and 0600 (PostgreSQL refuses a key others can read). Both go to
# CLUSTER_DIR/HOST/run/tls/server.{crt,key}, which HOST sees as /run/postgresql/tls/: the
# same path on every node, because pg_rewind copies the source's postgresql-auto-failover.conf
# (ssl_cert_file included) onto the node it rewinds, and a per-node path there would make
# a rejoined node serve the other node's certificate (seen: verify-full then refuses it).
cluster_tls_cert() {
    local host="${1:?cluster_tls_cert: HOST}" ca="$CLUSTER_DIR/tls" dir name
    dir="$CLUSTER_DIR/$host/run/tls"
    name="$host.$CLUSTER_DOMAIN"
    mkdir -p "$dir"
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=$name" 2>/dev/null
    openssl x509 -req -in "$dir/server.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" \
        -CAcreateserial -days 30 -out "$dir/server.crt" \
        -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$name") \
        2>/dev/null
    rm -f -- "$dir/server.csr"
    chown -R postgres:postgres "$dir"
    chmod 600 "$dir/server.key"
}

cluster_tls_make() {
    local dir="$CLUSTER_DIR/tls" h
    mkdir -p "$dir"
    chmod 755 "$dir"
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 30 \
        -subj "/CN=report cluster test CA $CLUSTER_ID" \
        -addext 'basicConstraints=critical,CA:TRUE' \
        -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
    chmod 600 "$dir/ca.key"
    chmod 644 "$dir/ca.crt"
    for h in mon pg1 pg2; do
        cluster_tls_cert "$h"
    done
}

# ---------------------------------------------------------------- PostgreSQL

# The command prefix that runs as postgres with HOST's data, pg_autoctl files (XDG_*) and
# passwords (PGPASSFILE), in CLUSTER_PG_ENV.
_pg_env() {
    local d="$CLUSTER_DIR/$1"
    CLUSTER_PG_ENV=(runuser -u postgres -- env
        PATH="$CLUSTER_PG_BIN:/usr/bin:/bin" LC_ALL=C.UTF-8 HOME="$d"
        PGDATA="$d/pgdata" PGHOST=/run/postgresql PGPORT="$CLUSTER_PGPORT"
        PGPASSFILE="$d/pgpass" XDG_CONFIG_HOME="$d/xdg/config"
        XDG_DATA_HOME="$d/xdg/share" XDG_RUNTIME_DIR="$d/xdg/run")
}

pg_exec() {
    local host="${1:?pg_exec: HOST}"
    shift
    _pg_env "$host"
    host_exec "$host" "${CLUSTER_PG_ENV[@]}" "$@"
}

pg_local_sql() {
    local host="${1:?pg_local_sql: HOST}" db="${2:?pg_local_sql: DB}" sql="${3:?pg_local_sql: SQL}"
    pg_exec "$host" psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" -c "$sql"
}

monitor_sql() {
    pg_local_sql mon pg_auto_failover "${1:?monitor_sql: SQL}"
}

# The monitor's URI as the nodes use it (the password comes from the node's pgpass).
# keepalives and tcp_user_timeout: when the path to the monitor silently drops packets a
# keeper blocked in a monitor call would otherwise wait forever (seen: a primary cut off
# mid-call never ran its network-partition check, so never demoted itself).
_monitor_uri() {
    printf 'postgres://autoctl_node@mon.%s:%s/pg_auto_failover?sslmode=verify-full&sslrootcert=%s&connect_timeout=2&keepalives=1&keepalives_idle=1&keepalives_interval=1&keepalives_count=3&tcp_user_timeout=%s\n' \
        "$CLUSTER_DOMAIN" "$CLUSTER_PGPORT" "$CLUSTER_DIR/tls/ca.crt" "$CLUSTER_TCP_USER_TIMEOUT_MS"
}

# pg_hba.conf of the monitor (mon) or of a node: peer for postgres on the socket, scram
# over TLS from the cluster's net for the roles that need it, nothing else.
_pg_hba() {
    local host="$1" net="$CLUSTER_NET.0/24"
    printf '# Written by tests/cluster/lib.sh (pg_autoctl --skip-pg-hba).\n'
    printf 'local all postgres peer\n'
    if [[ "$host" == mon ]]; then
        # the monitor's pg_autoctl listens for its notifications as autoctl_node
        printf 'local pg_auto_failover autoctl_node scram-sha-256\n'
        printf 'hostssl pg_auto_failover autoctl_node %s scram-sha-256\n' "$net"
        return 0
    fi
    printf 'hostssl postgres pgautofailover_monitor %s/32 scram-sha-256\n' "$(cluster_addr mon)"
    printf 'hostssl replication pgautofailover_replicator %s scram-sha-256\n' "$net"
    printf 'hostssl postgres pgautofailover_replicator %s scram-sha-256\n' "$net"
    # any role with a password, to the application's database only (the services' own
    # roles: app_role_password)
    printf 'hostssl report all %s scram-sha-256\n' "$net"
}

_pg_write_hba() {
    local host="$1" d="$CLUSTER_DIR/$1/pgdata"
    [[ -d "$d" ]] || return 0
    _pg_hba "$host" >"$d/pg_hba.conf"
    chown postgres:postgres "$d/pg_hba.conf"
    chmod 600 "$d/pg_hba.conf"
}

# The node's own pgpass (0600, postgres): autoctl_node for the monitor, the replicator for
# pg_basebackup and pg_rewind.
_pg_write_pgpass() {
    local host="$1" f="$CLUSTER_DIR/$1/pgpass"
    printf '*:*:pg_auto_failover:autoctl_node:%s\n*:*:*:pgautofailover_replicator:%s\n' \
        "$CLUSTER_MONITOR_PASSWORD" "$CLUSTER_REPL_PASSWORD" >"$f"
    chown postgres:postgres "$f"
    chmod 600 "$f"
    mkdir -p "$CLUSTER_DIR/$host/xdg"
    chown postgres:postgres "$CLUSTER_DIR/$host/xdg"
}

# pg_ctl stop when a server runs in the node's data directory.
_pg_stop_server() {
    local host="$1"
    if pg_exec "$host" pg_ctl status >/dev/null 2>&1; then
        pg_exec "$host" pg_ctl stop -m fast -w >/dev/null
    fi
}

# (Re)start `pg_autoctl run` on HOST. After host_kill the old postmaster.pid names a dead
# process whose pid may since belong to another one: drop it (nothing runs in HOST).
pg_node_start() {
    local host="${1:?pg_node_start: HOST}" pidfile="$CLUSTER_DIR/$1/pgdata/postmaster.pid"
    if [[ -z "$(ip netns pids "$(cluster_ns "$host")")" ]]; then
        rm -f -- "$pidfile"
    fi
    _pg_env "$host"
    host_spawn "$host" "$CLUSTER_DIR/logs/$host.log" "${CLUSTER_PG_ENV[@]}" pg_autoctl run
}

# Wait (up to SECS) until SQL on HOST's local server succeeds.
_pg_wait_sql() {
    local host="$1" db="$2" secs="$3" i
    for ((i = 0; i < secs * 4; i++)); do
        pg_local_sql "$host" "$db" 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    log "error: $host: database $db not ready after ${secs}s"
    return 1
}

# Common options of `pg_autoctl create` on HOST.
_pg_create_opts() {
    local host="$1" tls="$CLUSTER_DIR/tls"
    CLUSTER_CREATE_OPTS=(--pgdata "$CLUSTER_DIR/$host/pgdata" --pgport "$CLUSTER_PGPORT"
        --hostname "$host.$CLUSTER_DOMAIN" --skip-pg-hba
        --ssl-ca-file "$tls/ca.crt" --server-cert /run/postgresql/tls/server.crt
        --server-key /run/postgresql/tls/server.key
        --ssl-mode verify-full)
}

_pg_monitor_up() {
    local t="pgautofailover"
    _pg_write_pgpass mon
    _pg_create_opts mon
    pg_exec mon pg_autoctl create monitor "${CLUSTER_CREATE_OPTS[@]}" \
        >>"$CLUSTER_DIR/logs/mon.create.log" 2>&1 || {
        tail -n 20 "$CLUSTER_DIR/logs/mon.create.log" >&2
        return 1
    }
    _pg_stop_server mon
    _pg_write_hba mon
    pg_node_start mon
    _pg_wait_sql mon pg_auto_failover 60 || return 1
    # the monitor's own settings ask for md5; scram is what its pg_hba.conf accepts
    monitor_sql "SET password_encryption = 'scram-sha-256';
        ALTER USER autoctl_node PASSWORD '$CLUSTER_MONITOR_PASSWORD'" || return 1
    pg_local_sql mon postgres "ALTER SYSTEM SET password_encryption = 'scram-sha-256'" &&
        pg_local_sql mon postgres "ALTER SYSTEM SET $t.health_check_period = $CLUSTER_HC_PERIOD_MS" &&
        pg_local_sql mon postgres "ALTER SYSTEM SET $t.health_check_timeout = $CLUSTER_HC_TIMEOUT_MS" &&
        pg_local_sql mon postgres "ALTER SYSTEM SET $t.health_check_max_retries = $CLUSTER_HC_MAX_RETRIES" &&
        pg_local_sql mon postgres "ALTER SYSTEM SET $t.health_check_retry_delay = $CLUSTER_HC_RETRY_DELAY_MS" &&
        pg_local_sql mon postgres "ALTER SYSTEM SET $t.node_considered_unhealthy_timeout = $CLUSTER_UNHEALTHY_MS" &&
        pg_local_sql mon postgres "ALTER SYSTEM SET $t.primary_demote_timeout = $CLUSTER_DEMOTE_MS" &&
        pg_local_sql mon postgres 'SELECT pg_reload_conf()' >/dev/null
}

# Create node HOST (pg1 becomes the primary, the next one its secondary) and run it.
_pg_node_up() {
    local host="$1" k
    _pg_write_pgpass "$host"
    _pg_create_opts "$host"
    pg_exec "$host" pg_autoctl create postgres "${CLUSTER_CREATE_OPTS[@]}" \
        --name "$host" --formation default --monitor "$(_monitor_uri)" \
        --candidate-priority 50 --replication-quorum true \
        >>"$CLUSTER_DIR/logs/$host.create.log" 2>&1 || {
        tail -n 20 "$CLUSTER_DIR/logs/$host.create.log" >&2
        return 1
    }
    for k in "replication.password $CLUSTER_REPL_PASSWORD" \
        "timeout.network_partition_timeout $CLUSTER_PARTITION_S"; do
        # shellcheck disable=SC2086  # KEY VALUE
        pg_exec "$host" pg_autoctl config set $k >/dev/null || return 1
    done
    _pg_stop_server "$host"
    _pg_write_hba "$host"
    pg_node_start "$host"
}

# On the first primary: passwords (scram) of the replicator and of the health-check role,
# the application role and database.
_pg_primary_setup() {
    local host="$1"
    _pg_wait_sql "$host" postgres 60 || return 1
    pg_local_sql "$host" postgres "SET password_encryption = 'scram-sha-256';
        ALTER ROLE pgautofailover_replicator PASSWORD '$CLUSTER_REPL_PASSWORD';
        ALTER ROLE pgautofailover_monitor PASSWORD 'pgautofailover_monitor';
        CREATE ROLE report LOGIN PASSWORD '$CLUSTER_APP_PASSWORD'" || return 1
    pg_local_sql "$host" postgres 'CREATE DATABASE report OWNER report' || return 1
    # A primary cut off keeps its walsender (and so believes it still has a standby, which
    # keeps pg_autoctl from demoting it) until wal_sender_timeout (default 60 s).
    # pg_autoctl's pg_basebackup asks for a spread checkpoint (90 s here on an idle
    # server): spread nothing, so a secondary is made (and re-made) in seconds
    pg_local_sql "$host" postgres 'ALTER SYSTEM SET checkpoint_completion_target = 0' &&
        pg_local_sql "$host" postgres "ALTER SYSTEM SET wal_sender_timeout = '${CLUSTER_WAL_SENDER_TIMEOUT_S}s'" &&
        pg_local_sql "$host" postgres 'SELECT pg_reload_conf()' >/dev/null
}

# "name reported_state assigned_state" per node, in node id order.
pg_node_states() {
    monitor_sql "SELECT nodename || ' ' || reportedstate || ' ' || goalstate
        FROM pgautofailover.node ORDER BY nodeid"
}

# pg_wait_states SECS NAME:STATE...: wait until each NAME reports STATE and is assigned it.
pg_wait_states() {
    local secs="${1:?pg_wait_states: SECS}" i want got
    shift
    want="$(printf '%s\n' "$@" | sort | tr '\n' ' ')"
    for ((i = 0; i < secs * 2; i++)); do
        got="$(pg_node_states 2>/dev/null | awk '$2 == $3 { print $1 ":" $2 }' | sort | tr '\n' ' ')"
        [[ "$got" == "$want" ]] && return 0
        sleep 0.5
    done
    log "error: nodes not in states $want after ${secs}s; now:"
    pg_node_states >&2 || true
    return 1
}

# The node the monitor has as primary (or wait_primary: primary without a standby).
pg_primary() {
    monitor_sql "SELECT nodename FROM pgautofailover.node
        WHERE reportedstate IN ('primary', 'wait_primary') AND goalstate = reportedstate
        ORDER BY nodeid LIMIT 1"
}

# Multi-host conninfo of the application as USER (default report): libpq tries pg1 then
# pg2 and keeps the one that takes writes. Passwords are in a passfile (root, 0600).
app_conninfo() {
    printf 'host=pg1.%s,pg2.%s port=%s,%s dbname=report user=%s passfile=%s sslmode=verify-full sslrootcert=%s target_session_attrs=read-write connect_timeout=%s\n' \
        "$CLUSTER_DOMAIN" "$CLUSTER_DOMAIN" "$CLUSTER_PGPORT" "$CLUSTER_PGPORT" "${1:-report}" \
        "$CLUSTER_DIR/app.pgpass" "$CLUSTER_DIR/tls/ca.crt" "${CLUSTER_CONNECT_TIMEOUT:-2}"
}

# Give existing role ROLE (e.g. report_ingest, made by the migrations) a random scram
# password on the primary and add it to the application's passfile.
app_role_password() {
    local role="${1:?app_role_password: ROLE}" pw
    pw="$(openssl rand -hex 16)"
    pg_local_sql "$(pg_primary)" postgres "SET password_encryption = 'scram-sha-256';
        ALTER ROLE \"$role\" LOGIN PASSWORD '$pw'" || return 1
    printf '*:*:report:%s:%s\n' "$role" "$pw" >>"$CLUSTER_DIR/app.pgpass"
}

app_psql() {
    local host="${1:?app_psql: HOST}"
    shift
    host_exec "$host" "$CLUSTER_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$(app_conninfo report)" "$@"
}

# The whole PostgreSQL side: CA and certificates, random passwords, the monitor in mon,
# pg1 primary and pg2 its synchronous secondary, database and role report.
cluster_pg_up() {
    CLUSTER_MONITOR_PASSWORD="$(openssl rand -hex 16)"
    CLUSTER_REPL_PASSWORD="$(openssl rand -hex 16)"
    CLUSTER_APP_PASSWORD="$(openssl rand -hex 16)"
    (umask 077 && printf '*:*:report:report:%s\n' "$CLUSTER_APP_PASSWORD" >"$CLUSTER_DIR/app.pgpass")
    cluster_tls_make
    _pg_monitor_up || return 1
    _pg_node_up pg1 || return 1
    _pg_primary_setup pg1 || return 1
    _pg_node_up pg2 || return 1
    pg_wait_states 120 pg1:primary pg2:secondary || return 1
    log "cluster $CLUSTER_ID: PostgreSQL up: pg1 primary, pg2 secondary (monitor in mon)"
}
