/* The store's ops view (metrics, status, readiness) on an HTTP endpoint. */
#ifndef REPORT_STORE_OPS_H
#define REPORT_STORE_OPS_H

#include "report_store.h"
#include "report_http.h"

/* Starts the HTTP endpoint of a running store (which must outlive it). NULL if the address
 * cannot be bound. */
report_http_t *report_store_ops_start(report_store_t *store, const report_http_config_t *cfg);

#endif
