/*
 * The publisher leg's missing-packet list (relay/sfu/nack.h): what a gap
 * puts on it, when each packet is asked for (first after
 * MR_NACK_FIRST_US, then paced by the round trip with back-off), what
 * takes it off (a late packet, a key frame, MR_NACK_MAX_TRIES requests,
 * MR_NACK_MAX_AGE_US, overflow, a jump past MR_NACK_MAX_GAP), and how much
 * one call hands out. Times are in µs from 0, as the caller's clock.
 */
#include "sfu/nack.h"

#include "mr_test.h"

#define MS 1000

static unsigned gave_up;

static enum mr_nack_seen pkt(struct mr_nack_list *l, uint16_t seq, int64_t now)
{
    return mr_nack_on_packet(l, seq, now, &gave_up);
}

static unsigned due(struct mr_nack_list *l, int64_t now, int64_t rtt, uint16_t *out, unsigned max)
{
    return mr_nack_due(l, now, rtt, out, max, &gave_up);
}

/* A list that has seen `first`, then `after` (a gap between them), at t=0. */
static void gap_list(struct mr_nack_list *l, uint16_t first, uint16_t after)
{
    mr_nack_init(l);
    gave_up = 0;
    CHECK_INT(pkt(l, first, 0), MR_NACK_IN_ORDER);
    CHECK_INT(pkt(l, after, 0), MR_NACK_IN_ORDER);
}

/* The list's sequence numbers, as a check of what it holds. */
static void check_entries(const struct mr_nack_list *l, const uint16_t *want, unsigned n)
{
    CHECK_INT(l->n, n);
    for (unsigned i = 0; i < n && i < l->n; i++)
        CHECK_INT(l->entries[i].seq, want[i]);
}

static void test_in_order(void)
{
    struct mr_nack_list l;
    mr_nack_init(&l);
    gave_up = 0;
    CHECK(!mr_nack_pending(&l));
    uint16_t out[8];
    CHECK_INT(due(&l, 0, 0, out, 8), 0);
    for (unsigned i = 0; i < 300; i++)
        CHECK_INT(pkt(&l, (uint16_t)(65400 + i), (int64_t)i * MS), MR_NACK_IN_ORDER);
    CHECK(!mr_nack_pending(&l));
    CHECK_INT(l.highest, (uint16_t)(65400 + 299));
    CHECK_INT(due(&l, 10 * 1000 * MS, 0, out, 8), 0);
    CHECK_INT(gave_up, 0);

    /* The very first packet may be anything. */
    mr_nack_init(&l);
    CHECK_INT(pkt(&l, 40000, 0), MR_NACK_IN_ORDER);
    CHECK_INT(pkt(&l, 40001, 0), MR_NACK_IN_ORDER);
    CHECK(!mr_nack_pending(&l));
}

static void test_gap_first_request(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    gap_list(&l, 10, 14);
    CHECK(mr_nack_pending(&l));
    static const uint16_t want[] = {11, 12, 13};
    check_entries(&l, want, 3);
    CHECK_INT(gave_up, 0);

    /* Reordering is not loss: nothing before 10 ms. */
    CHECK_INT(due(&l, 0, 0, out, 8), 0);
    CHECK_INT(due(&l, MR_NACK_FIRST_US - 1, 0, out, 8), 0);
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, 8), 3);
    CHECK_MEM(out, want, sizeof(want));
    /* Asked once: not again at once. */
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, 8), 0);
    CHECK_INT(due(&l, MR_NACK_FIRST_US + 1 * MS, 0, out, 8), 0);
    for (unsigned i = 0; i < 3; i++) {
        CHECK_INT(l.entries[i].tries, 1);
        CHECK_INT(l.entries[i].asked_us, MR_NACK_FIRST_US);
    }
    CHECK(mr_nack_pending(&l));
    CHECK_INT(gave_up, 0);

    /* A later packet's gap has a clock of its own. */
    CHECK_INT(pkt(&l, 16, 5 * MS), MR_NACK_IN_ORDER); /* 15 missing since 5 ms */
    CHECK_INT(due(&l, 14 * MS, 0, out, 8), 0);
    CHECK_INT(due(&l, 15 * MS, 0, out, 8), 1);
    CHECK_INT(out[0], 15);
}

/* The retry interval: at least MR_NACK_MIN_RETRY_US, else rtt + 5 ms. */
static void test_retry_interval(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    int64_t t1 = MR_NACK_FIRST_US;

    /* Small round trip: the 20 ms floor. */
    gap_list(&l, 10, 14);
    CHECK_INT(due(&l, t1, 2 * MS, out, 8), 3);
    CHECK_INT(due(&l, t1 + MR_NACK_MIN_RETRY_US - 1, 2 * MS, out, 8), 0);
    CHECK_INT(due(&l, t1 + MR_NACK_MIN_RETRY_US, 2 * MS, out, 8), 3);
    CHECK_INT(out[0], 11);
    CHECK_INT(l.entries[0].tries, 2);

    /* A 50 ms round trip: 55 ms. */
    gap_list(&l, 10, 14);
    CHECK_INT(due(&l, t1, 50 * MS, out, 8), 3);
    CHECK_INT(due(&l, t1 + 55 * MS - 1, 50 * MS, out, 8), 0);
    CHECK_INT(due(&l, t1 + 55 * MS, 50 * MS, out, 8), 3);

    /* The round trip at the time of the retry counts, not the first's. */
    gap_list(&l, 10, 14);
    CHECK_INT(due(&l, t1, 200 * MS, out, 8), 3);
    CHECK_INT(due(&l, t1 + 20 * MS, 200 * MS, out, 8), 0);
    CHECK_INT(due(&l, t1 + 20 * MS, 0, out, 8), 3);
    CHECK_INT(gave_up, 0);
}

/* Each retry waits half a base interval longer than the one before. */
static void test_backoff(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    gap_list(&l, 1, 3); /* 2 is missing */
    int64_t base = 40 * MS, rtt = base - 5 * MS;
    int64_t t = MR_NACK_FIRST_US;
    CHECK_INT(due(&l, t, rtt, out, 8), 1);
    /* After request k (k = 1..), the next is base * (1 + (k - 1) / 2) on. */
    int64_t prev_wait = 0;
    for (unsigned k = 1; k < 6; k++) {
        int64_t wait = base + base * (k - 1) / 2;
        CHECK(wait > prev_wait);
        prev_wait = wait;
        CHECK_INT(due(&l, t + wait - 1, rtt, out, 8), 0);
        CHECK_INT(due(&l, t + wait, rtt, out, 8), 1);
        CHECK_INT(l.entries[0].tries, k + 1);
        t += wait;
    }
    CHECK(t < MR_NACK_MAX_AGE_US);
    CHECK_INT(gave_up, 0);
}

static void test_filled_and_old(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    gap_list(&l, 10, 14);
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, 8), 3);

    /* The retransmission of 12. */
    CHECK_INT(pkt(&l, 12, 15 * MS), MR_NACK_FILLED);
    static const uint16_t left[] = {11, 13};
    check_entries(&l, left, 2);
    CHECK_INT(due(&l, 30 * MS, 0, out, 8), 2);
    CHECK_INT(out[0], 11);
    CHECK_INT(out[1], 13);
    /* Twice is once too many. */
    CHECK_INT(pkt(&l, 12, 31 * MS), MR_NACK_OLD);
    check_entries(&l, left, 2);

    /* Duplicates of what arrived: the highest, one before it, far before. */
    CHECK_INT(pkt(&l, 14, 31 * MS), MR_NACK_OLD);
    CHECK_INT(pkt(&l, 10, 31 * MS), MR_NACK_OLD);
    CHECK_INT(pkt(&l, 62550, 31 * MS), MR_NACK_OLD); /* 3000 back: late, no restart */
    check_entries(&l, left, 2);
    CHECK_INT(l.highest, 14);

    CHECK_INT(pkt(&l, 11, 32 * MS), MR_NACK_FILLED);
    CHECK_INT(pkt(&l, 13, 32 * MS), MR_NACK_FILLED);
    CHECK(!mr_nack_pending(&l));
    CHECK_INT(due(&l, 100 * MS, 0, out, 8), 0);
    CHECK_INT(gave_up, 0);
}

/* Request times for base 20 ms (rtt 0): 10, 30, 60, 100, ... 550 ms. */
static int64_t ask_max_tries(struct mr_nack_list *l, int64_t *next)
{
    uint16_t out[8];
    int64_t t = MR_NACK_FIRST_US;
    CHECK_INT(due(l, t, 0, out, 8), 1);
    for (unsigned k = 1; k < MR_NACK_MAX_TRIES; k++) {
        t += MR_NACK_MIN_RETRY_US + MR_NACK_MIN_RETRY_US * (int64_t)(k - 1) / 2;
        CHECK_INT(due(l, t, 0, out, 8), 1);
    }
    CHECK_INT(l->entries[0].tries, MR_NACK_MAX_TRIES);
    *next = t + MR_NACK_MIN_RETRY_US + MR_NACK_MIN_RETRY_US * (MR_NACK_MAX_TRIES - 1) / 2;
    CHECK(*next < MR_NACK_MAX_AGE_US); /* the tries run out first */
    return t;
}

static void test_give_up_tries(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    int64_t next;
    gap_list(&l, 1, 3);
    int64_t last = ask_max_tries(&l, &next);

    /* No eleventh request; given up once the last has had its time. */
    CHECK_INT(due(&l, last + 5 * MS, 0, out, 8), 0);
    CHECK_INT(due(&l, next - 1, 0, out, 8), 0);
    CHECK_INT(gave_up, 0);
    CHECK(mr_nack_pending(&l));
    CHECK_INT(due(&l, next, 0, out, 8), 0);
    CHECK_INT(gave_up, 1);
    CHECK(!mr_nack_pending(&l));
    /* Too late now: a duplicate. */
    CHECK_INT(pkt(&l, 2, next + 1), MR_NACK_OLD);
}

/* The answer to the last request, arriving a round trip after it (the
 * caller's timer runs meanwhile), still fills the gap: repair.c drops a
 * retransmission that fills nothing as a duplicate. */
static void test_last_try_answered(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    int64_t next;
    gap_list(&l, 1, 3);
    int64_t last = ask_max_tries(&l, &next);
    for (int64_t t = last + 5 * MS; t < last + 15 * MS; t += 5 * MS)
        CHECK_INT(due(&l, t, 0, out, 8), 0);
    CHECK_INT(gave_up, 0);
    CHECK_INT(pkt(&l, 2, last + 15 * MS), MR_NACK_FILLED);
    CHECK(!mr_nack_pending(&l));
}

static void test_give_up_age(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    int64_t rtt = 300 * MS; /* few tries fit in a second */
    gap_list(&l, 1, 3);
    unsigned asked = 0;
    for (int64_t t = 0; t <= MR_NACK_MAX_AGE_US; t += 5 * MS)
        asked += due(&l, t, rtt, out, 8);
    CHECK(asked >= 2 && asked < MR_NACK_MAX_TRIES);
    /* Exactly a second old: still there. */
    CHECK(mr_nack_pending(&l));
    CHECK_INT(gave_up, 0);
    CHECK_INT(due(&l, MR_NACK_MAX_AGE_US + 1, rtt, out, 8), 0);
    CHECK_INT(gave_up, 1);
    CHECK(!mr_nack_pending(&l));

    /* Never asked for (the caller's timer late): given up all the same,
     * and counted once each. */
    gap_list(&l, 1, 5);
    CHECK_INT(due(&l, 2 * MR_NACK_MAX_AGE_US, 0, out, 8), 0);
    CHECK_INT(gave_up, 3);
    CHECK(!mr_nack_pending(&l));
    /* gave_up is added to, not set. */
    gap_list(&l, 1, 3);
    gave_up = 7;
    CHECK_INT(due(&l, 2 * MR_NACK_MAX_AGE_US, 0, out, 8), 0);
    CHECK_INT(gave_up, 8);

    /* Younger entries stay while older ones go. */
    mr_nack_init(&l);
    gave_up = 0;
    pkt(&l, 1, 0);
    pkt(&l, 3, 0);        /* 2 missing since 0 */
    pkt(&l, 5, 500 * MS); /* 4 missing since 0.5 s */
    CHECK_INT(due(&l, MR_NACK_MAX_AGE_US + 1, 1000 * MS, out, 8), 1);
    CHECK_INT(out[0], 4);
    CHECK_INT(gave_up, 1);
    static const uint16_t left[] = {4};
    check_entries(&l, left, 1);
}

static void test_overflow(void)
{
    struct mr_nack_list l;
    uint16_t out[MR_NACK_MAX];

    /* One gap of 200 (under MR_NACK_MAX_GAP): the newest 128 are kept. */
    gap_list(&l, 1000, 1201); /* 1001..1200 missing */
    CHECK_INT(l.n, MR_NACK_MAX);
    CHECK_INT(gave_up, 200 - MR_NACK_MAX);
    CHECK_INT(l.entries[0].seq, 1201 - MR_NACK_MAX);
    CHECK_INT(l.entries[MR_NACK_MAX - 1].seq, 1200);
    CHECK_INT(pkt(&l, 1001, 1), MR_NACK_OLD); /* given up already */

    /* Two gaps of 100: the second pushes out the first's oldest. */
    gap_list(&l, 0, 101); /* 1..100 */
    CHECK_INT(gave_up, 0);
    CHECK_INT(l.n, 100);
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, MR_NACK_MAX), 100);
    CHECK_INT(pkt(&l, 202, 20 * MS), MR_NACK_IN_ORDER); /* 102..201 */
    CHECK_INT(l.n, MR_NACK_MAX);
    CHECK_INT(gave_up, 200 - MR_NACK_MAX);
    CHECK_INT(l.entries[0].seq, 73);
    CHECK_INT(l.entries[0].tries, 1);
    CHECK_INT(l.entries[28].seq, 102);
    CHECK_INT(l.entries[28].tries, 0);
    for (unsigned i = 1; i < l.n; i++)
        CHECK((int16_t)(uint16_t)(l.entries[i].seq - l.entries[i - 1].seq) > 0);
}

static void test_large_gap(void)
{
    struct mr_nack_list l;
    uint16_t out[8];

    /* A jump of exactly MR_NACK_MAX_GAP missing packets is still a gap. */
    gap_list(&l, 100, 100 + MR_NACK_MAX_GAP + 1);
    CHECK_INT(l.n, MR_NACK_MAX);
    CHECK_INT(gave_up, MR_NACK_MAX_GAP - MR_NACK_MAX);

    /* One more restarts: what was missing is given up, the new gap is
     * not asked for. */
    gap_list(&l, 10, 14);
    CHECK_INT(pkt(&l, 14 + MR_NACK_MAX_GAP + 2, 1 * MS), MR_NACK_IN_ORDER);
    CHECK(!mr_nack_pending(&l));
    CHECK_INT(gave_up, 3);
    CHECK_INT(l.highest, 14 + MR_NACK_MAX_GAP + 2);
    CHECK_INT(due(&l, 100 * MS, 0, out, 8), 0);
    /* And goes on from there. */
    CHECK_INT(pkt(&l, 14 + MR_NACK_MAX_GAP + 4, 2 * MS), MR_NACK_IN_ORDER);
    CHECK_INT(l.n, 1);
    CHECK_INT(l.entries[0].seq, 14 + MR_NACK_MAX_GAP + 3);

    /* Across the wrap. */
    gap_list(&l, 65500, 65502);
    CHECK_INT(pkt(&l, (uint16_t)(65502 + MR_NACK_MAX_GAP + 2), 1 * MS), MR_NACK_IN_ORDER);
    CHECK(!mr_nack_pending(&l));
    CHECK_INT(gave_up, 1);
}

static void test_wrap(void)
{
    struct mr_nack_list l;
    uint16_t out[8];
    gap_list(&l, 65534, 2);
    static const uint16_t want[] = {65535, 0, 1};
    check_entries(&l, want, 3);
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, 8), 3);
    CHECK_MEM(out, want, sizeof(want));
    CHECK_INT(pkt(&l, 0, 12 * MS), MR_NACK_FILLED);
    CHECK_INT(pkt(&l, 65534, 12 * MS), MR_NACK_OLD);
    CHECK_INT(pkt(&l, 3, 12 * MS), MR_NACK_IN_ORDER);
    static const uint16_t left[] = {65535, 1};
    check_entries(&l, left, 2);
    /* A gap that ends just past the wrap. */
    CHECK_INT(pkt(&l, 5, 13 * MS), MR_NACK_IN_ORDER);
    static const uint16_t more[] = {65535, 1, 4};
    check_entries(&l, more, 3);
    CHECK_INT(gave_up, 0);
}

static void test_keyframe(void)
{
    struct mr_nack_list l;
    gap_list(&l, 10, 14);                        /* 11, 12, 13 */
    CHECK_INT(pkt(&l, 18, 0), MR_NACK_IN_ORDER); /* 15, 16, 17 */
    /* A key frame from 15 on: only what is before it goes. */
    mr_nack_keyframe(&l, 15);
    static const uint16_t left[] = {15, 16, 17};
    check_entries(&l, left, 3);
    mr_nack_keyframe(&l, 15);
    check_entries(&l, left, 3);
    /* One that starts before everything missing changes nothing. */
    mr_nack_keyframe(&l, 5);
    check_entries(&l, left, 3);
    mr_nack_keyframe(&l, 17);
    static const uint16_t last[] = {17};
    check_entries(&l, last, 1);
    mr_nack_keyframe(&l, 19);
    CHECK(!mr_nack_pending(&l));
    CHECK_INT(gave_up, 0); /* not given up: not needed */

    /* Across the wrap. */
    gap_list(&l, 65533, 1);                     /* 65534, 65535, 0 */
    CHECK_INT(pkt(&l, 4, 0), MR_NACK_IN_ORDER); /* 2, 3 */
    mr_nack_keyframe(&l, 1);
    static const uint16_t wrapped[] = {2, 3};
    check_entries(&l, wrapped, 2);

    /* On an empty list. */
    mr_nack_init(&l);
    mr_nack_keyframe(&l, 100);
    CHECK(!mr_nack_pending(&l));
}

static void test_due_max(void)
{
    struct mr_nack_list l;
    uint16_t out[MR_NACK_MAX];
    gap_list(&l, 0, 101); /* 1..100 */
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, 0), 0);
    CHECK_INT(l.entries[0].tries, 0);
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, 64), 64);
    CHECK_INT(out[0], 1);
    CHECK_INT(out[63], 64);
    CHECK_INT(l.entries[63].tries, 1);
    CHECK_INT(l.entries[64].tries, 0);
    /* The rest on the next call, even at the same time. */
    CHECK_INT(due(&l, MR_NACK_FIRST_US, 0, out, 64), 36);
    CHECK_INT(out[0], 65);
    CHECK_INT(out[35], 100);
    CHECK_INT(due(&l, MR_NACK_FIRST_US + 1 * MS, 0, out, 64), 0);

    /* Retries too: the first 10 now, the other 90 later. */
    int64_t t2 = MR_NACK_FIRST_US + MR_NACK_MIN_RETRY_US;
    CHECK_INT(due(&l, t2, 0, out, 10), 10);
    CHECK_INT(out[9], 10);
    CHECK_INT(due(&l, t2 + 1 * MS, 0, out, MR_NACK_MAX), 90);
    CHECK_INT(out[0], 11);
    CHECK_INT(l.n, 100);
    CHECK_INT(gave_up, 0);
}

/* An encoder restarted with the same SSRC, its numbers far behind: the
 * list starts again from there, so the next gap is seen at once. */
static void test_restart_backwards(void)
{
    struct mr_nack_list l;
    unsigned lost = 0;
    mr_nack_init(&l);
    mr_nack_on_packet(&l, 30000, 0, &lost);
    mr_nack_on_packet(&l, 30002, 0, &lost); /* 30001 missing */
    CHECK_INT(l.n, 1);
    CHECK_INT(mr_nack_on_packet(&l, 29990, 0, &lost), MR_NACK_OLD); /* late, not a restart */
    CHECK_INT(mr_nack_on_packet(&l, 100, 0, &lost), MR_NACK_IN_ORDER);
    CHECK_INT(l.n, 0);
    CHECK_INT(lost, 1);
    mr_nack_on_packet(&l, 102, 0, &lost); /* 101 missing */
    CHECK_INT(l.n, 1);
    CHECK_INT(l.entries[0].seq, 101);
}

MR_TEST_MAIN(MR_TEST(test_in_order), MR_TEST(test_restart_backwards), MR_TEST(test_gap_first_request), MR_TEST(test_retry_interval),
             MR_TEST(test_backoff), MR_TEST(test_filled_and_old), MR_TEST(test_give_up_tries),
             MR_TEST(test_last_try_answered), MR_TEST(test_give_up_age), MR_TEST(test_overflow),
             MR_TEST(test_large_gap), MR_TEST(test_wrap), MR_TEST(test_keyframe),
             MR_TEST(test_due_max))
