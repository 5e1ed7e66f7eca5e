/* Pipelined push over one DEALER socket: every update is resent with the same id, with capped
 * exponential back-off, until it has a final answer or the push's deadline passes; with a list
 * of collectors, a silent or unreachable one is left for the next (Freelance). */
#define _GNU_SOURCE
#include "report_push.h"
#include "report_backoff.h"
#include "report_codec.h"
#include "report_json.h"
#include "report_keys.h"
#include "report_log.h"
#include "report_util.h"
#include "report_validate.h"
#include "report_zap.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>
#include <zmq.h>

/* The deadline's ten minutes ride out a store or database failover (store-timeout-ms 5 s, the
 * store's reconnect back-off capped at 5 s, a PostgreSQL promotion in a minute or two) and a
 * collector restart, and equal the collector's inflight-expiry-ms: by then a copy the
 * collector held has been answered or dropped. max-message-bytes is the collector's default:
 * a bigger update is refused before it is decoded (its answer names no update). */
#define F(field) offsetof(report_client_config_t, field)
const report_setting_t report_client_settings[] = {
    {"endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5570", F(endpoint), 0, 0,
     "collector to push to, or a comma-separated list of at most 16: one at a time, the next "
     "when the current gives no answer for timeout-ms or its connection fails"},
    {"timeout-ms", REPORT_SETTING_INT, "5000", F(timeout_ms), 10, 3600000,
     "first wait for an answer before resending the same update (then doubling)"},
    {"backoff-max-ms", REPORT_SETTING_INT, "30000", F(backoff_max_ms), 10, 3600000,
     "longest wait between two sends of one update (after a timeout or BUSY)"},
    {"deadline-ms", REPORT_SETTING_INT, "600000", F(deadline_ms), 100, 86400000,
     "keep resending until this long after the start; then UNKNOWN (exit 75)"},
    {"retries", REPORT_SETTING_INT, "-1", F(retries), -1, 1000000,
     "resends of one update after timeouts, at most, then UNKNOWN (-1: until the deadline)"},
    {"window", REPORT_SETTING_INT, "500", F(window), 1, 100000,
     "updates sent and not yet answered, at most"},
    {"max-message-bytes", REPORT_SETTING_INT, REPORT_STR(REPORT_DEFAULT_MAX_MESSAGE_BYTES),
     F(max_message_bytes), 256, 64 * 1024 * 1024,
     "the collector's max-message-bytes: a bigger update is REJECTED too_large, not sent"},
    REPORT_SETTINGS_END};
#undef F

void report_client_config_default(report_client_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    report_settings_defaults(report_client_settings, cfg);
}

struct report_client_t {
    report_client_config_t cfg;
    char *endpoint;
    report_endpoints_t endpoints;
    size_t current; /* the collector of endpoints talked to */
    uint64_t failovers;
    void *zctx;
    void *sock;
    void *monitor;        /* with several collectors: events of sock's connection */
    uint64_t opens;       /* sockets opened, to name each monitor */
    bool conn_failed;     /* the monitor saw the connection refused or dropped */
    report_error_t error; /* why the last public call failed (report_client_error) */
};

/* True if ep (len bytes) is tcp://HOST:PORT, ipc://PATH or inproc://NAME. */
static bool s_endpoint_ok(const char *ep, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)ep[i]) || ep[i] == ',')
            return false;
    if (len > 6 && strncmp(ep, "ipc://", 6) == 0)
        return true;
    if (len > 9 && strncmp(ep, "inproc://", 9) == 0)
        return true;
    if (len <= 6 || strncmp(ep, "tcp://", 6) != 0)
        return false;
    const char *colon = memrchr(ep + 6, ':', len - 6);
    if (!colon || colon == ep + 6)
        return false; /* no port, or no host */
    const char *port = colon + 1;
    size_t digits = len - (size_t)(port - ep);
    if (digits == 0 || digits > 5)
        return false;
    long value = 0;
    for (size_t i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)port[i]))
            return false;
        value = value * 10 + (port[i] - '0');
    }
    return value >= 1 && value <= 65535;
}

int report_endpoints_parse(const char *list, report_endpoints_t *out, report_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (!list || !*list)
        return report_error_set(err, "bad_endpoint", "no endpoint given");
    for (const char *p = list;; p++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && isspace((unsigned char)*p))
            p++, len--;
        while (len && isspace((unsigned char)p[len - 1]))
            len--;
        size_t n = out->count + 1;
        if (len == 0)
            return report_error_set(err, "bad_endpoint", "endpoint %zu of the list is empty", n);
        if (n > REPORT_ENDPOINTS_MAX)
            return report_error_set(err, "bad_endpoint", "more than %d endpoints in the list",
                                    REPORT_ENDPOINTS_MAX);
        if (len > REPORT_ENDPOINT_MAX_BYTES)
            return report_error_set(err, "bad_endpoint", "endpoint %zu is longer than %d bytes", n,
                                    REPORT_ENDPOINT_MAX_BYTES);
        if (!s_endpoint_ok(p, len))
            return report_error_set(err, "bad_endpoint",
                                    "endpoint %zu '%.*s' is not tcp://HOST:PORT, ipc://PATH or "
                                    "inproc://NAME",
                                    n, (int)len, p);
        memcpy(out->endpoint[out->count++], p, len);
        if (!end)
            return 0;
        p = end;
    }
}

/* The one socket of a client. It is never replaced during a push: a DEALER reconnects by
 * itself (ZMQ_RECONNECT_IVL) after a collector restart, heartbeats drop a connection whose
 * peer vanished without a word, and keeping it means an answer to an earlier copy of an
 * update still reaches us (a new socket would make it undeliverable). */
/* With several collectors, a monitor tells at once that the connection was refused or
 * dropped (a collector killed, a host down), instead of waiting for the answer timeout. */
static void s_monitor_open(report_client_t *self)
{
    char ep[96];
    snprintf(ep, sizeof ep, "inproc://report-client-monitor-%p-%llu", (void *)self,
             (unsigned long long)self->opens++);
    self->conn_failed = false;
    if (zmq_socket_monitor(self->sock, ep, ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED) != 0)
        return; /* without it, the answer timeout still moves on */
    self->monitor = zmq_socket(self->zctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(self->monitor, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(self->monitor, ep) != 0) {
        zmq_close(self->monitor);
        self->monitor = NULL;
    }
}

/* Reads the monitor's events (two frames each); any means the connection failed. */
static void s_monitor_drain(report_client_t *self)
{
    while (self->monitor) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        int rc = zmq_msg_recv(&msg, self->monitor, ZMQ_DONTWAIT);
        bool more = rc >= 0 && zmq_msg_more(&msg);
        zmq_msg_close(&msg);
        if (rc < 0)
            return;
        if (!more)
            self->conn_failed = true; /* the second frame (the endpoint) ends an event */
    }
}

static void s_close(report_client_t *self)
{
    if (self->sock) {
        if (self->monitor)
            zmq_socket_monitor(self->sock, NULL, 0);
        zmq_close(self->sock);
    }
    if (self->monitor)
        zmq_close(self->monitor);
    self->sock = self->monitor = NULL;
}

static void s_open(report_client_t *self)
{
    self->sock = zmq_socket(self->zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    int hwm = (int)(self->cfg.window * 2 + 10);
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    int reconnect = 100, reconnect_max = 2000;
    zmq_setsockopt(self->sock, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
    zmq_setsockopt(self->sock, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max);
    /* Faster than a subscriber's: a push waiting on a dead connection learns it within 5 s
     * and its resends go out on the reconnected one. */
    report_heartbeat(self->sock, 1000, 5000);
    if (!self->cfg.keys.plain)
        report_curve_client(self->sock, self->cfg.keys.server_public, &self->cfg.keys.client);
    if (self->endpoints.count > 1)
        s_monitor_open(self);
    zmq_connect(self->sock, self->endpoints.endpoint[self->current]);
}

report_client_t *report_client_new_config(const report_client_config_t *cfg)
{
    report_endpoints_t endpoints;
    report_error_t err;
    if (report_endpoints_parse(cfg->endpoint, &endpoints, &err) != 0) {
        log_error("collector endpoints refused", "code=%s error=%s", err.code,
                  report_logq(err.message));
        return NULL;
    }
    report_client_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    self->endpoints = endpoints;
    self->endpoint = report_strdup(cfg->endpoint);
    self->cfg.endpoint = self->endpoint;
    if (self->cfg.window < 1)
        self->cfg.window = 1;
    if (self->cfg.timeout_ms < 1)
        self->cfg.timeout_ms = 1;
    if (self->cfg.backoff_max_ms < self->cfg.timeout_ms)
        self->cfg.backoff_max_ms = self->cfg.timeout_ms;
    if (self->cfg.max_message_bytes < 1)
        self->cfg.max_message_bytes = REPORT_DEFAULT_MAX_MESSAGE_BYTES;
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
    s_close(self);
    if (self->zctx)
        zmq_ctx_term(self->zctx);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/* S_WAIT: sent or answered BUSY, to be sent again at `due` unless a final answer comes first
 * (an answer to any earlier copy counts). */
typedef enum { S_UNSENT, S_WAIT, S_DONE } s_state_t;

typedef struct {
    uint8_t *payload;
    size_t size;
    char id[37]; /* canonical (lower case) update id, as the collector answers it */
    s_state_t state;
    bool in_window; /* sent and neither answered nor timed out: counts against the window */
    int64_t due;    /* when to send again */
    int timeouts;   /* consecutive sends without any answer */
    int busy;       /* consecutive BUSY answers */
    int attempts;
} s_item_t;

typedef struct {
    const char *id;
    size_t index;
} s_index_t;

/* The push in progress. */
typedef struct {
    report_client_t *client;
    s_item_t *items;
    s_index_t *index;
    report_reply_t *replies;
    size_t count, done, in_window, next_unsent;
    size_t indexed; /* entries of index: the updates that are sent, one per id */
    int64_t deadline;
    bool revoked; /* answered unauthorized: nothing more is sent */
    /* Freelance, with several collectors: */
    int64_t heard;       /* last answer from the current collector, or when waiting began */
    int64_t resume;      /* after a whole round without an answer: no resend before this */
    size_t silent_moves; /* moves on since the last answer */
    bool answered;       /* some collector answered during this push */
} s_push_t;

/* By id, then by position: of two updates with one id the earlier comes first. */
static int s_cmp_index(const void *a, const void *b)
{
    const s_index_t *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int s_cmp_id(const void *a, const void *b)
{
    return strcmp(((const s_index_t *)a)->id, ((const s_index_t *)b)->id);
}

/* The canonical (lower-case) form of a UUID other than the nil one into out (37 bytes);
 * false if id is not one. */
static bool s_canonical_id(const char *id, char *out)
{
    uuid_t u;
    if (!id || strlen(id) != 36 || uuid_parse(id, u) != 0 || uuid_is_null(u))
        return false;
    uuid_unparse_lower(u, out);
    return true;
}

static int s_send(s_push_t *p, s_item_t *item, int64_t now)
{
    if (zmq_send(p->client->sock, item->payload, item->size, ZMQ_DONTWAIT) < 0)
        return -1;
    const report_client_config_t *cfg = &p->client->cfg;
    item->state = S_WAIT;
    item->in_window = true;
    item->attempts++;
    /* the policy never waits less than its minimum: no update is resent before its timeout */
    item->due = now + report_backoff_wait(cfg->timeout_ms, cfg->backoff_max_ms, item->timeouts);
    p->in_window++;
    return 0;
}

static void s_leave_window(s_push_t *p, s_item_t *item)
{
    if (item->in_window) {
        item->in_window = false;
        p->in_window--;
    }
}

/* Fills the window: new updates in order, then those whose resend is due. Returns false if
 * the socket would not take more (its queue is full while the collector is away). */
static bool s_fill(s_push_t *p, int64_t now)
{
    size_t window = (size_t)p->client->cfg.window;
    for (size_t i = 0; i < p->count && p->in_window < window && !p->revoked; i++) {
        s_item_t *it = &p->items[i];
        bool ready = (it->state == S_UNSENT && i >= p->next_unsent) ||
                     (it->state == S_WAIT && !it->in_window && it->due <= now);
        if (!ready)
            continue;
        if (s_send(p, it, now) != 0)
            return false;
        if (i >= p->next_unsent)
            p->next_unsent = i + 1;
    }
    return true;
}

/* The update sent under update_id (compared in canonical form: the collector answers so),
 * or p->count. Only sent updates are indexed, and no two of them share an id, so an answer
 * names at most one update. */
static size_t s_find(const s_push_t *p, const char *update_id)
{
    char canon[37];
    if (!s_canonical_id(update_id, canon))
        return p->count;
    s_index_t key = {canon, 0};
    s_index_t *hit = bsearch(&key, p->index, p->indexed, sizeof(s_index_t), s_cmp_id);
    return hit ? hit->index : p->count;
}

/* The collector refused a message as unauthorized: the key was revoked while connected. The
 * answer names no update and every later one gets the same: stop sending, and give updates
 * already sent one timeout for the answers of copies that got in before the revocation. */
static void s_revoked(s_push_t *p)
{
    if (p->revoked)
        return;
    p->revoked = true;
    int64_t drain = report_clock_ms() + p->client->cfg.timeout_ms;
    if (drain < p->deadline)
        p->deadline = drain;
    log_warn("push refused: key no longer enrolled", "unanswered=%zu", p->count - p->done);
}

/* Applies one answer. A final one settles the update whichever copy it answers; BUSY puts it
 * back to wait for a resend with back-off. */
static void s_answer(s_push_t *p, const report_reply_t *reply)
{
    if (reply->outcome == REPORT_OUTCOME_REJECTED && !reply->update_id[0] &&
        reply->reason == REPORT_REASON_unauthorized) {
        s_revoked(p);
        return;
    }
    size_t idx = s_find(p, reply->update_id);
    if (idx >= p->count || p->items[idx].state == S_DONE)
        return; /* not ours, or a late answer to something settled */
    s_item_t *it = &p->items[idx];
    it->timeouts = 0; /* the collector is there */
    p->heard = report_clock_ms();
    p->silent_moves = 0;
    p->answered = true;
    p->client->conn_failed = false; /* a drop it has reconnected from since */
    if (reply->outcome == REPORT_OUTCOME_BUSY) {
        if (it->in_window) {
            s_leave_window(p, it);
            const report_client_config_t *cfg = &p->client->cfg;
            it->due = report_clock_ms() + report_backoff_wait(20, cfg->backoff_max_ms, it->busy++);
        }
        return;
    }
    if (reply->outcome != REPORT_OUTCOME_STORED && reply->outcome != REPORT_OUTCOME_DUPLICATE &&
        reply->outcome != REPORT_OUTCOME_REJECTED)
        return; /* not an outcome we know: keep trying */
    s_leave_window(p, it);
    p->replies[idx] = *reply;
    it->state = S_DONE;
    p->done++;
}

/* Settles update i without sending it: REJECTED for reason, which no resend could change. */
static void s_refuse_locally(s_push_t *p, size_t i, const report_update_t *u,
                             report_reason_t reason, const char *message)
{
    report_reply_set(&p->replies[i], u->update_id ? u->update_id : "", REPORT_OUTCOME_REJECTED,
                     reason, "not sent: %s", message);
    free(p->items[i].payload);
    p->items[i].payload = NULL;
    p->items[i].state = S_DONE;
    p->done++;
}

/* Encodes the updates and refuses, before anything is sent, those whose answer could not be
 * told apart or would never come: an id that is not a UUID (the collector echoes such an id
 * only if it is short printable ASCII, else answers ""), an update bigger than the
 * collector accepts (refused before decoding: the answer names no update; far beyond it the
 * connection is dropped), and a second update with an id the push already sends (answers
 * carry only the id: the two would take each other's). Indexes the others by id. */
static void s_prepare(s_push_t *p, report_update_t *const *updates)
{
    size_t max = (size_t)p->client->cfg.max_message_bytes;
    for (size_t i = 0; i < p->count; i++) {
        s_item_t *it = &p->items[i];
        if (!s_canonical_id(updates[i]->update_id, it->id)) {
            s_refuse_locally(p, i, updates[i], REPORT_REASON_bad_uuid,
                             "update_id is not a UUID (8-4-4-4-12 hexadecimal, not all zero)");
            continue;
        }
        it->payload = report_update_encode(updates[i], &it->size);
        if (it->size > max) {
            char message[128];
            snprintf(message, sizeof message, "update of %zu bytes, limit %zu (max message bytes)",
                     it->size, max);
            s_refuse_locally(p, i, updates[i], REPORT_REASON_too_large, message);
            continue;
        }
        p->index[p->indexed].id = it->id;
        p->index[p->indexed++].index = i;
    }
    qsort(p->index, p->indexed, sizeof(s_index_t), s_cmp_index);
    size_t kept = 0;
    for (size_t k = 0; k < p->indexed; k++) {
        if (kept && strcmp(p->index[kept - 1].id, p->index[k].id) == 0) {
            size_t i = p->index[k].index, first = p->index[kept - 1].index;
            char message[200];
            snprintf(message, sizeof message,
                     "update_id already used by an earlier update of this push (item_key %.100s)",
                     updates[first]->item_key ? updates[first]->item_key : "");
            s_refuse_locally(p, i, updates[i], REPORT_REASON_duplicate_id, message);
            continue;
        }
        p->index[kept++] = p->index[k];
    }
    p->indexed = kept;
}

static void s_receive(s_push_t *p)
{
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, p->client->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        report_reply_t reply;
        int rc = report_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &reply);
        zmq_msg_close(&msg);
        if (rc == 0)
            s_answer(p, &reply);
    }
}

/* Updates sent and unanswered past their wait leave the window to be sent again (or, with a
 * retry limit, end unknown). */
static void s_expire(s_push_t *p, int64_t now)
{
    int64_t retries = p->client->cfg.retries;
    for (size_t i = 0; i < p->count; i++) {
        s_item_t *it = &p->items[i];
        if (it->state != S_WAIT || !it->in_window || it->due > now)
            continue;
        s_leave_window(p, it);
        it->timeouts++;
        if (retries >= 0 && it->attempts > retries) {
            it->state = S_DONE;
            p->done++;
        }
    }
}

/* How long to wait for the next answer or resend, in ms. */
static long s_wait_ms(const s_push_t *p, int64_t now, bool blocked)
{
    int64_t wake = p->deadline;
    /* revoked: nothing is resent, only answers are awaited until the deadline */
    for (size_t i = 0; i < p->count && !p->revoked; i++)
        if (p->items[i].state == S_WAIT && p->items[i].due < wake)
            wake = p->items[i].due;
    int64_t wait = wake > now ? wake - now : 0;
    if (blocked && wait < 50)
        wait = 50; /* the socket is full: do not spin while it drains */
    return (long)(wait < 1000 ? wait : 1000);
}

static report_push_status_t s_result(const report_reply_t *replies, size_t count)
{
    report_push_status_t result = REPORT_PUSH_OK;
    for (size_t i = 0; i < count; i++) {
        if (replies[i].outcome == REPORT_OUTCOME_STORED ||
            replies[i].outcome == REPORT_OUTCOME_DUPLICATE)
            continue;
        if (replies[i].outcome == REPORT_OUTCOME_REJECTED) {
            if (result == REPORT_PUSH_OK)
                result = REPORT_PUSH_REJECTED;
        } else {
            result = REPORT_PUSH_UNKNOWN;
        }
    }
    return result;
}

/* Updates sent and not yet finally answered. */
static size_t s_outstanding(const s_push_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++)
        n += p->items[i].state == S_WAIT;
    return n;
}

/* Freelance: with several collectors, leaves the current one for the next when its connection
 * failed or it gave no answer for timeout_ms while updates waited, and makes every unanswered
 * update due there at once (after a whole round without an answer: after the back-off).
 * True if it moved. */
static bool s_failover(s_push_t *p, int64_t now)
{
    report_client_t *c = p->client;
    const report_client_config_t *cfg = &c->cfg;
    size_t n = c->endpoints.count;
    if (n < 2 || p->revoked || now < p->resume)
        return false;
    if (p->in_window == 0) {
        /* nothing asked (updates may wait for a resend after BUSY): silence is no failure */
        p->heard = now;
        return false;
    }
    if (!c->conn_failed && now - p->heard < cfg->timeout_ms)
        return false;
    size_t from = c->current;
    c->current = (c->current + 1) % n;
    c->failovers++;
    p->silent_moves++;
    p->resume = now;
    if (p->silent_moves % n == 0)
        p->resume += report_backoff_wait(cfg->timeout_ms, cfg->backoff_max_ms,
                                         (int)(p->silent_moves / n - 1));
    log_warn("collector not answering, moving on",
             "from=%s to=%s reason=%s unanswered=%zu failovers=%llu pause_ms=%lld",
             c->endpoints.endpoint[from], c->endpoints.endpoint[c->current],
             c->conn_failed ? "connection_failed" : "timeout", s_outstanding(p),
             (unsigned long long)c->failovers, (long long)(p->resume - now));
    s_close(c);
    s_open(c);
    for (size_t i = 0; i < p->count; i++) {
        s_item_t *it = &p->items[i];
        if (it->state == S_WAIT) {
            s_leave_window(p, it);
            it->due = p->resume;
        }
    }
    p->heard = p->resume;
    return true;
}

static void s_settle_unanswered(s_push_t *p, report_update_t *const *updates);

static int s_push_until(report_client_t *self, report_update_t *const *updates, size_t count,
                        report_reply_t *replies, int64_t deadline)
{
    s_push_t p = {.client = self, .replies = replies, .count = count, .deadline = deadline};
    memset(replies, 0, count * sizeof *replies);
    p.items = report_calloc(count ? count : 1, sizeof(s_item_t));
    p.index = report_calloc(count ? count : 1, sizeof(s_index_t));
    s_prepare(&p, updates);
    /* A new session: a late answer to an update of an earlier push (maybe under the same id)
     * goes to the closed socket and is dropped, instead of settling one of this push. */
    s_close(self);
    s_open(self);
    int64_t now = report_clock_ms();
    p.heard = p.resume = now;
    const volatile sig_atomic_t *stop = self->cfg.stop;
    while (p.done < count && now < p.deadline && !(stop && *stop)) {
        bool blocked = now >= p.resume && !s_fill(&p, now);
        zmq_pollitem_t pi[2] = {{self->sock, 0, ZMQ_POLLIN, 0}, {self->monitor, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(pi, self->monitor ? 2 : 1, s_wait_ms(&p, now, blocked)) < 0 && errno != EINTR)
            break;
        s_receive(&p);
        s_monitor_drain(self);
        now = report_clock_ms();
        if (!s_failover(&p, now))
            s_expire(&p, now);
    }
    s_settle_unanswered(&p, updates);
    free(p.items);
    free(p.index);
    return (int)s_result(replies, count);
}

/* Gives every update without a final answer its outcome: REJECTED unauthorized after a
 * revocation, else UNKNOWN (saying so when no collector answered at all). */
static void s_settle_unanswered(s_push_t *p, report_update_t *const *updates)
{
    report_reply_t *replies = p->replies;
    const report_client_t *self = p->client;
    if (!p->answered && p->done < p->count && !p->revoked)
        log_error("no collector answered before the deadline", "endpoints=%s failovers=%llu",
                  report_logq(self->endpoint), (unsigned long long)self->failovers);
    for (size_t i = 0; i < p->count; i++) {
        bool settled = p->items[i].state == S_DONE && replies[i].outcome != REPORT_OUTCOME_NONE;
        if (!settled && p->revoked)
            report_reply_set(&replies[i], updates[i]->update_id, REPORT_OUTCOME_REJECTED,
                             REPORT_REASON_unauthorized,
                             p->items[i].attempts
                                 ? "the key was revoked during the push and this update got no "
                                   "answer; once re-enrolled, re-run the same file (if it was "
                                   "stored before the revocation it answers DUPLICATE)"
                                 : "not sent: the key was revoked during the push; once "
                                   "re-enrolled, re-run the same file");
        else if (!settled && !p->answered)
            report_reply_set(&replies[i], updates[i]->update_id, REPORT_OUTCOME_NONE,
                             REPORT_REASON_unknown,
                             "not confirmed after %d sends: no collector of %zu answered; re-run "
                             "the same file: updates already stored will answer DUPLICATE",
                             p->items[i].attempts, self->endpoints.count);
        else if (!settled)
            report_reply_set(&replies[i], updates[i]->update_id, REPORT_OUTCOME_NONE,
                             REPORT_REASON_unknown,
                             "not confirmed after %d sends; re-run the same file: updates "
                             "already stored will answer DUPLICATE",
                             p->items[i].attempts);
        free(p->items[i].payload);
    }
}

int report_client_push(report_client_t *self, report_update_t *const *updates, size_t count,
                       report_reply_t *replies)
{
    return s_push_until(self, updates, count, replies, report_clock_ms() + self->cfg.deadline_ms);
}

int report_client_push_by_unit(const report_client_config_t *cfg, const char *unit_keys_dir,
                               report_update_t *const *updates, size_t count,
                               report_reply_t *replies)
{
    int64_t deadline = report_clock_ms() + cfg->deadline_ms;
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
        report_client_t *client = keyed ? report_client_new_config(&unit_cfg) : NULL;
        if (client)
            s_push_until(client, group, members, group_replies, deadline);
        for (size_t k = 0; k < members; k++) {
            if (client)
                replies[index[k]] = group_replies[k];
            else if (!keyed)
                report_reply_set(&replies[index[k]], group[k]->update_id, REPORT_OUTCOME_REJECTED,
                                 REPORT_REASON_no_key,
                                 "not sent: no key pair %s/%s.key for this unit", unit_keys_dir,
                                 group[k]->unit_code);
            else
                report_reply_set(&replies[index[k]], group[k]->update_id, REPORT_OUTCOME_NONE,
                                 REPORT_REASON_unknown, "not sent: no ZeroMQ context");
        }
        report_client_destroy(&client);
        memset(&unit_cfg.keys, 0, sizeof unit_cfg.keys);
    }
    free(done);
    free(group);
    free(index);
    free(group_replies);
    return (int)s_result(replies, count);
}

int report_call_once(const char *endpoint, const report_client_keys_t *keys, const uint8_t *request,
                     size_t size, uint8_t **answer, size_t *answer_size, int64_t timeout_ms)
{
    *answer = NULL;
    *answer_size = 0;
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int rc = -1;
    if (!keys->plain)
        report_curve_client(sock, keys->server_public, &keys->client);
    if (zmq_connect(sock, endpoint) == 0 && zmq_send(sock, request, size, 0) >= 0) {
        zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_poll(&pi, 1, (long)timeout_ms) > 0 && zmq_msg_recv(&msg, sock, 0) >= 0) {
            *answer_size = zmq_msg_size(&msg);
            *answer = report_malloc(*answer_size ? *answer_size : 1);
            memcpy(*answer, zmq_msg_data(&msg), *answer_size);
            rc = 0;
        }
        zmq_msg_close(&msg);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}

int report_control_call(const char *endpoint, const report_client_keys_t *keys,
                        const report_control_request_t *req, report_control_reply_t *reply,
                        int64_t timeout_ms)
{
    memset(reply, 0, sizeof *reply);
    size_t size, answer_size;
    uint8_t *buf = report_control_request_encode(req, &size), *answer;
    int rc = report_call_once(endpoint, keys, buf, size, &answer, &answer_size, timeout_ms);
    if (rc == 0)
        rc = report_control_reply_decode(answer, answer_size, reply);
    free(answer);
    free(buf);
    return rc;
}

/* --- libreport-client's public API (include/report_client.h) over the functions above --- */

_Static_assert((int)REPORT_CLIENT_STORED == (int)REPORT_OUTCOME_STORED &&
                   (int)REPORT_CLIENT_DUPLICATE == (int)REPORT_OUTCOME_DUPLICATE &&
                   (int)REPORT_CLIENT_REJECTED == (int)REPORT_OUTCOME_REJECTED,
               "the public outcomes are the wire's");

struct report_push_t {
    report_push_status_t status;
    char error[512];
    report_reply_t *replies;
    size_t count;
};

const char *report_client_version(void)
{
    return REPORT_STR(REPORT_CLIENT_VERSION_MAJOR) "." REPORT_STR(
        REPORT_CLIENT_VERSION_MINOR) "." REPORT_STR(REPORT_CLIENT_VERSION_PATCH);
}

report_client_t *report_client_new(const char *endpoint)
{
    if (!endpoint)
        return NULL;
    report_client_config_t cfg;
    report_client_config_default(&cfg);
    cfg.endpoint = endpoint;
    cfg.keys.plain = true; /* until report_client_set_keys */
    return report_client_new_config(&cfg);
}

/* The option's field and range: the settings table's, so that the library and reportctl
 * accept the same values. */
static const report_setting_t *s_option(report_client_option_t option)
{
    static const char *const names[] = {
        [REPORT_CLIENT_TIMEOUT_MS] = "timeout-ms",
        [REPORT_CLIENT_BACKOFF_MAX_MS] = "backoff-max-ms",
        [REPORT_CLIENT_DEADLINE_MS] = "deadline-ms",
        [REPORT_CLIENT_RETRIES] = "retries",
        [REPORT_CLIENT_WINDOW] = "window",
        [REPORT_CLIENT_MAX_MESSAGE_BYTES] = "max-message-bytes",
    };
    if ((int)option < 1 || (size_t)option >= sizeof names / sizeof names[0])
        return NULL;
    for (const report_setting_t *s = report_client_settings; s->name; s++)
        if (strcmp(s->name, names[option]) == 0)
            return s;
    return NULL;
}

int report_client_set(report_client_t *self, report_client_option_t option, int64_t value)
{
    const report_setting_t *s = s_option(option);
    if (!s) {
        return report_error_set(&self->error, "usage", "unknown option %d", (int)option);
    }
    if (value < s->min || value > s->max) {
        return report_error_set(&self->error, "out_of_range", "%s: %lld is not in [%lld, %lld]",
                                s->name, (long long)value, (long long)s->min, (long long)s->max);
    }
    *(int64_t *)(void *)((char *)&self->cfg + s->offset) = value;
    if (self->cfg.backoff_max_ms < self->cfg.timeout_ms)
        self->cfg.backoff_max_ms = self->cfg.timeout_ms;
    report_error_clear(&self->error);
    return 0;
}

int report_client_set_keys(report_client_t *self, const char *unit_key_file,
                           const char *collector_key)
{
    if (!unit_key_file || !collector_key)
        return report_error_set(&self->error, "usage", "a key file is missing");
    report_client_keys_t keys;
    if (report_client_keys_load(unit_key_file, collector_key, false, &keys, &self->error) != 0)
        return -1;
    self->cfg.keys = keys;
    memset(&keys, 0, sizeof keys);
    report_error_clear(&self->error);
    return 0;
}

void report_client_set_stop(report_client_t *self, const volatile sig_atomic_t *stop)
{
    self->cfg.stop = stop;
}

uint64_t report_client_failovers(const report_client_t *self)
{
    return self ? self->failovers : 0;
}

const char *report_client_error(const report_client_t *self)
{
    return self ? self->error.message : "no client";
}

report_push_t *report_client_push_json(report_client_t *self, const char *json, size_t len)
{
    report_push_t *push = report_calloc(1, sizeof *push);
    report_update_t **updates = NULL;
    if (!self || !json ||
        report_json_parse_updates(json, len, &updates, &push->count, push->error,
                                  sizeof push->error) != 0) {
        if (!self || !json)
            snprintf(push->error, sizeof push->error, "no client or no JSON");
        push->status = REPORT_PUSH_FAILED;
        push->count = 0;
        return push;
    }
    push->replies = report_calloc(push->count ? push->count : 1, sizeof *push->replies);
    push->status =
        (report_push_status_t)report_client_push(self, updates, push->count, push->replies);
    report_updates_free(updates, push->count);
    return push;
}

report_push_status_t report_push_status(const report_push_t *self)
{
    return self ? self->status : REPORT_PUSH_FAILED;
}

const char *report_push_error(const report_push_t *self)
{
    return self ? self->error : "no push";
}

size_t report_push_count(const report_push_t *self)
{
    return self ? self->count : 0;
}

static const report_reply_t *s_reply(const report_push_t *self, size_t i)
{
    return self && i < self->count ? &self->replies[i] : NULL;
}

const char *report_push_update_id(const report_push_t *self, size_t i)
{
    const report_reply_t *r = s_reply(self, i);
    return r ? r->update_id : NULL;
}

report_client_outcome_t report_push_outcome(const report_push_t *self, size_t i)
{
    const report_reply_t *r = s_reply(self, i);
    switch (r ? r->outcome : REPORT_OUTCOME_NONE) {
    case REPORT_OUTCOME_STORED:
        return REPORT_CLIENT_STORED;
    case REPORT_OUTCOME_DUPLICATE:
        return REPORT_CLIENT_DUPLICATE;
    case REPORT_OUTCOME_REJECTED:
        return REPORT_CLIENT_REJECTED;
    default:
        return REPORT_CLIENT_UNKNOWN;
    }
}

const char *report_push_reason(const report_push_t *self, size_t i)
{
    const report_reply_t *r = s_reply(self, i);
    return r ? report_reason_name(r->reason) : NULL;
}

const char *report_push_message(const report_push_t *self, size_t i)
{
    const report_reply_t *r = s_reply(self, i);
    return r ? r->message : NULL;
}

void report_push_destroy(report_push_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->replies);
    free(*self_p);
    *self_p = NULL;
}

const char *report_client_outcome_name(report_client_outcome_t outcome)
{
    return outcome == REPORT_CLIENT_UNKNOWN ? "UNKNOWN"
                                            : report_outcome_name((report_outcome_t)outcome);
}
