/* Which of several aggregators on one database publishes: the one whose database session
 * holds the leadership advisory lock. The lock goes with the session, so an aggregator that
 * loses its session (its host partitioned, the database failed over) loses the leadership
 * with it, and another takes it over at its next check. Taking the lock raises a term in the
 * database (aggregator_leader), and every publication is fenced: in its own transaction it
 * checks that the term is still its own and that its session still holds the lock, so two
 * leaders can never both publish, even one that has not noticed yet that it lost. */
#ifndef REPORT_LEADER_H
#define REPORT_LEADER_H

#include "report_db.h"
#include "report_error.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    bool leader;      /* this process publishes */
    int64_t term;     /* the term it took the lock with (valid while leader) */
    char holder[128]; /* who holds the leadership, as the last check read it */
    int64_t since_ms; /* wall clock since when this process is leader (0: standby) */
    uint64_t changes; /* times this process became leader */
    uint64_t losses;  /* times it lost the leadership */
    /* After losing the leadership this process waits this long before it tries to take it
     * again, so that a standby takes over rather than a leader whose link flaps (set by the
     * owner; 0: no wait). */
    int64_t holdoff_ms;
    int64_t retry_after_ms; /* monotonic clock: no attempt to take the lock before it */
} report_leader_t;

/* Checks the leadership on db's session: a leader verifies that its session still holds the
 * lock under its term; a standby tries to take the lock and, with it, the next term.
 * name is this process's name in aggregator_leader.holder. 0, or -1 on a database failure
 * (then this process is standby: call report_leader_lost if the session is gone). */
int report_leader_check(report_leader_t *self, report_db_t *db, const char *name);
/* The session is gone (and the lock with it): this process is standby. */
void report_leader_lost(report_leader_t *self, const char *why);
/* Inside a publication's transaction: 0 if this process is leader, its session holds the
 * lock and the term is still its own (the term's row is then locked FOR SHARE until the
 * transaction ends, so no other process can take a newer term meanwhile); else -1 with err
 * (code "not_leader", or the database's failure). */
int report_leader_fence(report_leader_t *self, report_db_t *db, report_error_t *err);

#endif
