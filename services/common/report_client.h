/* The push client: the whole public API a program needs to send updates to a collector.
 *
 *   report_client_config_t cfg;
 *   report_client_config_default(&cfg);
 *   cfg.endpoint = "tcp://collector:5570";
 *   report_client_t *client = report_client_new(&cfg);
 *   report_reply_t replies[n];
 *   int rc = report_client_push(client, updates, n, replies);   // 0: all STORED or DUPLICATE
 *   report_client_destroy(&client);
 *
 * Delivery is at-least-once with the update id as idempotency key: an update that got no
 * answer within timeout_ms is sent again (same id) up to `retries` times, on a fresh
 * connection (the Lazy Pirate pattern); BUSY answers are retried after a back-off. */
#ifndef REPORT_CLIENT_H
#define REPORT_CLIENT_H

#include "report_keys.h"
#include "report_update.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *endpoint;      /* collector, e.g. "tcp://127.0.0.1:5570" */
    int64_t timeout_ms;        /* wait for an answer before resending */
    int64_t retries;           /* resends of the same update after a timeout */
    int64_t busy_retries;      /* resends after BUSY answers */
    int64_t window;            /* updates sent and not yet answered, at most */
    report_client_keys_t keys; /* CURVE: the collector's public key and the unit's pair */
} report_client_config_t;

typedef struct report_client_t report_client_t;

void report_client_config_default(report_client_config_t *cfg);
/* Creates a client (connects lazily). The endpoint string is copied. NULL on failure. */
report_client_t *report_client_new(const report_client_config_t *cfg);
void report_client_destroy(report_client_t **self_p);

/* Sends count updates and waits for their answers. replies[i] gets the final answer to
 * updates[i]; an update never answered gets outcome NONE with reason "timeout". Returns 0
 * if every update was STORED or DUPLICATE, 1 if not, -1 on a local error. */
int report_client_push(report_client_t *self, report_update_t *const *updates, size_t count,
                       report_reply_t *replies);

/* Pushes updates of several units, each unit's with its own key pair unit_keys_dir/UNIT.key
 * (cfg->keys.server_public is the collector's key): for an office that relays the files of
 * several subdivisions, each of which may push only for itself. Replies in the order of
 * updates; returns as report_client_push. */
int report_client_push_by_unit(const report_client_config_t *cfg, const char *unit_keys_dir,
                               report_update_t *const *updates, size_t count,
                               report_reply_t *replies);

#include "report_published.h"

/* Sends one control request (compile or publish) to an aggregator and waits up to
 * timeout_ms for the reply. Never resends: a publish must not run twice. 0 with *reply
 * filled (check reply->ok), or -1 on timeout or a malformed answer. */
int report_control_call(const char *endpoint, const report_client_keys_t *keys,
                        const report_control_request_t *req, report_control_reply_t *reply,
                        int64_t timeout_ms);
#endif
