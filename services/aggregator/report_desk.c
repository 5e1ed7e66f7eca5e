/* The units' desk on the aggregator (report_desk.h): the catalogue, the figures and the
 * unit's own items of a period, and the preview of a paragraph, as JSON for the desk's page. */
#include "report_desk.h"
#include "report_desk_codec.h"
#include "report_format.h"
#include "report_log.h"
#include "report_period.h"
#include "report_util.h"
#include "report_update.h"
#include "report_validate.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One indicator of the agency with the figures the report prints for the period. */
typedef struct {
    char *code, *area, *label, *measure;
    double month_value, ytd, own_ytd, plan;
    bool has_plan;
} s_indicator_t;

typedef struct {
    report_db_t *db;
    const char *unit;
    char agency[64];
    char unit_name[256];
    bool unit_found;
    int year, month;
    char year_s[8], month_s[8];
    s_indicator_t *indicators;
    size_t indicator_count;
    char buf[64]; /* the lookup's answer */
} s_desk_t;

static int s_unit_row(void *arg, const PGresult *res, int row)
{
    s_desk_t *d = arg;
    snprintf(d->agency, sizeof d->agency, "%s", PQgetvalue(res, row, 0));
    snprintf(d->unit_name, sizeof d->unit_name, "%s", PQgetvalue(res, row, 1));
    d->unit_found = true;
    return 0;
}

/* Month value, year to date (the agency's, as {CODE} and {CODE.ytd} print them, and the
 * unit's own share) and plan of every indicator, over the current version of each item as
 * compile counts them; the current version of item $5 of the unit is left out (a preview of
 * its amendment adds the form's figures instead). */
static const char *S_INDICATORS_SQL =
    "WITH cur AS ("
    "  SELECT h.seq, h.month, h.unit_code FROM item_heads h JOIN units u ON u.code = h.unit_code"
    "   WHERE u.agency_code = $1 AND h.year = $2::int AND h.month <= $3::int AND NOT h.withdrawn"
    "     AND NOT (h.unit_code = $4 AND h.month = $3::int AND h.item_key = $5)"
    "), v AS ("
    "  SELECT iv.indicator_code AS code,"
    "         sum(iv.value) FILTER (WHERE cur.month = $3::int) AS month_value,"
    "         sum(iv.value) AS ytd, sum(iv.value) FILTER (WHERE cur.unit_code = $4) AS own_ytd"
    "    FROM cur JOIN indicator_values iv ON iv.update_seq = cur.seq"
    "   GROUP BY iv.indicator_code"
    ")"
    "SELECT i.code, i.area_code, i.label, i.measure, coalesce(v.month_value, 0)::float8::text,"
    "       coalesce(v.ytd, 0)::float8::text, coalesce(v.own_ytd, 0)::float8::text,"
    "       coalesce(p.target::float8::text, '')"
    "  FROM indicators i JOIN work_areas w ON w.code = i.area_code"
    "  LEFT JOIN v ON v.code = i.code"
    "  LEFT JOIN plan_targets p ON p.indicator_code = i.code AND p.year = $2::int"
    " WHERE w.agency_code = $1 ORDER BY w.position, i.code";

static int s_indicator_row(void *arg, const PGresult *res, int row)
{
    s_desk_t *d = arg;
    d->indicators = report_realloc(d->indicators, (d->indicator_count + 1) * sizeof *d->indicators);
    s_indicator_t *i = &d->indicators[d->indicator_count++];
    i->code = report_strdup(PQgetvalue(res, row, 0));
    i->area = report_strdup(PQgetvalue(res, row, 1));
    i->label = report_strdup(PQgetvalue(res, row, 2));
    i->measure = report_strdup(PQgetvalue(res, row, 3));
    i->month_value = strtod(PQgetvalue(res, row, 4), NULL);
    i->ytd = strtod(PQgetvalue(res, row, 5), NULL);
    i->own_ytd = strtod(PQgetvalue(res, row, 6), NULL);
    const char *plan = PQgetvalue(res, row, 7);
    i->has_plan = *plan != '\0';
    i->plan = i->has_plan ? strtod(plan, NULL) : 0;
    return 0;
}

/* The unit (its agency) and the figures of the period; 0, or -1 with the reply's code. */
static int s_load(s_desk_t *d, const char *exclude_key, const char **code)
{
    const char *unit_params[1] = {d->unit};
    *code = "database";
    if (report_db_query(d->db, "SELECT agency_code, name FROM units WHERE code = $1", 1,
                        unit_params, s_unit_row, d) != 0)
        return -1;
    if (!d->unit_found) {
        *code = "unknown_unit";
        return -1;
    }
    snprintf(d->year_s, sizeof d->year_s, "%d", d->year);
    snprintf(d->month_s, sizeof d->month_s, "%d", d->month);
    const char *params[5] = {d->agency, d->year_s, d->month_s, d->unit, exclude_key};
    return report_db_query(d->db, S_INDICATORS_SQL, 5, params, s_indicator_row, d);
}

static void s_free(s_desk_t *d)
{
    for (size_t i = 0; i < d->indicator_count; i++) {
        free(d->indicators[i].code);
        free(d->indicators[i].area);
        free(d->indicators[i].label);
        free(d->indicators[i].measure);
    }
    free(d->indicators);
}

/* --- state: the catalogue, the figures and the unit's own items --- */

static const char *S_AREAS_SQL =
    "SELECT coalesce(json_agg(json_build_object('code', code, 'name', name) ORDER BY position),"
    "                '[]')::text"
    "  FROM work_areas WHERE agency_code = $1";

/* The current version of each of the unit's items of the period, with how many revisions
 * were stored and the figures it carries. Only the key's unit: $1 is never from a request. */
static const char *S_ITEMS_SQL =
    "SELECT coalesce(json_agg(json_build_object("
    "  'item_key', u.item_key, 'section', u.section, 'area', u.area_code,"
    "  'order', u.item_order, 'revision', u.revision, 'withdrawn', u.withdrawn,"
    "  'text', u.text, 'sub_items', u.sub_items, 'update_id', u.update_id,"
    "  'received_at', to_char(u.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "  'versions', (SELECT count(*) FROM updates x WHERE x.unit_code = u.unit_code"
    "                 AND x.year = u.year AND x.month = u.month AND x.item_key = u.item_key),"
    "  'indicators', (SELECT coalesce(json_object_agg(iv.indicator_code, iv.value), '{}')"
    "                   FROM indicator_values iv WHERE iv.update_seq = u.seq))"
    "  ORDER BY u.section, u.area_code, u.item_order, u.item_key), '[]')::text"
    "  FROM item_heads h JOIN updates u ON u.seq = h.seq"
    " WHERE h.unit_code = $1 AND h.year = $2::int AND h.month = $3::int";

static int s_json_row(void *arg, const PGresult *res, int row)
{
    json_t **out = arg;
    json_decref(*out);
    *out = json_loads(PQgetvalue(res, row, 0), 0, NULL);
    return 0;
}

static json_t *s_indicators_json(const s_desk_t *d)
{
    json_t *list = json_array();
    for (size_t k = 0; k < d->indicator_count; k++) {
        const s_indicator_t *i = &d->indicators[k];
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:o}", "code",
                                              i->code, "area", i->area, "label", i->label,
                                              "measure", i->measure, "month_value", i->month_value,
                                              "ytd", i->ytd, "own_ytd", i->own_ytd, "plan",
                                              i->has_plan ? json_real(i->plan) : json_null()));
    }
    return list;
}

static char *s_state(s_desk_t *d, const char **code)
{
    json_t *areas = NULL, *items = NULL;
    const char *area_params[1] = {d->agency};
    const char *item_params[3] = {d->unit, d->year_s, d->month_s};
    *code = "database";
    if (report_db_query(d->db, S_AREAS_SQL, 1, area_params, s_json_row, &areas) != 0 || !areas ||
        report_db_query(d->db, S_ITEMS_SQL, 3, item_params, s_json_row, &items) != 0 || !items) {
        json_decref(areas);
        json_decref(items);
        return NULL;
    }
    char period[16];
    snprintf(period, sizeof period, "%04d-%02d", d->year, d->month);
    json_t *doc = json_pack("{s:{s:s, s:s}, s:s, s:o, s:o, s:o}", "unit", "code", d->unit, "name",
                            d->unit_name, "period", period, "areas", areas, "indicators",
                            s_indicators_json(d), "items", items);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

/* --- preview: the paragraph as the report prints it --- */

/* {CODE} the month's figure, {CODE.ytd} the year to date, {CODE.plan} the target, {CODE.pct}
 * year to date over plan; {month} and {year}: formatted as report_assemble does. */
static const char *s_lookup(const char *name, void *arg)
{
    s_desk_t *d = arg;
    if (!strcmp(name, "year"))
        return d->year_s;
    if (!strcmp(name, "month"))
        return report_format_month(d->month, d->buf, sizeof d->buf) == 0 ? d->buf : NULL;
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    const char *field = dot ? dot + 1 : "";
    for (size_t k = 0; k < d->indicator_count; k++) {
        const s_indicator_t *i = &d->indicators[k];
        if (strlen(i->code) != len || strncmp(i->code, name, len) != 0)
            continue;
        int rc = -1;
        if (!*field)
            rc = report_format_number(i->month_value, d->buf, sizeof d->buf);
        else if (!strcmp(field, "ytd"))
            rc = report_format_number(i->ytd, d->buf, sizeof d->buf);
        else if (!strcmp(field, "plan") && i->has_plan)
            rc = report_format_number(i->plan, d->buf, sizeof d->buf);
        else if (!strcmp(field, "pct") && i->has_plan)
            rc = report_format_percent(i->ytd, i->plan, d->buf, sizeof d->buf);
        return rc == 0 ? d->buf : NULL;
    }
    return NULL;
}

static char *s_preview(s_desk_t *d, const report_desk_request_t *req)
{
    for (size_t v = 0; v < req->value_count; v++)
        for (size_t k = 0; k < d->indicator_count; k++)
            if (!strcmp(d->indicators[k].code, req->values[v].code)) {
                d->indicators[k].month_value += req->values[v].value;
                d->indicators[k].ytd += req->values[v].value;
                d->indicators[k].own_ytd += req->values[v].value;
            }
    size_t unknown = 0, more = 0;
    char *text = report_fill_pattern_counted(req->text, s_lookup, d, &unknown);
    json_t *subs = json_array();
    for (size_t s = 0; s < req->sub_item_count; s++) {
        char *sub = report_fill_pattern_counted(req->sub_items[s], s_lookup, d, &more);
        unknown += more;
        json_array_append_new(subs, json_string(sub));
        free(sub);
    }
    json_t *doc = json_pack("{s:s, s:o, s:I}", "text", text, "sub_items", subs, "unfilled",
                            (json_int_t)unknown);
    free(text);
    char *out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return out;
}

/* --- the request --- */

/* 0 if the request may be answered; else -1 with the reply's code and message. */
static int s_check(const report_desk_request_t *req, s_desk_t *d, report_desk_reply_t *reply)
{
    const char *code = NULL, *why = NULL;
    if (strcmp(req->kind, "state") != 0 && strcmp(req->kind, "preview") != 0)
        code = "bad_request", why = "kind: expected state or preview";
    else if (report_period_parse(req->period, &d->year, &d->month) != 0)
        code = "bad_period", why = "period: expected YYYY-MM";
    else if (req->value_count > REPORT_DESK_MAX_VALUES)
        code = "bad_request", why = "values: too many";
    if (code) {
        reply->error_code = report_strdup(code);
        reply->message = report_strdup(why);
        return -1;
    }
    const char *texts[2] = {req->text, req->item_key};
    for (size_t i = 0; i < 2 + req->sub_item_count; i++) {
        const char *t = i < 2 ? texts[i] : req->sub_items[i - 2];
        char *norm = NULL;
        report_refusal_t refusal;
        if (report_text_normalize(t, strlen(t), REPORT_FIELD_TEXT, "text", &norm, &refusal) != 0) {
            reply->error_code = report_strdup(report_reason_name(refusal.reason));
            reply->message = report_strdup(refusal.message);
            return -1;
        }
        free(norm);
    }
    return 0;
}

uint8_t *report_desk_answer(report_db_t *db, const char *unit, const uint8_t *data, size_t size,
                            size_t *reply_size, int *refused)
{
    report_desk_request_t req;
    report_desk_reply_t reply = {0};
    s_desk_t d = {.db = db, .unit = unit};
    *refused = 1;
    if (report_desk_request_decode(data, size, &req) != 0) {
        reply.error_code = report_strdup("bad_request");
        reply.message = report_strdup("not a DeskRequest");
    } else if (s_check(&req, &d, &reply) == 0) {
        const char *code = NULL;
        bool preview = !strcmp(req.kind, "preview");
        if (s_load(&d, preview ? req.item_key : "", &code) == 0)
            reply.json = preview ? s_preview(&d, &req) : s_state(&d, &code);
        reply.ok = reply.json != NULL;
        *refused = !reply.ok;
        if (!reply.ok) {
            reply.error_code = report_strdup(code);
            reply.message = report_strdup(!strcmp(code, "database") ? report_db_error(db)
                                                                    : "the key's unit is not "
                                                                      "in the catalogue");
        }
    }
    if (*refused)
        log_warn("desk request refused", "unit=%s code=%s", report_logq(unit),
                 report_logq(reply.error_code));
    uint8_t *buf = report_desk_reply_encode(&reply, reply_size);
    report_desk_reply_clear(&reply);
    report_desk_request_clear(&req);
    s_free(&d);
    return buf;
}
