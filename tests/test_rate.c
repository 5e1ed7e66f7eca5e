/* The reporting rate (report_rate.h) against the real services: the sample months pushed
 * through collector and store, commit times then set at the deadline's edges as the test's
 * admin; the aggregator's /status.json, /metrics (promtool-clean), its control request
 * through reportctl status --period, and the status page in headless Chromium. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_aggregator_ops.h"
#include "report_push.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static test_stack_t stack;
static report_aggregator_t *agg, *other;
static report_http_t *http;

static void teardown(void)
{
    report_http_stop(&http);
    report_aggregator_stop(&other);
    report_aggregator_stop(&agg);
    if (stack.db.name[0])
        test_stack_stop(&stack);
}

TestSuite(rate, .fini = teardown, .timeout = 240);

/* July 2018, deadline day 15, in Asia/Ho_Chi_Minh (UTC+7) unless a test changes it:
 *   THANH_TRA   23:59:59.999999 on the 15th           on time (the last instant)
 *   TT_TTUD     16:59:59 UTC on the 15th = 23:59:59   on time
 *   QLCN        its first update on the 10th, the other on the 20th: on time (the first
 *               commit counts, not the last)
 *   QLKH        00:00:00 on the 16th                  late (the first instant)
 *   CHI_CUC_TDC 23:59:59 UTC on the 15th = 06:59:59 on the 16th in Cao Bằng: late, though
 *               still the 15th in UTC
 *   VAN_PHONG   nothing                               missing
 * June: every update on the 14th, on time. Other months keep the time they were pushed at
 * (2026 and later): late. */
static const char *S_COMMIT_TIMES =
    "UPDATE updates SET received_at = CASE unit_code"
    " WHEN 'THANH_TRA' THEN timestamptz '2018-07-15 23:59:59.999999+07'"
    " WHEN 'TT_TTUD' THEN timestamptz '2018-07-15 16:59:59+00'"
    " WHEN 'QLCN' THEN timestamptz '2018-07-20 08:00:00+07'"
    " WHEN 'QLKH' THEN timestamptz '2018-07-16 00:00:00+07'"
    " WHEN 'CHI_CUC_TDC' THEN timestamptz '2018-07-15 23:59:59+00' END"
    " WHERE year = 2018 AND month = 7;"
    "UPDATE updates SET received_at = timestamptz '2018-07-10 09:00:00+07' WHERE seq ="
    " (SELECT min(seq) FROM updates WHERE unit_code = 'QLCN' AND year = 2018 AND month = 7);"
    "UPDATE updates SET received_at = timestamptz '2018-06-14 10:00:00+07'"
    " WHERE year = 2018 AND month = 6";

/* The stack with the sample months Jan-Jul 2018, the commit times above. */
static void start_stack(void)
{
    test_stack_start(&stack, NULL, 1);
    test_push_samples(&stack, 7);
    test_db_exec(&stack.db, S_COMMIT_TIMES);
}

/* An aggregator watching 2018-07 and rate_periods before it, deadlines in zone. */
static report_aggregator_t *start_aggregator(const char *zone, int64_t rate_periods)
{
    report_aggregator_config_t cfg;
    test_aggregator_config(&stack, &cfg);
    cfg.status_period = "2018-07";
    cfg.late_refresh_ms = 1000;
    cfg.deadline_time_zone = (char *)zone;
    cfg.rate_periods = rate_periods;
    return test_aggregator_start_config(&cfg);
}

static void start_ops(void)
{
    report_http_config_t h;
    report_http_config_default(&h);
    h.address = "127.0.0.1:0";
    h.sample_ms = 500;
    http = report_aggregator_ops_start(agg, &h);
    cr_assert(http);
}

static char *get(const char *path)
{
    char *url = report_sprintf("http://127.0.0.1:%d%s", report_http_port(http), path);
    int status = 0;
    char *body = report_http_get(url, 5000, &status);
    cr_assert_not_null(body, "no answer from %s", url);
    cr_assert_eq(status, 200, "%s: %d %s", url, status, body);
    free(url);
    return body;
}

/* The aggregator's reporting_rate object once it has looked it up (caller decrefs). */
static json_t *status_rate(void)
{
    for (int tries = 0; tries < 100; tries++) {
        char *body = get("/status.json");
        json_t *doc = json_loads(body, 0, NULL);
        free(body);
        cr_assert_not_null(doc);
        json_t *rate = json_object_get(json_object_get(doc, "aggregator"), "reporting_rate");
        if (json_array_size(json_object_get(rate, "periods")) > 0 ||
            json_object_get(rate, "error")) {
            json_incref(rate);
            json_decref(doc);
            return rate;
        }
        json_decref(doc);
        usleep(100 * 1000);
    }
    cr_assert_fail("the aggregator never looked up the reporting rate");
    return NULL;
}

static json_t *unit_of(json_t *period, const char *code)
{
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(period, "units"), i, u)
    {
        if (strcmp(json_string_value(json_object_get(u, "unit")), code) == 0)
            return u;
    }
    cr_assert_fail("no unit %s in the period", code);
    return NULL;
}

static void assert_unit(json_t *period, const char *code, const char *state,
                        const char *first_commit)
{
    json_t *u = unit_of(period, code);
    cr_assert_str_eq(json_string_value(json_object_get(u, "state")), state, "%s", code);
    if (first_commit)
        cr_assert_str_eq(json_string_value(json_object_get(u, "first_commit")), first_commit, "%s",
                         code);
    else
        cr_assert(json_is_null(json_object_get(u, "first_commit")), "%s", code);
}

static double number(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_number(v), "no number %s", key);
    return json_number_value(v);
}

Test(rate, states_at_the_deadline_edges_in_the_status_and_the_metrics)
{
    start_stack();
    agg = start_aggregator("Asia/Ho_Chi_Minh", 6);
    start_ops();
    json_t *rate = status_rate();
    cr_assert_str_eq(json_string_value(json_object_get(rate, "time_zone")), "Asia/Ho_Chi_Minh");
    json_t *periods = json_object_get(rate, "periods");
    cr_assert_eq(json_array_size(periods), 7, "the watched period and 6 before it");
    json_t *jul = json_array_get(periods, 0);
    cr_assert_str_eq(json_string_value(json_object_get(jul, "period")), "2018-07");
    cr_assert_str_eq(json_string_value(json_object_get(jul, "deadline")), "2018-07-15");
    cr_assert_eq(number(jul, "due_at"), 1531674000.0, "00:00 on the 16th, UTC+7");
    cr_assert(json_is_false(json_object_get(jul, "open")));
    assert_unit(jul, "THANH_TRA", "on_time", "2018-07-15 23:59:59");
    assert_unit(jul, "TT_TTUD", "on_time", "2018-07-15 23:59:59");
    assert_unit(jul, "QLCN", "on_time", "2018-07-10 09:00:00");
    assert_unit(jul, "QLKH", "late", "2018-07-16 00:00:00");
    assert_unit(jul, "CHI_CUC_TDC", "late", "2018-07-16 06:59:59");
    assert_unit(jul, "VAN_PHONG", "missing", NULL);
    cr_assert_str_eq(json_string_value(json_object_get(unit_of(jul, "VAN_PHONG"), "name")),
                     "Văn phòng Sở");
    cr_assert_eq(number(jul, "expected"), 6);
    cr_assert_eq(number(jul, "reported"), 5);
    cr_assert_eq(number(jul, "on_time"), 3);
    cr_assert_eq(number(jul, "late"), 2);
    cr_assert_eq(number(jul, "missing"), 1);
    cr_assert_eq(number(jul, "reporting_rate_pct"), 83.3);
    cr_assert_eq(number(jul, "on_time_pct"), 50.0);
    cr_assert_eq(number(jul, "late_pct"), 33.3);
    cr_assert_eq(number(jul, "missing_pct"), 16.7);
    json_t *jun = json_array_get(periods, 1);
    cr_assert_str_eq(json_string_value(json_object_get(jun, "period")), "2018-06");
    assert_unit(jun, "QLKH", "on_time", "2018-06-14 10:00:00");
    assert_unit(jun, "THANH_TRA", "missing", NULL);
    cr_assert_eq(number(jun, "reporting_rate_pct"), 33.3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(periods, 6), "period")),
                     "2018-01");
    json_decref(rate);

    char *metrics = get("/metrics");
    const char *expect[] = {
        "report_unit_reporting_state{unit=\"THANH_TRA\",period=\"2018-07\"} 2\n",
        "report_unit_reporting_state{unit=\"QLKH\",period=\"2018-07\"} 1\n",
        "report_unit_reporting_state{unit=\"CHI_CUC_TDC\",period=\"2018-07\"} 1\n",
        "report_unit_reporting_state{unit=\"VAN_PHONG\",period=\"2018-07\"} 0\n",
        "report_unit_reporting_state{unit=\"QLKH\",period=\"2018-06\"} 2\n",
        "report_reporting_rate_ratio{period=\"2018-07\",state=\"on_time\"} 0.5\n",
        "report_reporting_rate_ratio{period=\"2018-07\",state=\"missing\"} 0.1666",
        "report_reporting_expected_units{period=\"2018-07\"} 6\n",
        /* the late-units watch ends the deadline in the same zone: 23:59:59 UTC+7 */
        "report_period_deadline_timestamp_seconds{period=\"2018-07\"} 1531673999\n",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        cr_assert(strstr(metrics, expect[i]), "no %s in\n%s", expect[i], metrics);
    free(metrics);
    char *check = test_repo_path("tests/prometheus/check.sh");
    char *out = NULL;
    int rc = test_run_all(&out, "'%s' http://127.0.0.1:%d/metrics", check, report_http_port(http));
    cr_assert_eq(rc, 0, "promtool check metrics failed:\n%s", out);
    free(out);
    free(check);

    /* reportctl status, from /status.json: the watched period's table, a line per period */
    const char *bin = getenv("REPORT_BIN_DIR");
    rc = test_run_all(&out, "'%s/reportctl' status --services http://127.0.0.1:%d",
                      bin ? bin : "build/bin", report_http_port(http));
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "reporting rate 2018-07: 83.3 % (5 of 6 units reported), on time 50.0 %"),
              "%s", out);
    cr_assert(strstr(out, "QLKH           late     2018-07-16 00:00:00  2018-07-15  "), "%s", out);
    cr_assert(strstr(out, "\nreporting rate 2018-06: 33.3 % (2 of 6 units reported), on time "
                          "33.3 %"),
              "%s", out);
    cr_assert(strstr(out, "\nreporting rate 2018-01: "), "%s", out);
    free(out);
}

/* Runs reportctl status with args as who (a key of the test keys); its output in *out. */
static int reportctl_status_as(const char *who, char **out, const char *args)
{
    const char *bin = getenv("REPORT_BIN_DIR");
    char *key = test_key_path(who);
    int rc = test_run_all(out,
                          "'%s/reportctl' status --control-endpoint %s --key '%s'"
                          " --server-key '%s/server.pub' %s",
                          bin ? bin : "build/bin", report_aggregator_control_endpoint(agg), key,
                          test_keys_dir(), args);
    free(key);
    return rc;
}

/* ... as the operator "office". */
static int reportctl_status(char **out, const char *args)
{
    return reportctl_status_as("office", out, args);
}

Test(rate, reportctl_status_period_for_any_period)
{
    start_stack();
    agg = start_aggregator("Asia/Ho_Chi_Minh", 2);
    char *out = NULL;
    cr_assert_eq(reportctl_status(&out, "--period 2018-07"), 0, "%s", out);
    const char *lines[] = {
        "reporting rate 2018-07: 83.3 % (5 of 6 units reported), on time 50.0 %; on time 3, "
        "late 2 (33.3 %), missing 1 (16.7 %)\n",
        "deadline 2018-07-15, to the end of the day in Asia/Ho_Chi_Minh (passed)\n",
        "UNIT           STATE    FIRST COMMIT         DEADLINE    NAME\n",
        "VAN_PHONG      missing  -                    2018-07-15  Văn phòng Sở\n",
        "THANH_TRA      on time  2018-07-15 23:59:59  2018-07-15  ",
        "QLKH           late     2018-07-16 00:00:00  2018-07-15  ",
        "CHI_CUC_TDC    late     2018-07-16 06:59:59  2018-07-15  ",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_assert(strstr(out, lines[i]), "no \"%s\" in\n%s", lines[i], out);
    free(out);

    /* A period outside the watched ones (2018-07, -06, -05): February, when THANH_TRA and
     * TT_TTUD reported (pushed now, years after the deadline: late). */
    cr_assert_eq(reportctl_status(&out, "--period 2018-02"), 0, "%s", out);
    cr_assert(strstr(out, "reporting rate 2018-02: 33.3 % (2 of 6 units reported), on time 0.0 %"),
              "%s", out);
    cr_assert(strstr(out, "TT_TTUD        late "), "%s", out);
    cr_assert(strstr(out, "QLKH           missing  -"), "%s", out);
    free(out);

    /* The template's deadline day decides: the 16th makes both late units on time. */
    test_db_exec(&stack.db, "UPDATE report_templates SET deadline_day = 16");
    cr_assert_eq(reportctl_status(&out, "--period 2018-07"), 0, "%s", out);
    cr_assert(strstr(out, "on time 83.3 %; on time 5, late 0 (0.0 %)"), "%s", out);
    cr_assert(strstr(out, "QLKH           on time  2018-07-16 00:00:00  2018-07-16  "), "%s", out);
    free(out);

    /* Refusals: a period that is not one, from the command line and from the aggregator. */
    cr_assert_eq(reportctl_status(&out, "--period 2018-13"), 2, "%s", out);
    cr_assert(strstr(out, "--period must be YYYY-MM"), "%s", out);
    free(out);
    report_control_request_t req = {.kind = REPORT_CONTROL_RATE, .year = 2018, .month = 13};
    report_control_reply_t reply;
    report_client_keys_t office = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &office, &req, &reply, 10000),
        0);
    cr_assert(!reply.ok);
    cr_assert_str_eq(reply.error_code, "bad_period");
    report_control_reply_clear(&reply);
    /* a unit's key is not an operator's: no answer at all (refused at the handshake) */
    cr_assert_eq(reportctl_status_as("THANH_TRA", &out, "--period 2018-07 --timeout-ms 500"), 1,
                 "%s", out);
    cr_assert(strstr(out, "error: no answer from the aggregator"), "%s", out);
    free(out);
}

/* The zone decides the edge: in UTC, CHI_CUC_TDC's 23:59:59 UTC on the 15th and QLKH's 17:00
 * UTC (midnight in Cao Bằng) are on time. A zone
 * PostgreSQL does not know is refused (bad_time_zone) and shown, and the service goes on. */
Test(rate, the_time_zone_decides_and_an_unknown_one_is_refused)
{
    start_stack();
    agg = start_aggregator("UTC", 0);
    char *out = NULL;
    cr_assert_eq(reportctl_status(&out, "--period 2018-07"), 0, "%s", out);
    cr_assert(strstr(out, "deadline 2018-07-15, to the end of the day in UTC (passed)"), "%s", out);
    cr_assert(strstr(out, "CHI_CUC_TDC    on time  2018-07-15 23:59:59  "), "%s", out);
    cr_assert(strstr(out, "QLKH           on time  2018-07-15 17:00:00  "), "%s", out);
    cr_assert(strstr(out, "on time 83.3 %; on time 5, late 0"), "%s", out);
    free(out);

    report_aggregator_stop(&agg);
    agg = start_aggregator("Mars/Olympus_Mons", 0);
    start_ops();
    json_t *rate = status_rate();
    cr_assert(strstr(json_string_value(json_object_get(rate, "error")), "Mars/Olympus_Mons"), "%s",
              json_string_value(json_object_get(rate, "error")));
    cr_assert_eq(json_array_size(json_object_get(rate, "periods")), 0);
    json_decref(rate);
    cr_assert_eq(reportctl_status(&out, "--period 2018-07"), 1, "%s", out);
    cr_assert(strstr(out, "error: bad_time_zone: "), "%s", out);
    free(out);
    /* the late-units watch and the rest of the status go on */
    char *body = get("/status.json");
    json_t *doc = json_loads(body, 0, NULL);
    json_t *late = json_object_get(json_object_get(doc, "aggregator"), "late_units");
    cr_assert_eq(json_array_size(late), 1, "%s", body);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(late, 0), "unit")),
                     "VAN_PHONG");
    json_decref(doc);
    free(body);
    cr_assert(report_aggregator_running(agg));
}

Test(rate, the_status_page_shows_the_table)
{
    start_stack();
    agg = start_aggregator("Asia/Ho_Chi_Minh", 2);
    start_ops();
    json_decref(status_rate());
    char *check = test_repo_path("tests/browser/check_status_page.sh");
    char *shot = test_repo_path("var/status-page-rate.png");
    char *out = NULL;
    int rc =
        test_run_all(&out,
                     "EXPECT_SERVICES=aggregator EXPECT_TEXT='Reporting rate|the end of the day in "
                     "Asia/Ho_Chi_Minh|83.3 %%|on time 50.0 %%|Văn phòng Sở|"
                     "data-unit=\"QLKH\" data-period=\"2018-07\" data-state=\"late\"|"
                     "data-unit=\"THANH_TRA\" data-period=\"2018-07\" data-state=\"on_time\"|"
                     "data-unit=\"VAN_PHONG\" data-period=\"2018-07\" data-state=\"missing\"|"
                     "data-unit=\"QLKH\" data-period=\"2018-06\" data-state=\"on_time\"|"
                     "07-16 00:00' '%s' http://127.0.0.1:%d/status '%s'",
                     check, report_http_port(http), shot);
    cr_assert_eq(rc, 0, "status page check failed:\n%s", out);
    free(out);
    free(check);
    free(shot);
}
