/* The pure half of compiling the monthly report: from what the database load read (the
 * template, the indicators' figures, the current items, ...) to a report_doc_t, with the
 * warnings and errors of a compile. No database here, so a test can drive it with data it
 * builds by hand; report_compile (report_compile.h) is the load followed by this step. */
#ifndef REPORT_ASSEMBLE_H
#define REPORT_ASSEMBLE_H

#include "report_doc.h"
#include "report_error.h"
#include "report_period.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *agency_code; /* NULL or "" = the agency with a template (first by code) */
    int year, month;
    int number;        /* 0 = draft: number left blank */
    const char *date;  /* "YYYY-MM-DD", or NULL/"" = draft: date left blank */
    const char *basis; /* requesting document for the legal-basis paragraph, or NULL */
    bool sources;      /* also read where every item and figure came from (report_provenance.h) */
} report_compile_request_t;

typedef struct report_provenance_s report_provenance_t;

typedef struct {
    report_doc_t *doc;
    char **missing_units; /* "CODE\tName" of units that pushed nothing for the period */
    size_t missing_count;
    char **warnings; /* e.g. placeholders that could not be filled */
    size_t warning_count;
    report_error_t error;         /* on failure, code: unknown_agency, no_template, bad_period,
                                     bad_date, no_updates, db_error, db_retry */
    report_provenance_t *sources; /* when the request asked for sources; else NULL */
} report_compiled_t;

/* The agency's report template and the decision of its annual plan, as stored. The patterns
 * hold placeholders ({month}, {basis}, {CODE.ytd}, ...) that the assemble step fills. */
typedef struct {
    const char *agency_code;
    const char *parent_authority; /* "UBND TỈNH CAO BẰNG" */
    const char *agency_name;      /* "SỞ KHOA HỌC VÀ CÔNG NGHỆ" */
    const char *organ_id;         /* in the national document exchange; "" when not set */
    const char *symbol;           /* "BC-SKHCN", after the number */
    const char *place;            /* "Cao Bằng" */
    const char *motto;
    const char *motto_sub;
    const char *doc_type;
    const char *summary_pattern;          /* when the next month is in the same year */
    const char *summary_pattern_year_end; /* in December: the next month is in the next year */
    const char *intro_pattern;            /* with a {basis} */
    const char *intro_pattern_no_basis;
    const char *section1_heading;
    const char *section1a_heading;
    const char *section1a_intro;
    const char *section1b_heading;
    const char *section2_heading;
    const char *section2_intro;
    const char *closing_pattern;
    const char *end_mark; /* appended to the closing sentence as it is */
    const char *recipients_heading;
    const char *signer_authority;
    const char *signer_title;
    const char *signer_name;
    const char *plan_decision; /* "" when no annual plan is recorded for the year */
    report_period_rule_t period_rule;
} report_compile_template_t;

/* The figures of one indicator of the agency for the period, computed by PostgreSQL over the
 * current version of each item. */
typedef struct {
    const char *code;   /* "PHONGSU": {PHONGSU}, {PHONGSU.ytd}, {PHONGSU.plan}, {PHONGSU.pct} */
    double month_value; /* sum over the month */
    double ytd;         /* sum from January to the month */
    double plan;        /* the year's target, when has_plan */
    bool has_plan;
    const char *label;   /* "Cuộc thanh tra được triển khai" */
    const char *measure; /* "cuộc", "đề tài, dự án" */
} report_compile_indicator_t;

/* The current version of one item of the period, in the report's order (area, then unit,
 * then the unit's order); amendments already applied and withdrawn items left out. */
typedef struct {
    const char *section;    /* "result" (section 1.a), "limitation" (1.b), else 2 (next tasks) */
    const char *area_code;  /* results of one area in a row share its lead-in */
    const char *lead_in;    /* the area's lead-in pattern, "Về công tác thanh tra:" */
    const char *text;       /* pattern */
    const char **sub_items; /* patterns */
    size_t sub_item_count;
    /* where it came from: the row of updates of its current version (NULL in hand-built input) */
    const char *unit_code, *item_key, *update_id;
    const char *committed_at; /* received_at of the row, UTC, "2018-07-19T08:00:00.000000Z" */
    int revision;
} report_compile_item_t;

/* Everything a compile reads, as plain data. The assemble step only reads it: its owner
 * (the database load, or a test) keeps it alive and frees it. */
typedef struct {
    bool has_template; /* false: the agency (or any agency) has no report template */
    report_compile_template_t template;
    bool has_updates; /* false: no unit of the agency pushed anything for the period */
    const report_compile_indicator_t *indicators;
    size_t indicator_count;
    const report_compile_item_t *items;
    size_t item_count;
    const char **recipients; /* "VP Tỉnh uỷ", ... in the template's order */
    size_t recipient_count;
    const char **missing_units; /* "CODE\tName" of active units that pushed nothing */
    size_t missing_count;
} report_compile_input_t;

/* Checks the period and the date of req. 0, or -1 with out->error (bad_period,
 * bad_date) and message set; out is not cleared first. report_compile checks before it
 * reads anything, so a bad request never reaches the database. */
int report_compile_check(const report_compile_request_t *req, report_compiled_t *out);

/* Builds the report of req from in: the head from the template, the items grouped in the
 * order given, every placeholder filled from the period, the template and the indicators.
 * Overwrites out (clear a previous result first). 0 with out->doc, the missing units and the
 * warnings (placeholders left unfilled, no plan decision) set, or -1 with out->error (bad_period,
 * bad_date, unknown_agency, no_template, no_updates). Clear out afterwards either way; in stays the
 * caller's. */
int report_compile_assemble(const report_compile_input_t *in, const report_compile_request_t *req,
                            report_compiled_t *out);

/* Frees what out holds and zeroes it. */
void report_compiled_clear(report_compiled_t *out);

#endif
