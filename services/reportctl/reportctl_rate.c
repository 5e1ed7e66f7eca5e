/* The reporting rate in reportctl status: the table of one period (asked of the aggregator
 * over its control socket with --period, or the watched period from /status.json) and a line
 * per period of the last ones. Both come as the JSON object of report_rate.h. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_log.h"
#include "report_push.h"
#include "report_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_str(json_t *o, const char *key, const char *absent)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : absent;
}

static double s_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* "on_time" as people read it. */
static const char *s_state_words(const char *state)
{
    return strcmp(state, "on_time") == 0 ? "on time" : state;
}

/* The figures of one period on one line, DHIS2's two rates first. */
static void s_print_totals(json_t *period)
{
    printf("reporting rate %s: %.1f %% (%.0f of %.0f units reported), on time %.1f %%; "
           "on time %.0f, late %.0f (%.1f %%), missing %.0f (%.1f %%)\n",
           s_str(period, "period", "?"), s_num(period, "reporting_rate_pct"),
           s_num(period, "reported"), s_num(period, "expected"), s_num(period, "on_time_pct"),
           s_num(period, "on_time"), s_num(period, "late"), s_num(period, "late_pct"),
           s_num(period, "missing"), s_num(period, "missing_pct"));
}

void reportctl_rate_print(json_t *period, const char *time_zone)
{
    s_print_totals(period);
    printf("deadline %s, to the end of the day in %s (%s)\n", s_str(period, "deadline", "?"),
           time_zone, json_is_true(json_object_get(period, "open")) ? "not passed yet" : "passed");
    printf("%-14s %-8s %-20s %-11s %s\n", "UNIT", "STATE", "FIRST COMMIT", "DEADLINE", "NAME");
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(period, "units"), i, u)
    {
        printf("%-14s %-8s %-20s %-11s %s\n", s_str(u, "unit", "?"),
               s_state_words(s_str(u, "state", "?")), s_str(u, "first_commit", "-"),
               s_str(u, "deadline", "?"), s_str(u, "name", ""));
    }
    double more = s_num(period, "units_not_listed");
    if (more > 0)
        printf("(%.0f more units counted, not listed)\n", more);
}

void reportctl_rate_summary(json_t *rate)
{
    if (!json_is_object(rate))
        return;
    const char *error = s_str(rate, "error", NULL);
    if (error)
        printf("\nreporting rate: not looked up: %s\n", error);
    json_t *periods = json_object_get(rate, "periods");
    if (json_array_size(periods) == 0)
        return;
    printf("\n");
    reportctl_rate_print(json_array_get(periods, 0), s_str(rate, "time_zone", "?"));
    size_t i;
    json_t *p;
    json_array_foreach(periods, i, p)
    {
        if (i > 0)
            s_print_totals(p);
    }
}

int reportctl_rate_ask(const char *endpoints, const report_client_keys_t *keys, int year, int month,
                       int64_t timeout_ms)
{
    report_control_request_t req = {.kind = REPORT_CONTROL_RATE, .year = year, .month = month};
    report_control_reply_t reply;
    char *list = report_strdup(endpoints), *save = NULL;
    int rc = -1;
    /* read-only: any aggregator answers, the standby too */
    for (char *e = strtok_r(list, ",", &save); e && rc != 0; e = strtok_r(NULL, ",", &save)) {
        rc = report_control_call(e, keys, &req, &reply, timeout_ms);
        if (rc != 0)
            log_warn("no answer from the aggregator, trying the next", "endpoint=%s", e);
    }
    free(list);
    if (rc != 0) {
        fprintf(stderr, "error: no answer from the aggregator at %s\n", endpoints);
        return 1;
    }
    int exit_code = 0;
    json_error_t err;
    json_t *period = reply.ok ? json_loads(reply.body, 0, &err) : NULL;
    if (!reply.ok) {
        fprintf(stderr, "error: %s: %s\n", reply.error_code, reply.message);
        exit_code = 1;
    } else if (!json_is_object(period)) {
        fprintf(stderr, "error: the aggregator's answer is not a reporting rate\n");
        exit_code = 1;
    } else {
        reportctl_rate_print(period, s_str(period, "time_zone", "?"));
    }
    json_decref(period);
    report_control_reply_clear(&reply);
    return exit_code;
}
