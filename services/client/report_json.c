/* The JSON push format, parsed with jansson. Strict: an unknown key is an error, so a typo
 * in a unit's file is caught before anything is sent. */
#define _GNU_SOURCE
#include "report_json.h"
#include "report_file.h"
#include "report_util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *s_keys[] = {"update_id", "unit",       "period",   "section",   "area",
                               "item_key",  "order",      "revision", "withdrawn", "text",
                               "sub_items", "indicators", NULL};

static int s_string(json_t *obj, const char *key, bool required, char **out, char *err, size_t size,
                    size_t index)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return s_fail(err, size, "update %zu: \"%s\" is required", index + 1, key);
        *out = report_strdup("");
        return 0;
    }
    if (!json_is_string(v))
        return s_fail(err, size, "update %zu: \"%s\" must be a string", index + 1, key);
    *out = report_strndup(json_string_value(v), json_string_length(v));
    return 0;
}

static int s_uint(json_t *obj, const char *key, uint32_t *out, char *err, size_t size, size_t index)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0x7fffffff)
        return s_fail(err, size, "update %zu: \"%s\" must be a non-negative integer", index + 1,
                      key);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int s_one(json_t *obj, size_t index, report_update_t *u, char *err, size_t size)
{
    if (!json_is_object(obj))
        return s_fail(err, size, "update %zu: not a JSON object", index + 1);
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        bool known = false;
        for (int i = 0; s_keys[i] && !known; i++)
            known = strcmp(key, s_keys[i]) == 0;
        if (!known)
            return s_fail(err, size, "update %zu: unknown key \"%s\"", index + 1, key);
    }
    char *period = NULL, *section = NULL;
    if (s_string(obj, "update_id", true, &u->update_id, err, size, index) ||
        s_string(obj, "unit", true, &u->unit_code, err, size, index) ||
        s_string(obj, "area", true, &u->area_code, err, size, index) ||
        s_string(obj, "item_key", true, &u->item_key, err, size, index) ||
        s_string(obj, "text", false, &u->text, err, size, index) ||
        s_uint(obj, "order", &u->item_order, err, size, index) ||
        s_uint(obj, "revision", &u->revision, err, size, index))
        return -1;
    if (s_string(obj, "period", true, &period, err, size, index))
        return -1;
    /* Digits checked one by one: sscanf's %d would also take a sign or leading spaces. */
    bool ok = strlen(period) == 7 && period[4] == '-';
    for (int i = 0; ok && i < 7; i++)
        ok = i == 4 || (period[i] >= '0' && period[i] <= '9');
    if (ok) {
        u->year = atoi(period);
        u->month = atoi(period + 5);
    }
    free(period);
    if (!ok)
        return s_fail(err, size, "update %zu: \"period\" must be YYYY-MM", index + 1);
    if (s_string(obj, "section", true, &section, err, size, index))
        return -1;
    u->section = report_section_parse(section);
    free(section);
    if (u->section == REPORT_SECTION_NONE)
        return s_fail(err, size, "update %zu: \"section\" must be result, limitation or next_task",
                      index + 1);
    json_t *w = json_object_get(obj, "withdrawn");
    if (w && !json_is_boolean(w))
        return s_fail(err, size, "update %zu: \"withdrawn\" must be true or false", index + 1);
    u->withdrawn = w && json_is_true(w);
    json_t *subs = json_object_get(obj, "sub_items");
    if (subs) {
        if (!json_is_array(subs))
            return s_fail(err, size, "update %zu: \"sub_items\" must be an array", index + 1);
        u->sub_items = report_calloc(json_array_size(subs), sizeof(char *));
        for (size_t i = 0; i < json_array_size(subs); i++) {
            json_t *s = json_array_get(subs, i);
            if (!json_is_string(s))
                return s_fail(err, size, "update %zu: sub_items[%zu] must be a string", index + 1,
                              i);
            u->sub_items[u->sub_item_count++] =
                report_strndup(json_string_value(s), json_string_length(s));
        }
    }
    json_t *ind = json_object_get(obj, "indicators");
    if (ind) {
        if (!json_is_object(ind))
            return s_fail(err, size, "update %zu: \"indicators\" must be an object of numbers",
                          index + 1);
        u->indicators = report_calloc(json_object_size(ind), sizeof(report_indicator_value_t));
        const char *code;
        json_t *num;
        json_object_foreach(ind, code, num)
        {
            if (!json_is_number(num))
                return s_fail(err, size, "update %zu: indicator %s must be a number", index + 1,
                              code);
            report_indicator_value_t *iv = &u->indicators[u->indicator_count++];
            iv->code = report_strdup(code);
            iv->value = json_number_value(num);
        }
    }
    return 0;
}

int report_json_parse_updates(const char *json, size_t len, report_update_t ***updates,
                              size_t *count, char *err, size_t err_size)
{
    *updates = NULL;
    *count = 0;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return s_fail(err, err_size, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    size_t n = json_is_array(root) ? json_array_size(root) : 1;
    report_update_t **list = report_calloc(n, sizeof(report_update_t *));
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        list[i] = report_update_new();
        rc = s_one(json_is_array(root) ? json_array_get(root, i) : root, i, list[i], err, err_size);
    }
    json_decref(root);
    if (rc != 0) {
        report_updates_free(list, n);
        return -1;
    }
    *updates = list;
    *count = n;
    return 0;
}

int report_json_load_updates(const char *path, report_update_t ***updates, size_t *count, char *err,
                             size_t err_size)
{
    size_t size;
    char *text = report_file_read(path, SIZE_MAX, &size);
    if (!text)
        return s_fail(err, err_size, "%s: cannot open", path);
    int rc = report_json_parse_updates(text, size, updates, count, err, err_size);
    free(text);
    return rc;
}

void report_updates_free(report_update_t **updates, size_t count)
{
    if (!updates)
        return;
    for (size_t i = 0; i < count; i++)
        report_update_destroy(&updates[i]);
    free(updates);
}
