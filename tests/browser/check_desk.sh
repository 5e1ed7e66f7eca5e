#!/bin/bash
# Drives the unit's desk (reportctl desk) in headless Chromium through playwright-core (from
# the npm registry, installed on first use under var/desk-browser/, nothing vendored; the
# browser is Debian's /usr/bin/chromium): loads the page, writes an item with a figure picked
# from the catalogue, checks the live preview, presses Gửi twice, sends again, writes an item
# whose typed placeholder names no indicator and checks its refusal, and checks that a request
# without the token is refused 403. One line per check on stderr; on stdout one JSON object
# with what the page showed, for the caller to check against the database and the draft.
#
#   tests/browser/check_desk.sh URL          (the URL reportctl desk printed)
#
# Environment: CHROMIUM (default /usr/bin/chromium), DESK_SHOT (a screenshot path, optional),
# PLAYWRIGHT_VERSION (default 1: the latest 1.x).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 URL" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="$root/var/desk-browser"
mkdir -p "$cache"
if [ ! -d "$cache/node_modules/playwright-core" ]; then
    (cd "$cache" && npm install --no-save --no-audit --no-fund --silent \
        "playwright-core@${PLAYWRIGHT_VERSION:-1}") >&2
fi
export NODE_PATH="$cache/node_modules"
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
exec timeout -k 5 120 node "$here/check_desk.js" "$1"
