/* The PDF form through the real pipeline: the July 2018 report published and received by a
 * subscriber as a PDF/A-2b (A4, every font embedded, the text rendering's words in order,
 * pages numbered from page 2), a long month spread over several pages, a draft compiled as
 * PDF, and the refusals: a character the face lacks, Ghostscript missing (nothing published).
 * Page 1 of the July PDF is kept as a picture: build/test-artefacts/report-2018-07-page1.png. */
#define _GNU_SOURCE
#include "report_aggregator.h"
#include "report_push.h"
#include "report_subscriber.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *BASIS = TEST_BASIS;

static test_stack_t stack;
static report_aggregator_t *agg;
static char inbox[256];
static char pki[256]; /* the signing test's CA, certificates and NSS database */

static void teardown(void)
{
    report_aggregator_stop(&agg);
    test_stack_stop(&stack);
    if (inbox[0] && !getenv("REPORT_TEST_KEEP_FILES")) { /* set it to look at the PDFs */
        char *cmd = report_sprintf("rm -rf '%s' '%s'", inbox, pki);
        int rc = system(cmd);
        (void)rc;
        free(cmd);
    }
}

TestSuite(report_pdf, .fini = teardown, .timeout = 240);

static void start_with_signer(const char *ghostscript, const char *nssdb)
{
    test_stack_start(&stack, NULL, 1);
    report_aggregator_config_t cfg;
    test_aggregator_config(&stack, &cfg);
    if (ghostscript)
        cfg.ghostscript = (char *)ghostscript;
    if (nssdb)
        cfg.signer_nssdb = (char *)nssdb;
    agg = test_aggregator_start_config(&cfg);
    snprintf(inbox, sizeof inbox, "/tmp/report-pdf-inbox-%d-%u", (int)getpid(),
             report_random(1000000));
    cr_assert_eq(mkdir(inbox, 0700), 0);
}

static void start_with(const char *ghostscript)
{
    start_with_signer(ghostscript, NULL);
}

/* Runs a shell command; its exit status, its standard output in *out (caller frees). */
static report_control_reply_t control(report_control_kind_t kind, const char *format, int number,
                                      const char *date)
{
    report_control_request_t req = {0};
    req.kind = kind;
    req.agency_code = "";
    req.year = 2018;
    req.month = 7;
    req.format = (char *)format;
    req.number = number;
    req.date = (char *)date;
    req.basis = (char *)BASIS;
    report_control_reply_t reply;
    report_client_keys_t keys = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &keys, &req, &reply, 60000), 0,
        "no answer from the aggregator");
    return reply;
}

static int receive_exec(const char *exec_cmd)
{
    report_subscriber_config_t cfg;
    report_subscriber_config_default(&cfg);
    cfg.exec_cmd = exec_cmd;
    cfg.publish_endpoint = report_aggregator_publish_endpoint(agg);
    cfg.catchup_endpoint = report_aggregator_catchup_endpoint(agg);
    cfg.out_dir = inbox;
    cfg.once = true;
    cfg.deadline_ms = 30000;
    cfg.quiet = true;
    cfg.keys = test_client_keys("leader");
    volatile sig_atomic_t stop = 0;
    return report_subscriber_run(&cfg, &stop);
}

static int receive(void)
{
    return receive_exec("");
}

/* pdftotext's text without the page numbers: page k > 1 begins with the number k. */
static char *pdf_text_without_page_numbers(const char *pdf)
{
    char *raw = NULL;
    cr_assert_eq(test_run(&raw, "pdftotext -raw -enc UTF-8 '%s' -", pdf), 0);
    report_buf_t b;
    report_buf_init(&b);
    int page = 1;
    for (const char *p = raw; *p;) {
        const char *ff = strchr(p, '\f');
        size_t len = ff ? (size_t)(ff - p) : strlen(p);
        const char *start = p;
        if (page > 1) {
            char number[16];
            int n = snprintf(number, sizeof number, "%d", page);
            while (*start == '\n' || *start == ' ')
                start++;
            cr_assert(strncmp(start, number, (size_t)n) == 0 && isspace((unsigned char)start[n]),
                      "page %d does not begin with its number: %.40s", page, start);
            start += n;
        }
        report_buf_add(&b, start, len - (size_t)(start - p));
        report_buf_add(&b, "\n", 1);
        if (!ff)
            break;
        p = ff + 1;
        page++;
    }
    free(raw);
    return report_buf_take(&b);
}

/* The text without its white space: the PDF breaks lines where the text has none (after a
 * "/" or a "-" inside a word, as Unicode line breaking allows). */
static char *squeezed(const char *text, size_t **offsets)
{
    size_t n = strlen(text);
    char *out = report_malloc(n + 1);
    *offsets = report_calloc(n + 1, sizeof **offsets);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)text[i]))
            continue;
        (*offsets)[k] = i;
        out[k++] = text[i];
    }
    out[k] = '\0';
    return out;
}

/* The text rendering's characters are the PDF's, in order (white space aside). */
static void assert_same_text(const char *text, const char *pdf)
{
    char *pdf_text = pdf_text_without_page_numbers(pdf);
    size_t *oa, *ob;
    char *a = squeezed(text, &oa), *b = squeezed(pdf_text, &ob);
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    if (a[i] || b[i]) {
        size_t from = i > 60 ? i - 60 : 0;
        cr_assert_fail("the PDF's text differs at character %zu:\ntext: ...%.120s\nPDF:  ...%.120s",
                       i, text + oa[from], pdf_text + ob[from < strlen(b) ? from : 0]);
    }
    free(a);
    free(b);
    free(oa);
    free(ob);
    free(pdf_text);
}

static int pdf_pages(const char *pdf)
{
    char *info = NULL;
    cr_assert_eq(test_run(&info, "pdfinfo '%s'", pdf), 0);
    cr_assert(strstr(info, "pts (A4)") != NULL, "not A4: %s", info);
    const char *pages = strstr(info, "Pages:");
    cr_assert_not_null(pages, "%s", info);
    int n = atoi(pages + strlen("Pages:"));
    free(info);
    return n;
}

/* Every font embedded (and subset), all of them Liberation Serif. */
static void assert_fonts_embedded(const char *pdf)
{
    char *fonts = NULL;
    cr_assert_eq(test_run(&fonts, "pdffonts '%s' | tail -n +3", pdf), 0);
    size_t lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(fonts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lines++;
        cr_assert(strstr(line, "LiberationSerif") != NULL, "another face: %s", line);
        cr_assert(strstr(line, " yes yes ") != NULL, "not embedded and subset: %s", line);
    }
    cr_assert_geq(lines, 3, "regular, bold and italic expected");
    free(fonts);
}

static char *artefact_path(const char *name)
{
    char *dir = report_sprintf("%s/test-artefacts", REPORT_TEST_BUILD_DIR);
    mkdir(dir, 0755);
    char *path = report_sprintf("%s/%s", dir, name);
    free(dir);
    return path;
}

Test(report_pdf, july_published_as_pdfa_and_received)
{
    start_with(NULL);
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_PUBLISH, "", 588, "2018-07-19");
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert_not_null(r.report->pdf);
    cr_assert_geq(r.report->pdf_pages, 2);
    int pages = r.report->pdf_pages;
    report_control_reply_clear(&r);
    test_db_assert_value(&stack.db,
                         "SELECT count(*) FROM published_reports WHERE pdf_body IS "
                         "NOT NULL AND substring(pdf_body from 1 for 5) = '%PDF-'",
                         "1");
    cr_assert_eq(receive(), 1);
    char *pdf = report_sprintf("%s/SKHCN-2018-07-v1.pdf", inbox);
    char *txt = report_sprintf("%s/SKHCN-2018-07-v1.txt", inbox);
    cr_assert_eq(pdf_pages(pdf), pages);
    assert_fonts_embedded(pdf);
    char *meta = NULL;
    cr_assert_eq(test_run(&meta, "pdfinfo -meta '%s'", pdf), 0);
    cr_assert(strstr(meta, "<pdfaid:part>2</pdfaid:part>") != NULL ||
                  strstr(meta, "pdfaid:part='2'") != NULL ||
                  strstr(meta, "pdfaid:part=\"2\"") != NULL,
              "no PDF/A-2 identification in the XMP:\n%s", meta);
    cr_assert(strstr(meta, "<pdfaid:conformance>B</pdfaid:conformance>") != NULL ||
                  strstr(meta, "pdfaid:conformance='B'") != NULL ||
                  strstr(meta, "pdfaid:conformance=\"B\"") != NULL,
              "not conformance B:\n%s", meta);
    free(meta);
    char *text = test_read_file(txt);
    cr_assert_not_null(text);
    assert_same_text(text, pdf);
    char *png = artefact_path("report-2018-07-page1");
    cr_assert_eq(test_run(NULL, "pdftoppm -png -r 110 -f 1 -l 1 -singlefile '%s' '%s'", pdf, png),
                 0);
    char *png_file = report_sprintf("%s.png", png);
    struct stat st;
    cr_assert_eq(stat(png_file, &st), 0, "%s", png_file);
    cr_assert_gt(st.st_size, 10000);
    free(png_file);
    free(png);
    free(text);
    free(txt);
    free(pdf);
}

/* A long month: 40 more items of section 1.a. */
static void push_long_month(void)
{
    size_t n = 40;
    report_update_t **list = report_calloc(n, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "tt-long-%02zu", i);
        list[i] = test_update_new(key);
        free(list[i]->text);
        list[i]->text = report_sprintf(
            "tổ chức %s đoàn kiểm tra thứ %zu về đo lường, chất lượng hàng hóa lưu thông trên "
            "địa bàn các huyện Hà Quảng, Trùng Khánh, Quảng Hòa; kết quả: không phát hiện vi "
            "phạm, đã hướng dẫn các cơ sở thực hiện đúng quy định về ghi nhãn hàng hóa.",
            "{THANHTRA_CUOC}", i + 1);
        list[i]->item_order = (uint32_t)(i + 2);
    }
    report_reply_t *replies = report_calloc(n, sizeof *replies);
    cr_assert_eq(test_push(&stack, list, n, replies), 0);
    free(replies);
    for (size_t i = 0; i < n; i++)
        report_update_destroy(&list[i]);
    free(list);
}

static char *write_pdf(const report_control_reply_t *r, const char *name)
{
    char *path = report_sprintf("%s/%s", inbox, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(r->pdf, 1, r->pdf_size, f), r->pdf_size);
    fclose(f);
    return path;
}

Test(report_pdf, long_draft_spreads_over_numbered_pages)
{
    start_with(NULL);
    test_push_samples(&stack, 7);
    push_long_month();
    report_control_reply_t r = control(REPORT_CONTROL_COMPILE, "pdf", 0, "");
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert_not_null(r.pdf);
    char *pdf = write_pdf(&r, "draft.pdf");
    report_control_reply_clear(&r);
    int pages = pdf_pages(pdf);
    cr_assert_geq(pages, 4, "%d pages", pages);
    assert_fonts_embedded(pdf);
    r = control(REPORT_CONTROL_COMPILE, "text", 0, "");
    cr_assert(r.ok);
    assert_same_text(r.body, pdf); /* checks every page from 2 begins with its number */
    /* the closing paragraph and the signature block share the last page */
    const char *name = strrchr(r.body, '\n');
    while (name > r.body && name[-1] != '\n')
        name--;
    char *last = NULL;
    cr_assert_eq(test_run(&last, "pdftotext -f %d -l %d -enc UTF-8 '%s' -", pages, pages, pdf), 0);
    cr_assert(strstr(last, "Trên đây là") != NULL, "the closing is not on the last page:\n%s",
              last);
    char signer[128];
    snprintf(signer, sizeof signer, "%.*s", (int)strcspn(name, "\n"), name);
    cr_assert(strstr(last, signer) != NULL, "the signer '%s' is not on the last page", signer);
    free(last);
    report_control_reply_clear(&r);
    free(pdf);
}

Test(report_pdf, a_character_the_face_lacks_is_refused_by_name)
{
    start_with(NULL);
    test_push_samples(&stack, 7);
    report_update_t *u = test_update_new("tt-cjk");
    free(u->text);
    u->text = report_strdup("tiếp đoàn công tác {THANHTRA_CUOC} (漢)");
    report_reply_t reply;
    cr_assert_eq(test_push(&stack, &u, 1, &reply), 0, "%s", reply.message);
    report_update_destroy(&u);
    report_control_reply_t r = control(REPORT_CONTROL_COMPILE, "pdf", 0, "");
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "font");
    cr_assert(strstr(r.message, "U+6F22") != NULL, "%s", r.message);
    report_control_reply_clear(&r);
    r = control(REPORT_CONTROL_PUBLISH, "", 588, "2018-07-19");
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "font");
    report_control_reply_clear(&r);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM published_reports", "0");
}

Test(report_pdf, without_ghostscript_nothing_is_published)
{
    start_with("/nonexistent/gs");
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_PUBLISH, "", 588, "2018-07-19");
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "pdfa", "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM published_reports", "0");
    /* the draft needs no Ghostscript */
    r = control(REPORT_CONTROL_COMPILE, "pdf", 0, "");
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
}

/* --- the format check through the real pipeline --- */

static report_control_reply_t control_period(report_control_kind_t kind, int month,
                                             const char *format, int number, const char *date,
                                             bool force)
{
    report_control_request_t req = {
        kind,  "", 2018, month, (char *)format, number, (char *)date, (char *)BASIS,
        force, 0,  NULL, 0,     false};
    report_control_reply_t reply;
    report_client_keys_t keys = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &keys, &req, &reply, 60000), 0,
        "no answer from the aggregator");
    return reply;
}

static bool has_finding(const report_control_reply_t *r, const char *prefix)
{
    for (size_t i = 0; i < r->finding_count; i++)
        if (strncmp(r->findings[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

Test(report_pdf, format_check_refuses_then_force_records)
{
    start_with(NULL);
    test_push_samples(&stack, 7);
    /* September: one result, no next task: section 2 would be empty */
    report_update_t *u = test_update_new("tt-2018-09");
    u->month = 9;
    report_reply_t reply;
    cr_assert_eq(test_push(&stack, &u, 1, &reply), 0, "%s", reply.message);
    report_update_destroy(&u);
    report_control_reply_t r = control_period(REPORT_CONTROL_COMPILE, 9, "check", 0, "", false);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert(has_finding(&r, "empty_section: section 2"), "%zu findings", r.finding_count);
    report_control_reply_clear(&r);
    r = control_period(REPORT_CONTROL_PUBLISH, 9, "", 700, "2018-09-05", false);
    cr_assert_not(r.ok);
    cr_assert_str_eq(r.error_code, "format_check");
    cr_assert(has_finding(&r, "empty_section: section 2"));
    report_control_reply_clear(&r);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM published_reports", "0");
    r = control_period(REPORT_CONTROL_PUBLISH, 9, "", 700, "2018-09-05", true);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert(has_finding(&r, "empty_section: section 2"));
    report_control_reply_clear(&r);
    test_db_assert_value(&stack.db,
                         "SELECT count(*) FROM published_reports WHERE number = 700 AND "
                         "format_findings LIKE 'empty_section: section 2%'",
                         "1");
    /* July is clean; August checked with September's number finds it taken */
    r = control_period(REPORT_CONTROL_COMPILE, 7, "check", 588, "2018-07-19", false);
    cr_assert(r.ok);
    cr_assert_eq(r.finding_count, 0, "%s", r.finding_count ? r.findings[0] : "");
    report_control_reply_clear(&r);
    r = control_period(REPORT_CONTROL_COMPILE, 7, "check", 700, "2018-07-19", false);
    cr_assert(has_finding(&r, "number_symbol: number 700 of the year is already used by 2018-09"));
    report_control_reply_clear(&r);
    /* the command line: exit 0 without findings, 1 with them, one line each */
    const char *bin = getenv("REPORT_BIN_DIR");
    char *key = test_key_path("office");
    char *common = report_sprintf("'%s/reportctl' check --control-endpoint '%s' --key '%s' "
                                  "--server-key '%s/server.pub'",
                                  bin ? bin : "build/bin", report_aggregator_control_endpoint(agg),
                                  key, test_keys_dir());
    char *out = NULL;
    cr_assert_eq(test_run(&out, "%s 2018-07 --number 588 --date 2018-07-19", common), 0, "%s", out);
    cr_assert(strstr(out, "format check 2018-07: 0 finding(s)") != NULL, "%s", out);
    free(out);
    cr_assert_eq(test_run(&out, "%s 2018-07 --number 700 --date 2018-07-19", common), 1, "%s", out);
    cr_assert(strstr(out, "finding: number_symbol: number 700") != NULL, "%s", out);
    free(out);
    free(common);
    free(key);
}

/* --- the leadership's inbox --- */

Test(report_pdf, the_inbox_lists_every_version_with_changes_and_runs_the_command)
{
    start_with(NULL);
    test_push_samples(&stack, 7);
    report_control_reply_t r = control(REPORT_CONTROL_PUBLISH, "", 588, "2018-07-19");
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    report_control_reply_clear(&r);
    report_update_t *u = test_update_new("tt-added-later");
    free(u->text);
    u->text = report_strdup("tổ chức thêm {THANHTRA_CUOC} cuộc kiểm tra đột xuất");
    report_reply_t reply;
    cr_assert_eq(test_push(&stack, &u, 1, &reply), 0, "%s", reply.message);
    report_update_destroy(&u);
    r = control(REPORT_CONTROL_PUBLISH, "", 589, "2018-07-20");
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert_eq(r.report->version, 2);
    report_control_reply_clear(&r);
    char *cmd = report_sprintf("printf '%%s %%s %%s %%s\\n' \"$REPORT_VERSION\" \"$REPORT_NUMBER\" "
                               "\"$REPORT_PERIOD\" \"$REPORT_PDF\" >> '%s/exec.log'",
                               inbox);
    cr_assert_eq(receive_exec(cmd), 2);
    free(cmd);
    char *index_path = report_sprintf("%s/index.html", inbox);
    char *page = test_read_file(index_path);
    cr_assert_not_null(page, "no %s", index_path);
    cr_assert(strstr(page, "href=\"SKHCN-2018-07-v2.pdf\"") != NULL, "%s", page);
    cr_assert(strstr(page, "href=\"SKHCN-2018-07-v1.html\"") != NULL);
    cr_assert(strstr(page, "<td>589</td><td>2018-07-20</td><td>2</td><td>chưa ký</td>") != NULL,
              "%s", page);
    cr_assert(strstr(page, "Thay đổi so với phiên bản 1") != NULL);
    cr_assert(strstr(page, "<ins>") != NULL && strstr(page, "đột xuất") != NULL);
    /* newest first */
    cr_assert(strstr(page, "v2.pdf") < strstr(page, "v1.pdf"));
    free(page);
    free(index_path);
    char *log_path = report_sprintf("%s/exec.log", inbox);
    char *log = test_read_file(log_path);
    cr_assert_not_null(log, "the command did not run");
    char *v1 = report_sprintf("1 588 2018-07 %s/SKHCN-2018-07-v1.pdf\n", inbox);
    char *v2 = report_sprintf("2 589 2018-07 %s/SKHCN-2018-07-v2.pdf\n", inbox);
    cr_assert(strstr(log, v1) && strstr(log, v2), "%s", log);
    free(v1);
    free(v2);
    free(log);
    free(log_path);
}

/* --- the signed form --- */

/* A CA, a certificate it issued to the signer and one nobody issued, an NSS database that
 * trusts the CA: what an agency's signing set-up looks like, made for the test. */
static void make_pki(void)
{
    snprintf(pki, sizeof pki, "/tmp/report-pki-%d-%u", (int)getpid(), report_random(1000000));
    char *out = NULL;
    int rc =
        test_run(&out,
                 "set -e; mkdir -p '%s/nss'; cd '%s'; "
                 "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 "
                 "-subj '/C=VN/O=Test CA/CN=Test CA' -addext basicConstraints=critical,CA:TRUE "
                 "-addext keyUsage=critical,keyCertSign,cRLSign 2>&1; "
                 "openssl req -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr "
                 "-subj '/C=VN/O=So KHCN Cao Bang/CN=Hoang Giang' 2>&1; "
                 "printf 'keyUsage=critical,digitalSignature,nonRepudiation\\n' > ext.cnf; "
                 "openssl x509 -req -in signer.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                 "-out signer.pem -days 30 -extfile ext.cnf 2>&1; "
                 "openssl req -x509 -newkey rsa:2048 -nodes -keyout stranger.key -out stranger.pem "
                 "-days 30 -subj '/C=VN/CN=Stranger' 2>&1; "
                 "certutil -N -d sql:nss --empty-password 2>&1; "
                 "certutil -A -d sql:nss -n agency-ca -t CT,C,C -i ca.pem 2>&1",
                 pki, pki);
    cr_assert_eq(rc, 0, "%s", out);
    free(out);
}

/* Signs in with who's certificate (podofosign, an incremental update) into out. */
static void sign(const char *in, const char *out, const char *who)
{
    char *log = NULL;
    int rc = test_run(&log,
                      "podofosign -in '%s' -out '%s' -cert '%s/%s.pem' -pkey '%s/%s.key' "
                      "-reason 'Phe duyet' 2>&1",
                      in, out, pki, who, pki, who);
    cr_assert_eq(rc, 0, "podofosign: %s", log);
    free(log);
}

static report_control_reply_t attach(const char *path)
{
    size_t size;
    char *data = test_read_file(path);
    cr_assert_not_null(data, "%s", path);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    size = (size_t)st.st_size;
    report_control_request_t req = {0};
    req.kind = REPORT_CONTROL_ATTACH;
    req.agency_code = "";
    req.year = 2018;
    req.month = 7;
    req.format = "";
    req.date = "";
    req.basis = "";
    req.version = 1;
    req.signed_pdf = (uint8_t *)data;
    req.signed_size = size;
    report_control_reply_t reply;
    report_client_keys_t keys = test_client_keys("office");
    cr_assert_eq(
        report_control_call(report_aggregator_control_endpoint(agg), &keys, &req, &reply, 60000), 0,
        "no answer from the aggregator");
    free(data);
    return reply;
}

static void expect_refused(const char *path, const char *code)
{
    report_control_reply_t r = attach(path);
    cr_assert_not(r.ok, "%s was accepted", path);
    cr_assert_str_eq(r.error_code, code, "%s: %s", path, r.message);
    report_control_reply_clear(&r);
}

/* Writes data[0, size) with extra appended, or with the byte at flip changed. */
static char *variant(const char *name, const char *data, size_t size, const char *extra,
                     size_t flip)
{
    char *path = report_sprintf("%s/%s", inbox, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    char *copy = report_malloc(size);
    memcpy(copy, data, size);
    if (flip < size)
        copy[flip] = copy[flip] == '0' ? '1' : '0';
    fwrite(copy, 1, size, f);
    if (extra)
        fputs(extra, f);
    fclose(f);
    free(copy);
    return path;
}

/* The exports for the document system in the inbox are valid against their schemas. */
static void assert_exports_valid(void)
{
    char *meta_xsd = test_repo_path("docs/schema/nd30-metadata.xsd");
    char *edxml_xsd = test_repo_path("docs/schema/edxml.xsd");
    char *lint = NULL;
    cr_assert_eq(test_run(&lint,
                          "xmllint --noout --schema '%s' '%s/SKHCN-2018-07-v1.metadata.xml' 2>&1",
                          meta_xsd, inbox),
                 0, "%s", lint);
    free(lint);
    cr_assert_eq(test_run(&lint, "xmllint --noout --schema '%s' '%s/SKHCN-2018-07-v1.edxml' 2>&1",
                          edxml_xsd, inbox),
                 0, "%s", lint);
    free(lint);
    free(meta_xsd);
    free(edxml_xsd);
}

Test(report_pdf, the_signed_pdf_is_verified_stored_and_delivered)
{
    make_pki();
    char *nssdb = report_sprintf("sql:%s/nss", pki);
    start_with_signer(NULL, nssdb);
    test_push_samples(&stack, 7);
    test_db_exec(&stack.db, "UPDATE agencies SET organ_id = '000.00.00.H99'");
    report_control_reply_t r = control(REPORT_CONTROL_PUBLISH, "", 588, "2018-07-19");
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    char *published =
        write_pdf(&(report_control_reply_t){.pdf = r.report->pdf, .pdf_size = r.report->pdf_size},
                  "published.pdf");
    size_t published_size = r.report->pdf_size;
    report_control_reply_clear(&r);
    char *signed_path = report_sprintf("%s/signed.pdf", inbox);
    sign(published, signed_path, "signer");

    /* refused: the unsigned file, a file signed over other content, altered after signing,
     * something appended after the signature, a signer the agency's CA did not certify */
    expect_refused(published, "not_signed");
    r = control(REPORT_CONTROL_COMPILE, "pdf", 0, "");
    char *draft = write_pdf(&r, "draft.pdf");
    report_control_reply_clear(&r);
    char *draft_signed = report_sprintf("%s/draft-signed.pdf", inbox);
    sign(draft, draft_signed, "signer");
    expect_refused(draft_signed, "content_mismatch");
    struct stat st;
    cr_assert_eq(stat(signed_path, &st), 0);
    char *data = test_read_file(signed_path);
    char *tampered = variant("tampered.pdf", data, (size_t)st.st_size, NULL, published_size + 20);
    expect_refused(tampered, "bad_signature");
    char *rewritten = variant("rewritten.pdf", data, (size_t)st.st_size, NULL, 200);
    expect_refused(rewritten, "content_mismatch");
    char *appended = variant("appended.pdf", data, (size_t)st.st_size, "\n%extra\n", SIZE_MAX);
    expect_refused(appended, "appended");
    char *stranger = report_sprintf("%s/stranger.pdf", inbox);
    sign(published, stranger, "stranger");
    expect_refused(stranger, "untrusted");
    test_db_assert_value(&stack.db, "SELECT count(*) FROM signed_reports", "0");

    /* accepted, once */
    r = attach(signed_path);
    cr_assert(r.ok, "%s: %s", r.error_code, r.message);
    cr_assert(strstr(r.report->signer, "CN=Hoang Giang") != NULL, "%s", r.report->signer);
    report_control_reply_clear(&r);
    expect_refused(signed_path, "already_signed");
    test_db_assert_value(&stack.db,
                         "SELECT count(*) FROM signed_reports WHERE trusted AND signer LIKE "
                         "'%Hoang Giang%' AND signing_time <> ''",
                         "1");
    /* a subscriber receives the version, then its signed form */
    cr_assert_eq(receive(), 2);
    char *got = report_sprintf("%s/SKHCN-2018-07-v1.signed.pdf", inbox);
    struct stat gst;
    cr_assert_eq(stat(got, &gst), 0, "no %s", got);
    cr_assert_eq(gst.st_size, st.st_size);
    char *index_path = report_sprintf("%s/index.html", inbox);
    char *page = test_read_file(index_path);
    cr_assert(strstr(page, "đã ký") && strstr(page, "SKHCN-2018-07-v1.signed.pdf"), "%s", page);
    assert_exports_valid();
    free(page);
    free(index_path);
    free(got);
    free(stranger);
    free(appended);
    free(rewritten);
    free(tampered);
    free(data);
    free(draft_signed);
    free(draft);
    free(signed_path);
    free(published);
    free(nssdb);
}
