/* Ops endpoint benchmark: /healthz latency while slow clients hold connections to the same
 * endpoint (each sends half a request and waits, and re-opens at once whatever the server
 * drops). The endpoint runs in this process with the services' default limits. Prints the
 * figures; run by deploy/bench_http.sh; never part of the pass/fail suite.
 *
 *   bench_http [SLOW_CLIENTS [PROBES [FROM_ADDRESS]]]     default 200 200 127.0.0.1 */
#define _GNU_SOURCE
#include "report_http.h"
#include "report_log.h"
#include "report_util.h"
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void s_metrics(const void *arg, report_buf_t *out)
{
    (void)arg;
    report_buf_adds(out, "# TYPE bench_up gauge\nbench_up 1\n");
}

static void s_sample(const void *arg, report_sample_t *sample)
{
    (void)arg;
    sample->queue_name = "bench";
}

static bool s_ready(const void *arg, char *why, size_t size)
{
    (void)arg;
    (void)why;
    (void)size;
    return true;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int slow_count = argc > 1 ? atoi(argv[1]) : 200;
    int probes = argc > 2 ? atoi(argv[2]) : 200;
    const char *from = argc > 3 ? argv[3] : "127.0.0.1";
    if (slow_count < 0 || probes < 1) {
        fprintf(stderr, "usage: bench_http [SLOW_CLIENTS [PROBES [FROM_ADDRESS]]]\n");
        return 2;
    }
    report_log_set_level("error");
    report_http_config_t cfg;
    report_http_config_default(&cfg);
    cfg.address = "127.0.0.1:0";
    report_http_handlers_t h = {"bench", s_metrics, s_sample, NULL, s_ready, NULL, 0, NULL};
    report_http_t *http = report_http_start(&cfg, &h);
    if (!http)
        return 1;
    int port = report_http_port(http);
    test_slow_clients_t *slow = NULL;
    if (slow_count > 0 && !(slow = test_slow_clients_start(from, port, slow_count))) {
        fprintf(stderr, "cannot connect from %s\n", from);
        return 1;
    }
    usleep(1000 * 1000); /* the slow clients connect and hold */
    char *url = report_sprintf("http://127.0.0.1:%d/healthz", port);
    int64_t *ms = report_calloc((size_t)probes, sizeof *ms);
    int failed = 0;
    for (int i = 0; i < probes; i++) {
        int64_t t0 = report_clock_ms();
        int status = 0;
        char *body = report_http_get(url, 5000, &status);
        ms[i] = report_clock_ms() - t0;
        failed += !body || status != 200;
        free(body);
        usleep(20 * 1000);
    }
    size_t opened = test_slow_clients_stop(&slow);
    qsort(ms, (size_t)probes, sizeof *ms, s_cmp);
    printf("slow clients %d from %s: /healthz p50 %lld ms, p99 %lld ms, max %lld ms; "
           "no answer within 5 s: %d of %d; slow connections opened: %zu\n",
           slow_count, from, (long long)ms[probes / 2], (long long)ms[(probes * 99) / 100],
           (long long)ms[probes - 1], failed, probes, opened);
    free(ms);
    free(url);
    report_http_stop(&http);
    return 0;
}
