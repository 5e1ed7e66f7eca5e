/* Regression tests for what an independent client and fault tester broke (issue 8), each
 * against the real collector and stores on real CURVE sockets and a real PostgreSQL: label
 * bounds, refusals blamed on the key's unit, canonical ids in every reply, and store answers
 * owed to an earlier collector process or to another store. */
#define _GNU_SOURCE
#include "report_codec.h"
#include "report_db.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static test_stack_t stack;

static void teardown(void)
{
    test_stack_stop(&stack);
}

TestSuite(hardening, .fini = teardown, .timeout = 120);

static report_collector_stats_t *s_stats(void)
{
    static report_collector_stats_t st;
    report_collector_stats(stack.collector, &st);
    return &st;
}

/* Waits until the collector's published stats count n answers: they are copied for readers
 * after the loop iteration that sent the replies, a moment after the client has them. */
static uint64_t s_answered(void)
{
    const report_collector_stats_t *st = s_stats();
    return st->stored + st->duplicates + st->rejected + st->busy;
}

static void s_wait_answered(uint64_t n)
{
    int64_t end = report_clock_ms() + 5000;
    while (s_answered() < n && report_clock_ms() < end)
        usleep(10 * 1000);
    cr_assert_eq(s_answered(), n);
}

static const report_unit_counters_t *s_unit_counters(const char *unit)
{
    report_collector_stats_t *st = s_stats();
    for (size_t i = 0; i < st->unit_count; i++)
        if (strcmp(st->units[i].unit, unit) == 0)
            return &st->units[i];
    return NULL;
}

static void s_upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'f')
            *s = (char)(*s - 'a' + 'A');
}

/* Defect 1: the 64th and every later distinct unit code share the "other" label; the
 * collector neither writes past its counters nor stops answering. */
Test(hardening, unit_labels_stay_bounded_past_the_limit)
{
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.server.insecure_plain = true; /* then the unit is whatever the message claims */
    test_stack_start(&stack, &cfg, 0);
    test_peer_t peer;
    test_peer_open_as(&peer, report_collector_endpoint(stack.collector), NULL);
    const int sent = REPORT_MAX_UNIT_LABELS + 6; /* N-1, N, N+1 and beyond */
    for (int i = 0; i < sent; i++) {
        report_update_t *u = test_update_new("k");
        free(u->unit_code);
        u->unit_code = report_sprintf("MADE_UP_%03d", i);
        u->month = 13; /* refused: bad_period */
        test_peer_send_update(&peer, u);
        report_reply_t r;
        cr_assert_eq(test_peer_recv(&peer, &r, 5000), 0, "no answer to update %d", i);
        cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED);
        cr_assert_eq(r.reason, REPORT_REASON_bad_period);
        report_update_destroy(&u);
    }
    test_peer_close(&peer);
    s_wait_answered((uint64_t)sent);
    report_collector_stats_t *st = s_stats();
    cr_assert_eq(st->unit_count, REPORT_MAX_UNIT_LABELS);
    cr_assert_str_eq(st->units[REPORT_MAX_UNIT_LABELS - 2].unit, "MADE_UP_062");
    const report_unit_counters_t *other = s_unit_counters("other");
    cr_assert_not_null(other);
    cr_assert_eq(other->received, (uint64_t)(sent - (REPORT_MAX_UNIT_LABELS - 1)));
    cr_assert_eq(other->refused[REPORT_REASON_bad_period], other->received);
    cr_assert_eq(st->refused[REPORT_REASON_bad_period], (uint64_t)sent);
}

/* Defect 2: QLKH's key sending an update that claims THANH_TRA (and is wrong besides) is
 * unit_mismatch, counted, logged and dead-lettered under QLKH; THANH_TRA stays clean. */
Test(hardening, refusals_are_blamed_on_the_key_not_the_claimed_unit)
{
    test_stack_start(&stack, NULL, 1);
    test_peer_t peer;
    test_peer_open_as(&peer, report_collector_endpoint(stack.collector), "QLKH");
    report_update_t *u = test_update_new("impostor"); /* claims THANH_TRA */
    u->month = 13;
    test_peer_send_update(&peer, u);
    report_reply_t r;
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_eq(r.reason, REPORT_REASON_unit_mismatch, "%s: %s", report_reason_name(r.reason),
                 r.message);
    /* garbage from the same key is blamed on QLKH too */
    test_peer_send(&peer, "\xff\xff\xff", 3);
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.reason, REPORT_REASON_malformed);
    test_peer_close(&peer);
    report_update_destroy(&u);

    s_wait_answered(2);
    const report_unit_counters_t *qlkh = s_unit_counters("QLKH");
    cr_assert_not_null(qlkh);
    cr_assert_eq(qlkh->refused[REPORT_REASON_unit_mismatch], 1);
    cr_assert_eq(qlkh->refused[REPORT_REASON_malformed], 1);
    cr_assert_null(s_unit_counters("THANH_TRA"), "THANH_TRA was blamed for QLKH's input");
    cr_assert(test_db_wait_value(&stack.db,
                                 "SELECT string_agg(unit_code || ':' || reason, ',' ORDER BY "
                                 "reason DESC) FROM dead_letters",
                                 "QLKH:unit_mismatch,QLKH:malformed", 5000));
}

/* Defect 9: an upper-case UUID comes back in the one canonical form whatever the outcome. */
Test(hardening, every_outcome_answers_the_canonical_id)
{
    test_stack_start(&stack, NULL, 1);
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    report_update_t *good = test_update_new("canonical-good");
    report_update_t *bad = test_update_new("canonical-bad");
    bad->month = 0;
    char good_id[40], bad_id[40];
    snprintf(good_id, sizeof good_id, "%s", good->update_id);
    snprintf(bad_id, sizeof bad_id, "%s", bad->update_id);
    s_upper(good->update_id);
    s_upper(bad->update_id);
    report_reply_t r;
    test_peer_send_update(&peer, good);
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s", r.message);
    cr_assert_str_eq(r.update_id, good_id);
    test_peer_send_update(&peer, good);
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_DUPLICATE);
    cr_assert_str_eq(r.update_id, good_id);
    test_peer_send_update(&peer, bad);
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_str_eq(r.update_id, bad_id);
    test_peer_close(&peer);
    report_update_destroy(&good);
    report_update_destroy(&bad);
}

/* --- a store as seen from the collector, to answer what a buggy or rogue store would --- */

typedef struct {
    test_peer_t peer;
} fake_store_t;

static void s_fake_store_open(fake_store_t *fs, uint32_t credit)
{
    test_peer_open_as(&fs->peer, report_collector_store_endpoint(stack.collector), "store");
    report_frame_t ready = {.type = REPORT_FRAME_READY, .credit = credit};
    snprintf(ready.store_id, sizeof ready.store_id, "fake-%u", credit);
    size_t size;
    uint8_t *buf = report_frame_encode(&ready, &size);
    test_peer_send(&fs->peer, buf, size);
    free(buf);
}

static void s_fake_store_send(fake_store_t *fs, const report_frame_t *frame)
{
    size_t size;
    uint8_t *buf = report_frame_encode(frame, &size);
    test_peer_send(&fs->peer, buf, size);
    free(buf);
}

/* Receives the next WORK frame (skipping nothing else: a fake store gets only work). */
static void s_fake_store_work(fake_store_t *fs, report_frame_t *work)
{
    zmq_pollitem_t pi = {fs->peer.sock, 0, ZMQ_POLLIN, 0};
    cr_assert_eq(zmq_poll(&pi, 1, 10000), 1, "no work handed to the fake store");
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    cr_assert(zmq_msg_recv(&msg, fs->peer.sock, 0) >= 0);
    cr_assert_eq(report_frame_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), work), 0);
    zmq_msg_close(&msg);
    cr_assert_eq(work->type, REPORT_FRAME_WORK);
}

static void s_wait_stores(uint64_t count)
{
    int64_t end = report_clock_ms() + 10000;
    while (s_stats()->stores != count && report_clock_ms() < end)
        usleep(10 * 1000);
    cr_assert_eq(s_stats()->stores, count);
}

/* Defect 5, first half: an answer is taken only from the store the update was handed to,
 * for that update, from this collector process. */
Test(hardening, store_answers_are_matched_to_store_update_and_process)
{
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.store_timeout_ms = 30000; /* the fake stores send no heartbeats */
    test_stack_start(&stack, &cfg, 0);
    fake_store_t holder, other;
    s_fake_store_open(&holder, 100);
    s_fake_store_open(&other, 0); /* alive, takes nothing */
    s_wait_stores(2);
    test_peer_t client;
    test_peer_open(&client, report_collector_endpoint(stack.collector));
    report_update_t *u = test_update_new("matched");
    test_peer_send_update(&client, u);
    report_frame_t work;
    s_fake_store_work(&holder, &work);
    report_update_t *handed = report_update_decode(work.update, work.update_size);
    cr_assert_not_null(handed);

    report_frame_t result = {
        .type = REPORT_FRAME_RESULT, .tag = work.tag, .incarnation = work.incarnation};
    report_reply_set(&result.reply, handed->update_id, REPORT_OUTCOME_STORED, REPORT_REASON_none,
                     "stored");
    report_reply_t r;
    /* from a store it was not handed to */
    s_fake_store_send(&other, &result);
    /* for another update */
    report_frame_t wrong_id = result;
    report_reply_set(&wrong_id.reply, "6f1c1b7e-5a8e-4d55-9d3c-1d2b3c4d5e6f", REPORT_OUTCOME_STORED,
                     REPORT_REASON_none, "stored");
    s_fake_store_send(&holder, &wrong_id);
    /* owed to another collector process */
    report_frame_t old_process = result;
    old_process.incarnation = work.incarnation + 1;
    s_fake_store_send(&holder, &old_process);
    cr_assert_eq(test_peer_recv(&client, &r, 1000), -1, "a stale answer reached the client: %s",
                 report_outcome_name(r.outcome));
    int64_t end = report_clock_ms() + 5000;
    while (s_stats()->stale_results < 3 && report_clock_ms() < end)
        usleep(10 * 1000);
    cr_assert_eq(s_stats()->stale_results, 3);
    cr_assert_eq(s_stats()->inflight, 1);

    /* the real answer goes through */
    s_fake_store_send(&holder, &result);
    cr_assert_eq(test_peer_recv(&client, &r, 5000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED);
    cr_assert_str_eq(r.update_id, u->update_id);
    end = report_clock_ms() + 5000; /* the stats are copied after the reply is sent */
    while (s_stats()->inflight != 0 && report_clock_ms() < end)
        usleep(10 * 1000);
    cr_assert_eq(s_stats()->inflight, 0);

    report_update_destroy(&handed);
    report_update_destroy(&u);
    report_frame_clear(&work);
    test_peer_close(&client);
    test_peer_close(&holder.peer);
    test_peer_close(&other.peer);
}

/* Defect 5, the tester's sequence: a store's commit is held up by a lock; the collector is
 * restarted; new updates are queued in the new process; then the old batch commits and the
 * store answers with tags of the old process. Those answers must not acknowledge (or free)
 * the new updates: every STORED must be in the database, and all of them must get there. */
Test(hardening, answers_owed_to_a_restarted_collector_never_ack_new_updates)
{
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    test_stack_start(&stack, &cfg, 1);
    report_db_t *locker = report_db_new(stack.db.conninfo);
    cr_assert_eq(report_db_connect(locker), 0);
    cr_assert_eq(report_db_exec(locker, "BEGIN"), 0);
    cr_assert_eq(report_db_exec(locker, "LOCK TABLE updates IN EXCLUSIVE MODE"), 0);

    enum { OLD = 10, NEW = 50 };
    test_peer_t old_client;
    test_peer_open(&old_client, report_collector_endpoint(stack.collector));
    for (int i = 0; i < OLD; i++) {
        char key[32];
        snprintf(key, sizeof key, "old-%d", i);
        report_update_t *u = test_update_new(key);
        test_peer_send_update(&old_client, u);
        report_update_destroy(&u);
    }
    report_store_stats_t ss;
    int64_t end = report_clock_ms() + 10000;
    do {
        usleep(10 * 1000);
        report_store_stats(stack.stores[0], &ss);
    } while (ss.received < OLD && report_clock_ms() < end);
    cr_assert_eq(ss.received, OLD, "the store did not take the old batch");

    /* the collector goes away (its memory with it) and comes back on the same endpoints */
    char *endpoint = report_strdup(report_collector_endpoint(stack.collector));
    char *store_endpoint = report_strdup(report_collector_store_endpoint(stack.collector));
    report_collector_stop(&stack.collector);
    test_peer_close(&old_client);
    cfg.endpoint = endpoint;
    cfg.store_endpoint = store_endpoint;
    stack.collector = report_collector_start(&cfg);
    cr_assert_not_null(stack.collector);

    test_peer_t client;
    test_peer_open(&client, endpoint);
    char ids[NEW][40];
    for (int i = 0; i < NEW; i++) {
        char key[32];
        snprintf(key, sizeof key, "new-%d", i);
        report_update_t *u = test_update_new(key);
        snprintf(ids[i], sizeof ids[i], "%s", u->update_id);
        test_peer_send_update(&client, u);
        report_update_destroy(&u);
    }
    end = report_clock_ms() + 5000;
    while (s_stats()->inflight < NEW && report_clock_ms() < end)
        usleep(10 * 1000);
    cr_assert_eq(s_stats()->inflight, NEW);
    cr_assert_eq(report_db_exec(locker, "ROLLBACK"), 0); /* the old batch commits now */
    report_db_destroy(&locker);

    for (int n = 0; n < NEW; n++) {
        report_reply_t r;
        cr_assert_eq(test_peer_recv(&client, &r, 20000), 0, "only %d of %d answered", n, NEW);
        cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s %s", report_reason_name(r.reason),
                     r.message);
        char *sql =
            report_sprintf("SELECT count(*) FROM updates WHERE update_id = '%s'", r.update_id);
        char *count = test_db_value(&stack.db, sql);
        cr_assert_str_eq(count, "1", "%s was acknowledged STORED but is not stored", r.update_id);
        free(count);
        free(sql);
    }
    cr_assert_geq(s_stats()->stale_results, OLD);
    cr_assert(test_db_wait_value(&stack.db, "SELECT count(*) FROM updates", "60", 5000));
    test_peer_close(&client);
    free(endpoint);
    free(store_endpoint);
}
