/* The exports for the document system without services: the metadata record and the edXML
 * envelope of a version written from its JSON rendering, both valid against the schemas in
 * docs/schema/ (xmllint); a field past its length refuses the export and writes nothing; no
 * export without the agency's identifier. Through the real pipeline: test_report_pdf.c. */
#define _GNU_SOURCE
#include "report_export.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/report-export-XXXXXX";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char *cmd = report_sprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
}

TestSuite(report_export, .init = setup, .fini = teardown, .timeout = 60);

/* A version as the subscriber receives it, with subject as its summary line. */
static report_published_t *version(const char *organ_id, const char *subject, bool signed_form)
{
    report_published_t *r = report_published_new();
    r->agency_code = report_strdup("SKHCN");
    r->year = 2018;
    r->month = 7;
    r->version = 1;
    r->number = 588;
    r->pdf_pages = 4;
    r->json = report_sprintf(
        "{\"agency_code\": \"SKHCN\", \"organ_id\": \"%s\", \"doc_date\": \"2018-07-19\","
        " \"header\": {\"agency_name\": \"SỞ KHOA HỌC VÀ CÔNG NGHỆ\","
        " \"number_line\": \"Số: 588/BC-SKHCN\","
        " \"place_date\": \"Cao Bằng, ngày 19 tháng 7 năm 2018\"},"
        " \"doc_type\": \"BÁO CÁO\", \"summary\": \"%s\","
        " \"recipients\": [\"Bộ KH&CN\", \"UBND tỉnh <Cao Bằng>\", \"Lưu: VT, VP\"],"
        " \"signer\": {\"authority\": \"KT. GIÁM ĐỐC\", \"title\": \"PHÓ GIÁM ĐỐC\","
        " \"name\": \"Hoàng Giang\"}}",
        organ_id, subject);
    if (signed_form) {
        r->signed_pdf = (uint8_t *)report_strdup("%PDF-1.7 signed bytes\n%%EOF\n");
        r->signed_size = strlen((const char *)r->signed_pdf);
    }
    return r;
}

static int xmllint(const char *schema, const char *file)
{
    char *xsd = test_repo_path(schema);
    char *cmd = report_sprintf("xmllint --noout --schema '%s' '%s/%s' 2>&1", xsd, dir, file);
    int status = system(cmd);
    free(cmd);
    free(xsd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *file(const char *name)
{
    char *path = report_sprintf("%s/%s", dir, name);
    char *text = test_read_file(path);
    free(path);
    return text;
}

Test(report_export, metadata_record_valid_against_its_schema)
{
    report_published_t *r = version("000.00.00.H99", "Kết quả hoạt động KH&CN tháng 7", false);
    report_error_t err;
    cr_assert_eq(report_export_write(dir, r, &err), 0, "%s", err.message);
    cr_assert_eq(xmllint("docs/schema/nd30-metadata.xsd", "SKHCN-2018-07-v1.metadata.xml"), 0);
    char *xml = file("SKHCN-2018-07-v1.metadata.xml");
    cr_assert(strstr(xml, "<CodeNumber>588</CodeNumber>") &&
                  strstr(xml, "<CodeNotation>BC-SKHCN</CodeNotation>") &&
                  strstr(xml, "<IssuedDate>19/07/2018</IssuedDate>") &&
                  strstr(xml, "<PageAmount>4</PageAmount>") &&
                  strstr(xml, "<OrganName>UBND tỉnh &lt;Cao Bằng&gt;</OrganName>"),
              "%s", xml);
    cr_assert_null(strstr(xml, "Lưu:"), "the archive line is not a recipient");
    free(xml);
    report_published_destroy(&r);
}

Test(report_export, edxml_of_the_signed_form_valid_and_carries_the_pdf)
{
    report_published_t *r = version("000.00.00.H99", "Kết quả hoạt động KH&CN tháng 7", true);
    report_error_t err;
    cr_assert_eq(report_export_write(dir, r, &err), 0, "%s", err.message);
    cr_assert_eq(xmllint("docs/schema/edxml.xsd", "SKHCN-2018-07-v1.edxml"), 0);
    char *xml = file("SKHCN-2018-07-v1.edxml");
    /* "%PDF-1.7 signed bytes\n%%EOF\n" in base64 */
    cr_assert(strstr(xml, "JVBERi0xLjcgc2lnbmVkIGJ5dGVzCiUlRU9GCg==") != NULL, "%s", xml);
    cr_assert(strstr(xml, "<edXML:Competence>KT. GIÁM ĐỐC</edXML:Competence>") != NULL);
    cr_assert(strstr(xml, "<edXML:PromulgationDate>2018-07-19</edXML:PromulgationDate>") != NULL);
    free(xml);
    report_published_destroy(&r);
}

Test(report_export, a_field_past_its_length_refuses_and_writes_nothing)
{
    char subject[600];
    memset(subject, 'a', 501);
    subject[501] = '\0';
    report_published_t *r = version("000.00.00.H99", subject, false);
    report_error_t err;
    cr_assert_eq(report_export_write(dir, r, &err), -1);
    cr_assert_str_eq(err.code, "too_long");
    cr_assert(strstr(err.message, "Subject has 501 characters, at most 500"), "%s", err.message);
    cr_assert_null(file("SKHCN-2018-07-v1.metadata.xml"));
    report_published_destroy(&r);
    /* 500 characters of Vietnamese (two bytes each) fit: lengths count characters */
    report_buf_t b;
    report_buf_init(&b);
    for (int i = 0; i < 500; i++)
        report_buf_adds(&b, "ộ");
    r = version("000.00.00.H99", b.data, false);
    cr_assert_eq(report_export_write(dir, r, &err), 0, "%s", err.message);
    cr_assert_eq(xmllint("docs/schema/nd30-metadata.xsd", "SKHCN-2018-07-v1.metadata.xml"), 0);
    report_buf_free(&b);
    report_published_destroy(&r);
}

Test(report_export, without_the_agency_identifier_nothing_is_written)
{
    report_published_t *r = version("", "Kết quả", false);
    report_error_t err;
    cr_assert_eq(report_export_write(dir, r, &err), -1);
    cr_assert_str_eq(err.code, "no_organ_id");
    cr_assert_null(file("SKHCN-2018-07-v1.metadata.xml"));
    report_published_destroy(&r);
}
