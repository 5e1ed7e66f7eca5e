#!/usr/bin/env bash
# Private PostgreSQL 15 server (unix socket only) for the demo and the tests.
#
#   deploy/pg.sh start   DATADIR [PORT]  initdb if absent, start, create db "report"
#   deploy/pg.sh stop    DATADIR [PORT]  fast shutdown; fine when not running
#   deploy/pg.sh restart DATADIR [PORT]
#   deploy/pg.sh status  DATADIR [PORT]  prints "running pid=... <conninfo>" (exit 0)
#                                        or "stopped" (exit 3)
#   deploy/pg.sh conninfo DATADIR [PORT] [DBNAME]
#   deploy/pg.sh wipe    DATADIR         stop and delete the cluster
#
# PORT defaults to 55432. start/stop/restart/wipe print nothing on success.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
    sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
cmd="$1"
datadir="$2"
port="${3:-55432}"
[[ "$port" =~ ^[0-9]+$ ]] || die "bad port: $port"

case "$cmd" in
start)
    pg_start "$datadir" "$port" >/dev/null
    ;;
stop)
    pg_stop "$datadir"
    ;;
restart)
    pg_stop "$datadir"
    pg_start "$datadir" "$port" >/dev/null
    ;;
status)
    if dir="$(_pg_real "$datadir")" && pid="$(_pg_pid "$dir")"; then
        echo "running pid=$pid $(pg_conninfo "$datadir" "$(_pg_running_port "$dir")")"
    else
        echo "stopped"
        exit 3
    fi
    ;;
conninfo)
    pg_conninfo "$datadir" "$port" "${4:-report}"
    ;;
wipe)
    pg_wipe "$datadir"
    ;;
-h | --help | help)
    usage
    ;;
*)
    usage
    ;;
esac
