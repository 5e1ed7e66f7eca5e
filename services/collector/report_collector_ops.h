/* The collector's ops view (metrics, status, readiness) on an HTTP endpoint. */
#ifndef REPORT_COLLECTOR_OPS_H
#define REPORT_COLLECTOR_OPS_H

#include "report_collector.h"
#include "report_http.h"

/* Starts the HTTP endpoint of a running collector (which must outlive it). NULL if the address
 * cannot be bound. */
report_http_t *report_collector_ops_start(report_collector_t *collector,
                                          const report_http_config_t *cfg);

#endif
