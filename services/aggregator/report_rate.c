/* Reporting rate per period and unit: one query for every period asked (PostgreSQL compares
 * the first commit with the deadline in the named zone), then JSON, metrics and the answer to
 * a control request from the result. */
#define _GNU_SOURCE
#include "report_rate.h"
#include "report_metrics.h"
#include "report_period.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every active unit for every period asked: its deadline day (its agency's template; 15, the
 * column's default, for an agency without one), the first instant that is late (the start of
 * the next day in zone $3), its state, and its first commit for the period. Ordered as the
 * periods were given, then as the units are in the agency. */
static const char *S_RATE_SQL =
    "SELECT p.i, u.code, u.name, to_char(d.day, 'YYYY-MM-DD'),"
    " (extract(epoch FROM d.due) * 1000)::bigint,"
    " CASE WHEN f.first IS NULL THEN 0 WHEN f.first < d.due THEN 2 ELSE 1 END,"
    " coalesce(to_char(f.first AT TIME ZONE $3, 'YYYY-MM-DD HH24:MI:SS'), ''),"
    " coalesce(floor(extract(epoch FROM f.first) * 1000)::bigint, 0), now() < d.due"
    " FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS p(y, m, i)"
    " CROSS JOIN units u LEFT JOIN report_templates t ON t.agency_code = u.agency_code"
    " CROSS JOIN LATERAL (SELECT make_date(p.y, p.m, coalesce(t.deadline_day, 15)) AS day) dd"
    " CROSS JOIN LATERAL (SELECT dd.day, (dd.day + 1)::timestamp AT TIME ZONE $3 AS due) d"
    " LEFT JOIN LATERAL (SELECT min(x.received_at) AS first FROM updates x"
    " WHERE x.year = p.y AND x.month = p.m AND x.unit_code = u.code) f ON true"
    " WHERE u.active ORDER BY p.i, u.position, u.code";

const char *report_rate_state_name(report_rate_state_t state)
{
    switch (state) {
    case REPORT_RATE_ON_TIME:
        return "on_time";
    case REPORT_RATE_LATE:
        return "late";
    default:
        return "missing";
    }
}

typedef struct {
    report_rate_t *rate;
    size_t period; /* the period of the last row */
    size_t listed; /* units of that period seen so far */
} s_load_t;

static void s_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static int s_rate_row(void *arg, const PGresult *res, int row)
{
    s_load_t *l = arg;
    long i = strtol(PQgetvalue(res, row, 0), NULL, 10) - 1;
    if (i < 0 || (size_t)i >= l->rate->period_count)
        return 0;
    if ((size_t)i != l->period) {
        l->period = (size_t)i;
        l->listed = 0;
    }
    report_rate_period_t *p = &l->rate->periods[i];
    report_rate_state_t state = (report_rate_state_t)atoi(PQgetvalue(res, row, 5));
    p->expected++;
    p->on_time += state == REPORT_RATE_ON_TIME;
    p->late += state == REPORT_RATE_LATE;
    p->missing += state == REPORT_RATE_MISSING;
    if (l->listed == 0) {
        s_copy(p->deadline, sizeof p->deadline, PQgetvalue(res, row, 3));
        p->due_ms = strtoll(PQgetvalue(res, row, 4), NULL, 10);
        p->open = PQgetvalue(res, row, 8)[0] == 't';
    }
    if (l->listed >= REPORT_RATE_MAX_UNITS)
        return 0;
    if (i == 0) {
        s_copy(l->rate->codes[l->listed], sizeof l->rate->codes[0], PQgetvalue(res, row, 1));
        s_copy(l->rate->names[l->listed], sizeof l->rate->names[0], PQgetvalue(res, row, 2));
        l->rate->unit_count = l->listed + 1;
    }
    report_rate_entry_t *e = &p->units[l->listed++];
    e->state = (uint8_t)state;
    s_copy(e->first_commit, sizeof e->first_commit, PQgetvalue(res, row, 6));
    e->first_commit_ms = strtoll(PQgetvalue(res, row, 7), NULL, 10);
    s_copy(e->deadline, sizeof e->deadline, PQgetvalue(res, row, 3));
    return 0;
}

int report_rate_load(report_db_t *db, const char *time_zone, int year, int month, size_t count,
                     report_rate_t *out)
{
    memset(out, 0, sizeof *out);
    s_copy(out->time_zone, sizeof out->time_zone, time_zone);
    if (count < 1)
        count = 1;
    if (count > REPORT_RATE_MAX_PERIODS)
        count = REPORT_RATE_MAX_PERIODS;
    /* "{2018,2018,...}" and "{7,6,...}": integers we print, never text from outside */
    char years[16 * REPORT_RATE_MAX_PERIODS + 2] = "{",
                                              months[4 * REPORT_RATE_MAX_PERIODS + 2] = "{";
    for (size_t i = 0; i < count; i++) {
        out->periods[i].year = year;
        out->periods[i].month = month;
        snprintf(years + strlen(years), sizeof years - strlen(years), "%s%d", i ? "," : "", year);
        snprintf(months + strlen(months), sizeof months - strlen(months), "%s%d", i ? "," : "",
                 month);
        year = month == 1 ? year - 1 : year;
        month = month == 1 ? 12 : month - 1;
    }
    strcat(years, "}");
    strcat(months, "}");
    out->period_count = count;
    const char *params[] = {years, months, time_zone};
    s_load_t l = {out, 0, 0};
    if (report_db_query(db, S_RATE_SQL, 3, params, s_rate_row, &l) != 0) {
        char keep[sizeof out->time_zone];
        s_copy(keep, sizeof keep, out->time_zone);
        memset(out, 0, sizeof *out);
        s_copy(out->time_zone, sizeof out->time_zone, keep);
        s_copy(out->error, sizeof out->error, report_db_error(db));
        return -1;
    }
    return 0;
}

/* n of expected, in percent to one decimal (DHIS2 shows one); 0 when nobody is expected. */
static double s_pct(uint32_t n, uint32_t expected)
{
    return expected ? round(1000.0 * n / expected) / 10.0 : 0.0;
}

static json_t *s_unit_json(const report_rate_t *rate, const report_rate_entry_t *e, size_t u)
{
    json_t *o = json_object();
    json_object_set_new(o, "unit", json_string(rate->codes[u]));
    json_object_set_new(o, "name", json_string(rate->names[u]));
    json_object_set_new(o, "state", json_string(report_rate_state_name(e->state)));
    json_object_set_new(o, "first_commit",
                        e->first_commit[0] ? json_string(e->first_commit) : json_null());
    json_object_set_new(o, "first_commit_at",
                        e->first_commit[0] ? json_real((double)e->first_commit_ms / 1e3)
                                           : json_null());
    json_object_set_new(o, "deadline", json_string(e->deadline));
    return o;
}

json_t *report_rate_period_json(const report_rate_t *rate, size_t index)
{
    const report_rate_period_t *p = &rate->periods[index];
    char period[16];
    snprintf(period, sizeof period, "%04d-%02d", p->year % 10000, p->month % 100);
    json_t *o = json_object();
    json_object_set_new(o, "period", json_string(period));
    json_object_set_new(o, "deadline", json_string(p->deadline));
    json_object_set_new(o, "due_at", json_real((double)p->due_ms / 1e3));
    json_object_set_new(o, "open", json_boolean(p->open));
    json_object_set_new(o, "expected", json_integer(p->expected));
    json_object_set_new(o, "reported", json_integer(p->on_time + p->late));
    json_object_set_new(o, "on_time", json_integer(p->on_time));
    json_object_set_new(o, "late", json_integer(p->late));
    json_object_set_new(o, "missing", json_integer(p->missing));
    json_object_set_new(o, "reporting_rate_pct",
                        json_real(s_pct(p->on_time + p->late, p->expected)));
    json_object_set_new(o, "on_time_pct", json_real(s_pct(p->on_time, p->expected)));
    json_object_set_new(o, "late_pct", json_real(s_pct(p->late, p->expected)));
    json_object_set_new(o, "missing_pct", json_real(s_pct(p->missing, p->expected)));
    json_t *units = json_array();
    for (size_t u = 0; u < rate->unit_count; u++)
        json_array_append_new(units, s_unit_json(rate, &p->units[u], u));
    json_object_set_new(o, "units", units);
    json_object_set_new(o, "units_not_listed",
                        json_integer(p->expected > rate->unit_count
                                         ? (json_int_t)(p->expected - rate->unit_count)
                                         : 0));
    return o;
}

json_t *report_rate_json(const report_rate_t *rate)
{
    json_t *o = json_object();
    json_object_set_new(o, "time_zone", json_string(rate->time_zone));
    if (rate->error[0])
        json_object_set_new(o, "error", json_string(rate->error));
    json_t *periods = json_array();
    for (size_t i = 0; i < rate->period_count; i++)
        json_array_append_new(periods, report_rate_period_json(rate, i));
    json_object_set_new(o, "periods", periods);
    return o;
}

void report_rate_metrics(const report_rate_t *rate, report_buf_t *out)
{
    char labels[256], unit[96], period[16];
    report_metrics_family(out, "report_unit_reporting_state", "gauge",
                          "0 if the unit has committed nothing for the period, 1 if its first "
                          "commit was after the deadline, 2 if by the deadline.");
    for (size_t i = 0; i < rate->period_count; i++) {
        const report_rate_period_t *p = &rate->periods[i];
        snprintf(period, sizeof period, "%04d-%02d", p->year % 10000, p->month % 100);
        for (size_t u = 0; u < rate->unit_count; u++) {
            snprintf(labels, sizeof labels, "unit=\"%s\",period=\"%s\"",
                     report_metrics_label(rate->codes[u], unit, sizeof unit), period);
            report_metrics_sample(out, "report_unit_reporting_state", labels, p->units[u].state);
        }
    }
    report_metrics_family(out, "report_reporting_rate_ratio", "gauge",
                          "Share of the units expected for the period (the active ones) whose "
                          "report is on time, late or missing; reported = on_time + late.");
    for (size_t i = 0; i < rate->period_count; i++) {
        const report_rate_period_t *p = &rate->periods[i];
        if (!p->expected)
            continue;
        snprintf(period, sizeof period, "%04d-%02d", p->year % 10000, p->month % 100);
        const uint32_t n[3] = {p->missing, p->late, p->on_time};
        for (int s = REPORT_RATE_ON_TIME; s >= REPORT_RATE_MISSING; s--) {
            snprintf(labels, sizeof labels, "period=\"%s\",state=\"%s\"", period,
                     report_rate_state_name((report_rate_state_t)s));
            report_metrics_sample(out, "report_reporting_rate_ratio", labels,
                                  (double)n[s] / p->expected);
        }
    }
    report_metrics_family(out, "report_reporting_expected_units", "gauge",
                          "Units expected to report for the period (the active units).");
    for (size_t i = 0; i < rate->period_count; i++) {
        const report_rate_period_t *p = &rate->periods[i];
        snprintf(labels, sizeof labels, "period=\"%04d-%02d\"", p->year % 10000, p->month % 100);
        report_metrics_sample(out, "report_reporting_expected_units", labels, p->expected);
    }
}

static int s_refuse(report_control_reply_t *reply, const char *code, const char *message)
{
    reply->ok = false;
    reply->error_code = report_strdup(code);
    reply->message = report_strdup(message);
    return 0;
}

int report_rate_answer(report_db_t *db, const char *time_zone, const report_control_request_t *req,
                       report_control_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    if (req->year < REPORT_YEAR_MIN || req->year > REPORT_YEAR_MAX || req->month < 1 ||
        req->month > 12)
        return s_refuse(reply, "bad_period", "the period must be YYYY-MM, a year 2000-2100");
    report_rate_t *rate = report_malloc(sizeof *rate);
    int rc = 0;
    if (report_rate_load(db, time_zone, req->year, req->month, 1, rate) != 0) {
        const char *state = report_db_sqlstate(db);
        char *message = report_sprintf("%s (deadline-time-zone \"%s\")", rate->error, time_zone);
        s_refuse(reply,
                 strcmp(state, "22023") == 0 ? "bad_time_zone"
                 : report_db_retryable(db)   ? "db_retry"
                                             : "db_error",
                 message);
        free(message);
        rc = -1;
    } else {
        json_t *o = report_rate_period_json(rate, 0);
        json_object_set_new(o, "time_zone", json_string(rate->time_zone));
        reply->ok = true;
        reply->body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
    free(rate);
    return rc;
}
