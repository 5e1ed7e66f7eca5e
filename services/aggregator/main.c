/* report-aggregator: compiles the monthly report, publishes frozen versions to leadership
 * subscribers and serves catch-up. */
#define _DEFAULT_SOURCE
#include "report_aggregator.h"
#include "report_config.h"
#include "report_log.h"
#include "report_ops.h"
#include "report_service.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    report_aggregator_config_t agg;
    char *log_level;
    char *http_address;
    char *status_peers;
} s_config_t;

#define F(field) offsetof(s_config_t, field)
static const report_setting_t s_settings[] = {
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
    {"metrics-address", REPORT_SETTING_STRING, "0.0.0.0:9572", F(http_address), 0, 0,
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
        fprintf(rc == 1 ? stdout : stderr, "usage: report-aggregator [options]\n");
        report_settings_usage(s_settings, rc == 1 ? stdout : stderr);
        free(args);
        report_settings_free(s_settings, &cfg);
        return rc == 1 ? 0 : 2;
    }
    free(args);
    if (report_service_logging("aggregator", cfg.log_level) != 0)
        return 2;
    report_service_signals();
    log_info("starting", "version=%s commit=%s", report_service_version(), report_service_commit());
    report_aggregator_t *agg = report_aggregator_start(&cfg.agg);
    if (!agg) {
        report_settings_free(s_settings, &cfg);
        return 1;
    }
    report_http_config_t hcfg;
    report_http_config_default(&hcfg);
    hcfg.address = cfg.http_address;
    hcfg.peers = cfg.status_peers;
    report_http_t *http = report_ops_aggregator(agg, &hcfg);
    while (http && !report_service_stop)
        usleep(100 * 1000);
    report_http_stop(&http);
    report_aggregator_stop(&agg);
    log_info("stopped", "%s", "");
    report_settings_free(s_settings, &cfg);
    return 0;
}
