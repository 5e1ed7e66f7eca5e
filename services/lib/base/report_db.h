/* The one wrapper through which the services talk to PostgreSQL: parameterised statements
 * only, a row callback to parse results, the SQLSTATE kept for the caller, and a clear
 * "connection lost" signal (class 08 or a dead connection) that means "reconnect". */
#ifndef REPORT_DB_H
#define REPORT_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct report_db_t report_db_t;

/* Called once per result row; return 0 to go on, -1 to stop with an error. */
typedef int(report_db_row_fn)(void *arg, const PGresult *result, int row);

/* Called, on the caller's thread, while a statement runs (see report_db_set_wait): waits at
 * most timeout_ms for fd (the connection's socket) to become readable, doing the caller's
 * other work meanwhile, and returns as poll(2) would for that one descriptor (1 readable, 0
 * not yet, -1 with errno). It must not use the handle. */
typedef int(report_db_wait_fn)(void *arg, int fd, int timeout_ms);

/* Creates a handle for conninfo; does not connect. NULL on failure. Where the conninfo
 * does not set them, connections use connect_timeout=10, keepalives=1 (idle 10 s, interval
 * 5 s, count 3) and tcp_user_timeout=15000, so that a dead server or path is noticed. */
report_db_t *report_db_new(const char *conninfo);
/* Closes the connection and frees the handle; accepts NULL; sets *self_p to NULL. */
void report_db_destroy(report_db_t **self_p);

/* Connects (closing any old connection). 0, or -1 with the error kept. */
int report_db_connect(report_db_t *self);
/* Closes the connection, keeping the handle. */
void report_db_disconnect(report_db_t *self);

/* Which server the handle is on, for readiness and metrics. A multi-host conninfo
 * ("host=a,b target_session_attrs=read-write") lets libpq pick the writable server; a
 * connection that reaches another server than the previous connection did is counted as a
 * failover. */
typedef struct {
    char server[128];         /* "host:port" of the connection; "" when not connected */
    char last[128];           /* "host:port" of the last connection made */
    uint64_t failovers;       /* connections that reached another server than the last one */
    int64_t last_failover_ms; /* wall clock of the last of them, 0 before */
} report_db_where_t;
void report_db_where(const report_db_t *self, report_db_where_t *out);
/* Adds w to sum (sessions of one service): failovers summed, the latest failover, and the
 * first session's server where sum has none. */
void report_db_where_add(report_db_where_t *sum, const report_db_where_t *w);
/* True if there is a connection that libpq believes is up. */
bool report_db_connected(report_db_t *self);

/* Runs one parameterised statement (text parameters; NULL entries are SQL NULL) and calls
 * fn for each row returned (fn may be NULL). 0, or -1 with the SQLSTATE and message kept. */
int report_db_query(report_db_t *self, const char *sql, int nparams, const char *const *params,
                    report_db_row_fn *fn, void *arg);
/* One statement of a pipeline: parameterised as in report_db_query, fn (may be NULL) called
 * for each row it returns. */
typedef struct {
    const char *sql;
    int nparams;
    const char *const *params;
    report_db_row_fn *fn;
    void *arg;
} report_db_statement_t;

/* Sends the statements at once (libpq pipeline mode) and reads their results: one round trip
 * however many there are. They run as one implicit transaction, committed (durably, as a
 * COMMIT would be) when the last one succeeds; when one fails, the ones after it are skipped
 * and the whole transaction is rolled back. Must be called outside a transaction block. Row
 * callbacks run as results arrive, so rows of a transaction that then failed may have been
 * seen; their return value is ignored. 0, or -1 with the first failure's SQLSTATE kept (class
 * 08, the connection dropped, when the pipeline could not be finished). */
int report_db_pipeline(report_db_t *self, const report_db_statement_t *stmts, size_t count);

/* Runs a statement without parameters (may hold several statements; used for migrations and
 * BEGIN/COMMIT). 0 or -1. */
int report_db_exec(report_db_t *self, const char *sql);

/* Makes every statement wait for its result in fn (see report_db_wait_fn), called again at
 * least every interval_ms, instead of blocking in libpq: a service whose thread also owns
 * ZeroMQ sockets keeps its heartbeats going while a statement waits on a lock, and goes on
 * receiving while the database works. fn NULL turns it off. */
void report_db_set_wait(report_db_t *self, int interval_ms, report_db_wait_fn *fn, void *arg);

/* Bounds how long a statement's results are waited for, on the client, in milliseconds (0:
 * no bound; only with report_db_set_wait). Past it the statement is cancelled (in a thread
 * of its own, so that a hung path cannot hold the caller), the connection is dropped and
 * the statement fails as connection lost (08006), with report_db_wait_expired true: the
 * server-side statement_timeout cannot fire when the server or the path stops answering. */
void report_db_set_wait_bound(report_db_t *self, int64_t bound_ms);
/* True if the last statement failed because it ran past the wait bound. */
bool report_db_wait_expired(const report_db_t *self);

/* SQLSTATE of the last failure ("" if none), and its message. */
const char *report_db_sqlstate(const report_db_t *self);
const char *report_db_error(const report_db_t *self);
/* True if the last failure means the connection is gone (class 08, 57P: the server shut
 * down, 25006: the server is a standby now, or the connection is bad): the caller should
 * reconnect and retry. */
bool report_db_connection_lost(const report_db_t *self);
/* True if the same statements may succeed when tried again: every failure except those about
 * the data the statement carried (SQLSTATE class 22, data exception; 23, integrity constraint
 * violation; 54, program limit exceeded: only those may refuse a row). Besides the connection
 * lost, lock_timeout (55P03), statement_timeout (57014), idle_in_transaction_session_timeout
 * (25P03), serialization failure (40001) and deadlock (40P01), this takes in a read-only session
 * after a failover (25006), disk full (53100), out of memory (53200), I/O errors (58030), an
 * unknown commit outcome (40003), missing privileges or schema (42xxx): none says anything about
 * the data, and none may refuse it. */
bool report_db_retryable(const report_db_t *self);

/* Bounds, for this session, how long a lock may be waited for, a statement may run and a
 * transaction may stay idle, in milliseconds (0: no bound). Running into one is a
 * report_db_retryable failure. 0 or -1. */
int report_db_bound_session(report_db_t *self, int64_t lock_ms, int64_t statement_ms,
                            int64_t idle_ms);

/* The conninfo with any password replaced by "***", for logs. Caller frees. */
char *report_db_scrub(const char *conninfo);

/* Applies the embedded migrations not yet applied, each in its own transaction under an
 * advisory lock so that several processes may start at once. 0 or -1. */
int report_db_migrate(report_db_t *self);

/* Reads a setting with SHOW; returns a new string or NULL. */
char *report_db_show(report_db_t *self, const char *name);

#endif
