/* reportctl's commands: each runs with argv[0] the command's name and returns the exit
 * status; the option tables are printed by reportctl_usage. */
#ifndef REPORTCTL_H
#define REPORTCTL_H

#include "report_config.h"
#include "report_keys.h"
#include "report_published.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int reportctl_push(int argc, char **argv);
int reportctl_compile(int argc, char **argv);
int reportctl_publish(int argc, char **argv);
int reportctl_check(int argc, char **argv);
int reportctl_attach_signed(int argc, char **argv);
int reportctl_subscribe(int argc, char **argv);
int reportctl_migrate(int argc, char **argv);
int reportctl_status(int argc, char **argv);
int reportctl_desk(int argc, char **argv);
/* keygen, enrol and revoke (argv[0] says which) */
int reportctl_keys(int argc, char **argv);

/* The options of a command that talks to a service over CURVE: reportctl_curve_settings in
 * a command's table (REPORT_SETTINGS_INCLUDE) fills a reportctl_curve_t member. */
typedef struct {
    char *key;        /* the user's key pair (.key file) */
    char *server_key; /* the service's public key (.pub file or Z85) */
    bool insecure_plain;
    char *log_level;
} reportctl_curve_t;

extern const report_setting_t reportctl_curve_settings[];

/* Loads the keys of the options into out; 0, or -1 after printing why, as "reportctl
 * COMMAND: ...". */
int reportctl_curve_keys(const reportctl_curve_t *curve, const char *command,
                         report_client_keys_t *out);

extern const report_setting_t reportctl_push_settings[];
extern const report_setting_t reportctl_report_settings[];
extern const report_setting_t reportctl_subscribe_settings[];
extern const report_setting_t reportctl_keys_settings[];
extern const report_setting_t reportctl_desk_settings[];

/* catalogue and dead-letters (reportctl_catalogue.c, reportctl_dead_letters.c) */
int reportctl_catalogue(int argc, char **argv);
int reportctl_dead_letters(int argc, char **argv);

/* The options of the administration commands: the aggregator and the operator's keys. */
typedef struct {
    char *control_endpoint;
    int64_t timeout_ms;
    reportctl_curve_t curve;
} reportctl_admin_t;

extern const report_setting_t reportctl_admin_settings[];
extern const report_setting_t reportctl_catalogue_settings[];
extern const report_setting_t reportctl_dead_letters_settings[];

/* Sends one catalogue or dead-letter request and prints the answer; the exit status (0 done,
 * 1 refused or findings, 2 no keys, 3 no answer). */
int reportctl_admin_call(const reportctl_admin_t *admin, const char *command,
                         const report_control_request_t *req);

extern const report_setting_t reportctl_status_settings[];

/* The reporting rate (reportctl_rate.c), for reportctl status: one period's table from its
 * JSON (report_rate.h), the whole object of /status.json (the watched period's table, a line
 * for each period before it), and asking the aggregators of endpoints (comma-separated, tried
 * in turn) for one period, printed; the exit status (1 if refused or no answer). */
void reportctl_rate_print(json_t *period, const char *time_zone);
void reportctl_rate_summary(json_t *rate);
int reportctl_rate_ask(const char *endpoints, const report_client_keys_t *keys, int year, int month,
                       int64_t timeout_ms);

/* The commands and the options of push, compile/publish, subscribe and the key commands. */
void reportctl_usage(FILE *out);

#endif
