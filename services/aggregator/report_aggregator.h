/* The aggregator as a library object: compiles drafts on request, publishes frozen report
 * versions (stored first, then sent on a PUB socket with a sequence number) and answers
 * catch-up requests so that a subscriber never depends on PUB timing (Clone pattern). */
#ifndef REPORT_AGGREGATOR_H
#define REPORT_AGGREGATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "report_config.h"
#include "report_db.h"
#include "report_metrics.h"
#include "report_monitor.h"
#include "report_rate.h"
#include "report_server.h"

typedef struct {
    char *db;
    char *control_endpoint; /* reportctl compile/publish, e.g. "tcp://127.0.0.1:5574" */
    char *publish_endpoint; /* PUB, e.g. "tcp://0.0.0.0:5572" */
    char *catchup_endpoint; /* ROUTER, e.g. "tcp://0.0.0.0:5573" */
    char *desk_endpoint;    /* ROUTER for the units' desks (report_desk.h); "" = none */
    int64_t catchup_max;    /* reports per catch-up answer; the subscriber asks again */
    int64_t max_request_bytes;
    int64_t hwm;
    bool migrate;
    report_server_config_t server; /* keys (server.key, recipients/, operators/), bounds */
    char *status_period;     /* "YYYY-MM" whose late units are watched; "" = the current one */
    int64_t late_refresh_ms; /* how often late units are looked up */
    /* Session bounds (ms, 0: none): a publish waiting on a lock held by a stuck session, or
     * a statement that never ends, is answered (retryable) instead of holding the service. */
    int64_t lock_timeout_ms;
    int64_t statement_timeout_ms;
    int64_t idle_in_transaction_timeout_ms;
    char *ghostscript;        /* makes the published PDF a PDF/A-2b */
    int64_t pdf_timeout_ms;   /* Ghostscript (and pdfsig, pdftotext) are killed past this */
    char *signer_nssdb;       /* the agency's CA for signed PDFs ("": not required) */
    int64_t max_signed_bytes; /* largest signed PDF attach-signed takes */
    int64_t leader_check_ms;  /* the leadership is checked (or taken over) this often */
    char *instance_name;      /* in the leadership record; "" = HOSTNAME:PID */
    char *deadline_time_zone; /* the zone whose day ends the deadline (report_rate.h) */
    int64_t rate_periods;     /* periods before the watched one in the reporting rate */
} report_aggregator_config_t;

#define REPORT_MAX_WATCHED_UNITS 64
#define REPORT_MAX_RECIPIENTS 64

/* What one enrolled recipient has received: its receipt (the last publication it saved) and
 * how many publications it has not received yet. */
typedef struct {
    char name[64];
    uint64_t acked_seq;
    uint64_t undelivered;
} report_recipient_state_t;

typedef struct {
    char code[40];
    char name[160];
    bool reported;
} report_watched_unit_t;

typedef struct {
    uint64_t compiled;
    uint64_t published;
    uint64_t last_seq;
    uint64_t catchup_requests;
    uint64_t refused_requests;
    uint64_t handshakes_refused;
    bool db_up;
    report_db_where_t db_where; /* the database server the session is on, its failovers */
    /* leadership (report_leader.h): only the leader publishes */
    bool leader;
    int64_t leader_term;             /* while leader */
    int64_t leader_since_ms;         /* while leader */
    uint64_t leader_changes;         /* times this process became leader */
    uint64_t leader_losses;          /* times it lost the leadership */
    char leader_holder[128];         /* the leader as last read (this process's name when leader) */
    uint64_t subscribers;            /* PUB connections open (socket monitor) */
    report_monitor_counts_t pub;     /* the socket monitor of PUB */
    report_monitor_counts_t catchup; /* ... of catch-up */
    uint64_t keyring_reload_failures; /* recipients and operators keyrings */
    report_histogram_t compile_seconds;
    /* the last publication */
    char last_agency[40];
    int last_year, last_month, last_version, last_number;
    int64_t last_published_ms;
    /* who is late for the watched period */
    char period[16];     /* "YYYY-MM" */
    char deadline[16];   /* "YYYY-MM-DD" */
    int64_t deadline_ms; /* end of the deadline day, wall clock */
    report_watched_unit_t units[REPORT_MAX_WATCHED_UNITS];
    size_t unit_count;
    /* the enrolled recipients (the first REPORT_MAX_RECIPIENTS by name) and their receipts */
    report_recipient_state_t recipients[REPORT_MAX_RECIPIENTS];
    size_t recipient_count;
    /* the reporting rate of the watched period and rate_periods before it (report_rate.h) */
    report_rate_t rate;
} report_aggregator_stats_t;

typedef struct report_aggregator_t report_aggregator_t;

/* The settings of report_aggregator_config_t with their defaults and ranges: the program's table
 * includes it, and report_aggregator_config_default fills from it. */
extern const report_setting_t report_aggregator_settings[];
void report_aggregator_config_default(report_aggregator_config_t *cfg);
/* Binds its sockets and starts the aggregator thread; NULL if a socket cannot be bound. */
report_aggregator_t *report_aggregator_start(const report_aggregator_config_t *cfg);
void report_aggregator_stop(report_aggregator_t **self_p);
/* False once its thread has ended by itself (what the watchdog's keep-alive waits on); true
 * while it runs. */
bool report_aggregator_running(report_aggregator_t *self);
const char *report_aggregator_control_endpoint(report_aggregator_t *self);
const char *report_aggregator_publish_endpoint(report_aggregator_t *self);
const char *report_aggregator_catchup_endpoint(report_aggregator_t *self);
/* The desk endpoint bound, "" when desk-endpoint is empty. */
const char *report_aggregator_desk_endpoint(report_aggregator_t *self);
void report_aggregator_stats(report_aggregator_t *self, report_aggregator_stats_t *out);

#endif
