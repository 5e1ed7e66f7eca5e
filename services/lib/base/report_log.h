/* One line per event in logfmt on stderr: ts=... level=... svc=... msg="..." key=value...
 * The level is checked before anything is formatted. */
#ifndef REPORT_LOG_H
#define REPORT_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    REPORT_LOG_DEBUG = 0,
    REPORT_LOG_INFO = 1,
    REPORT_LOG_WARN = 2,
    REPORT_LOG_ERROR = 3,
} report_log_level_t;

extern report_log_level_t report_log_level;

/* Sets the level from "debug", "info", "warn" or "error"; -1 if the name is unknown. */
int report_log_set_level(const char *name);
/* Names the service in every line (svc=...). The string must outlive logging. */
void report_log_set_service(const char *service);
/* Writes one line: msg is quoted, fields is a printf format of "key=value" pairs. */
void report_log_write(report_log_level_t level, const char *msg, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));
/* Returns s quoted for logfmt if it needs it (spaces, quotes, '=', control bytes), else s.
 * The result lives in a per-thread ring of 8 buffers; values are cut at 512 bytes. */
const char *report_logq(const char *s);

#define REPORT_LOG(lvl, msg, ...)                                                                  \
    do {                                                                                           \
        if ((lvl) >= report_log_level)                                                             \
            report_log_write((lvl), (msg), __VA_ARGS__);                                           \
    } while (0)
#define log_debug(msg, ...) REPORT_LOG(REPORT_LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) REPORT_LOG(REPORT_LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) REPORT_LOG(REPORT_LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) REPORT_LOG(REPORT_LOG_ERROR, msg, __VA_ARGS__)

/* A token bucket that lets a flood of similar events log at most `burst` lines per
 * `window_ms`; the first line after a quiet spell says how many were suppressed. */
typedef struct {
    int64_t window_start;
    int64_t window_ms;
    uint32_t burst;
    uint32_t used;
    uint64_t suppressed;
} report_ratelimit_t;

void report_ratelimit_init(report_ratelimit_t *rl, uint32_t burst, int64_t window_ms);
/* True if this event may be logged; *suppressed_out gets the count dropped since the last
 * allowed one (0 usually). */
bool report_ratelimit_allow(report_ratelimit_t *rl, uint64_t *suppressed_out);

#endif
