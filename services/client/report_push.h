/* The push client as the programs of this tree use it, on the domain types (report_update_t,
 * report_reply_t) and with every setting in one struct; libreport-client's public API
 * (include/report_client.h) is a thin layer over it.
 *
 *   report_client_config_t cfg;
 *   report_client_config_default(&cfg);
 *   cfg.endpoint = "tcp://collector-a:5570,tcp://collector-b:5570";
 *   report_client_t *client = report_client_new_config(&cfg);
 *   report_reply_t replies[n];
 *   int rc = report_client_push(client, updates, n, replies);   // 0: all STORED or DUPLICATE
 *   report_client_destroy(&client);
 *
 * Delivery is at-least-once with the update id as idempotency key. An update without a final
 * answer (STORED, DUPLICATE, REJECTED) is sent again with the same id, with capped exponential
 * back-off and jitter, after a timeout or a BUSY answer, until the push's deadline; then its
 * outcome is unknown (REPORT_OUTCOME_NONE, reason "unknown"): it may or may not be stored, and
 * pushing the same updates again is safe (what is stored answers DUPLICATE). One DEALER socket
 * is kept for the whole push: it reconnects by itself after a collector restart, ZMTP heartbeats
 * drop a dead connection, and an answer to any earlier copy of an update settles it. The next
 * push opens a new socket.
 *
 * With several collectors listed (zguide's Freelance pattern on top of that Lazy Pirate
 * resend) the client talks to one at a time, from the first. When the current one gives no
 * answer at all for timeout_ms while updates wait for one, or its connection fails (refused,
 * or dropped), the client closes the socket, connects to the next in the list (round-robin)
 * and resends every unanswered update with the same id; after a whole round in which none
 * answered it waits with the same capped back-off before the next round. An answer from any
 * copy sent to an abandoned collector is lost with its socket, but the resend is answered
 * DUPLICATE if that copy was stored. Every collector of an agency has the same key pair, so
 * keys.server_public fits them all. A BUSY answer does not move on: the collectors share the
 * stores, so BUSY says the stores are behind, which another collector would not change. */
#ifndef REPORT_PUSH_H
#define REPORT_PUSH_H

#include "report_client.h"
#include "report_config.h"
#include "report_error.h"
#include "report_keys.h"
#include "report_update.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* The most endpoints one list may name (collectors of a push, aggregators of a subscriber):
 * a longer list is refused when the client is set up. */
#define REPORT_ENDPOINTS_MAX 16
/* The longest endpoint of a list, in bytes. */
#define REPORT_ENDPOINT_MAX_BYTES 255

typedef struct {
    size_t count;
    char endpoint[REPORT_ENDPOINTS_MAX][REPORT_ENDPOINT_MAX_BYTES + 1];
} report_endpoints_t;

/* Splits a comma-separated list of ZeroMQ endpoints ("tcp://a:5570,tcp://b:5570"; blanks
 * around each are ignored) into out, checking each one: tcp://HOST:PORT (PORT 1-65535),
 * ipc://PATH or inproc://NAME. 0, or -1 with err (code "bad_endpoint") for an empty list, an
 * empty element, a malformed endpoint, one longer than REPORT_ENDPOINT_MAX_BYTES or more than
 * REPORT_ENDPOINTS_MAX of them. */
int report_endpoints_parse(const char *list, report_endpoints_t *out, report_error_t *err);

typedef struct {
    const char *endpoint;      /* collector(s): "tcp://a:5570" or "tcp://a:5570,tcp://b:5570" */
    int64_t timeout_ms;        /* first wait for an answer before resending; doubles each time */
    int64_t backoff_max_ms;    /* cap of the wait between two sends of one update */
    int64_t deadline_ms;       /* a push gives up after this long: outcome unknown */
    int64_t retries;           /* -1: until the deadline; n: unknown at a timeout after n resends */
    int64_t window;            /* updates sent and not yet answered, at most */
    int64_t max_message_bytes; /* an update encoded larger is REJECTED too_large, not sent */
    const volatile sig_atomic_t
        *stop;                 /* if set, a push ends early (outcomes unknown) once *stop != 0 */
    report_client_keys_t keys; /* CURVE: the collector's public key and the unit's pair */
} report_client_config_t;

/* The settings of report_client_config_t (endpoint, timeouts, window, message bound) with their
 * defaults and ranges: reportctl push includes them, report_client_config_default fills from
 * them. */
extern const report_setting_t report_client_settings[];
/* Fills cfg with the defaults of report_client_settings; no keys, no stop flag. */
void report_client_config_default(report_client_config_t *cfg);
/* Creates a client (connects lazily). The endpoint list is parsed and copied. NULL, after
 * logging why, if the list is refused (report_endpoints_parse) or ZeroMQ has no context. */
report_client_t *report_client_new_config(const report_client_config_t *cfg);
void report_client_destroy(report_client_t **self_p);

/* Sends count updates and waits for their answers until cfg.deadline_ms from now. replies[i]
 * gets the final answer to updates[i]; an update without one at the deadline gets outcome
 * NONE with reason "unknown". Returns a report_push_status_t (the worst: unknown, then
 * rejected).
 *
 * Answers carry only the update id, so some updates are REJECTED by the client itself, never
 * sent, because no answer to them could be told apart or would ever come: an id that is not
 * a UUID ("bad_uuid"), an update encoded larger than cfg.max_message_bytes ("too_large"),
 * and an id (compared in canonical lower-case form) that an earlier update of the same push
 * already has ("duplicate_id"). A REJECTED "unauthorized" answer (the key was revoked while
 * connected; it names no update) ends the push: nothing more is sent, answers to updates
 * already sent are awaited for cfg.timeout_ms, and every update still unanswered is REJECTED
 * "unauthorized". Each push is a session of its own on a new connection: an answer meant for
 * an earlier push can never settle an update of this one. */
int report_client_push(report_client_t *self, report_update_t *const *updates, size_t count,
                       report_reply_t *replies);

/* Pushes updates of several units, each unit's with its own key pair unit_keys_dir/UNIT.key
 * (cfg->keys.server_public is the collector's key): for an office that relays the files of
 * several subdivisions, each of which may push only for itself. Replies in the order of
 * updates; one deadline for all units; returns as report_client_push (an update whose unit
 * has no key file is REJECTED with reason "no_key": resending will not help). */
int report_client_push_by_unit(const report_client_config_t *cfg, const char *unit_keys_dir,
                               report_update_t *const *updates, size_t count,
                               report_reply_t *replies);

#include "report_published.h"

/* One request and its answer on a CURVE DEALER of its own (keys->plain: no CURVE): sends the
 * request's bytes to endpoint and waits up to timeout_ms for one message. Never resends. 0
 * with *answer (malloc'd, the caller frees) and *answer_size, or -1 when nothing came. */
int report_call_once(const char *endpoint, const report_client_keys_t *keys, const uint8_t *request,
                     size_t size, uint8_t **answer, size_t *answer_size, int64_t timeout_ms);

/* Sends one control request (compile or publish) to an aggregator and waits up to
 * timeout_ms for the reply. Never resends: a publish must not run twice. 0 with *reply
 * filled (check reply->ok), or -1 on timeout or a malformed answer. */
int report_control_call(const char *endpoint, const report_client_keys_t *keys,
                        const report_control_request_t *req, report_control_reply_t *reply,
                        int64_t timeout_ms);
#endif
