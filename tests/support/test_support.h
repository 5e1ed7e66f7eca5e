/* Helpers shared by the tests: private databases on the test PostgreSQL server, an
 * in-process collector and store on real sockets, raw sockets for hostile input. */
#ifndef TEST_SUPPORT_H
#define TEST_SUPPORT_H

#include "report_aggregator.h"
#include "report_push.h"
#include "report_collector.h"
#include "report_keys.h"
#include "report_db.h"
#include "report_store.h"
#include "report_update.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The requesting document the July 2018 report cites (its legal-basis paragraph). */
#define TEST_BASIS                                                                                                  \
    "Công văn số 2026/UBND-TH ngày 04 tháng 7 năm 2018 của Ủy ban nhân dân tỉnh về việc đổi " \
    "mới, nâng cao chất lượng các báo cáo kinh tế - xã hội"

/* A fresh database (migrations not applied) on the server named by REPORT_TEST_PG. */
typedef struct {
    char name[64];
    char conninfo[512];          /* as the test server's superuser */
    char ingest_conninfo[600];   /* as report_ingest (the store's role) */
    char reporter_conninfo[600]; /* as report_reporter (the aggregator's role) */
} test_db_t;

void test_db_create(test_db_t *db);
void test_db_drop(test_db_t *db);
/* Runs a query on db and returns the first column of the first row (caller frees), or NULL. */
char *test_db_value(const test_db_t *db, const char *sql);
/* Runs a statement; cr_asserts success. */
void test_db_exec(const test_db_t *db, const char *sql);
/* cr_asserts that test_db_value(sql) equals expected. */
void test_db_assert_value(const test_db_t *db, const char *sql, const char *expected);
/* Polls until test_db_value(sql) equals expected or timeout_ms passes; true if it did. */
bool test_db_wait_value(const test_db_t *db, const char *sql, const char *expected, int timeout_ms);

/* Applies the migrations as the superuser (what reportctl migrate does). */
void test_db_migrate(const test_db_t *db);

/* Collector and store(s) running in this process against db. */
typedef struct {
    test_db_t db;
    report_collector_t *collector;
    report_store_t *stores[4];
    size_t store_count;
} test_stack_t;

/* Test defaults of a collector: loopback ports chosen by the system, the test keys. */
void test_collector_config(report_collector_config_t *cfg);

/* Creates a database, starts a collector (cfg may be NULL for defaults) and store_count
 * stores, and waits until the stores have connected, migrated and reported in. */
void test_stack_start(test_stack_t *stack, const report_collector_config_t *cfg,
                      size_t store_count);
void test_stack_stop(test_stack_t *stack);
/* Starts one more store against the stack's collector and database. */
report_store_t *test_store_start(test_stack_t *stack);
/* Fills cfg with the test defaults of a store of stack (what test_store_start uses), for a
 * test to change before test_store_start_config; free it with test_store_config_free. */
void test_store_config(test_stack_t *stack, report_store_config_t *cfg);
void test_store_config_free(report_store_config_t *cfg);
/* Starts a store with cfg; asserts it started. The caller adds it to stack->stores. */
report_store_t *test_store_start_config(test_stack_t *stack, const report_store_config_t *cfg);
/* Waits until stack->store_count stores have reported in to the collector and the schema is
 * there; asserts. */
void test_stack_wait_stores(test_stack_t *stack);

/* The test keys directory (made on first use, removed at exit): server.key/.pub, a key pair
 * per unit of the seed (units/CODE.pub, secret in DIR/clients/CODE.key), a store
 * (stores/store.pub, DIR/clients/store.key), an operator "office" and a recipient "leader". */
const char *test_keys_dir(void);
/* Client keys of who (a unit code, "store", "office", "leader") for the test server. */
report_client_keys_t test_client_keys(const char *who);
/* Makes a key pair for who and enrols it as KIND (e.g. a unit the database does not know). */
void test_enrol(const char *kind, const char *who);
/* Path of who's secret key file. Caller frees. */
char *test_key_path(const char *who);

/* Pushes updates through the stack's collector, each with its own unit's key (a unit may
 * push only for itself); replies in the order of updates. Returns 0 if all STORED/DUPLICATE. */
int test_push(test_stack_t *stack, report_update_t *const *updates, size_t count,
              report_reply_t *replies);

/* Pushes one update on a connection of its own unit's key and waits up to timeout_ms for the
 * reply (cr_asserts that one comes). */
report_reply_t test_push_one(test_stack_t *stack, int timeout_ms, const report_update_t *u);

/* Pushes the sample months deploy/sample/2018-01.json .. 2018-MM.json; asserts each update
 * was STORED or DUPLICATE. */
void test_push_samples(test_stack_t *stack, int last_month);

/* Starts an aggregator on the stack's database (as report_reporter) on loopback ports, with
 * the test keys; status_period may be NULL. */
struct report_aggregator_t *test_aggregator_start(test_stack_t *stack, const char *status_period);
/* The test defaults of an aggregator of stack (what test_aggregator_start uses), for a test to
 * change before test_aggregator_start_config (asserts it started). */
void test_aggregator_config(test_stack_t *stack, report_aggregator_config_t *cfg);
struct report_aggregator_t *test_aggregator_start_config(const report_aggregator_config_t *cfg);

/* A valid update for THANH_TRA, 2018-07, with a fresh random id and the given item key. */
report_update_t *test_update_new(const char *item_key);
/* count such updates, item keys PREFIX-0, PREFIX-1, ... (free with report_updates_free). */
report_update_t **test_updates_new(const char *prefix, size_t count);
/* Writes THANH_TRA's updates (made by test_update_new) to path as a push file (the JSON
 * `reportctl push` reads); cr_asserts it was written. */
void test_push_file_write(const char *path, report_update_t *const *list, size_t count);

/* A raw DEALER socket to a collector. */
typedef struct {
    void *ctx;
    void *sock;
} test_peer_t;

/* Opens a peer with THANH_TRA's key; test_peer_open_as with who = NULL opens one without
 * CURVE, with who = "" opens one with a fresh key nobody enrolled. */
void test_peer_open(test_peer_t *peer, const char *endpoint);
void test_peer_open_as(test_peer_t *peer, const char *endpoint, const char *who);
void test_peer_close(test_peer_t *peer);
void test_peer_send(test_peer_t *peer, const void *data, size_t size);
void test_peer_send_update(test_peer_t *peer, const report_update_t *update);
/* Waits up to timeout_ms for a reply; 0 and *reply filled, or -1 on timeout. */
int test_peer_recv(test_peer_t *peer, report_reply_t *reply, int timeout_ms);

/* Stops / starts the test PostgreSQL server (deploy/pg.sh). */
void test_pg_stop(void);
void test_pg_start(void);

/* Starts PROGRAM of the build under test (REPORT_BIN_DIR) with args (NULL-ended), the
 * environment plus env ("NAME=value", NULL-ended; may be NULL), stdout and stderr appended to
 * the file log; it gets SIGKILL when the test process dies. Returns its pid (cr_asserts the
 * fork). */
pid_t test_program_start(const char *program, char *const args[], char *const env[],
                         const char *log);
/* SIGTERM to pid, then waits up to timeout_ms (SIGKILL after): its exit status, or -1 if it
 * was killed or died of a signal. */
int test_program_stop(pid_t pid, int timeout_ms);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
int test_free_port(void);

/* The whole content of a file, NUL-terminated (caller frees), or NULL if it cannot be read. */
/* Runs a shell command made from fmt, waits for it, and returns its exit status (-1 when it
 * did not exit); its standard output (test_run) or output and errors together (test_run_all)
 * go to *out when out is not NULL (caller frees; never NULL then). */
int test_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int test_run_all(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *test_read_file(const char *path);

/* Path of a file under the repository root. Caller frees. */
char *test_repo_path(const char *relative);

/* One HTTP exchange on a raw socket to 127.0.0.1:port: sends request as it is and reads until
 * the server closes. Returns all bytes read, NUL-terminated (caller frees; *len their count
 * if len is not NULL), or NULL if it cannot connect or the server does not close within
 * timeout_ms. */
char *test_http_raw(int port, const char *request, int timeout_ms, size_t *len);
/* The value of header name (case-insensitive) in a raw HTTP answer, in buf (size bytes);
 * false if absent. */
bool test_http_header(const char *answer, const char *name, char *buf, size_t size);

/* Clients that connect to 127.0.0.1:port from address `from` (e.g. "127.0.0.2"), send a partial
 * request and hold the connection, each re-opened as soon as the server drops it, in a thread
 * of their own: the slow clients that must not starve an HTTP endpoint. NULL if no connection
 * from `from` to the port can be made. (No Criterion asserts: deploy/bench_http.sh uses it.) */
typedef struct test_slow_clients_t test_slow_clients_t;
test_slow_clients_t *test_slow_clients_start(const char *from, int port, int count);
/* Stops and closes them; returns how many connections were opened in all. */
size_t test_slow_clients_stop(test_slow_clients_t **self_p);

#endif
