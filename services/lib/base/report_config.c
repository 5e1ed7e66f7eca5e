/* Settings from defaults, environment and command line, checked against their ranges. */
#define _GNU_SOURCE
#include "report_config.h"
#include "report_util.h"

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

static int s_set(const report_setting_t *s, void *cfg, const char *value, const char *source)
{
    char *field = (char *)cfg + s->offset;
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
    }
    return -1;
}

static const report_setting_t *s_find(const report_setting_t *table, const char *name, size_t len)
{
    for (const report_setting_t *s = table; s->name; s++)
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
            return s;
    return NULL;
}

int report_settings_load(const report_setting_t *table, void *cfg, int argc, char **argv,
                         char ***positional, int *positional_count)
{
    *positional = report_calloc((size_t)argc + 1, sizeof(char *));
    *positional_count = 0;
    for (const report_setting_t *s = table; s->name; s++) {
        if (s_set(s, cfg, s->default_value, "default") != 0)
            return -1;
        char env[128];
        s_env_name(s->name, env, sizeof env);
        const char *value = getenv(env);
        if (value && s_set(s, cfg, value, env) != 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            (*positional)[(*positional_count)++] = argv[i];
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const report_setting_t *s = s_find(table, name, len);
        if (!s) {
            fprintf(stderr, "unknown option --%.*s (try --help)\n", (int)len, name);
            return -1;
        }
        const char *value = NULL;
        if (eq)
            value = eq + 1;
        else if (s->type == REPORT_SETTING_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            fprintf(stderr, "option --%s needs a value\n", s->name);
            return -1;
        }
        if (s_set(s, cfg, value, "command line") != 0)
            return -1;
    }
    return 0;
}

void report_settings_usage(const report_setting_t *table, FILE *out)
{
    for (const report_setting_t *s = table; s->name; s++) {
        char env[128];
        s_env_name(s->name, env, sizeof env);
        fprintf(out, "  --%-22s %s (env %s, default \"%s\")\n", s->name, s->help, env,
                s->default_value);
    }
}

void report_settings_free(const report_setting_t *table, void *cfg)
{
    for (const report_setting_t *s = table; s->name; s++) {
        if (s->type == REPORT_SETTING_STRING) {
            char **slot = (char **)(void *)((char *)cfg + s->offset);
            free(*slot);
            *slot = NULL;
        }
    }
}
