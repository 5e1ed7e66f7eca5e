/* Pipelined push with retries (Lazy Pirate over a DEALER socket). */
#define _GNU_SOURCE
#include "report_client.h"
#include "report_codec.h"
#include "report_keys.h"
#include "report_log.h"
#include "report_util.h"
#include "report_zap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zmq.h>

void report_client_config_default(report_client_config_t *cfg)
{
    cfg->endpoint = "tcp://127.0.0.1:5570";
    cfg->timeout_ms = 5000;
    cfg->retries = 3;
    cfg->busy_retries = 50;
    cfg->window = 500;
    memset(&cfg->keys, 0, sizeof cfg->keys);
}

struct report_client_t {
    report_client_config_t cfg;
    char *endpoint;
    void *zctx;
    void *sock;
};

static void s_open(report_client_t *self)
{
    if (self->sock)
        zmq_close(self->sock);
    self->sock = zmq_socket(self->zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    int hwm = (int)(self->cfg.window * 2 + 10);
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    report_heartbeat(self->sock, REPORT_CLIENT_HEARTBEAT_MS, REPORT_CLIENT_HEARTBEAT_TIMEOUT_MS);
    if (!self->cfg.keys.plain)
        report_curve_client(self->sock, self->cfg.keys.server_public, &self->cfg.keys.client);
    zmq_connect(self->sock, self->endpoint);
}

report_client_t *report_client_new(const report_client_config_t *cfg)
{
    report_client_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    self->endpoint = report_strdup(cfg->endpoint);
    self->cfg.endpoint = self->endpoint;
    if (self->cfg.window < 1)
        self->cfg.window = 1;
    self->zctx = zmq_ctx_new();
    if (!self->zctx) {
        report_client_destroy(&self);
        return NULL;
    }
    return self;
}

void report_client_destroy(report_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_client_t *self = *self_p;
    if (self->sock)
        zmq_close(self->sock);
    if (self->zctx)
        zmq_ctx_term(self->zctx);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/* S_RESEND: sent before, to be sent again once due (after BUSY, or after a timeout). */
typedef enum { S_UNSENT, S_SENT, S_RESEND, S_DONE } s_state_t;

typedef struct {
    uint8_t *payload;
    size_t size;
    s_state_t state;
    int64_t due; /* SENT: answer deadline; RESEND: when to send again */
    int attempts;
    int busy;
} s_item_t;

typedef struct {
    const char *id;
    size_t index;
} s_index_t;

static int s_cmp_index(const void *a, const void *b)
{
    return strcmp(((const s_index_t *)a)->id, ((const s_index_t *)b)->id);
}

static int s_send(report_client_t *self, s_item_t *item)
{
    if (zmq_send(self->sock, item->payload, item->size, ZMQ_DONTWAIT) < 0)
        return -1;
    item->state = S_SENT;
    item->attempts++;
    item->due = report_clock_ms() + self->cfg.timeout_ms;
    return 0;
}

int report_client_push(report_client_t *self, report_update_t *const *updates, size_t count,
                       report_reply_t *replies)
{
    s_item_t *items = report_calloc(count, sizeof(s_item_t));
    s_index_t *index = report_calloc(count, sizeof(s_index_t));
    for (size_t i = 0; i < count; i++) {
        items[i].payload = report_update_encode(updates[i], &items[i].size);
        index[i].id = updates[i]->update_id ? updates[i]->update_id : "";
        index[i].index = i;
        report_reply_set(&replies[i], index[i].id, REPORT_OUTCOME_NONE, "timeout",
                         "no answer from the collector");
    }
    qsort(index, count, sizeof(s_index_t), s_cmp_index);
    if (!self->sock)
        s_open(self);
    size_t done = 0, outstanding = 0, next_unsent = 0;
    while (done < count) {
        int64_t now = report_clock_ms();
        /* Fill the window: new items first in order, then BUSY ones whose wait is over. */
        for (size_t i = 0; i < count && outstanding < (size_t)self->cfg.window; i++) {
            s_item_t *it = &items[i];
            bool ready = (it->state == S_UNSENT && i >= next_unsent) ||
                         (it->state == S_RESEND && it->due <= now);
            if (!ready)
                continue;
            if (s_send(self, it) != 0)
                break;
            if (i >= next_unsent)
                next_unsent = i + 1;
            outstanding++;
        }
        /* Wait for the earliest deadline. */
        int64_t wake = now + 1000;
        for (size_t i = 0; i < count; i++)
            if ((items[i].state == S_SENT || items[i].state == S_RESEND) && items[i].due < wake)
                wake = items[i].due;
        zmq_pollitem_t pi = {self->sock, 0, ZMQ_POLLIN, 0};
        long timeout = wake > now ? (long)(wake - now) : 0;
        if (zmq_poll(&pi, 1, timeout) < 0 && errno != EINTR)
            break;
        while (true) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, self->sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&msg);
                break;
            }
            report_reply_t reply;
            int rc = report_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &reply);
            zmq_msg_close(&msg);
            if (rc != 0)
                continue;
            s_index_t key = {reply.update_id, 0};
            s_index_t *hit = bsearch(&key, index, count, sizeof(s_index_t), s_cmp_index);
            /* The collector answers with ids canonicalised to lower case; a client may have
             * sent upper case: fall back to a case-insensitive scan. */
            size_t idx = hit ? hit->index : count;
            for (size_t i = 0; !hit && i < count; i++)
                if (strcasecmp(index[i].id, reply.update_id) == 0)
                    idx = index[i].index;
            if (idx >= count || items[idx].state != S_SENT)
                continue; /* a late answer to something already settled */
            outstanding--;
            if (reply.outcome == REPORT_OUTCOME_BUSY &&
                items[idx].busy < (int)self->cfg.busy_retries) {
                items[idx].busy++;
                int64_t backoff = 20LL << (items[idx].busy < 6 ? items[idx].busy : 6);
                items[idx].state = S_RESEND;
                items[idx].due = report_clock_ms() + backoff + report_random(20);
                continue;
            }
            replies[idx] = reply;
            items[idx].state = S_DONE;
            done++;
        }
        /* Timeouts: resend on a fresh socket (a stuck connection is dropped), or give up. */
        now = report_clock_ms();
        bool reopen = false;
        for (size_t i = 0; i < count; i++) {
            if (items[i].state != S_SENT || items[i].due > now)
                continue;
            if (items[i].attempts > self->cfg.retries) {
                items[i].state = S_DONE;
                outstanding--;
                done++;
            } else {
                reopen = true;
            }
        }
        if (reopen) {
            s_open(self);
            for (size_t i = 0; i < count; i++) {
                if (items[i].state == S_SENT) {
                    /* resend at once, on the new socket */
                    items[i].state = S_RESEND;
                    items[i].due = 0;
                    outstanding--;
                }
            }
        }
    }
    int result = 0;
    for (size_t i = 0; i < count; i++) {
        free(items[i].payload);
        if (replies[i].outcome != REPORT_OUTCOME_STORED &&
            replies[i].outcome != REPORT_OUTCOME_DUPLICATE)
            result = 1;
    }
    free(items);
    free(index);
    return result;
}

int report_client_push_by_unit(const report_client_config_t *cfg, const char *unit_keys_dir,
                               report_update_t *const *updates, size_t count,
                               report_reply_t *replies)
{
    int result = 0;
    size_t n = count ? count : 1;
    bool *done = report_calloc(n, sizeof(bool));
    report_update_t **group = report_calloc(n, sizeof *group);
    size_t *index = report_calloc(n, sizeof *index);
    report_reply_t *group_replies = report_calloc(n, sizeof *group_replies);
    for (size_t i = 0; i < count; i++) {
        if (done[i])
            continue;
        size_t members = 0;
        for (size_t j = i; j < count; j++) {
            if (!done[j] && strcmp(updates[j]->unit_code, updates[i]->unit_code) == 0) {
                group[members] = updates[j];
                index[members++] = j;
                done[j] = true;
            }
        }
        report_client_config_t unit_cfg = *cfg;
        char *path = report_sprintf("%s/%s.key", unit_keys_dir, updates[i]->unit_code);
        bool keyed = unit_cfg.keys.plain || report_keys_load_pair(path, &unit_cfg.keys.client) == 0;
        free(path);
        report_client_t *client = keyed ? report_client_new(&unit_cfg) : NULL;
        if (client && report_client_push(client, group, members, group_replies) == 0) {
            for (size_t k = 0; k < members; k++)
                replies[index[k]] = group_replies[k];
        } else {
            result = 1;
            for (size_t k = 0; k < members; k++) {
                if (client)
                    replies[index[k]] = group_replies[k];
                else
                    report_reply_set(&replies[index[k]], group[k]->update_id, REPORT_OUTCOME_NONE,
                                     "no_key", "no key pair %s/%s.key for this unit", unit_keys_dir,
                                     group[k]->unit_code);
            }
        }
        report_client_destroy(&client);
        memset(&unit_cfg.keys, 0, sizeof unit_cfg.keys);
    }
    free(done);
    free(group);
    free(index);
    free(group_replies);
    return result;
}

int report_control_call(const char *endpoint, const report_client_keys_t *keys,
                        const report_control_request_t *req, report_control_reply_t *reply,
                        int64_t timeout_ms)
{
    memset(reply, 0, sizeof *reply);
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int rc = -1;
    size_t size;
    uint8_t *buf = report_control_request_encode(req, &size);
    if (!keys->plain)
        report_curve_client(sock, keys->server_public, &keys->client);
    if (zmq_connect(sock, endpoint) == 0 && zmq_send(sock, buf, size, 0) >= 0) {
        zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&pi, 1, (long)timeout_ms) > 0) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, sock, 0) >= 0)
                rc = report_control_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), reply);
            zmq_msg_close(&msg);
        }
    }
    free(buf);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
