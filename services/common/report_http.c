/* A deliberately small HTTP server: one thread, one connection at a time, every request and
 * response bounded, "Connection: close". Enough for Prometheus scrapes, health checks and
 * the status page; nothing here can block the service's own sockets. */
#define _GNU_SOURCE
#include "report_http.h"
#include "report_log.h"
#include "report_metrics.h"
#include "report_service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

extern const char report_status_page[];

void report_http_config_default(report_http_config_t *cfg)
{
    cfg->address = "0.0.0.0:9570";
    cfg->peers = "";
    cfg->sample_ms = 10000;
    cfg->history = 360;
    cfg->max_request_bytes = 8192;
}

typedef struct {
    double t;
    report_sample_t s;
} s_point_t;

struct report_http_t {
    report_http_config_t cfg;
    char *address;
    char *peers;
    report_http_handlers_t h;
    int fd;
    int port;
    pthread_t thread;
    volatile int stop;
    double started_at;
    s_point_t *ring;
    size_t ring_len, ring_head;
    int64_t next_sample;
};

static double s_now(void)
{
    return (double)report_wall_ms() / 1000.0;
}

static void s_take_sample(report_http_t *self)
{
    s_point_t p;
    memset(&p, 0, sizeof p);
    p.t = s_now();
    self->h.sample(self->h.arg, &p.s);
    size_t cap = (size_t)self->cfg.history;
    self->ring[(self->ring_head + self->ring_len) % cap] = p;
    if (self->ring_len < cap)
        self->ring_len++;
    else
        self->ring_head = (self->ring_head + 1) % cap;
}

static const s_point_t *s_point(report_http_t *self, size_t i)
{
    return &self->ring[(self->ring_head + i) % (size_t)self->cfg.history];
}

/* Per-minute rate of counter k between two points. */
static double s_rate(const s_point_t *a, const s_point_t *b, size_t k)
{
    double dt = b->t - a->t;
    if (dt <= 0 || k >= a->s.counter_count || k >= b->s.counter_count)
        return 0;
    double d = b->s.counters[k] - a->s.counters[k];
    return d < 0 ? 0 : d * 60.0 / dt;
}

static char *s_status_json(report_http_t *self)
{
    s_point_t now;
    memset(&now, 0, sizeof now);
    now.t = s_now();
    self->h.sample(self->h.arg, &now.s);
    json_t *o = json_object();
    json_object_set_new(o, "service", json_string(self->h.service));
    json_object_set_new(o, "version", json_string(report_service_version()));
    json_object_set_new(o, "commit", json_string(report_service_commit()));
    json_object_set_new(o, "started_at", json_real(self->started_at));
    json_object_set_new(o, "now", json_real(now.t));
    char why[256] = "";
    bool ready = self->h.ready(self->h.arg, why, sizeof why);
    json_object_set_new(o, "ready", json_boolean(ready));
    json_object_set_new(o, "ready_reason", json_string(ready ? "" : why));
    json_t *peers = json_array();
    char *list = report_strdup(self->peers);
    char *save = NULL;
    for (char *p = strtok_r(list, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
        json_array_append_new(peers, json_string(p));
    free(list);
    if (json_array_size(peers) == 0)
        json_array_append_new(peers, json_string(""));
    json_object_set_new(o, "peers", peers);
    json_t *queue = json_object();
    json_object_set_new(queue, "name", json_string(now.s.queue_name ? now.s.queue_name : ""));
    json_object_set_new(queue, "depth", json_real(now.s.depth));
    json_object_set_new(queue, "limit", json_real(now.s.limit));
    json_object_set_new(o, "queue", queue);
    /* Rates over the last minute: what happened since the oldest point at most 60 s old
     * (since the start when the service is younger), per minute, never extrapolated from
     * a shorter window: 30 updates in the first second are 30 a minute, not 1,800. */
    const s_point_t *base = NULL;
    for (size_t i = 0; i < self->ring_len && !base; i++)
        if (now.t - s_point(self, i)->t <= 60.5)
            base = s_point(self, i);
    json_t *rates = json_object(), *counters = json_object();
    for (size_t k = 0; k < now.s.counter_count; k++) {
        double rate = 0;
        if (base && k < base->s.counter_count) {
            double window = now.t - base->t > 60 ? now.t - base->t : 60;
            double d = now.s.counters[k] - base->s.counters[k];
            rate = d > 0 ? d * 60.0 / window : 0;
        }
        json_object_set_new(rates, now.s.counter_names[k], json_real(rate));
        json_object_set_new(counters, now.s.counter_names[k], json_real(now.s.counters[k]));
    }
    json_object_set_new(o, "rates_per_minute", rates);
    json_object_set_new(o, "counters", counters);
    json_t *history = json_array();
    for (size_t i = 0; i < self->ring_len; i++) {
        const s_point_t *p = s_point(self, i);
        const s_point_t *prev = i ? s_point(self, i - 1) : NULL;
        json_t *h = json_object();
        json_object_set_new(h, "t", json_real(p->t));
        json_object_set_new(h, "depth", json_real(p->s.depth));
        json_t *r = json_object();
        for (size_t k = 0; k < p->s.counter_count; k++)
            json_object_set_new(r, p->s.counter_names[k], json_real(prev ? s_rate(prev, p, k) : 0));
        json_object_set_new(h, "rates", r);
        json_array_append_new(history, h);
    }
    json_object_set_new(o, "history", history);
    if (self->h.status)
        self->h.status(self->h.arg, o);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static void s_respond(int fd, int status, const char *reason, const char *type, const char *body,
                      size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nAccess-Control-Allow-Origin: *\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, type, len);
    struct iovec;
    const char *parts[2] = {head, body};
    size_t sizes[2] = {(size_t)n, len};
    for (int i = 0; i < 2; i++) {
        size_t off = 0;
        while (off < sizes[i]) {
            ssize_t w = send(fd, parts[i] + off, sizes[i] - off, MSG_NOSIGNAL);
            if (w <= 0)
                return;
            off += (size_t)w;
        }
    }
}

/* Answers one complete request held in req (NUL-terminated). */
static void s_serve(report_http_t *self, int fd, const char *req)
{
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char method[8] = "", path[256] = "";
    if (sscanf(req, "%7s %255s", method, path) != 2) {
        s_respond(fd, 400, "Bad Request", "text/plain", "bad request\n", 12);
        return;
    }
    char *q = strchr(path, '?');
    if (q)
        *q = '\0';
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        s_respond(fd, 405, "Method Not Allowed", "text/plain", "GET only\n", 9);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        report_buf_t out;
        report_buf_init(&out);
        report_metrics_process(&out, self->h.service, self->started_at);
        self->h.metrics(self->h.arg, &out);
        s_respond(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", head ? "" : out.data,
                  head ? 0 : out.len);
        report_buf_free(&out);
    } else if (strcmp(path, "/healthz") == 0) {
        s_respond(fd, 200, "OK", "text/plain", "ok\n", 3);
    } else if (strcmp(path, "/readyz") == 0) {
        char why[256] = "";
        if (self->h.ready(self->h.arg, why, sizeof why)) {
            s_respond(fd, 200, "OK", "text/plain", "ready\n", 6);
        } else {
            char *body = report_sprintf("not ready: %s\n", why);
            s_respond(fd, 503, "Service Unavailable", "text/plain", body, strlen(body));
            free(body);
        }
    } else if (strcmp(path, "/status.json") == 0) {
        char *body = s_status_json(self);
        s_respond(fd, 200, "OK", "application/json; charset=utf-8", body ? body : "{}",
                  body ? strlen(body) : 2);
        free(body);
    } else if (strcmp(path, "/status") == 0 || strcmp(path, "/") == 0) {
        s_respond(fd, 200, "OK", "text/html; charset=utf-8", report_status_page,
                  strlen(report_status_page));
    } else {
        s_respond(fd, 404, "Not Found", "text/plain", "not found\n", 10);
    }
}

#define S_MAX_CONNECTIONS 16

typedef struct {
    int fd;
    char *buf;
    size_t len;
    int64_t deadline;
} s_conn_t;

static void s_conn_close(s_conn_t *c)
{
    close(c->fd);
    free(c->buf);
    c->fd = -1;
    c->buf = NULL;
}

/* Several connections at once, each with 2 s to send its request: a client that connects
 * and stays silent (a browser's spare connection, a port scan) delays nobody else. */
static void *s_thread(void *arg)
{
    report_http_t *self = arg;
    s_conn_t conns[S_MAX_CONNECTIONS];
    for (int i = 0; i < S_MAX_CONNECTIONS; i++)
        conns[i].fd = -1;
    size_t cap = (size_t)self->cfg.max_request_bytes;
    while (!self->stop) {
        int64_t now = report_clock_ms();
        if (now >= self->next_sample) {
            s_take_sample(self);
            self->next_sample = now + self->cfg.sample_ms;
        }
        struct pollfd pfd[S_MAX_CONNECTIONS + 1];
        int map[S_MAX_CONNECTIONS + 1];
        int n = 0, open_count = 0;
        for (int i = 0; i < S_MAX_CONNECTIONS; i++) {
            if (conns[i].fd < 0)
                continue;
            if (now > conns[i].deadline) {
                s_conn_close(&conns[i]);
                continue;
            }
            pfd[n] = (struct pollfd){conns[i].fd, POLLIN, 0};
            map[n++] = i;
            open_count++;
        }
        if (open_count < S_MAX_CONNECTIONS) {
            pfd[n] = (struct pollfd){self->fd, POLLIN, 0};
            map[n++] = -1;
        }
        if (poll(pfd, (nfds_t)n, 200) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (map[k] < 0) {
                int c = accept(self->fd, NULL, NULL);
                for (int i = 0; c >= 0 && i < S_MAX_CONNECTIONS; i++) {
                    if (conns[i].fd < 0) {
                        conns[i] =
                            (s_conn_t){c, report_malloc(cap + 1), 0, report_clock_ms() + 2000};
                        c = -1;
                    }
                }
                if (c >= 0)
                    close(c);
                continue;
            }
            s_conn_t *c = &conns[map[k]];
            ssize_t got = recv(c->fd, c->buf + c->len, cap - c->len, MSG_DONTWAIT);
            if (got <= 0) {
                s_conn_close(c);
                continue;
            }
            c->len += (size_t)got;
            c->buf[c->len] = '\0';
            if (strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n") || c->len >= cap) {
                s_serve(self, c->fd, c->buf);
                s_conn_close(c);
            }
        }
    }
    for (int i = 0; i < S_MAX_CONNECTIONS; i++)
        if (conns[i].fd >= 0)
            s_conn_close(&conns[i]);
    return NULL;
}

report_http_t *report_http_start(const report_http_config_t *cfg,
                                 const report_http_handlers_t *handlers)
{
    char host[128] = "0.0.0.0";
    int port = 0;
    const char *colon = strrchr(cfg->address, ':');
    if (!colon || sscanf(colon + 1, "%d", &port) != 1 || port < 0 || port > 65535 ||
        (size_t)(colon - cfg->address) >= sizeof host) {
        log_error("bad metrics address", "address=%s hint=%s", report_logq(cfg->address),
                  report_logq("HOST:PORT"));
        return NULL;
    }
    memcpy(host, cfg->address, (size_t)(colon - cfg->address));
    host[colon - cfg->address] = '\0';
    if (!host[0] || strcmp(host, "*") == 0)
        snprintf(host, sizeof host, "0.0.0.0");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        log_error("bad metrics address", "address=%s", report_logq(cfg->address));
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
        log_error("cannot bind the metrics endpoint", "address=%s error=%s",
                  report_logq(cfg->address), report_logq(strerror(errno)));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    report_http_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.history < 2)
        self->cfg.history = 2;
    self->address = report_strdup(cfg->address);
    self->peers = report_strdup(cfg->peers ? cfg->peers : "");
    self->cfg.address = self->address;
    self->cfg.peers = self->peers;
    self->h = *handlers;
    self->fd = fd;
    self->port = ntohs(sa.sin_port);
    self->started_at = s_now();
    self->ring = report_calloc((size_t)self->cfg.history, sizeof(s_point_t));
    if (pthread_create(&self->thread, NULL, s_thread, self) != 0) {
        close(fd);
        free(self->ring);
        free(self->address);
        free(self->peers);
        free(self);
        return NULL;
    }
    log_info("metrics endpoint listening", "address=%s port=%d", report_logq(cfg->address),
             self->port);
    return self;
}

void report_http_stop(report_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_http_t *self = *self_p;
    self->stop = 1;
    pthread_join(self->thread, NULL);
    close(self->fd);
    free(self->ring);
    free(self->address);
    free(self->peers);
    free(self);
    *self_p = NULL;
}

int report_http_port(report_http_t *self)
{
    return self->port;
}

char *report_http_get(const char *url, int timeout_ms, int *status)
{
    *status = 0;
    char host[128], path[512] = "/";
    int port = 80;
    if (sscanf(url, "http://%127[^:/]:%d%511s", host, &port, path) < 2 &&
        sscanf(url, "http://%127[^/]%511s", host, path) < 1)
        return NULL;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    if (getaddrinfo(host, port_s, &hints, &ai) != 0)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    bool ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    freeaddrinfo(ai);
    report_buf_t buf;
    report_buf_init(&buf);
    if (ok) {
        char *req =
            report_sprintf("GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
        ok = send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req);
        free(req);
        char chunk[8192];
        ssize_t n;
        while (ok && (n = recv(fd, chunk, sizeof chunk, 0)) > 0 && buf.len < 64 * 1024 * 1024)
            report_buf_add(&buf, chunk, (size_t)n);
    }
    if (fd >= 0)
        close(fd);
    char *body = NULL;
    if (ok && buf.data && sscanf(buf.data, "HTTP/1.%*d %d", status) == 1) {
        char *sep = strstr(buf.data, "\r\n\r\n");
        body = report_strdup(sep ? sep + 4 : "");
    }
    report_buf_free(&buf);
    return body;
}
