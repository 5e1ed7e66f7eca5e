/* report-collector: receives updates from subdivisions, validates them and hands them to
 * stores; answers each only when a store reports the commit. */
#define _DEFAULT_SOURCE
#include "report_collector.h"
#include "report_config.h"
#include "report_log.h"
#include "report_ops.h"
#include "report_service.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    report_collector_config_t collector;
    char *log_level;
    char *http_address;
    char *status_peers;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
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
    {"year-min", REPORT_SETTING_INT, "2000", F(collector.year_min), 1900, 3000,
     "earliest period year accepted"},
    {"year-max", REPORT_SETTING_INT, "2100", F(collector.year_max), 1900, 3000,
     "latest period year accepted"},
    {"value-max", REPORT_SETTING_INT, "1000000000000", F(collector.value_max), 0,
     1000000000000000LL, "largest indicator value accepted (values are >= 0)"},
    {"keys-dir", REPORT_SETTING_STRING, "keys", F(collector.keys_dir), 0, 0,
     "server.key, units/CODE.pub, stores/NAME.pub (changes apply without restart)"},
    {"insecure-plain", REPORT_SETTING_BOOL, "false", F(collector.insecure_plain), 0, 0,
     "DEVELOPMENT ONLY: no CURVE, no authentication"},
    {"handshake-ms", REPORT_SETTING_INT, "5000", F(collector.handshake_ms), 100, 600000,
     "ZMQ_HANDSHAKE_IVL: drop handshakes not finished by then"},
    {"metrics-address", REPORT_SETTING_STRING, "0.0.0.0:9570", F(http_address), 0, 0,
     "HOST:PORT of /metrics, /healthz, /readyz, /status.json and /status"},
    {"status-peers", REPORT_SETTING_STRING,
     "http://127.0.0.1:9570,http://127.0.0.1:9571,http://127.0.0.1:9572", F(status_peers), 0, 0,
     "base URLs of the services the status page shows"},
    {"log-level", REPORT_SETTING_STRING, "info", F(log_level), 0, 0, "debug, info, warn or error"},
    REPORT_SETTINGS_END};

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    char **args = NULL;
    int nargs = 0;
    int rc = report_settings_load(s_settings, &cfg, argc, argv, &args, &nargs);
    if (rc != 0 || nargs != 0) {
        fprintf(rc == 1 ? stdout : stderr, "usage: report-collector [options]\n");
        report_settings_usage(s_settings, rc == 1 ? stdout : stderr);
        free(args);
        report_settings_free(s_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    free(args);
    if (report_service_logging("collector", cfg.log_level) != 0)
        return 2;
    report_service_signals();
    log_info("starting", "version=%s commit=%s", report_service_version(), report_service_commit());
    report_collector_t *collector = report_collector_start(&cfg.collector);
    if (!collector) {
        report_settings_free(s_settings, &cfg);
        return 1;
    }
    report_http_config_t hcfg;
    report_http_config_default(&hcfg);
    hcfg.address = cfg.http_address;
    hcfg.peers = cfg.status_peers;
    report_http_t *http = report_ops_collector(collector, &hcfg);
    while (http && !report_service_stop)
        usleep(100 * 1000);
    report_http_stop(&http);
    report_collector_stop(&collector);
    log_info("stopped", "%s", "");
    report_settings_free(s_settings, &cfg);
    return 0;
}
