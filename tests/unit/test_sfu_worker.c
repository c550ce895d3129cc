/*
 * A worker's turn clock (relay/sfu/worker.c): turn_started_us is when the
 * current turn of the worker's main context began dispatching, which
 * overload.c compares with the time to see a dispatch that keeps everything
 * else waiting.
 *
 *  - a call that arrives after the worker slept in its poll sees a turn
 *    that began just now: the sleep is not counted as a stall;
 *  - a call that runs long sees the turn's age grow with it;
 *  - the next turn starts the clock afresh.
 */
#include <glib.h>
#include <stdio.h>

#include "core/clock.h"
#include "mr_test.h"
#include "sfu/worker.h"

struct probe {
    struct mr_worker *w;
    int64_t busy_us;    /* how long the call keeps the worker */
    int64_t age_in_us;  /* now - turn_started_us when the call began */
    int64_t age_out_us; /* the same when it ended */
    int64_t started_us; /* turn_started_us as the call saw it */
    int done;           /* atomic */
};

static void probe_call(void *data)
{
    struct probe *p = data;
    int64_t now = mr_clock_mono_us();
    p->started_us = p->w->turn_started_us;
    p->age_in_us = now - p->started_us;
    if (p->busy_us)
        g_usleep((gulong)p->busy_us);
    p->age_out_us = mr_clock_mono_us() - p->w->turn_started_us;
    g_atomic_int_set(&p->done, 1);
}

static void call_and_wait(struct mr_worker *w, struct probe *p)
{
    p->w = w;
    mr_worker_call(w, probe_call, p);
    for (int i = 0; i < 5000 && !g_atomic_int_get(&p->done); i++)
        g_usleep(1000);
    CHECK(g_atomic_int_get(&p->done));
}

static void test_turn_clock(void)
{
    struct mr_worker_pool *pool = NULL;
    CHECK_INT(mr_worker_pool_new(1, false, &pool), 0);
    struct mr_worker *w = &pool->workers[0];

    /* Idle first: the worker sleeps in its poll. */
    g_usleep(300 * 1000);
    struct probe fresh = {0};
    call_and_wait(w, &fresh);
    printf("  after 300 ms idle: the turn is %lld us old\n", (long long)fresh.age_in_us);
    CHECK(fresh.age_in_us >= 0 && fresh.age_in_us < 100 * 1000);

    struct probe busy = {.busy_us = 600 * 1000};
    call_and_wait(w, &busy);
    printf("  a 600 ms call: the turn is %lld us old at its end\n", (long long)busy.age_out_us);
    CHECK(busy.age_out_us >= 600 * 1000);

    struct probe next = {0};
    call_and_wait(w, &next);
    CHECK(next.started_us > busy.started_us);
    CHECK(next.age_in_us < 100 * 1000);
    mr_worker_pool_free(pool);
}

MR_TEST_MAIN(MR_TEST(test_turn_clock))
