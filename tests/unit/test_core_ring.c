/* The SPSC ring: order, wrap-around, full-ring drops, and a two-thread run
 * in which the consumer must see every pushed packet intact and in order. */
#include <pthread.h>

#include "core/counter.h"
#include "core/ring.h"
#include "mr_test.h"

static void test_order_and_full(void)
{
    struct mr_ring r;
    CHECK_INT(mr_ring_init(&r, 5), 0); /* rounds up to 8 */
    CHECK_INT(r.mask, 7);
    CHECK(mr_ring_peek(&r) == NULL);
    uint8_t b[4];
    for (unsigned i = 0; i < 8; i++) {
        b[0] = (uint8_t)i;
        CHECK(mr_ring_push(&r, b, 1, (uint8_t)i, 0, i));
    }
    CHECK(!mr_ring_push(&r, b, 1, 0, 0, 0)); /* full */
    CHECK_INT(mr_counter_read(&r.dropped), 1);
    for (unsigned i = 0; i < 8; i++) {
        const struct mr_ring_slot *s = mr_ring_peek(&r);
        CHECK(s && s->data[0] == i && s->track == i && s->len == 1 && s->arrival_us == i);
        mr_ring_release(&r);
    }
    CHECK(mr_ring_peek(&r) == NULL);
    uint8_t big[MR_RING_SLOT_DATA + 1] = {0};
    CHECK(!mr_ring_push(&r, big, sizeof(big), 0, 0, 0));
    CHECK(mr_ring_push(&r, big, MR_RING_SLOT_DATA, 0, 0, 0));
    mr_ring_cleanup(&r);
}

#define N_PACKETS 200000

static void *producer(void *arg)
{
    struct mr_ring *r = arg;
    uint8_t b[64];
    for (uint32_t i = 0; i < N_PACKETS;) {
        memcpy(b, &i, sizeof(i));
        b[sizeof(i)] = (uint8_t)(i * 7);
        if (mr_ring_push(r, b, sizeof(i) + 1 + (i % 50), 1, 2, i))
            i++; /* full: try again, so the consumer must see every one */
    }
    return NULL;
}

static void test_two_threads(void)
{
    struct mr_ring r;
    CHECK_INT(mr_ring_init(&r, 64), 0);
    pthread_t t;
    pthread_create(&t, NULL, producer, &r);
    uint32_t expect = 0;
    unsigned bad = 0;
    while (expect < N_PACKETS) {
        const struct mr_ring_slot *s = mr_ring_peek(&r);
        if (!s)
            continue;
        uint32_t got;
        memcpy(&got, s->data, sizeof(got));
        if (got != expect || s->data[sizeof(got)] != (uint8_t)(expect * 7) ||
            s->len != sizeof(got) + 1 + (expect % 50) || s->arrival_us != expect)
            bad++;
        expect++;
        mr_ring_release(&r);
    }
    pthread_join(t, NULL);
    CHECK_INT(bad, 0);
    CHECK_INT(mr_counter_read(&r.pushed), N_PACKETS);
    mr_ring_cleanup(&r);
}

MR_TEST_MAIN(MR_TEST(test_order_and_full), MR_TEST(test_two_threads))
