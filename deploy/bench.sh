#!/usr/bin/env bash
# Ingest benchmark: a private PostgreSQL (var/bench-pg, port 55434), then build/bin/bench_ingest
# (collector and stores in-process, CURVE on, pipelined clients) in two configurations: group
# commit (batch-max 500, the default) and single-row commits (batch-max 1) for contrast.
# Prints one line of figures per run. Not part of the test suite. The benchmark of the real
# services as processes (many units, realistic updates, COPY limit, RabbitMQ) is tests/bench/run.sh.
#
#   deploy/bench.sh [UPDATES]      default 100000 (single-row run: a fifth of it)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

updates="${1:-100000}"
[[ "$updates" =~ ^[0-9]+$ ]] || die "UPDATES must be a number"
pgdata="$ROOT/var/bench-pg"
port="${REPORT_BENCH_PGPORT:-55434}"

# shellcheck disable=SC2119  # no extra packages
ensure_packages
build_project "$ROOT/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
trap 'pg_stop "$pgdata" || true' EXIT
pg_wipe "$pgdata"
pg_start "$pgdata" "$port" >/dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);" \
    "PostgreSQL $(psql -X -A -t -c 'SHOW server_version'), fsync and synchronous_commit on"

run() {
    local name="$1"
    shift
    psql -X -q -c "CREATE DATABASE $name" >/dev/null
    "$ROOT/build/bin/bench_ingest" --db "$(pg_conninfo "$pgdata" "$port" "$name")" "$@"
}
echo "== group commit (batch-max 500)"
run bench_group --updates "$updates" --clients 4 --window 500 --batch-max 500
echo "== two stores"
run bench_two --updates "$updates" --clients 4 --window 500 --batch-max 500 --stores 2
echo "== single-row commits (batch-max 1), for contrast"
run bench_single --updates "$((updates / 5))" --clients 4 --window 500 --batch-max 1 \
    --batch-wait-ms 0
