/* Prometheus text format writers and process metrics. */
#define _GNU_SOURCE
#include "report_metrics.h"
#include "report_build.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void s_init(report_histogram_t *h, const double *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    h->bucket_count = n;
    memcpy(h->bounds, bounds, n * sizeof(double));
}

void report_histogram_init_seconds(report_histogram_t *h)
{
    static const double b[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                               0.25,  0.5,    1,     2.5,  5,     10};
    s_init(h, b, sizeof b / sizeof b[0]);
}

void report_histogram_init_sizes(report_histogram_t *h)
{
    static const double b[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
    s_init(h, b, sizeof b / sizeof b[0]);
}

void report_histogram_observe(report_histogram_t *h, double value)
{
    for (size_t i = 0; i < h->bucket_count; i++) {
        if (value <= h->bounds[i]) {
            h->counts[i]++;
            break;
        }
    }
    h->count++;
    h->sum += value;
}

void report_metrics_family(report_buf_t *out, const char *name, const char *type, const char *help)
{
    report_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void s_value(report_buf_t *out, double value)
{
    if (isnan(value))
        report_buf_adds(out, "NaN");
    else if (isinf(value))
        report_buf_adds(out, value > 0 ? "+Inf" : "-Inf");
    else if (value == (double)(int64_t)value && fabs(value) < 1e15)
        report_buf_printf(out, "%lld", (long long)value);
    else
        report_buf_printf(out, "%.9g", value);
}

void report_metrics_sample(report_buf_t *out, const char *name, const char *labels, double value)
{
    if (labels && *labels)
        report_buf_printf(out, "%s{%s} ", name, labels);
    else
        report_buf_printf(out, "%s ", name);
    s_value(out, value);
    report_buf_adds(out, "\n");
}

void report_metrics_histogram(report_buf_t *out, const char *name, const char *help,
                              const report_histogram_t *h)
{
    report_metrics_family(out, name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < h->bucket_count; i++) {
        cumulative += h->counts[i];
        report_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
                          (unsigned long long)cumulative);
    }
    report_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    report_buf_printf(out, "%s_sum ", name);
    s_value(out, h->sum);
    report_buf_printf(out, "\n%s_count %llu\n", name, (unsigned long long)h->count);
}

const char *report_metrics_label(const char *value, char *buf, size_t size)
{
    size_t o = 0;
    for (const char *p = value; *p && o + 3 < size; p++) {
        if (*p == '\\' || *p == '"') {
            buf[o++] = '\\';
            buf[o++] = *p;
        } else if (*p == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
    return buf;
}

/* Resident memory of this process in bytes (0 if unknown). */
static double s_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

void report_metrics_process(report_buf_t *out, const char *service, double start_time)
{
    char version[64], commit[64];
    report_metrics_family(out, "report_build_info", "gauge",
                          "Version and git commit the service was built from (always 1).");
    char *labels =
        report_sprintf("service=\"%s\",version=\"%s\",commit=\"%s\"", service,
                       report_metrics_label(report_build_version(), version, sizeof version),
                       report_metrics_label(report_build_commit(), commit, sizeof commit));
    report_metrics_sample(out, "report_build_info", labels, 1);
    free(labels);
    report_metrics_family(out, "process_start_time_seconds", "gauge",
                          "Start time of the process since the epoch, in seconds.");
    report_metrics_sample(out, "process_start_time_seconds", "", start_time);
    report_metrics_family(out, "process_resident_memory_bytes", "gauge",
                          "Resident memory size in bytes.");
    report_metrics_sample(out, "process_resident_memory_bytes", "", s_rss_bytes());
}

/* The connection metrics of a service's socket monitors: prefix is "report_collector" or
 * "report_aggregator"; a and b are summed (two sockets of the service). */
void report_metrics_connections(report_buf_t *out, const char *prefix,
                                const report_monitor_counts_t *a, const report_monitor_counts_t *b,
                                uint64_t reload_failures)
{
    char name[128], labels[64];
    snprintf(name, sizeof name, "%s_handshakes_refused_total", prefix);
    report_metrics_family(out, name, "counter",
                          "Connections whose handshake failed, by kind: protocol (no CURVE, "
                          "garbage), no_detail (closed or timed out during it), auth (key not "
                          "enrolled).");
    for (int k = 0; k < REPORT_HANDSHAKE_KINDS; k++) {
        snprintf(labels, sizeof labels, "kind=\"%s\"", report_handshake_kind_name(k));
        report_metrics_sample(out, name, labels,
                              (double)(a->handshake_failed[k] + b->handshake_failed[k]));
    }
    snprintf(name, sizeof name, "%s_handshakes_succeeded_total", prefix);
    report_metrics_family(out, name, "counter", "Connections whose handshake succeeded.");
    report_metrics_sample(out, name, "", (double)(a->handshakes + b->handshakes));
    snprintf(name, sizeof name, "%s_connections_dropped_total", prefix);
    report_metrics_family(out, name, "counter",
                          "Connections closed at once because a bound was reached.");
    report_metrics_sample(out, name, "bound=\"max_connections\"",
                          (double)(a->dropped_total + b->dropped_total));
    report_metrics_sample(out, name, "bound=\"max_connections_per_peer\"",
                          (double)(a->dropped_per_peer + b->dropped_per_peer));
    snprintf(name, sizeof name, "%s_accept_failures_total", prefix);
    report_metrics_family(out, name, "counter",
                          "accept() failures (EMFILE: out of file descriptors).");
    report_metrics_sample(out, name, "", (double)(a->accept_failed + b->accept_failed));
    snprintf(name, sizeof name, "%s_keyring_reload_failures_total", prefix);
    report_metrics_family(out, name, "counter",
                          "Key directory reloads that failed (the previous keys were kept).");
    report_metrics_sample(out, name, "", (double)reload_failures);
}

void report_metrics_db_where(report_buf_t *out, const char *prefix, const report_db_where_t *w)
{
    char name[128], labels[192], label[160];
    snprintf(name, sizeof name, "%s_database_server_info", prefix);
    report_metrics_family(out, name, "gauge",
                          "The database server (host:port) the service's session is on.");
    if (w->server[0]) {
        snprintf(labels, sizeof labels, "server=\"%s\"",
                 report_metrics_label(w->server, label, sizeof label));
        report_metrics_sample(out, name, labels, 1);
    }
    snprintf(name, sizeof name, "%s_database_failovers_total", prefix);
    report_metrics_family(out, name, "counter",
                          "Connections that reached another database server than the last one.");
    report_metrics_sample(out, name, "", (double)w->failovers);
    snprintf(name, sizeof name, "%s_database_last_failover_timestamp_seconds", prefix);
    report_metrics_family(out, name, "gauge",
                          "Wall-clock time of the last database failover (0 before the first).");
    report_metrics_sample(out, name, "", (double)w->last_failover_ms / 1000.0);
}
