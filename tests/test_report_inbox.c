/* The inbox page's word-level difference (no services): changes marked, text escaped, long
 * unchanged runs shortened, a change too big to compare shown whole. The page itself, built
 * by a subscriber from what it received, is tested in test_report_pdf.c. */
#include "report_inbox.h"
#include "report_util.h"

#include <criterion/criterion.h>
#include <string.h>

Test(report_inbox, changed_words_are_marked)
{
    char *d = report_inbox_diff_html("tổ chức 01 cuộc thanh tra", "tổ chức 02 cuộc thanh tra");
    cr_assert(strstr(d, "<del>01</del>") != NULL, "%s", d);
    cr_assert(strstr(d, "<ins>02</ins>") != NULL, "%s", d);
    cr_assert(strstr(d, "tổ chức") != NULL && strstr(d, "cuộc thanh tra") != NULL, "%s", d);
    free(d);
    d = report_inbox_diff_html("a b c", "a b c");
    cr_assert_null(strstr(d, "<del>"));
    cr_assert_null(strstr(d, "<ins>"));
    free(d);
    d = report_inbox_diff_html("", "mới");
    cr_assert(strstr(d, "<ins>mới</ins>") != NULL, "%s", d);
    free(d);
}

Test(report_inbox, text_is_escaped)
{
    char *d = report_inbox_diff_html("x", "<script>&\"");
    cr_assert(strstr(d, "<ins>&lt;script&gt;&amp;&quot;</ins>") != NULL, "%s", d);
    cr_assert_null(strstr(d, "<script>"));
    free(d);
}

Test(report_inbox, long_unchanged_runs_are_shortened)
{
    report_buf_t a, b;
    report_buf_init(&a);
    report_buf_init(&b);
    for (int i = 0; i < 100; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%d ", i);
        report_buf_adds(&a, w);
        report_buf_adds(&b, i == 50 ? "CHANGED " : w);
    }
    char *d = report_inbox_diff_html(a.data, b.data);
    cr_assert(strstr(d, "<del>w50</del>") && strstr(d, "<ins>CHANGED</ins>"), "%s", d);
    cr_assert(strstr(d, "…") != NULL, "%s", d);
    cr_assert_null(strstr(d, "w10 "), "far context kept: %s", d);
    cr_assert(strstr(d, "w49") != NULL && strstr(d, "w51") != NULL, "near context lost: %s", d);
    free(d);
    report_buf_free(&a);
    report_buf_free(&b);
}

Test(report_inbox, a_change_too_big_to_compare_is_shown_whole)
{
    report_buf_t a, b;
    report_buf_init(&a);
    report_buf_init(&b);
    for (int i = 0; i < 3000; i++) {
        char w[16];
        snprintf(w, sizeof w, "a%d ", i);
        report_buf_adds(&a, w);
        snprintf(w, sizeof w, "b%d ", i);
        report_buf_adds(&b, w);
    }
    char *d = report_inbox_diff_html(a.data, b.data);
    cr_assert(strstr(d, "<del>a0 a1") != NULL, "%.200s", d);
    cr_assert(strstr(d, "<ins>b0 b1") != NULL);
    free(d);
    report_buf_free(&a);
    report_buf_free(&b);
}
