/* Thread start-up handshake and stats publication shared by the service objects. */
#include "report_actor.h"

#include <string.h>

int report_actor_start(report_actor_t *actor, void *(*fn)(void *), void *arg)
{
    actor->state = 0;
    actor->stop = 0;
    pthread_mutex_init(&actor->lock, NULL);
    pthread_cond_init(&actor->cond, NULL);
    if (pthread_create(&actor->thread, NULL, fn, arg) != 0) {
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

void report_actor_stop(report_actor_t *actor)
{
    actor->stop = 1;
    pthread_join(actor->thread, NULL);
}

void report_actor_destroy(report_actor_t *actor)
{
    pthread_mutex_destroy(&actor->lock);
    pthread_cond_destroy(&actor->cond);
}

void report_actor_copy(report_actor_t *actor, void *dst, const void *src, size_t size)
{
    pthread_mutex_lock(&actor->lock);
    memcpy(dst, src, size);
    pthread_mutex_unlock(&actor->lock);
}
