/* Operators' view of refused input (dead_letters) and its replay: a dead letter kept whole is
 * decoded and validated again as the unit it came from (report_update_accept, the collector's
 * entry point), and stored by the database function replay_update as the store stores an
 * update, with the original unit and update id, the replay recorded with the operator. */
#ifndef REPORT_DEAD_LETTERS_H
#define REPORT_DEAD_LETTERS_H

#include "report_db.h"
#include "report_published.h"

/* Dead letters a listing answers at most (newest first). */
#define REPORT_DEAD_LETTERS_LIST_MAX 500

/* Answers one dead-letter request (list, show, replay) of the operator operator_name: fills
 * *reply. Returns -1 only when the database failed (reply says db_error), else 0. */
int report_dead_letters_handle(report_db_t *db, const char *operator_name,
                               const report_control_request_t *req, report_control_reply_t *reply);

#endif
