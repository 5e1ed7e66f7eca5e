/* Codec round trip and every validation rule, on the decode-and-validate entry point that
 * socket bytes go through. */
#define _GNU_SOURCE
#include "report_codec.h"
#include "report_json.h"
#include "report_util.h"
#include "report_validate.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static report_limits_t limits;

static void setup(void)
{
    report_limits_default(&limits);
}

TestSuite(validate, .init = setup);

/* Encodes u, runs it through report_update_accept, expects the given reason. */
static void expect_refused(report_update_t *u, const char *reason)
{
    size_t size;
    uint8_t *buf = report_update_encode(u, &size);
    report_update_t *out = NULL;
    report_refusal_t why;
    char id[64], unit[64];
    int rc = report_update_accept(&limits, NULL, buf, size, &out, &why, id, unit);
    free(buf);
    cr_assert_eq(rc, -1, "expected refusal %s, got acceptance", reason);
    cr_assert_null(out);
    cr_assert_str_eq(report_reason_name(why.reason), reason, "message: %s", why.message);
    cr_assert_gt(strlen(why.message), 0);
    report_update_destroy(&u);
}

static void drop_indicators(report_update_t *u)
{
    for (size_t i = 0; i < u->indicator_count; i++)
        free(u->indicators[i].code);
    u->indicator_count = 0;
}

static report_update_t *accept_ok(report_update_t *u)
{
    size_t size;
    uint8_t *buf = report_update_encode(u, &size);
    report_update_t *out = NULL;
    report_refusal_t why;
    int rc = report_update_accept(&limits, NULL, buf, size, &out, &why, NULL, NULL);
    free(buf);
    cr_assert_eq(rc, 0, "refused: %s %s", report_reason_name(why.reason), why.message);
    report_update_destroy(&u);
    return out;
}

Test(validate, codec_round_trip)
{
    report_update_t *u = test_update_new("k-1");
    u->section = REPORT_SECTION_NEXT_TASK;
    u->revision = 7;
    u->withdrawn = true;
    u->item_order = 42;
    u->sub_item_count = 2;
    u->sub_items = report_calloc(2, sizeof(char *));
    u->sub_items[0] = report_strdup("một");
    u->sub_items[1] = report_strdup("hai");
    size_t size;
    uint8_t *buf = report_update_encode(u, &size);
    report_update_t *d = report_update_decode(buf, size);
    free(buf);
    cr_assert_not_null(d);
    cr_assert_str_eq(d->update_id, u->update_id);
    cr_assert_str_eq(d->unit_code, "THANH_TRA");
    cr_assert_eq(d->year, 2018);
    cr_assert_eq(d->month, 7);
    cr_assert_eq(d->section, REPORT_SECTION_NEXT_TASK);
    cr_assert_str_eq(d->area_code, "THANH_TRA");
    cr_assert_str_eq(d->item_key, "k-1");
    cr_assert_eq(d->item_order, 42);
    cr_assert_eq(d->revision, 7);
    cr_assert(d->withdrawn);
    cr_assert_str_eq(d->text, u->text);
    cr_assert_eq(d->sub_item_count, 2);
    cr_assert_str_eq(d->sub_items[1], "hai");
    cr_assert_eq(d->indicator_count, 1);
    cr_assert_str_eq(d->indicators[0].code, "THANHTRA_CUOC");
    cr_assert_float_eq(d->indicators[0].value, 1.0, 1e-9);
    report_update_destroy(&d);
    report_update_destroy(&u);

    report_reply_t r, back;
    report_reply_set(&r, "abc", REPORT_OUTCOME_REJECTED, REPORT_REASON_bad_code, "unit %s", "x");
    buf = report_reply_encode(&r, &size);
    cr_assert_eq(report_reply_decode(buf, size, &back), 0);
    free(buf);
    cr_assert_str_eq(back.update_id, "abc");
    cr_assert_eq(back.outcome, REPORT_OUTCOME_REJECTED);
    cr_assert_eq(back.reason, REPORT_REASON_bad_code);
    cr_assert_str_eq(back.message, "unit x");
}

Test(validate, valid_update_accepted_and_id_canonical)
{
    report_update_t *u = test_update_new("k-1");
    for (char *p = u->update_id; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    char upper[40];
    strcpy(upper, u->update_id);
    report_update_t *out = accept_ok(u);
    for (char *p = upper; *p; p++)
        if (*p >= 'A' && *p <= 'F')
            *p = (char)(*p - 'A' + 'a');
    cr_assert_str_eq(out->update_id, upper);
    report_update_destroy(&out);
}

Test(validate, too_large)
{
    limits.max_message_bytes = 50;
    expect_refused(test_update_new("k"), "too_large");
}

Test(validate, malformed_bytes)
{
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    report_update_t *out = NULL;
    report_refusal_t why;
    cr_assert_eq(report_update_accept(&limits, NULL, junk, sizeof junk, &out, &why, NULL, NULL),
                 -1);
    cr_assert_eq(why.reason, REPORT_REASON_malformed);
    /* a length-delimited field announcing far more bytes than there are */
    const uint8_t truncated[] = {0x0a, 0xff, 0xff, 0xff, 0x7f, 'a'};
    cr_assert_eq(
        report_update_accept(&limits, NULL, truncated, sizeof truncated, &out, &why, NULL, NULL),
        -1);
    cr_assert_eq(why.reason, REPORT_REASON_malformed);
}

Test(validate, missing_update_id)
{
    report_update_t *u = test_update_new("k");
    u->update_id[0] = '\0';
    expect_refused(u, "missing_field");
}

Test(validate, bad_uuid)
{
    report_update_t *u = test_update_new("k");
    u->update_id[5] = 'z';
    expect_refused(u, "bad_uuid");
}

Test(validate, missing_unit)
{
    report_update_t *u = test_update_new("k");
    u->unit_code[0] = '\0';
    expect_refused(u, "missing_field");
}

Test(validate, bad_unit_code)
{
    report_update_t *u = test_update_new("k");
    free(u->unit_code);
    u->unit_code = report_strdup("thanh tra");
    expect_refused(u, "bad_code");
}

Test(validate, bad_area_code)
{
    report_update_t *u = test_update_new("k");
    free(u->area_code);
    u->area_code = report_strdup("AREA'; DROP TABLE updates;--");
    expect_refused(u, "bad_code");
}

Test(validate, missing_section)
{
    report_update_t *u = test_update_new("k");
    u->section = REPORT_SECTION_NONE;
    expect_refused(u, "bad_section");
}

Test(validate, unknown_section_value)
{
    report_update_t *u = test_update_new("k");
    u->section = (report_section_t)9;
    expect_refused(u, "bad_section");
}

Test(validate, year_out_of_range)
{
    report_update_t *u = test_update_new("k");
    u->year = 1999;
    expect_refused(u, "bad_period");
    u = test_update_new("k");
    u->year = 2101;
    expect_refused(u, "bad_period");
}

Test(validate, month_out_of_range)
{
    report_update_t *u = test_update_new("k");
    u->month = 0;
    expect_refused(u, "bad_period");
    u = test_update_new("k");
    u->month = 13;
    expect_refused(u, "bad_period");
}

Test(validate, missing_item_key)
{
    report_update_t *u = test_update_new("");
    expect_refused(u, "missing_field");
}

Test(validate, item_key_too_long)
{
    char key[200];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    expect_refused(test_update_new(key), "text_too_long");
}

Test(validate, missing_text)
{
    report_update_t *u = test_update_new("k");
    u->text[0] = '\0';
    drop_indicators(u);
    expect_refused(u, "missing_field");
}

Test(validate, numbers_only_and_withdrawn_items_need_no_text)
{
    report_update_t *u = test_update_new("k");
    u->text[0] = '\0';
    report_update_t *out = accept_ok(u);
    report_update_destroy(&out);
    u = test_update_new("k");
    u->text[0] = '\0';
    drop_indicators(u);
    u->withdrawn = true;
    out = accept_ok(u);
    report_update_destroy(&out);
}

Test(validate, text_too_long)
{
    limits.max_text_bytes = 10;
    expect_refused(test_update_new("k"), "text_too_long");
}

Test(validate, invalid_utf8)
{
    report_update_t *u = test_update_new("k");
    free(u->text);
    u->text = report_strdup("ok \xc3\x28 broken");
    expect_refused(u, "invalid_utf8");
    u = test_update_new("k");
    free(u->text);
    u->text = report_strdup("overlong \xc0\xaf slash");
    expect_refused(u, "invalid_utf8");
    u = test_update_new("k");
    free(u->text);
    u->text = report_strdup("surrogate \xed\xa0\x80");
    expect_refused(u, "invalid_utf8");
    u = test_update_new("k");
    free(u->text);
    u->text = report_strdup("cut \xe1\xbb");
    expect_refused(u, "invalid_utf8");
}

Test(validate, control_characters)
{
    const char *bad[] = {"tab\there", "cr\rhere", "bell\ahere", "esc\x1b[31m", "c1 \xc2\x85"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        report_update_t *u = test_update_new("k");
        free(u->text);
        u->text = report_strdup(bad[i]);
        expect_refused(u, "control_char");
    }
    report_update_t *u = test_update_new("k\nkey");
    expect_refused(u, "control_char"); /* no newline in a key */
    u = test_update_new("k");
    free(u->text);
    u->text = report_strdup("dòng một\ndòng hai");
    report_update_t *out = accept_ok(u);
    report_update_destroy(&out);
}

Test(validate, nul_inside_a_string_is_refused)
{
    /* protobuf-c would cut the string at the NUL; the raw bytes must be refused instead. */
    report_update_t *u = test_update_new("k");
    free(u->text);
    u->text = report_strdup("AAAA visible");
    size_t size;
    uint8_t *buf = report_update_encode(u, &size);
    uint8_t *hit = memmem(buf, size, "AAAA", 4);
    cr_assert_not_null(hit);
    hit[2] = '\0';
    report_update_t *out = NULL;
    report_refusal_t why;
    cr_assert_eq(report_update_accept(&limits, NULL, buf, size, &out, &why, NULL, NULL), -1);
    cr_assert_eq(why.reason, REPORT_REASON_control_char);
    free(buf);
    report_update_destroy(&u);
}

Test(validate, decomposed_text_is_normalised_to_nfc)
{
    report_update_t *u = test_update_new("k");
    free(u->text);
    /* "Việt" typed decomposed: e + U+0323 (dot below) + U+0302 (circumflex) */
    u->text = report_strdup("Vi"
                            "e\xcc\xa3\xcc\x82"
                            "t Nam");
    report_update_t *out = accept_ok(u);
    cr_assert_str_eq(out->text, "Vi\xe1\xbb\x87t Nam"); /* U+1EC7 ệ */
    report_update_destroy(&out);
}

Test(validate, too_many_sub_items)
{
    limits.max_sub_items = 1;
    report_update_t *u = test_update_new("k");
    u->sub_item_count = 2;
    u->sub_items = report_calloc(2, sizeof(char *));
    u->sub_items[0] = report_strdup("a");
    u->sub_items[1] = report_strdup("b");
    expect_refused(u, "too_many_items");
}

Test(validate, empty_sub_item)
{
    report_update_t *u = test_update_new("k");
    u->sub_item_count = 1;
    u->sub_items = report_calloc(1, sizeof(char *));
    u->sub_items[0] = report_strdup("");
    expect_refused(u, "missing_field");
}

Test(validate, too_many_indicators)
{
    limits.max_indicators = 0;
    expect_refused(test_update_new("k"), "too_many_indicators");
}

Test(validate, indicator_value_out_of_range)
{
    report_update_t *u = test_update_new("k");
    u->indicators[0].value = -1;
    expect_refused(u, "out_of_range");
    u = test_update_new("k");
    u->indicators[0].value = NAN;
    expect_refused(u, "out_of_range");
    u = test_update_new("k");
    u->indicators[0].value = INFINITY;
    expect_refused(u, "out_of_range");
    u = test_update_new("k");
    u->indicators[0].value = 1e13;
    expect_refused(u, "out_of_range");
}

Test(validate, bad_indicator_code)
{
    report_update_t *u = test_update_new("k");
    free(u->indicators[0].code);
    u->indicators[0].code = report_strdup("iso-audit");
    expect_refused(u, "bad_code");
}

Test(validate, duplicate_indicator)
{
    report_update_t *u = test_update_new("k");
    u->indicators = report_realloc(u->indicators, 2 * sizeof(report_indicator_value_t));
    u->indicators[1].code = report_strdup("THANHTRA_CUOC");
    u->indicators[1].value = 2;
    u->indicator_count = 2;
    expect_refused(u, "duplicate_indicator");
}

Test(validate, item_order_and_revision_ranges)
{
    report_update_t *u = test_update_new("k");
    u->item_order = 100001;
    expect_refused(u, "out_of_range");
    u = test_update_new("k");
    u->revision = 2000000;
    expect_refused(u, "out_of_range");
}

Test(validate, json_push_format)
{
    const char *json = "[{\"update_id\": \"6f1c2d4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f\","
                       " \"unit\": \"THANH_TRA\", \"period\": \"2018-07\", \"section\": "
                       "\"limitation\", \"area\": \"THANH_TRA\", \"item_key\": \"k\", \"order\": "
                       "3, \"revision\": 1, \"text\": \"Thanh tra\", \"sub_items\": [\"a\"],"
                       " \"indicators\": {\"THANHTRA_CUOC\": 2.5}}]";
    report_update_t **list;
    size_t n;
    char err[256];
    cr_assert_eq(report_json_parse_updates(json, strlen(json), &list, &n, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(n, 1);
    cr_assert_eq(list[0]->section, REPORT_SECTION_LIMITATION);
    cr_assert_eq(list[0]->year, 2018);
    cr_assert_eq(list[0]->month, 7);
    cr_assert_eq(list[0]->item_order, 3);
    cr_assert_float_eq(list[0]->indicators[0].value, 2.5, 1e-9);
    report_updates_free(list, n);

    const char *typo = "{\"update_id\": \"x\", \"unit\": \"A\", \"perod\": \"2018-07\"}";
    cr_assert_eq(report_json_parse_updates(typo, strlen(typo), &list, &n, err, sizeof err), -1);
    cr_assert(strstr(err, "perod"), "%s", err);
    const char *bad_period = "{\"update_id\": \"x\", \"unit\": \"A\", \"area\": \"A\", "
                             "\"item_key\": \"k\", \"period\": \"2018-7\", \"section\": "
                             "\"result\"}";
    cr_assert_eq(
        report_json_parse_updates(bad_period, strlen(bad_period), &list, &n, err, sizeof err), -1);
    cr_assert(strstr(err, "period"), "%s", err);
}

Test(validate, sample_files_are_all_valid)
{
    for (int m = 1; m <= 7; m++) {
        char rel[64];
        snprintf(rel, sizeof rel, "deploy/sample/2018-%02d.json", m);
        char *path = test_repo_path(rel);
        report_update_t **list;
        size_t n;
        char err[256];
        cr_assert_eq(report_json_load_updates(path, &list, &n, err, sizeof err), 0, "%s", err);
        for (size_t i = 0; i < n; i++) {
            report_refusal_t why;
            cr_assert_eq(report_update_validate(&limits, list[i], &why), 0, "%s #%zu: %s", rel, i,
                         why.message);
        }
        report_updates_free(list, n);
        free(path);
    }
}

/* Issue 8, defect 6: fields a later version adds may hold any bytes, NUL included. */
Test(validate, unknown_fields_may_hold_nul_bytes)
{
    report_update_t *u = test_update_new("k");
    const char *indicator = "TT_INSPECTION";
    u->indicators = report_realloc(u->indicators, (u->indicator_count + 1) * sizeof *u->indicators);
    u->indicators[u->indicator_count].code = report_strdup(indicator);
    u->indicators[u->indicator_count++].value = 2;
    size_t size;
    uint8_t *buf = report_update_encode(u, &size);
    /* Update field 99 (bytes) and, inside a new IndicatorValue, field 3 (bytes): each holds
     * a NUL. Field 13 is a length-delimited IndicatorValue {code, value, 3: "a\0b"}. */
    const uint8_t extra[] = {0x9a, 0x06, 0x03, 'a', 0x00, 'b',  0x6a, 0x0a, 0x0a,
                             0x03, 'I',  'S',  'O', 0x1a, 0x03, 'a',  0x00, 'b'};
    buf = report_realloc(buf, size + sizeof extra);
    memcpy(buf + size, extra, sizeof extra);
    report_update_t *out = NULL;
    report_refusal_t why;
    int rc = report_update_accept(&limits, NULL, buf, size + sizeof extra, &out, &why, NULL, NULL);
    cr_assert_eq(rc, 0, "refused: %s %s", report_reason_name(why.reason), why.message);
    cr_assert_eq(out->indicator_count, u->indicator_count + 1);
    cr_assert_str_eq(out->indicators[out->indicator_count - 1].code, "ISO");
    report_update_destroy(&out);
    /* ...while a NUL in one of our own strings (the new indicator's code) is still refused */
    buf[size + 10] = 0x00;
    cr_assert_eq(
        report_update_accept(&limits, NULL, buf, size + sizeof extra, &out, &why, NULL, NULL), -1);
    cr_assert_eq(why.reason, REPORT_REASON_control_char);
    free(buf);
    report_update_destroy(&u);
}

/* Trojan Source: text that displays otherwise than it reads is refused, in text and keys. */
Test(validate, bidi_controls_refused_in_text_and_keys)
{
    const char *bidi[] = {"\xe2\x80\xae", "\xe2\x80\xaa", "\xe2\x81\xa6", "\xe2\x81\xa9",
                          "\xe2\x80\x8f", "\xd8\x9c"}; /* U+202E 202A 2066 2069 200F 061C */
    for (size_t i = 0; i < sizeof bidi / sizeof bidi[0]; i++) {
        report_update_t *u = test_update_new("k");
        free(u->text);
        u->text = report_sprintf("Đã kiểm tra %s02 cơ sở", bidi[i]);
        expect_refused(u, "forbidden_char");
        u = test_update_new("k");
        u->sub_items = report_realloc(u->sub_items, sizeof(char *));
        u->sub_items[0] = report_sprintf("mục %s", bidi[i]);
        u->sub_item_count = 1;
        expect_refused(u, "forbidden_char");
        char *key = report_sprintf("k%s1", bidi[i]);
        expect_refused(test_update_new(key), "forbidden_char");
        free(key);
    }
}

/* A zero-width character would make a second item key that looks like the first. */
Test(validate, invisible_characters_refused_in_keys_allowed_in_text)
{
    const char *invisible[] = {"\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d", "\xe2\x81\xa0",
                               "\xef\xbb\xbf", "\xc2\xad",     "\xe2\x80\xa8"};
    for (size_t i = 0; i < sizeof invisible / sizeof invisible[0]; i++) {
        char *key = report_sprintf("thanh-tra%s-01", invisible[i]);
        expect_refused(test_update_new(key), "forbidden_char");
        free(key);
    }
    /* In prose a zero-width space is rare but harmless: it is kept as sent. */
    report_update_t *u = test_update_new("k");
    free(u->text);
    u->text = report_strdup("Kiểm\xe2\x80\x8btra");
    report_update_t *out = accept_ok(u);
    cr_assert_str_eq(out->text, "Kiểm\xe2\x80\x8btra");
    report_update_destroy(&out);
}

Test(validate, nil_uuid_refused)
{
    report_update_t *u = test_update_new("k");
    free(u->update_id);
    u->update_id = report_strdup("00000000-0000-0000-0000-000000000000");
    expect_refused(u, "bad_uuid");
}

/* Issue 8, defect 2: identity comes first, and the refusal is blamed on the key's unit. */
Test(validate, identity_checked_before_anything_else)
{
    report_update_t *u = test_update_new("k"); /* THANH_TRA's update... */
    u->month = 13;                             /* ...with a bad period as well */
    size_t size;
    uint8_t *buf = report_update_encode(u, &size);
    report_update_t *out = NULL;
    report_refusal_t why;
    char id[64], unit[64];
    cr_assert_eq(report_update_accept(&limits, "QLKH", buf, size, &out, &why, id, unit), -1);
    cr_assert_eq(why.reason, REPORT_REASON_unit_mismatch, "%s: %s", report_reason_name(why.reason),
                 why.message);
    cr_assert_str_eq(unit, "QLKH");
    /* from THANH_TRA's own key the same bytes are refused for what is wrong with them */
    cr_assert_eq(report_update_accept(&limits, "THANH_TRA", buf, size, &out, &why, id, unit), -1);
    cr_assert_eq(why.reason, REPORT_REASON_bad_period);
    cr_assert_str_eq(unit, "THANH_TRA");
    /* a unit code that is not even a code is still "not this key's unit" */
    free(buf);
    u->unit_code[0] = '\0';
    buf = report_update_encode(u, &size);
    cr_assert_eq(report_update_accept(&limits, "QLKH", buf, size, &out, &why, id, unit), -1);
    cr_assert_eq(why.reason, REPORT_REASON_unit_mismatch);
    /* bytes that are not an update at all: the decoder's reason, blamed on the key's unit */
    cr_assert_eq(report_update_accept(&limits, "QLKH", buf, 3, &out, &why, id, unit), -1);
    cr_assert_eq(why.reason, REPORT_REASON_malformed);
    cr_assert_str_eq(unit, "QLKH");
    free(buf);
    report_update_destroy(&u);
}

/* Issue 8, defect 9: every reply carries the id in one canonical form. */
Test(validate, refusal_answers_the_canonical_id)
{
    report_update_t *u = test_update_new("k");
    char lower[40];
    snprintf(lower, sizeof lower, "%s", u->update_id);
    for (char *p = u->update_id; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    u->month = 0;
    size_t size;
    uint8_t *buf = report_update_encode(u, &size);
    report_update_t *out = NULL;
    report_refusal_t why;
    char id[64], unit[64];
    cr_assert_eq(report_update_accept(&limits, NULL, buf, size, &out, &why, id, unit), -1);
    cr_assert_eq(why.reason, REPORT_REASON_bad_period);
    cr_assert_str_eq(id, lower);
    free(buf);
    report_update_destroy(&u);
}

/* report_nfc_stable is a fast path that skips utf8proc_NFC: every code point it calls stable
 * must be one whose presence cannot make a text non-NFC, by utf8proc's own data. */
Test(validate, nfc_stable_set_agrees_with_unicode_data)
{
    /* No stable code point may appear after the first place of any canonical decomposition
     * (it could compose with what precedes it). */
    for (utf8proc_int32_t cp = 0; cp <= 0x10FFFF; cp++) {
        utf8proc_int32_t d[32];
        int last = 0;
        utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 32, UTF8PROC_DECOMPOSE, &last);
        cr_assert(n >= 1 && n <= 32, "U+%04X: decomposition of %zd code points", (unsigned)cp,
                  (ssize_t)n);
        for (utf8proc_ssize_t i = 1; i < n; i++)
            cr_assert(!report_nfc_stable(d[i]),
                      "U+%04X decomposes to U+%04X at place %zd, so it may compose", (unsigned)cp,
                      (unsigned)d[i], (ssize_t)i);
    }
    size_t stable = 0;
    for (utf8proc_int32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (!report_nfc_stable(cp))
            continue;
        stable++;
        const utf8proc_property_t *p = utf8proc_get_property(cp);
        cr_assert_eq(p->combining_class, 0, "U+%04X is not a starter", (unsigned)cp);
        utf8proc_int32_t d[32];
        int last = 0;
        utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 32, UTF8PROC_DECOMPOSE, &last);
        cr_assert_eq(utf8proc_get_property(d[0])->combining_class, 0,
                     "U+%04X decomposes to a non-starter first", (unsigned)cp);
        (void)n;
        if (cp == 0)
            continue;
        utf8proc_uint8_t one[8] = {0};
        utf8proc_encode_char(cp, one);
        utf8proc_uint8_t *nfc = utf8proc_NFC(one);
        cr_assert(nfc && strcmp((const char *)nfc, (const char *)one) == 0, "NFC changes U+%04X",
                  (unsigned)cp);
        free(nfc);
    }
    cr_assert_gt(stable, 800, "the Vietnamese letters are in the set");
    cr_assert(report_nfc_stable(0x1EC7) && report_nfc_stable(0x01A1) && report_nfc_stable(0x20AB));
    cr_assert(!report_nfc_stable(0x0301) && !report_nfc_stable(0x2000) &&
              !report_nfc_stable(0x1161));
}

/* The fast path and the full normalisation agree on texts that mix both kinds. */
Test(validate, nfc_fast_path_matches_full_normalisation)
{
    const char *texts[] = {
        "Tổ chức 01 cuộc kiểm tra đo lường “cột đo xăng dầu” – 02 doanh nghiệp; 5.000.000₫",
        "Vi"
        "e\xcc\xa3\xcc\x82"
        "t",            /* decomposed: slow path */
        "\xe2\x84\xab", /* U+212B ANGSTROM SIGN: NFC maps it to U+00C5 */
        "plain ASCII only",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char *out = NULL;
        report_refusal_t why;
        cr_assert_eq(report_text_normalize(texts[i], strlen(texts[i]), REPORT_FIELD_TEXT, "text",
                                           &out, &why),
                     0);
        utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)texts[i]);
        cr_assert_str_eq(out, (const char *)nfc, "text %zu", i);
        free(nfc);
        free(out);
    }
}
