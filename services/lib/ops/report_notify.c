/* sd_notify through libsystemd: one place that speaks to the service manager. */
#include "report_notify.h"
#include "report_log.h"

#include <systemd/sd-daemon.h>

#include <stdio.h>

/* sd_notify is a no-op (0) without NOTIFY_SOCKET; a failure to reach the manager is logged at
 * debug level only, since the manager then also cannot act on the message. */
static void s_notify(const char *state)
{
    int rc = sd_notify(0, state);
    if (rc < 0)
        log_debug("sd_notify failed", "errno=%d", -rc);
}

static void s_notify_with_status(const char *head, const char *status)
{
    char state[512];
    snprintf(state, sizeof state, "%s%sSTATUS=%s", head, *head ? "\n" : "", status);
    s_notify(state);
}

void report_notify_ready(const char *status)
{
    s_notify_with_status("READY=1", status);
}

void report_notify_status(const char *status)
{
    s_notify_with_status("", status);
}

void report_notify_stopping(const char *status)
{
    s_notify_with_status("STOPPING=1", status);
}

uint64_t report_notify_watchdog_usec(void)
{
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void report_notify_watchdog(void)
{
    s_notify("WATCHDOG=1");
}
