/* What every program's main() shares: signal handling for a clean stop, and the log
 * settings. */
#ifndef REPORT_SERVICE_H
#define REPORT_SERVICE_H

#include "report_config.h"
#include "report_http.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Set to 1 by SIGINT or SIGTERM once report_service_setup() was called. */
extern volatile sig_atomic_t report_service_stop;

/* What every program does first, process-wide: SIGINT/SIGTERM handlers that set
 * report_service_stop, SIGPIPE ignored, and the out-of-memory policy extended to jansson (its
 * allocations go through report_malloc, which logs and aborts: a JSON document is never
 * silently missing a member because an allocation failed). */
void report_service_setup(void);
/* Applies log-level and names the service in logs; -1 if the level is unknown. */
int report_service_logging(const char *service, const char *level);
/* Settings every service has; a service's settings struct holds one of these. */
typedef struct {
    report_config_file_t config;
    char *log_level;
    char *metrics_address;
    char *status_peers;
    int64_t http_max_connections;
    int64_t http_max_connections_per_ip;
    int64_t http_idle_timeout_s;
    int64_t http_connection_memory_bytes;
} report_service_common_t;

/* The settings-table entries of report_service_common_t held in TYPE's member FIELD, for the
 * service NAME (its settings file /etc/report/NAME.conf). */
#define REPORT_SERVICE_SETTINGS(TYPE, FIELD, NAME, METRICS_PORT)                                   \
    REPORT_CONFIG_FILE_SETTINGS(TYPE, FIELD.config, "/etc/report/" NAME ".conf"),                  \
        {"metrics-address",                                                                        \
         REPORT_SETTING_STRING,                                                                    \
         "0.0.0.0:" METRICS_PORT,                                                                  \
         offsetof(TYPE, FIELD.metrics_address),                                                    \
         0,                                                                                        \
         0,                                                                                        \
         "HOST:PORT of /metrics, /healthz, /readyz, /status.json and /status"},                    \
        {"http-max-connections",                                                                   \
         REPORT_SETTING_INT,                                                                       \
         REPORT_STR(REPORT_HTTP_MAX_CONNECTIONS),                                                  \
         offsetof(TYPE, FIELD.http_max_connections),                                               \
         1,                                                                                        \
         1000000,                                                                                  \
         "connections the HTTP endpoint holds at once, all clients"},                              \
        {"http-max-connections-per-ip",                                                            \
         REPORT_SETTING_INT,                                                                       \
         REPORT_STR(REPORT_HTTP_MAX_CONNECTIONS_PER_IP),                                           \
         offsetof(TYPE, FIELD.http_max_connections_per_ip),                                        \
         1,                                                                                        \
         1000000,                                                                                  \
         "connections the HTTP endpoint holds at once from one address"},                          \
        {"http-idle-timeout-s",                                                                    \
         REPORT_SETTING_INT,                                                                       \
         REPORT_STR(REPORT_HTTP_IDLE_TIMEOUT_S),                                                   \
         offsetof(TYPE, FIELD.http_idle_timeout_s),                                                \
         1,                                                                                        \
         86400,                                                                                    \
         "an HTTP connection silent this long is closed"},                                         \
        {"http-connection-memory-bytes",                                                           \
         REPORT_SETTING_INT,                                                                       \
         REPORT_STR(REPORT_HTTP_CONNECTION_MEMORY_BYTES),                                          \
         offsetof(TYPE, FIELD.http_connection_memory_bytes),                                       \
         4096,                                                                                     \
         67108864,                                                                                 \
         "memory of one HTTP connection: request line, headers and the answer's headers"},         \
        {"status-peers",                                                                           \
         REPORT_SETTING_STRING,                                                                    \
         "http://127.0.0.1:9570,http://127.0.0.1:9571,http://127.0.0.1:9572",                      \
         offsetof(TYPE, FIELD.status_peers),                                                       \
         0,                                                                                        \
         0,                                                                                        \
         "base URLs of the services the status page shows (and may read /status.json)"},           \
    {                                                                                              \
        "log-level", REPORT_SETTING_STRING, "info", offsetof(TYPE, FIELD.log_level), 0, 0,         \
            "debug, info, warn or error"                                                           \
    }

/* Loads the settings of service `name` into cfg (usage printed on --help or an error), sets
 * up logging and signals. Returns -1 to go on, or the exit code to return from main. */
int report_service_begin(const char *name, const report_setting_t *table, void *cfg,
                         const report_service_common_t *common, int argc, char **argv);
/* The HTTP endpoint's configuration from the common settings. */
void report_service_http_config(const report_service_common_t *common, report_http_config_t *out);
/* Waits for SIGINT/SIGTERM, or until alive(arg) turns false (alive may be NULL). Returns 0
 * when stopped by a signal, 1 if http is NULL (it could not start) or the service died. */
int report_service_serve(report_http_t *http, bool (*alive)(void *), void *arg);

#endif
