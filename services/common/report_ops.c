/* Metrics, status and readiness of the three services, from their thread-safe snapshots.
 * Names follow Prometheus conventions: snake_case, _total for counters, seconds and bytes. */
#define _GNU_SOURCE
#include "report_ops.h"
#include "report_metrics.h"
#include "report_update.h"
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_outcomes[] = {NULL, "stored", "duplicate", "rejected", "busy"};

/* The connection metrics of a service's socket monitors: prefix is "report_collector" or
 * "report_aggregator"; a and b are summed (two sockets of the service). */
static void s_connection_metrics(report_buf_t *out, const char *prefix,
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

/* --- collector --- */

static void s_collector_metrics(void *arg, report_buf_t *out)
{
    report_collector_stats_t *st = report_malloc(sizeof *st);
    report_collector_stats(arg, st);
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
    s_connection_metrics(out, "report_collector", &st->clients, &st->store_link,
                         st->keyring_reload_failures);
    report_metrics_histogram(out, "report_collector_reply_seconds",
                             "Time from receiving an update to answering it.", &st->reply_seconds);
    free(st);
}

static void s_collector_sample(void *arg, report_sample_t *s)
{
    report_collector_stats_t *st = report_malloc(sizeof *st);
    report_collector_stats(arg, st);
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
    free(st);
}

static void s_collector_status(void *arg, json_t *o)
{
    report_collector_stats_t *st = report_malloc(sizeof *st);
    report_collector_stats(arg, st);
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
    free(st);
}

static bool s_collector_ready(void *arg, char *why, size_t size)
{
    report_collector_stats_t *st = report_malloc(sizeof *st);
    report_collector_stats(arg, st);
    bool ready = st->stores > 0;
    if (!ready)
        snprintf(why, size, "no store connected");
    free(st);
    return ready;
}

report_http_t *report_ops_collector(report_collector_t *collector, const report_http_config_t *cfg)
{
    report_http_handlers_t h = {"collector",        s_collector_metrics, s_collector_sample,
                                s_collector_status, s_collector_ready,   collector};
    return report_http_start(cfg, &h);
}

/* --- store --- */

static double s_age(int64_t ms)
{
    return ms ? (double)(report_wall_ms() - ms) / 1000.0 : 0;
}

static void s_store_metrics(void *arg, report_buf_t *out)
{
    report_store_stats_t st;
    report_store_stats(arg, &st);
    const struct {
        const char *name, *type, *help;
        double value;
    } plain[] = {
        {"report_store_rows_stored_total", "counter", "Updates committed as new rows.",
         (double)st.stored},
        {"report_store_duplicates_total", "counter",
         "Updates whose id was committed before (answered DUPLICATE).", (double)st.duplicates},
        {"report_store_rejected_total", "counter",
         "Updates refused by the store (catalogue or database).", (double)st.rejected},
        {"report_store_updates_waiting", "gauge", "Updates held, waiting for their commit.",
         (double)st.pending},
        {"report_store_capacity", "gauge", "Updates the store holds at most.", (double)st.capacity},
        {"report_store_database_up", "gauge", "1 if the database connection is up.",
         st.db_up ? 1 : 0},
        {"report_store_reconnects_total", "counter", "Database reconnections.",
         (double)st.reconnects},
        {"report_store_last_commit_timestamp_seconds", "gauge",
         "Wall-clock time of the last commit (0 before the first).",
         (double)st.last_commit_ms / 1000.0},
        {"report_store_last_commit_age_seconds", "gauge",
         "Seconds since the last commit (0 before the first).", s_age(st.last_commit_ms)},
        {"report_store_dead_letters_total", "counter", "Refused inputs kept as dead letters.",
         (double)st.dead_letters},
        {"report_store_dead_letters_dropped_total", "counter",
         "Refused inputs not kept (queue full while the database was away).",
         (double)st.dead_letters_dropped},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        report_metrics_family(out, plain[i].name, plain[i].type, plain[i].help);
        report_metrics_sample(out, plain[i].name, "", plain[i].value);
    }
    report_metrics_histogram(out, "report_store_batch_size", "Updates per committed batch.",
                             &st.batch_size);
    report_metrics_histogram(out, "report_store_commit_seconds",
                             "Time to write and commit one batch.", &st.commit_seconds);
}

static void s_store_sample(void *arg, report_sample_t *s)
{
    report_store_stats_t st;
    report_store_stats(arg, &st);
    s->queue_name = "waiting for commit";
    s->depth = (double)st.pending;
    s->limit = (double)st.capacity;
    s->counter_count = 3;
    s->counter_names[0] = "stored";
    s->counters[0] = (double)st.stored;
    s->counter_names[1] = "duplicate";
    s->counters[1] = (double)st.duplicates;
    s->counter_names[2] = "rejected";
    s->counters[2] = (double)st.rejected;
}

static void s_store_status(void *arg, json_t *o)
{
    report_store_stats_t st;
    report_store_stats(arg, &st);
    json_t *s = json_object();
    double age = s_age(st.last_commit_ms);
    json_object_set_new(s, "database_up", json_boolean(st.db_up));
    json_object_set_new(s, "waiting", json_integer((json_int_t)st.pending));
    json_object_set_new(s, "last_commit_age_seconds", json_real(age));
    /* Lag: how long the oldest held update may have waited, as far as we can tell. */
    json_object_set_new(s, "lag_seconds", json_real(st.pending ? age : 0));
    json_object_set_new(s, "reconnects", json_integer((json_int_t)st.reconnects));
    json_object_set_new(o, "store", s);
}

static bool s_store_ready(void *arg, char *why, size_t size)
{
    report_store_stats_t st;
    report_store_stats(arg, &st);
    if (!st.db_up)
        snprintf(why, size, "%s",
                 st.refused_durability ? "durability is off on the server"
                                       : "database unreachable");
    return st.db_up;
}

report_http_t *report_ops_store(report_store_t *store, const report_http_config_t *cfg)
{
    report_http_handlers_t h = {"store",        s_store_metrics, s_store_sample,
                                s_store_status, s_store_ready,   store};
    return report_http_start(cfg, &h);
}

/* --- aggregator --- */

static void s_aggregator_metrics(void *arg, report_buf_t *out)
{
    report_aggregator_stats_t *st = report_malloc(sizeof *st);
    report_aggregator_stats(arg, st);
    const struct {
        const char *name, *type, *help;
        double value;
    } plain[] = {
        {"report_aggregator_reports_compiled_total", "counter", "Drafts compiled.",
         (double)st->compiled},
        {"report_aggregator_reports_published_total", "counter", "Report versions published.",
         (double)st->published},
        {"report_aggregator_last_publication_sequence", "gauge",
         "Sequence number of the last publication.", (double)st->last_seq},
        {"report_aggregator_subscribers_connected", "gauge",
         "Subscriber connections open on the PUB socket.", (double)st->subscribers},
        {"report_aggregator_catchup_requests_total", "counter", "Catch-up requests served.",
         (double)st->catchup_requests},
        {"report_aggregator_refused_requests_total", "counter",
         "Control or catch-up requests refused.", (double)st->refused_requests},
        {"report_aggregator_database_up", "gauge", "1 if the database connection is up.",
         st->db_up ? 1 : 0},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        report_metrics_family(out, plain[i].name, plain[i].type, plain[i].help);
        report_metrics_sample(out, plain[i].name, "", plain[i].value);
    }
    s_connection_metrics(out, "report_aggregator", &st->pub, &st->catchup,
                         st->keyring_reload_failures);
    report_metrics_histogram(out, "report_aggregator_compile_seconds", "Time to compile a report.",
                             &st->compile_seconds);
    char labels[256], unit[96];
    if (st->period[0]) {
        report_metrics_family(out, "report_unit_reported", "gauge",
                              "1 if the unit has pushed anything for the period watched.");
        for (size_t i = 0; i < st->unit_count; i++) {
            snprintf(labels, sizeof labels, "unit=\"%s\",period=\"%s\"",
                     report_metrics_label(st->units[i].code, unit, sizeof unit), st->period);
            report_metrics_sample(out, "report_unit_reported", labels,
                                  st->units[i].reported ? 1 : 0);
        }
        report_metrics_family(out, "report_period_deadline_timestamp_seconds", "gauge",
                              "End of the deadline day of the period watched.");
        snprintf(labels, sizeof labels, "period=\"%s\"", st->period);
        report_metrics_sample(out, "report_period_deadline_timestamp_seconds", labels,
                              (double)st->deadline_ms / 1000.0);
    }
    free(st);
}

static void s_aggregator_sample(void *arg, report_sample_t *s)
{
    report_aggregator_stats_t *st = report_malloc(sizeof *st);
    report_aggregator_stats(arg, st);
    size_t late = 0;
    for (size_t i = 0; i < st->unit_count; i++)
        late += !st->units[i].reported;
    s->queue_name = "units not reported";
    s->depth = (double)late;
    s->limit = (double)st->unit_count;
    s->counter_count = 3;
    s->counter_names[0] = "published";
    s->counters[0] = (double)st->published;
    s->counter_names[1] = "compiled";
    s->counters[1] = (double)st->compiled;
    s->counter_names[2] = "catchup";
    s->counters[2] = (double)st->catchup_requests;
    free(st);
}

static void s_aggregator_status(void *arg, json_t *o)
{
    report_aggregator_stats_t *st = report_malloc(sizeof *st);
    report_aggregator_stats(arg, st);
    json_t *a = json_object();
    json_object_set_new(a, "database_up", json_boolean(st->db_up));
    json_object_set_new(a, "subscribers", json_integer((json_int_t)st->subscribers));
    if (st->last_seq) {
        json_t *last = json_object();
        char period[16];
        snprintf(period, sizeof period, "%04d-%02d", st->last_year % 10000, st->last_month % 100);
        json_object_set_new(last, "agency", json_string(st->last_agency));
        json_object_set_new(last, "period", json_string(period));
        json_object_set_new(last, "version", json_integer(st->last_version));
        json_object_set_new(last, "number", json_integer(st->last_number));
        json_object_set_new(last, "seq", json_integer((json_int_t)st->last_seq));
        json_object_set_new(last, "published_at", json_real((double)st->last_published_ms / 1e3));
        json_object_set_new(a, "last_published", last);
    } else {
        json_object_set_new(a, "last_published", json_null());
    }
    json_object_set_new(a, "period", json_string(st->period));
    json_object_set_new(a, "deadline", json_string(st->deadline));
    json_t *late = json_array();
    for (size_t i = 0; i < st->unit_count; i++) {
        if (st->units[i].reported)
            continue;
        json_t *u = json_object();
        json_object_set_new(u, "unit", json_string(st->units[i].code));
        json_object_set_new(u, "name", json_string(st->units[i].name));
        json_array_append_new(late, u);
    }
    json_object_set_new(a, "late_units", late);
    json_object_set_new(o, "aggregator", a);
    free(st);
}

static bool s_aggregator_ready(void *arg, char *why, size_t size)
{
    report_aggregator_stats_t *st = report_malloc(sizeof *st);
    report_aggregator_stats(arg, st);
    bool ready = st->db_up;
    if (!ready)
        snprintf(why, size, "database unreachable");
    free(st);
    return ready;
}

report_http_t *report_ops_aggregator(report_aggregator_t *aggregator,
                                     const report_http_config_t *cfg)
{
    report_http_handlers_t h = {"aggregator",        s_aggregator_metrics, s_aggregator_sample,
                                s_aggregator_status, s_aggregator_ready,   aggregator};
    return report_http_start(cfg, &h);
}
