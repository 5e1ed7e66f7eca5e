/* reportctl status [--watch]: one screen for the whole pipeline, from the services'
 * /status.json; exit 3 when a service is down. reportctl status --period YYYY-MM: that
 * period's reporting rate, asked of the aggregator (reportctl_rate.c). */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_http.h"
#include "report_period.h"
#include "report_service.h"
#include "report_util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *services;
    bool watch;
    int64_t interval_ms;
    int64_t timeout_ms;
    char *period;           /* the reporting rate of this period only, from the aggregator */
    char *control_endpoint; /* ... asked there */
    reportctl_curve_t curve;
} s_status_config_t;

#define F(field) offsetof(s_status_config_t, field)
const report_setting_t reportctl_status_settings[] = {
    {"services", REPORT_SETTING_STRING,
     "http://127.0.0.1:9570,http://127.0.0.1:9571,http://127.0.0.1:9572", F(services), 0, 0,
     "base URLs of the services' metrics endpoints"},
    {"watch", REPORT_SETTING_BOOL, "false", F(watch), 0, 0, "refresh until interrupted"},
    {"interval-ms", REPORT_SETTING_INT, "2000", F(interval_ms), 200, 3600000,
     "refresh interval with --watch"},
    {"timeout-ms", REPORT_SETTING_INT, "2000", F(timeout_ms), 100, 60000,
     "a service that does not answer in time is shown DOWN"},
    {"period", REPORT_SETTING_STRING, "", F(period), 0, 0,
     "YYYY-MM: print only the reporting rate of that period (on time, late, missing per "
     "unit), asked of the aggregator's control socket (--key: an operator's); from the command "
     "line only (subscribe --exec sets REPORT_PERIOD for its command)"},
    {"control-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5574", F(control_endpoint), 0, 0,
     "with --period: the aggregator control endpoint (a comma-separated list: tried in turn)"},
    REPORT_SETTINGS_INCLUDE(reportctl_curve_settings, F(curve)),
    REPORT_SETTINGS_END};
#undef F

static double s_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static const char *s_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* One screen for the whole pipeline; returns the number of services down. */
/* Who has received the last publication (saved it) and who has not, with how many
 * publications each still lacks. */
static void s_print_recipients(json_t *recipients)
{
    size_t i;
    json_t *r;
    int pass;
    for (pass = 0; pass < 2; pass++) {
        printf(pass ? "not yet received by:" : "last publication received by:");
        size_t shown = 0;
        json_array_foreach(recipients, i, r)
        {
            if (json_is_true(json_object_get(r, "has_latest")) != (pass == 0))
                continue;
            printf("%s %s", shown++ ? "," : "", s_str(r, "name"));
            if (pass)
                printf(" (%.0f undelivered)", s_num(r, "undelivered"));
        }
        printf("%s\n", shown ? "" : " none");
    }
}

/* Which database server a service is on, and its last failover. */
static void s_print_db_where(json_t *o)
{
    double failovers = s_num(o, "database_failovers");
    double last_ms = s_num(o, "database_last_failover_ms");
    printf("database server: %s, failovers %.0f",
           *s_str(o, "database_server") ? s_str(o, "database_server") : "none", failovers);
    if (last_ms > 0) {
        time_t t = (time_t)(last_ms / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
        printf(", last %s", when);
    }
    printf("\n");
}

/* The details of one service's status: refusals, store, last publication, late units. */
static void s_status_details(json_t *doc)
{
    json_t *refusals = json_object_get(doc, "refusals");
    if (json_is_object(refusals) && json_object_size(refusals)) {
        printf("\nrefusals by reason:");
        const char *k;
        json_t *v;
        json_object_foreach(refusals, k, v)
        {
            printf(" %s=%lld", k, (long long)json_integer_value(v));
        }
        printf("\n");
    }
    json_t *st = json_object_get(doc, "store");
    if (json_is_object(st)) {
        printf("\nstore: database %s, %.0f waiting, lag %.1f s, last commit %.1f s ago\n",
               json_is_true(json_object_get(st, "database_up")) ? "up" : "DOWN",
               s_num(st, "waiting"), s_num(st, "lag_seconds"),
               s_num(st, "last_commit_age_seconds"));
        s_print_db_where(st);
    }
    json_t *agg = json_object_get(doc, "aggregator");
    if (json_is_object(agg)) {
        printf("\naggregator: %s (leader %s, term %.0f)\n", s_str(agg, "role"),
               s_str(agg, "leader"), s_num(agg, "leader_term"));
        s_print_db_where(agg);
        json_t *last = json_object_get(agg, "last_published");
        if (json_is_object(last))
            printf("\nlast published: %s %s version %.0f number %.0f (seq %.0f)\n",
                   s_str(last, "agency"), s_str(last, "period"), s_num(last, "version"),
                   s_num(last, "number"), s_num(last, "seq"));
        else
            printf("\nlast published: none\n");
        json_t *late = json_object_get(agg, "late_units");
        printf("late units for %s (deadline %s):", s_str(agg, "period"), s_str(agg, "deadline"));
        size_t i2;
        json_t *u;
        json_array_foreach(late, i2, u)
            printf("%s %s (%s)", i2 ? "," : "", s_str(u, "unit"), s_str(u, "name"));
        printf("%s\n", json_array_size(late) ? "" : " none");
        s_print_recipients(json_object_get(agg, "recipients"));
        reportctl_rate_summary(json_object_get(agg, "reporting_rate"));
    }
}

static int s_status_once(const s_status_config_t *cfg)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    printf("report pipeline status  %s\n\n", when);
    printf("%-11s %-5s %-24s %-26s %s\n", "SERVICE", "STATE", "READY", "QUEUE", "RATE/MIN");
    int down = 0;
    json_t *docs[8] = {0};
    char *list = report_strdup(cfg->services);
    char *save = NULL;
    int n = 0;
    for (char *url = strtok_r(list, ", ", &save); url && n < 8; url = strtok_r(NULL, ", ", &save)) {
        char *full = report_sprintf("%s/status.json", url);
        int code = 0;
        char *body = report_http_get(full, (int)cfg->timeout_ms, &code);
        free(full);
        json_error_t err;
        json_t *doc = body && code == 200 ? json_loads(body, 0, &err) : NULL;
        free(body);
        if (!json_is_object(doc)) {
            printf("%-11s %-5s %s\n", url, "DOWN", "(no answer)");
            json_decref(doc);
            down++;
            continue;
        }
        docs[n++] = doc;
        json_t *q = json_object_get(doc, "queue");
        char queue[64], ready[64];
        snprintf(queue, sizeof queue, "%s %.0f/%.0f", s_str(q, "name"), s_num(q, "depth"),
                 s_num(q, "limit"));
        bool is_ready = json_is_true(json_object_get(doc, "ready"));
        snprintf(ready, sizeof ready, "%s%s%s", is_ready ? "yes" : "NO", is_ready ? "" : ": ",
                 s_str(doc, "ready_reason"));
        printf("%-11s %-5s %-24.24s %-26s", s_str(doc, "service"), "UP", ready, queue);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(doc, "rates_per_minute"), k, v)
            printf(" %s %.1f", k, json_number_value(v));
        printf("\n");
    }
    free(list);
    for (int i = 0; i < n; i++) {
        s_status_details(docs[i]);
        json_decref(docs[i]);
    }
    fflush(stdout);
    return down;
}

/* True if the command line names --period: REPORT_PERIOD in the environment is the period of
 * a report subscribe --exec runs a command for, not a wish for this screen. */
static bool s_period_given(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--period") == 0 || strncmp(argv[i], "--period=", 9) == 0)
            return true;
    return false;
}

/* status --period YYYY-MM: that period's reporting rate, from the aggregator. */
static int s_rate_only(s_status_config_t *cfg)
{
    int year, month, rc = 2;
    report_client_keys_t keys;
    if (report_period_parse(cfg->period, &year, &month) != 0)
        fprintf(stderr, "reportctl status: --period must be YYYY-MM (a year 2000-2100)\n");
    else if (reportctl_curve_keys(&cfg->curve, "status", &keys) == 0) {
        report_service_logging("reportctl", cfg->curve.log_level);
        rc = reportctl_rate_ask(cfg->control_endpoint, &keys, year, month, cfg->timeout_ms);
        memset(&keys, 0, sizeof keys);
    }
    report_settings_free(reportctl_status_settings, cfg);
    return rc;
}

int reportctl_status(int argc, char **argv)
{
    s_status_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_status_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc != 0 || nargs != 0) {
        report_settings_usage(reportctl_status_settings, rc == 1 ? stdout : stderr);
        report_settings_free(reportctl_status_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    if (cfg.period[0] && s_period_given(argc, argv))
        return s_rate_only(&cfg);
    int down;
    do {
        if (cfg.watch)
            printf("\033[H\033[2J");
        down = s_status_once(&cfg);
        if (cfg.watch && !report_service_stop)
            usleep((useconds_t)cfg.interval_ms * 1000);
    } while (cfg.watch && !report_service_stop);
    report_settings_free(reportctl_status_settings, &cfg);
    return down ? 3 : 0;
}
