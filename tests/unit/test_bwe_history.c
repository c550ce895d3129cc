/*
 * What the estimator (relay/bwe/bwe.h) makes of feedback statuses: each
 * sent packet counted once however often it is reported, a late "received"
 * after "lost" taken as received, statuses for packets never sent or long
 * forgotten ignored, and the numbering (wrap-around included) invisible in
 * the results.
 */
#include "bwe/bwe.h"
#include "mr_test.h"

#define T0     1000000000LL
#define VIEWER 555000000LL
#define GAP_US 9600 /* 1200 bytes every 9.6 ms: 1 Mbit/s */

static struct mr_bwe a, b;

static void start(struct mr_bwe *e)
{
    struct mr_bwe_config cfg = {.start_bps = 500000, .min_bps = 50000, .max_bps = 20000000};
    mr_bwe_init(e, &cfg, T0);
}

static int64_t send_time(unsigned i)
{
    return T0 + (int64_t)i * GAP_US;
}

static int64_t arrival(unsigned i)
{
    return VIEWER + 30000 + (int64_t)i * GAP_US;
}

static void send_all(struct mr_bwe *e, uint16_t first, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        mr_bwe_on_sent(e, (uint16_t)(first + i), 1200, send_time(i), 0);
}

/* Feedback every 10 packets for packets [0, n); lost(i) says which are
 * reported lost in the first report of i; each feedback repeats the
 * previous one's statuses `repeat` times, then reports the ones it reported
 * lost as received. */
static void report(struct mr_bwe *e, uint16_t first, unsigned n, bool (*lost)(unsigned),
                   bool repeat)
{
    for (unsigned from = 0; from < n; from += 10) {
        int64_t now = send_time(from + 10) + 60000;
        mr_bwe_feedback_begin(e, now);
        if (repeat && from >= 10)
            for (unsigned i = from - 10; i < from; i++)
                mr_bwe_feedback_status(e, (uint16_t)(first + i), lost && lost(i), arrival(i));
        for (unsigned i = from; i < from + 10 && i < n; i++)
            mr_bwe_feedback_status(e, (uint16_t)(first + i), !(lost && lost(i)), arrival(i));
        if (repeat && from >= 10)
            for (unsigned i = from - 10; i < from; i++)
                mr_bwe_feedback_status(e, (uint16_t)(first + i), true, arrival(i));
        mr_bwe_feedback_end(e, now);
    }
}

static bool every_tenth(unsigned i)
{
    return i % 10 == 3;
}

/* Reported twice, or lost then received: the same bytes as reported once. */
static void test_counted_once(void)
{
    start(&a);
    start(&b);
    send_all(&a, 100, 400);
    send_all(&b, 100, 400);
    report(&a, 100, 400, NULL, false);
    report(&b, 100, 400, NULL, true);
    CHECK(mr_bwe_acked_bps(&a) > 950000 && mr_bwe_acked_bps(&a) < 1050000);
    CHECK_INT(mr_bwe_acked_bps(&b), mr_bwe_acked_bps(&a));
    CHECK_INT(mr_bwe_estimate(&b), mr_bwe_estimate(&a));

    /* 10 % reported lost, then received in the next feedback: the bytes
     * count once, and the loss is taken back. */
    start(&b);
    send_all(&b, 100, 400);
    report(&b, 100, 400, every_tenth, true);
    CHECK(mr_bwe_acked_bps(&b) >= mr_bwe_acked_bps(&a) * 0.95);
    CHECK(mr_bwe_acked_bps(&b) <= mr_bwe_acked_bps(&a));
    CHECK(mr_bwe_loss_permille(&b) < 20);
    CHECK_INT(mr_bwe_last_decrease_us(&b), 0);
}

/* Lost and reported lost again and again: one loss each. */
static void test_lost_counted_once(void)
{
    start(&a);
    start(&b);
    send_all(&a, 100, 400);
    send_all(&b, 100, 400);
    for (unsigned from = 0; from < 400; from += 10) {
        int64_t now = send_time(from + 10) + 60000;
        mr_bwe_feedback_begin(&a, now);
        mr_bwe_feedback_begin(&b, now);
        for (unsigned i = from; i < from + 10; i++) {
            bool got = i % 4 != 0;
            mr_bwe_feedback_status(&a, (uint16_t)(100 + i), got, arrival(i));
            mr_bwe_feedback_status(&b, (uint16_t)(100 + i), got, arrival(i));
        }
        for (unsigned i = 0; i < from; i += 4) /* the old losses again */
            mr_bwe_feedback_status(&b, (uint16_t)(100 + i), false, 0);
        mr_bwe_feedback_end(&a, now);
        mr_bwe_feedback_end(&b, now);
    }
    uint32_t permille = mr_bwe_loss_permille(&a);
    CHECK(permille > 200 && permille < 300);
    CHECK_INT(mr_bwe_loss_permille(&b), permille);
    CHECK_INT(mr_bwe_estimate(&b), mr_bwe_estimate(&a));
}

/* Statuses for packets never sent (ahead of the last sent) and for
 * packets older than the history change nothing. */
static void test_unknown_ignored(void)
{
    start(&a);
    send_all(&a, 100, 3000);
    int64_t now = send_time(3000) + 60000;
    mr_bwe_feedback_begin(&a, now);
    for (unsigned i = 0; i < 900; i++) /* 2100 and more behind the last */
        mr_bwe_feedback_status(&a, (uint16_t)(100 + i), i % 2, arrival(i));
    for (unsigned i = 3000; i < 3500; i++) /* never sent */
        mr_bwe_feedback_status(&a, (uint16_t)(100 + i), i % 2, arrival(i));
    mr_bwe_feedback_end(&a, now);
    CHECK_INT(mr_bwe_acked_bps(&a), 0);
    CHECK_INT(mr_bwe_loss_permille(&a), 0);
    CHECK_INT(mr_bwe_estimate(&a), 500000);
    CHECK_INT(mr_bwe_usage(&a), MR_BWE_NORMAL);
    /* The history still answers for the recent ones. */
    report(&a, 100 + 2990, 10, NULL, false);
    mr_bwe_feedback_begin(&a, now);
    for (unsigned i = 1000; i < 3000; i++)
        mr_bwe_feedback_status(&a, (uint16_t)(100 + i), true, arrival(i));
    mr_bwe_feedback_end(&a, now);
    CHECK(mr_bwe_acked_bps(&a) > 950000 && mr_bwe_acked_bps(&a) < 1050000);
}

/* A sender that skips numbers (0-999, then 3000-3999): statuses for the
 * numbers skipped find nothing, though they are within the history's reach
 * and their slots hold older packets (48-951). */
static void test_skipped_numbers(void)
{
    start(&a);
    for (unsigned i = 0; i < 2000; i++)
        mr_bwe_on_sent(&a, (uint16_t)(i < 1000 ? i : i + 2000), 1200, send_time(i), 0);
    int64_t now = send_time(2000) + 60000;
    mr_bwe_feedback_begin(&a, now);
    for (unsigned i = 1100; i < 2000; i++)
        mr_bwe_feedback_status(&a, (uint16_t)(i + 1000), true, arrival(i));
    mr_bwe_feedback_end(&a, now);
    CHECK_INT(mr_bwe_acked_bps(&a), 0);
    mr_bwe_feedback_begin(&a, now);
    for (unsigned i = 1100; i < 2000; i++)
        mr_bwe_feedback_status(&a, (uint16_t)(i + 2000), true, arrival(i));
    mr_bwe_feedback_end(&a, now);
    CHECK(mr_bwe_acked_bps(&a) > 950000 && mr_bwe_acked_bps(&a) < 1050000);
}

/* The same traffic numbered across 65535 -> 0, or far from it, gives the
 * same results. */
static void test_wraparound_invisible(void)
{
    start(&a);
    start(&b);
    send_all(&a, 1000, 600);
    send_all(&b, 65300, 600);
    report(&a, 1000, 600, every_tenth, false);
    report(&b, 65300, 600, every_tenth, false);
    CHECK(mr_bwe_acked_bps(&a) > 800000);
    CHECK_INT(mr_bwe_acked_bps(&b), mr_bwe_acked_bps(&a));
    CHECK_INT(mr_bwe_estimate(&b), mr_bwe_estimate(&a));
    CHECK_INT(mr_bwe_loss_permille(&b), mr_bwe_loss_permille(&a));
    CHECK(mr_bwe_loss_permille(&a) > 50);
}

/* The configuration is made consistent, and the estimate starts there. */
static void test_config(void)
{
    struct mr_bwe_config cfg = {.start_bps = 10000, .min_bps = 30000, .max_bps = 20000};
    mr_bwe_init(&a, &cfg, T0);
    CHECK_INT(mr_bwe_estimate(&a), 30000);
    CHECK_INT(mr_bwe_acked_bps(&a), 0);
    CHECK_INT(mr_bwe_last_decrease_us(&a), 0);
    cfg = (struct mr_bwe_config){.start_bps = 9000000, .min_bps = 30000, .max_bps = 2000000};
    mr_bwe_init(&a, &cfg, T0);
    CHECK_INT(mr_bwe_estimate(&a), 2000000);
    /* Feedback before anything was sent. */
    mr_bwe_feedback_begin(&a, T0);
    mr_bwe_feedback_status(&a, 5, true, 1);
    mr_bwe_feedback_end(&a, T0);
    CHECK_INT(mr_bwe_estimate(&a), 2000000);
}

MR_TEST_MAIN(MR_TEST(test_counted_once), MR_TEST(test_lost_counted_once),
             MR_TEST(test_unknown_ignored), MR_TEST(test_skipped_numbers),
             MR_TEST(test_wraparound_invisible), MR_TEST(test_config))
