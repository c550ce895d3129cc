/*
 * Loss-based control (draft-ietf-rmcat-gcc-02 §6, libwebrtc's
 * SendSideBandwidthEstimation): a link with a shallow buffer, or a policer,
 * drops before its queue delay can grow, and the delay signal never fires;
 * loss is then the only sign of congestion.
 *
 * The loss fraction is smoothed over the reported packets, each feedback
 * weighing by how many it reports (about 50 packets' memory): one feedback
 * of three packets with one lost is not a 33 % loss.
 *
 * The loss-based limit, applied over the delay-based estimate:
 *  - above 10 % loss: cut to (1 - loss / 2) of the current estimate, at
 *    most once per 300 ms, the time for a cut to show in the feedback;
 *  - 2 to 10 %: hold where the estimate is (a little loss is the price of
 *    probing for more, but not a reason to ask for more still);
 *  - below 2 %: no cut and no hold. A limit left by a past cut rises by
 *    8 % a second and is dropped once it reaches the delay-based estimate,
 *    rather than lifted at once: the link that dropped a tenth of the
 *    packets a moment ago is not trusted with the full rate immediately.
 * A probe result that jumps the estimate raises the limit with it
 * (mr_bwe_loss_raise): the probe measured the link since.
 */
#include "bwe/bwe_priv.h"

#define WEIGHT_PACKETS  50.0
#define CUT_LOSS        0.10
#define HOLD_LOSS       0.02
#define CUT_INTERVAL_US 300000
#define RISE            0.08 /* a second */
#define MAX_STEP_US     1000000

void mr_bwe_loss_init(struct mr_bwe_loss *l)
{
    *l = (struct mr_bwe_loss){0};
}

void mr_bwe_loss_sample(struct mr_bwe_loss *l, unsigned lost, unsigned reported)
{
    if (reported == 0)
        return;
    if (lost > reported)
        lost = reported;
    double alpha = reported / (reported + WEIGHT_PACKETS);
    l->smoothed += alpha * ((double)lost / reported - l->smoothed);
}

static void rise(struct mr_bwe_loss *l, double delay_bps, int64_t now_us)
{
    int64_t step_us = l->updated ? now_us - l->last_update_us : 0;
    step_us = step_us < 0 ? 0 : step_us > MAX_STEP_US ? MAX_STEP_US : step_us;
    double dt = (double)step_us / 1e6;
    double step = l->limit_bps * RISE * dt;
    l->limit_bps += step > 1000 * dt ? step : 1000 * dt;
    if (l->limit_bps >= delay_bps)
        l->limit_bps = 0;
}

double mr_bwe_loss_apply(struct mr_bwe_loss *l, double delay_bps, double min_bps, int64_t now_us)
{
    double current = l->limit_bps > 0 && l->limit_bps < delay_bps ? l->limit_bps : delay_bps;
    if (l->smoothed > CUT_LOSS) {
        if (!l->cut_ever || now_us - l->last_cut_us >= CUT_INTERVAL_US) {
            l->limit_bps = current * (1 - l->smoothed / 2);
            l->last_cut_us = now_us;
            l->cut_ever = true;
        }
    } else if (l->smoothed >= HOLD_LOSS) {
        l->limit_bps = current;
    } else if (l->limit_bps > 0) {
        rise(l, delay_bps, now_us);
    }
    if (l->limit_bps > 0 && l->limit_bps < min_bps)
        l->limit_bps = min_bps;
    l->last_update_us = now_us;
    l->updated = true;
    return l->limit_bps > 0 && l->limit_bps < delay_bps ? l->limit_bps : delay_bps;
}

void mr_bwe_loss_raise(struct mr_bwe_loss *l, double bps)
{
    if (l->limit_bps > 0 && l->limit_bps < bps)
        l->limit_bps = bps;
}
