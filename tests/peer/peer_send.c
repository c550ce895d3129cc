/*
 * Publishing: synthetic video frames and Opus packets on a media clock,
 * sender reports, key frames on request, and NACKs handed to peer_repair.c.
 *
 * Unit u of a track (a frame, or a 20 ms audio packet) is due at
 * start + u * interval and carries RTP timestamp base + u * ticks, so RTP
 * time and the monotonic clock advance together and sender reports can map
 * one onto the other exactly. A frame's packets leave in one burst, as an
 * encoder hands them over, or with cfg.pacing_pct spread out as a sender's
 * pacer does (paced_frame_*). A pacer source with a microsecond ready time
 * wakes the peer for the next due unit or paced packet.
 *
 * With cfg.client bits (MR_TEST_CLIENT_*, peer.h) the sizes, extensions and
 * sender reports follow what tests/bench/clients measured of Chromium.
 *
 * Simulcast layers (cfg.video_layers) are tracks of their own: each is
 * paced, sized (its own bitrate), reported (an SR per SSRC) and asked for
 * key frames (PLI, FIR naming its SSRC) apart; frames of all layers fall due
 * together and share their RTP timestamp.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "media.h"
#include "peer_priv.h"

#define SEND_ROOM      64 /* past the packet, for the SRTP tag */
#define KEYFRAME_SCALE 4  /* key frames are this many times larger */
#define RTCP_MAX       256
/* MR_TEST_CLIENT_SIZES: libwebrtc's largest RTP packet (header, extensions
 * and payload) and the VP8 payload descriptor it writes (X, I, 15-bit
 * PictureID). */
#define BROWSER_RTP_MAX   1200
#define BROWSER_VP8_DESC  4
#define BROWSER_KEY_SCALE 2.0  /* key frame / delta frame, measured 1.9-2.1 */
#define BROWSER_SIZE_SD   0.04 /* sd of a delta frame's size / the mean */
#define BROWSER_GOLDEN    64   /* every 64th frame ... */
#define BROWSER_GOLDEN_X  1.4  /* ... is this much larger (libvpx golden frames) */
#define BROWSER_OPUS_SD   20.0 /* bytes */
#define BROWSER_OPUS_MIN  (1 + MR_TEST_PROBE_LEN)
#define BROWSER_OPUS_MAX  128

static int64_t unit_interval_us(const struct mr_test_peer *p, const struct mr_tp_track *t)
{
    return t->st.kind == MR_MEDIA_AUDIO ? 20000 : 1000000 / (int64_t)p->cfg.fps;
}

static int64_t unit_due_us(const struct mr_test_peer *p, const struct mr_tp_track *t, uint64_t u)
{
    if (t->st.kind == MR_MEDIA_AUDIO)
        return p->media_start_us + (int64_t)u * 20000;
    return p->media_start_us + (int64_t)(u * 1000000 / p->cfg.fps);
}

static uint32_t unit_ts(const struct mr_test_peer *p, const struct mr_tp_track *t, uint64_t u)
{
    if (t->st.kind == MR_MEDIA_AUDIO)
        return t->ts_base + (uint32_t)(u * (t->clock_rate / 50));
    return t->ts_base + (uint32_t)(u * t->clock_rate / p->cfg.fps);
}

/* The track's video bitrate: a simulcast layer's share, else video_kbps. */
static unsigned track_kbps(const struct mr_test_peer *p, const struct mr_tp_track *t)
{
    return t->st.kbps ? t->st.kbps : p->cfg.video_kbps;
}

static bool sends(const struct mr_tp_track *t)
{
    return t->st.accepted && (t->st.kind == MR_MEDIA_AUDIO || t->st.codec == MR_CODEC_VP8 ||
                              t->st.codec == MR_CODEC_H264);
}

/* About N(0, 1): the sum of four uniforms, centred and scaled. */
static double normal(uint64_t *rng)
{
    double sum = 0;
    for (int i = 0; i < 4; i++)
        sum += mr_tp_uniform(rng);
    return (sum - 2.0) * 1.7320508; /* sd of the sum: sqrt(4/12) */
}

/* Writes the RTP header into buf and returns its length. The mid extension
 * when negotiated, and a simulcast layer's rid (RFC 8852 §3.3) when the
 * answer accepted simulcast; with MR_TEST_CLIENT_EXT both only until a
 * report block acknowledged the SSRC (libwebrtc's rule), and the audio
 * level on audio packets. */
static int write_header(const struct mr_test_peer *p, struct mr_tp_track *t, uint8_t *buf,
                        size_t cap, bool marker, uint32_t ts)
{
    struct mr_rtp_out_header h = {
        .marker = marker,
        .payload_type = t->st.pt,
        .seq = t->seq++,
        .timestamp = ts,
        .ssrc = t->st.ssrc,
    };
    bool browser = p->cfg.client & MR_TEST_CLIENT_EXT;
    struct mr_rtp_ext_out ext[3];
    unsigned n = 0;
    if (t->st.mid_ext_id && !(browser && t->ssrc_acked))
        ext[n++] = (struct mr_rtp_ext_out){
            .id = t->st.mid_ext_id,
            .len = (uint8_t)strlen(t->st.mid),
            .data = (const uint8_t *)t->st.mid,
        };
    if (t->rid_ext_id && !(browser && t->ssrc_acked))
        ext[n++] = (struct mr_rtp_ext_out){
            .id = t->rid_ext_id,
            .len = (uint8_t)strlen(t->st.rid),
            .data = (const uint8_t *)t->st.rid,
        };
    /* RFC 6464: voice activity and the level in -dBov, speech-like. */
    uint8_t level = 0;
    if (browser && t->level_ext_id && t->st.kind == MR_MEDIA_AUDIO) {
        level = (uint8_t)(0x80 | (25 + (unsigned)(mr_tp_uniform(&t->rng) * 30)));
        ext[n++] = (struct mr_rtp_ext_out){.id = t->level_ext_id, .len = 1, .data = &level};
    }
    return mr_rtp_write_header(buf, cap, &h, ext, n);
}

static struct mr_test_probe next_probe(struct mr_tp_track *t)
{
    return (struct mr_test_probe){
        .source = t->st.source,
        .counter = (uint32_t)t->st.sent_packets,
        .frame = (uint32_t)t->st.sent_frames,
        .send_us = mr_clock_mono_us(),
    };
}

/* Sends one packet already written into buf; counts it as sent even when
 * the socket refused it (the transport counts send errors) or
 * cfg.send_loss_pct dropped it, so that a receiver sees such a loss as
 * loss. */
static void send_packet(struct mr_test_peer *p, struct mr_tp_track *t, uint8_t *buf, int hlen,
                        int plen)
{
    if (hlen < 0 || plen < 0)
        return;
    mr_tp_send_media(p, t, buf, (size_t)(hlen + plen), MR_TRANSPORT_BUF);
    t->st.sent_packets++;
    t->st.sent_bytes += (uint64_t)plen;
}

/* A key frame first and when asked; periodically too unless the peer
 * plays a browser (MR_TEST_CLIENT_SIZES: libwebrtc sends none unasked). */
static bool keyframe_due(const struct mr_test_peer *p, const struct mr_tp_track *t, int64_t now)
{
    if (t->keyframe_pending || t->st.sent_keyframes == 0)
        return true;
    return !(p->cfg.client & MR_TEST_CLIENT_SIZES) &&
           now - t->last_keyframe_us >= (int64_t)p->cfg.keyframe_interval_ms * 1000;
}

/*
 * MR_TEST_CLIENT_SIZES: a frame's coded size as libvpx's rate control makes
 * it at a constant bitrate (sd 4 % around the mean, a golden frame 1.4 x
 * every 64th, key frames 2 x), and the size of media to put in it: the
 * probe each packet carries counts as frame data, so that the packets, at
 * most BROWSER_RTP_MAX bytes with their header and split evenly, are those
 * of a browser.
 */
static size_t browser_frame_data(struct mr_tp_track *t, bool key, size_t avg)
{
    double f = key ? BROWSER_KEY_SCALE : 1.0 + BROWSER_SIZE_SD * normal(&t->rng);
    if (!key && t->st.sent_frames % BROWSER_GOLDEN == BROWSER_GOLDEN - 1)
        f *= BROWSER_GOLDEN_X;
    if (!key)
        f /= 1.0 + (BROWSER_GOLDEN_X - 1.0) / BROWSER_GOLDEN; /* keep the mean */
    size_t coded = (size_t)((double)avg * (f > 0.5 ? f : 0.5));
    if (t->st.codec != MR_CODEC_VP8)
        return coded;
    size_t per_packet = BROWSER_RTP_MAX - 12 - BROWSER_VP8_DESC;
    size_t n = (coded + per_packet - 1) / per_packet;
    size_t data = coded > n * MR_TEST_PROBE_LEN + MR_TEST_MIN_FRAME ? coded - n * MR_TEST_PROBE_LEN
                                                                    : MR_TEST_MIN_FRAME;
    /* media.c fills packets up to MR_TEST_MAX_PAYLOAD: enough data that it
     * still takes n of them. */
    size_t fill = MR_TEST_MAX_PAYLOAD - BROWSER_VP8_DESC - MR_TEST_PROBE_LEN;
    return n > 1 && data <= fill * (n - 1) ? fill * (n - 1) + 1 : data;
}

/*
 * MR_TEST_CLIENT_SPREAD: the pause before a frame's next packet. Chromium's
 * pacer lets a frame through nearly at once, but from a thread that does
 * other work too: measured gaps p50 20, p90 110-290, p99 410-940 us, a
 * 9-packet frame over 0.2-0.44 ms (p50). Drawn as: no pause 60 % of the
 * time, else exponential with a mean of 125 us.
 */
static void browser_gap(struct mr_tp_track *t)
{
    if (mr_tp_uniform(&t->rng) >= 0.4)
        return;
    double us = -125.0 * log(1.0 - mr_tp_uniform(&t->rng));
    g_usleep((gulong)(us < 2000 ? us : 2000));
}

/* Sends packet i of n of frame f (RTP timestamp ts). */
static void send_frame_packet(struct mr_test_peer *p, struct mr_tp_track *t,
                              const struct mr_test_frame *f, unsigned i, unsigned n, uint32_t ts)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    int hlen = write_header(p, t, buf, sizeof(buf), i == n - 1, ts);
    struct mr_test_probe probe = next_probe(t);
    int plen = hlen < 0 ? hlen
                        : mr_test_frame_payload(f, i, &probe, buf + hlen,
                                                sizeof(buf) - (size_t)hlen - SEND_ROOM);
    send_packet(p, t, buf, hlen, plen);
}

/* Sends the paced frame's packets that are due by `now` (all of them when
 * `all`); returns when the next one is due, or INT64_MAX when none is left. */
static int64_t paced_frame_send(struct mr_test_peer *p, struct mr_tp_track *t, int64_t now,
                                bool all)
{
    while (t->paced_next < t->paced_n && (all || t->paced_due_us <= now)) {
        send_frame_packet(p, t, &t->paced, t->paced_next++, t->paced_n, t->paced_ts);
        t->paced_due_us += t->paced_gap_us;
    }
    return t->paced_next < t->paced_n ? t->paced_due_us : INT64_MAX;
}

/* Starts pacing out a frame of n packets: one packet now, the others every
 * packet-size / (pacing_pct % of the bitrate), as libwebrtc's pacer spreads
 * a frame, but fast enough to finish within the frame's interval (a key
 * frame goes out quicker, where a real pacer's queue would grow). */
static void paced_frame_start(struct mr_test_peer *p, struct mr_tp_track *t,
                              const struct mr_test_frame *f, unsigned n, int64_t now, uint32_t ts)
{
    paced_frame_send(p, t, now, true); /* what is left of the previous frame */
    int64_t gap = (int64_t)MR_TEST_MAX_PAYLOAD * 8 * 1000 * 100 /
                  ((int64_t)track_kbps(p, t) * p->cfg.pacing_pct);
    int64_t fit = unit_interval_us(p, t) * 9 / 10 / (int64_t)n;
    t->paced = *f;
    t->paced_ts = ts;
    t->paced_n = n;
    t->paced_next = 0;
    t->paced_gap_us = gap < fit ? gap : fit;
    t->paced_due_us = now;
    paced_frame_send(p, t, now, false);
}

static void send_frame(struct mr_test_peer *p, struct mr_tp_track *t, int64_t now, uint32_t ts)
{
    /* A paused layer's pictures are not encoded; the clock goes on. */
    if (t->st.paused)
        return;
    size_t avg = (size_t)track_kbps(p, t) * 1000 / 8 / p->cfg.fps;
    struct mr_test_frame f = {
        .codec = t->st.codec,
        .keyframe = keyframe_due(p, t, now),
        .picture_id = (uint16_t)(t->picture_id++ & 0x7fff),
        .width = t->st.width,
        .height = t->st.height,
    };
    if (p->cfg.client & MR_TEST_CLIENT_SIZES)
        f.size = browser_frame_data(t, f.keyframe, avg);
    else
        f.size = f.keyframe ? avg * KEYFRAME_SCALE : avg;
    if (f.keyframe && t->next_key_bytes) {
        f.size = t->next_key_bytes;
        t->next_key_bytes = 0;
    }
    if (f.keyframe) {
        t->keyframe_pending = false;
        t->last_keyframe_us = now;
        t->st.sent_keyframes++;
        if (t->keyframe_requested)
            p->keyframes_on_request++;
        t->keyframe_requested = false;
    }
    unsigned n = mr_test_frame_packets(&f);
    if (p->cfg.pacing_pct)
        paced_frame_start(p, t, &f, n, now, ts);
    else
        for (unsigned i = 0; i < n; i++) {
            if (i > 0 && (p->cfg.client & MR_TEST_CLIENT_SPREAD))
                browser_gap(t);
            send_frame_packet(p, t, &f, i, n, ts);
        }
    t->st.sent_frames++;
}

static void send_audio(struct mr_test_peer *p, struct mr_tp_track *t, uint32_t ts)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    /* RFC 7587 §4.1: the marker starts a talkspurt; here, the stream. */
    int hlen = write_header(p, t, buf, sizeof(buf), t->st.sent_packets == 0, ts);
    struct mr_test_probe probe = next_probe(t);
    size_t size = p->cfg.audio_bytes;
    if (p->cfg.client & MR_TEST_CLIENT_SIZES) {
        double v = (double)size + BROWSER_OPUS_SD * normal(&t->rng);
        size = v < BROWSER_OPUS_MIN   ? BROWSER_OPUS_MIN
               : v > BROWSER_OPUS_MAX ? BROWSER_OPUS_MAX
                                      : (size_t)v;
    }
    int plen = hlen < 0 ? hlen
                        : mr_test_opus_payload(size, &probe, buf + hlen,
                                               sizeof(buf) - (size_t)hlen - SEND_ROOM);
    send_packet(p, t, buf, hlen, plen);
    t->st.sent_frames++;
}

/* Sends what is due on one track; returns when the next unit is due. */
static int64_t pace_track(struct mr_test_peer *p, struct mr_tp_track *t, int64_t now)
{
    int64_t due = unit_due_us(p, t, t->units);
    if (now - due > MEDIA_MAX_LAG_US) {
        /* The loop was blocked: skip to the present, as a capturer would. */
        t->units = (uint64_t)((now - p->media_start_us) / unit_interval_us(p, t));
        due = unit_due_us(p, t, t->units);
    }
    while (due <= now) {
        uint32_t ts = unit_ts(p, t, t->units);
        if (t->st.kind == MR_MEDIA_AUDIO)
            send_audio(p, t, ts);
        else
            send_frame(p, t, now, ts);
        due = unit_due_us(p, t, ++t->units);
    }
    int64_t paced = paced_frame_send(p, t, now, false);
    return paced < due ? paced : due;
}

static gboolean pace(gpointer data)
{
    struct mr_test_peer *p = data;
    int64_t now = mr_clock_mono_us();
    int64_t next = now + 1000000;
    if (p->cfg.client & MR_TEST_CLIENT_RTCP)
        mr_tp_send_due_sender_reports(p, now);
    for (unsigned i = 0; i < p->n_tracks; i++) {
        if (!sends(&p->tracks[i]))
            continue;
        int64_t due = pace_track(p, &p->tracks[i], now);
        next = due < next ? due : next;
    }
    g_source_set_ready_time(p->media_timer, next);
    return G_SOURCE_CONTINUE;
}

static gboolean pacer_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    (void)src;
    return cb(data);
}

static GSourceFuncs pacer_funcs = {.dispatch = pacer_dispatch};

void mr_tp_media_start(struct mr_test_peer *p)
{
    if (p->media_on || !p->t || mr_transport_state(p->t) != MR_TRANSPORT_SECURE)
        return;
    int64_t now = mr_clock_mono_us();
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        /* A restart continues the RTP timeline where it stopped. */
        if (t->units > 0)
            t->ts_base = unit_ts(p, t, t->units);
        t->units = 0;
        t->paced_n = t->paced_next = 0;
        t->keyframe_pending = true;
        t->next_sr_us = 0;
    }
    p->media_on = true;
    p->media_start_us = now;
    p->media_timer = g_source_new(&pacer_funcs, sizeof(GSource));
    g_source_set_callback(p->media_timer, pace, p, NULL);
    g_source_set_ready_time(p->media_timer, now);
    g_source_attach(p->media_timer, p->cfg.ctx);
}

void mr_tp_media_stop(struct mr_test_peer *p)
{
    p->media_on = false;
    if (p->media_timer) {
        g_source_destroy(p->media_timer);
        g_source_unref(p->media_timer);
        p->media_timer = NULL;
    }
}

/* --- RTCP ------------------------------------------------------------------ */

/* One track's SR and SDES CNAME, in one compound packet, with a DLRR
 * when an XR RRTR is waiting for its answer. */
static void send_sender_report(struct mr_test_peer *p, struct mr_tp_track *t, int64_t now_us,
                               uint64_t ntp)
{
    /* RFC 3550 §6.4.1: the RTP time of the same instant as the NTP time. */
    int64_t elapsed = now_us - p->media_start_us;
    struct mr_rtcp_sr sr = {
        .ssrc = t->st.ssrc,
        .ntp = ntp,
        .rtp_ts = t->ts_base + (uint32_t)((uint64_t)elapsed * t->clock_rate / 1000000),
        .packet_count = (uint32_t)t->st.sent_packets,
        .octet_count = (uint32_t)t->st.sent_bytes,
    };
    uint8_t buf[RTCP_MAX + SEND_ROOM];
    int n = mr_rtcp_write_sr(buf, RTCP_MAX, &sr);
    int m =
        n < 0 ? n : mr_rtcp_write_sdes_cname(buf + n, RTCP_MAX - (size_t)n, t->st.ssrc, p->cname);
    int x = m < 0
                ? m
                : mr_tp_write_dlrr(p, t->st.ssrc, buf + n + m, RTCP_MAX - (size_t)(n + m), now_us);
    if (x >= 0 && mr_transport_send_rtcp(p->t, buf, (size_t)(n + m + x), sizeof(buf)) == 0)
        t->st.srs_sent++;
}

void mr_tp_send_sender_reports(struct mr_test_peer *p, int64_t now_us)
{
    uint64_t ntp = mr_clock_ntp_from_unix_us(mr_clock_wall_us());
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (sends(t) && t->st.sent_packets > 0)
            send_sender_report(p, t, now_us, ntp);
    }
}

/* libwebrtc's interval between a track's reports: video 360 kbit over the
 * bitrate (1 s at most), audio 5 s; each drawn x 0.5-1.5. */
static int64_t sr_interval_us(const struct mr_test_peer *p, struct mr_tp_track *t)
{
    int64_t us = 5000000;
    if (t->st.kind == MR_MEDIA_VIDEO) {
        us = 360000000 / (int64_t)track_kbps(p, t);
        us = us < 1000000 ? us : 1000000;
    }
    return (int64_t)((double)us * (0.5 + mr_tp_uniform(&t->rng)));
}

void mr_tp_send_due_sender_reports(struct mr_test_peer *p, int64_t now_us)
{
    uint64_t ntp = 0;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (!sends(t) || t->st.sent_packets == 0)
            continue;
        if (!t->next_sr_us)
            t->next_sr_us = now_us + sr_interval_us(p, t) / 2;
        if (now_us < t->next_sr_us)
            continue;
        if (!ntp)
            ntp = mr_clock_ntp_from_unix_us(mr_clock_wall_us());
        send_sender_report(p, t, now_us, ntp);
        t->next_sr_us = now_us + sr_interval_us(p, t);
    }
}

struct mr_tp_track *mr_tp_video_track(struct mr_test_peer *p, uint32_t ssrc)
{
    for (unsigned i = 0; i < p->n_tracks; i++)
        if (p->tracks[i].st.kind == MR_MEDIA_VIDEO && p->tracks[i].st.ssrc == ssrc)
            return &p->tracks[i];
    return NULL;
}

static void request_keyframe(struct mr_tp_track *t)
{
    if (!t)
        return;
    t->keyframe_pending = true;
    t->keyframe_requested = true;
}

int mr_test_peer_set_layer_active(struct mr_test_peer *p, const char *rid, bool active)
{
    if (p->cfg.role != MR_TEST_PUBLISHER)
        return MR_ESTATE;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (!t->st.rid[0] || strcmp(t->st.rid, rid) != 0)
            continue;
        if (t->st.paused && active)
            t->keyframe_pending = true; /* an encoder restarts with one */
        t->st.paused = !active;
        return 0;
    }
    return MR_ENOENT;
}

int mr_test_peer_send_keyframe(struct mr_test_peer *p, size_t bytes)
{
    if (p->cfg.role != MR_TEST_PUBLISHER)
        return MR_ESTATE;
    int n = 0;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (t->st.kind != MR_MEDIA_VIDEO || !sends(t))
            continue;
        t->keyframe_pending = true;
        t->next_key_bytes = bytes;
        n++;
    }
    return n ? 0 : MR_ESTATE;
}

/* RFC 4585 §6.3.1 PLI and RFC 5104 §4.3.1 FIR: the next frame is a key frame. */
static void on_feedback(struct mr_test_peer *p, const struct mr_rtcp_pkt *pkt)
{
    struct mr_rtcp_fb fb;
    if (mr_rtcp_parse_fb(pkt, &fb) < 0)
        return;
    if (fb.fmt == MR_RTCP_PSFB_PLI) {
        p->plis_received++;
        request_keyframe(mr_tp_video_track(p, fb.media_ssrc));
    } else if (fb.fmt == MR_RTCP_PSFB_FIR) {
        p->firs_received++;
        int n = mr_rtcp_fir_count(&fb);
        for (int i = 0; i < n; i++) {
            uint32_t ssrc;
            uint8_t seq;
            if (mr_rtcp_fir_entry(&fb, (unsigned)i, &ssrc, &seq) == 0)
                request_keyframe(mr_tp_video_track(p, ssrc));
        }
    }
}

/* A report block names our SSRC: the remote side knows the stream (a
 * relay learned a layer's SSRC), and libwebrtc stops sending the mid. */
static void ack_ssrcs(struct mr_test_peer *p, const struct mr_rtcp_report_block *b, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        for (unsigned i = 0; i < p->n_tracks; i++)
            if (p->tracks[i].st.ssrc == b[k].ssrc)
                p->tracks[i].ssrc_acked = p->tracks[i].st.ssrc_reported = true;
}

void mr_tp_sender_rtcp(struct mr_test_peer *p, const uint8_t *buf, size_t len)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    struct mr_rtcp_rr rr;
    struct mr_rtcp_sr sr;
    mr_rtcp_iter_init(&it, buf, len);
    while (mr_rtcp_next(&it, &pkt) == 1) {
        if (pkt.type == MR_RTCP_RR) {
            p->rrs_received++;
            if (mr_rtcp_parse_rr(&pkt, &rr) == 0)
                ack_ssrcs(p, rr.reports, rr.n_reports);
        } else if (pkt.type == MR_RTCP_SR) {
            p->srs_received++;
            if (mr_rtcp_parse_sr(&pkt, &sr) == 0)
                ack_ssrcs(p, sr.reports, sr.n_reports);
        } else if (pkt.type == MR_RTCP_PSFB) {
            on_feedback(p, &pkt);
        } else if (pkt.type == MR_RTCP_XR) {
            mr_tp_on_xr(p, &pkt, mr_clock_mono_us());
        } else if (pkt.type == MR_RTCP_RTPFB) {
            struct mr_rtcp_fb fb;
            if (mr_rtcp_parse_fb(&pkt, &fb) == 0 && fb.fmt == MR_RTCP_RTPFB_NACK)
                mr_tp_on_nack(p, &fb);
        }
    }
}
