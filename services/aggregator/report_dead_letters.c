/* reportctl dead-letters, the aggregator's side. A replay cannot be signed by the unit (its
 * signature was the CURVE session that delivered it), so the operator's authenticated request
 * is the act recorded: the aggregator decodes and validates the kept payload exactly as the
 * collector does for the unit's key (report_update_accept), re-encodes it in NFC as the
 * collector forwards it, and the database function replay_update stores it as the store
 * stores an update (unique on unit and update id, the payload hash telling a DUPLICATE from an
 * id_conflict, the catalogue checked) and records the replay with the operator's name. */
#include "report_dead_letters.h"
#include "report_codec.h"
#include "report_log.h"
#include "report_sha256.h"
#include "report_update.h"
#include "report_util.h"
#include "report_validate.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_refuse(report_control_reply_t *reply, const char *code, const char *message)
{
    reply->ok = false;
    reply->error_code = report_strdup(code);
    reply->message = report_strdup(message);
}

static int s_db_failed(report_db_t *db, report_control_reply_t *reply)
{
    log_warn("dead letters: database failure", "sqlstate=%s error=%s", report_db_sqlstate(db),
             report_logq(report_db_error(db)));
    s_refuse(reply, "db_error", report_db_error(db));
    return -1;
}

/* The columns of a listing line: id, received, reason, unit, update id, kept/size, whole or
 * truncated, the last replay, the message. */
#define S_LINE_COLUMNS                                                                             \
    "d.id, to_char(d.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"           \
    " d.reason, coalesce(nullif(d.unit_code, ''), '-'), coalesce(nullif(d.update_id, ''), '-'),"   \
    " length(d.payload) || '/' || d.payload_size,"                                                 \
    " CASE WHEN length(d.payload) = d.payload_size THEN 'whole' ELSE 'truncated' END,"             \
    " coalesce((SELECT 'replayed:' || r.outcome || ':' || r.replayed_by FROM update_replays r"     \
    "            WHERE r.dead_letter_id = d.id ORDER BY r.id DESC LIMIT 1), '-'),"                 \
    " replace(d.message, E'\\n', ' ')"

static int s_row_line(void *arg, const PGresult *res, int row)
{
    report_buf_t *body = arg;
    for (int c = 0; c < PQnfields(res); c++)
        report_buf_printf(body, "%s%s", c ? "\t" : "", PQgetvalue(res, row, c));
    report_buf_adds(body, "\n");
    return 0;
}

static int s_list(report_db_t *db, const report_control_request_t *req,
                  report_control_reply_t *reply)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%d", REPORT_DEAD_LETTERS_LIST_MAX);
    const char *params[] = {req->reason ? req->reason : "", req->unit ? req->unit : "", limit};
    report_buf_t body;
    report_buf_init(&body);
    if (report_db_query(db,
                        "SELECT " S_LINE_COLUMNS " FROM dead_letters d"
                        " WHERE ($1 = '' OR d.reason = $1) AND ($2 = '' OR d.unit_code = $2)"
                        " ORDER BY d.id DESC LIMIT $3",
                        3, params, s_row_line, &body) != 0) {
        report_buf_free(&body);
        return s_db_failed(db, reply);
    }
    reply->ok = true;
    reply->body = report_buf_take(&body);
    return 0;
}

/* One dead letter: its unit, update id and the kept payload (whole or not). */
typedef struct {
    bool found;
    char *line; /* as listed */
    char *unit, *update_id;
    uint8_t *payload;
    size_t payload_len;
    int64_t payload_size; /* of the input refused */
} s_letter_t;

/* The columns of S_LINE_COLUMNS, before the ones s_letter_load adds. */
#define S_LINE_COLUMN_COUNT 9

static int s_letter_row(void *arg, const PGresult *res, int row)
{
    s_letter_t *l = arg;
    report_buf_t line;
    report_buf_init(&line);
    for (int c = 0; c < S_LINE_COLUMN_COUNT; c++)
        report_buf_printf(&line, "%s%s", c ? "\t" : "", PQgetvalue(res, row, c));
    l->line = report_buf_take(&line);
    const int c = S_LINE_COLUMN_COUNT;
    l->unit = report_strdup(PQgetvalue(res, row, c));
    l->update_id = report_strdup(PQgetvalue(res, row, c + 1));
    l->payload = report_hex_decode(PQgetvalue(res, row, c + 2), &l->payload_len);
    l->payload_size = strtoll(PQgetvalue(res, row, c + 3), NULL, 10);
    l->found = l->payload != NULL || PQgetvalue(res, row, c + 2)[0] == '\0';
    return 0;
}

static int s_letter_load(report_db_t *db, int64_t id, s_letter_t *l)
{
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    const char *params[] = {idtext};
    return report_db_query(db,
                           "SELECT " S_LINE_COLUMNS ", d.unit_code, d.update_id,"
                           " encode(d.payload, 'hex'), d.payload_size"
                           " FROM dead_letters d WHERE d.id = $1",
                           1, params, s_letter_row, l);
}

static void s_letter_clear(s_letter_t *l)
{
    free(l->line);
    free(l->unit);
    free(l->update_id);
    free(l->payload);
    memset(l, 0, sizeof *l);
}

/* The update of a payload kept whole, as JSON lines of its fields; "" if it does not decode. */
static char *s_update_text(const s_letter_t *l)
{
    report_update_t *u = l->payload ? report_update_decode(l->payload, l->payload_len) : NULL;
    if (!u)
        return report_strdup("");
    json_t *o =
        json_pack("{s:s?, s:s?, s:i, s:i, s:s?, s:s?, s:s?, s:i, s:b, s:s?}", "update_id",
                  u->update_id, "unit", u->unit_code, "year", u->year, "month", u->month, "section",
                  report_section_name(u->section), "area", u->area_code, "item_key", u->item_key,
                  "revision", (int)u->revision, "withdrawn", u->withdrawn, "text", u->text);
    json_t *values = json_object();
    for (size_t i = 0; i < u->indicator_count; i++)
        if (u->indicators[i].code)
            json_object_set_new(values, u->indicators[i].code, json_real(u->indicators[i].value));
    if (o)
        json_object_set_new(o, "indicators", values);
    else
        json_decref(values);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    report_update_destroy(&u);
    return text ? text : report_strdup("");
}

static int s_show(report_db_t *db, const report_control_request_t *req,
                  report_control_reply_t *reply)
{
    s_letter_t l = {0};
    if (s_letter_load(db, req->dead_letter_id, &l) != 0) {
        s_letter_clear(&l);
        return s_db_failed(db, reply);
    }
    if (!l.found) {
        s_refuse(reply, "not_found", "no dead letter has this id");
    } else {
        char *update = s_update_text(&l);
        reply->ok = true;
        reply->body = report_sprintf("%s\n%s%s", l.line, update, *update ? "\n" : "");
        free(update);
    }
    s_letter_clear(&l);
    return 0;
}

/* The 18 parameters of replay_update, as text; the strings they point into are in *keep. */
typedef struct {
    char id[32], year[16], month[16], order[16], revision[16], sha[65];
    char *subs, *payload, *codes, *values;
} s_replay_params_t;

static void s_params_fill(s_replay_params_t *p, const report_update_t *u, const uint8_t *payload,
                          size_t size)
{
    snprintf(p->year, sizeof p->year, "%d", u->year);
    snprintf(p->month, sizeof p->month, "%d", u->month);
    snprintf(p->order, sizeof p->order, "%u", u->item_order);
    snprintf(p->revision, sizeof p->revision, "%u", u->revision);
    report_sha256_hex(payload, size, p->sha);
    json_t *subs = json_array();
    for (size_t k = 0; k < u->sub_item_count; k++)
        json_array_append_new(subs, json_string(u->sub_items[k]));
    p->subs = json_dumps(subs, JSON_COMPACT);
    json_decref(subs);
    p->payload = report_malloc(2 * size + 3);
    memcpy(p->payload, "\\x", 2);
    report_hex_write(p->payload + 2, payload, size);
    p->payload[2 * size + 2] = '\0';
    /* codes are [A-Z0-9_] once validated, values finite numbers: no quoting needed */
    report_buf_t codes, values;
    report_buf_init(&codes);
    report_buf_init(&values);
    report_buf_adds(&codes, "{");
    report_buf_adds(&values, "{");
    for (size_t k = 0; k < u->indicator_count; k++) {
        report_buf_printf(&codes, "%s%s", k ? "," : "", u->indicators[k].code);
        report_buf_printf(&values, "%s%.17g", k ? "," : "", u->indicators[k].value);
    }
    report_buf_adds(&codes, "}");
    report_buf_adds(&values, "}");
    p->codes = report_buf_take(&codes);
    p->values = report_buf_take(&values);
}

static void s_params_free(s_replay_params_t *p)
{
    free(p->subs);
    free(p->payload);
    free(p->codes);
    free(p->values);
}

static int s_result_row(void *arg, const PGresult *res, int row)
{
    char **out = arg;
    free(*out);
    *out = report_strdup(PQgetvalue(res, row, 0));
    return 0;
}

/* Stores the validated update u (payload: its NFC encoding) as replay_update does; the
 * outcome (STORED, DUPLICATE, id_conflict, unknown_…) in *outcome, or -1 if the database
 * failed. */
static int s_store(report_db_t *db, int64_t letter, const char *operator_name,
                   const report_update_t *u, const uint8_t *payload, size_t size, char **outcome)
{
    s_replay_params_t p = {0};
    s_params_fill(&p, u, payload, size);
    snprintf(p.id, sizeof p.id, "%lld", (long long)letter);
    const char *params[] = {p.id,
                            operator_name,
                            u->update_id,
                            u->unit_code,
                            p.year,
                            p.month,
                            report_section_name(u->section),
                            u->area_code,
                            u->item_key,
                            p.order,
                            p.revision,
                            u->withdrawn ? "t" : "f",
                            u->text,
                            p.subs ? p.subs : "[]",
                            p.payload,
                            p.sha,
                            p.codes,
                            p.values};
    int rc = report_db_query(db,
                             "SELECT replay_update($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
                             " $12, $13, $14::jsonb, $15::bytea, $16, $17::text[],"
                             " $18::numeric[])",
                             18, params, s_result_row, outcome);
    s_params_free(&p);
    return rc;
}

/* Validated as the collector validates for the unit's key, then stored (s_store). */
static int s_replay_letter(report_db_t *db, const char *operator_name, int64_t id,
                           const s_letter_t *l, report_control_reply_t *reply)
{
    report_limits_t limits;
    report_limits_default(&limits);
    report_update_t *u = NULL;
    report_refusal_t why;
    if (report_update_accept(&limits, l->unit, l->payload, l->payload_len, &u, &why, NULL, NULL) !=
        0) {
        s_refuse(reply, report_reason_name(why.reason), why.message);
        return 0;
    }
    size_t size = 0;
    uint8_t *payload = report_update_encode(u, &size);
    char *outcome = NULL;
    int rc = s_store(db, id, operator_name, u, payload, size, &outcome);
    if (rc != 0) {
        rc = s_db_failed(db, reply);
    } else if (outcome && (strcmp(outcome, "STORED") == 0 || strcmp(outcome, "DUPLICATE") == 0)) {
        reply->ok = true;
        reply->body =
            report_sprintf("%s dead_letter=%lld unit=%s update_id=%s replayed_by=%s\n", outcome,
                           (long long)id, u->unit_code, u->update_id, operator_name);
    } else {
        s_refuse(reply, outcome ? outcome : "db_error",
                 "the store refused the update again (fix the cause first)");
    }
    log_info("dead letter replayed", "id=%lld unit=%s update_id=%s operator=%s outcome=%s",
             (long long)id, u->unit_code, u->update_id, report_logq(operator_name),
             outcome ? outcome : "db_error");
    free(outcome);
    free(payload);
    report_update_destroy(&u);
    return rc;
}

static int s_replay(report_db_t *db, const char *operator_name, const report_control_request_t *req,
                    report_control_reply_t *reply)
{
    s_letter_t l = {0};
    int rc = 0;
    if (s_letter_load(db, req->dead_letter_id, &l) != 0)
        rc = s_db_failed(db, reply);
    else if (!l.found)
        s_refuse(reply, "not_found", "no dead letter has this id");
    else if (l.payload_size != (int64_t)l.payload_len)
        s_refuse(reply, "truncated",
                 "only part of this input was kept (dead-letter-payload-bytes): it cannot be "
                 "sent again; the unit must push it again");
    else if (!*l.unit)
        s_refuse(reply, "no_unit", "this input names no unit it could be sent as");
    else
        rc = s_replay_letter(db, operator_name, req->dead_letter_id, &l, reply);
    s_letter_clear(&l);
    return rc;
}

int report_dead_letters_handle(report_db_t *db, const char *operator_name,
                               const report_control_request_t *req, report_control_reply_t *reply)
{
    const char *action = req->action ? req->action : "";
    if (strcmp(action, "list") == 0)
        return s_list(db, req, reply);
    if (strcmp(action, "show") == 0)
        return s_show(db, req, reply);
    if (strcmp(action, "replay") == 0)
        return s_replay(db, operator_name, req, reply);
    s_refuse(reply, "bad_action", "the action is list, show or replay");
    return 0;
}
