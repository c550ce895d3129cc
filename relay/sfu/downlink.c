/*
 * A viewer's downlink (downlink.h): transport-wide sequence numbers on
 * what it is sent, its feedback into the estimator, and the probes.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/log.h"
#include "rtcp/twcc.h"
#include "rtp/rtp.h"
#include "sfu/downlink.h"
#include "srtp/srtp.h"

/* A viewer's link is assumed to hold the best layer until its feedback
 * says otherwise: an expert on hospital fibre starts on the top layer at
 * once; one on a weak link is moved down within its first second. */
#define START_BPS 5000000u
#define MIN_BPS   50000u
#define MAX_BPS   50000000u
/* What a packet costs the link beyond its RTP bytes: the SRTP tag and
 * UDP/IPv4 headers. */
#define WIRE_OVERHEAD (10 + 8 + 20)

/* Probes: PROBE_US long, paced every PACE_MS, at most PACE_BURST padding
 * packets a turn. A probe lasts long enough to see through a link's burst
 * allowance: a token bucket (tbf's default 32 KB) lets a short probe
 * through at any rate, and a layer chosen on such a result would stall the
 * viewer a second later. Only its last PROBE_US - PROBE_WARMUP_US are
 * measured (the estimator judges a cluster as soon as some of it is
 * back), the allowance being spent by then. It stops at the first sign
 * of queueing, so a capped link is disturbed for well under a second.
 * The first comes PROBE_GAP_MIN_US after a viewer is held low; after one
 * that failed the next is twice as far, up to PROBE_GAP_MAX_US; after one
 * that raised the estimate, the next climbs on at once. */
#define PROBE_US         2000000
#define PROBE_WARMUP_US  1200000
#define PACE_MS          5
#define PACE_BURST       16
#define PROBE_GAP_OK_US  500000
#define PROBE_GAP_MIN_US 2000000
#define PROBE_GAP_MAX_US 6000000
#define VERDICT_US       200000
#define PAD_LEN          255 /* RTP padding's most (RFC 3550 §5.1) */
/* How often the layers are allocated (on the viewer's feedback). */
#define ALLOC_MIN_US 100000

/* The first receiver of the viewer's for which want(rx) holds, or NULL. */
static struct mr_receiver *find_receiver(struct mr_peer *p,
                                         bool (*want)(const struct mr_receiver *))
{
    struct mr_sink *sinks[MR_PEER_MAX_SINKS];
    struct mr_stream *streams[MR_PEER_MAX_SINKS];
    unsigned n = mr_peer_sinks(p, sinks, streams, MR_PEER_MAX_SINKS);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < sinks[i]->n_receivers; j++)
            if (want(&sinks[i]->receivers[j]))
                return &sinks[i]->receivers[j];
    return NULL;
}

static bool takes_feedback(const struct mr_receiver *rx)
{
    return (rx->codec.fb & MR_FB_TWCC) && rx->ext.id[MR_RTP_EXT_TRANSPORT_CC];
}

void mr_downlink_setup(struct mr_peer *p)
{
    if (p->down || p->down_none)
        return;
    if (!find_receiver(p, takes_feedback)) {
        p->down_none = true; /* asked once */
        return;
    }
    if (!(p->down = calloc(1, sizeof(*p->down))))
        return;
    struct mr_bwe_config cfg = {.start_bps = START_BPS, .min_bps = MIN_BPS, .max_bps = MAX_BPS};
    mr_bwe_init(&p->down->bwe, &cfg, mr_clock_mono_us());
    p->down->tseq = (uint16_t)mr_random_ssrc();
    p->down->probe_gap_us = PROBE_GAP_MIN_US;
}

static void stop_pacer(struct mr_downlink *d)
{
    if (d->pacer) {
        g_source_destroy(d->pacer);
        g_source_unref(d->pacer);
        d->pacer = NULL;
    }
}

void mr_downlink_free(struct mr_peer *p)
{
    if (!p->down)
        return;
    stop_pacer(p->down);
    free(p->down);
    p->down = NULL;
}

void mr_downlink_sent(struct mr_peer *p, size_t len, int64_t now_us)
{
    struct mr_downlink *d = p->down;
    uint16_t size = (uint16_t)(len + WIRE_OVERHEAD);
    mr_bwe_on_sent(&d->bwe, d->tseq, size, now_us, d->cluster);
    d->tseq++;
    if (d->probe)
        d->probe_octets += size;
}

/* --- Probes ----------------------------------------------------------- */

/* The video receiver whose RTX stream carries the padding: one that
 * negotiated RTX and has sent media (its timestamp is the padding's). */
static bool pads(const struct mr_receiver *rx)
{
    return rx->kind == MR_MEDIA_VIDEO && rx->codec.rtx_pt && rx->rtx_ssrc && rx->rw.sent &&
           rx->ext.id[MR_RTP_EXT_TRANSPORT_CC];
}

static struct mr_receiver *padding_receiver(struct mr_peer *p)
{
    return find_receiver(p, pads);
}

/* One padding-only packet on rx's RTX stream: its header (with the mid and
 * the transport-wide sequence number) and PAD_LEN bytes of padding. */
static size_t write_padding(struct mr_peer *p, struct mr_receiver *rx, uint8_t *out, size_t cap)
{
    uint8_t tseq[2];
    mr_downlink_tseq(p, rx, tseq);
    struct mr_rtp_ext_out ext[2];
    unsigned n = 0;
    ext[n++] =
        (struct mr_rtp_ext_out){.id = rx->ext.id[MR_RTP_EXT_TRANSPORT_CC], .len = 2, .data = tseq};
    if (rx->ext.id[MR_RTP_EXT_MID])
        ext[n++] = (struct mr_rtp_ext_out){.id = rx->ext.id[MR_RTP_EXT_MID],
                                           .len = (uint8_t)strlen(rx->mid),
                                           .data = (const uint8_t *)rx->mid};
    struct mr_rtp_out_header h = {
        .payload_type = rx->codec.rtx_pt,
        .seq = rx->rtx_seq,
        .timestamp = rx->rw.last_ts,
        .ssrc = rx->rtx_ssrc,
    };
    int hlen = mr_rtp_write_header(out, cap, &h, ext, n);
    if (hlen < 0 || (size_t)hlen + PAD_LEN + MR_SRTP_MAX_OVERHEAD > cap)
        return 0;
    rx->rtx_seq++;
    out[0] |= 0x20; /* P */
    memset(out + hlen, 0, PAD_LEN - 1);
    out[hlen + PAD_LEN - 1] = PAD_LEN;
    return (size_t)hlen + PAD_LEN;
}

static void end_probe(struct mr_peer *p, const char *why, int64_t now)
{
    struct mr_downlink *d = p->down;
    stop_pacer(d);
    if (!d->probe)
        return;
    d->probe_end_us = now;
    mr_log_debug(SFU, "viewer %.8s: probe %u at %u kbit/s %s (estimate %u kbit/s)", p->id, d->probe,
                 d->probe_bps / 1000, why, mr_bwe_estimate(&d->bwe) / 1000);
    d->probe = d->cluster = 0;
}

/* The pacer: tops the probe's bytes up to its target rate so far. */
static gboolean pace(gpointer data)
{
    struct mr_peer *p = data;
    struct mr_downlink *d = p->down;
    int64_t now = mr_clock_mono_us();
    struct mr_receiver *rx = padding_receiver(p);
    if (p->dead || !rx || now - d->probe_start_us >= PROBE_US) {
        end_probe(p, "done", now); /* destroys this source, within its dispatch */
        return G_SOURCE_REMOVE;
    }
    /* Past the warm-up, what is sent is the cluster the estimator
     * measures. */
    if (now - d->probe_start_us >= PROBE_WARMUP_US)
        d->cluster = d->probe;
    uint64_t due = (uint64_t)d->probe_bps * (uint64_t)(now - d->probe_start_us) / 8000000u;
    struct mr_worker *w = p->worker;
    for (unsigned k = 0; k < PACE_BURST && d->probe_octets < due; k++) {
        size_t len = write_padding(p, rx, w->out_buf, sizeof(w->out_buf));
        if (!len || mr_transport_send_rtp(p->transport, w->out_buf, len, sizeof(w->out_buf)) != 0)
            break;
        mr_downlink_sent(p, len, now);
        mr_counter_add(&w->sfu.padding_out, 1);
    }
    return G_SOURCE_CONTINUE;
}

static void start_probe(struct mr_peer *p, uint32_t target_bps, int64_t now)
{
    struct mr_downlink *d = p->down;
    if (!padding_receiver(p))
        return;
    d->last_probe = (uint16_t)(d->last_probe + 1 ? d->last_probe + 1 : 1);
    d->probe = d->last_probe;
    d->probe_bps = target_bps;
    d->probe_start_us = now;
    d->probe_octets = 0;
    d->verdict_due = true;
    mr_counter_add(&p->worker->sfu.probes, 1);
    d->pacer = g_timeout_source_new(PACE_MS);
    g_source_set_callback(d->pacer, pace, p, NULL);
    g_source_attach(d->pacer, p->worker->ctx);
}

/* After a probe's feedback: it succeeded when the estimate reached most
 * of its target; the next one comes sooner then, later otherwise. */
static void judge_probe(struct mr_downlink *d, uint32_t estimate)
{
    if (!d->verdict_due)
        return;
    d->verdict_due = false;
    if (estimate >= d->probe_bps / 10 * 9)
        d->probe_gap_us = PROBE_GAP_OK_US;
    else if (d->probe_gap_us < PROBE_GAP_MIN_US)
        d->probe_gap_us = PROBE_GAP_MIN_US;
    else
        d->probe_gap_us =
            d->probe_gap_us * 2 < PROBE_GAP_MAX_US ? d->probe_gap_us * 2 : PROBE_GAP_MAX_US;
}

/* What a feedback means for probing: a probe stops at the first sign of
 * queueing and is judged then, or VERDICT_US after it ended (its last
 * packets' feedback is in by then); the layers are allocated, and a viewer
 * held low is probed when its turn comes. */
static void probe_after_feedback(struct mr_peer *p, int64_t now)
{
    struct mr_downlink *d = p->down;
    uint32_t estimate = mr_bwe_estimate(&d->bwe);
    bool queueing = mr_bwe_usage(&d->bwe) == MR_BWE_OVERUSE;
    if (d->probe && queueing)
        end_probe(p, "stopped: the link queues", now);
    if (d->verdict_due && !d->probe && (queueing || now - d->probe_end_us >= VERDICT_US)) {
        judge_probe(d, estimate);
        d->next_probe_us = now + d->probe_gap_us;
    }
    if (now - d->alloc_us < ALLOC_MIN_US)
        return;
    d->alloc_us = now;
    uint32_t want = mr_downlink_allocate(p, estimate, now);
    if (!want) {
        d->next_probe_us = 0; /* nobody held low */
        return;
    }
    if (d->probe || d->verdict_due)
        return;
    if (!d->next_probe_us)
        d->next_probe_us = now + d->probe_gap_us;
    if (now < d->next_probe_us || mr_bwe_usage(&d->bwe) != MR_BWE_NORMAL)
        return;
    /* A fifth past what the better layers need (a probe's result is what
     * got through, at most its rate), at most four times what the link
     * has carried lately. Never only a little past that: a probe slightly
     * over a link's rate takes seconds to empty its burst allowance, and
     * would pass. */
    uint32_t acked = mr_bwe_acked_bps(&d->bwe);
    uint64_t base = acked > estimate ? acked : estimate;
    uint64_t target = (uint64_t)want * 6 / 5;
    if (target > base * 4)
        target = base * 4;
    if (target > base)
        start_probe(p, (uint32_t)target, now);
}

/* --- Feedback --------------------------------------------------------- */

static bool knows_rtt(const struct mr_receiver *rx)
{
    return rx->rtt_us > 0;
}

static int64_t viewer_rtt(struct mr_peer *p)
{
    const struct mr_receiver *rx = find_receiver(p, knows_rtt);
    return rx ? rx->rtt_us : 0;
}

void mr_downlink_feedback(struct mr_peer *p, const struct mr_rtcp_fb *fb, int64_t now)
{
    struct mr_downlink *d = p->down;
    struct mr_twcc_fb f;
    if (!d || mr_twcc_parse_fb(fb, &f) < 0) {
        mr_counter_add(&p->worker->sfu.drop_parse, 1);
        return;
    }
    struct mr_twcc_iter it;
    struct mr_twcc_status st;
    mr_bwe_set_rtt(&d->bwe, viewer_rtt(p));
    mr_bwe_feedback_begin(&d->bwe, now);
    mr_twcc_iter_init(&it, &f);
    while (mr_twcc_next(&it, &st))
        mr_bwe_feedback_status(&d->bwe, st.seq, st.received, st.arrival_us);
    mr_bwe_feedback_end(&d->bwe, now);
    probe_after_feedback(p, now);
}
