/*
 * Transport-wide congestion control feedback, the receive side
 * (rtcp/twcc.h): what the recorder reports for arrival patterns (in order,
 * gaps, reordering, wrap-around, long losses, duplicates, late packets,
 * jumps, restarts), how it splits what does not fit, and the reference time
 * and feedback count. Every packet written is read back through the RTCP
 * iterator, the feedback header parser and mr_twcc_parse; the byte-exact
 * vectors are in test_rtcp_twcc_parse.c.
 */
#include "rtcp/twcc.h"

#include "core/error.h"
#include "mr_test.h"

#define SENDER 0x11223344u
#define MEDIA  0x55667788u
#define T0     1000000000 /* a monotonic clock 1000 s after its start */

/* One feedback packet written and read back. */
struct fb {
    int len;
    struct mr_twcc_fb h;
    unsigned n;
    struct mr_twcc_status st[MR_TWCC_RING];
};

static uint8_t buf[16384];

/* Checks that the n bytes in buf are one well-formed feedback packet and
 * reads it into f. */
static void read_back(int n, struct fb *f)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb rfb;
    f->len = n;
    f->n = 0;
    CHECK(n > 0 && n % 4 == 0);
    if (n <= 0)
        return;
    mr_rtcp_iter_init(&it, buf, (size_t)n);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.len, n);
    CHECK_INT(mr_rtcp_parse_fb(&p, &rfb), MR_OK);
    CHECK_INT(rfb.sender_ssrc, SENDER);
    CHECK_INT(rfb.media_ssrc, MEDIA);
    CHECK_INT(mr_twcc_parse_fb(&rfb, &f->h), MR_OK);
    CHECK(f->h.has_deltas);
    /* Padding, when there is some, is zeros then its count, and there is
     * never a whole word of it. */
    if (p.padding) {
        uint8_t pad = buf[n - 1];
        CHECK(pad >= 1 && pad <= 3);
        for (int i = n - pad; i < n - 1; i++)
            CHECK_INT(buf[i], 0);
    }
    CHECK_INT(mr_rtcp_next(&it, &p), 0);

    struct mr_twcc_iter ti;
    mr_twcc_iter_init(&ti, &f->h);
    while (f->n < MR_TWCC_RING && mr_twcc_next(&ti, &f->st[f->n]))
        f->n++;
    CHECK_INT(f->n, f->h.status_count);
    /* The deltas end where the packet's body does. */
    CHECK(ti.delta == buf + n - (p.padding ? buf[n - 1] : 0));
}

/* Writes one feedback with room cap and reads it back; returns its length. */
static int feedback(struct mr_twcc_rx *t, size_t cap, struct fb *f)
{
    int n = mr_twcc_rx_write_feedback(t, SENDER, MEDIA, T0, buf, cap);
    if (n > 0) {
        CHECK((size_t)n <= cap);
        read_back(n, f);
    }
    return n;
}

/* The reported arrival of status i, which must be a received one. */
static int64_t arrival(const struct fb *f, unsigned i)
{
    CHECK(f->st[i].received);
    return f->st[i].arrival_us;
}

/* Whether a reported arrival is the recorded one: deltas are rounded to
 * 250 us, against the rounded sum so far, so never off by more than half. */
static bool near(int64_t reported, int64_t recorded)
{
    int64_t d = reported - recorded;
    return d >= -125 && d <= 125;
}

static struct mr_twcc_rx rx; /* 16 KB: static, as a peer embeds it */

static void test_nothing_to_report(void)
{
    mr_twcc_rx_init(&rx);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);
    mr_twcc_rx_on_packet(&rx, 7, T0);
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 7);
    CHECK_INT(f.h.status_count, 1);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);

    CHECK_INT(mr_twcc_rx_write_feedback(NULL, SENDER, MEDIA, T0, buf, sizeof(buf)), MR_EINVAL);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, NULL, sizeof(buf)), MR_EINVAL);
    mr_twcc_rx_on_packet(NULL, 1, T0); /* ignored */
    mr_twcc_rx_init(NULL);
}

static void test_consecutive(void)
{
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < 100; i++)
        mr_twcc_rx_on_packet(&rx, (uint16_t)(1000 + i), T0 + 1000 * (int64_t)i);
    struct fb f;
    /* 100 small deltas in one run-length chunk: 20 + 2 + 100, padded. */
    CHECK_INT(feedback(&rx, sizeof(buf), &f), 124);
    CHECK_INT(buf[20], 0x20);
    CHECK_INT(buf[21], 100);
    CHECK_INT(f.h.base_seq, 1000);
    CHECK_INT(f.h.status_count, 100);
    CHECK_INT(f.h.n_received, 100);
    CHECK_INT(f.h.fb_count, 0);
    for (unsigned i = 0; i < f.n; i++) {
        CHECK_INT(f.st[i].seq, 1000 + i);
        CHECK_INT(f.st[i].symbol, MR_TWCC_SMALL_DELTA);
        CHECK(near(arrival(&f, i), T0 + 1000 * (int64_t)i));
        if (i > 0)
            CHECK_INT(f.st[i].delta_us, 1000);
    }
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);

    /* The next packets start the next feedback, counted on. */
    mr_twcc_rx_on_packet(&rx, 1100, T0 + 200000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 1100);
    CHECK_INT(f.h.status_count, 1);
    CHECK_INT(f.h.fb_count, 1);
}

static void test_gaps(void)
{
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < 60; i++) {
        if (i % 3 != 1)
            mr_twcc_rx_on_packet(&rx, (uint16_t)(500 + i), T0 + 2000 * (int64_t)i);
    }
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 500);
    CHECK_INT(f.h.status_count, 60);
    CHECK_INT(f.h.n_received, 40);
    for (unsigned i = 0; i < f.n; i++) {
        CHECK_INT(f.st[i].received, i % 3 != 1);
        CHECK_INT(f.st[i].symbol, i % 3 != 1 ? MR_TWCC_SMALL_DELTA : MR_TWCC_NOT_RECEIVED);
        if (f.st[i].received)
            CHECK(near(arrival(&f, i), T0 + 2000 * (int64_t)i));
        else
            CHECK_INT(f.st[i].delta_us, 0);
    }
    /* Two-bit vectors are not needed without a large delta: 14 statuses
     * per one-bit chunk (60 = 4 x 14 + 4), and 40 deltas, padded. */
    CHECK_INT(f.len, 72);
}

static void test_reordering(void)
{
    /* Pairs swapped in arrival: 1 arrives before 0, 3 before 2, ... */
    mr_twcc_rx_init(&rx);
    int64_t when[40];
    for (unsigned i = 0; i < 40; i++) {
        unsigned seq = i ^ 1;
        when[seq] = T0 + 1500 * (int64_t)i;
        mr_twcc_rx_on_packet(&rx, (uint16_t)(20 + seq), when[seq]);
    }
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 20);
    CHECK_INT(f.h.status_count, 40);
    CHECK_INT(f.h.n_received, 40);
    unsigned negative = 0;
    for (unsigned i = 0; i < f.n; i++) {
        CHECK(near(arrival(&f, i), when[i]));
        if (f.st[i].delta_us < 0) {
            negative++;
            CHECK_INT(f.st[i].symbol, MR_TWCC_LARGE_DELTA);
        }
    }
    CHECK_INT(negative, 20); /* every odd one arrived before the one ahead */
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);
}

static void test_wrap_around(void)
{
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < 100; i++)
        mr_twcc_rx_on_packet(&rx, (uint16_t)(65500 + i), T0 + 500 * (int64_t)i);
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 65500);
    CHECK_INT(f.h.status_count, 100);
    CHECK_INT(f.st[35].seq, 65535);
    CHECK_INT(f.st[36].seq, 0);
    CHECK_INT(f.st[99].seq, 63);
    CHECK(near(arrival(&f, 99), T0 + 500 * 99));

    /* Across the wrap in the next feedback, with a gap over it. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 65534, T0);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    mr_twcc_rx_on_packet(&rx, 2, T0 + 3000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 65535);
    CHECK_INT(f.h.status_count, 4); /* 65535, 0, 1 lost; 2 received */
    CHECK(!f.st[0].received && !f.st[1].received && !f.st[2].received);
    CHECK(near(arrival(&f, 3), T0 + 3000));
}

static void test_long_loss(void)
{
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 10, T0);
    mr_twcc_rx_on_packet(&rx, 1511, T0 + 900000);
    struct fb f;
    int n = feedback(&rx, sizeof(buf), &f);
    /* One-bit vector (1 received, 13 lost), a run of the other 1487 lost,
     * a run of one received; a 0.9 s delta is a large one: 20 + 3 x 2 + 1
     * + 2 bytes, padded. */
    CHECK_INT(n, 32);
    CHECK_INT(buf[20], 0xa0);
    CHECK_INT(buf[21], 0x00);
    CHECK_INT(buf[22], 1487 >> 8);
    CHECK_INT(buf[23], 1487 & 0xff);
    CHECK_INT(buf[24], 0x40); /* run (T=0) of symbol 2 (large) */
    CHECK_INT(buf[25], 1);
    CHECK_INT(f.h.status_count, 1502);
    CHECK_INT(f.h.n_received, 2);
    CHECK(near(arrival(&f, 0), T0));
    CHECK(near(arrival(&f, 1501), T0 + 900000));
}

static void test_mixed_deltas(void)
{
    /* Offsets from the first arrival, and the symbol each delta needs. */
    static const struct {
        int64_t at;
        uint8_t sym;
    } p[] = {
        {0, MR_TWCC_SMALL_DELTA},
        {63750, MR_TWCC_SMALL_DELTA},             /* +63.75 ms: 255 ticks, the largest small */
        {127750, MR_TWCC_LARGE_DELTA},            /* +64 ms: 256 ticks */
        {127750, MR_TWCC_SMALL_DELTA},            /* +0 */
        {120000, MR_TWCC_LARGE_DELTA},            /* -7.75 ms */
        {120100, MR_TWCC_SMALL_DELTA},            /* +0.1 ms: rounds to 0 */
        {120200, MR_TWCC_SMALL_DELTA},            /* +0.1 ms more: rounds to 1 (against the sum) */
        {8311950, MR_TWCC_LARGE_DELTA},           /* +8191.75 ms: 32767 ticks, the largest */
        {8311950 - 8192000, MR_TWCC_LARGE_DELTA}, /* -8192 ms: the most negative */
    };
    /* A first arrival on a 64 ms boundary, so the first delta is 0. */
    const int64_t base = (int64_t)T0 / 64000 * 64000;
    unsigned np = sizeof(p) / sizeof(p[0]);
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < np; i++)
        mr_twcc_rx_on_packet(&rx, (uint16_t)(300 + i), base + p[i].at);
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.status_count, np);
    CHECK_INT(f.h.ref_time, base / 64000);
    for (unsigned i = 0; i < f.n && i < np; i++) {
        CHECK_INT(f.st[i].symbol, p[i].sym);
        CHECK(near(arrival(&f, i), base + p[i].at));
    }
    CHECK_INT(f.st[0].delta_us, 0);
    CHECK_INT(f.st[1].delta_us, 63750);
    CHECK_INT(f.st[5].delta_us, 0);
    CHECK_INT(f.st[6].delta_us, 250);
    CHECK_INT(f.st[7].delta_us, 32767 * 250);
    CHECK_INT(f.st[8].delta_us, -32768 * 250);

    /* A gap one delta cannot carry (more than 8191.75 ms) ends the
     * feedback; the next one starts at that packet with its own reference
     * time. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 1, base);
    mr_twcc_rx_on_packet(&rx, 2, base + 1000);
    mr_twcc_rx_on_packet(&rx, 4, base + 1000 + 8192000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 1);
    CHECK_INT(f.h.status_count, 3); /* 1, 2, and 3 lost */
    CHECK(!f.st[2].received);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 4);
    CHECK_INT(f.h.status_count, 1);
    CHECK_INT(f.h.ref_time, (base + 1000 + 8192000) / 64000);
    CHECK(near(arrival(&f, 0), base + 1000 + 8192000));
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);
}

/* Reports n packets with the feedback split to fit cap, and checks that
 * the pieces cover every one exactly once, in order. */
static void check_split(size_t cap, unsigned n)
{
    mr_twcc_rx_init(&rx);
    int64_t when[MR_TWCC_RING];
    for (unsigned i = 0; i < n; i++) {
        /* Some lost, some late enough for a large delta. */
        when[i] = T0 + 700 * (int64_t)i + (i % 50 == 49 ? 90000 : 0);
        if (i % 17 != 5)
            mr_twcc_rx_on_packet(&rx, (uint16_t)(60000 + i), when[i]);
    }
    unsigned covered = 0, packets = 0;
    struct fb f;
    int len;
    while ((len = feedback(&rx, cap, &f)) > 0) {
        CHECK_INT(f.h.fb_count, packets);
        CHECK_INT(f.h.base_seq, (uint16_t)(60000 + covered));
        for (unsigned i = 0; i < f.n; i++) {
            unsigned k = covered + i;
            CHECK_INT(f.st[i].received, k % 17 != 5);
            if (f.st[i].received)
                CHECK(near(arrival(&f, i), when[k]));
        }
        covered += f.n;
        packets++;
        if (packets > n)
            break;
    }
    CHECK_INT(len, 0);
    /* The last status reported is the highest received. */
    unsigned last = n - 1;
    while (last % 17 == 5)
        last--;
    CHECK_INT(covered, last + 1);
    CHECK(packets > 1);
}

static void test_split_to_fit(void)
{
    check_split(1200, 2000);
    check_split(100, 300);
    check_split(MR_TWCC_MIN_PACKET, 40);
    check_split(MR_TWCC_MIN_PACKET + 1, 40);

    /* Too small for even the first status: nothing written, nothing
     * changed. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 5, T0);
    static struct mr_twcc_rx before;
    before = rx;
    memset(buf, 0xee, 32);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, 23), MR_ENOSPC);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, 0), MR_ENOSPC);
    CHECK_MEM(&rx, &before, sizeof(rx));
    CHECK_INT(buf[0], 0xee);
    /* A small first delta fits in 23 bytes, padded to 24: no. In 24: yes. */
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, 24), 24);
}

static void test_duplicates(void)
{
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < 10; i++)
        mr_twcc_rx_on_packet(&rx, (uint16_t)i, T0 + 1000 * (int64_t)i);
    mr_twcc_rx_on_packet(&rx, 5, T0 + 50000); /* the first arrival counts */
    mr_twcc_rx_on_packet(&rx, 9, T0 + 60000);
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.status_count, 10);
    CHECK(near(arrival(&f, 5), T0 + 5000));
    CHECK(near(arrival(&f, 9), T0 + 9000));
    /* A duplicate of a reported packet reports nothing again. */
    mr_twcc_rx_on_packet(&rx, 3, T0 + 70000);
    mr_twcc_rx_on_packet(&rx, 9, T0 + 70000);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);
}

static void test_late_after_reported(void)
{
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < 10; i++) {
        if (i != 4)
            mr_twcc_rx_on_packet(&rx, (uint16_t)(200 + i), T0 + 1000 * (int64_t)i);
    }
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK(!f.st[4].received);
    /* 204 arrives after the feedback that called it lost: the next one
     * reports it, and again the ones after it, as libwebrtc does. */
    mr_twcc_rx_on_packet(&rx, 204, T0 + 30000);
    mr_twcc_rx_on_packet(&rx, 210, T0 + 31000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 204);
    CHECK_INT(f.h.status_count, 7);
    CHECK_INT(f.h.fb_count, 1);
    CHECK(near(arrival(&f, 0), T0 + 30000));
    CHECK(near(arrival(&f, 1), T0 + 5000)); /* negative delta */
    CHECK(near(arrival(&f, 6), T0 + 31000));
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);

    /* A packet older than the ring is not reported. */
    for (unsigned i = 11; i < 11 + MR_TWCC_RING; i++)
        mr_twcc_rx_on_packet(&rx, (uint16_t)(200 + i), T0 + 40000 + (int64_t)i);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);
    mr_twcc_rx_on_packet(&rx, 199, T0 + 50000); /* never received, too old */
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);
}

static void test_first_status_lost(void)
{
    /* After a feedback, the next one starts with what is still missing;
     * its reference time comes from the first packet received. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 1, T0);
    struct fb f;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    mr_twcc_rx_on_packet(&rx, 4, T0 + 100000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 2);
    CHECK_INT(f.h.status_count, 3);
    CHECK_INT(f.h.ref_time, (T0 + 100000) / 64000);
    CHECK(!f.st[0].received && !f.st[1].received);
    CHECK_INT(f.st[2].delta_us, (T0 + 100000) % 64000);
}

static void test_feedback_count(void)
{
    mr_twcc_rx_init(&rx);
    struct fb f;
    for (unsigned i = 0; i < 300; i++) {
        mr_twcc_rx_on_packet(&rx, (uint16_t)i, T0 + 1000 * (int64_t)i);
        CHECK(feedback(&rx, sizeof(buf), &f) > 0);
        CHECK_INT(f.h.fb_count, i & 0xff);
        CHECK_INT(f.h.base_seq, i);
    }
}

static void test_reference_time(void)
{
    struct fb f;
    /* Rounded down to 64 ms: the first delta is what lies under it. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 0, 64000 * 1000 + 63999);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.ref_time, 1000);
    CHECK_INT(f.st[0].delta_us, 64000); /* 255.996 ticks round to 256 */
    CHECK_INT(f.st[0].symbol, MR_TWCC_LARGE_DELTA);

    /* Modulo 2^24: 2^24 x 64 ms is about 12.4 days. */
    const int64_t wrap = (int64_t)64000 << 24;
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 0, wrap - 64000 + 500);
    mr_twcc_rx_on_packet(&rx, 1, wrap + 500);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.ref_time, 0xffffff);
    CHECK_INT(f.st[0].delta_us, 500);
    CHECK_INT(f.st[1].delta_us, 64000);
    mr_twcc_rx_on_packet(&rx, 2, wrap + 1000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.ref_time, 0);

    /* A clock before its epoch still rounds down. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 0, -1);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.ref_time, 0xffffff);
    CHECK_INT(f.st[0].delta_us, 64000);

    /* Clock values far apart split instead of overflowing. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 0, INT64_MIN);
    mr_twcc_rx_on_packet(&rx, 1, INT64_MAX);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.status_count, 1);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 1);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, T0, buf, sizeof(buf)), 0);
}

static void test_ring_overflow(void)
{
    /* More packets than the ring between two feedbacks: the oldest are
     * forgotten, never reported as lost. */
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < 3000; i++)
        mr_twcc_rx_on_packet(&rx, (uint16_t)i, T0 + 100 * (int64_t)i);
    struct fb f;
    unsigned covered = 0;
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 3000 - MR_TWCC_RING);
    covered += f.n;
    for (unsigned i = 0; i < 8 && feedback(&rx, sizeof(buf), &f) > 0; i++)
        covered += f.n;
    CHECK_INT(covered, MR_TWCC_RING);
    CHECK_INT(f.n > 0 ? f.st[f.n - 1].seq : 0, 2999);
}

static void test_jumps(void)
{
    struct fb f;
    /* A jump forward within the ring: the packets between were lost. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 100, T0);
    mr_twcc_rx_on_packet(&rx, 100 + MR_TWCC_RING - 1, T0 + 1000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.status_count, MR_TWCC_RING);
    CHECK_INT(f.h.n_received, 2);

    /* The slots the jump skips still hold what arrived a ring earlier:
     * those packets must not come back as received. */
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < 10; i++)
        mr_twcc_rx_on_packet(&rx, (uint16_t)i, T0 + (int64_t)i);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    mr_twcc_rx_on_packet(&rx, MR_TWCC_RING + 5, T0 + 1000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 10);
    CHECK_INT(f.h.status_count, MR_TWCC_RING - 4);
    CHECK_INT(f.h.n_received, 1);
    CHECK(f.st[f.n - 1].received);

    /* A jump of the ring or more restarts the window at the new packet;
     * the ones before it not yet reported are dropped. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 100, T0);
    mr_twcc_rx_on_packet(&rx, 100 + MR_TWCC_RING, T0 + 1000);
    mr_twcc_rx_on_packet(&rx, 101 + MR_TWCC_RING, T0 + 2000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 100 + MR_TWCC_RING);
    CHECK_INT(f.h.status_count, 2);
    CHECK(near(arrival(&f, 1), T0 + 2000));

    /* One packet far behind is a straggler: dropped. */
    mr_twcc_rx_init(&rx);
    mr_twcc_rx_on_packet(&rx, 20000, T0);
    mr_twcc_rx_on_packet(&rx, 5000, T0 + 1000);
    mr_twcc_rx_on_packet(&rx, 20001, T0 + 2000);
    mr_twcc_rx_on_packet(&rx, 5001, T0 + 3000); /* not after 5000: a packet came between */
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 20000);
    CHECK_INT(f.h.status_count, 2);

    /* Two in a row: the sender restarted its sequence; so does the window,
     * at the second. */
    mr_twcc_rx_on_packet(&rx, 7000, T0 + 4000);
    mr_twcc_rx_on_packet(&rx, 7001, T0 + 5000);
    mr_twcc_rx_on_packet(&rx, 7002, T0 + 6000);
    CHECK(feedback(&rx, sizeof(buf), &f) > 0);
    CHECK_INT(f.h.base_seq, 7001);
    CHECK_INT(f.h.status_count, 2);
    CHECK(near(arrival(&f, 0), T0 + 5000));
    CHECK_INT(f.h.fb_count, 1); /* the count goes on */
}

MR_TEST_MAIN(MR_TEST(test_nothing_to_report), MR_TEST(test_consecutive), MR_TEST(test_gaps),
             MR_TEST(test_reordering), MR_TEST(test_wrap_around), MR_TEST(test_long_loss),
             MR_TEST(test_mixed_deltas), MR_TEST(test_split_to_fit), MR_TEST(test_duplicates),
             MR_TEST(test_late_after_reported), MR_TEST(test_first_status_lost),
             MR_TEST(test_feedback_count), MR_TEST(test_reference_time),
             MR_TEST(test_ring_overflow), MR_TEST(test_jumps))
