/*
 * Media workers: a fixed pool of threads, each running its own GLib main
 * context. A stream, and with it every peer of that stream, lives on one
 * worker for its whole life, so forwarding never crosses threads or takes a
 * lock. Work reaches a worker only through mr_worker_call().
 */
#ifndef MR_SFU_WORKER_H
#define MR_SFU_WORKER_H

#include <glib.h>
#include <stdint.h>

#include "transport/transport.h"

struct mr_worker {
    unsigned index;
    GThread *thread;
    GMainContext *ctx;
    GMainLoop *loop;
    int load; /* streams placed here; atomic */
    /* Scratch space for building outgoing packets; worker thread only. */
    uint8_t out_buf[MR_TRANSPORT_BUF];
};

struct mr_worker_pool {
    unsigned n;
    struct mr_worker *workers;
};

/* Starts n threads (n >= 1). Returns 0 or MR_ENOMEM. */
int mr_worker_pool_new(unsigned n, struct mr_worker_pool **out);

/* Stops the threads after they ran what was queued, then frees the pool. */
void mr_worker_pool_free(struct mr_worker_pool *pool);

/* The worker with the fewest streams; its load is incremented. */
struct mr_worker *mr_worker_pool_acquire(struct mr_worker_pool *pool);
void mr_worker_release(struct mr_worker *w);

/* Runs fn(data) on the worker's thread, later (never synchronously). */
void mr_worker_call(struct mr_worker *w, void (*fn)(void *data), void *data);

#endif
