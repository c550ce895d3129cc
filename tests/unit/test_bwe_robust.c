/*
 * The estimator (relay/bwe/bwe.h) over what a long-lived viewer does to
 * it: transport-wide sequence numbers wrapping many times, a sender or a
 * viewer silent for 10 s, the viewer's clock jumping (its 24-bit
 * reference time wraps every 12 days), stale and garbage feedback. Nothing
 * may produce a huge rate, a division by zero, or an estimate outside
 * [min, max].
 */
#include "mr_test.h"
#include "test_bwe_sim.h"

static struct sim sim, twin;

/* Same traffic, numbering from 0 or from just before the wrap: the same
 * estimate at every feedback, through a congested and a free phase. */
static void test_wrap_in_simulation(void)
{
    sim_init(&sim, 800000, 0);
    sim_init(&twin, 800000, 65000);
    sim.capacity_bps = twin.capacity_bps = 1500000;
    sim_media(&sim, 2500000);
    sim_media(&twin, 2500000);
    unsigned differ = 0;
    for (int i = 0; i < 200; i++) {
        if (i == 100) {
            sim.capacity_bps = twin.capacity_bps = 5e6;
            sim_media(&sim, 1000000);
            sim_media(&twin, 1000000);
        }
        sim_run(&sim, 100000, "wrap");
        sim_run(&twin, 100000, "wrap");
        if (mr_bwe_estimate(&sim.bwe) != mr_bwe_estimate(&twin.bwe) ||
            mr_bwe_usage(&sim.bwe) != mr_bwe_usage(&twin.bwe))
            differ++;
    }
    CHECK_INT(differ, 0);
    CHECK((uint16_t)(twin.tseq - 65000) > 1000); /* it did wrap */
    CHECK(twin.tseq < 65000);
    CHECK(sim.overuse_episodes >= 1);
}

/* 200000 packets at 9.6 Mbit/s, fed back every 100: three wraps. */
static void test_many_wraps(void)
{
    struct mr_bwe *b = &sim.bwe;
    struct mr_bwe_config cfg = {.start_bps = 5000000, .min_bps = 50000, .max_bps = 20000000};
    mr_bwe_init(b, &cfg, SIM_T0);
    uint16_t seq = 40000;
    unsigned overuses = 0;
    for (unsigned i = 0; i < 200000; i += 100) {
        for (unsigned k = 0; k < 100; k++)
            mr_bwe_on_sent(b, (uint16_t)(seq + k), 1200, SIM_T0 + (int64_t)(i + k) * 1000, 0);
        int64_t now = SIM_T0 + (int64_t)(i + 100) * 1000 + 40000;
        mr_bwe_feedback_begin(b, now);
        for (unsigned k = 0; k < 100; k++)
            mr_bwe_feedback_status(b, (uint16_t)(seq + k), true, (int64_t)(i + k) * 1000 + 20000);
        mr_bwe_feedback_end(b, now);
        overuses += mr_bwe_usage(b) == MR_BWE_OVERUSE;
        seq = (uint16_t)(seq + 100);
    }
    CHECK_INT(overuses, 0);
    CHECK(mr_bwe_acked_bps(b) > 9400000 && mr_bwe_acked_bps(b) < 9800000);
    CHECK(mr_bwe_estimate(b) >= 5000000);

    /* Then statuses from 3000 packets back, with absurd arrival times:
     * too old, ignored. */
    uint32_t estimate = mr_bwe_estimate(b);
    int64_t now = SIM_T0 + 200100000;
    mr_bwe_feedback_begin(b, now);
    for (unsigned k = 0; k < 500; k++)
        mr_bwe_feedback_status(b, (uint16_t)(seq - 3000 + k), k % 3, (int64_t)k * -1000000000);
    mr_bwe_feedback_end(b, now);
    CHECK_INT(mr_bwe_usage(b), MR_BWE_NORMAL);
    CHECK(mr_bwe_acked_bps(b) > 9400000 && mr_bwe_acked_bps(b) < 9800000);
    CHECK_INT(mr_bwe_loss_permille(b), 0);
    CHECK(mr_bwe_estimate(b) >= estimate);
}

static uint32_t max_acked, min_estimate, max_estimate;

static void watch(struct sim *s)
{
    uint32_t acked = mr_bwe_acked_bps(&s->bwe), e = mr_bwe_estimate(&s->bwe);
    max_acked = acked > max_acked ? acked : max_acked;
    min_estimate = e < min_estimate ? e : min_estimate;
    max_estimate = e > max_estimate ? e : max_estimate;
}

static void watch_reset(struct sim *s)
{
    s->hook = watch;
    max_acked = max_estimate = 0;
    min_estimate = UINT32_MAX;
}

/* The sender silent for 10 s (feedback goes on, empty), then back. */
static void test_sender_silent(void)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 500);
    sim_media(s, 1000000);
    sim_run(s, 5000000, "silent");
    watch_reset(s);
    sim_media(s, 0);
    sim_run(s, 500000, "silent"); /* the last packets' feedback */
    uint32_t before = mr_bwe_estimate(&s->bwe);
    sim_run(s, 9500000, "silent");
    CHECK_INT(mr_bwe_estimate(&s->bwe), before); /* nothing to learn from */
    sim_media(s, 1000000);
    s->next_frame_us = s->now_us;
    sim_run(s, 5000000, "silent");
    CHECK(max_acked < 1400000);
    CHECK(max_estimate <= 1.5 * 1400000 + 10000);
    CHECK(min_estimate >= before * 0.9);
    CHECK_INT(s->overuse_episodes, 0);
    CHECK_INT(mr_bwe_last_decrease_us(&s->bwe), 0);
}

/* The viewer silent for 10 s while 3 Mbit/s goes on (more than the
 * history holds), then one feedback with everything it has. */
static void test_viewer_silent(void)
{
    struct sim *s = &sim;
    sim_init(s, 3000000, 65500);
    sim_media(s, 3000000);
    sim_run(s, 3000000, "deaf");
    watch_reset(s);
    s->next_fb_us = s->now_us + 10000000;
    sim_run(s, 10100000, "deaf");
    CHECK(s->feedbacks > 0);
    sim_run(s, 3000000, "deaf");
    CHECK(max_acked < 4000000);
    CHECK(max_estimate <= 1.5 * 4000000 + 10000);
    CHECK(min_estimate >= 2500000);
    CHECK_INT(s->overuse_episodes, 0);
    CHECK(mr_bwe_acked_bps(&s->bwe) > 2500000);
}

/* The viewer's clock jumps back (its reference time wrapped) and later
 * forward: no overuse read from it, and the receive rate measured again
 * on the new clock (the sender changes its rate to tell). */
static void test_viewer_clock_jumps(void)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 100);
    sim_media(s, 1000000);
    sim_run(s, 5000000, "jump");
    uint32_t before = mr_bwe_estimate(&s->bwe);
    watch_reset(s);
    s->viewer_offset_us -= (int64_t)(1 << 24) * 64000;
    sim_media(s, 600000);
    sim_run(s, 5000000, "jump");
    CHECK(mr_bwe_acked_bps(&s->bwe) > 500000 && mr_bwe_acked_bps(&s->bwe) < 700000);
    s->viewer_offset_us += 3600000000LL;
    sim_media(s, 1000000);
    sim_run(s, 5000000, "jump");
    CHECK(mr_bwe_acked_bps(&s->bwe) > 850000 && mr_bwe_acked_bps(&s->bwe) < 1150000);
    CHECK_INT(s->overuse_episodes, 0);
    CHECK(min_estimate >= before);
    CHECK(max_acked < 1400000);
    CHECK_INT(mr_bwe_last_decrease_us(&s->bwe), 0);
}

/* Arrivals jittered by up to 30 ms each, so that many come before packets
 * sent earlier (negative arrival deltas, reordered groups): noise, not a
 * trend. 1 Mbit/s for 20 s, fed back every 100 ms. */
static void test_reordered_arrivals(void)
{
    struct sim *s = &sim;
    struct mr_bwe *b = &s->bwe;
    sim_init(s, 1000000, 65400);
    unsigned overuses = 0, reordered = 0;
    int64_t prev_arrival = 0;
    for (unsigned i = 0; i < 2000; i += 10) {
        mr_bwe_feedback_begin(b, SIM_T0 + (int64_t)(i + 10) * 9600 + 50000);
        for (unsigned k = i; k < i + 10; k++) {
            int64_t sent = SIM_T0 + (int64_t)k * 9600;
            mr_bwe_on_sent(b, (uint16_t)(65400 + k), 1200, sent, 0);
            int64_t arrival = sent + 20000 + (int64_t)(sim_rand(s) * 30000);
            reordered += arrival < prev_arrival;
            prev_arrival = arrival;
            mr_bwe_feedback_status(b, (uint16_t)(65400 + k), true, arrival - arrival % 250);
        }
        mr_bwe_feedback_end(b, SIM_T0 + (int64_t)(i + 10) * 9600 + 50000);
        overuses += mr_bwe_usage(b) == MR_BWE_OVERUSE;
    }
    CHECK(reordered > 300);
    CHECK(overuses <= 2);
    CHECK(mr_bwe_estimate(b) >= 1000000);
    CHECK(mr_bwe_acked_bps(b) > 900000 && mr_bwe_acked_bps(b) < 1100000);
}

/* Random statuses, times and sizes: the estimate stays in [min, max]. */
static void test_garbage(void)
{
    struct sim *s = &sim;
    struct mr_bwe *b = &s->bwe;
    sim_init(s, 1000000, 0);
    unsigned outside = 0;
    int64_t now = SIM_T0;
    for (int round = 0; round < 2000; round++) {
        for (int k = 0; k < 20; k++) {
            uint16_t size = (uint16_t)(sim_rand(s) * 65535);
            uint16_t probe = sim_rand(s) < 0.3 ? (uint16_t)(sim_rand(s) * 6) : 0;
            mr_bwe_on_sent(b, (uint16_t)(sim_rand(s) * 65536), size,
                           now + (int64_t)(sim_rand(s) * 2e6) - 1000000, probe);
        }
        now += (int64_t)(sim_rand(s) * 200000);
        mr_bwe_feedback_begin(b, now);
        for (int k = 0; k < 40; k++)
            mr_bwe_feedback_status(b, (uint16_t)(sim_rand(s) * 65536), sim_rand(s) < 0.7,
                                   (int64_t)((sim_rand(s) - 0.5) * 2e12));
        mr_bwe_feedback_end(b, now);
        uint32_t e = mr_bwe_estimate(b);
        outside += e < 50000 || e > 20000000;
        mr_bwe_set_rtt(b, (int64_t)(sim_rand(s) * 4e6) - 1000000);
    }
    CHECK_INT(outside, 0);
    CHECK(mr_bwe_loss_permille(b) <= 1000);
}

MR_TEST_MAIN(MR_TEST(test_wrap_in_simulation), MR_TEST(test_many_wraps),
             MR_TEST(test_sender_silent), MR_TEST(test_viewer_silent),
             MR_TEST(test_viewer_clock_jumps), MR_TEST(test_reordered_arrivals),
             MR_TEST(test_garbage))
