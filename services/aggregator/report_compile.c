/* From stored updates to a report_doc_t. All figures are computed by PostgreSQL; this file
 * only asks for them in the template's order and fills the patterns. */
#define _GNU_SOURCE
#include "report_compile.h"
#include "report_format.h"
#include "report_period.h"
#include "report_util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_WARNINGS 100

static int s_fail(report_compiled_t *out, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(report_compiled_t *out, const char *code, const char *fmt, ...)
{
    snprintf(out->error_code, sizeof out->error_code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* A failed statement: "db_retry" when it was transient (running the request again may
 * succeed), else "db_error". */
static int s_db_fail(report_compiled_t *out, const report_db_t *db)
{
    return s_fail(out, report_db_retryable(db) ? "db_retry" : "db_error", "%s",
                  report_db_error(db));
}

static void s_warn(report_compiled_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void s_warn(report_compiled_t *out, const char *fmt, ...)
{
    if (out->warning_count >= S_MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *w = NULL;
    if (vasprintf(&w, fmt, ap) < 0)
        w = NULL;
    va_end(ap);
    if (!w)
        return;
    for (size_t i = 0; i < out->warning_count; i++) {
        if (strcmp(out->warnings[i], w) == 0) {
            free(w);
            return;
        }
    }
    out->warnings = report_realloc(out->warnings, (out->warning_count + 1) * sizeof(char *));
    out->warnings[out->warning_count++] = w;
}

/* --- the template --- */

enum {
    T_CODE,
    T_PARENT,
    T_NAME,
    T_SYMBOL,
    T_PLACE,
    T_MOTTO,
    T_MOTTO_SUB,
    T_DOC_TYPE,
    T_SUMMARY,
    T_SUMMARY_YEAR_END,
    T_INTRO,
    T_INTRO_NO_BASIS,
    T_S1,
    T_S1A,
    T_S1A_INTRO,
    T_S1B,
    T_S2,
    T_S2_INTRO,
    T_CLOSING,
    T_END_MARK,
    T_RECIPIENTS_HEADING,
    T_SIGNER_AUTHORITY,
    T_SIGNER_TITLE,
    T_SIGNER_NAME,
    T_PERIOD_RULE,
    T_CUTOFF_DAY,
    T_PLAN_DECISION,
    T_COUNT
};

static const char *S_TEMPLATE_SQL =
    "SELECT a.code, a.parent_authority, a.name, a.symbol, a.place, t.motto, t.motto_sub,"
    " t.doc_type, t.summary_pattern, t.summary_pattern_year_end, t.intro_pattern,"
    " t.intro_pattern_no_basis, t.section1_heading, t.section1a_heading, t.section1a_intro,"
    " t.section1b_heading, t.section2_heading, t.section2_intro, t.closing_pattern, t.end_mark,"
    " t.recipients_heading, t.signer_authority, t.signer_title, t.signer_name, t.period_rule,"
    " t.cutoff_day::text,"
    " coalesce((SELECT decision FROM annual_plans p WHERE p.agency_code = a.code"
    "           AND p.year = $2::int), '')"
    " FROM agencies a JOIN report_templates t ON t.agency_code = a.code"
    " WHERE $1 = '' OR a.code = $1 ORDER BY a.code LIMIT 1";

typedef struct {
    char *f[T_COUNT];
    bool found;
} s_template_t;

static int s_template_row(void *arg, const PGresult *res, int row)
{
    s_template_t *t = arg;
    for (int i = 0; i < T_COUNT; i++)
        t->f[i] = report_strdup(PQgetvalue(res, row, i));
    t->found = true;
    return 0;
}

/* --- indicators --- */

typedef struct {
    char *code;
    double month_value;
    double ytd;
    double plan;
    bool has_plan;
} s_indicator_t;

typedef struct {
    s_indicator_t *list;
    size_t count;
} s_indicators_t;

/* Month value and year to date of every indicator of the agency, over the current version
 * of each item (amendments replace, withdrawn items count nothing), plus the plan target.
 * The current versions come from item_heads (migration 007: the rows of current_items, kept
 * as updates arrive), so the cost follows the number of items, not of their revisions. */
static const char *S_INDICATORS_SQL =
    "WITH cur AS ("
    "  SELECT h.seq, h.month FROM item_heads h JOIN units u ON u.code = h.unit_code"
    "   WHERE u.agency_code = $1 AND h.year = $2::int AND h.month <= $3::int"
    "     AND NOT h.withdrawn"
    "), v AS ("
    "  SELECT iv.indicator_code AS code,"
    "         sum(iv.value) FILTER (WHERE cur.month = $3::int) AS month_value,"
    "         sum(iv.value) AS ytd"
    "    FROM cur JOIN indicator_values iv ON iv.update_seq = cur.seq"
    "   GROUP BY iv.indicator_code"
    ")"
    "SELECT i.code, coalesce(v.month_value, 0)::float8::text, coalesce(v.ytd, 0)::float8::text,"
    "       coalesce(p.target::float8::text, '')"
    "  FROM indicators i JOIN work_areas w ON w.code = i.area_code"
    "  LEFT JOIN v ON v.code = i.code"
    "  LEFT JOIN plan_targets p ON p.indicator_code = i.code AND p.year = $2::int"
    " WHERE w.agency_code = $1 ORDER BY i.code";

static int s_indicator_row(void *arg, const PGresult *res, int row)
{
    s_indicators_t *ind = arg;
    ind->list = report_realloc(ind->list, (ind->count + 1) * sizeof(s_indicator_t));
    s_indicator_t *i = &ind->list[ind->count++];
    i->code = report_strdup(PQgetvalue(res, row, 0));
    i->month_value = strtod(PQgetvalue(res, row, 1), NULL);
    i->ytd = strtod(PQgetvalue(res, row, 2), NULL);
    const char *plan = PQgetvalue(res, row, 3);
    i->has_plan = *plan != '\0';
    i->plan = i->has_plan ? strtod(plan, NULL) : 0;
    return 0;
}

/* --- placeholder lookup --- */

typedef struct {
    const char *names[12];
    const char *values[12];
    size_t count;
    const s_indicators_t *ind;
    int year;
    report_compiled_t *out;
    char buf[64];
} s_lookup_t;

static void s_lookup_add(s_lookup_t *l, const char *name, const char *value)
{
    l->names[l->count] = name;
    l->values[l->count] = value;
    l->count++;
}

static const char *s_lookup(const char *name, void *arg)
{
    s_lookup_t *l = arg;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->names[i], name) == 0)
            return l->values[i];
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    const char *field = dot ? dot + 1 : "";
    for (size_t i = 0; i < l->ind->count; i++) {
        const s_indicator_t *ind = &l->ind->list[i];
        if (strlen(ind->code) != len || strncmp(ind->code, name, len) != 0)
            continue;
        int rc = -1;
        if (!*field)
            rc = report_format_number(ind->month_value, l->buf, sizeof l->buf);
        else if (!strcmp(field, "ytd"))
            rc = report_format_number(ind->ytd, l->buf, sizeof l->buf);
        else if (!strcmp(field, "plan") || !strcmp(field, "pct")) {
            if (!ind->has_plan) {
                s_warn(l->out, "{%s}: no plan target for %s in %d", name, ind->code, l->year);
                return NULL;
            }
            rc = !strcmp(field, "plan")
                     ? report_format_number(ind->plan, l->buf, sizeof l->buf)
                     : report_format_percent(ind->ytd, ind->plan, l->buf, sizeof l->buf);
        }
        if (rc != 0) {
            s_warn(l->out, "{%s}: cannot be written", name);
            return NULL;
        }
        return l->buf;
    }
    s_warn(l->out, "{%s}: unknown placeholder", name);
    return NULL;
}

static char *s_fill(s_lookup_t *l, const char *pattern)
{
    return report_fill_pattern(pattern, s_lookup, l);
}

/* --- items --- */

/* The current version of each item (item_heads), then only those rows of updates. */
static const char *S_ITEMS_SQL =
    "SELECT c.section, c.area_code, w.lead_in, c.text, c.sub_items::text"
    "  FROM item_heads h JOIN updates c ON c.seq = h.seq"
    "  JOIN units u ON u.code = h.unit_code"
    "  JOIN work_areas w ON w.code = c.area_code"
    " WHERE u.agency_code = $1 AND h.year = $2::int AND h.month = $3::int"
    "   AND NOT h.withdrawn AND c.text <> ''"
    " ORDER BY w.position, u.position, c.item_order, c.item_key";

typedef struct {
    report_doc_t *doc;
    s_lookup_t *lookup;
    char *last_area; /* area code of the last area added to 1.a */
} s_items_t;

static void s_item_fill(s_items_t *it, report_item_t *item, const char *text, const char *subs)
{
    item->text = s_fill(it->lookup, text);
    json_error_t err;
    json_t *arr = json_loads(subs, 0, &err);
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    item->sub_items = n ? report_calloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, i);
        item->sub_items[item->sub_item_count++] =
            s_fill(it->lookup, json_is_string(s) ? json_string_value(s) : "");
    }
    json_decref(arr);
}

static report_item_t *s_append(report_item_t **items, size_t *count)
{
    *items = report_realloc(*items, (*count + 1) * sizeof(report_item_t));
    report_item_t *item = &(*items)[(*count)++];
    memset(item, 0, sizeof *item);
    return item;
}

static int s_item_row(void *arg, const PGresult *res, int row)
{
    s_items_t *it = arg;
    report_doc_t *doc = it->doc;
    const char *section = PQgetvalue(res, row, 0);
    const char *area = PQgetvalue(res, row, 1);
    report_item_t *item;
    if (strcmp(section, "result") == 0) {
        if (!it->last_area || strcmp(it->last_area, area) != 0) {
            doc->areas = report_realloc(doc->areas, (doc->area_count + 1) * sizeof(report_area_t));
            report_area_t *a = &doc->areas[doc->area_count++];
            memset(a, 0, sizeof *a);
            a->lead_in = s_fill(it->lookup, PQgetvalue(res, row, 2));
            free(it->last_area);
            it->last_area = report_strdup(area);
        }
        report_area_t *a = &doc->areas[doc->area_count - 1];
        item = s_append(&a->items, &a->item_count);
    } else if (strcmp(section, "limitation") == 0) {
        item = s_append(&doc->limitations, &doc->limitation_count);
    } else {
        item = s_append(&doc->next_tasks, &doc->next_task_count);
    }
    s_item_fill(it, item, PQgetvalue(res, row, 3), PQgetvalue(res, row, 4));
    return 0;
}

/* --- small queries --- */

static int s_strv_row(void *arg, const PGresult *res, int row)
{
    char ***v = ((char ***)arg);
    size_t *n = (size_t *)v[1];
    char **list = *v;
    list = report_realloc(list, (*n + 1) * sizeof(char *));
    list[(*n)++] = report_strdup(PQgetvalue(res, row, 0));
    *v = list;
    return 0;
}

static int s_strv_query(report_db_t *db, const char *sql, int nparams, const char *const *params,
                        char ***list, size_t *count)
{
    void *arg[2] = {NULL, count};
    *count = 0;
    int rc = report_db_query(db, sql, nparams, params, s_strv_row, arg);
    *list = arg[0];
    return rc;
}

/* --- compile --- */

/* One compile: the request, what was read for it, and the buffers its placeholders point
 * into (they live as long as the compile). */
typedef struct {
    const report_compile_request_t *req;
    report_compiled_t *out;
    const char *agency;
    bool dated;
    int dy, dm, dd; /* the document's date, when dated */
    int next_year, next_month;
    char year_s[16], month_param[16]; /* statement parameters */
    char month_s[16], next_year_s[16], next_month_s[16], start_s[32], end_s[32];
    s_template_t t;
    s_indicators_t ind;
    s_lookup_t lookup;
} s_compile_t;

/* The period and the date of the request. 0, or -1 with out's error set. */
static int s_check_request(s_compile_t *c)
{
    const report_compile_request_t *req = c->req;
    if (req->year < REPORT_YEAR_MIN || req->year > REPORT_YEAR_MAX || req->month < 1 ||
        req->month > 12)
        return s_fail(c->out, "bad_period", "period %04d-%02d is not a valid month", req->year,
                      req->month);
    c->dated = req->date && *req->date;
    if (c->dated && report_date_parse(req->date, &c->dy, &c->dm, &c->dd) != 0)
        return s_fail(c->out, "bad_date", "date '%s' is not YYYY-MM-DD", req->date);
    snprintf(c->year_s, sizeof c->year_s, "%d", req->year);
    snprintf(c->month_param, sizeof c->month_param, "%d", req->month);
    c->agency = req->agency_code ? req->agency_code : "";
    return 0;
}

/* Reads the agency's template, checks that someone pushed for the period, and reads the
 * indicators' figures and the units that pushed nothing. 0, or -1 with out's error set. */
static int s_load(report_db_t *db, s_compile_t *c)
{
    const char *tp[] = {c->agency, c->year_s};
    if (report_db_query(db, S_TEMPLATE_SQL, 2, tp, s_template_row, &c->t) != 0)
        return s_db_fail(c->out, db);
    if (!c->t.found)
        return s_fail(c->out, *c->agency ? "unknown_agency" : "no_template",
                      *c->agency ? "no agency %s with a report template" : "%sno report template",
                      c->agency);
    const char *p3[] = {c->t.f[T_CODE], c->year_s, c->month_param};
    char **counts = NULL;
    size_t n = 0;
    if (s_strv_query(db,
                     "SELECT count(*)::text FROM (SELECT 1 FROM updates x"
                     "  JOIN units u ON u.code = x.unit_code"
                     " WHERE u.agency_code = $1 AND x.year = $2::int AND x.month = $3::int"
                     " LIMIT 1) s",
                     3, p3, &counts, &n) != 0)
        return s_db_fail(c->out, db);
    bool empty = !n || strcmp(counts[0], "0") == 0;
    report_strv_free(counts, n);
    if (empty)
        return s_fail(c->out, "no_updates", "no unit of %s has pushed anything for %04d-%02d",
                      c->t.f[T_CODE], c->req->year, c->req->month);
    if (report_db_query(db, S_INDICATORS_SQL, 3, p3, s_indicator_row, &c->ind) != 0 ||
        s_strv_query(db,
                     "SELECT u.code || E'\\t' || u.name FROM units u"
                     " WHERE u.agency_code = $1 AND u.active AND NOT EXISTS ("
                     "  SELECT 1 FROM updates x WHERE x.unit_code = u.code"
                     "   AND x.year = $2::int AND x.month = $3::int)"
                     " ORDER BY u.position",
                     3, p3, &c->out->missing_units, &c->out->missing_count) != 0)
        return s_db_fail(c->out, db);
    return 0;
}

/* The placeholders of the period and of the template ({month}, {period_start}, {place}, ...)
 * for s_fill; indicator placeholders are looked up in c->ind. */
static void s_lookup_period(s_compile_t *c)
{
    const report_compile_request_t *req = c->req;
    report_period_next(req->year, req->month, &c->next_year, &c->next_month);
    report_format_month(req->month, c->month_s, sizeof c->month_s);
    report_format_month(c->next_month, c->next_month_s, sizeof c->next_month_s);
    snprintf(c->next_year_s, sizeof c->next_year_s, "%d", c->next_year);
    report_period_rule_t rule = {strcmp(c->t.f[T_PERIOD_RULE], "cutoff") == 0,
                                 atoi(c->t.f[T_CUTOFF_DAY])};
    int y0, m0, d0, y1, m1, d1;
    report_period_range(&rule, req->year, req->month, &y0, &m0, &d0, &y1, &m1, &d1);
    report_format_date_short(y0, m0, d0, c->start_s, sizeof c->start_s);
    report_format_date_short(y1, m1, d1, c->end_s, sizeof c->end_s);
    s_lookup_t *l = &c->lookup;
    *l = (s_lookup_t){.ind = &c->ind, .year = req->year, .out = c->out};
    s_lookup_add(l, "month", c->month_s);
    s_lookup_add(l, "year", c->year_s);
    s_lookup_add(l, "next_month", c->next_month_s);
    s_lookup_add(l, "next_year", c->next_year_s);
    s_lookup_add(l, "basis", req->basis ? req->basis : "");
    s_lookup_add(l, "plan_decision", c->t.f[T_PLAN_DECISION]);
    s_lookup_add(l, "period_start", c->start_s);
    s_lookup_add(l, "period_end", c->end_s);
    s_lookup_add(l, "place", c->t.f[T_PLACE]);
    if (!*c->t.f[T_PLAN_DECISION])
        s_warn(c->out, "no annual plan decision recorded for %d", req->year);
}

/* The document around the items: header, title, intro, headings, closing, signer, from the
 * template with its placeholders filled. */
static report_doc_t *s_doc_head(s_compile_t *c)
{
    const report_compile_request_t *req = c->req;
    char *const *f = c->t.f;
    report_doc_t *doc = report_doc_new();
    doc->agency_code = report_strdup(f[T_CODE]);
    doc->year = req->year;
    doc->month = req->month;
    doc->number = req->number;
    doc->doc_date = report_strdup(c->dated ? req->date : "");
    doc->parent_authority = report_strdup(f[T_PARENT]);
    doc->agency_name = report_strdup(f[T_NAME]);
    doc->number_line = req->number > 0 ? report_sprintf("Số: %d/%s", req->number, f[T_SYMBOL])
                                       : report_sprintf("Số:      /%s", f[T_SYMBOL]);
    doc->motto = report_strdup(f[T_MOTTO]);
    doc->motto_sub = report_strdup(f[T_MOTTO_SUB]);
    if (c->dated) {
        char date_buf[64];
        report_format_date_long(c->dy, c->dm, c->dd, date_buf, sizeof date_buf);
        doc->place_date = report_sprintf("%s, %s", f[T_PLACE], date_buf);
    } else {
        doc->place_date = report_sprintf("%s, ngày      tháng      năm %d", f[T_PLACE], req->year);
    }
    doc->doc_type = report_strdup(f[T_DOC_TYPE]);
    s_lookup_t *l = &c->lookup;
    doc->summary = s_fill(l, f[c->next_year == req->year ? T_SUMMARY : T_SUMMARY_YEAR_END]);
    doc->intro = s_fill(l, f[req->basis && *req->basis ? T_INTRO : T_INTRO_NO_BASIS]);
    doc->section1_heading = s_fill(l, f[T_S1]);
    doc->section1a_heading = s_fill(l, f[T_S1A]);
    doc->section1a_intro = s_fill(l, f[T_S1A_INTRO]);
    doc->section1b_heading = s_fill(l, f[T_S1B]);
    doc->section2_heading = s_fill(l, f[T_S2]);
    doc->section2_intro = s_fill(l, f[T_S2_INTRO]);
    char *closing = s_fill(l, f[T_CLOSING]);
    doc->closing = report_sprintf("%s%s", closing, f[T_END_MARK]);
    free(closing);
    doc->recipients_heading = report_strdup(f[T_RECIPIENTS_HEADING]);
    doc->signer_authority = report_strdup(f[T_SIGNER_AUTHORITY]);
    doc->signer_title = report_strdup(f[T_SIGNER_TITLE]);
    doc->signer_name = report_strdup(f[T_SIGNER_NAME]);
    return doc;
}

/* Reads the recipients and the current items into doc (each item's text filled as it comes).
 * 0, or -1 with out's error set. */
static int s_load_items(report_db_t *db, s_compile_t *c, report_doc_t *doc)
{
    const char *p1[] = {c->t.f[T_CODE]};
    const char *p3[] = {c->t.f[T_CODE], c->year_s, c->month_param};
    s_items_t items = {.doc = doc, .lookup = &c->lookup};
    int rc = 0;
    if (s_strv_query(db,
                     "SELECT text FROM report_recipients WHERE agency_code = $1 ORDER BY position",
                     1, p1, &doc->recipients, &doc->recipient_count) != 0 ||
        report_db_query(db, S_ITEMS_SQL, 3, p3, s_item_row, &items) != 0)
        rc = s_db_fail(c->out, db);
    free(items.last_area);
    return rc;
}

int report_compile(report_db_t *db, const report_compile_request_t *req, report_compiled_t *out)
{
    memset(out, 0, sizeof *out);
    s_compile_t c = {.req = req, .out = out};
    report_doc_t *doc = NULL;
    if (s_check_request(&c) == 0 && s_load(db, &c) == 0) {
        s_lookup_period(&c);
        doc = s_doc_head(&c);
        if (s_load_items(db, &c, doc) == 0) {
            out->doc = doc;
            doc = NULL;
        }
    }
    report_doc_destroy(&doc);
    for (size_t i = 0; i < c.ind.count; i++)
        free(c.ind.list[i].code);
    free(c.ind.list);
    for (int i = 0; i < T_COUNT; i++)
        free(c.t.f[i]);
    return out->doc ? 0 : -1;
}

void report_compiled_clear(report_compiled_t *out)
{
    report_doc_destroy(&out->doc);
    report_strv_free(out->missing_units, out->missing_count);
    report_strv_free(out->warnings, out->warning_count);
    memset(out, 0, sizeof *out);
}
