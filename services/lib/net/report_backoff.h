/* The one back-off policy of the programs (as nng's): a wait that starts at a minimum,
 * doubles with each failure up to a cap, plus a random jitter of up to a quarter, so that
 * peers that failed together do not all come back together. Used by the store and the
 * aggregator to reconnect to PostgreSQL and by the client to resend an update. */
#ifndef REPORT_BACKOFF_H
#define REPORT_BACKOFF_H

#include <stdint.h>

/* The wait before attempt n + 1 after n failures (n from 0): d = min(max_ms, min_ms * 2^n)
 * plus a random jitter in [0, d / 4], never more than max_ms (and never less than min_ms). */
int64_t report_backoff_wait(int64_t min_ms, int64_t max_ms, int n);

/* The same policy with its failure count, for one connection. */
typedef struct {
    int64_t min_ms, max_ms;
    int failures;
    int64_t last_ms; /* the last wait returned (0 before the first failure), for logs */
} report_backoff_t;

void report_backoff_init(report_backoff_t *b, int64_t min_ms, int64_t max_ms);
/* Counts a failure and returns the wait before the next attempt. */
int64_t report_backoff_next(report_backoff_t *b);
/* After a success: the next failure waits min_ms again. */
void report_backoff_reset(report_backoff_t *b);

#endif
