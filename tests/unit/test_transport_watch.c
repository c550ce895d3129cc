/*
 * The liveness watch (relay/transport/watch.h): one timer walks every
 * linked entry; an entry may unlink itself or others while it is looked at,
 * and those unlinked are not looked at again.
 */
#include "transport/watch.h"

#include "core/error.h"
#include "mr_test.h"

struct entry {
    struct mr_watch_link link; /* first: the look casts back */
    int looks;
    struct entry *drop; /* unlinked by this entry's next look */
    bool drop_self;
};

static struct mr_transport_watch *watch;

static void look(struct mr_watch_link *l)
{
    struct entry *e = (struct entry *)l;
    e->looks++;
    if (e->drop) {
        mr_watch_unlink(watch, &e->drop->link);
        e->drop = NULL;
    }
    if (e->drop_self)
        mr_watch_unlink(watch, &e->link);
}

/* Runs ctx until n looks at `probe` happened, or 2 s. */
static void run_until(GMainContext *ctx, const struct entry *probe, int n)
{
    gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (probe->looks < n && g_get_monotonic_time() < end)
        g_main_context_iteration(ctx, TRUE);
}

static void test_walk_and_unlink(void)
{
    GMainContext *ctx = g_main_context_new();
    /* A 750 ms limit: a look every 50 ms. */
    CHECK_INT(mr_transport_watch_new(ctx, 750, &watch), MR_OK);
    CHECK_INT((int)mr_transport_watch_limit_ms(watch), 750);
    struct entry e[4] = {0};
    for (int i = 0; i < 4; i++) {
        e[i].link.look = look;
        mr_watch_link(watch, &e[i].link);
    }
    mr_watch_link(watch, &e[0].link); /* twice: still once in the list */
    gint64 t0 = g_get_monotonic_time();
    run_until(ctx, &e[3], 1);
    gint64 took = g_get_monotonic_time() - t0;
    CHECK(took >= 40000 && took < 1000000);
    for (int i = 0; i < 4; i++)
        CHECK_INT(e[i].looks, 1);

    /* e[1] drops e[2] (the next one, already the walk's cursor) and itself. */
    e[1].drop = &e[2];
    e[1].drop_self = true;
    run_until(ctx, &e[3], 2);
    CHECK_INT(e[0].looks, 2);
    CHECK_INT(e[1].looks, 2);
    CHECK_INT(e[2].looks, 1);
    CHECK_INT(e[3].looks, 2);
    CHECK(!e[1].link.linked && !e[2].link.linked);

    /* e[3] drops e[0], already looked at in this walk; e[3] stays. */
    e[3].drop = &e[0];
    run_until(ctx, &e[3], 4);
    CHECK_INT(e[0].looks, 3);
    CHECK_INT(e[3].looks, 4);
    mr_watch_unlink(watch, &e[3].link);
    mr_watch_unlink(watch, &e[3].link); /* twice: nothing */
    mr_transport_watch_free(watch);
    watch = NULL;
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_walk_and_unlink))
