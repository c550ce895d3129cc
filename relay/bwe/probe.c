/*
 * Probe results (libwebrtc's ProbeBitrateEstimator): a cluster of packets
 * sent back to back faster than the estimate measures the link directly.
 * If the link carries the rate, the packets arrive as fast as they were
 * sent; if not, they queue and arrive at the link's rate. Either way the
 * result is min(send rate, receive rate), and when the receive rate is
 * clearly lower (under 90 % of the send rate) the link saturated and its
 * rate is the receive rate, of which 95 % is taken so the estimate does
 * not sit exactly at the point of queueing.
 *
 * Rates, over the cluster's received packets: the send rate counts the
 * bytes of all but the last sent over the time from first to last sent
 * (the last one's bytes left after the span ended), the receive rate those
 * of all but the first received over the arrival span (the first one's
 * arrived before it began). A span of zero, or over two seconds, measures
 * nothing; a receive rate over twice the send rate is arrivals bunched by
 * the viewer, not the link's rate.
 *
 * A cluster is measured once at least 5 of its packets, and 80 % of those
 * sent, have been received, and again as more arrive. A cluster during
 * which the delay detector saw overuse gives no jump (bwe.c): its packets
 * queued behind something else, or caused the overuse.
 */
#include <string.h>

#include "bwe/bwe_priv.h"

#define MIN_PACKETS 5
#define MIN_PERCENT 80
/* libwebrtc rejects clusters spread over more than a second; a relay
 * that probes with a second of paced padding needs a little more. A
 * spread-out cluster measures a low rate anyway, and a low result never
 * lowers the estimate. */
#define MAX_SPAN_US 2000000
/* An id sent again after this long without a packet is a new cluster. */
#define IDLE_US     1000000
#define MAX_RATIO   2.0
#define SATURATED   0.9
#define UTILISATION 0.95

void mr_bwe_probe_init(struct mr_bwe_probes *p)
{
    memset(p, 0, sizeof(*p));
}

/* The slot of cluster id, or -1. */
static int slot_of(const struct mr_bwe_probes *p, uint16_t id)
{
    for (int i = 0; i < MR_BWE_PROBE_CLUSTERS; i++)
        if (id && p->c[i].id == id)
            return i;
    return -1;
}

static struct mr_bwe_cluster *find(struct mr_bwe_probes *p, uint16_t id)
{
    int i = slot_of(p, id);
    return i < 0 ? NULL : &p->c[i];
}

const struct mr_bwe_cluster *mr_bwe_probe_find(const struct mr_bwe_probes *p, uint16_t id)
{
    int i = slot_of(p, id);
    return i < 0 ? NULL : &p->c[i];
}

/* A free slot, else the cluster started longest ago. */
static struct mr_bwe_cluster *oldest(struct mr_bwe_probes *p)
{
    struct mr_bwe_cluster *o = &p->c[0];
    for (unsigned i = 0; i < MR_BWE_PROBE_CLUSTERS; i++) {
        if (p->c[i].id == 0)
            return &p->c[i];
        if (p->c[i].started_us < o->started_us)
            o = &p->c[i];
    }
    return o;
}

void mr_bwe_probe_on_sent(struct mr_bwe_probes *p, uint16_t id, int64_t send_us)
{
    struct mr_bwe_cluster *c = find(p, id);
    if (!c || send_us - c->latest_sent_us > IDLE_US) {
        c = c ? c : oldest(p);
        memset(c, 0, sizeof(*c));
        c->id = id;
        c->started_us = send_us;
    }
    if (send_us > c->latest_sent_us)
        c->latest_sent_us = send_us;
    if (c->sent < UINT16_MAX)
        c->sent++;
}

void mr_bwe_probe_on_received(struct mr_bwe_probes *p, uint16_t id, uint16_t size, int64_t send_us,
                              int64_t arrival_us)
{
    struct mr_bwe_cluster *c = find(p, id);
    /* Sent before the cluster with this id started: an older cluster's. */
    if (!c || send_us < c->started_us || c->received == UINT16_MAX)
        return;
    if (c->received == 0) {
        c->first_send_us = c->last_send_us = send_us;
        c->first_arrival_us = c->last_arrival_us = arrival_us;
        c->last_send_size = c->first_arrival_size = size;
    }
    if (send_us < c->first_send_us)
        c->first_send_us = send_us;
    if (send_us >= c->last_send_us) {
        c->last_send_us = send_us;
        c->last_send_size = size;
    }
    if (arrival_us < c->first_arrival_us) {
        c->first_arrival_us = arrival_us;
        c->first_arrival_size = size;
    }
    if (arrival_us > c->last_arrival_us)
        c->last_arrival_us = arrival_us;
    c->received++;
    c->bytes += size;
    c->fresh = true;
}

/* Overuse was seen: clusters reported in this feedback or sent within the
 * last second may have caused it or queued behind it. */
void mr_bwe_probe_overuse(struct mr_bwe_probes *p, int64_t now_us)
{
    for (unsigned i = 0; i < MR_BWE_PROBE_CLUSTERS; i++)
        if (p->c[i].id && (p->c[i].fresh || now_us - p->c[i].latest_sent_us <= IDLE_US))
            p->c[i].overuse = true;
}

static uint32_t measure(const struct mr_bwe_cluster *c)
{
    int64_t send_span = c->last_send_us - c->first_send_us;
    int64_t recv_span = c->last_arrival_us - c->first_arrival_us;
    if (send_span <= 0 || recv_span <= 0 || send_span > MAX_SPAN_US || recv_span > MAX_SPAN_US)
        return 0;
    double send_bps = (double)(c->bytes - c->last_send_size) * 8e6 / (double)send_span;
    double recv_bps = (double)(c->bytes - c->first_arrival_size) * 8e6 / (double)recv_span;
    if (recv_bps > MAX_RATIO * send_bps)
        return 0;
    double r = recv_bps < send_bps ? recv_bps : send_bps;
    if (recv_bps < SATURATED * send_bps)
        r = UTILISATION * recv_bps;
    return r >= UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* Measures the clusters that received packets in this feedback; returns
 * the highest result of those without overuse (0: none). */
uint32_t mr_bwe_probe_evaluate(struct mr_bwe_probes *p)
{
    uint32_t best = 0;
    for (unsigned i = 0; i < MR_BWE_PROBE_CLUSTERS; i++) {
        struct mr_bwe_cluster *c = &p->c[i];
        if (!c->fresh)
            continue;
        c->fresh = false;
        if (c->received < MIN_PACKETS || c->received * 100u < c->sent * MIN_PERCENT)
            continue;
        uint32_t r = measure(c);
        if (!r)
            continue;
        c->result_bps = r;
        if (!c->overuse && r > best)
            best = r;
    }
    return best;
}
