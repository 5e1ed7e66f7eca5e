/* Tests of the report formatting rules (numbers, percentages, months, dates, placeholder
 * patterns; docs/report-format.md) and of the four renderings of a report_doc_t, the plain
 * text one against the golden reference report 588/BC-SKHCN of July 2018. */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "report_doc.h"
#include "report_format.h"

/* -------------------------------------------------------------------------------------------
 * Numbers */

/* Formats v and returns the text in a static buffer, failing the test on -1. */
static const char *s_number(double v)
{
    static char buf[64];
    cr_assert_eq(report_format_number(v, buf, sizeof buf), 0, "report_format_number(%g)", v);
    return buf;
}

static const char *s_percent(double numerator, double denominator)
{
    static char buf[64];
    cr_assert_eq(report_format_percent(numerator, denominator, buf, sizeof buf), 0,
                 "report_format_percent(%g, %g)", numerator, denominator);
    return buf;
}

Test(report_format_number, zero_is_plain)
{
    cr_assert_str_eq(s_number(0), "0");
    cr_assert_str_eq(s_number(-0.0), "0");
    cr_assert_str_eq(s_number(0.001), "0");
    cr_assert_str_eq(s_number(-0.001), "0", "a rounded zero never gets a minus sign");
}

Test(report_format_number, counts_below_ten_take_a_leading_zero)
{
    cr_assert_str_eq(s_number(1), "01");
    cr_assert_str_eq(s_number(2), "02");
    cr_assert_str_eq(s_number(5), "05");
    cr_assert_str_eq(s_number(9), "09");
}

Test(report_format_number, ten_and_above_are_plain)
{
    cr_assert_str_eq(s_number(10), "10");
    cr_assert_str_eq(s_number(12), "12");
    cr_assert_str_eq(s_number(37), "37");
    cr_assert_str_eq(s_number(99), "99");
    cr_assert_str_eq(s_number(999), "999");
}

Test(report_format_number, thousands_are_grouped_with_a_dot)
{
    cr_assert_str_eq(s_number(1000), "1.000");
    cr_assert_str_eq(s_number(40378), "40.378");
    cr_assert_str_eq(s_number(100000), "100.000");
    cr_assert_str_eq(s_number(1234567), "1.234.567");
    cr_assert_str_eq(s_number(999999999999999.0), "999.999.999.999.999");
}

Test(report_format_number, fractions_use_a_decimal_comma_and_two_decimals_at_most)
{
    cr_assert_str_eq(s_number(567634.2), "567.634,2");
    cr_assert_str_eq(s_number(0.5), "0,5");
    cr_assert_str_eq(s_number(1.5), "1,5", "no leading zero for a non-integral value");
    cr_assert_str_eq(s_number(1.25), "1,25");
    cr_assert_str_eq(s_number(12.50), "12,5", "trailing zeros are trimmed");
    cr_assert_str_eq(s_number(1234.056), "1.234,06", "rounded to 2 decimals");
    cr_assert_str_eq(s_number(2.999), "03", "rounding decides the leading zero");
    cr_assert_str_eq(s_number(9.999), "10");
    cr_assert_str_eq(s_number(0.125), "0,13", "an exact half goes away from zero");
}

Test(report_format_number, negatives_take_a_minus_and_no_leading_zero)
{
    cr_assert_str_eq(s_number(-5), "-5");
    cr_assert_str_eq(s_number(-12), "-12");
    cr_assert_str_eq(s_number(-1234.5), "-1.234,5");
    cr_assert_str_eq(s_number(-40378), "-40.378");
    cr_assert_str_eq(s_number(-0.125), "-0,13");
}

Test(report_format_number, refuses_what_does_not_fit)
{
    char buf[16];
    cr_assert_eq(report_format_number(40378, buf, 7), 0, "\"40.378\" and its NUL fit in 7");
    cr_assert_str_eq(buf, "40.378");
    strcpy(buf, "junk");
    cr_assert_eq(report_format_number(40378, buf, 6), -1);
    cr_assert_str_eq(buf, "", "a failed call leaves an empty string");
    cr_assert_eq(report_format_number(5, buf, 2), -1);
    cr_assert_eq(report_format_number(5, buf, 0), -1);
    cr_assert_eq(report_format_number(5, NULL, 0), -1);
    cr_assert_eq(report_format_number(NAN, buf, sizeof buf), -1);
    cr_assert_eq(report_format_number(INFINITY, buf, sizeof buf), -1);
    cr_assert_eq(report_format_number(1e15, buf, sizeof buf), -1);
}

/* -------------------------------------------------------------------------------------------
 * Percentages */

Test(report_format_percent, exact_values_are_whole)
{
    cr_assert_str_eq(s_percent(17, 25), "68%");
    cr_assert_str_eq(s_percent(25, 25), "100%");
    cr_assert_str_eq(s_percent(0, 25), "0%");
    cr_assert_str_eq(s_percent(2, 25), "8%", "no leading zero for percentages");
    cr_assert_str_eq(s_percent(3, 4), "75%");
    cr_assert_str_eq(s_percent(30, 25), "120%");
}

Test(report_format_percent, other_values_take_one_decimal_with_a_comma)
{
    cr_assert_str_eq(s_percent(137, 200), "68,5%");
    cr_assert_str_eq(s_percent(1, 3), "33,3%");
    cr_assert_str_eq(s_percent(2, 3), "66,7%");
    cr_assert_str_eq(s_percent(2, 17), "11,8%");
    cr_assert_str_eq(s_percent(15, 17), "88,2%");
    cr_assert_str_eq(s_percent(1, 8), "12,5%");
    cr_assert_str_eq(s_percent(1701, 2500), "68,0%", "68,04%% is not exact, so not \"68%%\"");
}

Test(report_format_percent, rounds_half_away_from_zero)
{
    cr_assert_str_eq(s_percent(1, 16), "6,3%", "6,25%% is a true tie");
    cr_assert_str_eq(s_percent(3, 16), "18,8%", "18,75%%");
    cr_assert_str_eq(s_percent(1, 80), "1,3%", "1,25%%");
    cr_assert_str_eq(s_percent(-1, 16), "-6,3%");
    cr_assert_str_eq(s_percent(1, 1600), "0,1%", "0,0625%%");
    cr_assert_str_eq(s_percent(1, 3000), "0,0%");
}

Test(report_format_percent, refuses_a_denominator_not_above_zero)
{
    char buf[16];
    cr_assert_eq(report_format_percent(17, 0, buf, sizeof buf), -1);
    cr_assert_eq(report_format_percent(17, -25, buf, sizeof buf), -1);
    cr_assert_eq(report_format_percent(NAN, 25, buf, sizeof buf), -1);
    cr_assert_eq(report_format_percent(17, 25, buf, 3), -1, "\"68%%\" needs 4 bytes");
    cr_assert_eq(report_format_percent(17, 25, buf, 4), 0);
    cr_assert_str_eq(buf, "68%");
}

/* -------------------------------------------------------------------------------------------
 * Months and dates */

Test(report_format_month, january_and_february_take_a_leading_zero)
{
    char buf[4];
    const char *expected[13] = {NULL, "01", "02", "3",  "4",  "5", "6",
                                "7",  "8",  "9",  "10", "11", "12"};
    for (int month = 1; month <= 12; month++) {
        cr_assert_eq(report_format_month(month, buf, sizeof buf), 0);
        cr_assert_str_eq(buf, expected[month], "month %d", month);
    }
    cr_assert_eq(report_format_month(0, buf, sizeof buf), -1);
    cr_assert_eq(report_format_month(13, buf, sizeof buf), -1);
    cr_assert_eq(report_format_month(12, buf, 2), -1);
}

Test(report_format_date_long, day_has_two_digits_month_follows_the_month_rule)
{
    char buf[64];
    cr_assert_eq(report_format_date_long(2018, 7, 4, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "ngày 04 tháng 7 năm 2018");
    cr_assert_eq(report_format_date_long(2019, 2, 5, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "ngày 05 tháng 02 năm 2019");
    cr_assert_eq(report_format_date_long(2018, 7, 19, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "ngày 19 tháng 7 năm 2018");
    cr_assert_eq(report_format_date_long(2018, 1, 1, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "ngày 01 tháng 01 năm 2018");
    cr_assert_eq(report_format_date_long(2017, 12, 31, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "ngày 31 tháng 12 năm 2017");
}

Test(report_format_date_long, refuses_dates_that_do_not_exist_or_fit)
{
    char buf[64];
    cr_assert_eq(report_format_date_long(2018, 2, 29, buf, sizeof buf), -1);
    cr_assert_eq(report_format_date_long(2020, 2, 29, buf, sizeof buf), 0, "leap year");
    cr_assert_eq(report_format_date_long(1900, 2, 29, buf, sizeof buf), -1);
    cr_assert_eq(report_format_date_long(2000, 2, 29, buf, sizeof buf), 0);
    cr_assert_eq(report_format_date_long(2018, 4, 31, buf, sizeof buf), -1);
    cr_assert_eq(report_format_date_long(2018, 13, 1, buf, sizeof buf), -1);
    cr_assert_eq(report_format_date_long(2018, 7, 0, buf, sizeof buf), -1);
    size_t needed = strlen("ngày 04 tháng 7 năm 2018") + 1;
    cr_assert_eq(report_format_date_long(2018, 7, 4, buf, needed), 0);
    cr_assert_eq(report_format_date_long(2018, 7, 4, buf, needed - 1), -1);
}

Test(report_format_date_short, day_has_two_digits_month_follows_the_month_rule)
{
    char buf[16];
    cr_assert_eq(report_format_date_short(2018, 3, 2, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "02/3/2018");
    cr_assert_eq(report_format_date_short(2018, 1, 23, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "23/01/2018");
    cr_assert_eq(report_format_date_short(2017, 10, 10, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "10/10/2017");
    cr_assert_eq(report_format_date_short(2017, 5, 4, buf, sizeof buf), 0);
    cr_assert_str_eq(buf, "04/5/2017");
    cr_assert_eq(report_format_date_short(2018, 2, 30, buf, sizeof buf), -1);
    cr_assert_eq(report_format_date_short(2018, 3, 2, buf, 9), -1, "\"02/3/2018\" needs 10");
    cr_assert_eq(report_format_date_short(2018, 3, 2, buf, 10), 0);
}

/* -------------------------------------------------------------------------------------------
 * Placeholder patterns */

typedef struct {
    const char *names[4];
    const char *values[4];
    int calls;
} s_lookup_table_t;

static const char *s_lookup(const char *name, void *arg)
{
    s_lookup_table_t *table = arg;
    table->calls++;
    for (int i = 0; i < 4 && table->names[i]; i++)
        if (strcmp(name, table->names[i]) == 0)
            return table->values[i];
    return NULL;
}

static s_lookup_table_t s_table(void)
{
    s_lookup_table_t table = {
        .names = {"inspections", "units.ytd", "plan_pct", "recursive"},
        .values = {"01", "17/25", "68%", "{inspections}"},
    };
    return table;
}

Test(report_fill_pattern, replaces_known_placeholders)
{
    s_lookup_table_t table = s_table();
    size_t unknown = 99;
    char *text = report_fill_pattern_counted(
        "tổ chức triển khai {inspections} cuộc thanh tra; đã kiểm tra được {units.ytd} đơn "
        "vị, đạt {plan_pct} Kế hoạch",
        s_lookup, &table, &unknown);
    cr_assert_not_null(text);
    cr_assert_str_eq(text, "tổ chức triển khai 01 cuộc thanh tra; đã kiểm tra được 17/25 đơn "
                           "vị, đạt 68% Kế hoạch");
    cr_assert_eq(unknown, 0);
    cr_assert_eq(table.calls, 3);
    free(text);
}

Test(report_fill_pattern, keeps_and_counts_unknown_placeholders)
{
    s_lookup_table_t table = s_table();
    size_t unknown = 0;
    char *text = report_fill_pattern_counted("{inspections} cuộc, {missing} hồ sơ, {also.missing}",
                                             s_lookup, &table, &unknown);
    cr_assert_not_null(text);
    cr_assert_str_eq(text, "01 cuộc, {missing} hồ sơ, {also.missing}");
    cr_assert_eq(unknown, 2);
    free(text);

    text = report_fill_pattern("{a} và {b}", NULL, NULL);
    cr_assert_str_eq(text, "{a} và {b}", "without a lookup every name is unknown");
    free(text);
    text = report_fill_pattern_counted("{a} và {b}", NULL, NULL, &unknown);
    cr_assert_eq(unknown, 2);
    free(text);
}

Test(report_fill_pattern, copies_stray_braces_literally)
{
    s_lookup_table_t table = s_table();
    size_t unknown = 99;
    const char *cases[][2] = {
        {"", ""},
        {"không có gì", "không có gì"},
        {"{", "{"},
        {"}", "}"},
        {"{}", "{}"},
        {"a { b", "a { b"},
        {"cuối {", "cuối {"},
        {"{inspections", "{inspections"},
        {"{có dấu}", "{có dấu}"},
        {"{a b}", "{a b}"},
        {"{plan-pct}", "{plan-pct}"},
        {"{{inspections}}", "{01}"},
        {"{ {inspections}", "{ 01"},
        {"x}{inspections}{", "x}01{"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = report_fill_pattern_counted(cases[i][0], s_lookup, &table, &unknown);
        cr_assert_not_null(text);
        cr_assert_str_eq(text, cases[i][1], "pattern \"%s\"", cases[i][0]);
        cr_assert_eq(unknown, 0, "pattern \"%s\": stray braces are not placeholders", cases[i][0]);
        free(text);
    }
}

Test(report_fill_pattern, inserts_values_verbatim_without_expanding_them_again)
{
    s_lookup_table_t table = s_table();
    size_t unknown = 99;
    char *text = report_fill_pattern_counted("<{recursive}>", s_lookup, &table, &unknown);
    cr_assert_str_eq(text, "<{inspections}>");
    cr_assert_eq(unknown, 0);
    cr_assert_eq(table.calls, 1);
    free(text);
}

/* -------------------------------------------------------------------------------------------
 * The golden report as a report_doc_t. Hard-coded here because this tests the renderers only;
 * where the content comes from (template, units, indicators) is the aggregator's business. */

typedef struct {
    const char *lead_in;
    const char *items[5]; /* NULL-terminated */
} s_area_spec_t;

static const s_area_spec_t s_golden_areas[] = {
    {"Về công tác tham mưu, xây dựng văn bản quy phạm pháp luật \"Quy định quản lý và "
     "sử dụng Chỉ dẫn địa lý \"Cao Bằng\" cho các sản phẩm từ cây trúc sào và chiếu "
     "trúc của tỉnh Cao Bằng\":",
     {"đến nay, Sở KH&CN đã chỉnh sửa, hoàn thiện dự thảo trên cơ sở ý kiến đóng "
      "góp của các cơ quan, tổ chức, cá nhân trên địa bàn tỉnh và hiện đang trình "
      "Sở Tư pháp thẩm định theo quy định.",
      NULL}},
    {"Về công tác quản lý đối với các nhiệm vụ KH&CN trên địa bàn tỉnh:",
     {"Đối với các dự án thuộc Chương trình nông thôn miền núi: Trong tháng 7/2018, "
      "Sở KH&CN tổ chức 01 Hội đồng tư vấn xét giao trực tiếp tổ chức chủ trì thực "
      "hiện đối với Dự án \"Ứng dụng khoa học kỹ thuật xây dựng mô hình liên kết "
      "sản xuất gạo đặc sản nếp Hương tại huyện Bảo Lạc, tỉnh Cao Bằng\".",
      "Đối với các nhiệm vụ KH&CN cấp tỉnh: Đã tổ chức Hội đồng đánh giá, nghiệm "
      "thu đối với 05 đề tài, dự án hết thời gian thực hiện theo Hợp đồng; triển "
      "khai hoàn thành việc thẩm định, phê duyệt nội dung, dự toán và ký kết hợp "
      "đồng giao thực hiện đối với 12 đề tài, dự án mới bắt đầu thực hiện từ năm "
      "2018.",
      "Tổng hợp và chuẩn bị công tác tổ chức cuộc họp của Hội đồng KH&CN cấp tỉnh "
      "xem xét, thẩm định Danh mục các nhiệm vụ KH&CN cấp tỉnh năm 2019 để trình "
      "UBND tỉnh đề xuất, đặt hàng thực hiện trong kế hoạch năm 2019.",
      "Xây dựng kế hoạch và dự toán ngân sách nhà nước đối với hoạt động KH&CN năm "
      "2019 theo yêu cầu của Bộ KH&CN.",
      NULL}},
    /* No items this month: the area must be left out of every rendering. */
    {"Về công tác sở hữu trí tuệ:", {NULL}},
    {"Về công tác thẩm định sáng kiến cấp tỉnh năm 2018:",
     {"tổng hợp hồ sơ và tổ chức thành lập các Hội đồng chuyên môn để đánh giá, "
      "thẩm định đối với 37 hồ sơ đề nghị công nhận sáng kiến cấp tỉnh đợt 2 năm "
      "2018.",
      NULL}},
    {"Về công tác thanh tra:",
     {"tổ chức triển khai 01 cuộc thanh tra chuyên đề về đo lường trong hoạt động "
      "kinh doanh xăng dầu (đối với 02 công ty kinh doanh xăng dầu trên địa huyện "
      "Trùng Khánh); xây dựng và phê duyệt Kế hoạch tổ chức 01 cuộc thanh tra "
      "chuyên đề về quản lý, tổ chức thực hiện các dự án thuộc Chương trình Nông "
      "thôn miền núi giai đoạn từ năm 2011 đến nay, theo sự chỉ đạo đột xuất của Bộ "
      "KH&CN và yêu cầu UBND tỉnh.",
      NULL}},
    {"Về công tác tiêu chuẩn đo lường chất lượng:",
     {"tổ chức kiểm tra, giám sát việc áp dụng Hệ thống quản lý chất lượng theo "
      "tiêu chuẩn TCVN ISO 9001:2008 (gọi tắt là Hệ thống ISO) tại 09 cơ quan hành "
      "chính nhà nước trên địa bàn tỉnh Cao Bằng (Tính đến thời điểm báo cáo, đã "
      "kiểm tra được 17/25 đơn vị, đạt 68% Kế hoạch kiểm tra, giám sát việc áp dụng "
      "Hệ thống ISO đã được phê duyệt. Trong số 17 đơn vị được kiểm tra, có 02/17 "
      "đơn vị duy trì thực hiện tốt việc áp dụng hệ thống ISO, còn 15/17 đơn vị "
      "chưa thực hiện tốt việc duy trì áp dụng Hệ thống ISO vào hoạt động); Hướng "
      "dẫn 02 đơn vị hoàn thiện hồ sơ đăng ký tham gia Giải thưởng chất lượng quốc "
      "gia năm 2018.",
      NULL}},
    {"Hoạt động thông tin, tuyên truyền về KH&CN:",
     {"thực hiện 01 phóng sự tuyên truyền phát sóng trên chuyên mục \"Chương trình "
      "KH&CN và đời sống\" của Đài Phát thanh và truyền hình tỉnh Cao Bằng; cập "
      "nhật, đăng tải 29 tin, bài lên trang thông tin điện tử của Sở KH&CN.",
      NULL}},
};
static const char *const s_golden_limitations[] = {
    "Qua công tác kiểm tra, giám sát việc triển khai áp dụng Hệ thống ISO tại một số "
    "cơ quan, đơn vị hành chính, Sở Khoa học và Công nghệ nhận thấy đa số các cơ quan "
    "chưa thực hiện tốt việc duy trì áp dụng, vận hành áp dụng Hệ thống vào hoạt động "
    "của cơ quan như đã công bố. Nguyên nhân: do hầu hết các cơ quan, đơn vị được kiểm "
    "tra chưa nắm bắt đầy đủ và tuân thủ trong công tác vận hành hệ thống, chưa thay "
    "đổi được thói quen thiếu tính nền nếp trong giải quyết công việc, công vụ.",
    "Về việc triển khai Kế hoạch số 3242/KH-UBND ngày 10/10/2017 của UBND tỉnh về thực "
    "hiện Chỉ thị số 16/CT-TTg ngày 04/5/2017 của Thủ tướng Chính phủ về tăng cường "
    "năng lực tiếp cận cuộc Cách mạng công nghiệp lần thứ 4, giai đoạn 2017-2020: Ngày "
    "23/01/2018, Sở KH&CN đã có Công văn số 45/SKH&CN-QLCN&TTCN trình UBND tỉnh xem "
    "xét, quyết định phê duyệt Danh mục sản phẩm chủ lực của tỉnh Cao Bằng đã được Sở "
    "tổng hợp trên cơ sở ý kiến đề xuất của các sở, ngành liên quan trên địa bàn tỉnh. "
    "Tuy nhiên, đến thời điểm hiện tại vẫn chưa có văn bản phê duyệt (hay ý kiến chỉ "
    "đạo, hồi đáp) của UBND tỉnh. Vì vậy, để tạo điều kiện thuận lợi cho việc tập "
    "trung các nguồn lực, ưu tiên phát triển các sản phẩm, hàng hoá của địa phương "
    "theo hướng tập trung ưu tiên với các sản phẩm chủ lực của tỉnh, Sở KH&CN kính đề "
    "nghị UBND tỉnh quan tâm, xem xét và phê duyệt Danh mục sản phẩm chủ lực của tỉnh "
    "Cao Bằng.",
    NULL};
static const char *const s_golden_next_tasks[] = {
    "Tổ chức cuộc họp Hội đồng KH&CN tỉnh Cao Bằng tư vấn, xác định Danh mục nhiệm vụ "
    "KH&CN cấp tỉnh năm 2019 trình UBND tỉnh phê duyệt đề xuất, đặt hàng thực hiện từ "
    "năm 2019; tham mưu cho Hội đồng Khoa học và Sáng kiến tỉnh hoàn thành công tác "
    "đánh giá, thẩm định và công nhận sáng kiến cấp tỉnh đợt 2 năm 2018.",
    "Quản lý, theo dõi các nhiệm vụ KH&CN (đề tài, dự án) đang được triển khai thực "
    "hiện trên địa bàn tỉnh. Trong đó, dự kiến tiến hành kiểm tra, đánh giá định kỳ dự "
    "án KH&CN cấp quốc gia \"Hoàn thiện công nghệ sản xuất sắt xộp và nghiên cứu sử "
    "dụng sắt xộp để luyện một số thép hợp kim phục vụ kinh tế và quốc phòng\" và kiểm "
    "tra tình hình thực hiện 02 đề tài cấp tỉnh.",
    "Tổ chức 01 cuộc thanh tra chuyên đề năm 2018 về công tác quản lý, tổ chức triển "
    "khai thực hiện Chương trình Nông thôn miền núi, giai đoạn từ năm 2011 đến nay.",
    NULL};
static const char *const s_golden_recipients[] = {"VP Tỉnh uỷ",
                                                  "VP UBND tỉnh",
                                                  "Sở KH&ĐT",
                                                  "Ban Tuyên giáo TU",
                                                  "Cục Thống kê tỉnh",
                                                  "GD, các PGD Sở (bản điện tử)",
                                                  "Các phòng và đơn vị trực thuộc Sở (bản điện tử)",
                                                  "Lưu: VT, VP",
                                                  NULL};
static const char s_golden_summary[] =
    "Kết quả hoạt động khoa học và công nghệ tháng 7 và nhiệm vụ công tác tháng 8 năm "
    "2018";
static const char s_golden_intro[] =
    "Thực hiện chế độ báo cáo định kỳ và Công văn số 2026/UBND-TH ngày 04 tháng 7 năm "
    "2018 của Ủy ban nhân dân tỉnh về việc đổi mới, nâng cao chất lượng các báo cáo "
    "kinh tế - xã hội, Sở Khoa học và Công nghệ (KH&CN) báo cáo kết quả hoạt động "
    "KH&CN tháng 7 năm 2018 và nhiệm vụ công tác tháng 8 năm 2018 như sau:";
static const char s_golden_section1a_intro[] =
    "Các hoạt động KH&CN trong tháng 7 năm 2018 đang được triển khai theo đúng Kế "
    "hoạch KH&CN tỉnh Cao Bằng năm 2018 đã được phê duyệt, kết quả cụ thể như sau:";
static const char s_golden_section2_intro[] =
    "Tập trung chỉ đạo thực hiện đảm bảo hoàn thành theo tiến độ các nhiệm vụ được "
    "giao theo Kế hoạch phê duyệt tại Quyết định số 225/QĐ-UBND ngày 02/3/2018 của "
    "UBND tỉnh Cao Bằng, cụ thể với các nhiệm vụ thực hiện trọng tâm trong tháng "
    "8/2018 như sau:";
static const char s_golden_closing[] =
    "Trên đây là Báo cáo kết quả hoạt động khoa học và công nghệ tháng 7 năm 2018 và "
    "nhiệm vụ công tác tháng 8 năm 2018 của Sở Khoa học và Công nghệ tỉnh Cao Bằng.";

static char *s_dup(const char *text)
{
    char *copy = strdup(text);
    cr_assert_not_null(copy);
    return copy;
}

static size_t s_count(const char *const *texts)
{
    size_t count = 0;
    while (texts[count])
        count++;
    return count;
}

static report_item_t *s_items(const char *const *texts, size_t *count_p)
{
    *count_p = s_count(texts);
    report_item_t *items = calloc(*count_p + 1, sizeof(report_item_t));
    cr_assert_not_null(items);
    for (size_t i = 0; i < *count_p; i++)
        items[i].text = s_dup(texts[i]);
    return items;
}

/* Builds the July 2018 report. With full_header the lines the extraction lost (parent
 * authority, agency, motto) are filled in too; without, those fields stay NULL. */
static report_doc_t *s_golden_doc(bool full_header)
{
    report_doc_t *doc = report_doc_new();
    cr_assert_not_null(doc);
    if (full_header) {
        doc->parent_authority = s_dup("UBND TỈNH CAO BẰNG");
        doc->agency_name = s_dup("SỞ KHOA HỌC VÀ CÔNG NGHỆ");
        doc->motto = s_dup("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
        doc->motto_sub = s_dup("Độc lập - Tự do - Hạnh phúc");
    }
    doc->number_line = s_dup("Số: 588/BC-SKHCN");
    doc->place_date = s_dup("Cao Bằng, ngày 19 tháng 7 năm 2018");
    doc->doc_type = s_dup("BÁO CÁO");
    doc->summary = s_dup(s_golden_summary);
    doc->intro = s_dup(s_golden_intro);
    doc->section1_heading = s_dup("1. Kết quả hoạt động KH&CN tháng 7 năm 2018");
    doc->section1a_heading =
        s_dup("a) Kết quả thực hiện các nhiệm vụ theo Kế hoạch KH&CN tỉnh Cao Bằng năm 2018");
    doc->section1a_intro = s_dup(s_golden_section1a_intro);

    doc->area_count = sizeof s_golden_areas / sizeof s_golden_areas[0];
    doc->areas = calloc(doc->area_count, sizeof(report_area_t));
    cr_assert_not_null(doc->areas);
    for (size_t i = 0; i < doc->area_count; i++) {
        doc->areas[i].lead_in = s_dup(s_golden_areas[i].lead_in);
        doc->areas[i].items = s_items(s_golden_areas[i].items, &doc->areas[i].item_count);
    }

    doc->section1b_heading = s_dup("b) Hạn chế, vướng mắc:");
    doc->limitations = s_items(s_golden_limitations, &doc->limitation_count);
    doc->section2_heading =
        s_dup("2. Phương hướng, nhiệm vụ KH&CN trọng tâm trong tháng 8 năm 2018");
    doc->section2_intro = s_dup(s_golden_section2_intro);
    doc->next_tasks = s_items(s_golden_next_tasks, &doc->next_task_count);
    doc->closing = s_dup(s_golden_closing);

    doc->recipients_heading = s_dup("Nơi nhận:");
    doc->recipient_count = s_count(s_golden_recipients);
    doc->recipients = calloc(doc->recipient_count, sizeof(char *));
    cr_assert_not_null(doc->recipients);
    for (size_t i = 0; i < doc->recipient_count; i++)
        doc->recipients[i] = s_dup(s_golden_recipients[i]);
    doc->signer_authority = s_dup("");
    doc->signer_title = s_dup("GIÁM ĐỐC");
    doc->signer_name = s_dup("Hoàng Giang");

    doc->agency_code = s_dup("SKHCN");
    doc->year = 2018;
    doc->month = 7;
    doc->number = 588;
    doc->version = 1;
    doc->doc_date = s_dup("2018-07-19");
    return doc;
}

#define S_GOLDEN_NAME "bao-cao-588-BC-SKHCN-2018-07.txt"

/* The golden file: $REPORT_GOLDEN, else the copy in tests/golden/ under $REPORT_ROOT (the
 * repo root). */
static char *s_read_golden(void)
{
    const char *golden = getenv("REPORT_GOLDEN");
    if (golden && *golden) {
        char *text = test_read_file(golden);
        cr_assert_not_null(text, "cannot read REPORT_GOLDEN=%s", golden);
        return text;
    }
    char *text = NULL;
    const char *root = getenv("REPORT_ROOT");
    if (root && *root) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/golden/%s", root, S_GOLDEN_NAME);
        text = test_read_file(path);
    }
    cr_assert_not_null(text, "cannot find the golden file %s; set REPORT_GOLDEN", S_GOLDEN_NAME);
    return text;
}

/* Splits text in place into lines; a final newline does not start an extra empty line. The
 * array points into text; the caller frees the array only. */
static char **s_lines(char *text, size_t *count_p)
{
    size_t capacity = 1;
    for (const char *p = text; *p; p++)
        capacity += *p == '\n';
    char **lines = calloc(capacity, sizeof(char *));
    cr_assert_not_null(lines);
    size_t count = 0;
    char *line = text;
    while (*line) {
        char *end = strchr(line, '\n');
        lines[count++] = line;
        if (end == NULL)
            break;
        *end = '\0';
        line = end + 1;
    }
    *count_p = count;
    return lines;
}

/* Asserts that every golden line appears in rendered as a whole line, in order. */
static void s_assert_golden_subsequence(const char *rendered)
{
    char *golden = s_read_golden();
    char *copy = s_dup(rendered);
    size_t golden_count, rendered_count;
    char **golden_lines = s_lines(golden, &golden_count);
    char **rendered_lines = s_lines(copy, &rendered_count);
    cr_assert_gt(golden_count, 60, "the golden file looks truncated");
    size_t at = 0;
    for (size_t i = 0; i < golden_count; i++) {
        while (at < rendered_count && strcmp(rendered_lines[at], golden_lines[i]) != 0)
            at++;
        cr_assert_lt(at, rendered_count, "golden line %zu missing or out of order: \"%s\"", i + 1,
                     golden_lines[i]);
        at++;
    }
    free(golden_lines);
    free(rendered_lines);
    free(copy);
    free(golden);
}

static size_t s_line_count(const char *text)
{
    char *copy = s_dup(text);
    size_t count;
    free(s_lines(copy, &count));
    free(copy);
    return count;
}

/* -------------------------------------------------------------------------------------------
 * Plain text */

Test(report_render_text, holds_every_golden_line_in_order)
{
    report_doc_t *doc = s_golden_doc(true);
    char *text = report_render_text(doc);
    cr_assert_not_null(text);
    s_assert_golden_subsequence(text);

    /* Only the four header lines the extraction lost are added, in the header. */
    char *golden = s_read_golden();
    cr_assert_eq(s_line_count(text), s_line_count(golden) + 4);
    cr_assert(strncmp(text,
                      "UBND TỈNH CAO BẰNG\nSỞ KHOA HỌC VÀ CÔNG NGHỆ\nSố: 588/BC-SKHCN\n\n"
                      "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
                      "Cao Bằng, ngày 19 tháng 7 năm 2018\n\nBÁO CÁO\n\n",
                      strlen("UBND TỈNH CAO BẰNG\nSỞ KHOA HỌC VÀ CÔNG NGHỆ\nSố: 588/BC-SKHCN\n\n"
                             "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
                             "Cao Bằng, ngày 19 tháng 7 năm 2018\n\nBÁO CÁO\n\n")) == 0,
              "header:\n%.300s", text);
    free(golden);
    free(text);
    report_doc_destroy(&doc);
    cr_assert_null(doc);
}

Test(report_render_text, equals_the_golden_file_with_the_golden_header)
{
    report_doc_t *doc = s_golden_doc(false);
    char *text = report_render_text(doc);
    char *golden = s_read_golden();
    cr_assert_str_eq(text, golden);
    free(golden);
    free(text);
    report_doc_destroy(&doc);
}

Test(report_render_text, leaves_out_an_area_without_items)
{
    report_doc_t *doc = s_golden_doc(true);
    char *text = report_render_text(doc);
    cr_assert_null(strstr(text, "sở hữu trí tuệ"));
    free(text);
    report_doc_destroy(&doc);
}

Test(report_render_text, leaves_out_section_1b_without_limitations)
{
    report_doc_t *doc = s_golden_doc(true);
    for (size_t i = 0; i < doc->limitation_count; i++)
        free(doc->limitations[i].text);
    free(doc->limitations);
    doc->limitations = NULL;
    doc->limitation_count = 0;
    char *text = report_render_text(doc);
    cr_assert_null(strstr(text, "b) Hạn chế"));
    cr_assert_not_null(strstr(text, "sống\" của Đài Phát thanh và truyền hình tỉnh Cao Bằng; cập "
                                    "nhật, đăng tải 29 tin, bài lên trang thông tin điện tử của "
                                    "Sở KH&CN.\n\n2. Phương hướng"));
    free(text);
    report_doc_destroy(&doc);
}

Test(report_render_text, lays_out_sub_items_and_a_deputy_signer)
{
    report_doc_t *doc = s_golden_doc(true);
    /* A sub-item under the single item of "thanh tra", one under the first "+" item of
     * "quản lý", and one under a limitation. */
    report_item_t *single = &doc->areas[4].items[0];
    single->sub_items = calloc(1, sizeof(char *));
    single->sub_items[0] = s_dup("Thanh tra đo lường: 02 công ty.");
    single->sub_item_count = 1;
    report_item_t *nested = &doc->areas[1].items[0];
    nested->sub_items = calloc(1, sizeof(char *));
    nested->sub_items[0] = s_dup("Dự án nếp Hương.");
    nested->sub_item_count = 1;
    report_item_t *limitation = &doc->limitations[0];
    limitation->sub_items = calloc(1, sizeof(char *));
    limitation->sub_items[0] = s_dup("Nguyên nhân chủ quan.");
    limitation->sub_item_count = 1;
    free(doc->signer_authority);
    doc->signer_authority = s_dup("KT. GIÁM ĐỐC");
    free(doc->signer_title);
    doc->signer_title = s_dup("PHÓ GIÁM ĐỐC");

    char *text = report_render_text(doc);
    cr_assert_not_null(strstr(text, "UBND tỉnh.\n\n+ Thanh tra đo lường: 02 công ty.\n\n- Về"));
    cr_assert_not_null(strstr(text, "tỉnh Cao Bằng\".\n\n  * Dự án nếp Hương.\n\n+ Đối với"));
    cr_assert_not_null(strstr(text, "công vụ.\n\n+ Nguyên nhân chủ quan.\n\n- Về việc"));
    const char *end = "- Lưu: VT, VP.\n\nKT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\n\nHoàng Giang\n";
    size_t length = strlen(text);
    cr_assert(length > strlen(end) && strcmp(text + length - strlen(end), end) == 0,
              "ends with:\n%s", text + length - strlen(end));
    free(text);
    report_doc_destroy(&doc);
}

Test(report_doc, destroy_accepts_null_and_an_empty_document)
{
    report_doc_t *doc = NULL;
    report_doc_destroy(&doc);
    cr_assert_null(doc);
    doc = report_doc_new();
    cr_assert_not_null(doc);
    char *renderings[] = {report_render_text(doc), report_render_markdown(doc),
                          report_render_html(doc), report_render_json(doc)};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_not_null(renderings[i], "rendering %zu of an empty document", i);
        free(renderings[i]);
    }
    report_doc_destroy(&doc);
    cr_assert_null(doc);
}

/* -------------------------------------------------------------------------------------------
 * Markdown */

Test(report_render_markdown, uses_headings_and_nested_lists)
{
    report_doc_t *doc = s_golden_doc(true);
    char *md = report_render_markdown(doc);
    cr_assert_not_null(md);
    cr_assert_not_null(strstr(md, "\n# BÁO CÁO\n\n**Kết quả hoạt động khoa học"));
    cr_assert_not_null(strstr(md, "\n## 1. Kết quả hoạt động KH&CN tháng 7 năm 2018\n\n"));
    cr_assert_not_null(strstr(md, "\n### a) Kết quả thực hiện các nhiệm vụ"));
    cr_assert_not_null(strstr(md, "\n### b) Hạn chế, vướng mắc:\n\n- Qua công tác"));
    cr_assert_not_null(strstr(md, "\n- Về công tác thanh tra: tổ chức triển khai 01 cuộc"));
    cr_assert_not_null(strstr(md, "\n- Về công tác quản lý đối với các nhiệm vụ KH&CN trên địa "
                                  "bàn tỉnh:\n  - Đối với các dự án thuộc"));
    cr_assert_not_null(strstr(md, "\n  - Xây dựng kế hoạch và dự toán"));
    cr_assert_not_null(strstr(md, "\n***Nơi nhận:***\n\n- VP Tỉnh uỷ;\n"));
    cr_assert_not_null(strstr(md, "\n- Lưu: VT, VP.\n\n**GIÁM ĐỐC**\n\n**Hoàng Giang**\n"));
    cr_assert_null(strstr(md, "sở hữu trí tuệ"));
    free(md);
    report_doc_destroy(&doc);
}

Test(report_render_markdown, escapes_markup_in_the_text)
{
    report_doc_t *doc = s_golden_doc(true);
    free(doc->next_tasks[0].text);
    doc->next_tasks[0].text = s_dup("1. *quan trọng* [x] <b>");
    char *md = report_render_markdown(doc);
    cr_assert_not_null(strstr(md, "\n- 1\\. \\*quan trọng\\* \\[x\\] \\<b\\>\n"), "%s", md);
    free(md);
    report_doc_destroy(&doc);
}

/* -------------------------------------------------------------------------------------------
 * HTML */

/* Every '&' in html must open one of the entities the renderer writes. */
static void s_assert_ampersands_escaped(const char *html)
{
    const char *entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    for (const char *p = strchr(html, '&'); p; p = strchr(p + 1, '&')) {
        bool known = false;
        for (size_t i = 0; i < 5 && !known; i++)
            known = strncmp(p, entities[i], strlen(entities[i])) == 0;
        cr_assert(known, "raw '&' in HTML at: %.40s", p);
    }
}

Test(report_render_html, is_a_standalone_a4_document)
{
    report_doc_t *doc = s_golden_doc(true);
    char *html = report_render_html(doc);
    cr_assert_not_null(html);
    cr_assert(strncmp(html, "<!DOCTYPE html>\n<html lang=\"vi\">", 31) == 0, "%.60s", html);
    cr_assert_not_null(strstr(html, "<meta charset=\"utf-8\">"));
    cr_assert_not_null(strstr(html, "size: A4;"));
    cr_assert_not_null(strstr(html, "margin: 20mm 15mm 20mm 30mm;"));
    cr_assert_not_null(strstr(html, "\"Times New Roman\", \"Liberation Serif\", serif"));
    cr_assert_not_null(strstr(html, "@top-center"));
    cr_assert_not_null(strstr(html, "@page :first"));
    cr_assert_not_null(strstr(html, "text-indent: 1.27cm"));
    cr_assert_null(strstr(html, "<script"));
    cr_assert_null(strstr(html, "http:"));
    cr_assert_null(strstr(html, "https:"));
    cr_assert_null(strstr(html, "<link"));
    cr_assert_null(strstr(html, "sở hữu trí tuệ"));
    const char *end = "</html>\n";
    cr_assert_str_eq(html + strlen(html) - strlen(end), end);
    free(html);
    report_doc_destroy(&doc);
}

Test(report_render_html, escapes_special_characters)
{
    report_doc_t *doc = s_golden_doc(true);
    free(doc->closing);
    doc->closing = s_dup("a < b > c & \"d\" 'e'");
    char *html = report_render_html(doc);
    cr_assert_not_null(strstr(html, "KH&amp;CN"));
    cr_assert_null(strstr(html, "KH&CN"));
    cr_assert_not_null(strstr(html, "Sở KH&amp;ĐT;"));
    cr_assert_not_null(strstr(html, "Chỉ dẫn địa lý &quot;Cao Bằng&quot;"));
    cr_assert_not_null(strstr(html, "<p>a &lt; b &gt; c &amp; &quot;d&quot; &#39;e&#39;</p>"));
    cr_assert_not_null(strstr(html, "<div class=\"number\">Số: 588/BC-SKHCN</div>"));
    s_assert_ampersands_escaped(html);
    free(html);
    report_doc_destroy(&doc);
}

/* -------------------------------------------------------------------------------------------
 * JSON */

Test(report_render_json, parses_and_carries_the_document)
{
    report_doc_t *doc = s_golden_doc(true);
    char *text = report_render_json(doc);
    cr_assert_not_null(text);
    json_error_t error;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    cr_assert_not_null(root, "invalid JSON, line %d: %s", error.line, error.text);

    cr_assert_str_eq(json_string_value(json_object_get(root, "agency_code")), "SKHCN");
    cr_assert_eq(json_integer_value(json_object_get(root, "year")), 2018);
    cr_assert_eq(json_integer_value(json_object_get(root, "month")), 7);
    cr_assert_eq(json_integer_value(json_object_get(root, "number")), 588);
    cr_assert_eq(json_integer_value(json_object_get(root, "version")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(root, "doc_date")), "2018-07-19");
    json_t *header = json_object_get(root, "header");
    cr_assert_str_eq(json_string_value(json_object_get(header, "number_line")), "Số: 588/BC-SKHCN");
    cr_assert_str_eq(json_string_value(json_object_get(header, "motto_sub")),
                     "Độc lập - Tự do - Hạnh phúc");

    json_t *results = json_object_get(json_object_get(root, "sections"), "results");
    json_t *areas = json_object_get(json_object_get(results, "plan_tasks"), "areas");
    cr_assert_eq(json_array_size(areas), 6, "the empty area is left out");
    json_t *management = json_array_get(areas, 1);
    cr_assert_eq(json_array_size(json_object_get(management, "items")), 4);
    json_t *first = json_array_get(json_object_get(json_array_get(areas, 0), "items"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(first, "text")), s_golden_areas[0].items[0]);
    cr_assert(json_is_array(json_object_get(first, "sub_items")));
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(areas, 0), "lead_in")),
                     s_golden_areas[0].lead_in, "quotes survive the round trip");
    json_t *limitations = json_object_get(json_object_get(results, "limitations"), "items");
    cr_assert_eq(json_array_size(limitations), 2);
    json_t *next = json_object_get(json_object_get(root, "sections"), "next_tasks");
    cr_assert_eq(json_array_size(json_object_get(next, "items")), 3);

    json_t *recipients = json_object_get(root, "recipients");
    cr_assert_eq(json_array_size(recipients), 8);
    cr_assert_str_eq(json_string_value(json_array_get(recipients, 7)), "Lưu: VT, VP");
    json_t *signer = json_object_get(root, "signer");
    cr_assert_str_eq(json_string_value(json_object_get(signer, "title")), "GIÁM ĐỐC");
    cr_assert_str_eq(json_string_value(json_object_get(signer, "name")), "Hoàng Giang");
    json_decref(root);
    free(text);
    report_doc_destroy(&doc);
}

Test(report_render_json, escapes_quotes_backslashes_and_control_characters)
{
    report_doc_t *doc = s_golden_doc(false);
    const char *nasty = "\"trích\" \\ C:\\x\n\tdòng\r\b\f\x01\x1f kết thúc";
    free(doc->closing);
    doc->closing = s_dup(nasty);
    char *text = report_render_json(doc);
    json_error_t error;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &error);
    cr_assert_not_null(root, "invalid JSON, line %d: %s", error.line, error.text);
    cr_assert_str_eq(json_string_value(json_object_get(root, "closing")), nasty);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "header"), "motto")),
                     "", "a NULL string is rendered as \"\"");
    json_decref(root);
    free(text);
    report_doc_destroy(&doc);
}
