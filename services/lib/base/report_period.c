/* Period arithmetic for the calendar and cut-off rules. */
#include "report_period.h"

#include <stdio.h>
#include <string.h>

int report_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int report_period_parse(const char *s, int *year, int *month)
{
    int y, m, n = 0;
    if (!s || strlen(s) != 7 || sscanf(s, "%4d-%2d%n", &y, &m, &n) != 2 || n != 7)
        return -1;
    if (y < REPORT_YEAR_MIN || y > REPORT_YEAR_MAX || m < 1 || m > 12)
        return -1;
    *year = y;
    *month = m;
    return 0;
}

int report_date_parse(const char *s, int *year, int *month, int *day)
{
    int y, m, d, n = 0;
    if (!s || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return -1;
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > report_days_in_month(y, m))
        return -1;
    *year = y;
    *month = m;
    *day = d;
    return 0;
}

void report_period_next(int year, int month, int *next_year, int *next_month)
{
    *next_year = month == 12 ? year + 1 : year;
    *next_month = month == 12 ? 1 : month + 1;
}

static void s_prev(int year, int month, int *py, int *pm)
{
    *py = month == 1 ? year - 1 : year;
    *pm = month == 1 ? 12 : month - 1;
}

void report_period_of_date(const report_period_rule_t *rule, int year, int month, int day,
                           int *period_year, int *period_month)
{
    if (rule->cutoff && day > rule->cutoff_day) {
        report_period_next(year, month, period_year, period_month);
        return;
    }
    *period_year = year;
    *period_month = month;
}

void report_period_range(const report_period_rule_t *rule, int year, int month, int *y0, int *m0,
                         int *d0, int *y1, int *m1, int *d1)
{
    if (!rule->cutoff) {
        *y0 = *y1 = year;
        *m0 = *m1 = month;
        *d0 = 1;
        *d1 = report_days_in_month(year, month);
        return;
    }
    s_prev(year, month, y0, m0);
    *d0 = rule->cutoff_day + 1;
    *y1 = year;
    *m1 = month;
    *d1 = rule->cutoff_day;
}
