/* The ingest path end to end: real collector and store threads, real ZeroMQ sockets, a real
 * PostgreSQL database per test. */
#define _GNU_SOURCE
#include "report_push.h"
#include "report_codec.h"
#include "report_json.h"
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

TestSuite(ingest, .fini = teardown, .timeout = 120);

/* The collector publishes its counters after it answers: read them until cond holds (or 3 s
 * pass, and the assertion that follows reports the values). */
#define WAIT_STATS(st, cond)                                                                       \
    do {                                                                                           \
        int64_t end_ = report_clock_ms() + 3000;                                                   \
        do {                                                                                       \
            report_collector_stats(stack.collector, &(st));                                        \
            if (cond)                                                                              \
                break;                                                                             \
            usleep(10 * 1000);                                                                     \
        } while (report_clock_ms() < end_);                                                        \
    } while (0)

/* n updates of THANH_TRA with item keys PREFIX-0, PREFIX-1, ... */
static report_update_t **s_updates(const char *prefix, int n)
{
    report_update_t **list = report_calloc((size_t)n, sizeof *list);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s-%d", prefix, i);
        list[i] = test_update_new(key);
    }
    return list;
}

/* A client of the stack's collector with THANH_TRA's key. */
static report_client_t *s_client(int window, int retries, int timeout_ms)
{
    report_client_config_t cc;
    report_client_config_default(&cc);
    cc.endpoint = report_collector_endpoint(stack.collector);
    cc.keys = test_client_keys("THANH_TRA");
    if (window)
        cc.window = window;
    if (retries >= 0)
        cc.retries = retries;
    if (timeout_ms)
        cc.timeout_ms = timeout_ms;
    return report_client_new_config(&cc);
}

Test(ingest, push_stores_the_row_with_its_content)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("tt-1");
    u->item_order = 3;
    u->section = REPORT_SECTION_RESULT;
    report_reply_t r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s %s", report_reason_name(r.reason),
                 r.message);
    cr_assert_str_eq(r.update_id, u->update_id);
    char *q = report_sprintf(
        "SELECT unit_code || '|' || year || '|' || month || '|' || section || '|' || "
        "area_code || '|' || item_key || '|' || item_order || '|' || text "
        "FROM updates WHERE update_id = '%s'",
        u->update_id);
    test_db_assert_value(
        &stack.db, q,
        "THANH_TRA|2018|7|result|THANH_TRA|tt-1|3|tổ chức triển khai {THANHTRA_CUOC} "
        "cuộc thanh tra chuyên đề");
    free(q);
    q = report_sprintf(
        "SELECT indicator_code || '=' || value FROM indicator_values v JOIN updates u ON "
        "u.seq = v.update_seq WHERE u.update_id = '%s'",
        u->update_id);
    test_db_assert_value(&stack.db, q, "THANHTRA_CUOC=1");
    free(q);
    /* the raw payload is kept and decodes to the same update */
    q = report_sprintf("SELECT encode(payload, 'hex') FROM updates WHERE update_id = '%s'",
                       u->update_id);
    char *hex = test_db_value(&stack.db, q);
    size_t n = strlen(hex) / 2;
    uint8_t *bytes = report_malloc(n);
    for (size_t i = 0; i < n; i++)
        sscanf(hex + 2 * i, "%2hhx", &bytes[i]);
    report_update_t *back = report_update_decode(bytes, n);
    cr_assert_not_null(back);
    cr_assert_str_eq(back->update_id, u->update_id);
    report_update_destroy(&back);
    free(bytes);
    free(hex);
    free(q);
    report_update_destroy(&u);
}

Test(ingest, quotes_and_backslashes_are_stored_as_sent)
{
    /* The store passes rows as array literals: quotes and backslashes must be escaped there,
     * in the text, the sub-items (JSON inside the literal) and the payload's bytes. */
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("tt-quotes");
    free(u->text);
    u->text = report_strdup("\"Kiểm tra\" tại C:\\đo\\lường, {THANHTRA_CUOC} \\\"");
    u->sub_items = report_realloc(u->sub_items, sizeof(char *));
    u->sub_items[0] = report_strdup("mục \"con\" \\ một");
    u->sub_item_count = 1;
    report_reply_t r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s %s", report_reason_name(r.reason),
                 r.message);
    char *q = report_sprintf("SELECT text || '|' || (sub_items->>0) || '|' || "
                             "(content_sha256 = encode(sha256(payload), 'hex')) FROM updates "
                             "WHERE update_id = '%s'",
                             u->update_id);
    test_db_assert_value(&stack.db, q,
                         "\"Kiểm tra\" tại C:\\đo\\lường, {THANHTRA_CUOC} \\\"|mục \"con\" \\ "
                         "một|true");
    free(q);
    report_update_destroy(&u);
}

Test(ingest, the_same_update_twice_is_one_row_and_duplicate)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("tt-dup");
    cr_assert_eq(test_push_one(&stack, 10000, u).outcome, REPORT_OUTCOME_STORED);
    report_reply_t r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_DUPLICATE, "%s", r.message);
    char *q = report_sprintf("SELECT count(*) FROM updates WHERE update_id = '%s'", u->update_id);
    test_db_assert_value(&stack.db, q, "1");
    free(q);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM indicator_values", "1");
    report_update_destroy(&u);
}

Test(ingest, a_resend_in_the_same_batch_is_still_one_row)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("tt-burst");
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    for (int i = 0; i < 5; i++)
        test_peer_send_update(&peer, u);
    int stored = 0, dup = 0;
    for (int i = 0; i < 5; i++) {
        report_reply_t r;
        cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
        stored += r.outcome == REPORT_OUTCOME_STORED;
        dup += r.outcome == REPORT_OUTCOME_DUPLICATE;
    }
    test_peer_close(&peer);
    cr_assert_eq(stored, 1);
    cr_assert_eq(dup, 4);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    report_update_destroy(&u);
}

Test(ingest, malformed_bytes_are_refused_and_the_next_update_is_served)
{
    test_stack_start(&stack, NULL, 1);
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0x7f, 'x', 'y'};
    test_peer_send(&peer, junk, sizeof junk);
    report_reply_t r;
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_eq(r.reason, REPORT_REASON_malformed);
    report_update_t *u = test_update_new("after-junk");
    test_peer_send_update(&peer, u);
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s", r.message);
    test_peer_close(&peer);
    /* the refusal is kept as a dead letter, with the bytes */
    cr_assert(test_db_wait_value(
        &stack.db, "SELECT reason || ':' || payload_size FROM dead_letters", "malformed:7", 5000));
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    report_collector_stats_t st;
    WAIT_STATS(st, st.refused[REPORT_REASON_malformed] == 1);
    cr_assert_eq(st.refused[REPORT_REASON_malformed], 1);
    report_update_destroy(&u);
}

Test(ingest, invalid_text_is_refused_and_nothing_is_stored)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("bad-text");
    free(u->text);
    u->text = report_strdup("a\xff");
    report_reply_t r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_str_eq(report_reason_name(r.reason), "invalid_utf8");
    cr_assert_str_eq(r.update_id, u->update_id);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "0");
    cr_assert(
        test_db_wait_value(&stack.db, "SELECT reason FROM dead_letters", "invalid_utf8", 5000));
    report_update_destroy(&u);
}

Test(ingest, unknown_codes_are_refused_by_the_catalogue)
{
    test_stack_start(&stack, NULL, 1);
    /* a key enrolled for a unit the database does not have */
    test_enrol("unit", "NO_SUCH_UNIT");
    report_update_t *u = test_update_new("unknown-unit");
    free(u->unit_code);
    u->unit_code = report_strdup("NO_SUCH_UNIT");
    report_reply_t r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_eq(r.reason, REPORT_REASON_unknown_unit);
    report_update_destroy(&u);

    u = test_update_new("unknown-area");
    free(u->area_code);
    u->area_code = report_strdup("NO_SUCH_AREA");
    r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.reason, REPORT_REASON_unknown_area);
    report_update_destroy(&u);

    u = test_update_new("unknown-indicator");
    free(u->indicators[0].code);
    u->indicators[0].code = report_strdup("NO_SUCH_INDICATOR");
    r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.reason, REPORT_REASON_unknown_indicator);
    report_update_destroy(&u);

    u = test_update_new("unknown-placeholder");
    free(u->text);
    u->text = report_strdup("đạt {ISO_KIEMTRA.pct} và {NOPE.ytd}");
    r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.reason, REPORT_REASON_unknown_indicator);
    report_update_destroy(&u);

    u = test_update_new("bad-placeholder");
    free(u->text);
    u->text = report_strdup("đạt {ISO_KIEMTRA.total}");
    r = test_push_one(&stack, 10000, u);
    cr_assert_eq(r.reason, REPORT_REASON_bad_placeholder);
    report_update_destroy(&u);

    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "0");
    cr_assert(test_db_wait_value(&stack.db, "SELECT count(*) FROM dead_letters", "5", 5000));
}

Test(ingest, one_bad_update_does_not_hold_back_its_batch)
{
    test_stack_start(&stack, NULL, 1);
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    report_update_t *list[6];
    for (int i = 0; i < 6; i++) {
        char key[16];
        snprintf(key, sizeof key, "b-%d", i);
        list[i] = test_update_new(key);
    }
    free(list[3]->area_code);
    list[3]->area_code = report_strdup("GHOST");
    for (int i = 0; i < 6; i++)
        test_peer_send_update(&peer, list[i]);
    int stored = 0, rejected = 0;
    for (int i = 0; i < 6; i++) {
        report_reply_t r;
        cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
        stored += r.outcome == REPORT_OUTCOME_STORED;
        rejected += r.outcome == REPORT_OUTCOME_REJECTED;
    }
    cr_assert_eq(stored, 5);
    cr_assert_eq(rejected, 1);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "5");
    for (int i = 0; i < 6; i++)
        report_update_destroy(&list[i]);
    test_peer_close(&peer);
}

Test(ingest, decomposed_vietnamese_is_stored_composed)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *u = test_update_new("nfc");
    free(u->text);
    u->text = report_strdup("Thanh tra Vi"
                            "e\xcc\xa3\xcc\x82"
                            "t");
    cr_assert_eq(test_push_one(&stack, 10000, u).outcome, REPORT_OUTCOME_STORED);
    char *q = report_sprintf(
        "SELECT text = normalize(text, NFC) AND text = 'Thanh tra Việt' FROM updates "
        "WHERE update_id = '%s'",
        u->update_id);
    test_db_assert_value(&stack.db, q, "t");
    free(q);
    report_update_destroy(&u);
}

Test(ingest, busy_past_the_inflight_bound)
{
    /* No store: accepted updates stay in flight, so the bound is reached deterministically. */
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.max_inflight = 3;
    cfg.max_inflight_per_client = 2;
    test_stack_start(&stack, &cfg, 0);
    test_peer_t a, b;
    test_peer_open(&a, report_collector_endpoint(stack.collector));
    test_peer_open(&b, report_collector_endpoint(stack.collector));
    report_update_t *u[4];
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "busy-%d", i);
        u[i] = test_update_new(key);
    }
    report_reply_t r;
    test_peer_send_update(&a, u[0]);
    test_peer_send_update(&a, u[1]);
    test_peer_send_update(&a, u[2]); /* third from one client: per-client bound */
    cr_assert_eq(test_peer_recv(&a, &r, 5000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_BUSY);
    cr_assert_str_eq(r.update_id, u[2]->update_id);
    cr_assert_eq(r.reason, REPORT_REASON_client_inflight_full);
    test_peer_send_update(&b, u[2]);
    cr_assert_eq(test_peer_recv(&b, &r, 300), -1, "the third in total is accepted");
    test_peer_send_update(&b, u[3]); /* fourth in total: global bound */
    cr_assert_eq(test_peer_recv(&b, &r, 5000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_BUSY);
    cr_assert_eq(r.reason, REPORT_REASON_inflight_full);
    report_collector_stats_t st;
    WAIT_STATS(st, st.inflight == 3 && st.busy == 2);
    cr_assert_eq(st.inflight, 3);
    cr_assert_eq(st.busy, 2);

    /* A store arrives: everything in flight is committed and answered. */
    stack.stores[stack.store_count++] = test_store_start(&stack);
    int stored = 0;
    while (test_peer_recv(&a, &r, 15000) == 0 && ++stored < 2)
        cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s", r.message);
    cr_assert_eq(test_peer_recv(&b, &r, 15000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "3");
    for (int i = 0; i < 4; i++)
        report_update_destroy(&u[i]);
    test_peer_close(&a);
    test_peer_close(&b);
}

Test(ingest, postgres_stopped_during_a_push_then_back)
{
    test_stack_start(&stack, NULL, 1);
    test_pg_stop();
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    report_update_t *u[20];
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof key, "pg-%d", i);
        u[i] = test_update_new(key);
        test_peer_send_update(&peer, u[i]);
    }
    report_reply_t r;
    /* Nothing is acknowledged while the database is away. */
    cr_assert_eq(test_peer_recv(&peer, &r, 2000), -1, "a reply arrived with the database down");
    test_pg_start();
    int stored = 0;
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(test_peer_recv(&peer, &r, 30000), 0, "no reply after the database came back");
        cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s %s", report_reason_name(r.reason),
                     r.message);
        stored++;
    }
    cr_assert_eq(stored, 20);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "20");
    report_store_stats_t st;
    int64_t end = report_clock_ms() + 3000;
    do {
        report_store_stats(stack.stores[0], &st);
    } while (st.reconnects < 1 && report_clock_ms() < end && usleep(10000) == 0);
    cr_assert_geq(st.reconnects, 1);
    for (int i = 0; i < 20; i++)
        report_update_destroy(&u[i]);
    test_peer_close(&peer);
}

Test(ingest, store_refuses_a_server_without_durable_commits)
{
    test_db_t db;
    test_db_create(&db);
    char *sql = report_sprintf("ALTER DATABASE %s SET synchronous_commit = off", db.name);
    test_db_exec(&db, sql);
    free(sql);
    report_store_config_t cfg;
    report_store_config_default(&cfg);
    cfg.db = db.conninfo;
    cfg.collectors = "tcp://127.0.0.1:1";
    int64_t t0 = report_clock_ms();
    report_store_t *store = report_store_start(&cfg);
    cr_assert_null(store, "a store started against a server without durable commits");
    cr_assert_lt(report_clock_ms() - t0, 10000);
    /* and refused before touching the schema */
    char *v = test_db_value(&db, "SELECT to_regclass('updates') IS NULL");
    cr_assert_str_eq(v, "t");
    free(v);
    test_db_drop(&db);
    memset(&stack, 0, sizeof stack);
}

Test(ingest, several_stores_share_the_load_and_nothing_is_doubled)
{
    test_stack_start(&stack, NULL, 2);
    enum { N = 2000 };
    report_update_t **list = s_updates("many", N);
    report_client_t *client = s_client(0, -1, 0);
    report_reply_t *replies = report_calloc(N, sizeof *replies);
    cr_assert_eq(report_client_push(client, list, N, replies), 0);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "2000");
    test_db_assert_value(&stack.db, "SELECT count(DISTINCT stored_by) FROM updates", "2");
    /* the whole set again: all DUPLICATE, still 2000 rows */
    cr_assert_eq(report_client_push(client, list, N, replies), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_DUPLICATE);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "2000");
    report_client_destroy(&client);
    free(replies);
    report_updates_free(list, N);
}

Test(ingest, a_store_with_two_writers_shares_the_load_and_stores_each_update_once)
{
    test_stack_start(&stack, NULL, 0);
    report_store_config_t scfg;
    test_store_config(&stack, &scfg);
    scfg.writers = 2;
    scfg.store_id = "twin";
    stack.stores[stack.store_count++] = report_store_start(&scfg);
    cr_assert(stack.stores[0]);
    report_collector_stats_t cst;
    WAIT_STATS(cst, cst.stores == 2);
    cr_assert_eq(cst.stores, 2, "each writer is a link of its own");
    enum { N = 3000 };
    report_update_t **list = s_updates("twin", N);
    report_client_t *client = s_client(1000, -1, 0);
    report_reply_t *replies = report_calloc(N, sizeof *replies);
    cr_assert_eq(report_client_push(client, list, N, replies), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_STORED, "update %d: %s", i,
                     replies[i].message);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "3000");
    test_db_assert_value(
        &stack.db, "SELECT string_agg(DISTINCT stored_by, ',' ORDER BY stored_by) FROM updates",
        "twin-w1,twin-w2");
    /* all again, concurrently on both writers: every one DUPLICATE, no row more */
    cr_assert_eq(report_client_push(client, list, N, replies), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_DUPLICATE, "update %d", i);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "3000");
    report_store_stats_t st;
    report_store_stats(stack.stores[0], &st);
    cr_assert_eq(st.stored, 3000, "the counters are summed over the writers");
    cr_assert_eq(st.duplicates, 3000);
    cr_assert_eq(st.capacity, 2 * (uint64_t)scfg.capacity);
    cr_assert(st.db_up);
    report_client_destroy(&client);
    free(replies);
    report_updates_free(list, N);
    test_store_config_free(&scfg);
}

Test(ingest, a_dead_store_hands_its_updates_to_another)
{
    test_stack_start(&stack, NULL, 1);
    test_pg_stop();
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    report_update_t *u = test_update_new("orphan");
    test_peer_send_update(&peer, u);
    usleep(300 * 1000);
    /* The only store holds the update and dies without committing it. */
    report_store_stop(&stack.stores[0]);
    stack.store_count = 0;
    test_pg_start();
    stack.stores[stack.store_count++] = test_store_start(&stack);
    report_reply_t r;
    cr_assert_eq(test_peer_recv(&peer, &r, 30000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s", r.message);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    report_collector_stats_t st;
    WAIT_STATS(st, st.redispatched == 1);
    cr_assert_eq(st.redispatched, 1);
    report_update_destroy(&u);
    test_peer_close(&peer);
}

Test(ingest, too_many_frames_is_refused)
{
    test_stack_start(&stack, NULL, 1);
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    zmq_send(peer.sock, "a", 1, ZMQ_SNDMORE);
    zmq_send(peer.sock, "b", 1, ZMQ_SNDMORE);
    zmq_send(peer.sock, "c", 1, 0);
    report_reply_t r;
    cr_assert_eq(test_peer_recv(&peer, &r, 5000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_eq(r.reason, REPORT_REASON_too_many_frames);
    test_peer_close(&peer);
}

Test(ingest, a_burst_is_answered_in_full_on_the_first_attempt)
{
    /* Every answer of a big burst must reach its client: none dropped between store and
     * collector (a dropped answer shows up here as a timeout, since nothing is resent). */
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.max_inflight_per_client = 5000;
    test_stack_start(&stack, &cfg, 1);
    enum { N = 8000 };
    report_update_t **list = s_updates("burst", N);
    report_client_t *client = s_client(4000, 0, 60000);
    report_reply_t *replies = report_calloc(N, sizeof *replies);
    cr_assert_eq(report_client_push(client, list, N, replies), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_STORED, "update %d: %s %s", i,
                     report_reason_name(replies[i].reason), replies[i].message);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "8000");
    report_store_stats_t st;
    report_store_stats(stack.stores[0], &st);
    cr_assert_leq(st.batch_size.sum / (double)st.batch_size.count, 500.0,
                  "a transaction held more than batch-max updates");
    report_client_destroy(&client);
    free(replies);
    report_updates_free(list, N);
}

Test(ingest, one_store_serves_several_collectors)
{
    /* Scale is adding processes: here two collectors (think: two hosts) share one store. */
    test_stack_start(&stack, NULL, 0);
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    report_collector_t *second = report_collector_start(&cfg);
    cr_assert(second);
    report_store_config_t scfg;
    report_store_config_default(&scfg);
    char *collectors = report_sprintf("%s,%s", report_collector_store_endpoint(stack.collector),
                                      report_collector_store_endpoint(second));
    char *key = test_key_path("store");
    char *server = report_sprintf("%s/server.pub", test_keys_dir());
    scfg.db = stack.db.ingest_conninfo;
    scfg.collectors = collectors;
    scfg.key = key;
    scfg.collector_key = server;
    scfg.heartbeat_ms = 100;
    stack.stores[stack.store_count++] = report_store_start(&scfg);
    report_collector_t *collectors_list[] = {stack.collector, second};
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < 50; i++) {
            char item[32];
            snprintf(item, sizeof item, "c%d-%d", c, i);
            report_update_t *u = test_update_new(item);
            test_peer_t peer;
            test_peer_open(&peer, report_collector_endpoint(collectors_list[c]));
            test_peer_send_update(&peer, u);
            report_reply_t r;
            cr_assert_eq(test_peer_recv(&peer, &r, 20000), 0, "collector %d gave no answer", c);
            cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s", r.message);
            test_peer_close(&peer);
            report_update_destroy(&u);
        }
    }
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "100");
    report_store_stop(&stack.stores[0]);
    stack.store_count = 0;
    report_collector_stop(&second);
    free(collectors);
    free(key);
    free(server);
}
