/* The connections of a server socket, from libzmq's socket monitor: how many are open, how many
 * completed or failed their handshake (by kind), and bounds on connections in total and per
 * peer address, enforced as soon as libzmq reports the accept. */
#ifndef REPORT_MONITOR_H
#define REPORT_MONITOR_H

#include <stdint.h>

/* Why a handshake failed: the peer spoke no ZMTP or another mechanism (a plain ZeroMQ peer,
 * garbage bytes), the connection ended or timed out before the handshake was done, or ZAP
 * refused the key. */
typedef enum {
    REPORT_HANDSHAKE_PROTOCOL,
    REPORT_HANDSHAKE_NO_DETAIL,
    REPORT_HANDSHAKE_AUTH,
    REPORT_HANDSHAKE_KINDS
} report_handshake_kind_t;

/* "protocol", "no_detail", "auth" (the label value of the metrics). */
const char *report_handshake_kind_name(int kind);

/* What a monitor counted; the service copies it into its stats. */
typedef struct {
    uint64_t connected;  /* accepted and not disconnected (those dropped over a bound excluded) */
    uint64_t handshakes; /* handshakes that succeeded */
    uint64_t handshake_failed[REPORT_HANDSHAKE_KINDS];
    uint64_t dropped_total;    /* connections closed at once: max_connections reached */
    uint64_t dropped_per_peer; /* ... max_connections_per_peer reached for the address */
    uint64_t accept_failed;    /* accept() failed (EMFILE, ENFILE, ...) */
} report_monitor_counts_t;

typedef struct report_monitor_t report_monitor_t;

/* Monitors sock (bound already, in zctx). name says which socket in the logs. max_total and
 * max_per_peer bound the open connections (0: no bound); a connection over a bound is shut
 * down as soon as its accept is reported. NULL if the monitor cannot be set up. */
report_monitor_t *report_monitor_new(void *zctx, void *sock, const char *name, int64_t max_total,
                                     int64_t max_per_peer);
void report_monitor_destroy(report_monitor_t **self_p);
/* The socket to poll for ZMQ_POLLIN (NULL for a NULL monitor). */
void *report_monitor_socket(report_monitor_t *self);
/* Reads and handles the events waiting (at most 1000, so a flood cannot starve the rest of the
 * poll loop). */
void report_monitor_drain(report_monitor_t *self);
/* The monitor's counts into *out (zero for a NULL monitor), after forgetting connections whose
 * fd is no longer a connection of this socket (their events were lost; that sweep runs at
 * most every 5 s, so this may be called on every loop). */
void report_monitor_count(report_monitor_t *self, report_monitor_counts_t *out);

#endif
