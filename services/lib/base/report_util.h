/* Small helpers every program uses: allocation that aborts on out-of-memory (as Redis does,
 * so callers need no NULL checks for memory), clocks, a growable string buffer, jitter. */
#ifndef REPORT_UTIL_H
#define REPORT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Logs "out of memory" and aborts: for an allocation made outside these helpers (vasprintf,
 * a library's) that failed. */
void report_out_of_memory(size_t size) __attribute__((noreturn));
void *report_malloc(size_t size);
void *report_calloc(size_t count, size_t size);
void *report_realloc(void *ptr, size_t size);
char *report_strdup(const char *s);
/* Copies the first len bytes of s into a new NUL-terminated string. */
char *report_strndup(const char *s, size_t len);
/* Like asprintf, aborting on out-of-memory. */
char *report_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* open_memstream, aborting on out-of-memory. */
FILE *report_open_memstream(char **buffer, size_t *size);

/* Writes the 2 * len lower-case hex digits of data to out (no terminating NUL). */
void report_hex_write(char *out, const uint8_t *data, size_t len);
/* The bytes of a string of hex digits (even length), malloc'd, their count in *len; NULL if
 * hex is not one. */
uint8_t *report_hex_decode(const char *hex, size_t *len);

/* Monotonic clock in milliseconds, for timeouts and durations. */
int64_t report_clock_ms(void);
/* Wall clock in milliseconds since the epoch, for timestamps. */
int64_t report_wall_ms(void);
/* A random integer in [0, bound) from a per-thread generator (jitter, ids). */
uint32_t report_random(uint32_t bound);

/* A growable byte buffer holding a NUL-terminated string. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} report_buf_t;

void report_buf_init(report_buf_t *buf);
void report_buf_add(report_buf_t *buf, const char *data, size_t len);
void report_buf_adds(report_buf_t *buf, const char *s);
/* Grows the buffer by len bytes and returns them, for the caller to fill. */
char *report_buf_extend(report_buf_t *buf, size_t len);
void report_buf_printf(report_buf_t *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the string to the caller (who frees it) and leaves the buffer empty. */
char *report_buf_take(report_buf_t *buf);
void report_buf_free(report_buf_t *buf);

/* Frees an array of count strings and the array itself. */
void report_strv_free(char **strv, size_t count);

#endif
