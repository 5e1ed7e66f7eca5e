/* The store under faults: a database that makes the store wait on locks. Real collector
 * and store threads, real ZeroMQ sockets, a real PostgreSQL database per test. */
#define _GNU_SOURCE
#include "report_codec.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static test_stack_t stack;
static report_db_t *locker; /* a second session holding a lock on updates */

static void teardown(void)
{
    report_db_destroy(&locker); /* a failed test must not leave the stores waiting */
    test_stack_stop(&stack);
}

TestSuite(store_locks, .fini = teardown, .timeout = 120);

static void assert_value(const char *sql, const char *expected)
{
    char *v = test_db_value(&stack.db, sql);
    cr_assert(v, "no value for %s", sql);
    cr_assert_str_eq(v, expected, "%s", sql);
    free(v);
}

/* --- defect 11: a session that holds locks must not stop the pipeline --- */

/* A second session takes a lock on updates that the store's inserts must wait for. */
static void lock_updates(void)
{
    locker = report_db_new(stack.db.conninfo);
    cr_assert_eq(report_db_connect(locker), 0, "%s", report_db_error(locker));
    cr_assert_eq(report_db_exec(locker, "BEGIN; LOCK TABLE updates IN EXCLUSIVE MODE"), 0, "%s",
                 report_db_error(locker));
}

static void unlock_updates(void)
{
    cr_assert_eq(report_db_exec(locker, "COMMIT"), 0, "%s", report_db_error(locker));
    report_db_destroy(&locker);
}

Test(store_locks, a_lock_held_past_the_store_timeout_neither_kills_the_stores_nor_rejects)
{
    report_collector_config_t cc;
    test_collector_config(&cc);
    cc.store_timeout_ms = 2000;
    test_stack_start(&stack, &cc, 2);
    enum { N = 20 };
    report_update_t *list[N];
    for (int i = 0; i < N; i++) {
        char key[16];
        snprintf(key, sizeof key, "locked-%d", i);
        list[i] = test_update_new(key);
    }
    lock_updates();
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    for (int i = 0; i < N; i++)
        test_peer_send_update(&peer, list[i]);
    /* Hold the lock for 2.5 store timeouts: both stores wait, yet keep talking. */
    int stored = 0, other = 0;
    uint64_t min_stores = 2, redispatched = 0;
    int64_t end = report_clock_ms() + 5000;
    while (report_clock_ms() < end) {
        report_reply_t r;
        if (test_peer_recv(&peer, &r, 50) == 0) {
            stored += r.outcome == REPORT_OUTCOME_STORED;
            other += r.outcome != REPORT_OUTCOME_STORED;
        }
        report_collector_stats_t st;
        report_collector_stats(stack.collector, &st);
        if (st.stores < min_stores)
            min_stores = st.stores;
        redispatched = st.redispatched;
    }
    cr_assert_eq(min_stores, 2, "a store waiting on a lock was declared dead");
    cr_assert_eq(redispatched, 0, "updates were handed to another store");
    cr_assert_eq(other, 0, "an update was answered other than STORED while the lock was held");
    cr_assert_eq(stored, 0, "nothing can be stored while updates is locked");
    unlock_updates();
    for (int i = stored + other; i < N; i++) {
        report_reply_t r;
        cr_assert_eq(test_peer_recv(&peer, &r, 15000), 0, "no reply after the lock went");
        cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "outcome %d %s %s", r.outcome, r.reason,
                     r.message);
        stored++;
    }
    test_peer_close(&peer);
    cr_assert_eq(stored, N);
    assert_value("SELECT count(*) || '/' || count(DISTINCT update_id) FROM updates", "20/20");
    report_collector_stats_t st;
    report_collector_stats(stack.collector, &st);
    cr_assert_eq(st.redispatched, 0);
    cr_assert_eq(st.rejected, 0);
    for (int i = 0; i < N; i++)
        report_update_destroy(&list[i]);
}

Test(store_locks, an_insert_that_hits_lock_timeout_is_retried_and_stored)
{
    test_stack_start(&stack, NULL, 0);
    /* A short lock_timeout for the store's role in this database (the store's own setting
     * overrides it with its default): the insert runs into it at once. */
    char *sql = report_sprintf("ALTER ROLE report_ingest IN DATABASE %s SET lock_timeout = 300",
                               stack.db.name);
    test_db_exec(&stack.db, sql);
    free(sql);
    report_store_config_t sc;
    test_store_config(&stack, &sc);
    sc.lock_timeout_ms = 300;
    stack.stores[stack.store_count++] = test_store_start_config(&stack, &sc);
    test_store_config_free(&sc);
    test_stack_wait_stores(&stack);

    lock_updates();
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    report_update_t *u = test_update_new("lock-timeout");
    test_peer_send_update(&peer, u);
    report_reply_t r;
    int got = test_peer_recv(&peer, &r, 2000);
    cr_assert(got != 0 || r.outcome == REPORT_OUTCOME_STORED, "answered %d %s %s while locked",
              r.outcome, r.reason, r.message);
    cr_assert_neq(got, 0, "stored while updates was locked");
    report_store_stats_t ss;
    report_store_stats(stack.stores[0], &ss);
    cr_assert_geq(ss.retries, 2, "the insert did not run into lock_timeout and retry");
    cr_assert_eq(ss.rejected, 0);
    unlock_updates();
    cr_assert_eq(test_peer_recv(&peer, &r, 15000), 0, "no reply after the lock went");
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "outcome %d %s %s", r.outcome, r.reason,
                 r.message);
    test_peer_close(&peer);
    assert_value("SELECT count(*) FROM updates", "1");
    assert_value("SELECT count(*) FROM dead_letters", "0");
    report_update_destroy(&u);
}
