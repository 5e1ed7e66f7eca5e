/* Capped exponential back-off with jitter, the one policy for reconnects and resends. */
#include "report_backoff.h"
#include "report_util.h"

int64_t report_backoff_wait(int64_t min_ms, int64_t max_ms, int n)
{
    if (min_ms < 1)
        min_ms = 1;
    if (max_ms < min_ms)
        max_ms = min_ms;
    int64_t d = min_ms;
    for (int i = 0; i < n && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    int64_t jitter = d / 4 + 1;
    d += (int64_t)report_random((uint32_t)(jitter > UINT32_MAX ? UINT32_MAX : jitter));
    return d > max_ms ? max_ms : d;
}

void report_backoff_init(report_backoff_t *b, int64_t min_ms, int64_t max_ms)
{
    b->min_ms = min_ms;
    b->max_ms = max_ms;
    b->failures = 0;
    b->last_ms = 0;
}

int64_t report_backoff_next(report_backoff_t *b)
{
    b->last_ms = report_backoff_wait(b->min_ms, b->max_ms, b->failures);
    if (b->failures < 62)
        b->failures++;
    return b->last_ms;
}

void report_backoff_reset(report_backoff_t *b)
{
    b->failures = 0;
    b->last_ms = 0;
}
