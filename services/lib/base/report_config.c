/* Settings from defaults, environment and command line, checked against their ranges. */
#define _GNU_SOURCE
#include "report_config.h"
#include "report_util.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void s_env_name(const char *name, char *out, size_t size)
{
    size_t o = (size_t)snprintf(out, size, "REPORT_");
    for (const char *p = name; *p && o + 1 < size; p++)
        out[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[o] = '\0';
}

/* A setting with the offset of its field in the outermost config struct: included tables are
 * flattened into one list, in table order. */
typedef struct {
    const report_setting_t *s;
    size_t offset;
} s_entry_t;

static const report_setting_t *s_included(const report_setting_t *s)
{
    return (const report_setting_t *)(const void *)s->default_value;
}

static size_t s_count(const report_setting_t *table)
{
    size_t n = 0;
    for (const report_setting_t *s = table; s->name; s++)
        n += s->type == REPORT_SETTING_TABLE ? s_count(s_included(s)) : 1;
    return n;
}

static size_t s_flatten_into(const report_setting_t *table, size_t base, s_entry_t *out)
{
    size_t n = 0;
    for (const report_setting_t *s = table; s->name; s++) {
        if (s->type == REPORT_SETTING_TABLE)
            n += s_flatten_into(s_included(s), base + s->offset, out + n);
        else
            out[n++] = (s_entry_t){s, base + s->offset};
    }
    return n;
}

/* The flattened table, ended by an entry with s NULL. Caller frees. */
static s_entry_t *s_flatten(const report_setting_t *table)
{
    size_t n = s_count(table);
    s_entry_t *entries = report_calloc(n + 1, sizeof *entries);
    s_flatten_into(table, 0, entries);
    return entries;
}

static int s_set(const s_entry_t *e, void *cfg, const char *value, const char *source)
{
    const report_setting_t *s = e->s;
    char *field = (char *)cfg + e->offset;
    switch (s->type) {
    case REPORT_SETTING_STRING: {
        char **slot = (char **)(void *)field;
        free(*slot);
        *slot = report_strdup(value);
        return 0;
    }
    case REPORT_SETTING_INT: {
        errno = 0;
        char *end = NULL;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end != '\0' || v < s->min || v > s->max) {
            fprintf(stderr, "setting %s (%s): '%s' is not an integer in [%lld, %lld]\n", s->name,
                    source, value, (long long)s->min, (long long)s->max);
            return -1;
        }
        *(int64_t *)(void *)field = v;
        return 0;
    }
    case REPORT_SETTING_BOOL: {
        bool *slot = (bool *)(void *)field;
        if (!strcasecmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "on") ||
            !strcasecmp(value, "yes"))
            *slot = true;
        else if (!strcasecmp(value, "0") || !strcasecmp(value, "false") ||
                 !strcasecmp(value, "off") || !strcasecmp(value, "no"))
            *slot = false;
        else {
            fprintf(stderr, "setting %s (%s): '%s' is not a boolean\n", s->name, source, value);
            return -1;
        }
        return 0;
    }
    case REPORT_SETTING_TABLE:
        break; /* flattened away */
    }
    return -1;
}

static const s_entry_t *s_find(const s_entry_t *entries, const char *name, size_t len)
{
    for (const s_entry_t *e = entries; e->s; e++)
        if (strlen(e->s->name) == len && strncmp(e->s->name, name, len) == 0)
            return e;
    return NULL;
}

/* Defaults, then the environment. */
static int s_load_defaults(const s_entry_t *entries, void *cfg)
{
    for (const s_entry_t *e = entries; e->s; e++) {
        if (s_set(e, cfg, e->s->default_value, "default") != 0)
            return -1;
        char env[128];
        s_env_name(e->s->name, env, sizeof env);
        const char *value = getenv(env);
        if (value && s_set(e, cfg, value, env) != 0)
            return -1;
    }
    return 0;
}

static int s_load_args(const s_entry_t *entries, void *cfg, int argc, char **argv,
                       char **positional, int *positional_count)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            positional[(*positional_count)++] = argv[i];
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const s_entry_t *e = s_find(entries, name, len);
        if (!e) {
            fprintf(stderr, "unknown option --%.*s (try --help)\n", (int)len, name);
            return -1;
        }
        const char *value = NULL;
        if (eq)
            value = eq + 1;
        else if (e->s->type == REPORT_SETTING_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "option --%s needs a value\n", e->s->name);
            return -1;
        }
        if (s_set(e, cfg, value, "command line") != 0)
            return -1;
    }
    return 0;
}

int report_settings_load(const report_setting_t *table, void *cfg, int argc, char **argv,
                         char ***positional, int *positional_count)
{
    *positional = report_calloc((size_t)argc + 1, sizeof(char *));
    *positional_count = 0;
    s_entry_t *entries = s_flatten(table);
    int rc = s_load_defaults(entries, cfg);
    if (rc == 0)
        rc = s_load_args(entries, cfg, argc, argv, *positional, positional_count);
    free(entries);
    return rc;
}

void report_settings_defaults(const report_setting_t *table, void *cfg)
{
    s_entry_t *entries = s_flatten(table);
    for (const s_entry_t *e = entries; e->s; e++) {
        if (e->s->type == REPORT_SETTING_STRING) {
            /* borrowed: the table's text lives as long as the program */
            *(const char **)(void *)((char *)cfg + e->offset) = e->s->default_value;
            continue;
        }
        int rc = s_set(e, cfg, e->s->default_value, "default");
        assert(rc == 0);
        (void)rc;
    }
    free(entries);
}

void report_settings_own(const report_setting_t *table, void *cfg)
{
    s_entry_t *entries = s_flatten(table);
    for (const s_entry_t *e = entries; e->s; e++) {
        if (e->s->type == REPORT_SETTING_STRING) {
            char **slot = (char **)(void *)((char *)cfg + e->offset);
            *slot = report_strdup(*slot ? *slot : "");
        }
    }
    free(entries);
}

void report_settings_usage(const report_setting_t *table, FILE *out)
{
    s_entry_t *entries = s_flatten(table);
    for (const s_entry_t *e = entries; e->s; e++) {
        char env[128];
        s_env_name(e->s->name, env, sizeof env);
        fprintf(out, "  --%-22s %s (env %s, default \"%s\")\n", e->s->name, e->s->help, env,
                e->s->default_value);
    }
    free(entries);
}

void report_settings_free(const report_setting_t *table, void *cfg)
{
    s_entry_t *entries = s_flatten(table);
    for (const s_entry_t *e = entries; e->s; e++) {
        if (e->s->type == REPORT_SETTING_STRING) {
            char **slot = (char **)(void *)((char *)cfg + e->offset);
            free(*slot);
            *slot = NULL;
        }
    }
    free(entries);
}
