/* Reporting rate, as DHIS2 counts it: for each period and each active unit (the units
 * expected to report), whether the unit's first update for the period was committed by the
 * deadline (on time), after it (late) or not at all (missing). "Reporting rate" is reported /
 * expected, "reporting rate on time" on time / expected.
 *
 * The deadline is the end of the day deadline_day (report_templates, the unit's agency) of
 * the period's month, in one named time zone (the aggregator's deadline-time-zone setting,
 * Asia/Ho_Chi_Minh by default): a first commit before 00:00:00 of the next day in that zone is
 * on time. The commit time is updates.received_at, the time of the store's transaction. The
 * comparison is made by PostgreSQL, to the microsecond, with its time-zone database. */
#ifndef REPORT_RATE_H
#define REPORT_RATE_H

#include "report_db.h"
#include "report_published.h"
#include "report_util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The periods one look-up covers at most: the watched period and up to 12 before it (the
 * rate-periods setting is bounded by REPORT_RATE_MAX_PERIODS - 1). */
#define REPORT_RATE_MAX_PERIODS 13
/* Units listed per period (the first ones by position); the totals count every active unit.
 * As many as the late-units watch lists (REPORT_MAX_WATCHED_UNITS). */
#define REPORT_RATE_MAX_UNITS 64

typedef enum {
    REPORT_RATE_MISSING = 0, /* nothing committed for the period */
    REPORT_RATE_LATE = 1,    /* the first commit after the deadline */
    REPORT_RATE_ON_TIME = 2  /* the first commit by the end of the deadline day */
} report_rate_state_t;

/* One unit in one period. */
typedef struct {
    uint8_t state;           /* report_rate_state_t */
    char first_commit[20];   /* "YYYY-MM-DD HH:MM:SS" in the deadline's zone; "" if missing */
    int64_t first_commit_ms; /* Unix time in ms; 0 if missing */
    char deadline[11];       /* "YYYY-MM-DD": the last day that is on time */
} report_rate_entry_t;

typedef struct {
    int year, month;
    char deadline[11]; /* of the first unit listed ("" without units) */
    int64_t due_ms;    /* the first instant that is late (Unix ms), of the same unit */
    bool open;         /* the deadline has not passed yet (database clock) */
    uint32_t expected, on_time, late, missing;
    report_rate_entry_t units[REPORT_RATE_MAX_UNITS]; /* as report_rate_t.codes */
} report_rate_period_t;

typedef struct {
    char time_zone[64]; /* the zone of the deadlines and of first_commit */
    char error[200];    /* why the last look-up failed; "" after one that worked */
    size_t unit_count;  /* units listed: min(active units, REPORT_RATE_MAX_UNITS) */
    char codes[REPORT_RATE_MAX_UNITS][40];
    char names[REPORT_RATE_MAX_UNITS][160];
    size_t period_count; /* periods[0] the newest */
    report_rate_period_t periods[REPORT_RATE_MAX_PERIODS];
} report_rate_t;

/* "missing", "late", "on_time" (the metric's and the JSON's words). */
const char *report_rate_state_name(report_rate_state_t state);

/* Looks up count periods (1..REPORT_RATE_MAX_PERIODS), (year, month) and those before it,
 * into *out, deadlines in time_zone. 0, or -1 with out->error set and the database's SQLSTATE
 * kept in db (22023: a time zone PostgreSQL does not know). */
int report_rate_load(report_db_t *db, const char *time_zone, int year, int month, size_t count,
                     report_rate_t *out);

/* The rate as JSON: {"time_zone", "periods": [one object per period, newest first]} (or
 * {"error"} after a failed look-up, {"periods": []} before the first). Caller owns it. */
json_t *report_rate_json(const report_rate_t *rate);
/* One period as JSON: period, deadline, due_at (Unix s), open, expected, reported, on_time,
 * late, missing, reporting_rate_pct, on_time_pct, late_pct, missing_pct, and units: [{unit,
 * name, state, first_commit, deadline}]. Caller owns it. */
json_t *report_rate_period_json(const report_rate_t *rate, size_t index);

/* The metrics report_unit_reporting_state{unit,period} (0 missing, 1 late, 2 on time),
 * report_reporting_rate_ratio{period,state} (on_time, late, missing: each / expected; no
 * sample for a period that expects nobody) and report_reporting_expected_units{period}. */
void report_rate_metrics(const report_rate_t *rate, report_buf_t *out);

/* The answer to a control request REPORT_CONTROL_RATE: *reply filled, ok with the period as
 * JSON in body (report_rate_period_json plus time_zone), or refused (bad_period,
 * bad_time_zone, db_error, db_retry). Returns -1 if the database failed (the caller checks its
 * connection), else 0. */
int report_rate_answer(report_db_t *db, const char *time_zone, const report_control_request_t *req,
                       report_control_reply_t *reply);

#endif
