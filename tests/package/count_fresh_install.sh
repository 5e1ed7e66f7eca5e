#!/usr/bin/env bash
# What ensure_packages would install on a fresh Debian 12, counted with `apt-get install -s`
# against this machine's package lists and a dpkg status cut to the required and essential
# packages and their dependencies (what debootstrap's minbase holds): the base packages
# (REPORT_BASE_PACKAGES) and those with the suite's extras, without and with recommends.
# Changes nothing on the machine.
#
#   tests/package/count_fresh_install.sh [EXTRA_PACKAGE...]   (default extras: prometheus chromium)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

extras=("$@")
[[ ${#extras[@]} -gt 0 ]] || extras=(prometheus chromium)
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT

python3 - "$work/status" <<'PY'
import re, sys
blocks = open('/var/lib/dpkg/status', encoding='utf-8').read().strip().split('\n\n')
installed, provides = {}, {}
for b in blocks:
    if not re.search(r'^Status: install ok installed$', b, re.M):
        continue
    name = re.search(r'^Package: (\S+)$', b, re.M).group(1)
    installed[name] = b
    m = re.search(r'^Provides: (.*)$', b, re.M)
    for p in (m.group(1).split(',') if m else []):
        provides.setdefault(p.strip().split()[0], name)

def depends(b):
    for field in ('Depends', 'Pre-Depends'):
        m = re.search(r'^%s: (.*)$' % field, b, re.M)
        for alternatives in (m.group(1).split(',') if m else []):
            for a in alternatives.split('|'):
                n = a.strip().split()[0].split(':')[0]
                if n in installed or n in provides:
                    yield n if n in installed else provides[n]
                    break

todo = [n for n, b in installed.items()
        if re.search(r'^(Priority: required|Essential: yes)$', b, re.M)]
base = set()
while todo:
    n = todo.pop()
    if n not in base:
        base.add(n)
        todo.extend(depends(installed[n]))
open(sys.argv[1], 'w', encoding='utf-8').write('\n\n'.join(installed[n] for n in sorted(base)) + '\n')
print(f'fresh machine: {len(base)} packages (required, essential and their dependencies)')
PY

count() {
    apt-get install -s -o Dir::State::status="$work/status" "$@" 2>/dev/null | grep -c '^Inst ' || true
}
for set in base extras; do
    pkgs=("${REPORT_BASE_PACKAGES[@]}")
    [[ $set == base ]] || pkgs+=("${extras[@]}")
    printf '%-6s --no-install-recommends: %s packages, with recommends: %s\n' "$set" \
        "$(count --no-install-recommends "${pkgs[@]}")" "$(count --install-recommends "${pkgs[@]}")"
done
