/* One shape for an error a caller acts on or shows: a machine-readable code and a readable
 * message, in fixed buffers so that recording one never allocates. The database wrapper (code:
 * the SQLSTATE), the key files, compile (code: unknown_agency, no_template, ...) all report
 * this way; validation's refusal has the same two parts with the wire's reason enum as its
 * code (report_update.h). */
#ifndef REPORT_ERROR_H
#define REPORT_ERROR_H

typedef struct {
    char code[48];
    char message[512];
} report_error_t;

/* Records code and the printf-style message in err (NULL: nothing); newlines in the message
 * become spaces, so that it fits one log line. Returns -1, for `return report_error_set(...)`. */
int report_error_set(report_error_t *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* No error: code and message "". */
void report_error_clear(report_error_t *err);

#endif
