/* libreport-client: send a subdivision's monthly updates to the Sở KH&CN reporting pipeline
 * and learn, for each one, whether it was stored.
 *
 *   report_client_t *client = report_client_new("tcp://c1.example:5570,tcp://c2.example:5570");
 *   report_client_set_keys(client, "THANH_TRA.key", "collector.pub");
 *   report_push_t *push = report_client_push_json(client, json, strlen(json));
 *   for (size_t i = 0; i < report_push_count(push); i++)
 *       printf("%s %s\n", report_push_update_id(push, i),
 *              report_client_outcome_name(report_push_outcome(push, i)));
 *   report_push_destroy(&push);
 *   report_client_destroy(&client);
 *
 * Updates are given in the push file format (README, "Push file format"): one JSON object or
 * an array of them, each with its own update id. Delivery is at-least-once with the update id
 * as the idempotency key: an update without a final answer is sent again with the same id,
 * with capped exponential back-off, until the push's deadline; pushing the same updates again
 * is always safe (what is stored answers DUPLICATE).
 *
 * This header is the whole API. Objects are opaque and options are set by name, so that a
 * program built against version 1 keeps working with every 1.x library. Link with
 * `pkg-config --cflags --libs report-client`. A client is used by one thread at a time. */
#ifndef REPORT_CLIENT_H
#define REPORT_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REPORT_CLIENT_VERSION_MAJOR 1
#define REPORT_CLIENT_VERSION_MINOR 1
#define REPORT_CLIENT_VERSION_PATCH 0

#if defined(__GNUC__)
#define REPORT_CLIENT_EXPORT __attribute__((visibility("default")))
#else
#define REPORT_CLIENT_EXPORT
#endif

typedef struct report_client_t report_client_t;
typedef struct report_push_t report_push_t;

/* The final answer to one update. UNKNOWN: none came before the deadline; the update may or
 * may not be stored, and pushing it again is safe. */
typedef enum {
    REPORT_CLIENT_UNKNOWN = 0,
    REPORT_CLIENT_STORED = 1,
    REPORT_CLIENT_DUPLICATE = 2,
    REPORT_CLIENT_REJECTED = 3,
} report_client_outcome_t;

/* Options, all in milliseconds or counts. Defaults in brackets. */
typedef enum {
    REPORT_CLIENT_TIMEOUT_MS = 1,     /* first wait for an answer before resending [5000] */
    REPORT_CLIENT_BACKOFF_MAX_MS = 2, /* cap of the wait between two sends [30000] */
    REPORT_CLIENT_DEADLINE_MS = 3,    /* a push gives up after this long [600000] */
    REPORT_CLIENT_RETRIES = 4,        /* -1: resend until the deadline; n: at most n resends [-1] */
    REPORT_CLIENT_WINDOW = 5,         /* updates sent and not yet answered, at most [500] */
    REPORT_CLIENT_MAX_MESSAGE_BYTES = 6, /* larger updates are REJECTED too_large [1048576] */
} report_client_option_t;

/* What a push came to: every update STORED or DUPLICATE; some REJECTED and none unknown; some
 * without a final answer; or the push could not run at all (report_push_error says why). */
typedef enum {
    REPORT_PUSH_OK = 0,
    REPORT_PUSH_REJECTED = 1,
    REPORT_PUSH_UNKNOWN = 2,
    REPORT_PUSH_FAILED = 3,
} report_push_status_t;

/* The library's version, "1.1.0". */
REPORT_CLIENT_EXPORT const char *report_client_version(void);

/* A client of the collector at endpoint ("tcp://host:5570"), or of the first collector of a
 * comma-separated list of at most 16 ("tcp://a:5570,tcp://b:5570"), with the defaults; it
 * connects when it first pushes. With a list, a collector that gives no answer for TIMEOUT_MS
 * while updates wait, or whose connection fails, is left for the next one in the list
 * (round-robin, BACKOFF_MAX_MS capping the pause after a whole round without an answer), and
 * every unanswered update is resent there with the same id. All collectors share one key
 * pair: one collector key fits them all. NULL if endpoint is NULL, if the list is refused (an
 * empty element, a malformed endpoint, more than 16; the reason is logged on stderr) or if
 * memory runs out. */
REPORT_CLIENT_EXPORT report_client_t *report_client_new(const char *endpoint);
/* Destroys the client; accepts NULL; sets *self_p to NULL. */
REPORT_CLIENT_EXPORT void report_client_destroy(report_client_t **self_p);

/* Sets an option; 0, or -1 for an unknown option or a value out of its range (nothing set). */
REPORT_CLIENT_EXPORT int report_client_set(report_client_t *self, report_client_option_t option,
                                           int64_t value);
/* Reads the unit's CURVE key pair (the .key file `reportctl keygen` wrote) and the collector's
 * public key (its .pub file, or the 40-character Z85 key itself). Without keys a client
 * talks without CURVE, which a production collector refuses. 0, or -1 with the reason in
 * report_client_error. */
REPORT_CLIENT_EXPORT int report_client_set_keys(report_client_t *self, const char *unit_key_file,
                                                const char *collector_key);
/* When stop is set and *stop becomes non-zero (a signal handler's flag), a push ends early;
 * its unanswered updates are UNKNOWN. NULL: never. */
REPORT_CLIENT_EXPORT void report_client_set_stop(report_client_t *self,
                                                 const volatile sig_atomic_t *stop);
/* Since version 1.1: how many times the client has moved on from a collector that did not
 * answer (or whose connection failed) to the next of its list, over all its pushes. */
REPORT_CLIENT_EXPORT uint64_t report_client_failovers(const report_client_t *self);
/* Why the last call on self failed, or "". */
REPORT_CLIENT_EXPORT const char *report_client_error(const report_client_t *self);

/* Sends the updates in json (len bytes) and waits for their answers, at most the deadline.
 * Returns the push's results, or NULL only when memory runs out; check report_push_status.
 * Invalid JSON sends nothing: status FAILED, report_push_error tells where. */
REPORT_CLIENT_EXPORT report_push_t *report_client_push_json(report_client_t *self, const char *json,
                                                            size_t len);

REPORT_CLIENT_EXPORT report_push_status_t report_push_status(const report_push_t *self);
/* For a FAILED push, what went wrong ("update 2: period: expected YYYY-MM"); else "". */
REPORT_CLIENT_EXPORT const char *report_push_error(const report_push_t *self);
/* The number of updates, in the order of the JSON; the accessors below take i < count and
 * return NULL / UNKNOWN for anything else. */
REPORT_CLIENT_EXPORT size_t report_push_count(const report_push_t *self);
REPORT_CLIENT_EXPORT const char *report_push_update_id(const report_push_t *self, size_t i);
REPORT_CLIENT_EXPORT report_client_outcome_t report_push_outcome(const report_push_t *self,
                                                                 size_t i);
/* Machine-readable reason of a refusal ("unknown_indicator", "unauthorized", "unknown", ...),
 * "" for STORED and DUPLICATE. The README lists them. */
REPORT_CLIENT_EXPORT const char *report_push_reason(const report_push_t *self, size_t i);
/* A readable explanation. */
REPORT_CLIENT_EXPORT const char *report_push_message(const report_push_t *self, size_t i);
REPORT_CLIENT_EXPORT void report_push_destroy(report_push_t **self_p);

/* "STORED", "DUPLICATE", "REJECTED" or "UNKNOWN". */
REPORT_CLIENT_EXPORT const char *report_client_outcome_name(report_client_outcome_t outcome);

#ifdef __cplusplus
}
#endif
#endif
