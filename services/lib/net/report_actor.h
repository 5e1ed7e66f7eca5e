/* A service object's thread: started, waited for until it says it is ready (its sockets
 * bound) or failed, asked to stop and joined; plus the lock under which it publishes a copy
 * of its counters for other threads (metrics, tests). */
#ifndef REPORT_ACTOR_H
#define REPORT_ACTOR_H

#include <pthread.h>
#include <stddef.h>

typedef struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int state;         /* 0 starting, 1 ready, -1 failed */
    volatile int stop; /* read by the thread's loop */
} report_actor_t;

/* Runs fn(arg) in a new thread and waits until it calls report_actor_ready. Returns 1 if it
 * is running, -1 if it failed (the thread has then been joined). */
int report_actor_start(report_actor_t *actor, void *(*fn)(void *), void *arg);
/* Called by the thread once: state 1 (ready) or -1 (failed, and about to return). */
void report_actor_ready(report_actor_t *actor, int state);
/* Asks the thread to stop and joins it. */
void report_actor_stop(report_actor_t *actor);
/* Frees the lock and condition (after stop, or after a failed start). */
void report_actor_destroy(report_actor_t *actor);
/* Copies size bytes from src to dst under the actor's lock (publishing or reading stats). */
void report_actor_copy(report_actor_t *actor, void *dst, const void *src, size_t size);

#endif
