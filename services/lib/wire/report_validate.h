/* Validation of updates in layers, after decoding: size, presence, enums, formats, ranges,
 * then text (valid UTF-8, no control characters but newline, normalised to NFC). The one
 * entry point a socket's bytes go through is report_update_accept. */
#ifndef REPORT_VALIDATE_H
#define REPORT_VALIDATE_H

#include "report_update.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every bound is a setting of the collector; these are the defaults. */
typedef struct {
    size_t max_message_bytes; /* whole encoded update */
    size_t max_text_bytes;    /* text and each sub-item, after NFC */
    size_t max_sub_items;
    size_t max_indicators;
    size_t max_key_bytes; /* item_key */
    double value_min;
    double value_max;
    int year_min;
    int year_max;
} report_limits_t;

#define REPORT_DEFAULT_MAX_MESSAGE_BYTES 262144
#define REPORT_DEFAULT_MAX_TEXT_BYTES 16384
#define REPORT_DEFAULT_MAX_SUB_ITEMS 50
#define REPORT_DEFAULT_MAX_INDICATORS 50
#define REPORT_DEFAULT_MAX_KEY_BYTES 128
/* Fixed bounds of an update's numbers (the database columns hold them). */
#define REPORT_MAX_ITEM_ORDER 100000
#define REPORT_MAX_REVISION 1000000

void report_limits_default(report_limits_t *limits);

/* Why an update was refused: a reason code from the list in the README and a readable text. */
typedef struct {
    report_reason_t reason;
    char message[256];
} report_refusal_t;

/* Decodes and validates raw bytes from a socket. expected_unit, if not NULL, is the unit
 * the sender's key is enrolled as: an update naming another unit is refused unit_mismatch
 * before any other check. On success returns 0 and a new, NFC-normalised update in *out
 * (caller owns). On refusal returns -1, fills *why and copies into *why_id the update id as
 * it is answered (canonical lower case if it is a UUID, as sent if it is printable ASCII,
 * else empty) and into *why_unit the unit the refusal is blamed on (expected_unit, or
 * without one the unit code as far as it could be read); each 64 bytes, may be NULL. Never
 * crashes on any input. */
int report_update_accept(const report_limits_t *limits, const char *expected_unit,
                         const uint8_t *data, size_t size, report_update_t **out,
                         report_refusal_t *why, char *why_id, char *why_unit);

/* Validates a decoded update in place (normalising its text to NFC and its id to lower
 * case). 0, or -1 with *why filled. */
int report_update_validate(const report_limits_t *limits, report_update_t *update,
                           report_refusal_t *why);

/* What a text field is: a key (one line, compared by the reader's eye, so nothing that
 * prints as nothing) or prose (newlines allowed). */
typedef enum { REPORT_FIELD_KEY, REPORT_FIELD_TEXT } report_field_kind_t;

/* True if code point cp is NFC-stable: a starter (combining class 0) that NFC leaves as it
 * is, whose canonical decomposition starts with a starter, and that composes with nothing
 * before it; a text made only of such code points is NFC. A conservative set of ranges
 * (ASCII, Latin-1, Latin Extended-A and -B, Latin Extended Additional where Vietnamese
 * letters live, general punctuation, currency signs), checked against utf8proc's data by
 * test_validate. */
bool report_nfc_stable(int32_t cp);

/* Checks that s (len bytes) is UTF-8 without control characters (newline allowed in prose),
 * without bidirectional controls (U+061C, U+200E/F, U+202A-E, U+2066-9) and, in a key,
 * without invisible characters (format characters such as U+200B or U+FEFF, line and
 * paragraph separators), and returns its NFC form as a new string in *out. 0, or -1 with
 * *why filled (reason invalid_utf8, control_char or forbidden_char); field names the field
 * in the message. */
int report_text_normalize(const char *s, size_t len, report_field_kind_t kind, const char *field,
                          char **out, report_refusal_t *why);

#endif
