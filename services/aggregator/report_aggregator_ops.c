/* The aggregator's ops view: its Prometheus metrics, its status for the status page and
 * reportctl status, and its readiness, from its thread-safe snapshot, served by report_http.
 * Names follow Prometheus conventions: snake_case, _total for counters, seconds and bytes. */
#define _GNU_SOURCE
#include "report_aggregator_ops.h"
#include "report_metrics.h"
#include "report_rate.h"
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_aggregator_metrics(const void *view, report_buf_t *out)
{
    const report_aggregator_stats_t *st = view;
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
        {"report_aggregator_leader", "gauge",
         "1 if this aggregator holds the leadership (it alone publishes), 0 on a standby.",
         st->leader ? 1 : 0},
        {"report_aggregator_leader_term", "gauge",
         "The leadership term this aggregator publishes under (0 on a standby).",
         (double)st->leader_term},
        {"report_aggregator_leader_changes_total", "counter",
         "Times this aggregator took the leadership.", (double)st->leader_changes},
        {"report_aggregator_leader_losses_total", "counter",
         "Times this aggregator lost the leadership (its session, or fenced).",
         (double)st->leader_losses},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        report_metrics_family(out, plain[i].name, plain[i].type, plain[i].help);
        report_metrics_sample(out, plain[i].name, "", plain[i].value);
    }
    report_metrics_db_where(out, "report_aggregator", &st->db_where);
    report_metrics_connections(out, "report_aggregator", &st->pub, &st->catchup,
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
    report_rate_metrics(&st->rate, out);
    report_metrics_family(out, "report_aggregator_undelivered_versions", "gauge",
                          "Publications an enrolled recipient has not received (saved) yet.");
    for (size_t i = 0; i < st->recipient_count; i++) {
        snprintf(labels, sizeof labels, "recipient=\"%s\"",
                 report_metrics_label(st->recipients[i].name, unit, sizeof unit));
        report_metrics_sample(out, "report_aggregator_undelivered_versions", labels,
                              (double)st->recipients[i].undelivered);
    }
}

static void s_aggregator_sample(const void *view, report_sample_t *s)
{
    const report_aggregator_stats_t *st = view;
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
}

static void s_aggregator_status(const void *view, json_t *o)
{
    const report_aggregator_stats_t *st = view;
    json_t *a = json_object();
    json_object_set_new(a, "database_up", json_boolean(st->db_up));
    json_object_set_new(a, "subscribers", json_integer((json_int_t)st->subscribers));
    report_http_status_db_where(a, &st->db_where);
    json_object_set_new(a, "role", json_string(st->leader ? "leader" : "standby"));
    json_object_set_new(a, "leader", json_string(st->leader_holder));
    json_object_set_new(a, "leader_term", json_integer((json_int_t)st->leader_term));
    json_object_set_new(a, "leader_since_ms", json_integer((json_int_t)st->leader_since_ms));
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
    json_t *recipients = json_array();
    for (size_t i = 0; i < st->recipient_count; i++) {
        const report_recipient_state_t *r = &st->recipients[i];
        json_t *j = json_object();
        json_object_set_new(j, "name", json_string(r->name));
        json_object_set_new(j, "acked_seq", json_integer((json_int_t)r->acked_seq));
        json_object_set_new(j, "undelivered", json_integer((json_int_t)r->undelivered));
        json_object_set_new(j, "has_latest",
                            json_boolean(st->last_seq && r->acked_seq >= st->last_seq));
        json_array_append_new(recipients, j);
    }
    json_object_set_new(a, "recipients", recipients);
    json_object_set_new(a, "reporting_rate", report_rate_json(&st->rate));
    json_object_set_new(o, "aggregator", a);
}

static bool s_aggregator_ready(const void *view, char *why, size_t size)
{
    const report_aggregator_stats_t *st = view;
    bool ready = st->db_up;
    if (!ready)
        snprintf(why, size, "database unreachable");
    return ready;
}

static void s_snapshot(void *aggregator, void *view)
{
    report_aggregator_stats(aggregator, view);
}

report_http_t *report_aggregator_ops_start(report_aggregator_t *aggregator,
                                           const report_http_config_t *cfg)
{
    report_http_handlers_t h = {"aggregator",
                                s_aggregator_metrics,
                                s_aggregator_sample,
                                s_aggregator_status,
                                s_aggregator_ready,
                                aggregator,
                                sizeof(report_aggregator_stats_t),
                                s_snapshot};
    return report_http_start(cfg, &h);
}
