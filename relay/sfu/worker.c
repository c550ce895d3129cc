#include "sfu/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "sfu/burst.h"
#include "sfu/sfu_priv.h"
#include "sfu/side_loop.h"

/*
 * The turn clock: a source that is never ready, checked first in every turn
 * of the worker's main context, right after its poll, so turn_started_us
 * says when the turn's dispatching began. libnice reads a publisher's
 * socket until it is empty in one dispatch; how long ago the turn began is
 * how long everything else on the worker has waited.
 */
struct turn_clock {
    GSource base;
    struct mr_worker *w;
};

static gboolean turn_clock_check(GSource *base)
{
    struct turn_clock *c = (struct turn_clock *)base;
    c->w->turn_started_us = mr_clock_mono_us();
    return FALSE;
}

static gboolean turn_clock_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
    (void)base;
    (void)cb;
    (void)data;
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs turn_clock_funcs = {.check = turn_clock_check, .dispatch = turn_clock_dispatch};

static GSource *turn_clock_new(struct mr_worker *w)
{
    GSource *src = g_source_new(&turn_clock_funcs, sizeof(struct turn_clock));
    ((struct turn_clock *)src)->w = w;
    /* First in the check, whatever else is ready. */
    g_source_set_priority(src, G_PRIORITY_HIGH);
    g_source_set_name(src, "medrelay turn clock");
    g_source_attach(src, w->ctx);
    return src;
}

static gpointer worker_main(gpointer data)
{
    struct mr_worker *w = data;
    clockid_t clock;
    if (pthread_getcpuclockid(pthread_self(), &clock) == 0)
        __atomic_store_n(&w->cpu_clock, clock, __ATOMIC_RELEASE);
    g_main_context_push_thread_default(w->ctx);
    w->turn_started_us = mr_clock_mono_us();
    mr_side_loop_acquire(w->side);
    g_main_loop_run(w->loop);
    /* Run what was queued before the quit, so nothing leaks. */
    while (g_main_context_iteration(w->ctx, FALSE))
        ;
    mr_burst_free(w->burst);
    w->burst = NULL;
    mr_sendq_free(w->sendq);
    w->sendq = NULL;
    mr_transport_watch_free(w->liveness);
    w->liveness = NULL;
    mr_side_loop_free(w->side);
    w->side = NULL;
    g_source_destroy(w->turn_clock);
    g_source_unref(w->turn_clock);
    w->turn_clock = NULL;
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

int mr_worker_pool_new(unsigned n, bool io_uring, struct mr_worker_pool **out)
{
    struct mr_worker_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return MR_ENOMEM;
    pool->workers = calloc(n, sizeof(*pool->workers));
    if (!pool->workers) {
        free(pool);
        return MR_ENOMEM;
    }
    pool->n = n;
    for (unsigned i = 0; i < n; i++) {
        struct mr_worker *w = &pool->workers[i];
        char name[24];
        w->index = i;
        w->ctx = g_main_context_new();
        w->loop = g_main_loop_new(w->ctx, FALSE);
        if (mr_sendq_new(w->ctx, io_uring, &w->sendq) < 0 || mr_burst_new(w, &w->burst) < 0 ||
            mr_side_loop_new(w->ctx, &w->side) < 0 ||
            mr_transport_watch_new(w->ctx, MR_PEER_SILENCE_S * 1000, &w->liveness) < 0) {
            /* Only the threads already running are stopped by _free. */
            mr_side_loop_free(w->side);
            mr_burst_free(w->burst);
            mr_sendq_free(w->sendq);
            g_main_loop_unref(w->loop);
            g_main_context_unref(w->ctx);
            pool->n = i;
            mr_worker_pool_free(pool);
            return MR_ENOMEM;
        }
        w->turn_clock = turn_clock_new(w);
        snprintf(name, sizeof(name), "mr-media-%u", i);
        w->cpu_clock = (clockid_t)-1;
        w->thread = g_thread_new(name, worker_main, w);
    }
    mr_log_info(SFU, "started %u media worker%s; fan-out sends %s", n, n == 1 ? "" : "s",
                mr_sendq_io_uring(pool->workers[0].sendq) ? "through io_uring"
                : io_uring                                ? "with sendmmsg (no io_uring here)"
                                                          : "with sendmmsg");
    *out = pool;
    return 0;
}

static gboolean quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void mr_worker_pool_free(struct mr_worker_pool *pool)
{
    if (!pool)
        return;
    for (unsigned i = 0; i < pool->n; i++) {
        struct mr_worker *w = &pool->workers[i];
        g_main_context_invoke(w->ctx, quit_loop, w->loop);
    }
    for (unsigned i = 0; i < pool->n; i++) {
        struct mr_worker *w = &pool->workers[i];
        g_thread_join(w->thread);
        g_main_loop_unref(w->loop);
        g_main_context_unref(w->ctx);
    }
    free(pool->workers);
    free(pool);
}

struct mr_worker *mr_worker_pool_pick(struct mr_worker_pool *pool)
{
    struct mr_worker *best = &pool->workers[0];
    for (unsigned i = 1; i < pool->n; i++)
        if (g_atomic_int_get(&pool->workers[i].load) < g_atomic_int_get(&best->load))
            best = &pool->workers[i];
    return best;
}

void mr_worker_hold(struct mr_worker *w)
{
    g_atomic_int_inc(&w->load);
}

struct mr_worker *mr_worker_pool_acquire(struct mr_worker_pool *pool)
{
    struct mr_worker *best = mr_worker_pool_pick(pool);
    mr_worker_hold(best);
    return best;
}

void mr_worker_release(struct mr_worker *w)
{
    g_atomic_int_dec_and_test(&w->load);
}

struct call {
    struct mr_worker *w;
    void (*fn)(void *);
    void *data;
};

static gboolean run_call(gpointer p)
{
    struct call *c = p;
    c->fn(c->data);
    mr_side_loop_kick(c->w->side);
    return G_SOURCE_REMOVE;
}

void mr_worker_call(struct mr_worker *w, void (*fn)(void *data), void *data)
{
    struct call *c = g_new(struct call, 1);
    c->w = w;
    c->fn = fn;
    c->data = data;
    /* An idle source, not g_main_context_invoke(): invoke runs at once when
     * the caller happens to own the context, and callers rely on "later". */
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, run_call, c, g_free);
    g_source_attach(src, w->ctx);
    g_source_unref(src);
}

GMainContext *mr_worker_context_for(struct mr_worker *w, bool subscriber)
{
    return subscriber ? mr_side_loop_context(w->side) : w->ctx;
}
