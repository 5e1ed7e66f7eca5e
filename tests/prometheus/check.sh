#!/usr/bin/env bash
# Validate the Prometheus configuration, alerting rules and rule unit tests
# with promtool, and optionally lint live /metrics endpoints.
#
# Usage: tests/prometheus/check.sh [URL...]
#   e.g. tests/prometheus/check.sh http://127.0.0.1:9570/metrics \
#          http://127.0.0.1:9571/metrics http://127.0.0.1:9572/metrics
#
# Prints one line per check ("ok" or "FAIL", details indented below a
# failure) and exits non-zero if any check failed.
# Environment: PROMTOOL (default: promtool), FETCH_TIMEOUT seconds (default 10).
# http:// URLs are fetched with bash's /dev/tcp (no curl needed); https://
# URLs need curl.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/../.." && pwd)
cd -- "$root"

promtool=${PROMTOOL:-promtool}
fetch_timeout=${FETCH_TIMEOUT:-10}
failures=0

if ! command -v "$promtool" >/dev/null 2>&1; then
    echo "FAIL promtool not found (install the prometheus package or set PROMTOOL)" >&2
    exit 2
fi

pass() { printf 'ok   %s\n' "$1"; }
fail() {
    printf 'FAIL %s\n' "$1"
    if [[ -n ${2:-} ]]; then
        printf '%s\n' "$2" | sed 's/^/     /'
    fi
    failures=$((failures + 1))
}

# run_check NAME CMD...: pass if CMD exits 0.
run_check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$name"
    else
        fail "$name" "$out"
    fi
}

# http_get URL: write the body of a plain HTTP/1.0 GET to stdout using bash's
# /dev/tcp; fails unless the status is 200.
http_get() {
    local url=$1 rest hostport host port path status line
    rest=${url#http://}
    hostport=${rest%%/*}
    if [[ $rest == */* ]]; then path=/${rest#*/}; else path=/; fi
    if [[ $hostport == \[*\]* ]]; then           # [IPv6]:port
        host=${hostport#\[}; host=${host%%\]*}
        port=${hostport##*\]}; port=${port#:}
    elif [[ $hostport == *:* ]]; then
        host=${hostport%:*}; port=${hostport##*:}
    else
        host=$hostport; port=
    fi
    port=${port:-80}
    [[ -n $host && $port =~ ^[0-9]+$ ]] || { echo "bad URL: $url" >&2; return 1; }

    { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null ||
        { echo "cannot connect to $host:$port" >&2; return 1; }
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\nAccept: text/plain\r\nConnection: close\r\n\r\n' \
        "$path" "$hostport" >&3
    IFS= read -r status <&3 || { echo "no response from $host:$port" >&2; exec 3<&-; return 1; }
    status=${status%$'\r'}
    if [[ ! $status =~ ^HTTP/[0-9.]+\ 200([[:space:]]|$) ]]; then
        echo "unexpected status: $status" >&2
        exec 3<&-
        return 1
    fi
    while IFS= read -r line <&3; do             # skip headers up to blank line
        line=${line%$'\r'}
        [[ -z $line ]] && break
    done
    cat <&3
    exec 3<&-
}

fetch() {
    case $1 in
        http://*)
            # Run in a child bash under timeout so a stuck server cannot hang us.
            local rc=0
            timeout "$fetch_timeout" bash -c "$(declare -f http_get); http_get \"\$1\"" _ "$1" || rc=$?
            if ((rc == 124)); then echo "timed out after ${fetch_timeout}s" >&2; fi
            return "$rc" ;;
        https://*)
            if ! command -v curl >/dev/null 2>&1; then
                echo "https needs curl, which is not installed" >&2
                return 1
            fi
            curl -fsS --max-time "$fetch_timeout" "$1" ;;
        *)
            echo "unsupported URL (want http:// or https://): $1" >&2
            return 1 ;;
    esac
}

run_check "promtool check config deploy/prometheus/prometheus.yml" \
    "$promtool" check config deploy/prometheus/prometheus.yml
run_check "promtool check rules deploy/prometheus/rules.yml" \
    "$promtool" check rules deploy/prometheus/rules.yml
run_check "promtool test rules tests/prometheus/rules_test.yml" \
    "$promtool" test rules tests/prometheus/rules_test.yml

tmp=$(mktemp)
trap 'rm -f -- "$tmp"' EXIT
for url in "$@"; do
    name="promtool check metrics $url"
    if ! err=$(fetch "$url" 2>&1 >"$tmp"); then
        fail "$name" "fetch failed: ${err:-no detail}"
        continue
    fi
    if [[ ! -s $tmp ]]; then
        fail "$name" "empty response"
        continue
    fi
    # check metrics prints lint problems and may still exit 0: any output fails.
    if out=$("$promtool" check metrics <"$tmp" 2>&1) && [[ -z $out ]]; then
        pass "$name"
    else
        fail "$name" "$out"
    fi
done

if ((failures > 0)); then
    printf '%d check(s) failed\n' "$failures"
    exit 1
fi
echo "all checks passed"
