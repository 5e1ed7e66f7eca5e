/* The push client against real services: an update without a final answer is resent with the
 * same id until the push's deadline, then its outcome is UNKNOWN (not a failure), and pushing
 * the same updates again settles it without storing anything twice. */
#define _GNU_SOURCE
#include "report_client.h"
#include "report_json.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static report_update_t **updates_new(const char *prefix, size_t count)
{
    report_update_t **list = report_calloc(count, sizeof *list);
    for (size_t i = 0; i < count; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s-%zu", prefix, i);
        list[i] = test_update_new(key);
    }
    return list;
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
    report_client_t *client = report_client_new(&job->cfg);
    job->rc = client ? report_client_push(client, job->updates, job->count, job->replies) : -1;
    report_client_destroy(&client);
    return NULL;
}

static void push_start(push_job_t *job, report_update_t **updates, size_t count,
                       int64_t deadline_ms, int64_t window)
{
    memset(job, 0, sizeof *job);
    snprintf(job->endpoint, sizeof job->endpoint, "%s", report_collector_endpoint(stack.collector));
    client_config(&job->cfg, job->endpoint, deadline_ms);
    job->cfg.window = window;
    job->updates = updates;
    job->count = count;
    job->replies = report_calloc(count, sizeof *job->replies);
    cr_assert_eq(pthread_create(&job->thread, NULL, push_run, job), 0);
}

static void push_join(push_job_t *job)
{
    cr_assert_eq(pthread_join(job->thread, NULL), 0);
}

static void assert_value(const char *sql, const char *expected)
{
    char *v = test_db_value(&stack.db, sql);
    cr_assert(v, "no value for %s", sql);
    cr_assert_str_eq(v, expected, "%s", sql);
    free(v);
}

/* Every update is in the database exactly once, with its one indicator value. */
static void assert_stored_once(size_t count)
{
    char expected[32];
    snprintf(expected, sizeof expected, "%zu", count);
    assert_value("SELECT count(*) FROM updates", expected);
    assert_value("SELECT count(DISTINCT update_id) FROM updates", expected);
    assert_value("SELECT count(*) FROM indicator_values", expected);
}

static void assert_final_success(const report_reply_t *replies, size_t count)
{
    for (size_t i = 0; i < count; i++)
        cr_assert(replies[i].outcome == REPORT_OUTCOME_STORED ||
                      replies[i].outcome == REPORT_OUTCOME_DUPLICATE,
                  "update %zu: outcome %d %s %s", i, replies[i].outcome, replies[i].reason,
                  replies[i].message);
}

Test(client, a_push_rides_out_a_store_that_comes_late)
{
    /* No store yet: the collector holds the updates, the client resends them (the first
     * timeout is 500 ms) and must not give up before the store comes, 3 s later. */
    test_stack_start(&stack, NULL, 0);
    enum { N = 20 };
    report_update_t **list = updates_new("late", N);
    push_job_t job;
    push_start(&job, list, N, 30000, 500);
    sleep(3);
    stack.stores[stack.store_count++] = test_store_start(&stack);
    push_join(&job);
    cr_assert_eq(job.rc, REPORT_PUSH_OK, "push result %d", job.rc);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(job.replies[i].outcome, REPORT_OUTCOME_STORED, "update %zu: %d %s %s", i,
                     job.replies[i].outcome, job.replies[i].reason, job.replies[i].message);
    assert_stored_once(N);
    free(job.replies);
    report_updates_free(list, N);
}

Test(client, no_store_ends_unknown_and_a_rerun_stores_each_update_once)
{
    test_stack_start(&stack, NULL, 0);
    enum { N = 10 };
    report_update_t **list = updates_new("unknown", N);
    report_client_config_t cc;
    client_config(&cc, report_collector_endpoint(stack.collector), 2000);
    report_client_t *client = report_client_new(&cc);
    report_reply_t replies[N];
    int64_t start = report_clock_ms();
    cr_assert_eq(report_client_push(client, list, N, replies), REPORT_PUSH_UNKNOWN);
    cr_assert_lt(report_clock_ms() - start, 5000, "the deadline was not kept");
    for (size_t i = 0; i < N; i++) {
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_NONE);
        cr_assert_str_eq(replies[i].reason, "unknown");
        cr_assert_str_eq(replies[i].update_id, list[i]->update_id);
    }
    report_client_destroy(&client);
    /* The remedy: a store comes back and the same updates are pushed again. */
    stack.stores[stack.store_count++] = test_store_start(&stack);
    cc.deadline_ms = 30000;
    client = report_client_new(&cc);
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
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "[");
    for (size_t i = 0; i < count; i++)
        fprintf(f,
                "%s{\"update_id\": \"%s\", \"unit\": \"THANH_TRA\", \"period\": \"2018-07\", "
                "\"section\": \"result\", \"area\": \"THANH_TRA\", \"item_key\": \"%s\", "
                "\"text\": \"%s\", \"indicators\": {\"THANHTRA_CUOC\": 1}}\n",
                i ? "," : "", list[i]->update_id, list[i]->item_key, list[i]->text);
    fprintf(f, "]\n");
    cr_assert_eq(fclose(f), 0);
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
    report_update_t **list = updates_new("cli", N);
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
    report_update_t **list = updates_new("restart", N);
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
