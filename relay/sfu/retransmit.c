/*
 * Loss repair on a viewer's leg: the relay answers the viewer's NACKs
 * (RFC 4585 §6.2.1) itself, from the source's packet history (history.h),
 * and never passes them upstream, so one viewer's lossy link costs the
 * publisher and the other viewers nothing.
 *
 * A NACK names the viewer's sequence numbers; its receiver's rewriting
 * (rewrite.h) maps them back to the publisher's. The packet goes out as
 * the viewer first got it (SSRC, sequence number, timestamp, extension
 * ids), wrapped in RTX (RFC 4588) when the viewer negotiated it, so its
 * statistics tell repairs from first deliveries.
 *
 * Limits, per receiver: a packet is resent at most MR_RESEND_MAX times and
 * not again within the viewer's round trip; and requests beyond a rate
 * (GCRA: RTX_RATE packets per second, bursts of RTX_BURST) are refused and
 * counted, so that a viewer NACKing everything (a storm, or a broken
 * client) spends only its own budget.
 *
 * Worker thread only; nothing allocated.
 */
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/burst.h"
#include "sfu/downlink.h"
#include "sfu/history.h"
#include "sfu/sfu_priv.h"
#include "srtp/srtp.h"

#define RTX_RATE         400 /* packets per second per viewer */
#define RTX_BURST        200
#define RTX_COST_US      (1000000 / RTX_RATE)
#define RTT_DEFAULT_US   100000
#define MIN_RESEND_GAP   10000 /* µs: even on a LAN, one request is not two */

static int64_t rtt_of(const struct mr_receiver *rx)
{
    return rx->rtt_us > 0 ? rx->rtt_us : RTT_DEFAULT_US;
}

/* The rate limit (GCRA): true if one more packet fits now. */
static bool within_rate(struct mr_receiver *rx, int64_t now)
{
    int64_t tat = rx->nack_tat_us > now ? rx->nack_tat_us : now;
    if (tat - now > (int64_t)RTX_BURST * RTX_COST_US)
        return false;
    rx->nack_tat_us = tat + RTX_COST_US;
    return true;
}

/* Whether this viewer may have packet seq (its numbering) again now. */
static bool may_resend(const struct mr_receiver *rx, uint16_t seq, int64_t now)
{
    const struct mr_resent *r = &rx->resent[seq % MR_RESENT_SLOTS];
    if (!r->count || r->seq != seq)
        return true;
    int64_t gap = rtt_of(rx) > MIN_RESEND_GAP ? rtt_of(rx) : MIN_RESEND_GAP;
    int64_t since_ms = (uint32_t)(now / 1000) - r->at_ms;
    return r->count < MR_RESEND_MAX && since_ms * 1000 >= gap;
}

static void record_resend(struct mr_receiver *rx, uint16_t seq, int64_t now)
{
    struct mr_resent *r = &rx->resent[seq % MR_RESENT_SLOTS];
    if (r->count && r->seq == seq) {
        r->count++;
    } else {
        r->seq = seq;
        r->count = 1;
    }
    r->at_ms = (uint32_t)(now / 1000);
}

/* How old a packet may be and still help: a viewer's jitter buffer waits
 * some round trips for a repair, not more. */
static int64_t max_age(const struct mr_receiver *rx)
{
    int64_t age = 1000000 + 4 * rtt_of(rx);
    return age < MR_HISTORY_MAX_AGE_US ? age : MR_HISTORY_MAX_AGE_US;
}

/* Writes the stored packet as rx first received it, as RTX if it
 * negotiated that. Returns the length, 0 if it cannot. */
static size_t write_resend(struct mr_receiver *rx, const struct mr_source *src,
                           const struct mr_history_slot *slot, uint16_t out_seq,
                           const uint8_t *tseq, uint8_t *out, size_t cap)
{
    struct mr_fwd_packet pkt = {.buf = slot->data};
    if (mr_rtp_parse(slot->data, slot->len, &pkt.h) < 0 ||
        mr_rtp_ext_parse(slot->data, &pkt.h, &pkt.ext) < 0)
        return 0;
    pkt.payload = slot->data + pkt.h.header_len;
    size_t len = mr_forward_write(rx, src, &pkt, out_seq, pkt.h.timestamp + rx->rw.ts_delta, tseq,
                                  out, cap - 2);
    if (len == 0)
        return 0;
    size_t hlen = len - pkt.h.payload_len;
    /* A simulcast layer's picture ids as the viewer first got them. */
    struct mr_vp8_ids ids;
    if (src->n_encodings > 1 && src->codec.id == MR_CODEC_VP8 &&
        mr_rtp_vp8_ids(pkt.payload, pkt.h.payload_len, &ids) == 0)
        mr_vp8_ids_apply(&rx->vp8, &ids, out + hlen, false);
    if (!rx->codec.rtx_pt || !rx->rtx_ssrc)
        return len;
    int n = mr_rtp_rtx_wrap(out, cap - MR_SRTP_MAX_OVERHEAD, out, hlen, out + hlen,
                            pkt.h.payload_len, rx->codec.rtx_pt, rx->rtx_seq++, rx->rtx_ssrc);
    return n > 0 ? (size_t)n : 0;
}

/* One requested packet (the viewer's sequence number). */
static void resend(struct mr_peer *sub, struct mr_receiver *rx, const struct mr_source *src,
                   uint16_t out_seq, int64_t now)
{
    struct mr_worker *w = sub->worker;
    uint16_t in_seq = (uint16_t)(out_seq - rx->rw.seq_delta);
    struct mr_pkt_history *history = src->enc[rx->encoding].history;
    const struct mr_history_slot *slot =
        history ? mr_history_get(history, rx->rw.src_ssrc, in_seq, now, max_age(rx)) : NULL;
    if (!slot) {
        /* Lost upstream too, and asked for there: it reaches the viewer
         * as soon as the publisher's retransmission does. */
        bool pending = mr_nack_missing(&src->enc[rx->encoding].nack, in_seq);
        mr_counter_add(pending ? &w->sfu.rtx_pending : &w->sfu.rtx_missed, 1);
        return;
    }
    /* A packet resent enough costs the viewer's budget nothing. */
    if (!may_resend(rx, out_seq, now) || !within_rate(rx, now)) {
        mr_counter_add(&w->sfu.rtx_limited, 1);
        return;
    }
    record_resend(rx, out_seq, now);
    /* A repair is traffic on the viewer's link like any other: its
     * estimate counts it. */
    uint8_t tseq[2];
    bool cc = mr_downlink_tseq(sub, rx, tseq);
    size_t len =
        write_resend(rx, src, slot, out_seq, cc ? tseq : NULL, w->out_buf, sizeof(w->out_buf));
    if (len && mr_transport_send_rtp(sub->transport, w->out_buf, len, sizeof(w->out_buf)) == 0) {
        mr_counter_add(&w->sfu.rtx_out, 1);
        if (cc)
            mr_downlink_sent(sub, len, now);
    }
}

void mr_retransmit_nack(struct mr_peer *sub, const struct mr_rtcp_fb *fb, int64_t now)
{
    struct mr_stream *s;
    struct mr_receiver *rx = mr_peer_video_receiver(sub, fb->media_ssrc, &s);
    int n = mr_rtcp_nack_count(fb);
    if (!rx || n <= 0)
        return;
    struct mr_peer *pub = s->publisher;
    bool can = pub && !pub->dead && rx->src >= 0 && (unsigned)rx->src < pub->n_sources &&
               rx->compatible && rx->rw.bound && (rx->codec.fb & MR_FB_NACK);
    for (int i = 0; i < n; i++) {
        uint16_t seqs[17];
        unsigned k = mr_rtcp_nack_entry(fb, (unsigned)i, seqs);
        mr_counter_add(&sub->worker->sfu.nack_in, k);
        for (unsigned j = 0; j < k; j++) {
            if (can)
                resend(sub, rx, &pub->sources[rx->src], seqs[j], now);
            else
                mr_counter_add(&sub->worker->sfu.rtx_missed, 1);
        }
    }
}

/* The viewer's round trip, from a report block that echoes the last
 * sender report its receiver was sent (RFC 3550 §6.4.1). */
static void on_report_block(struct mr_peer *sub, const struct mr_rtcp_report_block *rb,
                            int64_t now)
{
    struct mr_stream *s;
    struct mr_receiver *rx = mr_peer_video_receiver(sub, rb->ssrc, &s);
    if (!rx || rb->lsr == 0 || rb->lsr != rx->sr_ntp_mid)
        return;
    /* The relay's own clock for both ends: when that report went out. */
    int64_t rtt = now - rx->sr_sent_us - (int64_t)(((uint64_t)rb->dlsr * 1000000) >> 16);
    if (rtt < 0)
        rtt = 0;
    rx->rtt_us = rx->rtt_us > 0 ? rx->rtt_us + (rtt - rx->rtt_us) / 8 : rtt;
    mr_peer_share_rtt(sub, rx->rtt_us);
}

void mr_retransmit_on_rr(struct mr_peer *sub, const struct mr_rtcp_pkt *pkt, int64_t now)
{
    struct mr_rtcp_rr rr;
    struct mr_rtcp_sr sr;
    const struct mr_rtcp_report_block *blocks;
    unsigned n;
    if (pkt->type == MR_RTCP_RR && mr_rtcp_parse_rr(pkt, &rr) == 0) {
        blocks = rr.reports;
        n = rr.n_reports;
    } else if (pkt->type == MR_RTCP_SR && mr_rtcp_parse_sr(pkt, &sr) == 0) {
        blocks = sr.reports; /* a viewer that also sends */
        n = sr.n_reports;
    } else {
        return;
    }
    for (unsigned i = 0; i < n; i++)
        on_report_block(sub, &blocks[i], now);
}
