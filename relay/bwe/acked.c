/*
 * The rate the viewer received at ("acknowledged" bitrate): bytes of the
 * packets feedback reported received, by their arrival time in the
 * viewer's clock, over the last half second. Arrival time rather than the
 * feedback's own timing, because feedback comes in batches while the
 * link's rate shows in when the packets arrived. It bounds the estimate:
 * a decrease goes to 0.85 of it and an increase never beyond 1.5 of it, so
 * the estimate says what the link was seen to carry.
 *
 * Buckets of 50 ms make a ring; the rate is the bytes of the buckets in
 * the window over the time from the window's start (or from the first
 * arrival, when more recent) to the latest arrival. Less than 250 ms of
 * that is too short to tell a rate from one frame's burst: unknown.
 *
 * A gap of more than the window between arrivals (nothing sent, or nothing
 * reported) or an arrival 3 s before the latest (the viewer's clock
 * jumped) restarts the measurement: what came before is no longer
 * "lately". An arrival older than the window, reordered, is left out.
 */
#include <string.h>

#include "bwe/bwe_priv.h"

#define BUCKET_US   50000
#define WINDOW_US   ((int64_t)BUCKET_US * MR_BWE_ACKED_BUCKETS)
#define MIN_SPAN_US 250000

void mr_bwe_acked_init(struct mr_bwe_acked *a)
{
    memset(a, 0, sizeof(*a));
}

/* Floor division and its remainder, for arrival times of either sign. */
static int64_t bucket_of(int64_t arrival_us)
{
    int64_t q = arrival_us / BUCKET_US;
    return arrival_us % BUCKET_US < 0 ? q - 1 : q;
}

static uint32_t *bucket(struct mr_bwe_acked *a, int64_t index)
{
    int64_t i = index % MR_BWE_ACKED_BUCKETS;
    return &a->bytes[i < 0 ? i + MR_BWE_ACKED_BUCKETS : i];
}

static void restart(struct mr_bwe_acked *a, int64_t arrival_us)
{
    memset(a->bytes, 0, sizeof(a->bytes));
    a->head = bucket_of(arrival_us);
    a->start_us = arrival_us;
    a->latest_us = arrival_us;
    a->started = true;
}

void mr_bwe_acked_add(struct mr_bwe_acked *a, uint16_t size, int64_t arrival_us)
{
    if (!a->started || arrival_us - a->latest_us > WINDOW_US ||
        a->latest_us - arrival_us > MR_BWE_CLOCK_JUMP_US)
        restart(a, arrival_us);
    int64_t index = bucket_of(arrival_us);
    /* Moving on: the buckets between are emptied for their new use (at
     * most the whole ring, since a longer gap restarted above). */
    for (; a->head < index; a->head++)
        *bucket(a, a->head + 1) = 0;
    if (index <= a->head - MR_BWE_ACKED_BUCKETS || arrival_us < a->start_us)
        return;
    uint32_t *b = bucket(a, index);
    *b = *b > UINT32_MAX - size ? UINT32_MAX : *b + size;
    if (arrival_us > a->latest_us)
        a->latest_us = arrival_us;
}

uint32_t mr_bwe_acked_rate(const struct mr_bwe_acked *a)
{
    if (!a->started)
        return 0;
    int64_t from = (a->head - MR_BWE_ACKED_BUCKETS + 1) * BUCKET_US;
    if (from < a->start_us)
        from = a->start_us;
    int64_t span = a->latest_us - from;
    if (span < MIN_SPAN_US)
        return 0;
    uint64_t bytes = 0;
    for (unsigned i = 0; i < MR_BWE_ACKED_BUCKETS; i++)
        bytes += a->bytes[i];
    uint64_t bps = bytes * 8 * 1000000 / (uint64_t)span;
    return bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}
