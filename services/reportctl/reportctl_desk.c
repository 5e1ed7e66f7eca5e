/* reportctl desk: the subdivision's desk, a small web application on 127.0.0.1 for the clerk
 * who reports the unit's month (desk_http.c serves it). It runs on the unit's own machine with
 * the unit's key; it prints the URL to open, with a random token as Jupyter does, and serves
 * until it is stopped (Ctrl-C, SIGTERM). */
#define _DEFAULT_SOURCE
#include "desk_http.h"
#include "reportctl.h"
#include "report_log.h"
#include "report_service.h"
#include "report_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>

typedef struct {
    char *desk_endpoint;
    char *collector;
    int64_t port;
    int64_t timeout_ms;
    int64_t push_deadline_ms;
    int64_t max_body_bytes;
    int64_t max_connections;
    reportctl_curve_t curve;
} s_desk_config_t;

#define F(field) offsetof(s_desk_config_t, field)
const report_setting_t reportctl_desk_settings[] = {
    {"desk-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5575", F(desk_endpoint), 0, 0,
     "the aggregator's desk endpoint (catalogue, the unit's own items, previews)"},
    {"collector", REPORT_SETTING_STRING, "tcp://127.0.0.1:5570", F(collector), 0, 0,
     "where the desk sends updates (a comma-separated list of collectors)"},
    {"port", REPORT_SETTING_INT, "8765", F(port), 0, 65535,
     "the page's port on 127.0.0.1 (0: any free port)"},
    {"timeout-ms", REPORT_SETTING_INT, "10000", F(timeout_ms), 100, 600000,
     "wait for the aggregator's answer"},
    {"push-deadline-ms", REPORT_SETTING_INT, "30000", F(push_deadline_ms), 1000, 3600000,
     "a send without an answer by then shows UNKNOWN (sending again is safe)"},
    {"max-body-bytes", REPORT_SETTING_INT, "1048576", F(max_body_bytes), 1024, 16777216,
     "largest request the page may send"},
    {"max-connections", REPORT_SETTING_INT, "16", F(max_connections), 1, 1024,
     "the page's connections open at once"},
    REPORT_SETTINGS_INCLUDE(reportctl_curve_settings, F(curve)),
    REPORT_SETTINGS_END};
#undef F

/* The token's length in random bytes (written as twice as many hex digits). */
#define S_TOKEN_BYTES 24

/* A fresh random token, hex; 0, or -1 if the system has no randomness to give. */
static int s_token(char out[2 * S_TOKEN_BYTES + 1])
{
    unsigned char raw[S_TOKEN_BYTES];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    report_hex_write(out, raw, sizeof raw);
    out[2 * S_TOKEN_BYTES] = '\0';
    return 0;
}

static int s_serve(const s_desk_config_t *cfg, const report_client_keys_t *keys)
{
    char token[2 * S_TOKEN_BYTES + 1];
    if (s_token(token) != 0) {
        fprintf(stderr, "reportctl desk: no random token (getrandom failed)\n");
        return 1;
    }
    desk_http_config_t hc = {cfg->desk_endpoint,  cfg->collector,       *keys,
                             (int)cfg->port,      cfg->timeout_ms,      cfg->push_deadline_ms,
                             cfg->max_body_bytes, cfg->max_connections, token};
    desk_http_t *http = desk_http_start(&hc);
    memset(&hc.keys, 0, sizeof hc.keys);
    if (!http) {
        fprintf(stderr, "reportctl desk: cannot listen on 127.0.0.1:%lld\n", (long long)cfg->port);
        return 1;
    }
    printf("The desk is open at http://127.0.0.1:%d/?token=%s\n", desk_http_port(http), token);
    printf("(Ctrl-C closes it; the address works only on this machine)\n");
    fflush(stdout);
    /* asleep until SIGINT or SIGTERM: blocked while the flag is read, so that one arriving
     * just after the check still ends the wait */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, &old);
    while (!report_service_stop)
        sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    desk_http_stop(&http);
    return 0;
}

int reportctl_desk(int argc, char **argv)
{
    s_desk_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_desk_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc == 0 && nargs != 0) {
        fprintf(stderr, "reportctl desk: takes no arguments\n");
        rc = -1;
    }
    report_client_keys_t keys;
    if (rc != 0 || reportctl_curve_keys(&cfg.curve, "desk", &keys) != 0) {
        if (rc != 0)
            reportctl_usage(rc == 1 ? stdout : stderr);
        report_settings_free(reportctl_desk_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("reportctl", cfg.curve.log_level);
    int exit_code = s_serve(&cfg, &keys);
    memset(&keys, 0, sizeof keys);
    report_settings_free(reportctl_desk_settings, &cfg);
    return exit_code;
}
