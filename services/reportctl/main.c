/* reportctl: the command line of the reporting pipeline.
 *   reportctl push FILE.json...        send updates, one line per update with its outcome
 *   reportctl compile YYYY-MM          print the draft report (not published)
 *   reportctl publish YYYY-MM --number N --date YYYY-MM-DD [--basis TEXT]
 *   reportctl subscribe --out DIR      receive published reports, catching up first */
#define _DEFAULT_SOURCE
#include "report_client.h"
#include "report_config.h"
#include "report_db.h"
#include "report_http.h"
#include "report_json.h"
#include "report_keys.h"
#include "report_log.h"
#include "report_period.h"
#include "report_service.h"
#include "report_subscriber.h"
#include "report_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *endpoint;
    int64_t timeout_ms;
    int64_t backoff_max_ms;
    int64_t deadline_ms;
    int64_t window;
    int64_t max_message_bytes;
    char *key;
    char *server_key;
    bool insecure_plain;
    char *log_level;
    char *unit_keys;
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
static const report_setting_t s_push_settings[] = {
    {"endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5570", F(endpoint), 0, 0,
     "collector to push to"},
    {"timeout-ms", REPORT_SETTING_INT, "5000", F(timeout_ms), 10, 3600000,
     "first wait for an answer before resending the same update (then doubling)"},
    {"backoff-max-ms", REPORT_SETTING_INT, "30000", F(backoff_max_ms), 10, 3600000,
     "longest wait between two sends of one update (after a timeout or BUSY)"},
    {"deadline-ms", REPORT_SETTING_INT, "600000", F(deadline_ms), 100, 86400000,
     "keep resending until this long after the start; then UNKNOWN (exit 75)"},
    {"window", REPORT_SETTING_INT, "500", F(window), 1, 100000,
     "updates sent and not yet answered, at most"},
    {"max-message-bytes", REPORT_SETTING_INT, "262144", F(max_message_bytes), 256, 64 * 1024 * 1024,
     "the collector's max-message-bytes: a bigger update is REJECTED too_large, not sent"},
    {"unit-keys", REPORT_SETTING_STRING, "", F(unit_keys), 0, 0,
     "push each unit's updates with DIR/UNIT.key (an office relaying several units)"},
    {"key", REPORT_SETTING_STRING, "", F(key), 0, 0, "your CURVE key pair (.key file)"},
    {"server-key", REPORT_SETTING_STRING, "keys/server.pub", F(server_key), 0, 0,
     "the server's CURVE public key (.pub file or Z85)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE"},
    {"log-level", REPORT_SETTING_STRING, "warn", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};
#undef F

typedef struct {
    char *control_endpoint;
    char *agency;
    char *format;
    int64_t number;
    char *date;
    char *basis;
    int64_t timeout_ms;
    char *key;
    char *server_key;
    bool insecure_plain;
    char *log_level;
} s_report_config_t;

#define F(field) offsetof(s_report_config_t, field)
static const report_setting_t s_report_settings[] = {
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
    {"key", REPORT_SETTING_STRING, "", F(key), 0, 0, "your CURVE key pair (.key file)"},
    {"server-key", REPORT_SETTING_STRING, "keys/server.pub", F(server_key), 0, 0,
     "the server's CURVE public key (.pub file or Z85)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE"},
    {"log-level", REPORT_SETTING_STRING, "warn", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};
#undef F

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
static const report_setting_t s_subscribe_settings[] = {
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
    {"key", REPORT_SETTING_STRING, "", F(key), 0, 0, "your CURVE key pair (.key file)"},
    {"server-key", REPORT_SETTING_STRING, "keys/server.pub", F(server_key), 0, 0,
     "the server's CURVE public key (.pub file or Z85)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE"},
    {"log-level", REPORT_SETTING_STRING, "warn", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};
#undef F

typedef struct {
    char *out;
    char *keys_dir;
    char *public_key;
} s_keys_config_t;

#define F(field) offsetof(s_keys_config_t, field)
static const report_setting_t s_keys_settings[] = {
    {"out", REPORT_SETTING_STRING, "", F(out), 0, 0, "keygen: write OUT.key and OUT.pub"},
    {"keys-dir", REPORT_SETTING_STRING, "keys", F(keys_dir), 0, 0,
     "enrol/revoke: the services' keys directory"},
    {"public", REPORT_SETTING_STRING, "", F(public_key), 0, 0,
     "enrol: the public key (.pub file or Z85)"},
    REPORT_SETTINGS_END};
#undef F

static void s_usage(FILE *out)
{
    fprintf(out, "usage: reportctl COMMAND [options] [args]\n"
                 "commands:\n"
                 "  push FILE.json...   send updates to a collector; one line per update;\n"
                 "                      exit 0 if all were STORED or DUPLICATE, 1 if some were\n"
                 "                      REJECTED, 75 if some are UNKNOWN (not confirmed by\n"
                 "                      the deadline: re-run the same file, it is safe)\n"
                 "  compile YYYY-MM     print the draft of the period's report; the units that\n"
                 "                      have pushed nothing are listed on stderr\n"
                 "  publish YYYY-MM --number N --date YYYY-MM-DD [--basis TEXT]\n"
                 "                      freeze the report as a new version and send it\n"
                 "  subscribe --out DIR receive published reports (catching up first)\n"
                 "  migrate --db CONNINFO  apply pending database migrations (as the owner)\n"
                 "  status [--watch]    one screen for the whole pipeline, from the services'\n"
                 "                      metrics endpoints; exit 3 if a service is down\n"
                 "  keygen --out PATH   make a CURVE key pair: PATH.key (secret), PATH.pub\n"
                 "  enrol KIND NAME --public FILE   enrol a unit (NAME = unit code), recipient,\n"
                 "                      operator or store in --keys-dir (no restart needed)\n"
                 "  revoke KIND NAME    revoke it (moved to KEYS/revoked/)\n"
                 "push options:\n");
    report_settings_usage(s_push_settings, out);
    fprintf(out, "compile and publish options:\n");
    report_settings_usage(s_report_settings, out);
    fprintf(out, "subscribe options:\n");
    report_settings_usage(s_subscribe_settings, out);
    fprintf(out, "keygen, enrol and revoke options:\n");
    report_settings_usage(s_keys_settings, out);
}

/* keygen --out PATH | enrol KIND NAME --public FILE | revoke KIND NAME */
static int s_keys(int argc, char **argv)
{
    s_keys_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(s_keys_settings, &cfg, argc, argv, &args, &nargs);
    int exit_code = 2;
    char err[512] = "";
    if (rc == 0 && strcmp(argv[0], "keygen") == 0 && *cfg.out && nargs == 0) {
        report_keypair_t pair;
        exit_code = report_keys_generate(cfg.out, &pair) == 0 ? 0 : 1;
        if (exit_code == 0)
            printf("%s.key (secret, mode 0600) and %s.pub written; public key %s\n", cfg.out,
                   cfg.out, pair.public_key);
        else
            snprintf(err, sizeof err, "cannot write %s.key: %s", cfg.out, strerror(errno));
        memset(&pair, 0, sizeof pair);
    } else if (rc == 0 && strcmp(argv[0], "enrol") == 0 && nargs == 2) {
        char key[REPORT_Z85_KEY_LEN + 1] = "";
        if (report_keys_resolve_public(cfg.public_key, key) != 0)
            snprintf(err, sizeof err, "cannot read a public key from '%s'", cfg.public_key);
        exit_code = 1;
        if (!err[0] &&
            report_keys_enrol(cfg.keys_dir, args[0], args[1], key, err, sizeof err) == 0) {
            printf("enrolled %s %s with key %s in %s\n", args[0], args[1], key, cfg.keys_dir);
            exit_code = 0;
        }
    } else if (rc == 0 && strcmp(argv[0], "revoke") == 0 && nargs == 2) {
        exit_code =
            report_keys_revoke(cfg.keys_dir, args[0], args[1], err, sizeof err) == 0 ? 0 : 1;
        if (exit_code == 0)
            printf("revoked %s %s (key moved to %s/revoked/)\n", args[0], args[1], cfg.keys_dir);
    } else if (rc != 1) {
        snprintf(err, sizeof err,
                 "usage: reportctl keygen --out PATH | enrol KIND NAME "
                 "--public FILE [--keys-dir DIR] | revoke KIND NAME "
                 "[--keys-dir DIR]");
    }
    if (err[0])
        fprintf(stderr, "reportctl %s: %s\n", argv[0], err);
    free(args);
    report_settings_free(s_keys_settings, &cfg);
    return rc == 1 ? 0 : exit_code;
}

typedef struct {
    char *db;
    char *log_level;
} s_migrate_config_t;

#define F(field) offsetof(s_migrate_config_t, field)
static const report_setting_t s_migrate_settings[] = {
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0,
     "connection string of a superuser or the schema owner"},
    {"log-level", REPORT_SETTING_STRING, "info", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};
#undef F

/* migrate --db CONNINFO: applies the pending migrations (the services, connected as roles
 * without DDL rights, only check that none is pending). */
static int s_migrate(int argc, char **argv)
{
    s_migrate_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(s_migrate_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc != 0 || nargs != 0) {
        report_settings_usage(s_migrate_settings, rc == 1 ? stdout : stderr);
        report_settings_free(s_migrate_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("reportctl", cfg.log_level);
    report_db_t *db = report_db_new(cfg.db);
    int exit_code = 1;
    if (report_db_connect(db) != 0)
        fprintf(stderr, "reportctl migrate: %s\n", report_db_error(db));
    else if (report_db_migrate(db) != 0)
        fprintf(stderr, "reportctl migrate: %s\n", report_db_error(db));
    else
        exit_code = 0;
    report_db_destroy(&db);
    report_settings_free(s_migrate_settings, &cfg);
    return exit_code;
}

typedef struct {
    char *services;
    bool watch;
    int64_t interval_ms;
    int64_t timeout_ms;
} s_status_config_t;

#define F(field) offsetof(s_status_config_t, field)
static const report_setting_t s_status_settings[] = {
    {"services", REPORT_SETTING_STRING,
     "http://127.0.0.1:9570,http://127.0.0.1:9571,http://127.0.0.1:9572", F(services), 0, 0,
     "base URLs of the services' metrics endpoints"},
    {"watch", REPORT_SETTING_BOOL, "false", F(watch), 0, 0, "refresh until interrupted"},
    {"interval-ms", REPORT_SETTING_INT, "2000", F(interval_ms), 200, 3600000,
     "refresh interval with --watch"},
    {"timeout-ms", REPORT_SETTING_INT, "2000", F(timeout_ms), 100, 60000,
     "a service that does not answer in time is shown DOWN"},
    REPORT_SETTINGS_END};
#undef F

static double s_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static const char *s_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* One screen for the whole pipeline; returns the number of services down. */
/* The details of one service's status: refusals, store, last publication, late units. */
static void s_status_details(json_t *doc)
{
    json_t *refusals = json_object_get(doc, "refusals");
    if (json_is_object(refusals) && json_object_size(refusals)) {
        printf("\nrefusals by reason:");
        const char *k;
        json_t *v;
        json_object_foreach(refusals, k, v)
        {
            printf(" %s=%lld", k, (long long)json_integer_value(v));
        }
        printf("\n");
    }
    json_t *st = json_object_get(doc, "store");
    if (json_is_object(st))
        printf("\nstore: database %s, %.0f waiting, lag %.1f s, last commit %.1f s ago\n",
               json_is_true(json_object_get(st, "database_up")) ? "up" : "DOWN",
               s_num(st, "waiting"), s_num(st, "lag_seconds"),
               s_num(st, "last_commit_age_seconds"));
    json_t *agg = json_object_get(doc, "aggregator");
    if (json_is_object(agg)) {
        json_t *last = json_object_get(agg, "last_published");
        if (json_is_object(last))
            printf("\nlast published: %s %s version %.0f number %.0f (seq %.0f)\n",
                   s_str(last, "agency"), s_str(last, "period"), s_num(last, "version"),
                   s_num(last, "number"), s_num(last, "seq"));
        else
            printf("\nlast published: none\n");
        json_t *late = json_object_get(agg, "late_units");
        printf("late units for %s (deadline %s):", s_str(agg, "period"), s_str(agg, "deadline"));
        size_t i2;
        json_t *u;
        json_array_foreach(late, i2, u)
            printf("%s %s (%s)", i2 ? "," : "", s_str(u, "unit"), s_str(u, "name"));
        printf("%s\n", json_array_size(late) ? "" : " none");
    }
}

static int s_status_once(const s_status_config_t *cfg)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    printf("report pipeline status  %s\n\n", when);
    printf("%-11s %-5s %-24s %-26s %s\n", "SERVICE", "STATE", "READY", "QUEUE", "RATE/MIN");
    int down = 0;
    json_t *docs[8] = {0};
    char *list = report_strdup(cfg->services);
    char *save = NULL;
    int n = 0;
    for (char *url = strtok_r(list, ", ", &save); url && n < 8; url = strtok_r(NULL, ", ", &save)) {
        char *full = report_sprintf("%s/status.json", url);
        int code = 0;
        char *body = report_http_get(full, (int)cfg->timeout_ms, &code);
        free(full);
        json_error_t err;
        json_t *doc = body && code == 200 ? json_loads(body, 0, &err) : NULL;
        free(body);
        if (!json_is_object(doc)) {
            printf("%-11s %-5s %s\n", url, "DOWN", "(no answer)");
            json_decref(doc);
            down++;
            continue;
        }
        docs[n++] = doc;
        json_t *q = json_object_get(doc, "queue");
        char queue[64], ready[64];
        snprintf(queue, sizeof queue, "%s %.0f/%.0f", s_str(q, "name"), s_num(q, "depth"),
                 s_num(q, "limit"));
        bool is_ready = json_is_true(json_object_get(doc, "ready"));
        snprintf(ready, sizeof ready, "%s%s%s", is_ready ? "yes" : "NO", is_ready ? "" : ": ",
                 s_str(doc, "ready_reason"));
        printf("%-11s %-5s %-24.24s %-26s", s_str(doc, "service"), "UP", ready, queue);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(doc, "rates_per_minute"), k, v)
            printf(" %s %.1f", k, json_number_value(v));
        printf("\n");
    }
    free(list);
    for (int i = 0; i < n; i++) {
        s_status_details(docs[i]);
        json_decref(docs[i]);
    }
    fflush(stdout);
    return down;
}

static int s_status(int argc, char **argv)
{
    s_status_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(s_status_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc != 0 || nargs != 0) {
        report_settings_usage(s_status_settings, rc == 1 ? stdout : stderr);
        report_settings_free(s_status_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    int down;
    do {
        if (cfg.watch)
            printf("\033[H\033[2J");
        down = s_status_once(&cfg);
        if (cfg.watch && !report_service_stop)
            usleep((useconds_t)cfg.interval_ms * 1000);
    } while (cfg.watch && !report_service_stop);
    report_settings_free(s_status_settings, &cfg);
    return down ? 3 : 0;
}

static int s_report(int argc, char **argv, bool publish)
{
    s_report_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(s_report_settings, &cfg, argc, argv, &args, &nargs);
    int year = 0, month = 0;
    if (rc == 0 && (nargs != 1 || report_period_parse(args[0], &year, &month) != 0)) {
        fprintf(stderr, "reportctl %s: give one period as YYYY-MM\n", argv[0]);
        rc = -1;
    }
    free(args);
    if (rc != 0) {
        s_usage(rc == 1 ? stdout : stderr);
        report_settings_free(s_report_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    report_service_logging("reportctl", cfg.log_level);
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
    char err[512];
    if (report_client_keys_load(cfg.key, cfg.server_key, cfg.insecure_plain, &keys, err,
                                sizeof err) != 0) {
        fprintf(stderr, "reportctl %s: %s\n", argv[0], err);
        report_settings_free(s_report_settings, &cfg);
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
    report_settings_free(s_report_settings, &cfg);
    return exit_code;
}

static int s_subscribe(int argc, char **argv)
{
    s_subscribe_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(s_subscribe_settings, &cfg, argc, argv, &args, &nargs);
    free(args);
    if (rc == 0 && (nargs != 0 || !*cfg.out)) {
        fprintf(stderr, "reportctl subscribe: --out DIR is required\n");
        rc = -1;
    }
    if (rc != 0) {
        s_usage(rc == 1 ? stdout : stderr);
        report_settings_free(s_subscribe_settings, &cfg);
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
    char err[512];
    if (report_client_keys_load(cfg.key, cfg.server_key, cfg.insecure_plain, &scfg.keys, err,
                                sizeof err) != 0) {
        fprintf(stderr, "reportctl subscribe: %s\n", err);
        report_settings_free(s_subscribe_settings, &cfg);
        return 2;
    }
    int saved = report_subscriber_run(&scfg, &report_service_stop);
    report_settings_free(s_subscribe_settings, &cfg);
    return saved < 0 ? 1 : 0;
}

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
            printf(" reason=%s message=%s", r->reason[0] ? r->reason : "-",
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
    keys->plain = cfg->insecure_plain;
    char err[512];
    if (!*cfg->unit_keys) {
        if (report_client_keys_load(cfg->key, cfg->server_key, cfg->insecure_plain, keys, err,
                                    sizeof err) == 0)
            return 0;
        fprintf(stderr, "reportctl push: %s\n", err);
        return -1;
    }
    if (cfg->insecure_plain)
        return 0;
    if (report_keys_resolve_public(cfg->server_key, keys->server_public) == 0)
        return 0;
    fprintf(stderr, "reportctl push: cannot read the server public key '%s'\n", cfg->server_key);
    return -1;
}

/* Pushes each file in turn, each a push (and session) of its own: an answer to a copy sent for
 * one file cannot settle an update of the next, even under the same id. The exit status is
 * the worst outcome (see S_PUSH_EXIT_*). */
static int s_push_files(const s_push_config_t *cfg, const report_client_config_t *ccfg,
                        char **files, int nfiles)
{
    bool by_unit = *cfg->unit_keys != '\0';
    report_client_t *client = by_unit ? NULL : report_client_new(ccfg);
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
    report_client_destroy(&client);
    fflush(stdout);
    fprintf(stderr, "pushed: stored=%zu duplicate=%zu rejected=%zu unknown=%zu\n", totals.stored,
            totals.duplicate, totals.rejected, totals.unknown);
    if (totals.unknown) {
        fprintf(stderr,
                "UNKNOWN: %zu update(s) not confirmed; re-run the same file: updates "
                "already stored will answer DUPLICATE\n",
                totals.unknown);
        return S_PUSH_EXIT_UNKNOWN;
    }
    return totals.rejected || file_failed ? S_PUSH_EXIT_REJECTED : S_PUSH_EXIT_OK;
}

static int s_push(int argc, char **argv)
{
    s_push_config_t cfg = {0};
    char **files = NULL;
    int nfiles = 0;
    int rc = report_settings_load(s_push_settings, &cfg, argc, argv, &files, &nfiles);
    int exit_code = S_PUSH_EXIT_USAGE;
    if (rc != 0 || nfiles == 0) {
        s_usage(rc == 1 ? stdout : stderr);
        if (rc == 1)
            exit_code = S_PUSH_EXIT_OK;
    } else {
        report_service_logging("reportctl", cfg.log_level);
        report_client_config_t ccfg;
        report_client_config_default(&ccfg);
        ccfg.endpoint = cfg.endpoint;
        ccfg.timeout_ms = cfg.timeout_ms;
        ccfg.backoff_max_ms = cfg.backoff_max_ms;
        ccfg.deadline_ms = cfg.deadline_ms;
        ccfg.window = cfg.window;
        ccfg.max_message_bytes = cfg.max_message_bytes;
        ccfg.stop = &report_service_stop;
        if (s_push_keys(&cfg, &ccfg.keys) == 0)
            exit_code = s_push_files(&cfg, &ccfg, files, nfiles);
        memset(&ccfg.keys, 0, sizeof ccfg.keys);
    }
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
    if (strcmp(argv[1], "compile") == 0 || strcmp(argv[1], "publish") == 0)
        return s_report(argc - 1, argv + 1, argv[1][0] == 'p');
    if (strcmp(argv[1], "subscribe") == 0)
        return s_subscribe(argc - 1, argv + 1);
    if (strcmp(argv[1], "migrate") == 0)
        return s_migrate(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return s_status(argc - 1, argv + 1);
    if (!strcmp(argv[1], "keygen") || !strcmp(argv[1], "enrol") || !strcmp(argv[1], "revoke"))
        return s_keys(argc - 1, argv + 1);
    fprintf(stderr, "reportctl: unknown command '%s'\n", argv[1]);
    s_usage(stderr);
    return 2;
}
