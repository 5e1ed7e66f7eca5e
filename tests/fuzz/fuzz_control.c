/* libFuzzer target on what the aggregator decodes from its peers: control requests (compile,
 * publish, attach-signed, catalogue, dead letters, rate; from operators) and catch-up requests
 * (from subscribers). Whatever the input, no crash, leak or sanitizer report; and a decoded
 * request must survive encode + decode unchanged. */
#include "report_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int s_neq(const char *a, const char *b)
{
    return !a || !b || strcmp(a, b) != 0;
}

/* The catalogue's and dead letters' fields (NULL in the other kinds, on both sides). */
static int s_admin_neq(const report_control_request_t *a, const report_control_request_t *b)
{
    if (b->kind != REPORT_CONTROL_CATALOGUE && b->kind != REPORT_CONTROL_DEAD_LETTER)
        return a->action || a->subject || a->code || a->fields_json || a->reason || a->unit;
    if (s_neq(a->action, b->action) || a->dead_letter_id != b->dead_letter_id)
        return 1;
    if (b->kind == REPORT_CONTROL_CATALOGUE)
        return s_neq(a->subject, b->subject) || s_neq(a->code, b->code) ||
               s_neq(a->fields_json, b->fields_json);
    return s_neq(a->reason, b->reason) || s_neq(a->unit, b->unit);
}

static void s_control(const uint8_t *data, size_t size)
{
    report_control_request_t req, again;
    if (report_control_request_decode(data, size, &req) != 0)
        return;
    if (req.kind != REPORT_CONTROL_COMPILE && req.kind != REPORT_CONTROL_PUBLISH &&
        req.kind != REPORT_CONTROL_ATTACH && req.kind != REPORT_CONTROL_CATALOGUE &&
        req.kind != REPORT_CONTROL_DEAD_LETTER && req.kind != REPORT_CONTROL_RATE)
        abort();
    size_t n;
    uint8_t *buf = report_control_request_encode(&req, &n);
    if (report_control_request_decode(buf, n, &again) != 0)
        abort();
    if (again.kind != req.kind || again.year != req.year || again.month != req.month ||
        again.number != req.number || s_neq(again.agency_code, req.agency_code) ||
        s_neq(again.date, req.date) || s_neq(again.basis, req.basis) ||
        s_neq(again.format, req.format) || again.force != req.force ||
        again.version != req.version || again.signed_size != req.signed_size ||
        (req.signed_size && memcmp(again.signed_pdf, req.signed_pdf, req.signed_size) != 0))
        abort();
    if (s_admin_neq(&again, &req))
        abort();
    report_control_request_clear(&again);
    report_control_request_clear(&req);
    free(buf);
}

static void s_catchup(const uint8_t *data, size_t size)
{
    report_catchup_request_t req, again;
    if (report_catchup_request_decode(data, size, &req) != 0)
        return;
    size_t n;
    uint8_t *buf = report_catchup_request_encode(&req, &n);
    if (report_catchup_request_decode(buf, n, &again) != 0)
        abort();
    if (again.by_period != req.by_period || again.period != req.period ||
        again.after_seq != req.after_seq || s_neq(again.agency_code, req.agency_code))
        abort();
    report_catchup_request_clear(&again);
    report_catchup_request_clear(&req);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_control(data, size);
    s_catchup(data, size);
    return 0;
}
