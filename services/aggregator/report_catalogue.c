/* reportctl catalogue, the aggregator's side: listings and the audit read with plain SELECTs
 * (the aggregator's role reads everything), changes through catalogue_change, a SECURITY
 * DEFINER function owned by report_owner that also writes the audit row, and the enrolled
 * unit keys compared with the active units. */
#include "report_catalogue.h"
#include "report_keys.h"
#include "report_log.h"
#include "report_util.h"
#include "report_validate.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    report_buf_t body;
    size_t rows;
} s_listing_t;

static void s_refuse(report_control_reply_t *reply, const char *code, const char *message)
{
    reply->ok = false;
    reply->error_code = report_strdup(code);
    reply->message = report_strdup(message);
}

static int s_db_failed(report_db_t *db, report_control_reply_t *reply)
{
    log_warn("catalogue: database failure", "sqlstate=%s error=%s", report_db_sqlstate(db),
             report_logq(report_db_error(db)));
    s_refuse(reply, "db_error", report_db_error(db));
    return -1;
}

static void s_add_string(char ***v, size_t *count, char *s)
{
    *v = report_realloc(*v, (*count + 1) * sizeof(char *));
    (*v)[(*count)++] = s;
}

/* Each row as its columns separated by tabs, one line. */
static int s_row_line(void *arg, const PGresult *res, int row)
{
    s_listing_t *l = arg;
    for (int c = 0; c < PQnfields(res); c++)
        report_buf_printf(&l->body, "%s%s", c ? "\t" : "", PQgetvalue(res, row, c));
    report_buf_adds(&l->body, "\n");
    l->rows++;
    return 0;
}

/* Every entry, one line each: kind, code, state (active or retired; a target's year, a
 * template's field, a recipient's position), name (label, target, text), extra. */
static const char *S_LIST_SQL =
    "SELECT kind, code, state, name, extra FROM ("
    "  SELECT 1 AS o, 'unit' AS kind, code, CASE WHEN active THEN 'active' ELSE 'retired' END"
    "         AS state, name, '' AS extra, position AS n FROM units"
    "  UNION ALL SELECT 2, 'area', code, CASE WHEN active THEN 'active' ELSE 'retired' END,"
    "         name, lead_in, position FROM work_areas"
    "  UNION ALL SELECT 3, 'indicator', code,"
    "         CASE WHEN active THEN 'active' ELSE 'retired' END, label,"
    "         area_code || ' ' || measure, 0 FROM indicators"
    "  UNION ALL SELECT 4, 'target', indicator_code, year::text, target::text, '', year"
    "         FROM plan_targets"
    "  UNION ALL SELECT 5, 'template', t.agency_code, f.key, f.value, '', 0"
    "         FROM report_templates t, jsonb_each_text(to_jsonb(t) - 'agency_code') f"
    "  UNION ALL SELECT 6, 'recipients', agency_code, position::text, text, '', position"
    "         FROM report_recipients"
    ") c WHERE $1 = '' OR kind = $1 ORDER BY o, code, n, state LIMIT $2";

static const char *S_AUDIT_SQL =
    "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), operator,"
    "       action, kind, code, coalesce(old_value::text, 'null'),"
    "       coalesce(new_value::text, 'null')"
    "  FROM catalogue_audit WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR code = $2)"
    " ORDER BY id LIMIT $3";

/* list and audit: the rows in the body, a warning when the bound cut them. */
static int s_listing(report_db_t *db, const report_control_request_t *req, bool audit,
                     report_control_reply_t *reply)
{
    char limit[32];
    snprintf(limit, sizeof limit, "%d", REPORT_CATALOGUE_LIST_MAX + 1);
    s_listing_t l = {.rows = 0};
    report_buf_init(&l.body);
    const char *list_params[] = {req->subject ? req->subject : "", limit};
    const char *audit_params[] = {req->subject ? req->subject : "", req->code ? req->code : "",
                                  limit};
    int rc = audit ? report_db_query(db, S_AUDIT_SQL, 3, audit_params, s_row_line, &l)
                   : report_db_query(db, S_LIST_SQL, 2, list_params, s_row_line, &l);
    if (rc != 0) {
        report_buf_free(&l.body);
        return s_db_failed(db, reply);
    }
    if (l.rows > REPORT_CATALOGUE_LIST_MAX)
        s_add_string(&reply->warnings, &reply->warning_count,
                     report_sprintf("only the first %d rows are shown", REPORT_CATALOGUE_LIST_MAX));
    reply->ok = true;
    reply->body = report_buf_take(&l.body);
    return 0;
}

static int s_code_row(void *arg, const PGresult *res, int row)
{
    s_listing_t *l = arg;
    report_buf_printf(&l->body, "%s\n", PQgetvalue(res, row, 0));
    l->rows++;
    return 0;
}

/* Active unit codes, one per line with a trailing newline each; NULL if the query failed. */
static char *s_active_units(report_db_t *db)
{
    s_listing_t l = {.rows = 0};
    report_buf_init(&l.body);
    if (report_db_query(db, "SELECT code FROM units WHERE active ORDER BY code", 0, NULL,
                        s_code_row, &l) != 0) {
        report_buf_free(&l.body);
        return NULL;
    }
    return report_buf_take(&l.body);
}

static bool s_line_in(const char *lines, const char *code)
{
    size_t n = strlen(code);
    for (const char *p = lines; *p;) {
        const char *end = strchr(p, '\n');
        if (!end)
            break;
        if ((size_t)(end - p) == n && memcmp(p, code, n) == 0)
            return true;
        p = end + 1;
    }
    return false;
}

/* The enrolled unit keys (keys_dir/units/) against the active units: one finding per unit
 * without a key and per key without an active unit. only: check that unit alone. */
static int s_check(report_db_t *db, const char *keys_dir, const char *only,
                   report_control_reply_t *reply, char ***out, size_t *count)
{
    char *units = s_active_units(db);
    if (!units)
        return s_db_failed(db, reply);
    char *dir = report_sprintf("%s/units", keys_dir);
    report_keyring_t *ring = report_keyring_new(dir);
    free(dir);
    char *keys = report_strdup("");
    for (size_t i = 0; ring && i < report_keyring_count(ring); i++) {
        char *next = report_sprintf("%s%s\n", keys, report_keyring_identity_at(ring, i));
        free(keys);
        keys = next;
    }
    for (const char *p = units; *p;) {
        const char *end = strchr(p, '\n');
        char *code = report_strndup(p, (size_t)(end - p));
        if ((!only || strcmp(only, code) == 0) && !s_line_in(keys, code))
            s_add_string(out, count,
                         report_sprintf("unit_without_key: %s has no key in units/", code));
        free(code);
        p = end + 1;
    }
    for (size_t i = 0; !only && ring && i < report_keyring_count(ring); i++) {
        const char *name = report_keyring_identity_at(ring, i);
        if (!s_line_in(units, name))
            s_add_string(
                out, count,
                report_sprintf("key_without_unit: units/%s.pub names no active unit", name));
    }
    report_keyring_destroy(&ring);
    free(keys);
    free(units);
    return 0;
}

static int s_result_row(void *arg, const PGresult *res, int row)
{
    char **out = arg;
    free(*out);
    *out = report_strdup(PQgetvalue(res, row, 0));
    return 0;
}

static const char *s_refusal_message(const char *code)
{
    static const struct {
        const char *code, *message;
    } messages[] = {
        {"code_retired", "this code was retired; a retired code is never used again"},
        {"exists", "this code is already in the catalogue"},
        {"not_found", "no active entry has this code"},
        {"bad_kind", "the kind is unit, area, indicator, target, template or recipients"},
        {"bad_action", "add, rename, retire (unit, area, indicator); set (template, recipients)"},
        {"bad_fields", "missing or invalid values (see reportctl catalogue --help)"},
    };
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (strcmp(messages[i].code, code) == 0)
            return messages[i].message;
    return code;
}

/* One string of the values in NFC, checked as a unit's text is (valid UTF-8, no control or
 * bidirectional characters; names on one line, template texts may hold newlines). */
static int s_normalize_string(json_t *value, const char *key, report_refusal_t *why)
{
    report_field_kind_t kind = strcmp(key, "value") == 0 || strcmp(key, "recipients") == 0
                                   ? REPORT_FIELD_TEXT
                                   : REPORT_FIELD_KEY;
    char *nfc = NULL;
    if (report_text_normalize(json_string_value(value), json_string_length(value), kind, key, &nfc,
                              why) != 0)
        return -1;
    json_string_set(value, nfc);
    free(nfc);
    return 0;
}

/* The values (a JSON object) with every string, and every string of an array, in NFC; a new
 * string in *out, or -1 with *why filled (bad_fields when it is not an object). */
static int s_normalize_fields(const char *text, char **out, report_refusal_t *why)
{
    json_error_t jerr;
    json_t *fields = json_loads(text && *text ? text : "{}", 0, &jerr);
    int rc = json_is_object(fields) ? 0 : -1;
    if (rc != 0)
        snprintf(why->message, sizeof why->message, "the values are not a JSON object");
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value)
    {
        size_t i;
        json_t *item;
        if (rc == 0 && json_is_string(value))
            rc = s_normalize_string(value, key, why);
        json_array_foreach(value, i, item)
        {
            if (rc == 0 && json_is_string(item))
                rc = s_normalize_string(item, key, why);
        }
    }
    *out = rc == 0 ? json_dumps(fields, JSON_COMPACT) : NULL;
    json_decref(fields);
    return rc;
}

/* add, rename, retire (and a plan target: add target CODE with year and target); set of the
 * template's texts and its recipients. */
static int s_change(report_db_t *db, const char *keys_dir, const char *operator_name,
                    const report_control_request_t *req, report_control_reply_t *reply)
{
    report_refusal_t why = {.reason = REPORT_REASON_none};
    char *fields = NULL;
    if (!req->subject || !req->code || s_normalize_fields(req->fields_json, &fields, &why) != 0) {
        s_refuse(reply,
                 why.reason == REPORT_REASON_none ? "bad_fields" : report_reason_name(why.reason),
                 why.message[0] ? why.message : "kind and code are needed");
        return 0;
    }
    const char *params[] = {operator_name, req->action, req->subject, req->code, fields};
    char *outcome = NULL;
    int rc = report_db_query(db, "SELECT catalogue_change($1, $2, $3, $4, $5::jsonb)", 5, params,
                             s_result_row, &outcome);
    free(fields);
    if (rc != 0) {
        const char *state = report_db_sqlstate(db);
        if (state && strncmp(state, "22", 2) == 0) { /* a value of the wrong type */
            s_refuse(reply, "bad_fields", report_db_error(db));
            return 0;
        }
        return s_db_failed(db, reply);
    }
    if (outcome && *outcome) {
        s_refuse(reply, outcome, s_refusal_message(outcome));
    } else {
        reply->ok = true;
        reply->body = report_sprintf("%s %s %s: done (audited as %s)\n", req->action, req->subject,
                                     req->code, operator_name);
        log_info("catalogue changed", "operator=%s action=%s kind=%s code=%s",
                 report_logq(operator_name), req->action, req->subject, req->code);
        if (strcmp(req->action, "add") == 0 && strcmp(req->subject, "unit") == 0)
            s_check(db, keys_dir, req->code, reply, &reply->warnings, &reply->warning_count);
    }
    free(outcome);
    return 0;
}

int report_catalogue_handle(report_db_t *db, const char *keys_dir, const char *operator_name,
                            const report_control_request_t *req, report_control_reply_t *reply)
{
    const char *action = req->action ? req->action : "";
    if (strcmp(action, "list") == 0)
        return s_listing(db, req, false, reply);
    if (strcmp(action, "audit") == 0)
        return s_listing(db, req, true, reply);
    if (strcmp(action, "check") == 0) {
        int rc = s_check(db, keys_dir, NULL, reply, &reply->findings, &reply->finding_count);
        if (rc == 0) {
            reply->ok = true;
            reply->body = report_sprintf("%zu finding(s)", reply->finding_count);
        }
        return rc;
    }
    if (strcmp(action, "add") == 0 || strcmp(action, "rename") == 0 ||
        strcmp(action, "retire") == 0 || strcmp(action, "set") == 0)
        return s_change(db, keys_dir, operator_name, req, reply);
    s_refuse(reply, "bad_action", "the action is list, add, rename, retire, set, check or audit");
    return 0;
}
