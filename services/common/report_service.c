/* Signals, logging set-up and build information for every program. */
#define _GNU_SOURCE
#include "report_service.h"
#include "report_log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef REPORT_VERSION
#define REPORT_VERSION "dev"
#endif
#ifndef REPORT_GIT_COMMIT
#define REPORT_GIT_COMMIT "unknown"
#endif

volatile int report_service_stop = 0;

static void s_on_signal(int sig)
{
    (void)sig;
    report_service_stop = 1;
}

void report_service_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int report_service_logging(const char *service, const char *level)
{
    report_log_set_service(service);
    if (report_log_set_level(level) != 0) {
        fprintf(stderr, "unknown log level '%s' (debug, info, warn, error)\n", level);
        return -1;
    }
    return 0;
}

const char *report_service_version(void)
{
    return REPORT_VERSION;
}

const char *report_service_commit(void)
{
    return REPORT_GIT_COMMIT;
}
