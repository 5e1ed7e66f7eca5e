/* libFuzzer target on the push-file parser (report_json_parse_updates), which reads whatever
 * file a person hands to reportctl push. Whatever the input, no crash, leak or sanitizer
 * report; every update it returns has its strings set, a period that was YYYY-MM, and encodes
 * to an Update that decodes to the same strings (what is sent is what the file said). */
#include "report_codec.h"
#include "report_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_neq(const char *a, const char *b)
{
    return !a || !b || strcmp(a, b) != 0;
}

static void s_check(const report_update_t *u)
{
    if (!u->update_id || !u->unit_code || !u->area_code || !u->item_key || !u->text ||
        (u->sub_item_count && !u->sub_items) || (u->indicator_count && !u->indicators))
        abort();
    /* "period" is YYYY-MM: four digits, a dash, two digits (ranges are the collector's job) */
    if (u->year < 0 || u->year > 9999 || u->month < 0 || u->month > 99)
        abort();
    size_t n;
    uint8_t *buf = report_update_encode(u, &n);
    report_update_t *back = report_update_decode(buf, n);
    if (!back)
        abort();
    if (s_neq(back->update_id, u->update_id) || s_neq(back->unit_code, u->unit_code) ||
        s_neq(back->area_code, u->area_code) || s_neq(back->item_key, u->item_key) ||
        s_neq(back->text, u->text) || back->section != u->section ||
        back->sub_item_count != u->sub_item_count || back->indicator_count != u->indicator_count ||
        back->item_order != u->item_order || back->revision != u->revision ||
        back->withdrawn != u->withdrawn)
        abort();
    for (size_t i = 0; i < u->sub_item_count; i++)
        if (s_neq(back->sub_items[i], u->sub_items[i]))
            abort();
    for (size_t i = 0; i < u->indicator_count; i++)
        if (s_neq(back->indicators[i].code, u->indicators[i].code))
            abort();
    report_update_destroy(&back);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    report_update_t **updates = NULL;
    size_t count = 0;
    char err[256];
    if (report_json_parse_updates((const char *)data, size, &updates, &count, err, sizeof err) !=
        0) {
        if (err[0] == '\0')
            abort(); /* every refusal says why */
        return 0;
    }
    for (size_t i = 0; i < count; i++)
        s_check(updates[i]);
    report_updates_free(updates, count);
    return 0;
}
