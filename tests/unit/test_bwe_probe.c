/*
 * Probe clusters (relay/bwe/probe.c), fed by hand: the measured rate when
 * the link carries the cluster and when it saturates, the packets needed
 * before a result, and when a result moves the estimate: only up, and not
 * during overuse.
 */
#include "bwe/bwe.h"
#include "mr_test.h"

#define T0     1000000000LL
#define VIEWER 777000000LL /* the viewer's clock at T0 */

static struct mr_bwe bwe;

static void start(uint32_t start_bps)
{
    struct mr_bwe_config cfg = {.start_bps = start_bps, .min_bps = 50000, .max_bps = 20000000};
    mr_bwe_init(&bwe, &cfg, T0);
}

/* Sends n packets of 1200 bytes from tseq, every gap_us from send_us, in
 * cluster probe. */
static void send_run(uint16_t tseq, unsigned n, int64_t send_us, int64_t gap_us, uint16_t probe)
{
    for (unsigned i = 0; i < n; i++)
        mr_bwe_on_sent(&bwe, (uint16_t)(tseq + i), 1200, send_us + i * gap_us, probe);
}

/* One feedback: n statuses from tseq, arriving every gap_us from
 * arrival_us (viewer clock); every lost_every-th lost (0: none). */
static void feedback(uint16_t tseq, unsigned n, int64_t arrival_us, int64_t gap_us,
                     unsigned lost_every, int64_t now_us)
{
    mr_bwe_feedback_begin(&bwe, now_us);
    for (unsigned i = 0; i < n; i++) {
        bool lost = lost_every && i % lost_every == lost_every - 1;
        mr_bwe_feedback_status(&bwe, (uint16_t)(tseq + i), !lost, arrival_us + i * gap_us);
    }
    mr_bwe_feedback_end(&bwe, now_us);
}

static void test_unsaturated_cluster_jumps(void)
{
    start(300000);
    /* 10 packets 4 ms apart: 9 x 9600 bits / 36 ms = 2.4 Mbit/s. */
    send_run(100, 10, T0, 4000, 7);
    feedback(100, 10, VIEWER + 20000, 4000, 0, T0 + 100000);
    uint32_t r = mr_bwe_probe_result(&bwe, 7);
    CHECK(r > 2350000 && r < 2450000);
    CHECK_INT(mr_bwe_estimate(&bwe), r);
    CHECK_INT(mr_bwe_probe_result(&bwe, 8), 0);
}

static void test_saturated_cluster_takes_receive_rate(void)
{
    start(300000);
    /* Sent at 2.4 Mbit/s, arriving every 9.6 ms: a 1 Mbit/s link. */
    send_run(100, 10, T0, 4000, 3);
    feedback(100, 10, VIEWER + 20000, 9600, 0, T0 + 150000);
    uint32_t r = mr_bwe_probe_result(&bwe, 3);
    CHECK(r > 930000 && r < 970000); /* 0.95 x 1 Mbit/s */
    CHECK_INT(mr_bwe_estimate(&bwe), r);
}

static void test_too_few_packets(void)
{
    start(300000);
    send_run(100, 4, T0, 4000, 5);
    feedback(100, 4, VIEWER + 20000, 4000, 0, T0 + 100000);
    CHECK_INT(mr_bwe_probe_result(&bwe, 5), 0);
    CHECK_INT(mr_bwe_estimate(&bwe), 300000);

    /* 10 sent, 7 received: under 80 %. */
    start(300000);
    send_run(100, 10, T0, 4000, 5);
    mr_bwe_feedback_begin(&bwe, T0 + 100000);
    for (unsigned i = 0; i < 10; i++)
        mr_bwe_feedback_status(&bwe, (uint16_t)(100 + i), i < 7, VIEWER + 20000 + i * 4000);
    mr_bwe_feedback_end(&bwe, T0 + 100000);
    CHECK_INT(mr_bwe_probe_result(&bwe, 5), 0);
    CHECK_INT(mr_bwe_estimate(&bwe), 300000);

    /* Reported in two halves: measured once enough has arrived. */
    start(300000);
    send_run(100, 10, T0, 4000, 5);
    feedback(100, 4, VIEWER + 20000, 4000, 0, T0 + 50000);
    CHECK_INT(mr_bwe_probe_result(&bwe, 5), 0);
    feedback(104, 6, VIEWER + 36000, 4000, 0, T0 + 100000);
    CHECK(mr_bwe_probe_result(&bwe, 5) > 2350000);
    CHECK(mr_bwe_estimate(&bwe) > 2350000);
}

static void test_lower_result_does_not_lower(void)
{
    start(4000000);
    send_run(100, 10, T0, 4000, 9);
    feedback(100, 10, VIEWER + 20000, 4000, 0, T0 + 100000);
    CHECK(mr_bwe_probe_result(&bwe, 9) > 2350000);
    CHECK_INT(mr_bwe_estimate(&bwe), 4000000);
}

/* Media whose delay grows 3 ms a packet (sent every 10 ms, arriving every
 * 13 ms) until the detector says overuse; a cluster measured then does
 * not move the estimate, not even when measured again once the queue
 * drains. */
static void test_no_jump_during_overuse(void)
{
    start(300000);
    uint16_t seq = 0;
    int64_t send = T0, arrival = VIEWER + 20000;
    for (int fb = 0; fb < 10; fb++) {
        send_run(seq, 10, send, 10000, 0);
        feedback(seq, 10, arrival, 13000, 0, send + 100000);
        seq += 10;
        send += 100000;
        arrival += 130000;
    }
    CHECK_INT(mr_bwe_usage(&bwe), MR_BWE_OVERUSE);
    uint32_t before = mr_bwe_estimate(&bwe);
    send_run(seq, 10, send, 1000, 4); /* 9.6 Mbit/s */
    feedback(seq, 8, arrival, 1300, 0, send + 100000);
    CHECK(mr_bwe_probe_result(&bwe, 4) > 5000000);
    CHECK(mr_bwe_estimate(&bwe) <= before);
    /* The cluster's last two, and in the same feedback media draining the
     * queue (arriving every 5 ms, sent every 10). */
    send_run(seq + 10, 60, send + 10000, 10000, 0);
    mr_bwe_feedback_begin(&bwe, send + 700000);
    for (unsigned i = 8; i < 70; i++)
        mr_bwe_feedback_status(&bwe, (uint16_t)(seq + i), true,
                               arrival + (i < 10 ? i * 1300 : 13000 + (i - 10) * 5000));
    mr_bwe_feedback_end(&bwe, send + 700000);
    CHECK(mr_bwe_usage(&bwe) != MR_BWE_OVERUSE);
    CHECK(mr_bwe_estimate(&bwe) <= before);
}

/* Clusters are followed four at a time; a fifth replaces the oldest. */
static void test_clusters_kept(void)
{
    start(300000);
    for (uint16_t id = 1; id <= 5; id++)
        send_run((uint16_t)(id * 100), 10, T0 + id * 100000, 4000, id);
    for (uint16_t id = 1; id <= 5; id++)
        feedback((uint16_t)(id * 100), 10, VIEWER + id * 100000, 4000, 0, T0 + 600000);
    CHECK_INT(mr_bwe_probe_result(&bwe, 1), 0);
    for (uint16_t id = 2; id <= 5; id++)
        CHECK(mr_bwe_probe_result(&bwe, id) > 2350000);
    CHECK_INT(mr_bwe_probe_result(&bwe, 0), 0);
}

/* Arrivals bunched (a receive rate over twice the send rate) or spread
 * over more than two seconds measure nothing. */
static void test_implausible_clusters(void)
{
    start(300000);
    send_run(100, 10, T0, 4000, 2);
    feedback(100, 10, VIEWER, 1000, 0, T0 + 100000);
    CHECK_INT(mr_bwe_probe_result(&bwe, 2), 0);
    send_run(200, 10, T0 + 200000, 4000, 6);
    feedback(200, 10, VIEWER + 200000, 250000, 0, T0 + 2500000);
    CHECK_INT(mr_bwe_probe_result(&bwe, 6), 0);
    CHECK_INT(mr_bwe_estimate(&bwe), 300000);
}

/* A long cluster, a second of packets paced at 2 Mbit/s and reported
 * every 100 ms while it goes on: measured as it goes, the estimate there
 * within the first feedbacks. An id used again after a second's pause is
 * a new cluster. */
static void test_long_cluster(void)
{
    start(300000);
    uint32_t after_200ms = 0;
    for (unsigned fb = 0; fb < 10; fb++) {
        uint16_t first = (uint16_t)(fb * 20);
        send_run(first, 20, T0 + fb * 96000, 4800, 1);
        feedback(first, 20, VIEWER + 20000 + fb * 96000, 4800, 0, T0 + (fb + 1) * 96000 + 40000);
        if (fb == 1)
            after_200ms = mr_bwe_estimate(&bwe);
    }
    CHECK(after_200ms > 1900000 && after_200ms < 2100000);
    uint32_t r = mr_bwe_probe_result(&bwe, 1);
    CHECK(r > 1900000 && r < 2100000);
    /* The same id 1.5 s later, sent at 1 Mbit/s: a cluster of its own. */
    send_run(200, 10, T0 + 2500000, 9600, 1);
    feedback(200, 10, VIEWER + 2520000, 9600, 0, T0 + 2700000);
    r = mr_bwe_probe_result(&bwe, 1);
    CHECK(r > 950000 && r < 1050000);
}

MR_TEST_MAIN(MR_TEST(test_long_cluster), MR_TEST(test_unsaturated_cluster_jumps),
             MR_TEST(test_saturated_cluster_takes_receive_rate), MR_TEST(test_too_few_packets),
             MR_TEST(test_lower_result_does_not_lower), MR_TEST(test_no_jump_during_overuse),
             MR_TEST(test_clusters_kept), MR_TEST(test_implausible_clusters))
