/* Authentication of CURVE peers (ZeroMQ's ZAP, RFC 27), and helpers to make a socket a CURVE
 * server or client.
 *
 * The handler answers on inproc://zeromq.zap.01 in the service's context. It is bound before
 * any server socket, and every server socket sets ZMQ_ZAP_ENFORCE_DOMAIN, so a handler that
 * is missing fails closed. A peer is accepted only if its long-term public key is enrolled in
 * the keyring of the socket's ZAP domain; the ZAP user id is the peer's Z85 public key, which
 * the service maps to the unit or recipient on every message (a revocation also stops a
 * connection that was already open). */
#ifndef REPORT_ZAP_H
#define REPORT_ZAP_H

#include "report_keys.h"

#include <stdint.h>

typedef struct report_zap_t report_zap_t;

/* Binds the ZAP handler socket in zctx. NULL if it cannot be bound. */
report_zap_t *report_zap_new(void *zctx);
void report_zap_destroy(report_zap_t **self_p);
/* Accepts peers of `domain` whose key is in keyring (borrowed; must outlive the handler). */
void report_zap_add_domain(report_zap_t *self, const char *domain, report_keyring_t *keyring);
/* The socket to poll for ZMQ_POLLIN, and the handler of one request when it is readable. */
void *report_zap_socket(report_zap_t *self);
void report_zap_handle(report_zap_t *self);
uint64_t report_zap_accepted(report_zap_t *self);
uint64_t report_zap_refused(report_zap_t *self);

/* ZeroMQ heartbeats (ZMTP 3.1 PING/PONG) on sock: a PING every ivl_ms, and the connection is
 * dropped when nothing came back within timeout_ms (ZMQ_HEARTBEAT_TIMEOUT); the peer is told
 * to do the same (ZMQ_HEARTBEAT_TTL). So a peer that vanished without closing (power cut,
 * frozen process, cable pulled) gives its slot and descriptor back. ivl_ms <= 0: off. */
void report_heartbeat(void *sock, int ivl_ms, int timeout_ms);
/* A server socket of a service: its type, where it binds, CURVE in a ZAP domain, its bounds. */
typedef struct {
    int type;                       /* ZMQ_ROUTER (ROUTER_MANDATORY set) or ZMQ_PUB */
    const char *endpoint;           /* where to bind */
    const report_keypair_t *server; /* CURVE server key pair; NULL: plain (development only) */
    const char *domain;             /* ZAP domain of the peers it accepts */
    int handshake_ms;               /* bound on a half-open handshake */
    int sndhwm, rcvhwm;             /* queue bounds in messages (0: not set) */
    int64_t max_message_bytes;      /* ZMQ_MAXMSGSIZE (0: not set) */
    int heartbeat_ms, heartbeat_timeout_ms; /* report_heartbeat */
} report_server_socket_t;

/* The one way the services make a server socket: creates it in zctx, makes it a CURVE server
 * (unless spec->server is NULL), sets linger 0, the bounds and heartbeats, and binds; the
 * endpoint actually bound (with the port chosen for "*") goes to bound. NULL, after logging
 * why, when it cannot. */
void *report_server_bind(void *zctx, const report_server_socket_t *spec, char *bound,
                         size_t bound_size);

/* The heartbeat of clients (reportctl, the subscriber, the client library). */
#define REPORT_CLIENT_HEARTBEAT_MS 5000
#define REPORT_CLIENT_HEARTBEAT_TIMEOUT_MS 15000

/* Makes sock a CURVE client of server_public (Z85) with the client's key pair. 0 or -1. */
int report_curve_client(void *sock, const char *server_public, const report_keypair_t *client);
/* The CURVE user id (the peer's Z85 public key) of a received message, or NULL. */
const char *report_curve_peer(void *msg);

#endif
