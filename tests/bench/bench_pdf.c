/* The PDF's cost: rendering (pango + cairo) of a document of N items, and its PDF/A-2b
 * conversion by Ghostscript, timed over several runs, with the process's peak memory.
 *
 *   bench_pdf [ITEMS [RUNS]]     (defaults 40 and 5)
 *
 * Prints one line: pdf: items=N pages=P bytes=B render_ms=R pdfa_ms=A pdfa_bytes=C
 * max_rss_mb=M (times are medians). No database: the document is built in memory, each item
 * a paragraph of about 60 words with Vietnamese diacritics, as a long month has. */
#define _GNU_SOURCE
#include "report_doc.h"
#include "report_pdf.h"
#include "report_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static report_doc_t *s_document(int items)
{
    report_doc_t *doc = report_doc_new();
    doc->parent_authority = report_strdup("UBND TỈNH CAO BẰNG");
    doc->agency_name = report_strdup("SỞ KHOA HỌC VÀ CÔNG NGHỆ");
    doc->number_line = report_strdup("Số: 588/BC-SKHCN");
    doc->motto = report_strdup("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    doc->motto_sub = report_strdup("Độc lập - Tự do - Hạnh phúc");
    doc->place_date = report_strdup("Cao Bằng, ngày 19 tháng 7 năm 2018");
    doc->doc_type = report_strdup("BÁO CÁO");
    doc->summary = report_strdup("Kết quả hoạt động khoa học và công nghệ tháng 7 năm 2018");
    doc->section1_heading = report_strdup("1. Kết quả hoạt động KH&CN tháng 7 năm 2018");
    doc->areas = report_calloc(1, sizeof *doc->areas);
    doc->area_count = 1;
    doc->areas[0].lead_in = report_strdup("Về công tác thanh tra:");
    doc->areas[0].items = report_calloc((size_t)items, sizeof(report_item_t));
    doc->areas[0].item_count = (size_t)items;
    for (int i = 0; i < items; i++)
        doc->areas[0].items[i].text = report_sprintf(
            "tổ chức %02d đoàn kiểm tra về đo lường, chất lượng hàng hóa lưu thông trên địa bàn "
            "các huyện Hà Quảng, Trùng Khánh, Quảng Hòa, Bảo Lạc và Nguyên Bình; kết quả: không "
            "phát hiện vi phạm, đã hướng dẫn các cơ sở thực hiện đúng quy định về ghi nhãn hàng "
            "hóa, đo lường và chất lượng sản phẩm, hàng hóa theo Luật Đo lường (lần %d).",
            i % 99 + 1, i + 1);
    doc->next_tasks = report_calloc(1, sizeof(report_item_t));
    doc->next_task_count = 1;
    doc->next_tasks[0].text = report_strdup("Tiếp tục thực hiện các nhiệm vụ theo kế hoạch.");
    doc->closing = report_strdup("Trên đây là Báo cáo kết quả hoạt động tháng 7 năm 2018./.");
    doc->recipients_heading = report_strdup("Nơi nhận:");
    doc->recipients = report_calloc(2, sizeof(char *));
    doc->recipients[0] = report_strdup("UBND tỉnh");
    doc->recipients[1] = report_strdup("Lưu: VT, VP");
    doc->recipient_count = 2;
    doc->signer_title = report_strdup("GIÁM ĐỐC");
    doc->signer_name = report_strdup("Hoàng Giang");
    doc->agency_code = report_strdup("SKHCN");
    doc->year = 2018;
    doc->month = 7;
    doc->number = 588;
    return doc;
}

int main(int argc, char **argv)
{
    int items = argc > 1 ? atoi(argv[1]) : 40, runs = argc > 2 ? atoi(argv[2]) : 5;
    if (items < 1 || runs < 1) {
        fprintf(stderr, "usage: bench_pdf [ITEMS [RUNS]]\n");
        return 2;
    }
    report_doc_t *doc = s_document(items);
    int64_t *render = report_calloc((size_t)runs, sizeof *render);
    int64_t *pdfa = report_calloc((size_t)runs, sizeof *pdfa);
    size_t size = 0, pdfa_size = 0;
    int pages = 0;
    for (int r = 0; r < runs; r++) {
        uint8_t *pdf = NULL, *out = NULL;
        report_error_t err;
        int64_t t0 = report_clock_ms();
        if (report_render_pdf(doc, &pdf, &size, &pages, &err) != 0) {
            fprintf(stderr, "bench_pdf: %s: %s\n", err.code, err.message);
            return 1;
        }
        int64_t t1 = report_clock_ms();
        if (report_pdf_archival(pdf, size, "gs", 120000, &out, &pdfa_size, &err) != 0) {
            fprintf(stderr, "bench_pdf: %s: %s\n", err.code, err.message);
            return 1;
        }
        render[r] = t1 - t0;
        pdfa[r] = report_clock_ms() - t1;
        free(pdf);
        free(out);
    }
    qsort(render, (size_t)runs, sizeof *render, s_cmp);
    qsort(pdfa, (size_t)runs, sizeof *pdfa, s_cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("pdf: items=%d pages=%d bytes=%zu render_ms=%lld pdfa_ms=%lld pdfa_bytes=%zu "
           "max_rss_mb=%ld\n",
           items, pages, size, (long long)render[runs / 2], (long long)pdfa[runs / 2], pdfa_size,
           ru.ru_maxrss / 1024);
    free(render);
    free(pdfa);
    report_doc_destroy(&doc);
    return 0;
}
