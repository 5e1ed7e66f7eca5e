/* Settings as a table: each has a name, type, default, range and help text. A value comes
 * from the default, then the settings file (when the table has REPORT_CONFIG_FILE_SETTINGS),
 * then the environment (REPORT_<NAME>, '-' as '_', upper case), then the command line
 * (--name value or --name=value), the later winning. */
#ifndef REPORT_CONFIG_H
#define REPORT_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    REPORT_SETTING_STRING, /* char * (owned by the config struct) */
    REPORT_SETTING_INT,    /* int64_t */
    REPORT_SETTING_BOOL,   /* bool: "1", "true", "on", "yes" or "0", "false", "off", "no" */
    REPORT_SETTING_TABLE,  /* the settings of a library's config struct held at offset */
} report_setting_type_t;

typedef struct {
    const char *name;
    report_setting_type_t type;
    const char *default_value; /* REPORT_SETTING_TABLE: the included table (see below) */
    size_t offset;             /* of the field in the config struct */
    int64_t min, max;
    const char *help;
} report_setting_t;

/* A constant as the text of a default: REPORT_STR(REPORT_YEAR_MIN) is "2000". */
#define REPORT_STR_(x) #x
#define REPORT_STR(x) REPORT_STR_(x)

/* Includes TABLE, the settings of a library's config struct, held in the member at OFFSET of
 * this table's struct: a library names its settings and their defaults once, and a program's
 * table takes them whole. The table travels in default_value (a constant pointer is all a
 * static initializer allows there; a field of its own would have to be spelt in every entry). */
#define REPORT_SETTINGS_INCLUDE(TABLE, OFFSET)                                                     \
    {                                                                                              \
        "", REPORT_SETTING_TABLE, (const char *)(const void *)(TABLE), OFFSET, 0, 0, NULL          \
    }

#define REPORT_SETTINGS_END                                                                        \
    {                                                                                              \
        NULL, REPORT_SETTING_STRING, NULL, 0, 0, 0, NULL                                           \
    }

/* Where a program's settings file is and its bounds: what REPORT_CONFIG_FILE_SETTINGS fills. */
typedef struct {
    char *path;
    int64_t max_bytes;
    int64_t max_line_bytes;
} report_config_file_t;

/* The settings of the settings file, held in TYPE's member FIELD (a report_config_file_t), its
 * default path PATH. A table that has them reads the file named by `config` (flag, then
 * REPORT_CONFIG, then PATH): lines `name = value` with the flags' names, `#` comment lines and
 * blank lines; an unknown name, a setting given twice, a malformed line or a value out of
 * range is an error naming the file and line. A missing file is fine only when it is the
 * default; these three settings themselves come only from the command line or environment. */
#define REPORT_CONFIG_FILE_SETTINGS(TYPE, FIELD, PATH)                                             \
    {"config",                                                                                     \
     REPORT_SETTING_STRING,                                                                        \
     PATH,                                                                                         \
     offsetof(TYPE, FIELD.path),                                                                   \
     0,                                                                                            \
     0,                                                                                            \
     "settings file (name = value lines; flag > environment > file > default); a missing "         \
     "default file is fine"},                                                                      \
        {"config-max-bytes",                                                                       \
         REPORT_SETTING_INT,                                                                       \
         "65536",                                                                                  \
         offsetof(TYPE, FIELD.max_bytes),                                                          \
         1,                                                                                        \
         16777216,                                                                                 \
         "largest settings file, bytes"},                                                          \
    {                                                                                              \
        "config-max-line-bytes", REPORT_SETTING_INT, "4096", offsetof(TYPE, FIELD.max_line_bytes), \
            16, 1048576, "longest line of the settings file, bytes"                                \
    }

/* Fills cfg from defaults, the settings file, environment and argv (argv[0] is skipped). Arguments
 * that are not settings are returned in order in *positional (an array the caller frees, strings
 * borrowed from argv) with their count in *positional_count. "--help" prints usage and returns 1.
 * Returns 0, or -1 after printing the problem to stderr. */
int report_settings_load(const report_setting_t *table, void *cfg, int argc, char **argv,
                         char ***positional, int *positional_count);
/* Fills cfg with the defaults of table alone (no environment, no command line): what a
 * library's *_config_default does. String settings point at the table's text (borrowed: do
 * not report_settings_free them); an integer or boolean default that does not parse is a
 * programming error (assert). */
void report_settings_defaults(const report_setting_t *table, void *cfg);
/* Makes cfg own copies of its string settings (a NULL one becomes ""): what a service object
 * does with the config it was started with, so that the caller's strings may go. Free them
 * with report_settings_free. */
void report_settings_own(const report_setting_t *table, void *cfg);
/* Prints one line per setting: flag, environment variable, default and help. */
void report_settings_usage(const report_setting_t *table, FILE *out);
/* Frees the string settings of cfg. */
void report_settings_free(const report_setting_t *table, void *cfg);

#endif
