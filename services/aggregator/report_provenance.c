/* Provenance of the office's draft: read from the database (the items changed since the last
 * compile with sources, the indicator values month by month and item by item), completed from
 * the compile's own input, and kept as jansson trees that the JSON and HTML renderings of the
 * draft carry. The typed-number rule is in report_provenance_typed.c. */
#define _GNU_SOURCE
#include "report_provenance.h"
#include "report_format.h"
#include "report_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct report_provenance_s {
    int month;
    json_t *last_compiled_at; /* string, or null before the first compile with sources */
    json_t *changed;          /* [{unit, item_key, revision, update_id, change, ...}] */
    size_t changed_count;     /* found, listed or not */
    json_t *months;           /* {CODE: [{month, value, item_count, items: [...]}]} */
    json_t *indicators;       /* {CODE: {label, measure, month_value, ytd, plan, months}} */
    json_t *items;            /* the sources of the compile input's items, in its order */
    json_t *typed;            /* [{unit, item_key, text, context, rule, indicator}] */
    size_t typed_count;       /* found, listed or not */
    json_t *missing;          /* [{unit, name}] */
};

report_provenance_t *report_provenance_new(void)
{
    report_provenance_t *self = report_calloc(1, sizeof *self);
    self->last_compiled_at = json_null();
    self->changed = json_array();
    self->months = json_object();
    self->indicators = json_object();
    self->items = json_array();
    self->typed = json_array();
    self->missing = json_array();
    if (!self->changed || !self->months || !self->items || !self->typed || !self->missing)
        report_out_of_memory(0);
    return self;
}

void report_provenance_destroy(report_provenance_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_provenance_t *self = *self_p;
    json_decref(self->last_compiled_at);
    json_decref(self->changed);
    json_decref(self->months);
    json_decref(self->indicators);
    json_decref(self->items);
    json_decref(self->typed);
    json_decref(self->missing);
    free(self);
    *self_p = NULL;
}

size_t report_provenance_changed_count(const report_provenance_t *self)
{
    return self ? self->changed_count : 0;
}

size_t report_provenance_typed_count(const report_provenance_t *self)
{
    return self ? self->typed_count : 0;
}

void report_provenance_item_sources(const report_provenance_t *self, json_t *into)
{
    if (self)
        json_array_extend(into, self->items);
}

/* A figure as JSON: an integer when it is one, else a real. */
static json_t *s_json_number(double v)
{
    if (v == (double)(json_int_t)v && v > -1e15 && v < 1e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* --- the load --- */

/* The time of the last compile with sources of the period (UTC), before this one records its
 * own. */
static const char *S_LAST_COMPILE_SQL =
    "SELECT to_char(compiled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    "  FROM compile_times WHERE agency_code = $1 AND year = $2::int AND month = $3::int";

/* In one statement (so one snapshot of the data): the item heads of the period against those
 * the last compile recorded, answering the items that are new or whose current version is
 * another update since, and recording the heads (only the rows that changed) and the time
 * for the next compile. */
static const char *S_SNAPSHOT_SQL =
    "WITH cur AS ("
    "  SELECT h.unit_code, h.item_key, h.revision, h.withdrawn, x.update_id, u.position"
    "    FROM item_heads h JOIN units u ON u.code = h.unit_code JOIN updates x ON x.seq = h.seq"
    "   WHERE u.agency_code = $1 AND h.year = $2::int AND h.month = $3::int"
    "), rec AS ("
    "  INSERT INTO compile_snapshots AS s"
    "         (year, month, unit_code, item_key, revision, update_id, withdrawn)"
    "  SELECT $2::int, $3::int, unit_code, item_key, revision, update_id, withdrawn FROM cur"
    "  ON CONFLICT (year, month, unit_code, item_key) DO UPDATE"
    "     SET revision = excluded.revision, update_id = excluded.update_id,"
    "         withdrawn = excluded.withdrawn, compiled_at = now()"
    "   WHERE s.update_id <> excluded.update_id OR s.withdrawn <> excluded.withdrawn"
    "), at AS ("
    "  INSERT INTO compile_times AS t (agency_code, year, month) VALUES ($1, $2::int, $3::int)"
    "  ON CONFLICT (agency_code, year, month) DO UPDATE SET compiled_at = now()"
    ")"
    "SELECT c.unit_code, c.item_key, c.revision::text, c.update_id::text,"
    "       CASE WHEN c.withdrawn THEN 'withdrawn' WHEN p.item_key IS NULL THEN 'new'"
    "            ELSE 'amended' END,"
    "       coalesce(p.revision::text, '')"
    "  FROM cur c LEFT JOIN compile_snapshots p ON p.year = $2::int AND p.month = $3::int"
    "   AND p.unit_code = c.unit_code AND p.item_key = c.item_key"
    " WHERE p.item_key IS NULL OR p.update_id <> c.update_id"
    " ORDER BY c.position, c.item_key";

/* The indicator values of the current items of the year to the month (the rows the
 * compile's year-to-date sums), each with the item it came from and its month's sum and
 * count; at most $4 items per indicator and month. */
static const char *S_VALUES_SQL =
    "SELECT code, month::text, value::float8::text, unit_code, item_key, revision::text,"
    "       update_id::text, committed_at, month_sum::float8::text, month_items::text FROM ("
    "  SELECT iv.indicator_code AS code, h.month, iv.value, h.unit_code, h.item_key, h.revision,"
    "         x.update_id,"
    "         to_char(x.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    "           AS committed_at,"
    "         sum(iv.value) OVER w AS month_sum, count(*) OVER w AS month_items,"
    "         row_number() OVER (w ORDER BY u.position, h.item_key) AS n"
    "    FROM item_heads h JOIN units u ON u.code = h.unit_code JOIN updates x ON x.seq = h.seq"
    "    JOIN indicator_values iv ON iv.update_seq = h.seq"
    "   WHERE u.agency_code = $1 AND h.year = $2::int AND h.month <= $3::int"
    "     AND NOT h.withdrawn"
    "  WINDOW w AS (PARTITION BY iv.indicator_code, h.month)"
    ") v WHERE n <= $4::int ORDER BY code, month, n";

static int s_last_compile_row(void *arg, const PGresult *res, int row)
{
    report_provenance_t *self = arg;
    json_decref(self->last_compiled_at);
    self->last_compiled_at = json_string(PQgetvalue(res, row, 0));
    return 0;
}

static int s_changed_row(void *arg, const PGresult *res, int row)
{
    report_provenance_t *self = arg;
    if (self->changed_count++ >= REPORT_PROVENANCE_LIST_MAX)
        return 0;
    const char *previous = PQgetvalue(res, row, 5);
    json_t *c = json_pack("{s:s, s:s, s:i, s:s, s:s}", "unit", PQgetvalue(res, row, 0), "item_key",
                          PQgetvalue(res, row, 1), "revision", atoi(PQgetvalue(res, row, 2)),
                          "update_id", PQgetvalue(res, row, 3), "change", PQgetvalue(res, row, 4));
    json_object_set_new(c, "previous_revision",
                        *previous ? json_integer(atoi(previous)) : json_null());
    json_array_append_new(self->changed, c);
    return 0;
}

/* One value: into the month's entry of its indicator (a new entry when the month changes;
 * the rows come by indicator, then month). */
static int s_value_row(void *arg, const PGresult *res, int row)
{
    report_provenance_t *self = arg;
    const char *code = PQgetvalue(res, row, 0);
    int month = atoi(PQgetvalue(res, row, 1));
    double value = strtod(PQgetvalue(res, row, 2), NULL);
    json_t *list = json_object_get(self->months, code);
    if (!list) {
        list = json_array();
        json_object_set_new(self->months, code, list);
    }
    json_t *entry = json_array_get(list, json_array_size(list) - 1);
    if (!entry || json_integer_value(json_object_get(entry, "month")) != month) {
        entry = json_pack("{s:i}", "month", month);
        json_object_set_new(entry, "value", s_json_number(strtod(PQgetvalue(res, row, 8), NULL)));
        json_object_set_new(entry, "item_count", json_integer(atoll(PQgetvalue(res, row, 9))));
        json_object_set_new(entry, "items", json_array());
        json_array_append_new(list, entry);
    }
    json_t *item =
        json_pack("{s:s, s:s, s:i, s:s, s:s}", "unit", PQgetvalue(res, row, 3), "item_key",
                  PQgetvalue(res, row, 4), "revision", atoi(PQgetvalue(res, row, 5)), "update_id",
                  PQgetvalue(res, row, 6), "committed_at", PQgetvalue(res, row, 7));
    json_object_set_new(item, "value", s_json_number(value));
    json_array_append_new(json_object_get(entry, "items"), item);
    return 0;
}

int report_provenance_load(report_provenance_t *self, report_db_t *db, const char *agency_code,
                           int year, int month)
{
    char year_s[16], month_s[16];
    snprintf(year_s, sizeof year_s, "%d", year);
    snprintf(month_s, sizeof month_s, "%d", month);
    char per_month[16];
    snprintf(per_month, sizeof per_month, "%d", REPORT_PROVENANCE_ITEMS_PER_MONTH);
    const char *p4[] = {agency_code, year_s, month_s, per_month};
    self->month = month;
    if (report_db_query(db, S_LAST_COMPILE_SQL, 3, p4, s_last_compile_row, self) != 0 ||
        report_db_query(db, S_SNAPSHOT_SQL, 3, p4, s_changed_row, self) != 0 ||
        report_db_query(db, S_VALUES_SQL, 4, p4, s_value_row, self) != 0)
        return -1;
    return 0;
}

/* --- the sources of the items and their figures --- */

/* The months of code's values and their sums ({month, value}): all of them up to the
 * report's month, or only that month. The items behind them are under "indicators". */
static json_t *s_months(const report_provenance_t *self, const char *code, bool only_month)
{
    json_t *all = json_object_get(self->months, code);
    json_t *out = json_array();
    size_t i;
    json_t *entry;
    json_array_foreach(all, i, entry)
    {
        json_t *month = json_object_get(entry, "month");
        if (!only_month || json_integer_value(month) == self->month)
            json_array_append_new(out, json_pack("{s:O, s:O}", "month", month, "value",
                                                 json_object_get(entry, "value")));
    }
    return out;
}

/* The sources of one figure {name} of indicator ind (field "", "ytd", "plan" or "pct"), the
 * value as the report prints it; NULL for a field the report does not fill. */
static json_t *s_figure(const report_provenance_t *self, const report_compile_indicator_t *ind,
                        const char *name, const char *field)
{
    char text[64] = "";
    double value;
    if (!*field) {
        value = ind->month_value;
        report_format_number(value, text, sizeof text);
    } else if (!strcmp(field, "ytd")) {
        value = ind->ytd;
        report_format_number(value, text, sizeof text);
    } else if (ind->has_plan && !strcmp(field, "plan")) {
        value = ind->plan;
        report_format_number(value, text, sizeof text);
    } else if (ind->has_plan && !strcmp(field, "pct")) {
        value = 100.0 * ind->ytd / ind->plan;
        report_format_percent(ind->ytd, ind->plan, text, sizeof text);
    } else {
        return NULL;
    }
    json_t *f = json_pack("{s:s, s:s, s:s}", "placeholder", name, "indicator", ind->code, "field",
                          *field ? field : "month");
    json_object_set_new(f, "value", s_json_number(value));
    json_object_set_new(f, "text", json_string(text));
    if (strcmp(field, "plan") != 0)
        json_object_set_new(f, "months", s_months(self, ind->code, !*field));
    if (!strcmp(field, "plan") || !strcmp(field, "pct"))
        json_object_set_new(f, "plan", s_json_number(ind->plan));
    return f;
}

/* Whether numbers already holds the figure {name}. */
static bool s_has_figure(const json_t *numbers, const char *name)
{
    size_t i;
    const json_t *f;
    json_array_foreach(numbers, i, f)
    {
        if (!strcmp(json_string_value(json_object_get(f, "placeholder")), name))
            return true;
    }
    return false;
}

/* The figures of pattern's placeholders that name an indicator, once each, into numbers. */
static void s_figures(const report_provenance_t *self, const report_compile_input_t *in,
                      const char *pattern, json_t *numbers)
{
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
        size_t len =
            strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.");
        if (len == 0 || p[1 + len] != '}')
            continue;
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
        const char *dot = strchr(name, '.');
        size_t code_len = dot ? (size_t)(dot - name) : strlen(name);
        bool seen = s_has_figure(numbers, name);
        for (size_t j = 0; !seen && j < in->indicator_count; j++) {
            const report_compile_indicator_t *ind = &in->indicators[j];
            if (strlen(ind->code) != code_len || strncmp(ind->code, name, code_len) != 0)
                continue;
            json_t *figure = s_figure(self, ind, name, dot ? dot + 1 : "");
            if (figure)
                json_array_append_new(numbers, figure);
        }
    }
}

static json_t *s_item_sources(const report_provenance_t *self, const report_compile_input_t *in,
                              const report_compile_item_t *item)
{
    json_t *s =
        json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "unit", item->unit_code ? item->unit_code : "",
                  "item_key", item->item_key ? item->item_key : "", "revision", item->revision,
                  "update_id", item->update_id ? item->update_id : "", "committed_at",
                  item->committed_at ? item->committed_at : "", "section", item->section);
    json_t *numbers = json_array();
    s_figures(self, in, item->text, numbers);
    for (size_t j = 0; j < item->sub_item_count; j++)
        s_figures(self, in, item->sub_items[j], numbers);
    json_object_set_new(s, "numbers", numbers);
    return s;
}

/* The typed numbers of one pattern of item into self->typed. */
static void s_typed(report_provenance_t *self, const report_compile_input_t *in,
                    const report_compile_item_t *item, const char *pattern)
{
    report_typed_number_t found[16];
    size_t n = report_provenance_typed_numbers(pattern, in->indicators, in->indicator_count, found,
                                               sizeof found / sizeof *found);
    for (size_t i = 0; i < n; i++) {
        self->typed_count++;
        if (i >= sizeof found / sizeof *found ||
            json_array_size(self->typed) >= REPORT_PROVENANCE_LIST_MAX)
            continue;
        const report_typed_number_t *t = &found[i];
        char *text = report_sprintf("%.*s", (int)t->length, pattern + t->start);
        char *context = report_sprintf("%.*s", (int)t->context_length, pattern + t->context_start);
        json_array_append_new(
            self->typed,
            json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "unit",
                      item->unit_code ? item->unit_code : "", "item_key",
                      item->item_key ? item->item_key : "", "revision", item->revision, "update_id",
                      item->update_id ? item->update_id : "", "text", text, "context", context,
                      "rule", t->rule, "indicator", in->indicators[t->indicator].code));
        free(text);
        free(context);
    }
}

/* Every indicator of the agency: its figures and its values month by month. */
static void s_indicators(report_provenance_t *self, const report_compile_input_t *in)
{
    for (size_t i = 0; i < in->indicator_count; i++) {
        const report_compile_indicator_t *ind = &in->indicators[i];
        json_t *o = json_pack("{s:s, s:s}", "label", ind->label ? ind->label : "", "measure",
                              ind->measure ? ind->measure : "");
        json_object_set_new(o, "month_value", s_json_number(ind->month_value));
        json_object_set_new(o, "ytd", s_json_number(ind->ytd));
        json_object_set_new(o, "plan", ind->has_plan ? s_json_number(ind->plan) : json_null());
        json_t *months = json_object_get(self->months, ind->code);
        json_object_set_new(o, "months", months ? json_incref(months) : json_array());
        json_object_set_new(self->indicators, ind->code, o);
    }
}

void report_provenance_take_input(report_provenance_t *self, const report_compile_input_t *in,
                                  const report_compiled_t *compiled)
{
    s_indicators(self, in);
    for (size_t i = 0; i < in->item_count; i++) {
        const report_compile_item_t *item = &in->items[i];
        json_array_append_new(self->items, s_item_sources(self, in, item));
        if (strcmp(item->section, "result") != 0 && strcmp(item->section, "limitation") != 0)
            continue;
        s_typed(self, in, item, item->text);
        for (size_t j = 0; j < item->sub_item_count; j++)
            s_typed(self, in, item, item->sub_items[j]);
    }
    for (size_t i = 0; i < compiled->missing_count; i++) {
        const char *line = compiled->missing_units[i];
        const char *tab = strchr(line, '\t');
        char *code = report_sprintf("%.*s", (int)(tab ? tab - line : (long)strlen(line)), line);
        json_array_append_new(self->missing,
                              json_pack("{s:s, s:s}", "unit", code, "name", tab ? tab + 1 : ""));
        free(code);
    }
}

/* --- the JSON rendering --- */

/* Sets "sources" on each item object of list, from the doc items in the same order. */
static void s_json_attach(const report_provenance_t *self, json_t *list, const report_item_t *items,
                          size_t count)
{
    for (size_t i = 0; items && i < count && i < json_array_size(list); i++) {
        json_t *s = items[i].source ? json_array_get(self->items, items[i].source - 1) : NULL;
        if (s)
            json_object_set(json_array_get(list, i), "sources", s);
    }
}

char *report_provenance_render_json(const report_compiled_t *compiled)
{
    const report_provenance_t *self = compiled->sources;
    const report_doc_t *doc = compiled->doc;
    char *plain = self ? report_render_json(doc) : NULL;
    json_t *root = plain ? json_loads(plain, 0, NULL) : NULL;
    free(plain);
    if (!root)
        return NULL;
    json_t *sections = json_object_get(root, "sections");
    json_t *results = json_object_get(sections, "results");
    json_t *areas = json_object_get(json_object_get(results, "plan_tasks"), "areas");
    size_t printed = 0;
    for (size_t i = 0; doc->areas && i < doc->area_count; i++) {
        if (!doc->areas[i].items || !doc->areas[i].item_count)
            continue;
        json_t *area = json_array_get(areas, printed++);
        s_json_attach(self, json_object_get(area, "items"), doc->areas[i].items,
                      doc->areas[i].item_count);
    }
    s_json_attach(self, json_object_get(json_object_get(results, "limitations"), "items"),
                  doc->limitations, doc->limitation_count);
    s_json_attach(self, json_object_get(json_object_get(sections, "next_tasks"), "items"),
                  doc->next_tasks, doc->next_task_count);
    json_object_set(root, "missing_units", self->missing);
    json_object_set_new(root, "changed_since_last_compile",
                        json_pack("{s:O, s:I, s:O}", "last_compiled_at", self->last_compiled_at,
                                  "count", (json_int_t)self->changed_count, "items",
                                  self->changed));
    json_object_set(root, "typed_numbers", self->typed);
    json_object_set_new(root, "typed_numbers_found", json_integer((json_int_t)self->typed_count));
    json_object_set(root, "indicators", self->indicators);
    char *body = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!body)
        return NULL;
    char *out = report_sprintf("%s\n", body);
    free(body);
    return out;
}
