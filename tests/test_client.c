/* The push client against real services: an update without a final answer is resent with the
 * same id until the push's deadline, then its outcome is UNKNOWN (not a failure), and pushing
 * the same updates again settles it without storing anything twice. */
#define _GNU_SOURCE
#include "report_push.h"
#include "report_json.h"
#include "report_util.h"
#include "test_support.h"

#include "report_codec.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static test_stack_t stack;

static void teardown(void)
{
    test_stack_stop(&stack);
}

TestSuite(client, .fini = teardown, .timeout = 120);

/* A client of THANH_TRA with a short first timeout, so that resends happen within a test. */
static void client_config(report_client_config_t *cc, const char *endpoint, int64_t deadline_ms)
{
    report_client_config_default(cc);
    cc->endpoint = endpoint;
    cc->keys = test_client_keys("THANH_TRA");
    cc->timeout_ms = 500;
    cc->backoff_max_ms = 1000;
    cc->deadline_ms = deadline_ms;
}

/* A push running in its own thread while the test changes the services under it. */
typedef struct {
    report_client_config_t cfg;
    char endpoint[256];
    report_update_t **updates;
    size_t count;
    report_reply_t *replies;
    int rc;
    pthread_t thread;
} push_job_t;

static void *push_run(void *arg)
{
    push_job_t *job = arg;
    report_client_t *client = report_client_new_config(&job->cfg);
    job->rc = client ? report_client_push(client, job->updates, job->count, job->replies) : -1;
    report_client_destroy(&client);
    return NULL;
}

/* Starts a push to endpoint (NULL: the stack's collector), without CURVE if plain. */
static void push_start_to(push_job_t *job, const char *endpoint, bool plain,
                          report_update_t **updates, size_t count, int64_t deadline_ms,
                          int64_t window)
{
    memset(job, 0, sizeof *job);
    snprintf(job->endpoint, sizeof job->endpoint, "%s",
             endpoint ? endpoint : report_collector_endpoint(stack.collector));
    client_config(&job->cfg, job->endpoint, deadline_ms);
    job->cfg.window = window;
    job->cfg.keys.plain = plain;
    job->updates = updates;
    job->count = count;
    job->replies = report_calloc(count, sizeof *job->replies);
    cr_assert_eq(pthread_create(&job->thread, NULL, push_run, job), 0);
}

static void push_start(push_job_t *job, report_update_t **updates, size_t count,
                       int64_t deadline_ms, int64_t window)
{
    push_start_to(job, NULL, false, updates, count, deadline_ms, window);
}

static void push_join(push_job_t *job)
{
    cr_assert_eq(pthread_join(job->thread, NULL), 0);
}

/* Every update is in the database exactly once, with its one indicator value. */
static void assert_stored_once(size_t count)
{
    char expected[32];
    snprintf(expected, sizeof expected, "%zu", count);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", expected);
    test_db_assert_value(&stack.db, "SELECT count(DISTINCT update_id) FROM updates", expected);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM indicator_values", expected);
}

static void assert_final_success(const report_reply_t *replies, size_t count)
{
    for (size_t i = 0; i < count; i++)
        cr_assert(replies[i].outcome == REPORT_OUTCOME_STORED ||
                      replies[i].outcome == REPORT_OUTCOME_DUPLICATE,
                  "update %zu: outcome %d %s %s", i, replies[i].outcome,
                  report_reason_name(replies[i].reason), replies[i].message);
}

Test(client, a_push_rides_out_a_store_that_comes_late)
{
    /* No store yet: the collector holds the updates, the client resends them (the first
     * timeout is 500 ms) and must not give up before the store comes, 3 s later. */
    test_stack_start(&stack, NULL, 0);
    enum { N = 20 };
    report_update_t **list = test_updates_new("late", N);
    push_job_t job;
    push_start(&job, list, N, 30000, 500);
    sleep(3);
    stack.stores[stack.store_count++] = test_store_start(&stack);
    push_join(&job);
    cr_assert_eq(job.rc, REPORT_PUSH_OK, "push result %d", job.rc);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(job.replies[i].outcome, REPORT_OUTCOME_STORED, "update %zu: %d %s %s", i,
                     job.replies[i].outcome, report_reason_name(job.replies[i].reason),
                     job.replies[i].message);
    assert_stored_once(N);
    free(job.replies);
    report_updates_free(list, N);
}

Test(client, no_store_ends_unknown_and_a_rerun_stores_each_update_once)
{
    test_stack_start(&stack, NULL, 0);
    enum { N = 10 };
    report_update_t **list = test_updates_new("unknown", N);
    report_client_config_t cc;
    client_config(&cc, report_collector_endpoint(stack.collector), 2000);
    report_client_t *client = report_client_new_config(&cc);
    report_reply_t replies[N];
    int64_t start = report_clock_ms();
    cr_assert_eq(report_client_push(client, list, N, replies), REPORT_PUSH_UNKNOWN);
    cr_assert_lt(report_clock_ms() - start, 5000, "the deadline was not kept");
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_NONE);
        cr_assert_eq(replies[i].reason, REPORT_REASON_unknown);
        cr_assert_str_eq(replies[i].update_id, list[i]->update_id);
    }
    report_client_destroy(&client);
    /* The remedy: a store comes back and the same updates are pushed again. */
    stack.stores[stack.store_count++] = test_store_start(&stack);
    cc.deadline_ms = 30000;
    client = report_client_new_config(&cc);
    cr_assert_eq(report_client_push(client, list, N, replies), REPORT_PUSH_OK);
    assert_final_success(replies, N);
    assert_stored_once(N);
    report_client_destroy(&client);
    report_updates_free(list, N);
}

/* Writes updates as a push file; caller frees the path. */
static char *push_file_write(report_update_t *const *list, size_t count)
{
    char *path =
        report_sprintf("/tmp/report-test-push-%d-%u.json", (int)getpid(), report_random(1000000));
    test_push_file_write(path, list, count);
    return path;
}

/* Runs reportctl push on file against the stack's collector; returns its exit status and
 * leaves stdout and stderr in out and err (caller frees). */
static int reportctl_push(const char *file, const char *extra, char **out, char **err)
{
    const char *bin = getenv("REPORT_BIN_DIR");
    char *reportctl = report_sprintf("%s/reportctl", bin ? bin : "build/bin");
    char *key = test_key_path("THANH_TRA");
    char *out_path = report_sprintf("%s.out", file);
    char *err_path = report_sprintf("%s.err", file);
    char *cmd = report_sprintf("'%s' push --endpoint '%s' --key '%s' --server-key '%s/server.pub' "
                               "--timeout-ms 300 %s '%s' > '%s' 2> '%s'",
                               reportctl, report_collector_endpoint(stack.collector), key,
                               test_keys_dir(), extra, file, out_path, err_path);
    int status = system(cmd);
    cr_assert(WIFEXITED(status), "%s", cmd);
    size_t n;
    FILE *f = fopen(out_path, "r");
    cr_assert(f);
    *out = report_calloc(1, 65536);
    n = fread(*out, 1, 65535, f);
    (*out)[n] = '\0';
    fclose(f);
    f = fopen(err_path, "r");
    cr_assert(f);
    *err = report_calloc(1, 65536);
    n = fread(*err, 1, 65535, f);
    (*err)[n] = '\0';
    fclose(f);
    unlink(out_path);
    unlink(err_path);
    free(cmd);
    free(out_path);
    free(err_path);
    free(key);
    free(reportctl);
    return WEXITSTATUS(status);
}

static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t n = 0;
    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            n++;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return n;
}

Test(client, reportctl_says_unknown_exits_75_and_rerunning_the_file_settles_it)
{
    test_stack_start(&stack, NULL, 0);
    enum { N = 5 };
    report_update_t **list = test_updates_new("cli", N);
    char *file = push_file_write(list, N);
    char *out, *err;
    int status = reportctl_push(file, "--deadline-ms 1500", &out, &err);
    cr_assert_eq(status, 75, "exit status %d\n%s%s", status, out, err);
    cr_assert_eq(count_lines_starting(out, "UNKNOWN "), N, "%s", out);
    cr_assert(strstr(err, "pushed: stored=0 duplicate=0 rejected=0 unknown=5"), "%s", err);
    cr_assert(strstr(err, "re-run the same file: updates already stored will answer DUPLICATE"),
              "%s", err);
    free(out);
    free(err);
    stack.stores[stack.store_count++] = test_store_start(&stack);
    status = reportctl_push(file, "--deadline-ms 30000", &out, &err);
    cr_assert_eq(status, 0, "exit status %d\n%s%s", status, out, err);
    cr_assert_eq(count_lines_starting(out, "STORED ") + count_lines_starting(out, "DUPLICATE "), N,
                 "%s", out);
    cr_assert(strstr(err, "rejected=0 unknown=0"), "%s", err);
    assert_stored_once(N);
    free(out);
    free(err);
    unlink(file);
    free(file);
    report_updates_free(list, N);
}

Test(client, a_collector_restarted_mid_push_loses_nothing_and_stores_nothing_twice)
{
    /* The collector stops with updates in flight and a new one binds the same endpoints 3 s
     * later (longer than the first timeouts). An update whose STORED answer died with the old
     * collector is answered DUPLICATE on resend: both are success, and the database holds
     * every update once. */
    test_stack_start(&stack, NULL, 1);
    enum { N = 300 };
    report_update_t **list = test_updates_new("restart", N);
    char endpoint[256], store_endpoint[256];
    snprintf(endpoint, sizeof endpoint, "%s", report_collector_endpoint(stack.collector));
    snprintf(store_endpoint, sizeof store_endpoint, "%s",
             report_collector_store_endpoint(stack.collector));
    push_job_t job;
    push_start(&job, list, N, 60000, 4); /* a small window: the push lasts a while */
    report_collector_stats_t st;
    int64_t end = report_clock_ms() + 20000;
    do {
        usleep(1000);
        report_collector_stats(stack.collector, &st);
    } while (st.received < 40 && report_clock_ms() < end);
    cr_assert_geq(st.received, 40, "the push did not start");
    report_collector_stop(&stack.collector);
    sleep(3);
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.endpoint = endpoint;
    cfg.store_endpoint = store_endpoint;
    stack.collector = report_collector_start(&cfg);
    cr_assert(stack.collector, "the collector did not start again on %s", endpoint);
    push_join(&job);
    cr_assert_eq(job.rc, REPORT_PUSH_OK, "push result %d", job.rc);
    assert_final_success(job.replies, N);
    assert_stored_once(N);
    free(job.replies);
    report_updates_free(list, N);
}

Test(client, a_push_file_period_is_four_digits_a_dash_and_two_digits)
{
    /* Found by fuzz_push_json: sscanf("%4d-%2d") took "-019-04" as year -19 and "2018--7" as
     * month -7, so a malformed period was sent instead of refused in the file. */
    static const char *bad[] = {"-019-04", "2018--7", " 018-07", "2018-+7", "+018-07", "2018-7 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *json = report_sprintf(
            "{\"update_id\": \"09c7a6d3-d061-539f-a4b8-9c17f7b61d8e\", \"unit\": \"QLKH\", "
            "\"period\": \"%s\", \"section\": \"result\", \"area\": \"NHIEM_VU\", "
            "\"item_key\": \"k\"}",
            bad[i]);
        report_update_t **list = NULL;
        size_t n = 0;
        char err[256] = "";
        cr_expect_eq(report_json_parse_updates(json, strlen(json), &list, &n, err, sizeof err), -1,
                     "period '%s' was accepted", bad[i]);
        cr_expect(strstr(err, "\"period\" must be YYYY-MM"), "period '%s': %s", bad[i], err);
        report_updates_free(list, n);
        free(json);
    }
    report_update_t **list = NULL;
    size_t n = 0;
    char err[256];
    const char *good = "{\"update_id\": \"x\", \"unit\": \"QLKH\", \"period\": \"2018-07\", "
                       "\"section\": \"result\", \"area\": \"A\", \"item_key\": \"k\"}";
    cr_assert_eq(report_json_parse_updates(good, strlen(good), &list, &n, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(list[0]->year, 2018);
    cr_assert_eq(list[0]->month, 7);
    report_updates_free(list, n);
}

/* A stand-in collector (plain ROUTER) that answers each update by a script, to check what
 * the client does with each outcome. */
typedef struct {
    const char *item_key;
    report_outcome_t answers[3]; /* to the 1st, 2nd, 3rd copy; NONE: stay silent */
    int received;
} scripted_t;

static void fake_answer(void *router, zmq_msg_t *id, const report_update_t *u,
                        report_outcome_t outcome)
{
    report_reply_t r;
    report_reply_set(&r, u->update_id, outcome,
                     outcome == REPORT_OUTCOME_REJECTED ? REPORT_REASON_id_conflict
                     : outcome == REPORT_OUTCOME_BUSY   ? REPORT_REASON_inflight_full
                                                        : REPORT_REASON_none,
                     "scripted");
    size_t n;
    uint8_t *buf = report_reply_encode(&r, &n);
    zmq_send(router, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE);
    zmq_send(router, buf, n, 0);
    free(buf);
}

/* Serves until the push job's thread has ended (and 1 s more, to see any late resend). */
/* True while the stand-in collector should go on serving: until thread has ended, then
 * grace_ms more (to see any late resend). */
static bool fake_serving(pthread_t thread, int grace_ms, int64_t *quiet_until)
{
    if (!*quiet_until && pthread_tryjoin_np(thread, NULL) == 0)
        *quiet_until = report_clock_ms() + grace_ms;
    return !*quiet_until || report_clock_ms() < *quiet_until;
}

/* The next update a client sent the stand-in collector within 50 ms, with its sender's
 * routing id in *id (initialised here; the caller closes it), or NULL if none came. */
static report_update_t *fake_recv(void *router, zmq_msg_t *id)
{
    zmq_pollitem_t pi = {router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&pi, 1, 50) <= 0)
        return NULL;
    zmq_msg_t body;
    zmq_msg_init(id);
    zmq_msg_init(&body);
    zmq_msg_recv(id, router, 0);
    zmq_msg_recv(&body, router, 0);
    report_update_t *u = report_update_decode(zmq_msg_data(&body), zmq_msg_size(&body));
    zmq_msg_close(&body);
    cr_assert(u);
    return u;
}

static void fake_serve(void *router, scripted_t *script, size_t count, push_job_t *job)
{
    int64_t quiet_until = 0;
    while (fake_serving(job->thread, 1000, &quiet_until)) {
        zmq_msg_t id;
        report_update_t *u = fake_recv(router, &id);
        if (!u)
            continue;
        for (size_t i = 0; i < count; i++) {
            if (strcmp(u->item_key, script[i].item_key) != 0)
                continue;
            int copy = script[i].received++;
            report_outcome_t a = copy < 3 ? script[i].answers[copy] : REPORT_OUTCOME_NONE;
            if (a != REPORT_OUTCOME_NONE)
                fake_answer(router, &id, u, a);
        }
        report_update_destroy(&u);
        zmq_msg_close(&id);
    }
}

Test(client, rejected_is_final_busy_and_silence_are_retried_duplicate_is_success)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
    char endpoint[256];
    size_t len = sizeof endpoint;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &len);
    scripted_t script[] = {
        {"conflict", {REPORT_OUTCOME_REJECTED}, 0},
        {"busy", {REPORT_OUTCOME_BUSY, REPORT_OUTCOME_DUPLICATE}, 0},
        {"silent", {REPORT_OUTCOME_NONE, REPORT_OUTCOME_STORED}, 0},
    };
    report_update_t *list[] = {test_update_new("conflict"), test_update_new("busy"),
                               test_update_new("silent")};
    push_job_t job;
    push_start_to(&job, endpoint, true, list, 3, 20000, 500);
    fake_serve(router, script, 3, &job); /* returns after the push thread ended */
    cr_assert_eq(job.rc, REPORT_PUSH_REJECTED, "push result %d", job.rc);
    cr_assert_eq(job.replies[0].outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_eq(job.replies[0].reason, REPORT_REASON_id_conflict);
    cr_assert_eq(script[0].received, 1, "a REJECTED update was sent again");
    cr_assert_eq(job.replies[1].outcome, REPORT_OUTCOME_DUPLICATE);
    cr_assert_eq(script[1].received, 2, "BUSY: sent %d times", script[1].received);
    cr_assert_eq(job.replies[2].outcome, REPORT_OUTCOME_STORED);
    cr_assert_eq(script[2].received, 2, "silence: sent %d times", script[2].received);
    free(job.replies);
    for (size_t i = 0; i < 3; i++)
        report_update_destroy(&list[i]);
    zmq_close(router);
    zmq_ctx_term(ctx);
}

/* Two updates of one push under one id (also in another letter case): answers name only the
 * id, so the client cannot tell whose answer it is. Before: the first update's STORED settled
 * whichever came first in the index and the second's id_conflict was dropped as a late
 * answer, so one ended UNKNOWN at the deadline or the refused one said STORED. Now the later
 * one is REJECTED duplicate_id without being sent, and the push ends as soon as the first is
 * answered. */
Test(client, duplicate_ids_in_one_push_one_is_stored_the_others_rejected_at_once)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t *list[] = {test_update_new("dup-first"), test_update_new("dup-same"),
                               test_update_new("dup-upper")};
    snprintf(list[1]->update_id, 37, "%s", list[0]->update_id);
    for (size_t i = 0; i < 36; i++)
        list[2]->update_id[i] = (char)toupper((unsigned char)list[0]->update_id[i]);
    free(list[1]->text);
    list[1]->text = report_strdup("other text under the same id");
    report_client_config_t cc;
    client_config(&cc, report_collector_endpoint(stack.collector), 20000);
    report_client_t *client = report_client_new_config(&cc);
    report_reply_t replies[3];
    int64_t start = report_clock_ms();
    int rc = report_client_push(client, list, 3, replies);
    int64_t elapsed = report_clock_ms() - start;
    report_client_destroy(&client);
    for (size_t i = 0; i < 3; i++)
        cr_log_info("update %zu: %s reason=%s message=%s", i,
                    report_outcome_name(replies[i].outcome), report_reason_name(replies[i].reason),
                    replies[i].message);
    cr_assert_eq(replies[0].outcome, REPORT_OUTCOME_STORED, "first: %s %s",
                 report_reason_name(replies[0].reason), replies[0].message);
    for (size_t i = 1; i < 3; i++) {
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_REJECTED, "update %zu: %s", i,
                     report_outcome_name(replies[i].outcome));
        cr_assert_eq(replies[i].reason, REPORT_REASON_duplicate_id, "update %zu", i);
        cr_assert_str_eq(replies[i].update_id, list[i]->update_id);
    }
    cr_assert_eq(rc, REPORT_PUSH_REJECTED, "push result %d", rc);
    cr_assert_lt(elapsed, 5000, "the push waited %lld ms", (long long)elapsed);
    test_db_assert_value(&stack.db, "SELECT string_agg(item_key, ',') FROM updates", "dup-first");
    for (size_t i = 0; i < 3; i++)
        report_update_destroy(&list[i]);
}

Test(client, reportctl_refuses_a_second_update_with_the_same_id_and_prints_no_wrong_stored)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t **list = test_updates_new("cli-dup", 3);
    snprintf(list[1]->update_id, 37, "%s", list[0]->update_id);
    free(list[1]->text);
    list[1]->text = report_strdup("other text");
    char *file = push_file_write(list, 3);
    char *out, *err;
    int64_t start = report_clock_ms();
    int status = reportctl_push(file, "--deadline-ms 10000", &out, &err);
    int64_t elapsed = report_clock_ms() - start;
    cr_assert_eq(status, 1, "exit status %d\n%s%s", status, out, err);
    cr_assert_eq(count_lines_starting(out, "STORED "), 2, "%s", out);
    cr_assert_eq(count_lines_starting(out, "REJECTED "), 1, "%s", out);
    char line[256]; /* reportctl's line format */
    snprintf(line, sizeof line, "%-9s %04d-%02d %-12s %-36s %s\n", "STORED", 2018, 7, "THANH_TRA",
             list[0]->update_id, "cli-dup-0");
    cr_assert(strstr(out, line), "no line %s in\n%s", line, out);
    snprintf(line, sizeof line, "%-9s %04d-%02d %-12s %-36s %s reason=duplicate_id ", "REJECTED",
             2018, 7, "THANH_TRA", list[1]->update_id, "cli-dup-1");
    cr_assert(strstr(out, line), "no line %s in\n%s", line, out);
    cr_assert(strstr(err, "pushed: stored=2 duplicate=0 rejected=1 unknown=0"), "%s", err);
    cr_assert_lt(elapsed, 5000, "reportctl took %lld ms", (long long)elapsed);
    test_db_assert_value(&stack.db,
                         "SELECT string_agg(item_key, ',' ORDER BY item_key) FROM updates",
                         "cli-dup-0,cli-dup-2");
    free(out);
    free(err);
    unlink(file);
    free(file);
    report_updates_free(list, 3);
}

/* Two pushes on one client (what reportctl does for FILE1 FILE2) with one id: the first ends
 * UNKNOWN, then the collector answers its copy STORED while the second push waits. Before, the
 * one socket served both pushes and that late STORED settled the second update, whose own
 * answer was id_conflict. Each push now has a connection of its own. */
typedef struct {
    report_client_config_t cfg;
    report_update_t *first, *second;
    report_reply_t first_reply, second_reply;
    pthread_t thread;
} two_pushes_t;

static void *two_pushes_run(void *arg)
{
    two_pushes_t *job = arg;
    report_client_t *client = report_client_new_config(&job->cfg);
    cr_assert(client);
    report_client_push(client, &job->first, 1, &job->first_reply);
    report_client_push(client, &job->second, 1, &job->second_reply);
    report_client_destroy(&client);
    return NULL;
}

Test(client, an_answer_to_an_earlier_push_never_settles_an_update_of_the_next)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    cr_assert_eq(zmq_bind(router, "tcp://127.0.0.1:*"), 0);
    char endpoint[256];
    size_t len = sizeof endpoint;
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &len);
    two_pushes_t job;
    memset(&job, 0, sizeof job);
    client_config(&job.cfg, endpoint, 2000);
    job.cfg.keys.plain = true;
    job.first = test_update_new("first-file");
    job.second = test_update_new("second-file");
    snprintf(job.second->update_id, 37, "%s", job.first->update_id);
    cr_assert_eq(pthread_create(&job.thread, NULL, two_pushes_run, &job), 0);
    zmq_msg_t first_sender;
    zmq_msg_init(&first_sender);
    bool have_first = false;
    int64_t quiet_until = 0;
    while (fake_serving(job.thread, 200, &quiet_until)) {
        zmq_msg_t id;
        report_update_t *u = fake_recv(router, &id);
        if (!u)
            continue;
        if (strcmp(u->item_key, "first-file") == 0 && !have_first) {
            zmq_msg_copy(&first_sender, &id); /* silent: the first push ends UNKNOWN */
            have_first = true;
        } else if (strcmp(u->item_key, "second-file") == 0) {
            /* the late answer to the first push's copy, then the second's own answer */
            cr_assert(have_first);
            fake_answer(router, &first_sender, job.first, REPORT_OUTCOME_STORED);
            fake_answer(router, &id, u, REPORT_OUTCOME_REJECTED);
        }
        report_update_destroy(&u);
        zmq_msg_close(&id);
    }
    cr_assert_eq(job.first_reply.outcome, REPORT_OUTCOME_NONE);
    cr_assert_eq(job.second_reply.outcome, REPORT_OUTCOME_REJECTED,
                 "the second push's update ended %s (%s): the answer to the first push's copy "
                 "settled it",
                 report_outcome_name(job.second_reply.outcome),
                 report_reason_name(job.second_reply.reason));
    cr_assert_eq(job.second_reply.reason, REPORT_REASON_id_conflict);
    zmq_msg_close(&first_sender);
    report_update_destroy(&job.first);
    report_update_destroy(&job.second);
    zmq_close(router);
    zmq_ctx_term(ctx);
}

/* Updates whose answer would name no update are refused by the client before sending: the
 * collector echoes an id that is not a UUID only if it is printable ASCII of at most 40
 * characters (else ""), and refuses a too large update before decoding it (with ""; far
 * beyond its limit it drops the connection). Before, such an update was resent until the
 * deadline and ended UNKNOWN, exit 75 "re-run the same file", which never helps. */
Test(client, an_id_that_is_no_uuid_and_a_too_large_update_are_rejected_at_once_exit_1)
{
    test_stack_start(&stack, NULL, 1);
    report_update_t **list = test_updates_new("local", 4);
    free(list[0]->update_id);
    list[0]->update_id = report_strdup("09c7a6d3-d061-539f-a4b8-9c17f7b61d8e-12345678"); /* 45 */
    free(list[1]->update_id);
    list[1]->update_id = report_strdup("09c7a6d3-d061-539f-a4b8-9c17f7b61d8é"); /* non-ASCII */
    free(list[2]->text);
    list[2]->text = report_calloc(1, 262400);
    memset(list[2]->text, 'x', 262399);
    char *file = push_file_write(list, 4);
    char *out, *err;
    int64_t start = report_clock_ms();
    int status = reportctl_push(file, "--deadline-ms 10000", &out, &err);
    int64_t elapsed = report_clock_ms() - start;
    cr_assert_eq(status, 1, "exit status %d\n%s%s", status, out, err);
    cr_assert_eq(count_lines_starting(out, "REJECTED "), 3, "%s", out);
    cr_assert_eq(count_lines_starting(out, "STORED "), 1, "%s", out);
    cr_assert(strstr(out, " local-0 reason=bad_uuid "), "%s", out);
    cr_assert(strstr(out, " local-1 reason=bad_uuid "), "%s", out);
    cr_assert(strstr(out, " local-2 reason=too_large "), "%s", out);
    cr_assert(strstr(err, "pushed: stored=1 duplicate=0 rejected=3 unknown=0"), "%s", err);
    cr_assert_lt(elapsed, 5000, "reportctl took %lld ms", (long long)elapsed);
    test_db_assert_value(&stack.db, "SELECT string_agg(item_key, ',') FROM updates", "local-3");
    free(out);
    free(err);
    /* The limit is a setting of the client: the collector's max-message-bytes. */
    report_update_t *small[] = {test_update_new("small")};
    report_client_config_t cc;
    client_config(&cc, report_collector_endpoint(stack.collector), 10000);
    cc.max_message_bytes = 100;
    report_client_t *client = report_client_new_config(&cc);
    report_reply_t reply;
    cr_assert_eq(report_client_push(client, small, 1, &reply), REPORT_PUSH_REJECTED);
    cr_assert_eq(reply.reason, REPORT_REASON_too_large, "%s", reply.message);
    report_client_destroy(&client);
    report_update_destroy(&small[0]);
    unlink(file);
    free(file);
    report_updates_free(list, 4);
}

/* The key is revoked while a push is under way: the collector answers every later message
 * "unauthorized" with an empty id (the key names no unit any more). Before, those answers
 * were ignored and every unanswered update was resent until the deadline, then UNKNOWN. Now
 * the first such answer ends the push: what was stored says STORED, the rest REJECTED
 * unauthorized, and none of those is in the database. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

Test(client, a_key_revoked_mid_push_ends_it_rejected_unauthorized_not_unknown)
{
    test_stack_start(&stack, NULL, 1);
    enum { N = 2000 };
    report_update_t **list = test_updates_new("revoke", N);
    push_job_t job;
    push_start(&job, list, N, 20000, 2);
    report_collector_stats_t st;
    int64_t end = report_clock_ms() + 20000;
    do {
        usleep(1000);
        report_collector_stats(stack.collector, &st);
    } while (st.received < 20 && report_clock_ms() < end);
    cr_assert_geq(st.received, 20, "the push did not start");
    report_error_t err;
    cr_assert_eq(report_keys_revoke(test_keys_dir(), "unit", "THANH_TRA", &err), 0, "%s",
                 err.message);
    int64_t revoked = report_clock_ms();
    push_join(&job);
    int64_t elapsed = report_clock_ms() - revoked;
    size_t stored = 0, unauthorized = 0;
    for (size_t i = 0; i < N; i++) {
        const report_reply_t *r = &job.replies[i];
        cr_assert(r->outcome != REPORT_OUTCOME_NONE, "update %zu: UNKNOWN %s", i, r->message);
        if (r->outcome == REPORT_OUTCOME_STORED) {
            stored++;
            continue;
        }
        cr_assert_eq(r->outcome, REPORT_OUTCOME_REJECTED, "update %zu: %s", i,
                     report_outcome_name(r->outcome));
        cr_assert_eq(r->reason, REPORT_REASON_unauthorized, "update %zu: %s", i, r->message);
        unauthorized++;
    }
    cr_log_info("stored %zu, unauthorized %zu, push ended %lld ms after the revocation", stored,
                unauthorized, (long long)elapsed);
    cr_assert_eq(job.rc, REPORT_PUSH_REJECTED, "push result %d", job.rc);
    cr_assert_gt(unauthorized, 0);
    cr_assert_lt(elapsed, 5000, "the push ended %lld ms after the revocation", (long long)elapsed);
    /* STORED means stored, REJECTED means not stored */
    char expected[32];
    snprintf(expected, sizeof expected, "%zu", stored);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", expected);
    const char **ids = report_calloc(stored + 1, sizeof *ids);
    size_t n = 0;
    for (size_t i = 0; i < N; i++)
        if (job.replies[i].outcome == REPORT_OUTCOME_STORED)
            ids[n++] = list[i]->update_id;
    qsort(ids, n, sizeof *ids, cmp_str);
    char *joined = report_calloc(n + 1, 37);
    for (size_t i = 0; i < n; i++)
        sprintf(joined + strlen(joined), "%s%s", i ? "," : "", ids[i]);
    char *have =
        test_db_value(&stack.db, "SELECT coalesce(string_agg(update_id::text, ',' ORDER BY "
                                 "update_id), '') FROM updates");
    cr_assert(have && strcmp(have, joined) == 0, "the database does not hold exactly the STORED");
    free(have);
    free(joined);
    free(ids);
    free(job.replies);
    report_updates_free(list, N);
}
