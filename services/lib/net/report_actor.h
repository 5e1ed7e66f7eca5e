/* A service object's thread, as CZMQ's zactor: started, waited for until it says it is ready
 * (its sockets bound) or failed, asked to stop through an event in its own poll set (an
 * eventfd, so a stop is seen at once and an idle loop sleeps until something happens) and
 * joined; plus the lock under which it publishes a copy of its counters for other threads
 * (metrics, tests). */
#ifndef REPORT_ACTOR_H
#define REPORT_ACTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

typedef struct {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int state;            /* 0 starting, 1 ready, -1 failed */
    int stop_fd;          /* eventfd, readable once report_actor_stop was called */
    atomic_bool stopping; /* set before stop_fd is signalled */
    atomic_bool ended;    /* the thread's function has returned */
} report_actor_t;

/* Runs fn(arg) in a new thread and waits until it calls report_actor_ready. Returns 1 if it
 * is running, -1 if it failed (the thread has then been joined). */
int report_actor_start(report_actor_t *actor, void *(*fn)(void *), void *arg);
/* Called by the thread once: state 1 (ready) or -1 (failed, and about to return). */
void report_actor_ready(report_actor_t *actor, int state);
/* The descriptor the thread keeps in its poll set (ZMQ_POLLIN on a zmq_pollitem_t's fd):
 * readable once the actor is asked to stop. */
int report_actor_stop_fd(const report_actor_t *actor);
/* True once the actor was asked to stop: the thread leaves its loop. */
bool report_actor_stopping(report_actor_t *actor);
/* True once the thread's function has returned (by itself, or after a stop). */
bool report_actor_ended(report_actor_t *actor);
/* The end of a service object's constructor: starts its thread, fn(self), and returns self
 * once it is ready; if it failed, frees self with free_fn (which destroys the actor) and
 * returns NULL. */
void *report_actor_launch(report_actor_t *actor, void *(*fn)(void *), void *self,
                          void (*free_fn)(void *));
/* A service object's destructor: stops its thread, then frees it with free_fn; *self_p
 * (the caller's pointer to the object) becomes NULL. Accepts NULL and a NULL object. */
#define report_actor_finish(self_p, free_fn)                                                       \
    do {                                                                                           \
        if ((self_p) && *(self_p)) {                                                               \
            report_actor_stop(&(*(self_p))->actor);                                                \
            free_fn(*(self_p));                                                                    \
            *(self_p) = NULL;                                                                      \
        }                                                                                          \
    } while (0)
/* Asks the thread to stop (the event in its poll set) and joins it. */
void report_actor_stop(report_actor_t *actor);
/* Frees the lock, the condition and the event (after stop, or after a failed start). */
void report_actor_destroy(report_actor_t *actor);
/* Appends socket (if not NULL) to a poll set for ZMQ_POLLIN; its index in items, or -1. The
 * caller's array has room for every optional socket. */
int report_poll_add(zmq_pollitem_t *items, int *count, void *socket);
/* True while sock has a message waiting (a poll's revents only says it had one). */
bool report_readable(void *sock);
/* Copies size bytes from src to dst under the actor's lock (publishing or reading stats). */
void report_actor_copy(report_actor_t *actor, void *dst, const void *src, size_t size);

#endif
