# shellcheck shell=bash
# Steady load from client loops and the check of every acknowledgement against the database,
# shared by the fault suite (tests/faults/run.sh) and the cluster test (tests/cluster/run.sh).
# Source it after deploy/lib/common.sh.
#
# Each client loop pushes files of fresh updates (every id a new UUID, every id logged with its
# outcome) with `reportctl push`; a push that ends UNKNOWN (exit 75) or is cut by its time
# bound is pushed again with the same file, so its ids are resent. check_db then asks the
# database whether every acknowledged id (STORED/DUPLICATE) is in `updates` exactly once, for
# the same unit, with the text and item key sent.
#
# The caller sets:
#   BIN KEYS VAR PERIOD CLIENTS UPDATES_PER_FILE MAX_TRIES PUSH_DEADLINE_MS
#   SCEN SCEN_DEADLINE (epoch seconds)           the scenario running, and its bound
#   ALL_PIDS (array)                              pids to kill at exit; the loops are added
#   LOAD_EXEC (array, may be empty)               prefix of the reportctl command line (e.g.
#                                                 `ip netns exec NS` to push from another host)
#   LOAD_PSQL (array)                             psql that reaches the database, default
#                                                 `psql -d report`
#   LOAD_PUSH_ARGS (array, may be empty)          more reportctl push options
# and reads back SCEN_DIR, SCEN_FAIL and TOTAL_ACKED TOTAL_LOST TOTAL_DUP TOTAL_CONFLICTS.

[[ -v LOAD_EXEC ]] || LOAD_EXEC=()
[[ -v LOAD_PUSH_ARGS ]] || LOAD_PUSH_ARGS=()
[[ -v LOAD_PSQL ]] || LOAD_PSQL=(psql -d report)
TOTAL_ACKED=${TOTAL_ACKED:-0} TOTAL_LOST=${TOTAL_LOST:-0} TOTAL_DUP=${TOTAL_DUP:-0}
TOTAL_CONFLICTS=${TOTAL_CONFLICTS:-0}
SCEN_FAIL=0

now() { date +%s; }

# kill_tree PID: PID and its descendants (a client loop, its timeout and its reportctl)
kill_tree() {
    local c
    kill -STOP "$1" 2>/dev/null || return 0
    for c in $(pgrep -P "$1" 2>/dev/null || true); do
        kill_tree "$c"
    done
    kill -KILL "$1" 2>/dev/null || true
    kill -CONT "$1" 2>/dev/null || true
}
# ------------------------------------------------------------------ clients

# gen_file SCEN CLIENT N UNIT FILE SENT: a push file of fresh updates; "unit id item_key text"
# lines appended to SENT (tab-separated)
gen_file() {
    local scen="$1" c="$2" n="$3" unit="$4" file="$5" sent="$6" k id key text sep=""
    {
        printf '[\n'
        for ((k = 1; k <= UPDATES_PER_FILE; k++)); do
            id="$(</proc/sys/kernel/random/uuid)"
            key="fault-$scen-c$c-f$n-u$k"
            text="Fault suite $scen client $c file $n update $k id $id"
            printf '%s{"update_id":"%s","unit":"%s","period":"%s","section":"result","area":"NHIEM_VU","item_key":"%s","order":%d,"text":"%s"}\n' \
                "$sep" "$id" "$unit" "$PERIOD" "$key" "$k" "$text"
            printf '%s\t%s\t%s\t%s\n' "$unit" "$id" "$key" "$text" >>"$sent"
            sep=","
        done
        printf ']\n'
    } >"$file"
}

# client_loop SCEN C UNIT ENDPOINT DIR: push fresh files until DIR/stop exists; each file is
# pushed again while the push ends with UNKNOWN (75) or is cut by its time bound
client_loop() {
    local scen="$1" c="$2" unit="$3" ep="$4" dir="$5" n=0 rc tries f t0
    while [[ ! -e "$dir/stop" ]] && ((n < 1000)); do
        n=$((n + 1))
        f="$dir/c$c-f$n.json"
        gen_file "$scen" "$c" "$n" "$unit" "$f" "$dir/sent.tsv"
        tries=0
        while :; do
            tries=$((tries + 1))
            rc=0
            t0=$EPOCHREALTIME
            timeout -k 2 $((PUSH_DEADLINE_MS / 1000 + 10)) "${LOAD_EXEC[@]}" "$BIN/reportctl" push \
                --endpoint "$ep" "${LOAD_PUSH_ARGS[@]}" \
                --server-key "$KEYS/server.pub" --key "$KEYS/clients/$unit.key" \
                --timeout-ms 1000 --backoff-max-ms 2000 --deadline-ms "$PUSH_DEADLINE_MS" "$f" \
                >"$dir/c$c-f$n-t$tries.out" 2>>"$dir/c$c.err" || rc=$?
            printf '%s %s %d\n' "$t0" "$EPOCHREALTIME" "$rc" >>"$dir/c$c.times"
            # "id outcome [reason=...]" per update
            awk -v c="$c" '{ r = ($6 ~ /^reason=/) ? " " $6 : ""; print $4, $1 r }' \
                "$dir/c$c-f$n-t$tries.out" >>"$dir/c$c.outcomes"
            [[ $rc -eq 75 || $rc -eq 124 || $rc -eq 137 ]] || break
            ((tries < MAX_TRIES)) || break
            sleep 0.2
        done
        printf 'file %d tries %d rc %d\n' "$n" "$tries" "$rc" >>"$dir/c$c.files"
        [[ $rc -eq 0 ]] || break
        sleep 0.1
    done
    printf 'done %d\n' "$rc" >>"$dir/c$c.files"
}

CLIENT_PIDS=()
SCEN_DIR=""
start_clients() { # SCEN ENDPOINT_OF_CLIENT_0 ... (one per client)
    local scen="$1" c units=(VAN_PHONG THANH_TRA CHI_CUC_TDC QLKH QLCN TT_TTUD)
    shift
    SCEN_DIR="$VAR/$scen"
    rm -rf -- "$SCEN_DIR"
    mkdir -p "$SCEN_DIR"
    : >"$SCEN_DIR/sent.tsv"
    CLIENT_PIDS=()
    for ((c = 0; c < CLIENTS; c++)); do
        client_loop "$scen" "$c" "${units[c]}" "$1" "$SCEN_DIR" &
        CLIENT_PIDS+=("$!")
        ALL_PIDS+=("$!")
        if [[ $# -gt 1 ]]; then shift; fi
    done
}

# stop_clients: ask the loops to finish their current file; fail when one does not finish
# (its last push not exit 0) or they are still running at the scenario's bound
SCEN_FAIL=0
stop_clients() {
    local p c last
    touch "$SCEN_DIR/stop"
    for p in "${CLIENT_PIDS[@]}"; do
        while kill -0 "$p" 2>/dev/null; do
            if (($(now) > SCEN_DEADLINE)); then
                log "error: $SCEN: a client is still running at the scenario's bound (${SCEN_BOUND}s): hang"
                SCEN_FAIL=1
                kill_tree "$p"
                break
            fi
            sleep 0.2
        done
        wait "$p" 2>/dev/null || true
    done
    for ((c = 0; c < CLIENTS; c++)); do
        last="$(tail -n 1 "$SCEN_DIR/c$c.files" 2>/dev/null || true)"
        if [[ "$last" != "done 0" ]]; then
            log "error: $SCEN: client $c did not finish with every update confirmed ($last)"
            SCEN_FAIL=1
        fi
    done
}


# acks_resumed_after T0: seconds from T0 (epoch, with a fraction) until every client had a
# push begun at or after T0 with every update answered (exit 0): the slowest client's first
# such push, so a client that had to move to another collector counts; fails while a client
# has none. Each push attempt is logged as "start end rc" in SCEN_DIR/cC.times.
acks_resumed_after() {
    local f first worst="" n=0
    for f in "$SCEN_DIR"/c*.times; do
        [[ -f "$f" ]] || continue
        n=$((n + 1))
        first="$(awk -v t="$1" '$1 >= t && $3 == 0 { print $2 - t; exit }' "$f")"
        [[ -n "$first" ]] || return 1
        worst="$(awk -v a="${worst:-0}" -v b="$first" 'BEGIN { print (b > a) ? b : a }')"
    done
    ((n > 0)) || return 1
    printf '%.1f\n' "$worst"
}

# check_db: from the database, the updates sent in this scenario
check_db() {
    local d="$SCEN_DIR" acked lost dup mismatch conflicts rejected retried files res
    cat "$d"/c*.outcomes 2>/dev/null | awk '$2 == "STORED" || $2 == "DUPLICATE" { print $1 }' |
        sort -u >"$d/acked.ids"
    conflicts="$(cat "$d"/c*.outcomes 2>/dev/null | grep -c 'reason=id_conflict' || true)"
    rejected="$(cat "$d"/c*.outcomes 2>/dev/null | grep -c '^[^ ]* REJECTED' || true)"
    retried="$(cat "$d"/c*.files 2>/dev/null | awk '$1 == "file" && $4 > 1' | wc -l)"
    files="$(cat "$d"/c*.files 2>/dev/null | awk '$1 == "file"' | wc -l)"
    res="$("${LOAD_PSQL[@]}" -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE sent (unit text, id uuid, item_key text, body text);
CREATE TEMP TABLE acked (id uuid);
\\copy sent FROM '$d/sent.tsv'
\\copy acked FROM '$d/acked.ids'
SELECT (SELECT count(*) FROM acked),
       (SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM updates u WHERE u.update_id = a.id)),
       (SELECT count(*) FROM (SELECT u.unit_code, u.update_id FROM updates u
                              GROUP BY 1, 2 HAVING count(*) > 1) x),
       (SELECT count(*) FROM updates u JOIN sent s ON s.id = u.update_id
         WHERE u.unit_code <> s.unit OR u.item_key <> s.item_key OR u.text <> s.body);
SQL
)" || { log "error: $SCEN: the database check failed"; SCEN_FAIL=1; res="0 0 0 0"; }
    read -r acked lost dup mismatch <<<"$res"
    printf '  check: sent=%s acked=%s lost=%s duplicated=%s conflicts=%s rejected=%s content_mismatch=%s files=%s re-pushed=%s\n' \
        "$(wc -l <"$d/sent.tsv")" "$acked" "$lost" "$dup" "$conflicts" "$rejected" "$mismatch" "$files" "$retried"
    TOTAL_ACKED=$((TOTAL_ACKED + acked))
    TOTAL_LOST=$((TOTAL_LOST + lost))
    TOTAL_DUP=$((TOTAL_DUP + dup))
    TOTAL_CONFLICTS=$((TOTAL_CONFLICTS + conflicts + mismatch))
    if ((lost + dup + conflicts + rejected + mismatch > 0)); then
        SCEN_FAIL=1
    fi
    if ((acked == 0)); then
        log "error: $SCEN: no update was acknowledged"
        SCEN_FAIL=1
    fi
}

