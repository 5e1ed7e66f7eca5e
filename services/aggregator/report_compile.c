/* Compile = the database load, here, then the pure assemble step (report_assemble.c). The
 * load only reads rows into a report_compile_input_t: all figures are computed by PostgreSQL,
 * and nothing is filled or grouped until every row is in. */
#define _GNU_SOURCE
#include "report_compile.h"
#include "report_provenance.h"
#include "report_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the load read: the input for the assemble step, and the memory behind it (every
 * string of the input is in strings, every array is one of the pointers here). */
typedef struct {
    report_compile_input_t in;
    report_compile_indicator_t *indicators;
    report_compile_item_t *items;
    char **strings;
    size_t string_count, string_cap;
    report_provenance_t *sources; /* when the request asked for them */
} s_loaded_t;

/* A copy of value that lives as long as l. */
static const char *s_keep(s_loaded_t *l, const char *value)
{
    if (l->string_count == l->string_cap) {
        l->string_cap = l->string_cap ? 2 * l->string_cap : 64;
        l->strings = report_realloc(l->strings, l->string_cap * sizeof(char *));
    }
    return l->strings[l->string_count++] = report_strdup(value);
}

static void s_loaded_free(s_loaded_t *l)
{
    for (size_t i = 0; i < l->in.item_count; i++)
        free(l->items[i].sub_items);
    free(l->items);
    free(l->indicators);
    free(l->in.recipients);
    free(l->in.missing_units);
    report_strv_free(l->strings, l->string_count);
    report_provenance_destroy(&l->sources);
    memset(l, 0, sizeof *l);
}

/* A failed statement: "db_retry" when it was transient (running the request again may
 * succeed), else "db_error". */
static int s_db_fail(report_compiled_t *out, const report_db_t *db)
{
    return report_error_set(&out->error, report_db_retryable(db) ? "db_retry" : "db_error", "%s",
                            report_db_error(db));
}

/* --- the template --- */

static const char *S_TEMPLATE_SQL =
    "SELECT a.code, a.parent_authority, a.name, a.symbol, a.place, t.motto, t.motto_sub,"
    " t.doc_type, t.summary_pattern, t.summary_pattern_year_end, t.intro_pattern,"
    " t.intro_pattern_no_basis, t.section1_heading, t.section1a_heading, t.section1a_intro,"
    " t.section1b_heading, t.section2_heading, t.section2_intro, t.closing_pattern, t.end_mark,"
    " t.recipients_heading, t.signer_authority, t.signer_title, t.signer_name,"
    " coalesce((SELECT decision FROM annual_plans p WHERE p.agency_code = a.code"
    "           AND p.year = $2::int), ''),"
    " a.organ_id, t.period_rule, t.cutoff_day::text"
    " FROM agencies a JOIN report_templates t ON t.agency_code = a.code"
    " WHERE $1 = '' OR a.code = $1 ORDER BY a.code LIMIT 1";

static int s_template_row(void *arg, const PGresult *res, int row)
{
    s_loaded_t *l = arg;
    report_compile_template_t *t = &l->in.template;
    /* the text columns, in the order of the statement */
    const char **text[] = {&t->agency_code,
                           &t->parent_authority,
                           &t->agency_name,
                           &t->symbol,
                           &t->place,
                           &t->motto,
                           &t->motto_sub,
                           &t->doc_type,
                           &t->summary_pattern,
                           &t->summary_pattern_year_end,
                           &t->intro_pattern,
                           &t->intro_pattern_no_basis,
                           &t->section1_heading,
                           &t->section1a_heading,
                           &t->section1a_intro,
                           &t->section1b_heading,
                           &t->section2_heading,
                           &t->section2_intro,
                           &t->closing_pattern,
                           &t->end_mark,
                           &t->recipients_heading,
                           &t->signer_authority,
                           &t->signer_title,
                           &t->signer_name,
                           &t->plan_decision,
                           &t->organ_id};
    int n = (int)(sizeof text / sizeof *text);
    for (int i = 0; i < n; i++)
        *text[i] = s_keep(l, PQgetvalue(res, row, i));
    t->period_rule.cutoff = strcmp(PQgetvalue(res, row, n), "cutoff") == 0;
    t->period_rule.cutoff_day = atoi(PQgetvalue(res, row, n + 1));
    l->in.has_template = true;
    return 0;
}

/* --- indicators --- */

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
    "       coalesce(p.target::float8::text, ''), i.label, i.measure"
    "  FROM indicators i JOIN work_areas w ON w.code = i.area_code"
    "  LEFT JOIN v ON v.code = i.code"
    "  LEFT JOIN plan_targets p ON p.indicator_code = i.code AND p.year = $2::int"
    " WHERE w.agency_code = $1 ORDER BY i.code";

static int s_indicator_row(void *arg, const PGresult *res, int row)
{
    s_loaded_t *l = arg;
    size_t n = l->in.indicator_count;
    l->indicators = report_realloc(l->indicators, (n + 1) * sizeof(report_compile_indicator_t));
    report_compile_indicator_t *i = &l->indicators[n];
    i->code = s_keep(l, PQgetvalue(res, row, 0));
    i->month_value = strtod(PQgetvalue(res, row, 1), NULL);
    i->ytd = strtod(PQgetvalue(res, row, 2), NULL);
    const char *plan = PQgetvalue(res, row, 3);
    i->has_plan = *plan != '\0';
    i->plan = i->has_plan ? strtod(plan, NULL) : 0;
    i->label = s_keep(l, PQgetvalue(res, row, 4));
    i->measure = s_keep(l, PQgetvalue(res, row, 5));
    l->in.indicators = l->indicators;
    l->in.indicator_count = n + 1;
    return 0;
}

/* --- items --- */

/* The current version of each item (item_heads), then only those rows of updates, in the
 * report's order: the assemble step groups them as they come. The row's identity and commit
 * time are the item's sources. */
static const char *S_ITEMS_SQL =
    "SELECT c.section, c.area_code, w.lead_in, c.text, c.sub_items::text,"
    "       h.unit_code, h.item_key, c.update_id::text, h.revision::text,"
    "       to_char(c.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    "  FROM item_heads h JOIN updates c ON c.seq = h.seq"
    "  JOIN units u ON u.code = h.unit_code"
    "  JOIN work_areas w ON w.code = c.area_code"
    " WHERE u.agency_code = $1 AND h.year = $2::int AND h.month = $3::int"
    "   AND NOT h.withdrawn AND c.text <> ''"
    " ORDER BY w.position, u.position, c.item_order, c.item_key";

/* The sub-items are stored as a JSON array of strings; anything else in it reads as "", and
 * a value that is not an array as no sub-items. */
static void s_item_subs(s_loaded_t *l, report_compile_item_t *item, const char *json)
{
    json_error_t err;
    json_t *arr = json_loads(json, 0, &err);
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    item->sub_items = n ? report_calloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, i);
        item->sub_items[item->sub_item_count++] =
            s_keep(l, json_is_string(s) ? json_string_value(s) : "");
    }
    json_decref(arr);
}

static int s_item_row(void *arg, const PGresult *res, int row)
{
    s_loaded_t *l = arg;
    size_t n = l->in.item_count;
    l->items = report_realloc(l->items, (n + 1) * sizeof(report_compile_item_t));
    report_compile_item_t *item = &l->items[n];
    memset(item, 0, sizeof *item);
    item->section = s_keep(l, PQgetvalue(res, row, 0));
    item->area_code = s_keep(l, PQgetvalue(res, row, 1));
    item->lead_in = s_keep(l, PQgetvalue(res, row, 2));
    item->text = s_keep(l, PQgetvalue(res, row, 3));
    s_item_subs(l, item, PQgetvalue(res, row, 4));
    item->unit_code = s_keep(l, PQgetvalue(res, row, 5));
    item->item_key = s_keep(l, PQgetvalue(res, row, 6));
    item->update_id = s_keep(l, PQgetvalue(res, row, 7));
    item->revision = atoi(PQgetvalue(res, row, 8));
    item->committed_at = s_keep(l, PQgetvalue(res, row, 9));
    l->in.items = l->items;
    l->in.item_count = n + 1;
    return 0;
}

/* --- small queries --- */

static const char *S_HAS_UPDATES_SQL = "SELECT count(*)::text FROM (SELECT 1 FROM updates x"
                                       "  JOIN units u ON u.code = x.unit_code"
                                       " WHERE u.agency_code = $1 AND x.year = $2::int"
                                       " AND x.month = $3::int LIMIT 1) s";

static const char *S_MISSING_UNITS_SQL = "SELECT u.code || E'\\t' || u.name FROM units u"
                                         " WHERE u.agency_code = $1 AND u.active AND NOT EXISTS ("
                                         "  SELECT 1 FROM updates x WHERE x.unit_code = u.code"
                                         "   AND x.year = $2::int AND x.month = $3::int)"
                                         " ORDER BY u.position";

static const char *S_RECIPIENTS_SQL =
    "SELECT text FROM report_recipients WHERE agency_code = $1 ORDER BY position";

static int s_has_updates_row(void *arg, const PGresult *res, int row)
{
    s_loaded_t *l = arg;
    l->in.has_updates = strcmp(PQgetvalue(res, row, 0), "0") != 0;
    return 0;
}

/* A list of the first column's values, kept in l. */
typedef struct {
    s_loaded_t *l;
    const char ***list;
    size_t *count;
} s_list_t;

static int s_list_row(void *arg, const PGresult *res, int row)
{
    s_list_t *ls = arg;
    *ls->list = report_realloc(*ls->list, (*ls->count + 1) * sizeof(char *));
    (*ls->list)[(*ls->count)++] = s_keep(ls->l, PQgetvalue(res, row, 0));
    return 0;
}

/* --- compile --- */

/* Reads the agency's template and, when there is one and someone pushed for the period, the
 * indicators' figures, the units that pushed nothing, the recipients and the current items.
 * It stops early, with 0, where there is nothing more to read: the assemble step reports
 * the missing template or updates. 0, or -1 with out's database error set. */
static int s_load(report_db_t *db, const report_compile_request_t *req, s_loaded_t *l,
                  report_compiled_t *out)
{
    char year_s[16], month_s[16];
    snprintf(year_s, sizeof year_s, "%d", req->year);
    snprintf(month_s, sizeof month_s, "%d", req->month);
    const char *tp[] = {req->agency_code ? req->agency_code : "", year_s};
    if (report_db_query(db, S_TEMPLATE_SQL, 2, tp, s_template_row, l) != 0)
        return s_db_fail(out, db);
    if (!l->in.has_template)
        return 0;
    const char *p1[] = {l->in.template.agency_code};
    const char *p3[] = {l->in.template.agency_code, year_s, month_s};
    if (report_db_query(db, S_HAS_UPDATES_SQL, 3, p3, s_has_updates_row, l) != 0)
        return s_db_fail(out, db);
    if (!l->in.has_updates)
        return 0;
    s_list_t missing = {l, &l->in.missing_units, &l->in.missing_count};
    s_list_t recipients = {l, &l->in.recipients, &l->in.recipient_count};
    if (report_db_query(db, S_INDICATORS_SQL, 3, p3, s_indicator_row, l) != 0 ||
        report_db_query(db, S_MISSING_UNITS_SQL, 3, p3, s_list_row, &missing) != 0 ||
        report_db_query(db, S_RECIPIENTS_SQL, 1, p1, s_list_row, &recipients) != 0)
        return s_db_fail(out, db);
    /* The sources record this compile's item heads before the items are read: an update that
     * commits in between shows in this draft and again as changed in the next one, never in
     * neither. */
    if (req->sources) {
        l->sources = report_provenance_new();
        if (report_provenance_load(l->sources, db, l->in.template.agency_code, req->year,
                                   req->month) != 0)
            return s_db_fail(out, db);
    }
    if (report_db_query(db, S_ITEMS_SQL, 3, p3, s_item_row, l) != 0)
        return s_db_fail(out, db);
    return 0;
}

int report_compile(report_db_t *db, const report_compile_request_t *req, report_compiled_t *out)
{
    memset(out, 0, sizeof *out);
    if (report_compile_check(req, out) != 0)
        return -1;
    s_loaded_t l = {0};
    int rc = s_load(db, req, &l, out);
    if (rc == 0)
        rc = report_compile_assemble(&l.in, req, out);
    if (rc == 0 && l.sources) {
        report_provenance_take_input(l.sources, &l.in, out);
        out->sources = l.sources;
        l.sources = NULL;
    }
    s_loaded_free(&l);
    return rc;
}
