/* The format check a document passes before it is published: the rules of Nghị định 30/2020
 * (Phụ lục I) that the template cannot guarantee by itself, because they depend on the month,
 * the date, the number and what the units sent. A pure function of the compiled document, so
 * that `reportctl check` shows for a draft exactly what publish would refuse. */
#ifndef REPORT_CHECK_H
#define REPORT_CHECK_H

#include "report_doc.h"

#include <stddef.h>

/* One finding: a machine-readable rule and a readable message naming what is wrong. */
typedef struct {
    char rule[32];
    char message[256];
} report_finding_t;

/* The findings, at most REPORT_CHECK_MAX (the rest are counted in dropped). */
#define REPORT_CHECK_MAX 64
typedef struct {
    report_finding_t findings[REPORT_CHECK_MAX];
    size_t count;
    size_t dropped;
} report_check_t;

/* Checks doc; out is overwritten. Rules (each finding names one):
 *   number_symbol     the number line is "Số: N/TYPE-AGENCY" (N without leading zero, the
 *                     symbol in capitals); a draft without a number is not checked
 *   date_padding      "ngày DD tháng M năm YYYY": a day below 10 and the months 1 and 2 take a
 *                     leading zero, the other months none; a draft without a date is not
 *                     checked
 *   empty_section     section 1.a has no item, or section 2 has none
 *   placeholder       a {CODE} left unfilled anywhere in the text
 *   recipients        no recipient, or the last one is not "Lưu: …"
 *   signer            the signer's title or name is missing
 * Returns the number of findings. */
size_t report_check_document(const report_doc_t *doc, report_check_t *out);

/* A finding as one line, "rule: message", into buf. */
void report_finding_format(const report_finding_t *finding, char *buf, size_t size);

#endif
