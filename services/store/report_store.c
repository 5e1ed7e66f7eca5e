/* The store: group commit of updates from collectors into PostgreSQL.
 *
 * Why batches: a commit waits for the WAL flush, so committing rows one by one caps ingest
 * at a few thousand per second; one transaction per batch of up to batch_max updates makes
 * the flush cost shared. Why answers only after COMMIT: an acknowledgement means "durable";
 * anything held in memory when the process dies was never acknowledged, and the client (or
 * the collector) sends it again under the same update id, which the unique key (unit, id)
 * turns into DUPLICATE instead of a second row. A resend is a DUPLICATE only if it is the
 * same update (same SHA-256 of the payload); the same id with other content is refused as
 * id_conflict, so a correction sent under an old id is never silently dropped.
 *
 * Why statements wait in a poll that sends heartbeats: a store whose session waits on a lock
 * (another store frozen inside its transaction, say) must not fall silent, or the collector
 * declares it dead and every store that waits on the same lock with it. Lock waits and
 * statements are also bounded (lock_timeout, statement_timeout,
 * idle_in_transaction_session_timeout), and running into a bound rolls the batch back to be
 * tried again: a transient database error never refuses an update. */
#define _GNU_SOURCE
#include "report_store.h"
#include "report_actor.h"
#include "report_backoff.h"
#include "report_codec.h"
#include "report_db.h"
#include "report_log.h"
#include "report_sha256.h"
#include "report_util.h"
#include "report_validate.h"
#include "report_zap.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define F(field) offsetof(report_store_config_t, field)
const report_setting_t report_store_settings[] = {
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0,
     "libpq connection string of the database"},
    {"collectors", REPORT_SETTING_STRING, "tcp://127.0.0.1:5571", F(collectors), 0, 0,
     "comma-separated store endpoints of the collectors to serve"},
    {"store-id", REPORT_SETTING_STRING, "", F(store_id), 0, 0,
     "name in logs and rows (default host-pid)"},
    {"writers", REPORT_SETTING_INT, "2", F(writers), 1, 64,
     "database sessions, each with its own link to every collector: one transaction commits "
     "while the next is inserted"},
    {"batch-max", REPORT_SETTING_INT, "500", F(batch_max), 1, 100000,
     "updates per transaction at most"},
    {"batch-max-bytes", REPORT_SETTING_INT, "4194304", F(batch_max_bytes), 1024, 1073741824,
     "payload bytes per transaction at most (at least one update)"},
    {"batch-wait-ms", REPORT_SETTING_INT, "0", F(batch_wait_ms), 0, 60000,
     "longest an update waits for its batch to fill (0: a writer commits what it holds as soon "
     "as it is free; what arrives meanwhile makes the next batch)"},
    {"capacity", REPORT_SETTING_INT, "2000", F(capacity), 1, 1000000,
     "updates held at most (credit announced to collectors)"},
    {"heartbeat-ms", REPORT_SETTING_INT, "1000", F(heartbeat_ms), 50, 60000,
     "heartbeat to collectors"},
    {"reconnect-min-ms", REPORT_SETTING_INT, "10", F(reconnect_min_ms), 1, 60000,
     "first database reconnect delay"},
    {"reconnect-max-ms", REPORT_SETTING_INT, "5000", F(reconnect_max_ms), 1, 600000,
     "cap of the jittered reconnect delay"},
    {"dead-letter-max", REPORT_SETTING_INT, "10000", F(dead_letter_max), 1, 100000000,
     "rows kept in the dead_letters table"},
    {"dead-letter-queue", REPORT_SETTING_INT, "1000", F(dead_letter_queue), 1, 1000000,
     "refused inputs held in memory while the database is away"},
    {"catalog-refresh-ms", REPORT_SETTING_INT, "10000", F(catalog_refresh_ms), 100, 86400000,
     "reload of unit, area and indicator codes"},
    {"lock-timeout-ms", REPORT_SETTING_INT, "2000", F(lock_timeout_ms), 0, 3600000,
     "longest a statement waits for a lock, then the batch is retried (0 = no bound)"},
    {"statement-timeout-ms", REPORT_SETTING_INT, "4000", F(statement_timeout_ms), 0, 3600000,
     "longest a statement runs, then the batch is retried (0 = no bound)"},
    {"idle-in-transaction-timeout-ms", REPORT_SETTING_INT, "5000",
     F(idle_in_transaction_timeout_ms), 0, 3600000,
     "the server ends the session of a store idle this long inside a transaction (0 = never)"},
    {"db-wait-max-ms", REPORT_SETTING_INT, "0", F(db_wait_max_ms), 0, 3600000,
     "longest wait for a statement's results on the client, then the connection is dropped and "
     "the store falls silent while it holds work (0 = statement-timeout-ms + 2000, or 60000)"},
    {"migrate", REPORT_SETTING_BOOL, "true", F(migrate), 0, 0,
     "apply database migrations at start"},
    {"allow-unsafe-durability", REPORT_SETTING_BOOL, "false", F(allow_unsafe_durability), 0, 0,
     "DEVELOPMENT ONLY: run against a server with fsync or synchronous_commit off"},
    {"key", REPORT_SETTING_STRING, "keys/store.key", F(key), 0, 0,
     "the store's CURVE key pair (public key enrolled in KEYS/stores/)"},
    {"collector-key", REPORT_SETTING_STRING, "keys/server.pub", F(collector_key), 0, 0,
     "the collectors' CURVE public key (.pub file or Z85)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE on the collector link"},
    REPORT_SETTINGS_END};
#undef F

void report_store_config_default(report_store_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    report_settings_defaults(report_store_settings, cfg);
}

typedef struct {
    size_t link;
    uint64_t tag;
    uint64_t incarnation;
    report_update_t *update;
    uint8_t *payload;
    size_t payload_size;
    char sha256[65]; /* of the payload: what makes a resend the same update */
    int64_t received_ms;
    report_reply_t reply;
    bool answered;
} s_work_t;

typedef struct {
    report_reason_t reason;
    char message[256];
    char unit[64];
    char update_id[64];
    uint8_t *payload;
    size_t len;
    uint64_t size;
} s_dead_t;

/* Sorted code lists loaded from the database: what a unit may name. */
typedef struct {
    char **codes;
    size_t count;
} s_codes_t;

#define S_UPDATE_COLS 14 /* the insert's update columns (S_INSERT_SQL) */
#define S_DEAD_COLS 6    /* the dead-letter insert's columns */

/* The parameters of one transaction's statements, alive until its results are read; a
 * writer's, reused from one transaction to the next. */
typedef struct {
    report_buf_t cols[S_UPDATE_COLS], iv_id, iv_unit, iv_code, iv_value;
    const char *insert[S_UPDATE_COLS + 5];
    report_buf_t units, ids;
    const char *existing[2];
    report_buf_t dead[S_DEAD_COLS];
    const char *dead_params[S_DEAD_COLS];
    char dead_max[32];
    const char *prune[1];
} s_txn_t;

typedef struct {
    const report_store_config_t *cfg;
    char store_id[64];
    void *zctx;
    void **links;
    size_t link_count;
    report_db_t *db;
    s_work_t *work;
    size_t work_count;
    s_dead_t *dead;
    size_t dead_count;
    s_dead_t *dead_in; /* dead letters received while a transaction runs: held apart */
    size_t dead_in_count;
    bool flushing;         /* a transaction is under way: what arrives waits for the next */
    zmq_pollitem_t *items; /* the links, then the database's socket while a statement runs */
    int64_t oldest_ms;
    int64_t next_heartbeat;
    int64_t next_connect;
    report_backoff_t backoff; /* database reconnects and retries */
    int64_t catalog_at;
    bool ever_connected;
    s_codes_t units, areas, indicators;
    report_store_stats_t stats;
    report_actor_t *actor;              /* this writer's thread: stop event, stats lock */
    report_store_stats_t *shared_stats; /* published under the actor's lock */
    bool fatal;
    bool stalled;        /* a statement ran past the wait bound and nothing was committed since */
    int64_t alike_since; /* first of consecutive batches whose every row was refused alike */
    size_t chunk_limit;  /* updates per transaction now: batch_max, halved on a timeout */
    report_ratelimit_t refusal_log; /* a flood of bad updates cannot fill the disk */
    s_txn_t txn;
} s_run_t;

/* --- catalogue --- */

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void s_codes_clear(s_codes_t *c)
{
    report_strv_free(c->codes, c->count);
    c->codes = NULL;
    c->count = 0;
}

static bool s_codes_has(const s_codes_t *c, const char *code)
{
    return c->count && bsearch(&code, c->codes, c->count, sizeof(char *), s_cmp_str) != NULL;
}

static int s_catalog_row(void *arg, const PGresult *res, int row)
{
    s_run_t *run = arg;
    const char *kind = PQgetvalue(res, row, 0);
    s_codes_t *c = kind[0] == 'u' ? &run->units : kind[0] == 'a' ? &run->areas : &run->indicators;
    c->codes = report_realloc(c->codes, (c->count + 1) * sizeof(char *));
    c->codes[c->count++] = report_strdup(PQgetvalue(res, row, 1));
    return 0;
}

static int s_catalog_load(s_run_t *run)
{
    s_codes_clear(&run->units);
    s_codes_clear(&run->areas);
    s_codes_clear(&run->indicators);
    int rc = report_db_query(run->db,
                             "SELECT 'u', code FROM units WHERE active"
                             " UNION ALL SELECT 'a', code FROM work_areas WHERE active"
                             " UNION ALL SELECT 'i', code FROM indicators WHERE active",
                             0, NULL, s_catalog_row, run);
    qsort(run->units.codes, run->units.count, sizeof(char *), s_cmp_str);
    qsort(run->areas.codes, run->areas.count, sizeof(char *), s_cmp_str);
    qsort(run->indicators.codes, run->indicators.count, sizeof(char *), s_cmp_str);
    run->catalog_at = report_clock_ms();
    return rc;
}

/* Checks that every placeholder {CODE} / {CODE.ytd|plan|pct} names a known indicator.
 * Returns REPORT_REASON_none if all do, else the reason, with the offending text in bad. */
static report_reason_t s_check_placeholders(const s_run_t *run, const char *text, char *bad,
                                            size_t size)
{
    for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
        const char *q = p + 1;
        while ((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_')
            q++;
        size_t code_len = (size_t)(q - p - 1);
        if (code_len == 0 || code_len > 32)
            continue;
        const char *field = NULL;
        size_t field_len = 0;
        if (*q == '.') {
            field = q + 1;
            const char *r = field;
            while (*r >= 'a' && *r <= 'z')
                r++;
            field_len = (size_t)(r - field);
            q = r;
        }
        if (*q != '}')
            continue;
        snprintf(bad, size, "%.*s", (int)(q - p + 1), p);
        char code[33];
        memcpy(code, p + 1, code_len);
        code[code_len] = '\0';
        if (!s_codes_has(&run->indicators, code))
            return REPORT_REASON_unknown_indicator;
        if (field && !((field_len == 3 && !strncmp(field, "ytd", 3)) ||
                       (field_len == 4 && !strncmp(field, "plan", 4)) ||
                       (field_len == 3 && !strncmp(field, "pct", 3))))
            return REPORT_REASON_bad_placeholder;
    }
    return REPORT_REASON_none;
}

/* --- dead letters --- */

static void s_dead_push_to(s_run_t *run, s_dead_t *queue, size_t *count, report_reason_t reason,
                           const char *message, const char *unit, const char *update_id,
                           const uint8_t *payload, size_t len, uint64_t size)
{
    if (*count >= (size_t)run->cfg->dead_letter_queue) {
        run->stats.dead_letters_dropped++;
        return;
    }
    s_dead_t *d = &queue[(*count)++];
    d->reason = reason;
    snprintf(d->message, sizeof d->message, "%s", message);
    snprintf(d->unit, sizeof d->unit, "%s", unit);
    snprintf(d->update_id, sizeof d->update_id, "%s", update_id);
    d->payload = report_malloc(len);
    if (len)
        memcpy(d->payload, payload, len);
    d->len = len;
    d->size = size;
}

static void s_dead_push(s_run_t *run, report_reason_t reason, const char *message, const char *unit,
                        const char *update_id, const uint8_t *payload, size_t len, uint64_t size)
{
    s_dead_push_to(run, run->dead, &run->dead_count, reason, message, unit, update_id, payload, len,
                   size);
}

/* Moves the dead letters that arrived during a transaction to the queue of the next. */
static void s_dead_take_held(s_run_t *run)
{
    for (size_t i = 0; i < run->dead_in_count; i++) {
        s_dead_t *d = &run->dead_in[i];
        if (run->dead_count < (size_t)run->cfg->dead_letter_queue) {
            run->dead[run->dead_count++] = *d;
        } else {
            run->stats.dead_letters_dropped++;
            free(d->payload);
        }
    }
    if (run->dead_in_count && run->work_count == 0)
        run->oldest_ms = report_clock_ms();
    run->dead_in_count = 0;
}

/* Drops the dead letters queued after the first keep (those of a transaction rolled back:
 * its retry queues them again). */
static void s_dead_truncate(s_run_t *run, size_t keep)
{
    for (size_t i = keep; i < run->dead_count; i++)
        free(run->dead[i].payload);
    if (keep < run->dead_count)
        run->dead_count = keep;
}

static void s_dead_clear(s_run_t *run)
{
    s_dead_truncate(run, 0);
}

/* --- PostgreSQL array literals for unnest() parameters --- */

/* Starts a literal in b, reusing its memory (b initialised once). */
static void s_array_open(report_buf_t *b)
{
    b->len = 0;
    report_buf_add(b, "{", 1);
}

static void s_array_add(report_buf_t *b, const char *elem)
{
    if (b->len > 1)
        report_buf_add(b, ",", 1);
    report_buf_add(b, "\"", 1);
    /* runs without a quote or backslash in one copy each */
    for (const char *p = elem; *p;) {
        size_t run = strcspn(p, "\"\\");
        report_buf_add(b, p, run);
        p += run;
        if (*p) {
            char esc[2] = {'\\', *p++};
            report_buf_add(b, esc, 2);
        }
    }
    report_buf_add(b, "\"", 1);
}

static void s_array_add_bytea(report_buf_t *b, const uint8_t *data, size_t len)
{
    if (b->len > 1)
        report_buf_add(b, ",", 1);
    report_buf_add(b, "\"\\\\x", 4);
    report_hex_write(report_buf_extend(b, 2 * len), data, len);
    report_buf_add(b, "\"", 1);
}

static void s_array_close(report_buf_t *b)
{
    report_buf_adds(b, "}");
}

/* --- the batch --- */

/* Rows that conflict on (unit_code, update_id) are left alone (DO NOTHING); the caller then
 * reads their hashes (S_EXISTING_SQL) to tell a DUPLICATE from an id_conflict. */
static const char *S_INSERT_SQL =
    "WITH batch AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::text[],"
    "                       $6::text[], $7::text[], $8::int[], $9::int[], $10::bool[],"
    "                       $11::text[], $12::jsonb[], $13::bytea[], $14::text[])"
    "    AS b(update_id, unit_code, year, month, section, area_code, item_key, item_order,"
    "         revision, withdrawn, text, sub_items, payload, content_sha256)"
    "), ins AS ("
    "  INSERT INTO updates (update_id, unit_code, year, month, section, area_code, item_key,"
    "                       item_order, revision, withdrawn, text, sub_items, payload,"
    "                       content_sha256, stored_by)"
    "  SELECT b.*, $15 FROM batch b"
    "  ON CONFLICT (unit_code, update_id) DO NOTHING"
    "  RETURNING seq, unit_code, update_id"
    "), iv AS ("
    "  INSERT INTO indicator_values (update_seq, indicator_code, value)"
    "  SELECT ins.seq, v.code, v.value"
    "    FROM unnest($16::uuid[], $17::text[], $18::text[], $19::numeric[])"
    "      AS v(update_id, unit_code, code, value)"
    "    JOIN ins USING (unit_code, update_id)"
    ")"
    "SELECT unit_code, update_id::text FROM ins";

/* A new statement, so in the same transaction it sees rows committed by others while the
 * insert waited on them, as well as the rows the insert just added. */
static const char *S_EXISTING_SQL =
    "SELECT u.unit_code, u.update_id::text, u.content_sha256"
    "  FROM unnest($1::text[], $2::uuid[]) AS k(unit_code, update_id)"
    "  JOIN updates u USING (unit_code, update_id)";

static const char *S_DEAD_SQL =
    "INSERT INTO dead_letters (reason, message, unit_code, update_id, payload, payload_size)"
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[],"
    "                      $6::bigint[])";

/* A SECURITY DEFINER function (005_roles.sql): the ingest role may not DELETE. */
static const char *S_DEAD_PRUNE_SQL = "SELECT prune_dead_letters($1::bigint)";

/* Session bounds, as parameters: no SQL is assembled from settings either. */

typedef struct {
    s_run_t *run;
    size_t *members; /* work indices in this statement */
    size_t member_count;
} s_batch_t;

static bool s_same_key(const report_update_t *a, const char *unit, const char *id)
{
    return strcmp(a->unit_code, unit) == 0 && strcmp(a->update_id, id) == 0;
}

static int s_inserted_row(void *arg, const PGresult *res, int row)
{
    s_batch_t *batch = arg;
    const char *unit = PQgetvalue(res, row, 0);
    const char *id = PQgetvalue(res, row, 1);
    for (size_t i = 0; i < batch->member_count; i++) {
        s_work_t *w = &batch->run->work[batch->members[i]];
        if (w->reply.outcome == REPORT_OUTCOME_NONE && s_same_key(w->update, unit, id)) {
            w->reply.outcome = REPORT_OUTCOME_STORED;
            return 0;
        }
    }
    return 0;
}

/* A row of this unit with this id exists: every member not inserted that names it is the
 * same update (DUPLICATE) or another one under a taken id (REJECTED id_conflict). */
static int s_existing_row(void *arg, const PGresult *res, int row)
{
    s_batch_t *batch = arg;
    s_run_t *run = batch->run;
    const char *unit = PQgetvalue(res, row, 0);
    const char *id = PQgetvalue(res, row, 1);
    const char *sha = PQgetvalue(res, row, 2);
    for (size_t i = 0; i < batch->member_count; i++) {
        s_work_t *w = &run->work[batch->members[i]];
        report_update_t *u = w->update;
        if (w->reply.outcome != REPORT_OUTCOME_NONE || !s_same_key(u, unit, id))
            continue;
        if (strcmp(w->sha256, sha) == 0) {
            w->reply.outcome = REPORT_OUTCOME_DUPLICATE;
            continue;
        }
        report_reply_set(&w->reply, u->update_id, REPORT_OUTCOME_REJECTED,
                         REPORT_REASON_id_conflict,
                         "update id %s of unit %s was stored before with other content; send "
                         "a correction under a new update id (a higher revision of the item)",
                         u->update_id, u->unit_code);
        uint64_t suppressed;
        if (report_ratelimit_allow(&run->refusal_log, &suppressed))
            log_info("update refused", "unit=%s update_id=%s reason=id_conflict suppressed=%llu",
                     u->unit_code, u->update_id, (unsigned long long)suppressed);
        s_dead_push(run, REPORT_REASON_id_conflict, w->reply.message, u->unit_code, u->update_id,
                    w->payload, w->payload_size, w->payload_size);
    }
    return 0;
}

/* Empties the buffers, keeping their memory: a writer's buffers grow to its largest
 * transaction (bounded by batch-max-bytes) and stay, instead of several MiB allocated and
 * freed per transaction. */
static void s_txn_each_buffer(s_txn_t *t, void (*fn)(report_buf_t *))
{
    for (int c = 0; c < S_UPDATE_COLS; c++)
        fn(&t->cols[c]);
    report_buf_t *others[] = {&t->iv_id,    &t->iv_unit, &t->iv_code,
                              &t->iv_value, &t->units,   &t->ids};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        fn(others[i]);
    for (int c = 0; c < S_DEAD_COLS; c++)
        fn(&t->dead[c]);
}

static void s_txn_reset(s_txn_t *t)
{
    s_txn_each_buffer(t, s_array_open);
}

static void s_txn_free(s_txn_t *t)
{
    s_txn_each_buffer(t, report_buf_free);
}

static void s_add_update(s_txn_t *t, const s_work_t *w)
{
    const report_update_t *u = w->update;
    char num[32];
    s_array_add(&t->cols[0], u->update_id);
    s_array_add(&t->cols[1], u->unit_code);
    snprintf(num, sizeof num, "%d", u->year);
    s_array_add(&t->cols[2], num);
    snprintf(num, sizeof num, "%d", u->month);
    s_array_add(&t->cols[3], num);
    s_array_add(&t->cols[4], report_section_name(u->section));
    s_array_add(&t->cols[5], u->area_code);
    s_array_add(&t->cols[6], u->item_key);
    snprintf(num, sizeof num, "%u", u->item_order);
    s_array_add(&t->cols[7], num);
    snprintf(num, sizeof num, "%u", u->revision);
    s_array_add(&t->cols[8], num);
    s_array_add(&t->cols[9], u->withdrawn ? "t" : "f");
    s_array_add(&t->cols[10], u->text);
    json_t *subs = json_array();
    for (size_t k = 0; k < u->sub_item_count; k++)
        json_array_append_new(subs, json_string(u->sub_items[k]));
    char *subs_json = json_dumps(subs, JSON_COMPACT);
    json_decref(subs);
    s_array_add(&t->cols[11], subs_json ? subs_json : "[]");
    free(subs_json);
    s_array_add_bytea(&t->cols[12], w->payload, w->payload_size);
    s_array_add(&t->cols[13], w->sha256);
    for (size_t k = 0; k < u->indicator_count; k++) {
        s_array_add(&t->iv_id, u->update_id);
        s_array_add(&t->iv_unit, u->unit_code);
        s_array_add(&t->iv_code, u->indicators[k].code);
        snprintf(num, sizeof num, "%.17g", u->indicators[k].value);
        s_array_add(&t->iv_value, num);
    }
}

/* The insert of the members (the first of each unit and id: the others are decided against
 * it) and the look-up of every member's unit and id, which decides the ones not inserted. */
static void s_build_updates(s_run_t *run, size_t *members, size_t count, s_txn_t *t)
{
    for (size_t i = 0; i < count; i++) {
        s_work_t *w = &run->work[members[i]];
        report_update_t *u = w->update;
        s_array_add(&t->units, u->unit_code);
        s_array_add(&t->ids, u->update_id);
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = s_same_key(run->work[members[j]].update, u->unit_code, u->update_id);
        if (!seen)
            s_add_update(t, w);
    }
    for (int c = 0; c < S_UPDATE_COLS; c++) {
        s_array_close(&t->cols[c]);
        t->insert[c] = t->cols[c].data;
    }
    s_array_close(&t->iv_id);
    s_array_close(&t->iv_unit);
    s_array_close(&t->iv_code);
    s_array_close(&t->iv_value);
    t->insert[14] = run->store_id;
    t->insert[15] = t->iv_id.data;
    t->insert[16] = t->iv_unit.data;
    t->insert[17] = t->iv_code.data;
    t->insert[18] = t->iv_value.data;
    s_array_close(&t->units);
    s_array_close(&t->ids);
    t->existing[0] = t->units.data;
    t->existing[1] = t->ids.data;
}

/* The first count dead letters held, and the pruning of the table to dead_letter_max. */
static void s_build_dead(s_run_t *run, size_t count, s_txn_t *t)
{
    for (size_t i = 0; i < count; i++) {
        s_dead_t *d = &run->dead[i];
        char num[32];
        s_array_add(&t->dead[0], report_reason_name(d->reason));
        s_array_add(&t->dead[1], d->message);
        s_array_add(&t->dead[2], d->unit);
        s_array_add(&t->dead[3], d->update_id);
        s_array_add_bytea(&t->dead[4], d->payload, d->len);
        snprintf(num, sizeof num, "%llu", (unsigned long long)d->size);
        s_array_add(&t->dead[5], num);
    }
    for (int c = 0; c < S_DEAD_COLS; c++) {
        s_array_close(&t->dead[c]);
        t->dead_params[c] = t->dead[c].data;
    }
    snprintf(t->dead_max, sizeof t->dead_max, "%lld", (long long)run->cfg->dead_letter_max);
    t->prune[0] = t->dead_max;
}

/* --- links to collectors --- */

/* Results wait (up to the link's send timeout) for room rather than being dropped: an
 * answer lost here would leave the client waiting and the collector's slot taken until it
 * expires. Heartbeats are never worth waiting for. */
static void s_send_frame(s_run_t *run, size_t link, const report_frame_t *frame)
{
    size_t size;
    uint8_t *buf = report_frame_encode(frame, &size);
    int flags = frame->type == REPORT_FRAME_READY ? ZMQ_DONTWAIT : 0;
    if (zmq_send(run->links[link], buf, size, flags) < 0 && frame->type != REPORT_FRAME_READY)
        log_warn("cannot send to collector", "link=%zu error=%s", link,
                 report_logq(zmq_strerror(errno)));
    free(buf);
}

static void s_heartbeat(s_run_t *run)
{
    run->next_heartbeat = report_clock_ms() + run->cfg->heartbeat_ms;
    /* The database stopped answering us: fall silent while we hold work we cannot commit,
     * so that the collectors declare us dead and hand it to another store. */
    if (run->stalled && run->work_count > 0)
        return;
    report_frame_t ready = {.type = REPORT_FRAME_READY};
    ready.credit = (uint32_t)run->cfg->capacity;
    snprintf(ready.store_id, sizeof ready.store_id, "%s", run->store_id);
    for (size_t i = 0; i < run->link_count; i++)
        s_send_frame(run, i, &ready);
}

/* Answers the decided updates among the first end held (a transaction's) and keeps the
 * others (undecided, or arrived meanwhile) in their order. */
static void s_answer_done(s_run_t *run, size_t end)
{
    size_t kept = 0;
    for (size_t i = 0; i < end; i++) {
        s_work_t *w = &run->work[i];
        if (!w->answered) {
            run->work[kept++] = *w;
            continue;
        }
        report_frame_t result = {
            .type = REPORT_FRAME_RESULT, .tag = w->tag, .incarnation = w->incarnation};
        result.reply = w->reply;
        switch (w->reply.outcome) {
        case REPORT_OUTCOME_STORED:
            run->stats.stored++;
            break;
        case REPORT_OUTCOME_DUPLICATE:
            run->stats.duplicates++;
            break;
        default:
            run->stats.rejected++;
            break;
        }
        s_send_frame(run, w->link, &result);
        report_update_destroy(&w->update);
        free(w->payload);
    }
    memmove(run->work + kept, run->work + end, (run->work_count - end) * sizeof(s_work_t));
    run->work_count -= end - kept;
    if (run->work_count)
        run->oldest_ms = run->work[0].received_ms;
}

/* --- connection management --- */

static void s_schedule_reconnect(s_run_t *run)
{
    run->next_connect = report_clock_ms() + report_backoff_next(&run->backoff);
}

/* A transient failure (lock or statement timeout, serialization, deadlock): the batch was
 * rolled back; keep it and try again after a jittered back-off. */
static void s_retry_later(s_run_t *run, size_t count)
{
    run->stats.retries++;
    s_schedule_reconnect(run);
    log_warn("batch rolled back, will retry", "sqlstate=%s error=%s updates=%zu retry_ms=%lld",
             report_db_sqlstate(run->db), report_logq(report_db_error(run->db)), count,
             (long long)run->backoff.last_ms);
}

static void s_connection_lost(s_run_t *run)
{
    if (report_db_wait_expired(run->db) && !run->stalled) {
        run->stalled = true;
        log_warn("database stopped answering, silent to collectors until a commit",
                 "error=%s held=%zu", report_logq(report_db_error(run->db)), run->work_count);
    }
    if (run->stats.db_up)
        log_warn("database connection lost", "sqlstate=%s error=%s held=%zu",
                 report_db_sqlstate(run->db), report_logq(report_db_error(run->db)),
                 run->work_count);
    report_db_disconnect(run->db);
    run->stats.db_up = false;
    report_db_where(run->db, &run->stats.db_where);
    s_schedule_reconnect(run);
}

static bool s_setting_off(report_db_t *db, const char *name)
{
    char *v = report_db_show(db, name);
    bool off = v && strcmp(v, "off") == 0;
    free(v);
    return off;
}

static int64_t s_wait_bound(const report_store_config_t *cfg)
{
    if (cfg->db_wait_max_ms > 0)
        return cfg->db_wait_max_ms;
    return cfg->statement_timeout_ms > 0 ? cfg->statement_timeout_ms + 2000 : 60000;
}

/* Connects if needed and it is time to try. 0 if connected. */
static int s_db_ensure(s_run_t *run)
{
    if (report_db_connected(run->db))
        return 0;
    if (report_clock_ms() < run->next_connect)
        return -1;
    if (report_db_connect(run->db) != 0) {
        bool first = run->stats.db_up || !run->ever_connected;
        run->stats.db_up = false;
        s_schedule_reconnect(run);
        if (first)
            log_warn("cannot connect to database", "error=%s retry_ms=%lld",
                     report_logq(report_db_error(run->db)), (long long)run->backoff.last_ms);
        return -1;
    }
    if (s_setting_off(run->db, "fsync") || s_setting_off(run->db, "synchronous_commit")) {
        run->stats.refused_durability = true;
        if (!run->cfg->allow_unsafe_durability) {
            log_error("refusing to run: the server does not make commits durable",
                      "fsync_or_synchronous_commit=off hint=%s",
                      report_logq("set fsync=on and synchronous_commit=on"));
            run->fatal = true;
            report_db_disconnect(run->db);
            return -1;
        }
        log_warn("DEVELOPMENT MODE: durability is off on the server, acknowledged updates may "
                 "be lost",
                 "allow_unsafe_durability=true");
    }
    /* Migrations may take long: only the conninfo's keepalives bound them. */
    report_db_set_wait_bound(run->db, 0);
    int migrated = run->cfg->migrate ? report_db_migrate(run->db) : 0;
    report_db_set_wait_bound(run->db, s_wait_bound(run->cfg));
    if (migrated != 0) {
        s_connection_lost(run);
        return -1;
    }
    /* after the migrations, which may take longer */
    if (report_db_bound_session(run->db, run->cfg->lock_timeout_ms, run->cfg->statement_timeout_ms,
                                run->cfg->idle_in_transaction_timeout_ms) != 0) {
        s_connection_lost(run);
        return -1;
    }
    if (s_catalog_load(run) != 0) {
        s_connection_lost(run);
        return -1;
    }
    if (run->ever_connected)
        run->stats.reconnects++;
    run->ever_connected = true;
    run->stats.db_up = true;
    report_db_where(run->db, &run->stats.db_where);
    report_backoff_reset(&run->backoff);
    char *where = report_db_scrub(run->cfg->db);
    log_info("database connected", "db=%s server=%s units=%zu areas=%zu indicators=%zu",
             report_logq(where), report_logq(run->stats.db_where.server), run->units.count,
             run->areas.count, run->indicators.count);
    free(where);
    return 0;
}

/* Refuses, before any SQL, an update naming codes the catalogue does not hold. */
static void s_check_catalog(s_run_t *run, s_work_t *w)
{
    report_update_t *u = w->update;
    report_reason_t reason = REPORT_REASON_none;
    char bad[80] = "";
    if (!s_codes_has(&run->units, u->unit_code))
        reason = REPORT_REASON_unknown_unit, snprintf(bad, sizeof bad, "%s", u->unit_code);
    else if (!s_codes_has(&run->areas, u->area_code))
        reason = REPORT_REASON_unknown_area, snprintf(bad, sizeof bad, "%s", u->area_code);
    for (size_t k = 0; reason == REPORT_REASON_none && k < u->indicator_count; k++)
        if (!s_codes_has(&run->indicators, u->indicators[k].code))
            reason = REPORT_REASON_unknown_indicator,
            snprintf(bad, sizeof bad, "%s", u->indicators[k].code);
    if (reason == REPORT_REASON_none)
        reason = s_check_placeholders(run, u->text, bad, sizeof bad);
    for (size_t k = 0; reason == REPORT_REASON_none && k < u->sub_item_count; k++)
        reason = s_check_placeholders(run, u->sub_items[k], bad, sizeof bad);
    if (reason == REPORT_REASON_none)
        return;
    report_reply_set(&w->reply, u->update_id, REPORT_OUTCOME_REJECTED, reason, "%s: %s",
                     report_reason_name(reason), bad);
    w->answered = true;
    uint64_t suppressed;
    if (report_ratelimit_allow(&run->refusal_log, &suppressed))
        log_info("update refused", "unit=%s update_id=%s reason=%s detail=%s suppressed=%llu",
                 u->unit_code, u->update_id, report_reason_name(reason), report_logq(bad),
                 (unsigned long long)suppressed);
    s_dead_push(run, reason, w->reply.message, u->unit_code, u->update_id, w->payload,
                w->payload_size, w->payload_size);
}

/* Drops the first count dead letters (written to the table). */
static void s_dead_written(s_run_t *run, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(run->dead[i].payload);
    memmove(run->dead, run->dead + count, (run->dead_count - count) * sizeof(s_dead_t));
    run->dead_count -= count;
    run->stats.dead_letters += count;
}

/* Commits members in one transaction, with the dead letters held when with_dead: the
 * statements go in one pipeline (one round trip; the transaction commits at its end), and
 * their results decide each member (STORED, DUPLICATE or REJECTED id_conflict; an
 * id_conflict's dead letter goes with the next transaction). 0, or -1 with everything rolled
 * back. */
static int s_commit(s_run_t *run, size_t *members, size_t count, bool with_dead)
{
    for (size_t i = 0; i < count; i++)
        memset(&run->work[members[i]].reply, 0, sizeof(report_reply_t)); /* outcome NONE */
    size_t dead_before = run->dead_count;
    size_t dead_sent = with_dead ? dead_before : 0;
    s_txn_t *t = &run->txn;
    s_txn_reset(t);
    s_batch_t batch = {run, members, count};
    report_db_statement_t st[4];
    size_t n = 0;
    if (count) {
        s_build_updates(run, members, count, t);
        st[n++] = (report_db_statement_t){S_INSERT_SQL, S_UPDATE_COLS + 5, t->insert,
                                          s_inserted_row, &batch};
        st[n++] = (report_db_statement_t){S_EXISTING_SQL, 2, t->existing, s_existing_row, &batch};
    }
    if (dead_sent) {
        s_build_dead(run, dead_sent, t);
        st[n++] = (report_db_statement_t){S_DEAD_SQL, S_DEAD_COLS, t->dead_params, NULL, NULL};
        st[n++] = (report_db_statement_t){S_DEAD_PRUNE_SQL, 1, t->prune, NULL, NULL};
    }
    int rc = report_db_pipeline(run->db, st, n);
    if (rc != 0) {
        s_dead_truncate(run, dead_before); /* id_conflicts' letters: decided again on retry */
        return -1;
    }
    s_dead_written(run, dead_sent);
    return 0;
}

static void s_mark_committed(s_run_t *run, size_t *members, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        s_work_t *w = &run->work[members[i]];
        if (w->reply.outcome == REPORT_OUTCOME_STORED)
            report_reply_set(&w->reply, w->update->update_id, REPORT_OUTCOME_STORED,
                             REPORT_REASON_none, "committed");
        else if (w->reply.outcome == REPORT_OUTCOME_DUPLICATE)
            report_reply_set(&w->reply, w->update->update_id, REPORT_OUTCOME_DUPLICATE,
                             REPORT_REASON_none, "this update was stored before");
        else if (w->reply.outcome == REPORT_OUTCOME_NONE) {
            /* Neither inserted nor found: cannot happen without a DELETE. Not answered: it
             * goes with the next transaction. */
            run->stats.retries++;
            log_warn("update neither inserted nor found, tried again", "unit=%s update_id=%s",
                     w->update->unit_code, w->update->update_id);
            continue;
        }
        /* else REJECTED id_conflict, with its message */
        w->answered = true;
    }
}

/* How long a batch whose every update the database refuses with the same SQLSTATE is
 * retried before they are refused (a poison batch must not hold the store for ever). */
#define S_ALIKE_GRACE_MS 60000

/* Commits one chunk (at most chunk_limit updates) in one transaction. 0, or -1 when the
 * connection was lost or the failure was transient (what is not decided yet is kept and
 * tried again after a back-off; nothing is refused for it). */
/* The bookkeeping of a transaction that committed (count updates, begun at t0). */
static void s_committed(s_run_t *run, size_t *members, size_t count, int64_t t0)
{
    s_mark_committed(run, members, count);
    run->stats.batches++;
    int64_t took = report_clock_ms() - t0;
    report_histogram_observe(&run->stats.batch_size, (double)count);
    report_histogram_observe(&run->stats.commit_seconds, (double)took / 1000.0);
    run->stats.last_commit_ms = report_wall_ms();
    report_backoff_reset(&run->backoff);
    run->stalled = false;
    run->alike_since = 0;
    /* back towards batch_max after a halving, by an eighth per commit */
    if (run->chunk_limit < (size_t)run->cfg->batch_max) {
        run->chunk_limit += run->chunk_limit / 8 + 1;
        if (run->chunk_limit > (size_t)run->cfg->batch_max)
            run->chunk_limit = (size_t)run->cfg->batch_max;
    }
    log_debug("batch committed", "updates=%zu ms=%lld", count, (long long)took);
}

/* The batch was refused for what a row carries (SQLSTATE class 22, 23 or 54): finds the row
 * by committing one by one, so one bad update cannot hold back the others. 0, or -1 as
 * s_commit_chunk. */
static int s_commit_one_by_one(s_run_t *run, size_t *members, size_t count)
{
    log_warn("batch refused, retrying one by one", "sqlstate=%s error=%s updates=%zu",
             report_db_sqlstate(run->db), report_logq(report_db_error(run->db)), count);
    if (s_catalog_load(run) != 0) {
        s_connection_lost(run);
        return -1;
    }
    typedef char s_state_t[6];
    s_state_t *states = report_calloc(count, sizeof(s_state_t));
    size_t refused = 0;
    bool alike = true;
    for (size_t i = 0; i < count; i++) {
        if (s_commit(run, &members[i], 1, false) == 0) {
            s_mark_committed(run, &members[i], 1);
        } else if (report_db_connection_lost(run->db)) {
            free(states);
            s_connection_lost(run);
            return -1;
        } else if (report_db_retryable(run->db)) {
            /* The ones committed so far are answered with the rest, after the retry. */
            free(states);
            s_retry_later(run, count - i);
            return -1;
        } else {
            snprintf(states[i], sizeof states[i], "%s", report_db_sqlstate(run->db));
            alike = alike && (refused == 0 || strcmp(states[i], states[i - 1]) == 0);
            refused++;
        }
    }
    /* Every update of the batch refused for the same reason: that says more about the
     * database (a constraint or a setting that every row runs into) than about the rows, so
     * it is taken as transient for S_ALIKE_GRACE_MS before anything is refused for it. */
    int64_t now = report_clock_ms();
    if (count > 1 && refused == count && alike &&
        (run->alike_since == 0 || now - run->alike_since < S_ALIKE_GRACE_MS)) {
        if (run->alike_since == 0)
            run->alike_since = now;
        log_warn("every update of the batch refused alike, taken as transient", "sqlstate=%s",
                 states[0]);
        free(states);
        s_retry_later(run, count);
        return -1;
    }
    run->alike_since = 0;
    for (size_t i = 0; i < count; i++) {
        s_work_t *w = &run->work[members[i]];
        if (!states[i][0])
            continue;
        report_reply_set(&w->reply, w->update->update_id, REPORT_OUTCOME_REJECTED,
                         REPORT_REASON_store_refused, "database refused the update (SQLSTATE %s)",
                         states[i]);
        w->answered = true;
        s_dead_push(run, REPORT_REASON_store_refused, w->reply.message, w->update->unit_code,
                    w->update->update_id, w->payload, w->payload_size, w->payload_size);
    }
    free(states);
    if (s_commit(run, NULL, 0, true) != 0) {
        run->stats.dead_letters_dropped += run->dead_count;
        s_dead_clear(run);
    }
    run->stats.batches++;
    run->stats.last_commit_ms = report_wall_ms();
    run->stalled = false;
    return 0;
}

static int s_commit_chunk(s_run_t *run, size_t *members, size_t count)
{
    int64_t t0 = report_clock_ms();
    if (s_commit(run, members, count, true) == 0) {
        s_committed(run, members, count, t0);
        return 0;
    }
    if (report_db_connection_lost(run->db)) {
        s_connection_lost(run);
        return -1;
    }
    if (report_db_retryable(run->db)) {
        /* A batch that ran past statement_timeout would do so again: halve it. */
        if (strcmp(report_db_sqlstate(run->db), "57014") == 0 && count > 1 &&
            run->chunk_limit > count / 2) {
            run->chunk_limit = count / 2;
            log_warn("batch ran past statement_timeout, halving it", "updates=%zu now=%zu", count,
                     run->chunk_limit);
        }
        s_retry_later(run, count);
        return -1;
    }
    /* A row the database refused for what it carries (anything else was retried above). */
    return s_commit_one_by_one(run, members, count);
}

/* Commits the oldest updates held, at most chunk_limit of them and batch_max_bytes of
 * payload (at least one), in one transaction, and answers them; with nothing to commit, the
 * dead letters alone. What arrives meanwhile (received while the statements run) waits for
 * the next transaction. */
static void s_flush_batch(s_run_t *run)
{
    if (s_db_ensure(run) != 0)
        return;
    if (report_clock_ms() - run->catalog_at > run->cfg->catalog_refresh_ms &&
        s_catalog_load(run) != 0) {
        s_connection_lost(run);
        return;
    }
    size_t max_bytes = run->cfg->batch_max_bytes > 0 ? (size_t)run->cfg->batch_max_bytes : SIZE_MAX;
    size_t *members = report_calloc(run->work_count ? run->work_count : 1, sizeof(size_t));
    size_t end = 0, count = 0, bytes = 0;
    for (; end < run->work_count; end++) {
        s_work_t *w = &run->work[end];
        if (!w->answered)
            s_check_catalog(run, w);
        if (w->answered)
            continue;
        if (count >= run->chunk_limit || (count > 0 && bytes + w->payload_size > max_bytes))
            break;
        bytes += w->payload_size;
        members[count++] = end;
    }
    if (s_commit_chunk(run, members, count) == 0)
        s_answer_done(run, end);
    free(members);
}

static void s_flush(s_run_t *run)
{
    if (run->work_count == 0 && run->dead_count == 0)
        return;
    if (report_clock_ms() < run->next_connect) /* backing off after a failure */
        return;
    run->flushing = true;
    s_flush_batch(run);
    run->flushing = false;
    s_dead_take_held(run);
}

/* --- receiving --- */

static void s_receive(s_run_t *run, size_t link)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, run->links[link], ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        return;
    }
    bool more = zmq_msg_more(&msg);
    report_frame_t frame;
    int rc = more ? -1 : report_frame_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &frame);
    zmq_msg_close(&msg);
    while (more) {
        /* Not ours: drain the rest of the message. */
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, run->links[link], ZMQ_DONTWAIT) < 0)
            more = false;
        else
            more = zmq_msg_more(&msg);
        zmq_msg_close(&msg);
    }
    if (rc != 0) {
        log_warn("malformed frame from collector", "link=%zu", link);
        return;
    }
    if (frame.type == REPORT_FRAME_WORK) {
        run->stats.received++;
        s_work_t *w = &run->work[run->work_count++];
        memset(w, 0, sizeof *w);
        w->link = link;
        w->tag = frame.tag;
        w->incarnation = frame.incarnation;
        w->received_ms = report_clock_ms();
        w->payload = frame.update;
        w->payload_size = frame.update_size;
        frame.update = NULL;
        w->update = report_update_decode(w->payload, w->payload_size);
        if (report_sha256_hex(w->payload, w->payload_size, w->sha256) != 0)
            w->sha256[0] = '\0'; /* matches no stored hash: a resend is an id_conflict */
        /* The collector validated it; check again with wide bounds so that one bad row
         * (a bug or a rogue collector) cannot fail a whole batch. */
        report_limits_t wide;
        report_limits_default(&wide);
        wide.max_message_bytes = wide.max_text_bytes = SIZE_MAX;
        wide.max_sub_items = wide.max_indicators = wide.max_key_bytes = SIZE_MAX;
        wide.value_max = 1e15;
        report_refusal_t why;
        if (!w->update) {
            w->update = report_update_new();
            w->update->update_id = report_strdup("");
            report_reply_set(&w->reply, "", REPORT_OUTCOME_REJECTED, REPORT_REASON_malformed,
                             "store could not decode the update");
            w->answered = true;
        } else if (report_update_validate(&wide, w->update, &why) != 0) {
            /* the collector matches an answer on the update's id too */
            report_reply_set(&w->reply, w->update->update_id, REPORT_OUTCOME_REJECTED, why.reason,
                             "%s", why.message);
            w->answered = true;
        }
        if (run->work_count == 1)
            run->oldest_ms = w->received_ms;
    } else if (frame.type == REPORT_FRAME_DEAD_LETTER && run->flushing) {
        /* not into the transaction under way, which may roll back or be past its insert */
        s_dead_push_to(run, run->dead_in, &run->dead_in_count, frame.reply.reason,
                       frame.reply.message, frame.unit_code, frame.update_id, frame.payload,
                       frame.payload_len, frame.payload_size);
    } else if (frame.type == REPORT_FRAME_DEAD_LETTER) {
        s_dead_push(run, frame.reply.reason, frame.reply.message, frame.unit_code, frame.update_id,
                    frame.payload, frame.payload_len, frame.payload_size);
        if (run->work_count == 0)
            run->oldest_ms = report_clock_ms();
    }
    report_frame_clear(&frame);
}

/* Reads what the links polled readable hold, up to the room there is. */
static void s_receive_ready(s_run_t *run)
{
    size_t capacity = (size_t)run->cfg->capacity;
    for (size_t i = 0; i < run->link_count; i++) {
        while ((run->items[i].revents & ZMQ_POLLIN) && run->work_count < capacity &&
               report_readable(run->links[i]))
            s_receive(run, i);
    }
}

/* Polls the links (for work while there is room) and, when fd >= 0, the database's socket
 * (items[link_count]); else the stop event (a statement under way is finished first). The
 * result of zmq_poll. */
static int s_poll(s_run_t *run, int fd, long timeout_ms)
{
    bool room = run->work_count < (size_t)run->cfg->capacity;
    for (size_t i = 0; i < run->link_count; i++) {
        run->items[i] = (zmq_pollitem_t){.socket = run->links[i], .events = room ? ZMQ_POLLIN : 0};
    }
    int count = (int)run->link_count;
    run->items[count++] = (zmq_pollitem_t){.fd = fd >= 0 ? fd : report_actor_stop_fd(run->actor),
                                           .events = ZMQ_POLLIN};
    int n = zmq_poll(run->items, count, timeout_ms);
    if (n > 0)
        s_receive_ready(run);
    return n;
}

/* Called by the database wrapper while a statement runs, on this thread: heartbeats go on,
 * and so does receiving (decoding, checking and hashing the next transaction's updates while
 * the database works on this one). */
static int s_db_wait(void *arg, int fd, int timeout_ms)
{
    s_run_t *run = arg;
    if (report_clock_ms() >= run->next_heartbeat)
        s_heartbeat(run);
    int n = s_poll(run, fd, timeout_ms);
    if (n <= 0)
        return n;
    return (run->items[run->link_count].revents & ZMQ_POLLIN) ? 1 : 0;
}

static void s_publish_stats(s_run_t *run)
{
    run->stats.pending = run->work_count;
    report_actor_copy(run->actor, run->shared_stats, &run->stats, sizeof run->stats);
}

/* Loads the CURVE keys and opens a link to every collector listed (run->fatal if the keys
 * cannot be loaded). */
static void s_links_open(s_run_t *run)
{
    const report_store_config_t *cfg = run->cfg;
    report_client_keys_t keys;
    report_error_t err;
    if (report_client_keys_load(cfg->key, cfg->collector_key, cfg->insecure_plain, &keys, &err) !=
        0) {
        log_error("cannot load CURVE keys", "code=%s error=%s", err.code, report_logq(err.message));
        run->fatal = true;
    }
    if (cfg->insecure_plain)
        log_error("INSECURE: CURVE is off on the collector link", "insecure_plain=true hint=%s",
                  report_logq("development only"));
    char *endpoints = report_strdup(run->fatal ? "" : cfg->collectors);
    char *save = NULL;
    for (char *ep = strtok_r(endpoints, ", ", &save); ep; ep = strtok_r(NULL, ", ", &save)) {
        void *sock = zmq_socket(run->zctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
        int ivl = 100;
        zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
        int ivl_max = 2000;
        zmq_setsockopt(sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
        /* Every update held can need an answer at once: the pipes hold all of them. */
        int hwm = (int)cfg->capacity * 2 + 100;
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
        int sndtimeo = 2000;
        zmq_setsockopt(sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
        if (!keys.plain)
            report_curve_client(sock, keys.server_public, &keys.client);
        if (zmq_connect(sock, ep) != 0) {
            log_error("cannot connect to collector", "endpoint=%s error=%s", report_logq(ep),
                      report_logq(zmq_strerror(errno)));
            zmq_close(sock);
            continue;
        }
        run->links = report_realloc(run->links, (run->link_count + 1) * sizeof(void *));
        run->links[run->link_count++] = sock;
    }
    free(endpoints);
    memset(&keys, 0, sizeof keys);
}

/* The name in logs and rows: the configured one, else host-pid-N. */
static void s_name(s_run_t *run)
{
    const report_store_config_t *cfg = run->cfg;
    if (cfg->store_id && *cfg->store_id) {
        snprintf(run->store_id, sizeof run->store_id, "%s", cfg->store_id);
        return;
    }
    char host[40] = "store";
    gethostname(host, sizeof host - 1);
    /* Several stores may run in one process (tests, writers): number them. */
    static int instances;
    int n = __atomic_add_fetch(&instances, 1, __ATOMIC_RELAXED);
    snprintf(run->store_id, sizeof run->store_id, "%s-%d-%d", host, (int)getpid(), n);
}

/* One writer's life: set up, say whether it is ready, take and commit work until stopped or a
 * fatal error (logged; report_actor_ended then tells the store), tear down. */
static void s_run(s_run_t *run)
{
    const report_store_config_t *cfg = run->cfg;
    s_name(run);
    run->zctx = zmq_ctx_new();
    run->db = report_db_new(cfg->db);
    /* Heartbeats go on while a statement waits (a lock held by a frozen peer, say). */
    int64_t wait_ms = cfg->heartbeat_ms / 2 < 100 ? cfg->heartbeat_ms / 2 : 100;
    report_db_set_wait(run->db, (int)(wait_ms > 10 ? wait_ms : 10), s_db_wait, run);
    report_db_set_wait_bound(run->db, s_wait_bound(cfg));
    run->work = report_calloc((size_t)cfg->capacity, sizeof(s_work_t));
    run->dead = report_calloc((size_t)cfg->dead_letter_queue, sizeof(s_dead_t));
    run->dead_in = report_calloc((size_t)cfg->dead_letter_queue, sizeof(s_dead_t));
    report_backoff_init(&run->backoff, cfg->reconnect_min_ms, cfg->reconnect_max_ms);
    run->chunk_limit = cfg->batch_max > 0 ? (size_t)cfg->batch_max : 1;
    run->stats.capacity = (uint64_t)cfg->capacity;
    report_ratelimit_init(&run->refusal_log, 20, 1000);
    report_histogram_init_sizes(&run->stats.batch_size);
    report_histogram_init_seconds(&run->stats.commit_seconds);
    s_publish_stats(run);
    s_links_open(run);
    run->items = report_calloc(run->link_count + 1, sizeof(zmq_pollitem_t));
    if (run->link_count == 0)
        run->fatal = true;
    log_info("store starting", "store_id=%s collectors=%s batch_max=%lld batch_wait_ms=%lld",
             run->store_id, report_logq(cfg->collectors), (long long)cfg->batch_max,
             (long long)cfg->batch_wait_ms);
    /* Connect (and migrate) before taking work and before saying it is ready, so a
     * misconfigured server fails the start (a server merely down is retried). */
    s_db_ensure(run);
    report_actor_ready(run->actor, run->fatal ? -1 : 1);
    while (!report_actor_stopping(run->actor) && !run->fatal) {
        int64_t now = report_clock_ms();
        if (now >= run->next_heartbeat)
            s_heartbeat(run);
        int64_t timeout = run->next_heartbeat - now;
        if (run->work_count || run->dead_count) {
            int64_t due = run->oldest_ms + cfg->batch_wait_ms - now;
            if (now < run->next_connect) /* reconnecting or backing off */
                due = run->next_connect - now;
            if (due < timeout)
                timeout = due;
        }
        if (timeout < 0)
            timeout = 0;
        /* Reads what is there, up to the room we have, before deciding to commit; asleep
         * until then, or until the stop event. */
        if (s_poll(run, -1, (long)timeout) < 0 && errno != EINTR)
            break;
        now = report_clock_ms();
        bool full = run->work_count >= (size_t)cfg->batch_max;
        bool due =
            (run->work_count || run->dead_count) && now - run->oldest_ms >= cfg->batch_wait_ms;
        if (full || due)
            s_flush(run);
        s_publish_stats(run);
    }
    s_publish_stats(run);
    free(run->items);
    for (size_t i = 0; i < run->work_count; i++) {
        report_update_destroy(&run->work[i].update);
        free(run->work[i].payload);
    }
    s_dead_clear(run);
    s_dead_take_held(run);
    s_dead_clear(run);
    s_txn_free(&run->txn);
    free(run->work);
    free(run->dead);
    free(run->dead_in);
    s_codes_clear(&run->units);
    s_codes_clear(&run->areas);
    s_codes_clear(&run->indicators);
    for (size_t i = 0; i < run->link_count; i++)
        zmq_close(run->links[i]);
    free(run->links);
    report_db_destroy(&run->db);
    zmq_ctx_term(run->zctx);
    log_info("store stopped", "store_id=%s%s", run->store_id, run->fatal ? " fatal=true" : "");
}

/* One writer: an actor running s_run with its own session and links. */
typedef struct {
    report_store_config_t cfg; /* the store's, but for store_id */
    char store_id[80];
    report_actor_t actor;
    report_store_stats_t stats; /* published by the writer under the actor's lock */
    bool started;
} s_writer_t;

struct report_store_t {
    report_store_config_t cfg;
    s_writer_t *writers;
    size_t writer_count;
};

static void *s_thread(void *arg)
{
    s_writer_t *self = arg;
    s_run_t run;
    memset(&run, 0, sizeof run);
    run.cfg = &self->cfg;
    run.actor = &self->actor;
    run.shared_stats = &self->stats;
    s_run(&run);
    return NULL;
}

report_store_t *report_store_start(const report_store_config_t *cfg)
{
    report_store_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    report_settings_own(report_store_settings, &self->cfg);
    self->writer_count = cfg->writers > 1 ? (size_t)cfg->writers : 1;
    self->writers = report_calloc(self->writer_count, sizeof(s_writer_t));
    for (size_t i = 0; i < self->writer_count; i++) {
        s_writer_t *w = &self->writers[i];
        w->cfg = self->cfg;
        if (self->writer_count > 1 && *self->cfg.store_id)
            snprintf(w->store_id, sizeof w->store_id, "%s-w%zu", self->cfg.store_id, i + 1);
        else
            snprintf(w->store_id, sizeof w->store_id, "%s", self->cfg.store_id);
        w->cfg.store_id = w->store_id;
        /* returns once the writer is ready (connected, or retrying a server that is down) */
        w->started = report_actor_start(&w->actor, s_thread, w) > 0;
        if (!w->started) {
            report_actor_destroy(&w->actor);
            report_store_stop(&self);
            return NULL;
        }
    }
    return self;
}

void report_store_stop(report_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_store_t *self = *self_p;
    for (size_t i = 0; i < self->writer_count; i++) {
        s_writer_t *w = &self->writers[i];
        if (!w->started)
            continue;
        report_actor_stop(&w->actor);
        report_actor_destroy(&w->actor);
    }
    free(self->writers);
    report_settings_free(report_store_settings, &self->cfg);
    free(self);
    *self_p = NULL;
}

bool report_store_running(report_store_t *self)
{
    for (size_t i = 0; i < self->writer_count; i++)
        if (report_actor_ended(&self->writers[i].actor))
            return false;
    return true;
}

static void s_histogram_add(report_histogram_t *sum, const report_histogram_t *h)
{
    for (size_t b = 0; b < h->bucket_count && b < REPORT_HISTOGRAM_MAX_BUCKETS; b++)
        sum->counts[b] += h->counts[b];
    sum->count += h->count;
    sum->sum += h->sum;
}

void report_store_stats(report_store_t *self, report_store_stats_t *out)
{
    for (size_t i = 0; i < self->writer_count; i++) {
        s_writer_t *w = &self->writers[i];
        report_store_stats_t st;
        report_actor_copy(&w->actor, &st, &w->stats, sizeof st);
        if (i == 0) {
            *out = st;
            continue;
        }
        out->received += st.received;
        out->stored += st.stored;
        out->duplicates += st.duplicates;
        out->rejected += st.rejected;
        out->batches += st.batches;
        out->reconnects += st.reconnects;
        out->retries += st.retries;
        out->dead_letters += st.dead_letters;
        out->dead_letters_dropped += st.dead_letters_dropped;
        out->pending += st.pending;
        out->capacity += st.capacity;
        out->db_up = out->db_up && st.db_up;
        out->refused_durability = out->refused_durability || st.refused_durability;
        if (st.last_commit_ms > out->last_commit_ms)
            out->last_commit_ms = st.last_commit_ms;
        report_db_where_add(&out->db_where, &st.db_where);
        s_histogram_add(&out->batch_size, &st.batch_size);
        s_histogram_add(&out->commit_seconds, &st.commit_seconds);
    }
}
