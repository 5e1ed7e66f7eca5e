/* report-aggregator: compiles the monthly report, publishes frozen versions to leadership
 * subscribers and serves catch-up. */
#include "report_aggregator.h"
#include "report_aggregator_ops.h"
#include "report_service.h"

#include <stddef.h>

typedef struct {
    report_service_common_t common;
    report_aggregator_config_t agg;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
    REPORT_SERVICE_SETTINGS(s_config_t, common, "9572"),
    {"db", REPORT_SETTING_STRING, "dbname=report", F(agg.db), 0, 0,
     "libpq connection string of the database"},
    {"control-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5574", F(agg.control_endpoint), 0,
     0, "where reportctl compile/publish connect"},
    {"publish-endpoint", REPORT_SETTING_STRING, "tcp://*:5572", F(agg.publish_endpoint), 0, 0,
     "PUB socket for published reports"},
    {"catchup-endpoint", REPORT_SETTING_STRING, "tcp://*:5573", F(agg.catchup_endpoint), 0, 0,
     "catch-up endpoint for subscribers that missed reports"},
    {"catchup-max", REPORT_SETTING_INT, "100", F(agg.catchup_max), 1, 100000,
     "reports per catch-up answer"},
    {"max-request-bytes", REPORT_SETTING_INT, "65536", F(agg.max_request_bytes), 256, 16777216,
     "largest control or catch-up request"},
    {"hwm", REPORT_SETTING_INT, "1000", F(agg.hwm), 1, 1000000,
     "ZeroMQ high-water mark per peer, messages"},
    {"migrate", REPORT_SETTING_BOOL, "true", F(agg.migrate), 0, 0,
     "apply database migrations at start"},
    {"status-period", REPORT_SETTING_STRING, "", F(agg.status_period), 0, 0,
     "YYYY-MM whose late units are watched (default: the current period)"},
    {"late-refresh-ms", REPORT_SETTING_INT, "30000", F(agg.late_refresh_ms), 1000, 86400000,
     "how often late units are looked up"},
    {"keys-dir", REPORT_SETTING_STRING, "keys", F(agg.keys_dir), 0, 0,
     "server.key, recipients/NAME.pub, operators/NAME.pub (changes apply without restart)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(agg.insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE, no authentication"},
    {"handshake-ms", REPORT_SETTING_INT, "5000", F(agg.handshake_ms), 100, 600000,
     "ZMQ_HANDSHAKE_IVL: drop handshakes not finished by then"},
    {"max-connections", REPORT_SETTING_INT, "1000", F(agg.max_connections), 0, 1000000,
     "subscriber (PUB and catch-up) connections open at once; more are closed at once (0: no "
     "bound)"},
    {"max-connections-per-peer", REPORT_SETTING_INT, "100", F(agg.max_connections_per_peer), 0,
     1000000, "the same for one IP address (0: no bound)"},
    {"peer-heartbeat-ms", REPORT_SETTING_INT, "5000", F(agg.peer_heartbeat_ms), 0, 3600000,
     "ZMQ_HEARTBEAT_IVL: ping every connection this often (0: off)"},
    {"peer-timeout-ms", REPORT_SETTING_INT, "15000", F(agg.peer_timeout_ms), 100, 3600000,
     "ZMQ_HEARTBEAT_TIMEOUT/TTL: a peer silent this long is disconnected"},
    {"lock-timeout-ms", REPORT_SETTING_INT, "5000", F(agg.lock_timeout_ms), 0, 3600000,
     "longest wait for a database lock (e.g. a publish behind a stuck session), then the "
     "request is answered db_retry (0: no bound)"},
    {"statement-timeout-ms", REPORT_SETTING_INT, "60000", F(agg.statement_timeout_ms), 0, 3600000,
     "longest a statement may run (0: no bound)"},
    {"idle-in-transaction-timeout-ms", REPORT_SETTING_INT, "60000",
     F(agg.idle_in_transaction_timeout_ms), 0, 3600000,
     "the server ends a session idle this long inside a transaction (0: no bound)"},
    REPORT_SETTINGS_END};
#undef F

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    int rc = report_service_begin("aggregator", s_settings, &cfg, &cfg.common, argc, argv);
    if (rc < 0) {
        report_aggregator_t *agg = report_aggregator_start(&cfg.agg);
        report_http_config_t http;
        report_service_http_config(&cfg.common, &http);
        rc = report_service_serve(agg ? report_aggregator_ops_start(agg, &http) : NULL, NULL, NULL);
        report_aggregator_stop(&agg);
    }
    report_settings_free(s_settings, &cfg);
    return rc;
}
