/*
 * Receive statistics (RFC 3550 A.1 probation and sequence tracking, A.3
 * loss, A.8 jitter) and LSR/DLSR, driven with synthetic packet streams.
 */
#include "rtcp/rtcp.h"

#include "mr_test.h"

#define VIDEO_RATE 90000
#define STEP_US 10000  /* 10 ms between packets */
#define STEP_TS 900    /* the same 10 ms at 90 kHz */

/* Feeds seq with a timestamp and arrival that match perfectly. */
static bool feed(struct mr_rtp_rx_stats *s, uint16_t seq, uint32_t n)
{
    return mr_rtp_rx_stats_update(s, seq, 1234 + n * STEP_TS, 5000000 + (int64_t)n * STEP_US);
}

static void test_probation(void)
{
    struct mr_rtp_rx_stats s;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    /* A.1: the first packet of a new source is not yet valid. */
    CHECK(!feed(&s, 1000, 0));
    CHECK(feed(&s, 1001, 1));
    CHECK(feed(&s, 1002, 2));
    /* A non-consecutive second packet restarts probation. */
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    CHECK(!feed(&s, 10, 0));
    CHECK(!feed(&s, 12, 1));
    CHECK(feed(&s, 13, 2));
    /* Probation across the wrap, which the RFC's int arithmetic misses. */
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    CHECK(!feed(&s, 65535, 0));
    CHECK(feed(&s, 0, 1));

    /* Before probation ends, a report says nothing about loss. */
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    mr_rtp_rx_stats_report(&s, 42, 0, &rb);
    CHECK_INT(rb.ssrc, 42);
    CHECK_INT(rb.cumulative_lost, 0);
    CHECK_INT(rb.ext_highest_seq, 0);
    CHECK(!feed(&s, 0, 0)); /* seq 0: max_seq starts at 65535 */
    mr_rtp_rx_stats_report(&s, 42, 0, &rb);
    CHECK_INT(rb.cumulative_lost, 0);
    CHECK_INT(rb.fraction_lost, 0);
}

static void test_in_order(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    for (uint32_t n = 0; n < 100; n++)
        feed(&s, (uint16_t)(1000 + n), n);
    mr_rtp_rx_stats_report(&s, 7, 0, &rb);
    CHECK_INT(rb.ssrc, 7);
    CHECK_INT(rb.fraction_lost, 0);
    CHECK_INT(rb.cumulative_lost, 0);
    CHECK_INT(rb.ext_highest_seq, 1099);
    CHECK_INT(rb.jitter, 0);
    CHECK_INT(rb.lsr, 0);
    CHECK_INT(rb.dlsr, 0);
}

static void test_gap_of_five(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    /* Seq 0 starts probation, so the interval runs from 1 to 100:
     * N = 100 expected, 50-54 missing. */
    for (uint32_t n = 0; n <= 100; n++) {
        if (n >= 50 && n < 55)
            continue;
        feed(&s, (uint16_t)n, n);
    }
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.ext_highest_seq, 100);
    CHECK_INT(rb.cumulative_lost, 5);
    CHECK_INT(rb.fraction_lost, 5 * 256 / 100);

    /* The next interval has no loss: fraction 0, cumulative unchanged. */
    for (uint32_t n = 101; n <= 200; n++)
        feed(&s, (uint16_t)n, n);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.cumulative_lost, 5);
    CHECK_INT(rb.fraction_lost, 0);
    CHECK_INT(rb.ext_highest_seq, 200);

    /* 10 of the next 40 lost (201, 205, ... 237): a quarter. */
    for (uint32_t n = 201; n <= 240; n++) {
        if (n % 4 == 1)
            continue;
        feed(&s, (uint16_t)n, n);
    }
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.cumulative_lost, 15);
    CHECK_INT(rb.fraction_lost, 64);
    /* An empty interval reports no fraction. */
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.fraction_lost, 0);
    CHECK_INT(rb.cumulative_lost, 15);
}

static void test_wrap(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    for (uint32_t n = 0; n < 100; n++)
        CHECK(feed(&s, (uint16_t)(65500 + n), n) == (n > 0));
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    /* 65500 + 99 = 65599 = one cycle + 63. */
    CHECK_INT(rb.ext_highest_seq, 65536 + 63);
    CHECK_INT(rb.cumulative_lost, 0);
    CHECK_INT(rb.fraction_lost, 0);
    /* A gap straddling the wrap is counted as loss, not as a cycle. */
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    feed(&s, 65530, 0);
    feed(&s, 65531, 1);
    feed(&s, 65532, 2);
    feed(&s, 2, 3);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.ext_highest_seq, 65536 + 2);
    CHECK_INT(rb.cumulative_lost, 5); /* 65533-65535, 0, 1 */
    /* Several cycles. */
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    for (uint32_t n = 0; n < 3 * 65536 + 10; n++)
        feed(&s, (uint16_t)n, n);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.ext_highest_seq, 3 * 65536 + 9);
    CHECK_INT(rb.cumulative_lost, 0);
}

static void test_reordering(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    static const uint16_t order[] = {100, 101, 102, 104, 103, 105, 108, 106, 107, 109};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        CHECK(feed(&s, order[i], order[i] - 100u) == (i > 0));
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.ext_highest_seq, 109);
    CHECK_INT(rb.cumulative_lost, 0);
    CHECK_INT(rb.fraction_lost, 0);

    /* Reordered across the wrap: the late 65535 must not add a cycle. */
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    feed(&s, 65533, 0);
    feed(&s, 65534, 1);
    feed(&s, 0, 3);
    feed(&s, 65535, 2);
    feed(&s, 1, 4);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.ext_highest_seq, 65536 + 1);
    CHECK_INT(rb.cumulative_lost, 0);
}

static void test_duplicates(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    feed(&s, 1, 0);
    feed(&s, 2, 1);
    feed(&s, 3, 2);
    feed(&s, 3, 2);
    feed(&s, 3, 2);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    /* Expected 2 (seq 2-3), received 4: cumulative lost goes negative. */
    CHECK_INT(rb.cumulative_lost, -2);
    CHECK_INT(rb.fraction_lost, 0);
}

static void test_large_jump(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    for (uint32_t n = 0; n < 10; n++)
        feed(&s, (uint16_t)(1000 + n), n);
    /* A lone jump of more than MAX_DROPOUT is refused... */
    CHECK(!feed(&s, 20000, 10));
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.ext_highest_seq, 1009);
    CHECK_INT(rb.cumulative_lost, 0);
    /* ...and the stream carries on as if it never came. */
    CHECK(feed(&s, 1010, 11));
    /* A jump confirmed by its successor re-synchronises (sender restart). */
    CHECK(!feed(&s, 30000, 12));
    CHECK(feed(&s, 30001, 13));
    CHECK(feed(&s, 30002, 14));
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.ext_highest_seq, 30002);
    CHECK_INT(rb.cumulative_lost, 0);
    /* A jump of just under MAX_DROPOUT is a gap, counted as loss. */
    CHECK(feed(&s, 30002 + 2999, 15));
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.cumulative_lost, 2998);
    /* Packets fewer than MAX_MISORDER behind are reordered; at 100 behind
     * A.1 already treats them as a jump. */
    CHECK(feed(&s, 30002 + 2999 - 99, 16));
    CHECK(!feed(&s, 30002 + 2999 - 100, 17));
}

static void test_cumulative_clamp(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    /* Jumps of 2999 lose 2998 packets each: 2800 of them overflow 24 bits. */
    uint16_t seq = 0;
    feed(&s, seq, 0);
    feed(&s, ++seq, 1);
    for (uint32_t n = 0; n < 2800; n++) {
        seq = (uint16_t)(seq + 2999);
        feed(&s, seq, n + 2);
    }
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.cumulative_lost, 0x7fffff);
    CHECK_INT(rb.fraction_lost, 255); /* 2998/2999 of everything */

    /* And the other way: 8.4 million duplicates. */
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    feed(&s, 0, 0);
    for (uint32_t n = 0; n < 0x800010; n++)
        mr_rtp_rx_stats_update(&s, 1, 0, 0);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.cumulative_lost, -0x800000);
    CHECK_INT(rb.fraction_lost, 0);
}

static void test_jitter_paced(void)
{
    /* Perfect pacing, with an arbitrary constant network delay and RTP
     * timestamp base: transit never changes, so jitter stays 0. */
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    for (uint32_t n = 0; n < 500; n++)
        mr_rtp_rx_stats_update(&s, (uint16_t)(40000 + n), 0xfffff000u + n * STEP_TS,
                               987654321 + (int64_t)n * STEP_US);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.jitter, 0);
    CHECK_INT(s.jitter, 0);

    /* 20 ms Opus frames at 48 kHz. */
    mr_rtp_rx_stats_init(&s, 48000);
    for (uint32_t n = 0; n < 500; n++)
        mr_rtp_rx_stats_update(&s, (uint16_t)n, n * 960, (int64_t)n * 20000);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.jitter, 0);

    /* Negative clock values (a caller's clock base) change nothing. */
    mr_rtp_rx_stats_init(&s, 48000);
    for (uint32_t n = 0; n < 100; n++)
        mr_rtp_rx_stats_update(&s, (uint16_t)n, n * 960, -1000000 + (int64_t)n * 20000);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.jitter, 0);
}

static void test_jitter_converges(void)
{
    /* A single 20 ms delay spike decays back toward zero. */
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    for (uint32_t n = 0; n < 20; n++)
        feed(&s, (uint16_t)n, n);
    mr_rtp_rx_stats_update(&s, 20, 1234 + 20 * STEP_TS, 5000000 + 20 * STEP_US + 20000);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    /* |D| = 1800 ticks, J = 1800/16. */
    CHECK_INT(rb.jitter, 1800 / 16);
    uint32_t peak = 0;
    for (uint32_t n = 21; n < 400; n++) {
        feed(&s, (uint16_t)n, n);
        if (n == 21) {
            mr_rtp_rx_stats_report(&s, 1, 0, &rb);
            peak = rb.jitter;
        }
    }
    CHECK(peak > 1800 / 16);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK(rb.jitter <= 1);
}

static void test_jitter_jittered(void)
{
    /* Arrivals alternately 5 ms early and late: |D| is always 10 ms, and
     * A.8's estimator converges to it (900 ticks at 90 kHz). */
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    for (uint32_t n = 0; n < 500; n++) {
        int64_t wobble = (n % 2) ? 5000 : -5000;
        mr_rtp_rx_stats_update(&s, (uint16_t)n, n * STEP_TS, 1000000 + (int64_t)n * STEP_US + wobble);
    }
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK(rb.jitter >= 895 && rb.jitter <= 900);

    /* Arrival jitter from random-looking delays is non-zero. */
    mr_rtp_rx_stats_init(&s, 48000);
    uint32_t x = 12345;
    for (uint32_t n = 0; n < 200; n++) {
        x = x * 1103515245u + 12345u;
        int64_t delay = (int64_t)((x >> 16) % 30000);
        mr_rtp_rx_stats_update(&s, (uint16_t)n, n * 960, (int64_t)n * 20000 + delay);
    }
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK(rb.jitter > 0);
    /* The delays spread over 30 ms = 1440 ticks: jitter is below that. */
    CHECK(rb.jitter < 1440);

    /* No clock rate: jitter is left alone rather than computed wrong. */
    mr_rtp_rx_stats_init(&s, 0);
    for (uint32_t n = 0; n < 50; n++)
        mr_rtp_rx_stats_update(&s, (uint16_t)n, n * 7919, (int64_t)n * 3);
    mr_rtp_rx_stats_report(&s, 1, 0, &rb);
    CHECK_INT(rb.jitter, 0);
}

static void test_lsr_dlsr(void)
{
    struct mr_rtp_rx_stats s;
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_init(&s, VIDEO_RATE);
    feed(&s, 1, 0);
    feed(&s, 2, 1);

    /* No SR yet: both zero. */
    mr_rtp_rx_stats_report(&s, 1, 10000000, &rb);
    CHECK_INT(rb.lsr, 0);
    CHECK_INT(rb.dlsr, 0);

    /* LSR is the middle 32 bits of the NTP timestamp. */
    mr_rtp_rx_stats_on_sr(&s, 0xaaaabbbbccccddddull, 1000000);
    mr_rtp_rx_stats_report(&s, 1, 1500000, &rb);
    CHECK_INT(rb.lsr, 0xbbbbcccc);
    CHECK_INT(rb.dlsr, 32768); /* 0.5 s */
    mr_rtp_rx_stats_report(&s, 1, 3250000, &rb);
    CHECK_INT(rb.dlsr, 147456); /* 2.25 s */
    mr_rtp_rx_stats_report(&s, 1, 1000000, &rb);
    CHECK_INT(rb.dlsr, 0);
    /* 1 ms is 65.536 units, truncated. */
    mr_rtp_rx_stats_report(&s, 1, 1001000, &rb);
    CHECK_INT(rb.dlsr, 65);
    /* A clock that went backwards gives 0, not a huge delay. */
    mr_rtp_rx_stats_report(&s, 1, 500000, &rb);
    CHECK_INT(rb.dlsr, 0);
    /* An SR older than 65536 s saturates. */
    mr_rtp_rx_stats_report(&s, 1, 1000000 + 65536LL * 1000000, &rb);
    CHECK_INT(rb.dlsr, 0xffffffffu);
    mr_rtp_rx_stats_report(&s, 1, INT64_MAX, &rb);
    CHECK_INT(rb.dlsr, 0xffffffffu);

    /* The RFC 3550 §6.4.1 figure: an SR with NTP timestamp
     * 0xb44db705:20000000 (LSR 0xb7052000) answered 5.25 s after it
     * arrived carries DLSR 0x00054000. */
    mr_rtp_rx_stats_on_sr(&s, 0xb44db70520000000ull, -2000000);
    mr_rtp_rx_stats_report(&s, 1, -2000000 + 5250000, &rb);
    CHECK_INT(rb.lsr, 0xb7052000);
    CHECK_INT(rb.dlsr, 0x00054000);
}

MR_TEST_MAIN(MR_TEST(test_probation), MR_TEST(test_in_order), MR_TEST(test_gap_of_five),
             MR_TEST(test_wrap), MR_TEST(test_reordering), MR_TEST(test_duplicates),
             MR_TEST(test_large_jump), MR_TEST(test_cumulative_clamp),
             MR_TEST(test_jitter_paced), MR_TEST(test_jitter_converges),
             MR_TEST(test_jitter_jittered), MR_TEST(test_lsr_dlsr))
