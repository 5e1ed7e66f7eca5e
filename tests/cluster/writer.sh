#!/usr/bin/env bash
# Writer client of the cluster tests: inserts numbered rows, one psql (one connection, one
# transaction) per row, and appends "N BEGUN DONE" (epoch seconds) to ACKFILE for each insert PostgreSQL
# acknowledged (psql exited 0 and returned the row). An insert that failed or hung past
# TIMEOUT_S is not acknowledged (its outcome is unknown) and is never retried: the next
# insert has the next number. Stops when STOPFILE exists.
#
#   writer.sh CONNINFO FIRST ACKFILE STOPFILE [TIMEOUT_S]
set -euo pipefail

conninfo="${1:?CONNINFO}" n="${2:?FIRST}" ackfile="${3:?ACKFILE}" stopfile="${4:?STOPFILE}"
limit="${5:-5}"
psql="${REPORT_PG_BIN:-/usr/lib/postgresql/15/bin}/psql"
failed=0
while [[ ! -e "$stopfile" ]]; do
    begun="$EPOCHREALTIME"
    if out="$(timeout -s KILL "$limit" "$psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$conninfo" \
        -c "INSERT INTO writes (n) VALUES ($n) RETURNING n" 2>&1)" && [[ "$out" == "$n" ]]; then
        printf '%s %s %s\n' "$n" "$begun" "$EPOCHREALTIME" >>"$ackfile"
    else
        failed=$((failed + 1))
        printf '%s n=%s not acknowledged: %s\n' "$EPOCHREALTIME" "$n" "${out//$'\n'/ }" >&2
    fi
    n=$((n + 1))
done
printf 'writer: last=%s failed=%s\n' "$((n - 1))" "$failed" >&2
