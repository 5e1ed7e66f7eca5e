/* The ops endpoint every service runs beside its sockets: an HTTP server (libmicrohttpd) in
 * its own thread, bounded in connections, idle time and memory, serving /metrics (Prometheus),
 * /healthz, /readyz, /status.json (the service's status with rates and the last hour of history)
 * and /status (the status page). It reads the service only through the callbacks below, which take
 * thread-safe snapshots. */
#ifndef REPORT_HTTP_H
#define REPORT_HTTP_H

#include "report_db.h"
#include "report_util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define REPORT_SAMPLE_MAX_COUNTERS 6

/* One point of a service's history: its queue depth and cumulative counters. */
typedef struct {
    const char *queue_name;
    double depth;
    double limit;
    size_t counter_count;
    const char *counter_names[REPORT_SAMPLE_MAX_COUNTERS];
    double counters[REPORT_SAMPLE_MAX_COUNTERS];
} report_sample_t;

/* What a service shows. Each callback gets a view: with snapshot set, a copy of the
 * service's counters taken for this request (snapshot(arg, view) into stats_size bytes the
 * endpoint allocates and frees), else arg itself. */
typedef struct {
    const char *service; /* "collector", "store", "aggregator" */
    /* Appends the service's own metric families (Prometheus text). */
    void (*metrics)(const void *view, report_buf_t *out);
    /* Fills the current sample. */
    void (*sample)(const void *view, report_sample_t *sample);
    /* Adds service-specific members to the status object (may be NULL). */
    void (*status)(const void *view, json_t *status);
    /* True if ready; otherwise writes why. */
    bool (*ready)(const void *view, char *why, size_t size);
    void *arg;
    size_t stats_size;
    void (*snapshot)(void *arg, void *view); /* may be NULL */
} report_http_handlers_t;

typedef struct {
    const char *address; /* "0.0.0.0:9570", "127.0.0.1:0" (0 = any free port) */
    const char *peers;   /* comma-separated base URLs of the services the page shows */
    int64_t sample_ms;   /* history sampling interval (10000) */
    int64_t history;     /* points kept (360 = one hour at 10 s) */
    /* Bounds, so that slow or hostile clients cannot starve /healthz (settings http-...). */
    int64_t max_connections;         /* open at once, all clients */
    int64_t max_connections_per_ip;  /* open at once from one address */
    int64_t idle_timeout_s;          /* a connection silent this long is closed */
    int64_t connection_memory_bytes; /* per connection: request line, headers, answer headers */
} report_http_config_t;

/* The defaults of the bounds (one place: the settings table uses them too). A Prometheus scrape,
 * a probe or a browser needs a few connections; one address may hold half of them. */
#define REPORT_HTTP_MAX_CONNECTIONS 512
#define REPORT_HTTP_MAX_CONNECTIONS_PER_IP 256
#define REPORT_HTTP_IDLE_TIMEOUT_S 10
#define REPORT_HTTP_CONNECTION_MEMORY_BYTES 16384

typedef struct report_http_t report_http_t;

void report_http_config_default(report_http_config_t *cfg);
/* Binds and starts the server. handlers are copied; arg must outlive the server; the callbacks
 * are called from the server's threads. NULL if the address cannot be bound or a bound is out
 * of range. */
report_http_t *report_http_start(const report_http_config_t *cfg,
                                 const report_http_handlers_t *handlers);
/* Stops the server (connections still open are closed) and frees it; accepts NULL. */
void report_http_stop(report_http_t **self_p);
/* The TCP port bound (the one chosen by the system for port 0). */
int report_http_port(report_http_t *self);

/* A plain HTTP GET of http://host:port/path (no TLS, no redirects); returns the body (caller
 * frees) and the status in *status, or NULL on failure or timeout. For reportctl status and
 * tests. */
char *report_http_get(const char *url, int timeout_ms, int *status);

/* Adds to a service's status object which database server it is on and its failovers:
 * database_server ("host:port", "" while disconnected), database_failovers and
 * database_last_failover_ms (0 before the first). */
void report_http_status_db_where(json_t *status, const report_db_where_t *w);

#endif
