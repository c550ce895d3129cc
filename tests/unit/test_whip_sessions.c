/* What WHIP and WHEP remember of their sessions (whip/sessions.h): live
 * until they end, then for keep_us and at most max_ended of them. */
#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"
#include "mr_test.h"
#include "whip/sessions.h"

#define S 1000000 /* us */

static struct mr_whip_session rec(unsigned n)
{
    struct mr_whip_session r = {.kind = n % 2 ? MR_SESSION_SUBSCRIBE : MR_SESSION_PUBLISH};
    snprintf(r.id, sizeof(r.id), "%032x", n);
    snprintf(r.room, sizeof(r.room), "ward-%u", n);
    snprintf(r.stream, sizeof(r.stream), "cam");
    snprintf(r.sub, sizeof(r.sub), "cart-%u", n);
    snprintf(r.role, sizeof(r.role), "clinic");
    return r;
}

static const char *id(unsigned n)
{
    static char buf[4][MR_SESSION_ID_LEN + 1];
    static unsigned next;
    char *b = buf[next++ % 4];
    snprintf(b, MR_SESSION_ID_LEN + 1, "%032x", n);
    return b;
}

static void counts(struct mr_whip_sessions *s, unsigned live, unsigned ended)
{
    unsigned l, e;
    mr_whip_sessions_count(s, &l, &e);
    CHECK_INT(l, live);
    CHECK_INT(e, ended);
}

static void test_bad_arguments(void)
{
    struct mr_whip_sessions *s = NULL;
    CHECK_INT(mr_whip_sessions_new(0, 10 * S, &s), MR_EINVAL);
    CHECK_INT(mr_whip_sessions_new(4, 0, &s), MR_EINVAL);
    CHECK(s == NULL);
    mr_whip_sessions_free(NULL);
}

/* Live sessions are not "ended"; once ended they are, with their owner. */
static void test_live_then_ended(void)
{
    struct mr_whip_sessions *s;
    CHECK_INT(mr_whip_sessions_new(8, 600 * S, &s), 0);
    struct mr_whip_session a = rec(1), b = rec(2);
    CHECK_INT(mr_whip_sessions_add(s, &a), 0);
    CHECK_INT(mr_whip_sessions_add(s, &b), 0);
    counts(s, 2, 0);
    CHECK(mr_whip_sessions_ended(s, id(1), 1 * S) == NULL);
    mr_whip_sessions_end(s, id(1), 2 * S);
    counts(s, 1, 1);
    const struct mr_whip_session *r = mr_whip_sessions_ended(s, id(1), 3 * S);
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->id, a.id);
        CHECK_STR(r->room, "ward-1");
        CHECK_STR(r->stream, "cam");
        CHECK_STR(r->sub, "cart-1");
        CHECK_STR(r->role, "clinic");
        CHECK_INT(r->kind, MR_SESSION_SUBSCRIBE);
    }
    /* Ending twice, or ending what was never seen, changes nothing. */
    mr_whip_sessions_end(s, id(1), 4 * S);
    mr_whip_sessions_end(s, id(99), 4 * S);
    counts(s, 1, 1);
    CHECK(mr_whip_sessions_ended(s, id(99), 4 * S) == NULL);
    CHECK(mr_whip_sessions_ended(s, id(2), 4 * S) == NULL);
    mr_whip_sessions_free(s);
}

/* Ended sessions are forgotten keep_us after they ended, not after they
 * opened. */
static void test_kept_for_a_while(void)
{
    struct mr_whip_sessions *s;
    CHECK_INT(mr_whip_sessions_new(8, 600 * S, &s), 0);
    struct mr_whip_session a = rec(1), b = rec(2);
    mr_whip_sessions_add(s, &a);
    mr_whip_sessions_add(s, &b);
    mr_whip_sessions_end(s, id(1), 1000 * S);
    mr_whip_sessions_end(s, id(2), 1300 * S);
    CHECK(mr_whip_sessions_ended(s, id(1), 1599 * S) != NULL);
    CHECK(mr_whip_sessions_ended(s, id(1), 1600 * S) == NULL);
    counts(s, 0, 1);
    CHECK(mr_whip_sessions_ended(s, id(2), 1899 * S) != NULL);
    CHECK(mr_whip_sessions_ended(s, id(2), 1900 * S) == NULL);
    counts(s, 0, 0);
    mr_whip_sessions_free(s);
}

/* Past max_ended the oldest ended ones go first; live ones are not counted. */
static void test_bounded(void)
{
    struct mr_whip_sessions *s;
    CHECK_INT(mr_whip_sessions_new(3, 600 * S, &s), 0);
    for (unsigned i = 1; i <= 10; i++) {
        struct mr_whip_session r = rec(i);
        CHECK_INT(mr_whip_sessions_add(s, &r), 0);
    }
    for (unsigned i = 1; i <= 5; i++)
        mr_whip_sessions_end(s, id(i), (int64_t)i * S);
    counts(s, 5, 3);
    CHECK(mr_whip_sessions_ended(s, id(1), 6 * S) == NULL);
    CHECK(mr_whip_sessions_ended(s, id(2), 6 * S) == NULL);
    for (unsigned i = 3; i <= 5; i++)
        CHECK(mr_whip_sessions_ended(s, id(i), 6 * S) != NULL);
    mr_whip_sessions_free(s);
}

struct relay_view {
    bool gone[16];
    unsigned asked;
};

static bool alive(void *user, const char *sid)
{
    struct relay_view *v = user;
    unsigned n = 0;
    v->asked++;
    sscanf(sid, "%x", &n);
    return n >= 16 || !v->gone[n];
}

/* The sweep ends what the relay no longer has, and forgets old ones. */
static void test_sweep(void)
{
    struct mr_whip_sessions *s;
    CHECK_INT(mr_whip_sessions_new(8, 600 * S, &s), 0);
    for (unsigned i = 1; i <= 4; i++) {
        struct mr_whip_session r = rec(i);
        mr_whip_sessions_add(s, &r);
    }
    struct relay_view v = {.gone = {[2] = true, [3] = true}};
    mr_whip_sessions_sweep(s, 10 * S, alive, &v);
    CHECK_INT(v.asked, 4);
    counts(s, 2, 2);
    CHECK(mr_whip_sessions_ended(s, id(2), 11 * S) != NULL);
    CHECK(mr_whip_sessions_ended(s, id(3), 11 * S) != NULL);
    CHECK(mr_whip_sessions_ended(s, id(1), 11 * S) == NULL);
    /* Ended ones are not asked about again. */
    v.asked = 0;
    mr_whip_sessions_sweep(s, 20 * S, alive, &v);
    CHECK_INT(v.asked, 2);
    /* 600 s after they ended, a sweep forgets them. */
    mr_whip_sessions_sweep(s, 610 * S, alive, &v);
    counts(s, 2, 0);
    mr_whip_sessions_free(s);
}

/* An id opened again (ids are random: this does not happen) is live again. */
static void test_added_again(void)
{
    struct mr_whip_sessions *s;
    CHECK_INT(mr_whip_sessions_new(8, 600 * S, &s), 0);
    struct mr_whip_session a = rec(1);
    mr_whip_sessions_add(s, &a);
    mr_whip_sessions_end(s, id(1), 1 * S);
    counts(s, 0, 1);
    snprintf(a.sub, sizeof(a.sub), "someone-else");
    CHECK_INT(mr_whip_sessions_add(s, &a), 0);
    counts(s, 1, 0);
    CHECK(mr_whip_sessions_ended(s, id(1), 2 * S) == NULL);
    mr_whip_sessions_end(s, id(1), 3 * S);
    const struct mr_whip_session *r = mr_whip_sessions_ended(s, id(1), 4 * S);
    CHECK(r && strcmp(r->sub, "someone-else") == 0);
    CHECK_INT(mr_whip_sessions_add(s, &a), 0); /* live again, then replaced live */
    CHECK_INT(mr_whip_sessions_add(s, &a), 0);
    counts(s, 1, 0);
    mr_whip_sessions_free(s);
}

MR_TEST_MAIN(MR_TEST(test_bad_arguments), MR_TEST(test_live_then_ended),
             MR_TEST(test_kept_for_a_while), MR_TEST(test_bounded), MR_TEST(test_sweep),
             MR_TEST(test_added_again))
