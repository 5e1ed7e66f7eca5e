/* report-store: commits updates handed over by collectors to PostgreSQL in batches. */
#include "report_store_ops.h"
#include "report_service.h"
#include "report_store.h"

#include <stddef.h>

typedef struct {
    report_service_common_t common;
    report_store_config_t store;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
    REPORT_SERVICE_SETTINGS(s_config_t, common, "9571"),
    {"db", REPORT_SETTING_STRING, "dbname=report", F(store.db), 0, 0,
     "libpq connection string of the database"},
    {"collectors", REPORT_SETTING_STRING, "tcp://127.0.0.1:5571", F(store.collectors), 0, 0,
     "comma-separated store endpoints of the collectors to serve"},
    {"store-id", REPORT_SETTING_STRING, "", F(store.store_id), 0, 0,
     "name in logs and rows (default host-pid)"},
    {"writers", REPORT_SETTING_INT, "2", F(store.writers), 1, 64,
     "database sessions, each with its own link to every collector: one transaction commits "
     "while the next is inserted"},
    {"batch-max", REPORT_SETTING_INT, "500", F(store.batch_max), 1, 100000,
     "updates per transaction at most"},
    {"batch-max-bytes", REPORT_SETTING_INT, "4194304", F(store.batch_max_bytes), 1024, 1073741824,
     "payload bytes per transaction at most (at least one update)"},
    {"batch-wait-ms", REPORT_SETTING_INT, "0", F(store.batch_wait_ms), 0, 60000,
     "longest an update waits for its batch to fill (0: a writer commits what it holds as soon "
     "as it is free; what arrives meanwhile makes the next batch)"},
    {"capacity", REPORT_SETTING_INT, "2000", F(store.capacity), 1, 1000000,
     "updates held at most (credit announced to collectors)"},
    {"heartbeat-ms", REPORT_SETTING_INT, "1000", F(store.heartbeat_ms), 50, 60000,
     "heartbeat to collectors"},
    {"reconnect-min-ms", REPORT_SETTING_INT, "10", F(store.reconnect_min_ms), 1, 60000,
     "first database reconnect delay"},
    {"reconnect-max-ms", REPORT_SETTING_INT, "5000", F(store.reconnect_max_ms), 1, 600000,
     "cap of the jittered reconnect delay"},
    {"dead-letter-max", REPORT_SETTING_INT, "10000", F(store.dead_letter_max), 1, 100000000,
     "rows kept in the dead_letters table"},
    {"dead-letter-queue", REPORT_SETTING_INT, "1000", F(store.dead_letter_queue), 1, 1000000,
     "refused inputs held in memory while the database is away"},
    {"catalog-refresh-ms", REPORT_SETTING_INT, "10000", F(store.catalog_refresh_ms), 100, 86400000,
     "reload of unit, area and indicator codes"},
    {"lock-timeout-ms", REPORT_SETTING_INT, "2000", F(store.lock_timeout_ms), 0, 3600000,
     "longest a statement waits for a lock, then the batch is retried (0 = no bound)"},
    {"statement-timeout-ms", REPORT_SETTING_INT, "4000", F(store.statement_timeout_ms), 0, 3600000,
     "longest a statement runs, then the batch is retried (0 = no bound)"},
    {"idle-in-transaction-timeout-ms", REPORT_SETTING_INT, "5000",
     F(store.idle_in_transaction_timeout_ms), 0, 3600000,
     "the server ends the session of a store idle this long inside a transaction (0 = never)"},
    {"db-wait-max-ms", REPORT_SETTING_INT, "0", F(store.db_wait_max_ms), 0, 3600000,
     "longest wait for a statement's results on the client, then the connection is dropped and "
     "the store falls silent while it holds work (0 = statement-timeout-ms + 2000, or 60000)"},
    {"migrate", REPORT_SETTING_BOOL, "true", F(store.migrate), 0, 0,
     "apply database migrations at start"},
    {"allow-unsafe-durability", REPORT_SETTING_BOOL, "false", F(store.allow_unsafe_durability), 0,
     0, "DEVELOPMENT ONLY: run against a server with fsync or synchronous_commit off"},
    {"key", REPORT_SETTING_STRING, "keys/store.key", F(store.key), 0, 0,
     "the store's CURVE key pair (public key enrolled in KEYS/stores/)"},
    {"collector-key", REPORT_SETTING_STRING, "keys/server.pub", F(store.collector_key), 0, 0,
     "the collectors' CURVE public key (.pub file or Z85)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(store.insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE on the collector link"},
    REPORT_SETTINGS_END};
#undef F

static bool s_alive(void *store)
{
    return report_store_running(store);
}

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    int rc = report_service_begin("store", s_settings, &cfg, &cfg.common, argc, argv);
    if (rc < 0) {
        report_store_t *store = report_store_start(&cfg.store);
        report_http_config_t http;
        report_service_http_config(&cfg.common, &http);
        rc = report_service_serve(store ? report_store_ops_start(store, &http) : NULL, s_alive,
                                  store);
        report_store_stop(&store);
    }
    report_settings_free(s_settings, &cfg);
    return rc;
}
