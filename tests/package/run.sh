#!/usr/bin/env bash
# The Debian package, built and installed without a container: `cmake --build BUILD --target
# package`, then dpkg into an empty root (its own dpkg database, maintainer scripts run
# outside it with DPKG_ROOT). Checks the installed files and conffiles, the user the postinst
# made, that the installed programs run (--help) and take their installed settings files, a
# program built against the installed libreport-client (header, .pc, .so) and run with it,
# `systemd-analyze verify` and `security` of the installed units; then removal and purge.
# Prints the package's size and file count; the last line is "package: ok ..." or the
# failures.
#
#   tests/package/run.sh [--build-dir DIR] [--no-build] [--keep]
#
#   --build-dir DIR  the build to package (default build/, configured and built if needed)
#   --no-build       only `--target package` on DIR as it is configured
#   --keep           leave the root directory (its path is printed)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

build_dir="$ROOT/build"
build=1
keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
    --build-dir) build_dir="$(cd "${2:?--build-dir needs a directory}" && pwd -P)"; shift ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    *) die "unknown option: $1" ;;
    esac
    shift
done

# systemd-analyze; dpkg-shlibdeps (dpkg-dev) and file for CPack's Depends; useradd (passwd)
ensure_packages systemd dpkg-dev file passwd

fails=0
fail() {
    log "FAIL: $*"
    fails=$((fails + 1))
}

ROOTDIR="$(mktemp -d /tmp/report-pkg-root.XXXXXX)"
WORK="$(mktemp -d /tmp/report-pkg-work.XXXXXX)"
cleanup() {
    rm -rf -- "$WORK"
    if [[ $keep -eq 0 ]]; then
        rm -rf -- "$ROOTDIR"
    else
        log "root kept: $ROOTDIR"
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- build
if [[ $build -eq 1 ]]; then
    build_project "$build_dir" -DCMAKE_BUILD_TYPE="${REPORT_BUILD_TYPE:-Debug}" >&2
fi
cmake --build "$build_dir" --target package -j "${REPORT_BUILD_JOBS:-2}" >"$WORK/cpack.log" 2>&1 || {
    tail -n 30 "$WORK/cpack.log" >&2
    die "cmake --build $build_dir --target package failed"
}
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build_dir/CMakeCache.txt")"
deb="$build_dir/report-pipeline_${version}_amd64.deb"
[[ -f "$deb" ]] || die "no $deb after the package target"
echo "package: $deb"
dpkg-deb -f "$deb" Package Version Depends Recommends

depends="$(dpkg-deb -f "$deb" Depends)"
[[ -z "$(dpkg-deb -f "$deb" Recommends)" ]] || fail "Recommends is not empty"
[[ "$depends" == *libzmq5* && "$depends" == *libpq5* && "$depends" == *adduser* ]] ||
    fail "Depends lacks the computed libraries or adduser: $depends"

# ---------------------------------------------------------------- an empty root with dpkg
mkdir -p "$ROOTDIR/var/lib/dpkg/info" "$ROOTDIR/var/lib/dpkg/updates" \
    "$ROOTDIR/var/lib/dpkg/triggers" "$ROOTDIR/etc" "$ROOTDIR/var/log"
touch "$ROOTDIR/var/lib/dpkg/status" "$ROOTDIR/var/lib/dpkg/available"
# the account files every Debian system has, which the postinst adds to
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$ROOTDIR/etc/passwd"
printf 'root:x:0:\n' >"$ROOTDIR/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$ROOTDIR/etc/shadow"
printf 'root:*::\n' >"$ROOTDIR/etc/gshadow"
chmod 0640 "$ROOTDIR/etc/shadow" "$ROOTDIR/etc/gshadow"

# --force-depends: the root holds none of the Depends (the host's libraries serve);
# --force-script-chrootless: no shell inside the root, the scripts honour DPKG_ROOT
dpkg_root() {
    dpkg --root="$ROOTDIR" --force-depends --force-script-chrootless --log="$WORK/dpkg.log" "$@"
}
query() {
    dpkg-query --admindir="$ROOTDIR/var/lib/dpkg" "$@"
}

if ! dpkg_root -i "$deb" >"$WORK/install.log" 2>&1; then
    cat "$WORK/install.log" >&2
    die "dpkg -i into $ROOTDIR failed"
fi
# shellcheck disable=SC2016  # ${Status} is a dpkg-query field
status="$(query -W -f='${Status}' report-pipeline)"
[[ "$status" == "install ok installed" ]] || fail "status after install: $status"

# ---------------------------------------------------------------- files and conffiles
expected_files="/etc/report/aggregator.conf
/etc/report/collector.conf
/etc/report/store.conf
/lib/systemd/system/report-aggregator.service
/lib/systemd/system/report-backup-full.service
/lib/systemd/system/report-backup-full.timer
/lib/systemd/system/report-backup-incr.service
/lib/systemd/system/report-backup-incr.timer
/lib/systemd/system/report-collector.service
/lib/systemd/system/report-store.service
/usr/bin/report-aggregator
/usr/bin/report-collector
/usr/bin/report-store
/usr/bin/reportctl
/usr/include/report-client/report_client.h
/usr/lib/libreport-client.so
/usr/lib/libreport-client.so.1
/usr/lib/libreport-client.so.1.1.0
/usr/lib/pkgconfig/report-client.pc
/usr/share/doc/report-pipeline/README.md
/usr/share/report-pipeline/deploy/backup/backup.sh
/usr/share/report-pipeline/deploy/lib/common.sh"
files="$(query -L report-pipeline | while read -r f; do
    [[ -d "$ROOTDIR$f" && ! -L "$ROOTDIR$f" ]] || printf '%s\n' "$f"
done | sort)"
if [[ "$files" != "$expected_files" ]]; then
    fail "installed files differ from the expected list:"
    diff <(printf '%s\n' "$expected_files") <(printf '%s\n' "$files") >&2 || true
fi
for f in $files; do
    [[ -e "$ROOTDIR$f" ]] || fail "listed but not installed: $f"
done
[[ -d "$ROOTDIR/etc/report/keys" ]] || fail "no /etc/report/keys"

# shellcheck disable=SC2016  # ${Conffiles} likewise
conffiles="$(query -W -f='${Conffiles}\n' report-pipeline | awk 'NF { print $1 }' | sort)"
[[ "$conffiles" == "$(printf '%s\n' /etc/report/aggregator.conf /etc/report/collector.conf /etc/report/store.conf)" ]] ||
    fail "conffiles: $conffiles"

# ---------------------------------------------------------------- the postinst
grep -q '^report:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$ROOTDIR/etc/passwd" ||
    fail "postinst made no user report: $(cat "$ROOTDIR/etc/passwd")"
report_gid="$(awk -F: '$1 == "report" { print $3 }' "$ROOTDIR/etc/group")"
[[ -n "$report_gid" ]] || fail "postinst made no group report"
keys_mode="$(stat -c '%a %u %g' "$ROOTDIR/etc/report/keys")"
[[ "$keys_mode" == "750 0 $report_gid" ]] || fail "/etc/report/keys is '$keys_mode', not 750 root:report"
for exe in /proc/[0-9]*/exe; do
    if [[ "$(readlink "$exe" 2>/dev/null || true)" == "$ROOTDIR"/* ]]; then
        fail "the install started a program: $exe -> $(readlink "$exe")"
    fi
done

# ---------------------------------------------------------------- the installed programs
export LD_LIBRARY_PATH="$ROOTDIR/usr/lib"
for prog in report-collector report-store report-aggregator reportctl; do
    if ! "$ROOTDIR/usr/bin/$prog" --help >"$WORK/$prog.help" 2>&1; then
        fail "$prog --help exited non-zero: $(head -n 3 "$WORK/$prog.help")"
    fi
done
for svc in collector store aggregator; do
    grep -q -- "--config .*default \"/etc/report/$svc.conf\"" "$WORK/report-$svc.help" ||
        fail "report-$svc --help does not name /etc/report/$svc.conf"
    # the installed settings file is read before the log level is checked: a file the
    # service refuses says "config ..." or "setting ...", an accepted one leaves only the
    # bad level
    "$ROOTDIR/usr/bin/report-$svc" --config "$ROOTDIR/etc/report/$svc.conf" \
        --log-level=package-test >"$WORK/$svc.check" 2>&1 || true
    if ! grep -q "^unknown log level 'package-test'" "$WORK/$svc.check" ||
        grep -q -E '^(config|setting) ' "$WORK/$svc.check"; then
        fail "report-$svc refuses its installed /etc/report/$svc.conf: $(head -n 3 "$WORK/$svc.check")"
    fi
done

# a program of a unit, built against the installed header and .pc and run with the installed
# library (a push of bad JSON fails before anything is sent: no collector needed)
cat >"$WORK/client.c" <<'C'
#include <report_client.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    report_client_t *client = report_client_new("tcp://127.0.0.1:1");
    report_push_t *push = report_client_push_json(client, "{", 1);
    printf("libreport-client %s: %s %s\n", report_client_version(),
           report_push_status(push) == REPORT_PUSH_FAILED ? "refused" : "accepted",
           report_push_error(push));
    int rc = report_push_status(push) == REPORT_PUSH_FAILED ? 0 : 1;
    report_push_destroy(&push);
    report_client_destroy(&client);
    return rc;
}
C
# the root's .pc first; its Requires.private (libzmq, ...) are the host's
pc_flags="$(PKG_CONFIG_PATH="$ROOTDIR/usr/lib/pkgconfig" pkg-config --cflags --libs report-client)" ||
    fail "pkg-config does not find the installed report-client.pc"
# shellcheck disable=SC2086  # pkg-config's flags are words
if cc "$WORK/client.c" $pc_flags -o "$WORK/client" 2>"$WORK/cc.log"; then
    if ! out="$("$WORK/client" 2>&1)"; then
        fail "the client built against the installed library: $out"
    fi
    echo "$out"
    libs="$(ldd "$WORK/client")" # whole, before grep: grep -q closing the pipe is no failure
    [[ "$libs" == *"libreport-client.so.1 => $ROOTDIR/usr/lib/libreport-client.so.1 "* ]] ||
        fail "the client did not load the installed library: $(grep report <<<"$libs")"
else
    fail "a client does not build with the installed .pc ($pc_flags): $(head -n 5 "$WORK/cc.log")"
fi
unset LD_LIBRARY_PATH

# ---------------------------------------------------------------- the installed units
# verify resolves the units' dependencies (network-online.target, multi-user.target, ...)
# in the root: systemd's own units, as a host has them, are copied in beside ours, after the
# file list was checked
cp -n /lib/systemd/system/*.target "$ROOTDIR/lib/systemd/system/"
units=(report-collector.service report-store.service report-aggregator.service)
if ! out="$(systemd-analyze --root="$ROOTDIR" verify "${units[@]/#/$ROOTDIR/lib/systemd/system/}" 2>&1)" ||
    [[ -n "$out" ]]; then
    fail "systemd-analyze verify: $out"
fi
for unit in "${units[@]}"; do
    # exposure out of 10 (lower is better); over 2.0 fails
    if ! out="$(systemd-analyze security --offline=yes --root="$ROOTDIR" --threshold=20 "$unit" 2>&1)"; then
        fail "systemd-analyze security $unit: $(grep -i 'overall' <<<"$out")"
    fi
    grep -i 'overall exposure' <<<"$out" | sed 's/^→ *//'
done

# ---------------------------------------------------------------- size, then remove and purge
size="$(stat -c %s "$deb")"
installed_kb="$(dpkg-deb -f "$deb" Installed-Size)"
nfiles="$(printf '%s\n' "$files" | wc -l)"
echo "size: ${size} bytes (.deb), ${installed_kb} KiB installed, ${nfiles} files"

dpkg_root -r report-pipeline >"$WORK/remove.log" 2>&1 || fail "dpkg -r: $(tail -n 3 "$WORK/remove.log")"
[[ ! -e "$ROOTDIR/usr/bin/report-collector" ]] || fail "binaries left after dpkg -r"
[[ -f "$ROOTDIR/etc/report/collector.conf" ]] || fail "a conffile removed by dpkg -r (only purge may)"
dpkg_root --purge report-pipeline >"$WORK/purge.log" 2>&1 || fail "dpkg --purge: $(tail -n 3 "$WORK/purge.log")"
[[ ! -e "$ROOTDIR/etc/report/collector.conf" ]] || fail "a conffile left after purge"
grep -q '^report:' "$ROOTDIR/etc/passwd" || fail "purge removed the user report (keys may still be its)"

if [[ $fails -eq 0 ]]; then
    echo "package: ok size_bytes=$size installed_kib=$installed_kb files=$nfiles"
else
    echo "package: $fails failure(s)"
    exit 1
fi
