/* Subscriber: SUB for speed, catch-up for completeness (zguide Clone pattern). Reports are
 * applied strictly in sequence order: a gap triggers a catch-up rather than a skip. With
 * several aggregators, SUB listens to all of them and catch-up asks one at a time, the next
 * when it does not answer (Freelance); the sequence number keeps each version saved once. */
#define _GNU_SOURCE
#include "report_subscriber.h"
#include "report_codec.h"
#include "report_push.h"
#include "report_log.h"
#include "report_period.h"
#include "report_sha256.h"
#include "report_util.h"
#include "report_zap.h"
#include "report_export.h"
#include "report_file.h"
#include "report_inbox.h"
#include "report_process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define F(field) offsetof(report_subscriber_config_t, field)
const report_setting_t report_subscriber_settings[] = {
    {"publish-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5572", F(publish_endpoint), 0, 0,
     "aggregator PUB endpoint, or a comma-separated list of at most 16: listens to all"},
    {"catchup-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5573", F(catchup_endpoint), 0, 0,
     "aggregator catch-up endpoint, or a comma-separated list of at most 16: asks one at a time, "
     "the next when it does not answer within catchup-timeout-ms"},
    {"out", REPORT_SETTING_STRING, "", F(out_dir), 0, 0,
     "directory for the received reports (required)"},
    {"agency", REPORT_SETTING_STRING, "", F(agency_code), 0, 0, "only this agency (default: all)"},
    {"count", REPORT_SETTING_INT, "0", F(max_reports), 0, 1000000,
     "exit after receiving this many new reports (0: run until stopped)"},
    {"once", REPORT_SETTING_BOOL, "false", F(once), 0, 0, "catch up, then exit"},
    {"deadline-ms", REPORT_SETTING_INT, "0", F(deadline_ms), 0, 86400000,
     "give up (exit 1) after this long; 0: never"},
    {"catchup-interval-ms", REPORT_SETTING_INT, "30000", F(catchup_interval_ms), 100, 86400000,
     "ask for missed reports this often"},
    {"catchup-timeout-ms", REPORT_SETTING_INT, "5000", F(catchup_timeout_ms), 100, 3600000,
     "wait for a catch-up answer this long before asking again"},
    {"exec", REPORT_SETTING_STRING, "", F(exec_cmd), 0, 0,
     "a command run by /bin/sh for each report saved, with REPORT_AGENCY, REPORT_PERIOD, "
     "REPORT_VERSION, REPORT_NUMBER, REPORT_SEQ, REPORT_TXT, REPORT_HTML, REPORT_JSON and "
     "REPORT_PDF in its environment (a mail or chat notice, say)"},
    {"exec-timeout-ms", REPORT_SETTING_INT, "60000", F(exec_timeout_ms), 100, 3600000,
     "the --exec command is killed past this"},
    REPORT_SETTINGS_END};
#undef F

void report_subscriber_config_default(report_subscriber_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    report_settings_defaults(report_subscriber_settings, cfg);
}

typedef struct {
    const report_subscriber_config_t *cfg;
    report_endpoints_t catchups; /* the catch-up endpoints, asked one at a time */
    size_t current;              /* the one asked */
    uint64_t failovers;
    void *ctx;
    void *sub;
    void *catchup;
    uint64_t last_seq;
    bool catchup_pending;
    int64_t catchup_sent;
    uint64_t asked_after; /* the last_seq the pending (or last) request was sent with */
    int64_t next_catchup;
    bool caught_up_once;
    int saved;
} s_sub_t;

static void s_load_state(s_sub_t *s)
{
    char *path = report_sprintf("%s/.last-seq", s->cfg->out_dir);
    FILE *f = fopen(path, "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        fclose(f);
    }
    s->last_seq = v;
    free(path);
}

static int s_save_state(s_sub_t *s)
{
    char *path = report_sprintf("%s/.last-seq", s->cfg->out_dir);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)s->last_seq);
    int rc = report_file_replace(path, buf, (size_t)n);
    free(path);
    return rc;
}

static bool s_safe_name(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

bool report_subscriber_report_ok(const report_published_t *r)
{
    char sha[65];
    return r->text && r->agency_code && report_sha256_hex(r->text, strlen(r->text), sha) == 0 &&
           strcmp(sha, r->sha256 ? r->sha256 : "") == 0 && s_safe_name(r->agency_code) &&
           r->year >= REPORT_YEAR_MIN && r->year <= REPORT_YEAR_MAX && r->month >= 1 &&
           r->month <= 12;
}

/* Runs the operator's command for a report just saved, with its files in the environment. Run
 * after the state was saved: a subscriber killed meanwhile does not run it again (at most
 * once; the inbox page shows what arrived either way). */
static void s_exec(s_sub_t *s, const report_published_t *r, char *const paths[5])
{
    char *env[] = {report_sprintf("REPORT_AGENCY=%s", r->agency_code),
                   report_sprintf("REPORT_PERIOD=%04d-%02d", r->year, r->month),
                   report_sprintf("REPORT_VERSION=%d", r->version),
                   report_sprintf("REPORT_NUMBER=%d", r->number),
                   report_sprintf("REPORT_SEQ=%llu", (unsigned long long)r->seq),
                   report_sprintf("REPORT_TXT=%s", paths[0]),
                   report_sprintf("REPORT_HTML=%s", paths[1]),
                   report_sprintf("REPORT_JSON=%s", paths[2]),
                   report_sprintf("REPORT_PDF=%s", paths[3] ? paths[3] : ""),
                   report_sprintf("REPORT_SIGNED_PDF=%s", paths[4] ? paths[4] : ""),
                   NULL};
    char *argv[] = {"/bin/sh", "-c", (char *)s->cfg->exec_cmd, NULL};
    int rc = report_process_run(argv, env, s->cfg->exec_timeout_ms);
    if (rc != 0)
        log_warn("--exec command failed", "seq=%llu status=%d", (unsigned long long)r->seq, rc);
    for (size_t i = 0; env[i]; i++)
        free(env[i]);
}

/* After a report is saved: the inbox page, then the operator's command. */
static void s_after_save(s_sub_t *s, const report_published_t *r, char *const paths[5])
{
    report_error_t err;
    /* without the agency's identifier there is nothing to export to: said at info; any other
     * failure is a warning */
    if (report_export_write(s->cfg->out_dir, r, &err) != 0) {
        if (strcmp(err.code, "no_organ_id") == 0)
            log_info("exports for the document system skipped", "seq=%llu reason=%s",
                     (unsigned long long)r->seq, report_logq(err.message));
        else
            log_warn("exports for the document system not written", "seq=%llu code=%s error=%s",
                     (unsigned long long)r->seq, err.code, report_logq(err.message));
    }
    if (report_inbox_write(s->cfg->out_dir, &err) != 0)
        log_warn("cannot write the inbox page", "error=%s", report_logq(err.message));
    if (s->cfg->exec_cmd && *s->cfg->exec_cmd)
        s_exec(s, r, paths);
}

/* Applies one report: in order, checked, written, then the state advanced. A catch-up answer
 * lists every report stored after the sequence asked for, in order: its next one is the next
 * report even when the sequence jumps (a publish rolled back after taking its number from the
 * bigserial, by db_retry or an aggregator killed mid-transaction, leaves a gap that no report
 * will ever fill). From PUB, a jump is a gap to fetch by catch-up. */
static void s_apply(s_sub_t *s, const report_published_t *r, bool from_catchup)
{
    if (r->seq <= s->last_seq)
        return; /* already have it */
    if (r->seq != s->last_seq + 1 && !from_catchup) {
        /* A gap: fetch what is missing before anything newer. */
        if (!s->catchup_pending)
            s->next_catchup = 0;
        return;
    }
    if (!report_subscriber_report_ok(r)) {
        log_error("report refused: checksum or header mismatch", "seq=%llu",
                  (unsigned long long)r->seq);
        return;
    }
    /* the PDF only for versions that have one (published since PDFs exist); a signed form (a
     * later event of the same version) adds the signed PDF beside them */
    const char *ext[] = {"txt", "html", "json", "pdf", "signed.pdf"};
    const char *body[] = {r->text, r->html ? r->html : "", r->json ? r->json : "",
                          (const char *)r->pdf, (const char *)r->signed_pdf};
    size_t size[] = {strlen(r->text), strlen(body[1]), strlen(body[2]), r->pdf_size,
                     r->signed_size};
    int files = r->signed_pdf ? 5 : r->pdf && r->pdf_size ? 4 : 3;
    char *paths[5] = {NULL, NULL, NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i < files; i++) {
        paths[i] = report_sprintf("%s/%s-%04d-%02d-v%d.%s", s->cfg->out_dir, r->agency_code,
                                  r->year, r->month, r->version, ext[i]);
        if (rc == 0 && report_file_replace(paths[i], body[i], size[i]) != 0)
            rc = -1;
    }
    if (rc == 0) {
        s->last_seq = r->seq;
        rc = s_save_state(s);
    }
    if (rc != 0) {
        log_error("cannot write report files", "dir=%s error=%s", report_logq(s->cfg->out_dir),
                  report_logq(strerror(errno)));
    } else {
        s->saved++;
        if (!s->cfg->quiet)
            printf("received %s%s %04d-%02d version=%d number=%d seq=%llu sha256=%s file=%s "
                   "pdf=%s pages=%d%s%s\n",
                   r->signed_pdf ? "signed " : "", r->agency_code, r->year, r->month, r->version,
                   r->number, (unsigned long long)r->seq, r->sha256, paths[0],
                   paths[r->signed_pdf ? 4 : 3] ? paths[r->signed_pdf ? 4 : 3] : "-", r->pdf_pages,
                   r->signed_pdf ? " signer=" : "", r->signed_pdf ? report_logq(r->signer) : "");
        fflush(stdout);
        s_after_save(s, r, paths);
    }
    for (int i = 0; i < files; i++)
        free(paths[i]);
}

static void s_open_catchup(s_sub_t *s)
{
    if (s->catchup)
        zmq_close(s->catchup);
    s->catchup = zmq_socket(s->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s->catchup, ZMQ_LINGER, &linger, sizeof linger);
    report_heartbeat(s->catchup, REPORT_CLIENT_HEARTBEAT_MS, REPORT_CLIENT_HEARTBEAT_TIMEOUT_MS);
    if (!s->cfg->keys.plain)
        report_curve_client(s->catchup, s->cfg->keys.server_public, &s->cfg->keys.client);
    zmq_connect(s->catchup, s->catchups.endpoint[s->current]);
}

/* Lazy Pirate, and with several aggregators Freelance: the catch-up request got no answer in
 * time; ask again on a fresh socket, to the next aggregator of the list if there is one. */
static void s_catchup_timed_out(s_sub_t *s)
{
    if (s->catchups.count > 1) {
        size_t from = s->current;
        s->current = (s->current + 1) % s->catchups.count;
        s->failovers++;
        log_warn("aggregator not answering, moving on", "from=%s to=%s failovers=%llu",
                 s->catchups.endpoint[from], s->catchups.endpoint[s->current],
                 (unsigned long long)s->failovers);
    }
    s_open_catchup(s);
    s->catchup_pending = false;
    s->next_catchup = 0;
}

static void s_ask(s_sub_t *s)
{
    report_catchup_request_t req = {.agency_code = (char *)s->cfg->agency_code,
                                    .after_seq = s->last_seq};
    size_t size;
    uint8_t *buf = report_catchup_request_encode(&req, &size);
    if (zmq_send(s->catchup, buf, size, ZMQ_DONTWAIT) >= 0) {
        s->catchup_pending = true;
        s->catchup_sent = report_clock_ms();
        s->asked_after = s->last_seq;
    }
    free(buf);
}

static void s_on_catchup(s_sub_t *s)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, s->catchup, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&msg);
        return;
    }
    report_catchup_reply_t reply;
    int rc = report_catchup_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &reply);
    zmq_msg_close(&msg);
    if (rc != 0)
        return;
    if (reply.report)
        s_apply(s, reply.report, true);
    if (reply.end) {
        s->catchup_pending = false;
        /* A round that saved something is followed at once by the next request: it is the
         * receipt for what was saved (the aggregator records it), and it fetches anything
         * published meanwhile. Caught up is a round that brings nothing new. */
        if (s->last_seq > s->asked_after) {
            s->next_catchup = report_clock_ms();
        } else if (reply.more || reply.last_seq > s->last_seq) {
            s->next_catchup = report_clock_ms() + (reply.more ? 0 : 200);
        } else {
            s->caught_up_once = true;
            s->next_catchup = report_clock_ms() + s->cfg->catchup_interval_ms;
        }
    }
    report_catchup_reply_clear(&reply);
}

static void s_on_publish(s_sub_t *s)
{
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&topic, s->sub, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&topic) &&
        zmq_msg_recv(&body, s->sub, ZMQ_DONTWAIT) >= 0 && !zmq_msg_more(&body)) {
        report_published_t *r = report_published_decode(zmq_msg_data(&body), zmq_msg_size(&body));
        /* A notice (no content: an aggregator since receipts) says a publication is there to
         * fetch: ask the catch-up endpoint now, which also records the receipt of what was
         * saved. A whole report (an older aggregator) is applied as it comes. */
        if (r && !*r->sha256 && r->seq > s->last_seq && !s->catchup_pending)
            s->next_catchup = 0;
        else if (r && *r->sha256)
            s_apply(s, r, false);
        report_published_destroy(&r);
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
}

/* Connects the SUB socket to every publisher listed (-1, after logging, if the list or one
 * endpoint is refused). */
static int s_connect_publishers(s_sub_t *s, const report_endpoints_t *publishers)
{
    for (size_t i = 0; i < publishers->count; i++) {
        if (zmq_connect(s->sub, publishers->endpoint[i]) != 0) {
            log_error("cannot connect to publisher", "endpoint=%s error=%s",
                      publishers->endpoint[i], report_logq(zmq_strerror(errno)));
            return -1;
        }
    }
    return 0;
}

int report_subscriber_endpoints_check(const report_subscriber_config_t *cfg,
                                      report_endpoints_t *publishers, report_endpoints_t *catchups,
                                      report_error_t *err)
{
    report_error_t why;
    if (report_endpoints_parse(cfg->publish_endpoint, publishers, &why) != 0)
        return report_error_set(err, why.code, "publish-endpoint: %s", why.message);
    if (report_endpoints_parse(cfg->catchup_endpoint, catchups, &why) != 0)
        return report_error_set(err, why.code, "catchup-endpoint: %s", why.message);
    return 0;
}

int report_subscriber_run(const report_subscriber_config_t *cfg, volatile sig_atomic_t *stop)
{
    s_sub_t s = {.cfg = cfg};
    report_endpoints_t publishers;
    report_error_t err;
    if (report_subscriber_endpoints_check(cfg, &publishers, &s.catchups, &err) != 0) {
        log_error("aggregator endpoints refused", "code=%s error=%s", err.code,
                  report_logq(err.message));
        return -1;
    }
    if (mkdir(cfg->out_dir, 0755) != 0 && errno != EEXIST) {
        log_error("cannot create output directory", "dir=%s error=%s", report_logq(cfg->out_dir),
                  report_logq(strerror(errno)));
        return -1;
    }
    s_load_state(&s);
    s.ctx = zmq_ctx_new();
    s.sub = zmq_socket(s.ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(s.sub, ZMQ_LINGER, &linger, sizeof linger);
    /* A publisher that vanished without closing is noticed and reconnected to. */
    report_heartbeat(s.sub, REPORT_CLIENT_HEARTBEAT_MS, REPORT_CLIENT_HEARTBEAT_TIMEOUT_MS);
    /* Topics are "AGENCY/YYYY-MM": subscribe to the agency's prefix (or everything). */
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s%s", cfg->agency_code, *cfg->agency_code ? "/" : "");
    zmq_setsockopt(s.sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    if (!cfg->keys.plain)
        report_curve_client(s.sub, cfg->keys.server_public, &cfg->keys.client);
    int result = s_connect_publishers(&s, &publishers);
    s_open_catchup(&s);
    int64_t started = report_clock_ms();
    while (result == 0 && !*stop) {
        int64_t now = report_clock_ms();
        if (cfg->deadline_ms > 0 && now - started > cfg->deadline_ms) {
            log_warn("deadline passed", "saved=%d", s.saved);
            result = -1;
            break;
        }
        if (s.catchup_pending && now - s.catchup_sent > cfg->catchup_timeout_ms)
            s_catchup_timed_out(&s);
        if (!s.catchup_pending && now >= s.next_catchup)
            s_ask(&s);
        zmq_pollitem_t items[2] = {{s.sub, 0, ZMQ_POLLIN, 0}, {s.catchup, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 100) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            s_on_publish(&s);
        if (items[1].revents & ZMQ_POLLIN)
            s_on_catchup(&s);
        if (cfg->max_reports > 0 && s.saved >= cfg->max_reports)
            break;
        if (cfg->once && s.caught_up_once && !s.catchup_pending)
            break;
    }
    zmq_close(s.sub);
    zmq_close(s.catchup);
    zmq_ctx_term(s.ctx);
    return result < 0 ? -1 : s.saved;
}
