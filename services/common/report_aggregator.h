/* The aggregator as a library object: compiles drafts on request, publishes frozen report
 * versions (stored first, then sent on a PUB socket with a sequence number) and answers
 * catch-up requests so that a subscriber never depends on PUB timing (Clone pattern). */
#ifndef REPORT_AGGREGATOR_H
#define REPORT_AGGREGATOR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char *db;
    char *control_endpoint; /* reportctl compile/publish, e.g. "tcp://127.0.0.1:5574" */
    char *publish_endpoint; /* PUB, e.g. "tcp://0.0.0.0:5572" */
    char *catchup_endpoint; /* ROUTER, e.g. "tcp://0.0.0.0:5573" */
    int64_t catchup_max;    /* reports per catch-up answer; the subscriber asks again */
    int64_t max_request_bytes;
    int64_t hwm;
    bool migrate;
    char *keys_dir;      /* server.key, recipients/NAME.pub, operators/NAME.pub */
    bool insecure_plain; /* development only: no CURVE */
    int64_t handshake_ms;
} report_aggregator_config_t;

typedef struct {
    uint64_t compiled;
    uint64_t published;
    uint64_t last_seq;
    uint64_t catchup_requests;
    uint64_t refused_requests;
    uint64_t handshakes_refused;
    bool db_up;
} report_aggregator_stats_t;

typedef struct report_aggregator_t report_aggregator_t;

void report_aggregator_config_default(report_aggregator_config_t *cfg);
/* Binds its sockets and starts the aggregator thread; NULL if a socket cannot be bound. */
report_aggregator_t *report_aggregator_start(const report_aggregator_config_t *cfg);
void report_aggregator_stop(report_aggregator_t **self_p);
const char *report_aggregator_control_endpoint(report_aggregator_t *self);
const char *report_aggregator_publish_endpoint(report_aggregator_t *self);
const char *report_aggregator_catchup_endpoint(report_aggregator_t *self);
void report_aggregator_stats(report_aggregator_t *self, report_aggregator_stats_t *out);

#endif
