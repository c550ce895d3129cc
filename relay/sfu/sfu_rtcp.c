/* RTCP at the relay: reports and key-frame requests towards publishers,
 * translated sender reports towards subscribers. */
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/log.h"
#include "rtcp/rtcp.h"
#include "sfu/downlink.h"
#include "sfu/sfu_priv.h"
#include "srtp/srtp.h"

#define RTCP_BUF (512 + MR_SRTP_MAX_OVERHEAD)

struct mr_receiver *mr_peer_video_receiver(struct mr_peer *p, uint32_t ssrc,
                                           struct mr_stream **stream)
{
    if (p->bundle)
        return mr_bundle_video_receiver(p, ssrc, stream);
    *stream = p->stream;
    return mr_receivers_video(p->receivers, p->n_receivers, ssrc);
}

/* RFC 3550 §6.4.1: a sender report per receiver, in its SSRC and
 * timestamp space, so its browser can keep audio and video in sync. */
static void translate_sr(struct mr_peer *pub, int ti, unsigned enc, const struct mr_rtcp_sr *sr,
                         int64_t now)
{
    struct mr_stream *s = pub->stream;
    uint8_t buf[RTCP_BUF];
    for (unsigned i = 0; i < s->sinks->len; i++) {
        struct mr_sink *sink = g_ptr_array_index(s->sinks, i);
        struct mr_peer *sub = sink->peer;
        for (unsigned j = 0; j < sink->n_receivers; j++) {
            struct mr_receiver *dst = &sink->receivers[j];
            struct mr_rtcp_sr out = {
                .ssrc = dst->out_ssrc,
                .ntp = sr->ntp,
                .packet_count = dst->packets_out,
                .octet_count = dst->octets_out,
            };
            if (dst->src != ti || dst->encoding != enc || !dst->compatible || sub->dead ||
                !mr_rewrite_ts(&dst->rw, sr->ssrc, sr->rtp_ts, &out.rtp_ts))
                continue;
            int n = mr_rtcp_write_sr(buf, sizeof(buf), &out);
            int m = n < 0 ? n
                          : mr_rtcp_write_sdes_cname(buf + n, sizeof(buf) - (size_t)n,
                                                     dst->out_ssrc, sink->cname);
            if (m > 0 &&
                mr_transport_send_rtcp(sub->transport, buf, (size_t)(n + m), sizeof(buf)) == 0) {
                /* Its receiver reports echo it: the viewer's round trip. */
                dst->sr_ntp_mid = (uint32_t)(sr->ntp >> 16);
                dst->sr_sent_us = now;
            }
        }
    }
}

void mr_rtcp_from_publisher(struct mr_peer *pub, const uint8_t *buf, size_t len)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    int64_t now = mr_clock_mono_us();
    mr_rtcp_iter_init(&it, buf, len);
    while (mr_rtcp_next(&it, &pkt) == 1) {
        if (pkt.type == MR_RTCP_XR)
            mr_repair_on_xr(pub, &pkt); /* the round trip, for NACK timing */
        if (pkt.type != MR_RTCP_SR)
            continue; /* SDES, BYE, RR of a send-only peer: nothing to act on */
        struct mr_rtcp_sr sr;
        if (mr_rtcp_parse_sr(&pkt, &sr) < 0)
            continue;
        unsigned enc;
        int ti = mr_source_by_ssrc(pub->sources, pub->n_sources, sr.ssrc, &enc);
        if (ti < 0)
            continue;
        mr_rtp_rx_stats_on_sr(&pub->sources[ti].enc[enc].rx, sr.ntp, now);
        if (pub->attached) {
            translate_sr(pub, ti, enc, &sr, now);
            if (pub->stream->rec_tap)
                mr_rec_tap_sender_report(pub->stream->rec_tap, ti, enc, &sr, now);
        }
    }
}

/* A viewer's PLI or FIR goes upstream to the publisher of the stream whose
 * SSRC it names (a room subscription receives several), coalesced with
 * everyone else's. */
static void handle_keyframe_request(struct mr_peer *sub, const struct mr_rtcp_pkt *pkt)
{
    struct mr_sfu_stats *stats = &sub->worker->sfu;
    struct mr_rtcp_fb fb;
    struct mr_stream *s;
    struct mr_receiver *rx;
    if (pkt->type != MR_RTCP_PSFB || mr_rtcp_parse_fb(pkt, &fb) < 0)
        return;
    if (fb.fmt == MR_RTCP_PSFB_PLI) {
        mr_counter_add(&stats->pli_in, 1);
        if ((rx = mr_peer_video_receiver(sub, fb.media_ssrc, &s)))
            mr_keyframe_request(s, rx->src, mr_clock_mono_us());
        return;
    }
    if (fb.fmt != MR_RTCP_PSFB_FIR)
        return;
    mr_counter_add(&stats->fir_in, 1);
    int n = mr_rtcp_fir_count(&fb);
    for (int i = 0; i < n; i++) {
        uint32_t ssrc;
        uint8_t seq;
        if (mr_rtcp_fir_entry(&fb, (unsigned)i, &ssrc, &seq) < 0 ||
            !(rx = mr_peer_video_receiver(sub, ssrc, &s)))
            continue;
        /* RFC 5104 §4.3.1.2: the same sequence number again is a
         * retransmission of a request already acted on. */
        if (rx->fir_seen && rx->fir_seq == seq)
            continue;
        rx->fir_seen = true;
        rx->fir_seq = seq;
        mr_keyframe_request(s, rx->src, mr_clock_mono_us());
    }
}

static void on_transport_feedback(struct mr_peer *sub, const struct mr_rtcp_fb *fb, int64_t now)
{
    if (fb->fmt == MR_RTCP_RTPFB_NACK)
        mr_retransmit_nack(sub, fb, now);
    else if (fb->fmt == MR_RTCP_RTPFB_TWCC && sub->down)
        mr_downlink_feedback(sub, fb, now);
}

void mr_rtcp_from_subscriber(struct mr_peer *sub, const uint8_t *buf, size_t len)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    struct mr_rtcp_fb fb;
    int64_t now = mr_clock_mono_us();
    mr_rtcp_iter_init(&it, buf, len);
    /* Key-frame requests go upstream; NACKs are answered here and go no
     * further; reports give the viewer's round trip; congestion feedback
     * its downlink's estimate (downlink.h). The relay reports to
     * publishers from what it receives itself. */
    while (mr_rtcp_next(&it, &pkt) == 1) {
        if (pkt.type == MR_RTCP_PSFB)
            handle_keyframe_request(sub, &pkt);
        else if (pkt.type == MR_RTCP_RTPFB && mr_rtcp_parse_fb(&pkt, &fb) == 0)
            on_transport_feedback(sub, &fb, now);
        else if (pkt.type == MR_RTCP_RR || pkt.type == MR_RTCP_SR)
            mr_retransmit_on_rr(sub, &pkt, now);
    }
}

static int write_empty_rr(struct mr_peer *pub, uint8_t *buf, size_t cap)
{
    struct mr_rtcp_rr rr = {.ssrc = pub->rtcp_ssrc, .n_reports = 0};
    return mr_rtcp_write_rr(buf, cap, &rr);
}

void mr_rtcp_send_receiver_reports(struct mr_peer *pub, int64_t now_us)
{
    struct mr_rtcp_rr rr = {.ssrc = pub->rtcp_ssrc};
    for (unsigned i = 0; i < pub->n_sources; i++) {
        for (unsigned e = 0; e < pub->sources[i].n_encodings; e++) {
            struct mr_encoding *enc = &pub->sources[i].enc[e];
            if (enc->ssrc && enc->rx.started && rr.n_reports < MR_RTCP_MAX_REPORTS)
                mr_rtp_rx_stats_report(&enc->rx, enc->ssrc, now_us, &rr.reports[rr.n_reports++]);
        }
    }
    if (rr.n_reports == 0)
        return;
    uint8_t buf[RTCP_BUF];
    int n = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    int m = n < 0 ? n
                  : mr_rtcp_write_sdes_cname(buf + n, sizeof(buf) - (size_t)n, pub->rtcp_ssrc,
                                             pub->cname);
    /* A Receiver Reference Time block: the publisher's DLRR answer gives
     * the round trip that paces NACKs (repair.c). */
    int x = m < 0 ? m : mr_repair_write_rrtr(pub, buf + n + m, sizeof(buf) - (size_t)(n + m));
    if (m > 0)
        mr_transport_send_rtcp(pub->transport, buf, (size_t)(n + m + (x > 0 ? x : 0)),
                               sizeof(buf));
}

void mr_rtcp_send_keyframe_request(struct mr_peer *pub, unsigned src, uint8_t fir_seq,
                                   unsigned mask)
{
    uint8_t buf[RTCP_BUF];
    if (src >= pub->n_sources)
        return;
    const struct mr_source *t = &pub->sources[src];
    if (t->kind != MR_MEDIA_VIDEO || !(t->codec.fb & (MR_FB_NACK_PLI | MR_FB_CCM_FIR)))
        return;
    /* Feedback rides in a compound packet that starts with a report (RFC
     * 4585 §3.1), for peers that did not negotiate rtcp-rsize. */
    int n = write_empty_rr(pub, buf, sizeof(buf));
    if (n < 0)
        return;
    int start = n;
    /* One request per encoding receivers take (a simulcast layer each). */
    for (unsigned e = 0; e < t->n_encodings; e++) {
        uint32_t ssrc = t->enc[e].ssrc;
        if (ssrc == 0 || (mask && !(mask & (1u << e))))
            continue;
        int m = t->codec.fb & MR_FB_NACK_PLI
                    ? mr_rtcp_write_pli(buf + n, sizeof(buf) - (size_t)n, pub->rtcp_ssrc, ssrc)
                    : mr_rtcp_write_fir(buf + n, sizeof(buf) - (size_t)n, pub->rtcp_ssrc, ssrc,
                                        fir_seq);
        if (m > 0)
            n += m;
    }
    if (n > start)
        mr_transport_send_rtcp(pub->transport, buf, (size_t)n, sizeof(buf));
}
