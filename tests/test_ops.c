/* Ops: every service answers /metrics (promtool-clean), /healthz, /readyz and /status.json;
 * who is late shows per unit; reportctl status shows the pipeline and fails when a service is
 * down; the status page passes its browser test. Real services, sockets and database. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_json.h"
#include "report_aggregator_ops.h"
#include "report_collector_ops.h"
#include "report_store_ops.h"
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
    if (stack.db.name[0]) /* the tests of the HTTP layer alone start no stack */
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
    http[0] = report_collector_ops_start(stack.collector, &h);
    http[1] = report_store_ops_start(stack.stores[0], &h);
    http[2] = report_aggregator_ops_start(agg, &h);
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
        http[i] = i == 0   ? report_collector_ops_start(stack.collector, &h)
                  : i == 1 ? report_store_ops_start(stack.stores[0], &h)
                           : report_aggregator_ops_start(agg, &h);
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
         "report_store_database_server_info{server=", "report_store_database_failovers_total 0"},
        {"report_unit_reported{unit=\"VAN_PHONG\",period=\"2018-07\"} 0",
         "report_unit_reported{unit=\"QLKH\",period=\"2018-07\"} 1", "report_aggregator_leader 1",
         "report_aggregator_database_server_info{server="},
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
    /* A client that connects and says nothing (a browser's spare connection, a scan) holds a
     * connection until the idle timeout; it must not delay anyone else. */
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
    cr_assert_str_eq(json_string_value(json_object_get(a, "role")), "leader");
    cr_assert_neq(strlen(json_string_value(json_object_get(a, "database_server"))), 0);
    cr_assert_eq(json_integer_value(json_object_get(a, "database_failovers")), 0);
    cr_assert_geq(json_array_size(json_object_get(doc, "history")), 2);
    cr_assert_eq(json_array_size(json_object_get(doc, "peers")), 3);
    json_decref(doc);
    free(body);

    const char *bin = getenv("REPORT_BIN_DIR");
    char *reportctl = report_sprintf("%s/reportctl", bin ? bin : "build/bin");
    char *text = NULL;
    cr_assert_eq(
        test_run(&text, "'%s' status --services %s,%s,%s", reportctl, base[0], base[1], base[2]), 0,
        "reportctl status failed with every service up: %s", text);
    cr_assert(strstr(text, "collector") && strstr(text, "store") && strstr(text, "aggregator"),
              "%s", text);
    cr_assert(strstr(text, "last published: SKHCN 2018-07 version 1 number 588"), "%s", text);
    cr_assert(strstr(text, "late units for 2018-07 (deadline 2018-07-15): VAN_PHONG (Văn phòng "
                           "Sở)"),
              "%s", text);
    cr_assert(strstr(text, "in flight 0/10000"), "%s", text);
    cr_assert(strstr(text, "aggregator: leader (leader "), "%s", text);
    cr_assert(strstr(text, "database server: "), "%s", text);
    free(text);

    /* The page, in headless Chromium: loads, shows every service and queue, no console error. */
    char *check = test_repo_path("tests/browser/check_status_page.sh");
    char *shot = test_repo_path("var/status-page.png");
    char *cmd =
        report_sprintf("EXPECT_TEXT='Văn phòng Sở' '%s' %s/status '%s'", check, base[0], shot);
    cr_assert_eq(run(cmd), 0, "status page check failed: %s", cmd);
    free(cmd);
    free(check);
    free(shot);

    /* A service down: reportctl status says so and exits non-zero. */
    report_http_stop(&http[1]);
    cr_assert_eq(test_run(&text, "'%s' status --services %s,%s,%s --timeout-ms 500", reportctl,
                          base[0], base[1], base[2]),
                 3, "reportctl status did not fail with the store down");
    cr_assert(strstr(text, "DOWN"), "%s", text);
    free(text);
    free(reportctl);
}

/* --- the HTTP layer alone: made-up handlers, no services, no database --- */

static bool plain_ready = true;

static void plain_metrics(const void *arg, report_buf_t *out)
{
    (void)arg;
    report_buf_adds(out, "# HELP plain_up A made-up family.\n# TYPE plain_up gauge\nplain_up 1\n");
}

static void plain_sample(const void *arg, report_sample_t *sample)
{
    (void)arg;
    sample->queue_name = "plain";
    sample->depth = 1;
    sample->limit = 10;
}

static bool plain_ready_check(const void *arg, char *why, size_t size)
{
    bool ready = *(const bool *)arg;
    if (!ready)
        snprintf(why, size, "database unreachable");
    return ready;
}

/* Starts http[0] with made-up handlers on a free loopback port (cfg NULL: the defaults);
 * returns the port. */
static int start_plain(report_http_config_t *cfg)
{
    report_http_config_t h;
    if (!cfg) {
        report_http_config_default(&h);
        cfg = &h;
    }
    cfg->address = "127.0.0.1:0";
    report_http_handlers_t handlers = {
        "plain", plain_metrics, plain_sample, NULL, plain_ready_check, &plain_ready, 0, NULL};
    http[0] = report_http_start(cfg, &handlers);
    cr_assert_not_null(http[0]);
    return report_http_port(http[0]);
}

/* The raw answer to METHOD PATH over HTTP/1.0 (extra: more header lines, each ending in CRLF);
 * *status its status code, *body_len the bytes after the header. Caller frees. */
static char *raw(int port, const char *method, const char *path, const char *extra, int *status,
                 size_t *body_len)
{
    char *req = report_sprintf("%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n", method, path,
                               extra ? extra : "");
    size_t len = 0;
    char *answer = test_http_raw(port, req, 5000, &len);
    cr_assert_not_null(answer, "no complete answer to %s %s", method, path);
    free(req);
    cr_assert_eq(sscanf(answer, "HTTP/1.%*d %d", status), 1, "not HTTP: %s", answer);
    char *sep = strstr(answer, "\r\n\r\n");
    cr_assert_not_null(sep, "no end of header: %s", answer);
    *body_len = len - (size_t)(sep + 4 - answer);
    return answer;
}

Test(ops, answers_keep_their_types_caching_and_readiness_reason)
{
    int port = start_plain(NULL);
    const struct {
        const char *path;
        int status;
        const char *type;
    } expect[] = {
        {"/healthz", 200, "text/plain"},
        {"/readyz", 200, "text/plain"},
        {"/metrics", 200, "text/plain; version=0.0.4; charset=utf-8"},
        {"/status.json", 200, "application/json; charset=utf-8"},
        {"/status", 200, "text/html; charset=utf-8"},
        {"/", 200, "text/html; charset=utf-8"},
        {"/healthz?probe=1", 200, "text/plain"},
        {"/nope", 404, "text/plain"},
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        int status = 0;
        size_t body_len = 0;
        char *answer = raw(port, "GET", expect[i].path, NULL, &status, &body_len);
        char value[128];
        cr_assert_eq(status, expect[i].status, "%s: %s", expect[i].path, answer);
        cr_assert(test_http_header(answer, "Content-Type", value, sizeof value));
        cr_assert_str_eq(value, expect[i].type, "%s", expect[i].path);
        cr_assert(test_http_header(answer, "Cache-Control", value, sizeof value));
        cr_assert_str_eq(value, "no-store", "%s", expect[i].path);
        cr_assert(test_http_header(answer, "Content-Length", value, sizeof value));
        cr_assert_eq(strtoull(value, NULL, 10), body_len, "%s", expect[i].path);
        free(answer);
    }
    plain_ready = false;
    int status = 0;
    size_t body_len = 0;
    char *answer = raw(port, "GET", "/readyz", NULL, &status, &body_len);
    plain_ready = true;
    cr_assert_eq(status, 503, "%s", answer);
    cr_assert(strstr(answer, "\r\n\r\nnot ready: database unreachable\n"), "%s", answer);
    free(answer);
    /* a request larger than a connection's memory gets a 4xx, not our memory */
    char *big = report_malloc(40000);
    memset(big, 'a', 39999);
    big[39999] = '\0';
    char *header = report_sprintf("X-Big: %s\r\n", big);
    answer = raw(port, "GET", "/healthz", header, &status, &body_len);
    cr_assert(status >= 400 && status < 500, "%s", answer);
    free(answer);
    free(header);
    free(big);
}

/* HEAD is GET without the body: the same status and headers, Content-Length included. */
Test(ops, head_answers_carry_headers_and_no_body)
{
    int port = start_plain(NULL);
    const char *paths[] = {"/healthz", "/metrics", "/readyz", "/status.json", "/status", "/nope"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        int get_status = 0, status = 0;
        size_t get_len = 0, body_len = 0;
        char *get_answer = raw(port, "GET", paths[i], NULL, &get_status, &get_len);
        char *answer = raw(port, "HEAD", paths[i], NULL, &status, &body_len);
        cr_assert_eq(body_len, 0, "HEAD %s sent %zu body bytes: %s", paths[i], body_len, answer);
        cr_assert_eq(status, get_status, "HEAD %s: %s", paths[i], answer);
        char type[128], get_type[128], length[32];
        cr_assert(test_http_header(answer, "Content-Type", type, sizeof type), "%s", answer);
        cr_assert(test_http_header(get_answer, "Content-Type", get_type, sizeof get_type));
        cr_assert_str_eq(type, get_type, "HEAD %s", paths[i]);
        cr_assert(test_http_header(answer, "Content-Length", length, sizeof length), "%s", answer);
        if (strcmp(paths[i], "/metrics") == 0 || strcmp(paths[i], "/status.json") == 0)
            cr_assert_gt(strtoull(length, NULL, 10), 0, "HEAD %s: %s", paths[i], answer);
        else /* the same body as GET's */
            cr_assert_eq(strtoull(length, NULL, 10), get_len, "HEAD %s: %s", paths[i], answer);
        free(answer);
        free(get_answer);
    }
}

Test(ops, only_get_and_head_are_allowed)
{
    int port = start_plain(NULL);
    const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        int status = 0;
        size_t body_len = 0;
        char *answer =
            raw(port, methods[i], "/healthz", "Content-Length: 0\r\n", &status, &body_len);
        cr_assert_eq(status, 405, "%s: %s", methods[i], answer);
        char allow[64];
        cr_assert(test_http_header(answer, "Allow", allow, sizeof allow), "%s: %s", methods[i],
                  answer);
        cr_assert_str_eq(allow, "GET, HEAD");
        free(answer);
    }
}

/* Only the status page's peers may read /status.json from another origin; no other site a
 * browser visits may read it, and nothing else is shared across origins. */
Test(ops, status_json_is_shared_only_with_the_peers)
{
    report_http_config_t h;
    report_http_config_default(&h);
    h.peers = "http://127.0.0.1:1111, http://127.0.0.1:2222/";
    int port = start_plain(&h);
    const struct {
        const char *path, *origin, *allowed;
    } cases[] = {
        {"/status.json", NULL, NULL},
        {"/status.json", "http://evil.example", NULL},
        {"/status.json", "http://127.0.0.1:11111", NULL},
        {"/status.json", "http://127.0.0.1:1111", "http://127.0.0.1:1111"},
        {"/status.json", "http://127.0.0.1:2222", "http://127.0.0.1:2222"},
        {"/metrics", "http://127.0.0.1:1111", NULL},
        {"/status", "http://127.0.0.1:1111", NULL},
        {"/readyz", "http://127.0.0.1:1111", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *extra =
            cases[i].origin ? report_sprintf("Origin: %s\r\n", cases[i].origin) : report_strdup("");
        int status = 0;
        size_t body_len = 0;
        char *answer = raw(port, "GET", cases[i].path, extra, &status, &body_len);
        cr_assert_eq(status, 200);
        char value[128];
        bool shared = test_http_header(answer, "Access-Control-Allow-Origin", value, sizeof value);
        if (cases[i].allowed) {
            cr_assert(shared, "%s from %s: %s", cases[i].path, cases[i].origin, answer);
            cr_assert_str_eq(value, cases[i].allowed);
        } else {
            cr_assert_not(shared, "%s from %s is shared: %s", cases[i].path,
                          cases[i].origin ? cases[i].origin : "(no origin)", answer);
        }
        if (strcmp(cases[i].path, "/status.json") == 0) {
            cr_assert(test_http_header(answer, "Vary", value, sizeof value), "%s", answer);
            cr_assert_str_eq(value, "Origin");
        }
        free(answer);
        free(extra);
    }
}

static int cmp_ms(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Probes GET /healthz from 127.0.0.1 `count` times, 100 ms apart, while slow clients hold
 * their connections; asserts every probe is answered 200 within bound_ms. */
static void probe_healthz(int port, int count, int64_t bound_ms, const char *what)
{
    char *url = report_sprintf("http://127.0.0.1:%d/healthz", port);
    int64_t ms[64];
    cr_assert_leq(count, 64);
    for (int i = 0; i < count; i++) {
        int64_t t0 = report_clock_ms();
        int status = 0;
        char *body = report_http_get(url, 5000, &status);
        ms[i] = report_clock_ms() - t0;
        cr_assert_not_null(body, "%s: probe %d got no answer in %lld ms", what, i,
                           (long long)ms[i]);
        cr_assert_eq(status, 200);
        free(body);
        usleep(100 * 1000);
    }
    qsort(ms, (size_t)count, sizeof ms[0], cmp_ms);
    fprintf(stderr, "%s: /healthz latency over %d probes: p50 %lld ms, max %lld ms\n", what, count,
            (long long)ms[count / 2], (long long)ms[count - 1]);
    cr_assert_lt(ms[count - 1], bound_ms, "%s: /healthz took %lld ms (p50 %lld ms)", what,
                 (long long)ms[count - 1], (long long)ms[count / 2]);
    free(url);
}

/* The tester's attack: 200 clients that send half a request line and hold, re-opening every
 * connection dropped; all from the prober's own address. A 1 s liveness probe must live. */
Test(ops, healthz_answers_within_a_second_under_200_slow_clients)
{
    int port = start_plain(NULL);
    test_slow_clients_t *slow = test_slow_clients_start("127.0.0.1", port, 200);
    cr_assert_not_null(slow);
    usleep(1000 * 1000); /* they connect and hold */
    probe_healthz(port, 20, 1000, "200 slow clients");
    size_t opened = test_slow_clients_stop(&slow);
    cr_assert_geq(opened, 200);
}

/* Clients from one address (127.0.0.2) hold at most max_connections_per_ip; everyone else
 * (127.0.0.1) still gets in although there are more of them than max_connections. */
Test(ops, one_address_cannot_take_every_connection)
{
    report_http_config_t h;
    report_http_config_default(&h);
    h.max_connections = 32;
    h.max_connections_per_ip = 8;
    int port = start_plain(&h);
    test_slow_clients_t *slow = test_slow_clients_start("127.0.0.2", port, 100);
    cr_assert_not_null(slow, "cannot connect from 127.0.0.2");
    usleep(1000 * 1000);
    probe_healthz(port, 10, 1000, "100 slow clients from another address");
    test_slow_clients_stop(&slow);
}

/* A connection that sends nothing is closed after idle_timeout_s. */
Test(ops, silent_connections_are_closed_after_the_idle_timeout)
{
    report_http_config_t h;
    report_http_config_default(&h);
    h.idle_timeout_s = 1;
    int port = start_plain(&h);
    int64_t t0 = report_clock_ms();
    size_t len = 99;
    char *answer = test_http_raw(port, "GET /healthz HTTP/1.1\r\nHost: x", 5000, &len);
    int64_t ms = report_clock_ms() - t0;
    cr_assert_not_null(answer, "a half request was held for more than 5 s");
    cr_assert_eq(len, 0, "%s", answer);
    cr_assert_geq(ms, 900);
    cr_assert_leq(ms, 3000);
    free(answer);
}
