/* logfmt logging to stderr; one write(2) per line so lines from threads never interleave. */
#define _GNU_SOURCE
#include "report_log.h"
#include "report_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

report_log_level_t report_log_level = REPORT_LOG_INFO;
static const char *s_service = "report";

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

int report_log_set_level(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, s_level_names[i]) == 0) {
            report_log_level = (report_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void report_log_set_service(const char *service)
{
    s_service = service;
}

const char *report_logq(const char *s)
{
    static __thread char ring[8][600];
    static __thread unsigned next;
    if (!s)
        return "\"\"";
    bool plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
            plain = false;
    if (plain && strlen(s) <= 512)
        return s;
    char *out = ring[next++ % 8];
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = s; *p && o < 512; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, 8, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

void report_log_write(report_log_level_t level, const char *msg, const char *fields, ...)
{
    char line[4096];
    int64_t now = report_wall_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int n =
        snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s svc=%s msg=%s",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(now % 1000), s_level_names[level], s_service, report_logq(msg));
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fields && *fields && len < sizeof line - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fields);
        int m = vsnprintf(line + len, sizeof line - len, fields, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void report_ratelimit_init(report_ratelimit_t *rl, uint32_t burst, int64_t window_ms)
{
    memset(rl, 0, sizeof *rl);
    rl->burst = burst;
    rl->window_ms = window_ms;
}

bool report_ratelimit_allow(report_ratelimit_t *rl, uint64_t *suppressed_out)
{
    int64_t now = report_clock_ms();
    *suppressed_out = 0;
    if (now - rl->window_start >= rl->window_ms) {
        rl->window_start = now;
        rl->used = 0;
    }
    if (rl->used < rl->burst) {
        rl->used++;
        *suppressed_out = rl->suppressed;
        rl->suppressed = 0;
        return true;
    }
    rl->suppressed++;
    return false;
}
