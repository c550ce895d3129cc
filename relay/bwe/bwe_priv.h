/*
 * Internal to relay/bwe: the parts bwe.c feeds, each in its own file. All
 * pure: no allocation, no clock, no lock; times are the caller's.
 */
#ifndef MR_BWE_PRIV_H
#define MR_BWE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "bwe/bwe.h"

/* A viewer clock that moved more than this against the send times jumped
 * (wrapped or restarted); what was measured against it is forgotten. */
#define MR_BWE_CLOCK_JUMP_US 3000000
/* Groups further apart than this (a silent sender or viewer) start the
 * delay trend afresh: the queue seen before says nothing about now. */
#define MR_BWE_GAP_US 1000000

/* struct mr_bwe_sent.state */
enum { MR_BWE_PKT_SENT = 1, MR_BWE_PKT_LOST, MR_BWE_PKT_RECEIVED };

/* history.c: the packet sent as tseq, or NULL when it is unknown, older
 * than the history or replaced by a later one with the same slot. */
void mr_bwe_history_init(struct mr_bwe_history *h);
struct mr_bwe_sent *mr_bwe_history_put(struct mr_bwe_history *h, uint16_t tseq, int64_t send_us);
/* A remembered packet's send time. */
int64_t mr_bwe_history_send_us(const struct mr_bwe_history *h, const struct mr_bwe_sent *s);
struct mr_bwe_sent *mr_bwe_history_find(struct mr_bwe_history *h, uint16_t tseq);

/* group.c: the deltas between two consecutive groups' last packets. */
struct mr_bwe_delta {
    int64_t send_us, arrival_us;
};
enum mr_bwe_group_result {
    MR_BWE_GROUP_NONE,  /* the packet joined a group, or was out of order */
    MR_BWE_GROUP_DELTA, /* a group completed: *d is set */
    MR_BWE_GROUP_RESET, /* the viewer's clock jumped: start over */
};
void mr_bwe_groups_reset(struct mr_bwe_groups *g);
enum mr_bwe_group_result mr_bwe_groups_add(struct mr_bwe_groups *g, int64_t send_us,
                                           int64_t arrival_us, struct mr_bwe_delta *d);

/* trendline.c */
void mr_bwe_trend_init(struct mr_bwe_trend *t);
void mr_bwe_trend_reset(struct mr_bwe_trend *t);
void mr_bwe_trend_update(struct mr_bwe_trend *t, const struct mr_bwe_delta *d, int64_t arrival_us);

/* acked.c: bits/s over the last half second of arrivals, 0 unknown. */
void mr_bwe_acked_init(struct mr_bwe_acked *a);
void mr_bwe_acked_add(struct mr_bwe_acked *a, uint16_t size, int64_t arrival_us);
uint32_t mr_bwe_acked_rate(const struct mr_bwe_acked *a);

/* rate.c: AIMD on the delay signal. acked_bps 0: unknown. */
void mr_bwe_rate_init(struct mr_bwe_rate *r, const struct mr_bwe_config *cfg, int64_t now_us);
void mr_bwe_rate_update(struct mr_bwe_rate *r, enum mr_bwe_usage u, uint32_t acked_bps,
                        int64_t rtt_us, int64_t now_us);
void mr_bwe_rate_set(struct mr_bwe_rate *r, double bps, int64_t now_us);

/* loss.c: the smoothed loss, and the limit it puts on the delay-based
 * estimate (returned: the estimate both allow). */
void mr_bwe_loss_init(struct mr_bwe_loss *l);
void mr_bwe_loss_sample(struct mr_bwe_loss *l, unsigned lost, unsigned reported);
double mr_bwe_loss_apply(struct mr_bwe_loss *l, double delay_bps, double min_bps, int64_t now_us);
void mr_bwe_loss_raise(struct mr_bwe_loss *l, double bps);

/* probe.c */
void mr_bwe_probe_init(struct mr_bwe_probes *p);
void mr_bwe_probe_on_sent(struct mr_bwe_probes *p, uint16_t id, int64_t send_us);
void mr_bwe_probe_on_received(struct mr_bwe_probes *p, uint16_t id, uint16_t size, int64_t send_us,
                              int64_t arrival_us);
void mr_bwe_probe_overuse(struct mr_bwe_probes *p, int64_t now_us);
uint32_t mr_bwe_probe_evaluate(struct mr_bwe_probes *p);
const struct mr_bwe_cluster *mr_bwe_probe_find(const struct mr_bwe_probes *p, uint16_t id);

#endif
