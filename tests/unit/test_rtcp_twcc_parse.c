/*
 * Transport-wide congestion control feedback on the wire
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): packets
 * assembled by hand from the draft's field layout, which the writer must
 * reproduce byte for byte and the parser must read; the draft's own chunk
 * examples; two of libwebrtc's transport_feedback_unittest.cc scenarios
 * (their expected sizes, our bytes); and what the parser refuses.
 */
#include "rtcp/twcc.h"

#include "core/error.h"
#include "mr_test.h"

#define SENDER 0x11223344u
#define MEDIA  0x55667788u

static struct mr_twcc_rx rx;
static uint8_t out[2048];

/* Records arrivals[i] for tseq seqs[i] in order, writes one feedback and
 * checks it is exactly expect. */
static void check_written(const uint16_t *seqs, const int64_t *arrivals, unsigned n,
                          const uint8_t *expect, size_t expect_len)
{
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < n; i++)
        mr_twcc_rx_on_packet(&rx, seqs[i], arrivals[i]);
    memset(out, 0xee, sizeof(out));
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, 0, out, sizeof(out)), expect_len);
    CHECK_MEM(out, expect, expect_len);
    CHECK_INT(out[expect_len], 0xee);
    CHECK_INT(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, 0, out, sizeof(out)), 0);
}

/* Parses a whole packet (RTCP header on) into fb. */
static int parse_packet(const uint8_t *p, size_t len, struct mr_twcc_fb *fb)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    struct mr_rtcp_fb rfb;
    mr_rtcp_iter_init(&it, p, len);
    int rc = mr_rtcp_next(&it, &pkt);
    if (rc != 1)
        return rc < 0 ? rc : MR_EPARSE;
    rc = mr_rtcp_parse_fb(&pkt, &rfb);
    if (rc < 0)
        return rc;
    return mr_twcc_parse_fb(&rfb, fb);
}

/*
 * Received 100, 102, 103, 104 (101 lost), in the arrival order 100, 103,
 * 102, 104, at 64 000 500 us and on:
 *   reference time 64 000 000 us = 1000 x 64 ms, so 0x0003e8
 *   100 at +500 us from it:           2 ticks, small   (clock 64 000 500)
 *   101 lost
 *   102 at 64 001 500, +1000 us:      4 ticks, small   (clock 64 001 500)
 *   103 at 64 001 000, -500 us:      -2 ticks, large   (clock 64 001 000)
 *   104 at 64 071 000, +70 000 us:  280 ticks, large
 * Five symbols 1 0 1 2 2, mixed with a large one: a two-bit vector chunk,
 * 11 01 00 01 10 10 00 00 = 0xd1a0. 20 + 2 + 6 bytes: no padding.
 */
static const uint8_t vec_mixed[] = {
    0x8f, 0xcd, 0x00, 0x06, /* V=2 P=0 FMT=15, PT=205, length 6 */
    0x11, 0x22, 0x33, 0x44, /* sender SSRC */
    0x55, 0x66, 0x77, 0x88, /* media SSRC */
    0x00, 0x64, 0x00, 0x05, /* base 100, 5 statuses */
    0x00, 0x03, 0xe8, 0x00, /* reference time 1000, feedback 0 */
    0xd1, 0xa0,             /* two-bit vector */
    0x02, 0x04,             /* small deltas */
    0xff, 0xfe, 0x01, 0x18, /* large deltas: -2, 280 */
};

static void test_vector_mixed(void)
{
    const uint16_t seqs[] = {100, 103, 102, 104};
    const int64_t at[] = {64000500, 64001000, 64001500, 64071000};
    check_written(seqs, at, 4, vec_mixed, sizeof(vec_mixed));

    struct mr_twcc_fb fb;
    CHECK_INT(parse_packet(vec_mixed, sizeof(vec_mixed), &fb), MR_OK);
    CHECK_INT(fb.base_seq, 100);
    CHECK_INT(fb.status_count, 5);
    CHECK_INT(fb.ref_time, 1000);
    CHECK_INT(fb.fb_count, 0);
    CHECK_INT(fb.n_received, 4);
    CHECK(fb.has_deltas);
    static const struct mr_twcc_status want[] = {
        {100, MR_TWCC_SMALL_DELTA, true, 500, 64000500},
        {101, MR_TWCC_NOT_RECEIVED, false, 0, 0},
        {102, MR_TWCC_SMALL_DELTA, true, 1000, 64001500},
        {103, MR_TWCC_LARGE_DELTA, true, -500, 64001000},
        {104, MR_TWCC_LARGE_DELTA, true, 70000, 64071000},
    };
    struct mr_twcc_iter it;
    struct mr_twcc_status st;
    mr_twcc_iter_init(&it, &fb);
    for (unsigned i = 0; i < 5; i++) {
        CHECK(mr_twcc_next(&it, &st));
        CHECK_INT(st.seq, want[i].seq);
        CHECK_INT(st.symbol, want[i].symbol);
        CHECK_INT(st.received, want[i].received);
        CHECK_INT(st.delta_us, want[i].delta_us);
        CHECK_INT(st.arrival_us, want[i].arrival_us);
    }
    CHECK(!mr_twcc_next(&it, &st));
    CHECK(!mr_twcc_next(&it, &st));
}

/*
 * 65534, 65535, 0 across the wrap, 1 ms apart from 1 000 000 us: reference
 * 15 x 64 ms = 960 000 us, deltas 40 000 us = 160 ticks, then 4 and 4: a
 * run of three small ones, 0 01 0000000000011 = 0x2003. 20 + 2 + 3 bytes,
 * padded to 28: P set, two zeros and the count, 3.
 */
static const uint8_t vec_wrap_run[] = {
    0xaf, 0xcd, 0x00, 0x06, /* V=2 P=1 FMT=15, PT=205, length 6 */
    0x11, 0x22, 0x33, 0x44, /* sender SSRC */
    0x55, 0x66, 0x77, 0x88, /* media SSRC */
    0xff, 0xfe, 0x00, 0x03, /* base 65534, 3 statuses */
    0x00, 0x00, 0x0f, 0x00, /* reference time 15, feedback 0 */
    0x20, 0x03,             /* run of 3 small */
    0xa0, 0x04, 0x04,       /* 160, 4, 4 ticks */
    0x00, 0x00, 0x03,       /* padding */
};

static void test_vector_wrap_run(void)
{
    const uint16_t seqs[] = {65534, 65535, 0};
    const int64_t at[] = {1000000, 1001000, 1002000};
    check_written(seqs, at, 3, vec_wrap_run, sizeof(vec_wrap_run));

    struct mr_twcc_fb fb;
    struct mr_twcc_iter it;
    struct mr_twcc_status st;
    CHECK_INT(parse_packet(vec_wrap_run, sizeof(vec_wrap_run), &fb), MR_OK);
    CHECK_INT(fb.status_count, 3);
    mr_twcc_iter_init(&it, &fb);
    for (unsigned i = 0; i < 3; i++) {
        CHECK(mr_twcc_next(&it, &st));
        CHECK_INT(st.seq, (uint16_t)(65534 + i));
        CHECK_INT(st.arrival_us, 1000000 + 1000 * (int64_t)i);
    }
    CHECK(!mr_twcc_next(&it, &st));

    /* Old senders padded with up to three zeros and no P bit; libwebrtc
     * still reads those (its PaddingBackwardsCompatibility test). */
    uint8_t old[sizeof(vec_wrap_run)];
    memcpy(old, vec_wrap_run, sizeof(old));
    old[0] &= (uint8_t)~0x20;
    old[sizeof(old) - 1] = 0;
    CHECK_INT(parse_packet(old, sizeof(old), &fb), MR_OK);
    CHECK_INT(fb.status_count, 3);
    CHECK(fb.has_deltas);
}

/*
 * libwebrtc's TransportFeedbackMinRle: 0 and 29 received (at 1 and 2 ms),
 * 1-28 lost. "1-bit vector chunk (1xreceived + 13xdropped), RLE chunk of
 * length 15 for dropped symbol", then the last received one (a run of 1):
 * 0xa000, 0x000f, 0x2001, its expected size 20 + 3 x 2 + 2 x 1.
 */
static const uint8_t vec_min_rle[] = {
    0x8f, 0xcd, 0x00, 0x06,             /* P=0, length 6 */
    0x11, 0x22, 0x33, 0x44,             /* sender SSRC */
    0x55, 0x66, 0x77, 0x88,             /* media SSRC */
    0x00, 0x00, 0x00, 0x1e,             /* base 0, 30 statuses */
    0x00, 0x00, 0x00, 0x00,             /* reference time 0, feedback 0 */
    0xa0, 0x00, 0x00, 0x0f, 0x20, 0x01, /* one-bit vector, run, run */
    0x04, 0x04,                         /* 1 ms from 0, 1 ms more */
};

/*
 * libwebrtc's TransportFeedbackOneBitVector: 1, 2, 7, 8, 9, 10, 13
 * received, each at seq x 1 ms. Thirteen statuses without a large delta
 * but mixed: a one-bit vector, 1 0 | 1 1 0 0 0 0 1 1 1 1 0 0 1 0 = 0xb0f2.
 * Deltas 4, 4, 20, 4, 4, 4, 12 ticks; 20 + 2 + 7 bytes padded to 32.
 */
static const uint8_t vec_one_bit[] = {
    0xaf, 0xcd, 0x00, 0x07,             /* P=1, length 7 */
    0x11, 0x22, 0x33, 0x44,             /* sender SSRC */
    0x55, 0x66, 0x77, 0x88,             /* media SSRC */
    0x00, 0x01, 0x00, 0x0d,             /* base 1, 13 statuses */
    0x00, 0x00, 0x00, 0x00,             /* reference time 0, feedback 0 */
    0xb0, 0xf2,                         /* one-bit vector */
    0x04, 0x04, 0x14, 0x04, 0x04, 0x04, /* small deltas */
    0x0c, 0x00, 0x00, 0x03,             /* last delta, padding */
};

static void test_vectors_libwebrtc(void)
{
    const uint16_t rle_seqs[] = {0, 29};
    const int64_t rle_at[] = {1000, 2000};
    check_written(rle_seqs, rle_at, 2, vec_min_rle, sizeof(vec_min_rle));

    const uint16_t ob_seqs[] = {1, 2, 7, 8, 9, 10, 13};
    int64_t ob_at[7];
    for (unsigned i = 0; i < 7; i++)
        ob_at[i] = 1000 * (int64_t)ob_seqs[i];
    check_written(ob_seqs, ob_at, 7, vec_one_bit, sizeof(vec_one_bit));

    struct mr_twcc_fb fb;
    struct mr_twcc_iter it;
    struct mr_twcc_status st;
    CHECK_INT(parse_packet(vec_one_bit, sizeof(vec_one_bit), &fb), MR_OK);
    CHECK_INT(fb.n_received, 7);
    mr_twcc_iter_init(&it, &fb);
    unsigned k = 0;
    for (unsigned i = 0; i < 13; i++) {
        CHECK(mr_twcc_next(&it, &st));
        CHECK_INT(st.seq, 1 + i);
        bool rx_ = k < 7 && ob_seqs[k] == 1 + i;
        CHECK_INT(st.received, rx_);
        if (rx_)
            CHECK_INT(st.arrival_us, ob_at[k++]);
    }
    CHECK(!mr_twcc_next(&it, &st));
}

/*
 * The draft's chunk examples (§3.1.3, §3.1.4): 0x00dd, a run of 221 "not
 * received"; 0x9f1c, a one-bit vector "0 1 1 1 1 1 0 0 0 1 1 1 0 0". Here
 * in an FCI of 221 + 14 + 1 statuses, the last a run of one large delta.
 */
static void test_draft_chunks(void)
{
    const uint8_t fci[] = {
        0x12, 0x34, 0x00, 0xec,                         /* base 0x1234, 236 statuses */
        0x00, 0x00, 0x02, 0x07,                         /* reference time 2, feedback 7 */
        0x00, 0xdd, 0x9f, 0x1c,                         /* the draft's run and vector */
        0x40, 0x01,                                     /* a run of one large */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* eight small deltas */
        0xff, 0x00,                                     /* large: -256 ticks */
    };
    const uint8_t vector[] = {0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0};
    struct mr_twcc_fb fb;
    CHECK_INT(mr_twcc_parse(fci, sizeof(fci), &fb), MR_OK);
    CHECK_INT(fb.base_seq, 0x1234);
    CHECK_INT(fb.status_count, 236);
    CHECK_INT(fb.ref_time, 2);
    CHECK_INT(fb.fb_count, 7);
    CHECK_INT(fb.n_received, 9);

    struct mr_twcc_iter it;
    struct mr_twcc_status st;
    mr_twcc_iter_init(&it, &fb);
    int64_t t = 2 * 64000;
    unsigned small = 0;
    for (unsigned i = 0; i < 236; i++) {
        CHECK(mr_twcc_next(&it, &st));
        CHECK_INT(st.seq, 0x1234 + i);
        uint8_t sym = i < 221 ? 0 : i < 235 ? vector[i - 221] : MR_TWCC_LARGE_DELTA;
        CHECK_INT(st.symbol, sym);
        if (sym == MR_TWCC_SMALL_DELTA)
            t += 250 * (int64_t)++small;
        else if (sym == MR_TWCC_LARGE_DELTA)
            t -= 256 * 250;
        if (sym)
            CHECK_INT(st.arrival_us, t);
    }
    CHECK(!mr_twcc_next(&it, &st));
}

static void test_parse_limits(void)
{
    struct mr_twcc_fb fb;
    /* The smallest: one status, one chunk, its delta. */
    uint8_t min[] = {0, 1, 0, 1, 0, 0, 0, 0, 0x20, 0x01, 0x05};
    CHECK_INT(mr_twcc_parse(min, sizeof(min), &fb), MR_OK);
    CHECK_INT(mr_twcc_parse(min, 9, &fb), MR_EPARSE); /* no whole chunk */
    CHECK_INT(mr_twcc_parse(min, 0, &fb), MR_EPARSE);
    CHECK_INT(mr_twcc_parse(NULL, 4, &fb), MR_EINVAL);
    CHECK_INT(mr_twcc_parse(min, sizeof(min), NULL), MR_EINVAL);

    /* No status: libwebrtc refuses an empty feedback. */
    uint8_t empty[] = {0, 1, 0, 0, 0, 0, 0, 0, 0x20, 0x00};
    CHECK_INT(mr_twcc_parse(empty, sizeof(empty), &fb), MR_EPARSE);

    /* A status count the chunks do not reach. */
    uint8_t short_chunks[] = {0, 1, 0, 20, 0, 0, 0, 0, 0x20, 0x0a, 0, 0};
    CHECK_INT(mr_twcc_parse(short_chunks, sizeof(short_chunks), &fb), MR_EPARSE);

    /* The reserved symbol, in a run, in a two-bit vector; but past the
     * status count a vector's symbols do not matter. */
    uint8_t reserved[] = {0, 1, 0, 2, 0, 0, 0, 0, 0x60, 0x02, 0, 0, 0, 0};
    CHECK_INT(mr_twcc_parse(reserved, sizeof(reserved), &fb), MR_EPARSE);
    uint8_t reserved2[] = {0, 1, 0, 2, 0, 0, 0, 0, 0xf0, 0x00, 0, 0, 0, 0};
    CHECK_INT(mr_twcc_parse(reserved2, sizeof(reserved2), &fb), MR_EPARSE);
    uint8_t past_count[] = {0, 1, 0, 2, 0, 0, 0, 0, 0xd7, 0xff, 9, 8};
    CHECK_INT(mr_twcc_parse(past_count, sizeof(past_count), &fb), MR_OK);
    CHECK_INT(fb.n_received, 2);

    /* A run of length 0 describes nothing and is skipped. */
    uint8_t zero_run[] = {0, 1, 0, 1, 0, 0, 0, 0, 0x20, 0x00, 0x20, 0x01, 0x07};
    CHECK_INT(mr_twcc_parse(zero_run, sizeof(zero_run), &fb), MR_OK);
    struct mr_twcc_iter it;
    struct mr_twcc_status st;
    mr_twcc_iter_init(&it, &fb);
    CHECK(mr_twcc_next(&it, &st));
    CHECK_INT(st.delta_us, 7 * 250);
    CHECK(!mr_twcc_next(&it, &st));

    /* Deltas: all there, then trailing bytes ignored; a few bytes short
     * is the statuses-only form; a word or more short is truncated. */
    uint8_t d[8 + 2 + 12 + 3] = {0, 1, 0, 6, 0, 0, 0, 0, 0x40, 0x06};
    CHECK_INT(mr_twcc_parse(d, 22, &fb), MR_OK);
    CHECK(fb.has_deltas);
    CHECK_INT(mr_twcc_parse(d, sizeof(d), &fb), MR_OK);
    CHECK(fb.has_deltas);
    CHECK_INT(mr_twcc_parse(d, 10, &fb), MR_OK);
    CHECK(!fb.has_deltas);
    CHECK_INT(mr_twcc_parse(d, 13, &fb), MR_OK);
    CHECK(!fb.has_deltas);
    mr_twcc_iter_init(&it, &fb);
    unsigned n = 0;
    while (mr_twcc_next(&it, &st)) {
        CHECK(st.received);
        CHECK_INT(st.delta_us, 0);
        n++;
    }
    CHECK_INT(n, 6);
    CHECK_INT(mr_twcc_parse(d, 14, &fb), MR_EPARSE);
    CHECK_INT(mr_twcc_parse(d, 21, &fb), MR_EPARSE);

    /* Only RTPFB FMT=15 through mr_twcc_parse_fb. */
    struct mr_rtcp_fb rfb = {
        .type = MR_RTCP_RTPFB, .fmt = MR_RTCP_RTPFB_NACK, .fci = min, .fci_len = sizeof(min)};
    CHECK_INT(mr_twcc_parse_fb(&rfb, &fb), MR_EINVAL);
    rfb.type = MR_RTCP_PSFB;
    rfb.fmt = 15;
    CHECK_INT(mr_twcc_parse_fb(&rfb, &fb), MR_EINVAL);
    rfb.type = MR_RTCP_RTPFB;
    CHECK_INT(mr_twcc_parse_fb(&rfb, &fb), MR_OK);
    CHECK_INT(mr_twcc_parse_fb(NULL, &fb), MR_EINVAL);

    /* An iterator over nothing yields nothing. */
    mr_twcc_iter_init(&it, NULL);
    CHECK(!mr_twcc_next(&it, &st));
}

static void test_parse_every_truncation(void)
{
    /* Cutting a valid FCI anywhere never reads past the cut (ASan) and
     * never yields more than was there. */
    const uint8_t *fci = vec_mixed + 12;
    size_t full = sizeof(vec_mixed) - 12;
    uint8_t copy[64];
    for (size_t n = 0; n <= full; n++) {
        memcpy(copy, fci, n);
        struct mr_twcc_fb fb;
        int rc = mr_twcc_parse(copy, n, &fb);
        /* 8 fixed bytes, one chunk, 6 bytes of deltas. */
        if (n == full)
            CHECK(rc == MR_OK && fb.has_deltas);
        else if (n >= 10 && n < 14)
            CHECK(rc == MR_OK && !fb.has_deltas);
        else
            CHECK_INT(rc, MR_EPARSE);
    }
}

MR_TEST_MAIN(MR_TEST(test_vector_mixed), MR_TEST(test_vector_wrap_run),
             MR_TEST(test_vectors_libwebrtc), MR_TEST(test_draft_chunks),
             MR_TEST(test_parse_limits), MR_TEST(test_parse_every_truncation))
