/* The collector service as a library object: a ROUTER facing the subdivisions, which decodes
 * and validates every update, and a ROUTER facing the stores, which hands valid updates to
 * stores by credit and relays each store's answer back to the client that sent the update. */
#ifndef REPORT_COLLECTOR_H
#define REPORT_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "report_config.h"
#include "report_metrics.h"
#include "report_monitor.h"
#include "report_server.h"
#include "report_update.h"

typedef struct {
    char *endpoint;                  /* clients, e.g. "tcp://0.0.0.0:5570" */
    char *store_endpoint;            /* stores connect here, e.g. "tcp://127.0.0.1:5571" */
    int64_t max_inflight;            /* updates waiting for a commit, all clients */
    int64_t max_inflight_per_client; /* ... per client connection */
    int64_t max_message_bytes;       /* ZMQ_MAXMSGSIZE and the codec bound */
    int64_t max_text_bytes;
    int64_t max_sub_items;
    int64_t max_indicators;
    int64_t max_frames;         /* frames per client message (after the routing id) */
    int64_t hwm;                /* ZeroMQ send/receive high-water marks, messages per peer */
    int64_t store_timeout_ms;   /* a store silent this long is dead; its updates go to another */
    int64_t inflight_expiry_ms; /* an update no store answered in this long is dropped */
    int64_t dead_letter_payload_bytes; /* bytes of refused input kept as dead letter */
    int64_t year_min, year_max;
    int64_t value_max;             /* indicator values must be in [0, value_max] */
    report_server_config_t server; /* keys (server.key, units/, stores/), connection bounds */
} report_collector_config_t;

#define REPORT_MAX_UNIT_LABELS 64

/* Counters of one unit (the label "unknown" when the unit could not be read, "other" past
 * REPORT_MAX_UNIT_LABELS distinct units: label sets stay bounded). */
typedef struct {
    char unit[40];
    uint64_t received;
    uint64_t answered[5]; /* by report_outcome_t: stored, duplicate, rejected, busy */
    uint64_t refused[REPORT_REASON_COUNT];
} report_unit_counters_t;

typedef struct {
    uint64_t received;
    uint64_t bytes_received;
    uint64_t stored;
    uint64_t duplicates;
    uint64_t rejected;
    uint64_t busy;
    uint64_t refused[REPORT_REASON_COUNT];
    uint64_t undeliverable; /* replies whose client had gone */
    uint64_t redispatched;  /* updates moved from a dead store to another */
    uint64_t stale_results; /* store answers ignored: not for an update this process handed out */
    uint64_t expired;
    uint64_t dead_letters_dropped;
    uint64_t inflight;
    uint64_t stores;
    uint64_t handshakes_refused;        /* peers refused by ZAP (unknown key), both sockets */
    uint64_t connected_clients;         /* client connections open (socket monitor) */
    report_monitor_counts_t clients;    /* the socket monitor of the client socket */
    report_monitor_counts_t store_link; /* ... of the store socket */
    uint64_t keyring_reload_failures;   /* units and stores keyrings */
    uint64_t inflight_limit;
    report_unit_counters_t units[REPORT_MAX_UNIT_LABELS];
    size_t unit_count;
    report_histogram_t reply_seconds; /* from receipt to reply */
} report_collector_stats_t;

typedef struct report_collector_t report_collector_t;

/* The settings of report_collector_config_t with their defaults and ranges: the program's table
 * includes it, and report_collector_config_default fills from it. */
extern const report_setting_t report_collector_settings[];
void report_collector_config_default(report_collector_config_t *cfg);

/* Binds both sockets and starts the collector in its own thread; returns once bound. The
 * config is copied. NULL if a socket cannot be bound. */
report_collector_t *report_collector_start(const report_collector_config_t *cfg);
/* Stops the thread and frees the collector; accepts NULL; sets *self_p to NULL. */
void report_collector_stop(report_collector_t **self_p);
/* False once its thread has ended by itself (what the watchdog's keep-alive waits on); true
 * while it runs. */
bool report_collector_running(report_collector_t *self);
/* The endpoints actually bound (with the port chosen for "*"), valid while running. */
const char *report_collector_endpoint(report_collector_t *self);
const char *report_collector_store_endpoint(report_collector_t *self);
void report_collector_stats(report_collector_t *self, report_collector_stats_t *out);

#endif
