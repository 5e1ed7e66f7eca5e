/* The one back-off policy (report_backoff): from the minimum, doubling to the cap, jitter of
 * up to a quarter on top, never past the cap and never under the minimum; reset after a
 * success. The store's and the aggregator's reconnects and the client's resends use it. */
#include "report_backoff.h"

#include <criterion/criterion.h>

Test(backoff, each_wait_is_the_doubled_minimum_plus_at_most_a_quarter)
{
    for (int round = 0; round < 200; round++) {
        for (int n = 0; n < 6; n++) {
            int64_t d = 10LL << n;
            int64_t w = report_backoff_wait(10, 5000, n);
            cr_assert_geq(w, d, "attempt %d waited %lld, under %lld", n, (long long)w,
                          (long long)d);
            cr_assert_leq(w, d + d / 4 + 1, "attempt %d waited %lld", n, (long long)w);
        }
    }
}

Test(backoff, the_cap_holds_jitter_included_and_far_past_it)
{
    for (int n = 9; n < 200; n += 7)
        for (int round = 0; round < 50; round++)
            cr_assert_leq(report_backoff_wait(10, 5000, n), 5000);
    /* at the cap exactly: d = 5000, so no jitter may be added */
    cr_assert_eq(report_backoff_wait(5000, 5000, 0), 5000);
    /* a cap under the minimum is the minimum; a minimum under 1 ms is 1 ms */
    cr_assert_eq(report_backoff_wait(100, 10, 3), 100);
    cr_assert_geq(report_backoff_wait(0, 10, 0), 1);
}

Test(backoff, a_connection_backs_off_further_with_each_failure_and_starts_over_after_a_success)
{
    report_backoff_t b;
    report_backoff_init(&b, 10, 5000);
    cr_assert_eq(b.last_ms, 0);
    int64_t floor = 10;
    for (int i = 0; i < 12; i++) {
        int64_t w = report_backoff_next(&b);
        cr_assert_geq(w, floor < 5000 ? floor : 5000, "failure %d: %lld", i, (long long)w);
        cr_assert_leq(w, 5000);
        cr_assert_eq(b.last_ms, w);
        floor *= 2;
    }
    cr_assert_eq(report_backoff_next(&b), 5000);
    report_backoff_reset(&b);
    cr_assert_eq(b.last_ms, 0);
    int64_t w = report_backoff_next(&b);
    cr_assert(w >= 10 && w <= 13, "after a success the wait starts over: %lld", (long long)w);
}
