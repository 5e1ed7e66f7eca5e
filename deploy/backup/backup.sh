#!/usr/bin/env bash
# Backups of the report database that can be restored: continuous WAL archiving and
# point-in-time recovery with pgBackRest (stanza "report", encrypted repository).
#
#   deploy/backup/backup.sh [--host] COMMAND [ARGS]
#
#   setup                    write the pgBackRest configuration and the repository passphrase
#                            (kept when it exists), turn WAL archiving on (restarting the
#                            server when archive_mode or wal_level change), create the stanza
#                            and check that WAL reaches the repository
#   backup [full|diff|incr]  take a backup (default incr: pgBackRest takes a full one when the
#                            repository has none), then expire what the retention lets go
#   check                    switch WAL and wait until the segment is in the repository
#   info [--json]            the backups in the repository and the WAL they cover
#   restore (--to TIME | --latest) DATADIR [--start PORT] [--archiving]
#                            restore into DATADIR (absent or empty; never the live one):
#                            --to replays WAL up to TIME (commits after it are left out; TIME
#                            as PostgreSQL reads it, e.g. "2026-11-30 21:04:05.123456+00"),
#                            --latest to the end of the archive; the restored server promotes
#                            itself at the end. --start PORT starts it on PORT (unix socket
#                            in DATADIR) and waits until recovery is over. The restored server
#                            does not archive (it must not push into the live server's
#                            repository) unless --archiving (when it is to replace the primary)
#
# Targets:
#   (default)  the project's private PostgreSQL (deploy/lib/common.sh pg_start):
#              REPORT_BACKUP_PGDATA (var/demo-pg), REPORT_BACKUP_PGPORT (55432); pgBackRest's
#              configuration, repository, log and locks under REPORT_BACKUP_DIR (var/backup)
#   --host     the host's cluster (production; as root): REPORT_BACKUP_PGDATA
#              (/var/lib/postgresql/15/main), REPORT_BACKUP_PGPORT (5432), socket
#              REPORT_BACKUP_PGSOCKET (/var/run/postgresql), configuration
#              /etc/pgbackrest/pgbackrest.conf and /etc/pgbackrest/conf.d/, repository
#              /var/lib/pgbackrest, log /var/log/pgbackrest; the server is restarted with
#              REPORT_BACKUP_RESTART ("pg_ctlcluster 15 main restart")
#
# Settings (environment, read by setup): REPORT_BACKUP_REPO (repository path),
# REPORT_BACKUP_RETENTION_FULL (4: full backups kept, and the WAL to replay from them),
# REPORT_BACKUP_COMPRESS (zst) and REPORT_BACKUP_COMPRESS_LEVEL (3),
# REPORT_BACKUP_PROCESS_MAX (1), REPORT_BACKUP_ARCHIVE_TIMEOUT (300 s: the longest a
# committed transaction waits before its WAL is archived); read by restore:
# REPORT_BACKUP_RECOVERY_TIMEOUT (600 s).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
    sed -n '2,41s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

STANZA=report
host=0
if [[ "${1:-}" == --host ]]; then
    host=1
    shift
fi
[[ $# -ge 1 ]] || usage
COMMAND="$1"
shift

RETENTION_FULL="${REPORT_BACKUP_RETENTION_FULL:-4}"
COMPRESS="${REPORT_BACKUP_COMPRESS:-zst}"
COMPRESS_LEVEL="${REPORT_BACKUP_COMPRESS_LEVEL:-3}"
PROCESS_MAX="${REPORT_BACKUP_PROCESS_MAX:-1}"
ARCHIVE_TIMEOUT="${REPORT_BACKUP_ARCHIVE_TIMEOUT:-300}"
RECOVERY_TIMEOUT="${REPORT_BACKUP_RECOVERY_TIMEOUT:-600}"
for v in RETENTION_FULL COMPRESS_LEVEL PROCESS_MAX ARCHIVE_TIMEOUT RECOVERY_TIMEOUT; do
    [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -gt 0 ]] || die "REPORT_BACKUP_$v must be a positive integer"
done

if [[ $host -eq 1 ]]; then
    [[ ${EUID} -eq 0 ]] || die "--host needs root (the commands run as user postgres)"
    PGDATA_DIR="${REPORT_BACKUP_PGDATA:-/var/lib/postgresql/15/main}"
    PG_PORT="${REPORT_BACKUP_PGPORT:-5432}"
    PG_SOCKET="${REPORT_BACKUP_PGSOCKET:-/var/run/postgresql}"
    CONF_DIR=/etc/pgbackrest
    REPO="${REPORT_BACKUP_REPO:-/var/lib/pgbackrest}"
    LOG_PATH=/var/log/pgbackrest
    LOCK_PATH=/var/spool/pgbackrest/lock
    # the default paths: the archive_command and the systemd units need no --config
    PGBR_CONF=()
else
    PGDATA_DIR="${REPORT_BACKUP_PGDATA:-$ROOT/var/demo-pg}"
    PG_PORT="${REPORT_BACKUP_PGPORT:-55432}"
    PG_SOCKET="" # the data directory (pg_socket_dir), once the server exists
    BACKUP_DIR="$(_pg_abs "${REPORT_BACKUP_DIR:-$ROOT/var/backup}")"
    CONF_DIR="$BACKUP_DIR"
    REPO="${REPORT_BACKUP_REPO:-$BACKUP_DIR/repo}"
    LOG_PATH="$BACKUP_DIR/log"
    LOCK_PATH="$BACKUP_DIR/lock"
    PGBR_CONF=(--config="$CONF_DIR/pgbackrest.conf" --config-include-path="$CONF_DIR/conf.d")
fi
CONF_FILE="$CONF_DIR/pgbackrest.conf"
PASS_FILE="$CONF_DIR/conf.d/$STANZA-cipher.conf"
[[ "$PG_PORT" =~ ^[0-9]+$ ]] || die "bad port: $PG_PORT"

# Paths go into the archive_command (a shell command line PostgreSQL runs) unquoted.
for p in "$CONF_DIR" "$REPO" "$PGDATA_DIR"; do
    [[ "$p" =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "unsupported characters in path $p"
done

pgbr() {
    _pg_run pgbackrest "${PGBR_CONF[@]}" --stanza="$STANZA" "$@"
}

# The socket directory of the live server (private: its data directory).
pg_socket() {
    if [[ $host -eq 1 ]]; then
        printf '%s\n' "$PG_SOCKET"
    else
        pg_socket_dir "$PGDATA_DIR" || die "no PostgreSQL data directory at $PGDATA_DIR"
    fi
}

# sql PORT SOCKET PSQL_ARGS...: psql as the superuser (-c SQL, or SQL on stdin with -v
# variables).
sql() {
    _pg_run "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$2" -p "$1" -U postgres \
        -d postgres "${@:3}"
}

# put_file MODE DEST: stdin to DEST, owned by postgres when we are root. The temporary file
# is made beside DEST (0600), so that the passphrase never passes through /tmp.
put_file() {
    local tmp
    tmp="$(mktemp "$2.XXXXXX")"
    cat >"$tmp"
    if [[ ${EUID} -eq 0 ]]; then
        install -o postgres -g postgres -m "$1" "$tmp" "$2" || { rm -f "$tmp"; return 1; }
    else
        install -m "$1" "$tmp" "$2" || { rm -f "$tmp"; return 1; }
    fi
    rm -f "$tmp"
}

# make_dir MODE DIR...: create the directories, owned by postgres when we are root.
make_dir() {
    local mode="$1" d
    shift
    for d in "$@"; do
        mkdir -p "$d"
        chmod "$mode" "$d"
        [[ ${EUID} -ne 0 ]] || chown postgres:postgres "$d"
        _pg_reachable "$d" || die "user postgres cannot write to $d (set REPORT_BACKUP_DIR)"
    done
}

# The pgBackRest configuration: everything but the passphrase (in its own file, 0600).
write_conf() {
    local socket="$1"
    put_file 0640 "$CONF_FILE" <<CONF
# Written by deploy/backup/backup.sh setup; edits are lost at the next setup.
# The passphrase of the repository is in $PASS_FILE.
[global]
repo1-path=$REPO
repo1-retention-full-type=count
repo1-retention-full=$RETENTION_FULL
repo1-cipher-type=aes-256-cbc
compress-type=$COMPRESS
compress-level=$COMPRESS_LEVEL
process-max=$PROCESS_MAX
start-fast=y
log-path=$LOG_PATH
log-level-file=detail
log-level-console=warn
lock-path=$LOCK_PATH

[$STANZA]
pg1-path=$PGDATA_DIR
pg1-port=$PG_PORT
pg1-socket-path=$socket
pg1-user=postgres
CONF
    # The private server keeps its unix socket and its log in its data directory: neither is
    # to be backed up (the restored server starts a log of its own).
    if [[ $host -eq 0 ]]; then
        printf 'exclude=.s.PGSQL.%s\nexclude=server.log\n' "$PG_PORT" |
            _pg_run tee -a "$CONF_FILE" >/dev/null
    fi
}

# The repository's passphrase: made once, never replaced (the repository cannot be read
# without the one it was created with).
ensure_passphrase() {
    if [[ -f "$PASS_FILE" ]]; then
        log "keeping the repository passphrase in $PASS_FILE"
        return 0
    fi
    if [[ -d "$REPO/backup/$STANZA" || -d "$REPO/archive/$STANZA" ]]; then
        die "$REPO already holds stanza $STANZA but $PASS_FILE is missing: put back the" \
            "passphrase from its offline copy (or set REPORT_BACKUP_REPO to a new repository)"
    fi
    local pass
    pass="$(openssl rand -base64 48 | tr -d '\n')"
    printf '[global]\nrepo1-cipher-pass=%s\n' "$pass" | put_file 0600 "$PASS_FILE"
    log "made a new repository passphrase in $PASS_FILE: keep a copy off this machine"
}

# restart_server: what archive_mode and wal_level need.
restart_server() {
    if [[ $host -eq 1 ]]; then
        local cmd=()
        read -r -a cmd <<<"${REPORT_BACKUP_RESTART:-pg_ctlcluster 15 main restart}"
        log "restarting PostgreSQL: ${cmd[*]}"
        "${cmd[@]}"
    else
        log "restarting the private PostgreSQL in $PGDATA_DIR"
        pg_stop "$PGDATA_DIR"
        pg_start "$PGDATA_DIR" "$PG_PORT" >/dev/null
    fi
}

# Archiving on: ALTER SYSTEM (postgresql.auto.conf), which the private server's report.conf,
# rewritten at each start, does not touch and which wins over the host's postgresql.conf.
# wal_level is only raised (replica), never lowered: pg_auto_failover may want logical.
configure_archiving() {
    local socket="$1" cmd mode level
    cmd="pgbackrest${PGBR_CONF[*]:+ ${PGBR_CONF[*]}} --stanza=$STANZA archive-push %p"
    mode="$(sql "$PG_PORT" "$socket" -c 'SHOW archive_mode')"
    level="$(sql "$PG_PORT" "$socket" -c 'SHOW wal_level')"
    sql "$PG_PORT" "$socket" -v cmd="$cmd" -v timeout="$ARCHIVE_TIMEOUT" >/dev/null <<'SQL'
ALTER SYSTEM SET archive_mode = 'on';
ALTER SYSTEM SET archive_command = :'cmd';
ALTER SYSTEM SET archive_timeout = :'timeout';
SQL
    if [[ "$level" == minimal ]]; then
        sql "$PG_PORT" "$socket" -c "ALTER SYSTEM SET wal_level = 'replica'" >/dev/null
    fi
    sql "$PG_PORT" "$socket" -c 'SELECT pg_reload_conf()' >/dev/null
    log "archive_command = $cmd"
    if [[ "$mode" != on || "$level" == minimal ]]; then
        restart_server
    fi
}

cmd_setup() {
    [[ $# -eq 0 ]] || usage
    if [[ $host -eq 1 ]]; then
        REPORT_BASE_PACKAGES=() # a production host needs pgBackRest, not the build tools
        ensure_packages pgbackrest openssl
    else
        ensure_packages pgbackrest
        pg_start "$PGDATA_DIR" "$PG_PORT" >/dev/null
    fi
    make_dir 0750 "$CONF_DIR" "$REPO" "$LOG_PATH"
    make_dir 0700 "$CONF_DIR/conf.d" "$LOCK_PATH"
    local socket
    socket="$(pg_socket)"
    write_conf "$socket"
    ensure_passphrase
    configure_archiving "$socket"
    pgbr --log-level-console=info stanza-create
    pgbr --log-level-console=info check
    cat <<INFO
backup setup done: stanza $STANZA of $PGDATA_DIR (port $PG_PORT)
  configuration  $CONF_FILE
  passphrase     $PASS_FILE (keep a copy off this machine: without it no backup can be read)
  repository     $REPO (aes-256-cbc, $COMPRESS level $COMPRESS_LEVEL, $RETENTION_FULL full backups kept)
INFO
}

cmd_backup() {
    local type="${1:-incr}"
    [[ $# -le 1 ]] || usage
    case "$type" in
    full | diff | incr) ;;
    *) die "backup type must be full, diff or incr" ;;
    esac
    pgbr --log-level-console=info backup --type="$type"
    pgbr info
}

cmd_check() {
    [[ $# -eq 0 ]] || usage
    pgbr --log-level-console=info check
}

cmd_info() {
    case "${1:-}" in
    "") pgbr info ;;
    --json) pgbr --output=json info ;;
    *) usage ;;
    esac
}

server_log_tail() {
    local file
    file="$(pg_socket_dir "$1")/server.log"
    log "error: the restored server stopped during recovery (a target after the end of the"
    log "archived WAL, or before the end of the backup?); see $file:"
    grep -E 'FATAL|PANIC' "$file" | tail -n 3 >&2 || true
}

# wait_promoted DATADIR PORT: until the restored server has left recovery.
wait_promoted() {
    local datadir="$1" port="$2" socket state i
    socket="$(pg_socket_dir "$datadir")"
    for ((i = 0; i < RECOVERY_TIMEOUT * 10; i++)); do
        state="$(sql "$port" "$socket" -c 'SELECT pg_is_in_recovery()' 2>/dev/null || true)"
        [[ "$state" == f ]] && return 0
        if ! pg_status "$datadir"; then
            server_log_tail "$datadir"
            return 1
        fi
        sleep 0.1
    done
    log "error: the restored server is still in recovery after ${RECOVERY_TIMEOUT} s"
    return 1
}

# A host cluster keeps postgresql.conf and pg_hba.conf outside its data directory (Debian:
# /etc/postgresql/15/main), so a copy restored elsewhere has none. To start it beside the
# live server, as the private server is started (unix socket in the data directory, 0700,
# which only postgres and root can reach: hence trust), it gets minimal ones.
scratch_conf() {
    local dir="$1"
    [[ -f "$dir/postgresql.conf" ]] ||
        printf "# Written by backup.sh restore --start\ninclude_if_exists = 'report.conf'\n" |
        put_file 0600 "$dir/postgresql.conf"
    [[ -f "$dir/pg_hba.conf" ]] ||
        printf '# Written by backup.sh restore --start: socket only, in the data directory\nlocal all all trust\n' |
        put_file 0600 "$dir/pg_hba.conf"
    [[ -f "$dir/pg_ident.conf" ]] || put_file 0600 "$dir/pg_ident.conf" </dev/null
}

# The restored server, started on PORT and out of recovery: what it recovered to.
start_restored() {
    local datadir="$1" port="$2" socket
    if ! pg_start "$datadir" "$port" >/dev/null; then
        server_log_tail "$datadir"
        return 1
    fi
    wait_promoted "$datadir" "$port" || return 1
    socket="$(pg_socket_dir "$datadir")"
    printf 'restored server: %s port %s, last transaction replayed committed at %s\n' \
        "$datadir" "$port" \
        "$(sql "$port" "$socket" -c 'SELECT coalesce(pg_last_xact_replay_timestamp()::text, '"'none'"')')"
}

cmd_restore() {
    local target="" latest=0 datadir="" port="" archive_mode=off abs real
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --to) target="${2:?--to TIME}"; shift ;;
        --latest) latest=1 ;;
        --start) port="${2:?--start PORT}"; shift ;;
        --archiving) archive_mode=preserve ;;
        -*) log "unknown option: $1"; usage ;;
        *) [[ -z "$datadir" ]] || usage; datadir="$1" ;;
        esac
        shift
    done
    if [[ -z "$datadir" || ( -n "$target" && $latest -eq 1 ) || ( -z "$target" && $latest -eq 0 ) ]]; then
        die "restore wants DATADIR and one of --to TIME or --latest"
    fi
    [[ -z "$port" || "$port" =~ ^[0-9]+$ ]] || die "bad port: $port"
    abs="$(_pg_abs "$datadir")"
    if real="$(_pg_real "$abs")"; then
        [[ -z "$(ls -A -- "$real")" ]] || die "$abs is not empty: restore into a new directory"
        rmdir -- "$real"
        [[ ! -L "$abs" ]] || rm -f -- "$abs"
    fi
    real="$(_pg_make_dir "$abs" "${port:-$PG_PORT}")" || die "cannot create $abs"
    local args=(--pg1-path="$real" --archive-mode="$archive_mode")
    if [[ $latest -eq 1 ]]; then
        args+=(--type=default)
    else
        args+=(--type=time --target="$target" --target-action=promote)
    fi
    pgbr --log-level-console=info restore "${args[@]}"
    if [[ -n "$port" ]]; then
        [[ $host -eq 0 ]] || scratch_conf "$real"
        start_restored "$abs" "$port"
    else
        echo "restored into $abs; started (pg_ctlcluster, or deploy/pg.sh start $abs PORT) it replays WAL, then promotes"
    fi
}

case "$COMMAND" in
setup) cmd_setup "$@" ;;
backup) cmd_backup "$@" ;;
check) cmd_check "$@" ;;
info) cmd_info "$@" ;;
restore) cmd_restore "$@" ;;
-h | --help) usage ;;
*) log "unknown command: $COMMAND"; usage ;;
esac
