/* Counting a socket's connected peers with libzmq's socket monitor: a peer counts from its
 * successful handshake (so unauthenticated connections never count) until its disconnect. */
#ifndef REPORT_MONITOR_H
#define REPORT_MONITOR_H

#include <stdint.h>

typedef struct {
    void *pair;             /* our end of the monitor; poll it for ZMQ_POLLIN */
    uint8_t fds[65536 / 8]; /* fds that completed a handshake and are still connected */
    uint64_t connected;
} report_monitor_t;

/* Starts monitoring sock (in zctx); 0 or -1 (then pair is NULL and nothing is counted). */
int report_monitor_start(report_monitor_t *m, void *zctx, void *sock);
/* Reads one event if there is one and updates the count. */
void report_monitor_handle(report_monitor_t *m);
void report_monitor_close(report_monitor_t *m);

#endif
