/* The room protocol's per-connection message-rate limit (room/flood.h). */
#include "mr_test.h"
#include "room/flood.h"

#define S 1000000LL

/* Sends `rate` messages a second, evenly, for `seconds`; returns the
 * second (from 0) in which the meter said to disconnect, or -1. Counts
 * the verdicts into counts[] when given. */
static int run(struct mr_flood *f, int64_t start, int rate, int seconds, unsigned counts[4])
{
    for (int i = 0; i < rate * seconds; i++) {
        int64_t t = start + (int64_t)i * S / rate;
        enum mr_flood_verdict v = mr_flood_count(f, t);
        if (counts)
            counts[v]++;
        if (v == MR_FLOOD_DISCONNECT)
            return (int)((t - start) / S);
    }
    return -1;
}

static void test_within_rate(void)
{
    struct mr_flood f = {0};
    unsigned counts[4] = {0};
    /* 40 a second for a minute: never refused. */
    CHECK_INT(run(&f, 5 * S, 40, 60, counts), -1);
    CHECK_INT(counts[MR_FLOOD_OK], 40 * 60);
    /* Exactly the rate: still fine. */
    struct mr_flood g = {0};
    CHECK_INT(run(&g, 7 * S, MR_FLOOD_PER_S, 30, NULL), -1);
}

static void test_steady_flood(void)
{
    /* 150 a second (the probe of issue 13): refused, then disconnected in
     * its third second, not left throttled for ever. */
    struct mr_flood f = {0};
    unsigned counts[4] = {0};
    int at = run(&f, 1 * S, 150, 30, counts);
    CHECK_INT(at, MR_FLOOD_RUN - 1);
    CHECK_INT(counts[MR_FLOOD_REFUSE], MR_FLOOD_ANSWERED * at);
    CHECK(counts[MR_FLOOD_DROP] > 0);
    /* Just over the rate is a flood too. */
    struct mr_flood g = {0};
    at = run(&g, 1 * S, 60, 30, NULL);
    CHECK_INT(at, MR_FLOOD_RUN - 1);
}

static void test_burst(void)
{
    /* One burst of 80 then quiet: refused, not disconnected. */
    struct mr_flood f = {0};
    unsigned counts[4] = {0};
    for (int i = 0; i < 80; i++)
        counts[mr_flood_count(&f, 3 * S + i)]++;
    CHECK_INT(counts[MR_FLOOD_OK], MR_FLOOD_PER_S);
    CHECK_INT(counts[MR_FLOOD_REFUSE], MR_FLOOD_ANSWERED);
    CHECK_INT(counts[MR_FLOOD_DROP], 80 - MR_FLOOD_PER_S - MR_FLOOD_ANSWERED);
    CHECK_INT(counts[MR_FLOOD_DISCONNECT], 0);
    CHECK_INT(mr_flood_count(&f, 5 * S), MR_FLOOD_OK);
    /* A burst of MR_FLOOD_BURST refusals inside one second is enough. */
    struct mr_flood g = {0};
    enum mr_flood_verdict v = MR_FLOOD_OK;
    int i = 0;
    for (; i < 1000 && v != MR_FLOOD_DISCONNECT; i++)
        v = mr_flood_count(&g, 9 * S + i);
    CHECK_INT(v, MR_FLOOD_DISCONNECT);
    CHECK_INT(i, MR_FLOOD_PER_S + MR_FLOOD_BURST);
}

static void test_intermittent(void)
{
    /* A flood every other second escapes the "in a row" rule but not the
     * "5 of the last 10" one. */
    struct mr_flood f = {0};
    int64_t t = 100 * S;
    int disconnected_at = -1;
    for (int sec = 0; sec < 20 && disconnected_at < 0; sec++, t += S) {
        int n = sec % 2 == 0 ? 120 : 5;
        for (int i = 0; i < n; i++)
            if (mr_flood_count(&f, t + (int64_t)i * S / n) == MR_FLOOD_DISCONNECT) {
                disconnected_at = sec;
                break;
            }
    }
    CHECK_INT(disconnected_at, 8);
    /* Two over-rate seconds separated by a long quiet spell are forgiven. */
    struct mr_flood g = {0};
    CHECK_INT(run(&g, 1 * S, 120, 2, NULL), -1);
    CHECK_INT(run(&g, 60 * S, 120, 2, NULL), -1);
}

MR_TEST_MAIN(MR_TEST(test_within_rate), MR_TEST(test_steady_flood), MR_TEST(test_burst),
             MR_TEST(test_intermittent))
