/*
 * Packet groups (draft-ietf-rmcat-gcc-02 §5.2, libwebrtc's InterArrival):
 * the delay signal is taken between groups of packets, not single packets,
 * because a pacer sends a video frame as a burst and the viewer's network
 * card or Wi-Fi may deliver several packets at once; within a burst the
 * arrival spacing says nothing about the queue.
 *
 * A group is the packets sent within 5 ms of its first one, plus those
 * that arrived in a burst with its last (closer together than they were
 * sent, within 5 ms of it and 100 ms of the group's first): that is the
 * viewer's link delivering a queue at once. When a packet starts a new
 * group, the group just completed is compared with the one before: the
 * send delta and the arrival delta of their last packets. The queue grew
 * by their difference.
 *
 * Packets come in sequence order, which is sending order. One sent before
 * the current group started (a late report of a packet once reported lost)
 * is left out. A group that arrived before the previous one (reordering)
 * gives no delta; three such in a row, or a difference between arrival and
 * send deltas of more than 3 s (the viewer's clock jumped), start over.
 */
#include "bwe/bwe_priv.h"

#define GROUP_US          5000
#define BURST_US          5000
#define MAX_BURST_US      100000
#define REORDERED_RESTART 3

void mr_bwe_groups_reset(struct mr_bwe_groups *g)
{
    g->cur.valid = false;
    g->prev.valid = false;
    g->reordered = 0;
}

static void start(struct mr_bwe_group *grp, int64_t send_us, int64_t arrival_us)
{
    grp->first_send_us = grp->last_send_us = send_us;
    grp->first_arrival_us = grp->last_arrival_us = arrival_us;
    grp->valid = true;
}

/* Arrived with the group's last packet as part of one delivery: sooner
 * after it than it was sent after it (or sent at the same time). */
static bool in_burst(const struct mr_bwe_group *grp, int64_t send_us, int64_t arrival_us)
{
    int64_t arrival_delta = arrival_us - grp->last_arrival_us;
    int64_t send_delta = send_us - grp->last_send_us;
    if (send_delta == 0)
        return true;
    return arrival_delta - send_delta < 0 && arrival_delta <= BURST_US &&
           arrival_us - grp->first_arrival_us < MAX_BURST_US;
}

static bool joins(const struct mr_bwe_group *grp, int64_t send_us, int64_t arrival_us)
{
    return in_burst(grp, send_us, arrival_us) || send_us - grp->first_send_us <= GROUP_US;
}

/* The deltas between the completed group and the one before it; false
 * when there are none to use. */
static enum mr_bwe_group_result compare(struct mr_bwe_groups *g, struct mr_bwe_delta *d)
{
    if (!g->prev.valid)
        return MR_BWE_GROUP_NONE;
    d->send_us = g->cur.last_send_us - g->prev.last_send_us;
    d->arrival_us = g->cur.last_arrival_us - g->prev.last_arrival_us;
    int64_t skew = d->arrival_us - d->send_us;
    if (skew >= MR_BWE_CLOCK_JUMP_US || skew <= -MR_BWE_CLOCK_JUMP_US)
        return MR_BWE_GROUP_RESET;
    if (d->arrival_us < 0) {
        g->reordered++;
        return g->reordered >= REORDERED_RESTART ? MR_BWE_GROUP_RESET : MR_BWE_GROUP_NONE;
    }
    g->reordered = 0;
    return MR_BWE_GROUP_DELTA;
}

enum mr_bwe_group_result mr_bwe_groups_add(struct mr_bwe_groups *g, int64_t send_us,
                                           int64_t arrival_us, struct mr_bwe_delta *d)
{
    struct mr_bwe_group *cur = &g->cur;
    if (!cur->valid) {
        start(cur, send_us, arrival_us);
        return MR_BWE_GROUP_NONE;
    }
    if (send_us < cur->first_send_us)
        return MR_BWE_GROUP_NONE;
    if (joins(cur, send_us, arrival_us)) {
        if (send_us > cur->last_send_us)
            cur->last_send_us = send_us;
        if (arrival_us > cur->last_arrival_us)
            cur->last_arrival_us = arrival_us;
        return MR_BWE_GROUP_NONE;
    }
    enum mr_bwe_group_result r = compare(g, d);
    if (r == MR_BWE_GROUP_RESET) {
        mr_bwe_groups_reset(g);
        start(cur, send_us, arrival_us);
        return r;
    }
    g->prev = *cur;
    start(cur, send_us, arrival_us);
    return r;
}
