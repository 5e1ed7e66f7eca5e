/* Allocation, clocks, string buffer and jitter shared by every program. */
#define _GNU_SOURCE
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The out-of-memory policy, one for the whole tree (Redis's): an allocation that fails is
 * logged and the process aborts. Callers never check for NULL, and no half-built answer can
 * leave a service; the service manager restarts it, and nothing acknowledged is lost, since
 * an update is acknowledged only once committed. */
void report_out_of_memory(size_t size)
{
    fprintf(stderr, "level=fatal msg=\"out of memory\" bytes=%zu\n", size);
    abort();
}

void *report_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        report_out_of_memory(size);
    return p;
}

void *report_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        report_out_of_memory(count * size);
    return p;
}

void *report_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        report_out_of_memory(size);
    return p;
}

FILE *report_open_memstream(char **buffer, size_t *size)
{
    FILE *out = open_memstream(buffer, size);
    if (!out)
        report_out_of_memory(0);
    return out;
}

char *report_strdup(const char *s)
{
    return report_strndup(s, strlen(s));
}

char *report_strndup(const char *s, size_t len)
{
    char *p = report_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *report_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        report_out_of_memory(0);
    return s;
}

int64_t report_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t report_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t report_random(uint32_t bound)
{
    static __thread uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)ts.tv_nsec << 16) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&ts;
        state |= 1;
    }
    /* xorshift64*: plenty for jitter; never used for secrets. */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t r = state * 2685821657736338717ULL;
    return bound ? (uint32_t)((r >> 32) % bound) : 0;
}

void report_buf_init(report_buf_t *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

static void s_buf_reserve(report_buf_t *buf, size_t extra)
{
    if (buf->len + extra + 1 <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + extra + 1)
        cap *= 2;
    buf->data = report_realloc(buf->data, cap);
    buf->cap = cap;
}

void report_buf_add(report_buf_t *buf, const char *data, size_t len)
{
    s_buf_reserve(buf, len);
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

char *report_buf_extend(report_buf_t *buf, size_t len)
{
    s_buf_reserve(buf, len);
    char *at = buf->data + buf->len;
    buf->len += len;
    buf->data[buf->len] = '\0';
    return at;
}

void report_buf_adds(report_buf_t *buf, const char *s)
{
    report_buf_add(buf, s, strlen(s));
}

void report_buf_printf(report_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        s_buf_reserve(buf, (size_t)n);
        vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap2);
        buf->len += (size_t)n;
    }
    va_end(ap2);
}

char *report_buf_take(report_buf_t *buf)
{
    char *s = buf->data ? buf->data : report_strdup("");
    report_buf_init(buf);
    return s;
}

void report_buf_free(report_buf_t *buf)
{
    free(buf->data);
    report_buf_init(buf);
}

void report_strv_free(char **strv, size_t count)
{
    if (!strv)
        return;
    for (size_t i = 0; i < count; i++)
        free(strv[i]);
    free(strv);
}

void report_hex_write(char *out, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
}

static int s_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t *report_hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2)
        return NULL;
    uint8_t *out = report_malloc(n / 2 ? n / 2 : 1);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = s_hex_digit(hex[2 * i]), lo = s_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return out;
}
