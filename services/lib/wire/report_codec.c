/* protobuf-c <-> domain conversion. Nothing else includes the generated headers. */
#include "report_codec.h"
#include "report_util.h"

#include "report/v1/report.pb-c.h"
#include "report/v1/store.pb-c.h"
#include "report/v1/update.pb-c.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_dup(const char *s)
{
    return report_strdup(s ? s : "");
}

/* Every message is packed and unpacked through protobuf-c's generic entry points, with its
 * descriptor: one way for all of them. */
static uint8_t *s_pack(const ProtobufCMessage *msg, size_t *size)
{
    *size = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = report_malloc(*size);
    protobuf_c_message_pack(msg, buf);
    return buf;
}

static void *s_unpack(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data,
                      size_t size)
{
    return protobuf_c_message_unpack(descriptor, NULL, size, data);
}

/* For a decoder that fills *out: out cleared first, whatever the bytes are. */
static void *s_unpack_clear(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data,
                            size_t size, void *out, size_t out_size)
{
    memset(out, 0, out_size);
    return s_unpack(descriptor, data, size);
}

static void s_free(void *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* Numbers on the wire are uint32, in the domain types int: a value out of range stays out
 * of range (validation refuses it, naming the value sent), only capped so that it fits. */
static int s_int(uint32_t value)
{
    return value > INT_MAX ? INT_MAX : (int)value;
}

/* The domain enums have the wire's values; a value this version does not know is NONE. */
_Static_assert((int)REPORT_SECTION_RESULT == (int)SOKHCN__REPORT__V1__SECTION__SECTION_RESULT &&
                   (int)REPORT_SECTION_LIMITATION ==
                       (int)SOKHCN__REPORT__V1__SECTION__SECTION_LIMITATION &&
                   (int)REPORT_SECTION_NEXT_TASK ==
                       (int)SOKHCN__REPORT__V1__SECTION__SECTION_NEXT_TASK,
               "report_section_t is the wire's Section");
_Static_assert((int)REPORT_OUTCOME_STORED == (int)SOKHCN__REPORT__V1__OUTCOME__OUTCOME_STORED &&
                   (int)REPORT_OUTCOME_DUPLICATE ==
                       (int)SOKHCN__REPORT__V1__OUTCOME__OUTCOME_DUPLICATE &&
                   (int)REPORT_OUTCOME_REJECTED ==
                       (int)SOKHCN__REPORT__V1__OUTCOME__OUTCOME_REJECTED &&
                   (int)REPORT_OUTCOME_BUSY == (int)SOKHCN__REPORT__V1__OUTCOME__OUTCOME_BUSY,
               "report_outcome_t is the wire's Outcome");

report_update_t *report_update_decode(const uint8_t *data, size_t size)
{
    Sokhcn__Report__V1__Update *msg = s_unpack(&sokhcn__report__v1__update__descriptor, data, size);
    if (!msg)
        return NULL;
    report_update_t *u = report_update_new();
    u->update_id = s_dup(msg->update_id);
    u->unit_code = s_dup(msg->unit_code);
    u->year = s_int(msg->year);
    u->month = s_int(msg->month);
    u->section = msg->section >= SOKHCN__REPORT__V1__SECTION__SECTION_RESULT &&
                         msg->section <= SOKHCN__REPORT__V1__SECTION__SECTION_NEXT_TASK
                     ? (report_section_t)msg->section
                     : REPORT_SECTION_NONE;
    u->area_code = s_dup(msg->area_code);
    u->item_key = s_dup(msg->item_key);
    u->item_order = msg->item_order;
    u->revision = msg->revision;
    u->withdrawn = msg->withdrawn;
    u->text = s_dup(msg->text);
    u->sub_item_count = msg->n_sub_items;
    u->sub_items = report_calloc(msg->n_sub_items, sizeof(char *));
    for (size_t i = 0; i < msg->n_sub_items; i++)
        u->sub_items[i] = s_dup(msg->sub_items[i]);
    u->indicator_count = msg->n_indicators;
    u->indicators = report_calloc(msg->n_indicators, sizeof(report_indicator_value_t));
    for (size_t i = 0; i < msg->n_indicators; i++) {
        u->indicators[i].code = s_dup(msg->indicators[i]->code);
        u->indicators[i].value = msg->indicators[i]->value;
    }
    s_free(msg);
    return u;
}

uint8_t *report_update_encode(const report_update_t *u, size_t *size)
{
    Sokhcn__Report__V1__Update msg = SOKHCN__REPORT__V1__UPDATE__INIT;
    msg.update_id = u->update_id ? u->update_id : "";
    msg.unit_code = u->unit_code ? u->unit_code : "";
    msg.year = (uint32_t)(u->year < 0 ? 0 : u->year);
    msg.month = (uint32_t)(u->month < 0 ? 0 : u->month);
    msg.section = (Sokhcn__Report__V1__Section)u->section;
    msg.area_code = u->area_code ? u->area_code : "";
    msg.item_key = u->item_key ? u->item_key : "";
    msg.item_order = u->item_order;
    msg.revision = u->revision;
    msg.withdrawn = u->withdrawn;
    msg.text = u->text ? u->text : "";
    msg.n_sub_items = u->sub_item_count;
    msg.sub_items = u->sub_items;
    Sokhcn__Report__V1__IndicatorValue *values =
        report_calloc(u->indicator_count, sizeof(Sokhcn__Report__V1__IndicatorValue));
    Sokhcn__Report__V1__IndicatorValue **ptrs =
        report_calloc(u->indicator_count, sizeof(Sokhcn__Report__V1__IndicatorValue *));
    for (size_t i = 0; i < u->indicator_count; i++) {
        sokhcn__report__v1__indicator_value__init(&values[i]);
        values[i].code = u->indicators[i].code;
        values[i].value = u->indicators[i].value;
        ptrs[i] = &values[i];
    }
    msg.n_indicators = u->indicator_count;
    msg.indicators = ptrs;
    uint8_t *buf = s_pack(&msg.base, size);
    free(ptrs);
    free(values);
    return buf;
}

static void s_reply_from_msg(const Sokhcn__Report__V1__UpdateReply *msg, report_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    snprintf(reply->update_id, sizeof reply->update_id, "%s", msg->update_id ? msg->update_id : "");
    reply->outcome = msg->outcome >= SOKHCN__REPORT__V1__OUTCOME__OUTCOME_STORED &&
                             msg->outcome <= SOKHCN__REPORT__V1__OUTCOME__OUTCOME_BUSY
                         ? (report_outcome_t)msg->outcome
                         : REPORT_OUTCOME_NONE;
    reply->reason = report_reason_parse(msg->reason);
    snprintf(reply->message, sizeof reply->message, "%s", msg->message ? msg->message : "");
}

static void s_reply_to_msg(const report_reply_t *reply, Sokhcn__Report__V1__UpdateReply *msg)
{
    sokhcn__report__v1__update_reply__init(msg);
    msg->update_id = (char *)reply->update_id;
    msg->outcome = (Sokhcn__Report__V1__Outcome)reply->outcome;
    msg->reason = (char *)report_reason_name(reply->reason);
    msg->message = (char *)reply->message;
}

int report_reply_decode(const uint8_t *data, size_t size, report_reply_t *reply)
{
    Sokhcn__Report__V1__UpdateReply *msg =
        s_unpack(&sokhcn__report__v1__update_reply__descriptor, data, size);
    if (!msg)
        return -1;
    s_reply_from_msg(msg, reply);
    s_free(msg);
    return 0;
}

uint8_t *report_reply_encode(const report_reply_t *reply, size_t *size)
{
    Sokhcn__Report__V1__UpdateReply msg;
    s_reply_to_msg(reply, &msg);
    return s_pack(&msg.base, size);
}

static void s_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static uint8_t *s_bytes_dup(ProtobufCBinaryData b)
{
    uint8_t *p = report_malloc(b.len);
    if (b.len)
        memcpy(p, b.data, b.len);
    return p;
}

int report_frame_decode(const uint8_t *data, size_t size, report_frame_t *frame)
{
    Sokhcn__Report__V1__StoreFrame *msg = s_unpack_clear(
        &sokhcn__report__v1__store_frame__descriptor, data, size, frame, sizeof *frame);
    if (!msg)
        return -1;
    int rc = 0;
    switch (msg->body_case) {
    case SOKHCN__REPORT__V1__STORE_FRAME__BODY_READY:
        frame->type = REPORT_FRAME_READY;
        frame->credit = msg->ready->credit;
        s_copy(frame->store_id, sizeof frame->store_id, msg->ready->store_id);
        break;
    case SOKHCN__REPORT__V1__STORE_FRAME__BODY_WORK:
        frame->type = REPORT_FRAME_WORK;
        frame->tag = msg->work->tag;
        frame->incarnation = msg->work->incarnation;
        frame->update = s_bytes_dup(msg->work->update);
        frame->update_size = msg->work->update.len;
        break;
    case SOKHCN__REPORT__V1__STORE_FRAME__BODY_RESULT:
        frame->type = REPORT_FRAME_RESULT;
        frame->tag = msg->result->tag;
        frame->incarnation = msg->result->incarnation;
        if (msg->result->reply)
            s_reply_from_msg(msg->result->reply, &frame->reply);
        break;
    case SOKHCN__REPORT__V1__STORE_FRAME__BODY_DEAD_LETTER:
        frame->type = REPORT_FRAME_DEAD_LETTER;
        frame->reply.reason = report_reason_parse(msg->dead_letter->reason);
        s_copy(frame->reply.message, sizeof frame->reply.message, msg->dead_letter->message);
        s_copy(frame->unit_code, sizeof frame->unit_code, msg->dead_letter->unit_code);
        s_copy(frame->update_id, sizeof frame->update_id, msg->dead_letter->update_id);
        frame->payload = s_bytes_dup(msg->dead_letter->payload);
        frame->payload_len = msg->dead_letter->payload.len;
        frame->payload_size = msg->dead_letter->payload_size;
        break;
    default:
        rc = -1;
        break;
    }
    s_free(msg);
    return rc;
}

uint8_t *report_frame_encode(const report_frame_t *frame, size_t *size)
{
    Sokhcn__Report__V1__StoreFrame msg = SOKHCN__REPORT__V1__STORE_FRAME__INIT;
    Sokhcn__Report__V1__StoreReady ready = SOKHCN__REPORT__V1__STORE_READY__INIT;
    Sokhcn__Report__V1__StoreWork work = SOKHCN__REPORT__V1__STORE_WORK__INIT;
    Sokhcn__Report__V1__StoreResult result = SOKHCN__REPORT__V1__STORE_RESULT__INIT;
    Sokhcn__Report__V1__DeadLetter dead = SOKHCN__REPORT__V1__DEAD_LETTER__INIT;
    Sokhcn__Report__V1__UpdateReply reply;
    switch (frame->type) {
    case REPORT_FRAME_READY:
        msg.body_case = SOKHCN__REPORT__V1__STORE_FRAME__BODY_READY;
        ready.credit = frame->credit;
        ready.store_id = (char *)frame->store_id;
        msg.ready = &ready;
        break;
    case REPORT_FRAME_WORK:
        msg.body_case = SOKHCN__REPORT__V1__STORE_FRAME__BODY_WORK;
        work.tag = frame->tag;
        work.incarnation = frame->incarnation;
        work.update.data = frame->update;
        work.update.len = frame->update_size;
        msg.work = &work;
        break;
    case REPORT_FRAME_RESULT:
        msg.body_case = SOKHCN__REPORT__V1__STORE_FRAME__BODY_RESULT;
        result.tag = frame->tag;
        result.incarnation = frame->incarnation;
        s_reply_to_msg(&frame->reply, &reply);
        result.reply = &reply;
        msg.result = &result;
        break;
    case REPORT_FRAME_DEAD_LETTER:
        msg.body_case = SOKHCN__REPORT__V1__STORE_FRAME__BODY_DEAD_LETTER;
        dead.reason = (char *)report_reason_name(frame->reply.reason);
        dead.message = (char *)frame->reply.message;
        dead.unit_code = (char *)frame->unit_code;
        dead.update_id = (char *)frame->update_id;
        dead.payload.data = frame->payload;
        dead.payload.len = frame->payload_len;
        dead.payload_size = frame->payload_size;
        msg.dead_letter = &dead;
        break;
    default:
        break;
    }
    return s_pack(&msg.base, size);
}

void report_frame_clear(report_frame_t *frame)
{
    free(frame->update);
    free(frame->payload);
    memset(frame, 0, sizeof *frame);
}

/* --- aggregator protocols --- */

static char *s_opt(const char *s)
{
    return s ? report_strdup(s) : report_strdup("");
}

static const char *s_str(const char *s)
{
    return s ? s : "";
}

static report_published_t *s_published_from(const Sokhcn__Report__V1__PublishedReport *m)
{
    report_published_t *r = report_published_new();
    r->seq = m->seq;
    r->agency_code = s_opt(m->agency_code);
    r->year = s_int(m->year);
    r->month = s_int(m->month);
    r->version = s_int(m->version);
    r->number = s_int(m->number);
    r->doc_date = s_opt(m->doc_date);
    r->text = s_opt(m->text);
    r->html = s_opt(m->html);
    r->json = s_opt(m->json);
    r->markdown = s_opt(m->markdown);
    r->sha256 = s_opt(m->sha256);
    r->published_at_ms = m->published_at_ms;
    r->pdf = m->pdf.len ? s_bytes_dup(m->pdf) : NULL;
    r->pdf_size = r->pdf ? m->pdf.len : 0;
    r->pdf_pages = s_int(m->pdf_pages);
    r->signed_pdf = m->signed_pdf.len ? s_bytes_dup(m->signed_pdf) : NULL;
    r->signed_size = r->signed_pdf ? m->signed_pdf.len : 0;
    r->signer = s_opt(m->signer);
    r->signing_time = s_opt(m->signing_time);
    return r;
}

static void s_published_to(const report_published_t *r, Sokhcn__Report__V1__PublishedReport *m)
{
    sokhcn__report__v1__published_report__init(m);
    m->seq = r->seq;
    m->agency_code = (char *)s_str(r->agency_code);
    m->year = (uint32_t)r->year;
    m->month = (uint32_t)r->month;
    m->version = (uint32_t)r->version;
    m->number = (uint32_t)r->number;
    m->doc_date = (char *)s_str(r->doc_date);
    m->text = (char *)s_str(r->text);
    m->html = (char *)s_str(r->html);
    m->json = (char *)s_str(r->json);
    m->markdown = (char *)s_str(r->markdown);
    m->sha256 = (char *)s_str(r->sha256);
    m->published_at_ms = r->published_at_ms;
    m->pdf.data = r->pdf;
    m->pdf.len = r->pdf ? r->pdf_size : 0;
    m->pdf_pages = (uint32_t)(r->pdf_pages > 0 ? r->pdf_pages : 0);
    m->signed_pdf.data = r->signed_pdf;
    m->signed_pdf.len = r->signed_pdf ? r->signed_size : 0;
    m->signer = (char *)s_str(r->signer);
    m->signing_time = (char *)s_str(r->signing_time);
}

report_published_t *report_published_decode(const uint8_t *data, size_t size)
{
    Sokhcn__Report__V1__PublishedReport *m =
        s_unpack(&sokhcn__report__v1__published_report__descriptor, data, size);
    if (!m)
        return NULL;
    report_published_t *r = s_published_from(m);
    s_free(m);
    return r;
}

uint8_t *report_published_encode(const report_published_t *report, size_t *size)
{
    Sokhcn__Report__V1__PublishedReport m;
    s_published_to(report, &m);
    return s_pack(&m.base, size);
}

static void s_request_from(report_control_request_t *req, const char *agency_code, uint32_t year,
                           uint32_t month, uint32_t number, const char *date, const char *basis)
{
    req->agency_code = s_opt(agency_code);
    req->year = s_int(year);
    req->month = s_int(month);
    req->number = s_int(number);
    req->date = s_opt(date);
    req->basis = s_opt(basis);
}

/* The operators' catalogue and dead-letter requests; -1 for any other body. */
static int s_admin_from(const Sokhcn__Report__V1__ControlRequest *m, report_control_request_t *req)
{
    if (m->body_case == SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_CATALOGUE) {
        const Sokhcn__Report__V1__CatalogueRequest *c = m->catalogue;
        req->kind = REPORT_CONTROL_CATALOGUE;
        req->action = s_opt(c->action);
        req->subject = s_opt(c->kind);
        req->code = s_opt(c->code);
        req->fields_json = s_opt(c->fields_json);
    } else if (m->body_case == SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_DEAD_LETTER) {
        const Sokhcn__Report__V1__DeadLetterRequest *d = m->dead_letter;
        req->kind = REPORT_CONTROL_DEAD_LETTER;
        req->action = s_opt(d->action);
        req->reason = s_opt(d->reason);
        req->unit = s_opt(d->unit);
        req->dead_letter_id = d->id;
    } else {
        return -1;
    }
    s_request_from(req, "", 0, 0, 0, "", "");
    req->format = s_opt("");
    return 0;
}

int report_control_request_decode(const uint8_t *data, size_t size, report_control_request_t *req)
{
    Sokhcn__Report__V1__ControlRequest *m = s_unpack_clear(
        &sokhcn__report__v1__control_request__descriptor, data, size, req, sizeof *req);
    if (!m)
        return -1;
    int rc = 0;
    /* compile and publish carry the same fields, compile a format besides */
    if (m->body_case == SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_COMPILE) {
        Sokhcn__Report__V1__CompileRequest *c = m->compile;
        req->kind = REPORT_CONTROL_COMPILE;
        s_request_from(req, c->agency_code, c->year, c->month, c->number, c->date, c->basis);
        req->format = s_opt(c->format);
        req->sources = c->sources;
    } else if (m->body_case == SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_PUBLISH) {
        Sokhcn__Report__V1__PublishRequest *p = m->publish;
        req->kind = REPORT_CONTROL_PUBLISH;
        s_request_from(req, p->agency_code, p->year, p->month, p->number, p->date, p->basis);
        req->format = s_opt("");
        req->force = p->force;
    } else if (m->body_case == SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_ATTACH) {
        Sokhcn__Report__V1__AttachSignedRequest *a = m->attach;
        req->kind = REPORT_CONTROL_ATTACH;
        s_request_from(req, a->agency_code, a->year, a->month, 0, "", "");
        req->format = s_opt("");
        req->version = s_int(a->version);
        req->signed_pdf = a->signed_pdf.len ? s_bytes_dup(a->signed_pdf) : NULL;
        req->signed_size = req->signed_pdf ? a->signed_pdf.len : 0;
    } else if (m->body_case == SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_RATE) {
        req->kind = REPORT_CONTROL_RATE;
        s_request_from(req, "", m->rate->year, m->rate->month, 0, "", "");
        req->format = s_opt("");
    } else if (s_admin_from(m, req) != 0) {
        rc = -1;
    }
    s_free(m);
    return rc;
}

uint8_t *report_control_request_encode(const report_control_request_t *req, size_t *size)
{
    Sokhcn__Report__V1__ControlRequest m = SOKHCN__REPORT__V1__CONTROL_REQUEST__INIT;
    Sokhcn__Report__V1__CompileRequest c = SOKHCN__REPORT__V1__COMPILE_REQUEST__INIT;
    Sokhcn__Report__V1__PublishRequest p = SOKHCN__REPORT__V1__PUBLISH_REQUEST__INIT;
    Sokhcn__Report__V1__AttachSignedRequest a = SOKHCN__REPORT__V1__ATTACH_SIGNED_REQUEST__INIT;
    Sokhcn__Report__V1__CatalogueRequest cat = SOKHCN__REPORT__V1__CATALOGUE_REQUEST__INIT;
    Sokhcn__Report__V1__DeadLetterRequest dl = SOKHCN__REPORT__V1__DEAD_LETTER_REQUEST__INIT;
    Sokhcn__Report__V1__RateRequest r = SOKHCN__REPORT__V1__RATE_REQUEST__INIT;
    if (req->kind == REPORT_CONTROL_CATALOGUE) {
        m.body_case = SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_CATALOGUE;
        cat.action = (char *)s_str(req->action);
        cat.kind = (char *)s_str(req->subject);
        cat.code = (char *)s_str(req->code);
        cat.fields_json = (char *)s_str(req->fields_json);
        m.catalogue = &cat;
    } else if (req->kind == REPORT_CONTROL_DEAD_LETTER) {
        m.body_case = SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_DEAD_LETTER;
        dl.action = (char *)s_str(req->action);
        dl.reason = (char *)s_str(req->reason);
        dl.unit = (char *)s_str(req->unit);
        dl.id = req->dead_letter_id;
        m.dead_letter = &dl;
    } else if (req->kind == REPORT_CONTROL_RATE) {
        m.body_case = SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_RATE;
        r.year = (uint32_t)(req->year > 0 ? req->year : 0);
        r.month = (uint32_t)(req->month > 0 ? req->month : 0);
        m.rate = &r;
    } else if (req->kind == REPORT_CONTROL_ATTACH) {
        m.body_case = SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_ATTACH;
        a.agency_code = (char *)s_str(req->agency_code);
        a.year = (uint32_t)req->year;
        a.month = (uint32_t)req->month;
        a.version = (uint32_t)(req->version > 0 ? req->version : 0);
        a.signed_pdf.data = req->signed_pdf;
        a.signed_pdf.len = req->signed_pdf ? req->signed_size : 0;
        m.attach = &a;
    } else if (req->kind == REPORT_CONTROL_COMPILE) {
        m.body_case = SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_COMPILE;
        c.agency_code = (char *)s_str(req->agency_code);
        c.year = (uint32_t)req->year;
        c.month = (uint32_t)req->month;
        c.format = (char *)s_str(req->format);
        c.number = (uint32_t)req->number;
        c.date = (char *)s_str(req->date);
        c.basis = (char *)s_str(req->basis);
        c.sources = req->sources;
        m.compile = &c;
    } else {
        m.body_case = SOKHCN__REPORT__V1__CONTROL_REQUEST__BODY_PUBLISH;
        p.agency_code = (char *)s_str(req->agency_code);
        p.year = (uint32_t)req->year;
        p.month = (uint32_t)req->month;
        p.number = (uint32_t)req->number;
        p.date = (char *)s_str(req->date);
        p.basis = (char *)s_str(req->basis);
        p.force = req->force;
        m.publish = &p;
    }
    return s_pack(&m.base, size);
}

static char **s_strv_dup(char **v, size_t n)
{
    char **out = report_calloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = s_opt(v[i]);
    return out;
}

int report_control_reply_decode(const uint8_t *data, size_t size, report_control_reply_t *reply)
{
    Sokhcn__Report__V1__ControlReply *m = s_unpack_clear(
        &sokhcn__report__v1__control_reply__descriptor, data, size, reply, sizeof *reply);
    if (!m)
        return -1;
    reply->ok = m->ok;
    reply->error_code = s_opt(m->error_code);
    reply->message = s_opt(m->message);
    reply->body = s_opt(m->body);
    reply->missing_units = s_strv_dup(m->missing_units, m->n_missing_units);
    reply->missing_count = m->n_missing_units;
    reply->warnings = s_strv_dup(m->warnings, m->n_warnings);
    reply->warning_count = m->n_warnings;
    reply->report = m->report ? s_published_from(m->report) : NULL;
    reply->pdf = m->pdf.len ? s_bytes_dup(m->pdf) : NULL;
    reply->pdf_size = reply->pdf ? m->pdf.len : 0;
    reply->findings = s_strv_dup(m->findings, m->n_findings);
    reply->finding_count = m->n_findings;
    s_free(m);
    return 0;
}

uint8_t *report_control_reply_encode(const report_control_reply_t *reply, size_t *size)
{
    Sokhcn__Report__V1__ControlReply m = SOKHCN__REPORT__V1__CONTROL_REPLY__INIT;
    Sokhcn__Report__V1__PublishedReport pm;
    m.ok = reply->ok;
    m.error_code = (char *)s_str(reply->error_code);
    m.message = (char *)s_str(reply->message);
    m.body = (char *)s_str(reply->body);
    m.missing_units = reply->missing_units;
    m.n_missing_units = reply->missing_count;
    m.warnings = reply->warnings;
    m.n_warnings = reply->warning_count;
    if (reply->report) {
        s_published_to(reply->report, &pm);
        m.report = &pm;
    }
    m.pdf.data = reply->pdf;
    m.pdf.len = reply->pdf ? reply->pdf_size : 0;
    m.findings = reply->findings;
    m.n_findings = reply->finding_count;
    return s_pack(&m.base, size);
}

int report_catchup_request_decode(const uint8_t *data, size_t size, report_catchup_request_t *req)
{
    Sokhcn__Report__V1__CatchupRequest *m = s_unpack_clear(
        &sokhcn__report__v1__catchup_request__descriptor, data, size, req, sizeof *req);
    if (!m)
        return -1;
    req->agency_code = s_opt(m->agency_code);
    if (m->query_case == SOKHCN__REPORT__V1__CATCHUP_REQUEST__QUERY_PERIOD) {
        req->by_period = true;
        req->period = s_int(m->period);
    } else {
        req->after_seq = m->after_seq;
    }
    s_free(m);
    return 0;
}

uint8_t *report_catchup_request_encode(const report_catchup_request_t *req, size_t *size)
{
    Sokhcn__Report__V1__CatchupRequest m = SOKHCN__REPORT__V1__CATCHUP_REQUEST__INIT;
    m.agency_code = (char *)s_str(req->agency_code);
    if (req->by_period) {
        m.query_case = SOKHCN__REPORT__V1__CATCHUP_REQUEST__QUERY_PERIOD;
        m.period = (uint32_t)req->period;
    } else {
        m.query_case = SOKHCN__REPORT__V1__CATCHUP_REQUEST__QUERY_AFTER_SEQ;
        m.after_seq = req->after_seq;
    }
    return s_pack(&m.base, size);
}

int report_catchup_reply_decode(const uint8_t *data, size_t size, report_catchup_reply_t *reply)
{
    Sokhcn__Report__V1__CatchupReply *m = s_unpack_clear(
        &sokhcn__report__v1__catchup_reply__descriptor, data, size, reply, sizeof *reply);
    if (!m)
        return -1;
    reply->report = m->report ? s_published_from(m->report) : NULL;
    reply->end = m->end;
    reply->last_seq = m->last_seq;
    reply->more = m->more;
    s_free(m);
    return 0;
}

uint8_t *report_catchup_reply_encode(const report_catchup_reply_t *reply, size_t *size)
{
    Sokhcn__Report__V1__CatchupReply m = SOKHCN__REPORT__V1__CATCHUP_REPLY__INIT;
    Sokhcn__Report__V1__PublishedReport pm;
    if (reply->report) {
        s_published_to(reply->report, &pm);
        m.report = &pm;
    }
    m.end = reply->end;
    m.last_seq = reply->last_seq;
    m.more = reply->more;
    return s_pack(&m.base, size);
}

/* --- NUL bytes in strings, read from the wire before decoding --- */

static int s_read_varint(const uint8_t *p, size_t size, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= size)
            return -1;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* The message's fields are looked up in its descriptor: a string field is checked, a
 * message field is walked into, a field this version does not know is passed over. */
static int s_strings_hold_nul(const ProtobufCMessageDescriptor *descriptor, const uint8_t *p,
                              size_t size)
{
    size_t pos = 0;
    while (pos < size) {
        uint64_t key, len;
        if (s_read_varint(p, size, &pos, &key))
            return -1;
        switch (key & 7) {
        case PROTOBUF_C_WIRE_TYPE_VARINT:
            if (s_read_varint(p, size, &pos, &len))
                return -1;
            break;
        case PROTOBUF_C_WIRE_TYPE_64BIT:
            pos += 8;
            break;
        case PROTOBUF_C_WIRE_TYPE_32BIT:
            pos += 4;
            break;
        case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED: {
            if (s_read_varint(p, size, &pos, &len) || len > size - pos)
                return -1;
            const ProtobufCFieldDescriptor *field =
                key >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(descriptor, (unsigned)(key >> 3))
                    : NULL;
            int rc = 0;
            if (field && field->type == PROTOBUF_C_TYPE_MESSAGE)
                rc = s_strings_hold_nul(field->descriptor, p + pos, (size_t)len);
            else if (field && field->type == PROTOBUF_C_TYPE_STRING)
                rc = memchr(p + pos, 0, (size_t)len) != NULL;
            if (rc)
                return rc;
            pos += (size_t)len;
            break;
        }
        default:
            return -1;
        }
        if (pos > size)
            return -1;
    }
    return 0;
}

int report_update_strings_hold_nul(const uint8_t *data, size_t size)
{
    return s_strings_hold_nul(&sokhcn__report__v1__update__descriptor, data, size);
}
