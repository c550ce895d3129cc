/*
 * The forwarding hot path: one decrypted RTP packet from a publisher to each
 * receiver of its stream (a WHEP subscriber, or one room subscription's
 * tracks of that stream), with the receiver's SSRC, payload type,
 * header-extension ids and sequence/timestamp spaces.
 *
 * Runs on the stream's worker only: no locks, no allocation. A packet is
 * parsed, counted and recorded as it arrives, and fanned out when the
 * worker's burst of input is handled, receiver by receiver (burst.h): each
 * receiver's packets are written into slots of the worker's send queue
 * (SRTP encrypts in place with per-subscriber keys, so a copy per
 * subscriber is unavoidable), protected there and sent: one sendmmsg per
 * receiver, or with io_uring one submit for dozens of receivers
 * (transport/sendq.h).
 */
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/log.h"
#include "rtp/rtp.h"
#include "sfu/burst.h"
#include "sfu/downlink.h"
#include "sfu/history.h"
#include "sfu/sfu_priv.h"
#include "srtp/srtp.h"

static const struct mr_rtp_ext_elem *ext_of_kind(const struct mr_fwd_packet *pkt,
                                                 const struct mr_source *src,
                                                 enum mr_rtp_ext_kind kind)
{
    uint8_t id = src->ext.id[kind];
    return id ? mr_rtp_ext_find(&pkt->ext, id) : NULL;
}

static bool is_keyframe(const struct mr_source *t, const uint8_t *payload, size_t len)
{
    if (t->codec.id == MR_CODEC_VP8)
        return mr_rtp_vp8_is_keyframe(payload, len);
    if (t->codec.id == MR_CODEC_H264)
        return mr_rtp_h264_is_keyframe(payload, len);
    return false;
}

/* A RED packet's primary block (the packet's own Opus frame). */
static bool red_primary(struct mr_fwd_packet *pkt, struct mr_worker *w)
{
    size_t off, len;
    if (mr_rtp_red_primary(pkt->payload, pkt->h.payload_len, &off, &len) < 0 || len == 0) {
        mr_counter_add(&w->sfu.drop_parse, 1);
        return false;
    }
    pkt->red_off = (uint16_t)off;
    pkt->red_len = (uint16_t)len;
    return true;
}

/* The receiver of rx[0..n) that takes this packet's source and encoding,
 * or moves to that encoding. */
static struct mr_receiver *receiver_for(struct mr_receiver *rx, unsigned n,
                                        const struct mr_fwd_packet *pkt)
{
    for (unsigned j = 0; j < n; j++)
        if (rx[j].src == pkt->src && (rx[j].encoding == pkt->enc || rx[j].target == pkt->enc))
            return &rx[j];
    return NULL;
}

/*
 * A simulcast receiver moves to its target layer at that layer's key frame
 * (until then it keeps its layer), and drops the other one's packets from
 * then on. Sequence numbers and timestamps continue through the rewriting
 * (a new SSRC rebases it); VP8's picture ids through dst->vp8. Returns
 * whether the packet is for dst.
 */
static bool follow_layer(struct mr_receiver *dst, const struct mr_source *src,
                         const struct mr_fwd_packet *pkt, struct mr_worker *w)
{
    if (pkt->enc == dst->encoding)
        return true; /* the old layer too, until the new one's key frame */
    if (!pkt->keyframe) {
        mr_counter_add(&w->sfu.drop_layer_wait, 1);
        return false;
    }
    dst->encoding = pkt->enc;
    dst->waiting_keyframe = false;
    mr_counter_add(&w->sfu.layer_switches, 1);
    mr_vp8_ids_rebase(&dst->vp8, &pkt->vp8);
    return true;
}

static unsigned build_extensions(const struct mr_fwd_packet *pkt, const struct mr_source *src,
                                 const struct mr_receiver *dst, const uint8_t *tseq,
                                 struct mr_rtp_ext_out *out)
{
    unsigned n = 0;
    if (tseq)
        out[n++] = (struct mr_rtp_ext_out){
            .id = dst->ext.id[MR_RTP_EXT_TRANSPORT_CC], .len = 2, .data = tseq};
    if (dst->ext.id[MR_RTP_EXT_MID]) {
        out[n++] = (struct mr_rtp_ext_out){
            .id = dst->ext.id[MR_RTP_EXT_MID],
            .len = (uint8_t)strlen(dst->mid),
            .data = (const uint8_t *)dst->mid,
        };
    }
    const struct mr_rtp_ext_elem *level = ext_of_kind(pkt, src, MR_RTP_EXT_AUDIO_LEVEL);
    if (level && dst->ext.id[MR_RTP_EXT_AUDIO_LEVEL]) {
        out[n++] = (struct mr_rtp_ext_out){
            .id = dst->ext.id[MR_RTP_EXT_AUDIO_LEVEL],
            .len = level->len,
            .data = pkt->buf + level->offset,
        };
    }
    return n;
}

/*
 * Writes the packet as dst receives it (its SSRC, payload type, extension
 * ids, sequence and timestamp spaces) into out. Returns the length, or 0
 * when dst takes nothing now (not bound, wrong codec, waiting for a key
 * frame).
 */
static size_t rewrite_for(struct mr_receiver *dst, const struct mr_source *src,
                          const struct mr_fwd_packet *pkt, struct mr_worker *w, const uint8_t *tseq,
                          uint8_t *out, size_t cap)
{
    if (!dst->compatible) {
        mr_counter_add(&w->sfu.drop_incompatible, 1);
        return 0;
    }
    if (src->n_encodings > 1 && !follow_layer(dst, src, pkt, w))
        return 0;
    if (dst->waiting_keyframe) {
        if (!pkt->keyframe) {
            mr_counter_add(&w->sfu.drop_keyframe_wait, 1);
            return 0;
        }
        dst->waiting_keyframe = false;
    }
    uint16_t seq;
    uint32_t ts;
    mr_rewrite_map(&dst->rw, pkt->h.ssrc, pkt->seq, pkt->h.timestamp, src->codec.clock_rate,
                   pkt->now_us, &seq, &ts);
    size_t n = mr_forward_write(dst, src, pkt, seq, ts, tseq, out, cap);
    if (n && src->n_encodings > 1)
        mr_vp8_ids_apply(&dst->vp8, &pkt->vp8, out + n - pkt->h.payload_len, true);
    return n;
}

size_t mr_forward_write(const struct mr_receiver *dst, const struct mr_source *src,
                        const struct mr_fwd_packet *pkt, uint16_t seq, uint32_t ts,
                        const uint8_t *tseq, uint8_t *out, size_t cap)
{
    struct mr_rtp_out_header oh = {
        .marker = pkt->h.marker,
        .payload_type = dst->codec.pt,
        .seq = seq,
        .timestamp = ts,
        .ssrc = dst->out_ssrc,
    };
    const uint8_t *payload = pkt->payload;
    size_t len = pkt->h.payload_len;
    /* RED as it came to those who took it, its primary (plain Opus) to
     * the others. */
    if (pkt->red_len && dst->codec.red_pt)
        oh.payload_type = dst->codec.red_pt;
    else if (pkt->red_len)
        payload += pkt->red_off, len = pkt->red_len;
    struct mr_rtp_ext_out ext[MR_RTP_EXT_KIND_COUNT];
    unsigned n_ext = build_extensions(pkt, src, dst, tseq, ext);
    int hlen = mr_rtp_write_header(out, cap, &oh, ext, n_ext);
    if (hlen < 0 || (size_t)hlen + len + MR_SRTP_MAX_OVERHEAD > cap)
        return 0;
    memcpy(out + hlen, payload, len);
    return (size_t)hlen + len;
}

void mr_forward_to_sink(struct mr_sink *sink, const struct mr_fwd_packet *const *pkts, unsigned n,
                        struct mr_worker *w)
{
    if (sink->peer->dead)
        return;
    unsigned sent = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct mr_fwd_packet *pkt = pkts[i];
        struct mr_receiver *dst = receiver_for(sink->receivers, sink->n_receivers, pkt);
        if (!dst)
            continue;
        /* Written straight into a send-queue slot and protected there. */
        uint8_t *out = mr_sendq_slot(w->sendq);
        uint8_t tseq[2];
        bool cc = mr_downlink_tseq(sink->peer, dst, tseq);
        size_t len = rewrite_for(dst, &pkt->pub->sources[pkt->src], pkt, w, cc ? tseq : NULL,
                                 out, MR_TRANSPORT_BUF);
        if (len && mr_transport_queue_rtp(sink->peer->transport, w->sendq, out, len,
                                          MR_TRANSPORT_BUF) == 0) {
            sent++;
            /* What its sender reports count: what it was sent. */
            dst->packets_out++;
            dst->octets_out += pkt->h.payload_len;
            if (cc)
                mr_downlink_sent(sink->peer, len, pkt->now_us);
        }
    }
    /* Without io_uring this receiver's datagrams leave now, while they
     * are in the cache, and the next receiver reuses the same slots; with
     * it, many receivers' leave in one submit (sendq.h). */
    mr_sendq_receiver_done(w->sendq);
    mr_counter_add(&w->sfu.forwarded, sent);
}

/* The recording is one more receiver: rewritten like a subscriber's, its
 * packets go into the recorder's ring instead of a socket. */
static bool record_one(struct mr_rec_tap *tap, struct mr_receiver *dst,
                       const struct mr_source *src, const struct mr_fwd_packet *pkt,
                       struct mr_worker *w)
{
    size_t len = rewrite_for(dst, src, pkt, w, NULL, w->out_buf, sizeof(w->out_buf));
    if (!len)
        return false;
    if (!mr_recording_push(tap->rec, (unsigned)(dst - tap->receivers), MR_RECORD_RTP, w->out_buf,
                           len, pkt->now_us)) {
        mr_counter_add(&w->sfu.drop_record, 1);
        return false;
    }
    dst->packets_out++;
    dst->octets_out += pkt->h.payload_len;
    return true;
}

/* Redundant blocks looked at per RED packet (Chromium sends one or two). */
#define RED_RECOVER_MAX 4

/*
 * Audio is not retransmitted: a packet the clinic's uplink lost reaches
 * the viewers as the next packet's RED redundancy (or Opus FEC), and the
 * recording takes it from there too, so the file has no hole where the
 * room heard the audio. Block k of n (oldest first) is the frame of the
 * packet n - k before this one; recovered frames go in ahead of the
 * primary, in order. A packet that arrives late after all is the same
 * sequence number to the recorder, which keeps one.
 */
static void record_red_recovered(struct mr_rec_tap *tap, struct mr_receiver *dst,
                                 const struct mr_source *src, const struct mr_fwd_packet *pkt,
                                 struct mr_worker *w)
{
    const struct mr_rewrite *rw = &dst->rw;
    if (!rw->sent || !rw->bound || rw->src_ssrc != pkt->h.ssrc)
        return;
    uint16_t gap = (uint16_t)(pkt->seq - (uint16_t)(rw->last_seq - rw->seq_delta));
    if (gap < 2 || gap > RED_RECOVER_MAX + 1)
        return;
    struct mr_rtp_red_block b[RED_RECOVER_MAX];
    unsigned n;
    size_t off, primary_len;
    if (mr_rtp_red_split(pkt->payload, pkt->h.payload_len, b, RED_RECOVER_MAX, &n, &off,
                         &primary_len) < 0)
        return;
    for (unsigned d = gap - 1u; d >= 1; d--) {
        if (d > n || n - d >= RED_RECOVER_MAX)
            continue;
        const struct mr_rtp_red_block *blk = &b[n - d];
        if (blk->pt != src->codec.pt || !blk->len || !blk->ts_offset)
            continue;
        struct mr_fwd_packet lost = *pkt;
        lost.h.seq = (uint16_t)(pkt->h.seq - d);
        lost.seq = (uint16_t)(pkt->seq - d);
        lost.h.timestamp = pkt->h.timestamp - blk->ts_offset;
        lost.h.marker = false;
        lost.payload = pkt->payload + blk->off;
        lost.h.payload_len = blk->len;
        lost.red_off = lost.red_len = 0;
        if (record_one(tap, dst, src, &lost, w))
            mr_counter_add(&w->sfu.red_recovered, 1);
    }
}

static void record(struct mr_rec_tap *tap, const struct mr_source *src,
                   const struct mr_fwd_packet *pkt, struct mr_worker *w)
{
    struct mr_receiver *dst = receiver_for(tap->receivers, tap->n_receivers, pkt);
    if (!dst)
        return;
    if (pkt->red_len)
        record_red_recovered(tap, dst, src, pkt, w);
    record_one(tap, dst, src, pkt, w);
}

/*
 * The packet waits for the rest of the burst (burst.h). When it was the
 * last one waiting on the publisher's socket, the burst is over: fan out
 * now, in this turn of the loop, rather than in the next one, which would
 * poll every socket of the worker once more first. Without a plain UDP
 * socket to ask (TCP, TURN) every packet is its own burst.
 *
 * overload.c reads the same backlog, at most once per millisecond. The two
 * are not merged on purpose: while a stream's video is shed nothing is
 * queued here, so nothing is read per packet, which keeps draining a
 * backlog cheap (reading it per packet in every case lost subscribers'
 * consent under integration.overload's CPU quota).
 */
static void queue_for_receivers(struct mr_worker *w, struct mr_stream *s, struct mr_peer *pub,
                                const struct mr_fwd_packet *pkt, size_t len)
{
    mr_burst_add(w->burst, s, pkt, len);
    int limit;
    if (mr_transport_rx_queued(pub->transport, &limit) <= 0)
        mr_burst_flush(w->burst);
}

void mr_forward_rtp(struct mr_peer *pub, uint8_t *buf, size_t len)
{
    struct mr_stream *s = pub->stream;
    struct mr_worker *w = s->worker;
    struct mr_fwd_packet pkt = {.buf = buf, .pub = pub};
    if (mr_rtp_parse(buf, len, &pkt.h) < 0 || mr_rtp_ext_parse(buf, &pkt.h, &pkt.ext) < 0) {
        mr_counter_add(&w->sfu.drop_parse, 1);
        return;
    }
    pkt.now_us = mr_clock_mono_us();
    /* Every packet of the transport counts for the publisher's bandwidth
     * estimate, whatever becomes of it here. */
    if (pub->twcc)
        mr_congestion_on_packet(pub, buf, &pkt.ext, pkt.now_us);
    int si = mr_source_find(pub->sources, pub->n_sources, &pkt.h, &pkt.ext, buf, &pkt.enc);
    bool rtx = si < 0 || !mr_source_media_pt(&pub->sources[si], pkt.h.payload_type);
    /* Not media: a retransmission the relay asked for becomes the packet
     * it lost (repair.c), anything else is dropped and counted there. */
    if (rtx && (si = mr_repair_rtx(pub, &pkt, &len, &buf)) < 0)
        return;
    pkt.src = si;
    struct mr_source *src = &pub->sources[si];
    if (!mr_repair_on_packet(s, pub, &pkt, rtx))
        return;
    /* Receive statistics (what reports tell the publisher) are of what
     * arrived the first time, padding included: loss before repair. */
    struct mr_encoding *e = &src->enc[pkt.enc];
    if (!rtx)
        mr_rtp_rx_stats_update(&e->rx, pkt.h.seq, pkt.h.timestamp, pkt.now_us);
    /* What a layer carries, to rank and choose layers (layers.c). */
    if (src->n_encodings > 1) {
        e->last_us = pkt.now_us;
        e->octets += pkt.h.payload_len;
        e->packets++;
    }
    /* Padding-only packets probe the sender's bandwidth; they carry nothing
     * for the receivers, whose numbering skips them. */
    if (pkt.h.payload_len == 0) {
        if (!rtx)
            mr_encoding_padding(e, pkt.h.seq);
        mr_counter_add(&w->sfu.drop_padding, 1);
        return;
    }
    pkt.seq = mr_encoding_seq(e, pkt.h.seq);
    pkt.payload = buf + pkt.h.header_len;
    if (src->codec.red_pt && pkt.h.payload_type == src->codec.red_pt && !red_primary(&pkt, w))
        return;
    /* A moderator's mute: nobody hears it, and the recording keeps what
     * the room heard. Receive statistics go on, so reports stay honest. */
    if (s->fwd_muted[src->kind]) {
        mr_counter_add(&w->sfu.drop_muted, 1);
        return;
    }
    if (src->kind == MR_MEDIA_VIDEO) {
        pkt.keyframe = is_keyframe(src, pkt.payload, pkt.h.payload_len);
        if (pkt.keyframe) {
            s->kf[si].last_keyframe_us = pkt.now_us; /* answers the requests before it */
            mr_nack_keyframe(&e->nack, pkt.h.seq);
            if (src->n_encodings > 1 && src->codec.id == MR_CODEC_VP8)
                mr_rtp_vp8_keyframe_size(pkt.payload, pkt.h.payload_len, &e->width, &e->height);
        }
        /* Read once here for every receiver that renumbers them; a
         * descriptor cut short leaves them zero (nothing renumbered). */
        if (src->n_encodings > 1 && src->codec.id == MR_CODEC_VP8)
            mr_rtp_vp8_ids(pkt.payload, pkt.h.payload_len, &pkt.vp8);
        /* Kept for the viewers' NACKs, as it arrived: each viewer's
         * rewriting is applied when it is resent (retransmit.c). */
        if (e->history)
            mr_history_put(e->history, buf, len, pkt.h.ssrc, pkt.seq, pkt.now_us);
    }

    /* Behind: the video waits out the backlog (overload.c); audio and the
     * recording go on. */
    if (mr_overload_shedding(s, pub, pkt.now_us) && src->kind == MR_MEDIA_VIDEO)
        mr_counter_add(&w->sfu.drop_overload, s->sinks->len);
    else if (s->sinks->len > 0)
        queue_for_receivers(w, s, pub, &pkt, len);
    if (s->rec_tap)
        record(s->rec_tap, src, &pkt, w);
}
