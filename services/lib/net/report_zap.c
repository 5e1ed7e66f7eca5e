/* ZAP handler and CURVE socket set-up. */
#define _GNU_SOURCE
#include "report_zap.h"
#include "report_log.h"
#include "report_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* draft in 4.3.4, built into Debian's libzmq5 */
#endif

typedef struct {
    char *name;
    report_keyring_t *keyring;
} s_domain_t;

struct report_zap_t {
    void *sock;
    s_domain_t domains[8];
    size_t domain_count;
    uint64_t accepted, refused;
    report_ratelimit_t log_limit;
};

report_zap_t *report_zap_new(void *zctx)
{
    report_zap_t *self = report_calloc(1, sizeof *self);
    self->sock = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(self->sock, "inproc://zeromq.zap.01") != 0) {
        log_error("cannot bind the ZAP handler", "error=%s", report_logq(zmq_strerror(errno)));
        report_zap_destroy(&self);
        return NULL;
    }
    report_ratelimit_init(&self->log_limit, 20, 1000);
    return self;
}

void report_zap_destroy(report_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_zap_t *self = *self_p;
    if (self->sock)
        zmq_close(self->sock);
    for (size_t i = 0; i < self->domain_count; i++)
        free(self->domains[i].name);
    free(self);
    *self_p = NULL;
}

void report_zap_add_domain(report_zap_t *self, const char *domain, report_keyring_t *keyring)
{
    if (self->domain_count >= sizeof self->domains / sizeof self->domains[0])
        return;
    self->domains[self->domain_count].name = report_strdup(domain);
    self->domains[self->domain_count].keyring = keyring;
    self->domain_count++;
}

void *report_zap_socket(report_zap_t *self)
{
    return self->sock;
}

uint64_t report_zap_accepted(report_zap_t *self)
{
    return self->accepted;
}

uint64_t report_zap_refused(report_zap_t *self)
{
    return self->refused;
}

void report_zap_handle(report_zap_t *self)
{
    /* Request: version, request id, domain, address, identity, mechanism, credentials... */
    zmq_msg_t frames[8];
    size_t count = 0;
    bool more = true;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            if (count == 0)
                return;
            break;
        }
        more = zmq_msg_more(&m);
        if (count < 8)
            frames[count++] = m;
        else
            zmq_msg_close(&m);
    }
    const char *status = "400", *text = "not enrolled";
    char user[REPORT_Z85_KEY_LEN + 1] = "";
    char domain[64] = "", address[64] = "", mechanism[16] = "";
    if (count >= 6) {
        snprintf(domain, sizeof domain, "%.*s", (int)zmq_msg_size(&frames[2]),
                 (char *)zmq_msg_data(&frames[2]));
        snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&frames[3]),
                 (char *)zmq_msg_data(&frames[3]));
        snprintf(mechanism, sizeof mechanism, "%.*s", (int)zmq_msg_size(&frames[5]),
                 (char *)zmq_msg_data(&frames[5]));
    }
    if (count >= 7 && strcmp(mechanism, "CURVE") == 0 && zmq_msg_size(&frames[6]) == 32) {
        zmq_z85_encode(user, zmq_msg_data(&frames[6]), 32);
        for (size_t i = 0; i < self->domain_count; i++) {
            if (strcmp(self->domains[i].name, domain) != 0)
                continue;
            report_keyring_refresh(self->domains[i].keyring);
            const char *who = report_keyring_identity(self->domains[i].keyring, user);
            if (who) {
                status = "200";
                text = "OK";
                log_debug("peer authenticated", "domain=%s identity=%s address=%s", domain, who,
                          address);
            }
        }
    } else {
        text = "CURVE required";
    }
    if (status[0] == '2') {
        self->accepted++;
    } else {
        self->refused++;
        uint64_t suppressed;
        if (report_ratelimit_allow(&self->log_limit, &suppressed))
            log_warn("peer refused at handshake",
                     "domain=%s mechanism=%s address=%s key=%s "
                     "reason=%s suppressed=%llu",
                     report_logq(domain), report_logq(mechanism), report_logq(address),
                     user[0] ? user : "-", report_logq(text), (unsigned long long)suppressed);
        user[0] = '\0';
    }
    /* Reply: version, request id, status code, status text, user id, metadata. */
    const char *version = "1.0";
    zmq_send(self->sock, version, 3, ZMQ_SNDMORE);
    if (count >= 2)
        zmq_send(self->sock, zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), ZMQ_SNDMORE);
    else
        zmq_send(self->sock, "", 0, ZMQ_SNDMORE);
    zmq_send(self->sock, status, 3, ZMQ_SNDMORE);
    zmq_send(self->sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(self->sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(self->sock, "", 0, 0);
    for (size_t i = 0; i < count; i++)
        zmq_msg_close(&frames[i]);
}

/* Makes sock a CURVE server with the given key pair in ZAP domain `domain` (enforced).
 * handshake_ms bounds half-open handshakes. 0 or -1. */
static int s_curve_server(void *sock, const report_keypair_t *server, const char *domain,
                          int handshake_ms)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, server->secret_key, REPORT_Z85_KEY_LEN + 1) != 0)
        return -1;
    if (handshake_ms > 0)
        zmq_setsockopt(sock, ZMQ_HANDSHAKE_IVL, &handshake_ms, sizeof handshake_ms);
    return 0;
}

void *report_server_bind(void *zctx, const report_server_socket_t *spec, char *bound,
                         size_t bound_size)
{
    void *sock = zmq_socket(zctx, spec->type);
    if (!sock) {
        log_error("cannot make a socket", "error=%s", report_logq(zmq_strerror(errno)));
        return NULL;
    }
    if (spec->server && s_curve_server(sock, spec->server, spec->domain, spec->handshake_ms) != 0) {
        log_error("cannot make a CURVE server socket", "domain=%s error=%s", spec->domain,
                  report_logq(zmq_strerror(errno)));
        zmq_close(sock);
        return NULL;
    }
    int linger = 0, one = 1;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (spec->type == ZMQ_ROUTER)
        zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (spec->sndhwm > 0)
        zmq_setsockopt(sock, ZMQ_SNDHWM, &spec->sndhwm, sizeof spec->sndhwm);
    if (spec->rcvhwm > 0)
        zmq_setsockopt(sock, ZMQ_RCVHWM, &spec->rcvhwm, sizeof spec->rcvhwm);
    if (spec->max_message_bytes > 0)
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &spec->max_message_bytes,
                       sizeof spec->max_message_bytes);
    report_heartbeat(sock, spec->heartbeat_ms, spec->heartbeat_timeout_ms);
    if (zmq_bind(sock, spec->endpoint) != 0) {
        log_error("cannot bind", "endpoint=%s error=%s", report_logq(spec->endpoint),
                  report_logq(zmq_strerror(errno)));
        zmq_close(sock);
        return NULL;
    }
    size_t len = bound_size;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, bound, &len);
    return sock;
}

void report_heartbeat(void *sock, int ivl_ms, int timeout_ms)
{
    if (ivl_ms <= 0)
        return;
    if (timeout_ms < ivl_ms)
        timeout_ms = ivl_ms;
    int ttl = timeout_ms > 6553500 ? 6553500 : timeout_ms; /* 16 bits of deciseconds */
    zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &ivl_ms, sizeof ivl_ms);
    zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout_ms, sizeof timeout_ms);
    zmq_setsockopt(sock, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
}

int report_curve_client(void *sock, const char *server_public, const report_keypair_t *client)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_public, REPORT_Z85_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, client->public_key, REPORT_Z85_KEY_LEN + 1) !=
            0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, client->secret_key, REPORT_Z85_KEY_LEN + 1) != 0)
        return -1;
    return 0;
}

const char *report_curve_peer(void *msg)
{
    const char *user = zmq_msg_gets((zmq_msg_t *)msg, "User-Id");
    return user && *user ? user : NULL;
}
