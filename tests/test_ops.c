/* Ops: every service answers /metrics (promtool-clean), /healthz, /readyz and /status.json;
 * who is late shows per unit; reportctl status shows the pipeline and fails when a service is
 * down; the status page passes its browser test. Real services, sockets and database. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_json.h"
#include "report_ops.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static test_stack_t stack;
static report_aggregator_t *agg;
static report_http_t *http[3];
static char base[3][64];

static void teardown(void)
{
    for (int i = 0; i < 3; i++)
        report_http_stop(&http[i]);
    report_aggregator_stop(&agg);
    test_stack_stop(&stack);
}

TestSuite(ops, .fini = teardown, .timeout = 180);

static void start(void)
{
    test_stack_start(&stack, NULL, 1);
    agg = test_aggregator_start(&stack, "2018-07");
    report_http_config_t h;
    report_http_config_default(&h);
    h.address = "127.0.0.1:0";
    h.sample_ms = 500;
    http[0] = report_ops_collector(stack.collector, &h);
    http[1] = report_ops_store(stack.stores[0], &h);
    http[2] = report_ops_aggregator(agg, &h);
    for (int i = 0; i < 3; i++) {
        cr_assert(http[i]);
        snprintf(base[i], sizeof base[i], "http://127.0.0.1:%d", report_http_port(http[i]));
    }
}

/* The status pages list every service: restart the endpoints with the real peers. */
static void restart_with_peers(void)
{
    char *peers = report_sprintf("%s,%s,%s", base[0], base[1], base[2]);
    report_http_config_t h;
    report_http_config_default(&h);
    h.peers = peers;
    h.sample_ms = 500;
    for (int i = 0; i < 3; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", report_http_port(http[i]));
        report_http_stop(&http[i]);
        h.address = addr;
        http[i] = i == 0   ? report_ops_collector(stack.collector, &h)
                  : i == 1 ? report_ops_store(stack.stores[0], &h)
                           : report_ops_aggregator(agg, &h);
        cr_assert(http[i], "cannot rebind %s", addr);
    }
    free(peers);
}

static char *get(int service, const char *path, int *status)
{
    char *url = report_sprintf("%s%s", base[service], path);
    char *body = report_http_get(url, 5000, status);
    free(url);
    cr_assert_not_null(body, "no answer from %s%s", base[service], path);
    return body;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(ops, metrics_health_and_readiness_on_every_service)
{
    start();
    test_push_samples(&stack, 7);
    /* a refusal, so that refusals appear with their reason and unit */
    report_update_t *bad = test_update_new("bad");
    free(bad->text);
    bad->text = report_strdup("\xff");
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    test_peer_send_update(&peer, bad);
    report_reply_t r;
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    test_peer_close(&peer);
    report_update_destroy(&bad);
    usleep(1500 * 1000); /* the aggregator looks up late units every second here */

    const char *expect[3][4] = {
        {"report_collector_updates_answered_total{outcome=\"stored\",unit=\"QLKH\"}",
         "report_collector_refusals_total{reason=\"invalid_utf8\",unit=\"THANH_TRA\"} 1",
         "report_collector_reply_seconds_bucket", "report_collector_updates_in_flight_limit 10000"},
        {"report_store_rows_stored_total 30", "report_store_database_up 1",
         "report_store_batch_size_count", "report_store_commit_seconds_bucket"},
        {"report_unit_reported{unit=\"VAN_PHONG\",period=\"2018-07\"} 0",
         "report_unit_reported{unit=\"QLKH\",period=\"2018-07\"} 1",
         "report_period_deadline_timestamp_seconds{period=\"2018-07\"}",
         "report_aggregator_compile_seconds_bucket"},
    };
    for (int i = 0; i < 3; i++) {
        int status = 0;
        char *metrics = get(i, "/metrics", &status);
        cr_assert_eq(status, 200);
        cr_assert(strstr(metrics, "report_build_info{service="), "%s", metrics);
        cr_assert(strstr(metrics, "process_resident_memory_bytes "));
        cr_assert(strstr(metrics, "process_start_time_seconds "));
        for (int k = 0; k < 4; k++)
            cr_assert(strstr(metrics, expect[i][k]), "service %d lacks %s", i, expect[i][k]);
        free(metrics);
        char *h = get(i, "/healthz", &status);
        cr_assert_eq(status, 200);
        free(h);
        char *ready = get(i, "/readyz", &status);
        cr_assert_eq(status, 200, "%s", ready);
        free(ready);
        char *missing = get(i, "/nope", &status);
        cr_assert_eq(status, 404);
        free(missing);
    }
    /* A client that connects and says nothing (a browser's spare connection, a scan) holds
     * one of the endpoint's connections for 2 s; it must not delay anyone else. */
    int idle = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(report_http_port(http[0]))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(connect(idle, (struct sockaddr *)&sa, sizeof sa), 0);
    usleep(50 * 1000);
    char *url = report_sprintf("%s/healthz", base[0]);
    int status = 0;
    char *body = report_http_get(url, 1000, &status);
    cr_assert_not_null(body, "an idle connection blocked the metrics endpoint");
    cr_assert_eq(status, 200);
    free(body);
    free(url);
    close(idle);

    /* promtool check metrics on all three */
    char *script = test_repo_path("tests/prometheus/check.sh");
    char *cmd =
        report_sprintf("'%s' %s/metrics %s/metrics %s/metrics", script, base[0], base[1], base[2]);
    cr_assert_eq(run(cmd), 0, "promtool check metrics failed: %s", cmd);
    free(cmd);
    free(script);
}

Test(ops, readiness_follows_the_database)
{
    start();
    int status = 0;
    char *body = get(1, "/readyz", &status);
    cr_assert_eq(status, 200);
    free(body);
    test_pg_stop();
    /* the store notices when it next needs the database: give it an update */
    report_update_t *u = test_update_new("while-down");
    test_peer_t peer;
    test_peer_open(&peer, report_collector_endpoint(stack.collector));
    test_peer_send_update(&peer, u);
    int64_t end = report_clock_ms() + 15000;
    do {
        free(get(1, "/readyz", &status));
        if (status == 503)
            break;
        usleep(100 * 1000);
    } while (report_clock_ms() < end);
    cr_assert_eq(status, 503, "store still ready with the database down");
    body = get(1, "/metrics", &status);
    cr_assert(strstr(body, "report_store_database_up 0"));
    cr_assert(strstr(body, "report_store_updates_waiting 1"));
    free(body);
    test_pg_start();
    report_reply_t r;
    cr_assert_eq(test_peer_recv(&peer, &r, 30000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED);
    body = get(1, "/readyz", &status);
    cr_assert_eq(status, 200);
    free(body);
    test_peer_close(&peer);
    report_update_destroy(&u);
}

Test(ops, status_json_reportctl_status_and_the_status_page)
{
    start();
    test_push_samples(&stack, 7);
    restart_with_peers();
    report_control_request_t req = {.kind = REPORT_CONTROL_PUBLISH,
                                    .agency_code = "",
                                    .year = 2018,
                                    .month = 7,
                                    .number = 588,
                                    .date = "2018-07-19",
                                    .basis = ""};
    report_control_reply_t reply;
    report_client_keys_t office = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &office, &req, &reply, 30000),
        0);
    cr_assert(reply.ok, "%s", reply.message);
    report_control_reply_clear(&reply);
    usleep(1500 * 1000); /* history samples every 0.5 s; late units every 1 s */

    int status = 0;
    char *body = get(2, "/status.json", &status);
    json_error_t err;
    json_t *doc = json_loads(body, 0, &err);
    cr_assert_not_null(doc, "%s: %s", err.text, body);
    json_t *a = json_object_get(doc, "aggregator");
    cr_assert_str_eq(json_string_value(json_object_get(a, "period")), "2018-07");
    json_t *late = json_object_get(a, "late_units");
    cr_assert_eq(json_array_size(late), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(late, 0), "name")),
                     "Văn phòng Sở");
    cr_assert_eq(
        json_integer_value(json_object_get(json_object_get(a, "last_published"), "number")), 588);
    cr_assert_geq(json_array_size(json_object_get(doc, "history")), 2);
    cr_assert_eq(json_array_size(json_object_get(doc, "peers")), 3);
    json_decref(doc);
    free(body);

    const char *bin = getenv("REPORT_BIN_DIR");
    char *reportctl = report_sprintf("%s/reportctl", bin ? bin : "build/bin");
    char *out = report_sprintf("/tmp/report-status-%d.txt", (int)getpid());
    char *cmd = report_sprintf("'%s' status --services %s,%s,%s > %s", reportctl, base[0], base[1],
                               base[2], out);
    cr_assert_eq(run(cmd), 0, "reportctl status failed with every service up");
    free(cmd);
    FILE *f = fopen(out, "r");
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cr_assert(strstr(text, "collector") && strstr(text, "store") && strstr(text, "aggregator"),
              "%s", text);
    cr_assert(strstr(text, "last published: SKHCN 2018-07 version 1 number 588"), "%s", text);
    cr_assert(strstr(text, "late units for 2018-07 (deadline 2018-07-15): VAN_PHONG (Văn phòng "
                           "Sở)"),
              "%s", text);
    cr_assert(strstr(text, "in flight 0/10000"), "%s", text);

    /* The page, in headless Chromium: loads, shows every service and queue, no console error. */
    char *check = test_repo_path("tests/browser/check_status_page.sh");
    char *shot = test_repo_path("var/status-page.png");
    cmd = report_sprintf("EXPECT_TEXT='Văn phòng Sở' '%s' %s/status '%s'", check, base[0], shot);
    cr_assert_eq(run(cmd), 0, "status page check failed: %s", cmd);
    free(cmd);
    free(check);
    free(shot);

    /* A service down: reportctl status says so and exits non-zero. */
    report_http_stop(&http[1]);
    cmd = report_sprintf("'%s' status --services %s,%s,%s --timeout-ms 500 > %s", reportctl,
                         base[0], base[1], base[2], out);
    cr_assert_eq(run(cmd), 3, "reportctl status did not fail with the store down");
    free(cmd);
    f = fopen(out, "r");
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    cr_assert(strstr(text, "DOWN"), "%s", text);
    unlink(out);
    free(out);
    free(reportctl);
}
