/* Writes the seed corpora of fuzz_frame, fuzz_control and fuzz_report from our own encoders
 * (real frames, requests and reports, as the services send them):
 *   build-fuzz/bin/fuzz_make_seeds tests/fuzz/corpus
 * The text seeds (push files, key files, settings) are plain files in the tree. */
#include "report_codec.h"
#include "report_sha256.h"
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *s_root;

static void s_write(const char *target, const char *name, uint8_t *buf, size_t size)
{
    char *dir = report_sprintf("%s/%s", s_root, target);
    mkdir(dir, 0755);
    char *path = report_sprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, size, f) != size || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    free(path);
    free(dir);
    free(buf);
}

static report_update_t *s_update(void)
{
    report_update_t *u = report_update_new();
    u->update_id = report_strdup("09c7a6d3-d061-539f-a4b8-9c17f7b61d8e");
    u->unit_code = report_strdup("QLKH");
    u->year = 2018;
    u->month = 7;
    u->section = REPORT_SECTION_RESULT;
    u->area_code = report_strdup("NHIEM_VU");
    u->item_key = report_strdup("qlkh-2018-07-kq-nhiemvu-1");
    u->item_order = 1;
    u->text = report_strdup("Sở KH&CN tổ chức {HD_TUVAN_NTMN} Hội đồng tư vấn");
    u->indicator_count = 1;
    u->indicators = report_calloc(1, sizeof(report_indicator_value_t));
    u->indicators[0].code = report_strdup("HD_TUVAN_NTMN");
    u->indicators[0].value = 1;
    return u;
}

static void s_frames(void)
{
    size_t n;
    report_frame_t f = {.type = REPORT_FRAME_READY, .credit = 2000};
    snprintf(f.store_id, sizeof f.store_id, "store-host-1234");
    s_write("fuzz_frame", "ready", report_frame_encode(&f, &n), n);
    report_update_t *u = s_update();
    memset(&f, 0, sizeof f);
    f.type = REPORT_FRAME_WORK;
    f.tag = ((uint64_t)7 << 32) | 42;
    f.update = report_update_encode(u, &f.update_size);
    s_write("fuzz_frame", "work", report_frame_encode(&f, &n), n);
    free(f.update);
    memset(&f, 0, sizeof f);
    f.type = REPORT_FRAME_RESULT;
    f.tag = 42;
    report_reply_set(&f.reply, u->update_id, REPORT_OUTCOME_STORED, REPORT_REASON_none, "stored");
    s_write("fuzz_frame", "result-stored", report_frame_encode(&f, &n), n);
    report_reply_set(&f.reply, u->update_id, REPORT_OUTCOME_REJECTED,
                     REPORT_REASON_unknown_indicator, "indicator XYZ is not in the catalogue");
    s_write("fuzz_frame", "result-rejected", report_frame_encode(&f, &n), n);
    memset(&f, 0, sizeof f);
    f.type = REPORT_FRAME_DEAD_LETTER;
    report_reply_set(&f.reply, "", REPORT_OUTCOME_REJECTED, REPORT_REASON_invalid_utf8,
                     "text: invalid UTF-8");
    snprintf(f.unit_code, sizeof f.unit_code, "THANH_TRA");
    snprintf(f.update_id, sizeof f.update_id, "%s", u->update_id);
    f.payload = (uint8_t *)"\x0a\x03\xff\xfe\xfd";
    f.payload_len = 5;
    f.payload_size = 5;
    s_write("fuzz_frame", "dead-letter", report_frame_encode(&f, &n), n);
    report_update_destroy(&u);
}

static void s_requests(void)
{
    size_t n;
    report_control_request_t c = {.kind = REPORT_CONTROL_COMPILE,
                                  .agency_code = "SKHCN",
                                  .year = 2018,
                                  .month = 7,
                                  .format = "html",
                                  .number = 588,
                                  .date = "2018-07-19",
                                  .basis = "Công văn số 2026/UBND-TH"};
    s_write("fuzz_control", "compile", report_control_request_encode(&c, &n), n);
    c.kind = REPORT_CONTROL_PUBLISH;
    c.format = "";
    s_write("fuzz_control", "publish", report_control_request_encode(&c, &n), n);
    report_control_request_t cat = {.kind = REPORT_CONTROL_CATALOGUE,
                                    .action = "add",
                                    .subject = "indicator",
                                    .code = "PTD_KIEMDINH",
                                    .fields_json = "{\"area\":\"TDC\",\"label\":\"Phương tiện đo "
                                                   "được kiểm định\",\"measure\":\"phương tiện\"}"};
    s_write("fuzz_control", "catalogue-add", report_control_request_encode(&cat, &n), n);
    report_control_request_t dl = {.kind = REPORT_CONTROL_DEAD_LETTER,
                                   .action = "list",
                                   .reason = "unknown_indicator",
                                   .unit = "THANH_TRA",
                                   .dead_letter_id = 42};
    s_write("fuzz_control", "dead-letter-list", report_control_request_encode(&dl, &n), n);
    report_control_request_t rate = {.kind = REPORT_CONTROL_RATE, .year = 2018, .month = 7};
    s_write("fuzz_control", "rate", report_control_request_encode(&rate, &n), n);
    report_catchup_request_t q = {.agency_code = "SKHCN", .after_seq = 3};
    s_write("fuzz_control", "catchup-after", report_catchup_request_encode(&q, &n), n);
    q.by_period = true;
    q.period = 201807;
    s_write("fuzz_control", "catchup-period", report_catchup_request_encode(&q, &n), n);
}

static void s_reports(void)
{
    size_t n;
    report_published_t r = {.seq = 1,
                            .agency_code = "SKHCN",
                            .year = 2018,
                            .month = 7,
                            .version = 1,
                            .number = 588,
                            .doc_date = "2018-07-19",
                            .text = "BÁO CÁO\nKết quả thực hiện nhiệm vụ tháng 7 năm 2018\n",
                            .html = "<p>BÁO CÁO</p>",
                            .json = "{\"number\": 588}",
                            .markdown = "# BÁO CÁO",
                            .published_at_ms = 1532000000000};
    char sha[65];
    report_sha256_hex(r.text, strlen(r.text), sha);
    r.sha256 = sha;
    s_write("fuzz_report", "published", report_published_encode(&r, &n), n);
    report_catchup_reply_t cr = {.report = &r, .last_seq = 1};
    s_write("fuzz_report", "catchup-report", report_catchup_reply_encode(&cr, &n), n);
    report_catchup_reply_t end = {.end = true, .last_seq = 5, .more = true};
    s_write("fuzz_report", "catchup-end", report_catchup_reply_encode(&end, &n), n);
    char *missing[] = {"QLCN", "TT_TTUD"};
    char *warnings[] = {"placeholder {X} not filled"};
    report_control_reply_t ok = {.ok = true,
                                 .error_code = "",
                                 .message = "",
                                 .body = r.text,
                                 .missing_units = missing,
                                 .missing_count = 2,
                                 .warnings = warnings,
                                 .warning_count = 1,
                                 .report = &r};
    s_write("fuzz_report", "control-published", report_control_reply_encode(&ok, &n), n);
    report_control_reply_t bad = {
        .error_code = "duplicate_number", .message = "588 is taken in 2018", .body = ""};
    s_write("fuzz_report", "control-error", report_control_reply_encode(&bad, &n), n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    s_root = argv[1];
    s_frames();
    s_requests();
    s_reports();
    return 0;
}
