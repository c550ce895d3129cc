/*
 * The bandwidth estimator (relay/bwe/bwe.h) against a simulated bottleneck
 * (test_bwe_sim.h): an uncongested link is not mistaken for a congested
 * one and the estimate grows only as far as traffic earns it; an
 * overloaded link is detected and the estimate falls to its rate within
 * two seconds; probes lift the estimate once the link is free again; a
 * link run near its rate does not make the estimate oscillate.
 */
#include "mr_test.h"
#include "test_bwe_sim.h"

static struct sim sim;

/* (a) 400 kbit/s over 5 Mbit/s. The estimate may be raised to 1.5 x
 * the receive rate + 10 kbit/s, so never beyond that for the highest
 * receive rate seen so far (it wobbles with frame sizes). */
static unsigned over_earned;
static uint32_t max_acked;

static void check_earned(struct sim *s)
{
    uint32_t acked = mr_bwe_acked_bps(&s->bwe);
    max_acked = acked > max_acked ? acked : max_acked;
    if (max_acked && mr_bwe_estimate(&s->bwe) > 1.5 * max_acked + 10000 + 1)
        over_earned++;
}

static void test_uncongested_grows_as_earned(void)
{
    struct sim *s = &sim;
    sim_init(s, 300000, 1000);
    sim_media(s, 400000);
    s->hook = check_earned;
    over_earned = max_acked = 0;
    sim_run(s, 10000000, "a");
    CHECK(mr_bwe_estimate(&s->bwe) > 500000); /* it rose from 300k */
    /* Another 10 s: 8 % a second would make 1.3 Mbit/s by now, but it
     * has not been earned. */
    sim_run(s, 10000000, "a");
    uint32_t e = mr_bwe_estimate(&s->bwe);
    CHECK_INT(s->overuse_episodes, 0);
    CHECK_INT(over_earned, 0);
    CHECK(e > 550000);
    CHECK(e <= 1.5 * 440000 + 10000);
    CHECK(mr_bwe_acked_bps(&s->bwe) > 340000 && mr_bwe_acked_bps(&s->bwe) < 460000);
    CHECK_INT(mr_bwe_last_decrease_us(&s->bwe), 0);
    CHECK_INT(mr_bwe_loss_permille(&s->bwe), 0);
}

/* (b) then (c): 2 Mbit/s into 500 kbit/s; then the link back to 5 Mbit/s
 * and the sender at 300 kbit/s with a 20-packet cluster at 2.5 Mbit/s
 * every 2 s. */
static unsigned over_600k_after_2s;

static void check_congested(struct sim *s)
{
    if (sim_t(s) >= 2.0 && mr_bwe_estimate(&s->bwe) > 600000)
        over_600k_after_2s++;
}

static void test_congestion_then_probes(void)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 60000);
    s->capacity_bps = 500000;
    s->fb_interval_us = 50000;
    sim_media(s, 2000000);
    s->hook = check_congested;
    over_600k_after_2s = 0;
    sim_run(s, 2000000, "b");
    CHECK(s->overuse_episodes >= 1);
    CHECK(mr_bwe_estimate(&s->bwe) <= 600000);
    CHECK(mr_bwe_last_decrease_us(&s->bwe) > SIM_T0);
    CHECK(mr_bwe_acked_bps(&s->bwe) > 400000 && mr_bwe_acked_bps(&s->bwe) < 600000);
    sim_run(s, 3000000, "b");
    CHECK_INT(over_600k_after_2s, 0);
    CHECK(mr_bwe_estimate(&s->bwe) >= 50000);

    s->hook = NULL;
    s->capacity_bps = 5e6;
    sim_media(s, 300000);
    sim_probes(s, 2.5e6, 20, 2000000);
    int64_t start = s->now_us, reached = 0;
    for (int i = 0; i < 100 && !reached; i++) {
        sim_run(s, 100000, "c");
        if (mr_bwe_estimate(&s->bwe) >= 2000000)
            reached = s->now_us - start;
    }
    CHECK(reached > 0);
    if (s->trace)
        printf("c: >= 2 Mbit/s after %.1f s\n", (double)reached / 1e6);
    /* The last cluster measured about its own rate, and the estimate
     * stays there while nothing contradicts it. */
    uint32_t r = mr_bwe_probe_result(&s->bwe, s->probe_id);
    CHECK(r > 2200000 && r < 2700000);
    sim_run(s, 3000000, "c");
    CHECK(mr_bwe_estimate(&s->bwe) >= 2000000);
    CHECK(mr_bwe_estimate(&s->bwe) <= 2700000);
}

/* (b') The same overload into a deep queue (bufferbloat: nothing dropped
 * in these seconds): the delay signal alone must bring the estimate down
 * to about 0.85 x the link's rate. */
static void test_congestion_deep_queue(void)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 60000);
    s->capacity_bps = 500000;
    s->queue_limit_us = 10000000;
    s->fb_interval_us = 50000;
    sim_media(s, 2000000);
    sim_run(s, 3000000, "b'");
    CHECK(s->overuse_episodes >= 1);
    CHECK_INT(mr_bwe_loss_permille(&s->bwe), 0);
    CHECK(mr_bwe_estimate(&s->bwe) >= 380000 && mr_bwe_estimate(&s->bwe) <= 470000);
}

/* (d) 1 Mbit/s over 1.2 Mbit/s for 30 s. */
static unsigned below_rate, samples;

static void check_steady(struct sim *s)
{
    if (sim_t(s) < 3.0)
        return;
    samples++;
    if (mr_bwe_estimate(&s->bwe) < 950000)
        below_rate++;
}

static void test_near_capacity_is_stable(void)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 30000);
    s->capacity_bps = 1200000;
    sim_media(s, 1000000);
    s->hook = check_steady;
    below_rate = samples = 0;
    sim_run(s, 30000000, "d");
    if (s->trace)
        printf("d: overuse episodes %u, below 950k in %u of %u feedbacks\n", s->overuse_episodes,
               below_rate, samples);
    CHECK(s->overuse_episodes <= 2);
    CHECK(samples > 250);
    CHECK(below_rate * 20 <= samples); /* at most 5 % of the time */
    CHECK(mr_bwe_estimate(&s->bwe) >= 1000000);
}

/* The same link, but sent 1.6 Mbit/s: the detector must notice the
 * overload and keep the estimate near the link's rate, which the test
 * above would not show if the detector never fired. */
static void test_overload_near_capacity(void)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 30000);
    s->capacity_bps = 1200000;
    sim_media(s, 1600000);
    sim_run(s, 10000000, "d'");
    CHECK(s->overuse_episodes >= 1);
    CHECK(mr_bwe_estimate(&s->bwe) < 1200000);
}

/* A sender that follows the estimate (as the relay will, choosing layers
 * under it) over 1.5 Mbit/s: GCC's sawtooth, a few overuses a minute, the
 * estimate between 70 % and the link's rate once found, no loss. */
static double closed_min, closed_max;

static void follow(struct sim *s)
{
    uint32_t e = mr_bwe_estimate(&s->bwe);
    sim_media(s, e);
    if (sim_t(s) >= 8.0) {
        closed_min = e < closed_min ? e : closed_min;
        closed_max = e > closed_max ? e : closed_max;
    }
}

static void test_closed_loop(void)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 65000);
    s->capacity_bps = 1500000;
    sim_media(s, 1000000);
    s->hook = follow;
    closed_min = 1e12;
    closed_max = 0;
    sim_run(s, 40000000, "loop");
    if (s->trace)
        printf("loop: %.0f..%.0f kbit/s after 8 s, %u overuses\n", closed_min / 1e3,
               closed_max / 1e3, s->overuse_episodes);
    CHECK(s->overuse_episodes >= 1 && s->overuse_episodes <= 20);
    CHECK(closed_min >= 0.7 * 1500000);
    CHECK(closed_max <= 1.05 * 1500000);
    CHECK(mr_bwe_loss_permille(&s->bwe) < 10);
}

/* A link slowing down under a sender that does not listen: the queue grows
 * for 2 s and the receive rate falls from 1.9 to 0.6 Mbit/s. The estimate
 * follows it down, but at most once per response time (rtt 100 ms + 100
 * ms): a cut shows in the feedback only a round trip later. */
static void test_decrease_once_per_response_time(void)
{
    struct mr_bwe *b = &sim.bwe;
    struct mr_bwe_config cfg = {.start_bps = 3000000, .min_bps = 50000, .max_bps = 20000000};
    mr_bwe_init(b, &cfg, SIM_T0);
    mr_bwe_set_rtt(b, 100000);
    double arrival = 0, gap = 5000;
    unsigned decreases = 0;
    int64_t last = 0, first = 0, min_apart = INT64_MAX;
    for (unsigned i = 0; i < 500; i += 5) {
        int64_t now = SIM_T0 + (int64_t)(i + 5) * 4000 + 40000;
        for (unsigned k = i; k < i + 5; k++)
            mr_bwe_on_sent(b, (uint16_t)k, 1200, SIM_T0 + (int64_t)k * 4000, 0);
        mr_bwe_feedback_begin(b, now);
        for (unsigned k = i; k < i + 5; k++) {
            mr_bwe_feedback_status(b, (uint16_t)k, true, (int64_t)arrival);
            arrival += gap;
            gap += 20;
        }
        mr_bwe_feedback_end(b, now);
        int64_t d = mr_bwe_last_decrease_us(b);
        if (d != last) {
            decreases++;
            first = first ? first : d;
            if (last && d - last < min_apart)
                min_apart = d - last;
            last = d;
        }
    }
    CHECK_INT(mr_bwe_usage(b), MR_BWE_OVERUSE);
    CHECK(decreases >= 3 && decreases <= (last - first) / 200000 + 1);
    CHECK(min_apart >= 200000);
    /* Down to about 0.85 x the last receive rate (0.6-0.75 Mbit/s). */
    CHECK(mr_bwe_estimate(b) < 700000 && mr_bwe_estimate(b) > 450000);
}

MR_TEST_MAIN(MR_TEST(test_decrease_once_per_response_time),
             MR_TEST(test_uncongested_grows_as_earned), MR_TEST(test_congestion_then_probes),
             MR_TEST(test_congestion_deep_queue), MR_TEST(test_near_capacity_is_stable),
             MR_TEST(test_overload_near_capacity), MR_TEST(test_closed_loop))
