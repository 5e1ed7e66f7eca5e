/* The units' desk: the aggregator's desk endpoint answers a unit with its own items only
 * (real PostgreSQL, real CURVE keys, the real collector, store and aggregator), and
 * `reportctl desk` in headless Chromium (tests/browser/check_desk.sh). */
#define _DEFAULT_SOURCE
#include "report_aggregator.h"
#include "report_desk_call.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TIMEOUT_MS 5000

static report_aggregator_t *start_aggregator(test_stack_t *stack)
{
    report_aggregator_config_t cfg;
    test_aggregator_config(stack, &cfg);
    cfg.desk_endpoint = "tcp://127.0.0.1:*";
    return test_aggregator_start_config(&cfg);
}

/* The state of period for who, as JSON (NULL if no answer came). */
static json_t *desk_state(report_aggregator_t *agg, const char *who, const char *period,
                          report_desk_reply_t *reply)
{
    report_client_keys_t keys = test_client_keys(who);
    report_desk_request_t req = {.kind = "state", .period = (char *)period};
    if (report_desk_call(report_aggregator_desk_endpoint(agg), &keys, &req, reply, 2000) != 0)
        return NULL;
    return reply->ok ? json_loads(reply->json, 0, NULL) : json_object();
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The update ids of the items in state, sorted, comma-separated (caller frees). */
static char *item_ids(json_t *state)
{
    json_t *items = json_object_get(state, "items");
    size_t n = json_array_size(items);
    char **ids = report_calloc(n + 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = (char *)json_string_value(json_object_get(json_array_get(items, i), "update_id"));
    qsort(ids, n, sizeof *ids, by_text);
    report_buf_t out;
    report_buf_init(&out);
    for (size_t i = 0; i < n; i++)
        report_buf_printf(&out, "%s%s", i ? "," : "", ids[i]);
    free(ids);
    return report_buf_take(&out);
}

/* What the database holds as the unit's current items of July 2018. */
static char *db_item_ids(test_stack_t *stack, const char *unit)
{
    char *sql = report_sprintf(
        "SELECT coalesce(string_agg(u.update_id::text, ',' ORDER BY u.update_id::text), '')"
        "  FROM item_heads h JOIN updates u ON u.seq = h.seq"
        " WHERE h.unit_code = '%s' AND h.year = 2018 AND h.month = 7",
        unit);
    char *ids = test_db_value(&stack->db, sql);
    free(sql);
    return ids;
}

Test(desk, a_unit_sees_only_its_own_items, .timeout = 120)
{
    test_stack_t stack;
    test_stack_start(&stack, NULL, 1);
    test_push_samples(&stack, 7);
    report_aggregator_t *agg = start_aggregator(&stack);
    const char *units[2] = {"QLKH", "THANH_TRA"};
    for (int u = 0; u < 2; u++) {
        report_desk_reply_t reply;
        json_t *state = desk_state(agg, units[u], "2018-07", &reply);
        cr_assert_not_null(state, "%s: no answer", units[u]);
        cr_assert(reply.ok, "%s: %s %s", units[u], reply.error_code, reply.message);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(state, "unit"), "code")),
                         units[u]);
        char *got = item_ids(state), *want = db_item_ids(&stack, units[u]);
        cr_assert_neq(strlen(want), 0);
        cr_assert_str_eq(got, want, "%s sees other items than its own", units[u]);
        cr_assert_gt(json_array_size(json_object_get(state, "indicators")), 0);
        cr_assert_gt(json_array_size(json_object_get(state, "areas")), 0);
        free(got);
        free(want);
        json_decref(state);
        report_desk_reply_clear(&reply);
    }
    /* A key enrolled nowhere is refused at the handshake: nothing comes back. */
    test_enrol("recipient", "stranger");
    report_desk_reply_t reply;
    cr_assert_null(desk_state(agg, "stranger", "2018-07", &reply), "an unknown key got an answer");
    /* A unit enrolled by key but not in the catalogue gets a refusal, no items. */
    test_enrol("unit", "NOT_IN_CATALOGUE");
    json_t *none = desk_state(agg, "NOT_IN_CATALOGUE", "2018-07", &reply);
    cr_assert_not_null(none);
    cr_assert_not(reply.ok);
    cr_assert_str_eq(reply.error_code, "unknown_unit");
    json_decref(none);
    report_desk_reply_clear(&reply);
    report_aggregator_stop(&agg);
    test_stack_stop(&stack);
}

Test(desk, preview_and_bad_requests, .timeout = 120)
{
    test_stack_t stack;
    test_stack_start(&stack, NULL, 1);
    test_push_samples(&stack, 7);
    report_aggregator_t *agg = start_aggregator(&stack);
    report_client_keys_t keys = test_client_keys("THANH_TRA");
    report_desk_value_t value = {"THANHTRA_CUOC", 2};
    report_desk_request_t req = {
        .kind = "preview",
        .period = "2018-07",
        .text = "Tiến hành {THANHTRA_CUOC} cuộc thanh tra, đạt {THANHTRA_CUOC.pct} Kế hoạch.",
        .values = &value,
        .value_count = 1};
    report_desk_reply_t reply;
    cr_assert_eq(
        report_desk_call(report_aggregator_desk_endpoint(agg), &keys, &req, &reply, TIMEOUT_MS), 0);
    cr_assert(reply.ok, "%s %s", reply.error_code, reply.message);
    /* the month's 01 stored (the sample) and the form's 2: printed as the report prints it */
    cr_assert(strstr(reply.json, "Tiến hành 03 cuộc thanh tra, đạt "), "%s", reply.json);
    cr_assert(strstr(reply.json, "\"unfilled\":0"), "%s", reply.json);
    report_desk_reply_clear(&reply);
    /* Refusals are answered with a code, and the endpoint goes on answering. */
    const char *bad[3][2] = {{"state", "2018-13"}, {"drop", "2018-07"}, {"state", "July"}};
    const char *codes[3] = {"bad_period", "bad_request", "bad_period"};
    for (int i = 0; i < 3; i++) {
        report_desk_request_t b = {.kind = (char *)bad[i][0], .period = (char *)bad[i][1]};
        cr_assert_eq(
            report_desk_call(report_aggregator_desk_endpoint(agg), &keys, &b, &reply, TIMEOUT_MS),
            0);
        cr_assert_not(reply.ok);
        cr_assert_str_eq(reply.error_code, codes[i]);
        report_desk_reply_clear(&reply);
    }
    report_desk_request_t bidi = {.kind = "preview", .period = "2018-07", .text = "a\u202Eb"};
    cr_assert_eq(
        report_desk_call(report_aggregator_desk_endpoint(agg), &keys, &bidi, &reply, TIMEOUT_MS),
        0);
    cr_assert_str_eq(reply.error_code, "forbidden_char");
    report_desk_reply_clear(&reply);
    report_aggregator_stop(&agg);
    test_stack_stop(&stack);
}

/* --- the page, in headless Chromium --- */

/* Waits for `reportctl desk` to print its URL into log; the URL (caller frees). */
static char *desk_url(const char *log)
{
    for (int i = 0; i < 100; i++) {
        char *text = test_read_file(log);
        char *at = text ? strstr(text, "http://127.0.0.1:") : NULL;
        if (at) {
            char *url = report_strndup(at, strcspn(at, " \n"));
            free(text);
            return url;
        }
        free(text);
        usleep(100 * 1000);
    }
    cr_assert_fail("reportctl desk printed no URL");
    return NULL;
}

/* A field of the script's JSON summary, or "". */
static const char *field(json_t *doc, const char *name)
{
    const char *v = json_string_value(json_object_get(doc, name));
    return v ? v : "";
}

/* The draft of July 2018 as `reportctl compile` prints it (caller frees). */
static char *compile_draft(report_aggregator_t *agg, const char *server)
{
    const char *bin = getenv("REPORT_BIN_DIR");
    char *office = test_key_path("office");
    char *draft = NULL;
    cr_assert_eq(test_run(&draft,
                          "'%s/reportctl' compile 2018-07 --key '%s' --server-key '%s' "
                          "--control-endpoint '%s' 2>/dev/null",
                          bin ? bin : "build/bin", office, server,
                          report_aggregator_control_endpoint(agg)),
                 0, "%s", draft);
    free(office);
    return draft;
}

/* What the page did, in the database and in the compiled draft: one row however often Gửi was
 * pressed, nothing of the refused item, the amendment printed, the withdrawn item gone. */
static void check_sent(test_stack_t *stack, report_aggregator_t *agg, json_t *seen,
                       const char *server)
{
    /* Pressed twice, sent again: one row of revision 0 (and the amendment's, revision 1). */
    char *sql = report_sprintf("SELECT count(*) FROM updates WHERE unit_code = 'THANH_TRA'"
                               " AND item_key = '%s' AND revision = 0",
                               field(seen, "item_key"));
    test_db_assert_value(&stack->db, sql, "1");
    free(sql);
    sql = report_sprintf("SELECT update_id::text FROM updates WHERE item_key = '%s'"
                         " AND revision = 0",
                         field(seen, "item_key"));
    test_db_assert_value(&stack->db, sql, field(seen, "update_id"));
    free(sql);
    /* The refused item was not stored. */
    sql = report_sprintf("SELECT count(*) FROM updates WHERE item_key = '%s'",
                         field(seen, "refused_key"));
    test_db_assert_value(&stack->db, sql, "0");
    free(sql);

    /* In the compiled draft, as the preview showed it. */
    char *draft = compile_draft(agg, server);
    /* the amendment (revision 1, 3 of its own + 1 of the sample) replaced the first version */
    cr_assert(strstr(draft, "Bàn làm việc: tiến hành 04 cuộc thanh tra, đạt "), "%s", draft);
    cr_assert(strstr(field(seen, "amended_preview"), "Bàn làm việc: tiến hành 04 cuộc thanh tra"));
    cr_assert_null(strstr(draft, "Bàn làm việc: tiến hành 03"), "%s", draft);
    /* the withdrawn sample item is gone from the draft */
    cr_assert_null(strstr(draft, "Tổ chức 01 cuộc thanh tra chuyên đề năm 2018"), "%s", draft);

    free(draft);
}

Test(desk, the_page_in_chromium, .timeout = 240)
{
    test_stack_t stack;
    test_stack_start(&stack, NULL, 1);
    test_push_samples(&stack, 7);
    report_aggregator_t *agg = start_aggregator(&stack);
    char *key = test_key_path("THANH_TRA");
    char *server = report_sprintf("%s/server.pub", test_keys_dir());
    char port[16];
    snprintf(port, sizeof port, "%d", test_free_port());
    char *log = report_sprintf("/tmp/report-test-desk-%d.log", (int)getpid());
    unlink(log);
    char *const args[] = {"desk",
                          "--key",
                          key,
                          "--server-key",
                          server,
                          "--desk-endpoint",
                          (char *)report_aggregator_desk_endpoint(agg),
                          "--collector",
                          (char *)report_collector_endpoint(stack.collector),
                          "--port",
                          port,
                          "--push-deadline-ms",
                          "20000",
                          NULL};
    char *before = compile_draft(agg, server);
    cr_assert(strstr(before, "Tổ chức 01 cuộc thanh tra chuyên đề năm 2018"), "%s", before);
    free(before);
    pid_t desk = test_program_start("reportctl", args, NULL, log);
    char *url = desk_url(log);

    char *check = test_repo_path("tests/browser/check_desk.sh");
    char *shot = test_repo_path("var/desk-page.png");
    char *out = NULL;
    int rc = test_run(&out, "DESK_SHOT='%s' '%s' '%s'", shot, check, url);
    cr_assert_eq(rc, 0, "the desk in Chromium failed (checks on stderr above): %s", out);
    json_t *seen = json_loads(out, 0, NULL);
    cr_assert_not_null(seen, "%s", out);

    check_sent(&stack, agg, seen, server);
    /* SIGTERM ends the desk cleanly (under ASan: no leak, or it would not exit 0) */
    cr_assert_eq(test_program_stop(desk, 5000), 0, "reportctl desk did not exit cleanly: see %s",
                 log);
    unlink(log);
    json_decref(seen);
    free(out);
    free(check);
    free(shot);
    free(url);
    free(log);
    free(key);
    free(server);
    report_aggregator_stop(&agg);
    test_stack_stop(&stack);
}
