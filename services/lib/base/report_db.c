/* PostgreSQL access through one small wrapper (after pg_auto_failover's pgsql.c). */
#include "report_db.h"
#include "report_error.h"
#include "report_log.h"
#include "report_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The advisory lock under which one process at a time applies migrations (any other number
 * our code never takes as an advisory lock would do; 5570 is the collector's port). */
#define S_MIGRATION_LOCK "5570"

struct report_db_t {
    char *conninfo;
    PGconn *conn;
    report_error_t error; /* the last failure: code is its SQLSTATE */
    report_db_wait_fn *wait_fn;
    void *wait_arg;
    int wait_ms;
    int64_t bound_ms; /* longest wait for a statement's results (0: none) */
    bool expired;     /* the last statement ran past bound_ms: connection dropped */
    report_db_where_t where;
};

report_db_t *report_db_new(const char *conninfo)
{
    report_db_t *self = report_calloc(1, sizeof *self);
    self->conninfo = report_strdup(conninfo);
    return self;
}

void report_db_destroy(report_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_db_t *self = *self_p;
    report_db_disconnect(self);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}

static void s_keep_error(report_db_t *self, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;
    if (!msg || !*msg)
        msg = self->conn ? PQerrorMessage(self->conn) : "no connection";
    report_error_set(&self->error, state, "%s", msg);
}

/* Server notices ("relation already exists, skipping") go to the log, not raw to stderr. */
static void s_notice(void *arg, const char *message)
{
    (void)arg;
    char line[512];
    snprintf(line, sizeof line, "%s", message);
    line[strcspn(line, "\n")] = '\0';
    log_debug("database notice", "notice=%s", report_logq(line));
}

/* Defaults for what the conninfo leaves unset, so that a dead server or network path is
 * noticed by the kernel and libpq rather than waited on forever. They come first: keywords
 * are processed in order and the conninfo, expanded from dbname, overrides them. */
static const char *const s_default_keys[] = {
    "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "dbname",          NULL};

/* Records which of the conninfo's servers this connection reached (a multi-host conninfo
 * names several; target_session_attrs picks the writable one), and a failover when it is not
 * the one the last connection reached. */
static void s_note_server(report_db_t *self)
{
    char server[sizeof self->where.server];
    const char *host = PQhost(self->conn), *port = PQport(self->conn);
    snprintf(server, sizeof server, "%s:%s", host && *host ? host : "local", port ? port : "");
    report_db_where_t *w = &self->where;
    if (w->last[0] && strcmp(w->last, server) != 0) {
        w->failovers++;
        w->last_failover_ms = report_wall_ms();
        log_warn("database server changed", "from=%s to=%s failovers=%llu", report_logq(w->last),
                 report_logq(server), (unsigned long long)w->failovers);
    }
    snprintf(w->server, sizeof w->server, "%s", server);
    snprintf(w->last, sizeof w->last, "%s", server);
}

int report_db_connect(report_db_t *self)
{
    report_db_disconnect(self);
    self->expired = false;
    const char *values[] = {"10", "1", "10", "5", "3", "15000", self->conninfo, NULL};
    self->conn = PQconnectdbParams(s_default_keys, values, 1);
    if (PQstatus(self->conn) != CONNECTION_OK) {
        s_keep_error(self, NULL);
        snprintf(self->error.code, sizeof self->error.code, "08001");
        report_db_disconnect(self);
        return -1;
    }
    PQsetNoticeProcessor(self->conn, s_notice, NULL);
    /* Messages are UTF-8 end to end; NFC is guaranteed by the validator. */
    PQsetClientEncoding(self->conn, "UTF8");
    report_error_clear(&self->error);
    s_note_server(self);
    return 0;
}

void report_db_disconnect(report_db_t *self)
{
    if (self->conn) {
        PQfinish(self->conn);
        self->conn = NULL;
    }
    self->where.server[0] = '\0';
}

void report_db_where(const report_db_t *self, report_db_where_t *out)
{
    *out = self->where;
}

void report_db_where_add(report_db_where_t *sum, const report_db_where_t *w)
{
    if (!sum->server[0])
        snprintf(sum->server, sizeof sum->server, "%s", w->server);
    if (!sum->last[0])
        snprintf(sum->last, sizeof sum->last, "%s", w->last);
    sum->failovers += w->failovers;
    if (w->last_failover_ms > sum->last_failover_ms)
        sum->last_failover_ms = w->last_failover_ms;
}

bool report_db_connected(report_db_t *self)
{
    return self->conn && PQstatus(self->conn) == CONNECTION_OK;
}

static int s_check(report_db_t *self, PGresult *res, report_db_row_fn *fn, void *arg)
{
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        s_keep_error(self, res);
        if (!report_db_connected(self) && self->error.code[0] == '\0')
            snprintf(self->error.code, sizeof self->error.code, "08006");
        PQclear(res);
        return -1;
    }
    int rc = 0;
    if (fn) {
        int rows = PQntuples(res);
        for (int i = 0; i < rows && rc == 0; i++)
            rc = fn(arg, res, i);
        if (rc != 0) {
            snprintf(self->error.code, sizeof self->error.code, "XX000");
            snprintf(self->error.message, sizeof self->error.message, "unexpected result row");
        }
    }
    PQclear(res);
    return rc;
}

void report_db_set_wait(report_db_t *self, int interval_ms, report_db_wait_fn *fn, void *arg)
{
    self->wait_fn = fn;
    self->wait_arg = arg;
    self->wait_ms = interval_ms > 0 ? interval_ms : 100;
}

void report_db_set_wait_bound(report_db_t *self, int64_t bound_ms)
{
    self->bound_ms = bound_ms > 0 ? bound_ms : 0;
}

bool report_db_wait_expired(const report_db_t *self)
{
    return self->expired;
}

/* PQcancel opens a connection of its own and may block as long as the path to the server is
 * hung: it runs in a thread of its own, which owns the cancel object. */
static void *s_cancel_thread(void *arg)
{
    PGcancel *cancel = arg;
    char err[256];
    PQcancel(cancel, err, sizeof err);
    PQfreeCancel(cancel);
    return NULL;
}

static void s_cancel_detached(PGconn *conn)
{
    PGcancel *cancel = PQgetCancel(conn);
    if (!cancel)
        return;
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, s_cancel_thread, cancel) != 0)
        PQfreeCancel(cancel);
    pthread_attr_destroy(&attr);
}

/* Waits for the results of the statement just sent, calling the wait hook between polls of
 * the socket, and returns what PQexec would: the first failed result, else the last one
 * (NULL if the connection broke before any result). Past bound_ms without the results the
 * statement is cancelled, the connection dropped and NULL returned with expired set: a
 * server or path that stopped answering cannot hold the caller (statement_timeout is the
 * server's and cannot fire then). */
static int64_t s_deadline(const report_db_t *self)
{
    return self->bound_ms ? report_clock_ms() + self->bound_ms : 0;
}

/* Waits, in the wait hook, until a result can be read without blocking (or the connection
 * broke: PQgetResult then says so). False past the deadline, with the statement cancelled
 * and the connection dropped. */
static bool s_wait_ready(report_db_t *self, int64_t deadline)
{
    while (self->wait_fn && PQisBusy(self->conn)) {
        if (deadline && report_clock_ms() >= deadline) {
            s_cancel_detached(self->conn);
            report_db_disconnect(self);
            self->expired = true;
            return false;
        }
        int fd = PQsocket(self->conn);
        if (fd < 0)
            break;
        int n = self->wait_fn(self->wait_arg, fd, self->wait_ms);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && !PQconsumeInput(self->conn))
            break;
    }
    return true;
}

static PGresult *s_wait_results(report_db_t *self)
{
    PGresult *keep = NULL;
    int64_t deadline = s_deadline(self);
    for (;;) {
        if (!s_wait_ready(self, deadline)) {
            PQclear(keep);
            return NULL;
        }
        PGresult *res = PQgetResult(self->conn);
        if (!res)
            break;
        ExecStatusType st = keep ? PQresultStatus(keep) : PGRES_COMMAND_OK;
        if (keep && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            PQclear(res);
        } else {
            PQclear(keep);
            keep = res;
        }
        if (PQstatus(self->conn) == CONNECTION_BAD)
            break;
    }
    return keep;
}

/* The statement ran past the bound: the connection is gone (class 08). */
static int s_expired(report_db_t *self)
{
    snprintf(self->error.code, sizeof self->error.code, "08006");
    snprintf(self->error.message, sizeof self->error.message,
             "no answer from the server within %lld ms: statement cancelled, connection dropped",
             (long long)self->bound_ms);
    return -1;
}

static int s_await(report_db_t *self, report_db_row_fn *fn, void *arg)
{
    PGresult *res = s_wait_results(self);
    if (self->expired)
        return s_expired(self);
    return s_check(self, res, fn, arg);
}

static bool s_not_connected(report_db_t *self)
{
    if (self->conn)
        return false;
    snprintf(self->error.code, sizeof self->error.code, "08003");
    snprintf(self->error.message, sizeof self->error.message, "not connected");
    return true;
}

/* PQsend* failed: the connection is gone or the statement could not be sent. */
static int s_send_failed(report_db_t *self)
{
    s_keep_error(self, NULL);
    snprintf(self->error.code, sizeof self->error.code, "%s",
             PQstatus(self->conn) == CONNECTION_BAD ? "08006" : "XX000");
    return -1;
}

int report_db_query(report_db_t *self, const char *sql, int nparams, const char *const *params,
                    report_db_row_fn *fn, void *arg)
{
    self->expired = false;
    if (s_not_connected(self))
        return -1;
    if (!self->wait_fn)
        return s_check(self, PQexecParams(self->conn, sql, nparams, NULL, params, NULL, NULL, 0),
                       fn, arg);
    if (!PQsendQueryParams(self->conn, sql, nparams, NULL, params, NULL, NULL, 0))
        return s_send_failed(self);
    return s_await(self, fn, arg);
}

int report_db_exec(report_db_t *self, const char *sql)
{
    self->expired = false;
    if (s_not_connected(self))
        return -1;
    if (!self->wait_fn)
        return s_check(self, PQexec(self->conn, sql), NULL, NULL);
    if (!PQsendQuery(self->conn, sql))
        return s_send_failed(self);
    return s_await(self, NULL, NULL);
}

/* The pipeline cannot be finished: drop the connection (class 08 for the caller). */
static int s_pipeline_broken(report_db_t *self, const PGresult *res)
{
    s_keep_error(self, res);
    snprintf(self->error.code, sizeof self->error.code, "08006");
    report_db_disconnect(self);
    return -1;
}

int report_db_pipeline(report_db_t *self, const report_db_statement_t *stmts, size_t count)
{
    self->expired = false;
    if (s_not_connected(self))
        return -1;
    if (count == 0)
        return 0;
    PGconn *conn = self->conn;
    if (!PQenterPipelineMode(conn))
        return s_send_failed(self);
    for (size_t i = 0; i < count; i++)
        if (!PQsendQueryParams(conn, stmts[i].sql, stmts[i].nparams, NULL, stmts[i].params, NULL,
                               NULL, 0))
            return s_pipeline_broken(self, NULL);
    if (!PQpipelineSync(conn))
        return s_pipeline_broken(self, NULL);
    /* Each statement's results end with a NULL; the sync's result comes last. */
    int64_t deadline = s_deadline(self);
    size_t current = 0;
    bool failed = false;
    for (;;) {
        if (!s_wait_ready(self, deadline))
            return s_expired(self);
        PGresult *res = PQgetResult(conn);
        if (!res) {
            if (PQstatus(conn) == CONNECTION_BAD || ++current > count)
                return s_pipeline_broken(self, NULL);
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if (st == PGRES_TUPLES_OK && !failed && current < count && stmts[current].fn) {
            int rows = PQntuples(res);
            for (int r = 0; r < rows; r++)
                stmts[current].fn(stmts[current].arg, res, r);
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
                   st != PGRES_PIPELINE_ABORTED && !failed) {
            failed = true;
            s_keep_error(self, res);
        }
        bool bad = PQstatus(conn) == CONNECTION_BAD;
        PQclear(res);
        if (bad)
            return s_pipeline_broken(self, NULL);
    }
    if (!PQexitPipelineMode(conn))
        return s_pipeline_broken(self, NULL);
    return failed ? -1 : 0;
}

const char *report_db_sqlstate(const report_db_t *self)
{
    return self->error.code;
}

const char *report_db_error(const report_db_t *self)
{
    return self->error.message;
}

bool report_db_connection_lost(const report_db_t *self)
{
    /* 25006: this session cannot write, the server being a standby now (a failover demoted
     * it): only another connection, to the new primary, can commit. */
    if (strncmp(self->error.code, "08", 2) == 0 || strncmp(self->error.code, "57P", 3) == 0 ||
        strcmp(self->error.code, "25006") == 0)
        return true;
    return !self->conn || PQstatus(self->conn) != CONNECTION_OK;
}

/* True if the last failure is about the data the statement carried: SQLSTATE class 22 (data
 * exception), 23 (integrity constraint violation) or 54 (program limit exceeded, a row too
 * big, say). Only such a failure may refuse a row. */
static bool s_refuses_data(const report_db_t *self)
{
    return strncmp(self->error.code, "22", 2) == 0 || strncmp(self->error.code, "23", 2) == 0 ||
           strncmp(self->error.code, "54", 2) == 0;
}

bool report_db_retryable(const report_db_t *self)
{
    if (report_db_connection_lost(self))
        return true;
    return !s_refuses_data(self);
}

int report_db_bound_session(report_db_t *self, int64_t lock_ms, int64_t statement_ms,
                            int64_t idle_ms)
{
    char lock[24], statement[24], idle[24];
    snprintf(lock, sizeof lock, "%lld", (long long)lock_ms);
    snprintf(statement, sizeof statement, "%lld", (long long)statement_ms);
    snprintf(idle, sizeof idle, "%lld", (long long)idle_ms);
    const char *params[] = {lock, statement, idle};
    return report_db_query(self,
                           "SELECT set_config('lock_timeout', $1, false),"
                           " set_config('statement_timeout', $2, false),"
                           " set_config('idle_in_transaction_session_timeout', $3, false)",
                           3, params, NULL, NULL);
}

char *report_db_scrub(const char *conninfo)
{
    report_buf_t out;
    report_buf_init(&out);
    const char *p = conninfo;
    while (*p) {
        const char *key = strstr(p, "password");
        if (!key) {
            report_buf_adds(&out, p);
            break;
        }
        const char *eq = key + 8;
        while (*eq == ' ')
            eq++;
        if (*eq != '=') {
            report_buf_add(&out, p, (size_t)(eq - p));
            p = eq;
            continue;
        }
        report_buf_add(&out, p, (size_t)(eq + 1 - p));
        report_buf_adds(&out, "***");
        const char *v = eq + 1;
        while (*v == ' ')
            v++;
        if (*v == '\'') {
            for (v++; *v && *v != '\''; v++)
                if (*v == '\\' && v[1])
                    v++;
            if (*v)
                v++;
        } else {
            while (*v && *v != ' ')
                v++;
        }
        p = v;
    }
    /* URIs: postgresql://user:secret@host */
    char *s = report_buf_take(&out);
    char *scheme = strstr(s, "://");
    if (scheme) {
        char *at = strchr(scheme + 3, '@');
        char *colon = strchr(scheme + 3, ':');
        if (at && colon && colon < at) {
            char *t = report_sprintf("%.*s:***%s", (int)(colon - s), s, at);
            free(s);
            s = t;
        }
    }
    return s;
}

typedef struct {
    const char *name;
    const char *sql;
} s_migration_t;

extern const s_migration_t report_migrations[];
extern const size_t report_migration_count;

static int s_row_exists(void *arg, const PGresult *res, int row)
{
    *(bool *)arg = true;
    return 0;
}

static int s_applied(report_db_t *self, const char *name, bool *applied)
{
    const char *params[] = {name};
    *applied = false;
    return report_db_query(self, "SELECT 1 FROM schema_migrations WHERE name = $1", 1, params,
                           s_row_exists, applied);
}

int report_db_migrate(report_db_t *self)
{
    /* Look before touching anything: a service connected as a role without DDL rights
     * (report_ingest, say) finds every migration applied and does nothing. */
    bool exists = false;
    if (report_db_query(self, "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL", 0,
                        NULL, s_row_exists, &exists) != 0)
        return -1;
    if (!exists && report_db_exec(self, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                        " name text PRIMARY KEY,"
                                        " applied_at timestamptz NOT NULL DEFAULT now())") != 0) {
        /* Two processes creating it at once: one wins, the other sees a unique violation. */
        if (strcmp(self->error.code, "23505") != 0 && strcmp(self->error.code, "42P07") != 0)
            return -1;
    }
    for (size_t i = 0; i < report_migration_count; i++) {
        const char *name = report_migrations[i].name;
        bool applied = false;
        if (s_applied(self, name, &applied) != 0)
            return -1;
        if (applied)
            continue;
        if (report_db_exec(self, "BEGIN") != 0)
            return -1;
        const char *params[] = {name};
        int rc = report_db_exec(self, "SELECT pg_advisory_xact_lock(" S_MIGRATION_LOCK ")");
        if (rc == 0)
            rc = s_applied(self, name, &applied); /* someone else may have just done it */
        if (rc == 0 && !applied) {
            rc = report_db_exec(self, report_migrations[i].sql);
            if (rc == 0)
                rc = report_db_query(self, "INSERT INTO schema_migrations (name) VALUES ($1)", 1,
                                     params, NULL, NULL);
            if (rc == 0)
                log_info("migration applied", "name=%s", name);
        }
        if (rc != 0) {
            log_error("migration failed", "name=%s sqlstate=%s error=%s hint=%s", name,
                      self->error.code, report_logq(self->error.message),
                      report_logq("apply migrations as the owner: reportctl migrate --db ..."));
            report_error_t failure = self->error;
            report_db_exec(self, "ROLLBACK");
            self->error = failure;
            return -1;
        }
        if (report_db_exec(self, "COMMIT") != 0)
            return -1;
    }
    return 0;
}

static int s_first_value(void *arg, const PGresult *res, int row)
{
    char **out = arg;
    if (!*out)
        *out = report_strdup(PQgetvalue(res, row, 0));
    return 0;
}

char *report_db_show(report_db_t *self, const char *name)
{
    const char *params[] = {name};
    char *value = NULL;
    if (report_db_query(self, "SELECT current_setting($1)", 1, params, s_first_value, &value) != 0)
        return NULL;
    return value;
}
