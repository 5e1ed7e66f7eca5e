#!/usr/bin/env bash
# Ops endpoint benchmark: /healthz latency (p50, p99, max) with no other client, then while
# SLOW clients hold connections from the prober's own address, then from another loopback
# address (127.0.0.2). build/bin/bench_http runs the endpoint in-process with the services'
# default limits. Prints one line of figures per run; no assertions. Not part of the suite.
#
#   deploy/bench_http.sh [SLOW [PROBES]]     default 200 slow clients, 200 probes
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

slow="${1:-200}"
probes="${2:-200}"
[[ "$slow" =~ ^[0-9]+$ && "$probes" =~ ^[0-9]+$ ]] || die "SLOW and PROBES must be numbers"

# shellcheck disable=SC2119  # no extra packages
ensure_packages
build_project "$ROOT/build" >/dev/null
echo "machine: $(nproc) cores; $probes probes of GET /healthz, 20 ms apart, 5 s timeout each"
"$ROOT/build/bin/bench_http" 0 "$probes"
"$ROOT/build/bin/bench_http" "$slow" "$probes" 127.0.0.1
"$ROOT/build/bin/bench_http" "$slow" "$probes" 127.0.0.2
