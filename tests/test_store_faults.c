/* The store under faults: update ids that clash (same id, other content; the same id from
 * two units) and a database that makes the store wait on locks. Real collector and store
 * threads, real ZeroMQ sockets, a real PostgreSQL database per test. */
#define _GNU_SOURCE
#include "report_codec.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static test_stack_t stack;
static report_db_t *locker; /* a second session holding a lock on updates */
static int frozen_pid;      /* a backend stopped with SIGSTOP */

static void teardown(void)
{
    if (frozen_pid > 0) /* always, or the server keeps a stopped backend */
        kill(frozen_pid, SIGCONT);
    frozen_pid = 0;
    report_db_destroy(&locker); /* a failed test must not leave the stores waiting */
    test_stack_stop(&stack);
}

TestSuite(store_ids, .fini = teardown, .timeout = 120);
TestSuite(store_locks, .fini = teardown, .timeout = 120);
TestSuite(store_hung, .fini = teardown, .timeout = 120);
TestSuite(store_transient, .fini = teardown, .timeout = 120);
TestSuite(store_batches, .fini = teardown, .timeout = 120);

static void set_text(report_update_t *u, const char *text)
{
    free(u->text);
    u->text = report_strdup(text);
}

/* --- defect 4: an update id names one update of one unit --- */

Test(store_ids, the_same_update_again_is_duplicate_alone_and_in_one_batch)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("same-again");
    cr_assert_eq(test_push_one(&stack, 15000, u).outcome, REPORT_OUTCOME_STORED);
    report_reply_t r = test_push_one(&stack, 15000, u);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_DUPLICATE, "%s %s", report_reason_name(r.reason),
                 r.message);

    /* three copies of a new update in one burst: one row, the others DUPLICATE */
    report_update_t *v = test_update_new("same-burst");
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    for (int i = 0; i < 3; i++)
        test_peer_send_update(&peer, v);
    int stored = 0, dup = 0;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(test_peer_recv(&peer, &r, 15000), 0);
        stored += r.outcome == REPORT_OUTCOME_STORED;
        dup += r.outcome == REPORT_OUTCOME_DUPLICATE;
    }
    test_peer_close(&peer);
    cr_assert_eq(stored, 1);
    cr_assert_eq(dup, 2);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "2");
    test_db_assert_value(&stack.db, "SELECT count(*) FROM indicator_values", "2");
    report_update_destroy(&u);
    report_update_destroy(&v);
}

Test(store_ids, the_same_id_with_other_text_is_an_id_conflict_and_the_row_stays)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("conflict");
    set_text(u, "bản gốc {THANHTRA_CUOC} cuộc");
    cr_assert_eq(test_push_one(&stack, 15000, u).outcome, REPORT_OUTCOME_STORED);
    report_update_t *changed = test_update_new("conflict");
    free(changed->update_id);
    changed->update_id = report_strdup(u->update_id);
    set_text(changed, "bản sửa {THANHTRA_CUOC} cuộc");
    report_reply_t r = test_push_one(&stack, 15000, changed);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED, "outcome %d %s", r.outcome, r.message);
    cr_assert_eq(r.reason, REPORT_REASON_id_conflict);
    cr_assert_str_eq(r.update_id, u->update_id);
    char *q = report_sprintf("SELECT text FROM updates WHERE update_id = '%s'", u->update_id);
    test_db_assert_value(&stack.db, q, "bản gốc {THANHTRA_CUOC} cuộc");
    free(q);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    /* refused like any other refusal: counted by the collector, kept as a dead letter */
    cr_assert(
        test_db_wait_value(&stack.db, "SELECT reason FROM dead_letters", "id_conflict", 5000));
    report_collector_stats_t st;
    for (int64_t end = report_clock_ms() + 3000;; usleep(10 * 1000)) {
        report_collector_stats(stack.collector, &st);
        if (st.refused[REPORT_REASON_id_conflict] > 0 || report_clock_ms() > end)
            break;
    }
    cr_assert_eq(st.refused[REPORT_REASON_id_conflict], 1);

    /* the original sent again after the conflict is still a plain DUPLICATE */
    r = test_push_one(&stack, 15000, u);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_DUPLICATE, "outcome %d %s", r.outcome, r.message);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    report_update_destroy(&u);
    report_update_destroy(&changed);
}

Test(store_ids, a_changed_resend_in_the_same_batch_is_an_id_conflict)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("conflict-burst");
    report_update_t *changed = test_update_new("conflict-burst");
    free(changed->update_id);
    changed->update_id = report_strdup(u->update_id);
    changed->indicators[0].value = 2;
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    test_peer_send_update(&peer, u);
    test_peer_send_update(&peer, changed);
    test_peer_send_update(&peer, u);
    int stored = 0, dup = 0, conflict = 0;
    for (int i = 0; i < 3; i++) {
        report_reply_t r;
        cr_assert_eq(test_peer_recv(&peer, &r, 15000), 0);
        stored += r.outcome == REPORT_OUTCOME_STORED;
        dup += r.outcome == REPORT_OUTCOME_DUPLICATE;
        conflict += r.outcome == REPORT_OUTCOME_REJECTED && r.reason == REPORT_REASON_id_conflict;
    }
    test_peer_close(&peer);
    cr_assert_eq(stored, 1);
    cr_assert_eq(dup, 1);
    cr_assert_eq(conflict, 1);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    test_db_assert_value(&stack.db, "SELECT value::int FROM indicator_values", "1");
    report_update_destroy(&u);
    report_update_destroy(&changed);
}

Test(store_ids, one_unit_cannot_take_the_update_id_of_another)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *a = test_update_new("taken-first");
    cr_assert_eq(test_push_one(&stack, 15000, a).outcome, REPORT_OUTCOME_STORED);
    /* QLKH's own update, which happens to carry the same id */
    report_update_t *b = test_update_new("qlkh-own");
    free(b->update_id);
    b->update_id = report_strdup(a->update_id);
    free(b->unit_code);
    b->unit_code = report_strdup("QLKH");
    set_text(b, "Phòng Quản lý Khoa học: báo cáo riêng");
    report_reply_t r = test_push_one(&stack, 15000, b);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "outcome %d %s %s", r.outcome,
                 report_reason_name(r.reason), r.message);
    char *q = report_sprintf("SELECT string_agg(unit_code || ':' || item_key, ',' ORDER BY "
                             "unit_code) FROM updates WHERE update_id = '%s'",
                             a->update_id);
    test_db_assert_value(&stack.db, q, "QLKH:qlkh-own,THANH_TRA:taken-first");
    free(q);
    /* each unit's indicator values hang off its own row */
    test_db_assert_value(&stack.db, "SELECT count(DISTINCT update_seq) FROM indicator_values", "2");
    /* and each one's resend is its own DUPLICATE */
    cr_assert_eq(test_push_one(&stack, 15000, b).outcome, REPORT_OUTCOME_DUPLICATE);
    cr_assert_eq(test_push_one(&stack, 15000, a).outcome, REPORT_OUTCOME_DUPLICATE);
    report_update_destroy(&a);
    report_update_destroy(&b);
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
        cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "outcome %d %s %s", r.outcome,
                     report_reason_name(r.reason), r.message);
        stored++;
    }
    test_peer_close(&peer);
    cr_assert_eq(stored, N);
    test_db_assert_value(
        &stack.db, "SELECT count(*) || '/' || count(DISTINCT update_id) FROM updates", "20/20");
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
              r.outcome, report_reason_name(r.reason), r.message);
    cr_assert_neq(got, 0, "stored while updates was locked");
    report_store_stats_t ss;
    report_store_stats(stack.stores[0], &ss);
    cr_assert_geq(ss.retries, 2, "the insert did not run into lock_timeout and retry");
    cr_assert_eq(ss.rejected, 0);
    unlock_updates();
    cr_assert_eq(test_peer_recv(&peer, &r, 15000), 0, "no reply after the lock went");
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "outcome %d %s %s", r.outcome,
                 report_reason_name(r.reason), r.message);
    test_peer_close(&peer);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    test_db_assert_value(&stack.db, "SELECT count(*) FROM dead_letters", "0");
    report_update_destroy(&u);
}

/* --- a database session that stops answering --- */

/* The pid of the one backend of the store's role in the test's database. */
static int ingest_backend_pid(void)
{
    char *sql = report_sprintf("SELECT string_agg(pid::text, ',') FROM pg_stat_activity"
                               " WHERE datname = '%s' AND usename = 'report_ingest'",
                               stack.db.name);
    char *v = test_db_value(&stack.db, sql);
    free(sql);
    cr_assert(v && *v && !strchr(v, ','), "expected one backend of the store, got %s",
              v ? v : "none");
    int pid = atoi(v);
    free(v);
    return pid;
}

Test(store_hung, a_store_whose_backend_stops_answering_falls_silent_and_its_work_moves)
{
    report_collector_config_t cc;
    test_collector_config(&cc);
    cc.store_timeout_ms = 2000;
    test_stack_start(&stack, &cc, 0);
    /* The store that will hang: statement_timeout 1 s, so its wait bound is 3 s. */
    report_store_config_t sc;
    test_store_config(&stack, &sc);
    sc.statement_timeout_ms = 1000;
    stack.stores[stack.store_count++] = test_store_start_config(&stack, &sc);
    test_stack_wait_stores(&stack);
    int pid = ingest_backend_pid();
    /* A healthy store with little credit: every update goes to the first one. */
    sc.capacity = 50;
    stack.stores[stack.store_count++] = test_store_start_config(&stack, &sc);
    test_store_config_free(&sc);
    test_stack_wait_stores(&stack);

    /* The first store's backend stops (a hung server or path, as far as the store can tell),
     * and no new session may be opened in the database (the existing ones go on). */
    cr_assert_eq(kill(pid, SIGSTOP), 0, "cannot stop backend %d", pid);
    frozen_pid = pid;
    char *sql = report_sprintf("ALTER DATABASE %s CONNECTION LIMIT 0", stack.db.name);
    test_db_exec(&stack.db, sql);
    free(sql);

    enum { N = 20 };
    report_update_t *list[N];
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    for (int i = 0; i < N; i++) {
        char key[16];
        snprintf(key, sizeof key, "hung-%d", i);
        list[i] = test_update_new(key);
        test_peer_send_update(&peer, list[i]);
    }
    /* wait bound (3 s) + store timeout (2 s) + slack */
    int stored = 0;
    int64_t t0 = report_clock_ms();
    for (int i = 0; i < N; i++) {
        report_reply_t r;
        int64_t left = t0 + 12000 - report_clock_ms();
        cr_assert_eq(test_peer_recv(&peer, &r, left > 0 ? (int)left : 1), 0,
                     "%d of %d answered within 12 s of a hung database session", i, N);
        cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "outcome %d %s %s", r.outcome,
                     report_reason_name(r.reason), r.message);
        stored++;
    }
    test_peer_close(&peer);
    cr_assert_eq(stored, N);
    report_collector_stats_t st;
    report_collector_stats(stack.collector, &st);
    cr_assert_geq(st.redispatched, N, "redispatched %llu", (unsigned long long)st.redispatched);
    report_store_stats_t ss;
    report_store_stats(stack.stores[1], &ss);
    cr_assert_eq(ss.stored, N, "the healthy store stored %llu", (unsigned long long)ss.stored);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "20");
    for (int i = 0; i < N; i++)
        report_update_destroy(&list[i]);
}

/* --- a database state that every row runs into is not a refusal of the rows --- */

/* Ends the store's sessions, so that the next ones start with the database's settings. */
static void terminate_ingest_backends(void)
{
    char *sql = report_sprintf("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                               " WHERE datname = '%s' AND usename = 'report_ingest'",
                               stack.db.name);
    char *v = test_db_value(&stack.db, sql);
    free(sql);
    cr_assert(v, "cannot terminate the store's sessions");
    free(v);
}

/* Checks that nothing is answered within quiet_ms. */
static void expect_no_answer(test_peer_t *peer, int quiet_ms)
{
    report_reply_t r;
    int got = test_peer_recv(peer, &r, quiet_ms);
    cr_assert_neq(got, 0, "answered %d %s %s while the database could not take it", r.outcome,
                  report_reason_name(r.reason), r.message);
}

static void expect_stored(test_peer_t *peer, int count, int timeout_ms)
{
    for (int i = 0; i < count; i++) {
        report_reply_t r;
        cr_assert_eq(test_peer_recv(peer, &r, timeout_ms), 0, "no reply (%d of %d)", i, count);
        cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "outcome %d %s %s", r.outcome,
                     report_reason_name(r.reason), r.message);
    }
}

Test(store_transient, a_read_only_session_is_left_for_a_new_one_and_nothing_refused)
{
    test_stack_start(&stack, NULL, 1);
    /* a failover onto a standby, as the store sees it: its new sessions are read-only */
    char *sql = report_sprintf(
        "ALTER ROLE report_ingest IN DATABASE %s SET default_transaction_read_only = on",
        stack.db.name);
    test_db_exec(&stack.db, sql);
    free(sql);
    terminate_ingest_backends();
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    report_update_t *list[3];
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "ro-%d", i);
        list[i] = test_update_new(key);
        test_peer_send_update(&peer, list[i]);
    }
    expect_no_answer(&peer, 2000);
    report_store_stats_t ss;
    report_store_stats(stack.stores[0], &ss);
    /* a read-only session (SQLSTATE 25006) can never commit: the store drops it and
     * connects again, which after a real failover reaches the new primary */
    cr_assert_geq(ss.reconnects, 1, "the store did not leave the read-only session");
    cr_assert_eq(ss.rejected, 0);
    sql = report_sprintf(
        "ALTER ROLE report_ingest IN DATABASE %s RESET default_transaction_read_only",
        stack.db.name);
    test_db_exec(&stack.db, sql);
    free(sql);
    /* no help from outside: the store's own reconnection finds a writable session */
    expect_stored(&peer, 3, 15000);
    test_peer_close(&peer);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "3");
    test_db_assert_value(&stack.db, "SELECT count(*) FROM dead_letters", "0");
    for (int i = 0; i < 3; i++)
        report_update_destroy(&list[i]);
}

Test(store_transient, a_batch_whose_every_row_is_refused_alike_is_retried)
{
    test_stack_start(&stack, NULL, 0);
    /* the three updates sent at once make one batch */
    report_store_config_t sc;
    test_store_config(&stack, &sc);
    sc.batch_wait_ms = 300;
    stack.stores[stack.store_count++] = test_store_start_config(&stack, &sc);
    test_store_config_free(&sc);
    test_stack_wait_stores(&stack);
    /* a constraint every row violates (23514, a data class): not the rows' fault */
    test_db_exec(&stack.db,
                 "ALTER TABLE updates ADD CONSTRAINT t_every_row CHECK (false) NOT VALID");
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    report_update_t *list[3];
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "alike-%d", i);
        list[i] = test_update_new(key);
        test_peer_send_update(&peer, list[i]);
    }
    expect_no_answer(&peer, 2000);
    report_store_stats_t ss;
    report_store_stats(stack.stores[0], &ss);
    cr_assert_geq(ss.retries, 1, "the batch was not retried");
    cr_assert_eq(ss.rejected, 0);
    test_db_exec(&stack.db, "ALTER TABLE updates DROP CONSTRAINT t_every_row");
    expect_stored(&peer, 3, 15000);
    test_peer_close(&peer);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "3");
    for (int i = 0; i < 3; i++)
        report_update_destroy(&list[i]);
}

/* --- a batch too big for statement_timeout, a batch too big in bytes --- */

/* Sends count updates of a text of text_bytes each (no two alike). */
static void send_big_updates(test_peer_t *peer, int count, size_t text_bytes, const char *prefix)
{
    char *text = report_malloc(text_bytes + 1);
    for (size_t i = 0; i < text_bytes; i++)
        text[i] = (char)('a' + (i * 7 + i / 26) % 26);
    text[text_bytes] = '\0';
    for (int i = 0; i < count; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s-%d", prefix, i);
        report_update_t *u = test_update_new(key);
        text[0] = (char)('a' + i % 26);
        set_text(u, text);
        test_peer_send_update(peer, u);
        report_update_destroy(&u);
    }
    free(text);
}

/* One store holding every update until all have come (batch_wait_ms), so that they make one
 * batch unless the store splits it. */
static void start_batching_store(int64_t statement_timeout_ms, int64_t max_bytes)
{
    test_stack_start(&stack, NULL, 0);
    report_store_config_t sc;
    test_store_config(&stack, &sc);
    sc.statement_timeout_ms = statement_timeout_ms;
    sc.batch_max_bytes = max_bytes;
    sc.batch_wait_ms = 2000;
    stack.stores[stack.store_count++] = test_store_start_config(&stack, &sc);
    test_store_config_free(&sc);
    test_stack_wait_stores(&stack);
}

Test(store_batches, a_batch_past_statement_timeout_is_halved_until_it_commits)
{
    /* no byte bound to speak of: only halving can split the batch */
    start_batching_store(300, 1024 * 1024 * 1024);
    /* Each row costs at least 2 ms, so 400 in one transaction run past the 300 ms bound
     * however fast the machine (the speed of the insert itself is not what is tested). */
    test_db_exec(&stack.db, "CREATE FUNCTION t_slow_row() RETURNS trigger LANGUAGE plpgsql AS "
                            "$$ BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$");
    test_db_exec(&stack.db, "CREATE TRIGGER t_slow BEFORE INSERT ON updates FOR EACH ROW "
                            "EXECUTE FUNCTION t_slow_row()");
    enum { N = 400 };
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    send_big_updates(&peer, N, 15 * 1024, "big");
    expect_stored(&peer, N, 30000);
    test_peer_close(&peer);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "400");
    report_store_stats_t ss;
    report_store_stats(stack.stores[0], &ss);
    cr_assert_eq(ss.rejected, 0);
    cr_assert_geq(ss.retries, 1, "the batch never ran past statement_timeout: make it bigger");
    cr_assert_gt(ss.batches, 1, "all %d in one batch", N);
}

Test(store_batches, a_batch_is_bounded_in_bytes)
{
    start_batching_store(4000, 64 * 1024);
    enum { N = 20 };
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    send_big_updates(&peer, N, 15 * 1024, "bytes");
    expect_stored(&peer, N, 15000);
    test_peer_close(&peer);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "20");
    report_store_stats_t ss;
    report_store_stats(stack.stores[0], &ss);
    /* 15 KB payloads, at most 64 KB a batch: 4 a batch */
    cr_assert_geq(ss.batches, 5, "%llu batches", (unsigned long long)ss.batches);
    cr_assert_eq(ss.retries, 0);
}
