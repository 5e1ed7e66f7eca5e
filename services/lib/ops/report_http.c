/* The ops endpoint on libmicrohttpd: its own polling thread (epoll), the number of
 * connections bounded in all and per client address, idle connections closed, the memory of
 * each connection bounded. We only answer requests; parsing HTTP is the library's, so a client
 * that is slow or hostile on purpose meets a server written for that. Only GET and HEAD. */
#define _GNU_SOURCE
#include "report_http.h"
#include "report_build.h"
#include "report_log.h"
#include "report_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

extern const char report_status_page[];

void report_http_config_default(report_http_config_t *cfg)
{
    cfg->address = "0.0.0.0:9570";
    cfg->peers = "";
    cfg->sample_ms = 10000;
    cfg->history = 360;
    cfg->max_connections = REPORT_HTTP_MAX_CONNECTIONS;
    cfg->max_connections_per_ip = REPORT_HTTP_MAX_CONNECTIONS_PER_IP;
    cfg->idle_timeout_s = REPORT_HTTP_IDLE_TIMEOUT_S;
    cfg->connection_memory_bytes = REPORT_HTTP_CONNECTION_MEMORY_BYTES;
}

typedef struct {
    double t;
    report_sample_t s;
} s_point_t;

struct report_http_t {
    report_http_config_t cfg;
    char *address;
    char *peers;
    char **origins; /* the peers' origins ("http://host:port"): who may read /status.json */
    size_t origin_count;
    report_http_handlers_t h;
    struct MHD_Daemon *daemon;
    int port;
    double started_at;
    /* The sampler thread takes a point every sample_ms until stopping is set and wake
     * signalled; lock guards the ring, stopping and every call of h.sample (the sampler and
     * the server thread both take samples). */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    bool sampler_started;
    pthread_t sampler;
    s_point_t *ring;
    size_t ring_len, ring_head;
    /* libmicrohttpd's own log lines: see s_mhd_log */
    pthread_t starter;
    int64_t log_next_ms;
    unsigned log_suppressed;
};

static double s_now(void)
{
    return (double)report_wall_ms() / 1000.0;
}

/* The view the handlers get for one request (see report_http_handlers_t). */
static void *s_view_open(const report_http_t *self)
{
    if (!self->h.snapshot)
        return self->h.arg;
    void *view = report_malloc(self->h.stats_size);
    self->h.snapshot(self->h.arg, view);
    return view;
}

static void s_view_close(const report_http_t *self, void *view)
{
    if (self->h.snapshot)
        free(view);
}

/* Appends the current sample to the ring; the caller holds the lock. */
static void s_take_sample(report_http_t *self)
{
    s_point_t p;
    memset(&p, 0, sizeof p);
    p.t = s_now();
    void *view = s_view_open(self);
    self->h.sample(view, &p.s);
    s_view_close(self, view);
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

/* The queue, rates over the last minute, counters and history, from the ring and a sample
 * taken now; the caller holds the lock. */
static void s_status_figures(report_http_t *self, const void *view, json_t *o)
{
    s_point_t now;
    memset(&now, 0, sizeof now);
    now.t = s_now();
    self->h.sample(view, &now.s);
    json_object_set_new(o, "now", json_real(now.t));
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
}

static char *s_status_json(report_http_t *self)
{
    json_t *o = json_object();
    json_object_set_new(o, "service", json_string(self->h.service));
    json_object_set_new(o, "version", json_string(report_build_version()));
    json_object_set_new(o, "commit", json_string(report_build_commit()));
    json_object_set_new(o, "started_at", json_real(self->started_at));
    void *view = s_view_open(self);
    pthread_mutex_lock(&self->lock);
    s_status_figures(self, view, o);
    pthread_mutex_unlock(&self->lock);
    char why[256] = "";
    bool ready = self->h.ready(view, why, sizeof why);
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
    if (self->h.status)
        self->h.status(view, o);
    s_view_close(self, view);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* The origins of the peers ("http://host:port/..." gives "http://host:port"): the status
 * page served by a peer reads /status.json from here, which a browser allows only if this
 * answer names the page's origin. Any other site a browser visits may not read it. */
static void s_parse_origins(report_http_t *self)
{
    char *list = report_strdup(self->peers);
    char *save = NULL;
    for (char *p = strtok_r(list, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        const char *scheme_end = strstr(p, "://");
        if (!scheme_end)
            continue;
        size_t len = (size_t)(scheme_end + 3 - p) + strcspn(scheme_end + 3, "/?#");
        self->origins =
            report_realloc(self->origins, (self->origin_count + 1) * sizeof *self->origins);
        self->origins[self->origin_count++] = report_strndup(p, len);
    }
    free(list);
}

static bool s_origin_is_peer(report_http_t *self, const char *origin)
{
    for (size_t i = 0; origin && i < self->origin_count; i++)
        if (strcmp(origin, self->origins[i]) == 0)
            return true;
    return false;
}

/* Queues an answer: body is copied unless it is static (the status page, fixed texts); extra
 * is NULL or a NULL-terminated list of header names and values. HEAD gets the same headers,
 * Content-Length included, and libmicrohttpd sends no body. */
static enum MHD_Result s_send(struct MHD_Connection *connection, unsigned int status,
                              const char *type, const char *body, size_t len, bool is_static,
                              const char *const *extra)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, is_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
              MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    for (size_t i = 0; ok && extra && extra[i]; i += 2)
        ok = MHD_add_response_header(r, extra[i], extra[i + 1]) == MHD_YES;
    enum MHD_Result ret = ok ? MHD_queue_response(connection, status, r) : MHD_NO;
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result s_send_text(struct MHD_Connection *connection, unsigned int status,
                                   const char *text)
{
    return s_send(connection, status, "text/plain", text, strlen(text), true, NULL);
}

static enum MHD_Result s_send_metrics(report_http_t *self, struct MHD_Connection *connection)
{
    report_buf_t out;
    report_buf_init(&out);
    report_metrics_process(&out, self->h.service, self->started_at);
    void *view = s_view_open(self);
    self->h.metrics(view, &out);
    s_view_close(self, view);
    enum MHD_Result ret =
        s_send(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
               out.data ? out.data : "", out.len, false, NULL);
    report_buf_free(&out);
    return ret;
}

static enum MHD_Result s_send_ready(report_http_t *self, struct MHD_Connection *connection)
{
    char why[256] = "";
    void *view = s_view_open(self);
    bool ready = self->h.ready(view, why, sizeof why);
    s_view_close(self, view);
    if (ready)
        return s_send_text(connection, MHD_HTTP_OK, "ready\n");
    char *body = report_sprintf("not ready: %s\n", why);
    enum MHD_Result ret = s_send(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", body,
                                 strlen(body), false, NULL);
    free(body);
    return ret;
}

static enum MHD_Result s_send_status(report_http_t *self, struct MHD_Connection *connection)
{
    /* Vary: the answer differs by Origin, so no cache may hand one origin's to another. */
    const char *origin = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Origin");
    const char *extra[] = {MHD_HTTP_HEADER_VARY, "Origin",
                           MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, origin, NULL};
    if (!s_origin_is_peer(self, origin))
        extra[2] = NULL;
    char *body = s_status_json(self);
    enum MHD_Result ret = s_send(connection, MHD_HTTP_OK, "application/json; charset=utf-8",
                                 body ? body : "{}", body ? strlen(body) : 2, false, extra);
    free(body);
    return ret;
}

/* libmicrohttpd calls this once the request line and headers are in (url without the query
 * string); a request with a body gets its answer before the body is read. */
static enum MHD_Result s_answer(void *cls, struct MHD_Connection *connection, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls)
{
    report_http_t *self = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        static const char *const allow[] = {MHD_HTTP_HEADER_ALLOW, "GET, HEAD", NULL};
        static const char text[] = "GET or HEAD only\n";
        return s_send(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", text, sizeof text - 1,
                      true, allow);
    }
    if (strcmp(url, "/metrics") == 0)
        return s_send_metrics(self, connection);
    if (strcmp(url, "/healthz") == 0)
        return s_send_text(connection, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return s_send_ready(self, connection);
    if (strcmp(url, "/status.json") == 0)
        return s_send_status(self, connection);
    if (strcmp(url, "/status") == 0 || strcmp(url, "/") == 0)
        return s_send(connection, MHD_HTTP_OK, "text/html; charset=utf-8", report_status_page,
                      strlen(report_status_page), true, NULL);
    return s_send_text(connection, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* libmicrohttpd's log lines. While it starts (in the starting thread) they say why it could
 * not: warnings. Once it runs they are about single connections (a client gone mid-request,
 * a limit reached): debug, at most one a second, so that a flood of them stays cheap. */
__attribute__((format(printf, 2, 0))) static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    report_http_t *self = cls;
    char line[256];
    if (pthread_equal(pthread_self(), self->starter)) {
        vsnprintf(line, sizeof line, fmt, ap);
        line[strcspn(line, "\r\n")] = '\0';
        log_warn("http server", "detail=%s", report_logq(line));
        return;
    }
    if (REPORT_LOG_DEBUG < report_log_level)
        return;
    int64_t now = report_clock_ms();
    if (now < self->log_next_ms) {
        self->log_suppressed++;
        return;
    }
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    log_debug("http server", "detail=%s suppressed=%u", report_logq(line), self->log_suppressed);
    self->log_next_ms = now + 1000;
    self->log_suppressed = 0;
}

static void *s_sampler(void *arg)
{
    report_http_t *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (self->cfg.sample_ms % 1000) * 1000000;
        until.tv_sec += (time_t)(self->cfg.sample_ms / 1000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        int rc = 0;
        while (!self->stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&self->wake, &self->lock, &until);
        if (!self->stopping)
            s_take_sample(self);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/* "HOST:PORT" ("*" or empty host: every address; port 0: any free port) into sa. */
static int s_parse_address(const char *address, struct sockaddr_in *sa)
{
    char host[128] = "0.0.0.0";
    int port = 0;
    const char *colon = strrchr(address, ':');
    if (!colon || sscanf(colon + 1, "%d", &port) != 1 || port < 0 || port > 65535 ||
        (size_t)(colon - address) >= sizeof host)
        return -1;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    if (!host[0] || strcmp(host, "*") == 0)
        snprintf(host, sizeof host, "0.0.0.0");
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static bool s_config_valid(const report_http_config_t *cfg)
{
    return cfg->max_connections >= 1 && cfg->max_connections <= 1000000 &&
           cfg->max_connections_per_ip >= 1 && cfg->max_connections_per_ip <= 1000000 &&
           cfg->idle_timeout_s >= 1 && cfg->idle_timeout_s <= 86400 &&
           cfg->connection_memory_bytes >= 4096 && cfg->connection_memory_bytes <= 1 << 26 &&
           cfg->sample_ms >= 1;
}

static void s_destroy(report_http_t *self)
{
    if (self->sampler_started) {
        pthread_mutex_lock(&self->lock);
        self->stopping = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->sampler, NULL);
    }
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    for (size_t i = 0; i < self->origin_count; i++)
        free(self->origins[i]);
    free(self->origins);
    free(self->ring);
    free(self->address);
    free(self->peers);
    free(self);
}

static report_http_t *s_new(const report_http_config_t *cfg, const report_http_handlers_t *handlers)
{
    report_http_t *self = report_calloc(1, sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.history < 2)
        self->cfg.history = 2;
    self->address = report_strdup(cfg->address);
    self->peers = report_strdup(cfg->peers ? cfg->peers : "");
    self->cfg.address = self->address;
    self->cfg.peers = self->peers;
    s_parse_origins(self);
    self->h = *handlers;
    self->starter = pthread_self();
    self->started_at = s_now();
    self->ring = report_calloc((size_t)self->cfg.history, sizeof(s_point_t));
    pthread_mutex_init(&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->wake, &attr);
    pthread_condattr_destroy(&attr);
    /* the first point now, so that /status.json has history from the first answer on */
    pthread_mutex_lock(&self->lock);
    s_take_sample(self);
    pthread_mutex_unlock(&self->lock);
    return self;
}

report_http_t *report_http_start(const report_http_config_t *cfg,
                                 const report_http_handlers_t *handlers)
{
    struct sockaddr_in sa;
    if (s_parse_address(cfg->address, &sa) != 0 || !s_config_valid(cfg)) {
        log_error("bad metrics address or limits", "address=%s hint=%s", report_logq(cfg->address),
                  report_logq("HOST:PORT"));
        return NULL;
    }
    report_http_t *self = s_new(cfg, handlers);
    self->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        s_answer, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->connection_memory_bytes, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        self->daemon ? MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        log_error("cannot bind the metrics endpoint", "address=%s error=%s",
                  report_logq(cfg->address), report_logq(strerror(errno)));
        s_destroy(self);
        return NULL;
    }
    self->port = info->port;
    if (pthread_create(&self->sampler, NULL, s_sampler, self) != 0) {
        s_destroy(self);
        return NULL;
    }
    self->sampler_started = true;
    log_info("metrics endpoint listening", "address=%s port=%d max_connections=%lld per_ip=%lld",
             report_logq(cfg->address), self->port, (long long)cfg->max_connections,
             (long long)cfg->max_connections_per_ip);
    return self;
}

void report_http_stop(report_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_destroy(*self_p);
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

void report_http_status_db_where(json_t *status, const report_db_where_t *w)
{
    json_object_set_new(status, "database_server", json_string(w->server));
    json_object_set_new(status, "database_failovers", json_integer((json_int_t)w->failovers));
    json_object_set_new(status, "database_last_failover_ms",
                        json_integer((json_int_t)w->last_failover_ms));
}
