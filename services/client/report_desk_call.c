/* One request to the aggregator's desk endpoint (report_desk_call.h). */
#include "report_desk_call.h"
#include "report_push.h"

#include <stdlib.h>
#include <string.h>

int report_desk_call(const char *endpoint, const report_client_keys_t *keys,
                     const report_desk_request_t *req, report_desk_reply_t *reply,
                     int64_t timeout_ms)
{
    memset(reply, 0, sizeof *reply);
    size_t size, answer_size;
    uint8_t *buf = report_desk_request_encode(req, &size), *answer;
    int rc = report_call_once(endpoint, keys, buf, size, &answer, &answer_size, timeout_ms);
    if (rc == 0)
        rc = report_desk_reply_decode(answer, answer_size, reply);
    free(answer);
    free(buf);
    return rc;
}
