/* report-collector: receives updates from subdivisions, validates them and hands them to
 * stores; answers each only when a store reports the commit. */
#include "report_collector.h"
#include "report_collector_ops.h"
#include "report_period.h"
#include "report_service.h"

#include <stddef.h>

typedef struct {
    report_service_common_t common;
    report_collector_config_t collector;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
    REPORT_SERVICE_SETTINGS(s_config_t, common, "9570"),
    {"endpoint", REPORT_SETTING_STRING, "tcp://*:5570", F(collector.endpoint), 0, 0,
     "where subdivisions connect"},
    {"store-endpoint", REPORT_SETTING_STRING, "tcp://127.0.0.1:5571", F(collector.store_endpoint),
     0, 0, "where stores connect"},
    {"max-inflight", REPORT_SETTING_INT, "10000", F(collector.max_inflight), 1, 10000000,
     "updates waiting for a commit, all clients (then BUSY)"},
    {"max-inflight-per-client", REPORT_SETTING_INT, "1000", F(collector.max_inflight_per_client), 1,
     10000000, "updates waiting for a commit, one client connection (then BUSY)"},
    {"max-message-bytes", REPORT_SETTING_INT, "262144", F(collector.max_message_bytes), 256,
     64 * 1024 * 1024, "largest update accepted (ZMQ_MAXMSGSIZE)"},
    {"max-text-bytes", REPORT_SETTING_INT, "16384", F(collector.max_text_bytes), 16, 16777216,
     "longest text or sub-item, bytes after NFC"},
    {"max-sub-items", REPORT_SETTING_INT, "50", F(collector.max_sub_items), 0, 100000,
     "sub-items per update"},
    {"max-indicators", REPORT_SETTING_INT, "50", F(collector.max_indicators), 0, 100000,
     "indicator values per update"},
    {"max-frames", REPORT_SETTING_INT, "2", F(collector.max_frames), 1, 3,
     "frames per client message (payload, or delimiter and payload)"},
    {"hwm", REPORT_SETTING_INT, "1000", F(collector.hwm), 1, 1000000,
     "ZeroMQ high-water mark per peer, messages"},
    {"store-timeout-ms", REPORT_SETTING_INT, "5000", F(collector.store_timeout_ms), 100, 3600000,
     "a silent store is declared dead after this"},
    {"inflight-expiry-ms", REPORT_SETTING_INT, "600000", F(collector.inflight_expiry_ms), 1000,
     86400000, "an update no store answered is dropped after this"},
    {"dead-letter-payload-bytes", REPORT_SETTING_INT, "4096",
     F(collector.dead_letter_payload_bytes), 0, 16777216, "bytes of refused input kept"},
    {"year-min", REPORT_SETTING_INT, REPORT_SERVICE_STR(REPORT_YEAR_MIN), F(collector.year_min),
     REPORT_YEAR_MIN, REPORT_YEAR_MAX, "earliest period year accepted"},
    {"year-max", REPORT_SETTING_INT, REPORT_SERVICE_STR(REPORT_YEAR_MAX), F(collector.year_max),
     REPORT_YEAR_MIN, REPORT_YEAR_MAX, "latest period year accepted"},
    {"value-max", REPORT_SETTING_INT, "1000000000000", F(collector.value_max), 0,
     1000000000000000LL, "largest indicator value accepted (values are >= 0)"},
    {"keys-dir", REPORT_SETTING_STRING, "keys", F(collector.keys_dir), 0, 0,
     "server.key, units/CODE.pub, stores/NAME.pub (changes apply without restart)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(collector.insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE, no authentication"},
    {"handshake-ms", REPORT_SETTING_INT, "5000", F(collector.handshake_ms), 100, 600000,
     "ZMQ_HANDSHAKE_IVL: drop handshakes not finished by then"},
    {"max-connections", REPORT_SETTING_INT, "1000", F(collector.max_connections), 0, 1000000,
     "client connections open at once; more are closed at once (0: no bound)"},
    {"max-connections-per-peer", REPORT_SETTING_INT, "100", F(collector.max_connections_per_peer),
     0, 1000000, "the same for one IP address (0: no bound)"},
    {"peer-heartbeat-ms", REPORT_SETTING_INT, "5000", F(collector.peer_heartbeat_ms), 0, 3600000,
     "ZMQ_HEARTBEAT_IVL: ping every connection this often (0: off)"},
    {"peer-timeout-ms", REPORT_SETTING_INT, "15000", F(collector.peer_timeout_ms), 100, 3600000,
     "ZMQ_HEARTBEAT_TIMEOUT/TTL: a peer silent this long is disconnected"},
    REPORT_SETTINGS_END};
#undef F

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    int rc = report_service_begin("collector", s_settings, &cfg, &cfg.common, argc, argv);
    if (rc < 0) {
        report_collector_t *collector = report_collector_start(&cfg.collector);
        report_http_config_t http;
        report_service_http_config(&cfg.common, &http);
        rc = report_service_serve(collector ? report_collector_ops_start(collector, &http) : NULL,
                                  NULL, NULL);
        report_collector_stop(&collector);
    }
    report_settings_free(s_settings, &cfg);
    return rc;
}
