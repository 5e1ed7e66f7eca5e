/* reportctl: the command line of the reporting pipeline.
 *   reportctl push FILE.json...   send updates, print one line per update with its outcome */
#include "report_client.h"
#include "report_config.h"
#include "report_json.h"
#include "report_log.h"
#include "report_service.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *endpoint;
    int64_t timeout_ms;
    int64_t retries;
    int64_t busy_retries;
    int64_t window;
    char *log_level;
} s_push_config_t;

#define F(field) offsetof(s_push_config_t, field)
static const report_setting_t s_push_settings[] = {
    {"endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5570", F(endpoint), 0, 0,
     "collector to push to"},
    {"timeout-ms", REPORT_SETTING_INT, "5000", F(timeout_ms), 10, 3600000,
     "wait for an answer before resending the same update"},
    {"retries", REPORT_SETTING_INT, "3", F(retries), 0, 1000, "resends after a timeout"},
    {"busy-retries", REPORT_SETTING_INT, "50", F(busy_retries), 0, 100000,
     "resends after BUSY answers"},
    {"window", REPORT_SETTING_INT, "500", F(window), 1, 100000,
     "updates sent and not yet answered, at most"},
    {"log-level", REPORT_SETTING_STRING, "warn", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};
#undef F

static void s_usage(FILE *out)
{
    fprintf(out, "usage: reportctl COMMAND [options] [args]\n"
                 "commands:\n"
                 "  push FILE.json...   send updates to a collector; one line per update;\n"
                 "                      exit 0 only if all were STORED or DUPLICATE\n"
                 "push options:\n");
    report_settings_usage(s_push_settings, out);
}

static int s_push(int argc, char **argv)
{
    s_push_config_t cfg = {0};
    char **files = NULL;
    int nfiles = 0;
    int rc = report_settings_load(s_push_settings, &cfg, argc, argv, &files, &nfiles);
    if (rc != 0 || nfiles == 0) {
        s_usage(rc == 1 ? stdout : stderr);
        free(files);
        report_settings_free(s_push_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("reportctl", cfg.log_level);
    report_client_config_t ccfg;
    report_client_config_default(&ccfg);
    ccfg.endpoint = cfg.endpoint;
    ccfg.timeout_ms = cfg.timeout_ms;
    ccfg.retries = cfg.retries;
    ccfg.busy_retries = cfg.busy_retries;
    ccfg.window = cfg.window;
    report_client_t *client = report_client_new(&ccfg);
    int exit_code = client ? 0 : 1;
    size_t totals[5] = {0};
    for (int f = 0; client && f < nfiles; f++) {
        report_update_t **updates = NULL;
        size_t count = 0;
        char err[512];
        if (report_json_load_updates(files[f], &updates, &count, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", files[f], err);
            exit_code = 1;
            continue;
        }
        report_reply_t *replies = calloc(count ? count : 1, sizeof(report_reply_t));
        if (report_client_push(client, updates, count, replies) != 0)
            exit_code = 1;
        for (size_t i = 0; i < count; i++) {
            const report_update_t *u = updates[i];
            const report_reply_t *r = &replies[i];
            const char *outcome =
                r->outcome == REPORT_OUTCOME_NONE ? "TIMEOUT" : report_outcome_name(r->outcome);
            printf("%-9s %04d-%02d %-12s %-36s %s", outcome, u->year, u->month, u->unit_code,
                   u->update_id, u->item_key);
            if (r->outcome != REPORT_OUTCOME_STORED && r->outcome != REPORT_OUTCOME_DUPLICATE)
                printf(" reason=%s message=%s", r->reason[0] ? r->reason : "-",
                       report_logq(r->message));
            printf("\n");
            totals[r->outcome <= REPORT_OUTCOME_BUSY ? r->outcome : 0]++;
        }
        free(replies);
        report_updates_free(updates, count);
    }
    fflush(stdout);
    fprintf(stderr, "pushed: stored=%zu duplicate=%zu rejected=%zu busy=%zu timeout=%zu\n",
            totals[REPORT_OUTCOME_STORED], totals[REPORT_OUTCOME_DUPLICATE],
            totals[REPORT_OUTCOME_REJECTED], totals[REPORT_OUTCOME_BUSY],
            totals[REPORT_OUTCOME_NONE]);
    report_client_destroy(&client);
    free(files);
    report_settings_free(s_push_settings, &cfg);
    return exit_code;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    report_service_signals();
    if (strcmp(argv[1], "push") == 0)
        return s_push(argc - 1, argv + 1);
    fprintf(stderr, "reportctl: unknown command '%s'\n", argv[1]);
    s_usage(stderr);
    return 2;
}
