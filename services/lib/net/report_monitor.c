/* Socket monitor bookkeeping shared by the collector (clients, stores) and the aggregator
 * (subscribers).
 *
 * What libzmq 4.3.4 tells us, checked on this machine: ACCEPTED and DISCONNECTED carry the
 * connection's fd; HANDSHAKE_SUCCEEDED and HANDSHAKE_FAILED_* carry 0 or an error code, not
 * the fd. So a connection counts from its ACCEPTED to the DISCONNECTED of the same fd, and a
 * handshake is counted when its event comes. A failed handshake is always followed at once
 * by the DISCONNECTED of its connection (the engine emits both in one call on the I/O
 * thread), which is how a failure is tied to a peer address for the log. A peer that sends
 * bytes that are not a ZMTP 3 greeting (garbage, HTTP) is dropped with no failure event at
 * all: it is counted as a protocol failure when its connection ends without a handshake. */
#define _GNU_SOURCE
#include "report_monitor.h"
#include "report_log.h"
#include "report_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#define S_EVENT_HWM 100000

typedef struct {
    int fd;
    bool dropped; /* shut down over a bound: not counted as connected */
    bool handshaken;
    uint8_t ip[16];
    char address[INET6_ADDRSTRLEN];
} s_conn_t;

struct report_monitor_t {
    void *pair;
    char name[32];
    int port; /* local port of the monitored socket: tells its connections from other fds */
    int64_t max_total, max_per_peer;
    /* Open connections, oldest first. Linear scans: at most max_total entries plus the few
     * dropped ones whose DISCONNECTED has not come yet. */
    s_conn_t *conns;
    size_t count, cap;
    int pending_failure; /* kind of the failure whose DISCONNECTED comes next, or -1 */
    int64_t next_sweep;
    report_monitor_counts_t counts;
    report_ratelimit_t log_limit;
};

static const char *s_kind_names[REPORT_HANDSHAKE_KINDS] = {"protocol", "no_detail", "auth"};

const char *report_handshake_kind_name(int kind)
{
    return kind >= 0 && kind < REPORT_HANDSHAKE_KINDS ? s_kind_names[kind] : "other";
}

static int s_port_of(const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    return colon ? atoi(colon + 1) : 0;
}

report_monitor_t *report_monitor_new(void *zctx, void *sock, const char *name, int64_t max_total,
                                     int64_t max_per_peer)
{
    report_monitor_t *self = report_calloc(1, sizeof *self);
    snprintf(self->name, sizeof self->name, "%s", name);
    self->max_total = max_total;
    self->max_per_peer = max_per_peer;
    self->pending_failure = -1;
    report_ratelimit_init(&self->log_limit, 20, 1000);
    char endpoint[256] = "";
    size_t len = sizeof endpoint;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, endpoint, &len);
    self->port = s_port_of(endpoint);
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://monitor-%p", sock);
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED | ZMQ_EVENT_DISCONNECTED |
                 ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(sock, ep, events) != 0) {
        report_monitor_destroy(&self);
        return NULL;
    }
    self->pair = zmq_socket(zctx, ZMQ_PAIR);
    /* libzmq drops monitor events silently at the high-water mark, and a lost ACCEPTED or
     * DISCONNECTED would skew the counts for good: under a flood of connects thousands of
     * events may wait while this thread works. The bound is kept (about 100 bytes an event)
     * and, should it be reached anyway, report_monitor_sweep forgets connections that are gone. */
    int hwm = S_EVENT_HWM, linger = 0;
    zmq_setsockopt(self->pair, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(self->pair, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(self->pair, ep) != 0) {
        report_monitor_destroy(&self);
        return NULL;
    }
    return self;
}

void report_monitor_destroy(report_monitor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_monitor_t *self = *self_p;
    if (self->pair)
        zmq_close(self->pair);
    free(self->conns);
    free(self);
    *self_p = NULL;
}

void *report_monitor_socket(report_monitor_t *self)
{
    return self ? self->pair : NULL;
}

static s_conn_t *s_find(report_monitor_t *self, int fd)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->conns[i].fd == fd)
            return &self->conns[i];
    return NULL;
}

static void s_remove(report_monitor_t *self, s_conn_t *c)
{
    if (!c->dropped && self->counts.connected > 0)
        self->counts.connected--;
    size_t i = (size_t)(c - self->conns);
    memmove(&self->conns[i], &self->conns[i + 1], (self->count - i - 1) * sizeof(s_conn_t));
    self->count--;
}

/* The handshake events carry no fd: a success is credited to the oldest connection still
 * waiting for one. That is exact when handshakes do not overlap; when they do, a failure
 * later moves the credit (see s_disconnected), so the counts by kind stay right. */
static void s_credit_handshake(report_monitor_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        if (!self->conns[i].dropped && !self->conns[i].handshaken) {
            self->conns[i].handshaken = true;
            return;
        }
    }
}

static void s_log(report_monitor_t *self, const char *msg, const char *kind, const char *address)
{
    uint64_t suppressed;
    if (report_ratelimit_allow(&self->log_limit, &suppressed))
        log_warn(msg, "socket=%s kind=%s peer=%s connected=%llu suppressed=%llu", self->name, kind,
                 report_logq(address), (unsigned long long)self->counts.connected,
                 (unsigned long long)suppressed);
}

/* Reads the peer address of a newly accepted fd; true if fd is still a connection accepted
 * on our port (the event may be read after libzmq closed the fd and the number was reused,
 * perhaps by another socket of this process: that one must never be shut down). */
static bool s_peer(report_monitor_t *self, int fd, s_conn_t *c)
{
    struct sockaddr_storage local, peer;
    socklen_t llen = sizeof local, plen = sizeof peer;
    snprintf(c->address, sizeof c->address, "?");
    if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
        return false;
    int port = 0;
    if (local.ss_family == AF_INET)
        port = ntohs(((struct sockaddr_in *)&local)->sin_port);
    else if (local.ss_family == AF_INET6)
        port = ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
    if (peer.ss_family == AF_INET) {
        struct in_addr *a = &((struct sockaddr_in *)&peer)->sin_addr;
        memcpy(c->ip, a, 4);
        inet_ntop(AF_INET, a, c->address, sizeof c->address);
    } else if (peer.ss_family == AF_INET6) {
        struct in6_addr *a = &((struct sockaddr_in6 *)&peer)->sin6_addr;
        memcpy(c->ip, a, 16);
        inet_ntop(AF_INET6, a, c->address, sizeof c->address);
    } else {
        return false;
    }
    return port == self->port;
}

static void s_accepted(report_monitor_t *self, int fd)
{
    s_conn_t *stale = s_find(self, fd);
    if (stale)
        s_remove(self, stale);
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 64;
        self->conns = report_realloc(self->conns, self->cap * sizeof(s_conn_t));
    }
    s_conn_t *c = &self->conns[self->count++];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    bool ours = s_peer(self, fd, c);
    uint64_t same_peer = 0;
    for (size_t i = 0; i + 1 < self->count; i++)
        same_peer += !self->conns[i].dropped && !memcmp(self->conns[i].ip, c->ip, sizeof c->ip);
    const char *bound = NULL;
    if (self->max_total > 0 && self->counts.connected >= (uint64_t)self->max_total) {
        bound = "max_connections";
        self->counts.dropped_total++;
    } else if (self->max_per_peer > 0 && same_peer >= (uint64_t)self->max_per_peer) {
        bound = "max_connections_per_peer";
        self->counts.dropped_per_peer++;
    }
    if (!bound) {
        self->counts.connected++;
        return;
    }
    /* libzmq reads EOF at once and closes the connection: the descriptor comes back before
     * a flood can exhaust them. */
    c->dropped = true;
    if (ours)
        shutdown(fd, SHUT_RDWR);
    s_log(self, "connection over the bound, closed", bound, c->address);
}

static void s_disconnected(report_monitor_t *self, int fd)
{
    int kind = self->pending_failure;
    self->pending_failure = -1;
    s_conn_t *c = s_find(self, fd);
    if (!c)
        return;
    if (c->dropped) {
        s_remove(self, c);
        return;
    }
    if (kind < 0 && !c->handshaken)
        kind = REPORT_HANDSHAKE_PROTOCOL; /* not a ZMTP 3 greeting: libzmq says nothing */
    if (kind >= 0) {
        self->counts.handshake_failed[kind]++;
        char address[INET6_ADDRSTRLEN];
        memcpy(address, c->address, sizeof address);
        bool credited = c->handshaken;
        s_remove(self, c);
        if (credited)
            s_credit_handshake(self); /* the success was someone else's */
        s_log(self, "handshake failed", report_handshake_kind_name(kind), address);
        return;
    }
    s_remove(self, c);
}

/* Reads and handles one event; false if there was none. */
static bool s_handle(report_monitor_t *self)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    bool got = zmq_msg_recv(&ev, self->pair, ZMQ_DONTWAIT) >= 0;
    if (got && zmq_msg_more(&ev) && zmq_msg_recv(&addr, self->pair, ZMQ_DONTWAIT) >= 0 &&
        zmq_msg_size(&ev) >= 6) {
        const uint8_t *d = zmq_msg_data(&ev);
        uint16_t event;
        uint32_t value;
        memcpy(&event, d, sizeof event);
        memcpy(&value, d + 2, sizeof value);
        switch (event) {
        case ZMQ_EVENT_ACCEPTED:
            s_accepted(self, (int)value);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            s_disconnected(self, (int)value);
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            self->counts.handshakes++;
            s_credit_handshake(self);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            self->pending_failure = REPORT_HANDSHAKE_PROTOCOL;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            self->pending_failure = REPORT_HANDSHAKE_NO_DETAIL;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            self->pending_failure = REPORT_HANDSHAKE_AUTH;
            break;
        case ZMQ_EVENT_ACCEPT_FAILED:
            self->counts.accept_failed++;
            s_log(self, "accept failed", strerror((int)value), "-");
            break;
        default:
            break;
        }
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    return got;
}

static void s_sweep(report_monitor_t *self)
{
    int64_t now = report_clock_ms();
    if (!self || now < self->next_sweep)
        return;
    self->next_sweep = now + 5000;
    for (size_t i = 0; i < self->count;) {
        s_conn_t now_there = {0};
        s_conn_t *c = &self->conns[i];
        if (s_peer(self, c->fd, &now_there) && !memcmp(now_there.ip, c->ip, sizeof c->ip)) {
            i++;
            continue;
        }
        if (!c->dropped) /* a dropped one may simply not have its event read yet */
            s_log(self, "connection gone without a disconnect event, forgotten", "lost_event",
                  c->address);
        s_remove(self, c);
    }
}

void report_monitor_drain(report_monitor_t *self)
{
    for (int budget = 1000; self && budget > 0 && s_handle(self); budget--) {
    }
}

void report_monitor_count(report_monitor_t *self, report_monitor_counts_t *out)
{
    memset(out, 0, sizeof *out);
    if (!self)
        return;
    s_sweep(self);
    *out = self->counts;
}
