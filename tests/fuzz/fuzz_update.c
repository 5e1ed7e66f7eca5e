/* libFuzzer target on the entry point every byte from a socket goes through: decode and
 * validate an Update. Whatever the input, it must not crash, leak or trip a sanitizer; and
 * what it accepts must encode and be accepted again unchanged (the collector re-encodes the
 * NFC form before handing it to a store). */
#include "report_codec.h"
#include "report_validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    report_limits_t limits;
    report_limits_default(&limits);
    report_update_t *u = NULL;
    report_refusal_t why;
    char id[64], unit[64];
    if (report_update_accept(&limits, NULL, data, size, &u, &why, id, unit) == 0) {
        size_t n;
        uint8_t *buf = report_update_encode(u, &n);
        report_update_t *again = NULL;
        if (report_update_accept(&limits, NULL, buf, n, &again, &why, id, unit) != 0)
            abort(); /* accepted once, refused after normalisation: a validation bug */
        if (strcmp(again->text, u->text) != 0 || strcmp(again->update_id, u->update_id) != 0)
            abort(); /* NFC and the id's canonical form must be stable */
        report_update_destroy(&again);
        free(buf);
    } else if (why.reason == REPORT_REASON_none) {
        abort(); /* every refusal has a reason */
    }
    report_update_destroy(&u);
    /* As the collector calls it for an enrolled key: what it accepts is that unit's, and a
     * refusal is blamed on that unit. */
    if (report_update_accept(&limits, "THANH_TRA", data, size, &u, &why, id, unit) == 0) {
        if (strcmp(u->unit_code, "THANH_TRA") != 0)
            abort();
    } else if (strcmp(unit, "THANH_TRA") != 0) {
        abort();
    }
    report_update_destroy(&u);
    return 0;
}
