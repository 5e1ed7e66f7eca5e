/* The CURVE server side of a service (the collector, the aggregator): its key pair
 * (KEYS/server.key), a keyring per ZAP domain (the enrolled public keys in KEYS/<domain>/,
 * reloaded without a restart), the ZAP handler that checks every handshake against them, and
 * the server sockets it binds with the service's bounds. With insecure-plain, none of it:
 * sockets are plain and a warning is logged. */
#ifndef REPORT_SERVER_H
#define REPORT_SERVER_H

#include "report_config.h"
#include "report_keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The client side of a service that serves CURVE peers (the collector's units, the
 * aggregator's subscribers and operators): where its keys are, and the bounds on
 * connections. */
typedef struct {
    char *keys_dir;                   /* server.key and the enrolled public keys (report_keys.h) */
    bool insecure_plain;              /* development only: no CURVE, no authentication */
    int64_t handshake_ms;             /* ZMQ_HANDSHAKE_IVL: half-open handshakes are dropped */
    int64_t max_connections;          /* connections open at once; more are closed at once */
    int64_t max_connections_per_peer; /* ... from one IP address */
    int64_t peer_heartbeat_ms;        /* ZMQ_HEARTBEAT_IVL on every connection */
    int64_t peer_timeout_ms;          /* ZMQ_HEARTBEAT_TIMEOUT/_TTL: a silent peer is dropped */
} report_server_config_t;

/* Its settings, with their defaults and ranges: the collector's and the aggregator's tables
 * include them. */
extern const report_setting_t report_server_settings[];

typedef struct report_server_t report_server_t;

/* Loads the key pair and the keyrings of the two ZAP domains (subdirectories of keys_dir of
 * the same names) and binds the ZAP handler in zctx; with cfg->insecure_plain, logs
 * insecure_warning instead. cfg must outlive the server. NULL, after logging why, if the key
 * pair cannot be read or the handler cannot be bound. */
report_server_t *report_server_new(void *zctx, const report_server_config_t *cfg,
                                   const char *domain_a, const char *domain_b,
                                   const char *insecure_warning);
void report_server_destroy(report_server_t **self_p);
/* Accepts the peers of one more ZAP domain (its keyring KEYS/<domain>/; the aggregator's desk
 * endpoint: units). domain must outlive the server. 0, or -1 when three domains are set. */
int report_server_add_domain(report_server_t *self, const char *domain);

/* The keyring of domain (to map a peer's key to who it is), or NULL without CURVE. */
report_keyring_t *report_server_keyring(report_server_t *self, const char *domain);

/* Makes and binds a server socket accepting the peers of domain: CURVE, the handshake bound
 * and heartbeats of the settings, the queue and message bounds given (0: not set). The
 * endpoint actually bound goes to bound. NULL, after logging why, when it cannot. */
void *report_server_socket(report_server_t *self, int type, const char *endpoint,
                           const char *domain, int sndhwm, int rcvhwm, int64_t max_message_bytes,
                           char *bound, size_t bound_size);

/* The ZAP handler's socket to poll for ZMQ_POLLIN (NULL without CURVE), and the handling of
 * every request waiting on it (a peer's handshake waits on them: handle them first);
 * handshakes refused so far. */
void *report_server_zap_socket(report_server_t *self);
void report_server_zap_drain(report_server_t *self);
uint64_t report_server_refused(report_server_t *self);

/* Retries the keyring reloads that failed (for the service's loop); returns the reload
 * failures so far, all domains. */
uint64_t report_server_keyrings_retry(report_server_t *self);

#endif
