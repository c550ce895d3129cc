/*
 * Receiving: per-track checks on what the relay delivers, receiver reports
 * and PLIs.
 *
 * Two independent views of every packet: the RTP header as the relay
 * rewrote it (its sequence numbers must step by exactly one, its timestamps
 * never go back, one SSRC and the negotiated payload type and mid), and the
 * probe the publisher embedded (its source and counter show loss, duplicates
 * and reordering end to end, its send time the transit latency).
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "media.h"
#include "peer_priv.h"

#define RTCP_MAX  512
#define SEND_ROOM 64

/* --- Probe counters --------------------------------------------------------- */

static bool window_bit(struct mr_tp_window *w, uint32_t c, bool set)
{
    uint64_t *word = &w->bits[(c % COUNTER_WINDOW) / 64];
    uint64_t mask = 1ull << (c % 64);
    bool was = (*word & mask) != 0;
    if (set)
        *word |= mask;
    else
        *word &= ~mask;
    return was;
}

static void count_probe(struct mr_test_track_stats *st, struct mr_tp_window *w, uint32_t c)
{
    if (!w->started) {
        memset(w, 0, sizeof(*w));
        w->started = true;
        w->high = c;
        window_bit(w, c, true);
        return;
    }
    if (c > w->high) {
        uint32_t gap = c - w->high;
        st->lost += gap - 1;
        /* Forget the counters that slide out of the window. */
        for (uint32_t k = 1; k <= gap && k <= COUNTER_WINDOW; k++)
            window_bit(w, w->high + k, false);
        window_bit(w, c, true);
        w->high = c;
        return;
    }
    if (w->high - c >= COUNTER_WINDOW) {
        st->reordered++; /* too old to tell; it was counted lost */
        if (st->lost)
            st->lost--;
        return;
    }
    if (window_bit(w, c, true)) {
        st->duplicates++;
    } else {
        st->reordered++;
        if (st->lost)
            st->lost--;
    }
}

static void count_latency(struct mr_tp_latency *l, int64_t us)
{
    if (us < 0)
        us = 0;
    if (!l->buckets)
        l->buckets = calloc(LAT_BUCKETS + 1, sizeof(*l->buckets));
    if (l->buckets) {
        int64_t b = us / LAT_BUCKET_US;
        l->buckets[b < LAT_BUCKETS ? b : LAT_BUCKETS]++;
    }
    l->n++;
    if (us > l->max_us)
        l->max_us = us;
}

static int64_t percentile(const struct mr_tp_latency *l, uint64_t rank)
{
    uint64_t seen = 0;
    for (unsigned b = 0; b <= LAT_BUCKETS; b++) {
        seen += l->buckets[b];
        if (seen > rank)
            return b < LAT_BUCKETS ? (int64_t)b * LAT_BUCKET_US + LAT_BUCKET_US / 2 : l->max_us;
    }
    return l->max_us;
}

void mr_tp_latency_summary(const struct mr_tp_latency *l, struct mr_test_latency *out)
{
    memset(out, 0, sizeof(*out));
    out->n = l->n;
    out->max_us = l->max_us;
    if (!l->buckets || l->n == 0)
        return;
    out->p50_us = percentile(l, l->n / 2);
    out->p99_us = percentile(l, l->n * 99 / 100);
}

void mr_test_peer_reset_latency(struct mr_test_peer *p)
{
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_latency *l = &p->tracks[i].lat;
        if (l->buckets)
            memset(l->buckets, 0, (LAT_BUCKETS + 1) * sizeof(*l->buckets));
        l->n = 0;
        l->max_us = 0;
    }
}

void mr_test_peers_latency(struct mr_test_peer *const *peers, unsigned n, enum mr_media_kind kind,
                           struct mr_test_latency *out)
{
    struct mr_tp_latency all = {.buckets = calloc(LAT_BUCKETS + 1, sizeof(uint32_t))};
    for (unsigned i = 0; all.buckets && i < n; i++) {
        for (unsigned k = 0; peers[i] && k < peers[i]->n_tracks; k++) {
            const struct mr_tp_track *t = &peers[i]->tracks[k];
            if (t->st.kind != kind || !t->lat.buckets)
                continue;
            for (unsigned b = 0; b <= LAT_BUCKETS; b++)
                all.buckets[b] += t->lat.buckets[b];
            all.n += t->lat.n;
            all.max_us = t->lat.max_us > all.max_us ? t->lat.max_us : all.max_us;
        }
    }
    mr_tp_latency_summary(&all, out);
    free(all.buckets);
}

/* A packet from a new publisher (or the first one): remember how the RTP
 * spaces stepped across the switch. */
static void switch_source(struct mr_tp_track *t, const struct mr_rtp_header *h,
                          const struct mr_test_probe *probe, int64_t now)
{
    struct mr_test_track_stats *st = &t->st;
    if (st->sources > 0) {
        st->switch_seq_step = (int16_t)(uint16_t)(h->seq - t->last_seq);
        st->switch_ts_step = (int32_t)(h->timestamp - t->last_ts);
        st->switch_gap_us = now - st->last_us;
    }
    st->sources++;
    st->cur_source = probe->source;
    st->source_first_us = now;
    st->source_first_counter = probe->counter;
    st->source_packets = 0;
    t->win.started = false;
}

static void check_probe(struct mr_tp_track *t, const struct mr_rtp_header *h,
                        const uint8_t *payload, int64_t now)
{
    struct mr_test_track_stats *st = &t->st;
    struct mr_test_probe probe;
    if (mr_test_probe_read(payload, h->payload_len, &probe) < 0) {
        st->probe_missing++;
        return;
    }
    if (st->sources == 0 || probe.source != st->cur_source)
        switch_source(t, h, &probe, now);
    st->source_packets++;
    count_probe(st, &t->win, probe.counter);
    st->last_counter = t->win.high;
    count_latency(&t->lat, now - probe.send_us);
}

/* --- RTP header checks ------------------------------------------------------ */

static void check_header(struct mr_tp_track *t, const struct mr_rtp_header *h)
{
    struct mr_test_track_stats *st = &t->st;
    if (st->rx_ssrcs == 0) {
        st->rx_ssrc = h->ssrc;
        st->rx_ssrcs = 1;
    } else if (h->ssrc != t->last_ssrc) {
        st->rx_ssrcs++;
    }
    t->last_ssrc = h->ssrc;
    st->rx_pt = h->payload_type;
    if (h->payload_type != st->pt)
        st->pt_mismatch++;
    if (!t->have_seq)
        return;
    uint16_t step = (uint16_t)(h->seq - t->last_seq);
    if (step != 1) {
        st->seq_jumps++;
        if (step == 0 || step >= 0x8000)
            st->seq_backwards++;
    }
    if (h->timestamp != t->last_ts && !mr_rtp_ts_newer(h->timestamp, t->last_ts))
        st->ts_backwards++;
}

static bool is_keyframe(const struct mr_tp_track *t, const uint8_t *payload, size_t len)
{
    if (t->st.kind != MR_MEDIA_VIDEO)
        return false;
    if (t->st.codec == MR_CODEC_H264)
        return mr_rtp_h264_is_keyframe(payload, len);
    return mr_rtp_vp8_is_keyframe(payload, len);
}

/* The track a packet belongs to: by its mid extension, else by SSRC, else
 * by a payload type (media or RTX) only one track uses. mid_ok tells
 * whether the packet carried the track's mid. */
static struct mr_tp_track *find_track(struct mr_test_peer *p, const uint8_t *buf,
                                      const struct mr_rtp_header *h, bool *mid_ok)
{
    struct mr_rtp_ext_list ext;
    *mid_ok = false;
    if (mr_rtp_ext_parse(buf, h, &ext) == 0) {
        for (unsigned i = 0; i < p->n_tracks; i++) {
            struct mr_tp_track *t = &p->tracks[i];
            const struct mr_rtp_ext_elem *e =
                t->st.mid_ext_id ? mr_rtp_ext_find(&ext, t->st.mid_ext_id) : NULL;
            if (e && e->len == strlen(t->st.mid) &&
                memcmp(buf + e->offset, t->st.mid, e->len) == 0) {
                *mid_ok = true;
                return t;
            }
        }
    }
    struct mr_tp_track *by_pt = NULL;
    unsigned n_pt = 0;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (!t->st.accepted)
            continue;
        if (h->ssrc == t->st.remote_ssrc || (t->st.rx_ssrcs && h->ssrc == t->last_ssrc))
            return t;
        if (h->payload_type == t->st.pt || (t->st.rtx_pt && h->payload_type == t->st.rtx_pt)) {
            by_pt = t;
            n_pt++;
        }
    }
    return n_pt == 1 ? by_pt : NULL;
}

/*
 * cfg.nack: a gap in the relay's video sequence numbers, seen when the
 * packet after it arrives, is asked for at once, as a browser's receiver
 * does (RFC 4585 §6.2.1 generic NACK, in a compound packet after an empty
 * RR), at most NACK_MAX of its newest packets. Once per gap: what the
 * repair misses too is left to a key-frame request, as a decoder makes
 * (mr_test_peer_request_keyframe). Older packets (repairs) move nothing.
 */
#define NACK_MAX 256
static void nack_gap(struct mr_test_peer *p, struct mr_tp_track *t, const struct mr_rtp_header *h)
{
    if (!p->cfg.nack || t->st.kind != MR_MEDIA_VIDEO)
        return;
    uint16_t step = (uint16_t)(h->seq - t->high_seq);
    if (t->have_high && (step == 0 || step >= 0x8000))
        return;
    bool gap = t->have_high && step > 1;
    t->have_high = true;
    t->high_seq = h->seq;
    if (!gap)
        return;
    uint16_t seqs[NACK_MAX];
    unsigned n = step - 1u < NACK_MAX ? step - 1u : NACK_MAX;
    for (unsigned i = 0; i < n; i++)
        seqs[i] = (uint16_t)(h->seq - n + i);
    uint8_t buf[RTCP_MAX + SEND_ROOM];
    struct mr_rtcp_rr rr = {.ssrc = p->rtcp_ssrc};
    int k = mr_rtcp_write_rr(buf, RTCP_MAX, &rr);
    int m = k < 0
                ? k
                : mr_rtcp_write_nack(buf + k, RTCP_MAX - (size_t)k, p->rtcp_ssrc, h->ssrc, seqs, n);
    if (m > 0 && mr_transport_send_rtcp(p->t, buf, (size_t)(k + m), sizeof(buf)) == 0) {
        p->nacks_sent++;
        p->nack_packets_sent += n;
    }
}

/* A retransmission (RFC 4588) on the track's RTX format is unwrapped in
 * place into the packet it carries, on the media SSRC, and checked as that
 * packet. Returns false for a malformed one (counted as unmatched). */
static bool unwrap_rtx(struct mr_test_peer *p, struct mr_tp_track *t, uint8_t **buf, size_t *len,
                       struct mr_rtp_header *h)
{
    if (!t->st.rtx_pt || h->payload_type != t->st.rtx_pt)
        return true;
    uint8_t *orig;
    uint32_t ssrc = t->st.rx_ssrcs ? t->last_ssrc : t->st.remote_ssrc;
    int n = mr_rtp_rtx_unwrap(*buf, *len, h, t->st.pt, ssrc, &orig);
    if (n < 0 || mr_rtp_parse(orig, (size_t)n, h) < 0) {
        p->rtp_unmatched++;
        return false;
    }
    *buf = orig;
    *len = (size_t)n;
    t->st.rtx_packets++;
    return true;
}

void mr_tp_receive_rtp(struct mr_test_peer *p, uint8_t *buf, size_t len)
{
    struct mr_rtp_header h;
    bool mid_ok;
    int64_t now = mr_clock_mono_us();
    struct mr_tp_track *t =
        mr_rtp_parse(buf, len, &h) == 0 ? find_track(p, buf, &h, &mid_ok) : NULL;
    if (!t) {
        p->rtp_unmatched++;
        return;
    }
    if (!unwrap_rtx(p, t, &buf, &len, &h))
        return;
    struct mr_test_track_stats *st = &t->st;
    const uint8_t *payload = buf + h.header_len;
    st->packets++;
    st->bytes += h.payload_len;
    if (!st->first_us)
        st->first_us = now;
    if (st->mid_ext_id && !mid_ok)
        st->mid_mismatch++;
    check_header(t, &h);
    nack_gap(p, t, &h);
    if (is_keyframe(t, payload, h.payload_len)) {
        /* H.264 marks two packets of a key frame (STAP-A, first FU-A). */
        if (!st->first_keyframe_us || h.timestamp != t->last_key_ts)
            st->keyframes++;
        if (st->codec == MR_CODEC_VP8)
            mr_rtp_vp8_keyframe_size(payload, h.payload_len, &st->key_width, &st->key_height);
        t->last_key_ts = h.timestamp;
        if (!st->first_keyframe_us)
            st->first_keyframe_us = now;
    } else if (st->kind == MR_MEDIA_VIDEO && !st->first_keyframe_us) {
        st->before_keyframe++;
    }
    check_probe(t, &h, payload, now);
    mr_rtp_rx_stats_update(&t->rx, h.seq, h.timestamp, now);
    t->have_seq = true;
    t->last_seq = h.seq;
    t->last_ts = h.timestamp;
    st->last_us = now;
}

/* --- RTCP ------------------------------------------------------------------- */

/* RFC 3550 §6.4.1: an SR's RTP timestamp is the RTP time of the instant the
 * report was made. The latest packet's timestamp, advanced by the time since
 * it arrived, should land close to it; the distance, in microseconds, is
 * transit time plus jitter when sender and relay map time correctly. */
static void check_sr_mapping(struct mr_tp_track *t, const struct mr_rtcp_sr *sr, int64_t now)
{
    int64_t ahead = (int64_t)(int32_t)(sr->rtp_ts - t->last_ts) * 1000000 / t->clock_rate;
    int64_t skew = ahead - (now - t->st.last_us);
    skew = skew < 0 ? -skew : skew;
    if (skew > t->st.sr_max_skew_us)
        t->st.sr_max_skew_us = skew;
}

void mr_tp_receiver_rtcp(struct mr_test_peer *p, const uint8_t *buf, size_t len)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    int64_t now = mr_clock_mono_us();
    mr_rtcp_iter_init(&it, buf, len);
    while (mr_rtcp_next(&it, &pkt) == 1) {
        struct mr_rtcp_sr sr;
        if (pkt.type != MR_RTCP_SR || mr_rtcp_parse_sr(&pkt, &sr) < 0)
            continue;
        p->srs_received++;
        for (unsigned i = 0; i < p->n_tracks; i++) {
            struct mr_tp_track *t = &p->tracks[i];
            if (t->st.rx_ssrcs && sr.ssrc == t->last_ssrc) {
                t->st.srs_received++;
                mr_rtp_rx_stats_on_sr(&t->rx, sr.ntp, now);
                check_sr_mapping(t, &sr, now);
            }
        }
    }
}

static int send_rtcp(struct mr_test_peer *p, uint8_t *buf, int n)
{
    if (n <= 0 || !p->t)
        return MR_EINVAL;
    int m = mr_rtcp_write_sdes_cname(buf + n, RTCP_MAX - (size_t)n, p->rtcp_ssrc, p->cname);
    if (m < 0)
        return m;
    return mr_transport_send_rtcp(p->t, buf, (size_t)(n + m), RTCP_MAX + SEND_ROOM);
}

/*
 * draft-alvestrand-rmcat-remb-03 §2.2: a receiver's estimate for one SSRC.
 *  |V=2|P| FMT=15  |   PT=206      |             length=5          |
 *  |                  SSRC of packet sender                        |
 *  |                  SSRC of media source (0)                     |
 *  |  Unique identifier 'R' 'E' 'M' 'B'                            |
 *  |  Num SSRC     | BR Exp    |  BR Mantissa (18 bits)            |
 *  |   SSRC feedback                                               |
 */
#define REMB_LEN 24
static void write_remb(uint8_t *out, uint32_t sender, uint32_t media, uint64_t bps)
{
    unsigned exp = 0;
    while (bps >> exp > 0x3ffff)
        exp++;
    uint32_t mantissa = (uint32_t)(bps >> exp);
    const uint8_t head[4] = {0x8f, 206, 0, 5};
    memcpy(out, head, 4);
    for (int i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t)(sender >> (24 - 8 * i));
        out[8 + i] = 0;
        out[20 + i] = (uint8_t)(media >> (24 - 8 * i));
    }
    memcpy(out + 12, "REMB", 4);
    out[16] = 1;
    out[17] = (uint8_t)(exp << 2 | mantissa >> 16);
    out[18] = (uint8_t)(mantissa >> 8);
    out[19] = (uint8_t)mantissa;
}

/* One track's report block from `sender`, reduced size (RFC 5506: no
 * SDES), with a REMB after it when remb; 0 when it went out. */
static int send_browser_rr(struct mr_test_peer *p, struct mr_tp_track *t, uint32_t sender,
                           bool remb, int64_t now_us)
{
    struct mr_rtcp_rr rr = {.ssrc = sender};
    if (!t || t->st.packets == 0 || !t->rx.started)
        return MR_ESTATE;
    mr_rtp_rx_stats_report(&t->rx, t->last_ssrc, now_us, &rr.reports[rr.n_reports++]);
    uint8_t buf[RTCP_MAX + SEND_ROOM];
    int n = mr_rtcp_write_rr(buf, RTCP_MAX, &rr);
    if (n < 0)
        return n;
    if (remb) {
        /* What Chromium's estimate settles at with nothing limiting it. */
        write_remb(buf + n, sender, t->last_ssrc, 3000000);
        n += REMB_LEN;
    }
    return mr_transport_send_rtcp(p->t, buf, (size_t)n, sizeof(buf));
}

/* MR_TEST_CLIENT_RTCP, every 200 ms: what a Chromium subscriber sends (its
 * video receiver's RR with a REMB; its audio receiver's RR, from an SSRC of
 * its own, about every 5 s). */
static void send_browser_reports(struct mr_test_peer *p, int64_t now_us)
{
    struct mr_tp_track *video = NULL, *audio = NULL;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        if (p->tracks[i].st.kind == MR_MEDIA_VIDEO && !video)
            video = &p->tracks[i];
        else if (p->tracks[i].st.kind == MR_MEDIA_AUDIO && !audio)
            audio = &p->tracks[i];
    }
    if (send_browser_rr(p, video, p->rtcp_ssrc, true, now_us) == 0)
        p->rrs_sent++;
    if (now_us >= p->next_audio_rr_us) {
        if (p->next_audio_rr_us &&
            send_browser_rr(p, audio, p->audio_rtcp_ssrc, false, now_us) == 0)
            p->rrs_sent++;
        uint64_t r = (uint64_t)p->audio_rtcp_ssrc ^ (uint64_t)now_us << 20;
        p->next_audio_rr_us = now_us + (int64_t)(5000000.0 * (0.5 + mr_tp_uniform(&r)));
    }
}

void mr_tp_send_receiver_reports(struct mr_test_peer *p, int64_t now_us)
{
    if (p->cfg.client & MR_TEST_CLIENT_RTCP) {
        send_browser_reports(p, now_us);
        return;
    }
    struct mr_rtcp_rr rr = {.ssrc = p->rtcp_ssrc};
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (t->st.packets > 0 && t->rx.started)
            mr_rtp_rx_stats_report(&t->rx, t->last_ssrc, now_us, &rr.reports[rr.n_reports++]);
    }
    uint8_t buf[RTCP_MAX + SEND_ROOM];
    if (send_rtcp(p, buf, mr_rtcp_write_rr(buf, RTCP_MAX, &rr)) == 0)
        p->rrs_sent++;
}

int mr_test_peer_request_keyframe(struct mr_test_peer *p)
{
    if (!p->t || mr_transport_state(p->t) != MR_TRANSPORT_SECURE)
        return MR_ESTATE;
    int sent = 0;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        uint32_t media = t->st.rx_ssrcs ? t->last_ssrc : t->st.remote_ssrc;
        if (t->st.kind != MR_MEDIA_VIDEO || !media)
            continue;
        /* RFC 4585 §3.1: in a compound packet that starts with a report
         * (the peer offers rtcp-rsize, but need not rely on it). */
        uint8_t buf[RTCP_MAX + SEND_ROOM];
        struct mr_rtcp_rr rr = {.ssrc = p->rtcp_ssrc};
        int n = mr_rtcp_write_rr(buf, RTCP_MAX, &rr);
        int m = n < 0 ? n : mr_rtcp_write_pli(buf + n, RTCP_MAX - (size_t)n, p->rtcp_ssrc, media);
        if (m > 0 && send_rtcp(p, buf, n + m) == 0) {
            p->plis_sent++;
            sent++;
        }
    }
    return sent > 0 ? 0 : MR_ESTATE;
}
