/* The desk's web server (desk_http.h). */
#define _DEFAULT_SOURCE
#include "desk_http.h"
#include "report_desk_call.h"
#include "report_json.h"
#include "report_log.h"
#include "report_push.h"
#include "report_update.h"
#include "report_util.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char report_desk_page[];

/* A connection of the page silent this long is closed (a browser keeps idle connections
 * open; the page asks again when it needs to). */
#define S_IDLE_TIMEOUT_S 30u

struct desk_http_t {
    desk_http_config_t cfg;
    struct MHD_Daemon *daemon;
    int port;
    char unit[64]; /* the key's unit, as the aggregator named it in its last state answer */
};

/* A request body as it arrives, bounded by max_body_bytes. */
typedef struct {
    report_buf_t body;
    bool too_big;
} s_upload_t;

static enum MHD_Result s_send(struct MHD_Connection *c, unsigned status, const char *type,
                              const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer"); /* the token stays here */
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Sends doc (taken) as JSON. */
static enum MHD_Result s_send_json(struct MHD_Connection *c, unsigned status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    enum MHD_Result rc = s_send(c, status, "application/json; charset=utf-8", text, strlen(text));
    free(text);
    return rc;
}

static enum MHD_Result s_error(struct MHD_Connection *c, unsigned status, const char *code,
                               const char *message)
{
    return s_send_json(c, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

/* The token, compared in constant time: how long a wrong guess took says nothing. */
static bool s_token_ok(const desk_http_t *self, struct MHD_Connection *c)
{
    const char *got = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    size_t want_len = strlen(self->cfg.token);
    if (!got || strlen(got) != want_len)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < want_len; i++)
        diff |= (unsigned char)(got[i] ^ self->cfg.token[i]);
    return diff == 0;
}

/* --- the aggregator's answers --- */

static enum MHD_Result s_desk(desk_http_t *self, struct MHD_Connection *c,
                              const report_desk_request_t *req, bool state)
{
    report_desk_reply_t reply;
    if (report_desk_call(self->cfg.desk_endpoint, &self->cfg.keys, req, &reply,
                         self->cfg.timeout_ms) != 0)
        return s_error(c, MHD_HTTP_BAD_GATEWAY, "no_answer",
                       "the aggregator did not answer (is the key enrolled as a unit?)");
    enum MHD_Result rc;
    if (!reply.ok) {
        rc = s_error(c, MHD_HTTP_UNPROCESSABLE_CONTENT, reply.error_code, reply.message);
    } else {
        json_t *doc = json_loads(reply.json, 0, NULL);
        const char *unit = json_string_value(json_object_get(json_object_get(doc, "unit"), "code"));
        if (state && unit)
            snprintf(self->unit, sizeof self->unit, "%s", unit);
        rc = doc ? s_send_json(c, MHD_HTTP_OK, doc)
                 : s_error(c, MHD_HTTP_BAD_GATEWAY, "bad_answer", "not JSON");
    }
    report_desk_reply_clear(&reply);
    return rc;
}

static enum MHD_Result s_state(desk_http_t *self, struct MHD_Connection *c)
{
    const char *period = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "period");
    report_desk_request_t req = {.kind = "state", .period = (char *)(period ? period : "")};
    return s_desk(self, c, &req, true);
}

/* The preview request from the page's JSON; -1 if it is not the expected shape. */
static int s_preview_request(json_t *doc, report_desk_request_t *req)
{
    json_t *subs = json_object_get(doc, "sub_items"), *values = json_object_get(doc, "values");
    const char *period = json_string_value(json_object_get(doc, "period"));
    const char *text = json_string_value(json_object_get(doc, "text"));
    const char *key = json_string_value(json_object_get(doc, "item_key"));
    if (!period || !text || (subs && !json_is_array(subs)) || (values && !json_is_object(values)))
        return -1;
    *req = (report_desk_request_t){.kind = "preview",
                                   .period = (char *)period,
                                   .text = (char *)text,
                                   .item_key = (char *)(key ? key : "")};
    req->sub_items = report_calloc(json_array_size(subs) + 1, sizeof *req->sub_items);
    for (size_t i = 0; i < json_array_size(subs); i++) {
        const char *s = json_string_value(json_array_get(subs, i));
        req->sub_items[req->sub_item_count++] = (char *)(s ? s : "");
    }
    req->values = report_calloc(json_object_size(values) + 1, sizeof *req->values);
    const char *code;
    json_t *v;
    json_object_foreach(values, code, v)
    {
        if (strlen(code) > REPORT_DESK_CODE_MAX || !json_is_number(v))
            return -1;
        report_desk_value_t *dv = &req->values[req->value_count++];
        memcpy(dv->code, code, strlen(code) + 1);
        dv->value = json_number_value(v);
    }
    return 0;
}

static enum MHD_Result s_preview(desk_http_t *self, struct MHD_Connection *c, const char *body)
{
    json_t *doc = json_loads(body, 0, NULL);
    report_desk_request_t req = {0};
    enum MHD_Result rc;
    if (!doc || s_preview_request(doc, &req) != 0)
        rc = s_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", "expected {period, text, ...}");
    else
        rc = s_desk(self, c, &req, false);
    free(req.sub_items);
    free(req.values);
    json_decref(doc);
    return rc;
}

/* --- sending: the client library, with its acknowledgements --- */

/* One update through the collector; its outcome as JSON. */
static json_t *s_push(desk_http_t *self, report_update_t *update)
{
    report_client_config_t cc;
    report_client_config_default(&cc);
    cc.endpoint = self->cfg.collector_endpoint;
    cc.keys = self->cfg.keys;
    cc.deadline_ms = self->cfg.push_deadline_ms;
    report_client_t *client = report_client_new_config(&cc);
    report_reply_t reply = {.outcome = REPORT_OUTCOME_NONE};
    if (client)
        report_client_push(client, &update, 1, &reply);
    report_client_destroy(&client);
    const char *reason = reply.reason != REPORT_REASON_none     ? report_reason_name(reply.reason)
                         : reply.outcome == REPORT_OUTCOME_NONE ? "unknown"
                                                                : "";
    log_info("desk sent an update", "unit=%s update_id=%s outcome=%s reason=%s",
             report_logq(self->unit), update->update_id, report_outcome_name(reply.outcome),
             reason);
    return json_pack("{s:s, s:s, s:s, s:s}", "update_id", update->update_id, "outcome",
                     report_outcome_name(reply.outcome), "reason", reason, "message",
                     reply.message);
}

static enum MHD_Result s_send_update(desk_http_t *self, struct MHD_Connection *c, const char *body)
{
    if (!self->unit[0])
        return s_error(c, MHD_HTTP_CONFLICT, "no_state", "load the unit's state first");
    json_t *doc = json_loads(body, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return s_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", "expected one update object");
    }
    /* the key's unit, whatever the page says: the collector would refuse any other */
    json_object_set_new(doc, "unit", json_string(self->unit));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    report_update_t **updates = NULL;
    size_t count = 0;
    char err[256];
    enum MHD_Result rc;
    if (report_json_parse_updates(text, strlen(text), &updates, &count, err, sizeof err) != 0)
        rc = s_error(c, MHD_HTTP_BAD_REQUEST, "bad_update", err);
    else
        rc = s_send_json(c, MHD_HTTP_OK, s_push(self, updates[0]));
    report_updates_free(updates, count);
    free(text);
    return rc;
}

/* --- the server --- */

static enum MHD_Result s_route(desk_http_t *self, struct MHD_Connection *c, const char *url,
                               bool post, const char *body)
{
    if (!s_token_ok(self, c))
        return s_error(c, MHD_HTTP_FORBIDDEN, "forbidden", "the URL's token is missing or wrong");
    if (!post && strcmp(url, "/") == 0)
        return s_send(c, MHD_HTTP_OK, "text/html; charset=utf-8", report_desk_page,
                      strlen(report_desk_page));
    if (!post && strcmp(url, "/api/state") == 0)
        return s_state(self, c);
    if (post && strcmp(url, "/api/preview") == 0)
        return s_preview(self, c, body);
    if (post && strcmp(url, "/api/send") == 0)
        return s_send_update(self, c, body);
    return s_error(c, MHD_HTTP_NOT_FOUND, "not_found", url);
}

static enum MHD_Result s_answer(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *data,
                                size_t *data_size, void **req_cls)
{
    desk_http_t *self = cls;
    (void)version;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return s_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "bad_method", "GET or POST only");
    s_upload_t *up = *req_cls;
    if (!up) {
        up = report_calloc(1, sizeof *up);
        report_buf_init(&up->body);
        *req_cls = up;
        return MHD_YES;
    }
    if (*data_size) {
        if (up->body.len + *data_size > (size_t)self->cfg.max_body_bytes)
            up->too_big = true;
        else
            report_buf_add(&up->body, data, *data_size);
        *data_size = 0;
        return MHD_YES;
    }
    if (up->too_big)
        return s_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", "request body too large");
    return s_route(self, c, url, post, up->body.data ? up->body.data : "");
}

static void s_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    s_upload_t *up = *req_cls;
    if (up) {
        report_buf_free(&up->body);
        free(up);
    }
    *req_cls = NULL;
}

desk_http_t *desk_http_start(const desk_http_config_t *cfg)
{
    desk_http_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never another interface */
    self->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, s_answer, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, S_IDLE_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        self->daemon ? MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        desk_http_stop(&self);
        return NULL;
    }
    self->port = info->port;
    return self;
}

int desk_http_port(const desk_http_t *self)
{
    return self->port;
}

void desk_http_stop(desk_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    desk_http_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    memset(&self->cfg.keys, 0, sizeof self->cfg.keys);
    free(self);
    *self_p = NULL;
}
