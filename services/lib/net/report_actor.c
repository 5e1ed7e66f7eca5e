/* Thread start-up handshake, stop event and stats publication shared by the service objects. */
#include "report_actor.h"

#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
    report_actor_t *actor;
    void *(*fn)(void *);
    void *arg;
} s_launch_t;

static void *s_main(void *p)
{
    s_launch_t launch = *(s_launch_t *)p;
    void *rc = launch.fn(launch.arg);
    atomic_store(&launch.actor->ended, true);
    return rc;
}

int report_actor_start(report_actor_t *actor, void *(*fn)(void *), void *arg)
{
    actor->state = 0;
    atomic_init(&actor->stopping, false);
    atomic_init(&actor->ended, false);
    pthread_mutex_init(&actor->lock, NULL);
    pthread_cond_init(&actor->cond, NULL);
    actor->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    /* the launch record lives until the thread has copied it: the start waits for ready */
    s_launch_t launch = {actor, fn, arg};
    if (actor->stop_fd < 0 || pthread_create(&actor->thread, NULL, s_main, &launch) != 0) {
        actor->state = -1;
        return -1;
    }
    pthread_mutex_lock(&actor->lock);
    while (actor->state == 0)
        pthread_cond_wait(&actor->cond, &actor->lock);
    int state = actor->state;
    pthread_mutex_unlock(&actor->lock);
    if (state < 0)
        pthread_join(actor->thread, NULL);
    return state;
}

void report_actor_ready(report_actor_t *actor, int state)
{
    pthread_mutex_lock(&actor->lock);
    actor->state = state;
    pthread_cond_signal(&actor->cond);
    pthread_mutex_unlock(&actor->lock);
}

int report_actor_stop_fd(const report_actor_t *actor)
{
    return actor->stop_fd;
}

bool report_actor_stopping(report_actor_t *actor)
{
    return atomic_load(&actor->stopping);
}

bool report_actor_ended(report_actor_t *actor)
{
    return atomic_load(&actor->ended);
}

void *report_actor_launch(report_actor_t *actor, void *(*fn)(void *), void *self,
                          void (*free_fn)(void *))
{
    if (report_actor_start(actor, fn, self) > 0)
        return self;
    free_fn(self);
    return NULL;
}

void report_actor_stop(report_actor_t *actor)
{
    atomic_store(&actor->stopping, true);
    uint64_t one = 1;
    ssize_t n = write(actor->stop_fd, &one, sizeof one);
    (void)n; /* only fails when the counter would overflow: it is already readable */
    pthread_join(actor->thread, NULL);
}

void report_actor_destroy(report_actor_t *actor)
{
    pthread_mutex_destroy(&actor->lock);
    pthread_cond_destroy(&actor->cond);
    if (actor->stop_fd >= 0)
        close(actor->stop_fd);
    actor->stop_fd = -1;
}

void report_actor_copy(report_actor_t *actor, void *dst, const void *src, size_t size)
{
    pthread_mutex_lock(&actor->lock);
    memcpy(dst, src, size);
    pthread_mutex_unlock(&actor->lock);
}

int report_poll_add(zmq_pollitem_t *items, int *count, void *socket)
{
    if (!socket)
        return -1;
    items[*count] = (zmq_pollitem_t){socket, 0, ZMQ_POLLIN, 0};
    return (*count)++;
}

bool report_readable(void *sock)
{
    int events = 0;
    size_t len = sizeof events;
    zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len);
    return events & ZMQ_POLLIN;
}
