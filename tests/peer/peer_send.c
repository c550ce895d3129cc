/*
 * Publishing: synthetic video frames and Opus packets on a media clock,
 * sender reports, and key frames on request.
 *
 * Unit u of a track (a frame, or a 20 ms audio packet) is due at
 * start + u * interval and carries RTP timestamp base + u * ticks, so RTP
 * time and the monotonic clock advance together and sender reports can map
 * one onto the other exactly. A frame's packets leave in one burst, as an
 * encoder hands them over, or with cfg.pacing_pct spread out as a sender's
 * pacer does (paced_frame_*). A pacer source with a microsecond ready time
 * wakes the peer for the next due unit or paced packet.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "media.h"
#include "peer_priv.h"

#define SEND_ROOM      64 /* past the packet, for the SRTP tag */
#define KEYFRAME_SCALE 4  /* key frames are this many times larger */
#define RTCP_MAX       256

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

static bool sends(const struct mr_tp_track *t)
{
    return t->st.accepted && (t->st.kind == MR_MEDIA_AUDIO || t->st.codec == MR_CODEC_VP8 ||
                              t->st.codec == MR_CODEC_H264);
}

/* Writes the RTP header (with the mid extension when negotiated) into buf
 * and returns its length. */
static int write_header(struct mr_tp_track *t, uint8_t *buf, size_t cap, bool marker, uint32_t ts)
{
    struct mr_rtp_out_header h = {
        .marker = marker,
        .payload_type = t->st.pt,
        .seq = t->seq++,
        .timestamp = ts,
        .ssrc = t->st.ssrc,
    };
    struct mr_rtp_ext_out mid = {
        .id = t->st.mid_ext_id,
        .len = (uint8_t)strlen(t->st.mid),
        .data = (const uint8_t *)t->st.mid,
    };
    return mr_rtp_write_header(buf, cap, &h, &mid, t->st.mid_ext_id ? 1 : 0);
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
 * the socket refused it (the transport counts send errors), so that a
 * receiver sees such a loss as loss. */
static void send_packet(struct mr_test_peer *p, struct mr_tp_track *t, uint8_t *buf, int hlen,
                        int plen)
{
    if (hlen < 0 || plen < 0)
        return;
    mr_transport_send_rtp(p->t, buf, (size_t)(hlen + plen), MR_TRANSPORT_BUF);
    t->st.sent_packets++;
    t->st.sent_bytes += (uint64_t)plen;
}

static bool keyframe_due(const struct mr_test_peer *p, const struct mr_tp_track *t, int64_t now)
{
    return t->keyframe_pending || t->st.sent_keyframes == 0 ||
           now - t->last_keyframe_us >= (int64_t)p->cfg.keyframe_interval_ms * 1000;
}

/* Sends packet i of n of frame f (RTP timestamp ts). */
static void send_frame_packet(struct mr_test_peer *p, struct mr_tp_track *t,
                              const struct mr_test_frame *f, unsigned i, unsigned n, uint32_t ts)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    int hlen = write_header(t, buf, sizeof(buf), i == n - 1, ts);
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
                  ((int64_t)p->cfg.video_kbps * p->cfg.pacing_pct);
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
    size_t avg = (size_t)p->cfg.video_kbps * 1000 / 8 / p->cfg.fps;
    struct mr_test_frame f = {
        .codec = t->st.codec,
        .keyframe = keyframe_due(p, t, now),
        .picture_id = (uint16_t)(t->picture_id++ & 0x7fff),
    };
    f.size = f.keyframe ? avg * KEYFRAME_SCALE : avg;
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
        for (unsigned i = 0; i < n; i++)
            send_frame_packet(p, t, &f, i, n, ts);
    t->st.sent_frames++;
}

static void send_audio(struct mr_test_peer *p, struct mr_tp_track *t, uint32_t ts)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    /* RFC 7587 §4.1: the marker starts a talkspurt; here, the stream. */
    int hlen = write_header(t, buf, sizeof(buf), t->st.sent_packets == 0, ts);
    struct mr_test_probe probe = next_probe(t);
    int plen = hlen < 0 ? hlen
                        : mr_test_opus_payload(p->cfg.audio_bytes, &probe, buf + hlen,
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

void mr_tp_send_sender_reports(struct mr_test_peer *p, int64_t now_us)
{
    uint64_t ntp = mr_clock_ntp_from_unix_us(mr_clock_wall_us());
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (!sends(t) || t->st.sent_packets == 0)
            continue;
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
        int m = n < 0
                    ? n
                    : mr_rtcp_write_sdes_cname(buf + n, RTCP_MAX - (size_t)n, t->st.ssrc, p->cname);
        if (m > 0 && mr_transport_send_rtcp(p->t, buf, (size_t)(n + m), sizeof(buf)) == 0)
            t->st.srs_sent++;
    }
}

static struct mr_tp_track *video_track_by_ssrc(struct mr_test_peer *p, uint32_t ssrc)
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

/* RFC 4585 §6.3.1 PLI and RFC 5104 §4.3.1 FIR: the next frame is a key frame. */
static void on_feedback(struct mr_test_peer *p, const struct mr_rtcp_pkt *pkt)
{
    struct mr_rtcp_fb fb;
    if (mr_rtcp_parse_fb(pkt, &fb) < 0)
        return;
    if (fb.fmt == MR_RTCP_PSFB_PLI) {
        p->plis_received++;
        request_keyframe(video_track_by_ssrc(p, fb.media_ssrc));
    } else if (fb.fmt == MR_RTCP_PSFB_FIR) {
        p->firs_received++;
        int n = mr_rtcp_fir_count(&fb);
        for (int i = 0; i < n; i++) {
            uint32_t ssrc;
            uint8_t seq;
            if (mr_rtcp_fir_entry(&fb, (unsigned)i, &ssrc, &seq) == 0)
                request_keyframe(video_track_by_ssrc(p, ssrc));
        }
    }
}

void mr_tp_sender_rtcp(struct mr_test_peer *p, const uint8_t *buf, size_t len)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    mr_rtcp_iter_init(&it, buf, len);
    while (mr_rtcp_next(&it, &pkt) == 1) {
        if (pkt.type == MR_RTCP_RR)
            p->rrs_received++;
        else if (pkt.type == MR_RTCP_SR)
            p->srs_received++;
        else if (pkt.type == MR_RTCP_PSFB)
            on_feedback(p, &pkt);
    }
}
