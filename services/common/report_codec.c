/* protobuf-c <-> domain conversion. Nothing else includes the generated headers. */
#include "report_codec.h"
#include "report_util.h"

#include "report/v1/store.pb-c.h"
#include "report/v1/update.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_dup(const char *s)
{
    return report_strdup(s ? s : "");
}

report_update_t *report_update_decode(const uint8_t *data, size_t size)
{
    Sokhcn__Report__V1__Update *msg = sokhcn__report__v1__update__unpack(NULL, size, data);
    if (!msg)
        return NULL;
    report_update_t *u = report_update_new();
    u->update_id = s_dup(msg->update_id);
    u->unit_code = s_dup(msg->unit_code);
    /* Out-of-range values are kept out of range (not truncated) so validation sees them. */
    u->year = msg->year > 100000 ? 100000 : (int)msg->year;
    u->month = msg->month > 100 ? 100 : (int)msg->month;
    switch (msg->section) {
    case SOKHCN__REPORT__V1__SECTION__SECTION_RESULT:
        u->section = REPORT_SECTION_RESULT;
        break;
    case SOKHCN__REPORT__V1__SECTION__SECTION_LIMITATION:
        u->section = REPORT_SECTION_LIMITATION;
        break;
    case SOKHCN__REPORT__V1__SECTION__SECTION_NEXT_TASK:
        u->section = REPORT_SECTION_NEXT_TASK;
        break;
    default:
        u->section = REPORT_SECTION_NONE;
        break;
    }
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
    sokhcn__report__v1__update__free_unpacked(msg, NULL);
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
    *size = sokhcn__report__v1__update__get_packed_size(&msg);
    uint8_t *buf = report_malloc(*size);
    sokhcn__report__v1__update__pack(&msg, buf);
    free(ptrs);
    free(values);
    return buf;
}

static void s_reply_from_msg(const Sokhcn__Report__V1__UpdateReply *msg, report_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    snprintf(reply->update_id, sizeof reply->update_id, "%s", msg->update_id ? msg->update_id : "");
    switch (msg->outcome) {
    case SOKHCN__REPORT__V1__OUTCOME__OUTCOME_STORED:
        reply->outcome = REPORT_OUTCOME_STORED;
        break;
    case SOKHCN__REPORT__V1__OUTCOME__OUTCOME_DUPLICATE:
        reply->outcome = REPORT_OUTCOME_DUPLICATE;
        break;
    case SOKHCN__REPORT__V1__OUTCOME__OUTCOME_REJECTED:
        reply->outcome = REPORT_OUTCOME_REJECTED;
        break;
    case SOKHCN__REPORT__V1__OUTCOME__OUTCOME_BUSY:
        reply->outcome = REPORT_OUTCOME_BUSY;
        break;
    default:
        reply->outcome = REPORT_OUTCOME_NONE;
        break;
    }
    snprintf(reply->reason, sizeof reply->reason, "%s", msg->reason ? msg->reason : "");
    snprintf(reply->message, sizeof reply->message, "%s", msg->message ? msg->message : "");
}

static void s_reply_to_msg(const report_reply_t *reply, Sokhcn__Report__V1__UpdateReply *msg)
{
    sokhcn__report__v1__update_reply__init(msg);
    msg->update_id = (char *)reply->update_id;
    msg->outcome = (Sokhcn__Report__V1__Outcome)reply->outcome;
    msg->reason = (char *)reply->reason;
    msg->message = (char *)reply->message;
}

int report_reply_decode(const uint8_t *data, size_t size, report_reply_t *reply)
{
    Sokhcn__Report__V1__UpdateReply *msg =
        sokhcn__report__v1__update_reply__unpack(NULL, size, data);
    if (!msg)
        return -1;
    s_reply_from_msg(msg, reply);
    sokhcn__report__v1__update_reply__free_unpacked(msg, NULL);
    return 0;
}

uint8_t *report_reply_encode(const report_reply_t *reply, size_t *size)
{
    Sokhcn__Report__V1__UpdateReply msg;
    s_reply_to_msg(reply, &msg);
    *size = sokhcn__report__v1__update_reply__get_packed_size(&msg);
    uint8_t *buf = report_malloc(*size);
    sokhcn__report__v1__update_reply__pack(&msg, buf);
    return buf;
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
    memset(frame, 0, sizeof *frame);
    Sokhcn__Report__V1__StoreFrame *msg = sokhcn__report__v1__store_frame__unpack(NULL, size, data);
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
        frame->update = s_bytes_dup(msg->work->update);
        frame->update_size = msg->work->update.len;
        s_copy(frame->peer_unit, sizeof frame->peer_unit, msg->work->peer_unit);
        break;
    case SOKHCN__REPORT__V1__STORE_FRAME__BODY_RESULT:
        frame->type = REPORT_FRAME_RESULT;
        frame->tag = msg->result->tag;
        if (msg->result->reply)
            s_reply_from_msg(msg->result->reply, &frame->reply);
        break;
    case SOKHCN__REPORT__V1__STORE_FRAME__BODY_DEAD_LETTER:
        frame->type = REPORT_FRAME_DEAD_LETTER;
        s_copy(frame->reply.reason, sizeof frame->reply.reason, msg->dead_letter->reason);
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
    sokhcn__report__v1__store_frame__free_unpacked(msg, NULL);
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
        work.update.data = frame->update;
        work.update.len = frame->update_size;
        work.peer_unit = (char *)frame->peer_unit;
        msg.work = &work;
        break;
    case REPORT_FRAME_RESULT:
        msg.body_case = SOKHCN__REPORT__V1__STORE_FRAME__BODY_RESULT;
        result.tag = frame->tag;
        s_reply_to_msg(&frame->reply, &reply);
        result.reply = &reply;
        msg.result = &result;
        break;
    case REPORT_FRAME_DEAD_LETTER:
        msg.body_case = SOKHCN__REPORT__V1__STORE_FRAME__BODY_DEAD_LETTER;
        dead.reason = (char *)frame->reply.reason;
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
    *size = sokhcn__report__v1__store_frame__get_packed_size(&msg);
    uint8_t *buf = report_malloc(*size);
    sokhcn__report__v1__store_frame__pack(&msg, buf);
    return buf;
}

void report_frame_clear(report_frame_t *frame)
{
    free(frame->update);
    free(frame->payload);
    memset(frame, 0, sizeof *frame);
}
