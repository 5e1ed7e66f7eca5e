#!/usr/bin/env bash
# The peer of tests/bench/run.sh: a private RabbitMQ (Debian's rabbitmq-server) started for the
# run as user rabbitmq (when root) with its data, logs, node name and ports under
# var/bench-run/rabbitmq, loopback only; then build/bin/bench_rabbitmq (C publishers, durable
# queue, persistent messages, publisher confirms) against a classic queue, then a quorum
# queue; then RabbitMQ and its epmd are stopped. Last line:
#   peer: rabbitmq_classic_per_s=N rabbitmq_quorum_per_s=N
#
#   tests/bench/rabbitmq.sh [--bin PATH] [--clients N] [--window N] [--seconds N]
#                           [--mean-bytes N]   (messages uniform in MEAN-850 .. MEAN+850 bytes)
#
# Ports (REPORT_BENCH_RABBIT_PORT_BASE, default 26200): AMQP +0, distribution +1, epmd +2,
# rabbitmqctl +3..+13.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

bin="$ROOT/build/bin/bench_rabbitmq"
clients=16 window=64 seconds=60 mean_bytes=1150
while [[ $# -gt 0 ]]; do
    case "$1" in
    --bin) bin="${2:?}"; shift ;;
    --clients) clients="${2:?}"; shift ;;
    --window) window="${2:?}"; shift ;;
    --seconds) seconds="${2:?}"; shift ;;
    --mean-bytes) mean_bytes="${2:?}"; shift ;;
    *) sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
    shift
done
[[ "$mean_bytes" =~ ^[0-9]+$ && $mean_bytes -gt 900 ]] || die "--mean-bytes must be > 900"
ensure_packages rabbitmq-server librabbitmq-dev
[[ -x "$bin" ]] || die "$bin not built (CMake did not find librabbitmq when it ran?)"

base="${REPORT_BENCH_RABBIT_PORT_BASE:-26200}"
DIR="${REPORT_BENCH_VAR:-$ROOT/var/bench-run}/rabbitmq"
RBIN=/usr/lib/rabbitmq/bin
for p in "$base" $((base + 1)) $((base + 2)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        die "port $p is in use (REPORT_BENCH_RABBIT_PORT_BASE picks others)"
    fi
done

rm -rf -- "$DIR"
mkdir -p "$DIR/mnesia" "$DIR/log"
echo '[].' >"$DIR/enabled_plugins"
cat >"$DIR/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$base
loopback_users.guest = true
CONF
as_rabbit=()
if [[ $EUID -eq 0 ]]; then
    chown -R rabbitmq: "$DIR"
    as_rabbit=(runuser -u rabbitmq --)
fi
renv=(env HOME="$DIR" RABBITMQ_NODENAME="bench@localhost" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$base" RABBITMQ_DIST_PORT=$((base + 1)) ERL_EPMD_PORT=$((base + 2))
    ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_CTL_DIST_PORT_MIN=$((base + 3))
    RABBITMQ_CTL_DIST_PORT_MAX=$((base + 13)) RABBITMQ_MNESIA_BASE="$DIR/mnesia"
    RABBITMQ_LOG_BASE="$DIR/log" RABBITMQ_CONFIG_FILE="$DIR/rabbitmq"
    RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" RABBITMQ_PID_FILE="$DIR/pid")
cd "$DIR" # the node and rabbitmqctl run from here (readable by user rabbitmq)
rctl() { # rctl SECONDS ARGS...: rabbitmqctl of this node, bounded in time
    local secs="$1"
    shift
    timeout "$secs" "${as_rabbit[@]}" "${renv[@]}" "$RBIN/rabbitmqctl" "$@"
}

stopped=0
stop_rabbit() {
    [[ $stopped -eq 1 ]] && return 0
    stopped=1
    rctl 60 stop >/dev/null 2>&1 || true
    # shellcheck disable=SC2119  # stops what this shell started
    stop_services # the server's wrapper, if still there
    # epmd was started by the node for its port; it stays after the node stops
    timeout 10 "${as_rabbit[@]}" env ERL_EPMD_PORT=$((base + 2)) epmd -kill >/dev/null 2>&1 || true
}
trap stop_rabbit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "starting RabbitMQ $(dpkg-query -W -f='${Version}' rabbitmq-server) on 127.0.0.1:$base (${DIR#"$ROOT"/})" >&2
start_service rabbitmq "$DIR/log/console.log" "${as_rabbit[@]}" "${renv[@]}" "$RBIN/rabbitmq-server"
rabbit_pid=$REPORT_LAST_PID
ok=0
for ((i = 0; i < 120; i++)); do
    service_alive "$rabbit_pid" || break
    if rctl 10 await_startup --timeout 5 >/dev/null 2>&1; then
        ok=1
        break
    fi
    sleep 1
done
[[ $ok -eq 1 ]] || { tail -n 30 "$DIR/log/console.log" >&2 || true; die "RabbitMQ did not start within 2 minutes"; }

run_type() {
    local type="$1" out
    out="$("$bin" --port "$base" --queue "bench_$type" --type "$type" --clients "$clients" \
        --window "$window" --seconds "$seconds" --min-bytes $((mean_bytes - 850)) \
        --max-bytes $((mean_bytes + 850)))" || { printf '%s\n' "$out"; die "bench_rabbitmq ($type) failed"; }
    printf '%s\n' "$out" >&2
    sed -n -E 's/.* confirmed_per_s=([0-9]+).*/\1/p' <<<"$out"
}
echo "classic durable queue, persistent messages, publisher confirms: $clients publishers x window $window, $seconds s" >&2
classic="$(run_type classic)"
echo "quorum queue, publisher confirms: $clients publishers x window $window, $seconds s" >&2
quorum="$(run_type quorum)"
stop_rabbit
echo "peer: rabbitmq_classic_per_s=$classic rabbitmq_quorum_per_s=$quorum"
