#!/bin/bash
# Loads the ops status page in headless Chromium and checks it:
#   - the page ran: it finished at least one refresh (body data-refreshes >= 1);
#   - every service has a card marked UP, with its queue (name, depth / limit);
#   - the page caught no error of its own (no element of class page-error);
#   - the extra strings of EXPECT_TEXT appear;
#   - the screenshot was written (a PNG);
#   - the browser logged no console errors, and no request got a 4xx/5xx answer.
# One line per check; exits non-zero when any check fails (the DOM and the browser log are
# then kept next to the screenshot, as SCREENSHOT.dom.html and SCREENSHOT.chromium.log).
#
#   tests/browser/check_status_page.sh URL SCREENSHOT_PATH
#   e.g. tests/browser/check_status_page.sh http://127.0.0.1:9570/status /tmp/status.png
#
# Environment (all optional):
#   EXPECT_TEXT          extra strings that must appear in the page, separated by '|'
#                        (e.g. EXPECT_TEXT='Văn phòng Sở|SKHCN')
#   EXPECT_SERVICES      services that must be shown UP (default: collector store aggregator)
#   ALLOW_CONSOLE_LOG=1  fail only on console lines that look like errors, not on any console line
#   CHROMIUM             browser (default /usr/bin/chromium)
#   VIRTUAL_TIME_BUDGET  page time in ms before the DOM is taken (default 8000: two refreshes)
#   CHROMIUM_TIMEOUT     real seconds allowed to the browser (default 60)
#
# How console errors are seen: with --enable-logging=stderr --v=0 Chromium copies every
# console message of the page to stderr as
#   [pid:tid:MMDD/HHMMSS.us:INFO:CONSOLE:LINE] "MESSAGE", source: URL (LINE)
# (older builds: "INFO:CONSOLE(LINE)]"). For web pages the level is always INFO:
# console.error("x") prints exactly like console.log("x"); an uncaught exception prints
# "Uncaught TypeError: ..."; a fetch refused by CORS prints "Access to fetch at ... has been
# blocked by CORS policy: ...". A fetch that fails at the network (connection refused) or
# gets a 404 prints nothing. The page itself never writes to the console, so by default ANY
# console line fails the check; lines that look like errors are reported as such. What
# DevTools shows as "Failed to load resource" (a 4xx/5xx answer) is taken from Chromium's
# net log (--log-net-log) instead.
#
# Note: with --virtual-time-budget a request that never gets an answer (a peer that accepts
# and then hangs) stops virtual time, so Chromium never finishes: that ends in the
# CHROMIUM_TIMEOUT failure, not in a page showing DOWN (a closed port shows DOWN at once).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 URL SCREENSHOT_PATH" >&2
    exit 2
fi
url=$1
shot=$2
chromium=${CHROMIUM:-/usr/bin/chromium}
budget=${VIRTUAL_TIME_BUDGET:-8000}
limit=${CHROMIUM_TIMEOUT:-60}
services=${EXPECT_SERVICES:-collector store aggregator}

failed=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; failed=$((failed + 1)); }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$shot")"
rm -f "$shot"

# --no-sandbox: needed as root, and in most containers anyway.
# shellcheck disable=SC2054  # the comma belongs to --window-size
args=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
      --disable-background-networking --disable-component-update --disable-sync
      --disable-default-apps --disable-extensions --mute-audio --hide-scrollbars
      --user-data-dir="$work/profile" --log-net-log="$work/netlog.json"
      --enable-logging=stderr --v=0
      --virtual-time-budget="$budget"
      --window-size=1280,1600 --screenshot="$shot" --dump-dom)
rc=0
timeout -k 5 "$limit" "$chromium" "${args[@]}" "$url" >"$work/dom.html" 2>"$work/chromium.log" || rc=$?
if [ "$rc" -eq 0 ]; then
    ok "chromium loaded $url"
elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    bad "chromium did not finish within ${limit}s (a peer that accepts but never answers stops virtual time)"
else
    bad "chromium exited with status $rc"
fi

# The DOM on one line, without the page's script and style (their source would match the
# texts looked for), so that a card can be cut out with one regular expression.
perl -0777 -pe 's{<(script|style)\b.*?</\1\s*>}{}gis; tr/\r\n/  /' "$work/dom.html" >"$work/flat.html"
cards=$(grep -oP '<section[^>]*data-service="\K[^"]*"[^>]*data-state="[^"]*' "$work/flat.html" |
        sed -E 's/".*data-state="/ /' | paste -sd, - | sed 's/,/, /g' || true)

refreshes=$(grep -oP '<body[^>]*data-refreshes="\K[0-9]+' "$work/flat.html" || true)
if [ -n "$refreshes" ] && [ "$refreshes" -ge 1 ]; then
    ok "page script ran: $refreshes refreshes"
else
    bad "page script did not complete a refresh (data-refreshes=${refreshes:-missing})"
fi

for svc in $services; do
    card=$(grep -oP "<section[^>]*data-service=\"$svc\"[^>]*>.*?</section>" "$work/flat.html" | head -n 1 || true)
    if [ -z "$card" ]; then
        bad "$svc: no card in the page (cards: ${cards:-none})"
        continue
    fi
    tag=${card%%>*}
    if [[ $tag == *'data-state="up"'* ]] && [[ $card == *'>UP<'* ]]; then
        ok "$svc: UP"
    else
        why=$(grep -oP 'class="fetch-error">\K[^<]*' <<<"$card" | head -n 1 || true)
        bad "$svc: not UP${why:+ ($why)}"
    fi
    depth=$(grep -oP 'class="queue" data-depth="\K[0-9][0-9.eE+-]*' <<<"$card" | head -n 1 || true)
    qlimit=$(grep -oP 'class="queue" data-depth="[^"]*" data-limit="\K[0-9][0-9.eE+-]*' <<<"$card" | head -n 1 || true)
    qname=$(grep -oP 'class="qline"><span>\K[^<]*' <<<"$card" | head -n 1 || true)
    if [ -n "$depth" ] && [ -n "$qlimit" ] && [ -n "$qname" ]; then
        ok "$svc: queue \"$qname\" $depth / $qlimit"
    else
        bad "$svc: no queue shown"
    fi
done

page_errors=$(grep -oP 'class="page-error">\K[^<]*' "$work/flat.html" || true)
if [ -z "$page_errors" ]; then
    ok "no error caught by the page"
else
    while IFS= read -r line; do bad "page shows an error: $line"; done <<<"$page_errors"
fi

if [ -n "${EXPECT_TEXT:-}" ]; then
    IFS='|' read -r -a expected <<<"$EXPECT_TEXT"
    for text in "${expected[@]}"; do
        [ -n "$text" ] || continue
        html=${text//&/&amp;}
        html=${html//</&lt;}
        html=${html//>/&gt;}
        if grep -qF -- "$text" "$work/flat.html" || grep -qF -- "$html" "$work/flat.html"; then
            ok "page shows \"$text\""
        else
            bad "page does not show \"$text\""
        fi
    done
fi

if [ -s "$shot" ] && [ "$(head -c 4 "$shot" | tail -c 3)" = PNG ]; then
    ok "screenshot $shot ($(stat -c %s "$shot") bytes)"
else
    bad "no screenshot written to $shot"
fi

# Console: every console line of the page, then the ones that look like errors.
console=$(grep -E ':CONSOLE[:(][0-9]*\)?\]' "$work/chromium.log" || true)
errors=$({ grep -Ei 'error|uncaught|failed to load resource|blocked by CORS policy|refused to' <<<"$console" || true
          grep -E 'Uncaught|Failed to load resource' "$work/chromium.log" || true; } | sort -u)
if [ -n "$errors" ]; then
    while IFS= read -r line; do bad "console error: ${line#*] }"; done <<<"$errors"
elif [ -n "$console" ] && [ "${ALLOW_CONSOLE_LOG:-0}" != 1 ]; then
    while IFS= read -r line; do
        bad "console output (the page never logs; console.error looks like this): ${line#*] }"
    done <<<"$console"
else
    ok "no console errors$([ -n "$console" ] && echo " ($(wc -l <<<"$console") console lines allowed)")"
fi

# Failed loads: Chromium does not copy "Failed to load resource" (a 404 of a fetch, an image
# or /favicon.ico) to stderr, so the responses are read from its net log instead.
if [ ! -s "$work/netlog.json" ]; then
    bad "no net log written by chromium"
else
    if command -v python3 >/dev/null; then
        http_errors=$(python3 - "$work/netlog.json" <<'PY'
import json, re, sys
urls, errors = {}, []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.strip().rstrip(",")
    if '"source"' not in line:
        continue
    try:
        event = json.loads(line)
    except ValueError:
        continue
    params, source = event.get("params") or {}, (event.get("source") or {}).get("id")
    if isinstance(params.get("url"), str):
        urls.setdefault(source, params["url"])
    headers = params.get("headers")
    if isinstance(headers, list) and headers and isinstance(headers[0], str):
        if re.match(r"HTTP/\S+ [45]\d\d", headers[0]):
            errors.append((headers[0], source))
for status, source in errors:
    print(status, urls.get(source, "(url unknown)"))
PY
        ) || http_errors="cannot read the net log"
    else
        http_errors=$(grep -oE '"HTTP/[0-9.]+ [45][0-9][0-9][^"]*"' "$work/netlog.json" || true)
    fi
    if [ -z "$http_errors" ]; then
        ok "no HTTP error responses (4xx/5xx)"
    else
        while IFS= read -r line; do bad "HTTP error response: $line"; done <<<"$http_errors"
    fi
fi

if [ "$failed" -ne 0 ]; then
    cp "$work/dom.html" "$shot.dom.html" 2>/dev/null || true
    cp "$work/chromium.log" "$shot.chromium.log" 2>/dev/null || true
    echo "FAIL: $failed check(s) failed; DOM and browser log kept in $shot.dom.html, $shot.chromium.log"
    exit 1
fi
echo "PASS: status page at $url"
