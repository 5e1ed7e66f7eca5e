/* reportctl's commands: each runs with argv[0] the command's name and returns the exit
 * status; the option tables are printed by reportctl_usage. */
#ifndef REPORTCTL_H
#define REPORTCTL_H

#include "report_config.h"

#include <stddef.h>
#include <stdio.h>

int reportctl_push(int argc, char **argv);
int reportctl_compile(int argc, char **argv);
int reportctl_publish(int argc, char **argv);
int reportctl_subscribe(int argc, char **argv);
int reportctl_migrate(int argc, char **argv);
int reportctl_status(int argc, char **argv);
/* keygen, enrol and revoke (argv[0] says which) */
int reportctl_keys(int argc, char **argv);

/* The options of a command that talks to a service over CURVE, held in TYPE's members key,
 * server_key, insecure_plain and log_level. */
#define REPORTCTL_CURVE_SETTINGS(TYPE)                                                             \
    {"key",                                                                                        \
     REPORT_SETTING_STRING,                                                                        \
     "",                                                                                           \
     offsetof(TYPE, key),                                                                          \
     0,                                                                                            \
     0,                                                                                            \
     "your CURVE key pair (.key file)"},                                                           \
        {"server-key",                                                                             \
         REPORT_SETTING_STRING,                                                                    \
         "keys/server.pub",                                                                        \
         offsetof(TYPE, server_key),                                                               \
         0,                                                                                        \
         0,                                                                                        \
         "the server's CURVE public key (.pub file or Z85)"},                                      \
        {"insecure-plain",                                                                         \
         REPORT_SETTING_BOOL,                                                                      \
         "false",                                                                                  \
         offsetof(TYPE, insecure_plain),                                                           \
         0,                                                                                        \
         0,                                                                                        \
         "DEVELOPMENT ONLY: no CURVE"},                                                            \
    {                                                                                              \
        "log-level", REPORT_SETTING_STRING, "warn", offsetof(TYPE, log_level), 0, 0,               \
            "debug, info, warn or error"                                                           \
    }

extern const report_setting_t reportctl_push_settings[];
extern const report_setting_t reportctl_report_settings[];
extern const report_setting_t reportctl_subscribe_settings[];
extern const report_setting_t reportctl_keys_settings[];

/* The commands and the options of push, compile/publish, subscribe and the key commands. */
void reportctl_usage(FILE *out);

#endif
