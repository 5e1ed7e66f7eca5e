/* Compile benchmark: times report_compile() (the aggregator's compile path: every statement
 * against PostgreSQL, the document built in C) and the text rendering of the result (with
 * --sources: the provenance read too and the draft's JSON with it), on a
 * database already filled by tests/bench/compile_scale.sh. Prints one line of figures.
 * Never part of the pass/fail suite. */
#define _GNU_SOURCE
#include "report_compile.h"
#include "report_config.h"
#include "report_db.h"
#include "report_doc.h"
#include "report_log.h"
#include "report_provenance.h"
#include "report_util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *db;
    char *agency;
    int64_t year;
    int64_t month;
    int64_t runs;
    bool sources;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0,
     "connection string (the aggregator's role, report_reporter)"},
    {"agency", REPORT_SETTING_STRING, "SKHCN", F(agency), 0, 0, "agency code"},
    {"year", REPORT_SETTING_INT, "2018", F(year), 2000, 2100, "year of the period"},
    {"month", REPORT_SETTING_INT, "7", F(month), 1, 12, "month of the period"},
    {"runs", REPORT_SETTING_INT, "3", F(runs), 1, 100, "timed runs (the best is reported)"},
    {"sources", REPORT_SETTING_BOOL, "false", F(sources), 0, 0,
     "compile with the provenance of the office's draft and render it as JSON"},
    REPORT_SETTINGS_END};
#undef F

static size_t s_items(const report_doc_t *doc)
{
    size_t n = doc->limitation_count + doc->next_task_count;
    for (size_t i = 0; i < doc->area_count; i++)
        n += doc->areas[i].item_count;
    return n;
}

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    if (report_settings_load(s_settings, &cfg, argc, argv, &args, &nargs) != 0) {
        report_settings_usage(s_settings, stderr);
        return 2;
    }
    free(args);
    report_log_set_level("warn");
    report_db_t *db = report_db_new(cfg.db);
    if (report_db_connect(db) != 0) {
        fprintf(stderr, "database: %s\n", report_db_error(db));
        return 1;
    }
    report_compile_request_t req = {cfg.agency, (int)cfg.year, (int)cfg.month, 0,
                                    NULL,       NULL,          cfg.sources};
    int64_t best = -1, best_compile = 0, best_render = 0;
    size_t items = 0, bytes = 0;
    int rc = 0;
    for (int64_t r = 0; r < cfg.runs && rc == 0; r++) {
        int64_t t0 = report_clock_ms();
        report_compiled_t out;
        if (report_compile(db, &req, &out) != 0) {
            fprintf(stderr, "compile: %s: %s\n", out.error.code, out.error.message);
            rc = 1;
        } else {
            int64_t t1 = report_clock_ms();
            char *text =
                cfg.sources ? report_provenance_render_json(&out) : report_render_text(out.doc);
            int64_t t2 = report_clock_ms();
            if (!text) {
                fprintf(stderr, "render failed\n");
                rc = 1;
            } else if (best < 0 || t2 - t0 < best) {
                best = t2 - t0;
                best_compile = t1 - t0;
                best_render = t2 - t1;
                items = s_items(out.doc);
                bytes = strlen(text);
            }
            free(text);
        }
        report_compiled_clear(&out);
    }
    report_db_destroy(&db);
    if (rc == 0)
        printf("items=%zu text_bytes=%zu best_ms=%lld compile_ms=%lld render_ms=%lld runs=%lld\n",
               items, bytes, (long long)best, (long long)best_compile, (long long)best_render,
               (long long)cfg.runs);
    return rc;
}
