/* Settings from defaults, the settings file, environment and command line, checked against
 * their ranges. */
#define _GNU_SOURCE
#include "report_config.h"
#include "report_file.h"
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

static size_t s_count_entries(const s_entry_t *entries)
{
    size_t n = 0;
    while (entries[n].s)
        n++;
    return n;
}

static const s_entry_t *s_find(const s_entry_t *entries, const char *name, size_t len)
{
    for (const s_entry_t *e = entries; e->s; e++)
        if (strlen(e->s->name) == len && strncmp(e->s->name, name, len) == 0)
            return e;
    return NULL;
}

/* The settings that say where the settings file is: they come only from the command line or
 * the environment, read before the file. */
static bool s_file_setting(const report_setting_t *s)
{
    return strcmp(s->name, "config") == 0 || strcmp(s->name, "config-max-bytes") == 0 ||
           strcmp(s->name, "config-max-line-bytes") == 0;
}

static int s_load_defaults(const s_entry_t *entries, void *cfg)
{
    for (const s_entry_t *e = entries; e->s; e++)
        if (s_set(e, cfg, e->s->default_value, "default") != 0)
            return -1;
    return 0;
}

/* The environment; with file_only, only the settings of the settings file, *named set when
 * `config` is among them. */
static int s_load_env(const s_entry_t *entries, void *cfg, bool file_only, bool *named)
{
    for (const s_entry_t *e = entries; e->s; e++) {
        if (file_only && !s_file_setting(e->s))
            continue;
        char env[128];
        s_env_name(e->s->name, env, sizeof env);
        const char *value = getenv(env);
        if (value && s_set(e, cfg, value, env) != 0)
            return -1;
        if (value && named && strcmp(e->s->name, "config") == 0)
            *named = true;
    }
    return 0;
}

/* The command line. With file_only, only the settings of the settings file are taken (others
 * and unknown options are left to the full pass; positional may then be NULL), *named set
 * when --config is given. */
static int s_load_args(const s_entry_t *entries, void *cfg, int argc, char **argv,
                       char **positional, int *positional_count, bool file_only, bool *named)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (!file_only)
                positional[(*positional_count)++] = argv[i];
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const s_entry_t *e = s_find(entries, name, len);
        if (!e && file_only)
            continue;
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
        if (file_only && !s_file_setting(e->s))
            continue;
        if (s_set(e, cfg, value, "command line") != 0)
            return -1;
        if (named && strcmp(e->s->name, "config") == 0)
            *named = true;
    }
    return 0;
}

static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* One line of the settings file (NUL-terminated, changed in place): blank, a comment, or
 * `name = value`. seen marks the settings the file gave already. */
static int s_file_line(const s_entry_t *entries, void *cfg, const char *path, int lineno,
                       char *line, bool *seen)
{
    line = s_trim(line);
    if (*line == '\0' || *line == '#')
        return 0;
    char *eq = strchr(line, '=');
    if (!eq) {
        fprintf(stderr, "config %s:%d: not a 'name = value' line\n", path, lineno);
        return -1;
    }
    *eq = '\0';
    char *name = s_trim(line);
    char *value = s_trim(eq + 1);
    const s_entry_t *e = s_find(entries, name, strlen(name));
    if (!e) {
        fprintf(stderr, "config %s:%d: unknown setting '%s'\n", path, lineno, name);
        return -1;
    }
    if (s_file_setting(e->s)) {
        fprintf(stderr, "config %s:%d: %s is taken from the command line or environment only\n",
                path, lineno, name);
        return -1;
    }
    if (seen[e - entries]) {
        fprintf(stderr, "config %s:%d: %s is set twice\n", path, lineno, name);
        return -1;
    }
    seen[e - entries] = true;
    char source[512];
    snprintf(source, sizeof source, "%s:%d", path, lineno);
    return s_set(e, cfg, value, source);
}

/* Every line of text (size bytes, NUL-terminated, changed in place), each at most max_line
 * bytes. */
static int s_file_lines(const s_entry_t *entries, void *cfg, const char *path, char *text,
                        size_t size, int64_t max_line)
{
    if (strlen(text) != size) {
        fprintf(stderr, "config %s: holds a NUL byte\n", path);
        return -1;
    }
    bool *seen = report_calloc(s_count_entries(entries) + 1, sizeof *seen);
    int rc = 0;
    int lineno = 0;
    for (char *line = text; rc == 0 && *line;) {
        lineno++;
        char *nl = strchr(line, '\n');
        char *next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = '\0';
        if ((int64_t)strlen(line) > max_line) {
            fprintf(stderr, "config %s:%d: line longer than config-max-line-bytes (%lld)\n", path,
                    lineno, (long long)max_line);
            rc = -1;
        } else
            rc = s_file_line(entries, cfg, path, lineno, line, seen);
        line = next;
    }
    free(seen);
    return rc;
}

/* The settings file named by `config` (named: given on the command line or in the
 * environment, so it must exist), bounded by config-max-bytes and config-max-line-bytes. */
static int s_load_file(const s_entry_t *entries, void *cfg, bool named)
{
    const s_entry_t *path_e = s_find(entries, "config", 6);
    const s_entry_t *bytes_e = s_find(entries, "config-max-bytes", 16);
    const s_entry_t *line_e = s_find(entries, "config-max-line-bytes", 21);
    assert(bytes_e && line_e); /* REPORT_CONFIG_FILE_SETTINGS gives all three */
    const char *path = *(char **)(void *)((char *)cfg + path_e->offset);
    int64_t max_bytes = *(int64_t *)(void *)((char *)cfg + bytes_e->offset);
    int64_t max_line = *(int64_t *)(void *)((char *)cfg + line_e->offset);
    if (*path == '\0')
        return 0; /* --config "": no file */
    size_t size = 0;
    char *text = report_file_read(path, (size_t)max_bytes, &size);
    if (!text) {
        if (errno == ENOENT && !named)
            return 0; /* no file where the default says: the defaults hold */
        if (errno == EFBIG)
            fprintf(stderr, "config %s: larger than config-max-bytes (%lld)\n", path,
                    (long long)max_bytes);
        else
            fprintf(stderr, "config %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = s_file_lines(entries, cfg, path, text, size, max_line);
    free(text);
    return rc;
}

/* The file layer, when the table has one: where the file is (command line, environment,
 * default), then the file. 1 when --help is asked for (no file is read). */
static int s_load_file_layer(const s_entry_t *entries, void *cfg, int argc, char **argv)
{
    if (!s_find(entries, "config", 6))
        return 0;
    bool named = false;
    if (s_load_env(entries, cfg, true, &named) != 0)
        return -1;
    int rc = s_load_args(entries, cfg, argc, argv, NULL, NULL, true, &named);
    return rc != 0 ? rc : s_load_file(entries, cfg, named);
}

int report_settings_load(const report_setting_t *table, void *cfg, int argc, char **argv,
                         char ***positional, int *positional_count)
{
    *positional = report_calloc((size_t)argc + 1, sizeof(char *));
    *positional_count = 0;
    s_entry_t *entries = s_flatten(table);
    int rc = s_load_defaults(entries, cfg);
    if (rc == 0)
        rc = s_load_file_layer(entries, cfg, argc, argv);
    if (rc == 0)
        rc = s_load_env(entries, cfg, false, NULL);
    if (rc == 0)
        rc = s_load_args(entries, cfg, argc, argv, *positional, positional_count, false, NULL);
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
