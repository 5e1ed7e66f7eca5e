/* The desk protocol (proto/report/v1/desk.proto) on plain domain structs: what `reportctl
 * desk` asks the aggregator's desk endpoint for a unit, and the answer. Only this module and
 * report_codec.c touch generated protobuf types. */
#ifndef REPORT_DESK_CODEC_H
#define REPORT_DESK_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest indicator code (codes are [A-Z0-9_]{1,32}). */
#define REPORT_DESK_CODE_MAX 32

typedef struct {
    char code[REPORT_DESK_CODE_MAX + 1];
    double value;
} report_desk_value_t;

typedef struct {
    char *kind;   /* "state" or "preview" */
    char *period; /* "YYYY-MM" */
    char *text;
    char *item_key;
    char **sub_items;
    size_t sub_item_count;
    report_desk_value_t *values;
    size_t value_count;
} report_desk_request_t;

typedef struct {
    bool ok;
    char *error_code;
    char *message;
    char *json;
} report_desk_reply_t;

/* Decodes into *req (zeroed first; every string non-NULL after success). 0, or -1 if the
 * bytes are not a DeskRequest or a value's code is longer than REPORT_DESK_CODE_MAX. The
 * caller clears *req with report_desk_request_clear in both cases. */
int report_desk_request_decode(const uint8_t *data, size_t size, report_desk_request_t *req);
/* Encodes req (NULL strings are sent empty); a malloc'd buffer of *size bytes. */
uint8_t *report_desk_request_encode(const report_desk_request_t *req, size_t *size);
void report_desk_request_clear(report_desk_request_t *req);

/* As above, for the answer. */
int report_desk_reply_decode(const uint8_t *data, size_t size, report_desk_reply_t *reply);
uint8_t *report_desk_reply_encode(const report_desk_reply_t *reply, size_t *size);
void report_desk_reply_clear(report_desk_reply_t *reply);

#endif
