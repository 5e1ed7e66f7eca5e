/* Number, date and pattern formatting for the monthly report, following the rules of
 * docs/report-format.md ("01 cuộc thanh tra", "40.378", "68,5%", "ngày 04 tháng 7 năm 2018").
 * Everything here is a pure function: the formatters write into a caller buffer, and the
 * pattern filler returns a string the caller frees. */
#ifndef REPORT_FORMAT_H
#define REPORT_FORMAT_H

#include <stddef.h>

/* Writes a count or amount: integral 1..9 as "01".."09", 0 as "0", thousands grouped with
 * '.', a decimal comma with at most 2 decimals and trailing zeros trimmed ("567.634,2"),
 * negatives with a leading '-' and no leading zero. The value is rounded half away from zero
 * to 2 decimals first, so the leading-zero rule applies to what is printed (8.999 -> "09").
 * Returns 0, or -1 if the result does not fit in size bytes (NUL included), v is not finite
 * or |v| >= 1e15. */
int report_format_number(double v, char *buf, size_t size);

/* Writes numerator/denominator as a percentage: whole when exact ("68%"), else one decimal
 * rounded half away from zero with a decimal comma ("68,5%", also "68,0%" for 68.04: a
 * non-exact value never looks exact). No leading-zero rule ("8%"). Returns 0, or -1 if
 * denominator <= 0, an argument is not finite, or the result does not fit. */
int report_format_percent(double numerator, double denominator, char *buf, size_t size);

/* Writes a month as used in dates: 1 and 2 as "01" and "02", the others plainly ("7", "12").
 * Returns 0, or -1 if month is outside 1..12 or the result does not fit. */
int report_format_month(int month, char *buf, size_t size);

/* Writes a long date, "ngày 04 tháng 7 năm 2018" (day always 2 digits, month through
 * report_format_month). Returns 0, or -1 if the date does not exist (year 1..9999) or the
 * result does not fit. */
int report_format_date_long(int year, int month, int day, char *buf, size_t size);

/* Writes a short date, "02/3/2018", "23/01/2018". Returns 0 or -1 as report_format_date_long. */
int report_format_date_short(int year, int month, int day, char *buf, size_t size);

/* Returns the value of placeholder `name`, or NULL if the name is unknown. The returned
 * string stays owned by the callee and must stay valid until the fill call returns. */
typedef const char *(*report_lookup_fn)(const char *name, void *arg);

/* Returns a newly allocated copy of pattern where every "{name}" (name matching
 * [A-Za-z0-9_.]+) is replaced by lookup(name, arg). An unknown name (lookup returns NULL, or
 * lookup itself is NULL) is kept literally, braces included; any other '{' or '}' is copied as
 * is. Values are inserted verbatim and never scanned again. The caller frees the result
 * (never NULL: out of memory aborts, see report_util.h). */
char *report_fill_pattern(const char *pattern, report_lookup_fn lookup, void *arg);

/* As report_fill_pattern, and if unknown_p is not NULL sets *unknown_p to the number of
 * placeholders left unfilled (a lookup that records its misses can list them by name). */
char *report_fill_pattern_counted(const char *pattern, report_lookup_fn lookup, void *arg,
                                  size_t *unknown_p);

#endif
