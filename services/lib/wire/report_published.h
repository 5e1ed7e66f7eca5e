/* Domain types of the aggregator's protocols: control requests and replies, published
 * report versions, and catch-up. Encoded by report_codec.c. */
#ifndef REPORT_PUBLISHED_H
#define REPORT_PUBLISHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One frozen report version. All strings owned. */
typedef struct {
    uint64_t seq;
    char *agency_code;
    int year, month;
    int version;
    int number;
    char *doc_date; /* YYYY-MM-DD */
    char *text, *html, *json, *markdown;
    char *sha256; /* hex of text */
    int64_t published_at_ms;
    uint8_t *pdf; /* the PDF/A-2b file; NULL for versions published before PDFs */
    size_t pdf_size;
    int pdf_pages;
    /* a signed form of the version (seq its own): the signed PDF, its signer and time */
    uint8_t *signed_pdf;
    size_t signed_size;
    char *signer, *signing_time;
} report_published_t;

report_published_t *report_published_new(void);
void report_published_destroy(report_published_t **self_p);

typedef enum {
    REPORT_CONTROL_NONE,
    REPORT_CONTROL_COMPILE,
    REPORT_CONTROL_PUBLISH,
    REPORT_CONTROL_ATTACH,
    REPORT_CONTROL_CATALOGUE,   /* action, subject, code, fields_json */
    REPORT_CONTROL_DEAD_LETTER, /* action, reason, unit, dead_letter_id */
    REPORT_CONTROL_RATE         /* the reporting rate of a period: the reply's body is JSON */
} report_control_kind_t;

typedef struct {
    report_control_kind_t kind;
    char *agency_code;
    int year, month;
    char *format; /* compile only */
    int number;
    char *date;
    char *basis;
    bool force;          /* publish only: despite the format check's findings */
    int version;         /* attach: the version signed */
    uint8_t *signed_pdf; /* attach: the signed file */
    size_t signed_size;
    bool sources; /* compile, html: the draft marked with its sources (json always is) */
    /* catalogue and dead letters (report_catalogue.c, report_dead_letters.c) */
    char *action;
    char *subject; /* catalogue: unit, area, indicator, target */
    char *code;
    char *fields_json;
    char *reason, *unit; /* dead letters: filters */
    int64_t dead_letter_id;
} report_control_request_t;

void report_control_request_clear(report_control_request_t *req);

typedef struct {
    bool ok;
    char *error_code;
    char *message;
    char *body;
    char **missing_units;
    size_t missing_count;
    char **warnings;
    size_t warning_count;
    report_published_t *report; /* publish only; NULL otherwise */
    uint8_t *pdf;               /* compile with format "pdf": the draft; else NULL */
    size_t pdf_size;
    char **findings; /* the format check's, "rule: message" */
    size_t finding_count;
} report_control_reply_t;

void report_control_reply_clear(report_control_reply_t *reply);

typedef struct {
    char *agency_code;
    bool by_period;
    uint64_t after_seq;
    int period; /* year*100+month */
} report_catchup_request_t;

void report_catchup_request_clear(report_catchup_request_t *req);

typedef struct {
    report_published_t *report; /* NULL in the end marker */
    bool end;
    uint64_t last_seq;
    bool more;
} report_catchup_reply_t;

void report_catchup_reply_clear(report_catchup_reply_t *reply);

#endif
