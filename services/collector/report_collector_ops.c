/* The collector's ops view: its Prometheus metrics, its status for the status page and
 * reportctl status, and its readiness, from its thread-safe snapshot, served by report_http.
 * Names follow Prometheus conventions: snake_case, _total for counters, seconds and bytes. */
#define _GNU_SOURCE
#include "report_collector_ops.h"
#include "report_metrics.h"
#include "report_update.h"
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_outcomes[] = {NULL, "stored", "duplicate", "rejected", "busy"};

static void s_collector_metrics(const void *view, report_buf_t *out)
{
    const report_collector_stats_t *st = view;
    char labels[256], unit[96];
    report_metrics_family(out, "report_collector_updates_received_total", "counter",
                          "Updates received from subdivisions, by unit.");
    for (size_t i = 0; i < st->unit_count; i++) {
        snprintf(labels, sizeof labels, "unit=\"%s\"",
                 report_metrics_label(st->units[i].unit, unit, sizeof unit));
        report_metrics_sample(out, "report_collector_updates_received_total", labels,
                              (double)st->units[i].received);
    }
    report_metrics_family(out, "report_collector_updates_answered_total", "counter",
                          "Updates answered, by outcome and unit.");
    for (size_t i = 0; i < st->unit_count; i++) {
        for (int o = REPORT_OUTCOME_STORED; o <= REPORT_OUTCOME_BUSY; o++) {
            snprintf(labels, sizeof labels, "outcome=\"%s\",unit=\"%s\"", s_outcomes[o],
                     report_metrics_label(st->units[i].unit, unit, sizeof unit));
            report_metrics_sample(out, "report_collector_updates_answered_total", labels,
                                  (double)st->units[i].answered[o]);
        }
    }
    report_metrics_family(out, "report_collector_refusals_total", "counter",
                          "Updates refused (REJECTED), by reason and unit.");
    for (size_t i = 0; i < st->unit_count; i++) {
        for (int r = 0; r < REPORT_REASON_COUNT; r++) {
            if (!st->units[i].refused[r])
                continue;
            snprintf(labels, sizeof labels, "reason=\"%s\",unit=\"%s\"",
                     report_reason_name((report_reason_t)r),
                     report_metrics_label(st->units[i].unit, unit, sizeof unit));
            report_metrics_sample(out, "report_collector_refusals_total", labels,
                                  (double)st->units[i].refused[r]);
        }
    }
    const struct {
        const char *name, *type, *help;
        double value;
    } plain[] = {
        {"report_collector_updates_in_flight", "gauge",
         "Updates accepted and waiting for a store's commit.", (double)st->inflight},
        {"report_collector_updates_in_flight_limit", "gauge",
         "Bound of updates in flight (max-inflight); past it the answer is BUSY.",
         (double)st->inflight_limit},
        {"report_collector_connected_clients", "gauge",
         "Client connections open (accepted, not yet disconnected).",
         (double)st->connected_clients},
        {"report_collector_received_bytes_total", "counter", "Bytes of updates received.",
         (double)st->bytes_received},
        {"report_collector_stores_connected", "gauge", "Stores sending heartbeats.",
         (double)st->stores},
        {"report_collector_redispatched_total", "counter",
         "Updates handed to another store after theirs went silent.", (double)st->redispatched},
        {"report_collector_stale_results_total", "counter",
         "Store answers ignored: owed to an earlier collector process, or not for an update "
         "handed to that store.",
         (double)st->stale_results},
        {"report_collector_expired_total", "counter",
         "Updates dropped because no store answered in time.", (double)st->expired},
        {"report_collector_undeliverable_total", "counter",
         "Replies that could not be delivered (client gone).", (double)st->undeliverable},
        {"report_collector_dead_letters_dropped_total", "counter",
         "Refused inputs not kept as dead letters (no store could take them).",
         (double)st->dead_letters_dropped},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        report_metrics_family(out, plain[i].name, plain[i].type, plain[i].help);
        report_metrics_sample(out, plain[i].name, "", plain[i].value);
    }
    report_metrics_connections(out, "report_collector", &st->clients, &st->store_link,
                               st->keyring_reload_failures);
    report_metrics_histogram(out, "report_collector_reply_seconds",
                             "Time from receiving an update to answering it.", &st->reply_seconds);
}

static void s_collector_sample(const void *view, report_sample_t *s)
{
    const report_collector_stats_t *st = view;
    s->queue_name = "in flight";
    s->depth = (double)st->inflight;
    s->limit = (double)st->inflight_limit;
    const char *names[] = {"received", "stored", "duplicate", "rejected", "busy"};
    double values[] = {(double)st->received, (double)st->stored, (double)st->duplicates,
                       (double)st->rejected, (double)st->busy};
    s->counter_count = 5;
    for (size_t i = 0; i < 5; i++) {
        s->counter_names[i] = names[i];
        s->counters[i] = values[i];
    }
}

static void s_collector_status(const void *view, json_t *o)
{
    const report_collector_stats_t *st = view;
    json_t *refusals = json_object();
    for (int r = 0; r < REPORT_REASON_COUNT; r++)
        if (st->refused[r])
            json_object_set_new(refusals, report_reason_name((report_reason_t)r),
                                json_integer((json_int_t)st->refused[r]));
    json_object_set_new(o, "refusals", refusals);
    json_t *c = json_object();
    json_object_set_new(c, "connected_clients", json_integer((json_int_t)st->connected_clients));
    json_object_set_new(c, "stores_connected", json_integer((json_int_t)st->stores));
    json_object_set_new(c, "handshakes_refused", json_integer((json_int_t)st->handshakes_refused));
    json_object_set_new(o, "collector", c);
}

static bool s_collector_ready(const void *view, char *why, size_t size)
{
    const report_collector_stats_t *st = view;
    bool ready = st->stores > 0;
    if (!ready)
        snprintf(why, size, "no store connected");
    return ready;
}

static void s_snapshot(void *collector, void *view)
{
    report_collector_stats(collector, view);
}

report_http_t *report_collector_ops_start(report_collector_t *collector,
                                          const report_http_config_t *cfg)
{
    report_http_handlers_t h = {"collector",
                                s_collector_metrics,
                                s_collector_sample,
                                s_collector_status,
                                s_collector_ready,
                                collector,
                                sizeof(report_collector_stats_t),
                                s_snapshot};
    return report_http_start(cfg, &h);
}
