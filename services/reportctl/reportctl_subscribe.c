/* reportctl subscribe --out DIR: receives published reports, catching up first. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_push.h"
#include "report_service.h"
#include "report_subscriber.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *publish_endpoint;
    char *catchup_endpoint;
    char *out;
    char *agency;
    int64_t count;
    bool once;
    int64_t deadline_ms;
    int64_t catchup_interval_ms;
    char *key;
    char *server_key;
    bool insecure_plain;
    char *log_level;
} s_subscribe_config_t;

#define F(field) offsetof(s_subscribe_config_t, field)
const report_setting_t reportctl_subscribe_settings[] = {
    {"publish-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5572", F(publish_endpoint), 0, 0,
     "aggregator PUB endpoint"},
    {"catchup-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5573", F(catchup_endpoint), 0, 0,
     "aggregator catch-up endpoint"},
    {"out", REPORT_SETTING_STRING, "", F(out), 0, 0, "directory for the received reports"},
    {"agency", REPORT_SETTING_STRING, "", F(agency), 0, 0, "only this agency (default: all)"},
    {"count", REPORT_SETTING_INT, "0", F(count), 0, 1000000,
     "exit after receiving this many new reports (0: run until stopped)"},
    {"once", REPORT_SETTING_BOOL, "false", F(once), 0, 0, "catch up, then exit"},
    {"deadline-ms", REPORT_SETTING_INT, "0", F(deadline_ms), 0, 86400000,
     "give up (exit 1) after this long; 0: never"},
    {"catchup-interval-ms", REPORT_SETTING_INT, "30000", F(catchup_interval_ms), 100, 86400000,
     "ask for missed reports this often"},
    REPORTCTL_CURVE_SETTINGS(s_subscribe_config_t),
    REPORT_SETTINGS_END};
#undef F

int reportctl_subscribe(int argc, char **argv)
{
    s_subscribe_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_subscribe_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc == 0 && (nargs != 0 || !*cfg.out)) {
        fprintf(stderr, "reportctl subscribe: --out DIR is required\n");
        rc = -1;
    }
    if (rc != 0) {
        reportctl_usage(rc == 1 ? stdout : stderr);
        report_settings_free(reportctl_subscribe_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("subscriber", cfg.log_level);
    report_subscriber_config_t scfg;
    report_subscriber_config_default(&scfg);
    scfg.publish_endpoint = cfg.publish_endpoint;
    scfg.catchup_endpoint = cfg.catchup_endpoint;
    scfg.out_dir = cfg.out;
    scfg.agency_code = cfg.agency;
    scfg.max_reports = cfg.count;
    scfg.once = cfg.once;
    scfg.deadline_ms = cfg.deadline_ms;
    scfg.catchup_interval_ms = cfg.catchup_interval_ms;
    report_error_t err;
    if (report_client_keys_load(cfg.key, cfg.server_key, cfg.insecure_plain, &scfg.keys, &err) !=
        0) {
        fprintf(stderr, "reportctl subscribe: %s\n", err.message);
        report_settings_free(reportctl_subscribe_settings, &cfg);
        return 2;
    }
    int saved = report_subscriber_run(&scfg, &report_service_stop);
    report_settings_free(reportctl_subscribe_settings, &cfg);
    return saved < 0 ? 1 : 0;
}
