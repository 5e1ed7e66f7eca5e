#!/usr/bin/env bash
# The production path of deploy/backup/backup.sh (--host), without touching the host: in a
# mount namespace of its own, /etc, /var/lib, /var/log and /var/spool are overlays whose
# changes go to a scratch directory and vanish with the namespace, and /run/postgresql is
# an empty tmpfs. In there the host's cluster (Debian's 15/main, moved to port
# REPORT_DRILL_PGPORT, default 55630, in the overlay's postgresql.conf) is started and
#   backup.sh --host setup      (/etc/pgbackrest/, the passphrase, ALTER SYSTEM, restart)
#   the ExecStart= lines of deploy/systemd/report-backup-full.service and -incr.service,
#   run as user postgres with the host configuration, as systemd would run them
#   rows committed, T recorded, the rows deleted, backup.sh --host check
#   backup.sh --host restore --to T /var/lib/postgresql/15/restore --start PORT+1
# and the rows at T must be back on the restored copy.
#
#   tests/backup/host.sh        (as root; needs unshare(1) and overlayfs)
#
# Skipped (exit 0, says why) when not root, without mount namespaces, without a 15/main
# cluster, or when that cluster is running (it is someone's). Last line:
# "backup-host: rows_before=N rows_after=N" or "backup-host: skipped: REASON"; exit status 1
# on any failure.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

PORT="${REPORT_DRILL_PGPORT:-55630}"
SCRATCH="$ROOT/var/backup-host"
RESTORED=/var/lib/postgresql/15/restore

skip() {
    echo "backup-host: skipped: $*"
    exit 0
}

# Inside the namespace (this script again, with --inside).
inside() {
    local d
    for d in etc varlib varlog varspool; do
        mkdir -p "$SCRATCH/$d/up" "$SCRATCH/$d/work"
    done
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$SCRATCH/etc/up,workdir=$SCRATCH/etc/work" /etc
    mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$SCRATCH/varlib/up,workdir=$SCRATCH/varlib/work" /var/lib
    mount -t overlay overlay -o "lowerdir=/var/log,upperdir=$SCRATCH/varlog/up,workdir=$SCRATCH/varlog/work" /var/log
    mount -t overlay overlay -o "lowerdir=/var/spool,upperdir=$SCRATCH/varspool/up,workdir=$SCRATCH/varspool/work" /var/spool
    mount -t tmpfs -o mode=2775,uid=postgres,gid=postgres tmpfs /run/postgresql
    sed -i "s/^port = .*/port = $PORT/" /etc/postgresql/15/main/postgresql.conf
    pg_ctlcluster 15 main start
    trap 'runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$RESTORED" stop -m fast -s >/dev/null 2>&1 || true
          pg_ctlcluster 15 main stop -m fast || true' EXIT
    drive
}

psql_at() { # PORT SOCKET SQL
    runuser -u postgres -- "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$2" -p "$1" -d report -c "$3"
}

# The commands of the units, as systemd runs them: as postgres, the host configuration.
run_unit() {
    local cmd=()
    read -r -a cmd <<<"$(sed -n 's/^ExecStart=//p' "$ROOT/deploy/systemd/$1")"
    [[ ${#cmd[@]} -gt 0 ]] || die "no ExecStart= in $1"
    echo "== $1: ${cmd[*]}"
    (cd / && runuser -u postgres -- "${cmd[@]}") 2>&1 | grep -E 'backup command end|WARN|ERROR'
}

drive() {
    local b=("$ROOT/deploy/backup/backup.sh" --host) sock=/var/run/postgresql t before after
    export REPORT_BACKUP_PGPORT="$PORT"
    runuser -u postgres -- "$PG_BIN/psql" -X -q -h "$sock" -p "$PORT" -d postgres \
        -c 'CREATE DATABASE report' >/dev/null
    echo "== backup.sh --host setup"
    "${b[@]}" setup 2>&1 | grep -v ' P00 '
    psql_at "$PORT" "$sock" "CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 500)"
    run_unit report-backup-full.service
    psql_at "$PORT" "$sock" "INSERT INTO t SELECT generate_series(501, 700)"
    run_unit report-backup-incr.service
    sleep 1 # pgBackRest picks a backup that ended before the target, to the second
    psql_at "$PORT" "$sock" "INSERT INTO t SELECT generate_series(701, 1200)"
    before="$(psql_at "$PORT" "$sock" "SELECT count(*) FROM t")"
    t="$(psql_at "$PORT" "$sock" "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")"
    psql_at "$PORT" "$sock" "DELETE FROM t"
    "${b[@]}" check >/dev/null 2>&1 || die "backup.sh --host check failed"
    echo "== backup.sh --host restore --to $t $RESTORED --start $((PORT + 1))"
    "${b[@]}" restore --to "$t" "$RESTORED" --start $((PORT + 1)) 2>&1 | grep -v ' P00 '
    after="$(psql_at $((PORT + 1)) "$RESTORED" "SELECT count(*) FROM t")"
    echo "backup-host: rows_before=$before rows_after=$after"
    [[ "$before" == 1200 && "$after" == "$before" ]] || die "the rows at T are not back"
}

if [[ "${1:-}" == --inside ]]; then
    inside
    exit 0
fi
[[ $# -eq 0 ]] || { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
[[ ${EUID} -eq 0 ]] || skip "not root"
if ! command -v unshare >/dev/null || ! unshare -m true 2>/dev/null; then
    skip "no mount namespaces"
fi
if ! command -v pg_lsclusters >/dev/null || ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main '; then
    skip "no PostgreSQL 15/main cluster"
fi
pg_lsclusters -h | grep -q '^15 *main .* down ' || skip "the 15/main cluster is running"
ensure_packages pgbackrest
rm -rf -- "$SCRATCH"
mkdir -p "$SCRATCH"
rc=0
unshare -m --propagation private "$0" --inside || rc=$?
rm -rf -- "$SCRATCH"
[[ $rc -eq 0 ]] || die "backup-host: FAILED (exit status $rc)"
