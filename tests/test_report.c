/* The aggregator end to end: units push through a real collector and store into a real
 * PostgreSQL; the aggregator compiles, publishes and serves catch-up on real sockets;
 * subscribers receive and keep the files. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_codec.h"
#include "report_push.h"
#include "report_db.h"
#include "report_json.h"
#include "report_period.h"
#include "report_subscriber.h"
#include "report_util.h"
#include "report_zap.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static const char *BASIS = TEST_BASIS;

static test_stack_t stack;
static report_aggregator_t *agg;
static char inbox[256];

static void teardown(void)
{
    report_aggregator_stop(&agg);
    test_stack_stop(&stack);
    if (inbox[0]) {
        char *cmd = report_sprintf("rm -rf '%s'", inbox);
        int rc = system(cmd);
        (void)rc;
        free(cmd);
    }
}

TestSuite(report, .fini = teardown, .timeout = 120);

static void start(void)
{
    test_stack_start(&stack, NULL, 1);
    agg = test_aggregator_start(&stack, NULL);
    snprintf(inbox, sizeof inbox, "/tmp/report-test-inbox-%d-%u", (int)getpid(),
             report_random(1000000));
}

static void push_list(report_update_t **list, size_t n)
{
    report_reply_t *replies = report_calloc(n ? n : 1, sizeof *replies);
    int rc = test_push(&stack, list, n, replies);
    for (size_t i = 0; i < n; i++)
        cr_assert(replies[i].outcome == REPORT_OUTCOME_STORED ||
                      replies[i].outcome == REPORT_OUTCOME_DUPLICATE,
                  "%s: %s %s", list[i]->item_key, report_reason_name(replies[i].reason),
                  replies[i].message);
    cr_assert_eq(rc, 0);
    free(replies);
}

static void push_json(const char *json)
{
    report_update_t **list;
    size_t n;
    char err[256];
    cr_assert_eq(report_json_parse_updates(json, strlen(json), &list, &n, err, sizeof err), 0, "%s",
                 err);
    push_list(list, n);
    report_updates_free(list, n);
}

/* Compiles a period; returns the reply (caller clears). */
static report_control_reply_t control(report_control_kind_t kind, int year, int month,
                                      const char *format, int number, const char *date,
                                      const char *basis)
{
    report_control_request_t req = {0};
    req.kind = kind;
    req.agency_code = "";
    req.year = year;
    req.month = month;
    req.format = (char *)format;
    req.number = number;
    req.date = (char *)date;
    req.basis = (char *)basis;
    /* these tests are about publication itself, on months made small on purpose (no next
     * task, say): the format check has its own tests (test_report_check, test_report_pdf) */
    req.force = true;
    report_control_reply_t reply;
    report_client_keys_t keys = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &keys, &req, &reply, 30000), 0,
        "no answer from the aggregator");
    return reply;
}

static char *compile_text(int year, int month)
{
    report_control_reply_t r = control(REPORT_CONTROL_COMPILE, year, month, "text", 0, "", "");
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    char *body = report_strdup(r.body);
    report_control_reply_clear(&r);
    return body;
}

/* True if every line of expected appears in actual as a whole line, in order. */
static bool lines_in_order(const char *actual, const char *expected, char *missing, size_t size)
{
    const char *a = actual;
    const char *e = expected;
    while (*e) {
        const char *eol = strchr(e, '\n');
        size_t len = eol ? (size_t)(eol - e) : strlen(e);
        bool found = false;
        while (*a && !found) {
            const char *aeol = strchr(a, '\n');
            size_t alen = aeol ? (size_t)(aeol - a) : strlen(a);
            found = alen == len && memcmp(a, e, len) == 0;
            a = aeol ? aeol + 1 : a + alen;
        }
        if (!found) {
            snprintf(missing, size, "%.*s", (int)len, e);
            return false;
        }
        e = eol ? eol + 1 : e + len;
    }
    return true;
}

static int run_subscriber(bool once, int count, int deadline_ms)
{
    report_subscriber_config_t cfg;
    report_subscriber_config_default(&cfg);
    cfg.publish_endpoint = report_aggregator_publish_endpoint(agg);
    cfg.catchup_endpoint = report_aggregator_catchup_endpoint(agg);
    cfg.out_dir = inbox;
    cfg.once = once;
    cfg.max_reports = count;
    cfg.deadline_ms = deadline_ms;
    cfg.quiet = true;
    cfg.keys = test_client_keys("leader");
    volatile sig_atomic_t stop = 0;
    return report_subscriber_run(&cfg, &stop);
}

static char *inbox_file(const char *name)
{
    char *path = report_sprintf("%s/%s", inbox, name);
    char *data = test_read_file(path);
    free(path);
    return data;
}

Test(report, golden_july_2018_from_the_real_pipeline)
{
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t r =
        control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert_eq(r.report->version, 1);
    cr_assert_eq(r.report->number, 588);
    report_control_reply_clear(&r);
    /* A late subscriber catches up and keeps the files. */
    cr_assert_eq(run_subscriber(true, 0, 20000), 1);
    char *text = inbox_file("SKHCN-2018-07-v1.txt");
    cr_assert_not_null(text);
    char *golden_path = test_repo_path("tests/golden/bao-cao-588-BC-SKHCN-2018-07.txt");
    char *golden = test_read_file(golden_path);
    cr_assert_not_null(golden);
    char missing[512];
    cr_assert(lines_in_order(text, golden, missing, sizeof missing),
              "golden line missing or out of order: %s", missing);
    /* Only the header lines lost in the extraction were added. */
    size_t text_lines = 0, golden_lines = 0;
    for (const char *p = text; *p; p++)
        text_lines += *p == '\n';
    for (const char *p = golden; *p; p++)
        golden_lines += *p == '\n';
    cr_assert_eq(text_lines, golden_lines + 4);
    cr_assert(strstr(text, "UBND TỈNH CAO BẰNG\nSỞ KHOA HỌC VÀ CÔNG NGHỆ\nSố: 588/BC-SKHCN\n"));
    char *html = inbox_file("SKHCN-2018-07-v1.html");
    char *json = inbox_file("SKHCN-2018-07-v1.json");
    cr_assert(html && strstr(html, "KH&amp;CN"));
    cr_assert_not_null(json);
    json_error_t jerr;
    json_t *doc = json_loads(json, 0, &jerr);
    cr_assert_not_null(doc, "%s", jerr.text);
    cr_assert_eq(json_integer_value(json_object_get(doc, "number")), 588);
    cr_assert_eq(json_integer_value(json_object_get(doc, "version")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "agency_code")), "SKHCN");
    json_decref(doc);
    free(html);
    free(json);
    free(golden);
    free(golden_path);
    free(text);
}

Test(report, publish_then_the_subscriber_file_equals_the_compiled_text)
{
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t draft =
        control(REPORT_CONTROL_COMPILE, 2018, 7, "text", 588, "2018-07-19", BASIS);
    cr_assert(draft.ok);
    report_control_reply_t r =
        control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert(r.ok, "%s", r.message);
    cr_assert_str_eq(r.report->text, draft.body);
    cr_assert_eq(run_subscriber(false, 1, 20000), 1);
    char *text = inbox_file("SKHCN-2018-07-v1.txt");
    cr_assert_str_eq(text, draft.body);
    free(text);
    report_control_reply_clear(&r);
    report_control_reply_clear(&draft);
}

typedef struct {
    int saved;
} s_sub_result_t;

static void *s_subscriber_thread(void *arg)
{
    s_sub_result_t *res = arg;
    res->saved = run_subscriber(false, 1, 30000);
    return NULL;
}

Test(report, an_online_subscriber_receives_the_publication)
{
    start();
    test_push_samples(&stack, 7);
    pthread_t th;
    s_sub_result_t res = {-2};
    cr_assert_eq(pthread_create(&th, NULL, s_subscriber_thread, &res), 0);
    usleep(500 * 1000); /* let it connect and finish its first catch-up */
    report_control_reply_t r =
        control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert(r.ok, "%s", r.message);
    pthread_join(th, NULL);
    cr_assert_eq(res.saved, 1);
    char *text = inbox_file("SKHCN-2018-07-v1.txt");
    cr_assert_str_eq(text, r.report->text);
    free(text);
    report_control_reply_clear(&r);
}

Test(report, a_subscriber_offline_for_two_publications_catches_up_from_its_last_seq)
{
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_PUBLISH, 2018, 6, "", 500, "2018-06-20", "");
    cr_assert(r.ok, "%s", r.message);
    report_control_reply_clear(&r);
    cr_assert_eq(run_subscriber(true, 0, 20000), 1); /* has seq 1 */
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_PUBLISH, 2018, 5, "", 420, "2018-05-20", "");
    report_control_reply_clear(&r);
    cr_assert_eq(run_subscriber(true, 0, 20000), 2, "only what it missed");
    char *state = inbox_file(".last-seq");
    cr_assert_str_eq(state, "3\n");
    free(state);
    char *may = inbox_file("SKHCN-2018-05-v1.txt");
    cr_assert_not_null(may);
    free(may);
}

Test(report, a_gap_in_the_sequence_left_by_a_rolled_back_publish_does_not_stop_subscribers)
{
    /* a publish rolled back after taking its seq (db_retry, an aggregator killed in the
     * transaction) leaves a gap no report fills: the next report must still be applied */
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_PUBLISH, 2018, 6, "", 500, "2018-06-20", "");
    cr_assert(r.ok, "%s", r.message);
    report_control_reply_clear(&r);
    cr_assert_eq(run_subscriber(true, 0, 20000), 1);                        /* has seq 1 */
    test_db_exec(&stack.db, "SELECT nextval('published_reports_seq_seq')"); /* seq 2: never */
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert(r.ok, "%s", r.message);
    report_control_reply_clear(&r);
    cr_assert_eq(run_subscriber(true, 0, 20000), 1, "the report after the gap");
    char *state = inbox_file(".last-seq");
    cr_assert_str_eq(state, "3\n");
    free(state);
    char *july = inbox_file("SKHCN-2018-07-v1.txt");
    cr_assert_not_null(july);
    free(july);
}

Test(report, amend_creates_version_2_and_version_1_stays_retrievable)
{
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t r =
        control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert(r.ok);
    report_control_reply_clear(&r);
    /* Thanh tra amends its item: revision 1 replaces revision 0. */
    push_json("{\"update_id\": \"7b0f4f1e-3c55-4c59-9a51-8e2b0c2b7e11\", \"unit\": "
              "\"THANH_TRA\", \"period\": \"2018-07\", \"section\": \"result\", \"area\": "
              "\"THANH_TRA\", \"item_key\": \"tt-2018-07-kq-thanhtra-1\", \"order\": 1, "
              "\"revision\": 1, \"text\": \"tổ chức {THANHTRA_CUOC} cuộc thanh tra (đã sửa).\", "
              "\"indicators\": {\"THANHTRA_CUOC\": 2}}");
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-25", BASIS);
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "duplicate_number");
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 601, "2018-07-25", BASIS);
    cr_assert(r.ok, "%s", r.message);
    cr_assert_eq(r.report->version, 2);
    cr_assert(
        strstr(r.report->text, "- Về công tác thanh tra: tổ chức 02 cuộc thanh tra (đã sửa).\n"));
    report_control_reply_clear(&r);
    cr_assert_eq(run_subscriber(true, 0, 20000), 2);
    char *v1 = inbox_file("SKHCN-2018-07-v1.txt");
    char *v2 = inbox_file("SKHCN-2018-07-v2.txt");
    cr_assert(v1 && strstr(v1, "tổ chức triển khai 01 cuộc thanh tra chuyên đề"));
    cr_assert(v2 && !strstr(v2, "tổ chức triển khai 01 cuộc thanh tra chuyên đề"));
    cr_assert(strstr(v2, "Số: 601/BC-SKHCN"));
    free(v1);
    free(v2);
    char *versions = test_db_value(&stack.db, "SELECT string_agg(version || ':' || number, ',' "
                                              "ORDER BY version) FROM published_reports");
    cr_assert_str_eq(versions, "1:588,2:601");
    free(versions);
}

Test(report, a_duplicate_number_in_the_same_year_is_refused)
{
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_PUBLISH, 2018, 6, "", 588, "2018-06-19", "");
    cr_assert(r.ok);
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "duplicate_number");
    cr_assert(strstr(r.message, "2018-06"), "%s", r.message);
    report_control_reply_clear(&r);
    /* the same number in another year is fine: numbering restarts each year */
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2019-01-05", BASIS);
    cr_assert(r.ok, "%s", r.message);
    cr_assert(strstr(r.report->text, "Cao Bằng, ngày 05 tháng 01 năm 2019\n"));
    report_control_reply_clear(&r);
    char *n = test_db_value(&stack.db, "SELECT count(*) FROM published_reports");
    cr_assert_str_eq(n, "2");
    free(n);
}

Test(report, a_month_with_no_updates_is_a_clear_error)
{
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_COMPILE, 2018, 9, "text", 0, "", "");
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "no_updates");
    cr_assert(strstr(r.message, "2018-09"));
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_PUBLISH, 2018, 9, "", 900, "2018-09-19", "");
    cr_assert_str_eq(r.error_code, "no_updates");
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 0, "2018-09-19", "");
    cr_assert_str_eq(r.error_code, "bad_number");
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 5, "2018-02-30", "");
    cr_assert_str_eq(r.error_code, "bad_date");
    report_control_reply_clear(&r);
    char *n = test_db_value(&stack.db, "SELECT count(*) FROM published_reports");
    cr_assert_str_eq(n, "0");
    free(n);
}

static const char *item(const char *id, const char *unit, const char *section, const char *area,
                        const char *key, int order, int revision, const char *text,
                        const char *extra)
{
    static char buf[8][1024];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, 1024,
             "{\"update_id\": \"%s\", \"unit\": \"%s\", \"period\": \"2018-07\", \"section\": "
             "\"%s\", \"area\": \"%s\", \"item_key\": \"%s\", \"order\": %d, \"revision\": %d, "
             "\"text\": \"%s\"%s}",
             id, unit, section, area, key, order, revision, text, extra);
    return b;
}

Test(report, grouping_and_ordering_follow_the_template_and_the_units_not_arrival)
{
    start();
    /* Pushed in the reverse of the report's order. */
    char *json =
        report_sprintf("[%s, %s, %s, %s, %s]",
                       item("00000000-0000-4000-8000-000000000001", "THANH_TRA", "next_task",
                            "THANH_TRA", "n2", 1, 0, "nhiệm vụ thanh tra", ""),
                       item("00000000-0000-4000-8000-000000000002", "QLKH", "next_task", "NHIEM_VU",
                            "n1", 1, 0, "nhiệm vụ khoa học", ""),
                       item("00000000-0000-4000-8000-000000000003", "THANH_TRA", "result",
                            "THANH_TRA", "t1", 1, 0, "một cuộc thanh tra.", ""),
                       item("00000000-0000-4000-8000-000000000004", "QLKH", "result", "NHIEM_VU",
                            "k2", 2, 0, "việc thứ hai.", ""),
                       item("00000000-0000-4000-8000-000000000005", "QLKH", "result", "NHIEM_VU",
                            "k1", 1, 0, "việc thứ nhất.", ""));
    push_json(json);
    free(json);
    char *text = compile_text(2018, 7);
    const char *expected = "- Về công tác quản lý đối với các nhiệm vụ KH&CN trên địa bàn tỉnh:\n\n"
                           "+ việc thứ nhất.\n\n"
                           "+ việc thứ hai.\n\n"
                           "- Về công tác thanh tra: một cuộc thanh tra.\n\n";
    cr_assert(strstr(text, expected), "%s", text);
    char *n1 = strstr(text, "- nhiệm vụ khoa học");
    char *n2 = strstr(text, "- nhiệm vụ thanh tra");
    cr_assert(n1 && n2 && n1 < n2, "%s", text);
    /* an area with no items is left out, and there are no limitations: no 1.b */
    cr_assert_null(strstr(text, "thẩm định sáng kiến"));
    cr_assert_null(strstr(text, "b) Hạn chế"));
    free(text);
}

Test(report, amended_items_are_replaced_and_withdrawn_items_left_out)
{
    start();
    char *json = report_sprintf(
        "[%s, %s, %s]",
        item("00000000-0000-4000-8000-0000000000a1", "TT_TTUD", "result", "THONG_TIN", "tin", 1, 0,
             "đăng tải {TIN_BAI} tin, bài.", ", \"indicators\": {\"TIN_BAI\": 20}"),
        item("00000000-0000-4000-8000-0000000000a2", "TT_TTUD", "result", "THONG_TIN", "phong-su",
             2, 0, "thực hiện {PHONGSU} phóng sự.", ", \"indicators\": {\"PHONGSU\": 1}"),
        item("00000000-0000-4000-8000-0000000000a3", "THANH_TRA", "result", "THANH_TRA", "tt", 1, 0,
             "thanh tra.", ""));
    push_json(json);
    free(json);
    /* amendment: revision 1 of "tin" with a new figure; withdrawal of "phong-su" */
    json = report_sprintf("[%s, %s]",
                          item("00000000-0000-4000-8000-0000000000b1", "TT_TTUD", "result",
                               "THONG_TIN", "tin", 1, 1,
                               "cập nhật, đăng tải {TIN_BAI} tin, bài (số liệu đã sửa).",
                               ", \"indicators\": {\"TIN_BAI\": 29}"),
                          item("00000000-0000-4000-8000-0000000000b2", "TT_TTUD", "result",
                               "THONG_TIN", "phong-su", 2, 1, "", ", \"withdrawn\": true"));
    push_json(json);
    free(json);
    char *text = compile_text(2018, 7);
    cr_assert(strstr(text, "- Hoạt động thông tin, tuyên truyền về KH&CN: cập nhật, đăng tải 29 "
                           "tin, bài (số liệu đã sửa).\n"),
              "%s", text);
    cr_assert_null(strstr(text, "phóng sự"));
    cr_assert_null(strstr(text, "đăng tải 20"));
    free(text);
    /* a late revision 0 resend (arriving after revision 1) does not win */
    json = report_sprintf("[%s]", item("00000000-0000-4000-8000-0000000000c1", "TT_TTUD", "result",
                                       "THONG_TIN", "tin", 1, 0, "bản cũ.", ""));
    push_json(json);
    free(json);
    text = compile_text(2018, 7);
    cr_assert_null(strstr(text, "bản cũ."));
    free(text);
    /* item_heads, which the compile reads, holds exactly the rows of current_items */
    char *diff = test_db_value(
        &stack.db, "SELECT count(*) FROM ((SELECT year, month, unit_code, item_key, seq, withdrawn"
                   " FROM current_items EXCEPT SELECT year, month, unit_code, item_key, seq,"
                   " withdrawn FROM item_heads) UNION ALL (SELECT year, month, unit_code,"
                   " item_key, seq, withdrawn FROM item_heads EXCEPT SELECT year, month,"
                   " unit_code, item_key, seq, withdrawn FROM current_items)) d");
    cr_assert_str_eq(diff, "0");
    free(diff);
    char *heads = test_db_value(&stack.db, "SELECT count(*) FROM item_heads");
    cr_assert_str_eq(heads, "3");
    free(heads);
}

Test(report, year_to_date_and_percentage_with_gaps_in_the_history)
{
    start();
    /* PHONGSU (plan 12 in 2018): 2 in January, nothing in February to April, 1 in May,
     * an amended June (3 replaced by 2); July 1 -> YTD 6, 6/12 = 50%.
     * ISO_KIEMTRA (plan 25): July 9 only -> 09, 9/25 = 36%. */
    const char *months[] = {"2018-01", "2018-05", "2018-06", "2018-06", "2018-07"};
    const int values[] = {2, 1, 3, 2, 1};
    const int revisions[] = {0, 0, 0, 1, 0};
    for (int i = 0; i < 5; i++) {
        char *json = report_sprintf(
            "{\"update_id\": \"00000000-0000-4000-8000-0000000001%02d\", \"unit\": \"TT_TTUD\", "
            "\"period\": \"%s\", \"section\": \"result\", \"area\": \"THONG_TIN\", \"item_key\": "
            "\"ps\", \"revision\": %d, \"text\": \"{PHONGSU} phóng sự; lũy kế {PHONGSU.ytd}/"
            "{PHONGSU.plan}, đạt {PHONGSU.pct}.\", \"indicators\": {\"PHONGSU\": %d}}",
            i, months[i], revisions[i], values[i]);
        push_json(json);
        free(json);
    }
    push_json("{\"update_id\": \"00000000-0000-4000-8000-000000000200\", \"unit\": "
              "\"CHI_CUC_TDC\", \"period\": \"2018-07\", \"section\": \"result\", \"area\": "
              "\"TDC\", \"item_key\": \"iso\", \"text\": \"kiểm tra {ISO_KIEMTRA} cơ quan "
              "({ISO_KIEMTRA.ytd}/{ISO_KIEMTRA.plan}, đạt {ISO_KIEMTRA.pct}); {DETAI_MOI} đề tài "
              "mới không có kế hoạch: {DETAI_MOI.pct}.\", \"indicators\": {\"ISO_KIEMTRA\": 9}}");
    char *text = compile_text(2018, 7);
    cr_assert(strstr(text, "01 phóng sự; lũy kế 06/12, đạt 50%."), "%s", text);
    cr_assert(strstr(text, "kiểm tra 09 cơ quan (09/25, đạt 36%)"), "%s", text);
    free(text);
    /* one decimal when not exact: June, YTD 2+1+2 = 5 of 12 = 41,7% */
    text = compile_text(2018, 6);
    cr_assert(strstr(text, "02 phóng sự; lũy kế 05/12, đạt 41,7%."), "%s", text);
    free(text);
    /* a placeholder without a plan stays visible and is reported as a warning */
    report_control_reply_t r = control(REPORT_CONTROL_COMPILE, 2018, 7, "text", 0, "", "");
    cr_assert(strstr(r.body, "{DETAI_MOI.pct}"));
    bool warned = false;
    for (size_t i = 0; i < r.warning_count; i++)
        warned |= strstr(r.warnings[i], "DETAI_MOI") != NULL;
    cr_assert(warned);
    report_control_reply_clear(&r);
}

Test(report, missing_units_are_listed_outside_the_report)
{
    start();
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_COMPILE, 2018, 7, "text", 0, "", "");
    cr_assert(r.ok);
    cr_assert_eq(r.missing_count, 1);
    cr_assert_str_eq(r.missing_units[0], "VAN_PHONG\tVăn phòng Sở");
    cr_assert_null(strstr(r.body, "VAN_PHONG"));
    /* a draft leaves number and day blank */
    cr_assert(strstr(r.body, "Số:      /BC-SKHCN\n"));
    cr_assert(strstr(r.body, "Cao Bằng, ngày      tháng      năm 2018\n"));
    cr_assert(strstr(r.body, "Thực hiện chế độ báo cáo định kỳ, Sở Khoa học"));
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_COMPILE, 2018, 7, "html", 0, "", "");
    cr_assert(r.ok && strstr(r.body, "<!DOCTYPE html>") && strstr(r.body, "A4"));
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_COMPILE, 2018, 7, "docx", 0, "", "");
    cr_assert_str_eq(r.error_code, "bad_format");
    report_control_reply_clear(&r);
}

Test(report, december_report_crosses_the_year_and_the_cutoff_rule_sets_the_period)
{
    start();
    push_json("{\"update_id\": \"00000000-0000-4000-8000-000000000300\", \"unit\": \"THANH_TRA\","
              " \"period\": \"2018-12\", \"section\": \"result\", \"area\": \"THANH_TRA\", "
              "\"item_key\": \"dec\", \"text\": \"một cuộc thanh tra.\"}");
    char *text = compile_text(2018, 12);
    cr_assert(strstr(text, "Kết quả hoạt động khoa học và công nghệ tháng 12 năm 2018 và nhiệm vụ "
                           "công tác tháng 01 năm 2019\n"),
              "%s", text);
    cr_assert(strstr(text, "2. Phương hướng, nhiệm vụ KH&CN trọng tâm trong tháng 01 năm 2019\n"));
    free(text);
    /* The agency moves to the cut-off rule (Nghị định 09/2019): data from the 15th of the
     * previous month to the 14th; the template says so with {period_start}/{period_end}. */
    test_db_exec(&stack.db, "UPDATE report_templates SET period_rule = 'cutoff', cutoff_day = 14,"
                            " section1a_intro = 'Số liệu từ ngày {period_start} đến ngày "
                            "{period_end}:'");
    text = compile_text(2018, 12);
    cr_assert(strstr(text, "\nSố liệu từ ngày 15/11/2018 đến ngày 14/12/2018:\n"), "%s", text);
    free(text);
    test_db_exec(&stack.db, "UPDATE report_templates SET period_rule = 'calendar'");
    text = compile_text(2018, 12);
    cr_assert(strstr(text, "\nSố liệu từ ngày 01/12/2018 đến ngày 31/12/2018:\n"), "%s", text);
    free(text);
}

Test(period, rules)
{
    report_period_rule_t cal = {false, 14}, cut = {true, 14};
    int y, m;
    report_period_of_date(&cal, 2019, 7, 20, &y, &m);
    cr_assert(y == 2019 && m == 7);
    report_period_of_date(&cut, 2019, 7, 14, &y, &m);
    cr_assert(y == 2019 && m == 7);
    report_period_of_date(&cut, 2019, 7, 15, &y, &m);
    cr_assert(y == 2019 && m == 8);
    report_period_of_date(&cut, 2019, 12, 20, &y, &m);
    cr_assert(y == 2020 && m == 1);
    int y0, m0, d0, y1, m1, d1;
    report_period_range(&cut, 2020, 1, &y0, &m0, &d0, &y1, &m1, &d1);
    cr_assert(y0 == 2019 && m0 == 12 && d0 == 15 && y1 == 2020 && m1 == 1 && d1 == 14);
    report_period_range(&cal, 2020, 2, &y0, &m0, &d0, &y1, &m1, &d1);
    cr_assert(d0 == 1 && d1 == 29, "leap February");
    cr_assert_eq(report_period_parse("2018-13", &y, &m), -1);
    cr_assert_eq(report_period_parse("2018-7", &y, &m), -1);
    cr_assert_eq(report_period_parse("2018-07", &y, &m), 0);
    int d;
    cr_assert_eq(report_date_parse("2019-02-29", &y, &m, &d), -1);
    cr_assert_eq(report_date_parse("2020-02-29", &y, &m, &d), 0);
}

/* Issue 8, the store's lock defect in the aggregator: a publish waiting on a lock held by a
 * stuck session is answered db_retry within lock-timeout-ms (rolled back, nothing
 * published), instead of holding the aggregator until the session ends; once the lock is
 * gone the same command publishes. */
Test(report, a_publish_behind_a_stuck_lock_is_answered_db_retry)
{
    start();
    test_push_samples(&stack, 7);
    report_db_t *stuck = report_db_new(stack.db.conninfo);
    cr_assert_eq(report_db_connect(stuck), 0);
    cr_assert_eq(report_db_exec(stuck, "SELECT pg_advisory_lock(hashtext('SKHCN'))"), 0);
    int64_t t0 = report_clock_ms();
    report_control_reply_t r =
        control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    int64_t waited = report_clock_ms() - t0;
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "db_retry", "%s: %s", r.error_code, r.message);
    cr_assert_lt(waited, 20000, "the publish waited %lld ms", (long long)waited);
    report_control_reply_clear(&r);
    char *n = test_db_value(&stack.db, "SELECT count(*) FROM published_reports");
    cr_assert_str_eq(n, "0");
    free(n);
    report_db_destroy(&stuck); /* the session ends, and its lock with it */
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
}

/* --- delivery: notices on PUB, content by catch-up, receipts --- */

/* The aggregator's view of recipient name, polled until cond holds or 10 s pass. */
static report_recipient_state_t recipient_state(const char *name, uint64_t acked_at_least)
{
    report_aggregator_stats_t *st = report_malloc(sizeof *st);
    report_recipient_state_t found = {{0}, 0, UINT64_MAX};
    for (int i = 0; i < 100; i++) {
        report_aggregator_stats(agg, st);
        for (size_t k = 0; k < st->recipient_count; k++)
            if (strcmp(st->recipients[k].name, name) == 0)
                found = st->recipients[k];
        if (found.undelivered != UINT64_MAX && found.acked_seq >= acked_at_least)
            break;
        usleep(100 * 1000);
    }
    free(st);
    return found;
}

Test(report, receipts_notices_and_revocation)
{
    start();
    test_push_samples(&stack, 7);
    /* a subscriber on PUB gets a notice only: which publication, no content */
    void *ctx = zmq_ctx_new(), *sub = zmq_socket(ctx, ZMQ_SUB);
    report_client_keys_t leader = test_client_keys("leader");
    report_curve_client(sub, leader.server_public, &leader.client);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_connect(sub, report_aggregator_publish_endpoint(agg));
    usleep(500 * 1000);
    report_control_reply_t r =
        control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 588, "2018-07-19", BASIS);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    zmq_msg_t topic, body;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    int timeout = 10000;
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    cr_assert_geq(zmq_msg_recv(&topic, sub, 0), 0, "no notice on PUB");
    cr_assert_geq(zmq_msg_recv(&body, sub, 0), 0);
    report_published_t *notice = report_published_decode(zmq_msg_data(&body), zmq_msg_size(&body));
    cr_assert_not_null(notice);
    cr_assert_eq(notice->seq, 1);
    cr_assert_str_eq(notice->text, "", "a notice carries no text");
    cr_assert_eq(notice->year, 0, "nor the period");
    cr_assert_eq(notice->version, 0);
    cr_assert_eq(zmq_msg_size(&topic), strlen("SKHCN/"));
    cr_assert_null(notice->pdf);
    report_published_destroy(&notice);
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    zmq_close(sub);
    zmq_ctx_term(ctx);
    /* the subscriber fetches it and its receipt is recorded; a recipient enrolled later who
     * never asked has it undelivered */
    test_enrol("recipient", "deputy");
    cr_assert_eq(run_subscriber(true, 0, 20000), 1);
    report_recipient_state_t st = recipient_state("leader", 1);
    cr_assert_eq(st.acked_seq, 1);
    cr_assert_eq(st.undelivered, 0);
    st = recipient_state("deputy", 0);
    cr_assert_eq(st.acked_seq, 0);
    cr_assert_eq(st.undelivered, 1);
    test_db_assert_value(
        &stack.db, "SELECT acked_seq FROM recipient_receipts WHERE recipient = 'leader'", "1");
    /* revoked: nothing more, from the next request on */
    report_error_t err;
    cr_assert_eq(report_keys_revoke(test_keys_dir(), "recipient", "leader", &err), 0, "%s",
                 err.message);
    r = control(REPORT_CONTROL_PUBLISH, 2018, 7, "", 589, "2018-07-20", BASIS);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    cr_assert_eq(run_subscriber(true, 0, 3000), -1, "a revoked recipient got an answer");
    cr_assert_null(inbox_file("SKHCN-2018-07-v2.txt"));
    test_enrol("recipient", "leader"); /* a new key, for the tests after this one */
}
