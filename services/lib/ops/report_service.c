/* Signals and logging set-up for every program. */
#define _GNU_SOURCE
#include "report_service.h"
#include "report_build.h"
#include "report_log.h"
#include "report_notify.h"
#include "report_util.h"

#include <jansson.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

volatile sig_atomic_t report_service_stop = 0;

static void s_on_signal(int sig)
{
    (void)sig;
    report_service_stop = 1;
}

/* jansson's allocator hook has malloc's signature. */
static void *s_json_malloc(size_t size)
{
    return report_malloc(size);
}

void report_service_setup(void)
{
    json_set_alloc_funcs(s_json_malloc, free);
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

/* Raises the soft limit of open files to the hard one: every connection is a descriptor, and
 * at the limit libzmq's accept fails with EMFILE and is retried in a busy loop. */
static void s_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t before = rl.rlim_cur;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = before;
    }
    log_info("open files limit", "nofile=%llu before=%llu hard=%llu",
             (unsigned long long)rl.rlim_cur, (unsigned long long)before,
             (unsigned long long)rl.rlim_max);
}

int report_service_begin(const char *name, const report_setting_t *table, void *cfg,
                         const report_service_common_t *common, int argc, char **argv)
{
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(table, cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc != 0 || nargs != 0) {
        FILE *out = rc == 1 ? stdout : stderr;
        fprintf(out, "usage: report-%s [options]\n", name);
        report_settings_usage(table, out);
        return rc == 1 ? 0 : 2;
    }
    if (report_service_logging(name, common->log_level) != 0)
        return 2;
    report_service_setup();
    report_notify_status("starting");
    log_info("starting", "version=%s commit=%s", report_build_version(), report_build_commit());
    s_raise_fd_limit();
    return -1;
}

void report_service_http_config(const report_service_common_t *common, report_http_config_t *out)
{
    report_http_config_default(out);
    out->address = common->metrics_address;
    out->peers = common->status_peers;
    out->max_connections = common->http_max_connections;
    out->max_connections_per_ip = common->http_max_connections_per_ip;
    out->idle_timeout_s = common->http_idle_timeout_s;
    out->connection_memory_bytes = common->http_connection_memory_bytes;
}

int report_service_serve(report_http_t *http, bool (*alive)(void *), void *arg)
{
    if (http) {
        char status[64];
        snprintf(status, sizeof status, "serving; HTTP on port %d", report_http_port(http));
        report_notify_ready(status);
    }
    /* the watchdog's keep-alive at half its interval, only while the service is alive: a
     * service whose check fails stops pinging (and ends below), so the manager restarts it */
    int64_t watchdog_ms = (int64_t)(report_notify_watchdog_usec() / 1000);
    int64_t next_ping = 0;
    while (http && !report_service_stop && (!alive || alive(arg))) {
        if (watchdog_ms > 0 && report_clock_ms() >= next_ping) {
            report_notify_watchdog();
            next_ping = report_clock_ms() + watchdog_ms / 2;
        }
        usleep(100 * 1000);
    }
    bool died = !http || (alive && !alive(arg));
    report_notify_stopping(died ? "stopping: the service failed" : "stopping on a signal");
    report_http_stop(&http);
    if (!died)
        log_info("stopping", "signal=%s", "TERM");
    return died ? 1 : 0;
}
