/* A leadership subscriber: receives published reports on SUB, catches up on what it missed
 * from the catch-up endpoint (from the last sequence number it saved), checks each report's
 * SHA-256 and keeps it as text, HTML, JSON and PDF files named by agency, period and version,
 * keeps DIR/index.html (report_inbox.h) and runs an operator's command for each report. */
#ifndef REPORT_SUBSCRIBER_H
#define REPORT_SUBSCRIBER_H

#include "report_config.h"
#include "report_keys.h"
#include "report_published.h"
#include "report_push.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *publish_endpoint; /* aggregator PUB(s), e.g. "tcp://a:5572,tcp://b:5572" */
    const char *catchup_endpoint; /* aggregator catch-up(s), e.g. "tcp://a:5573,tcp://b:5573" */
    const char *out_dir;          /* where files and the .last-seq state go (required) */
    const char *agency_code;      /* "" = every agency */
    int64_t catchup_interval_ms;  /* ask for anything missed this often */
    int64_t catchup_timeout_ms;   /* wait for a catch-up answer before asking again */
    int64_t max_reports;          /* stop after receiving this many new reports; 0 = never */
    bool once;                    /* stop after the first complete catch-up */
    int64_t deadline_ms;          /* give up after this long (0 = never); exit code 1 */
    bool quiet;                   /* do not print a line per report */
    const char *exec_cmd;         /* run by /bin/sh for each report saved ("" = none) */
    int64_t exec_timeout_ms;      /* the command is killed past this */
    report_client_keys_t keys;    /* CURVE: the aggregator's public key and the recipient's pair */
} report_subscriber_config_t;

/* The settings of report_subscriber_config_t with their defaults and ranges (reportctl
 * subscribe includes them); report_subscriber_config_default fills from them (quiet off, no
 * keys). */
extern const report_setting_t report_subscriber_settings[];
void report_subscriber_config_default(report_subscriber_config_t *cfg);

/* True if a received report may be written: its text matches its SHA-256, its agency code is
 * safe in a file name ([A-Z0-9_]) and its year and month are in range. (What the subscriber
 * checks on every report from PUB or catch-up; public for the fuzz target.) */
bool report_subscriber_report_ok(const report_published_t *report);

/* Parses cfg's publish and catch-up endpoint lists (report_endpoints_parse) into publishers
 * and catchups: 0, or -1 with err naming the setting refused. */
int report_subscriber_endpoints_check(const report_subscriber_config_t *cfg,
                                      report_endpoints_t *publishers, report_endpoints_t *catchups,
                                      report_error_t *err);

/* Runs until *stop, max_reports, once or the deadline. SUB connects to every publisher
 * listed; catch-up requests go to one catch-up endpoint at a time, from the first, and to the
 * next after catchup_timeout_ms without an answer. A report whose sequence number is not above
 * the last one saved is dropped, whichever aggregator sent it. Returns the number of new
 * reports saved, or -1 on a local error (an endpoint list refused, out_dir unusable) or when
 * the deadline passed first. */
int report_subscriber_run(const report_subscriber_config_t *cfg, volatile sig_atomic_t *stop);

#endif
