/* reportctl push FILE.json...: sends updates with acknowledgements, one line per update with
 * its outcome; the exit status is the worst outcome. */
#define _DEFAULT_SOURCE
#include "reportctl.h"
#include "report_push.h"
#include "report_json.h"
#include "report_keys.h"
#include "report_log.h"
#include "report_service.h"
#include "report_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    report_client_config_t client;
    char *unit_keys;
    reportctl_curve_t curve;
} s_push_config_t;

/* Exit statuses of push (sysexits.h values where one fits): every update STORED or
 * DUPLICATE; some REJECTED (or a file unreadable); usage or keys; some UNKNOWN: not confirmed
 * by the deadline, re-run the same file (EX_TEMPFAIL). UNKNOWN wins over REJECTED, since a
 * re-run is what settles it. */
enum {
    S_PUSH_EXIT_OK = 0,
    S_PUSH_EXIT_REJECTED = 1,
    S_PUSH_EXIT_USAGE = 2,
    S_PUSH_EXIT_UNKNOWN = 75
};

#define F(field) offsetof(s_push_config_t, field)
const report_setting_t reportctl_push_settings[] = {
    REPORT_SETTINGS_INCLUDE(report_client_settings, F(client)),
    {"unit-keys", REPORT_SETTING_STRING, "", F(unit_keys), 0, 0,
     "push each unit's updates with DIR/UNIT.key (an office relaying several units)"},
    REPORT_SETTINGS_INCLUDE(reportctl_curve_settings, F(curve)),
    REPORT_SETTINGS_END};
#undef F

/* Counts of final outcomes over all files of one push. */
typedef struct {
    size_t stored, duplicate, rejected, unknown;
} s_push_totals_t;

/* One line per update; adds to the totals. */
static void s_push_print(report_update_t *const *updates, const report_reply_t *replies,
                         size_t count, s_push_totals_t *totals)
{
    for (size_t i = 0; i < count; i++) {
        const report_update_t *u = updates[i];
        const report_reply_t *r = &replies[i];
        printf("%-9s %04d-%02d %-12s %-36s %s", report_outcome_name(r->outcome), u->year, u->month,
               u->unit_code, u->update_id, u->item_key);
        if (r->outcome != REPORT_OUTCOME_STORED && r->outcome != REPORT_OUTCOME_DUPLICATE)
            printf(" reason=%s message=%s",
                   r->reason != REPORT_REASON_none ? report_reason_name(r->reason) : "-",
                   report_logq(r->message));
        printf("\n");
        switch (r->outcome) {
        case REPORT_OUTCOME_STORED:
            totals->stored++;
            break;
        case REPORT_OUTCOME_DUPLICATE:
            totals->duplicate++;
            break;
        case REPORT_OUTCOME_REJECTED:
            totals->rejected++;
            break;
        default:
            totals->unknown++;
            break;
        }
    }
}

/* The client keys of a push: the unit's pair (or, with --unit-keys, only the server's key).
 * 0, or -1 after printing the problem. */
static int s_push_keys(const s_push_config_t *cfg, report_client_keys_t *keys)
{
    memset(keys, 0, sizeof *keys);
    keys->plain = cfg->curve.insecure_plain;
    if (!*cfg->unit_keys)
        return reportctl_curve_keys(&cfg->curve, "push", keys);
    if (cfg->curve.insecure_plain)
        return 0;
    if (report_keys_resolve_public(cfg->curve.server_key, keys->server_public) == 0)
        return 0;
    fprintf(stderr, "reportctl push: cannot read the server public key '%s'\n",
            cfg->curve.server_key);
    return -1;
}

/* Pushes each file in turn, each a push (and session) of its own: an answer to a copy sent for
 * one file cannot settle an update of the next, even under the same id. The exit status is
 * the worst outcome (see S_PUSH_EXIT_*). */
static int s_push_files(const s_push_config_t *cfg, const report_client_config_t *ccfg,
                        char **files, int nfiles)
{
    bool by_unit = *cfg->unit_keys != '\0';
    report_client_t *client = by_unit ? NULL : report_client_new_config(ccfg);
    uint64_t failovers = 0;
    if (!by_unit && !client) {
        fprintf(stderr, "reportctl push: cannot create a ZeroMQ context; nothing was sent\n");
        return S_PUSH_EXIT_REJECTED;
    }
    s_push_totals_t totals = {0};
    bool file_failed = false;
    char err[512];
    for (int f = 0; f < nfiles && !report_service_stop; f++) {
        report_update_t **updates = NULL;
        size_t count = 0;
        if (report_json_load_updates(files[f], &updates, &count, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", files[f], err);
            file_failed = true;
            continue;
        }
        report_reply_t *replies = report_calloc(count ? count : 1, sizeof(report_reply_t));
        if (by_unit)
            report_client_push_by_unit(ccfg, cfg->unit_keys, updates, count, replies);
        else
            report_client_push(client, updates, count, replies);
        s_push_print(updates, replies, count, &totals);
        free(replies);
        report_updates_free(updates, count);
    }
    failovers = report_client_failovers(client);
    report_client_destroy(&client);
    fflush(stdout);
    fprintf(stderr, "pushed: stored=%zu duplicate=%zu rejected=%zu unknown=%zu\n", totals.stored,
            totals.duplicate, totals.rejected, totals.unknown);
    if (failovers)
        fprintf(stderr, "collector failovers: %llu (moved on to the next --endpoint)\n",
                (unsigned long long)failovers);
    if (totals.unknown) {
        fprintf(stderr,
                "UNKNOWN: %zu update(s) not confirmed; re-run the same file: updates "
                "already stored will answer DUPLICATE\n",
                totals.unknown);
        return S_PUSH_EXIT_UNKNOWN;
    }
    return totals.rejected || file_failed ? S_PUSH_EXIT_REJECTED : S_PUSH_EXIT_OK;
}

int reportctl_push(int argc, char **argv)
{
    s_push_config_t cfg = {0};
    char **files = NULL;
    int nfiles = 0;
    int rc = report_settings_load(reportctl_push_settings, &cfg, argc, argv, &files, &nfiles);
    int exit_code = S_PUSH_EXIT_USAGE;
    report_endpoints_t endpoints;
    report_error_t err;
    if (rc != 0 || nfiles == 0) {
        reportctl_usage(rc == 1 ? stdout : stderr);
        if (rc == 1)
            exit_code = S_PUSH_EXIT_OK;
    } else if (report_endpoints_parse(cfg.client.endpoint, &endpoints, &err) != 0) {
        fprintf(stderr, "reportctl push: --endpoint: %s: %s; nothing was sent\n", err.code,
                err.message);
    } else {
        report_service_logging("reportctl", cfg.curve.log_level);
        cfg.client.stop = &report_service_stop;
        if (s_push_keys(&cfg, &cfg.client.keys) == 0)
            exit_code = s_push_files(&cfg, &cfg.client, files, nfiles);
        memset(&cfg.client.keys, 0, sizeof cfg.client.keys);
    }
    free(files);
    report_settings_free(reportctl_push_settings, &cfg);
    return exit_code;
}
