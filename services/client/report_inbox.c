/* The inbox page: the reports of a directory as one HTML table, with word-level differences
 * between consecutive versions of a period. */
#define _GNU_SOURCE
#include "report_inbox.h"
#include "report_file.h"
#include "report_util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The middle of two texts (after their common start and end) is compared word by word when
 * it is at most this many cells of the comparison table; a larger change is shown whole. */
#define S_DIFF_CELLS 4000000
/* Unchanged words kept on each side of a change; a longer run in between becomes "…". */
#define S_DIFF_CONTEXT 6

static void s_escape(report_buf_t *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (text[i]) {
        case '<':
            report_buf_adds(out, "&lt;");
            break;
        case '>':
            report_buf_adds(out, "&gt;");
            break;
        case '&':
            report_buf_adds(out, "&amp;");
            break;
        case '"':
            report_buf_adds(out, "&quot;");
            break;
        default:
            report_buf_add(out, &text[i], 1);
        }
    }
}

static void s_escapes(report_buf_t *out, const char *text)
{
    s_escape(out, text ? text : "", text ? strlen(text) : 0);
}

/* --- the difference --- */

typedef struct {
    const char *p;
    size_t len;
} s_word_t;

static s_word_t *s_words(const char *text, size_t *n)
{
    size_t cap = 256;
    s_word_t *w = report_malloc(cap * sizeof *w);
    *n = 0;
    for (const char *p = text; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (p == start)
            break;
        if (*n == cap)
            w = report_realloc(w, (cap *= 2) * sizeof *w);
        w[(*n)++] = (s_word_t){start, (size_t)(p - start)};
    }
    return w;
}

static bool s_same(const s_word_t *a, const s_word_t *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* One step of the difference: '=' a word of both, '-' of the first only, '+' of the second. */
typedef struct {
    char op;
    const s_word_t *word;
} s_step_t;

/* The steps turning a[0..n) into b[0..m) (a longest common subsequence by dynamic
 * programming); NULL when the table would be too big. */
static s_step_t *s_lcs(const s_word_t *a, size_t n, const s_word_t *b, size_t m, size_t *count)
{
    if ((n + 1) * (m + 1) > S_DIFF_CELLS)
        return NULL;
    uint16_t *t = report_calloc((n + 1) * (m + 1), sizeof *t);
#define T(i, j) t[(i) * (m + 1) + (j)]
    for (size_t i = n; i-- > 0;)
        for (size_t j = m; j-- > 0;)
            T(i, j) = s_same(&a[i], &b[j])         ? (uint16_t)(T(i + 1, j + 1) + 1)
                      : T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j)
                                                   : T(i, j + 1);
    s_step_t *steps = report_malloc((n + m + 1) * sizeof *steps);
    size_t k = 0, i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && s_same(&a[i], &b[j]))
            steps[k++] = (s_step_t){'=', &a[i++]}, j++;
        else if (j < m && (i == n || T(i, j + 1) >= T(i + 1, j)))
            steps[k++] = (s_step_t){'+', &b[j++]};
        else
            steps[k++] = (s_step_t){'-', &a[i++]};
    }
#undef T
    free(t);
    *count = k;
    return steps;
}

/* All steps: the common start and end as '=', the middle compared (or removed and added). */
static s_step_t *s_steps(const s_word_t *a, size_t n, const s_word_t *b, size_t m, size_t *count)
{
    size_t pre = 0, post = 0;
    while (pre < n && pre < m && s_same(&a[pre], &b[pre]))
        pre++;
    while (post < n - pre && post < m - pre && s_same(&a[n - 1 - post], &b[m - 1 - post]))
        post++;
    size_t mid_n = n - pre - post, mid_m = m - pre - post, mid_count = 0;
    s_step_t *mid = s_lcs(a + pre, mid_n, b + pre, mid_m, &mid_count);
    s_step_t *steps = report_malloc((n + m + 1) * sizeof *steps);
    size_t k = 0;
    for (size_t i = 0; i < pre; i++)
        steps[k++] = (s_step_t){'=', &a[i]};
    if (mid) {
        memcpy(steps + k, mid, mid_count * sizeof *mid);
        k += mid_count;
    } else {
        for (size_t i = 0; i < mid_n; i++)
            steps[k++] = (s_step_t){'-', &a[pre + i]};
        for (size_t j = 0; j < mid_m; j++)
            steps[k++] = (s_step_t){'+', &b[pre + j]};
    }
    for (size_t i = n - post; i < n; i++)
        steps[k++] = (s_step_t){'=', &a[i]};
    free(mid);
    *count = k;
    return steps;
}

/* Writes steps[from, to) of one kind, wrapped in tag unless it is '='. */
static void s_run(report_buf_t *out, const s_step_t *steps, size_t from, size_t to)
{
    const char *tag = steps[from].op == '-' ? "del" : steps[from].op == '+' ? "ins" : NULL;
    if (tag)
        report_buf_adds(out, tag[0] == 'd' ? "<del>" : "<ins>");
    for (size_t i = from; i < to; i++) {
        if (i > from)
            report_buf_adds(out, " ");
        s_escape(out, steps[i].word->p, steps[i].word->len);
    }
    if (tag)
        report_buf_adds(out, tag[0] == 'd' ? "</del>" : "</ins>");
    report_buf_adds(out, " ");
}

char *report_inbox_diff_html(const char *before, const char *after)
{
    size_t n, m, count;
    s_word_t *a = s_words(before ? before : "", &n), *b = s_words(after ? after : "", &m);
    s_step_t *steps = s_steps(a, n, b, m, &count);
    report_buf_t out;
    report_buf_init(&out);
    for (size_t i = 0; i < count;) {
        size_t j = i;
        while (j < count && steps[j].op == steps[i].op)
            j++;
        bool first = i == 0, last = j == count;
        size_t keep_head = first ? 0 : S_DIFF_CONTEXT, keep_tail = last ? 0 : S_DIFF_CONTEXT;
        if (steps[i].op == '=' && j - i > keep_head + keep_tail + 1) {
            if (keep_head)
                s_run(&out, steps, i, i + keep_head);
            report_buf_adds(&out, "… ");
            if (keep_tail)
                s_run(&out, steps, j - keep_tail, j);
        } else {
            s_run(&out, steps, i, j);
        }
        i = j;
    }
    free(steps);
    free(a);
    free(b);
    return report_buf_take(&out);
}

/* --- the page --- */

typedef struct {
    char agency[40];
    int year, month, version, number;
    char date[16];
    char stem[96]; /* "SKHCN-2018-07-v1" */
} s_entry_t;

/* Newest period first, then the newest version. */
static int s_cmp(const void *x, const void *y)
{
    const s_entry_t *a = x, *b = y;
    int ka = a->year * 100 + a->month, kb = b->year * 100 + b->month;
    if (ka != kb)
        return kb - ka;
    int c = strcmp(a->agency, b->agency);
    return c ? c : b->version - a->version;
}

static char *s_read(const char *dir, const char *stem, const char *ext)
{
    char *path = report_sprintf("%s/%s.%s", dir, stem, ext);
    char *text = report_file_read(path, 64u << 20, NULL);
    free(path);
    return text;
}

static bool s_exists(const char *dir, const char *stem, const char *ext)
{
    char *path = report_sprintf("%s/%s.%s", dir, stem, ext);
    bool yes = access(path, R_OK) == 0;
    free(path);
    return yes;
}

/* An entry for a file named AGENCY-YYYY-MM-vN.json, its number and date from the file. */
static bool s_entry(const char *dir, const char *name, s_entry_t *e)
{
    char agency[40], tail[8];
    memset(e, 0, sizeof *e);
    if (sscanf(name, "%39[A-Z0-9_]-%4d-%2d-v%d.%7s", agency, &e->year, &e->month, &e->version,
               tail) != 5 ||
        strcmp(tail, "json") != 0)
        return false;
    snprintf(e->agency, sizeof e->agency, "%s", agency);
    snprintf(e->stem, sizeof e->stem, "%s-%04d-%02d-v%d", agency, e->year, e->month, e->version);
    char *text = s_read(dir, e->stem, "json");
    json_t *root = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (root) {
        e->number = (int)json_integer_value(json_object_get(root, "number"));
        const char *date = json_string_value(json_object_get(root, "doc_date"));
        snprintf(e->date, sizeof e->date, "%s", date ? date : "");
        json_decref(root);
    }
    return true;
}

static s_entry_t *s_scan(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    *count = 0;
    if (!d)
        return NULL;
    size_t cap = 16;
    s_entry_t *entries = report_malloc(cap * sizeof *entries);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        s_entry_t e;
        if (!s_entry(dir, de->d_name, &e))
            continue;
        if (*count == cap)
            entries = report_realloc(entries, (cap *= 2) * sizeof *entries);
        entries[(*count)++] = e;
    }
    closedir(d);
    qsort(entries, *count, sizeof *entries, s_cmp);
    if (*count > REPORT_INBOX_MAX)
        *count = REPORT_INBOX_MAX;
    return entries;
}

static const char S_HEAD[] =
    "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">\n"
    "<title>Báo cáo đã nhận</title>\n<style>\n"
    "body{font-family:\"Liberation Serif\",\"Times New Roman\",serif;margin:2em;max-width:70em}\n"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em .6em;"
    "text-align:left;vertical-align:top}th{background:#eee}\n"
    "del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}\n"
    ".diff{font-size:90%;line-height:1.5}\n</style></head><body>\n"
    "<h1>Báo cáo đã nhận</h1>\n<table>\n<tr><th>Kỳ báo cáo</th><th>Số</th><th>Ngày</th>"
    "<th>Phiên bản</th><th>Chữ ký số</th><th>Tệp</th></tr>\n";

static void s_link(report_buf_t *out, const char *dir, const char *stem, const char *ext,
                   const char *label)
{
    if (!s_exists(dir, stem, ext))
        return;
    report_buf_adds(out, "<a href=\"");
    s_escapes(out, stem);
    report_buf_adds(out, ".");
    report_buf_adds(out, ext);
    report_buf_adds(out, "\">");
    report_buf_adds(out, label);
    report_buf_adds(out, "</a> ");
}

/* What changed since the version before, if there is one on disk. */
static void s_changes(report_buf_t *out, const char *dir, const s_entry_t *e)
{
    char before_stem[96];
    snprintf(before_stem, sizeof before_stem, "%s-%04d-%02d-v%d", e->agency, e->year, e->month,
             e->version - 1);
    char *before = e->version > 1 ? s_read(dir, before_stem, "txt") : NULL;
    char *after = before ? s_read(dir, e->stem, "txt") : NULL;
    if (before && after) {
        char *diff = report_inbox_diff_html(before, after);
        char *line = report_sprintf("<tr><td colspan=\"6\"><details><summary>Thay đổi so với "
                                    "phiên bản %d</summary><div class=\"diff\">",
                                    e->version - 1);
        report_buf_adds(out, line);
        report_buf_adds(out, diff);
        report_buf_adds(out, "</div></details></td></tr>\n");
        free(line);
        free(diff);
    }
    free(before);
    free(after);
}

static void s_row(report_buf_t *out, const char *dir, const s_entry_t *e)
{
    char *cells = report_sprintf("<tr><td>%s %02d/%04d</td><td>%d</td><td>", e->agency, e->month,
                                 e->year, e->number);
    report_buf_adds(out, cells);
    free(cells);
    s_escapes(out, e->date);
    char *version = report_sprintf("</td><td>%d</td><td>%s</td><td>", e->version,
                                   s_exists(dir, e->stem, "signed.pdf") ? "đã ký" : "chưa ký");
    report_buf_adds(out, version);
    free(version);
    s_link(out, dir, e->stem, "signed.pdf", "PDF đã ký");
    s_link(out, dir, e->stem, "pdf", "PDF");
    s_link(out, dir, e->stem, "html", "HTML");
    s_link(out, dir, e->stem, "json", "JSON");
    report_buf_adds(out, "</td></tr>\n");
    s_changes(out, dir, e);
}

int report_inbox_write(const char *dir, report_error_t *err)
{
    size_t count;
    s_entry_t *entries = s_scan(dir, &count);
    if (!entries)
        return report_error_set(err, "io", "cannot read %s: %s", dir, strerror(errno));
    report_buf_t out;
    report_buf_init(&out);
    report_buf_adds(&out, S_HEAD);
    for (size_t i = 0; i < count; i++)
        s_row(&out, dir, &entries[i]);
    report_buf_adds(&out, "</table>\n</body></html>\n");
    free(entries);
    char *path = report_sprintf("%s/index.html", dir);
    int rc = report_file_replace(path, out.data, out.len);
    if (rc != 0)
        report_error_set(err, "io", "cannot write %s: %s", path, strerror(errno));
    free(path);
    report_buf_free(&out);
    return rc;
}
