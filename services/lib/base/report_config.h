/* Settings as a table: each has a name, type, default, range and help text. A value comes
 * from the default, then the environment (REPORT_<NAME>, '-' as '_', upper case), then the
 * command line (--name value or --name=value), the later winning. */
#ifndef REPORT_CONFIG_H
#define REPORT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    REPORT_SETTING_STRING, /* char * (owned by the config struct) */
    REPORT_SETTING_INT,    /* int64_t */
    REPORT_SETTING_BOOL,   /* bool: "1", "true", "on", "yes" or "0", "false", "off", "no" */
} report_setting_type_t;

typedef struct {
    const char *name;
    report_setting_type_t type;
    const char *default_value;
    size_t offset; /* of the field in the config struct */
    int64_t min, max;
    const char *help;
} report_setting_t;

#define REPORT_SETTINGS_END                                                                        \
    {                                                                                              \
        NULL, REPORT_SETTING_STRING, NULL, 0, 0, 0, NULL                                           \
    }

/* Fills cfg from defaults, environment and argv (argv[0] is skipped). Arguments that are not
 * settings are returned in order in *positional (an array the caller frees, strings borrowed
 * from argv) with their count in *positional_count. "--help" prints usage and returns 1.
 * Returns 0, or -1 after printing the problem to stderr. */
int report_settings_load(const report_setting_t *table, void *cfg, int argc, char **argv,
                         char ***positional, int *positional_count);
/* Prints one line per setting: flag, environment variable, default and help. */
void report_settings_usage(const report_setting_t *table, FILE *out);
/* Frees the string settings of cfg. */
void report_settings_free(const report_setting_t *table, void *cfg);

#endif
