/* The office's draft with its sources (issue 13, part 2): the typed-number rule at its edges,
 * then the real pipeline (units push the samples through a real collector and store into a
 * real PostgreSQL; the aggregator compiles on its CURVE control socket): the sources of a
 * paragraph are its database row, a year-to-date figure lists the months it summed, an
 * amended item shows its new revision and is listed as changed, a typed "17/25" is flagged
 * and a date is not, the HTML carries the notes and the missing units, and the published
 * version carries none of it. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_json.h"
#include "report_provenance.h"
#include "report_push.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- the rule, on indicators built by hand --- */

static const report_compile_indicator_t S_INDICATORS[] = {
    {.code = "GTCL_HUONGDAN",
     .label = "Đơn vị được hướng dẫn hồ sơ tham gia Giải thưởng chất lượng quốc gia",
     .measure = "đơn vị"},
    {.code = "ISO_KIEMTRA",
     .has_plan = true,
     .plan = 25,
     .label = "Cơ quan hành chính được kiểm tra, giám sát việc áp dụng Hệ thống ISO",
     .measure = "đơn vị"},
    {.code = "DETAI_MOI",
     .label = "Đề tài, dự án cấp tỉnh mới được phê duyệt",
     .measure = "đề tài, dự án"},
    {.code = "MAU_THU", .label = "Mẫu hàng hoá được thử nghiệm", .measure = "mẫu"},
    {.code = "LUOT_TRUYCAP", .label = "Lượt truy cập trang thông tin", .measure = "lượt"},
    {.code = "CS_KIEMTRA", .label = "Cơ sở kinh doanh xăng dầu được kiểm tra", .measure = "cơ sở"},
};

/* The typed numbers of text, as "text:rule:INDICATOR" joined by '|'. */
static char *typed(const char *text)
{
    report_typed_number_t found[8];
    size_t n = report_provenance_typed_numbers(
        text, S_INDICATORS, sizeof S_INDICATORS / sizeof *S_INDICATORS, found, 8);
    char *out = report_strdup("");
    for (size_t i = 0; i < n && i < 8; i++) {
        char *next = report_sprintf("%s%s%.*s:%s:%s", out, i ? "|" : "", (int)found[i].length,
                                    text + found[i].start, found[i].rule,
                                    S_INDICATORS[found[i].indicator].code);
        free(out);
        out = next;
    }
    return out;
}

static void expect_typed(const char *text, const char *expected)
{
    char *got = typed(text);
    cr_expect_str_eq(got, expected, "in \"%s\"", text);
    free(got);
}

Test(typed, flagged_next_to_a_measure_or_a_label)
{
    expect_typed("đã kiểm tra được 17/25 đơn vị, đạt 68% Kế hoạch", "17/25:measure:ISO_KIEMTRA");
    expect_typed("tại 9 cơ quan hành chính nhà nước", "9:label:ISO_KIEMTRA");
    expect_typed("thử nghiệm 12 mẫu xăng và 1.250 lượt truy cập",
                 "12:measure:MAU_THU|1.250:measure:LUOT_TRUYCAP");
    expect_typed("kiểm tra 3 cơ sở; ký hợp đồng 2 dự án",
                 "3:measure:CS_KIEMTRA|2:measure:DETAI_MOI");
    expect_typed("có 2,5 Đơn vị (17/25) đơn vị",
                 "2,5:measure:GTCL_HUONGDAN|17/25:measure:ISO_KIEMTRA");
    expect_typed("{ISO_KIEMTRA.ytd}/25 đơn vị", "{ISO_KIEMTRA.ytd}/25:measure:ISO_KIEMTRA");
    expect_typed("17/24 đơn vị", "17/24:measure:GTCL_HUONGDAN"); /* no plan of 24: the first */
    /* a ratio with a measure a few words before it */
    expect_typed("số đơn vị kiểm tra: 17/25.", "17/25:measure:ISO_KIEMTRA");
}

Test(typed, not_flagged_dates_document_numbers_codes_and_computed_figures)
{
    expect_typed("theo Báo cáo số 588/BC-SKHCN ngày 19/7/2018 của Sở", "");
    expect_typed("trong tháng 7/2018 đơn vị đã triển khai", "");
    expect_typed("kết quả 7/2018 đơn vị đã triển khai; 12/2018 đơn vị", "");
    expect_typed("ngày 10/10 đơn vị đã gửi; năm 2018 đơn vị", "");
    expect_typed("theo TCVN ISO 9001:2008 tại các đơn vị", "");
    expect_typed("giai đoạn 2017-2020 đơn vị", "");
    expect_typed("đã kiểm tra {ISO_KIEMTRA.ytd}/{ISO_KIEMTRA.plan} đơn vị", "");
    expect_typed("tổ chức {THANHTRA_CUOC} cuộc thanh tra, đợt 2 năm 2018", "");
    /* a measure that only begins a longer word, and a ratio too far from any measure */
    expect_typed("17 đơn vịt; 4 mẫuu", "");
    expect_typed("đơn vị này đã hoàn thành nhiều việc, đạt 17/25 theo kế hoạch", "");
    expect_typed("", "");
}

/* --- the real pipeline --- */

static test_stack_t stack;
static report_aggregator_t *agg;

static void teardown(void)
{
    report_aggregator_stop(&agg);
    test_stack_stop(&stack);
}

TestSuite(provenance, .fini = teardown, .timeout = 120);

static void start(void)
{
    test_stack_start(&stack, NULL, 1);
    agg = test_aggregator_start(&stack, NULL);
    test_push_samples(&stack, 7);
}

static void push_json(const char *json)
{
    report_update_t **list;
    size_t n;
    char err[256];
    cr_assert_eq(report_json_parse_updates(json, strlen(json), &list, &n, err, sizeof err), 0, "%s",
                 err);
    report_reply_t replies[4];
    cr_assert(n <= 4);
    cr_assert_eq(test_push(&stack, list, n, replies), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(replies[i].outcome, REPORT_OUTCOME_STORED, "%s: %s",
                     report_reason_name(replies[i].reason), replies[i].message);
    report_updates_free(list, n);
}

/* Compiles July 2018 in format (sources as asked); the reply (caller clears). */
static report_control_reply_t compile(const char *format, bool sources)
{
    report_control_request_t req = {0};
    req.kind = REPORT_CONTROL_COMPILE;
    req.agency_code = "";
    req.year = 2018;
    req.month = 7;
    req.format = (char *)format;
    req.date = "";
    req.basis = "";
    req.sources = sources;
    report_control_reply_t reply;
    report_client_keys_t keys = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &keys, &req, &reply, 30000), 0,
        "no answer from the aggregator");
    return reply;
}

static json_t *compile_json(void)
{
    report_control_reply_t r = compile("json", false);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    json_error_t err;
    json_t *root = json_loads(r.body, 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    report_control_reply_clear(&r);
    return root;
}

/* The "sources" of the item item_key, wherever it is printed. */
static json_t *item_sources(json_t *root, const char *item_key)
{
    json_t *sections = json_object_get(root, "sections");
    json_t *results = json_object_get(sections, "results");
    json_t *lists[16];
    size_t n = 0;
    size_t i;
    json_t *area;
    json_array_foreach(json_object_get(json_object_get(results, "plan_tasks"), "areas"), i,
                       area) if (n < 14) lists[n++] = json_object_get(area, "items");
    lists[n++] = json_object_get(json_object_get(results, "limitations"), "items");
    lists[n++] = json_object_get(json_object_get(sections, "next_tasks"), "items");
    for (size_t l = 0; l < n; l++) {
        json_t *item;
        json_array_foreach(lists[l], i, item)
        {
            json_t *s = json_object_get(item, "sources");
            if (s && !strcmp(json_string_value(json_object_get(s, "item_key")), item_key))
                return s;
        }
    }
    return NULL;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The figure {placeholder} among the sources' numbers. */
static json_t *figure(json_t *sources, const char *placeholder)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(sources, "numbers"), i,
                       f) if (!strcmp(str(f, "placeholder"), placeholder)) return f;
    return NULL;
}

Test(provenance, a_paragraph_names_its_database_row)
{
    start();
    json_t *root = compile_json();
    json_t *s = item_sources(root, "tdc-2018-07-kq-tdc-1");
    cr_assert_not_null(s, "no sources on the ISO paragraph");
    char *row = test_db_value(
        &stack.db, "SELECT unit_code || '|' || revision || '|' || update_id || '|' ||"
                   " to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                   " FROM updates WHERE item_key = 'tdc-2018-07-kq-tdc-1'");
    char *got = report_sprintf("%s|%lld|%s|%s", str(s, "unit"),
                               (long long)json_integer_value(json_object_get(s, "revision")),
                               str(s, "update_id"), str(s, "committed_at"));
    cr_assert_str_eq(got, row);
    cr_assert_str_eq(str(s, "unit"), "CHI_CUC_TDC");
    /* the units that sent nothing, and no typed number in the real July */
    json_t *missing = json_object_get(root, "missing_units");
    cr_assert_eq(json_array_size(missing), 1);
    cr_assert_str_eq(str(json_array_get(missing, 0), "unit"), "VAN_PHONG");
    cr_assert_eq(json_array_size(json_object_get(root, "typed_numbers")), 0);
    free(got);
    free(row);
    json_decref(root);
}

Test(provenance, a_year_to_date_figure_lists_the_months_it_summed)
{
    start();
    json_t *root = compile_json();
    json_t *s = item_sources(root, "tdc-2018-07-kq-tdc-1");
    json_t *ytd = figure(s, "ISO_KIEMTRA.ytd");
    cr_assert_not_null(ytd);
    json_t *months = json_object_get(ytd, "months");
    cr_assert_gt(json_array_size(months), 1, "a year to date sums more than July");
    double sum = 0;
    size_t i;
    json_t *m;
    json_array_foreach(months, i, m)
    {
        cr_assert_leq(json_integer_value(json_object_get(m, "month")), 7);
        sum += json_number_value(json_object_get(m, "value"));
    }
    cr_assert_float_eq(sum, json_number_value(json_object_get(ytd, "value")), 1e-9);
    /* each month's value is the sum of its items' values, each item named */
    json_t *ind = json_object_get(json_object_get(root, "indicators"), "ISO_KIEMTRA");
    json_t *ind_months = json_object_get(ind, "months");
    cr_assert_eq(json_array_size(ind_months), json_array_size(months));
    json_array_foreach(ind_months, i, m)
    {
        double month_sum = 0;
        size_t j;
        json_t *it;
        json_array_foreach(json_object_get(m, "items"), j, it)
        {
            cr_assert_str_neq(str(it, "update_id"), "");
            month_sum += json_number_value(json_object_get(it, "value"));
        }
        cr_assert_eq(json_integer_value(json_object_get(m, "item_count")),
                     (json_int_t)json_array_size(json_object_get(m, "items")));
        cr_assert_float_eq(month_sum, json_number_value(json_object_get(m, "value")), 1e-9);
        cr_assert_float_eq(month_sum,
                           json_number_value(json_object_get(json_array_get(months, i), "value")),
                           1e-9);
    }
    cr_assert_float_eq(sum, json_number_value(json_object_get(ind, "ytd")), 1e-9);
    char *db = test_db_value(&stack.db,
                             "SELECT sum(iv.value)::text FROM item_heads h JOIN indicator_values iv"
                             " ON iv.update_seq = h.seq WHERE iv.indicator_code = 'ISO_KIEMTRA'"
                             " AND h.year = 2018 AND h.month <= 7 AND NOT h.withdrawn");
    cr_assert_float_eq(sum, strtod(db, NULL), 1e-9);
    json_t *pct = figure(s, "ISO_KIEMTRA.pct");
    cr_assert_not_null(pct);
    cr_assert_float_eq(json_number_value(json_object_get(pct, "plan")), 25, 1e-9);
    json_t *month = figure(s, "ISO_KIEMTRA");
    cr_assert_eq(json_array_size(json_object_get(month, "months")), 1, "the month's figure: July");
    free(db);
    json_decref(root);
}

static const char S_AMEND[] =
    "{\"update_id\": \"7b0f4f1e-3c55-4c59-9a51-8e2b0c2b7e11\", \"unit\": \"THANH_TRA\", "
    "\"period\": \"2018-07\", \"section\": \"result\", \"area\": \"THANH_TRA\", \"item_key\": "
    "\"tt-2018-07-kq-thanhtra-1\", \"order\": 1, \"revision\": 1, \"text\": \"tổ chức "
    "{THANHTRA_CUOC} cuộc thanh tra (đã sửa).\", \"indicators\": {\"THANHTRA_CUOC\": 2}}";

Test(provenance, an_amended_item_shows_its_new_revision_and_is_listed_as_changed)
{
    start();
    json_t *first = compile_json();
    json_t *changed = json_object_get(first, "changed_since_last_compile");
    cr_assert(json_is_null(json_object_get(changed, "last_compiled_at")));
    cr_assert_eq(json_array_size(json_object_get(changed, "items")), 14, "all new the first time");
    json_decref(first);
    json_t *again = compile_json();
    changed = json_object_get(again, "changed_since_last_compile");
    cr_assert(json_is_string(json_object_get(changed, "last_compiled_at")));
    cr_assert_eq(json_array_size(json_object_get(changed, "items")), 0, "nothing new");
    json_decref(again);
    push_json(S_AMEND);
    json_t *root = compile_json();
    json_t *s = item_sources(root, "tt-2018-07-kq-thanhtra-1");
    cr_assert_eq(json_integer_value(json_object_get(s, "revision")), 1);
    cr_assert_str_eq(str(s, "update_id"), "7b0f4f1e-3c55-4c59-9a51-8e2b0c2b7e11");
    json_t *items = json_object_get(json_object_get(root, "changed_since_last_compile"), "items");
    cr_assert_eq(json_array_size(items), 1);
    json_t *c = json_array_get(items, 0);
    cr_assert_str_eq(str(c, "item_key"), "tt-2018-07-kq-thanhtra-1");
    cr_assert_str_eq(str(c, "change"), "amended");
    cr_assert_eq(json_integer_value(json_object_get(c, "revision")), 1);
    cr_assert_eq(json_integer_value(json_object_get(c, "previous_revision")), 0);
    json_decref(root);
}

static const char S_TYPED[] =
    "{\"update_id\": \"5d7e2f0a-1b2c-4d3e-8f40-123456789abc\", \"unit\": \"CHI_CUC_TDC\", "
    "\"period\": \"2018-07\", \"section\": \"result\", \"area\": \"TDC\", \"item_key\": "
    "\"tdc-2018-07-kq-tdc-typed\", \"order\": 2, \"revision\": 0, \"text\": \"theo Kế hoạch "
    "ngày 19/7/2018, đã kiểm tra được 17/25 đơn vị.\"}";

Test(provenance, a_typed_ratio_next_to_a_measure_is_flagged_and_a_date_is_not)
{
    start();
    push_json(S_TYPED);
    json_t *root = compile_json();
    json_t *typed_list = json_object_get(root, "typed_numbers");
    cr_assert_eq(json_array_size(typed_list), 1);
    json_t *t = json_array_get(typed_list, 0);
    cr_assert_str_eq(str(t, "text"), "17/25");
    cr_assert_str_eq(str(t, "rule"), "measure");
    cr_assert_str_eq(str(t, "indicator"), "ISO_KIEMTRA", "the one with a plan of 25");
    cr_assert_str_eq(str(t, "unit"), "CHI_CUC_TDC");
    cr_assert_str_eq(str(t, "item_key"), "tdc-2018-07-kq-tdc-typed");
    cr_assert(strstr(str(t, "context"), "17/25 đơn vị"));
    json_decref(root);
}

Test(provenance, the_html_with_sources_has_the_notes_and_the_blocks_and_the_plain_html_none)
{
    start();
    push_json(S_TYPED);
    report_control_reply_t r = compile("html", true);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert(strstr(r.body, "<section class=\"sources\""));
    cr_assert(strstr(r.body, "<div class=\"missing-units\"><b>Đơn vị chưa gửi báo cáo (1)</b>"));
    cr_assert(strstr(r.body, "<li>VAN_PHONG — Văn phòng Sở</li>"));
    cr_assert(strstr(r.body, "<div class=\"changed-items\">"));
    cr_assert(strstr(r.body, "<span class=\"flag\">“17/25”</span>"));
    cr_assert(strstr(r.body, "class=\"src\""));
    cr_assert(strstr(r.body, "title=\"Nguồn: CHI_CUC_TDC · mục tdc-2018-07-kq-tdc-1 · lần sửa 0"));
    cr_assert(strstr(r.body, "{ISO_KIEMTRA.ytd} = "));
    cr_assert(strstr(r.body, "<script>"));
    cr_assert_null(strstr(r.body, "src=\""), "no external resource");
    /* kept for a look in a browser: build/test-artefacts/draft-2018-07-sources.html */
    char *dir = report_sprintf("%s/test-artefacts", REPORT_TEST_BUILD_DIR);
    mkdir(dir, 0755);
    char *path = report_sprintf("%s/draft-2018-07-sources.html", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(r.body, f);
    fclose(f);
    /* the page's own script in headless Chromium: #src-1 opens the sources of the first item
     * (QLCN's, first in the report) in the panel, as a click on it does */
    char *dom = NULL;
    int rc = test_run(&dom,
                      "profile=$(mktemp -d) && timeout 90 \"${CHROMIUM:-/usr/bin/chromium}\" "
                      "--headless --no-sandbox --disable-gpu --no-first-run "
                      "--disable-background-networking --user-data-dir=\"$profile\" "
                      "--virtual-time-budget=2000 --dump-dom 'file://%s#src-1' 2>/dev/null; "
                      "rc=$?; rm -rf \"$profile\"; exit $rc",
                      path);
    cr_assert_eq(rc, 0, "chromium failed");
    cr_assert(strstr(dom, "<div id=\"src-detail\">Nguồn: QLCN · mục qlcn-2018-07-kq-vbqppl-1"),
              "the panel did not open: %.300s",
              strstr(dom, "src-detail") ? strstr(dom, "src-detail") : "");
    free(dom);
    free(path);
    free(dir);
    report_control_reply_clear(&r);
    r = compile("html", false);
    cr_assert(r.ok);
    cr_assert_null(strstr(r.body, "class=\"src\""));
    cr_assert_null(strstr(r.body, "<script"));
    cr_assert_null(strstr(r.body, "sources"));
    report_control_reply_clear(&r);
    r = compile("text", true);
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "bad_format");
    report_control_reply_clear(&r);
}

Test(provenance, the_published_version_carries_no_sources)
{
    start();
    report_control_reply_t draft = compile("html", true);
    cr_assert(draft.ok);
    report_control_reply_clear(&draft);
    report_control_request_t req = {0};
    req.kind = REPORT_CONTROL_PUBLISH;
    req.agency_code = "";
    req.year = 2018;
    req.month = 7;
    req.format = "";
    req.number = 588;
    req.date = "2018-07-19";
    req.basis = TEST_BASIS;
    req.force = true; /* the format check has its own tests */
    report_control_reply_t r;
    report_client_keys_t keys = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &keys, &req, &r, 60000), 0);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert_null(strstr(r.report->html, "class=\"src\""));
    cr_assert_null(strstr(r.report->html, "<script"));
    cr_assert_null(strstr(r.report->json, "\"sources\""));
    cr_assert_null(strstr(r.report->json, "typed_numbers"));
    report_control_reply_clear(&r);
}
