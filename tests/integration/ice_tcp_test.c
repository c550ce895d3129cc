/*
 * ICE-TCP (RFC 6544) to a viewer, through the real server on loopback: a
 * C-peer publisher over UDP and three C-peer viewers, two over UDP and one
 * that may use TCP only (cfg.ice_tcp_only: no UDP candidate, its tcptype
 * active candidate offered, as Chromium does where UDP is blocked; the
 * relay's passive candidate accepts it).
 *
 * - Steady state, 1 Mbit/s VP8 + Opus: the TCP viewer's selected pair is
 *   TCP (tcp-active here), the UDP viewers' UDP, and every viewer receives
 *   every packet the publisher sent, in order, once
 *   (itest_check_delivery); the relay drops nothing as tcp_backlog
 *   (medrelay_packets_dropped_total{cause="tcp_backlog"}).
 * - A burst: the publisher sends one key frame of BURST_PACKETS packets at
 *   once. libnice's TCP send drops a datagram while earlier ones wait for
 *   the connection to drain (relay/ice/ice.h), so the relay may drop part
 *   of the burst to the TCP viewer. The test prints what happened: the
 *   relay's tcp_backlog drops, the viewer's NACKs (cfg.nack, as a
 *   browser's) and the relay's retransmissions, and whether a key frame
 *   had to be asked for; then it asserts the viewer recovers: a complete
 *   ("decodable") key frame from the burst's on, every packet of it from
 *   its first to its marker, repairs included, within RECOVER_MS, and
 *   media in order after it. Like a decoder, the test asks for a key frame
 *   (PLI) when none is complete PLI_AFTER_MS after the burst.
 * - The UDP viewers receive everything, burst included.
 *
 * On loopback the burst drops nothing (measured: 0 tcp_backlog, the key
 * frame whole 30-40 ms after it was sent, no NACK, no key-frame request):
 * the kernel's send buffer of the relay's TCP socket grows to megabytes
 * (tcp_wmem), and libnice only drops when it is full, so a drop takes a
 * viewer that has fallen seconds behind (tests/bench/README.md, "ICE-TCP
 * subscribers"). Should one happen, the repair path above is what the
 * checks then cover.
 */
#include <stdlib.h>
#include <string.h>

#include "itest.h"
#include "media.h"
#include "rtp/rtp.h"

#define ROOM          "icetcp"
#define STREAM        "cam"
#define N_SUBS        3
#define TCP_SUB       2 /* the index of the TCP-only viewer */
#define VIDEO_KBPS    1000
#define STEADY_MS     6000
#define BURST_PACKETS 100
#define BURST_BYTES   (BURST_PACKETS * 1170) /* VP8 carries 1175 bytes of frame a packet */
#define RECOVER_MS    5000
#define PLI_AFTER_MS  1000
#define AFTER_MS      2000 /* media after the recovery, checked in order */
#define TCP_BACKLOG   "medrelay_packets_dropped_total{cause=\"tcp_backlog\"}"

/* What the TCP viewer's decoder would see of key frames (its rtp_tap):
 * from `armed` on, the key frames received and the first complete one. */
struct kf_watch {
    bool armed;
    uint8_t pt, rtx_pt; /* the video track's, from the answer */
    /* The key frame being assembled: its timestamp, first and last (the
     * marker's) sequence numbers, and which packets arrived. */
    bool open;
    uint32_t ts;
    uint16_t first;
    int last; /* -1: its marker packet has not arrived */
    uint64_t got[(BURST_PACKETS + 63) / 64 + 4];
    unsigned keyframes;     /* key frames begun (first packets seen) */
    uint32_t burst_ts;      /* the first one's timestamp: the burst's */
    unsigned repairs;       /* RTX packets for the watched frame */
    int64_t complete_us;    /* when the first complete one was whole, 0: none */
    unsigned complete_size; /* its packets */
    uint32_t complete_ts;
};

static bool seq_bit(struct kf_watch *w, uint16_t seq)
{
    unsigned off = (uint16_t)(seq - w->first);
    if (off >= sizeof(w->got) * 8)
        return false;
    w->got[off / 64] |= 1ull << (off % 64);
    return true;
}

static bool frame_whole(const struct kf_watch *w)
{
    if (!w->open || w->last < 0)
        return false;
    unsigned n = (uint16_t)((uint16_t)w->last - w->first) + 1u;
    for (unsigned off = 0; off < n; off++)
        if (off >= sizeof(w->got) * 8 || !(w->got[off / 64] & (1ull << (off % 64))))
            return false;
    return true;
}

/* A video packet (unwrapped when it came as RTX) of the watched viewer. */
static void watch_packet(struct kf_watch *w, const struct mr_rtp_header *h, const uint8_t *payload,
                         bool rtx)
{
    if (mr_rtp_vp8_is_keyframe(payload, h->payload_len) && !(w->open && w->ts == h->timestamp)) {
        memset(w->got, 0, sizeof(w->got));
        w->open = true;
        w->ts = h->timestamp;
        w->first = h->seq;
        w->last = -1;
        if (w->keyframes++ == 0)
            w->burst_ts = h->timestamp;
    }
    if (!w->open || h->timestamp != w->ts || !seq_bit(w, h->seq))
        return;
    w->repairs += rtx;
    if (h->marker)
        w->last = h->seq;
    if (!w->complete_us && frame_whole(w)) {
        w->complete_us = mr_clock_mono_us();
        w->complete_ts = w->ts;
        w->complete_size = (uint16_t)((uint16_t)w->last - w->first) + 1u;
    }
}

static void tap(void *arg, const uint8_t *pkt, size_t len)
{
    struct kf_watch *w = arg;
    uint8_t buf[MR_TRANSPORT_BUF];
    struct mr_rtp_header h;
    if (!w->armed || !w->pt || len > sizeof(buf) || mr_rtp_parse(pkt, len, &h) < 0)
        return;
    memcpy(buf, pkt, len);
    uint8_t *p = buf;
    bool rtx = w->rtx_pt && h.payload_type == w->rtx_pt;
    if (rtx) {
        int n = mr_rtp_rtx_unwrap(buf, len, &h, w->pt, 0, &p);
        if (n < 0 || mr_rtp_parse(p, (size_t)n, &h) < 0)
            return;
    }
    if (h.payload_type == w->pt)
        watch_packet(w, &h, p + h.header_len, rtx);
}

/* --- Set-up ---------------------------------------------------------------- */

static const char *const sub_names[N_SUBS] = {"udp-1", "udp-2", "tcp"};

static bool open_peers(GMainContext *ctx, struct mr_test_server *srv, struct mr_test_client *pub,
                       struct mr_test_client *subs, struct kf_watch *w)
{
    struct mr_test_peer_config pc = {.ctx = ctx,
                                     .role = MR_TEST_PUBLISHER,
                                     .name = "pub",
                                     .video_kbps = VIDEO_KBPS,
                                     .keyframe_interval_ms = 600000};
    int rc = mr_test_client_open(pub, srv, &pc, ROOM, STREAM, "clinic", "clinic-1");
    EXPECT(rc == 0, "publisher: %s (HTTP %d %s) %s", mr_strerror(rc), pub->whip.status,
           pub->whip.error, pub->whip.detail);
    if (rc < 0 || !mr_test_clients_secure(ctx, pub, 1, 10000))
        return false;
    for (unsigned i = 0; i < N_SUBS; i++) {
        bool tcp = i == TCP_SUB;
        struct mr_test_peer_config sc = {.ctx = ctx,
                                         .role = MR_TEST_SUBSCRIBER,
                                         .name = sub_names[i],
                                         .ice_tcp_only = tcp,
                                         .nack = tcp,
                                         .rtp_tap = tcp ? tap : NULL,
                                         .rtp_tap_arg = w};
        char sub[32];
        snprintf(sub, sizeof(sub), "expert-%s", sub_names[i]);
        rc = mr_test_client_open(&subs[i], srv, &sc, ROOM, STREAM, "expert", sub);
        EXPECT(rc == 0, "%s: %s (HTTP %d %s) %s", sub_names[i], mr_strerror(rc),
               subs[i].whip.status, subs[i].whip.error, subs[i].whip.detail);
        if (rc < 0)
            return false;
    }
    return mr_test_clients_secure(ctx, subs, N_SUBS, 15000);
}

/* Each viewer's pair: TCP for the TCP-only one, UDP for the others. */
static void check_pairs(struct mr_test_client *subs)
{
    for (unsigned i = 0; i < N_SUBS; i++) {
        struct mr_test_peer_stats st;
        mr_test_peer_stats(subs[i].peer, &st);
        printf("# %s: pair %s, SRTP %s\n", sub_names[i], st.pair, st.srtp_profile);
        if (i == TCP_SUB)
            EXPECT(strncmp(st.pair, "tcp-active ", 11) == 0, "tcp viewer: pair '%s'", st.pair);
        else
            EXPECT(strncmp(st.pair, "udp ", 4) == 0, "%s: pair '%s'", sub_names[i], st.pair);
    }
}

static double metric(struct mr_test_server *srv, const char *name)
{
    double v = -1;
    int rc = mr_test_server_metric(srv, name, &v);
    EXPECT(rc == 0, "GET /metrics: %s: %s", name, mr_strerror(rc));
    return v;
}

/* Stops the publisher, lets the last packets arrive, and checks viewers
 * 0..n-1 received everything it sent so far. */
static void check_delivered(GMainContext *ctx, struct mr_test_client *pub,
                            struct mr_test_client *subs, unsigned n, const char *when)
{
    mr_test_peer_stop_media(pub->peer);
    itest_run(ctx, 500);
    struct mr_test_peer_stats ps;
    mr_test_peer_stats(pub->peer, &ps);
    for (unsigned i = 0; i < n; i++) {
        struct mr_test_peer_stats ss;
        char who[48];
        snprintf(who, sizeof(who), "%s (%s)", sub_names[i], when);
        mr_test_peer_stats(subs[i].peer, &ss);
        EXPECT(ss.state == MR_TRANSPORT_SECURE, "%s: state %d", who, ss.state);
        EXPECT(ss.transport.srtp_errors == 0 && ss.rtp_unmatched == 0,
               "%s: %llu SRTP errors, %llu unmatched", who,
               (unsigned long long)ss.transport.srtp_errors, (unsigned long long)ss.rtp_unmatched);
        for (unsigned k = 0; k < ss.n_tracks; k++) {
            const struct mr_test_track_stats *sent = itest_sent_track(&ps, ss.tracks[k].kind);
            if (sent)
                itest_check_delivery(who, &ss.tracks[k], sent);
        }
    }
}

/* --- The burst ---------------------------------------------------------------- */

/* The relay's counters around the burst. */
struct relay_counts {
    double tcp_backlog, nack_in, rtx_out, rtx_missed, rtx_limited;
    double keyframe_requests; /* sent to publishers */
};

static void read_relay(struct mr_test_server *srv, struct relay_counts *c)
{
    c->tcp_backlog = metric(srv, TCP_BACKLOG);
    c->nack_in = metric(srv, "medrelay_nack_packets_received_total");
    c->rtx_out = metric(srv, "medrelay_retransmitted_packets_total");
    c->rtx_missed = metric(srv, "medrelay_retransmissions_missed_total");
    c->rtx_limited = metric(srv, "medrelay_retransmissions_limited_total");
    c->keyframe_requests = metric(srv, "medrelay_keyframe_requests_sent_total");
}

static bool keyframe_complete(void *arg)
{
    return ((struct kf_watch *)arg)->complete_us != 0;
}

static const struct mr_test_track_stats *video_of(const struct mr_test_peer_stats *st)
{
    for (unsigned k = 0; k < st->n_tracks; k++)
        if (st->tracks[k].kind == MR_MEDIA_VIDEO)
            return &st->tracks[k];
    return NULL;
}

/* What the burst did to the TCP viewer, from snapshots before (a) and
 * after (b) it, and the relay's counters (ra, rb). */
static void report_burst(const struct mr_test_peer_stats *a, const struct mr_test_peer_stats *b,
                         const struct mr_test_peer_stats *pa, const struct mr_test_peer_stats *pb,
                         const struct relay_counts *ra, const struct relay_counts *rb,
                         const struct kf_watch *w, int64_t t0, bool asked)
{
    const struct mr_test_track_stats *va = video_of(a), *vb = video_of(b);
    if (!va || !vb)
        return;
    printf("# burst: a key frame of %d packets at once; to the TCP viewer:\n", BURST_PACKETS);
    printf("#   relay: %.0f datagrams dropped as tcp_backlog; viewers' NACKs named %.0f "
           "packets, %.0f resent, %.0f no longer kept, %.0f refused; %.0f key-frame requests\n",
           rb->tcp_backlog - ra->tcp_backlog, rb->nack_in - ra->nack_in, rb->rtx_out - ra->rtx_out,
           rb->rtx_missed - ra->rtx_missed, rb->rtx_limited - ra->rtx_limited,
           rb->keyframe_requests - ra->keyframe_requests);
    printf("#   viewer: %llu video packets, %llu still missing, %llu arrived late (repairs), "
           "%llu sequence jumps; %llu NACKs naming %llu packets; %llu RTX received; %s\n",
           (unsigned long long)(vb->packets - va->packets),
           (unsigned long long)(vb->lost - va->lost),
           (unsigned long long)(vb->reordered - va->reordered),
           (unsigned long long)(vb->seq_jumps - va->seq_jumps),
           (unsigned long long)(b->nacks_sent - a->nacks_sent),
           (unsigned long long)(b->nack_packets_sent - a->nack_packets_sent),
           (unsigned long long)(vb->rtx_packets - va->rtx_packets),
           asked ? "it asked for a key frame (PLI)" : "it asked for no key frame");
    printf("#   publisher: %llu PLIs, %llu key frames on request\n",
           (unsigned long long)(pb->plis_received - pa->plis_received),
           (unsigned long long)(pb->keyframes_on_request - pa->keyframes_on_request));
    if (w->complete_us)
        printf("#   first complete key frame %lld ms after the burst: %s, %u packets, %u of them "
               "repaired\n",
               (long long)((w->complete_us - t0) / 1000),
               w->complete_ts == w->burst_ts ? "the burst's own" : "a later one", w->complete_size,
               w->repairs);
}

/* The TCP viewer's media after its recovery: in order, nothing missing. */
static void check_after(GMainContext *ctx, struct mr_test_client *pub, struct mr_test_client *tcp)
{
    struct mr_test_peer_stats a, b, ps;
    itest_run(ctx, 300); /* late repairs of the burst settle */
    mr_test_peer_stats(tcp->peer, &a);
    itest_run(ctx, AFTER_MS);
    mr_test_peer_stop_media(pub->peer);
    itest_run(ctx, 500);
    mr_test_peer_stats(tcp->peer, &b);
    mr_test_peer_stats(pub->peer, &ps);
    for (unsigned k = 0; k < b.n_tracks; k++) {
        const struct mr_test_track_stats *x = &a.tracks[k], *y = &b.tracks[k];
        const struct mr_test_track_stats *sent = itest_sent_track(&ps, y->kind);
        const char *kind = itest_kind(y->kind);
        EXPECT(y->packets > x->packets, "tcp %s: nothing after the recovery", kind);
        EXPECT(y->lost == x->lost && y->reordered == x->reordered &&
                   y->duplicates == x->duplicates && y->seq_jumps == x->seq_jumps,
               "tcp %s after the recovery: lost %+lld, late %llu, duplicates %llu, "
               "sequence jumps %llu",
               kind, (long long)(y->lost - x->lost),
               (unsigned long long)(y->reordered - x->reordered),
               (unsigned long long)(y->duplicates - x->duplicates),
               (unsigned long long)(y->seq_jumps - x->seq_jumps));
        EXPECT(sent && y->last_counter + 1 == sent->sent_packets,
               "tcp %s: last packet #%u, the publisher sent %llu", kind, y->last_counter,
               sent ? (unsigned long long)sent->sent_packets : 0ull);
    }
}

/* Sends the burst, waits for a complete key frame at the TCP viewer (asking
 * for one after PLI_AFTER_MS), and reports. */
static void burst(GMainContext *ctx, struct mr_test_server *srv, struct mr_test_client *pub,
                  struct mr_test_client *tcp, struct kf_watch *w)
{
    struct mr_test_peer_stats a, b, pa, pb;
    struct relay_counts ra, rb;
    mr_test_peer_stats(tcp->peer, &a);
    const struct mr_test_track_stats *v = video_of(&a);
    w->pt = v ? v->pt : 0;
    w->rtx_pt = v ? v->rtx_pt : 0;
    EXPECT(w->rtx_pt != 0, "tcp viewer: the answer kept no RTX format");
    struct mr_test_frame f = {.codec = MR_CODEC_VP8, .keyframe = true, .size = BURST_BYTES};
    EXPECT(mr_test_frame_packets(&f) == BURST_PACKETS, "the burst takes %u packets, not %d",
           mr_test_frame_packets(&f), BURST_PACKETS);
    mr_test_peer_stats(pub->peer, &pa);
    read_relay(srv, &ra);
    w->armed = true;
    int64_t t0 = mr_clock_mono_us();
    EXPECT(mr_test_peer_send_keyframe(pub->peer, BURST_BYTES) == 0, "no burst sent");
    bool asked = false;
    if (!mr_test_loop_until(ctx, keyframe_complete, w, PLI_AFTER_MS)) {
        asked = mr_test_peer_request_keyframe(tcp->peer) == 0;
        mr_test_loop_until(ctx, keyframe_complete, w, RECOVER_MS - PLI_AFTER_MS);
    }
    itest_run(ctx, 200);
    mr_test_peer_stats(tcp->peer, &b);
    mr_test_peer_stats(pub->peer, &pb);
    read_relay(srv, &rb);
    report_burst(&a, &b, &pa, &pb, &ra, &rb, w, t0, asked);
    EXPECT(w->keyframes >= 1, "tcp viewer: not even the burst's first packet arrived");
    EXPECT(w->complete_us != 0, "tcp viewer: no complete key frame within %d ms of the burst",
           RECOVER_MS);
}

static void test_ice_tcp_viewer(void)
{
    struct mr_test_server srv;
    struct mr_test_server_opts opts = {.name = "ice_tcp"};
    char err[512];
    if (mr_test_server_start(&srv, &opts, err, sizeof(err)) < 0) {
        EXPECT(false, "server start: %s", err);
        return;
    }
    GMainContext *ctx = g_main_context_new();
    struct mr_test_client pub = {0}, subs[N_SUBS];
    struct kf_watch w = {0};
    memset(subs, 0, sizeof(subs));
    bool ok = open_peers(ctx, &srv, &pub, subs, &w);
    EXPECT(ok, "the publisher and the viewers did not all connect");
    if (ok) {
        check_pairs(subs);
        itest_run(ctx, STEADY_MS);
        check_delivered(ctx, &pub, subs, N_SUBS, "steady");
        double drops = metric(&srv, TCP_BACKLOG);
        printf("# steady %d kbit/s for %d ms: %.0f tcp_backlog drops\n", VIDEO_KBPS, STEADY_MS,
               drops);
        EXPECT(drops == 0, "%.0f tcp_backlog drops at %d kbit/s", drops, VIDEO_KBPS);
        mr_test_peer_start_media(pub.peer); /* resumes with a key frame */
        itest_run(ctx, 1000);
        burst(ctx, &srv, &pub, &subs[TCP_SUB], &w);
        check_after(ctx, &pub, &subs[TCP_SUB]);
        check_delivered(ctx, &pub, subs, TCP_SUB, "after the burst");
    }
    for (unsigned i = 0; i < N_SUBS; i++) {
        if (subs[i].whip.location[0])
            mr_test_client_delete(&subs[i]);
        mr_test_client_free(&subs[i]);
    }
    if (pub.whip.location[0])
        mr_test_client_delete(&pub);
    mr_test_client_free(&pub);
    itest_stop_server(&srv);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_ice_tcp_viewer))
