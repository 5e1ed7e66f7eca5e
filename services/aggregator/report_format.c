/* Number, date and pattern formatting for the monthly report (see report_format.h and
 * docs/report-format.md). No locale is involved: the Vietnamese conventions (dot for
 * thousands, decimal comma) are written out by hand so the output never depends on the
 * environment the service runs in. */
#define _POSIX_C_SOURCE 200809L

#include "report_format.h"
#include "report_util.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bound on what is formatted. Whole numbers stay exact in a double up to 2^53 (about 9e15),
 * so even an amount in đồng fits; beyond that the last digits would be noise, and refusing is
 * better than printing them. It also keeps the value in cents inside unsigned long long. */
#define S_MAX_MAGNITUDE 1e15

/* Leaves buf holding "" (when it has room for that) and returns -1, so a caller that ignores
 * the -1 prints nothing rather than garbage or a half-written number. */
static int s_fail(char *buf, size_t size)
{
    if (buf != NULL && size > 0)
        buf[0] = '\0';
    return -1;
}

/* Copies len bytes of src and a NUL into buf if they fit, else fails as s_fail. */
static int s_copy_out(const char *src, size_t len, char *buf, size_t size)
{
    if (buf == NULL || len + 1 > size)
        return s_fail(buf, size);
    memcpy(buf, src, len);
    buf[len] = '\0';
    return 0;
}

/* Writes scaled / 10^decimals with '.' between thousands and a decimal comma, then suffix.
 * With trim, trailing zero decimals (and the comma, if nothing is left) are dropped. A zero
 * never gets a minus sign: "-0" is not something a reader should ever see. */
static int s_write_fixed(bool negative, unsigned long long scaled, int decimals, bool trim,
                         const char *suffix, char *buf, size_t size)
{
    assert(decimals >= 0 && decimals <= 2);
    unsigned long long divisor = 1;
    for (int i = 0; i < decimals; i++)
        divisor *= 10;
    unsigned long long whole = scaled / divisor;
    unsigned long long fraction = scaled % divisor;

    char digits[32];
    int digit_count = snprintf(digits, sizeof digits, "%llu", whole);
    char out[96];
    size_t len = 0;
    if (negative && scaled != 0)
        out[len++] = '-';
    for (int i = 0; i < digit_count; i++) {
        if (i > 0 && (digit_count - i) % 3 == 0)
            out[len++] = '.';
        out[len++] = digits[i];
    }
    if (decimals > 0 && (fraction != 0 || !trim)) {
        char fraction_digits[4];
        for (int i = decimals - 1; i >= 0; i--, fraction /= 10)
            fraction_digits[i] = (char)('0' + fraction % 10);
        int fraction_len = decimals;
        while (trim && fraction_len > 0 && fraction_digits[fraction_len - 1] == '0')
            fraction_len--;
        out[len++] = ',';
        memcpy(out + len, fraction_digits, (size_t)fraction_len);
        len += (size_t)fraction_len;
    }
    size_t suffix_len = strlen(suffix);
    if (len + suffix_len >= sizeof out)
        return s_fail(buf, size);
    memcpy(out + len, suffix, suffix_len);
    len += suffix_len;
    return s_copy_out(out, len, buf, size);
}

int report_format_number(double v, char *buf, size_t size)
{
    if (!isfinite(v) || fabs(v) >= S_MAX_MAGNITUDE)
        return s_fail(buf, size);
    /* Round once, to what will be printed, so every later decision (integral or not, leading
     * zero or not) is taken on the printed value: 8.999 is printed "09", not "9". round() is
     * half away from zero. The whole part is split off first (exactly: floor and the
     * subtraction are exact in binary) because |v| * 100 would lose the last digits of a
     * large amount. */
    double whole = floor(fabs(v));
    double fraction_cents = round((fabs(v) - whole) * 100.0);
    unsigned long long cents = (unsigned long long)whole * 100 + (unsigned long long)fraction_cents;
    bool negative = v < 0;
    if (!negative && cents % 100 == 0 && cents >= 100 && cents <= 900) {
        /* Counts below ten are written with a leading zero in administrative prose:
         * "01 cuộc thanh tra", "05 đề tài". */
        char out[3] = {'0', (char)('0' + cents / 100), '\0'};
        return s_copy_out(out, 2, buf, size);
    }
    return s_write_fixed(negative, cents, 2, true, "", buf, size);
}

int report_format_percent(double numerator, double denominator, char *buf, size_t size)
{
    if (!isfinite(numerator) || !isfinite(denominator) || denominator <= 0)
        return s_fail(buf, size);
    /* Multiply before dividing: with integral inputs an exact percentage then comes out of a
     * single correctly rounded division as an exact integer (17 * 100 / 25 == 68.0). */
    double percent = numerator * 100.0 / denominator;
    if (!isfinite(percent) || fabs(percent) >= S_MAX_MAGNITUDE)
        return s_fail(buf, size);
    if (percent == trunc(percent))
        return s_write_fixed(percent < 0, (unsigned long long)fabs(percent), 0, false, "%", buf,
                             size);
    /* Tenths from one division as well, so a true tie (1/16 = 6.25%) is an exact .5 that
     * round() takes away from zero (6,3%). */
    double tenths = round(fabs(numerator * 1000.0 / denominator));
    return s_write_fixed(percent < 0, (unsigned long long)tenths, 1, false, "%", buf, size);
}

int report_format_month(int month, char *buf, size_t size)
{
    if (month < 1 || month > 12)
        return s_fail(buf, size);
    /* Months 1 and 2 take a leading zero so that nobody can add a digit afterwards and turn
     * "tháng 1" into "tháng 11" or "tháng 12" (Nghị định 30/2020, Phụ lục I; days below 10
     * get the zero for the same reason). 3..9 cannot be extended into a month, so no zero. */
    char out[4];
    int len = snprintf(out, sizeof out, month <= 2 ? "%02d" : "%d", month);
    return s_copy_out(out, (size_t)len, buf, size);
}

static bool s_date_is_valid(int year, int month, int day)
{
    static const int days_in_month[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int last = days_in_month[month - 1] + (month == 2 && leap ? 1 : 0);
    return day <= last;
}

/* A date in words ("ngày 05 tháng 01 năm 2018") or short ("05/01/2018"); the month is
 * written as report_format_month writes it in both. */
static int s_format_date(int year, int month, int day, bool in_words, char *buf, size_t size)
{
    char month_text[4];
    if (!s_date_is_valid(year, month, day) ||
        report_format_month(month, month_text, sizeof month_text) != 0)
        return s_fail(buf, size);
    char out[64];
    int len = in_words
                  ? snprintf(out, sizeof out, "ngày %02d tháng %s năm %d", day, month_text, year)
                  : snprintf(out, sizeof out, "%02d/%s/%d", day, month_text, year);
    return s_copy_out(out, (size_t)len, buf, size);
}

int report_format_date_long(int year, int month, int day, char *buf, size_t size)
{
    return s_format_date(year, month, day, true, buf, size);
}

int report_format_date_short(int year, int month, int day, char *buf, size_t size)
{
    return s_format_date(year, month, day, false, buf, size);
}

/* Spelled out rather than isalnum(): the pattern is UTF-8 and isalnum() on a byte >= 0x80
 * depends on the locale (and is undefined for a negative char). */
static bool s_is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

char *report_fill_pattern_counted(const char *pattern, report_lookup_fn lookup, void *arg,
                                  size_t *unknown_p)
{
    assert(pattern);
    char *result = NULL;
    size_t result_size = 0;
    FILE *out = report_open_memstream(&result, &result_size);

    size_t unknown = 0;
    const char *p = pattern;
    while (*p) {
        size_t literal = strcspn(p, "{");
        if (literal > 0) {
            fwrite(p, 1, literal, out);
            p += literal;
            continue;
        }
        /* p is at a '{': a placeholder only if a non-empty name and a '}' follow. */
        size_t name_len = 0;
        while (s_is_name_char(p[1 + name_len]))
            name_len++;
        if (name_len == 0 || p[1 + name_len] != '}') {
            fputc('{', out);
            p++;
            continue;
        }
        char *name = report_strndup(p + 1, name_len);
        const char *value = lookup ? lookup(name, arg) : NULL;
        if (value)
            fputs(value, out);
        else {
            fwrite(p, 1, name_len + 2, out);
            unknown++;
        }
        free(name);
        p += name_len + 2;
    }
    /* a memory stream fails only when it cannot grow */
    bool failed = ferror(out) != 0;
    if (fclose(out) != 0 || failed)
        report_out_of_memory(result_size);
    if (unknown_p)
        *unknown_p = unknown;
    return result;
}

char *report_fill_pattern(const char *pattern, report_lookup_fn lookup, void *arg)
{
    return report_fill_pattern_counted(pattern, lookup, arg, NULL);
}
