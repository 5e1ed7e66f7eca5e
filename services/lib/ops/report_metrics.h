/* Prometheus text exposition: histograms with fixed buckets, process metrics, and writers
 * that follow the conventions (snake_case, _total counters, seconds and bytes). */
#ifndef REPORT_METRICS_H
#define REPORT_METRICS_H

#include "report_db.h"
#include "report_monitor.h"
#include "report_util.h"

#include <stddef.h>
#include <stdint.h>

#define REPORT_HISTOGRAM_MAX_BUCKETS 16

/* A histogram with cumulative buckets, copied by value into stats snapshots. */
typedef struct {
    size_t bucket_count;
    double bounds[REPORT_HISTOGRAM_MAX_BUCKETS];
    uint64_t counts[REPORT_HISTOGRAM_MAX_BUCKETS]; /* per bucket, not cumulative */
    uint64_t count;
    double sum;
} report_histogram_t;

/* Latency buckets in seconds (1 ms .. 10 s) and size buckets (1 .. 5000). */
void report_histogram_init_seconds(report_histogram_t *h);
void report_histogram_init_sizes(report_histogram_t *h);
void report_histogram_observe(report_histogram_t *h, double value);

/* Writers: "# HELP" and "# TYPE" once per family, then samples. labels is "" or
 * "name=\"value\",..." (already escaped with report_metrics_label). */
void report_metrics_family(report_buf_t *out, const char *name, const char *type, const char *help);
void report_metrics_sample(report_buf_t *out, const char *name, const char *labels, double value);
void report_metrics_histogram(report_buf_t *out, const char *name, const char *help,
                              const report_histogram_t *h);
/* Escapes a label value (backslash, quote, newline) into buf. */
const char *report_metrics_label(const char *value, char *buf, size_t size);
/* report_build_info, process_start_time_seconds, process_resident_memory_bytes. */
void report_metrics_process(report_buf_t *out, const char *service, double start_time);
/* The connection metrics of a service's socket monitors (handshakes refused and succeeded,
 * connections dropped at a bound, accept failures, key reloads that failed): prefix is
 * "report_collector" or "report_aggregator"; a and b, two sockets of the service, are summed. */
void report_metrics_connections(report_buf_t *out, const char *prefix,
                                const report_monitor_counts_t *a, const report_monitor_counts_t *b,
                                uint64_t reload_failures);
/* Which database server the service is on and its failovers: PREFIX_database_server_info
 * {server="host:port"} 1 (no sample while disconnected), PREFIX_database_failovers_total and
 * PREFIX_database_last_failover_timestamp_seconds. */
void report_metrics_db_where(report_buf_t *out, const char *prefix, const report_db_where_t *w);

#endif
