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
    REPORT_SERVICE_SETTINGS(s_config_t, common, "collector", "9570"),
    REPORT_SETTINGS_INCLUDE(report_collector_settings, F(collector)), REPORT_SETTINGS_END};
#undef F

static bool s_alive(void *collector)
{
    return report_collector_running(collector);
}

int main(int argc, char **argv)
{
    s_config_t cfg = {0};
    int rc = report_service_begin("collector", s_settings, &cfg, &cfg.common, argc, argv);
    if (rc < 0) {
        report_collector_t *collector = report_collector_start(&cfg.collector);
        report_http_config_t http;
        report_service_http_config(&cfg.common, &http);
        rc = report_service_serve(collector ? report_collector_ops_start(collector, &http) : NULL,
                                  s_alive, collector);
        report_collector_stop(&collector);
    }
    report_settings_free(s_settings, &cfg);
    return rc;
}
