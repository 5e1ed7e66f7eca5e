/* The domain types of the ingest path: an update as a unit sends it, and the reply it gets.
 * Everything outside report_codec.c works on these, never on generated protobuf types. */
#ifndef REPORT_UPDATE_H
#define REPORT_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    REPORT_SECTION_NONE = 0,
    REPORT_SECTION_RESULT = 1,     /* 1.a results of the month */
    REPORT_SECTION_LIMITATION = 2, /* 1.b limitations */
    REPORT_SECTION_NEXT_TASK = 3,  /* 2. next month's tasks */
} report_section_t;

typedef struct {
    char *code;
    double value;
} report_indicator_value_t;

typedef struct {
    char *update_id; /* canonical lower-case UUID text once validated */
    char *unit_code;
    int year;
    int month;
    report_section_t section;
    char *area_code;
    char *item_key;
    uint32_t item_order;
    uint32_t revision;
    bool withdrawn;
    char *text;
    char **sub_items;
    size_t sub_item_count;
    report_indicator_value_t *indicators;
    size_t indicator_count;
} report_update_t;

typedef enum {
    REPORT_OUTCOME_NONE = 0,
    REPORT_OUTCOME_STORED = 1,
    REPORT_OUTCOME_DUPLICATE = 2,
    REPORT_OUTCOME_REJECTED = 3,
    REPORT_OUTCOME_BUSY = 4,
} report_outcome_t;

/* A reply, in fixed buffers so that answering never allocates. */
typedef struct {
    char update_id[64];
    report_outcome_t outcome;
    char reason[48];   /* machine-readable, e.g. "invalid_utf8" */
    char message[256]; /* readable */
} report_reply_t;

/* Creates an empty update (all strings NULL, counts 0). */
report_update_t *report_update_new(void);
/* Frees the update and everything it holds; accepts NULL; sets *self_p to NULL. */
void report_update_destroy(report_update_t **self_p);

/* "result", "limitation", "next_task"; NULL for an unknown value. */
const char *report_section_name(report_section_t section);
/* Parses a section name; REPORT_SECTION_NONE if unknown. */
report_section_t report_section_parse(const char *name);
/* "STORED", "DUPLICATE", "REJECTED", "BUSY" or "UNKNOWN". */
const char *report_outcome_name(report_outcome_t outcome);

/* Fills a reply; message is printf-style. */
void report_reply_set(report_reply_t *reply, const char *update_id, report_outcome_t outcome,
                      const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
