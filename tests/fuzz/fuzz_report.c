/* libFuzzer target on what a subscriber (and reportctl compile/publish) decodes from the
 * aggregator: a published report from PUB, a catch-up reply, a control reply; then the
 * subscriber's check of a report before it writes files. Whatever the input, no crash, leak
 * or sanitizer report; a decoded report must survive encode + decode unchanged. */
#include "report_codec.h"
#include "report_subscriber.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_neq(const char *a, const char *b)
{
    return !a || !b || strcmp(a, b) != 0;
}

static void s_same(const report_published_t *a, const report_published_t *b)
{
    if (a->seq != b->seq || a->year != b->year || a->month != b->month ||
        a->version != b->version || a->number != b->number ||
        a->published_at_ms != b->published_at_ms || s_neq(a->agency_code, b->agency_code) ||
        s_neq(a->doc_date, b->doc_date) || s_neq(a->text, b->text) || s_neq(a->html, b->html) ||
        s_neq(a->json, b->json) || s_neq(a->markdown, b->markdown) || s_neq(a->sha256, b->sha256))
        abort();
}

static void s_published(const uint8_t *data, size_t size)
{
    report_published_t *r = report_published_decode(data, size);
    if (!r)
        return;
    (void)report_subscriber_report_ok(r);
    size_t n;
    uint8_t *buf = report_published_encode(r, &n);
    report_published_t *again = report_published_decode(buf, n);
    if (!again)
        abort();
    s_same(r, again);
    if (report_subscriber_report_ok(r) != report_subscriber_report_ok(again))
        abort();
    report_published_destroy(&again);
    report_published_destroy(&r);
    free(buf);
}

static void s_catchup(const uint8_t *data, size_t size)
{
    report_catchup_reply_t reply, again;
    if (report_catchup_reply_decode(data, size, &reply) != 0)
        return;
    if (reply.report)
        (void)report_subscriber_report_ok(reply.report);
    size_t n;
    uint8_t *buf = report_catchup_reply_encode(&reply, &n);
    if (report_catchup_reply_decode(buf, n, &again) != 0)
        abort();
    if (again.end != reply.end || again.more != reply.more || again.last_seq != reply.last_seq ||
        !again.report != !reply.report)
        abort();
    if (reply.report)
        s_same(reply.report, again.report);
    report_catchup_reply_clear(&again);
    report_catchup_reply_clear(&reply);
    free(buf);
}

static void s_control(const uint8_t *data, size_t size)
{
    report_control_reply_t reply, again;
    if (report_control_reply_decode(data, size, &reply) != 0)
        return;
    size_t n;
    uint8_t *buf = report_control_reply_encode(&reply, &n);
    if (report_control_reply_decode(buf, n, &again) != 0)
        abort();
    if (again.ok != reply.ok || again.missing_count != reply.missing_count ||
        again.warning_count != reply.warning_count || !again.report != !reply.report ||
        s_neq(again.error_code, reply.error_code) || s_neq(again.message, reply.message) ||
        s_neq(again.body, reply.body))
        abort();
    for (size_t i = 0; i < reply.missing_count; i++)
        if (s_neq(again.missing_units[i], reply.missing_units[i]))
            abort();
    for (size_t i = 0; i < reply.warning_count; i++)
        if (s_neq(again.warnings[i], reply.warnings[i]))
            abort();
    if (reply.report)
        s_same(reply.report, again.report);
    report_control_reply_clear(&again);
    report_control_reply_clear(&reply);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_published(data, size);
    s_catchup(data, size);
    s_control(data, size);
    return 0;
}
