/* The format check: each rule reads the compiled document and adds findings. */
#include "report_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_find(report_check_t *c, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_find(report_check_t *c, const char *rule, const char *fmt, ...)
{
    if (c->count >= REPORT_CHECK_MAX) {
        c->dropped++;
        return;
    }
    report_finding_t *f = &c->findings[c->count++];
    snprintf(f->rule, sizeof f->rule, "%s", rule);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
}

static bool s_set(const char *s)
{
    return s && *s;
}

static bool s_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/* Capitals, digits and '&' of a document symbol (Đ is the one capital outside ASCII). */
static bool s_symbol_part(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '&') {
            i++;
        } else if (i + 1 < n && (unsigned char)s[i] == 0xC4 && (unsigned char)s[i + 1] == 0x90) {
            i += 2; /* Đ */
        } else {
            return false;
        }
    }
    return n > 0;
}

/* "Số: 588/BC-SKHCN". */
static void s_number(report_check_t *c, const report_doc_t *doc)
{
    if (doc->number <= 0)
        return; /* a draft: the number is left blank on purpose */
    const char *line = doc->number_line ? doc->number_line : "";
    const char *prefix = "Số: ";
    const char *n = strncmp(line, prefix, strlen(prefix)) == 0 ? line + strlen(prefix) : NULL;
    const char *slash = n ? strchr(n, '/') : NULL;
    const char *dash = slash ? strchr(slash, '-') : NULL;
    bool ok = n && slash && dash && s_digits(n, (size_t)(slash - n)) && n[0] != '0' &&
              s_symbol_part(slash + 1, (size_t)(dash - slash - 1)) &&
              s_symbol_part(dash + 1, strlen(dash + 1));
    if (!ok)
        s_find(c, "number_symbol", "the number line \"%s\" is not \"Số: N/TYPE-AGENCY\"", line);
}

/* "Cao Bằng, ngày 05 tháng 02 năm 2019": day two digits; month 1 and 2 two digits, others one
 * or two without a leading zero (never "tháng 07"). */
static void s_date(report_check_t *c, const report_doc_t *doc)
{
    if (!s_set(doc->doc_date))
        return; /* a draft: the date is left blank on purpose */
    const char *line = doc->place_date ? doc->place_date : "";
    const char *d = strstr(line, "ngày ");
    const char *m = d ? strstr(d, " tháng ") : NULL;
    const char *y = m ? strstr(m, " năm ") : NULL;
    if (!d || !m || !y) {
        s_find(c, "date_padding",
               "the place-date line \"%s\" is not \"…, ngày DD tháng M năm YYYY\"", line);
        return;
    }
    d += strlen("ngày ");
    size_t dn = (size_t)(m - d);
    m += strlen(" tháng ");
    size_t mn = (size_t)(y - m);
    int month = s_digits(m, mn) ? atoi(m) : 0;
    if (!s_digits(d, dn) || dn != 2)
        s_find(c, "date_padding", "the day \"%.*s\" must have two digits (\"ngày 05\")", (int)dn,
               d);
    bool two = month == 1 || month == 2;
    if (!s_digits(m, mn) || month < 1 || month > 12 || (two && mn != 2) || (!two && m[0] == '0'))
        s_find(c, "date_padding",
               "the month \"%.*s\" is written wrong (\"tháng 01\", \"tháng 02\", else \"tháng 7\", "
               "never \"tháng 07\")",
               (int)mn, m);
}

static size_t s_items_with_text(const report_item_t *items, size_t count)
{
    size_t n = 0;
    for (size_t i = 0; items && i < count; i++)
        n += s_set(items[i].text) || items[i].sub_item_count > 0;
    return n;
}

static void s_sections(report_check_t *c, const report_doc_t *doc)
{
    size_t results = 0;
    for (size_t i = 0; doc->areas && i < doc->area_count; i++)
        results += doc->areas[i].item_count;
    if (results == 0)
        s_find(c, "empty_section", "section 1.a (%s) has no item",
               s_set(doc->section1a_heading) ? doc->section1a_heading : "results");
    if (s_items_with_text(doc->next_tasks, doc->next_task_count) == 0)
        s_find(c, "empty_section", "section 2 (%s) has no item",
               s_set(doc->section2_heading) ? doc->section2_heading : "next tasks");
}

/* Every "{NAME}" left in text is a placeholder nothing filled. */
static void s_placeholders_in(report_check_t *c, const char *text)
{
    for (const char *p = text ? strchr(text, '{') : NULL; p; p = strchr(p + 1, '{')) {
        const char *q = p + 1;
        while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
               *q == '_' || *q == '.')
            q++;
        if (*q == '}' && q > p + 1)
            s_find(c, "placeholder", "%.*s is not filled", (int)(q - p + 1), p);
    }
}

static void s_placeholders_items(report_check_t *c, const report_item_t *items, size_t count)
{
    for (size_t i = 0; items && i < count; i++) {
        s_placeholders_in(c, items[i].text);
        for (size_t k = 0; items[i].sub_items && k < items[i].sub_item_count; k++)
            s_placeholders_in(c, items[i].sub_items[k]);
    }
}

static void s_placeholders(report_check_t *c, const report_doc_t *doc)
{
    const char *texts[] = {
        doc->summary,          doc->intro,          doc->section1_heading, doc->section1a_intro,
        doc->section2_heading, doc->section2_intro, doc->closing};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        s_placeholders_in(c, texts[i]);
    for (size_t i = 0; doc->areas && i < doc->area_count; i++) {
        s_placeholders_in(c, doc->areas[i].lead_in);
        s_placeholders_items(c, doc->areas[i].items, doc->areas[i].item_count);
    }
    s_placeholders_items(c, doc->limitations, doc->limitation_count);
    s_placeholders_items(c, doc->next_tasks, doc->next_task_count);
}

static void s_end(report_check_t *c, const report_doc_t *doc)
{
    size_t n = doc->recipients ? doc->recipient_count : 0;
    if (n == 0)
        s_find(c, "recipients", "no recipient under \"Nơi nhận\"");
    else if (!doc->recipients[n - 1] || strncmp(doc->recipients[n - 1], "Lưu:", strlen("Lưu:")))
        s_find(c, "recipients", "the last recipient is \"%s\", not \"Lưu: …\"",
               doc->recipients[n - 1] ? doc->recipients[n - 1] : "");
    if (!s_set(doc->signer_title) || !s_set(doc->signer_name))
        s_find(c, "signer", "the signer's %s is missing",
               !s_set(doc->signer_title) ? "title" : "name");
}

size_t report_check_document(const report_doc_t *doc, report_check_t *out)
{
    memset(out, 0, sizeof *out);
    s_number(out, doc);
    s_date(out, doc);
    s_sections(out, doc);
    s_placeholders(out, doc);
    s_end(out, doc);
    return out->count;
}

void report_finding_format(const report_finding_t *finding, char *buf, size_t size)
{
    snprintf(buf, size, "%s: %s", finding->rule, finding->message);
}
