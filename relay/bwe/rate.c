/*
 * AIMD rate control on the delay signal (draft-ietf-rmcat-gcc-02 §5.5,
 * libwebrtc's AimdRateControl).
 *
 * Overuse: the queue is growing, the link carries less than is sent; the
 * estimate drops to 0.85 of what the viewer received (the receive rate is
 * what the link carries, so 0.85 of it lets the queue drain). Once per
 * response time (round trip + 100 ms): the next feedback still shows the
 * queue built before the decrease took effect, and must not cut again.
 *
 * Underuse: the queue is draining; hold, so it can drain.
 *
 * Normal: increase. Far from the last congestion point, multiplicatively
 * (8 % a second), to find a link's rate in seconds; near it, additively,
 * about one packet per response time, to stay there without provoking
 * the next overuse too soon. "Near" is within three standard deviations
 * of the receive rates seen at past overuses (the link capacity estimate,
 * an exponential average); a receive rate above that means the link
 * changed, and the estimate is forgotten.
 *
 * Never above 1.5 x the receive rate + 10 kbit/s: an estimate must be
 * earned by traffic, or a viewer that received 300 kbit/s for a minute
 * would be credited with megabits it never carried. Only a probe result
 * (mr_bwe_rate_set) may go beyond. Without a receive rate yet, there is
 * nothing to earn from, and the estimate holds.
 */
#include "bwe/bwe_priv.h"

enum { HOLD, INCREASE, DECREASE };

#define BETA           0.85
#define RESPONSE_US    100000
#define MAX_STEP_US    1000000
#define MULTIPLICATIVE 0.08 /* a second */
#define CAP_ALPHA      0.05
#define CAP_VAR_MIN    0.4
#define CAP_VAR_MAX    2.5
#define FRAME_RATE     30.0
#define PACKET_BITS    (1200 * 8.0)
#define MIN_ADDITIVE   4000.0 /* bits/s a second */

void mr_bwe_rate_init(struct mr_bwe_rate *r, const struct mr_bwe_config *cfg, int64_t now_us)
{
    *r = (struct mr_bwe_rate){
        .bps = cfg->start_bps,
        .min_bps = cfg->min_bps,
        .max_bps = cfg->max_bps,
        .cap_var = CAP_VAR_MIN,
        .last_change_us = now_us,
        .state = INCREASE,
    };
}

static double clamp(const struct mr_bwe_rate *r, double bps)
{
    return bps < r->min_bps ? r->min_bps : bps > r->max_bps ? r->max_bps : bps;
}

/* A square root by Newton's method, enough for a confidence bound and
 * without libm for this one use. */
static double root(double x)
{
    if (x <= 0)
        return 0;
    double y = x > 1 ? x : 1;
    for (int i = 0; i < 40; i++)
        y = 0.5 * (y + x / y);
    return y;
}

static double cap_margin_kbps(const struct mr_bwe_rate *r)
{
    return 3 * root(r->cap_var * r->cap_kbps);
}

static void cap_on_overuse(struct mr_bwe_rate *r, double acked_bps)
{
    double sample = acked_bps / 1000;
    r->cap_kbps = r->has_cap ? (1 - CAP_ALPHA) * r->cap_kbps + CAP_ALPHA * sample : sample;
    r->has_cap = true;
    double norm = r->cap_kbps > 1 ? r->cap_kbps : 1;
    double err = r->cap_kbps - sample;
    r->cap_var = (1 - CAP_ALPHA) * r->cap_var + CAP_ALPHA * err * err / norm;
    r->cap_var = r->cap_var < CAP_VAR_MIN ? CAP_VAR_MIN : r->cap_var;
    r->cap_var = r->cap_var > CAP_VAR_MAX ? CAP_VAR_MAX : r->cap_var;
}

static void decrease(struct mr_bwe_rate *r, uint32_t acked_bps, int64_t rtt_us, int64_t now_us)
{
    if (r->responded && now_us - r->last_response_us < rtt_us + RESPONSE_US)
        return;
    double throughput = acked_bps ? acked_bps : r->bps;
    double target = BETA * throughput;
    /* Receiving more than the estimate (a probe, or the estimate just cut
     * by loss): the capacity seen at past overuses is the better guide. */
    if (target > r->bps && r->has_cap)
        target = BETA * r->cap_kbps * 1000;
    if (target < r->bps)
        r->bps = clamp(r, target);
    if (acked_bps) {
        if (r->has_cap && acked_bps / 1000.0 < r->cap_kbps - cap_margin_kbps(r))
            r->has_cap = false;
        cap_on_overuse(r, acked_bps);
    }
    r->state = HOLD;
    r->last_change_us = now_us;
    r->last_response_us = now_us;
    r->responded = true;
}

/* libwebrtc's near-capacity increase: one average packet of a 30 fps
 * stream at this rate, per response time. */
static double additive_per_s(const struct mr_bwe_rate *r, int64_t rtt_us)
{
    double frame_bits = r->bps / FRAME_RATE;
    double packets = (double)(uint64_t)(frame_bits / PACKET_BITS) + 1;
    double response_s = (double)(rtt_us + RESPONSE_US) / 1e6;
    double per_s = frame_bits / packets / response_s;
    return per_s > MIN_ADDITIVE ? per_s : MIN_ADDITIVE;
}

static void increase(struct mr_bwe_rate *r, uint32_t acked_bps, int64_t rtt_us, int64_t now_us)
{
    int64_t step_us = now_us - r->last_change_us;
    step_us = step_us < 0 ? 0 : step_us > MAX_STEP_US ? MAX_STEP_US : step_us;
    double dt = (double)step_us / 1e6;
    r->last_change_us = now_us;
    if (!acked_bps)
        return;
    if (r->has_cap && acked_bps / 1000.0 > r->cap_kbps + cap_margin_kbps(r))
        r->has_cap = false;
    double step = r->has_cap ? additive_per_s(r, rtt_us) * dt : r->bps * MULTIPLICATIVE * dt;
    if (!r->has_cap && step < 1000 * dt)
        step = 1000 * dt;
    double next = r->bps + step;
    double earned = 1.5 * acked_bps + 10000;
    if (next > earned)
        next = r->bps > earned ? r->bps : earned;
    r->bps = clamp(r, next);
}

void mr_bwe_rate_update(struct mr_bwe_rate *r, enum mr_bwe_usage u, uint32_t acked_bps,
                        int64_t rtt_us, int64_t now_us)
{
    switch (u) {
    case MR_BWE_OVERUSE:
        r->state = DECREASE;
        decrease(r, acked_bps, rtt_us, now_us);
        return;
    case MR_BWE_UNDERUSE:
        r->state = HOLD;
        return;
    case MR_BWE_NORMAL:
        break;
    }
    if (r->state != INCREASE) {
        /* Leaving hold: time spent holding earns no increase. */
        r->state = INCREASE;
        r->last_change_us = now_us;
    }
    increase(r, acked_bps, rtt_us, now_us);
}

/* A probe's measurement replaces the estimate outright. */
void mr_bwe_rate_set(struct mr_bwe_rate *r, double bps, int64_t now_us)
{
    r->bps = clamp(r, bps);
    r->state = HOLD;
    r->last_change_us = now_us;
}
