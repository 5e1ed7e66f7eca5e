/* The aggregator's ops view (metrics, status, readiness) on an HTTP endpoint. */
#ifndef REPORT_AGGREGATOR_OPS_H
#define REPORT_AGGREGATOR_OPS_H

#include "report_aggregator.h"
#include "report_http.h"

/* Starts the HTTP endpoint of a running aggregator (which must outlive it). NULL if the address
 * cannot be bound. */
report_http_t *report_aggregator_ops_start(report_aggregator_t *aggregator,
                                           const report_http_config_t *cfg);

#endif
