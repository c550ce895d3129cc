/*
 * The estimator's loss-based part (relay/bwe/loss.c) on a simulated link
 * with random loss and no queueing (test_bwe_sim.h): heavy loss cuts the
 * estimate however quiet the delay signal is; light loss does not; the
 * smoothed loss reads close to the link's.
 */
#include "mr_test.h"
#include "test_bwe_sim.h"

static struct sim sim;

static void run_lossy(double loss, int64_t duration_us)
{
    struct sim *s = &sim;
    sim_init(s, 1000000, 40000);
    s->capacity_bps = 10e6;
    s->loss = loss;
    sim_media(s, 1000000);
    sim_run(s, duration_us, loss > 0.1 ? "e15" : "e1");
}

static void test_heavy_loss_cuts(void)
{
    struct sim *s = &sim;
    run_lossy(0.15, 3000000);
    uint32_t permille = mr_bwe_loss_permille(&s->bwe);
    CHECK(permille >= 100 && permille <= 220);
    CHECK(mr_bwe_estimate(&s->bwe) < 800000);
    CHECK(mr_bwe_last_decrease_us(&s->bwe) > SIM_T0);
    CHECK_INT(s->overuse_episodes, 0); /* the delay signal had nothing to say */
    /* It keeps cutting while the loss lasts, down to the minimum. */
    sim_run(s, 10000000, "e15");
    CHECK(mr_bwe_estimate(&s->bwe) < 200000);
    CHECK(mr_bwe_estimate(&s->bwe) >= 50000);
}

static void test_light_loss_does_not_cut(void)
{
    struct sim *s = &sim;
    run_lossy(0.01, 10000000);
    CHECK(mr_bwe_loss_permille(&s->bwe) < 40);
    CHECK_INT(mr_bwe_last_decrease_us(&s->bwe), 0);
    /* Not even held: it grew as on a clean link. */
    CHECK(mr_bwe_estimate(&s->bwe) >= 1400000);
}

/* After a lossy spell the limit rises again (8 % a second) and is dropped
 * once it reaches the delay-based estimate. */
static void test_recovers_after_loss(void)
{
    struct sim *s = &sim;
    run_lossy(0.3, 2000000);
    uint32_t low = mr_bwe_estimate(&s->bwe);
    CHECK(low < 700000);
    s->loss = 0;
    sim_run(s, 5000000, "e-after");
    CHECK(mr_bwe_loss_permille(&s->bwe) < 20);
    uint32_t mid = mr_bwe_estimate(&s->bwe);
    CHECK(mid > low);
    sim_run(s, 20000000, "e-after");
    CHECK(mr_bwe_estimate(&s->bwe) > mid);
}

MR_TEST_MAIN(MR_TEST(test_heavy_loss_cuts), MR_TEST(test_light_loss_does_not_cut),
             MR_TEST(test_recovers_after_loss))
