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

/* Every machine-readable reason an answer can carry, named once: the wire carries the name
 * (report_reason_name), everything in the processes the enum. none: no reason (STORED,
 * DUPLICATE). Validation (report_validate), the collector, the store, the client and the
 * metrics all use these; a name received that is not here is "other". The README's reason
 * table lists them. */
// clang-format off
#define REPORT_REASONS(X)                                                                          \
    X(none) X(too_large) X(too_many_frames) X(malformed) X(missing_field) X(bad_uuid) X(bad_code)  \
    X(bad_section) X(bad_period) X(out_of_range) X(too_many_items) X(too_many_indicators)          \
    X(duplicate_indicator) X(invalid_utf8) X(control_char) X(text_too_long) X(unit_mismatch)       \
    X(unknown_unit) X(unknown_area) X(unknown_indicator) X(bad_placeholder) X(store_refused)       \
    X(unauthorized) X(id_conflict) X(forbidden_char) X(inflight_full) X(client_inflight_full)      \
    X(unknown) X(no_key) X(duplicate_id) X(other)
// clang-format on
#define REPORT_REASON_ENUM(name) REPORT_REASON_##name,
typedef enum { REPORT_REASONS(REPORT_REASON_ENUM) REPORT_REASON_COUNT } report_reason_t;
#undef REPORT_REASON_ENUM

/* The name of a reason as the wire, logs and metrics carry it; "" for none. */
const char *report_reason_name(report_reason_t reason);
/* The reason a name stands for: none for NULL or "", other for a name not in the list. */
report_reason_t report_reason_parse(const char *name);

/* A reply, in fixed buffers so that answering never allocates. */
typedef struct {
    char update_id[64];
    report_outcome_t outcome;
    report_reason_t reason;
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
                      report_reason_t reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
