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
    REPORT_SERVICE_SETTINGS(s_config_t, common, "store", "9571"),
    REPORT_SETTINGS_INCLUDE(report_store_settings, F(store)), REPORT_SETTINGS_END};
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
