/* Missing packets of a publisher's stream and their requests (nack.h). */
#include "sfu/nack.h"

#include <string.h>

void mr_nack_init(struct mr_nack_list *l)
{
    memset(l, 0, sizeof(*l));
}

static void remove_at(struct mr_nack_list *l, unsigned i)
{
    memmove(&l->entries[i], &l->entries[i + 1], (l->n - i - 1) * sizeof(l->entries[0]));
    l->n--;
}

/* Drops the oldest entries so that `room` more fit. */
static void make_room(struct mr_nack_list *l, unsigned room, unsigned *gave_up)
{
    if (l->n + room <= MR_NACK_MAX)
        return;
    unsigned drop = l->n + room - MR_NACK_MAX;
    if (drop > l->n)
        drop = l->n;
    *gave_up += drop;
    memmove(&l->entries[0], &l->entries[drop], (l->n - drop) * sizeof(l->entries[0]));
    l->n -= drop;
}

static void add_gap(struct mr_nack_list *l, uint16_t from, unsigned count, int64_t now_us,
                    unsigned *gave_up)
{
    if (count > MR_NACK_MAX) {
        /* More than can be asked for: keep the newest. */
        *gave_up += count - MR_NACK_MAX;
        from = (uint16_t)(from + count - MR_NACK_MAX);
        count = MR_NACK_MAX;
    }
    make_room(l, count, gave_up);
    for (unsigned k = 0; k < count; k++)
        l->entries[l->n++] = (struct mr_nack_entry){
            .seq = (uint16_t)(from + k),
            .missing_since_us = now_us,
        };
}

static int find(const struct mr_nack_list *l, uint16_t seq)
{
    for (unsigned i = 0; i < l->n; i++)
        if (l->entries[i].seq == seq)
            return (int)i;
    return -1;
}

bool mr_nack_missing(const struct mr_nack_list *l, uint16_t seq)
{
    return find(l, seq) >= 0;
}

enum mr_nack_seen mr_nack_on_packet(struct mr_nack_list *l, uint16_t seq, int64_t now_us,
                                    unsigned *gave_up)
{
    if (!l->started) {
        l->started = true;
        l->highest = seq;
        return MR_NACK_IN_ORDER;
    }
    int16_t diff = (int16_t)(uint16_t)(seq - l->highest);
    if (diff > 0) {
        unsigned gap = (unsigned)diff - 1;
        if (gap > MR_NACK_MAX_GAP) {
            /* A restarted encoder or a long outage: nothing to ask for. */
            *gave_up += l->n;
            l->n = 0;
        } else if (gap > 0) {
            add_gap(l, (uint16_t)(l->highest + 1), gap, now_us, gave_up);
        }
        l->highest = seq;
        return MR_NACK_IN_ORDER;
    }
    if (diff < -MR_NACK_MAX_BACK) {
        /* Far behind anything still useful: an encoder that restarted with
         * the same SSRC. Without this, no gap would be seen until its
         * numbers passed the old highest, maybe 30 000 packets on. */
        *gave_up += l->n;
        l->n = 0;
        l->highest = seq;
        return MR_NACK_IN_ORDER;
    }
    int i = find(l, seq);
    if (i < 0)
        return MR_NACK_OLD;
    remove_at(l, (unsigned)i);
    return MR_NACK_FILLED;
}

void mr_nack_keyframe(struct mr_nack_list *l, uint16_t seq)
{
    unsigned keep = 0;
    while (keep < l->n && (int16_t)(uint16_t)(l->entries[keep].seq - seq) < 0)
        keep++;
    if (keep)
        memmove(&l->entries[0], &l->entries[keep], (l->n - keep) * sizeof(l->entries[0]));
    l->n -= keep;
}

/* About one round trip between requests, a little longer with each. */
static int64_t retry_after(int64_t rtt_us, unsigned tries)
{
    int64_t base = rtt_us + 5000;
    if (base < MR_NACK_MIN_RETRY_US)
        base = MR_NACK_MIN_RETRY_US;
    return base + base * (int64_t)(tries > 0 ? tries - 1 : 0) / 2;
}

unsigned mr_nack_due(struct mr_nack_list *l, int64_t now_us, int64_t rtt_us, uint16_t *out,
                     unsigned max, unsigned *gave_up)
{
    unsigned n_out = 0, keep = 0;
    for (unsigned i = 0; i < l->n; i++) {
        struct mr_nack_entry e = l->entries[i];
        bool due = e.tries == 0 ? now_us - e.missing_since_us >= MR_NACK_FIRST_US
                                : now_us - e.asked_us >= retry_after(rtt_us, e.tries);
        /* After the last request, given up only once its answer would
         * have come: until then a retransmission still fills the gap. */
        if ((due && e.tries >= MR_NACK_MAX_TRIES) ||
            now_us - e.missing_since_us > MR_NACK_MAX_AGE_US) {
            (*gave_up)++;
            continue;
        }
        if (due && n_out < max) {
            out[n_out++] = e.seq;
            e.tries++;
            e.asked_us = now_us;
        }
        l->entries[keep++] = e;
    }
    l->n = keep;
    return n_out;
}
