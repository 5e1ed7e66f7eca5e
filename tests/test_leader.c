/* Aggregators active/standby: two aggregators on one real PostgreSQL database, only the one
 * whose session holds the leadership lock publishes; a leader that loses its session (as a
 * partition or a database failover would make it) stops publishing at once and the standby
 * takes over under a newer term; a leader fenced by a newer term cannot commit. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_codec.h"
#include "report_push.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static test_stack_t stack;
static report_aggregator_t *agg_a, *agg_b;

static void teardown(void)
{
    report_aggregator_stop(&agg_a);
    report_aggregator_stop(&agg_b);
    test_stack_stop(&stack);
}

TestSuite(leader, .fini = teardown, .timeout = 120);

static report_aggregator_t *start_named(const char *name, int64_t check_ms)
{
    report_aggregator_config_t cfg;
    test_aggregator_config(&stack, &cfg);
    cfg.instance_name = (char *)name;
    cfg.leader_check_ms = check_ms;
    cfg.lock_timeout_ms = 20000;
    return test_aggregator_start_config(&cfg);
}

/* Both aggregators on a database holding the sample months; A started first is the leader. */
static void start(void)
{
    test_stack_start(&stack, NULL, 1);
    test_push_samples(&stack, 7);
    agg_a = start_named("agg-a", 200);
    agg_b = start_named("agg-b", 200);
}

static report_control_reply_t publish(report_aggregator_t *agg, int month, int number)
{
    report_control_request_t req = {0};
    req.kind = REPORT_CONTROL_PUBLISH;
    req.agency_code = "";
    req.year = 2018;
    req.month = month;
    req.format = "";
    req.number = number;
    req.date = "2018-07-19";
    req.basis = "";
    req.force = true;
    report_control_reply_t reply;
    report_client_keys_t keys = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &keys, &req, &reply, 30000), 0,
        "no answer from the aggregator");
    return reply;
}

static report_aggregator_stats_t stats_of(report_aggregator_t *agg)
{
    report_aggregator_stats_t st;
    report_aggregator_stats(agg, &st);
    return st;
}

/* Polls until agg is (or is not) the leader; true if it came to be within timeout_ms. */
static bool wait_leader(report_aggregator_t *agg, bool leader, int timeout_ms)
{
    int64_t end = report_clock_ms() + timeout_ms;
    while (stats_of(agg).leader != leader && report_clock_ms() < end)
        usleep(20 * 1000);
    return stats_of(agg).leader == leader;
}

static void assert_published(const char *expected)
{
    test_db_assert_value(&stack.db, "SELECT count(*) FROM published_reports", expected);
}

/* Ends the session that holds the leadership lock, as a partition or a failover would. */
static void end_leader_session(void)
{
    char *n = test_db_value(&stack.db,
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE"
                            " locktype = 'advisory' AND classid = 5572 AND objid = 1 AND granted");
    cr_assert_str_eq(n, "1", "one session holds the leadership");
    free(n);
}

Test(leader, the_first_aggregator_leads_and_the_standby_refuses_to_publish)
{
    start();
    report_aggregator_stats_t a = stats_of(agg_a), b = stats_of(agg_b);
    cr_assert(a.leader);
    cr_assert_not(b.leader);
    cr_assert_eq(a.leader_term, 1);
    cr_assert_str_eq(b.leader_holder, "agg-a");
    report_control_reply_t r = publish(agg_b, 7, 588);
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "not_leader", "%s: %s", r.error_code, r.message);
    cr_assert(strstr(r.message, "agg-a"), "the refusal names the leader: %s", r.message);
    report_control_reply_clear(&r);
    assert_published("0");
    r = publish(agg_a, 7, 588);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    test_db_assert_value(&stack.db, "SELECT leader_term FROM published_reports", "1");
    test_db_assert_value(&stack.db, "SELECT holder || ' ' || term FROM aggregator_leader",
                         "agg-a 1");
}

Test(leader, a_leader_that_loses_its_session_stops_and_the_standby_takes_over)
{
    start();
    cr_assert(wait_leader(agg_a, true, 5000));
    end_leader_session();
    cr_assert(wait_leader(agg_b, true, 10000), "the standby took over");
    report_aggregator_stats_t a = stats_of(agg_a), b = stats_of(agg_b);
    cr_assert_not(a.leader, "the old leader stood down");
    cr_assert_eq(a.leader_losses, 1);
    cr_assert_eq(b.leader_term, 2);
    report_control_reply_t r = publish(agg_a, 7, 588);
    cr_assert_str_eq(r.error_code, "not_leader", "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    r = publish(agg_b, 7, 588);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    test_db_assert_value(&stack.db, "SELECT leader_term FROM published_reports", "2");
}

typedef struct {
    report_control_reply_t reply;
} s_call_t;

static void *s_publish_on_a(void *arg)
{
    s_call_t *call = arg;
    call->reply = publish(agg_a, 7, 588);
    return NULL;
}

Test(leader, a_leader_cut_off_while_publishing_publishes_nothing_and_the_standby_publishes_once)
{
    start();
    /* A's publication waits inside its transaction behind a lock held elsewhere */
    report_db_t *stuck = report_db_new(stack.db.conninfo);
    cr_assert_eq(report_db_connect(stuck), 0);
    cr_assert_eq(report_db_exec(stuck, "SELECT pg_advisory_lock(hashtext('SKHCN'))"), 0);
    s_call_t call;
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, s_publish_on_a, &call), 0);
    cr_assert(test_db_wait_value(&stack.db,
                                 "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                 " AND NOT granted",
                                 "1", 20000),
              "A's publication is waiting inside its transaction");
    end_leader_session();
    pthread_join(th, NULL);
    cr_assert_not(call.reply.ok, "the cut-off leader's publication failed");
    cr_assert_str_eq(call.reply.error_code, "db_retry", "%s: %s", call.reply.error_code,
                     call.reply.message);
    report_control_reply_clear(&call.reply);
    report_db_destroy(&stuck);
    assert_published("0");
    cr_assert(wait_leader(agg_b, true, 10000));
    report_control_reply_t r = publish(agg_b, 7, 588);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    r = publish(agg_a, 7, 589);
    cr_assert_str_eq(r.error_code, "not_leader", "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    assert_published("1");
}

Test(leader, a_leader_fenced_by_a_newer_term_cannot_commit)
{
    /* another process took a newer term while A has not noticed yet (its next check is a
     * minute away): A's publication must not commit, and A stands down */
    test_stack_start(&stack, NULL, 1);
    test_push_samples(&stack, 7);
    agg_a = start_named("agg-a", 60000);
    cr_assert(stats_of(agg_a).leader);
    test_db_exec(&stack.db, "UPDATE aggregator_leader SET term = term + 1, holder = 'elsewhere'");
    report_control_reply_t r = publish(agg_a, 7, 588);
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "not_leader", "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    assert_published("0");
    cr_assert_not(stats_of(agg_a).leader, "fenced, it stood down");
}

Test(leader, reportctl_publish_given_both_aggregators_goes_to_the_leader)
{
    start();
    const char *bin = getenv("REPORT_BIN_DIR");
    char *key = test_key_path("office");
    char *out = NULL;
    /* the standby first: it answers not_leader, and the command goes on to the leader */
    int rc = test_run_all(&out,
                          "'%s/reportctl' publish 2018-07 --number 588 --date 2018-07-19 --force"
                          " --control-endpoint '%s,%s' --key '%s' --server-key '%s/server.pub'",
                          bin ? bin : "build/bin", report_aggregator_control_endpoint(agg_b),
                          report_aggregator_control_endpoint(agg_a), key, test_keys_dir());
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "standby, trying the next"), "%s", out);
    free(out);
    assert_published("1");
    /* nothing listening first: it goes on to the next (the timeout is per aggregator and
     * must outlast a publication, which takes seconds under the sanitizers) */
    rc = test_run_all(&out,
                      "'%s/reportctl' publish 2018-06 --number 500 --date 2018-06-20 --force"
                      " --control-endpoint 'tcp://127.0.0.1:1,%s' --timeout-ms 10000 --key '%s'"
                      " --server-key '%s/server.pub'",
                      bin ? bin : "build/bin", report_aggregator_control_endpoint(agg_a), key,
                      test_keys_dir());
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
    assert_published("2");
    free(key);
}
