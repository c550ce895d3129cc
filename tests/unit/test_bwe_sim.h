/*
 * A tiny network for the bandwidth estimator's tests (relay/bwe/bwe.h):
 * a sender, one bottleneck and a viewer that returns transport-cc
 * feedback, in simulated time.
 *
 *  - The sender sends video frames (30 a second, sizes varying around
 *    rate / 30) cut into packets of at most 1200 bytes, paced at 2.5 x the
 *    rate as libwebrtc's pacer does, and optionally probe clusters: n
 *    packets of 1200 bytes at a probe rate, every so often, each cluster
 *    with its own id.
 *  - The link is a FIFO of capacity bits/s with a queue limit in time, as
 *    Linux tbf's "latency": a packet that would wait longer is dropped;
 *    optionally a random loss before it; then a fixed propagation delay.
 *  - The viewer reports, every feedback interval, the packets up to the
 *    last that arrived (those missing before it as lost), with arrival
 *    times in its own clock (offset from the sender's), rounded to 250 us
 *    as a feedback carries them. The report reaches the sender after the
 *    propagation delay again.
 *
 * Each test file includes this once; the sim is large (static storage).
 */
#ifndef TEST_BWE_SIM_H
#define TEST_BWE_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwe/bwe.h"

#define SIM_T0     1000000000LL /* the sender's clock at the start: 1000 s */
#define SIM_QUEUE  8192         /* packets in flight or unreported */
#define SIM_PACKET 1200

struct sim_pkt {
    uint16_t tseq;
    int64_t arrival_us; /* sender's clock; -1: dropped */
};

struct sim;
typedef void (*sim_hook)(struct sim *s);

struct sim {
    struct mr_bwe bwe;
    int64_t now_us;
    uint32_t rng;
    uint16_t tseq;
    /* link */
    double capacity_bps;
    int64_t queue_limit_us, delay_us, busy_until_us;
    double loss;
    /* media */
    double media_bps, pace_bps, jitter;
    int64_t next_frame_us, next_pkt_us;
    unsigned frame_left;
    uint16_t frame_size;
    /* probes: probe_every_us 0: none */
    double probe_bps;
    int64_t probe_every_us, next_probe_us, next_probe_pkt_us;
    unsigned probe_packets, probe_left;
    uint16_t probe_id;
    /* viewer */
    int64_t fb_interval_us, next_fb_us, viewer_offset_us;
    struct sim_pkt q[SIM_QUEUE];
    unsigned q_head, q_tail;
    /* observation, after each feedback */
    sim_hook hook;
    unsigned feedbacks, overuse_episodes;
    enum mr_bwe_usage last_usage;
    bool trace;
    int64_t next_trace_us;
};

static inline double sim_rand(struct sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 17;
    s->rng ^= s->rng << 5;
    return (double)s->rng / 4294967296.0;
}

/* A sim with the estimator started at start_bps (min 50k, max 20M), a
 * 5 Mbit/s link with a 200 ms queue and 20 ms each way, no media, feedback
 * every 100 ms. */
static inline void sim_init(struct sim *s, uint32_t start_bps, uint16_t first_tseq)
{
    memset(s, 0, sizeof(*s));
    struct mr_bwe_config cfg = {.start_bps = start_bps, .min_bps = 50000, .max_bps = 20000000};
    s->now_us = SIM_T0;
    mr_bwe_init(&s->bwe, &cfg, s->now_us);
    mr_bwe_set_rtt(&s->bwe, 40000);
    s->rng = 0x2545f491;
    s->tseq = first_tseq;
    s->capacity_bps = 5e6;
    s->queue_limit_us = 200000;
    s->delay_us = 20000;
    s->jitter = 0.3;
    s->fb_interval_us = 100000;
    s->next_fb_us = s->now_us + s->fb_interval_us;
    s->viewer_offset_us = 123456789; /* the viewer's clock is not ours */
    s->trace = getenv("MR_BWE_TRACE") != NULL;
    s->next_trace_us = s->now_us;
}

static inline void sim_media(struct sim *s, double bps)
{
    s->media_bps = bps;
    s->pace_bps = 2.5 * bps;
    if (s->next_frame_us < s->now_us)
        s->next_frame_us = s->now_us;
}

static inline void sim_probes(struct sim *s, double bps, unsigned packets, int64_t every_us)
{
    s->probe_bps = bps;
    s->probe_packets = packets;
    s->probe_every_us = every_us;
    s->next_probe_us = s->now_us;
}

/* The link: when the packet arrives, or -1 when it is dropped. */
static inline int64_t sim_link(struct sim *s, unsigned bytes)
{
    if (s->loss > 0 && sim_rand(s) < s->loss)
        return -1;
    int64_t start = s->busy_until_us > s->now_us ? s->busy_until_us : s->now_us;
    if (start - s->now_us > s->queue_limit_us)
        return -1;
    s->busy_until_us = start + (int64_t)(bytes * 8 * 1e6 / s->capacity_bps);
    return s->busy_until_us + s->delay_us;
}

static inline void sim_send(struct sim *s, uint16_t size, uint16_t probe)
{
    uint16_t tseq = s->tseq++;
    mr_bwe_on_sent(&s->bwe, tseq, size, s->now_us, probe);
    if (s->q_tail - s->q_head == SIM_QUEUE)
        s->q_head++; /* a viewer that long silent never reports these */
    struct sim_pkt *p = &s->q[s->q_tail++ % SIM_QUEUE];
    p->tseq = tseq;
    p->arrival_us = sim_link(s, size);
}

static inline void sim_frame(struct sim *s)
{
    double bytes = s->media_bps / 8 / 30 * (1 + s->jitter * (2 * sim_rand(s) - 1));
    unsigned n = (unsigned)(bytes / SIM_PACKET) + 1;
    s->frame_left = n;
    s->frame_size = (uint16_t)(bytes / n < 100 ? 100 : bytes / n);
    s->next_pkt_us = s->now_us;
    s->next_frame_us += 1000000 / 30;
}

/* The viewer's report of what arrived by now - delay (its clock). */
static inline void sim_feedback(struct sim *s)
{
    int64_t cutoff = s->now_us - s->delay_us;
    unsigned end = s->q_head; /* one past the last arrived */
    for (unsigned i = s->q_head; i != s->q_tail; i++) {
        int64_t a = s->q[i % SIM_QUEUE].arrival_us;
        if (a > cutoff)
            break;
        if (a >= 0)
            end = i + 1;
    }
    mr_bwe_feedback_begin(&s->bwe, s->now_us);
    for (unsigned i = s->q_head; i != end; i++) {
        const struct sim_pkt *p = &s->q[i % SIM_QUEUE];
        int64_t viewer = p->arrival_us + s->viewer_offset_us;
        mr_bwe_feedback_status(&s->bwe, p->tseq, p->arrival_us >= 0, viewer - viewer % 250);
    }
    s->q_head = end;
    mr_bwe_feedback_end(&s->bwe, s->now_us);
    s->feedbacks++;
    enum mr_bwe_usage u = mr_bwe_usage(&s->bwe);
    if (u == MR_BWE_OVERUSE && s->last_usage != MR_BWE_OVERUSE)
        s->overuse_episodes++;
    s->last_usage = u;
    if (s->hook)
        s->hook(s);
}

static inline void sim_trace(struct sim *s, const char *name)
{
    if (!s->trace || s->now_us < s->next_trace_us)
        return;
    printf("%s t=%5.1f s estimate %7.0f kbit/s acked %6.0f loss %3u%% usage %d\n", name,
           (double)(s->now_us - SIM_T0) / 1e6, mr_bwe_estimate(&s->bwe) / 1e3,
           mr_bwe_acked_bps(&s->bwe) / 1e3, mr_bwe_loss_permille(&s->bwe) / 10,
           mr_bwe_usage(&s->bwe));
    s->next_trace_us += 1000000;
}

static inline int64_t sim_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The next media packet's time (a packet of the frame, or the next
 * frame), INT64_MAX when there is no media. */
static inline int64_t sim_next_media(const struct sim *s)
{
    if (s->media_bps <= 0)
        return INT64_MAX;
    return s->frame_left ? s->next_pkt_us : s->next_frame_us;
}

static inline int64_t sim_next_probe(const struct sim *s)
{
    if (s->probe_left)
        return s->next_probe_pkt_us;
    return s->probe_every_us ? s->next_probe_us : INT64_MAX;
}

static inline void sim_step_probe(struct sim *s)
{
    if (!s->probe_left) {
        s->probe_left = s->probe_packets;
        s->probe_id = (uint16_t)(s->probe_id % 1000 + 1);
        s->next_probe_pkt_us = s->now_us;
        s->next_probe_us += s->probe_every_us;
    }
    sim_send(s, SIM_PACKET, s->probe_id);
    s->probe_left--;
    s->next_probe_pkt_us += (int64_t)(SIM_PACKET * 8 * 1e6 / s->probe_bps);
}

/* Runs for duration_us; name labels the trace (MR_BWE_TRACE=1). */
static inline void sim_run(struct sim *s, int64_t duration_us, const char *name)
{
    int64_t until = s->now_us + duration_us;
    for (;;) {
        int64_t media = sim_next_media(s), probe = sim_next_probe(s);
        int64_t t = sim_min(sim_min(media, probe), sim_min(s->next_fb_us, until));
        s->now_us = t;
        sim_trace(s, name);
        if (t == until)
            return;
        if (t == media) {
            if (!s->frame_left) {
                sim_frame(s);
                continue;
            }
            sim_send(s, s->frame_size, 0);
            s->frame_left--;
            s->next_pkt_us += (int64_t)(s->frame_size * 8 * 1e6 / s->pace_bps);
        } else if (t == probe) {
            sim_step_probe(s);
        } else {
            sim_feedback(s);
            s->next_fb_us += s->fb_interval_us;
        }
    }
}

/* Seconds since the start. */
static inline double sim_t(const struct sim *s)
{
    return (double)(s->now_us - SIM_T0) / 1e6;
}

#endif
