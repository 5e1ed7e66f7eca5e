/* The format check on documents built by hand (no database): each rule at the edge of what it
 * accepts, and a clean document with no finding. The check through the real pipeline (publish
 * refused, --force recorded, reportctl check) is in test_report_pdf.c. */
#include "report_check.h"
#include "report_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static report_item_t *s_items(const char *text)
{
    report_item_t *items = report_calloc(1, sizeof *items);
    items[0].text = report_strdup(text);
    return items;
}

/* A published-looking document that passes every rule. */
static report_doc_t *s_clean(void)
{
    report_doc_t *doc = report_doc_new();
    doc->number = 588;
    doc->number_line = report_strdup("Số: 588/BC-SKHCN");
    doc->doc_date = report_strdup("2018-07-19");
    doc->place_date = report_strdup("Cao Bằng, ngày 19 tháng 7 năm 2018");
    doc->areas = report_calloc(1, sizeof *doc->areas);
    doc->area_count = 1;
    doc->areas[0].lead_in = report_strdup("Về công tác thanh tra:");
    doc->areas[0].items = s_items("tổ chức 01 cuộc thanh tra");
    doc->areas[0].item_count = 1;
    doc->next_tasks = s_items("tiếp tục thanh tra");
    doc->next_task_count = 1;
    doc->recipients = report_calloc(2, sizeof(char *));
    doc->recipients[0] = report_strdup("UBND tỉnh");
    doc->recipients[1] = report_strdup("Lưu: VT, VP");
    doc->recipient_count = 2;
    doc->signer_title = report_strdup("GIÁM ĐỐC");
    doc->signer_name = report_strdup("Nguyễn Văn A");
    return doc;
}

static void s_replace(char **field, const char *text)
{
    free(*field);
    *field = text ? report_strdup(text) : NULL;
}

/* Checks doc; asserts exactly the findings of rule (count of them), and frees doc. */
static void s_expect(report_doc_t *doc, const char *rule, size_t count)
{
    report_check_t check;
    size_t n = report_check_document(doc, &check);
    size_t of_rule = 0;
    char all[2048] = "";
    for (size_t i = 0; i < n; i++) {
        char line[320];
        report_finding_format(&check.findings[i], line, sizeof line);
        strncat(all, line, sizeof all - strlen(all) - 2);
        strcat(all, "\n");
        of_rule += rule && strcmp(check.findings[i].rule, rule) == 0;
    }
    cr_assert_eq(n, count, "expected %zu finding(s) of %s, got:\n%s", count, rule ? rule : "-",
                 all);
    cr_assert_eq(of_rule, count, "%s", all);
    report_doc_destroy(&doc);
}

Test(report_check, a_clean_document_has_no_finding)
{
    s_expect(s_clean(), NULL, 0);
}

Test(report_check, number_and_symbol)
{
    report_doc_t *doc = s_clean();
    s_replace(&doc->number_line, "Số: 0588/BC-SKHCN"); /* a leading zero */
    s_expect(doc, "number_symbol", 1);
    doc = s_clean();
    s_replace(&doc->number_line, "Số: 588/bc-SKHCN"); /* lower case */
    s_expect(doc, "number_symbol", 1);
    doc = s_clean();
    s_replace(&doc->number_line, "Số: 588/BC"); /* no agency part */
    s_expect(doc, "number_symbol", 1);
    doc = s_clean();
    s_replace(&doc->number_line, "Số: 12/BC-SKH&CN"); /* & and Đ are allowed */
    s_expect(doc, NULL, 0);
    doc = s_clean();
    s_replace(&doc->number_line, "Số: 3/QĐ-UBND");
    s_expect(doc, NULL, 0);
    doc = s_clean();
    doc->number = 0; /* a draft is not checked */
    s_replace(&doc->number_line, "Số:      /BC-SKHCN");
    s_expect(doc, NULL, 0);
}

Test(report_check, day_and_month_padding)
{
    const char *good[] = {
        "Cao Bằng, ngày 05 tháng 01 năm 2019", "Cao Bằng, ngày 28 tháng 02 năm 2019",
        "Cao Bằng, ngày 09 tháng 3 năm 2019", "Cao Bằng, ngày 31 tháng 12 năm 2019"};
    for (size_t i = 0; i < 4; i++) {
        report_doc_t *doc = s_clean();
        s_replace(&doc->place_date, good[i]);
        s_expect(doc, NULL, 0);
    }
    const char *bad[] = {"Cao Bằng, ngày 5 tháng 01 năm 2019", "Cao Bằng, ngày 05 tháng 1 năm 2019",
                         "Cao Bằng, ngày 19 tháng 07 năm 2018",
                         "Cao Bằng, ngày 19 tháng 2 năm 2018",
                         "Cao Bằng, ngày 19 tháng 13 năm 2018"};
    for (size_t i = 0; i < 5; i++) {
        report_doc_t *doc = s_clean();
        s_replace(&doc->place_date, bad[i]);
        s_expect(doc, "date_padding", 1);
    }
    report_doc_t *doc = s_clean();
    s_replace(&doc->place_date, "Cao Bằng, 19/7/2018");
    s_expect(doc, "date_padding", 1);
    doc = s_clean();
    s_replace(&doc->doc_date, ""); /* a draft is not checked */
    s_replace(&doc->place_date, "Cao Bằng, ngày      tháng      năm 2018");
    s_expect(doc, NULL, 0);
}

Test(report_check, empty_sections)
{
    report_doc_t *doc = s_clean();
    free(doc->areas[0].items[0].text);
    doc->areas[0].item_count = 0;
    s_expect(doc, "empty_section", 1);
    doc = s_clean();
    free(doc->next_tasks[0].text);
    doc->next_task_count = 0;
    s_expect(doc, "empty_section", 1);
}

Test(report_check, placeholders_left_unfilled)
{
    report_doc_t *doc = s_clean();
    s_replace(&doc->areas[0].items[0].text, "tổ chức {THANHTRA_CUOC.ytd} cuộc, {month}");
    s_expect(doc, "placeholder", 2);
    doc = s_clean();
    s_replace(&doc->next_tasks[0].text, "a set {} and a brace { alone are text");
    s_expect(doc, NULL, 0);
}

Test(report_check, recipients_end_with_the_archive_and_the_signer_is_there)
{
    report_doc_t *doc = s_clean();
    s_replace(&doc->recipients[1], "Văn phòng");
    s_expect(doc, "recipients", 1);
    doc = s_clean();
    free(doc->recipients[0]);
    free(doc->recipients[1]);
    doc->recipient_count = 0;
    s_expect(doc, "recipients", 1);
    doc = s_clean();
    s_replace(&doc->signer_name, "");
    s_expect(doc, "signer", 1);
    doc = s_clean();
    s_replace(&doc->signer_title, NULL);
    s_expect(doc, "signer", 1);
}

Test(report_check, findings_are_bounded)
{
    report_doc_t *doc = s_clean();
    report_buf_t b;
    report_buf_init(&b);
    for (int i = 0; i < REPORT_CHECK_MAX + 10; i++)
        report_buf_adds(&b, "{X} ");
    s_replace(&doc->areas[0].items[0].text, b.data);
    report_buf_free(&b);
    report_check_t check;
    cr_assert_eq(report_check_document(doc, &check), REPORT_CHECK_MAX);
    cr_assert_eq(check.dropped, 10);
    report_doc_destroy(&doc);
}
