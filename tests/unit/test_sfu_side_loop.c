/*
 * The side loop (relay/sfu/side_loop.h): a context run from within another,
 * woken through epoll. Only the main context is ever iterated here, as on a
 * worker. Sockets are AF_UNIX datagram pairs.
 *
 *  - a socket of the side context wakes the main loop, and its source runs;
 *  - a timer of the side context fires on time (within the interval);
 *  - events that come within the interval of a turn wait for the next
 *    turn and are handled together in it, not one turn each;
 *  - a descriptor closed and reused under the same number is watched after
 *    a kick (what mr_worker_call does), not a second later;
 *  - idle, it does not spin;
 *  - contexts handed out in turn are turned apart: an event in one does not
 *    make GLib walk the others' sources.
 */
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mr_test.h"
#include "sfu/side_loop.h"

#define SOCKS 10

struct hits {
    int n;
    int64_t at_us[64];
};

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct hits *h = data;
    char buf[64];
    (void)cond;
    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        if (h->n < 64)
            h->at_us[h->n++] = g_get_monotonic_time();
    return G_SOURCE_CONTINUE;
}

static gboolean on_timer(gpointer data)
{
    struct hits *h = data;
    h->at_us[h->n++] = g_get_monotonic_time();
    return G_SOURCE_REMOVE;
}

static gboolean set_flag(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Iterates the main context (blocking) until *n reaches want or ms pass. */
static void run_until(GMainContext *main_ctx, const int *n, int want, int ms)
{
    gboolean timed_out = FALSE;
    GSource *guard = g_timeout_source_new((guint)ms);
    g_source_set_callback(guard, set_flag, &timed_out, NULL);
    g_source_attach(guard, main_ctx);
    while (*n < want && !timed_out)
        g_main_context_iteration(main_ctx, TRUE);
    g_source_destroy(guard);
    g_source_unref(guard);
}

/* A few turns, so that the side loop has queried and watches its sources. */
static void settle(GMainContext *main_ctx)
{
    int never = 0;
    run_until(main_ctx, &never, 1, 3 * MR_SIDE_LOOP_INTERVAL_US / 1000);
}

static GSource *watch(GMainContext *ctx, int fd, struct hits *h)
{
    GSource *src = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_readable, h, NULL);
    g_source_attach(src, ctx);
    return src;
}

struct fixture {
    GMainContext *main_ctx;
    struct mr_side_loop *l;
    GMainContext *side;
};

static void setup(struct fixture *f)
{
    f->main_ctx = g_main_context_new();
    g_main_context_push_thread_default(f->main_ctx);
    CHECK_INT(mr_side_loop_new(f->main_ctx, &f->l), 0);
    mr_side_loop_acquire(f->l);
    f->side = mr_side_loop_context(f->l);
}

static void teardown(struct fixture *f)
{
    mr_side_loop_free(f->l);
    g_main_context_pop_thread_default(f->main_ctx);
    g_main_context_unref(f->main_ctx);
}

static void test_socket_and_timer(void)
{
    struct fixture f;
    setup(&f);
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    struct hits sock_hits = {0}, timer_hits = {0};
    GSource *src = watch(f.side, sv[0], &sock_hits);
    settle(f.main_ctx);

    int64_t sent = g_get_monotonic_time();
    CHECK_INT(send(sv[1], "x", 1, 0), 1);
    run_until(f.main_ctx, &sock_hits.n, 1, 1000);
    CHECK_INT(sock_hits.n, 1);
    int64_t took = sock_hits.at_us[0] - sent;
    printf("  socket: handled %" PRId64 " us after the send\n", took);
    CHECK(took < 100000);

    GSource *timer = g_timeout_source_new(30);
    g_source_set_callback(timer, on_timer, &timer_hits, NULL);
    int64_t armed = g_get_monotonic_time();
    g_source_attach(timer, f.side);
    mr_side_loop_kick(f.l); /* attached from the main context's thread */
    run_until(f.main_ctx, &timer_hits.n, 1, 1000);
    CHECK_INT(timer_hits.n, 1);
    int64_t late = timer_hits.at_us[0] - armed;
    printf("  timer of 30 ms: fired after %" PRId64 " us\n", late);
    CHECK(late >= 30000 && late < 30000 + MR_SIDE_LOOP_INTERVAL_US + 70000);
    g_source_unref(timer);

    g_source_destroy(src);
    g_source_unref(src);
    close(sv[0]);
    close(sv[1]);
    teardown(&f);
}

static void test_coalescing(void)
{
    struct fixture f;
    setup(&f);
    int sv[SOCKS][2];
    struct hits hits[SOCKS];
    GSource *src[SOCKS];
    memset(hits, 0, sizeof(hits));
    for (int i = 0; i < SOCKS; i++) {
        CHECK_INT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv[i]), 0);
        src[i] = watch(f.side, sv[i][0], &hits[i]);
    }
    settle(f.main_ctx);

    /* One event: a turn handles it. */
    CHECK_INT(send(sv[0][1], "x", 1, 0), 1);
    run_until(f.main_ctx, &hits[0].n, 1, 1000);
    CHECK_INT(hits[0].n, 1);
    /* The others at once after it: they wait for the next turn, one
     * interval later, and are handled in it together. */
    for (int i = 1; i < SOCKS; i++)
        CHECK_INT(send(sv[i][1], "x", 1, 0), 1);
    run_until(f.main_ctx, &hits[SOCKS - 1].n, 1, 1000);
    int64_t first = hits[0].at_us[0], lo = INT64_MAX, hi = 0;
    for (int i = 1; i < SOCKS; i++) {
        CHECK_INT(hits[i].n, 1);
        lo = MIN(lo, hits[i].at_us[0]);
        hi = MAX(hi, hits[i].at_us[0]);
    }
    printf("  %d more events: handled %" PRId64 "-%" PRId64 " us after the first\n", SOCKS - 1,
           lo - first, hi - first);
    CHECK(lo - first >= MR_SIDE_LOOP_INTERVAL_US - 500);
    CHECK(hi - lo < 1000);

    for (int i = 0; i < SOCKS; i++) {
        g_source_destroy(src[i]);
        g_source_unref(src[i]);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    teardown(&f);
}

static void test_reused_descriptor(void)
{
    struct fixture f;
    setup(&f);
    int a[2], b[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_DGRAM, 0, a), 0);
    struct hits ha = {0}, hb = {0};
    GSource *sa = watch(f.side, a[0], &ha);
    settle(f.main_ctx);

    /* Socket a goes, socket b arrives under a's number, with a source
     * like a's: the side context's poll set looks the same as before. */
    int fd = a[0];
    g_source_destroy(sa);
    g_source_unref(sa);
    CHECK_INT(socketpair(AF_UNIX, SOCK_DGRAM, 0, b), 0);
    CHECK_INT(dup2(b[0], fd), fd); /* closes a[0] */
    close(b[0]);
    GSource *sb = watch(f.side, fd, &hb);
    mr_side_loop_kick(f.l);
    settle(f.main_ctx);

    int64_t sent = g_get_monotonic_time();
    CHECK_INT(send(b[1], "x", 1, 0), 1);
    run_until(f.main_ctx, &hb.n, 1, 2000);
    CHECK_INT(hb.n, 1);
    CHECK_INT(ha.n, 0);
    if (hb.n) {
        printf("  reused descriptor: handled %" PRId64 " us after the send\n",
               hb.at_us[0] - sent);
        CHECK(hb.at_us[0] - sent < 100000);
    }
    g_source_destroy(sb);
    g_source_unref(sb);
    close(fd);
    close(a[1]);
    close(b[1]);
    teardown(&f);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_idle(void)
{
    struct fixture f;
    setup(&f);
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    struct hits h = {0};
    GSource *src = watch(f.side, sv[0], &h);
    settle(f.main_ctx);
    double c0 = cpu_seconds();
    int never = 0;
    run_until(f.main_ctx, &never, 1, 300);
    double used = cpu_seconds() - c0;
    printf("  idle for 300 ms: %.2f ms of CPU\n", used * 1000);
    CHECK(used < 0.010);
    g_source_destroy(src);
    g_source_unref(src);
    close(sv[0]);
    close(sv[1]);
    teardown(&f);
}

/* A source that counts GLib's visits (prepare) to its context. */
struct counting {
    GSource base;
    int prepares;
};

static gboolean counting_prepare(GSource *base, gint *timeout)
{
    ((struct counting *)base)->prepares++;
    *timeout = -1;
    return FALSE;
}

static gboolean counting_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
    (void)base;
    (void)cb;
    (void)data;
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs counting_funcs = {.prepare = counting_prepare, .dispatch = counting_dispatch};

static void test_shards_apart(void)
{
    struct fixture f;
    setup(&f);
    GMainContext *other = mr_side_loop_context(f.l);
    CHECK(other != f.side);
    struct counting *quiet = (struct counting *)g_source_new(&counting_funcs, sizeof(*quiet));
    struct counting *busy = (struct counting *)g_source_new(&counting_funcs, sizeof(*busy));
    g_source_attach(&quiet->base, other);
    g_source_attach(&busy->base, f.side);
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    struct hits h = {0};
    GSource *src = watch(f.side, sv[0], &h);
    mr_side_loop_kick(f.l);
    settle(f.main_ctx);

    int quiet0 = quiet->prepares, busy0 = busy->prepares;
    for (int i = 0; i < 20; i++) {
        CHECK_INT(send(sv[1], "x", 1, 0), 1);
        run_until(f.main_ctx, &h.n, i + 1, 1000);
        int never = 0;
        run_until(f.main_ctx, &never, 1, 2 * MR_SIDE_LOOP_INTERVAL_US / 1000);
    }
    CHECK_INT(h.n, 20);
    printf("  20 events in one context: %d turns of it, %d of the other\n",
           busy->prepares - busy0, quiet->prepares - quiet0);
    CHECK(busy->prepares - busy0 >= 20);
    /* The other turns only for its once-a-second refresh. */
    CHECK(quiet->prepares - quiet0 <= 2);

    g_source_destroy(src);
    g_source_unref(src);
    g_source_destroy(&quiet->base);
    g_source_unref(&quiet->base);
    g_source_destroy(&busy->base);
    g_source_unref(&busy->base);
    close(sv[0]);
    close(sv[1]);
    teardown(&f);
}

MR_TEST_MAIN(MR_TEST(test_socket_and_timer), MR_TEST(test_coalescing),
             MR_TEST(test_reused_descriptor), MR_TEST(test_idle), MR_TEST(test_shards_apart))
