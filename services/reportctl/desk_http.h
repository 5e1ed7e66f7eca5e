/* The desk's web server: libmicrohttpd on 127.0.0.1 only, every request refused 403 unless
 * it carries the session's random token (as Jupyter's), serving the page (desk.html, embedded)
 * and its API:
 *   GET  /?token=T                  the page
 *   GET  /api/state?token=T&period=YYYY-MM   the catalogue, figures and the unit's own items
 *   POST /api/preview?token=T       {period, text, sub_items, values{CODE: n}, item_key}
 *   POST /api/send?token=T          one update in the push file format; the outcome
 * The questions go to the aggregator's desk endpoint and the updates to the collector, both
 * over the unit's CURVE key; the page never talks to anything but this server. */
#ifndef DESK_HTTP_H
#define DESK_HTTP_H

#include "report_keys.h"

#include <stdint.h>

typedef struct {
    const char *desk_endpoint;      /* the aggregator's desk endpoint */
    const char *collector_endpoint; /* where updates go (a comma-separated list) */
    report_client_keys_t keys;      /* the unit's pair and the server's public key */
    int port;                       /* on 127.0.0.1; 0: any free port */
    int64_t timeout_ms;             /* wait for the aggregator's answer */
    int64_t push_deadline_ms;       /* a send gives up (outcome UNKNOWN) after this */
    int64_t max_body_bytes;         /* a larger request body is refused 413 */
    int64_t max_connections;        /* open at once */
    const char *token;              /* the session's secret, in every URL */
} desk_http_config_t;

typedef struct desk_http_t desk_http_t;

/* Binds 127.0.0.1:port and serves in libmicrohttpd's thread (one request at a time: a send
 * blocks the page's other requests until its outcome, which is what a clerk waits for).
 * cfg is copied (its strings must outlive the server). NULL if the port cannot be bound. */
desk_http_t *desk_http_start(const desk_http_config_t *cfg);
/* The port bound. */
int desk_http_port(const desk_http_t *self);
/* Stops serving and frees; accepts NULL. */
void desk_http_stop(desk_http_t **self_p);

#endif
