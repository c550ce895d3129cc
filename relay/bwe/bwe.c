/*
 * The estimator's entry points (bwe.h): sent packets go into the history;
 * each feedback status finds its packet there and, the first time it is
 * reported received, feeds the receive rate, its probe cluster and the
 * delay detector; the end of a feedback runs the rate controls.
 *
 * At the end of a feedback, in libwebrtc's order: overuse decreases (once
 * per response time); otherwise a new probe result above the estimate
 * replaces it; otherwise AIMD goes on. The loss-based limit applies last,
 * and the estimate is the lower of the two, within [min, max].
 */
#include "bwe/bwe_priv.h"

#define DEFAULT_RTT_US 200000
#define MAX_RTT_US     10000000

void mr_bwe_init(struct mr_bwe *b, const struct mr_bwe_config *cfg, int64_t now_us)
{
    *b = (struct mr_bwe){.cfg = *cfg, .rtt_us = DEFAULT_RTT_US};
    if (b->cfg.max_bps < b->cfg.min_bps)
        b->cfg.max_bps = b->cfg.min_bps;
    if (b->cfg.start_bps < b->cfg.min_bps)
        b->cfg.start_bps = b->cfg.min_bps;
    if (b->cfg.start_bps > b->cfg.max_bps)
        b->cfg.start_bps = b->cfg.max_bps;
    b->estimate = b->cfg.start_bps;
    mr_bwe_history_init(&b->history);
    mr_bwe_groups_reset(&b->groups);
    mr_bwe_trend_init(&b->trend);
    mr_bwe_acked_init(&b->acked);
    mr_bwe_rate_init(&b->rate, &b->cfg, now_us);
    mr_bwe_loss_init(&b->loss);
    mr_bwe_probe_init(&b->probes);
}

void mr_bwe_on_sent(struct mr_bwe *b, uint16_t tseq, uint16_t size, int64_t send_us, uint16_t probe)
{
    struct mr_bwe_sent *s = mr_bwe_history_put(&b->history, tseq, send_us);
    if (!s)
        return;
    s->size = size;
    s->probe = probe;
    s->state = MR_BWE_PKT_SENT;
    if (probe)
        mr_bwe_probe_on_sent(&b->probes, probe, send_us);
}

void mr_bwe_feedback_begin(struct mr_bwe *b, int64_t now_us)
{
    b->fb_reported = 0;
    b->fb_lost = 0;
    b->fb_recovered = 0;
    b->fb_received = 0;
    b->fb_overuse = false;
}

static void on_received(struct mr_bwe *b, const struct mr_bwe_sent *s, int64_t arrival_us)
{
    int64_t send_us = mr_bwe_history_send_us(&b->history, s);
    mr_bwe_acked_add(&b->acked, s->size, arrival_us);
    if (s->probe)
        mr_bwe_probe_on_received(&b->probes, s->probe, s->size, send_us, arrival_us);
    struct mr_bwe_delta d;
    switch (mr_bwe_groups_add(&b->groups, send_us, arrival_us, &d)) {
    case MR_BWE_GROUP_NONE:
        return;
    case MR_BWE_GROUP_RESET:
        mr_bwe_trend_reset(&b->trend);
        return;
    case MR_BWE_GROUP_DELTA:
        break;
    }
    if (d.send_us > MR_BWE_GAP_US || d.arrival_us > MR_BWE_GAP_US) {
        mr_bwe_trend_reset(&b->trend);
        return;
    }
    mr_bwe_trend_update(&b->trend, &d, arrival_us);
    if (b->trend.usage == MR_BWE_OVERUSE)
        b->fb_overuse = true;
}

void mr_bwe_feedback_status(struct mr_bwe *b, uint16_t tseq, bool received, int64_t arrival_us)
{
    struct mr_bwe_sent *s = mr_bwe_history_find(&b->history, tseq);
    if (!s || s->state == MR_BWE_PKT_RECEIVED)
        return;
    if (!received) {
        if (s->state == MR_BWE_PKT_SENT) {
            s->state = MR_BWE_PKT_LOST;
            b->fb_reported++;
            b->fb_lost++;
        }
        return;
    }
    if (s->state == MR_BWE_PKT_LOST)
        b->fb_recovered++;
    else
        b->fb_reported++;
    s->state = MR_BWE_PKT_RECEIVED;
    b->fb_received++;
    on_received(b, s, arrival_us);
}

/* This feedback's loss sample. A packet reported lost before and received
 * now takes back one loss; recoveries beyond this feedback's losses count
 * as that many packets without loss (the earlier sample cannot be undone). */
static void sample_loss(struct mr_bwe *b)
{
    unsigned lost = b->fb_lost, reported = b->fb_reported;
    unsigned taken = b->fb_recovered < lost ? b->fb_recovered : lost;
    lost -= taken;
    if (b->fb_recovered > reported)
        reported = b->fb_recovered;
    mr_bwe_loss_sample(&b->loss, lost, reported);
}

void mr_bwe_feedback_end(struct mr_bwe *b, int64_t now_us)
{
    /* Nothing new reported: nothing to learn, and no traffic to earn an
     * increase with (a sender with nothing to send still gets feedback). */
    if (b->fb_reported == 0 && b->fb_recovered == 0)
        return;
    enum mr_bwe_usage usage = b->trend.usage;
    b->acked_bps = mr_bwe_acked_rate(&b->acked);
    sample_loss(b);
    if (b->fb_overuse || usage == MR_BWE_OVERUSE)
        mr_bwe_probe_overuse(&b->probes, now_us);
    uint32_t probe = mr_bwe_probe_evaluate(&b->probes);
    if (usage != MR_BWE_OVERUSE && probe > b->estimate) {
        mr_bwe_rate_set(&b->rate, probe, now_us);
        mr_bwe_loss_raise(&b->loss, probe);
    } else if (b->fb_received) {
        mr_bwe_rate_update(&b->rate, usage, b->acked_bps, b->rtt_us, now_us);
    }
    double e = mr_bwe_loss_apply(&b->loss, b->rate.bps, b->cfg.min_bps, now_us);
    uint32_t next = e < b->cfg.min_bps   ? b->cfg.min_bps
                    : e > b->cfg.max_bps ? b->cfg.max_bps
                                         : (uint32_t)e;
    if (next < b->estimate)
        b->last_decrease_us = now_us ? now_us : 1;
    b->estimate = next;
}

void mr_bwe_set_rtt(struct mr_bwe *b, int64_t rtt_us)
{
    if (rtt_us > 0)
        b->rtt_us = rtt_us < MAX_RTT_US ? rtt_us : MAX_RTT_US;
}

uint32_t mr_bwe_estimate(const struct mr_bwe *b)
{
    return b->estimate;
}

uint32_t mr_bwe_acked_bps(const struct mr_bwe *b)
{
    return b->acked_bps;
}

enum mr_bwe_usage mr_bwe_usage(const struct mr_bwe *b)
{
    return b->trend.usage;
}

int64_t mr_bwe_last_decrease_us(const struct mr_bwe *b)
{
    return b->last_decrease_us;
}

uint32_t mr_bwe_loss_permille(const struct mr_bwe *b)
{
    return (uint32_t)(b->loss.smoothed * 1000 + 0.5);
}

uint32_t mr_bwe_probe_result(const struct mr_bwe *b, uint16_t probe)
{
    const struct mr_bwe_cluster *c = mr_bwe_probe_find(&b->probes, probe);
    return c ? c->result_bps : 0;
}
