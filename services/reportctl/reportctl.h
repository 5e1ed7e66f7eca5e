/* reportctl's commands: each runs with argv[0] the command's name and returns the exit
 * status; the option tables are printed by reportctl_usage. */
#ifndef REPORTCTL_H
#define REPORTCTL_H

#include "report_config.h"

#include <stdio.h>

int reportctl_push(int argc, char **argv);
int reportctl_compile(int argc, char **argv);
int reportctl_publish(int argc, char **argv);
int reportctl_subscribe(int argc, char **argv);
int reportctl_migrate(int argc, char **argv);
int reportctl_status(int argc, char **argv);
/* keygen, enrol and revoke (argv[0] says which) */
int reportctl_keys(int argc, char **argv);

extern const report_setting_t reportctl_push_settings[];
extern const report_setting_t reportctl_report_settings[];
extern const report_setting_t reportctl_subscribe_settings[];
extern const report_setting_t reportctl_keys_settings[];

/* The commands and the options of push, compile/publish, subscribe and the key commands. */
void reportctl_usage(FILE *out);

#endif
