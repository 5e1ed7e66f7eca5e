/* Reporting periods: a period is (year, month); which days it covers depends on the agency's
 * rule, a calendar month or a cut-off day (Nghị định 09/2019: the 15th of the previous month
 * to the 14th of the reporting month). */
#ifndef REPORT_PERIOD_H
#define REPORT_PERIOD_H

#include <stdbool.h>

/* The years a period may have, everywhere (the collector's year-min and year-max settings
 * may narrow them, never widen them: compile, the period parser and the subscriber hold to
 * these). */
#define REPORT_YEAR_MIN 2000
#define REPORT_YEAR_MAX 2100

typedef struct {
    bool cutoff;    /* false: calendar month */
    int cutoff_day; /* last day of a period in its month when cutoff (1..28) */
} report_period_rule_t;

/* Parses "YYYY-MM" (months 1..12, years REPORT_YEAR_MIN..REPORT_YEAR_MAX). 0 or -1. */
int report_period_parse(const char *s, int *year, int *month);
/* Parses "YYYY-MM-DD" as a real calendar date. 0 or -1. */
int report_date_parse(const char *s, int *year, int *month, int *day);
/* Days in a month of a year. */
int report_days_in_month(int year, int month);
/* The month after (year, month). */
void report_period_next(int year, int month, int *next_year, int *next_month);
/* The period a calendar date falls in under the rule. */
void report_period_of_date(const report_period_rule_t *rule, int year, int month, int day,
                           int *period_year, int *period_month);
/* The first and last day of a period under the rule. */
void report_period_range(const report_period_rule_t *rule, int year, int month, int *y0, int *m0,
                         int *d0, int *y1, int *m1, int *d1);

#endif
