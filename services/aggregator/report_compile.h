/* Compiles the monthly report of an agency from the template and the stored updates: items
 * grouped and ordered, amendments and withdrawals applied, placeholders filled with month,
 * year-to-date, plan and percentage figures computed in PostgreSQL at compile time. The
 * request and result types and the pure assemble step are in report_assemble.h. */
#ifndef REPORT_COMPILE_H
#define REPORT_COMPILE_H

#include "report_assemble.h"
#include "report_db.h"

/* Compiles: reads what the request needs from db, then assembles it
 * (report_compile_assemble). 0 and out filled, or -1 with out->error (code and message) set
 * (db_error or db_retry for a failed statement, and report_db_connection_lost(db) telling
 * whether to reconnect; the others as report_compile_assemble). Clear out afterwards. */
int report_compile(report_db_t *db, const report_compile_request_t *req, report_compiled_t *out);

#endif
