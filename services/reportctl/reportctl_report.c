/* reportctl compile YYYY-MM and reportctl publish YYYY-MM: ask the aggregator, over its CURVE
 * control socket, for the draft of a period or to freeze and publish it. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_push.h"
#include "report_period.h"
#include "report_service.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *control_endpoint;
    char *agency;
    char *format;
    int64_t number;
    char *date;
    char *basis;
    int64_t timeout_ms;
    reportctl_curve_t curve;
} s_report_config_t;

#define F(field) offsetof(s_report_config_t, field)
const report_setting_t reportctl_report_settings[] = {
    {"control-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5574", F(control_endpoint), 0, 0,
     "aggregator control endpoint"},
    {"agency", REPORT_SETTING_STRING, "", F(agency), 0, 0, "agency code (default: the only one)"},
    {"format", REPORT_SETTING_STRING, "text", F(format), 0, 0,
     "compile: text, markdown, html or json"},
    {"number", REPORT_SETTING_INT, "0", F(number), 0, 100000000,
     "document number (publish: required; compile: preview)"},
    {"date", REPORT_SETTING_STRING, "", F(date), 0, 0,
     "document date YYYY-MM-DD (publish: required; compile: preview)"},
    {"basis", REPORT_SETTING_STRING, "", F(basis), 0, 0,
     "requesting document cited in the legal-basis paragraph"},
    {"timeout-ms", REPORT_SETTING_INT, "30000", F(timeout_ms), 100, 3600000,
     "wait for the aggregator's answer"},
    REPORT_SETTINGS_INCLUDE(reportctl_curve_settings, F(curve)),
    REPORT_SETTINGS_END};
#undef F

static int s_report(int argc, char **argv, bool publish)
{
    s_report_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_report_settings, &cfg, argc, argv, &args, &nargs);
    int year = 0, month = 0;
    if (rc == 0 && (nargs != 1 || report_period_parse(args[0], &year, &month) != 0)) {
        fprintf(stderr, "reportctl %s: give one period as YYYY-MM\n", argv[0]);
        rc = -1;
    }
    free(args);
    if (rc != 0) {
        reportctl_usage(rc == 1 ? stdout : stderr);
        report_settings_free(reportctl_report_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("reportctl", cfg.curve.log_level);
    report_control_request_t req = {0};
    req.kind = publish ? REPORT_CONTROL_PUBLISH : REPORT_CONTROL_COMPILE;
    req.agency_code = cfg.agency;
    req.year = year;
    req.month = month;
    req.format = cfg.format;
    req.number = (int)cfg.number;
    req.date = cfg.date;
    req.basis = cfg.basis;
    report_control_reply_t reply;
    int exit_code = 0;
    report_client_keys_t keys;
    if (reportctl_curve_keys(&cfg.curve, argv[0], &keys) != 0) {
        report_settings_free(reportctl_report_settings, &cfg);
        return 2;
    }
    if (report_control_call(cfg.control_endpoint, &keys, &req, &reply, cfg.timeout_ms) != 0) {
        fprintf(stderr, "error: no answer from the aggregator at %s%s\n", cfg.control_endpoint,
                publish ? " (the report may or may not be published: check with "
                          "reportctl subscribe --once)"
                        : "");
        exit_code = 1;
    } else if (!reply.ok) {
        fprintf(stderr, "error: %s: %s\n", reply.error_code, reply.message);
        exit_code = 1;
    } else {
        if (publish && reply.report) {
            const report_published_t *r = reply.report;
            printf("published %s %04d-%02d version=%d number=%d date=%s seq=%llu sha256=%s\n",
                   r->agency_code, r->year, r->month, r->version, r->number, r->doc_date,
                   (unsigned long long)r->seq, r->sha256);
        } else {
            fputs(reply.body, stdout);
        }
        if (reply.missing_count) {
            fprintf(stderr, "units that have pushed nothing for %04d-%02d:\n", year, month);
            for (size_t i = 0; i < reply.missing_count; i++)
                fprintf(stderr, "  %s\n", reply.missing_units[i]);
        }
        for (size_t i = 0; i < reply.warning_count; i++)
            fprintf(stderr, "warning: %s\n", reply.warnings[i]);
    }
    report_control_reply_clear(&reply);
    report_settings_free(reportctl_report_settings, &cfg);
    return exit_code;
}

int reportctl_compile(int argc, char **argv)
{
    return s_report(argc, argv, false);
}

int reportctl_publish(int argc, char **argv)
{
    return s_report(argc, argv, true);
}
