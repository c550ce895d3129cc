/*
 * The packets sent to a viewer, by transport-wide sequence number: a ring
 * of MR_BWE_HISTORY slots indexed by the unwrapped sequence number, so a
 * feedback status finds its packet's send time and size in O(1), and a
 * status that names a packet never sent, long gone, or sent 65536 packets
 * earlier under the same 16-bit number finds nothing.
 *
 * Unwrapping: each number is taken as the one nearest the highest sent,
 * which is right as long as the viewer reports within half the sequence
 * space (32768 packets, half a minute at 10 Mbit/s); the history is far
 * shorter than that anyway.
 */
#include <string.h>

#include "bwe/bwe_priv.h"

#define MASK (MR_BWE_HISTORY - 1)
/* The first number sent is unwrapped to this much above zero, so that
 * unwrapped numbers stay positive (slots index by them) and 0 can mark an
 * empty slot. */
#define SEQ_BASE ((int64_t)1 << 20)

_Static_assert((MR_BWE_HISTORY & MASK) == 0, "MR_BWE_HISTORY must be a power of two");
_Static_assert(MR_BWE_HISTORY <= 32768, "the history must be within half the sequence space");

void mr_bwe_history_init(struct mr_bwe_history *h)
{
    memset(h, 0, sizeof(*h));
}

static int64_t unwrap(const struct mr_bwe_history *h, uint16_t tseq)
{
    return h->high + (int16_t)(uint16_t)(tseq - (uint16_t)h->high);
}

struct mr_bwe_sent *mr_bwe_history_put(struct mr_bwe_history *h, uint16_t tseq, int64_t send_us)
{
    int64_t seq;
    if (!h->started) {
        seq = SEQ_BASE + tseq;
        h->high = seq;
        h->started = true;
    } else {
        seq = unwrap(h, tseq);
    }
    /* A number far behind the highest (the caller restarted its
     * sequence?) would land in a slot a newer packet holds: the newer one
     * wins, the old one is not remembered. */
    if (seq <= h->high - MR_BWE_HISTORY)
        return NULL;
    if (seq > h->high)
        h->high = seq;
    if (send_us > h->last_us)
        h->last_us = send_us;
    struct mr_bwe_sent *s = &h->slot[seq & MASK];
    *s = (struct mr_bwe_sent){.seq = (uint32_t)seq, .send_lo = (uint32_t)send_us};
    return s;
}

int64_t mr_bwe_history_send_us(const struct mr_bwe_history *h, const struct mr_bwe_sent *s)
{
    /* Within the last 71 minutes of the latest: the history holds less. */
    return h->last_us - (int64_t)(uint32_t)((uint32_t)h->last_us - s->send_lo);
}

struct mr_bwe_sent *mr_bwe_history_find(struct mr_bwe_history *h, uint16_t tseq)
{
    if (!h->started)
        return NULL;
    int64_t seq = unwrap(h, tseq);
    if (seq > h->high || seq <= h->high - MR_BWE_HISTORY)
        return NULL;
    struct mr_bwe_sent *s = &h->slot[seq & MASK];
    return s->seq == (uint32_t)seq ? s : NULL;
}
