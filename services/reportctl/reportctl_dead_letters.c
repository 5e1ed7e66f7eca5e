/* reportctl dead-letters list|show|replay: refused input as the store kept it, and its replay
 * by an operator once the cause is fixed (report_dead_letters.c answers on the aggregator). A
 * replay without an id replays every dead letter of the filters that was kept whole and not
 * replayed yet, one request each. Also the call every administration command shares. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_push.h"
#include "report_log.h"
#include "report_service.h"
#include "report_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(field) offsetof(reportctl_admin_t, field)
const report_setting_t reportctl_admin_settings[] = {
    {"control-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5574", F(control_endpoint), 0, 0,
     "aggregator control endpoint"},
    {"timeout-ms", REPORT_SETTING_INT, "30000", F(timeout_ms), 100, 3600000,
     "wait for the aggregator's answer"},
    REPORT_SETTINGS_INCLUDE(reportctl_curve_settings, F(curve)),
    REPORT_SETTINGS_END};
#undef F

typedef struct {
    reportctl_admin_t admin;
    char *reason, *unit;
} s_dead_letters_config_t;

#define F(field) offsetof(s_dead_letters_config_t, field)
const report_setting_t reportctl_dead_letters_settings[] = {
    {"reason", REPORT_SETTING_STRING, "", F(reason), 0, 0,
     "list and replay: only this reason (e.g. unknown_indicator)"},
    {"unit", REPORT_SETTING_STRING, "", F(unit), 0, 0, "list and replay: only this unit"},
    REPORT_SETTINGS_INCLUDE(reportctl_admin_settings, F(admin)),
    REPORT_SETTINGS_END};
#undef F

/* Sends req; prints the body on stdout, findings on stdout, warnings and a refusal on stderr.
 * The exit status: 0 done, 1 refused (or findings), 2 no keys, 3 no answer. */
static int s_call(const reportctl_admin_t *admin, const char *command,
                  const report_control_request_t *req, report_control_reply_t *reply)
{
    report_client_keys_t keys;
    if (reportctl_curve_keys(&admin->curve, command, &keys) != 0)
        return 2;
    report_service_logging("reportctl", admin->curve.log_level);
    int rc = report_control_call(admin->control_endpoint, &keys, req, reply, admin->timeout_ms);
    memset(&keys, 0, sizeof keys);
    if (rc != 0) {
        fprintf(stderr, "error: no answer from the aggregator at %s\n", admin->control_endpoint);
        return 3;
    }
    for (size_t i = 0; i < reply->finding_count; i++)
        printf("finding: %s\n", reply->findings[i]);
    for (size_t i = 0; i < reply->warning_count; i++)
        fprintf(stderr, "warning: %s\n", reply->warnings[i]);
    if (!reply->ok) {
        fprintf(stderr, "error: %s: %s\n", reply->error_code, reply->message);
        return 1;
    }
    fputs(reply->body ? reply->body : "", stdout);
    return reply->finding_count ? 1 : 0;
}

int reportctl_admin_call(const reportctl_admin_t *admin, const char *command,
                         const report_control_request_t *req)
{
    report_control_reply_t reply = {0};
    int rc = s_call(admin, command, req, &reply);
    report_control_reply_clear(&reply);
    return rc;
}

/* replay without an id: every dead letter listed whole (column 7) and not replayed (column
 * 8 "-"), each in its own request; the worst exit status. */
static int s_replay_all(const reportctl_admin_t *admin, report_control_request_t *req)
{
    report_control_reply_t list = {0};
    req->action = "list";
    int rc = s_call(admin, "dead-letters", req, &list);
    if (rc != 0 || !list.body) {
        report_control_reply_clear(&list);
        return rc;
    }
    int worst = 0, replayed = 0;
    char *save = NULL;
    for (char *line = strtok_r(list.body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *col[9] = {0}, *s2 = NULL;
        int n = 0;
        for (char *c = strtok_r(line, "\t", &s2); c && n < 9; c = strtok_r(NULL, "\t", &s2))
            col[n++] = c;
        if (n < 8 || strcmp(col[6], "whole") != 0 || strcmp(col[7], "-") != 0)
            continue;
        report_control_request_t one = {.kind = REPORT_CONTROL_DEAD_LETTER,
                                        .action = "replay",
                                        .dead_letter_id = strtoll(col[0], NULL, 10)};
        int one_rc = reportctl_admin_call(admin, "dead-letters", &one);
        worst = one_rc > worst ? one_rc : worst;
        replayed++;
    }
    fprintf(stderr, "replayed: %d dead letter(s)\n", replayed);
    report_control_reply_clear(&list);
    return worst;
}

int reportctl_dead_letters(int argc, char **argv)
{
    s_dead_letters_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(reportctl_dead_letters_settings, &cfg, argc, argv, &args, &nargs);
    const char *action = rc == 0 && nargs > 0 ? args[0] : "";
    bool list = strcmp(action, "list") == 0 && nargs == 1;
    bool one = (strcmp(action, "show") == 0 || strcmp(action, "replay") == 0) && nargs == 2;
    bool all = strcmp(action, "replay") == 0 && nargs == 1;
    long long id = one ? strtoll(args[1], NULL, 10) : 0;
    int exit_code = rc == 1 ? 0 : 2;
    if (rc == 0 && (list || all || (one && id > 0))) {
        report_control_request_t req = {.kind = REPORT_CONTROL_DEAD_LETTER,
                                        .action = (char *)action,
                                        .reason = cfg.reason,
                                        .unit = cfg.unit,
                                        .dead_letter_id = id};
        exit_code =
            all ? s_replay_all(&cfg.admin, &req) : reportctl_admin_call(&cfg.admin, argv[0], &req);
    } else if (rc == 0) {
        fprintf(stderr, "reportctl dead-letters: give list | show ID | replay [ID] "
                        "[--reason R] [--unit U]\n");
    } else {
        reportctl_usage(rc == 1 ? stdout : stderr);
    }
    free(args);
    report_settings_free(reportctl_dead_letters_settings, &cfg);
    return exit_code;
}
