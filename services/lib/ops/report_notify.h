/* What a service tells its service manager (systemd's sd_notify protocol): that it serves,
 * what it is doing, that it stops, and the watchdog's keep-alive. Outside systemd (no
 * NOTIFY_SOCKET in the environment) every call does nothing. */
#ifndef REPORT_NOTIFY_H
#define REPORT_NOTIFY_H

#include <stdint.h>

/* READY=1 with a STATUS line: the service's sockets are bound and its HTTP endpoint is up. */
void report_notify_ready(const char *status);
/* A STATUS line (what `systemctl status` shows). */
void report_notify_status(const char *status);
/* STOPPING=1 with a STATUS line: the service has begun to stop. */
void report_notify_stopping(const char *status);
/* The watchdog interval the manager asked of this process (WATCHDOG_USEC, checked against
 * WATCHDOG_PID), in microseconds; 0 when there is none. */
uint64_t report_notify_watchdog_usec(void);
/* WATCHDOG=1: the service is alive. Send it at half the interval, only while the service's
 * own liveness check holds, so that a wedged service is restarted. */
void report_notify_watchdog(void);

#endif
