/* libFuzzer target on the desk protocol (desk.proto): the requests the aggregator's desk
 * endpoint decodes from units, and the answers `reportctl desk` decodes from the aggregator.
 * Whatever the input, no crash, leak or sanitizer report; what decodes survives encode and
 * decode unchanged. */
#include "report_desk_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_neq(const char *a, const char *b)
{
    return !a || !b || strcmp(a, b) != 0;
}

static int s_request_neq(const report_desk_request_t *a, const report_desk_request_t *b)
{
    if (s_neq(a->kind, b->kind) || s_neq(a->period, b->period) || s_neq(a->text, b->text) ||
        s_neq(a->item_key, b->item_key) || a->sub_item_count != b->sub_item_count ||
        a->value_count != b->value_count)
        return 1;
    for (size_t i = 0; i < a->sub_item_count; i++)
        if (s_neq(a->sub_items[i], b->sub_items[i]))
            return 1;
    for (size_t i = 0; i < a->value_count; i++)
        if (strcmp(a->values[i].code, b->values[i].code) != 0 ||
            memcmp(&a->values[i].value, &b->values[i].value, sizeof(double)) != 0)
            return 1;
    return 0;
}

static void s_request(const uint8_t *data, size_t size)
{
    report_desk_request_t req, again;
    if (report_desk_request_decode(data, size, &req) != 0) {
        report_desk_request_clear(&req);
        return;
    }
    size_t n;
    uint8_t *buf = report_desk_request_encode(&req, &n);
    if (report_desk_request_decode(buf, n, &again) != 0 || s_request_neq(&req, &again))
        abort();
    report_desk_request_clear(&again);
    report_desk_request_clear(&req);
    free(buf);
}

static void s_reply(const uint8_t *data, size_t size)
{
    report_desk_reply_t reply, again;
    if (report_desk_reply_decode(data, size, &reply) != 0)
        return;
    size_t n;
    uint8_t *buf = report_desk_reply_encode(&reply, &n);
    if (report_desk_reply_decode(buf, n, &again) != 0 || again.ok != reply.ok ||
        s_neq(again.error_code, reply.error_code) || s_neq(again.message, reply.message) ||
        s_neq(again.json, reply.json))
        abort();
    report_desk_reply_clear(&again);
    report_desk_reply_clear(&reply);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_request(data, size);
    s_reply(data, size);
    return 0;
}
