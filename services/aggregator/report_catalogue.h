/* Operators' administration of the catalogue through the control socket: list, add, rename,
 * retire units, work areas and indicators, set plan targets, read the audit, and check the
 * enrolled unit keys against the catalogue. Every change goes through the database function
 * catalogue_change (016_catalogue_audit.sql), which writes the audit row with it. */
#ifndef REPORT_CATALOGUE_H
#define REPORT_CATALOGUE_H

#include "report_db.h"
#include "report_published.h"

/* Rows a listing or the audit answers at most (the rest is cut, with a warning). */
#define REPORT_CATALOGUE_LIST_MAX 1000

/* Answers one catalogue request of the operator named operator_name (its key name): fills
 * *reply (ok, or error_code and message; body holds the listing or outcome, warnings the key
 * checks). keys_dir is the aggregator's: its units/ holds the enrolled unit keys. Returns -1
 * only when the database failed (reply says db_error), else 0. */
int report_catalogue_handle(report_db_t *db, const char *keys_dir, const char *operator_name,
                            const report_control_request_t *req, report_control_reply_t *reply);

#endif
