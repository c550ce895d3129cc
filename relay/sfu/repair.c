/*
 * Loss repair on the publisher's leg: what the relay did not receive of a
 * publisher's video it asks for again with generic NACK (RFC 4585), and
 * the retransmissions (RFC 4588 RTX) enter the stream as the lost packets
 * would have, for viewers and the recording alike.
 *
 * The missing packets of each encoding are kept by nack.h; a per-stream
 * timer (armed only while something is missing, never reallocated) sends
 * the requests, paced by the publisher leg's round trip, which the relay
 * learns from RTCP XR: its receiver reports carry a Receiver Reference
 * Time block, the publisher answers with DLRR (RFC 3611 §4.4-4.5).
 *
 * Worker thread only.
 */
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/log.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/burst.h"
#include "sfu/sfu_priv.h"
#include "srtp/srtp.h"

#define RTCP_BUF       (512 + MR_SRTP_MAX_OVERHEAD)
#define NACK_TIMER_MS  5
#define NACK_PER_SEND  64 /* sequence numbers per NACK packet */
#define RTT_DEFAULT_US 100000

/* --- Retransmissions from the publisher ---------------------------------- */

static bool rtx_format(const struct mr_peer *pub, uint8_t pt)
{
    for (unsigned i = 0; i < pub->n_sources; i++)
        if (pub->sources[i].codec.rtx_pt && pub->sources[i].codec.rtx_pt == pt)
            return true;
    return false;
}

int mr_repair_rtx(struct mr_peer *pub, struct mr_fwd_packet *pkt, size_t *len, uint8_t **buf)
{
    struct mr_sfu_stats *st = &pub->worker->sfu;
    unsigned enc;
    int si = mr_source_rtx(pub->sources, pub->n_sources, &pkt->h, &pkt->ext, *buf, &enc);
    if (si < 0) {
        /* A retransmission of no stream we know, or not one at all. */
        if (rtx_format(pub, pkt->h.payload_type))
            mr_counter_add(&st->drop_rtx_malformed, 1);
        else
            mr_counter_add(&st->drop_unknown_track, 1);
        return -1;
    }
    if (pkt->h.payload_len == 0) {
        /* Padding on the RTX stream: the publisher probing its bandwidth. */
        mr_counter_add(&st->drop_padding, 1);
        return -1;
    }
    const struct mr_source *src = &pub->sources[si];
    uint8_t *orig;
    int n = mr_rtp_rtx_unwrap(*buf, *len, &pkt->h, src->codec.pt, src->enc[enc].ssrc, &orig);
    if (n < 0 || mr_rtp_parse(orig, (size_t)n, &pkt->h) < 0 ||
        mr_rtp_ext_parse(orig, &pkt->h, &pkt->ext) < 0) {
        mr_counter_add(&st->drop_rtx_malformed, 1);
        return -1;
    }
    *buf = orig;
    *len = (size_t)n;
    pkt->buf = orig;
    pkt->enc = enc;
    return si;
}

/* --- Requests to the publisher ------------------------------------------- */

static gboolean nack_dispatch(GSource *g, GSourceFunc cb, gpointer data)
{
    (void)g;
    return cb(data);
}

static GSourceFuncs nack_funcs = {.dispatch = nack_dispatch};

/* Sends one NACK (in a compound packet that starts with a report, RFC
 * 4585 §3.1) for an encoding's due packets. */
static void send_nack(struct mr_peer *pub, uint32_t media_ssrc, const uint16_t *seqs, unsigned n)
{
    uint8_t buf[RTCP_BUF];
    struct mr_rtcp_rr rr = {.ssrc = pub->rtcp_ssrc};
    int a = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    int b = a < 0 ? a
                  : mr_rtcp_write_nack(buf + a, sizeof(buf) - (size_t)a, pub->rtcp_ssrc,
                                       media_ssrc, seqs, n);
    if (b > 0 && mr_transport_send_rtcp(pub->transport, buf, (size_t)(a + b), sizeof(buf)) == 0)
        mr_counter_add(&pub->worker->sfu.nack_out, n);
}

/* Asks for what is due on every encoding; true while anything is still
 * missing. */
static bool request_due(struct mr_stream *s, struct mr_peer *pub, int64_t now)
{
    bool pending = false;
    int64_t rtt = pub->rtt_us > 0 ? pub->rtt_us : RTT_DEFAULT_US;
    for (unsigned i = 0; i < pub->n_sources; i++) {
        struct mr_source *src = &pub->sources[i];
        unsigned gave_up = 0;
        for (unsigned e = 0; e < src->n_encodings; e++) {
            struct mr_encoding *enc = &src->enc[e];
            uint16_t seqs[NACK_PER_SEND];
            unsigned n = mr_nack_due(&enc->nack, now, rtt, seqs, NACK_PER_SEND, &gave_up);
            if (n && enc->ssrc)
                send_nack(pub, enc->ssrc, seqs, n);
            pending = pending || mr_nack_pending(&enc->nack);
        }
        if (gave_up) {
            src->gave_up += gave_up;
            mr_counter_add(&pub->worker->sfu.nack_gave_up, gave_up);
            mr_keyframe_request(s, (int)i, now);
        }
    }
    return pending;
}

static gboolean nack_timer(gpointer data)
{
    struct mr_stream *s = data;
    struct mr_peer *pub = s->publisher;
    int64_t now = mr_clock_mono_us();
    bool pending = pub && !pub->dead && request_due(s, pub, now);
    g_source_set_ready_time(s->nack_timer,
                            pending ? g_get_monotonic_time() + NACK_TIMER_MS * 1000 : -1);
    return G_SOURCE_CONTINUE;
}

/* Arms the stream's timer (made once, on the first loss). */
static void arm_timer(struct mr_stream *s)
{
    if (!s->nack_timer) {
        s->nack_timer = g_source_new(&nack_funcs, sizeof(GSource));
        g_source_set_callback(s->nack_timer, nack_timer, s, NULL);
        g_source_set_ready_time(s->nack_timer, -1);
        g_source_attach(s->nack_timer, s->worker->ctx);
    }
    if (g_source_get_ready_time(s->nack_timer) < 0)
        g_source_set_ready_time(s->nack_timer, g_get_monotonic_time() + NACK_TIMER_MS * 1000);
}

bool mr_repair_on_packet(struct mr_stream *s, struct mr_peer *pub, const struct mr_fwd_packet *pkt,
                         bool rtx)
{
    struct mr_source *src = &pub->sources[pkt->src];
    if (src->kind != MR_MEDIA_VIDEO || !(src->codec.fb & MR_FB_NACK))
        return true;
    struct mr_sfu_stats *st = &pub->worker->sfu;
    struct mr_nack_list *l = &src->enc[pkt->enc].nack;
    unsigned gave_up = 0;
    enum mr_nack_seen seen = mr_nack_on_packet(l, pkt->h.seq, pkt->now_us, &gave_up);
    if (gave_up) {
        src->gave_up += gave_up;
        mr_counter_add(&st->nack_gave_up, gave_up);
        mr_keyframe_request(s, pkt->src, pkt->now_us);
    }
    if (mr_nack_pending(l))
        arm_timer(s);
    if (!rtx)
        return true;
    /* A retransmission newer than anything received fills a hole too: the
     * original was lost and nothing after it came yet to show the gap (a
     * frame's last packet, resent by a publisher's redundant-payload
     * probing before it was asked for). Only one of something already here
     * is a duplicate. */
    if (seen == MR_NACK_OLD) {
        mr_counter_add(&st->drop_rtx_duplicate, 1);
        return false;
    }
    src->recovered++;
    mr_counter_add(&st->rtx_recovered, 1);
    return true;
}

void mr_repair_stop(struct mr_stream *s)
{
    if (s->nack_timer) {
        g_source_destroy(s->nack_timer);
        g_source_unref(s->nack_timer);
        s->nack_timer = NULL;
    }
}

/* --- The publisher leg's round trip ------------------------------------- */

static uint64_t ntp_now(void)
{
    return mr_clock_ntp_from_unix_us(mr_clock_wall_us());
}

int mr_repair_write_rrtr(struct mr_peer *pub, uint8_t *buf, size_t cap)
{
    return mr_rtcp_write_xr_rrtr(buf, cap, pub->rtcp_ssrc, ntp_now());
}

void mr_repair_on_xr(struct mr_peer *pub, const struct mr_rtcp_pkt *pkt)
{
    uint32_t lrr, dlrr;
    if (mr_rtcp_xr_find_dlrr(pkt, pub->rtcp_ssrc, &lrr, &dlrr) != 1)
        return;
    int64_t rtt = mr_rtcp_rtt_us(ntp_now(), lrr, dlrr);
    if (rtt < 0)
        return;
    /* Smoothed a little (RFC 6298's 1/8), so that one late report does
     * not stretch every retry. */
    pub->rtt_us = pub->rtt_us > 0 ? pub->rtt_us + (rtt - pub->rtt_us) / 8 : rtt;
    mr_peer_share_rtt(pub, pub->rtt_us);
}
