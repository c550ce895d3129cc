/*
 * A publisher's loss repair, as a browser's: the last MR_TEST_PEER_HISTORY
 * video packets of each track, kept as they were before SRTP, answer
 * generic NACKs (RFC 4585 §6.2.1). A packet still there goes again as RTX
 * (RFC 4588: the track's RTX SSRC, payload type and sequence numbers, the
 * original sequence number in front of the payload; a simulcast layer's
 * with the repaired-rtp-stream-id) when the remote description kept the
 * RTX format the offer named, else unchanged on the media SSRC
 * (relay/srtp lets a sender protect a sequence number twice).
 * Older packets, and packets never sent, are counted and left alone.
 *
 * Also the loss cfg.send_loss_pct injects, a lossy uplink: each RTP packet,
 * original or resent, is dropped at random instead of being sent. A
 * dropped video packet is in the history like any other, so a NACK brings
 * it back. RTCP, STUN and DTLS never pass through here.
 *
 * No allocation per packet: a track's history is one array, allocated
 * with its first video packet.
 *
 * And, as browsers do, the answer to the remote side's RTCP XR Receiver
 * Reference Time (a DLRR block in the next sender report), from which it
 * learns the round trip that paces its NACKs.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "peer_priv.h"

#define SEND_ROOM 64 /* past the packet, for the SRTP tag */

void mr_tp_history_clear(struct mr_tp_track *t)
{
    for (unsigned i = 0; t->history && i < MR_TEST_PEER_HISTORY; i++)
        t->history[i].len = 0;
}

static void history_put(struct mr_tp_track *t, const uint8_t *buf, size_t len)
{
    if (!t->history)
        t->history = calloc(MR_TEST_PEER_HISTORY, sizeof(*t->history));
    if (!t->history || len < MR_RTP_FIXED_HEADER_LEN || len > HISTORY_SLOT)
        return;
    uint16_t seq = mr_rd16(buf + 2);
    struct mr_tp_sent *s = &t->history[seq % MR_TEST_PEER_HISTORY];
    s->seq = seq;
    s->len = (uint16_t)len;
    memcpy(s->data, buf, len);
}

/* The packet sent with seq, if it is still in the history: its slot was
 * not taken since by a packet MR_TEST_PEER_HISTORY (or a multiple) later. */
static const struct mr_tp_sent *history_get(const struct mr_tp_track *t, uint16_t seq)
{
    const struct mr_tp_sent *s = t->history ? &t->history[seq % MR_TEST_PEER_HISTORY] : NULL;
    return s && s->len && s->seq == seq ? s : NULL;
}

/* Whether cfg.send_loss_pct drops the next packet (and counts it). */
static bool dropped(struct mr_test_peer *p, struct mr_tp_track *t)
{
    if (p->cfg.send_loss_pct <= 0 || mr_tp_uniform(&t->loss_rng) * 100.0 >= p->cfg.send_loss_pct)
        return false;
    p->send_dropped++;
    return true;
}

void mr_tp_send_media(struct mr_test_peer *p, struct mr_tp_track *t, uint8_t *buf, size_t len,
                      size_t cap)
{
    if (t->st.kind == MR_MEDIA_VIDEO && p->cfg.role == MR_TEST_PUBLISHER)
        history_put(t, buf, len);
    if (!dropped(p, t))
        mr_transport_send_rtp(p->t, buf, len, cap);
}

/*
 * A simulcast layer's RTX packet (RFC 4588 §4 with RFC 8852 §3.3): the
 * original's marker and timestamp, the RTX payload type, sequence number
 * and SSRC, the mid and the repaired-rtp-stream-id naming the layer
 * (Chromium sends both on RTX until the RTX SSRC is acknowledged, which a
 * relay's reports never do), then the original sequence number and
 * payload. The relay learns the layer's RTX SSRC from it.
 */
static int write_layer_rtx(struct mr_tp_track *t, const struct mr_rtp_header *h,
                           const uint8_t *payload, uint8_t *out, size_t cap)
{
    struct mr_rtp_out_header oh = {
        .marker = h->marker,
        .payload_type = t->st.rtx_pt,
        .seq = t->rtx_seq,
        .timestamp = h->timestamp,
        .ssrc = t->st.rtx_ssrc,
    };
    struct mr_rtp_ext_out ext[2];
    unsigned n = 0;
    if (t->st.mid_ext_id)
        ext[n++] = (struct mr_rtp_ext_out){t->st.mid_ext_id, (uint8_t)strlen(t->st.mid),
                                           (const uint8_t *)t->st.mid};
    ext[n++] = (struct mr_rtp_ext_out){t->rrid_ext_id, (uint8_t)strlen(t->st.rid),
                                       (const uint8_t *)t->st.rid};
    int hlen = mr_rtp_write_header(out, cap, &oh, ext, n);
    if (hlen < 0)
        return hlen;
    if ((size_t)hlen + 2 + h->payload_len > cap)
        return MR_ENOSPC;
    mr_wr16(out + hlen, h->seq);
    memcpy(out + hlen + 2, payload, h->payload_len);
    t->rtx_seq++;
    return hlen + 2 + h->payload_len;
}

/* Writes the retransmission of s into out: RTX-wrapped when negotiated,
 * else the packet as it was. Returns its length or a negative MR_E* code. */
static int write_resend(struct mr_tp_track *t, const struct mr_tp_sent *s, uint8_t *out, size_t cap)
{
    if (!t->st.rtx_pt || !t->st.rtx_ssrc) {
        memcpy(out, s->data, s->len);
        return s->len;
    }
    struct mr_rtp_header h;
    int rc = mr_rtp_parse(s->data, s->len, &h);
    if (rc < 0)
        return rc;
    if (t->rrid_ext_id)
        return write_layer_rtx(t, &h, s->data + h.header_len, out, cap);
    rc = mr_rtp_rtx_wrap(out, cap, s->data, h.header_len, s->data + h.header_len, h.payload_len,
                         t->st.rtx_pt, t->rtx_seq, t->st.rtx_ssrc);
    if (rc >= 0)
        t->rtx_seq++;
    return rc;
}

static void resend(struct mr_test_peer *p, struct mr_tp_track *t, const struct mr_tp_sent *s)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    int len = write_resend(t, s, buf, sizeof(buf) - SEND_ROOM);
    if (len < 0) {
        p->resend_missed++;
        return;
    }
    p->resent_packets++;
    if (!dropped(p, t))
        mr_transport_send_rtp(p->t, buf, (size_t)len, sizeof(buf));
}

void mr_tp_on_nack(struct mr_test_peer *p, const struct mr_rtcp_fb *fb)
{
    int n = mr_rtcp_nack_count(fb);
    if (n < 0)
        return;
    p->nacks_received++;
    struct mr_tp_track *t = mr_tp_video_track(p, fb->media_ssrc);
    for (unsigned i = 0; i < (unsigned)n; i++) {
        uint16_t seqs[17];
        unsigned k = mr_rtcp_nack_entry(fb, i, seqs);
        for (unsigned j = 0; j < k; j++) {
            const struct mr_tp_sent *s = t ? history_get(t, seqs[j]) : NULL;
            p->nacked_packets++;
            if (s)
                resend(p, t, s);
            else
                p->resend_missed++;
        }
    }
}

/* --- The round trip for the remote side's NACK timing ---------------------- */

#define XR_HEADER_LEN 8
#define XR_BLOCK_RRTR 4
#define XR_BLOCK_DLRR 5
#define DLRR_LEN      (XR_HEADER_LEN + 4 + 12)

/*
 * An XR packet's Receiver Reference Time block (RFC 3611 §4.4): BT=4,
 * block length 2, a 64-bit NTP timestamp. The relay sends one with its
 * receiver reports to learn the publisher leg's round trip, which paces its
 * NACK retries; a browser answers with DLRR in its next report.
 */
void mr_tp_on_xr(struct mr_test_peer *p, const struct mr_rtcp_pkt *pkt, int64_t now_us)
{
    if (pkt->len < XR_HEADER_LEN || pkt->padding)
        return;
    for (size_t off = XR_HEADER_LEN; off + 4 <= pkt->len;) {
        const uint8_t *b = pkt->data + off;
        size_t words = mr_rd16(b + 2);
        if (off + 4 + words * 4 > pkt->len)
            return;
        if (b[0] == XR_BLOCK_RRTR && words == 2) {
            uint64_t ntp = (uint64_t)mr_rd32(b + 4) << 32 | mr_rd32(b + 8);
            p->rrtr_ssrc = mr_rd32(pkt->data + 4);
            p->rrtr_lrr = (uint32_t)(ntp >> 16); /* the middle 32 bits */
            p->rrtr_us = now_us;
        }
        off += 4 + words * 4;
    }
}

/*
 * XR with a DLRR block (RFC 3611 §4.5) answering the latest RRTR, once:
 * |V=2|P|reserved |   PT=XR=207   |             length=5          |
 * |                         SSRC (sender)                         |
 * |     BT=5      |   reserved    |       block length = 3        |
 * |                 SSRC_1 (the RRTR's sender)                    |
 * |                         last RR (LRR)                         |
 * |                   delay since last RR (DLRR)                  |
 */
int mr_tp_write_dlrr(struct mr_test_peer *p, uint32_t ssrc, uint8_t *out, size_t cap,
                     int64_t now_us)
{
    if (!p->rrtr_us)
        return 0;
    if (cap < DLRR_LEN)
        return MR_ENOSPC;
    uint64_t delay = (uint64_t)(now_us - p->rrtr_us) * 65536 / 1000000; /* 1/65536 s */
    out[0] = 0x80;
    out[1] = MR_RTCP_XR;
    mr_wr16(out + 2, DLRR_LEN / 4 - 1);
    mr_wr32(out + 4, ssrc);
    out[8] = XR_BLOCK_DLRR;
    out[9] = 0;
    mr_wr16(out + 10, 3);
    mr_wr32(out + 12, p->rrtr_ssrc);
    mr_wr32(out + 16, p->rrtr_lrr);
    mr_wr32(out + 20, (uint32_t)delay);
    p->rrtr_us = 0;
    return DLRR_LEN;
}
