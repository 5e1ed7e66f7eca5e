/* The aggregator: compile, publish (database first, then PUB), catch-up.
 *
 * Why the database first: a report is "published" when its frozen version is committed;
 * the PUB message is only a fast notification. A subscriber that was offline, joined late
 * or lost a message to PUB's high-water mark asks the catch-up endpoint for everything
 * after the last sequence number it saved, so delivery never depends on PUB timing. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_actor.h"
#include "report_backoff.h"
#include "report_catalogue.h"
#include "report_check.h"
#include "report_codec.h"
#include "report_compile.h"
#include "report_provenance.h"
#include "report_db.h"
#include "report_dead_letters.h"
#include "report_leader.h"
#include "report_log.h"
#include "report_monitor.h"
#include "report_pdf.h"
#include "report_period.h"
#include "report_rate.h"
#include "report_sha256.h"
#include "report_signed.h"
#include "report_util.h"
#include "report_desk.h"
#include "report_zap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* Database reconnects: from 10 ms, doubling to 2 s (the aggregator answers an operator who
 * waits, so it does not back off as far as the store). */
#define S_RECONNECT_MIN_MS 10
#define S_RECONNECT_MAX_MS 2000

/* An aggregator that lost the leadership lets this many leader checks pass before it tries
 * to take it again: the standby, which checks all along, takes over first. */
#define S_LEADER_HOLDOFF_CHECKS 5

#define F(field) offsetof(report_aggregator_config_t, field)
const report_setting_t report_aggregator_settings[] = {
    {"db", REPORT_SETTING_STRING, "dbname=report", F(db), 0, 0,
     "libpq connection string of the database"},
    {"control-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5574", F(control_endpoint), 0, 0,
     "where reportctl compile/publish connect"},
    {"publish-endpoint", REPORT_SETTING_STRING, "tcp://*:5572", F(publish_endpoint), 0, 0,
     "PUB socket for published reports"},
    {"catchup-endpoint", REPORT_SETTING_STRING, "tcp://*:5573", F(catchup_endpoint), 0, 0,
     "catch-up endpoint for subscribers that missed reports"},
    {"desk-endpoint", REPORT_SETTING_STRING, "", F(desk_endpoint), 0, 0,
     "ROUTER for the units' desks (reportctl desk), e.g. tcp://*:5575; \"\" = none"},
    {"catchup-max", REPORT_SETTING_INT, "100", F(catchup_max), 1, 100000,
     "reports per catch-up answer"},
    {"max-request-bytes", REPORT_SETTING_INT, "65536", F(max_request_bytes), 256, 16777216,
     "largest control or catch-up request"},
    {"hwm", REPORT_SETTING_INT, "1000", F(hwm), 1, 1000000,
     "ZeroMQ high-water mark per peer, messages"},
    {"migrate", REPORT_SETTING_BOOL, "true", F(migrate), 0, 0,
     "apply database migrations at start"},
    {"status-period", REPORT_SETTING_STRING, "", F(status_period), 0, 0,
     "YYYY-MM whose late units are watched (default: the current period)"},
    {"late-refresh-ms", REPORT_SETTING_INT, "30000", F(late_refresh_ms), 1000, 86400000,
     "how often late units are looked up"},
    {"lock-timeout-ms", REPORT_SETTING_INT, "5000", F(lock_timeout_ms), 0, 3600000,
     "longest wait for a database lock (e.g. a publish behind a stuck session), then the "
     "request is answered db_retry (0: no bound)"},
    {"statement-timeout-ms", REPORT_SETTING_INT, "60000", F(statement_timeout_ms), 0, 3600000,
     "longest a statement may run (0: no bound)"},
    {"idle-in-transaction-timeout-ms", REPORT_SETTING_INT, "60000",
     F(idle_in_transaction_timeout_ms), 0, 3600000,
     "the server ends a session idle this long inside a transaction (0: no bound)"},
    {"ghostscript", REPORT_SETTING_STRING, "gs", F(ghostscript), 0, 0,
     "Ghostscript, which makes each published PDF a PDF/A-2b (Debian: ghostscript)"},
    {"pdf-timeout-ms", REPORT_SETTING_INT, "60000", F(pdf_timeout_ms), 1000, 600000,
     "longest the PDF/A conversion of one version may take; past it the publish is refused"},
    {"signer-nssdb", REPORT_SETTING_STRING, "", F(signer_nssdb), 0, 0,
     "NSS database (pdfsig -nssdir) holding the CA of the agency's signing certificates: a "
     "signed PDF whose certificate does not chain to it is refused (\"\": recorded, not required)"},
    {"leader-check-ms", REPORT_SETTING_INT, "1000", F(leader_check_ms), 100, 60000,
     "how often the leader checks that its session still holds the leadership, and a standby "
     "tries to take it over"},
    {"instance-name", REPORT_SETTING_STRING, "", F(instance_name), 0, 0,
     "this aggregator's name in the leadership record (\"\": HOSTNAME:PID)"},
    {"max-signed-bytes", REPORT_SETTING_INT, "33554432", F(max_signed_bytes), 65536, 1073741824,
     "largest signed PDF attach-signed accepts (the control socket's bound)"},
    {"deadline-time-zone", REPORT_SETTING_STRING, "Asia/Ho_Chi_Minh", F(deadline_time_zone), 0, 0,
     "time zone (IANA name, as PostgreSQL knows it) whose day ends a deadline: a first commit "
     "before 00:00 of the day after deadline_day is on time"},
    {"rate-periods", REPORT_SETTING_INT, "6", F(rate_periods), 0, REPORT_RATE_MAX_PERIODS - 1,
     "periods before the watched one shown in the reporting rate"},
    REPORT_SETTINGS_INCLUDE(report_server_settings, F(server)),
    REPORT_SETTINGS_END};
#undef F

void report_aggregator_config_default(report_aggregator_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    report_settings_defaults(report_aggregator_settings, cfg);
}

struct report_aggregator_t {
    report_aggregator_config_t cfg;
    report_actor_t actor; /* the thread, its start-up handshake, the stats lock */
    char control_endpoint[256], publish_endpoint[256], catchup_endpoint[256], desk_endpoint[256];
    report_aggregator_stats_t stats, shared_stats;
    void *zctx;
    void *control, *pub, *catchup, *desk;
    report_db_t *db;
    int64_t next_connect;
    report_backoff_t backoff;          /* database reconnects */
    report_server_t *server;           /* keys, keyrings (recipients, operators), ZAP */
    report_monitor_t *monitor;         /* subscribers on PUB */
    report_monitor_t *catchup_monitor; /* subscribers on catch-up */
    int64_t next_late_check;
    report_leader_t leader; /* only the leader publishes (report_leader.h) */
    int64_t next_leader_check;
    char name[128]; /* in the leadership record */
};

/* The identity of the peer that sent msg in keyring, or "" when CURVE is off; NULL if its
 * key is not (or no longer) enrolled. */
static const char *s_peer(report_keyring_t *keyring, zmq_msg_t *msg)
{
    if (!keyring)
        return "";
    report_keyring_refresh(keyring);
    return report_keyring_identity(keyring, report_curve_peer(msg));
}

/* --- database --- */

static int s_db_ensure(report_aggregator_t *self)
{
    if (report_db_connected(self->db))
        return 0;
    if (report_clock_ms() < self->next_connect)
        return -1;
    if (report_db_connect(self->db) != 0 || (self->cfg.migrate && report_db_migrate(self->db)) ||
        report_db_bound_session(self->db, self->cfg.lock_timeout_ms, self->cfg.statement_timeout_ms,
                                self->cfg.idle_in_transaction_timeout_ms) != 0) {
        log_warn("cannot use database", "error=%s", report_logq(report_db_error(self->db)));
        report_db_disconnect(self->db);
        self->next_connect = report_clock_ms() + report_backoff_next(&self->backoff);
        self->stats.db_up = false;
        report_db_where(self->db, &self->stats.db_where);
        return -1;
    }
    report_backoff_reset(&self->backoff);
    self->stats.db_up = true;
    report_db_where(self->db, &self->stats.db_where);
    self->next_leader_check = 0; /* a new session: take the leadership at once if it is free */
    return 0;
}

static void s_db_failed(report_aggregator_t *self)
{
    if (report_db_connection_lost(self->db)) {
        report_leader_lost(&self->leader, report_db_error(self->db));
        report_db_disconnect(self->db);
        self->stats.db_up = false;
        report_db_where(self->db, &self->stats.db_where);
    }
}

/* The leadership, checked every leader-check-ms on the service's own session (the lock goes
 * with it): the leader verifies it, a standby tries to take it. */
static void s_check_leader(report_aggregator_t *self)
{
    self->next_leader_check = report_clock_ms() + self->cfg.leader_check_ms;
    if (s_db_ensure(self) != 0) {
        report_leader_lost(&self->leader, "no database session");
    } else if (report_leader_check(&self->leader, self->db, self->name) != 0) {
        s_db_failed(self);
    }
}

/* The leadership into the stats (the fence may have changed it during a request). */
static void s_leader_stats(report_aggregator_t *self)
{
    report_aggregator_stats_t *st = &self->stats;
    st->leader = self->leader.leader;
    st->leader_term = self->leader.leader ? self->leader.term : 0;
    st->leader_since_ms = self->leader.since_ms;
    st->leader_changes = self->leader.changes;
    st->leader_losses = self->leader.losses;
    snprintf(st->leader_holder, sizeof st->leader_holder, "%s", self->leader.holder);
}

/* The answer to a failed publish (rolled back: nothing was published). A transient failure
 * (a lock held too long by another session, a timeout, the connection lost) says nothing
 * about the request: "db_retry", and running the same command again is safe. */
static void s_db_failure(report_aggregator_t *self, report_error_t *err)
{
    if (strcmp(report_db_sqlstate(self->db), "23505") == 0) {
        report_error_set(err, "duplicate_number", "%s", report_db_error(self->db));
    } else if (report_db_connection_lost(self->db)) {
        /* Lost during COMMIT, the commit may have happened: only the database knows. */
        report_error_set(
            err, "db_retry",
            "the connection to the database was lost (SQLSTATE %s); if it was lost during "
            "the commit the report may be published: run the same command again, which "
            "publishes it or answers duplicate_number if it already was",
            report_db_sqlstate(self->db));
    } else if (report_db_retryable(self->db)) {
        report_error_set(err, "db_retry",
                         "the database is busy (SQLSTATE %s); nothing was published, run the same "
                         "command again",
                         report_db_sqlstate(self->db));
    } else {
        report_error_set(err, "db_error", "%s", report_db_error(self->db));
    }
}

/* --- replies --- */

static void s_send_reply(void *sock, zmq_msg_t *id, const uint8_t *buf, size_t size)
{
    zmq_msg_t copy;
    zmq_msg_init(&copy);
    zmq_msg_copy(&copy, id);
    if (zmq_msg_send(&copy, sock, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&copy);
        return;
    }
    zmq_send(sock, buf, size, ZMQ_DONTWAIT);
}

static void s_control_reply(report_aggregator_t *self, zmq_msg_t *id,
                            const report_control_reply_t *reply)
{
    size_t size;
    uint8_t *buf = report_control_reply_encode(reply, &size);
    s_send_reply(self->control, id, buf, size);
    free(buf);
}

/* Refuses a request with code and message, and the format check's findings if any. */
static void s_refuse(report_aggregator_t *self, zmq_msg_t *id, const char *code,
                     const char *message, char **findings, size_t finding_count)
{
    report_control_reply_t reply = {0};
    reply.error_code = (char *)code;
    reply.message = (char *)message;
    reply.findings = findings;
    reply.finding_count = finding_count;
    s_control_reply(self, id, &reply);
    log_info("request refused", "error=%s detail=%s findings=%zu", code, report_logq(message),
             finding_count);
    self->stats.refused_requests++;
}

static void s_error(report_aggregator_t *self, zmq_msg_t *id, const char *code, const char *message)
{
    s_refuse(self, id, code, message, NULL, 0);
}

static char *s_render(const report_doc_t *doc, const char *format)
{
    if (!format || !*format || !strcmp(format, "text"))
        return report_render_text(doc);
    if (!strcmp(format, "markdown"))
        return report_render_markdown(doc);
    if (!strcmp(format, "html"))
        return report_render_html(doc);
    if (!strcmp(format, "json"))
        return report_render_json(doc);
    return NULL;
}

/* The first column of the first row, as a new string. */
static int s_first_text(void *arg, const PGresult *res, int row)
{
    char **out = arg;
    if (!*out)
        *out = report_strdup(PQgetvalue(res, row, 0));
    return 0;
}

/* The format check of doc, and with number_taken, for a numbered document, whether its number
 * is already used in the year of its date (the database knows; a publish learns it as
 * duplicate_number when it reserves the number); "rule: message" lines into *findings. */
static size_t s_check(report_aggregator_t *self, const report_doc_t *doc, bool number_taken,
                      char ***findings)
{
    report_check_t check;
    report_check_document(doc, &check);
    size_t n = check.count;
    *findings = report_calloc(n + 2, sizeof **findings);
    for (size_t i = 0; i < n; i++) {
        char line[320];
        report_finding_format(&check.findings[i], line, sizeof line);
        (*findings)[i] = report_strdup(line);
    }
    if (check.dropped)
        (*findings)[n++] = report_sprintf("more: %zu finding(s) not listed", check.dropped);
    char *taken = NULL;
    if (number_taken && doc->number > 0 && doc->doc_date && *doc->doc_date) {
        char number[16];
        snprintf(number, sizeof number, "%d", doc->number);
        const char *params[] = {doc->agency_code, doc->doc_date, number};
        if (report_db_query(self->db,
                            "SELECT format('%s-%s version %s', year, lpad(month::text, 2, '0'),"
                            " version) FROM published_reports WHERE agency_code = $1"
                            " AND doc_year = extract(year FROM $2::date) AND number = $3::int",
                            3, params, s_first_text, &taken) == 0 &&
            taken)
            (*findings)[n++] = report_sprintf("number_symbol: number %d of the year is already "
                                              "used by %s",
                                              doc->number, taken);
    }
    free(taken);
    return n;
}

static void s_take_lists(report_control_reply_t *reply, report_compiled_t *compiled)
{
    reply->missing_units = compiled->missing_units;
    reply->missing_count = compiled->missing_count;
    reply->warnings = compiled->warnings;
    reply->warning_count = compiled->warning_count;
    compiled->missing_units = compiled->warnings = NULL;
    compiled->missing_count = compiled->warning_count = 0;
}

/* What a compile answers in format f: a rendering, the draft as a PDF (plain: only a published
 * version is made PDF/A), or the format check's findings. 0, or -1 after answering the error. */
static int s_compile_output(report_aggregator_t *self, zmq_msg_t *id, const char *f,
                            const report_compiled_t *compiled, report_control_reply_t *reply)
{
    const report_doc_t *doc = compiled->doc;
    if (strcmp(f, "pdf") == 0) {
        int pages;
        report_error_t err;
        if (report_render_pdf(doc, &reply->pdf, &reply->pdf_size, &pages, &err) != 0) {
            s_error(self, id, err.code, err.message);
            return -1;
        }
        reply->body = report_sprintf("PDF, %d page(s), %zu bytes", pages, reply->pdf_size);
    } else if (strcmp(f, "check") == 0) {
        reply->finding_count = s_check(self, doc, true, &reply->findings);
        reply->body = report_sprintf("%zu finding(s)", reply->finding_count);
    } else if (compiled->sources) {
        reply->body = strcmp(f, "json") == 0 ? report_provenance_render_json(compiled)
                                             : report_provenance_render_html(compiled);
    } else {
        reply->body = s_render(doc, f);
    }
    return 0;
}

static void s_compile(report_aggregator_t *self, zmq_msg_t *id, const report_control_request_t *req)
{
    const char *f = req->format;
    if (*f && strcmp(f, "text") && strcmp(f, "markdown") && strcmp(f, "html") &&
        strcmp(f, "json") && strcmp(f, "pdf") && strcmp(f, "check")) {
        s_error(self, id, "bad_format", "format must be text, markdown, html, json, pdf or check");
        return;
    }
    if (req->sources && strcmp(f, "html") && strcmp(f, "json")) {
        s_error(self, id, "bad_format", "sources are shown in the html and json formats only");
        return;
    }
    /* the office's draft: json always carries its sources, html when asked */
    report_compile_request_t creq = {req->agency_code,
                                     req->year,
                                     req->month,
                                     req->number,
                                     req->date,
                                     req->basis,
                                     req->sources || strcmp(f, "json") == 0};
    report_compiled_t compiled;
    int64_t t0 = report_clock_ms();
    if (report_compile(self->db, &creq, &compiled) != 0) {
        s_db_failed(self);
        s_error(self, id, compiled.error.code, compiled.error.message);
        report_compiled_clear(&compiled);
        return;
    }
    report_control_reply_t reply = {0};
    reply.ok = true;
    if (s_compile_output(self, id, f, &compiled, &reply) != 0) {
        report_control_reply_clear(&reply);
        report_compiled_clear(&compiled);
        return;
    }
    s_take_lists(&reply, &compiled);
    s_control_reply(self, id, &reply);
    self->stats.compiled++;
    report_histogram_observe(&self->stats.compile_seconds,
                             (double)(report_clock_ms() - t0) / 1000.0);
    log_info("report compiled",
             "agency=%s period=%04d-%02d format=%s missing_units=%zu sources=%s changed=%zu "
             "typed_numbers=%zu ms=%lld",
             compiled.doc->agency_code, req->year, req->month, *f ? f : "text", reply.missing_count,
             creq.sources ? "yes" : "no", report_provenance_changed_count(compiled.sources),
             report_provenance_typed_count(compiled.sources), (long long)(report_clock_ms() - t0));
    report_control_reply_clear(&reply);
    report_compiled_clear(&compiled);
}

/* --- publish --- */

static int s_published_row(void *arg, const PGresult *res, int row)
{
    report_published_t *r = arg;
    r->seq = strtoull(PQgetvalue(res, row, 0), NULL, 10);
    r->published_at_ms = strtoll(PQgetvalue(res, row, 1), NULL, 10);
    return 0;
}

/* A publication under way: the request, the compiled draft, the version being made, and
 * why it failed (code and message) if it did. */
typedef struct {
    const report_control_request_t *req;
    report_doc_t *doc;
    report_published_t *r;
    int doc_year;
    char year_s[16], month_s[16], number_s[16], doc_year_s[16];
    char **findings; /* of the format check */
    size_t finding_count;
    report_error_t error;
} s_publication_t;

/* Opens the transaction and reserves the publication in it: one publisher at a time per
 * agency (an advisory lock), the number free in the document's year, the period's next
 * version. 0, or -1 with p->error set. */
static int s_publish_reserve(report_aggregator_t *self, s_publication_t *p)
{
    char *version = NULL, *taken = NULL;
    const char *lock[] = {p->doc->agency_code};
    const char *p3[] = {p->doc->agency_code, p->year_s, p->month_s};
    const char *pn[] = {p->doc->agency_code, p->doc_year_s, p->number_s};
    int rc = -1;
    if (report_db_exec(self->db, "BEGIN") != 0 ||
        report_db_query(self->db, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, lock, NULL,
                        NULL) != 0) {
        s_db_failure(self, &p->error);
    } else if (report_leader_fence(&self->leader, self->db, &p->error) != 0) {
        /* not the leader (or the check failed): p->error says which */
    } else if (report_db_query(self->db,
                               "SELECT format('%s-%s version %s', year, lpad(month::text, 2, '0'),"
                               " version) FROM published_reports WHERE agency_code = $1"
                               " AND doc_year = $2::int AND number = $3::int",
                               3, pn, s_first_text, &taken) != 0 ||
               report_db_query(self->db,
                               "SELECT (coalesce(max(version), 0) + 1)::text FROM published_reports"
                               " WHERE agency_code = $1 AND year = $2::int AND month = $3::int",
                               3, p3, s_first_text, &version) != 0) {
        s_db_failure(self, &p->error);
    } else if (taken) {
        report_error_set(&p->error, "duplicate_number", "number %d of %d is already used by %s %s",
                         p->req->number, p->doc_year, p->doc->agency_code, taken);
    } else {
        p->doc->version = atoi(version);
        p->doc->number = p->req->number;
        rc = 0;
    }
    free(version);
    free(taken);
    return rc;
}

/* Fills the version record: the four renderings of the draft and the SHA-256 of the text.
 * 0, or -1 with p->error set. */
static int s_publish_render(s_publication_t *p)
{
    report_published_t *r = p->r;
    r->agency_code = report_strdup(p->doc->agency_code);
    r->year = p->req->year;
    r->month = p->req->month;
    r->version = p->doc->version;
    r->number = p->req->number;
    r->doc_date = report_strdup(p->req->date);
    r->text = report_render_text(p->doc);
    r->html = report_render_html(p->doc);
    r->json = report_render_json(p->doc);
    r->markdown = report_render_markdown(p->doc);
    char sha[65];
    if (!r->text || !r->html || !r->json || !r->markdown ||
        report_sha256_hex(r->text, strlen(r->text), sha) != 0) {
        return report_error_set(&p->error, "render_error", "the report could not be rendered");
    }
    r->sha256 = report_strdup(sha);
    return 0;
}

/* The format check: its findings refuse the publish, unless it is forced (then they are
 * recorded with the version). 0, or -1 with p->error set. */
static int s_publish_check(report_aggregator_t *self, s_publication_t *p)
{
    p->finding_count = s_check(self, p->doc, false, &p->findings);
    if (p->finding_count == 0 || p->req->force)
        return 0;
    return report_error_set(&p->error, "format_check",
                            "%zu finding(s) of the format check (Nghị định 30/2020): fix them, or "
                            "publish with --force to publish and record them",
                            p->finding_count);
}

/* The version's PDF/A-2b: rendered and converted before the transaction opens (Ghostscript
 * takes a second or more, and no lock is held meanwhile). 0, or -1 with p->error set. */
static int s_publish_pdf(report_aggregator_t *self, s_publication_t *p)
{
    uint8_t *pdf = NULL;
    size_t size = 0;
    report_published_t *r = p->r;
    int rc = report_render_pdf(p->doc, &pdf, &size, &r->pdf_pages, &p->error);
    if (rc == 0)
        rc = report_pdf_archival(pdf, size, self->cfg.ghostscript, self->cfg.pdf_timeout_ms,
                                 &r->pdf, &r->pdf_size, &p->error);
    free(pdf);
    return rc;
}

/* Inserts the version (its publication sequence comes back) and commits. 0, or -1 with
 * p->error set. */
static int s_publish_insert(report_aggregator_t *self, s_publication_t *p)
{
    report_published_t *r = p->r;
    char version_s[16], pages_s[16], term_s[24];
    snprintf(version_s, sizeof version_s, "%d", r->version);
    snprintf(term_s, sizeof term_s, "%lld", (long long)self->leader.term);
    snprintf(pages_s, sizeof pages_s, "%d", r->pdf_pages);
    report_buf_t findings;
    report_buf_init(&findings);
    for (size_t i = 0; i < p->finding_count; i++) {
        report_buf_adds(&findings, i ? "\n" : "");
        report_buf_adds(&findings, p->findings[i]);
    }
    char *pdf_hex = report_malloc(2 * r->pdf_size + 1);
    report_hex_write(pdf_hex, r->pdf, r->pdf_size);
    pdf_hex[2 * r->pdf_size] = '\0';
    const char *pi[] = {
        r->agency_code, p->year_s,    p->month_s,    version_s,
        p->number_s,    p->req->date, p->doc_year_s, p->req->basis,
        r->text,        r->html,      r->json,       r->markdown,
        r->sha256,      pdf_hex,      pages_s,       findings.data ? findings.data : "",
        term_s};
    int rc = report_db_query(self->db,
                             "INSERT INTO published_reports (agency_code, year, month, version,"
                             " number, doc_date, doc_year, basis, text_body, html_body, json_body,"
                             " markdown_body, sha256, pdf_body, pdf_pages, format_findings,"
                             " leader_term) VALUES"
                             " ($1, $2, $3, $4, $5, $6::date, $7, $8, $9, $10, $11, $12, $13,"
                             " decode($14, 'hex'), $15::int, $16, $17::bigint)"
                             " RETURNING seq, (extract(epoch FROM published_at) * 1000)::bigint",
                             17, pi, s_published_row, r);
    free(pdf_hex);
    report_buf_free(&findings);
    if (rc != 0 || report_db_exec(self->db, "COMMIT") != 0) {
        s_db_failure(self, &p->error);
        return -1;
    }
    return 0;
}

/* After the commit: sends the version to the subscribers (topic AGENCY/YYYY-MM), counts it
 * and logs it. */
static void s_publish_notify(report_aggregator_t *self, const report_published_t *r)
{
    char topic[64];
    snprintf(topic, sizeof topic, "%s/", r->agency_code);
    /* PUB carries a doorbell: the agency and the sequence number, nothing of the document. A
     * PUB socket cannot leave out one peer, so what a recipient may read it fetches over the
     * catch-up endpoint, where its key is checked on every request and its receipt recorded;
     * a recipient revoked while connected learns at most that something was published. */
    report_published_t notice = {.seq = r->seq, .agency_code = r->agency_code};
    size_t size;
    uint8_t *buf = report_published_encode(&notice, &size);
    zmq_send(self->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(self->pub, buf, size, ZMQ_DONTWAIT);
    free(buf);
    self->stats.published++;
    self->stats.last_seq = r->seq;
    snprintf(self->stats.last_agency, sizeof self->stats.last_agency, "%s", r->agency_code);
    self->stats.last_year = r->year;
    self->stats.last_month = r->month;
    self->stats.last_version = r->version;
    self->stats.last_number = r->number;
    self->stats.last_published_ms = r->published_at_ms;
    self->next_late_check = 0;
    log_info("report published",
             "agency=%s period=%04d-%02d version=%d number=%d seq=%llu "
             "sha256=%s",
             r->agency_code, r->year, r->month, r->version, r->number, (unsigned long long)r->seq,
             r->sha256);
}

/* publish: compile, reserve, render, insert and commit, then notify; the operator gets the
 * version, or the reason it was not published (nothing is published half-way). */
/* A standby refuses a publication before compiling it (the fence in the transaction is what
 * guarantees it; this spares the work). True if refused. */
static bool s_refuse_standby(report_aggregator_t *self, zmq_msg_t *id)
{
    report_error_t err;
    if (self->leader.leader)
        return false;
    report_leader_fence(&self->leader, self->db, &err);
    s_error(self, id, err.code, err.message);
    return true;
}

static void s_publish(report_aggregator_t *self, zmq_msg_t *id, const report_control_request_t *req)
{
    int y, m, d;
    if (s_refuse_standby(self, id))
        return;
    if (req->number <= 0) {
        s_error(self, id, "bad_number", "a published report needs --number N (N > 0)");
        return;
    }
    if (report_date_parse(req->date, &y, &m, &d) != 0) {
        s_error(self, id, "bad_date", "a published report needs --date YYYY-MM-DD");
        return;
    }
    /* a published version carries no sources */
    report_compile_request_t creq = {req->agency_code, req->year,  req->month, req->number,
                                     req->date,        req->basis, false};
    report_compiled_t compiled;
    if (report_compile(self->db, &creq, &compiled) != 0) {
        s_db_failed(self);
        s_error(self, id, compiled.error.code, compiled.error.message);
        report_compiled_clear(&compiled);
        return;
    }
    s_publication_t p = {
        .req = req, .doc = compiled.doc, .r = report_published_new(), .doc_year = y};
    snprintf(p.year_s, sizeof p.year_s, "%d", req->year);
    snprintf(p.month_s, sizeof p.month_s, "%d", req->month);
    snprintf(p.number_s, sizeof p.number_s, "%d", req->number);
    snprintf(p.doc_year_s, sizeof p.doc_year_s, "%d", y);
    if (s_publish_check(self, &p) != 0 || s_publish_pdf(self, &p) != 0 ||
        s_publish_reserve(self, &p) != 0 || s_publish_render(&p) != 0 ||
        s_publish_insert(self, &p) != 0) {
        if (report_db_connected(self->db))
            report_db_exec(self->db, "ROLLBACK");
        s_db_failed(self);
        s_refuse(self, id, p.error.code, p.error.message, p.findings, p.finding_count);
    } else {
        s_publish_notify(self, p.r);
        report_control_reply_t reply = {0};
        reply.ok = true;
        reply.message = report_sprintf("published %s %04d-%02d version %d", p.r->agency_code,
                                       p.r->year, p.r->month, p.r->version);
        s_take_lists(&reply, &compiled);
        reply.report = p.r;
        p.r = NULL;
        reply.findings = p.findings; /* forced: published despite them */
        reply.finding_count = p.finding_count;
        p.findings = NULL;
        s_control_reply(self, id, &reply);
        report_control_reply_clear(&reply);
    }
    report_strv_free(p.findings, p.finding_count);
    report_published_destroy(&p.r);
    report_compiled_clear(&compiled);
}

/* --- catch-up --- */

typedef struct {
    report_aggregator_t *self;
    zmq_msg_t *id;
    size_t rows;
    uint64_t last;
} s_catchup_t;

/* The publication events subscribers receive, in seq order: each version, and later each
 * version's signed form (the same version with the signed PDF, under a seq of its own). */
#define S_VERSIONS_SQL                                                                             \
    "SELECT seq, agency_code, year, month, version, number, doc_date::text, text_body, html_body," \
    " json_body, markdown_body, sha256, (extract(epoch FROM published_at) * 1000)::bigint AS at,"  \
    " coalesce(encode(pdf_body, 'hex'), '') AS pdf, coalesce(pdf_pages, 0) AS pages,"              \
    " '' AS signed_pdf, '' AS signer, '' AS signing_time FROM published_reports"
static const char *S_EVENTS_SQL = S_VERSIONS_SQL
    " UNION ALL"
    " SELECT s.seq, p.agency_code, p.year, p.month, p.version, p.number, p.doc_date::text,"
    " p.text_body, p.html_body, p.json_body, p.markdown_body, p.sha256,"
    " (extract(epoch FROM s.attached_at) * 1000)::bigint, coalesce(encode(p.pdf_body, 'hex'), ''),"
    " coalesce(p.pdf_pages, 0), encode(s.signed_pdf, 'hex'), s.signer, s.signing_time"
    " FROM signed_reports s JOIN published_reports p ON p.seq = s.published_seq";

/* Fills r from a row of S_EVENTS_SQL: the strings borrowed from res, the PDFs decoded (free
 * r->pdf and r->signed_pdf). */
static void s_event_from_row(const PGresult *res, int row, report_published_t *r);

/* The first row of S_EVENTS_SQL into *r (owned copies), for s_load_version. */
static int s_version_row(void *arg, const PGresult *res, int row)
{
    report_published_t *r = arg;
    if (r->seq)
        return 0;
    report_published_t e;
    s_event_from_row(res, row, &e);
    char **fields[] = {&e.agency_code, &e.doc_date, &e.text,  &e.html,
                       &e.json,        &e.markdown, &e.sha256};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        *fields[i] = report_strdup(*fields[i]);
    e.signer = NULL;
    e.signing_time = NULL;
    free(e.signed_pdf);
    e.signed_pdf = NULL;
    e.signed_size = 0;
    *r = e;
    return 0;
}

static void s_event_from_row(const PGresult *res, int row, report_published_t *r)
{
    memset(r, 0, sizeof *r);
    char **text[] = {&r->agency_code, NULL,     NULL,     NULL,         NULL,      &r->doc_date,
                     &r->text,        &r->html, &r->json, &r->markdown, &r->sha256};
    for (int i = 0; i < 11; i++)
        if (text[i])
            *text[i] = PQgetvalue(res, row, i + 1);
    r->seq = strtoull(PQgetvalue(res, row, 0), NULL, 10);
    r->year = atoi(PQgetvalue(res, row, 2));
    r->month = atoi(PQgetvalue(res, row, 3));
    r->version = atoi(PQgetvalue(res, row, 4));
    r->number = atoi(PQgetvalue(res, row, 5));
    r->published_at_ms = strtoll(PQgetvalue(res, row, 12), NULL, 10);
    r->pdf = report_hex_decode(PQgetvalue(res, row, 13), &r->pdf_size);
    r->pdf_pages = atoi(PQgetvalue(res, row, 14));
    r->signed_pdf = report_hex_decode(PQgetvalue(res, row, 15), &r->signed_size);
    if (r->signed_pdf && r->signed_size == 0) {
        free(r->signed_pdf);
        r->signed_pdf = NULL;
    }
    if (r->pdf && r->pdf_size == 0) {
        free(r->pdf);
        r->pdf = NULL;
    }
    r->signer = PQgetvalue(res, row, 16);
    r->signing_time = PQgetvalue(res, row, 17);
}

static int s_catchup_row(void *arg, const PGresult *res, int row)
{
    s_catchup_t *c = arg;
    report_published_t r;
    s_event_from_row(res, row, &r);
    report_catchup_reply_t reply = {.report = &r};
    size_t size;
    uint8_t *buf = report_catchup_reply_encode(&reply, &size);
    s_send_reply(c->self->catchup, c->id, buf, size);
    free(buf);
    free(r.pdf);
    free(r.signed_pdf);
    c->rows++;
    c->last = r.seq;
    return 0;
}

/* A subscriber asks for what follows the last publication it saved: its receipt for every
 * one up to it. Kept per recipient, never lowered (a subscriber restored from an old backup
 * does not make it look as if it had not received what it had). */
static void s_receipt(report_aggregator_t *self, const char *recipient, uint64_t acked_seq)
{
    if (!*recipient)
        return; /* insecure-plain: nobody to record */
    char seq[32];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)acked_seq);
    const char *params[] = {recipient, seq};
    if (report_db_query(self->db,
                        "INSERT INTO recipient_receipts (recipient, acked_seq) VALUES ($1, "
                        "$2::bigint) ON CONFLICT (recipient) DO UPDATE SET acked_seq ="
                        " greatest(recipient_receipts.acked_seq, EXCLUDED.acked_seq),"
                        " updated_at = now()",
                        2, params, NULL, NULL) != 0)
        log_warn("receipt not recorded", "recipient=%s error=%s", report_logq(recipient),
                 report_logq(report_db_error(self->db)));
    else if (acked_seq > 0)
        self->next_late_check = 0; /* the status shows it at once */
}

static void s_catchup(report_aggregator_t *self, zmq_msg_t *id, const char *recipient,
                      const uint8_t *data, size_t size)
{
    report_catchup_request_t req;
    if (size > (size_t)self->cfg.max_request_bytes ||
        report_catchup_request_decode(data, size, &req) != 0) {
        self->stats.refused_requests++;
        return;
    }
    self->stats.catchup_requests++;
    if (!req.by_period)
        s_receipt(self, recipient, req.after_seq);
    char key[32], limit[32];
    snprintf(key, sizeof key, "%llu",
             (unsigned long long)(req.by_period ? (uint64_t)req.period : req.after_seq));
    snprintf(limit, sizeof limit, "%lld", (long long)self->cfg.catchup_max);
    const char *params[] = {req.agency_code, key, limit};
    s_catchup_t c = {self, id, 0, 0};
    char *last = NULL;
    char *sql = report_sprintf("SELECT * FROM (%s) e WHERE ($1 = '' OR agency_code = $1) AND %s"
                               " ORDER BY seq LIMIT $3::int",
                               S_EVENTS_SQL,
                               req.by_period ? "year * 100 + month = $2::int" : "seq > $2::bigint");
    int rc = report_db_query(self->db, sql, 3, params, s_catchup_row, &c);
    free(sql);
    if (rc == 0)
        rc =
            report_db_query(self->db,
                            "SELECT greatest((SELECT coalesce(max(seq), 0) FROM published_reports),"
                            " (SELECT coalesce(max(seq), 0) FROM signed_reports))::text",
                            0, NULL, s_first_text, &last);
    if (rc != 0) {
        s_db_failed(self);
        log_warn("catch-up failed", "error=%s", report_logq(report_db_error(self->db)));
    } else {
        report_catchup_reply_t end = {.end = true};
        end.last_seq = strtoull(last, NULL, 10);
        end.more = c.rows >= (size_t)self->cfg.catchup_max;
        size_t n;
        uint8_t *buf = report_catchup_reply_encode(&end, &n);
        s_send_reply(self->catchup, id, buf, n);
        free(buf);
        log_debug("catch-up served", "reports=%zu", c.rows);
    }
    free(last);
    report_catchup_request_clear(&req);
}

/* --- who is late --- */

static int s_late_row(void *arg, const PGresult *res, int row)
{
    report_aggregator_stats_t *st = arg;
    if (st->unit_count >= REPORT_MAX_WATCHED_UNITS)
        return 0;
    report_watched_unit_t *u = &st->units[st->unit_count++];
    snprintf(u->code, sizeof u->code, "%s", PQgetvalue(res, row, 0));
    snprintf(u->name, sizeof u->name, "%s", PQgetvalue(res, row, 1));
    u->reported = PQgetvalue(res, row, 2)[0] == 't';
    return 0;
}

static int s_rule_row(void *arg, const PGresult *res, int row)
{
    int *v = arg;
    v[0] = strcmp(PQgetvalue(res, row, 0), "cutoff") == 0;
    v[1] = atoi(PQgetvalue(res, row, 1));
    v[2] = atoi(PQgetvalue(res, row, 2));
    return 0;
}

static int s_last_row(void *arg, const PGresult *res, int row)
{
    report_aggregator_stats_t *st = arg;
    st->last_seq = strtoull(PQgetvalue(res, row, 0), NULL, 10);
    snprintf(st->last_agency, sizeof st->last_agency, "%s", PQgetvalue(res, row, 1));
    st->last_year = atoi(PQgetvalue(res, row, 2));
    st->last_month = atoi(PQgetvalue(res, row, 3));
    st->last_version = atoi(PQgetvalue(res, row, 4));
    st->last_number = atoi(PQgetvalue(res, row, 5));
    st->last_published_ms = strtoll(PQgetvalue(res, row, 6), NULL, 10);
    return 0;
}

static int s_recipient_row(void *arg, const PGresult *res, int row)
{
    report_aggregator_stats_t *st = arg;
    if (st->recipient_count >= REPORT_MAX_RECIPIENTS)
        return 0;
    report_recipient_state_t *r = &st->recipients[st->recipient_count++];
    snprintf(r->name, sizeof r->name, "%s", PQgetvalue(res, row, 0));
    r->acked_seq = strtoull(PQgetvalue(res, row, 1), NULL, 10);
    r->undelivered = strtoull(PQgetvalue(res, row, 2), NULL, 10);
    return 0;
}

/* The receipts of the recipients enrolled now (a recipient who never asked has received
 * nothing): what each has saved and how many publications it still lacks. */
static int s_check_receipts(report_aggregator_t *self)
{
    report_aggregator_stats_t *st = &self->stats;
    st->recipient_count = 0;
    report_keyring_t *keyring = report_server_keyring(self->server, "recipients");
    report_buf_t names;
    report_buf_init(&names);
    report_buf_adds(&names, "{");
    for (size_t i = 0; i < report_keyring_count(keyring); i++) {
        /* enrolled names are [A-Za-z0-9_.-]: safe inside a quoted array element */
        report_buf_adds(&names, i ? ",\"" : "\"");
        report_buf_adds(&names, report_keyring_identity_at(keyring, i));
        report_buf_adds(&names, "\"");
    }
    report_buf_adds(&names, "}");
    const char *params[] = {names.data};
    int rc = report_db_query(
        self->db,
        "SELECT n, coalesce(r.acked_seq, 0), (SELECT count(*) FROM (SELECT seq FROM"
        " published_reports UNION ALL SELECT seq FROM signed_reports) e WHERE e.seq >"
        " coalesce(r.acked_seq, 0)) FROM unnest($1::text[]) n LEFT JOIN recipient_receipts r"
        " ON r.recipient = n ORDER BY n",
        1, params, s_recipient_row, st);
    report_buf_free(&names);
    return rc;
}

/* The reporting rate of the watched period and rate-periods before it; the watched period's
 * deadline then ends in the deadline zone (report_rate.h), not in this process's. -1 only if
 * the database failed otherwise than on the time zone (logged, shown in the status). */
static int s_check_rate(report_aggregator_t *self, int y, int m)
{
    report_aggregator_stats_t *st = &self->stats;
    if (report_rate_load(self->db, self->cfg.deadline_time_zone, y, m,
                         (size_t)self->cfg.rate_periods + 1, &st->rate) != 0) {
        log_warn("reporting rate not looked up", "time_zone=%s error=%s",
                 report_logq(self->cfg.deadline_time_zone), report_logq(st->rate.error));
        return strcmp(report_db_sqlstate(self->db), "22023") == 0 ? 0 : -1;
    }
    if (st->rate.unit_count)
        st->deadline_ms = st->rate.periods[0].due_ms - 1000; /* 23:59:59 of the deadline day */
    return 0;
}

/* Looks up, for the watched period (the current one by the agency's rule, or the setting),
 * which units have pushed anything, and the period's deadline; and the last publication. */
static void s_check_late(report_aggregator_t *self)
{
    self->next_late_check = report_clock_ms() + self->cfg.late_refresh_ms;
    if (s_db_ensure(self) != 0)
        return;
    int rule[3] = {0, 14, 15}; /* cutoff?, cutoff day, deadline day */
    if (report_db_query(self->db,
                        "SELECT period_rule, cutoff_day, deadline_day FROM report_templates"
                        " ORDER BY agency_code LIMIT 1",
                        0, NULL, s_rule_row, rule) != 0) {
        s_db_failed(self);
        return;
    }
    int y, m;
    if (report_period_parse(self->cfg.status_period, &y, &m) != 0) {
        time_t now = (time_t)(report_wall_ms() / 1000);
        struct tm tm;
        localtime_r(&now, &tm);
        report_period_rule_t r = {rule[0] != 0, rule[1]};
        report_period_of_date(&r, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, &y, &m);
    }
    report_aggregator_stats_t *st = &self->stats;
    snprintf(st->period, sizeof st->period, "%04d-%02d", y % 10000, m % 100);
    int day = rule[2] < report_days_in_month(y, m) ? rule[2] : report_days_in_month(y, m);
    snprintf(st->deadline, sizeof st->deadline, "%04d-%02d-%02d", y % 10000, m % 100, day % 100);
    struct tm dl = {.tm_year = y - 1900,
                    .tm_mon = m - 1,
                    .tm_mday = day,
                    .tm_hour = 23,
                    .tm_min = 59,
                    .tm_sec = 59,
                    .tm_isdst = -1};
    st->deadline_ms = (int64_t)mktime(&dl) * 1000;
    char ys[16], ms[16];
    snprintf(ys, sizeof ys, "%d", y);
    snprintf(ms, sizeof ms, "%d", m);
    const char *p[] = {ys, ms};
    st->unit_count = 0;
    if (report_db_query(self->db,
                        "SELECT u.code, u.name, EXISTS (SELECT 1 FROM updates x WHERE"
                        " x.unit_code = u.code AND x.year = $1::int AND x.month = $2::int)"
                        " FROM units u WHERE u.active ORDER BY u.position, u.code",
                        2, p, s_late_row, st) != 0 ||
        s_check_rate(self, y, m) != 0 ||
        report_db_query(self->db,
                        "SELECT seq, agency_code, year, month, version, number,"
                        " (extract(epoch FROM published_at) * 1000)::bigint"
                        " FROM published_reports ORDER BY seq DESC LIMIT 1",
                        0, NULL, s_last_row, st) != 0 ||
        s_check_receipts(self) != 0)
        s_db_failed(self);
}

/* --- sockets --- */

/* Reads [id][body] from a ROUTER; 0 with both messages initialised, -1 if nothing usable. */
static int s_recv_request(void *sock, zmq_msg_t *id, zmq_msg_t *body)
{
    zmq_msg_init(id);
    zmq_msg_init(body);
    if (zmq_msg_recv(id, sock, ZMQ_DONTWAIT) < 0)
        return -1;
    if (!zmq_msg_more(id) || zmq_msg_recv(body, sock, ZMQ_DONTWAIT) < 0)
        return -1;
    bool extra = false;
    while (zmq_msg_more(body) || extra) {
        zmq_msg_t rest;
        zmq_msg_init(&rest);
        int rc = zmq_msg_recv(&rest, sock, ZMQ_DONTWAIT);
        extra = rc >= 0 && zmq_msg_more(&rest);
        zmq_msg_close(&rest);
        if (!extra)
            return -1;
    }
    return 0;
}

/* --- the signed form --- */

/* The version a signed form is for, with its PDF (owned copies in *r). 0, or -1 with err. */
static int s_load_version(report_aggregator_t *self, const report_control_request_t *req,
                          report_published_t *r, report_error_t *err)
{
    char year[16], month[16], version[16];
    snprintf(year, sizeof year, "%d", req->year);
    snprintf(month, sizeof month, "%d", req->month);
    snprintf(version, sizeof version, "%d", req->version);
    const char *params[] = {req->agency_code ? req->agency_code : "", year, month, version};
    int rc = report_db_query(self->db,
                             S_VERSIONS_SQL " WHERE ($1 = '' OR agency_code = $1) AND"
                                            " year = $2::int AND month = $3::int AND"
                                            " version = $4::int ORDER BY agency_code LIMIT 1",
                             4, params, s_version_row, r);
    if (rc != 0)
        return report_error_set(err, "db_error", "%s", report_db_error(self->db));
    if (r->seq == 0)
        return report_error_set(err, "unknown_version", "%04d-%02d version %d is not published",
                                req->year, req->month, req->version);
    if (!r->pdf)
        return report_error_set(err, "no_pdf", "%04d-%02d version %d was published before PDFs",
                                req->year, req->month, req->version);
    return 0;
}

/* Stores the verified signed form; its seq into r. 0, or -1 with err. */
static int s_store_signed(report_aggregator_t *self, report_published_t *r, uint64_t published_seq,
                          const report_signature_t *sig, report_error_t *err)
{
    char seq[32], sha[65];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)published_seq);
    report_sha256_hex(r->signed_pdf, r->signed_size, sha);
    char *hex = report_malloc(2 * r->signed_size + 1);
    report_hex_write(hex, r->signed_pdf, r->signed_size);
    hex[2 * r->signed_size] = '\0';
    char term[24], *out = NULL;
    snprintf(term, sizeof term, "%lld", (long long)self->leader.term);
    const char *params[] = {
        seq, hex, sha, sig->signer, sig->signing_time, sig->trusted ? "true" : "false", term};
    if (report_db_exec(self->db, "BEGIN") != 0) {
        free(hex);
        return report_error_set(err, "db_retry", "%s", report_db_error(self->db));
    }
    if (report_leader_fence(&self->leader, self->db, err) != 0) {
        free(hex);
        report_db_exec(self->db, "ROLLBACK");
        return -1;
    }
    int rc =
        report_db_query(self->db,
                        "INSERT INTO signed_reports (published_seq, signed_pdf, sha256, signer,"
                        " signing_time, trusted, leader_term) VALUES ($1::bigint,"
                        " decode($2, 'hex'), $3, $4, $5, $6::boolean, $7::bigint)"
                        " RETURNING seq::text",
                        7, params, s_first_text, &out);
    if (rc == 0)
        rc = report_db_exec(self->db, "COMMIT");
    else if (report_db_connected(self->db))
        report_db_exec(self->db, "ROLLBACK");
    free(hex);
    if (rc != 0 && strcmp(report_db_sqlstate(self->db), "23505") == 0)
        rc = report_error_set(err, "already_signed", "this version's signed form is attached");
    else if (rc != 0)
        rc = report_error_set(err, report_db_retryable(self->db) ? "db_retry" : "db_error", "%s",
                              report_db_error(self->db));
    else
        r->seq = strtoull(out, NULL, 10);
    free(out);
    return rc;
}

/* attach-signed: the signed PDF of a published version, verified (report_signed.h), stored
 * and published as the next publication event: subscribers keep it as the signed form. */
static void s_attach(report_aggregator_t *self, zmq_msg_t *id, const report_control_request_t *req)
{
    if (s_refuse_standby(self, id))
        return;
    report_published_t *r = report_published_new();
    report_signature_t sig;
    report_error_t err;
    int rc = s_load_version(self, req, r, &err);
    uint64_t published_seq = r->seq;
    if (rc == 0)
        rc = report_signed_verify(r->pdf, r->pdf_size, req->signed_pdf, req->signed_size,
                                  self->cfg.signer_nssdb, self->cfg.pdf_timeout_ms, &sig, &err);
    if (rc == 0) {
        r->signed_pdf = report_malloc(req->signed_size);
        memcpy(r->signed_pdf, req->signed_pdf, req->signed_size);
        r->signed_size = req->signed_size;
        r->signer = report_strdup(sig.signer);
        r->signing_time = report_strdup(sig.signing_time);
        rc = s_store_signed(self, r, published_seq, &sig, &err);
    }
    if (rc != 0) {
        s_db_failed(self);
        s_error(self, id, err.code, err.message);
    } else {
        s_publish_notify(self, r);
        log_info("signed form attached",
                 "agency=%s period=%04d-%02d version=%d seq=%llu "
                 "signer=%s trusted=%s",
                 r->agency_code, r->year, r->month, r->version, (unsigned long long)r->seq,
                 report_logq(sig.signer), sig.trusted ? "yes" : "no");
        report_control_reply_t reply = {0};
        reply.ok = true;
        reply.message =
            report_sprintf("signed by %s at %s (%s)", sig.signer, sig.signing_time, sig.trust);
        reply.report = r;
        r = NULL;
        s_control_reply(self, id, &reply);
        report_control_reply_clear(&reply);
    }
    report_published_destroy(&r);
}

/* The operators' catalogue and dead-letter requests (report_catalogue.c,
 * report_dead_letters.c); operator_name is the key's name, recorded with every change. */
static void s_admin(report_aggregator_t *self, zmq_msg_t *id, const report_control_request_t *req,
                    const char *operator_name)
{
    report_control_reply_t reply = {0};
    const char *who = *operator_name ? operator_name : "insecure-plain";
    int rc = req->kind == REPORT_CONTROL_CATALOGUE
                 ? report_catalogue_handle(self->db, self->cfg.server.keys_dir, who, req, &reply)
                 : report_dead_letters_handle(self->db, who, req, &reply);
    if (rc != 0)
        s_db_failed(self);
    if (!reply.ok) { /* counted and logged as every refused request */
        log_info("request refused", "error=%s detail=%s operator=%s", reply.error_code,
                 report_logq(reply.message), report_logq(who));
        self->stats.refused_requests++;
    }
    s_control_reply(self, id, &reply);
    report_control_reply_clear(&reply);
}

/* The reporting rate of one period (reportctl status --period): read-only, any aggregator
 * answers. */
static void s_rate(report_aggregator_t *self, zmq_msg_t *id, const report_control_request_t *req)
{
    report_control_reply_t reply;
    if (report_rate_answer(self->db, self->cfg.deadline_time_zone, req, &reply) != 0)
        s_db_failed(self);
    if (reply.ok)
        s_control_reply(self, id, &reply);
    else
        s_error(self, id, reply.error_code, reply.message);
    report_control_reply_clear(&reply);
}

static void s_handle_control(report_aggregator_t *self)
{
    zmq_msg_t id, body;
    if (s_recv_request(self->control, &id, &body) == 0) {
        report_control_request_t req;
        const char *operator_name = s_peer(report_server_keyring(self->server, "operators"), &body);
        if (!operator_name) {
            s_error(self, &id, "unauthorized", "this key is no longer enrolled as an operator");
        } else if (report_control_request_decode(zmq_msg_data(&body), zmq_msg_size(&body), &req) !=
                   0) {
            s_error(self, &id, "malformed", "not a ControlRequest");
        } else if (req.kind != REPORT_CONTROL_ATTACH &&
                   zmq_msg_size(&body) > (size_t)self->cfg.max_request_bytes) {
            s_error(self, &id, "too_large", "a request is at most max-request-bytes");
            report_control_request_clear(&req);
        } else if (s_db_ensure(self) != 0) {
            s_error(self, &id, "db_unavailable", "the database cannot be reached; retry later");
            report_control_request_clear(&req);
        } else {
            if (req.kind == REPORT_CONTROL_CATALOGUE || req.kind == REPORT_CONTROL_DEAD_LETTER)
                s_admin(self, &id, &req, operator_name);
            else if (req.kind == REPORT_CONTROL_COMPILE)
                s_compile(self, &id, &req);
            else if (req.kind == REPORT_CONTROL_ATTACH)
                s_attach(self, &id, &req);
            else if (req.kind == REPORT_CONTROL_RATE)
                s_rate(self, &id, &req);
            else
                s_publish(self, &id, &req);
            report_control_request_clear(&req);
        }
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
}

static void s_handle_catchup(report_aggregator_t *self)
{
    zmq_msg_t id, body;
    const char *recipient = NULL;
    if (s_recv_request(self->catchup, &id, &body) == 0 &&
        (recipient = s_peer(report_server_keyring(self->server, "recipients"), &body)) != NULL &&
        s_db_ensure(self) == 0)
        s_catchup(self, &id, recipient, zmq_msg_data(&body), zmq_msg_size(&body));
    zmq_msg_close(&id);
    zmq_msg_close(&body);
}

/* A unit's desk asks, as the unit of its key (report_desk.c). */
static void s_handle_desk(report_aggregator_t *self)
{
    zmq_msg_t id, body;
    const char *unit = NULL;
    if (s_recv_request(self->desk, &id, &body) == 0 &&
        (unit = s_peer(report_server_keyring(self->server, "units"), &body)) != NULL && *unit &&
        s_db_ensure(self) == 0) {
        size_t size = 0;
        int refused = 0;
        uint8_t *buf = report_desk_answer(self->db, unit, zmq_msg_data(&body), zmq_msg_size(&body),
                                          &size, &refused);
        self->stats.refused_requests += (uint64_t)refused;
        s_send_reply(self->desk, &id, buf, size);
        free(buf);
    } else if (unit == NULL || !*unit) {
        self->stats.refused_requests++;
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
}

/* A request is bounded by max_bytes; what the PUB sends is ours (0: no bound). */
static void *s_bind(report_aggregator_t *self, int type, const char *endpoint, const char *domain,
                    int64_t max_bytes, char *bound, size_t size)
{
    return report_server_socket(self->server, type, endpoint, domain, (int)self->cfg.hwm, 0,
                                max_bytes, bound, size);
}

/* The control socket takes a signed PDF; every other request stays under max-request-bytes. */
static int64_t s_control_max(const report_aggregator_t *self)
{
    return self->cfg.max_signed_bytes > self->cfg.max_request_bytes ? self->cfg.max_signed_bytes
                                                                    : self->cfg.max_request_bytes;
}

/* CURVE on every socket, the ZAP handler bound first so that it is never missing. */
static int s_security(report_aggregator_t *self)
{
    self->server = report_server_new(self->zctx, &self->cfg.server, "recipients", "operators",
                                     "INSECURE: CURVE is off, anyone can subscribe and publish");
    if (self->server && self->cfg.desk_endpoint[0])
        report_server_add_domain(self->server, "units");
    return self->server ? 0 : -1;
}

/* Connection counts from the monitors, keyring reloads. */
static void s_connection_stats(report_aggregator_t *self)
{
    report_monitor_count(self->monitor, &self->stats.pub);
    report_monitor_count(self->catchup_monitor, &self->stats.catchup);
    self->stats.subscribers = self->stats.pub.connected;
    self->stats.keyring_reload_failures = report_server_keyrings_retry(self->server);
}

/* The server sockets, in order (the control socket first); 0, or -1 if one cannot be bound. */
static int s_bind_all(report_aggregator_t *self)
{
    self->control =
        s_bind(self, ZMQ_ROUTER, self->cfg.control_endpoint, "operators", s_control_max(self),
               self->control_endpoint, sizeof self->control_endpoint);
    self->pub = self->control ? s_bind(self, ZMQ_PUB, self->cfg.publish_endpoint, "recipients", 0,
                                       self->publish_endpoint, sizeof self->publish_endpoint)
                              : NULL;
    self->catchup = self->pub ? s_bind(self, ZMQ_ROUTER, self->cfg.catchup_endpoint, "recipients",
                                       self->cfg.max_request_bytes, self->catchup_endpoint,
                                       sizeof self->catchup_endpoint)
                              : NULL;
    bool desk_ok = true;
    if (self->catchup && self->cfg.desk_endpoint[0]) {
        self->desk =
            s_bind(self, ZMQ_ROUTER, self->cfg.desk_endpoint, "units", self->cfg.max_request_bytes,
                   self->desk_endpoint, sizeof self->desk_endpoint);
        desk_ok = self->desk != NULL;
    }
    return self->catchup && desk_ok ? 0 : -1;
}

static void *s_thread(void *arg)
{
    report_aggregator_t *self = arg;
    if (s_security(self) != 0 || s_bind_all(self) != 0) {
        report_actor_ready(&self->actor, -1);
        return NULL;
    }
    log_info("aggregator listening", "control=%s publish=%s catchup=%s desk=%s curve=%s",
             self->control_endpoint, self->publish_endpoint, self->catchup_endpoint,
             self->desk_endpoint[0] ? self->desk_endpoint : "-",
             report_server_zap_socket(self->server) ? "on" : "OFF");
    /* the leadership is taken (or not) before the start returns: of aggregators started one
     * after the other on a free database, the first is the leader */
    s_check_leader(self);
    s_leader_stats(self);
    report_actor_copy(&self->actor, &self->shared_stats, &self->stats, sizeof self->stats);
    report_actor_ready(&self->actor, 1);
    self->monitor =
        report_monitor_new(self->zctx, self->pub, "subscribers", self->cfg.server.max_connections,
                           self->cfg.server.max_connections_per_peer);
    self->catchup_monitor =
        report_monitor_new(self->zctx, self->catchup, "catchup", self->cfg.server.max_connections,
                           self->cfg.server.max_connections_per_peer);
    zmq_pollitem_t items[7] = {{self->control, 0, ZMQ_POLLIN, 0},
                               {self->catchup, 0, ZMQ_POLLIN, 0},
                               {NULL, report_actor_stop_fd(&self->actor), ZMQ_POLLIN, 0}};
    int nitems = 3;
    report_monitor_t *monitors[2] = {self->monitor, self->catchup_monitor};
    int monitor_at[2];
    for (int i = 0; i < 2; i++)
        monitor_at[i] = report_poll_add(items, &nitems, report_monitor_socket(monitors[i]));
    void *zap = report_server_zap_socket(self->server);
    int zap_at = report_poll_add(items, &nitems, zap);
    int desk_at = report_poll_add(items, &nitems, self->desk);
    while (!report_actor_stopping(&self->actor)) {
        /* asleep until a request, the stop event or the next check of late units (stats
         * once a second) */
        int64_t next = self->next_late_check < self->next_leader_check ? self->next_late_check
                                                                       : self->next_leader_check;
        long timeout = (long)(next - report_clock_ms());
        if (zmq_poll(items, nitems,
                     timeout < 0      ? 0
                     : timeout > 1000 ? 1000
                                      : timeout) < 0 &&
            errno != EINTR)
            break;
        if (zap_at >= 0 && (items[zap_at].revents & ZMQ_POLLIN)) {
            report_server_zap_drain(self->server);
            self->stats.handshakes_refused = report_server_refused(self->server);
        }
        for (int i = 0; i < 2; i++)
            if (monitor_at[i] >= 0 && (items[monitor_at[i]].revents & ZMQ_POLLIN))
                report_monitor_drain(monitors[i]);
        s_connection_stats(self);
        if (items[0].revents & ZMQ_POLLIN)
            s_handle_control(self);
        if (items[1].revents & ZMQ_POLLIN)
            s_handle_catchup(self);
        if (desk_at >= 0 && (items[desk_at].revents & ZMQ_POLLIN))
            s_handle_desk(self);
        if (report_clock_ms() >= self->next_leader_check)
            s_check_leader(self);
        if (report_clock_ms() >= self->next_late_check)
            s_check_late(self);
        s_leader_stats(self);
        report_actor_copy(&self->actor, &self->shared_stats, &self->stats, sizeof self->stats);
    }
    return NULL;
}

static void s_free(void *arg)
{
    report_aggregator_t *self = arg;
    report_monitor_destroy(&self->monitor);
    report_monitor_destroy(&self->catchup_monitor);
    if (self->control)
        zmq_close(self->control);
    if (self->pub)
        zmq_close(self->pub);
    if (self->catchup)
        zmq_close(self->catchup);
    if (self->desk)
        zmq_close(self->desk);
    report_server_destroy(&self->server);
    if (self->zctx)
        zmq_ctx_term(self->zctx);
    report_db_destroy(&self->db);
    report_settings_free(report_aggregator_settings, &self->cfg);
    report_actor_destroy(&self->actor);
    free(self);
}

report_aggregator_t *report_aggregator_start(const report_aggregator_config_t *cfg)
{
    report_aggregator_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    report_settings_own(report_aggregator_settings, &self->cfg);
    report_histogram_init_seconds(&self->stats.compile_seconds);
    self->shared_stats = self->stats;
    report_backoff_init(&self->backoff, S_RECONNECT_MIN_MS, S_RECONNECT_MAX_MS);
    self->db = report_db_new(cfg->db);
    self->leader.holdoff_ms = S_LEADER_HOLDOFF_CHECKS * self->cfg.leader_check_ms;
    if (self->cfg.instance_name[0]) {
        snprintf(self->name, sizeof self->name, "%s", self->cfg.instance_name);
    } else {
        char host[64] = "";
        gethostname(host, sizeof host - 1);
        snprintf(self->name, sizeof self->name, "%s:%ld", host, (long)getpid());
    }
    self->zctx = zmq_ctx_new();
    return report_actor_launch(&self->actor, s_thread, self, s_free);
}

void report_aggregator_stop(report_aggregator_t **self_p)
{
    report_actor_finish(self_p, s_free);
}

const char *report_aggregator_control_endpoint(report_aggregator_t *self)
{
    return self->control_endpoint;
}

const char *report_aggregator_publish_endpoint(report_aggregator_t *self)
{
    return self->publish_endpoint;
}

const char *report_aggregator_catchup_endpoint(report_aggregator_t *self)
{
    return self->catchup_endpoint;
}

const char *report_aggregator_desk_endpoint(report_aggregator_t *self)
{
    return self->desk_endpoint;
}

void report_aggregator_stats(report_aggregator_t *self, report_aggregator_stats_t *out)
{
    report_actor_copy(&self->actor, out, &self->shared_stats, sizeof *out);
}

bool report_aggregator_running(report_aggregator_t *self)
{
    return !report_actor_ended(&self->actor);
}
