/* The wire codec: the only code that touches the generated protobuf-c types. Converts
 * between bytes and the domain types of report_update.h. */
#ifndef REPORT_CODEC_H
#define REPORT_CODEC_H

#include "report_update.h"

#include <stddef.h>
#include <stdint.h>

/* Decodes an Update. Returns a new update the caller owns, or NULL if the bytes are not a
 * well-formed Update. Strings are copied as they are: validation comes after. */
report_update_t *report_update_decode(const uint8_t *data, size_t size);
/* Encodes an update; returns a malloc'd buffer (caller frees) and its size in *size. */
uint8_t *report_update_encode(const report_update_t *update, size_t *size);
/* 1 if a string field of the Update in data (nested messages included) holds a NUL byte, 0 if
 * none, -1 if the wire format is broken (the decoder refuses it too). The decoder cannot tell:
 * a C string ends at the first NUL. Unknown fields may hold any bytes (a later version may
 * add them). */
int report_update_strings_hold_nul(const uint8_t *data, size_t size);

/* Decodes an UpdateReply into *reply; 0, or -1 if malformed. */
int report_reply_decode(const uint8_t *data, size_t size, report_reply_t *reply);
/* Encodes a reply; malloc'd buffer, caller frees. */
uint8_t *report_reply_encode(const report_reply_t *reply, size_t *size);

/* The collector <-> store link. */
typedef enum {
    REPORT_FRAME_NONE = 0,
    REPORT_FRAME_READY,
    REPORT_FRAME_WORK,
    REPORT_FRAME_RESULT,
    REPORT_FRAME_DEAD_LETTER,
} report_frame_type_t;

typedef struct {
    report_frame_type_t type;
    /* READY */
    uint32_t credit;
    char store_id[64];
    /* WORK and RESULT: the collector's handle, echoed by the store */
    uint64_t tag;
    uint64_t incarnation;
    uint8_t *update; /* WORK: serialized Update (owned) */
    size_t update_size;
    report_reply_t reply; /* RESULT */
    /* DEAD_LETTER: reason and message in reply, unit and id below */
    char unit_code[64];
    char update_id[64];
    uint8_t *payload; /* owned */
    size_t payload_len;
    uint64_t payload_size;
} report_frame_t;

/* Decodes a store-link frame into *frame (zeroed first); 0, or -1 if malformed. Free with
 * report_frame_clear. */
int report_frame_decode(const uint8_t *data, size_t size, report_frame_t *frame);
/* Encodes a frame; malloc'd buffer, caller frees. */
uint8_t *report_frame_encode(const report_frame_t *frame, size_t *size);
/* Frees what a decoded frame owns (its byte buffers) and zeroes it. */
void report_frame_clear(report_frame_t *frame);

#include "report_published.h"

/* Aggregator protocols. Each decode fills a zeroed struct the caller clears with the
 * matching *_clear / *_destroy; 0, or -1 if malformed. Each encode returns a malloc'd
 * buffer and its size. */
int report_control_request_decode(const uint8_t *data, size_t size, report_control_request_t *req);
uint8_t *report_control_request_encode(const report_control_request_t *req, size_t *size);
int report_control_reply_decode(const uint8_t *data, size_t size, report_control_reply_t *reply);
uint8_t *report_control_reply_encode(const report_control_reply_t *reply, size_t *size);
report_published_t *report_published_decode(const uint8_t *data, size_t size);
uint8_t *report_published_encode(const report_published_t *report, size_t *size);
int report_catchup_request_decode(const uint8_t *data, size_t size, report_catchup_request_t *req);
uint8_t *report_catchup_request_encode(const report_catchup_request_t *req, size_t *size);
int report_catchup_reply_decode(const uint8_t *data, size_t size, report_catchup_reply_t *reply);
uint8_t *report_catchup_reply_encode(const report_catchup_reply_t *reply, size_t *size);
#endif
