/* protobuf-c <-> domain conversion of the desk protocol (desk.proto). */
#include "report_desk_codec.h"
#include "report_util.h"

#include "report/v1/desk.pb-c.h"

#include <stdlib.h>
#include <string.h>

static char *s_dup(const char *s)
{
    return report_strdup(s ? s : "");
}

static const char *s_str(const char *s)
{
    return s ? s : "";
}

static uint8_t *s_pack(const ProtobufCMessage *msg, size_t *size)
{
    *size = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = report_malloc(*size ? *size : 1);
    protobuf_c_message_pack(msg, buf);
    return buf;
}

int report_desk_request_decode(const uint8_t *data, size_t size, report_desk_request_t *req)
{
    memset(req, 0, sizeof *req);
    Sokhcn__Report__V1__DeskRequest *m =
        (Sokhcn__Report__V1__DeskRequest *)protobuf_c_message_unpack(
            &sokhcn__report__v1__desk_request__descriptor, NULL, size, data);
    if (!m)
        return -1;
    req->kind = s_dup(m->kind);
    req->period = s_dup(m->period);
    req->text = s_dup(m->text);
    req->item_key = s_dup(m->item_key);
    req->sub_items = report_calloc(m->n_sub_items + 1, sizeof *req->sub_items);
    for (size_t i = 0; i < m->n_sub_items; i++)
        req->sub_items[i] = s_dup(m->sub_items[i]);
    req->sub_item_count = m->n_sub_items;
    req->values = report_calloc(m->n_values + 1, sizeof *req->values);
    int rc = 0;
    for (size_t i = 0; i < m->n_values; i++) {
        const char *code = s_str(m->values[i]->code);
        if (strlen(code) > REPORT_DESK_CODE_MAX)
            rc = -1;
        else
            memcpy(req->values[i].code, code, strlen(code) + 1);
        req->values[i].value = m->values[i]->value;
    }
    req->value_count = m->n_values;
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return rc;
}

uint8_t *report_desk_request_encode(const report_desk_request_t *req, size_t *size)
{
    Sokhcn__Report__V1__DeskRequest m = SOKHCN__REPORT__V1__DESK_REQUEST__INIT;
    m.kind = (char *)s_str(req->kind);
    m.period = (char *)s_str(req->period);
    m.text = (char *)s_str(req->text);
    m.item_key = (char *)s_str(req->item_key);
    m.sub_items = req->sub_items;
    m.n_sub_items = req->sub_item_count;
    Sokhcn__Report__V1__DeskValue *values = report_calloc(req->value_count + 1, sizeof *values);
    Sokhcn__Report__V1__DeskValue **ptrs = report_calloc(req->value_count + 1, sizeof *ptrs);
    for (size_t i = 0; i < req->value_count; i++) {
        sokhcn__report__v1__desk_value__init(&values[i]);
        values[i].code = (char *)req->values[i].code;
        values[i].value = req->values[i].value;
        ptrs[i] = &values[i];
    }
    m.values = ptrs;
    m.n_values = req->value_count;
    uint8_t *buf = s_pack(&m.base, size);
    free(ptrs);
    free(values);
    return buf;
}

void report_desk_request_clear(report_desk_request_t *req)
{
    free(req->kind);
    free(req->period);
    free(req->text);
    free(req->item_key);
    for (size_t i = 0; req->sub_items && i < req->sub_item_count; i++)
        free(req->sub_items[i]);
    free(req->sub_items);
    free(req->values);
    memset(req, 0, sizeof *req);
}

int report_desk_reply_decode(const uint8_t *data, size_t size, report_desk_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    Sokhcn__Report__V1__DeskReply *m = (Sokhcn__Report__V1__DeskReply *)protobuf_c_message_unpack(
        &sokhcn__report__v1__desk_reply__descriptor, NULL, size, data);
    if (!m)
        return -1;
    reply->ok = m->ok;
    reply->error_code = s_dup(m->error_code);
    reply->message = s_dup(m->message);
    reply->json = s_dup(m->json);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return 0;
}

uint8_t *report_desk_reply_encode(const report_desk_reply_t *reply, size_t *size)
{
    Sokhcn__Report__V1__DeskReply m = SOKHCN__REPORT__V1__DESK_REPLY__INIT;
    m.ok = reply->ok;
    m.error_code = (char *)s_str(reply->error_code);
    m.message = (char *)s_str(reply->message);
    m.json = (char *)s_str(reply->json);
    return s_pack(&m.base, size);
}

void report_desk_reply_clear(report_desk_reply_t *reply)
{
    free(reply->error_code);
    free(reply->message);
    free(reply->json);
    memset(reply, 0, sizeof *reply);
}
