/* The desk's question to the aggregator (proto/report/v1/desk.proto): one DeskRequest on a
 * CURVE DEALER with the unit's key, one DeskReply back. The aggregator answers for the unit of
 * the key; a key it does not know is refused at the handshake, so no answer comes. */
#ifndef REPORT_DESK_CALL_H
#define REPORT_DESK_CALL_H

#include "report_desk_codec.h"
#include "report_keys.h"

#include <stdint.h>

/* Sends req to the desk endpoint and waits up to timeout_ms. 0 with *reply filled (check
 * reply->ok; clear it with report_desk_reply_clear), or -1 on timeout or a malformed answer. */
int report_desk_call(const char *endpoint, const report_client_keys_t *keys,
                     const report_desk_request_t *req, report_desk_reply_t *reply,
                     int64_t timeout_ms);

#endif
