/* The CURVE server side of a service: keys, keyrings, ZAP, server sockets. */
#define _GNU_SOURCE
#include "report_server.h"
#include "report_actor.h"
#include "report_log.h"
#include "report_util.h"
#include "report_zap.h"

#include <stdlib.h>
#include <string.h>

#define F(field) offsetof(report_server_config_t, field)
const report_setting_t report_server_settings[] = {
    {"keys-dir", REPORT_SETTING_STRING, "keys", F(keys_dir), 0, 0,
     "server.key and the enrolled public keys: units/, stores/ (collector), recipients/, "
     "operators/ (aggregator); changes apply without restart"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE, no authentication"},
    {"handshake-ms", REPORT_SETTING_INT, "5000", F(handshake_ms), 100, 600000,
     "ZMQ_HANDSHAKE_IVL: drop handshakes not finished by then"},
    {"max-connections", REPORT_SETTING_INT, "1000", F(max_connections), 0, 1000000,
     "connections of clients (units; subscribers) open at once; more are closed at once (0: no "
     "bound)"},
    {"max-connections-per-peer", REPORT_SETTING_INT, "100", F(max_connections_per_peer), 0, 1000000,
     "the same for one IP address (0: no bound)"},
    {"peer-heartbeat-ms", REPORT_SETTING_INT, "5000", F(peer_heartbeat_ms), 0, 3600000,
     "ZMQ_HEARTBEAT_IVL: ping every connection this often (0: off)"},
    {"peer-timeout-ms", REPORT_SETTING_INT, "15000", F(peer_timeout_ms), 100, 3600000,
     "ZMQ_HEARTBEAT_TIMEOUT/TTL: a peer silent this long is disconnected"},
    REPORT_SETTINGS_END};
#undef F

/* The two domains every server has, and one more a service may add (the aggregator's desk:
 * units). */
#define S_DOMAINS 3

struct report_server_t {
    void *zctx;
    const report_server_config_t *cfg;
    report_keypair_t key;
    report_zap_t *zap; /* NULL without CURVE */
    const char *domains[S_DOMAINS];
    report_keyring_t *keyrings[S_DOMAINS];
    int domain_count;
};

/* The keyring of domain i, and the handler's accepting its peers. */
static void s_keyring(report_server_t *self, int i)
{
    char *dir = report_sprintf("%s/%s", self->cfg->keys_dir, self->domains[i]);
    self->keyrings[i] = report_keyring_new(dir);
    free(dir);
    report_zap_add_domain(self->zap, self->domains[i], self->keyrings[i]);
}

/* The key pair, the keyrings and the handler; 0 or -1 (logged). */
static int s_secure(report_server_t *self)
{
    char *key_path = report_sprintf("%s/server.key", self->cfg->keys_dir);
    int rc = report_keys_load_pair(key_path, &self->key);
    if (rc != 0)
        log_error("cannot read the server key pair", "path=%s hint=%s", report_logq(key_path),
                  report_logq("reportctl keygen --out KEYS/server"));
    free(key_path);
    if (rc != 0)
        return -1;
    self->zap = report_zap_new(self->zctx);
    if (!self->zap)
        return -1;
    for (int i = 0; i < self->domain_count; i++)
        s_keyring(self, i);
    return 0;
}

report_server_t *report_server_new(void *zctx, const report_server_config_t *cfg,
                                   const char *domain_a, const char *domain_b,
                                   const char *insecure_warning)
{
    report_server_t *self = report_calloc(1, sizeof *self);
    self->zctx = zctx;
    self->cfg = cfg;
    self->domains[0] = domain_a;
    self->domains[1] = domain_b;
    self->domain_count = 2;
    if (cfg->insecure_plain) {
        log_error(insecure_warning, "insecure_plain=true hint=%s", report_logq("development only"));
        return self;
    }
    if (s_secure(self) != 0)
        report_server_destroy(&self);
    return self;
}

void report_server_destroy(report_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    report_server_t *self = *self_p;
    /* the handler first: it holds the keyrings */
    report_zap_destroy(&self->zap);
    for (int i = 0; i < S_DOMAINS; i++)
        report_keyring_destroy(&self->keyrings[i]);
    memset(&self->key, 0, sizeof self->key);
    free(self);
    *self_p = NULL;
}

report_keyring_t *report_server_keyring(report_server_t *self, const char *domain)
{
    for (int i = 0; i < self->domain_count; i++)
        if (strcmp(self->domains[i], domain) == 0)
            return self->keyrings[i];
    return NULL;
}

int report_server_add_domain(report_server_t *self, const char *domain)
{
    if (self->domain_count == S_DOMAINS)
        return -1;
    int i = self->domain_count++;
    self->domains[i] = domain;
    if (self->zap)
        s_keyring(self, i);
    return 0;
}

void *report_server_socket(report_server_t *self, int type, const char *endpoint,
                           const char *domain, int sndhwm, int rcvhwm, int64_t max_message_bytes,
                           char *bound, size_t bound_size)
{
    report_server_socket_t spec = {type,
                                   endpoint,
                                   self->zap ? &self->key : NULL,
                                   domain,
                                   (int)self->cfg->handshake_ms,
                                   sndhwm,
                                   rcvhwm,
                                   max_message_bytes,
                                   (int)self->cfg->peer_heartbeat_ms,
                                   (int)self->cfg->peer_timeout_ms};
    return report_server_bind(self->zctx, &spec, bound, bound_size);
}

void *report_server_zap_socket(report_server_t *self)
{
    return self->zap ? report_zap_socket(self->zap) : NULL;
}

void report_server_zap_drain(report_server_t *self)
{
    while (self->zap && report_readable(report_zap_socket(self->zap)))
        report_zap_handle(self->zap);
}

uint64_t report_server_refused(report_server_t *self)
{
    return self->zap ? report_zap_refused(self->zap) : 0;
}

uint64_t report_server_keyrings_retry(report_server_t *self)
{
    uint64_t failures = 0;
    for (int i = 0; i < S_DOMAINS; i++) {
        if (!self->keyrings[i])
            continue;
        /* a reload that failed is retried even when no peer asks (at most every 200 ms) */
        report_keyring_retry(self->keyrings[i]);
        failures += report_keyring_reload_failures(self->keyrings[i]);
    }
    return failures;
}
