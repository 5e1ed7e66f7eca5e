/* Layered validation of updates (CRIU style): bytes, presence, enums, formats, ranges, text. */
#include "report_validate.h"
#include "report_codec.h"
#include "report_period.h"
#include "report_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <uuid/uuid.h>

void report_limits_default(report_limits_t *limits)
{
    limits->max_message_bytes = REPORT_DEFAULT_MAX_MESSAGE_BYTES;
    limits->max_text_bytes = REPORT_DEFAULT_MAX_TEXT_BYTES;
    limits->max_sub_items = REPORT_DEFAULT_MAX_SUB_ITEMS;
    limits->max_indicators = REPORT_DEFAULT_MAX_INDICATORS;
    limits->max_key_bytes = REPORT_DEFAULT_MAX_KEY_BYTES;
    limits->value_min = 0;
    limits->value_max = 1e12;
    limits->year_min = REPORT_YEAR_MIN;
    limits->year_max = REPORT_YEAR_MAX;
}

static int s_refuse(report_refusal_t *why, report_reason_t reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_refuse(report_refusal_t *why, report_reason_t reason, const char *fmt, ...)
{
    why->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* True if s is a catalogue code: 1..32 of [A-Z0-9_]. */
static bool s_code_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return n >= 1 && n <= 32;
}

/* Characters that reorder how text is displayed (Trojan Source, CVE-2021-42574): a reader
 * of the report would see something else than what was sent. */
static bool s_bidi_control(utf8proc_int32_t cp)
{
    return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Characters that print as nothing (format characters such as U+200B ZERO WIDTH SPACE or
 * U+FEFF) and line or paragraph separators: in a key they make two keys that look alike. */
static bool s_invisible(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

bool report_nfc_stable(int32_t cp)
{
    return cp < 0x80 || (cp >= 0xA0 && cp <= 0x24F) || (cp >= 0x1E00 && cp <= 0x1EFF) ||
           (cp >= 0x2010 && cp <= 0x2027) || (cp >= 0x2030 && cp <= 0x205E) ||
           (cp >= 0x20A0 && cp <= 0x20C0);
}

int report_text_normalize(const char *s, size_t len, report_field_kind_t kind, const char *field,
                          char **out, report_refusal_t *why)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    size_t offset = 0;
    bool key = kind == REPORT_FIELD_KEY;
    bool stable = true; /* every code point NFC-stable: the text is NFC as it is */
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + offset, left, &cp);
        if (n < 0 || cp < 0)
            return s_refuse(why, REPORT_REASON_invalid_utf8, "%s: invalid UTF-8 at byte %zu", field,
                            offset);
        if ((cp < 0x20 && !(!key && cp == '\n')) || (cp >= 0x7f && cp <= 0x9f))
            return s_refuse(why, REPORT_REASON_control_char,
                            "%s: control character U+%04X at byte %zu", field, (unsigned)cp,
                            offset);
        if (s_bidi_control(cp) || (key && s_invisible(cp)))
            return s_refuse(
                why, REPORT_REASON_forbidden_char, "%s: %s character U+%04X at byte %zu", field,
                s_bidi_control(cp) ? "bidirectional control" : "invisible", (unsigned)cp, offset);
        stable = stable && report_nfc_stable(cp);
        offset += (size_t)n;
        left -= n;
    }
    /* The common case (Vietnamese typed on a keyboard that composes) costs one scan: the
     * full normalisation took about half of the collector's and the store's CPU. */
    if (stable) {
        *out = report_strndup(s, len);
        return 0;
    }
    /* utf8proc_NFC needs a NUL-terminated string; s has no NUL inside (checked above). */
    char *copy = report_strndup(s, len);
    utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)copy);
    free(copy);
    if (!nfc)
        return s_refuse(why, REPORT_REASON_invalid_utf8, "%s: cannot normalise to NFC", field);
    /* Hand the caller memory from our allocator, not utf8proc's. */
    *out = report_strdup((const char *)nfc);
    free(nfc);
    return 0;
}

/* Replaces *slot with its NFC form after the checks of report_text_normalize. */
static int s_normalize_field(char **slot, report_field_kind_t kind, size_t max_bytes,
                             const char *field, report_refusal_t *why)
{
    char *nfc = NULL;
    if (report_text_normalize(*slot, strlen(*slot), kind, field, &nfc, why) != 0)
        return -1;
    if (strlen(nfc) > max_bytes) {
        size_t n = strlen(nfc);
        free(nfc);
        return s_refuse(why, REPORT_REASON_text_too_long, "%s: %zu bytes, limit %zu", field, n,
                        max_bytes);
    }
    free(*slot);
    *slot = nfc;
    return 0;
}

static int s_check_code(const char *code, const char *field, report_refusal_t *why)
{
    if (!*code)
        return s_refuse(why, REPORT_REASON_missing_field, "%s is required", field);
    if (!s_code_valid(code))
        return s_refuse(why, REPORT_REASON_bad_code, "%s must be 1-32 of A-Z 0-9 _", field);
    return 0;
}

int report_update_validate(const report_limits_t *limits, report_update_t *u, report_refusal_t *why)
{
    /* Presence */
    if (!*u->update_id)
        return s_refuse(why, REPORT_REASON_missing_field, "update_id is required");
    uuid_t id;
    if (strlen(u->update_id) != 36 || uuid_parse(u->update_id, id) != 0)
        return s_refuse(why, REPORT_REASON_bad_uuid, "update_id is not a UUID");
    if (uuid_is_null(id))
        return s_refuse(why, REPORT_REASON_bad_uuid,
                        "update_id is the nil UUID, which names no update");
    char canon[37];
    uuid_unparse_lower(id, canon);
    memcpy(u->update_id, canon, 37);

    if (s_check_code(u->unit_code, "unit_code", why) ||
        s_check_code(u->area_code, "area_code", why))
        return -1;
    /* Enums: the decoder maps every unknown value to NONE. */
    if (report_section_name(u->section) == NULL)
        return s_refuse(why, REPORT_REASON_bad_section,
                        "section must be result, limitation or next_task");
    /* Ranges */
    if (u->year < limits->year_min || u->year > limits->year_max)
        return s_refuse(why, REPORT_REASON_bad_period, "year %d outside %d..%d", u->year,
                        limits->year_min, limits->year_max);
    if (u->month < 1 || u->month > 12)
        return s_refuse(why, REPORT_REASON_bad_period, "month %d outside 1..12", u->month);
    if (u->item_order > REPORT_MAX_ITEM_ORDER)
        return s_refuse(why, REPORT_REASON_out_of_range, "item_order %u above %d", u->item_order,
                        REPORT_MAX_ITEM_ORDER);
    if (u->revision > REPORT_MAX_REVISION)
        return s_refuse(why, REPORT_REASON_out_of_range, "revision %u above %d", u->revision,
                        REPORT_MAX_REVISION);
    if (u->sub_item_count > limits->max_sub_items)
        return s_refuse(why, REPORT_REASON_too_many_items, "%zu sub-items, limit %zu",
                        u->sub_item_count, limits->max_sub_items);
    if (u->indicator_count > limits->max_indicators)
        return s_refuse(why, REPORT_REASON_too_many_indicators, "%zu indicators, limit %zu",
                        u->indicator_count, limits->max_indicators);
    /* Text */
    if (!*u->item_key)
        return s_refuse(why, REPORT_REASON_missing_field, "item_key is required");
    if (s_normalize_field(&u->item_key, REPORT_FIELD_KEY, limits->max_key_bytes, "item_key", why) ||
        s_normalize_field(&u->text, REPORT_FIELD_TEXT, limits->max_text_bytes, "text", why))
        return -1;
    for (size_t i = 0; i < u->sub_item_count; i++) {
        char field[32];
        snprintf(field, sizeof field, "sub_items[%zu]", i);
        if (s_normalize_field(&u->sub_items[i], REPORT_FIELD_TEXT, limits->max_text_bytes, field,
                              why))
            return -1;
        if (!*u->sub_items[i])
            return s_refuse(why, REPORT_REASON_missing_field, "%s is empty", field);
    }
    if (!*u->text && !u->withdrawn && u->indicator_count == 0)
        return s_refuse(why, REPORT_REASON_missing_field,
                        "text is required unless the item is withdrawn "
                        "or carries indicators");
    /* Indicators */
    for (size_t i = 0; i < u->indicator_count; i++) {
        const report_indicator_value_t *iv = &u->indicators[i];
        if (s_check_code(iv->code, "indicators.code", why))
            return -1;
        if (!isfinite(iv->value) || iv->value < limits->value_min || iv->value > limits->value_max)
            return s_refuse(why, REPORT_REASON_out_of_range,
                            "indicator %s: value %g outside [%g, %g]", iv->code, iv->value,
                            limits->value_min, limits->value_max);
        for (size_t j = 0; j < i; j++)
            if (strcmp(u->indicators[j].code, iv->code) == 0)
                return s_refuse(why, REPORT_REASON_duplicate_indicator, "indicator %s given twice",
                                iv->code);
    }
    return 0;
}

static bool s_printable_ascii(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= max || s[n] < 0x21 || s[n] > 0x7e)
            return false;
    return true;
}

/* The id as it will be answered: canonical (lower case) if it is a UUID, else as sent if it
 * is plain ASCII (it goes into logs and the dead-letter table), else empty. */
static void s_reply_id(const char *sent, char *out)
{
    uuid_t id;
    if (strlen(sent) == 36 && uuid_parse(sent, id) == 0)
        uuid_unparse_lower(id, out);
    else
        snprintf(out, 64, "%s", s_printable_ascii(sent, 40) ? sent : "");
}

int report_update_accept(const report_limits_t *limits, const char *expected_unit,
                         const uint8_t *data, size_t size, report_update_t **out,
                         report_refusal_t *why, char *why_id, char *why_unit)
{
    *out = NULL;
    if (why_id)
        why_id[0] = '\0';
    if (why_unit)
        snprintf(why_unit, 64, "%s", expected_unit ? expected_unit : "");
    if (size > limits->max_message_bytes) {
        s_refuse(why, REPORT_REASON_too_large, "update of %zu bytes, limit %zu", size,
                 limits->max_message_bytes);
        return -1;
    }
    report_update_t *u = report_update_decode(data, size);
    if (!u) {
        s_refuse(why, REPORT_REASON_malformed, "not a sokhcn.report.v1.Update message");
        return -1;
    }
    if (why_id)
        s_reply_id(u->update_id, why_id);
    if (why_unit && !expected_unit)
        snprintf(why_unit, 64, "%.32s", s_code_valid(u->unit_code) ? u->unit_code : "");
    /* Identity first: an update for another unit is refused as that, whatever else is wrong
     * with it, so that one unit cannot make another look faulty. */
    int rc;
    if (expected_unit && strcmp(u->unit_code, expected_unit) != 0)
        rc = s_refuse(why, REPORT_REASON_unit_mismatch, "this key belongs to %s, not to %.32s",
                      expected_unit, s_code_valid(u->unit_code) ? u->unit_code : "another unit");
    else if ((rc = report_update_strings_hold_nul(data, size)) != 0)
        rc = rc > 0
                 ? s_refuse(why, REPORT_REASON_control_char, "a text field holds a NUL byte")
                 : s_refuse(why, REPORT_REASON_malformed, "not a sokhcn.report.v1.Update message");
    else
        rc = report_update_validate(limits, u, why);
    if (rc != 0) {
        report_update_destroy(&u);
        return -1;
    }
    *out = u;
    return 0;
}
