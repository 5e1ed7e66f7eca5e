/* The collector: validates updates from subdivisions and relays them to stores by credit.
 *
 * Memory is bounded by max_inflight: every accepted update holds one slot until a store
 * answers, and past the bound (in total or for one client) the answer is BUSY at once. A
 * store that stops sending heartbeats is declared dead and the updates it held are handed
 * to another store; that is safe because the update id makes a second commit a DUPLICATE. */
#define _GNU_SOURCE
#include "report_collector.h"
#include "report_actor.h"
#include "report_codec.h"
#include "report_log.h"
#include "report_monitor.h"
#include "report_period.h"
#include "report_util.h"
#include "report_validate.h"
#include "report_zap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zmq.h>

#define F(field) offsetof(report_collector_config_t, field)
const report_setting_t report_collector_settings[] = {
    {"endpoint", REPORT_SETTING_STRING, "tcp://*:5570", F(endpoint), 0, 0,
     "where subdivisions connect"},
    {"store-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5571", F(store_endpoint), 0, 0,
     "where stores connect"},
    {"max-inflight", REPORT_SETTING_INT, "10000", F(max_inflight), 1, 10000000,
     "updates waiting for a commit, all clients (then BUSY)"},
    {"max-inflight-per-client", REPORT_SETTING_INT, "1000", F(max_inflight_per_client), 1, 10000000,
     "updates waiting for a commit, one client connection (then BUSY)"},
    {"max-message-bytes", REPORT_SETTING_INT, REPORT_STR(REPORT_DEFAULT_MAX_MESSAGE_BYTES),
     F(max_message_bytes), 256, 64 * 1024 * 1024, "largest update accepted (ZMQ_MAXMSGSIZE)"},
    {"max-text-bytes", REPORT_SETTING_INT, REPORT_STR(REPORT_DEFAULT_MAX_TEXT_BYTES),
     F(max_text_bytes), 16, 16777216, "longest text or sub-item, bytes after NFC"},
    {"max-sub-items", REPORT_SETTING_INT, REPORT_STR(REPORT_DEFAULT_MAX_SUB_ITEMS),
     F(max_sub_items), 0, 100000, "sub-items per update"},
    {"max-indicators", REPORT_SETTING_INT, REPORT_STR(REPORT_DEFAULT_MAX_INDICATORS),
     F(max_indicators), 0, 100000, "indicator values per update"},
    {"max-frames", REPORT_SETTING_INT, "2", F(max_frames), 1, 3,
     "frames per client message (payload, or delimiter and payload)"},
    {"hwm", REPORT_SETTING_INT, "1000", F(hwm), 1, 1000000,
     "ZeroMQ high-water mark per peer, messages"},
    {"store-timeout-ms", REPORT_SETTING_INT, "5000", F(store_timeout_ms), 100, 3600000,
     "a silent store is declared dead after this"},
    {"inflight-expiry-ms", REPORT_SETTING_INT, "600000", F(inflight_expiry_ms), 1000, 86400000,
     "an update no store answered is dropped after this"},
    {"dead-letter-payload-bytes", REPORT_SETTING_INT, "4096", F(dead_letter_payload_bytes), 0,
     16777216, "bytes of refused input kept"},
    {"year-min", REPORT_SETTING_INT, REPORT_STR(REPORT_YEAR_MIN), F(year_min), REPORT_YEAR_MIN,
     REPORT_YEAR_MAX, "earliest period year accepted"},
    {"year-max", REPORT_SETTING_INT, REPORT_STR(REPORT_YEAR_MAX), F(year_max), REPORT_YEAR_MIN,
     REPORT_YEAR_MAX, "latest period year accepted"},
    {"value-max", REPORT_SETTING_INT, "1000000000000", F(value_max), 0, 1000000000000000LL,
     "largest indicator value accepted (values are >= 0)"},
    REPORT_SETTINGS_INCLUDE(report_server_settings, F(server)),
    REPORT_SETTINGS_END};
#undef F

void report_collector_config_default(report_collector_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    report_settings_defaults(report_collector_settings, cfg);
}

#define S_ID_MAX 256

typedef struct {
    uint8_t id[S_ID_MAX];
    size_t id_len;
} s_peer_id_t;

/* One update waiting for a store's answer. */
typedef struct {
    bool used;
    uint32_t gen;
    s_peer_id_t client;
    bool req_envelope; /* the client is a REQ socket: answer with an empty delimiter */
    char update_id[40];
    char unit[40];
    int64_t received_ms;
    int store; /* index in stores, -1 while waiting for a store */
    uint8_t *payload;
    size_t payload_size;
} s_flight_t;

typedef struct {
    bool alive;
    s_peer_id_t id;
    char store_id[64];
    uint32_t capacity;
    uint32_t outstanding;
    int64_t last_seen;
} s_store_t;

/* Per-client in-flight counts: open addressing, linear probing, backward-shift deletion.
 * Never holds more entries than in-flight updates, so its size is fixed at start. */
typedef struct {
    s_peer_id_t key;
    uint32_t count;
    bool used;
} s_client_t;

struct report_collector_t {
    report_collector_config_t cfg;
    report_limits_t limits;
    report_actor_t actor; /* the thread, its start-up handshake, the stats lock */
    char endpoint[256];
    char store_endpoint[256];
    report_collector_stats_t stats;        /* owned by the thread */
    report_collector_stats_t shared_stats; /* copy under lock */

    void *zctx;
    void *front;
    void *back;
    s_flight_t *flights;
    uint32_t *free_slots;
    size_t free_count;
    uint32_t *queue; /* FIFO of slots waiting for a store */
    size_t queue_head, queue_len;
    s_store_t *stores;
    size_t store_count;
    s_client_t *clients;
    size_t client_cap;
    report_ratelimit_t refusal_log;
    report_ratelimit_t stale_log;
    uint64_t incarnation; /* random, this process's: in every tag handed to a store */
    int64_t next_sweep;
    report_server_t *server;         /* keys, keyrings (units: key -> unit code; stores), ZAP */
    report_monitor_t *monitor;       /* client connections */
    report_monitor_t *store_monitor; /* store connections (handshake failures) */
};

/* --- per-client counts --- */

static uint64_t s_hash(const s_peer_id_t *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < id->id_len; i++)
        h = (h ^ id->id[i]) * 1099511628211ULL;
    return h;
}

static bool s_id_eq(const s_peer_id_t *a, const s_peer_id_t *b)
{
    return a->id_len == b->id_len && memcmp(a->id, b->id, a->id_len) == 0;
}

static s_client_t *s_client_find(report_collector_t *self, const s_peer_id_t *id, bool create)
{
    size_t mask = self->client_cap - 1;
    for (size_t i = s_hash(id) & mask;; i = (i + 1) & mask) {
        s_client_t *c = &self->clients[i];
        if (!c->used) {
            if (!create)
                return NULL;
            c->used = true;
            c->key = *id;
            c->count = 0;
            return c;
        }
        if (s_id_eq(&c->key, id))
            return c;
    }
}

static void s_client_release(report_collector_t *self, const s_peer_id_t *id)
{
    s_client_t *c = s_client_find(self, id, false);
    if (!c || --c->count > 0)
        return;
    /* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
    size_t mask = self->client_cap - 1;
    size_t hole = (size_t)(c - self->clients);
    c->used = false;
    for (size_t i = (hole + 1) & mask; self->clients[i].used; i = (i + 1) & mask) {
        size_t home = s_hash(&self->clients[i].key) & mask;
        bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
        if (movable) {
            self->clients[hole] = self->clients[i];
            self->clients[i].used = false;
            hole = i;
        }
    }
}

/* --- sending --- */

/* The counters of a unit. Label sets stay bounded: the first REPORT_MAX_UNIT_LABELS - 1
 * distinct units get their own slot, every later one shares the last slot, "other". */
static report_unit_counters_t *s_unit(report_collector_t *self, const char *unit)
{
    const char *label = unit && *unit ? unit : "unknown";
    report_collector_stats_t *st = &self->stats;
    for (size_t i = 0; i < st->unit_count; i++)
        if (strcmp(st->units[i].unit, label) == 0)
            return &st->units[i];
    if (st->unit_count >= REPORT_MAX_UNIT_LABELS - 1) {
        report_unit_counters_t *other = &st->units[REPORT_MAX_UNIT_LABELS - 1];
        if (st->unit_count < REPORT_MAX_UNIT_LABELS) {
            memset(other, 0, sizeof *other);
            snprintf(other->unit, sizeof other->unit, "other");
            st->unit_count = REPORT_MAX_UNIT_LABELS;
        }
        return other;
    }
    report_unit_counters_t *c = &st->units[st->unit_count++];
    snprintf(c->unit, sizeof c->unit, "%s", label);
    return c;
}

static void s_reply(report_collector_t *self, const s_peer_id_t *client, bool req_envelope,
                    const char *unit, int64_t received_ms, const report_reply_t *reply)
{
    report_unit_counters_t *uc = s_unit(self, unit);
    uc->answered[reply->outcome <= REPORT_OUTCOME_BUSY ? reply->outcome : 0]++;
    /* a refusal without a reason (a store of another version) is counted as "other" */
    report_reason_t reason =
        reply->reason > REPORT_REASON_none && reply->reason < REPORT_REASON_COUNT
            ? reply->reason
            : REPORT_REASON_other;
    if (reply->outcome == REPORT_OUTCOME_REJECTED)
        uc->refused[reason]++;
    report_histogram_observe(&self->stats.reply_seconds,
                             (double)(report_clock_ms() - received_ms) / 1000.0);
    switch (reply->outcome) {
    case REPORT_OUTCOME_STORED:
        self->stats.stored++;
        break;
    case REPORT_OUTCOME_DUPLICATE:
        self->stats.duplicates++;
        break;
    case REPORT_OUTCOME_BUSY:
        self->stats.busy++;
        break;
    default:
        self->stats.rejected++;
        self->stats.refused[reason]++;
        break;
    }
    size_t size;
    uint8_t *buf = report_reply_encode(reply, &size);
    int rc = zmq_send(self->front, client->id, client->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0 && req_envelope)
        rc = zmq_send(self->front, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = zmq_send(self->front, buf, size, ZMQ_DONTWAIT);
    if (rc < 0)
        self->stats.undeliverable++;
    free(buf);
}

static int s_send_store(report_collector_t *self, s_store_t *store, const report_frame_t *frame)
{
    size_t size;
    uint8_t *buf = report_frame_encode(frame, &size);
    int rc = zmq_send(self->back, store->id.id, store->id.id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = zmq_send(self->back, buf, size, ZMQ_DONTWAIT);
    free(buf);
    return rc < 0 ? -1 : 0;
}

static s_store_t *s_pick_store(report_collector_t *self)
{
    s_store_t *best = NULL;
    for (size_t i = 0; i < self->store_count; i++) {
        s_store_t *s = &self->stores[i];
        if (s->alive && s->outstanding < s->capacity &&
            (!best || s->capacity - s->outstanding > best->capacity - best->outstanding))
            best = s;
    }
    return best;
}

static void s_dispatch(report_collector_t *self)
{
    while (self->queue_len > 0) {
        s_store_t *store = s_pick_store(self);
        if (!store)
            return;
        uint32_t slot = self->queue[self->queue_head];
        s_flight_t *f = &self->flights[slot];
        report_frame_t work = {.type = REPORT_FRAME_WORK};
        work.tag = ((uint64_t)f->gen << 32) | slot;
        work.incarnation = self->incarnation;
        work.update = f->payload;
        work.update_size = f->payload_size;
        if (s_send_store(self, store, &work) != 0) {
            /* The store's queue is full or it is gone: stop feeding it until it speaks. */
            store->capacity = store->outstanding;
            continue;
        }
        self->queue_head = (self->queue_head + 1) % (size_t)self->cfg.max_inflight;
        self->queue_len--;
        f->store = (int)(store - self->stores);
        store->outstanding++;
    }
}

static void s_enqueue(report_collector_t *self, uint32_t slot)
{
    size_t cap = (size_t)self->cfg.max_inflight;
    self->queue[(self->queue_head + self->queue_len) % cap] = slot;
    self->queue_len++;
    self->flights[slot].store = -1;
}

static void s_flight_free(report_collector_t *self, uint32_t slot)
{
    s_flight_t *f = &self->flights[slot];
    s_client_release(self, &f->client);
    free(f->payload);
    f->payload = NULL;
    f->used = false;
    f->gen++;
    self->free_slots[self->free_count++] = slot;
    self->stats.inflight--;
}

/* Sends refused input to a store for the dead-letter table; dropped if none can take it. */
static void s_dead_letter(report_collector_t *self, const report_refusal_t *why, const char *unit,
                          const char *update_id, const uint8_t *data, size_t size)
{
    report_frame_t dead = {.type = REPORT_FRAME_DEAD_LETTER};
    dead.reply.reason = why->reason;
    snprintf(dead.reply.message, sizeof dead.reply.message, "%s", why->message);
    snprintf(dead.unit_code, sizeof dead.unit_code, "%s", unit);
    snprintf(dead.update_id, sizeof dead.update_id, "%s", update_id);
    dead.payload = (uint8_t *)data;
    dead.payload_len = size < (size_t)self->cfg.dead_letter_payload_bytes
                           ? size
                           : (size_t)self->cfg.dead_letter_payload_bytes;
    dead.payload_size = size;
    for (size_t i = 0; i < self->store_count; i++) {
        if (self->stores[i].alive && s_send_store(self, &self->stores[i], &dead) == 0)
            return;
    }
    self->stats.dead_letters_dropped++;
}

static void s_refuse(report_collector_t *self, const s_peer_id_t *client, bool req_envelope,
                     const report_refusal_t *why, const char *unit, const char *update_id,
                     const uint8_t *data, size_t size)
{
    uint64_t suppressed;
    if (report_ratelimit_allow(&self->refusal_log, &suppressed))
        log_info("update refused", "unit=%s update_id=%s reason=%s detail=%s suppressed=%llu",
                 report_logq(unit), report_logq(update_id), report_reason_name(why->reason),
                 report_logq(why->message), (unsigned long long)suppressed);
    report_reply_t reply;
    report_reply_set(&reply, update_id, REPORT_OUTCOME_REJECTED, why->reason, "%s", why->message);
    s_unit(self, unit)->received++;
    s_reply(self, client, req_envelope, unit, report_clock_ms(), &reply);
    s_dead_letter(self, why, unit, update_id, data, size);
}

/* --- receiving from clients --- */

static void s_handle_update(report_collector_t *self, const s_peer_id_t *client, bool req_envelope,
                            const char *peer_unit, const uint8_t *data, size_t size)
{
    report_update_t *u = NULL;
    report_refusal_t why;
    char id[64], unit[64];
    /* A subdivision reports only for itself: the unit is the one its key is enrolled as, and
     * every refusal is blamed on that unit, never on the one the message claims. */
    if (report_update_accept(&self->limits, peer_unit, data, size, &u, &why, id, unit) != 0) {
        s_refuse(self, client, req_envelope, &why, unit, id, data, size);
        return;
    }
    report_reply_t reply;
    s_unit(self, u->unit_code)->received++;
    s_client_t *c = s_client_find(self, client, false);
    bool client_full = c && c->count >= (uint32_t)self->cfg.max_inflight_per_client;
    if (self->free_count == 0 || client_full) {
        report_reply_set(&reply, u->update_id, REPORT_OUTCOME_BUSY,
                         client_full ? REPORT_REASON_client_inflight_full
                                     : REPORT_REASON_inflight_full,
                         "%s updates in flight; retry later",
                         client_full ? "too many of this client's" : "too many");
        s_reply(self, client, req_envelope, u->unit_code, report_clock_ms(), &reply);
        report_update_destroy(&u);
        return;
    }
    uint32_t slot = self->free_slots[--self->free_count];
    s_flight_t *f = &self->flights[slot];
    f->used = true;
    f->client = *client;
    f->req_envelope = req_envelope;
    snprintf(f->update_id, sizeof f->update_id, "%s", u->update_id);
    snprintf(f->unit, sizeof f->unit, "%s", u->unit_code);
    f->received_ms = report_clock_ms();
    /* Forward the normalised form: what is stored is NFC whatever the client sent. */
    f->payload = report_update_encode(u, &f->payload_size);
    report_update_destroy(&u);
    s_client_find(self, client, true)->count++;
    self->stats.inflight++;
    s_enqueue(self, slot);
    s_dispatch(self);
}

static void s_receive_client(report_collector_t *self)
{
    zmq_msg_t frames[4];
    size_t count = 0;
    bool more = true;
    size_t max = (size_t)self->cfg.max_frames + 1; /* plus the routing id */
    bool too_many = false;
    while (more) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->front, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        more = zmq_msg_more(&msg);
        if (count < max && count < 4)
            frames[count++] = msg;
        else {
            too_many = true;
            zmq_msg_close(&msg);
        }
    }
    if (count == 0)
        return;
    s_peer_id_t client;
    client.id_len = zmq_msg_size(&frames[0]) < S_ID_MAX ? zmq_msg_size(&frames[0]) : S_ID_MAX;
    memcpy(client.id, zmq_msg_data(&frames[0]), client.id_len);
    self->stats.received++;
    for (size_t i = 1; i < count; i++)
        self->stats.bytes_received += zmq_msg_size(&frames[i]);
    report_refusal_t why;
    if (too_many || count < 2 || (count == 3 && zmq_msg_size(&frames[1]) != 0) || count > 3) {
        why.reason = REPORT_REASON_too_many_frames;
        snprintf(why.message, sizeof why.message,
                 "a message is one frame (or an empty delimiter and one frame)");
        if (count < 2)
            why.reason = REPORT_REASON_malformed;
        s_refuse(self, &client, false, &why, "", "", NULL, 0);
    } else {
        bool req = count == 3;
        zmq_msg_t *payload = &frames[req ? 2 : 1];
        const char *peer_unit = NULL;
        report_keyring_t *units = report_server_keyring(self->server, "units");
        if (units) {
            /* The key was enrolled at the handshake; it may have been revoked since. */
            report_keyring_refresh(units);
            peer_unit = report_keyring_identity(units, report_curve_peer(payload));
        }
        if (units && !peer_unit) {
            why.reason = REPORT_REASON_unauthorized;
            snprintf(why.message, sizeof why.message, "this key is no longer enrolled");
            s_refuse(self, &client, req, &why, "", "", NULL, 0);
        } else {
            s_handle_update(self, &client, req, peer_unit, zmq_msg_data(payload),
                            zmq_msg_size(payload));
        }
    }
    for (size_t i = 0; i < count; i++)
        zmq_msg_close(&frames[i]);
}

/* --- receiving from stores --- */

static s_store_t *s_store_find(report_collector_t *self, const s_peer_id_t *id, bool create)
{
    for (size_t i = 0; i < self->store_count; i++)
        if (s_id_eq(&self->stores[i].id, id))
            return &self->stores[i];
    if (!create)
        return NULL;
    for (size_t i = 0; i < self->store_count; i++) {
        if (!self->stores[i].alive) {
            memset(&self->stores[i], 0, sizeof(s_store_t));
            self->stores[i].id = *id;
            return &self->stores[i];
        }
    }
    self->stores = report_realloc(self->stores, (self->store_count + 1) * sizeof(s_store_t));
    s_store_t *s = &self->stores[self->store_count++];
    memset(s, 0, sizeof *s);
    s->id = *id;
    return s;
}

/* The update a store's answer is for, or NULL if the answer is stale: owed to an earlier
 * collector process, for an update since answered, re-dispatched or expired, from a store
 * the update was not handed to, or for another update. Only then may it be answered. */
static s_flight_t *s_result_flight(report_collector_t *self, const s_store_t *store,
                                   const report_frame_t *frame)
{
    uint32_t slot = (uint32_t)(frame->tag & 0xffffffffu);
    uint32_t gen = (uint32_t)(frame->tag >> 32);
    if (!store || frame->incarnation != self->incarnation ||
        slot >= (uint32_t)self->cfg.max_inflight)
        return NULL;
    s_flight_t *f = &self->flights[slot];
    if (!f->used || f->gen != gen || f->store != (int)(store - self->stores) ||
        strcmp(f->update_id, frame->reply.update_id) != 0)
        return NULL;
    return f;
}

static void s_handle_result(report_collector_t *self, s_store_t *store, report_frame_t *frame)
{
    if (store)
        store->last_seen = report_clock_ms();
    s_flight_t *f = s_result_flight(self, store, frame);
    if (!f) {
        self->stats.stale_results++;
        uint64_t suppressed;
        if (report_ratelimit_allow(&self->stale_log, &suppressed))
            log_info("stale answer from a store ignored",
                     "store_id=%s update_id=%s outcome=%d suppressed=%llu",
                     report_logq(store ? store->store_id : ""), report_logq(frame->reply.update_id),
                     (int)frame->reply.outcome, (unsigned long long)suppressed);
        return;
    }
    if (store->outstanding > 0)
        store->outstanding--;
    if (frame->reply.outcome == REPORT_OUTCOME_REJECTED) {
        uint64_t suppressed;
        if (report_ratelimit_allow(&self->refusal_log, &suppressed))
            log_info("update refused", "unit=%s update_id=%s reason=%s detail=%s suppressed=%llu",
                     f->unit, f->update_id, report_reason_name(frame->reply.reason),
                     report_logq(frame->reply.message), (unsigned long long)suppressed);
    }
    s_reply(self, &f->client, f->req_envelope, f->unit, f->received_ms, &frame->reply);
    s_flight_free(self, (uint32_t)(f - self->flights));
}

static void s_receive_store(report_collector_t *self)
{
    zmq_msg_t id_msg, body;
    zmq_msg_init(&id_msg);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&id_msg, self->back, ZMQ_DONTWAIT) < 0)
        goto done;
    if (!zmq_msg_more(&id_msg) || zmq_msg_recv(&body, self->back, ZMQ_DONTWAIT) < 0)
        goto done;
    while (zmq_msg_more(&body)) { /* not ours: drop the rest */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        int rc = zmq_msg_recv(&extra, self->back, ZMQ_DONTWAIT);
        bool more = rc >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        if (!more)
            goto done;
    }
    report_keyring_t *stores = report_server_keyring(self->server, "stores");
    if (stores) {
        report_keyring_refresh(stores);
        if (!report_keyring_identity(stores, report_curve_peer(&body))) {
            log_warn("frame from a store whose key is no longer enrolled", "%s", "");
            goto done;
        }
    }
    s_peer_id_t id;
    id.id_len = zmq_msg_size(&id_msg) < S_ID_MAX ? zmq_msg_size(&id_msg) : S_ID_MAX;
    memcpy(id.id, zmq_msg_data(&id_msg), id.id_len);
    report_frame_t frame;
    if (report_frame_decode(zmq_msg_data(&body), zmq_msg_size(&body), &frame) != 0) {
        log_warn("malformed frame from store", "bytes=%zu", zmq_msg_size(&body));
        goto done;
    }
    if (frame.type == REPORT_FRAME_READY) {
        s_store_t *s = s_store_find(self, &id, true);
        if (!s->alive)
            log_info("store connected", "store_id=%s credit=%u", report_logq(frame.store_id),
                     frame.credit);
        s->alive = true;
        s->capacity = frame.credit;
        s->last_seen = report_clock_ms();
        snprintf(s->store_id, sizeof s->store_id, "%s", frame.store_id);
    } else if (frame.type == REPORT_FRAME_RESULT) {
        s_handle_result(self, s_store_find(self, &id, false), &frame);
    }
    report_frame_clear(&frame);
done:
    zmq_msg_close(&id_msg);
    zmq_msg_close(&body);
    s_dispatch(self);
}

/* Declares silent stores dead, hands their updates to others, drops expired updates. */
static void s_sweep(report_collector_t *self)
{
    int64_t now = report_clock_ms();
    for (size_t i = 0; i < self->store_count; i++) {
        s_store_t *s = &self->stores[i];
        if (!s->alive || now - s->last_seen < self->cfg.store_timeout_ms)
            continue;
        log_warn("store silent, declared dead", "store_id=%s outstanding=%u",
                 report_logq(s->store_id), s->outstanding);
        s->alive = false;
        s->outstanding = 0;
        for (uint32_t slot = 0; slot < (uint32_t)self->cfg.max_inflight; slot++) {
            s_flight_t *f = &self->flights[slot];
            if (f->used && f->store == (int)i) {
                f->gen++; /* a late answer from the dead store must not match */
                s_enqueue(self, slot);
                self->stats.redispatched++;
            }
        }
    }
    for (uint32_t slot = 0; slot < (uint32_t)self->cfg.max_inflight; slot++) {
        s_flight_t *f = &self->flights[slot];
        if (f->used && f->store >= 0 && now - f->received_ms > self->cfg.inflight_expiry_ms) {
            log_warn("update expired without an answer", "unit=%s update_id=%s", f->unit,
                     f->update_id);
            if (self->stores[f->store].outstanding > 0)
                self->stores[f->store].outstanding--;
            self->stats.expired++;
            s_flight_free(self, slot);
        }
    }
    self->stats.stores = 0;
    for (size_t i = 0; i < self->store_count; i++)
        self->stats.stores += self->stores[i].alive;
    self->next_sweep = now + 250;
    s_dispatch(self);
}

/* --- lifecycle --- */

static void *s_bind(report_collector_t *self, int type, const char *endpoint, const char *domain,
                    char *bound, size_t bound_size)
{
    int hwm = (int)self->cfg.hwm;
    int sndhwm = hwm;
    /* Towards stores, everything in flight may be queued at once (work out, answers in);
     * towards a client, all its answers may be due at once. Past these, answers would be
     * dropped, not delayed. */
    if (strcmp(domain, "stores") == 0 && self->cfg.max_inflight * 2 > self->cfg.hwm)
        hwm = sndhwm = (int)self->cfg.max_inflight * 2;
    else
        sndhwm = hwm + (int)self->cfg.max_inflight_per_client;
    return report_server_socket(self->server, type, endpoint, domain, sndhwm, hwm,
                                self->cfg.max_message_bytes + 1024, bound, bound_size);
}

/* CURVE on both sockets: the ZAP handler is bound before them, so it is never missing. */
static int s_security(report_collector_t *self)
{
    self->server = report_server_new(self->zctx, &self->cfg.server, "units", "stores",
                                     "INSECURE: CURVE is off, any peer can push for any unit");
    return self->server ? 0 : -1;
}

/* Connection counts from the monitors, keyring reloads. */
static void s_connection_stats(report_collector_t *self)
{
    report_monitor_count(self->monitor, &self->stats.clients);
    report_monitor_count(self->store_monitor, &self->stats.store_link);
    self->stats.connected_clients = self->stats.clients.connected;
    self->stats.keyring_reload_failures = report_server_keyrings_retry(self->server);
}

/* Security, both sockets and their monitors; 0, or -1 if the collector cannot serve. */
static int s_open(report_collector_t *self)
{
    if (s_security(self) != 0)
        return -1;
    self->front = s_bind(self, ZMQ_ROUTER, self->cfg.endpoint, "units", self->endpoint,
                         sizeof self->endpoint);
    self->back = self->front ? s_bind(self, ZMQ_ROUTER, self->cfg.store_endpoint, "stores",
                                      self->store_endpoint, sizeof self->store_endpoint)
                             : NULL;
    if (!self->front || !self->back)
        return -1;
    self->monitor =
        report_monitor_new(self->zctx, self->front, "clients", self->cfg.server.max_connections,
                           self->cfg.server.max_connections_per_peer);
    self->store_monitor = report_monitor_new(self->zctx, self->back, "stores", 0, 0);
    log_info("collector listening",
             "endpoint=%s store_endpoint=%s max_inflight=%lld max_connections=%lld "
             "max_connections_per_peer=%lld",
             self->endpoint, self->store_endpoint, (long long)self->cfg.max_inflight,
             (long long)self->cfg.server.max_connections,
             (long long)self->cfg.server.max_connections_per_peer);
    return 0;
}

static void *s_thread(void *arg)
{
    report_collector_t *self = arg;
    if (s_open(self) != 0) {
        report_actor_ready(&self->actor, -1);
        return NULL;
    }
    report_actor_ready(&self->actor, 1);
    /* The monitor and ZAP sockets are optional: poll them only when they exist. */
    zmq_pollitem_t items[6] = {{self->front, 0, ZMQ_POLLIN, 0},
                               {self->back, 0, ZMQ_POLLIN, 0},
                               {NULL, report_actor_stop_fd(&self->actor), ZMQ_POLLIN, 0}};
    int nitems = 3;
    report_monitor_t *monitors[2] = {self->monitor, self->store_monitor};
    int monitor_at[2];
    for (int i = 0; i < 2; i++)
        monitor_at[i] = report_poll_add(items, &nitems, report_monitor_socket(monitors[i]));
    void *zap = report_server_zap_socket(self->server);
    int zap_at = report_poll_add(items, &nitems, zap);
    while (!report_actor_stopping(&self->actor)) {
        /* asleep until a message, the stop event or the next sweep (stats once a second) */
        long timeout = (long)(self->next_sweep - report_clock_ms());
        int n = zmq_poll(items, nitems, timeout < 0 ? 0 : timeout > 1000 ? 1000 : timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++)
            if (monitor_at[i] >= 0 && (items[monitor_at[i]].revents & ZMQ_POLLIN))
                report_monitor_drain(monitors[i]);
        s_connection_stats(self);
        /* Handshakes first: a peer waits on them. */
        if (zap_at >= 0 && (items[zap_at].revents & ZMQ_POLLIN)) {
            report_server_zap_drain(self->server);
            self->stats.handshakes_refused = report_server_refused(self->server);
        }
        /* Drain stores first: their answers free the slots new updates need. */
        for (int budget = 1000;
             budget > 0 && (items[1].revents & ZMQ_POLLIN) && report_readable(self->back); budget--)
            s_receive_store(self);
        for (int budget = 1000;
             budget > 0 && (items[0].revents & ZMQ_POLLIN) && report_readable(self->front);
             budget--)
            s_receive_client(self);
        if (report_clock_ms() >= self->next_sweep)
            s_sweep(self);
        report_actor_copy(&self->actor, &self->shared_stats, &self->stats, sizeof self->stats);
    }
    return NULL;
}

static void s_free(void *arg)
{
    report_collector_t *self = arg;
    report_monitor_destroy(&self->monitor);
    report_monitor_destroy(&self->store_monitor);
    if (self->front)
        zmq_close(self->front);
    if (self->back)
        zmq_close(self->back);
    report_server_destroy(&self->server);
    if (self->zctx)
        zmq_ctx_term(self->zctx);
    for (int64_t i = 0; self->flights && i < self->cfg.max_inflight; i++)
        free(self->flights[i].payload);
    free(self->flights);
    free(self->free_slots);
    free(self->queue);
    free(self->stores);
    free(self->clients);
    report_settings_free(report_collector_settings, &self->cfg);
    report_actor_destroy(&self->actor);
    free(self);
}

report_collector_t *report_collector_start(const report_collector_config_t *cfg)
{
    report_collector_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    report_settings_own(report_collector_settings, &self->cfg);
    report_limits_default(&self->limits);
    self->limits.max_message_bytes = (size_t)cfg->max_message_bytes;
    self->limits.max_text_bytes = (size_t)cfg->max_text_bytes;
    self->limits.max_sub_items = (size_t)cfg->max_sub_items;
    self->limits.max_indicators = (size_t)cfg->max_indicators;
    self->limits.year_min = (int)cfg->year_min;
    self->limits.year_max = (int)cfg->year_max;
    self->limits.value_max = (double)cfg->value_max;
    size_t n = (size_t)cfg->max_inflight;
    self->flights = report_calloc(n, sizeof(s_flight_t));
    self->free_slots = report_calloc(n, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        self->free_slots[self->free_count++] = (uint32_t)(n - 1 - i);
    self->queue = report_calloc(n, sizeof(uint32_t));
    self->client_cap = 16;
    while (self->client_cap < 2 * n)
        self->client_cap *= 2;
    self->clients = report_calloc(self->client_cap, sizeof(s_client_t));
    report_ratelimit_init(&self->refusal_log, 20, 1000);
    report_ratelimit_init(&self->stale_log, 5, 1000);
    /* From the kernel's generator: two collector processes must never draw the same one. */
    while (self->incarnation == 0)
        if (getrandom(&self->incarnation, sizeof self->incarnation, 0) != sizeof self->incarnation)
            self->incarnation = 0;
    report_histogram_init_seconds(&self->stats.reply_seconds);
    self->stats.inflight_limit = (uint64_t)cfg->max_inflight;
    self->shared_stats = self->stats;
    self->zctx = zmq_ctx_new();
    return report_actor_launch(&self->actor, s_thread, self, s_free);
}

void report_collector_stop(report_collector_t **self_p)
{
    report_actor_finish(self_p, s_free);
}

const char *report_collector_endpoint(report_collector_t *self)
{
    return self->endpoint;
}

const char *report_collector_store_endpoint(report_collector_t *self)
{
    return self->store_endpoint;
}

void report_collector_stats(report_collector_t *self, report_collector_stats_t *out)
{
    report_actor_copy(&self->actor, out, &self->shared_stats, sizeof *out);
}

bool report_collector_running(report_collector_t *self)
{
    return !report_actor_ended(&self->actor);
}
