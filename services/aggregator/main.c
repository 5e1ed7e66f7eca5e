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
    REPORT_SERVICE_SETTINGS(s_config_t, common, "aggregator", "9572"),
    REPORT_SETTINGS_INCLUDE(report_aggregator_settings, F(agg)), REPORT_SETTINGS_END};
#undef F

static bool s_alive(void *aggregator)
{
    return report_aggregator_running(aggregator);
}

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    int rc = report_service_begin("aggregator", s_settings, &cfg, &cfg.common, argc, argv);
    if (rc < 0) {
        report_aggregator_t *agg = report_aggregator_start(&cfg.agg);
        report_http_config_t http;
        report_service_http_config(&cfg.common, &http);
        rc = report_service_serve(agg ? report_aggregator_ops_start(agg, &http) : NULL, s_alive,
                                  agg);
        report_aggregator_stop(&agg);
    }
    report_settings_free(s_settings, &cfg);
    return rc;
}
