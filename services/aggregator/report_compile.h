/* Compiles the monthly report of an agency from the template and the stored updates: items
 * grouped and ordered, amendments and withdrawals applied, placeholders filled with month,
 * year-to-date, plan and percentage figures computed in PostgreSQL at compile time. */
#ifndef REPORT_COMPILE_H
#define REPORT_COMPILE_H

#include "report_db.h"
#include "report_doc.h"

#include <stddef.h>

typedef struct {
    const char *agency_code; /* NULL or "" = the agency with a template (first by code) */
    int year, month;
    int number;        /* 0 = draft: number left blank */
    const char *date;  /* "YYYY-MM-DD", or NULL/"" = draft: date left blank */
    const char *basis; /* requesting document for the legal-basis paragraph, or NULL */
} report_compile_request_t;

typedef struct {
    report_doc_t *doc;
    char **missing_units; /* "CODE\tName" of units that pushed nothing for the period */
    size_t missing_count;
    char **warnings; /* e.g. placeholders that could not be filled */
    size_t warning_count;
    char error_code[48]; /* on failure: unknown_agency, no_template, bad_period, bad_date,
                            no_updates, db_error */
    char message[256];
} report_compiled_t;

/* Compiles; 0 and out filled, or -1 with out->error_code and message set (and
 * report_db_connection_lost(db) telling whether to reconnect). Clear out afterwards. */
int report_compile(report_db_t *db, const report_compile_request_t *req, report_compiled_t *out);
void report_compiled_clear(report_compiled_t *out);

#endif
