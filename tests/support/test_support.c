/* Test helpers: real PostgreSQL databases, real ZeroMQ sockets, the real services. */
#define _GNU_SOURCE
#include "test_support.h"
#include "report_aggregator.h"
#include "report_codec.h"
#include "report_json.h"
#include "report_file.h"
#include "report_util.h"
#include "report_zap.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uuid/uuid.h>
#include <zmq.h>

static const char *s_admin(void)
{
    const char *pg = getenv("REPORT_TEST_PG");
    cr_assert(pg, "REPORT_TEST_PG is not set: run the tests with ./tests/run.sh");
    return pg;
}

static void s_admin_exec(const char *sql)
{
    report_db_t *db = report_db_new(s_admin());
    cr_assert_eq(report_db_connect(db), 0, "cannot connect to the test server: %s",
                 report_db_error(db));
    cr_assert_eq(report_db_exec(db, sql), 0, "%s: %s", sql, report_db_error(db));
    report_db_destroy(&db);
}

void test_db_create(test_db_t *db)
{
    static int counter;
    snprintf(db->name, sizeof db->name, "t_%d_%d_%u", (int)getpid(), counter++,
             report_random(1000000));
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db->name);
    s_admin_exec(sql);
    snprintf(db->conninfo, sizeof db->conninfo, "%s dbname=%s", s_admin(), db->name);
    snprintf(db->ingest_conninfo, sizeof db->ingest_conninfo, "%s user=report_ingest",
             db->conninfo);
    snprintf(db->reporter_conninfo, sizeof db->reporter_conninfo, "%s user=report_reporter",
             db->conninfo);
}

void test_db_migrate(const test_db_t *db)
{
    report_db_t *conn = report_db_new(db->conninfo);
    cr_assert_eq(report_db_connect(conn), 0, "connect: %s", report_db_error(conn));
    cr_assert_eq(report_db_migrate(conn), 0, "migrate: %s", report_db_error(conn));
    report_db_destroy(&conn);
}

void test_db_drop(test_db_t *db)
{
    if (!db->name[0])
        return;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
    s_admin_exec(sql);
    db->name[0] = '\0';
}

static int s_first(void *arg, const PGresult *res, int row)
{
    char **out = arg;
    if (!*out)
        *out = report_strdup(PQgetisnull(res, row, 0) ? "NULL" : PQgetvalue(res, row, 0));
    return 0;
}

char *test_db_value(const test_db_t *db, const char *sql)
{
    report_db_t *conn = report_db_new(db->conninfo);
    char *value = NULL;
    if (report_db_connect(conn) == 0)
        report_db_query(conn, sql, 0, NULL, s_first, &value);
    report_db_destroy(&conn);
    return value;
}

void test_db_exec(const test_db_t *db, const char *sql)
{
    report_db_t *conn = report_db_new(db->conninfo);
    cr_assert_eq(report_db_connect(conn), 0, "connect: %s", report_db_error(conn));
    cr_assert_eq(report_db_exec(conn, sql), 0, "%s: %s", sql, report_db_error(conn));
    report_db_destroy(&conn);
}

void test_db_assert_value(const test_db_t *db, const char *sql, const char *expected)
{
    char *v = test_db_value(db, sql);
    cr_assert(v, "no value for %s", sql);
    cr_assert_str_eq(v, expected, "%s", sql);
    free(v);
}

bool test_db_wait_value(const test_db_t *db, const char *sql, const char *expected, int timeout_ms)
{
    int64_t end = report_clock_ms() + timeout_ms;
    do {
        char *v = test_db_value(db, sql);
        bool ok = v && strcmp(v, expected) == 0;
        free(v);
        if (ok)
            return true;
        usleep(20 * 1000);
    } while (report_clock_ms() < end);
    return false;
}

static char s_keys_dir[256];

static void s_remove_keys(void)
{
    if (!s_keys_dir[0])
        return;
    char *cmd = report_sprintf("rm -rf '%s'", s_keys_dir);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
}

const char *test_keys_dir(void)
{
    if (s_keys_dir[0])
        return s_keys_dir;
    snprintf(s_keys_dir, sizeof s_keys_dir, "/tmp/report-test-keys-%d-%u", (int)getpid(),
             report_random(1000000));
    cr_assert_eq(mkdir(s_keys_dir, 0700), 0);
    char *clients = report_sprintf("%s/clients", s_keys_dir);
    cr_assert_eq(mkdir(clients, 0700), 0);
    char *server = report_sprintf("%s/server", s_keys_dir);
    cr_assert_eq(report_keys_generate(server, NULL), 0);
    static const char *who[][2] = {
        {"VAN_PHONG", "unit"}, {"THANH_TRA", "unit"},  {"CHI_CUC_TDC", "unit"},
        {"QLKH", "unit"},      {"QLCN", "unit"},       {"TT_TTUD", "unit"},
        {"store", "store"},    {"office", "operator"}, {"leader", "recipient"}};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        char *stem = report_sprintf("%s/%s", clients, who[i][0]);
        report_keypair_t pair;
        cr_assert_eq(report_keys_generate(stem, &pair), 0);
        report_error_t err;
        cr_assert_eq(report_keys_enrol(s_keys_dir, who[i][1], who[i][0], pair.public_key, &err), 0,
                     "%s", err.message);
        free(stem);
    }
    free(server);
    free(clients);
    atexit(s_remove_keys);
    return s_keys_dir;
}

void test_enrol(const char *kind, const char *who)
{
    char *stem = report_sprintf("%s/clients/%s", test_keys_dir(), who);
    report_keypair_t pair;
    cr_assert_eq(report_keys_generate(stem, &pair), 0);
    report_error_t err;
    cr_assert_eq(report_keys_enrol(s_keys_dir, kind, who, pair.public_key, &err), 0, "%s",
                 err.message);
    free(stem);
}

char *test_key_path(const char *who)
{
    return report_sprintf("%s/clients/%s.key", test_keys_dir(), who);
}

report_client_keys_t test_client_keys(const char *who)
{
    report_client_keys_t keys;
    char *key = test_key_path(who);
    char *server = report_sprintf("%s/server.pub", test_keys_dir());
    report_error_t err;
    cr_assert_eq(report_client_keys_load(key, server, false, &keys, &err), 0, "%s", err.message);
    free(key);
    free(server);
    return keys;
}

int test_push(test_stack_t *stack, report_update_t *const *updates, size_t count,
              report_reply_t *replies)
{
    report_client_config_t cc;
    report_client_config_default(&cc);
    cc.endpoint = report_collector_endpoint(stack->collector);
    cc.keys = test_client_keys("THANH_TRA"); /* the server key; the pair is per unit */
    char *dir = report_sprintf("%s/clients", test_keys_dir());
    int rc = report_client_push_by_unit(&cc, dir, updates, count, replies);
    free(dir);
    return rc;
}

report_reply_t test_push_one(test_stack_t *stack, int timeout_ms, const report_update_t *u)
{
    test_peer_t peer;
    test_peer_open_as(&peer, report_collector_endpoint(stack->collector), u->unit_code);
    test_peer_send_update(&peer, u);
    report_reply_t reply;
    cr_assert_eq(test_peer_recv(&peer, &reply, timeout_ms), 0, "no reply");
    test_peer_close(&peer);
    return reply;
}

report_store_t *test_store_start(test_stack_t *stack)
{
    report_store_config_t cfg;
    report_store_config_default(&cfg);
    char *key = test_key_path("store");
    char *server = report_sprintf("%s/server.pub", test_keys_dir());
    cfg.key = key;
    cfg.collector_key = server;
    cfg.db = stack->db.ingest_conninfo;
    cfg.collectors = (char *)report_collector_store_endpoint(stack->collector);
    cfg.heartbeat_ms = 100;
    cfg.reconnect_max_ms = 500;
    cfg.writers = 1; /* a test's store is one session; test_ingest tests writers of their own */
    report_store_t *store = report_store_start(&cfg);
    cr_assert(store);
    free(key);
    free(server);
    return store;
}

void test_store_config(test_stack_t *stack, report_store_config_t *cfg)
{
    report_store_config_default(cfg);
    cfg->key = test_key_path("store");
    cfg->collector_key = report_sprintf("%s/server.pub", test_keys_dir());
    cfg->db = stack->db.ingest_conninfo;
    cfg->collectors = (char *)report_collector_store_endpoint(stack->collector);
    cfg->heartbeat_ms = 100;
    cfg->reconnect_max_ms = 500;
    cfg->writers = 1;
}

void test_store_config_free(report_store_config_t *cfg)
{
    free(cfg->key);
    free(cfg->collector_key);
    cfg->key = cfg->collector_key = NULL;
}

report_store_t *test_store_start_config(test_stack_t *stack, const report_store_config_t *cfg)
{
    (void)stack;
    report_store_t *store = report_store_start(cfg);
    cr_assert(store, "store did not start");
    return store;
}

void test_stack_wait_stores(test_stack_t *stack)
{
    int64_t end = report_clock_ms() + 20000;
    report_collector_stats_t st;
    do {
        usleep(20 * 1000);
        report_collector_stats(stack->collector, &st);
    } while (st.stores < stack->store_count && report_clock_ms() < end);
    cr_assert_eq(st.stores, stack->store_count, "stores did not connect");
    cr_assert(test_db_wait_value(&stack->db, "SELECT count(*) > 0 FROM units", "t", 20000),
              "migrations not applied");
}

void test_collector_config(report_collector_config_t *cfg)
{
    report_collector_config_default(cfg);
    cfg->endpoint = "tcp://127.0.0.1:*";
    cfg->store_endpoint = "tcp://127.0.0.1:*";
    cfg->store_timeout_ms = 2000;
    cfg->server.keys_dir = (char *)test_keys_dir();
}

void test_push_samples(test_stack_t *stack, int last_month)
{
    for (int m = 1; m <= last_month; m++) {
        char rel[64];
        snprintf(rel, sizeof rel, "deploy/sample/2018-%02d.json", m);
        char *path = test_repo_path(rel);
        report_update_t **list;
        size_t n;
        char err[256];
        cr_assert_eq(report_json_load_updates(path, &list, &n, err, sizeof err), 0, "%s", err);
        report_reply_t *replies = report_calloc(n, sizeof *replies);
        cr_assert_eq(test_push(stack, list, n, replies), 0, "%s: not all stored", rel);
        free(replies);
        report_updates_free(list, n);
        free(path);
    }
}

void test_aggregator_config(test_stack_t *stack, report_aggregator_config_t *cfg)
{
    report_aggregator_config_default(cfg);
    cfg->db = stack->db.reporter_conninfo;
    cfg->control_endpoint = "tcp://127.0.0.1:*";
    cfg->publish_endpoint = "tcp://127.0.0.1:*";
    cfg->catchup_endpoint = "tcp://127.0.0.1:*";
    cfg->server.keys_dir = (char *)test_keys_dir();
}

report_aggregator_t *test_aggregator_start_config(const report_aggregator_config_t *cfg)
{
    report_aggregator_t *agg = report_aggregator_start(cfg);
    cr_assert(agg, "aggregator did not start");
    return agg;
}

report_aggregator_t *test_aggregator_start(test_stack_t *stack, const char *status_period)
{
    report_aggregator_config_t cfg;
    test_aggregator_config(stack, &cfg);
    if (status_period) {
        cfg.status_period = (char *)status_period;
        cfg.late_refresh_ms = 1000;
    }
    report_aggregator_t *agg = report_aggregator_start(&cfg);
    cr_assert(agg, "aggregator did not start");
    return agg;
}

void test_stack_start(test_stack_t *stack, const report_collector_config_t *cfg, size_t store_count)
{
    memset(stack, 0, sizeof *stack);
    test_db_create(&stack->db);
    test_db_migrate(&stack->db);
    report_collector_config_t defaults;
    test_collector_config(&defaults);
    stack->collector = report_collector_start(cfg ? cfg : &defaults);
    cr_assert(stack->collector, "collector did not start");
    for (size_t i = 0; i < store_count; i++)
        stack->stores[stack->store_count++] = test_store_start(stack);
    /* Wait until every store has migrated and reported in. */
    int64_t end = report_clock_ms() + 20000;
    report_collector_stats_t st;
    do {
        usleep(20 * 1000);
        report_collector_stats(stack->collector, &st);
    } while (st.stores < store_count && report_clock_ms() < end);
    cr_assert_eq(st.stores, store_count, "stores did not connect");
    if (store_count)
        cr_assert(test_db_wait_value(&stack->db, "SELECT count(*) > 0 FROM units", "t", 20000),
                  "migrations not applied");
}

void test_stack_stop(test_stack_t *stack)
{
    for (size_t i = 0; i < stack->store_count; i++)
        report_store_stop(&stack->stores[i]);
    report_collector_stop(&stack->collector);
    test_db_drop(&stack->db);
}

report_update_t *test_update_new(const char *item_key)
{
    report_update_t *u = report_update_new();
    uuid_t id;
    uuid_generate_random(id);
    u->update_id = report_malloc(37);
    uuid_unparse_lower(id, u->update_id);
    u->unit_code = report_strdup("THANH_TRA");
    u->year = 2018;
    u->month = 7;
    u->section = REPORT_SECTION_RESULT;
    u->area_code = report_strdup("THANH_TRA");
    u->item_key = report_strdup(item_key);
    u->item_order = 1;
    u->text = report_strdup("tổ chức triển khai {THANHTRA_CUOC} cuộc thanh tra chuyên đề");
    u->indicator_count = 1;
    u->indicators = report_calloc(1, sizeof(report_indicator_value_t));
    u->indicators[0].code = report_strdup("THANHTRA_CUOC");
    u->indicators[0].value = 1;
    return u;
}

void test_peer_open(test_peer_t *peer, const char *endpoint)
{
    test_peer_open_as(peer, endpoint, "THANH_TRA");
}

void test_peer_open_as(test_peer_t *peer, const char *endpoint, const char *who)
{
    peer->ctx = zmq_ctx_new();
    peer->sock = zmq_socket(peer->ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(peer->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (who && *who) {
        report_client_keys_t keys = test_client_keys(who);
        cr_assert_eq(report_curve_client(peer->sock, keys.server_public, &keys.client), 0);
    } else if (who) {
        report_client_keys_t keys = test_client_keys("THANH_TRA");
        cr_assert_eq(zmq_curve_keypair(keys.client.public_key, keys.client.secret_key), 0);
        cr_assert_eq(report_curve_client(peer->sock, keys.server_public, &keys.client), 0);
    }
    cr_assert_eq(zmq_connect(peer->sock, endpoint), 0);
}

void test_peer_close(test_peer_t *peer)
{
    zmq_close(peer->sock);
    zmq_ctx_term(peer->ctx);
}

void test_peer_send(test_peer_t *peer, const void *data, size_t size)
{
    cr_assert(zmq_send(peer->sock, data, size, 0) >= 0);
}

void test_peer_send_update(test_peer_t *peer, const report_update_t *update)
{
    size_t size;
    uint8_t *buf = report_update_encode(update, &size);
    test_peer_send(peer, buf, size);
    free(buf);
}

int test_peer_recv(test_peer_t *peer, report_reply_t *reply, int timeout_ms)
{
    zmq_pollitem_t pi = {peer->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&pi, 1, timeout_ms) <= 0)
        return -1;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, peer->sock, 0) < 0) {
        zmq_msg_close(&msg);
        return -1;
    }
    int rc = report_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), reply);
    zmq_msg_close(&msg);
    return rc;
}

static void s_pg(const char *action)
{
    const char *data = getenv("REPORT_TEST_PGDATA");
    const char *port = getenv("REPORT_TEST_PGPORT");
    cr_assert(data && port, "REPORT_TEST_PGDATA/PGPORT not set: run ./tests/run.sh");
    char *script = test_repo_path("deploy/pg.sh");
    char *cmd = report_sprintf("'%s' %s '%s' '%s'", script, action, data, port);
    cr_assert_eq(system(cmd), 0, "%s failed", cmd);
    free(cmd);
    free(script);
}

void test_pg_stop(void)
{
    s_pg("stop");
}

void test_pg_start(void)
{
    s_pg("start");
}

char *test_repo_path(const char *relative)
{
    const char *root = getenv("REPORT_ROOT");
    return report_sprintf("%s/%s", root ? root : ".", relative);
}

/* --- raw HTTP and slow clients --- */

/* A TCP connection to 127.0.0.1:port, from address `from` if not NULL; -1 on failure. */
static int s_tcp_open(const char *from, int port, bool nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (from && (inet_pton(AF_INET, from, &sa.sin_addr) != 1 ||
                 bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)) {
        close(fd);
        return -1;
    }
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

char *test_http_raw(int port, const char *request, int timeout_ms, size_t *len)
{
    int fd = s_tcp_open(NULL, port, false);
    if (fd < 0)
        return NULL;
    int64_t end = report_clock_ms() + timeout_ms;
    report_buf_t buf;
    report_buf_init(&buf);
    bool closed = send(fd, request, strlen(request), MSG_NOSIGNAL) == (ssize_t)strlen(request);
    if (!closed) {
        close(fd);
        return NULL;
    }
    closed = false;
    for (int64_t now; !closed && (now = report_clock_ms()) < end;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(end - now)) <= 0)
            continue;
        char chunk[8192];
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n > 0)
            report_buf_add(&buf, chunk, (size_t)n);
        else
            closed = true;
    }
    close(fd);
    if (!closed) {
        report_buf_free(&buf);
        return NULL;
    }
    if (len)
        *len = buf.len;
    return report_buf_take(&buf);
}

bool test_http_header(const char *answer, const char *name, char *buf, size_t size)
{
    size_t n = strlen(name);
    const char *end = strstr(answer, "\r\n\r\n");
    for (const char *line = strstr(answer, "\r\n"); line && (!end || line < end);
         line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':') {
            const char *v = line + 3 + n;
            while (*v == ' ')
                v++;
            size_t vlen = strcspn(v, "\r\n");
            snprintf(buf, size, "%.*s", (int)vlen, v);
            return true;
        }
    }
    return false;
}

struct test_slow_clients_t {
    char from[INET_ADDRSTRLEN];
    int port;
    int count;
    int *fds;
    bool *holding; /* connected and the partial request sent */
    size_t opened;
    int wake[2]; /* a byte here stops the thread */
    pthread_t thread;
};

static void s_slow_step(test_slow_clients_t *self, int i, short revents)
{
    static const char partial[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    if (!self->holding[i] && (revents & POLLOUT) && !(revents & (POLLERR | POLLHUP))) {
        self->holding[i] = send(self->fds[i], partial, sizeof partial - 1, MSG_NOSIGNAL) > 0;
        if (self->holding[i])
            return;
    } else if (!(revents & (POLLIN | POLLERR | POLLHUP))) {
        return;
    }
    /* dropped by the server (or refused, or it answered): open it again */
    close(self->fds[i]);
    self->fds[i] = -1;
    self->holding[i] = false;
}

static void *s_slow_thread(void *arg)
{
    test_slow_clients_t *self = arg;
    struct pollfd *p = report_calloc((size_t)self->count + 1, sizeof *p);
    for (;;) {
        for (int i = 0; i < self->count; i++) {
            if (self->fds[i] < 0 && (self->fds[i] = s_tcp_open(self->from, self->port, true)) >= 0)
                self->opened++;
            p[i] = (struct pollfd){self->fds[i], self->holding[i] ? POLLIN : POLLOUT, 0};
        }
        p[self->count] = (struct pollfd){self->wake[0], POLLIN, 0};
        if (poll(p, (nfds_t)self->count + 1, 100) < 0 || p[self->count].revents)
            break;
        for (int i = 0; i < self->count; i++)
            if (self->fds[i] >= 0 && p[i].revents)
                s_slow_step(self, i, p[i].revents);
    }
    free(p);
    return NULL;
}

test_slow_clients_t *test_slow_clients_start(const char *from, int port, int count)
{
    int probe = s_tcp_open(from, port, false);
    if (probe < 0)
        return NULL;
    close(probe);
    test_slow_clients_t *self = report_calloc(1, sizeof *self);
    snprintf(self->from, sizeof self->from, "%s", from);
    self->port = port;
    self->count = count;
    self->fds = report_malloc((size_t)count * sizeof *self->fds);
    self->holding = report_calloc((size_t)count, sizeof *self->holding);
    for (int i = 0; i < count; i++)
        self->fds[i] = -1;
    if (pipe2(self->wake, O_CLOEXEC) != 0 ||
        pthread_create(&self->thread, NULL, s_slow_thread, self) != 0)
        abort(); /* out of file descriptors or threads: nothing to measure */
    return self;
}

size_t test_slow_clients_stop(test_slow_clients_t **self_p)
{
    if (!self_p || !*self_p)
        return 0;
    test_slow_clients_t *self = *self_p;
    if (write(self->wake[1], "x", 1) != 1)
        abort();
    pthread_join(self->thread, NULL);
    for (int i = 0; i < self->count; i++)
        if (self->fds[i] >= 0)
            close(self->fds[i]);
    close(self->wake[0]);
    close(self->wake[1]);
    size_t opened = self->opened;
    free(self->fds);
    free(self->holding);
    free(self);
    *self_p = NULL;
    return opened;
}

char *test_read_file(const char *path)
{
    return report_file_read(path, SIZE_MAX, NULL);
}

static int s_vrun(char **out, bool with_errors, const char *fmt, va_list ap)
{
    char *cmd = NULL;
    cr_assert_geq(vasprintf(&cmd, fmt, ap), 0);
    char *full = with_errors ? report_sprintf("( %s ) 2>&1", cmd) : report_strdup(cmd);
    FILE *p = popen(full, "r");
    cr_assert_not_null(p, "%s", cmd);
    report_buf_t b;
    report_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        report_buf_add(&b, chunk, n);
    int status = pclose(p);
    free(full);
    free(cmd);
    char *text = report_buf_take(&b);
    if (out)
        *out = text ? text : report_strdup("");
    else
        free(text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int test_run(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vrun(out, false, fmt, ap);
    va_end(ap);
    return rc;
}

int test_run_all(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vrun(out, true, fmt, ap);
    va_end(ap);
    return rc;
}

pid_t test_program_start(const char *program, char *const args[], char *const env[],
                         const char *log)
{
    const char *bin = getenv("REPORT_BIN_DIR");
    char *path = report_sprintf("%s/%s", bin ? bin : "build/bin", program);
    size_t n = 0;
    while (args[n])
        n++;
    char **argv = report_calloc(n + 2, sizeof *argv);
    argv[0] = path;
    memcpy(argv + 1, args, n * sizeof *argv);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* the child dies with the test */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execv(path, argv);
        _exit(127);
    }
    free(argv);
    free(path);
    return pid;
}

int test_program_stop(pid_t pid, int timeout_ms)
{
    kill(pid, SIGTERM);
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
              getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    close(fd);
    return ntohs(addr.sin_port);
}

report_update_t **test_updates_new(const char *prefix, size_t count)
{
    report_update_t **list = report_calloc(count, sizeof *list);
    for (size_t i = 0; i < count; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s-%zu", prefix, i);
        list[i] = test_update_new(key);
    }
    return list;
}

void test_push_file_write(const char *path, report_update_t *const *list, size_t count)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "[");
    for (size_t i = 0; i < count; i++)
        fprintf(f,
                "%s{\"update_id\": \"%s\", \"unit\": \"THANH_TRA\", \"period\": \"2018-07\", "
                "\"section\": \"result\", \"area\": \"THANH_TRA\", \"item_key\": \"%s\", "
                "\"text\": \"%s\", \"indicators\": {\"THANHTRA_CUOC\": 1}}\n",
                i ? "," : "", list[i]->update_id, list[i]->item_key, list[i]->text);
    fprintf(f, "]\n");
    cr_assert_eq(fclose(f), 0);
}
