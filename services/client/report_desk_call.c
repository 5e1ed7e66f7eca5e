/* One request to the aggregator's desk endpoint (report_desk_call.h). */
#include "report_desk_call.h"
#include "report_zap.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int report_desk_call(const char *endpoint, const report_client_keys_t *keys,
                     const report_desk_request_t *req, report_desk_reply_t *reply,
                     int64_t timeout_ms)
{
    memset(reply, 0, sizeof *reply);
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int rc = -1;
    size_t size;
    uint8_t *buf = report_desk_request_encode(req, &size);
    if (!keys->plain)
        report_curve_client(sock, keys->server_public, &keys->client);
    if (zmq_connect(sock, endpoint) == 0 && zmq_send(sock, buf, size, 0) >= 0) {
        zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&pi, 1, (long)timeout_ms) > 0) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, sock, 0) >= 0)
                rc = report_desk_reply_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), reply);
            zmq_msg_close(&msg);
        }
    }
    free(buf);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
