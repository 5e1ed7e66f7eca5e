/* The store service as a library object: takes validated updates from one or more
 * collectors, commits them to PostgreSQL in batches (one transaction per batch, the unit and
 * update id as idempotency key) and answers each update only after its batch committed. */
#ifndef REPORT_STORE_H
#define REPORT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "report_config.h"
#include "report_db.h"
#include "report_metrics.h"

typedef struct {
    char *db;                /* libpq conninfo */
    char *collectors;        /* comma-separated endpoints of collectors' store links */
    char *store_id;          /* "" = hostname-pid */
    int64_t writers;         /* database sessions, each a link to every collector (>= 1) */
    int64_t batch_max;       /* updates per transaction */
    int64_t batch_max_bytes; /* payload bytes per transaction (at least one update) */
    int64_t batch_wait_ms;   /* longest an update waits for its batch to fill (0: none) */
    int64_t capacity;        /* updates held at most (announced to collectors as credit) */
    int64_t heartbeat_ms;    /* READY heartbeat to collectors */
    int64_t reconnect_min_ms;
    int64_t reconnect_max_ms;
    int64_t dead_letter_max;   /* rows kept in dead_letters */
    int64_t dead_letter_queue; /* refused inputs held waiting for the database */
    int64_t catalog_refresh_ms;
    /* Bounds on how long the store's database session may wait for or hold locks, set on
     * every new session (0 = no bound). A statement that runs into one is rolled back and
     * retried later; nothing is refused for it. */
    int64_t lock_timeout_ms;                /* lock_timeout */
    int64_t statement_timeout_ms;           /* statement_timeout */
    int64_t idle_in_transaction_timeout_ms; /* idle_in_transaction_session_timeout */
    /* Longest the store waits on the client side for a statement's results; past it the
     * statement is cancelled, the connection dropped and the store stops heartbeating while
     * it holds work and has not committed since, so that the collectors hand that work to
     * another store. 0 = statement_timeout_ms + 2000, or 60000 if that is 0. */
    int64_t db_wait_max_ms;
    bool migrate;                 /* apply migrations at start */
    bool allow_unsafe_durability; /* development only: run even with fsync/synchronous_commit off */
    char *key;           /* the store's CURVE key pair (.key file), enrolled in KEYS/stores */
    char *collector_key; /* the collectors' public key (.pub file or Z85) */
    bool insecure_plain; /* development only: no CURVE on the collector link */
} report_store_config_t;

/* Counters, read by tests and metrics; updated only by the store's thread. */
typedef struct {
    uint64_t received;
    uint64_t stored;
    uint64_t duplicates;
    uint64_t rejected;
    uint64_t batches;
    uint64_t reconnects;
    uint64_t retries; /* batches rolled back for a transient error (lock timeout, ...) */
    uint64_t dead_letters;
    uint64_t dead_letters_dropped;
    uint64_t pending;
    bool db_up;
    bool refused_durability;    /* the server has fsync or synchronous_commit off */
    int64_t last_commit_ms;     /* wall clock of the last commit, 0 before the first */
    report_db_where_t db_where; /* the server the sessions are on, and their failovers */
    uint64_t capacity;
    report_histogram_t batch_size;
    report_histogram_t commit_seconds;
} report_store_stats_t;

typedef struct report_store_t report_store_t;

/* The settings of report_store_config_t with their defaults and ranges: the program's table
 * includes it, and report_store_config_default fills from it. */
extern const report_setting_t report_store_settings[];
/* Fills a config with the defaults (strings are static; do not free them). */
void report_store_config_default(report_store_config_t *cfg);

/* Starts a store: cfg->writers writers, each in a thread of its own with its own database
 * session and its own link to every collector (the collectors share the work between them
 * by credit, as between stores), so that one transaction commits while another is built and
 * inserted. With more than one writer each is named STORE_ID-wN. The config is copied.
 * Returns once every writer is ready: its links open and its first connection made (or, when
 * the server is down, scheduled for a retry). NULL when a writer cannot start: keys
 * unreadable, no collector endpoint, or a server that does not make commits durable. */
report_store_t *report_store_start(const report_store_config_t *cfg);
/* Asks the store to stop, waits for its thread and frees it; accepts NULL; sets *self_p NULL.
 * Updates not yet committed are not answered (the collector re-dispatches or the client
 * retries: nothing unacknowledged is lost). */
void report_store_stop(report_store_t **self_p);
/* False once a writer's thread has ended by itself (a fatal error found after the start, such
 * as a server whose durability was turned off while the store ran). */
bool report_store_running(report_store_t *self);
/* A snapshot of the counters, summed over the writers (thread-safe); db_up only when every
 * writer's session is up. */
void report_store_stats(report_store_t *self, report_store_stats_t *out);

#endif
