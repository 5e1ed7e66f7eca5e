#!/usr/bin/env bash
# Restore drill: a backup counts only once it has been restored. On a private PostgreSQL with
# WAL archiving to an encrypted pgBackRest repository (deploy/backup/backup.sh setup), the
# real services (report-store, report-collector, report-aggregator) take the sample months
# January-June 2018 and publish June; a full backup is taken; July is pushed and published
# twice (versions 1 and 2), so that what is published after the backup exists only in the
# archived WAL. At time T the operator's mistake follows: every published version, update and
# indicator value deleted, committed. The repository is then restored to T on a fresh data
# directory (a second server), and the drill checks on it that
#   - every version published before T is there, with the same SHA-256;
#   - compiling each published period again, with the parameters of its publication
#     (agency, period, number, date, basis), through an aggregator on the restored database,
#     gives the SHA-256 of the published version (the published text is report_render_text
#     of the compiled draft, hashed: services/aggregator/report_aggregator.c);
#   - the deleted rows are back: same count and same content digest per table.
# The units are checked first: systemd-analyze verify on deploy/systemd/report-backup-*.
#
#   tests/backup/drill.sh [--tamper rows|text]
#
#   --tamper KIND  the drill's self-test: spoil the restored database before the checks (rows:
#                  delete one indicator value; text: change the text of one current item of
#                  July), which must make the drill fail
#
# Layout: var/backup-drill/ (live server pg/, port REPORT_DRILL_PGPORT, default 55630;
# restored server restored/, port REPORT_DRILL_RESTORE_PGPORT, default 55631; repository
# backup/; keys, logs). Services on REPORT_DRILL_PORT_BASE (26630) to +7, loopback only.
# Binaries: REPORT_BIN_DIR (default build/bin; built when absent).
#
# Last line: "backup-drill: backup_s=X restore_s=Y versions=N identical=N rows_before=A
# rows_after=A recovery_target=T"; exit status 1 when a unit file does not verify, a version
# is missing or differs, a compile gives another SHA-256, or rows are missing or differ.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../deploy/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib/common.sh"

usage() {
    sed -n '2,31s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}
TAMPER=""
case "${1:-}" in
"") ;;
--tamper) [[ $# -eq 2 && ( "$2" == rows || "$2" == text ) ]] || usage; TAMPER="$2" ;;
*) usage ;;
esac

VAR="$ROOT/var/backup-drill"
LIVE="$VAR/pg"
LIVE_PORT="${REPORT_DRILL_PGPORT:-55630}"
RESTORED="$VAR/restored"
RESTORED_PORT="${REPORT_DRILL_RESTORE_PGPORT:-55631}"
BIN="${REPORT_BIN_DIR:-$ROOT/build/bin}"
KEYS="$VAR/keys"
LOGS="$VAR/logs"
P="${REPORT_DRILL_PORT_BASE:-26630}"
COLLECTOR_EP="tcp://127.0.0.1:$P"
STORE_EP="tcp://127.0.0.1:$((P + 1))"
CONTROL_EP="tcp://127.0.0.1:$((P + 4))"
BACKUP="$ROOT/deploy/backup/backup.sh"
BASIS="Công văn số 2026/UBND-TH ngày 04 tháng 7 năm 2018 của Ủy ban nhân dân tỉnh về việc đổi mới, nâng cao chất lượng các báo cáo kinh tế - xã hội"
export REPORT_BACKUP_PGDATA="$LIVE" REPORT_BACKUP_PGPORT="$LIVE_PORT" REPORT_BACKUP_DIR="$VAR/backup"

cleanup() {
    # shellcheck disable=SC2119 # the services this shell started
    stop_services
    pg_stop "$RESTORED" >/dev/null 2>&1 || true
    pg_stop "$LIVE" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
    local f
    log "backup-drill: FAILED: $*"
    for f in "$LOGS"/*.log; do
        [[ -f "$f" ]] || continue
        log "---- last lines of ${f#"$ROOT"/}"
        tail -n 15 "$f" >&2 || true
    done
    exit 1
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# q DATADIR PORT SQL: one value (or rows, '|'-separated) from database report.
q() {
    "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$(pg_socket_dir "$1")" -p "$2" \
        -U postgres -d report -c "$3"
}

# The unit files: systemd-analyze verify exits 0 on mere warnings, so any output fails too.
verify_units() {
    local out rc=0
    out="$(cd "$ROOT/deploy/systemd" && systemd-analyze verify ./report-backup-full.service \
        ./report-backup-full.timer ./report-backup-incr.service ./report-backup-incr.timer 2>&1)" ||
        rc=$?
    [[ $rc -eq 0 && -z "$out" ]] || fail "systemd-analyze verify deploy/systemd/report-backup-*: $out"
    echo "units: systemd-analyze verify of report-backup-{full,incr}.{service,timer}: clean"
}

make_keys() {
    local who kind
    mkdir -p "$KEYS/clients"
    chmod 700 "$KEYS" "$KEYS/clients"
    "$BIN/reportctl" keygen --out "$KEYS/server" >/dev/null
    for who in VAN_PHONG THANH_TRA CHI_CUC_TDC QLKH QLCN TT_TTUD store office; do
        case "$who" in
        store) kind=store ;;
        office) kind=operator ;;
        *) kind=unit ;;
        esac
        "$BIN/reportctl" keygen --out "$KEYS/clients/$who" >/dev/null
        "$BIN/reportctl" enrol "$kind" "$who" --public "$KEYS/clients/$who.pub" \
            --keys-dir "$KEYS" >/dev/null
    done
}

# start_aggregator DB_CONNINFO: an aggregator on that database, with the drill's ports.
start_aggregator() {
    start_service report-aggregator "$LOGS/report-aggregator.log" "$BIN/report-aggregator" \
        --db "$1 user=report_reporter" --control-endpoint "$CONTROL_EP" \
        --publish-endpoint "tcp://127.0.0.1:$((P + 2))" \
        --catchup-endpoint "tcp://127.0.0.1:$((P + 3))" --keys-dir "$KEYS" \
        --metrics-address "127.0.0.1:$((P + 7))" --log-level warn
    wait_for_tcp 127.0.0.1 $((P + 4)) 15 "$REPORT_LAST_PID" || fail "the aggregator did not start"
}

start_stack() {
    local db="$1"
    start_service report-store "$LOGS/report-store.log" "$BIN/report-store" \
        --db "$db user=report_ingest" --collectors "$STORE_EP" \
        --key "$KEYS/clients/store.key" --collector-key "$KEYS/server.pub" \
        --metrics-address "127.0.0.1:$((P + 6))" --log-level warn
    start_service report-collector "$LOGS/report-collector.log" "$BIN/report-collector" \
        --endpoint "$COLLECTOR_EP" --store-endpoint "$STORE_EP" --keys-dir "$KEYS" \
        --metrics-address "127.0.0.1:$((P + 5))" --log-level warn
    wait_for_tcp 127.0.0.1 "$P" 15 "${REPORT_SERVICE_PIDS[@]}" || fail "the collector did not start"
    start_aggregator "$db"
}

OFFICE=()
push_months() {
    "$BIN/reportctl" push --endpoint "$COLLECTOR_EP" --server-key "$KEYS/server.pub" \
        --unit-keys "$KEYS/clients" --deadline-ms 60000 "$@" >"$LOGS/push.out" 2>&1 ||
        fail "reportctl push $* failed: $(tail -n 3 "$LOGS/push.out")"
}

# publish PERIOD NUMBER DATE [--force]: prints the publication line.
publish() {
    "$BIN/reportctl" publish "$1" --control-endpoint "$CONTROL_EP" "${OFFICE[@]}" \
        --number "$2" --date "$3" --basis "$BASIS" "${@:4}" 2>"$LOGS/publish.err" ||
        fail "reportctl publish $1 failed: $(cat "$LOGS/publish.err")"
}

# One line per table the mistake empties: name, rows, digest of the content.
DIGEST_SQL="
SELECT 'updates', count(*), md5(coalesce(string_agg(concat_ws('|', seq, update_id, unit_code,
       year, month, item_key, revision, withdrawn, text, md5(payload)), E'\n' ORDER BY seq), ''))
  FROM updates
UNION ALL
SELECT 'indicator_values', count(*), md5(coalesce(string_agg(concat_ws('|', update_seq,
       indicator_code, value), E'\n' ORDER BY update_seq, indicator_code), ''))
  FROM indicator_values
UNION ALL
SELECT 'item_heads', count(*), md5(coalesce(string_agg(concat_ws('|', year, month, unit_code,
       item_key, revision, seq, withdrawn), E'\n' ORDER BY year, month, unit_code, item_key), ''))
  FROM item_heads
UNION ALL
SELECT 'published_reports', count(*), md5(coalesce(string_agg(concat_ws('|', seq, agency_code,
       year, month, version, number, doc_date, basis, sha256, md5(text_body), md5(pdf_body)),
       E'\n' ORDER BY seq), ''))
  FROM published_reports"
VERSIONS_SQL="SELECT seq, agency_code, year, month, version, number, doc_date, sha256
  FROM published_reports ORDER BY seq"
MISTAKE_SQL="BEGIN; DELETE FROM published_reports; DELETE FROM indicator_values;
  DELETE FROM item_heads; DELETE FROM updates; COMMIT"

TAMPER_ROWS_SQL="DELETE FROM indicator_values
  WHERE (update_seq, indicator_code) IN (SELECT update_seq, indicator_code FROM indicator_values
                                         ORDER BY update_seq DESC LIMIT 1)"
TAMPER_TEXT_SQL="UPDATE updates SET text = text || ' (sửa)'
  WHERE seq = (SELECT seq FROM item_heads WHERE year = 2018 AND month = 7 AND NOT withdrawn
               ORDER BY seq LIMIT 1)"

rows_of() { awk -F'|' '{ n += $2 } END { print n + 0 }' <<<"$1"; }

# compile_sha SEQ AGENCY YEAR MONTH NUMBER DATE: the SHA-256 of the period compiled again on
# the restored database with the parameters of publication SEQ.
compile_sha() {
    local basis period out="$VAR/compiled-$1.txt"
    basis="$(q "$RESTORED" "$RESTORED_PORT" "SELECT basis FROM published_reports WHERE seq = $1")"
    period="$(printf '%04d-%02d' "$3" "$4")"
    "$BIN/reportctl" compile "$period" --agency "$2" --number "$5" --date "$6" --basis "$basis" \
        --control-endpoint "$CONTROL_EP" "${OFFICE[@]}" >"$out" 2>"$LOGS/compile.err" ||
        fail "reportctl compile $period on the restored database: $(cat "$LOGS/compile.err")"
    sha256sum "$out" | cut -d' ' -f1
}

# check_versions BEFORE: every version published before T is on the restored server, and
# compiles again to its SHA-256. Sets IDENTICAL; prints one line per version.
IDENTICAL=0
PROBLEMS=()
check_versions() {
    local after seq agency year month version number date sha got
    after="$(q "$RESTORED" "$RESTORED_PORT" "$VERSIONS_SQL")"
    [[ "$after" == "$1" ]] || PROBLEMS+=("published versions differ after the restore: before
$1
after
$after")
    while IFS='|' read -r seq agency year month version number date sha; do
        [[ -n "$seq" ]] || continue
        got="$(compile_sha "$seq" "$agency" "$year" "$month" "$number" "$date")"
        if [[ "$got" == "$sha" ]] && grep -q "^$seq|.*|$sha\$" <<<"$1"; then
            IDENTICAL=$((IDENTICAL + 1))
            printf '  seq=%s %s %04d-%02d version=%s number=%s: compiled again sha256=%s (identical)\n' \
                "$seq" "$agency" "$year" "$month" "$version" "$number" "$got"
        else
            PROBLEMS+=("$(printf 'seq=%s %04d-%02d version=%s: published sha256=%s, compiled again on the restored database sha256=%s' \
                "$seq" "$year" "$month" "$version" "$sha" "$got")")
        fi
    done <<<"$after"
}

# check_rows BEFORE: the content of every table the mistake emptied is back.
check_rows() {
    local after
    after="$(q "$RESTORED" "$RESTORED_PORT" "$DIGEST_SQL")"
    echo "  restored: $(tr '\n' ' ' <<<"$after")"
    [[ "$after" == "$1" ]] || PROBLEMS+=("rows missing or different after the restore: before
$1
after
$after")
    ROWS_AFTER="$(rows_of "$after")"
}

echo "backup-drill: restore drill on var/backup-drill (live port $LIVE_PORT, restored port $RESTORED_PORT)"
ensure_packages systemd # systemd-analyze; pgbackrest is a base package
verify_units
for exe in report-store report-collector report-aggregator reportctl; do
    if [[ ! -x "$BIN/$exe" ]]; then
        build_project "$ROOT/build" >/dev/null || die "build failed"
        break
    fi
done
for ((i = 0; i < 8; i++)); do
    ! (exec 3<>"/dev/tcp/127.0.0.1/$((P + i))") 2>/dev/null ||
        die "port $((P + i)) is already in use (another drill? REPORT_DRILL_PORT_BASE)"
done

pg_wipe "$RESTORED"
pg_wipe "$LIVE"
rm -rf -- "$VAR/backup" "$KEYS" "$LOGS" "$VAR"/compiled-*.txt
mkdir -p "$LOGS"
LIVE_DB="$(pg_start "$LIVE" "$LIVE_PORT")"
echo "== archiving on: deploy/backup/backup.sh setup (log: ${LOGS#"$ROOT"/}/backup-setup.log)"
"$BACKUP" setup >"$LOGS/backup-setup.log" 2>&1 || fail "backup.sh setup failed"
make_keys
OFFICE=(--key "$KEYS/clients/office.key" --server-key "$KEYS/server.pub")
"$BIN/reportctl" migrate --db "$LIVE_DB" --log-level warn >/dev/null || fail "migrations failed"
start_stack "$LIVE_DB"

echo "== January-June pushed, June published, then a full backup"
push_months "$ROOT"/deploy/sample/2018-0[1-6].json
# the June sample has no task for July (section 2): the format check's finding is recorded
publish 2018-06 501 2018-06-20 --force
t0="$(now)"
"$BACKUP" backup full >"$LOGS/backup-full.log" 2>&1 || fail "backup.sh backup full failed"
BACKUP_S="$(since "$t0")"
grep -E 'full backup:|backup set size' "$LOGS/backup-full.log" | sed 's/^ */  /'

echo "== after the backup: July pushed and published twice (in the archived WAL only)"
push_months "$ROOT"/deploy/sample/2018-07.json
publish 2018-07 588 2018-07-19
publish 2018-07 589 2018-07-20
VERSIONS_BEFORE="$(q "$LIVE" "$LIVE_PORT" "$VERSIONS_SQL")"
DIGEST_BEFORE="$(q "$LIVE" "$LIVE_PORT" "$DIGEST_SQL")"
ROWS_BEFORE="$(rows_of "$DIGEST_BEFORE")"
T="$(q "$LIVE" "$LIVE_PORT" "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")"
echo "  T=$T: $(tr '\n' ' ' <<<"$DIGEST_BEFORE")"

echo "== the mistake: every published version, update and indicator value deleted, committed"
q "$LIVE" "$LIVE_PORT" "$MISTAKE_SQL" >/dev/null
left="$(rows_of "$(q "$LIVE" "$LIVE_PORT" "$DIGEST_SQL")")"
[[ "$left" == 0 ]] || fail "the mistake left $left rows on the live server"
"$BACKUP" check >"$LOGS/backup-check.log" 2>&1 || fail "backup.sh check failed"
# shellcheck disable=SC2119 # the services this shell started
stop_services

echo "== restore to T on a fresh data directory (port $RESTORED_PORT)"
t0="$(now)"
"$BACKUP" restore --to "$T" "$RESTORED" --start "$RESTORED_PORT" >"$LOGS/restore.log" 2>&1 ||
    fail "backup.sh restore failed (log: ${LOGS#"$ROOT"/}/restore.log)"
RESTORE_S="$(since "$t0")"
grep -E 'restore backup set|restored server' "$LOGS/restore.log" | sed 's/^[0-9: .-]*P00 *INFO: /  /'

echo "  restore: $(sed -n 's/.*restore command end: completed successfully (\([0-9]*\)ms).*/\1/p' \
    "$LOGS/restore.log") ms of pgBackRest restore (files), the rest WAL replay to T and promotion"
case "$TAMPER" in
rows) q "$RESTORED" "$RESTORED_PORT" "$TAMPER_ROWS_SQL" >/dev/null; echo "  (--tamper rows)" ;;
text) q "$RESTORED" "$RESTORED_PORT" "$TAMPER_TEXT_SQL" >/dev/null; echo "  (--tamper text)" ;;
esac

echo "== on the restored database: the rows, every version, every period compiled again"
ROWS_AFTER=0
check_rows "$DIGEST_BEFORE"
start_aggregator "$(pg_conninfo "$RESTORED" "$RESTORED_PORT" report)"
check_versions "$VERSIONS_BEFORE"
VERSIONS="$(grep -c . <<<"$VERSIONS_BEFORE" || true)"

echo "backup-drill: backup_s=$BACKUP_S restore_s=$RESTORE_S versions=$VERSIONS identical=$IDENTICAL rows_before=$ROWS_BEFORE rows_after=$ROWS_AFTER recovery_target=$T"
if [[ ${#PROBLEMS[@]} -gt 0 || $VERSIONS -lt 3 || $IDENTICAL -ne $VERSIONS ]]; then
    printf 'backup-drill: FAILED: %s\n' "${PROBLEMS[@]:-fewer versions than the three published}" >&2
    exit 1
fi
