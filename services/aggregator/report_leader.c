/* Aggregator leadership: a session-level advisory lock and a fencing term (report_leader.h). */
#define _GNU_SOURCE
#include "report_leader.h"
#include "report_log.h"
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The leadership lock: pg_try_advisory_lock(5572, 1), the two-key form (pg_locks shows it as
 * classid 5572, objid 1, objsubid 2), apart from the one-key locks of migrations and
 * publications. 5572 is the aggregator's PUB port. */
#define S_LOCK_KEYS "5572, 1"
#define S_HOLDS_LOCK                                                                               \
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"        \
    " AND classid = 5572 AND objid = 1 AND objsubid = 2 AND granted)"

static int s_first_text(void *arg, const PGresult *res, int row)
{
    char **out = arg;
    if (row == 0 && !*out)
        *out = report_strdup(PQgetvalue(res, row, 0));
    return 0;
}

static int s_holder_row(void *arg, const PGresult *res, int row)
{
    report_leader_t *self = arg;
    if (row == 0)
        snprintf(self->holder, sizeof self->holder, "%s", PQgetvalue(res, row, 0));
    return 0;
}

void report_leader_lost(report_leader_t *self, const char *why)
{
    if (!self->leader)
        return;
    self->leader = false;
    self->since_ms = 0;
    self->losses++;
    self->retry_after_ms = report_clock_ms() + self->holdoff_ms;
    log_warn("leadership lost: not publishing", "term=%lld why=%s", (long long)self->term,
             report_logq(why));
}

/* The leader: does its session still hold the lock under its term? */
static int s_verify(report_leader_t *self, report_db_t *db)
{
    char *term = NULL;
    int rc = report_db_query(db, "SELECT term::text FROM aggregator_leader WHERE " S_HOLDS_LOCK, 0,
                             NULL, s_first_text, &term);
    if (rc != 0) {
        report_leader_lost(self, report_db_error(db));
    } else if (!term || strtoll(term, NULL, 10) != self->term) {
        report_leader_lost(self, term ? "a newer term was taken" : "the session lost the lock");
    }
    free(term);
    return rc;
}

/* The standby: takes the lock if it is free, then the next term. */
static int s_take(report_leader_t *self, report_db_t *db, const char *name)
{
    char *got = NULL, *term = NULL;
    int rc = report_db_query(db, "SELECT pg_try_advisory_lock(" S_LOCK_KEYS ")::text", 0, NULL,
                             s_first_text, &got);
    if (rc == 0 && got && strcmp(got, "true") == 0) {
        const char *params[] = {name};
        rc = report_db_query(db,
                             "UPDATE aggregator_leader SET term = term + 1, holder = $1,"
                             " since = now() RETURNING term::text",
                             1, params, s_first_text, &term);
        if (rc == 0 && term) {
            self->leader = true;
            self->term = strtoll(term, NULL, 10);
            self->since_ms = report_wall_ms();
            self->changes++;
            snprintf(self->holder, sizeof self->holder, "%s", name);
            log_info("leadership taken: publishing", "term=%lld name=%s", (long long)self->term,
                     report_logq(name));
        } else {
            /* a session lock outlives the failed statement: give it back */
            report_db_query(db, "SELECT pg_advisory_unlock(" S_LOCK_KEYS ")", 0, NULL, NULL, NULL);
            rc = -1;
        }
    }
    free(got);
    free(term);
    if (rc == 0 && !self->leader)
        rc = report_db_query(db, "SELECT holder FROM aggregator_leader", 0, NULL, s_holder_row,
                             self);
    return rc;
}

int report_leader_check(report_leader_t *self, report_db_t *db, const char *name)
{
    if (self->leader && s_verify(self, db) == 0 && self->leader)
        return 0;
    if (!report_db_connected(db))
        return -1;
    if (report_clock_ms() < self->retry_after_ms)
        return 0; /* standing down for a while: a standby takes over first */
    return s_take(self, db, name);
}

int report_leader_fence(report_leader_t *self, report_db_t *db, report_error_t *err)
{
    if (!self->leader)
        return report_error_set(err, "not_leader",
                                "this aggregator is the standby; the leader is %s: publish there",
                                self->holder[0] ? self->holder : "not known yet");
    char term_s[24], *term = NULL;
    snprintf(term_s, sizeof term_s, "%lld", (long long)self->term);
    const char *params[] = {term_s};
    if (report_db_query(db,
                        "SELECT term::text FROM aggregator_leader WHERE term = $1::bigint"
                        " AND " S_HOLDS_LOCK " FOR SHARE",
                        1, params, s_first_text, &term) != 0)
        return report_error_set(err, "db_retry", "%s", report_db_error(db));
    bool ok = term != NULL;
    free(term);
    if (ok)
        return 0;
    report_leader_lost(self, "fenced: the term or the lock is no longer this session's");
    return report_error_set(err, "not_leader",
                            "this aggregator lost the leadership (term %lld): publish on the "
                            "leader",
                            (long long)self->term);
}
