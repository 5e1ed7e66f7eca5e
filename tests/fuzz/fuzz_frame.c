/* libFuzzer target on the collector <-> store link: report_frame_decode, which both sides run
 * on every frame from the other. Whatever the input, no crash, leak or sanitizer report; and
 * a decoded frame must encode and decode again to the same frame. */
#include "report_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_same_reply(const report_reply_t *a, const report_reply_t *b)
{
    if (strcmp(a->update_id, b->update_id) != 0 || a->outcome != b->outcome ||
        a->reason != b->reason || strcmp(a->message, b->message) != 0)
        abort();
}

static void s_same(const report_frame_t *a, const report_frame_t *b)
{
    if (a->type != b->type)
        abort();
    switch (a->type) {
    case REPORT_FRAME_READY:
        if (a->credit != b->credit || strcmp(a->store_id, b->store_id) != 0)
            abort();
        break;
    case REPORT_FRAME_WORK:
        if (a->tag != b->tag || a->update_size != b->update_size ||
            (a->update_size && memcmp(a->update, b->update, a->update_size) != 0))
            abort();
        break;
    case REPORT_FRAME_RESULT:
        if (a->tag != b->tag)
            abort();
        s_same_reply(&a->reply, &b->reply);
        break;
    case REPORT_FRAME_DEAD_LETTER:
        s_same_reply(&a->reply, &b->reply);
        if (strcmp(a->unit_code, b->unit_code) != 0 || strcmp(a->update_id, b->update_id) != 0 ||
            a->payload_len != b->payload_len || a->payload_size != b->payload_size ||
            (a->payload_len && memcmp(a->payload, b->payload, a->payload_len) != 0))
            abort();
        break;
    default:
        abort(); /* decode succeeded with no known type */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    report_frame_t frame;
    if (report_frame_decode(data, size, &frame) != 0)
        return 0;
    size_t n;
    uint8_t *buf = report_frame_encode(&frame, &n);
    report_frame_t again;
    if (report_frame_decode(buf, n, &again) != 0)
        abort(); /* what we decoded, we must be able to send */
    s_same(&frame, &again);
    report_frame_clear(&again);
    report_frame_clear(&frame);
    free(buf);
    return 0;
}
