/* The assemble step of compile driven with hand-built input and no database: the head of a
 * draft and of a numbered report, items put in their sections and areas in the order given,
 * placeholders of the period, the template and the indicators filled (and the ones that
 * cannot be reported as warnings), the missing units handed on, and the errors. Amendments
 * and withdrawals are applied by the load's SQL (test_report.c); the assemble step takes
 * the items it is given as they are, which these tests check too. */
#define _GNU_SOURCE
#include "report_assemble.h"
#include "report_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const report_compile_indicator_t S_INDICATORS[] = {
    {.code = "DETAI_MOI", .month_value = 2, .ytd = 3},
    {.code = "ISO_KIEMTRA", .month_value = 9, .ytd = 9, .plan = 25, .has_plan = true},
    {.code = "PHONGSU", .month_value = 1, .ytd = 6, .plan = 12, .has_plan = true},
};

static const char *S_SUBS[] = {"phóng sự lũy kế {PHONGSU.ytd}", "kế hoạch {PHONGSU.plan}"};

/* In the report's order, as the load's statement returns them: two results of one area, one
 * of another, a limitation, a next task, then a result of the first area again. */
static const report_compile_item_t S_ITEMS[] = {
    {.section = "result",
     .area_code = "NHIEM_VU",
     .lead_in = "Về nhiệm vụ KH&CN tháng {month}:",
     .text = "việc thứ nhất."},
    {.section = "result",
     .area_code = "NHIEM_VU",
     .lead_in = "Về nhiệm vụ KH&CN tháng {month}:",
     .text = "thực hiện {PHONGSU} phóng sự, đạt {PHONGSU.pct}.",
     .sub_items = S_SUBS,
     .sub_item_count = 2},
    {.section = "result",
     .area_code = "THANH_TRA",
     .lead_in = "Về công tác thanh tra:",
     .text = "kiểm tra {ISO_KIEMTRA} cơ quan ({ISO_KIEMTRA.ytd}/{ISO_KIEMTRA.plan}, đạt "
             "{ISO_KIEMTRA.pct})."},
    {.section = "limitation", .area_code = "THANH_TRA", .lead_in = "-", .text = "còn chậm."},
    {.section = "next_task", .area_code = "NHIEM_VU", .lead_in = "-", .text = "nhiệm vụ mới."},
    {.section = "result",
     .area_code = "NHIEM_VU",
     .lead_in = "Lại nhiệm vụ:",
     .text = "việc thứ ba."},
};

static const char *S_RECIPIENTS[] = {"VP Tỉnh uỷ", "Lưu: VT, VP"};
static const char *S_MISSING[] = {"VAN_PHONG\tVăn phòng Sở"};

static report_compile_input_t in;
static report_compile_request_t req;
static report_compiled_t out;

/* An input the way the load would give it for July 2018, and a draft request for it. */
static void setup(void)
{
    in = (report_compile_input_t){
        .has_template = true,
        .template =
            {
                .agency_code = "SKHCN",
                .parent_authority = "UBND TỈNH CAO BẰNG",
                .agency_name = "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
                .symbol = "BC-SKHCN",
                .place = "Cao Bằng",
                .motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                .motto_sub = "Độc lập - Tự do - Hạnh phúc",
                .doc_type = "BÁO CÁO",
                .summary_pattern = "Kết quả tháng {month} năm {year}, nhiệm vụ tháng {next_month}",
                .summary_pattern_year_end = "Kết quả tháng {month} năm {year}, nhiệm vụ tháng "
                                            "{next_month} năm {next_year}",
                .intro_pattern = "Thực hiện {basis}; kế hoạch: {plan_decision}.",
                .intro_pattern_no_basis = "Thực hiện chế độ báo cáo định kỳ.",
                .section1_heading = "1. Kết quả tháng {month}",
                .section1a_heading = "a) Kết quả",
                .section1a_intro = "Số liệu từ ngày {period_start} đến ngày {period_end}:",
                .section1b_heading = "b) Hạn chế",
                .section2_heading = "2. Nhiệm vụ tháng {next_month} năm {next_year}",
                .section2_intro = "Tập trung:",
                .closing_pattern = "Trên đây là báo cáo của Sở tại {place}",
                .end_mark = "./.",
                .recipients_heading = "Nơi nhận:",
                .signer_authority = "KT. GIÁM ĐỐC",
                .signer_title = "PHÓ GIÁM ĐỐC",
                .signer_name = "Nguyễn Văn A",
                .plan_decision = "Quyết định số 01/QĐ-SKHCN",
                .period_rule = {.cutoff = false},
            },
        .has_updates = true,
        .indicators = S_INDICATORS,
        .indicator_count = 3,
        .items = S_ITEMS,
        .item_count = 6,
        .recipients = S_RECIPIENTS,
        .recipient_count = 2,
        .missing_units = S_MISSING,
        .missing_count = 1,
    };
    req = (report_compile_request_t){.agency_code = "", .year = 2018, .month = 7};
}

static void teardown(void)
{
    report_compiled_clear(&out);
}

TestSuite(assemble, .init = setup, .fini = teardown, .timeout = 30);

/* Assembles in for req; asserts success. */
static const report_doc_t *assemble(void)
{
    int rc = report_compile_assemble(&in, &req, &out);
    cr_assert_eq(rc, 0, "%s: %s", out.error.code, out.error.message);
    cr_assert_not_null(out.doc);
    return out.doc;
}

static bool has_warning(const char *warning)
{
    for (size_t i = 0; i < out.warning_count; i++)
        if (strcmp(out.warnings[i], warning) == 0)
            return true;
    return false;
}

Test(assemble, items_go_to_their_sections_and_areas_in_the_order_given)
{
    const report_doc_t *doc = assemble();
    /* consecutive results of one area share it; the area after another one starts anew */
    cr_assert_eq(doc->area_count, 3);
    cr_assert_str_eq(doc->areas[0].lead_in, "Về nhiệm vụ KH&CN tháng 7:");
    cr_assert_eq(doc->areas[0].item_count, 2);
    cr_assert_str_eq(doc->areas[0].items[0].text, "việc thứ nhất.");
    cr_assert_eq(doc->areas[0].items[0].sub_item_count, 0);
    cr_assert_null(doc->areas[0].items[0].sub_items);
    cr_assert_str_eq(doc->areas[0].items[1].text, "thực hiện 01 phóng sự, đạt 50%.");
    cr_assert_eq(doc->areas[0].items[1].sub_item_count, 2);
    cr_assert_str_eq(doc->areas[0].items[1].sub_items[0], "phóng sự lũy kế 06");
    cr_assert_str_eq(doc->areas[0].items[1].sub_items[1], "kế hoạch 12");
    cr_assert_str_eq(doc->areas[1].lead_in, "Về công tác thanh tra:");
    cr_assert_eq(doc->areas[1].item_count, 1);
    cr_assert_str_eq(doc->areas[2].lead_in, "Lại nhiệm vụ:");
    cr_assert_eq(doc->areas[2].item_count, 1);
    cr_assert_str_eq(doc->areas[2].items[0].text, "việc thứ ba.");
    cr_assert_eq(doc->limitation_count, 1);
    cr_assert_str_eq(doc->limitations[0].text, "còn chậm.");
    cr_assert_eq(doc->next_task_count, 1);
    cr_assert_str_eq(doc->next_tasks[0].text, "nhiệm vụ mới.");
}

Test(assemble, the_items_given_are_the_current_versions_and_are_taken_as_they_are)
{
    /* The load's SQL replaces an amended item by its last revision and leaves a withdrawn one
     * out; what reaches the assemble step is not filtered or merged again: the same text
     * twice is two items, and nothing of a section with no items is made up. */
    static const report_compile_item_t items[] = {
        {.section = "result", .area_code = "TT", .lead_in = "Về thông tin:", .text = "29 tin."},
        {.section = "result", .area_code = "TT", .lead_in = "Về thông tin:", .text = "29 tin."},
    };
    in.items = items;
    in.item_count = 2;
    const report_doc_t *doc = assemble();
    cr_assert_eq(doc->area_count, 1);
    cr_assert_eq(doc->areas[0].item_count, 2);
    cr_assert_str_eq(doc->areas[0].items[1].text, "29 tin.");
    cr_assert_eq(doc->limitation_count, 0);
    cr_assert_null(doc->limitations);
    cr_assert_eq(doc->next_task_count, 0);
    in.item_count = 0;
    report_compiled_clear(&out);
    doc = assemble();
    cr_assert_eq(doc->area_count, 0);
    cr_assert_null(doc->areas);
}

Test(assemble, indicator_placeholders_take_the_month_the_year_to_date_the_plan_and_the_share)
{
    const report_doc_t *doc = assemble();
    cr_assert_str_eq(doc->areas[1].items[0].text, "kiểm tra 09 cơ quan (09/25, đạt 36%).");
    cr_assert_eq(out.warning_count, 0, "first warning: %s",
                 out.warning_count ? out.warnings[0] : "");
}

Test(assemble, a_placeholder_that_cannot_be_filled_stays_visible_with_a_warning)
{
    static const report_compile_item_t items[] = {
        {.section = "result",
         .area_code = "NHIEM_VU",
         .lead_in = "-",
         .text = "{DETAI_MOI} đề tài; {DETAI_MOI.ytd} từ đầu năm; {DETAI_MOI.pct}; "
                 "{KHONG_CO.ytd}; {PHONGSU.tuan}; {KHONG_CO.ytd} lần nữa."},
    };
    in.items = items;
    in.item_count = 1;
    const report_doc_t *doc = assemble();
    cr_assert_str_eq(doc->areas[0].items[0].text, "02 đề tài; 03 từ đầu năm; {DETAI_MOI.pct}; "
                                                  "{KHONG_CO.ytd}; {PHONGSU.tuan}; "
                                                  "{KHONG_CO.ytd} lần nữa.");
    /* one warning per distinct problem, in the order met */
    cr_assert_eq(out.warning_count, 3);
    cr_assert_str_eq(out.warnings[0], "{DETAI_MOI.pct}: no plan target for DETAI_MOI in 2018");
    cr_assert_str_eq(out.warnings[1], "{KHONG_CO.ytd}: unknown placeholder");
    cr_assert_str_eq(out.warnings[2], "{PHONGSU.tuan}: cannot be written");
}

Test(assemble, warnings_are_bounded)
{
    report_buf_t text;
    report_buf_init(&text);
    for (int i = 0; i < 150; i++)
        report_buf_printf(&text, "{KHONG_CO_%d} ", i);
    report_compile_item_t item = {.section = "limitation", .area_code = "X", .lead_in = "-"};
    item.text = text.data;
    in.items = &item;
    in.item_count = 1;
    assemble();
    cr_assert_eq(out.warning_count, 100);
    cr_assert_str_eq(out.warnings[99], "{KHONG_CO_99}: unknown placeholder");
    report_buf_free(&text);
}

Test(assemble, period_and_template_placeholders)
{
    const report_doc_t *doc = assemble();
    cr_assert_str_eq(doc->summary, "Kết quả tháng 7 năm 2018, nhiệm vụ tháng 8");
    cr_assert_str_eq(doc->section1_heading, "1. Kết quả tháng 7");
    cr_assert_str_eq(doc->section1a_intro, "Số liệu từ ngày 01/7/2018 đến ngày 31/7/2018:");
    cr_assert_str_eq(doc->section2_heading, "2. Nhiệm vụ tháng 8 năm 2018");
    cr_assert_str_eq(doc->closing, "Trên đây là báo cáo của Sở tại Cao Bằng./.");
    cr_assert_str_eq(doc->intro, "Thực hiện chế độ báo cáo định kỳ.", "no basis: the other intro");
    report_compiled_clear(&out);
    req.basis = "Công văn số 2026/UBND-TH";
    doc = assemble();
    cr_assert_str_eq(doc->intro, "Thực hiện Công văn số 2026/UBND-TH; kế hoạch: Quyết định số "
                                 "01/QĐ-SKHCN.");
}

Test(assemble, december_takes_the_year_end_summary_and_a_cutoff_rule_moves_the_period)
{
    req.month = 12;
    in.template.period_rule = (report_period_rule_t){.cutoff = true, .cutoff_day = 14};
    const report_doc_t *doc = assemble();
    cr_assert_str_eq(doc->summary, "Kết quả tháng 12 năm 2018, nhiệm vụ tháng 01 năm 2019");
    cr_assert_str_eq(doc->section2_heading, "2. Nhiệm vụ tháng 01 năm 2019");
    cr_assert_str_eq(doc->section1a_intro, "Số liệu từ ngày 15/11/2018 đến ngày 14/12/2018:");
}

Test(assemble, no_plan_decision_is_a_warning)
{
    in.template.plan_decision = "";
    req.basis = "Công văn";
    const report_doc_t *doc = assemble();
    cr_assert_str_eq(doc->intro, "Thực hiện Công văn; kế hoạch: .");
    cr_assert(has_warning("no annual plan decision recorded for 2018"));
}

Test(assemble, a_draft_leaves_the_number_and_the_day_blank)
{
    const report_doc_t *doc = assemble();
    cr_assert_str_eq(doc->number_line, "Số:      /BC-SKHCN");
    cr_assert_str_eq(doc->place_date, "Cao Bằng, ngày      tháng      năm 2018");
    cr_assert_eq(doc->number, 0);
    cr_assert_str_eq(doc->doc_date, "");
    cr_assert_str_eq(doc->agency_code, "SKHCN");
    cr_assert_eq(doc->year, 2018);
    cr_assert_eq(doc->month, 7);
    cr_assert_str_eq(doc->parent_authority, "UBND TỈNH CAO BẰNG");
    cr_assert_str_eq(doc->signer_authority, "KT. GIÁM ĐỐC");
    cr_assert_str_eq(doc->signer_name, "Nguyễn Văn A");
}

Test(assemble, a_numbered_report_carries_its_number_and_date)
{
    req.number = 588;
    req.date = "2018-07-19";
    const report_doc_t *doc = assemble();
    cr_assert_str_eq(doc->number_line, "Số: 588/BC-SKHCN");
    cr_assert_str_eq(doc->place_date, "Cao Bằng, ngày 19 tháng 7 năm 2018");
    cr_assert_eq(doc->number, 588);
    cr_assert_str_eq(doc->doc_date, "2018-07-19");
}

Test(assemble, missing_units_and_recipients_are_handed_on_as_copies)
{
    const report_doc_t *doc = assemble();
    cr_assert_eq(out.missing_count, 1);
    cr_assert_str_eq(out.missing_units[0], "VAN_PHONG\tVăn phòng Sở");
    cr_assert_neq((const char *)out.missing_units[0], S_MISSING[0], "out owns its strings");
    cr_assert_eq(doc->recipient_count, 2);
    cr_assert_str_eq(doc->recipients[0], "VP Tỉnh uỷ");
    cr_assert_str_eq(doc->recipients[1], "Lưu: VT, VP");
    cr_assert_str_eq(doc->recipients_heading, "Nơi nhận:");
    report_compiled_clear(&out);
    in.missing_count = 0;
    in.recipient_count = 0;
    doc = assemble();
    cr_assert_eq(out.missing_count, 0);
    cr_assert_null(out.missing_units);
    cr_assert_eq(doc->recipient_count, 0);
}

/* Assembles and asserts failure with code and message, and that nothing else was made. */
static void assert_error(const char *code, const char *message)
{
    cr_assert_eq(report_compile_assemble(&in, &req, &out), -1);
    cr_assert_str_eq(out.error.code, code);
    cr_assert_str_eq(out.error.message, message);
    cr_assert_null(out.doc);
    cr_assert_eq(out.missing_count, 0);
    cr_assert_eq(out.warning_count, 0);
}

Test(assemble, errors)
{
    req.month = 13;
    assert_error("bad_period", "period 2018-13 is not a valid month");
    report_compiled_clear(&out);
    req.month = 7;
    req.year = 1999;
    assert_error("bad_period", "period 1999-07 is not a valid month");
    report_compiled_clear(&out);
    req.year = 2018;
    req.date = "2018-02-30";
    assert_error("bad_date", "date '2018-02-30' is not YYYY-MM-DD");
    report_compiled_clear(&out);
    req.date = "";
    in.has_updates = false;
    assert_error("no_updates", "no unit of SKHCN has pushed anything for 2018-07");
    report_compiled_clear(&out);
    in.has_template = false;
    assert_error("no_template", "no report template");
    report_compiled_clear(&out);
    req.agency_code = "KHONG_CO";
    assert_error("unknown_agency", "no agency KHONG_CO with a report template");
}

Test(assemble, the_request_check_alone)
{
    cr_assert_eq(report_compile_check(&req, &out), 0);
    cr_assert_str_eq(out.error.code, "");
    req.date = "19/07/2018";
    cr_assert_eq(report_compile_check(&req, &out), -1);
    cr_assert_str_eq(out.error.code, "bad_date");
}
