/* The store's ops view: its Prometheus metrics, its status for the status page and
 * reportctl status, and its readiness, from its writers' summed snapshot, served by report_http.
 * Names follow Prometheus conventions: snake_case, _total for counters, seconds and bytes. */
#define _GNU_SOURCE
#include "report_store_ops.h"
#include "report_metrics.h"
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double s_age(int64_t ms)
{
    return ms ? (double)(report_wall_ms() - ms) / 1000.0 : 0;
}

static void s_store_metrics(const void *view, report_buf_t *out)
{
    const report_store_stats_t *st = view;
    const struct {
        const char *name, *type, *help;
        double value;
    } plain[] = {
        {"report_store_rows_stored_total", "counter", "Updates committed as new rows.",
         (double)st->stored},
        {"report_store_duplicates_total", "counter",
         "Updates whose id was committed before (answered DUPLICATE).", (double)st->duplicates},
        {"report_store_rejected_total", "counter",
         "Updates refused by the store (catalogue or database).", (double)st->rejected},
        {"report_store_updates_waiting", "gauge", "Updates held, waiting for their commit.",
         (double)st->pending},
        {"report_store_capacity", "gauge", "Updates the store holds at most.",
         (double)st->capacity},
        {"report_store_database_up", "gauge", "1 if the database connection is up.",
         st->db_up ? 1 : 0},
        {"report_store_reconnects_total", "counter", "Database reconnections.",
         (double)st->reconnects},
        {"report_store_last_commit_timestamp_seconds", "gauge",
         "Wall-clock time of the last commit (0 before the first).",
         (double)st->last_commit_ms / 1000.0},
        {"report_store_last_commit_age_seconds", "gauge",
         "Seconds since the last commit (0 before the first).", s_age(st->last_commit_ms)},
        {"report_store_dead_letters_total", "counter", "Refused inputs kept as dead letters.",
         (double)st->dead_letters},
        {"report_store_dead_letters_dropped_total", "counter",
         "Refused inputs not kept (queue full while the database was away).",
         (double)st->dead_letters_dropped},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        report_metrics_family(out, plain[i].name, plain[i].type, plain[i].help);
        report_metrics_sample(out, plain[i].name, "", plain[i].value);
    }
    report_metrics_db_where(out, "report_store", &st->db_where);
    report_metrics_histogram(out, "report_store_batch_size", "Updates per committed batch.",
                             &st->batch_size);
    report_metrics_histogram(out, "report_store_commit_seconds",
                             "Time to write and commit one batch.", &st->commit_seconds);
}

static void s_store_sample(const void *view, report_sample_t *s)
{
    const report_store_stats_t *st = view;
    s->queue_name = "waiting for commit";
    s->depth = (double)st->pending;
    s->limit = (double)st->capacity;
    s->counter_count = 3;
    s->counter_names[0] = "stored";
    s->counters[0] = (double)st->stored;
    s->counter_names[1] = "duplicate";
    s->counters[1] = (double)st->duplicates;
    s->counter_names[2] = "rejected";
    s->counters[2] = (double)st->rejected;
}

static void s_store_status(const void *view, json_t *o)
{
    const report_store_stats_t *st = view;
    json_t *s = json_object();
    double age = s_age(st->last_commit_ms);
    json_object_set_new(s, "database_up", json_boolean(st->db_up));
    json_object_set_new(s, "waiting", json_integer((json_int_t)st->pending));
    json_object_set_new(s, "last_commit_age_seconds", json_real(age));
    /* Lag: how long the oldest held update may have waited, as far as we can tell. */
    json_object_set_new(s, "lag_seconds", json_real(st->pending ? age : 0));
    json_object_set_new(s, "reconnects", json_integer((json_int_t)st->reconnects));
    report_http_status_db_where(s, &st->db_where);
    json_object_set_new(o, "store", s);
}

static bool s_store_ready(const void *view, char *why, size_t size)
{
    const report_store_stats_t *st = view;
    if (!st->db_up)
        snprintf(why, size, "%s",
                 st->refused_durability ? "durability is off on the server"
                                        : "database unreachable");
    return st->db_up;
}

static void s_snapshot(void *store, void *view)
{
    report_store_stats(store, view);
}

report_http_t *report_store_ops_start(report_store_t *store, const report_http_config_t *cfg)
{
    report_http_handlers_t h = {"store",
                                s_store_metrics,
                                s_store_sample,
                                s_store_status,
                                s_store_ready,
                                store,
                                sizeof(report_store_stats_t),
                                s_snapshot};
    return report_http_start(cfg, &h);
}
