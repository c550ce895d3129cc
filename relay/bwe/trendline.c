/*
 * The delay-based overuse detector: libwebrtc's trendline estimator, the
 * successor of the Kalman filter of draft-ietf-rmcat-gcc-02 §5.3, with the
 * draft's adaptive threshold (§5.4) and overuse detector (§5.5).
 *
 * Each group delta adds (arrival delta - send delta), the growth of the
 * queue, to an accumulated delay; its exponential average (0.9) against
 * the arrival time makes the last MR_BWE_TREND_WINDOW points, and their
 * least-squares slope is the trend: how many ms the queue grows per ms.
 * Noise averages out over the window where a single delta would not.
 *
 * The trend, multiplied by the number of deltas seen (up to 60, so the
 * first few do not count in full) and a gain of 4, is compared with a
 * threshold that follows it: slowly up when it is exceeded (k_up), faster
 * down (k_down), between 6 and 600. A threshold that adapts keeps the
 * detector sensitive on a quiet link and stops a noisy one (Wi-Fi, a
 * competing TCP flow) from reading its jitter as overuse, which would
 * starve this flow (§5.4).
 *
 * Overuse is declared when the modified trend has been above the threshold
 * for more than 10 ms of send time and more than one delta, and is not
 * falling; underuse when it is below minus the threshold.
 */
#include <string.h>

#include "bwe/bwe_priv.h"

#define SMOOTHING         0.9
#define GAIN              4.0
#define MAX_DELTAS        60
#define DELTA_COUNT_LIMIT 1000
#define OVERUSE_MS        10.0
#define THRESHOLD_INIT    12.5
#define THRESHOLD_MIN     6.0
#define THRESHOLD_MAX     600.0
#define K_UP              0.0087
#define K_DOWN            0.039
/* A trend this far beyond the threshold is a sudden change (a route
 * change, a burst of cross traffic), not noise: the threshold does not
 * chase it. */
#define MAX_ADAPT_MS      15.0
#define MAX_ADAPT_STEP_MS 100.0
/* The slope is fitted once half the window is filled, where libwebrtc
 * waits for all of it: a viewer that joins on a layer its link cannot
 * carry fills a shallow queue (tbf's 50-200 ms) within a few groups, and a
 * full window's first slope then sees the ramp already flattening (a
 * falling trend, never confirmed as overuse). The n_deltas factor in
 * detect() already discounts the first points. */
#define MIN_POINTS (MR_BWE_TREND_WINDOW / 2)

void mr_bwe_trend_init(struct mr_bwe_trend *t)
{
    memset(t, 0, sizeof(*t));
    t->threshold = THRESHOLD_INIT;
    t->over_ms = -1;
    t->usage = MR_BWE_NORMAL;
}

/* Forgets the delay history but keeps the threshold: what the link's noise
 * is like has not changed. */
void mr_bwe_trend_reset(struct mr_bwe_trend *t)
{
    double threshold = t->threshold;
    mr_bwe_trend_init(t);
    t->threshold = threshold;
}

/* The least-squares slope of y over x; false when every x is the same. */
static bool slope(const struct mr_bwe_trend *t, double *out)
{
    double sx = 0, sy = 0;
    unsigned n = t->n_points;
    for (unsigned i = 0; i < n; i++) {
        sx += t->x_ms[i];
        sy += t->y_ms[i];
    }
    double mx = sx / n, my = sy / n, num = 0, den = 0;
    for (unsigned i = 0; i < n; i++) {
        num += (t->x_ms[i] - mx) * (t->y_ms[i] - my);
        den += (t->x_ms[i] - mx) * (t->x_ms[i] - mx);
    }
    if (den == 0)
        return false;
    *out = num / den;
    return true;
}

static void adapt_threshold(struct mr_bwe_trend *t, double modified, int64_t arrival_us)
{
    double m = modified < 0 ? -modified : modified;
    if (!t->threshold_started) {
        t->threshold_us = arrival_us;
        t->threshold_started = true;
    }
    double dt_ms = (double)(arrival_us - t->threshold_us) / 1000.0;
    t->threshold_us = arrival_us;
    if (m > t->threshold + MAX_ADAPT_MS)
        return;
    if (dt_ms > MAX_ADAPT_STEP_MS)
        dt_ms = MAX_ADAPT_STEP_MS;
    if (dt_ms < 0)
        dt_ms = 0;
    double k = m < t->threshold ? K_DOWN : K_UP;
    t->threshold += k * (m - t->threshold) * dt_ms;
    if (t->threshold < THRESHOLD_MIN)
        t->threshold = THRESHOLD_MIN;
    if (t->threshold > THRESHOLD_MAX)
        t->threshold = THRESHOLD_MAX;
}

static void detect(struct mr_bwe_trend *t, double send_delta_ms, int64_t arrival_us)
{
    if (t->n_deltas < 2) {
        t->usage = MR_BWE_NORMAL;
        return;
    }
    unsigned n = t->n_deltas < MAX_DELTAS ? t->n_deltas : MAX_DELTAS;
    double modified = n * t->trend * GAIN;
    if (modified > t->threshold) {
        t->over_ms = t->over_ms < 0 ? send_delta_ms / 2 : t->over_ms + send_delta_ms;
        t->over_count++;
        if (t->over_ms > OVERUSE_MS && t->over_count > 1 && t->trend >= t->prev_trend) {
            t->over_ms = 0;
            t->over_count = 0;
            t->usage = MR_BWE_OVERUSE;
        }
    } else {
        t->over_ms = -1;
        t->over_count = 0;
        t->usage = modified < -t->threshold ? MR_BWE_UNDERUSE : MR_BWE_NORMAL;
    }
    t->prev_trend = t->trend;
    adapt_threshold(t, modified, arrival_us);
}

void mr_bwe_trend_update(struct mr_bwe_trend *t, const struct mr_bwe_delta *d, int64_t arrival_us)
{
    double delta_ms = (double)(d->arrival_us - d->send_us) / 1000.0;
    if (t->n_deltas < DELTA_COUNT_LIMIT)
        t->n_deltas++;
    if (t->n_points == 0 && t->n_deltas == 1)
        t->first_arrival_us = arrival_us;
    t->acc_ms += delta_ms;
    t->smoothed_ms = SMOOTHING * t->smoothed_ms + (1 - SMOOTHING) * t->acc_ms;
    t->x_ms[t->next] = (double)(arrival_us - t->first_arrival_us) / 1000.0;
    t->y_ms[t->next] = t->smoothed_ms;
    t->next = (t->next + 1) % MR_BWE_TREND_WINDOW;
    if (t->n_points < MR_BWE_TREND_WINDOW)
        t->n_points++;
    /* Until then the trend stays 0: a slope over a few points is mostly
     * noise. */
    double s;
    if (t->n_points >= MIN_POINTS && slope(t, &s))
        t->trend = s;
    detect(t, (double)d->send_us / 1000.0, arrival_us);
}
