/* The ops view of each service: its Prometheus metrics, its status for the status page and
 * reportctl status, and its readiness, served by report_http. */
#ifndef REPORT_OPS_H
#define REPORT_OPS_H

#include "report_aggregator.h"
#include "report_collector.h"
#include "report_http.h"
#include "report_store.h"

/* Start the HTTP endpoint of a running service object (which must outlive it). NULL if the
 * address cannot be bound. */
report_http_t *report_ops_collector(report_collector_t *collector, const report_http_config_t *cfg);
report_http_t *report_ops_store(report_store_t *store, const report_http_config_t *cfg);
report_http_t *report_ops_aggregator(report_aggregator_t *aggregator,
                                     const report_http_config_t *cfg);

#endif
