# shellcheck shell=bash
# Shared helpers for the deploy and test scripts. Source it, do not run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Provides:
#   ROOT                          repository root (physical path)
#   REPORT_CONFIG=""              exported: the services started read no /etc/report file
#   ensure_packages [PKG...]      install missing Debian packages (apt-get, no recommends,
#                                 no daemon started, no default PostgreSQL cluster)
#   build_project DIR [ARGS...]   cmake configure + build (executables in DIR/bin)
#   pg_start DATADIR PORT         private PostgreSQL 15 (initdb if absent), exports PGHOST PGPORT PGUSER
#   pg_stop DATADIR               fast shutdown, no-op when not running
#   pg_status DATADIR             exit 0 when running, 3 when not
#   pg_wipe DATADIR               stop and remove the cluster
#   pg_conninfo DATADIR PORT [DB] conninfo string (dbname defaults to report)
#   pg_socket_dir DATADIR         the directory holding the server's unix socket
#   start_service NAME LOG CMD... start CMD in the background, log to LOG, record its pid
#   stop_services [PIDFILE]       stop recorded services (newest first)
#
# DATADIR is the PostgreSQL data directory itself. When the server must run as
# user postgres (we are root) and DATADIR is not reachable by postgres, or when
# the socket path would be too long, the cluster lives in a mktemp -d directory
# under /tmp and DATADIR is a symlink to it.

set -euo pipefail

# Repository root, from this file's location (deploy/lib/common.sh).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

PG_BIN="${REPORT_PG_BIN:-/usr/lib/postgresql/15/bin}"

# The services these scripts start (demo, tests, benchmarks, faults) read no settings file:
# on a host where the package is installed, /etc/report/<service>.conf is production's.
export REPORT_CONFIG=""

REPORT_BASE_PACKAGES=(
    build-essential cmake pkg-config
    libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
    libpq-dev libcriterion-dev postgresql-15 postgresql-client-15 libsystemd-dev
    libjansson-dev libutf8proc-dev uuid-dev libssl-dev libmicrohttpd-dev
    libpango1.0-dev libcairo2-dev fonts-liberation2 ghostscript poppler-utils
    libpodofo-utils libnss3-tools openssl libxml2-dev libxml2-utils
    nodejs
    clang libclang-rt-14-dev clang-format
    pgbackrest
)

log() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when root, through sudo otherwise.
as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "error: need root for: $*  (run as root or install sudo)"
        return 1
    fi
}

# ---------------------------------------------------------------- packages

_REPORT_APT_UPDATED=0

# A fresh machine gets PostgreSQL's programs and no cluster of its own (postgresql-common
# would create and start 15/main on port 5432): our servers are private (pg_start). Written
# only when the file is absent, before postgresql-common is installed, whose postinst keeps
# it (ucf keeps a file it did not write, UCF_FORCE_CONFFOLD below).
_pg_no_default_cluster() {
    local conf=/etc/postgresql-common/createcluster.conf
    [[ -e "$conf" ]] && return 0
    log "writing $conf: create_main_cluster = false"
    as_root mkdir -p "$(dirname "$conf")" &&
        printf '# Written by deploy/lib/common.sh: no default cluster (private servers only)\ncreate_main_cluster = false\n' |
        as_root tee "$conf" >/dev/null
}

# apt-get install without starting a daemon: a policy-rc.d that refuses every start (101)
# while apt runs, removed after it; one that was there before is left alone.
_apt_install_no_daemons() {
    local policy=/usr/sbin/policy-rc.d ours=0 rc=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\n# deploy/lib/common.sh: no daemon starts during apt-get install\nexit 101\n' |
            as_root tee "$policy" >/dev/null && as_root chmod 0755 "$policy" && ours=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 \
        apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >&2 || rc=$?
    if [[ $ours -eq 1 ]]; then
        as_root rm -f "$policy"
    fi
    return "$rc"
}

ensure_packages() {
    local pkg status missing=()
    for pkg in "${REPORT_BASE_PACKAGES[@]}" "$@"; do
        # shellcheck disable=SC2016  # ${Status} is a dpkg-query field, not a shell variable
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0

    log "installing missing packages: ${missing[*]}"
    if [[ $_REPORT_APT_UPDATED -eq 0 ]]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
        _REPORT_APT_UPDATED=1
    fi
    if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
        _pg_no_default_cluster || return 1
    fi
    _apt_install_no_daemons "${missing[@]}" || return 1
}

# ---------------------------------------------------------------- build

# build_project DIR [cmake args...]
# Build type: $REPORT_BUILD_TYPE (default Debug); a -DCMAKE_BUILD_TYPE=... in
# the arguments wins since it comes later on the command line.
build_project() {
    local dir="${1:?build_project: build directory required}"
    shift
    [[ "$dir" == /* ]] || dir="$ROOT/$dir"
    cmake -S "$ROOT" -B "$dir" \
        -DCMAKE_BUILD_TYPE="${REPORT_BUILD_TYPE:-Debug}" "$@" || return 1
    cmake --build "$dir" -j "${REPORT_BUILD_JOBS:-2}" || return 1
}

# ---------------------------------------------------------------- postgresql

# Run a PostgreSQL server-side binary as the right user, from a directory
# that user can read (initdb complains otherwise).
_pg_run() {
    if [[ ${EUID} -eq 0 ]]; then
        (cd / && runuser -u postgres -- env LC_ALL=C.UTF-8 "$@")
    else
        (cd / && env LC_ALL=C.UTF-8 "$@")
    fi
}

# Absolute path of DATADIR (relative paths are taken from the current
# directory); symlinks are not resolved.
_pg_abs() {
    local d="$1"
    [[ "$d" == /* ]] || d="$PWD/$d"
    printf '%s\n' "${d%/}"
}

# The real data directory behind DATADIR (follows the /tmp fallback symlink).
# Prints nothing and fails when there is none.
_pg_real() {
    local d
    d="$(_pg_abs "$1")"
    if [[ -L "$d" ]]; then
        d="$(readlink -f -- "$d" 2>/dev/null)" || return 1
        [[ -d "$d" ]] || return 1
    fi
    [[ -d "$d" ]] || return 1
    printf '%s\n' "$d"
}

# The socket directory is the data directory itself.
pg_socket_dir() {
    _pg_real "$1"
}

# Quote a conninfo value when needed.
_pg_quote() {
    local v="$1"
    if [[ -z "$v" || "$v" == *[[:space:]\'\\]* ]]; then
        v="${v//\\/\\\\}"
        v="${v//\'/\\\'}"
        printf "'%s'" "$v"
    else
        printf '%s' "$v"
    fi
}

# pg_conninfo DATADIR PORT [DBNAME]
pg_conninfo() {
    local datadir="${1:?pg_conninfo: DATADIR required}" port="${2:?pg_conninfo: PORT required}"
    local db="${3:-report}" sock
    sock="$(pg_socket_dir "$datadir")" || sock="$(_pg_abs "$datadir")"
    printf 'host=%s port=%s user=postgres dbname=%s\n' "$(_pg_quote "$sock")" "$port" "$db"
}

# Can user postgres create files in directory $1 (every parent traversable)?
_pg_reachable() {
    [[ ${EUID} -ne 0 ]] && return 0
    runuser -u postgres -- test -w "$1" -a -x "$1" 2>/dev/null
}

# Create the (empty) directory for a new cluster at DATADIR, or under /tmp
# with DATADIR a symlink to it. Prints the real directory.
_pg_make_dir() {
    local want="$1" port="$2" dir parent
    parent="$(dirname "$want")"
    mkdir -p "$parent" || return 1
    # unix socket path: <dir>/.s.PGSQL.<port> must fit in sun_path (108 bytes)
    if (( ${#want} + 11 + ${#port} < 100 )); then
        if mkdir -m 700 "$want" 2>/dev/null; then
            if [[ ${EUID} -eq 0 ]]; then
                chown postgres:postgres "$want" || return 1
            fi
            if _pg_reachable "$want"; then
                printf '%s\n' "$want"
                return 0
            fi
            rmdir "$want"
        fi
    fi
    dir="$(mktemp -d /tmp/report-pg.XXXXXX)" || return 1
    chmod 700 "$dir"
    if [[ ${EUID} -eq 0 ]]; then
        chown postgres:postgres "$dir" || return 1
    fi
    ln -s "$dir" "$want" || { rmdir "$dir"; return 1; }
    printf '%s\n' "$dir"
}

# Write the server settings (re-written at each start, so the port can change).
_pg_write_conf() {
    local dir="$1" port="$2" tmp
    tmp="$(mktemp)" || return 1
    cat >"$tmp" <<CONF
# Written by deploy/lib/common.sh at each start; edits are lost.
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 32MB
max_connections = 100
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
logging_collector = off
CONF
    if ! _pg_run tee "$dir/report.conf" <"$tmp" >/dev/null; then
        rm -f "$tmp"
        return 1
    fi
    rm -f "$tmp"
}

# Pid of the running postmaster of the cluster in real dir $1, or failure.
_pg_pid() {
    local dir="$1" pid
    [[ -f "$dir/postmaster.pid" ]] || return 1
    _pg_run "$PG_BIN/pg_ctl" status -D "$dir" >/dev/null 2>&1 || return 1
    read -r pid <"$dir/postmaster.pid" || return 1
    printf '%s\n' "$pid"
}

# Port of the running postmaster (4th line of postmaster.pid).
_pg_running_port() {
    sed -n '4p' "$1/postmaster.pid" 2>/dev/null
}

# pg_status DATADIR: 0 when running, 3 when not.
pg_status() {
    local dir
    dir="$(_pg_real "${1:?pg_status: DATADIR required}")" || return 3
    _pg_pid "$dir" >/dev/null || return 3
}

# pg_start DATADIR PORT
pg_start() {
    local datadir="${1:?pg_start: DATADIR required}" port="${2:?pg_start: PORT required}"
    local abs dir out
    [[ -x "$PG_BIN/pg_ctl" ]] || { log "error: $PG_BIN/pg_ctl not found (package postgresql-15)"; return 1; }
    abs="$(_pg_abs "$datadir")"

    if dir="$(_pg_real "$abs")" && [[ -f "$dir/PG_VERSION" ]]; then
        if [[ ${EUID} -eq 0 && "$(stat -c %U "$dir")" != postgres ]]; then
            log "error: $dir is not owned by postgres; remove it (deploy/pg.sh wipe) and retry"
            return 1
        fi
        if _pg_pid "$dir" >/dev/null; then
            if [[ "$(_pg_running_port "$dir")" != "$port" ]]; then
                pg_stop "$abs" || return 1
            fi
        fi
    else
        # absent (or a dangling fallback symlink, or an empty directory)
        if [[ -L "$abs" ]]; then
            rm -f "$abs"
        elif [[ -d "$abs" ]]; then
            rmdir "$abs" 2>/dev/null || {
                log "error: $abs exists but is not a PostgreSQL data directory"
                return 1
            }
        fi
        dir="$(_pg_make_dir "$abs" "$port")" || return 1
        out="$(_pg_run "$PG_BIN/initdb" -D "$dir" -U postgres --encoding=UTF8 \
            --locale=C.UTF-8 --auth=trust 2>&1)" || {
            printf '%s\n' "$out" >&2
            log "error: initdb failed for $dir"
            return 1
        }
        printf "\ninclude_if_exists = 'report.conf'\n" |
            _pg_run tee -a "$dir/postgresql.conf" >/dev/null || return 1
    fi

    if ! _pg_pid "$dir" >/dev/null; then
        _pg_write_conf "$dir" "$port" || return 1
        if ! _pg_run "$PG_BIN/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t 60 -s >&2; then
            log "error: PostgreSQL did not start; last lines of $dir/server.log:"
            tail -n 20 "$dir/server.log" >&2 || true
            return 1
        fi
    fi

    local i
    for ((i = 0; i < 100; i++)); do
        "$PG_BIN/pg_isready" -q -h "$dir" -p "$port" -U postgres -d postgres && break
        sleep 0.1
    done
    "$PG_BIN/pg_isready" -q -h "$dir" -p "$port" -U postgres -d postgres || {
        log "error: PostgreSQL in $dir is not accepting connections on port $port"
        return 1
    }

    local has
    has="$("$PG_BIN/psql" -X -q -A -t -h "$dir" -p "$port" -U postgres -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = 'report'")" || return 1
    if [[ "$has" != 1 ]]; then
        "$PG_BIN/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres \
            -v ON_ERROR_STOP=1 -c 'CREATE DATABASE report' >/dev/null || return 1
    fi

    export PGHOST="$dir" PGPORT="$port" PGUSER=postgres
    pg_conninfo "$abs" "$port"
}

# pg_stop DATADIR (fast mode; fine when not running or absent)
pg_stop() {
    local dir
    dir="$(_pg_real "${1:?pg_stop: DATADIR required}")" || return 0
    [[ -f "$dir/postmaster.pid" ]] || return 0
    _pg_pid "$dir" >/dev/null || return 0
    _pg_run "$PG_BIN/pg_ctl" stop -D "$dir" -m fast -w -t 60 -s >&2 || {
        _pg_pid "$dir" >/dev/null || return 0
        log "error: could not stop PostgreSQL in $dir"
        return 1
    }
}

# pg_wipe DATADIR: stop the server and delete the cluster (and its /tmp target).
pg_wipe() {
    local abs dir
    abs="$(_pg_abs "${1:?pg_wipe: DATADIR required}")"
    pg_stop "$abs" || return 1
    if [[ -L "$abs" ]]; then
        dir="$(readlink -f -- "$abs" 2>/dev/null || true)"
        if [[ -n "$dir" && "$dir" == /tmp/report-pg.* ]]; then
            rm -rf -- "$dir"
        fi
        rm -f -- "$abs"
    elif [[ -e "$abs" ]]; then
        rm -rf -- "$abs" || {
            log "error: cannot remove $abs (created by another user? try: sudo rm -rf $abs)"
            return 1
        }
    fi
}

# ---------------------------------------------------------------- services

REPORT_SERVICE_NAMES=()
REPORT_SERVICE_PIDS=()

# start_service NAME LOGFILE CMD [ARGS...]
# Starts CMD in the background (stdin /dev/null, stdout+stderr appended to
# LOGFILE, SIGHUP ignored so it survives the terminal for --keep), records its
# pid in REPORT_SERVICE_NAMES/REPORT_SERVICE_PIDS and, when REPORT_PIDS_FILE is
# set, appends "NAME PID STARTTIME" to that file. Sets REPORT_LAST_PID.
start_service() {
    local name="${1:?start_service: NAME required}" logfile="${2:?start_service: LOGFILE required}"
    shift 2
    [[ $# -gt 0 ]] || { log "error: start_service $name: no command"; return 1; }
    mkdir -p "$(dirname "$logfile")" || return 1
    printf '=== %s: %s\n' "$(date '+%F %T')" "$*" >>"$logfile"
    (
        trap '' HUP
        exec "$@"
    ) </dev/null >>"$logfile" 2>&1 &
    REPORT_LAST_PID=$!
    REPORT_SERVICE_NAMES+=("$name")
    REPORT_SERVICE_PIDS+=("$REPORT_LAST_PID")
    if [[ -n "${REPORT_PIDS_FILE:-}" ]]; then
        printf '%s %s %s\n' "$name" "$REPORT_LAST_PID" "$(_proc_start "$REPORT_LAST_PID")" >>"$REPORT_PIDS_FILE"
    fi
}

# Start time of process PID (clock ticks since boot, /proc/PID/stat field 22):
# with the pid it identifies the process even after the pid is reused.
_proc_start() {
    local stat f
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
    stat="${stat##*) }"
    # fields from 3 (state) on; starttime is field 22
    read -r -a f <<<"$stat"
    printf '%s' "${f[19]:-}"
}

# service_alive PID: the process exists and is not a zombie (an orphan may stay
# a zombie when pid 1 does not reap, as in some containers).
service_alive() {
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

# Stop one pid: SIGTERM, wait up to REPORT_STOP_TIMEOUT (default 10) s, then SIGKILL.
_stop_pid() {
    local name="$1" pid="$2" i limit
    service_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    limit=$(( ${REPORT_STOP_TIMEOUT:-10} * 10 ))
    for ((i = 0; i < limit; i++)); do
        service_alive "$pid" || return 0
        sleep 0.1
    done
    log "warning: $name (pid $pid) did not stop after SIGTERM, killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# stop_services [PIDFILE]
# Without PIDFILE: stops what start_service started in this shell (newest
# first). With PIDFILE: stops the "NAME PID STARTTIME" entries of that file (newest
# first, skipping pids that now run another program) and removes the file.
stop_services() {
    local pidfile="${1:-}" i name pid start
    local names=() pids=() starts=()
    if [[ -n "$pidfile" ]]; then
        [[ -f "$pidfile" ]] || return 0
        while read -r name pid start; do
            [[ -n "$name" && "$pid" =~ ^[0-9]+$ ]] || continue
            names+=("$name")
            pids+=("$pid")
            starts+=("${start:-}")
        done <"$pidfile"
    else
        names=("${REPORT_SERVICE_NAMES[@]}")
        pids=("${REPORT_SERVICE_PIDS[@]}")
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        name="${names[i]}"
        pid="${pids[i]}"
        if [[ -n "$pidfile" ]]; then
            # skip a pid that now belongs to another process
            start="$(_proc_start "$pid")"
            [[ -n "$start" && "$start" == "${starts[i]}" ]] || continue
        fi
        _stop_pid "$name" "$pid"
        # reap our own children (no-op for pids from a file)
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n "$pidfile" ]]; then
        rm -f -- "$pidfile"
    else
        REPORT_SERVICE_NAMES=()
        REPORT_SERVICE_PIDS=()
    fi
}

# wait_for_tcp HOST PORT [SECONDS] [PID...]
# Waits until HOST:PORT accepts a TCP connection. Fails early if one of the
# PIDs exits.
wait_for_tcp() {
    local host="${1:?wait_for_tcp: HOST required}" port="${2:?wait_for_tcp: PORT required}"
    local secs="${3:-10}" i p
    shift $(( $# < 3 ? $# : 3 ))
    for ((i = 0; i < secs * 10; i++)); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            return 0
        fi
        for p in "$@"; do
            service_alive "$p" || return 1
        done
        sleep 0.1
    done
    return 1
}
