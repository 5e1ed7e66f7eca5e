/* reportctl compile YYYY-MM, publish YYYY-MM and check YYYY-MM: ask the aggregator, over its
 * CURVE control socket, for the draft of a period, to freeze and publish it, or for the format
 * check's findings on the draft. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_push.h"
#include "report_period.h"
#include "report_file.h"
#include "report_log.h"
#include "report_service.h"
#include "report_util.h"

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
    bool force;
    bool sources;
    int64_t version;
    reportctl_curve_t curve;
} s_report_config_t;

#define F(field) offsetof(s_report_config_t, field)
const report_setting_t reportctl_report_settings[] = {
    {"control-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5574", F(control_endpoint), 0, 0,
     "aggregator control endpoint; a comma-separated list names every aggregator, tried in turn "
     "until one that is not the standby answers"},
    {"agency", REPORT_SETTING_STRING, "", F(agency), 0, 0, "agency code (default: the only one)"},
    {"format", REPORT_SETTING_STRING, "text", F(format), 0, 0,
     "compile: text, markdown, html, json or pdf (to stdout)"},
    {"number", REPORT_SETTING_INT, "0", F(number), 0, 100000000,
     "document number (publish: required; compile: preview)"},
    {"date", REPORT_SETTING_STRING, "", F(date), 0, 0,
     "document date YYYY-MM-DD (publish: required; compile: preview)"},
    {"basis", REPORT_SETTING_STRING, "", F(basis), 0, 0,
     "requesting document cited in the legal-basis paragraph"},
    {"timeout-ms", REPORT_SETTING_INT, "30000", F(timeout_ms), 100, 3600000,
     "wait for the aggregator's answer"},
    {"force", REPORT_SETTING_BOOL, "false", F(force), 0, 0,
     "publish: despite the format check's findings (they are recorded with the version)"},
    {"sources", REPORT_SETTING_BOOL, "false", F(sources), 0, 0,
     "compile --format html: mark every paragraph and figure with where it came from, list the "
     "units missing, the items changed since the last compile and the numbers typed in the text "
     "(--format json always does)"},
    {"version", REPORT_SETTING_INT, "0", F(version), 0, 1000000,
     "attach-signed: the published version the signed PDF is of"},
    REPORT_SETTINGS_INCLUDE(reportctl_curve_settings, F(curve)),
    REPORT_SETTINGS_END};
#undef F

typedef enum { S_COMPILE, S_PUBLISH, S_CHECK, S_ATTACH } s_mode_t;

/* The largest signed PDF read (the aggregator bounds it too: max-signed-bytes). */
#define S_SIGNED_MAX (1u << 30)

/* What the aggregator answered, on stdout (the document, the PDF, the published version, the
 * findings) and stderr (units missing, warnings, why it was refused). The exit status. */
static int s_print(const report_control_reply_t *reply, s_mode_t mode, int year, int month)
{
    for (size_t i = 0; i < reply->finding_count; i++)
        fprintf(mode == S_CHECK ? stdout : stderr, "finding: %s\n", reply->findings[i]);
    if (!reply->ok) {
        fprintf(stderr, "error: %s: %s\n", reply->error_code, reply->message);
        return 1;
    }
    if (mode == S_ATTACH && reply->report) {
        const report_published_t *r = reply->report;
        printf("attached the signed form of %s %04d-%02d version=%d seq=%llu signer=%s "
               "signing_time=%s (%s)\n",
               r->agency_code, r->year, r->month, r->version, (unsigned long long)r->seq,
               report_logq(r->signer), report_logq(r->signing_time), reply->message);
    } else if (mode == S_PUBLISH && reply->report) {
        const report_published_t *r = reply->report;
        printf("published %s %04d-%02d version=%d number=%d date=%s seq=%llu sha256=%s "
               "pdf_pages=%d pdf_bytes=%zu findings=%zu\n",
               r->agency_code, r->year, r->month, r->version, r->number, r->doc_date,
               (unsigned long long)r->seq, r->sha256, r->pdf_pages, r->pdf_size,
               reply->finding_count);
    } else if (reply->pdf) {
        /* the PDF itself on stdout (redirect it to a file); what it is on stderr */
        fwrite(reply->pdf, 1, reply->pdf_size, stdout);
        fprintf(stderr, "%s\n", reply->body);
    } else if (mode == S_CHECK) {
        printf("format check %04d-%02d: %s\n", year, month, reply->body);
    } else {
        fputs(reply->body, stdout);
    }
    if (reply->missing_count) {
        fprintf(stderr, "units that have pushed nothing for %04d-%02d:\n", year, month);
        for (size_t i = 0; i < reply->missing_count; i++)
            fprintf(stderr, "  %s\n", reply->missing_units[i]);
    }
    for (size_t i = 0; i < reply->warning_count; i++)
        fprintf(stderr, "warning: %s\n", reply->warnings[i]);
    return mode == S_CHECK && reply->finding_count ? 1 : 0;
}

/* Reads the signed PDF to attach; 0, or -1 after saying why. */
static int s_read_pdf(const char *path, uint8_t **data, size_t *size)
{
    char *text = report_file_read(path, S_SIGNED_MAX, size);
    if (!text || *size < 5 || memcmp(text, "%PDF-", 5) != 0) {
        fprintf(stderr, "reportctl attach-signed: %s is not a readable PDF of at most 1 GiB\n",
                path);
        free(text);
        return -1;
    }
    *data = (uint8_t *)text;
    return 0;
}

/* Calls the aggregators of endpoints (a comma-separated list) in turn until one answers
 * other than not_leader: the leader publishes, any of them compiles. Going on after an
 * aggregator did not answer is safe for a publication: its number is unique in its year, so
 * one that was published after all is answered duplicate_number. 0 with *reply filled (the
 * last not_leader when every aggregator answered so), or -1 if none answered. */
static int s_call_leader(const char *endpoints, const report_client_keys_t *keys,
                         const report_control_request_t *req, report_control_reply_t *reply,
                         int64_t timeout_ms)
{
    char *list = report_strdup(endpoints), *save = NULL;
    int rc = -1;
    for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        if (rc == 0)
            report_control_reply_clear(reply);
        rc = report_control_call(e, keys, req, reply, timeout_ms);
        if (rc != 0)
            log_warn("no answer from the aggregator, trying the next", "endpoint=%s", e);
        else if (!reply->ok && reply->error_code && strcmp(reply->error_code, "not_leader") == 0)
            log_warn("the aggregator is the standby, trying the next", "endpoint=%s", e);
        else
            break;
    }
    free(list);
    return rc;
}

static int s_report(int argc, char **argv, s_mode_t mode)
{
    s_report_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_report_settings, &cfg, argc, argv, &args, &nargs);
    int year = 0, month = 0;
    int want = mode == S_ATTACH ? 2 : 1;
    if (rc == 0 && (nargs != want || report_period_parse(args[0], &year, &month) != 0 ||
                    (mode == S_ATTACH && cfg.version <= 0))) {
        fprintf(stderr, "reportctl %s: give %s\n", argv[0],
                mode == S_ATTACH ? "the period as YYYY-MM, --version N and the signed PDF"
                                 : "one period as YYYY-MM");
        rc = -1;
    }
    uint8_t *signed_pdf = NULL;
    size_t signed_size = 0;
    if (rc == 0 && mode == S_ATTACH && s_read_pdf(args[1], &signed_pdf, &signed_size) != 0)
        rc = -1;
    free(args);
    report_client_keys_t keys;
    if (rc != 0 || reportctl_curve_keys(&cfg.curve, argv[0], &keys) != 0) {
        if (rc != 0)
            reportctl_usage(rc == 1 ? stdout : stderr);
        report_settings_free(reportctl_report_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("reportctl", cfg.curve.log_level);
    report_control_request_t req = {.kind = mode == S_PUBLISH ? REPORT_CONTROL_PUBLISH
                                                              : REPORT_CONTROL_COMPILE,
                                    .agency_code = cfg.agency,
                                    .year = year,
                                    .month = month,
                                    .format = mode == S_CHECK ? "check" : cfg.format,
                                    .number = (int)cfg.number,
                                    .date = cfg.date,
                                    .basis = cfg.basis,
                                    .force = cfg.force,
                                    .version = (int)cfg.version,
                                    .signed_pdf = signed_pdf,
                                    .signed_size = signed_size,
                                    .sources = mode == S_COMPILE && cfg.sources};
    if (mode == S_ATTACH)
        req.kind = REPORT_CONTROL_ATTACH;
    report_control_reply_t reply;
    int exit_code;
    if (s_call_leader(cfg.control_endpoint, &keys, &req, &reply, cfg.timeout_ms) != 0) {
        fprintf(stderr, "error: no answer from the aggregator at %s%s\n", cfg.control_endpoint,
                mode == S_PUBLISH ? " (the report may or may not be published: check with "
                                    "reportctl subscribe --once)"
                                  : "");
        exit_code = 1;
    } else {
        exit_code = s_print(&reply, mode, year, month);
        report_control_reply_clear(&reply);
    }
    memset(&keys, 0, sizeof keys);
    free(signed_pdf);
    report_settings_free(reportctl_report_settings, &cfg);
    return exit_code;
}

int reportctl_compile(int argc, char **argv)
{
    return s_report(argc, argv, S_COMPILE);
}

int reportctl_publish(int argc, char **argv)
{
    return s_report(argc, argv, S_PUBLISH);
}

int reportctl_check(int argc, char **argv)
{
    return s_report(argc, argv, S_CHECK);
}

int reportctl_attach_signed(int argc, char **argv)
{
    return s_report(argc, argv, S_ATTACH);
}
