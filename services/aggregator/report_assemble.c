/* The pure half of compile: from the rows the database load read to a report_doc_t. All
 * figures were computed by PostgreSQL; this file only fills the template's patterns with them
 * and puts the items in their sections, so it can be tested without a database. */
#define _GNU_SOURCE
#include "report_assemble.h"
#include "report_format.h"
#include "report_provenance.h"
#include "report_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_WARNINGS 100

static int s_fail(report_compiled_t *out, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(report_compiled_t *out, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char message[sizeof out->error.message];
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return report_error_set(&out->error, code, "%s", message);
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
        report_out_of_memory(0);
    va_end(ap);
    for (size_t i = 0; i < out->warning_count; i++) {
        if (strcmp(out->warnings[i], w) == 0) {
            free(w);
            return;
        }
    }
    out->warnings = report_realloc(out->warnings, (out->warning_count + 1) * sizeof(char *));
    out->warnings[out->warning_count++] = w;
}

/* --- placeholder lookup --- */

typedef struct {
    const char *names[12];
    const char *values[12];
    size_t count;
    const report_compile_input_t *in;
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

/* {CODE} is the month's figure, {CODE.ytd} the year to date, {CODE.plan} the year's target
 * and {CODE.pct} the year to date as a share of it. */
static const char *s_lookup_indicator(s_lookup_t *l, const report_compile_indicator_t *ind,
                                      const char *name, const char *field)
{
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

static const char *s_lookup(const char *name, void *arg)
{
    s_lookup_t *l = arg;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->names[i], name) == 0)
            return l->values[i];
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    for (size_t i = 0; i < l->in->indicator_count; i++) {
        const report_compile_indicator_t *ind = &l->in->indicators[i];
        if (strlen(ind->code) == len && strncmp(ind->code, name, len) == 0)
            return s_lookup_indicator(l, ind, name, dot ? dot + 1 : "");
    }
    s_warn(l->out, "{%s}: unknown placeholder", name);
    return NULL;
}

static char *s_fill(s_lookup_t *l, const char *pattern)
{
    return report_fill_pattern(pattern, s_lookup, l);
}

/* --- assemble --- */

/* One assembly: the request, its input, and the buffers its placeholders point into (they
 * live as long as the assembly). */
typedef struct {
    const report_compile_request_t *req;
    const report_compile_input_t *in;
    report_compiled_t *out;
    bool dated;
    int dy, dm, dd; /* the document's date, when dated */
    int next_year, next_month;
    char year_s[16], month_s[16], next_year_s[16], next_month_s[16], start_s[32], end_s[32];
    s_lookup_t lookup;
} s_assemble_t;

/* The period and the date of the request. 0, or -1 with out's error set. */
static int s_check_request(s_assemble_t *a)
{
    const report_compile_request_t *req = a->req;
    if (req->year < REPORT_YEAR_MIN || req->year > REPORT_YEAR_MAX || req->month < 1 ||
        req->month > 12)
        return s_fail(a->out, "bad_period", "period %04d-%02d is not a valid month", req->year,
                      req->month);
    a->dated = req->date && *req->date;
    if (a->dated && report_date_parse(req->date, &a->dy, &a->dm, &a->dd) != 0)
        return s_fail(a->out, "bad_date", "date '%s' is not YYYY-MM-DD", req->date);
    return 0;
}

int report_compile_check(const report_compile_request_t *req, report_compiled_t *out)
{
    s_assemble_t a = {.req = req, .out = out};
    return s_check_request(&a);
}

/* That there is a template and something was pushed for the period. 0, or -1 with out's
 * error set. */
static int s_check_input(s_assemble_t *a)
{
    const char *agency = a->req->agency_code ? a->req->agency_code : "";
    if (!a->in->has_template)
        return s_fail(a->out, *agency ? "unknown_agency" : "no_template",
                      *agency ? "no agency %s with a report template" : "%sno report template",
                      agency);
    if (!a->in->has_updates)
        return s_fail(a->out, "no_updates", "no unit of %s has pushed anything for %04d-%02d",
                      a->in->template.agency_code, a->req->year, a->req->month);
    return 0;
}

/* The placeholders of the period and of the template ({month}, {period_start}, {place}, ...)
 * for s_fill; indicator placeholders are looked up in the input's indicators. */
static void s_lookup_period(s_assemble_t *a)
{
    const report_compile_request_t *req = a->req;
    const report_compile_template_t *t = &a->in->template;
    report_period_next(req->year, req->month, &a->next_year, &a->next_month);
    snprintf(a->year_s, sizeof a->year_s, "%d", req->year);
    report_format_month(req->month, a->month_s, sizeof a->month_s);
    report_format_month(a->next_month, a->next_month_s, sizeof a->next_month_s);
    snprintf(a->next_year_s, sizeof a->next_year_s, "%d", a->next_year);
    int y0, m0, d0, y1, m1, d1;
    report_period_range(&t->period_rule, req->year, req->month, &y0, &m0, &d0, &y1, &m1, &d1);
    report_format_date_short(y0, m0, d0, a->start_s, sizeof a->start_s);
    report_format_date_short(y1, m1, d1, a->end_s, sizeof a->end_s);
    s_lookup_t *l = &a->lookup;
    *l = (s_lookup_t){.in = a->in, .year = req->year, .out = a->out};
    s_lookup_add(l, "month", a->month_s);
    s_lookup_add(l, "year", a->year_s);
    s_lookup_add(l, "next_month", a->next_month_s);
    s_lookup_add(l, "next_year", a->next_year_s);
    s_lookup_add(l, "basis", req->basis ? req->basis : "");
    s_lookup_add(l, "plan_decision", t->plan_decision);
    s_lookup_add(l, "period_start", a->start_s);
    s_lookup_add(l, "period_end", a->end_s);
    s_lookup_add(l, "place", t->place);
    if (!*t->plan_decision)
        s_warn(a->out, "no annual plan decision recorded for %d", req->year);
}

/* The patterns of the document around the items (title, intro, headings, closing), filled in
 * the order they appear, so that the warnings come in the reader's order. */
static void s_doc_patterns(s_assemble_t *a, report_doc_t *doc)
{
    const report_compile_request_t *req = a->req;
    const report_compile_template_t *t = &a->in->template;
    s_lookup_t *l = &a->lookup;
    doc->summary =
        s_fill(l, a->next_year == req->year ? t->summary_pattern : t->summary_pattern_year_end);
    doc->intro =
        s_fill(l, req->basis && *req->basis ? t->intro_pattern : t->intro_pattern_no_basis);
    doc->section1_heading = s_fill(l, t->section1_heading);
    doc->section1a_heading = s_fill(l, t->section1a_heading);
    doc->section1a_intro = s_fill(l, t->section1a_intro);
    doc->section1b_heading = s_fill(l, t->section1b_heading);
    doc->section2_heading = s_fill(l, t->section2_heading);
    doc->section2_intro = s_fill(l, t->section2_intro);
    char *closing = s_fill(l, t->closing_pattern);
    doc->closing = report_sprintf("%s%s", closing, t->end_mark);
    free(closing);
}

static char **s_strv_copy(const char **list, size_t count)
{
    char **copy = count ? report_calloc(count, sizeof(char *)) : NULL;
    for (size_t i = 0; i < count; i++)
        copy[i] = report_strdup(list[i]);
    return copy;
}

/* The document around the items: header, title, intro, headings, closing, recipients and
 * signer, from the template with its placeholders filled. */
static report_doc_t *s_doc_head(s_assemble_t *a)
{
    const report_compile_request_t *req = a->req;
    const report_compile_template_t *t = &a->in->template;
    report_doc_t *doc = report_doc_new();
    doc->agency_code = report_strdup(t->agency_code);
    doc->year = req->year;
    doc->month = req->month;
    doc->number = req->number;
    doc->doc_date = report_strdup(a->dated ? req->date : "");
    doc->parent_authority = report_strdup(t->parent_authority);
    doc->agency_name = report_strdup(t->agency_name);
    doc->organ_id = report_strdup(t->organ_id ? t->organ_id : "");
    doc->number_line = req->number > 0 ? report_sprintf("Số: %d/%s", req->number, t->symbol)
                                       : report_sprintf("Số:      /%s", t->symbol);
    doc->motto = report_strdup(t->motto);
    doc->motto_sub = report_strdup(t->motto_sub);
    if (a->dated) {
        char date_buf[64];
        report_format_date_long(a->dy, a->dm, a->dd, date_buf, sizeof date_buf);
        doc->place_date = report_sprintf("%s, %s", t->place, date_buf);
    } else {
        doc->place_date = report_sprintf("%s, ngày      tháng      năm %d", t->place, req->year);
    }
    doc->doc_type = report_strdup(t->doc_type);
    s_doc_patterns(a, doc);
    doc->recipients_heading = report_strdup(t->recipients_heading);
    doc->recipients = s_strv_copy(a->in->recipients, a->in->recipient_count);
    doc->recipient_count = a->in->recipient_count;
    doc->signer_authority = report_strdup(t->signer_authority);
    doc->signer_title = report_strdup(t->signer_title);
    doc->signer_name = report_strdup(t->signer_name);
    return doc;
}

static report_item_t *s_append(report_item_t **items, size_t *count)
{
    *items = report_realloc(*items, (*count + 1) * sizeof(report_item_t));
    report_item_t *item = &(*items)[(*count)++];
    memset(item, 0, sizeof *item);
    return item;
}

/* Where an item goes: results under their area in 1.a (a new area each time the area
 * changes, the input being in the report's order), limitations in 1.b, the rest in 2. */
static report_item_t *s_item_place(s_assemble_t *a, report_doc_t *doc,
                                   const report_compile_item_t *row, const char **last_area)
{
    if (strcmp(row->section, "result") == 0) {
        if (!*last_area || strcmp(*last_area, row->area_code) != 0) {
            doc->areas = report_realloc(doc->areas, (doc->area_count + 1) * sizeof(report_area_t));
            report_area_t *area = &doc->areas[doc->area_count++];
            memset(area, 0, sizeof *area);
            area->lead_in = s_fill(&a->lookup, row->lead_in);
            *last_area = row->area_code;
        }
        report_area_t *area = &doc->areas[doc->area_count - 1];
        return s_append(&area->items, &area->item_count);
    }
    if (strcmp(row->section, "limitation") == 0)
        return s_append(&doc->limitations, &doc->limitation_count);
    return s_append(&doc->next_tasks, &doc->next_task_count);
}

/* The items into doc, each text and sub-item filled as it comes. */
static void s_doc_items(s_assemble_t *a, report_doc_t *doc)
{
    const char *last_area = NULL; /* area code of the last area added to 1.a */
    for (size_t i = 0; i < a->in->item_count; i++) {
        const report_compile_item_t *row = &a->in->items[i];
        report_item_t *item = s_item_place(a, doc, row, &last_area);
        item->source = i + 1;
        item->text = s_fill(&a->lookup, row->text);
        size_t n = row->sub_item_count;
        item->sub_items = n ? report_calloc(n, sizeof(char *)) : NULL;
        for (size_t j = 0; j < n; j++)
            item->sub_items[item->sub_item_count++] = s_fill(&a->lookup, row->sub_items[j]);
    }
}

int report_compile_assemble(const report_compile_input_t *in, const report_compile_request_t *req,
                            report_compiled_t *out)
{
    memset(out, 0, sizeof *out);
    s_assemble_t a = {.req = req, .in = in, .out = out};
    if (s_check_request(&a) != 0 || s_check_input(&a) != 0)
        return -1;
    s_lookup_period(&a);
    report_doc_t *doc = s_doc_head(&a);
    s_doc_items(&a, doc);
    out->missing_units = s_strv_copy(in->missing_units, in->missing_count);
    out->missing_count = in->missing_count;
    out->doc = doc;
    return 0;
}

void report_compiled_clear(report_compiled_t *out)
{
    report_doc_destroy(&out->doc);
    report_strv_free(out->missing_units, out->missing_count);
    report_strv_free(out->warnings, out->warning_count);
    report_provenance_destroy(&out->sources);
    memset(out, 0, sizeof *out);
}
