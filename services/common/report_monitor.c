/* Socket monitor bookkeeping shared by the collector (clients) and aggregator (subscribers). */
#include "report_monitor.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

int report_monitor_start(report_monitor_t *m, void *zctx, void *sock)
{
    memset(m, 0, sizeof *m);
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://monitor-%p", sock);
    if (zmq_socket_monitor(sock, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) != 0)
        return -1;
    m->pair = zmq_socket(zctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(m->pair, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(m->pair, ep) != 0) {
        zmq_close(m->pair);
        m->pair = NULL;
        return -1;
    }
    return 0;
}

void report_monitor_handle(report_monitor_t *m)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, m->pair, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&ev) &&
        zmq_msg_recv(&addr, m->pair, ZMQ_DONTWAIT) >= 0 && zmq_msg_size(&ev) >= 6) {
        const uint8_t *d = zmq_msg_data(&ev);
        uint16_t event;
        uint32_t fd;
        memcpy(&event, d, sizeof event);
        memcpy(&fd, d + 2, sizeof fd);
        if (fd < 65536) {
            uint8_t bit = (uint8_t)(1u << (fd & 7));
            bool was = m->fds[fd >> 3] & bit;
            if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !was) {
                m->fds[fd >> 3] |= bit;
                m->connected++;
            } else if (event == ZMQ_EVENT_DISCONNECTED && was) {
                m->fds[fd >> 3] &= (uint8_t)~bit;
                m->connected--;
            }
        }
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
}

void report_monitor_close(report_monitor_t *m)
{
    if (m->pair)
        zmq_close(m->pair);
    m->pair = NULL;
}
