/*
 * The transport's liveness rule (relay/transport/liveness.h): a peer is
 * dead when it owes packets (it has been sending media, or we sent it media
 * after the last packet heard) and has sent none that authenticated for the
 * limit. Looks every second, limit 30 s, times in µs from 0.
 */
#include "transport/liveness.h"

#include "mr_test.h"

#define S      1000000LL
#define LIMIT  (30 * S)

struct peer_counts {
    uint64_t in, rtp_in, out;
};

/* Looks once a second from `from` to `to` (inclusive) with fixed counters;
 * returns the first second the rule said dead, or -1. */
static int64_t look_until(struct mr_liveness *l, const struct peer_counts *c, int64_t from,
                          int64_t to)
{
    for (int64_t t = from; t <= to; t++)
        if (mr_liveness_check(l, c->in, c->rtp_in, c->out, t * S, LIMIT))
            return t;
    return -1;
}

/* A publisher (it sent RTP) that vanishes: dead 30 s after the last packet,
 * whatever the relay sends it (RTCP only). */
static void test_sender_vanishes(void)
{
    struct mr_liveness l;
    struct peer_counts c = {0};
    mr_liveness_start(&l, 0, 0, 0);
    for (int64_t t = 1; t <= 100; t++) {
        c.in += 60;
        c.rtp_in += 55;
        CHECK(!mr_liveness_check(&l, c.in, c.rtp_in, c.out, t * S, LIMIT));
    }
    /* Last heard at 100 s. */
    CHECK_INT(look_until(&l, &c, 101, 200), 130);
}

/* A publisher on a link with long gaps (a 20 s outage, then traffic) is
 * never dead: only 30 s of silence counts. */
static void test_sender_outage_survives(void)
{
    struct mr_liveness l;
    struct peer_counts c = {0};
    mr_liveness_start(&l, 0, 0, 0);
    for (int64_t t = 1; t <= 200; t++) {
        bool outage = (t >= 50 && t < 70) || (t >= 100 && t < 129);
        if (!outage) {
            c.in += 50;
            c.rtp_in += 50;
        }
        CHECK(!mr_liveness_check(&l, c.in, c.rtp_in, c.out, t * S, LIMIT));
    }
}

/* A viewer fed media and reporting (RTCP only, no RTP) stays; once its
 * reports stop while media still goes to it, it is dead 30 s after its
 * last report. */
static void test_fed_viewer_stops_reporting(void)
{
    struct mr_liveness l;
    struct peer_counts c = {0};
    mr_liveness_start(&l, 0, 0, 0);
    for (int64_t t = 1; t <= 60; t++) {
        c.in += 1;
        c.out += 100;
        CHECK(!mr_liveness_check(&l, c.in, c.rtp_in, c.out, t * S, LIMIT));
    }
    int64_t dead = -1;
    for (int64_t t = 61; t <= 200 && dead < 0; t++) {
        c.out += 100;
        if (mr_liveness_check(&l, c.in, c.rtp_in, c.out, t * S, LIMIT))
            dead = t;
    }
    CHECK_INT(dead, 90);
}

/* A viewer that receives nothing (its publisher left) and so reports
 * nothing owes nothing: it stays however long the silence lasts, and owes
 * again once media goes to it. */
static void test_unfed_viewer_stays(void)
{
    struct mr_liveness l;
    struct peer_counts c = {0};
    mr_liveness_start(&l, 0, 0, 0);
    for (int64_t t = 1; t <= 20; t++) {
        c.in += 1;
        c.out += 100;
        CHECK(!mr_liveness_check(&l, c.in, c.rtp_in, c.out, t * S, LIMIT));
    }
    /* The publisher leaves at 20 s: nothing either way. */
    CHECK_INT(look_until(&l, &c, 21, 300), -1);
    /* A publisher returns at 301 s: the viewer has the whole limit to
     * report, and is dead 30 s later if it does not. */
    int64_t dead = -1;
    for (int64_t t = 301; t <= 400 && dead < 0; t++) {
        c.out += 100;
        if (mr_liveness_check(&l, c.in, c.rtp_in, c.out, t * S, LIMIT))
            dead = t;
    }
    CHECK_INT(dead, 331);
    /* Reporting at once instead keeps it. */
    mr_liveness_start(&l, c.in, c.out, 400 * S);
    for (int64_t t = 401; t <= 500; t++) {
        c.out += 100;
        if (t == 402 || t % 10 == 0)
            c.in++;
        CHECK(!mr_liveness_check(&l, c.in, c.rtp_in, c.out, t * S, LIMIT));
    }
}

/* A peer that never sent anything after the handshake and was never fed
 * (a room subscription in an empty room) is never judged. */
static void test_idle_from_start(void)
{
    struct mr_liveness l;
    struct peer_counts c = {.in = 3, .out = 0};
    mr_liveness_start(&l, c.in, c.out, 5 * S);
    CHECK_INT(look_until(&l, &c, 6, 1000), -1);
}

/* Counters moving in the same look (fed and heard together) owe nothing;
 * the first look in which only the feeding moved starts the debt, which
 * stands until the peer is heard. */
static void test_same_look(void)
{
    struct mr_liveness l;
    struct peer_counts c = {0};
    mr_liveness_start(&l, 0, 0, 0);
    c.in = 1;
    c.out = 1;
    CHECK(!mr_liveness_check(&l, c.in, c.rtp_in, c.out, 1 * S, LIMIT));
    CHECK_INT(look_until(&l, &c, 2, 100), -1);
    c.out = 2;
    CHECK(!mr_liveness_check(&l, c.in, c.rtp_in, c.out, 101 * S, LIMIT));
    /* Owing since 101 s, with nothing fed since: the debt stands. */
    CHECK_INT(look_until(&l, &c, 102, 200), 131);
}

MR_TEST_MAIN(MR_TEST(test_sender_vanishes), MR_TEST(test_sender_outage_survives),
             MR_TEST(test_fed_viewer_stops_reporting), MR_TEST(test_unfed_viewer_stays),
             MR_TEST(test_idle_from_start), MR_TEST(test_same_look))
