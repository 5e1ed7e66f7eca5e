#!/usr/bin/env python3
"""The README's settings table against the programs' --help (issue 10: one source of truth).

Every row of the table under "## Settings" names a service (collector, store, aggregator, or
"every service") and one or more settings with their defaults ("`a` / `b`" and "1 / 2");
each must be a setting of that program with that default, and every setting a program lists
must be in the table. Prints each difference and exits 1 if there is one.

    tests/check_settings.py BIN_DIR [README]
"""
import re
import subprocess
import sys

PROGRAMS = {"collector": "report-collector", "store": "report-store",
            "aggregator": "report-aggregator"}
# what the table writes in words for a default --help prints literally
WORDS = {"current": "", "the three defaults": None, "10^12": "1000000000000", '""': ""}


def help_settings(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    found = {}
    for m in re.finditer(r'^\s+--([a-z0-9-]+)\s.*\(env [A-Z0-9_]+, default "(.*)"\)\s*$', text,
                         re.M):
        found[m.group(1)] = m.group(2)
    if not found:
        sys.exit(f"no settings in the --help of {binary}")
    return found


def table_rows(readme):
    text = open(readme, encoding="utf-8").read()
    start = text.index("## Settings")
    end = text.index("\n## ", start + 1)
    for line in text[start:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in ("service", "---"):
            continue
        yield cells[0], cells[1], cells[2]


def split(cell):
    return [p.strip().strip("`") for p in cell.split(" / ")]


def main():
    bin_dir = sys.argv[1]
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    helps = {svc: help_settings(f"{bin_dir}/{exe}") for svc, exe in PROGRAMS.items()}
    problems = []
    seen = {svc: set() for svc in PROGRAMS}
    for service, names_cell, defaults_cell in table_rows(readme):
        services = list(PROGRAMS) if service == "every service" else [service]
        names = split(names_cell)
        defaults = split(defaults_cell)
        for svc in services:
            if svc not in helps:
                problems.append(f"README: unknown service '{service}'")
                continue
            for i, name in enumerate(names):
                seen[svc].add(name)
                if name not in helps[svc]:
                    problems.append(f"README lists {svc} --{name}, which {PROGRAMS[svc]} does not have")
                    continue
                if len(defaults) != len(names):
                    continue  # one default in words for several settings, or one per service
                want = WORDS.get(defaults[i], defaults[i])
                if want is not None and want != helps[svc][name]:
                    problems.append(f"{svc} --{name}: README says {defaults[i]!r}, "
                                    f"--help says {helps[svc][name]!r}")
    for svc, found in helps.items():
        for name in sorted(set(found) - seen[svc]):
            problems.append(f"{PROGRAMS[svc]} --{name} (default {found[name]!r}) is not in the README")
    for p in problems:
        print(p)
    checked = sum(len(s) for s in seen.values())
    print(f"settings: {checked} checked against --help, {len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
