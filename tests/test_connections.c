/* Connections on the real sockets: the keyring survives a reload at the file-descriptor limit,
 * connected gauges count every connection, failed handshakes are counted by kind, connections
 * are bounded in total and per peer address under a flood of raw TCP connects, and a client
 * that freezes is dropped by ZeroMQ heartbeats. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_http.h"
#include "report_collector_ops.h"
#include "report_util.h"
#include "report_zap.h"
#include "test_support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static test_stack_t stack;
static report_collector_t *collector; /* when started without a stack */
static report_aggregator_t *agg;
static pid_t child;

static void teardown(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    report_aggregator_stop(&agg);
    report_collector_stop(&collector);
    test_stack_stop(&stack);
}

TestSuite(connections, .fini = teardown, .timeout = 120);

/* Polls the collector's stats until pred holds or timeout_ms passes. */
#define WAIT_COLLECTOR(c, st, pred, timeout_ms)                                                    \
    do {                                                                                           \
        int64_t end_ = report_clock_ms() + (timeout_ms);                                           \
        for (;;) {                                                                                 \
            report_collector_stats((c), &(st));                                                    \
            if ((pred) || report_clock_ms() > end_)                                                \
                break;                                                                             \
            usleep(20 * 1000);                                                                     \
        }                                                                                          \
    } while (0)

static void start_collector(const report_collector_config_t *cfg)
{
    report_collector_config_t defaults;
    test_collector_config(&defaults);
    collector = report_collector_start(cfg ? cfg : &defaults);
    cr_assert(collector, "collector did not start");
}

static int port_of(const char *endpoint)
{
    return atoi(strrchr(endpoint, ':') + 1);
}

/* A raw TCP connection from source address `from` (any 127.x.y.z works on loopback) to the
 * port; the fd, or -1. */
static int raw_connect(const char *from, int port, bool nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &src.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    dst.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* True if the server closed the connection (EOF or reset) within timeout_ms. */
static bool closed_by_server(int fd, int timeout_ms)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false; /* timeout: still open */
    }
}

/* Pushes one update on a fresh connection with THANH_TRA's key; true if STORED. */
static bool push_stored(const char *endpoint, const char *item_key, int timeout_ms)
{
    test_peer_t peer;
    test_peer_open(&peer, endpoint);
    report_update_t *u = test_update_new(item_key);
    test_peer_send_update(&peer, u);
    report_reply_t r;
    bool ok = test_peer_recv(&peer, &r, timeout_ms) == 0 && r.outcome == REPORT_OUTCOME_STORED;
    report_update_destroy(&u);
    test_peer_close(&peer);
    return ok;
}

typedef struct {
    void *ctx;
    void *socks[64];
    size_t count;
} s_clients_t;

/* n CURVE sockets of type `type` as who, connected to endpoint (unless NULL), in one
 * context. */
static void clients_open(s_clients_t *c, int type, const char *who, const char *endpoint, size_t n)
{
    report_client_keys_t keys = test_client_keys(who);
    c->ctx = zmq_ctx_new();
    c->count = 0;
    for (size_t i = 0; i < n; i++) {
        void *s = zmq_socket(c->ctx, type);
        int linger = 0;
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        if (type == ZMQ_SUB)
            zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
        cr_assert_eq(report_curve_client(s, keys.server_public, &keys.client), 0);
        if (endpoint)
            cr_assert_eq(zmq_connect(s, endpoint), 0);
        c->socks[c->count++] = s;
    }
}

static void clients_close(s_clients_t *c, size_t n)
{
    while (n-- > 0 && c->count > 0)
        zmq_close(c->socks[--c->count]);
}

/* --- defect 3: a reload at the fd limit keeps the keys --- */

Test(connections, a_keyring_reload_at_the_fd_limit_keeps_the_keys)
{
    test_stack_start(&stack, NULL, 1);
    const char *endpoint = report_collector_endpoint(stack.collector);
    /* a unit connected before the flood, and served */
    test_peer_t peer;
    test_peer_open(&peer, endpoint);
    report_update_t *u = test_update_new("before-emfile");
    test_peer_send_update(&peer, u);
    report_reply_t r;
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0);
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s", r.message);
    report_update_destroy(&u);
    u = test_update_new("during-emfile"); /* encoded now: nothing may need a file later */

    /* Out of descriptors, as under a flood of raw connects at ulimit -n 1024. */
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = 512;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    int fds[600];
    size_t nfds = 0;
    while (nfds < sizeof fds / sizeof fds[0]) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0)
            break;
        fds[nfds++] = fd;
    }
    cr_assert_lt(nfds, sizeof fds / sizeof fds[0], "the descriptors were not exhausted");
    cr_assert_eq(open("/dev/null", O_RDONLY), -1);
    /* The keys directories change (no descriptor needed): both keyrings reload and fail. */
    char *units = report_sprintf("%s/units", test_keys_dir());
    char *stores = report_sprintf("%s/stores", test_keys_dir());
    cr_assert_eq(utimensat(AT_FDCWD, units, NULL, 0), 0);
    cr_assert_eq(utimensat(AT_FDCWD, stores, NULL, 0), 0);
    report_collector_stats_t st;
    /* The store's heartbeats make the collector look at the stores keyring. */
    WAIT_COLLECTOR(stack.collector, st, st.keyring_reload_failures >= 1, 3000);
    cr_assert_geq(st.keyring_reload_failures, 1, "the reload did not fail: fds not exhausted?");
    usleep(600 * 1000); /* several more retries (and failures) while exhausted */

    /* Still served while exhausted: the open connection, the store link. */
    test_peer_send_update(&peer, u);
    cr_assert_eq(test_peer_recv(&peer, &r, 10000), 0, "no answer while out of descriptors");
    cr_assert_eq(r.outcome, REPORT_OUTCOME_STORED, "%s %s", report_reason_name(r.reason),
                 r.message);
    report_update_destroy(&u);

    while (nfds > 0)
        close(fds[--nfds]);
    /* Still served after, on a new connection (a new handshake, a ZAP lookup); no change of
     * the directory is needed for the keyring to be whole. */
    cr_assert(push_stored(endpoint, "after-emfile", 10000), "a valid unit is refused after EMFILE");
    WAIT_COLLECTOR(stack.collector, st, st.stores == 1, 3000);
    cr_assert_eq(st.stores, 1, "the store was dropped");
    test_peer_close(&peer);
    free(units);
    free(stores);
}

Test(connections, a_malformed_key_file_is_skipped_not_a_failed_reload)
{
    char *bad = report_sprintf("%s/units/BROKEN.pub", test_keys_dir());
    FILE *f = fopen(bad, "w");
    cr_assert(f);
    fputs("not a key\n", f);
    fclose(f);
    start_collector(NULL);
    s_clients_t c;
    clients_open(&c, ZMQ_DEALER, "THANH_TRA", report_collector_endpoint(collector), 1);
    report_collector_stats_t st;
    WAIT_COLLECTOR(collector, st, st.clients.handshakes == 1, 5000);
    cr_assert_eq(st.clients.handshakes, 1, "the other keys were not loaded");
    cr_assert_eq(st.keyring_reload_failures, 0);
    clients_close(&c, 1);
    zmq_ctx_term(c.ctx);
    unlink(bad);
    free(bad);
}

/* --- defect 7: the connected gauges --- */

Test(connections, the_connected_clients_gauge_counts_every_connection)
{
    start_collector(NULL);
    s_clients_t c;
    clients_open(&c, ZMQ_DEALER, "THANH_TRA", report_collector_endpoint(collector), 50);
    report_collector_stats_t st;
    WAIT_COLLECTOR(collector, st, st.connected_clients == 50 && st.clients.handshakes == 50, 10000);
    cr_assert_eq(st.connected_clients, 50);
    cr_assert_eq(st.clients.handshakes, 50);
    clients_close(&c, 20);
    WAIT_COLLECTOR(collector, st, st.connected_clients == 30, 10000);
    cr_assert_eq(st.connected_clients, 30);
    clients_close(&c, 30);
    WAIT_COLLECTOR(collector, st, st.connected_clients == 0, 10000);
    cr_assert_eq(st.connected_clients, 0);
    cr_assert_eq(st.clients.handshake_failed[REPORT_HANDSHAKE_PROTOCOL] +
                     st.clients.handshake_failed[REPORT_HANDSHAKE_NO_DETAIL] +
                     st.clients.handshake_failed[REPORT_HANDSHAKE_AUTH],
                 0, "a normal close was counted as a failed handshake");
    zmq_ctx_term(c.ctx);
}

Test(connections, the_subscribers_gauge_counts_every_subscriber)
{
    test_stack_start(&stack, NULL, 0);
    agg = test_aggregator_start(&stack, NULL);
    s_clients_t c;
    clients_open(&c, ZMQ_SUB, "leader", report_aggregator_publish_endpoint(agg), 50);
    report_aggregator_stats_t st;
    int64_t end = report_clock_ms() + 10000;
    do {
        usleep(20 * 1000);
        report_aggregator_stats(agg, &st);
    } while ((st.subscribers != 50 || st.pub.handshakes != 50) && report_clock_ms() < end);
    cr_assert_eq(st.subscribers, 50);
    cr_assert_eq(st.pub.handshakes, 50);
    clients_close(&c, 20);
    end = report_clock_ms() + 10000;
    do {
        usleep(20 * 1000);
        report_aggregator_stats(agg, &st);
    } while (st.subscribers != 30 && report_clock_ms() < end);
    cr_assert_eq(st.subscribers, 30);
    cr_assert_eq(st.pub.handshake_failed[REPORT_HANDSHAKE_NO_DETAIL], 0);
    clients_close(&c, 30);
    zmq_ctx_term(c.ctx);
}

Test(connections, subscribers_are_bounded_per_peer)
{
    test_stack_start(&stack, NULL, 0);
    report_aggregator_config_t cfg;
    report_aggregator_config_default(&cfg);
    cfg.db = stack.db.reporter_conninfo;
    cfg.control_endpoint = "tcp://127.0.0.1:*";
    cfg.publish_endpoint = "tcp://127.0.0.1:*";
    cfg.catchup_endpoint = "tcp://127.0.0.1:*";
    cfg.server.keys_dir = (char *)test_keys_dir();
    cfg.server.max_connections_per_peer = 5;
    agg = report_aggregator_start(&cfg);
    cr_assert(agg);
    s_clients_t c;
    clients_open(&c, ZMQ_SUB, "leader", report_aggregator_publish_endpoint(agg), 10);
    report_aggregator_stats_t st;
    int64_t end = report_clock_ms() + 10000;
    do {
        usleep(20 * 1000);
        report_aggregator_stats(agg, &st);
    } while ((st.subscribers != 5 || st.pub.dropped_per_peer < 5) && report_clock_ms() < end);
    cr_assert_eq(st.subscribers, 5);
    cr_assert_geq(st.pub.dropped_per_peer, 5); /* the 5 over the bound, and their retries */
    clients_close(&c, 10);
    zmq_ctx_term(c.ctx);
}

/* --- defect 8: failed handshakes by kind --- */

static uint64_t failed(report_collector_t *c, int kind)
{
    report_collector_stats_t st;
    report_collector_stats(c, &st);
    return st.clients.handshake_failed[kind];
}

static void wait_failed(report_collector_t *c, int kind, uint64_t at_least)
{
    int64_t end = report_clock_ms() + 5000;
    while (failed(c, kind) < at_least && report_clock_ms() < end)
        usleep(20 * 1000);
    cr_assert_geq(failed(c, kind), at_least, "kind %s: %llu", report_handshake_kind_name(kind),
                  (unsigned long long)failed(c, kind));
}

Test(connections, failed_handshakes_are_counted_by_kind)
{
    start_collector(NULL);
    const char *endpoint = report_collector_endpoint(collector);
    int port = port_of(endpoint);

    /* A plain ZeroMQ peer (no CURVE): libzmq reports a mechanism mismatch (protocol) when
     * the collector sees it first, or no_detail when the peer hung up first (a race inside
     * libzmq, seen both ways here): either way it is counted. */
    test_peer_t peer;
    test_peer_open_as(&peer, endpoint, NULL);
    int64_t end = report_clock_ms() + 5000;
    while (failed(collector, REPORT_HANDSHAKE_PROTOCOL) +
                   failed(collector, REPORT_HANDSHAKE_NO_DETAIL) ==
               0 &&
           report_clock_ms() < end)
        usleep(20 * 1000);
    cr_assert_gt(failed(collector, REPORT_HANDSHAKE_PROTOCOL) +
                     failed(collector, REPORT_HANDSHAKE_NO_DETAIL),
                 0, "a plain ZeroMQ peer was not counted");
    test_peer_close(&peer);
    usleep(200 * 1000);
    uint64_t protocol = failed(collector, REPORT_HANDSHAKE_PROTOCOL);

    /* raw TCP sending garbage (HTTP), then garbage that starts like a ZMTP greeting */
    int fd = raw_connect("127.0.0.1", port, false);
    cr_assert_geq(fd, 0);
    const char get[] = "GET / HTTP/1.0\r\n\r\n";
    cr_assert_eq(write(fd, get, sizeof get - 1), (ssize_t)(sizeof get - 1));
    cr_assert(closed_by_server(fd, 5000));
    close(fd);
    wait_failed(collector, REPORT_HANDSHAKE_PROTOCOL, protocol + 1);
    fd = raw_connect("127.0.0.1", port, false);
    char ff[64];
    memset(ff, 0xff, sizeof ff);
    cr_assert_eq(write(fd, ff, sizeof ff), (ssize_t)sizeof ff);
    cr_assert(closed_by_server(fd, 5000));
    close(fd);
    wait_failed(collector, REPORT_HANDSHAKE_PROTOCOL, protocol + 2);

    /* raw TCP that closes before any handshake */
    uint64_t no_detail = failed(collector, REPORT_HANDSHAKE_NO_DETAIL);
    fd = raw_connect("127.0.0.1", port, false);
    usleep(100 * 1000);
    close(fd);
    wait_failed(collector, REPORT_HANDSHAKE_NO_DETAIL, no_detail + 1);

    /* a CURVE key nobody enrolled */
    test_peer_open_as(&peer, endpoint, "");
    wait_failed(collector, REPORT_HANDSHAKE_AUTH, 1);
    test_peer_close(&peer);

    /* exported with the label kind */
    report_http_config_t h;
    report_http_config_default(&h);
    h.address = "127.0.0.1:0";
    report_http_t *http = report_collector_ops_start(collector, &h);
    cr_assert(http);
    char *url = report_sprintf("http://127.0.0.1:%d/metrics", report_http_port(http));
    int status = 0;
    char *body = report_http_get(url, 5000, &status);
    cr_assert_not_null(body);
    cr_assert_eq(status, 200);
    for (int k = 0; k < REPORT_HANDSHAKE_KINDS; k++) {
        char line[128];
        snprintf(line, sizeof line, "report_collector_handshakes_refused_total{kind=\"%s\"} ",
                 report_handshake_kind_name(k));
        cr_assert_not_null(strstr(body, line), "%s missing", line);
        cr_assert_null(strstr(body, strcat(line, "0\n")), "%s", line);
    }
    free(body);
    free(url);
    report_http_stop(&http);
}

/* --- connection bounds under a flood of raw TCP connects --- */

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* A child process opens count raw connections from 127.0.0.2 .. 127.0.0.(1+addresses), as
 * fast as it can, and keeps them open until killed; it writes the number it opened on pipe. */
static pid_t flood_start(int port, int count, int addresses, int pipe_w)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid > 0)
        return pid;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int opened = 0;
    for (int i = 0; i < count; i++) {
        char from[32];
        snprintf(from, sizeof from, "127.0.0.%d", 2 + i % addresses);
        opened += raw_connect(from, port, true) >= 0;
    }
    ssize_t n = write(pipe_w, &opened, sizeof opened);
    (void)n;
    for (;;)
        pause();
}

Test(connections, a_flood_of_raw_connects_is_bounded_and_units_are_still_served, .timeout = 180)
{
    /* As in the report: the collector at ulimit -n 1024, flooded with raw TCP connects. */
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = 1024;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.server.max_connections = 300;
    cfg.server.max_connections_per_peer = 100; /* two flooding addresses stay under the total */
    /* Raw peers within the bounds are shed by the handshake timeout: not before the flood is
     * measured, and soon after it, since a peer killed with its connection still in the
     * server's accept queue may leave a connection no FIN or RST will ever end. */
    cfg.server.handshake_ms = 4000;
    test_stack_start(&stack, &cfg, 1);
    const char *endpoint = report_collector_endpoint(stack.collector);
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    s_clients_t units;
    clients_open(&units, ZMQ_DEALER, "THANH_TRA", NULL, 5);
    report_update_t *updates[5];
    for (int i = 0; i < 5; i++) {
        char key[32];
        snprintf(key, sizeof key, "during-flood-%d", i);
        updates[i] = test_update_new(key);
    }
    const int count = 3000, addresses = 2;
    child = flood_start(port_of(endpoint), count, addresses, pipefd[1]);
    int opened = 0;
    cr_assert_eq(read(pipefd[0], &opened, sizeof opened), (ssize_t)sizeof opened);
    /* The flood holds its connections: what does the collector's process burn meanwhile? */
    usleep(500 * 1000);
    double cpu0 = cpu_seconds();
    int64_t t0 = report_clock_ms();
    usleep(2000 * 1000);
    double cpu = cpu_seconds() - cpu0;
    int64_t ms = report_clock_ms() - t0;
    /* and a unit is served during the flood (sockets made before it: this process is the
     * collector's, and its descriptors may be the ones exhausted) */
    int stored = 0;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(zmq_connect(units.socks[i], endpoint), 0);
        test_peer_t peer = {units.ctx, units.socks[i]};
        test_peer_send_update(&peer, updates[i]);
        report_reply_t r;
        stored += test_peer_recv(&peer, &r, 5000) == 0 && r.outcome == REPORT_OUTCOME_STORED;
    }
    report_collector_stats_t st;
    report_collector_stats(stack.collector, &st);
    fprintf(stderr,
            "flood: %d raw connects opened by the client (of %d, from %d addresses); collector "
            "process CPU %.2f s over %.2f s while they were held; connected %llu, dropped total "
            "%llu, per peer %llu, accept failures %llu, keyring reload failures %llu, stored "
            "during flood %d/5\n",
            opened, count, addresses, cpu, (double)ms / 1000.0,
            (unsigned long long)st.connected_clients, (unsigned long long)st.clients.dropped_total,
            (unsigned long long)st.clients.dropped_per_peer,
            (unsigned long long)st.clients.accept_failed,
            (unsigned long long)st.keyring_reload_failures, stored);
    cr_assert_eq(stored, 5, "a unit was not served during the flood");
    cr_assert_leq(st.connected_clients, 200 + 5);
    cr_assert_gt(st.clients.dropped_per_peer, 0);
    cr_assert_eq(st.clients.accept_failed, 0, "the collector ran out of descriptors");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = 0;
    clients_close(&units, 5);
    zmq_ctx_term(units.ctx);
    report_collector_stats_t after;
    WAIT_COLLECTOR(stack.collector, after, after.connected_clients == 0, 15000);
    cr_assert_eq(after.connected_clients, 0, "connected %llu after the flood",
                 (unsigned long long)after.connected_clients);
    cr_assert(push_stored(endpoint, "after-flood", 10000));
    for (int i = 0; i < 5; i++)
        report_update_destroy(&updates[i]);
    close(pipefd[0]);
    close(pipefd[1]);
}

Test(connections, one_peer_address_is_bounded_and_others_still_connect)
{
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.server.max_connections_per_peer = 10;
    cfg.server.handshake_ms = 30000;
    start_collector(&cfg);
    int port = port_of(report_collector_endpoint(collector));
    int fds[30];
    for (int i = 0; i < 30; i++) {
        fds[i] = raw_connect("127.0.0.2", port, false);
        cr_assert_geq(fds[i], 0);
    }
    report_collector_stats_t st;
    WAIT_COLLECTOR(collector, st, st.clients.dropped_per_peer >= 20, 5000);
    cr_assert_eq(st.clients.dropped_per_peer, 20);
    cr_assert_eq(st.connected_clients, 10);
    int closed = 0;
    for (int i = 0; i < 30; i++)
        closed += closed_by_server(fds[i], i < 10 ? 200 : 3000);
    cr_assert_eq(closed, 20, "the collector did not close the connections over the bound");
    /* another address still gets in */
    s_clients_t c;
    clients_open(&c, ZMQ_DEALER, "THANH_TRA", report_collector_endpoint(collector), 1);
    WAIT_COLLECTOR(collector, st, st.clients.handshakes == 1, 5000);
    cr_assert_eq(st.clients.handshakes, 1);
    cr_assert_eq(st.connected_clients, 11);
    clients_close(&c, 1);
    zmq_ctx_term(c.ctx);
    for (int i = 0; i < 30; i++)
        close(fds[i]);
}

Test(connections, connections_are_bounded_in_total)
{
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.server.max_connections = 10;
    cfg.server.max_connections_per_peer = 0;
    cfg.server.handshake_ms = 30000;
    start_collector(&cfg);
    int port = port_of(report_collector_endpoint(collector));
    int fds[30];
    for (int i = 0; i < 30; i++) {
        char from[32];
        snprintf(from, sizeof from, "127.0.0.%d", 2 + i % 3);
        fds[i] = raw_connect(from, port, false);
        cr_assert_geq(fds[i], 0);
    }
    report_collector_stats_t st;
    WAIT_COLLECTOR(collector, st, st.clients.dropped_total >= 20, 5000);
    cr_assert_eq(st.clients.dropped_total, 20);
    cr_assert_eq(st.clients.dropped_per_peer, 0);
    cr_assert_eq(st.connected_clients, 10);
    int closed = 0;
    for (int i = 0; i < 30; i++)
        closed += closed_by_server(fds[i], i < 10 ? 200 : 3000);
    cr_assert_eq(closed, 20, "the collector did not close the connections over the bound");
    for (int i = 0; i < 30; i++)
        close(fds[i]);
    WAIT_COLLECTOR(collector, st, st.connected_clients == 0, 5000);
    cr_assert_eq(st.connected_clients, 0);
}

/* --- heartbeats: a client that vanishes without closing --- */

Test(connections, a_frozen_client_is_dropped_by_heartbeats)
{
    report_collector_config_t cfg;
    test_collector_config(&cfg);
    cfg.server.peer_heartbeat_ms = 200;
    cfg.server.peer_timeout_ms = 1000;
    start_collector(&cfg);
    report_client_keys_t keys = test_client_keys("THANH_TRA"); /* no cr_assert in the child */
    const char *endpoint = report_collector_endpoint(collector);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        void *ctx = zmq_ctx_new();
        void *s = zmq_socket(ctx, ZMQ_DEALER);
        report_curve_client(s, keys.server_public, &keys.client);
        zmq_connect(s, endpoint);
        for (;;)
            pause();
    }
    report_collector_stats_t st;
    WAIT_COLLECTOR(collector, st, st.connected_clients == 1 && st.clients.handshakes == 1, 5000);
    cr_assert_eq(st.connected_clients, 1);
    /* A frozen process answers no PING (ZeroMQ's I/O thread is frozen with it), though its
     * kernel keeps the TCP connection up. */
    cr_assert_eq(kill(child, SIGSTOP), 0);
    int64_t stopped = report_clock_ms();
    WAIT_COLLECTOR(collector, st, st.connected_clients == 0, 5000);
    cr_assert_eq(st.connected_clients, 0, "a frozen client still holds its connection");
    fprintf(stderr, "frozen client dropped after %lld ms (timeout 1000 ms)\n",
            (long long)(report_clock_ms() - stopped));
}
