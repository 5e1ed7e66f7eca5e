/* What every program's main() shares: signal handling for a clean stop, and the log
 * settings. */
#ifndef REPORT_SERVICE_H
#define REPORT_SERVICE_H

/* Set to 1 by SIGINT or SIGTERM once report_service_signals() was called. */
extern volatile int report_service_stop;

/* Installs SIGINT/SIGTERM handlers that set report_service_stop; ignores SIGPIPE. */
void report_service_signals(void);
/* Applies log-level and names the service in logs; -1 if the level is unknown. */
int report_service_logging(const char *service, const char *level);
/* Version and git commit the binaries were built from. */
const char *report_service_version(void);
const char *report_service_commit(void);

#endif
