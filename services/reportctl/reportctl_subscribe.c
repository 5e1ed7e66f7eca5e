/* reportctl subscribe --out DIR: receives published reports, catching up first (from one or
 * several aggregators). */
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
    report_subscriber_config_t sub;
    reportctl_curve_t curve;
} s_subscribe_config_t;

#define F(field) offsetof(s_subscribe_config_t, field)
const report_setting_t reportctl_subscribe_settings[] = {
    REPORT_SETTINGS_INCLUDE(report_subscriber_settings, F(sub)),
    REPORT_SETTINGS_INCLUDE(reportctl_curve_settings, F(curve)), REPORT_SETTINGS_END};
#undef F

int reportctl_subscribe(int argc, char **argv)
{
    s_subscribe_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_subscribe_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc == 0 && (nargs != 0 || !*cfg.sub.out_dir)) {
        fprintf(stderr, "reportctl subscribe: --out DIR is required\n");
        rc = -1;
    }
    report_endpoints_t publishers, catchups;
    report_error_t err;
    if (rc == 0 && report_subscriber_endpoints_check(&cfg.sub, &publishers, &catchups, &err) != 0) {
        fprintf(stderr, "reportctl subscribe: %s: %s\n", err.code, err.message);
        rc = -1;
    }
    if (rc != 0) {
        reportctl_usage(rc == 1 ? stdout : stderr);
        report_settings_free(reportctl_subscribe_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("subscriber", cfg.curve.log_level);
    if (reportctl_curve_keys(&cfg.curve, "subscribe", &cfg.sub.keys) != 0) {
        report_settings_free(reportctl_subscribe_settings, &cfg);
        return 2;
    }
    int saved = report_subscriber_run(&cfg.sub, &report_service_stop);
    report_settings_free(reportctl_subscribe_settings, &cfg);
    return saved < 0 ? 1 : 0;
}
