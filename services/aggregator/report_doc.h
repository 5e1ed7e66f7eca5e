/* The compiled monthly report as plain data, and its renderings (text, Markdown, HTML, JSON).
 * The aggregator fills a report_doc_t from the template and the stored items; the
 * renderers only lay it out, they compute nothing. */
#ifndef REPORT_DOC_H
#define REPORT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One narrative item, its placeholders already filled. */
typedef struct {
    char *text;
    char **sub_items;
    size_t sub_item_count;
    /* Provenance, for the office's draft only: 1 + the index of the compile input's item it
     * came from (0: none), and a note the HTML shows on hover (NULL: the published document,
     * whose rendering stays as it always was). */
    size_t source;
    char *note;
} report_item_t;

/* One work area of section 1.a with its items (never empty). */
typedef struct {
    char *lead_in; /* e.g. "Về công tác thanh tra:" */
    report_item_t *items;
    size_t item_count;
} report_area_t;

typedef struct {
    /* Header, left column */
    char *parent_authority; /* "UBND TỈNH CAO BẰNG" */
    char *agency_name;      /* "SỞ KHOA HỌC VÀ CÔNG NGHỆ" */
    char *number_line;      /* "Số: 588/BC-SKHCN", or "Số:     /BC-SKHCN" in a draft */
    /* Header, right column */
    char *motto;      /* "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" */
    char *motto_sub;  /* "Độc lập - Tự do - Hạnh phúc" */
    char *place_date; /* "Cao Bằng, ngày 19 tháng 7 năm 2018" */

    char *doc_type; /* "BÁO CÁO" */
    char *summary;  /* "Kết quả hoạt động ... năm 2018" */
    char *intro;    /* legal-basis paragraph */

    char *section1_heading;
    char *section1a_heading;
    char *section1a_intro;
    report_area_t *areas;
    size_t area_count;

    char *section1b_heading;
    report_item_t *limitations;
    size_t limitation_count;

    char *section2_heading;
    char *section2_intro;
    report_item_t *next_tasks;
    size_t next_task_count;

    char *closing; /* closing sentence, end mark included */

    char *recipients_heading; /* "Nơi nhận:" */
    char **recipients;        /* without "- " and ";": "VP Tỉnh uỷ", ..., "Lưu: VT, VP" */
    size_t recipient_count;

    char *signer_authority; /* "" or "KT. GIÁM ĐỐC" */
    char *signer_title;     /* "GIÁM ĐỐC" or "PHÓ GIÁM ĐỐC" */
    char *signer_name;

    /* Metadata carried in the JSON rendering */
    char *agency_code;
    char *organ_id; /* the agency's identifier in the national document exchange, or "" */
    int year, month;
    int number;     /* 0 in a draft */
    int version;    /* 0 in a draft */
    char *doc_date; /* "2018-07-19", or "" in a draft */
} report_doc_t;

/* Returns a new, zeroed document (every string NULL, every count 0) for the caller to fill
 * with malloc'd strings and arrays, or NULL on allocation failure. The renderers print a NULL
 * string as empty and leave empty optional parts out. */
report_doc_t *report_doc_new(void);

/* Frees every string and array of the document and the document itself; accepts NULL and
 * sets *self_p to NULL. All strings of a report_doc_t are owned by it (malloc'd). */
void report_doc_destroy(report_doc_t **self_p);

/* Each renderer returns a newly allocated NUL-terminated UTF-8 string the caller frees,
 * or NULL on allocation failure. */
char *report_render_text(const report_doc_t *doc);
char *report_render_markdown(const report_doc_t *doc);
char *report_render_html(const report_doc_t *doc);
char *report_render_json(const report_doc_t *doc);
/* Writes text (NULL: nothing) to out with &, <, >, " and ' escaped for HTML text and
 * attribute values. */
void report_render_html_escape(FILE *out, const char *text);

#endif
