/* The one error shape. */
#include "report_error.h"

#include <stdarg.h>
#include <stdio.h>

int report_error_set(report_error_t *err, const char *code, const char *fmt, ...)
{
    if (!err)
        return -1;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    /* libpq's messages, for one, end in a newline; a log line wants none */
    for (char *p = err->message; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ' ' : '\0';
    return -1;
}

void report_error_clear(report_error_t *err)
{
    if (err) {
        err->code[0] = '\0';
        err->message[0] = '\0';
    }
}
