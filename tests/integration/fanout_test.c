/*
 * Fan-out: one C-peer publisher (WHIP) and 20 C-peer subscribers (WHEP) on
 * loopback through the real server. From its first packet on (video: from
 * its first key frame), every subscriber must receive every packet the
 * publisher sent, in order, once, with contiguous sequence numbers and one
 * SSRC per track, its own SSRCs (different from everyone else's), the
 * payload types and mid it offered, and no SRTP failures. Half the
 * subscribers offer only AES_CM_128_HMAC_SHA1_80 (what browsers negotiate),
 * the others AEAD_AES_128_GCM first, so both SRTP paths carry the fan-out. Prints transit
 * latency (publisher send to subscriber receive, through the relay) and the
 * kernel's UDP buffer counters, so that any loss can be told apart: relay or
 * socket buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define N_SUBS     20
#define ROOM       "fanout"
#define STREAM     "cam"
#define MEDIA_MS   8000
#define VIDEO_KBPS 500
#define AES_CM     "SRTP_AES128_CM_SHA1_80"

static void check_negotiation(const char *who, const struct mr_test_track_stats *t)
{
    bool audio = t->kind == MR_MEDIA_AUDIO;
    EXPECT(t->accepted, "%s %s: section not accepted", who, itest_kind(t->kind));
    EXPECT(t->pt == (audio ? 111 : 96), "%s %s: answered pt %u", who, itest_kind(t->kind), t->pt);
    EXPECT(t->codec == (audio ? MR_CODEC_OPUS : MR_CODEC_VP8), "%s: codec %s", who,
           mr_codec_name(t->codec));
    EXPECT(t->mid_ext_id == 4, "%s %s: mid extension id %u", who, itest_kind(t->kind),
           t->mid_ext_id);
    /* We offered transport-cc (extension and feedback), nack and goog-remb:
     * a viewer's NACKs are answered by the relay (video), its congestion
     * feedback is read (its downlink's estimate); REMB is not, so it must
     * be left out. */
    EXPECT((t->answer_fb & (MR_FB_TWCC | MR_FB_GOOG_REMB)) == MR_FB_TWCC,
           "%s %s: answer keeps feedback 0x%x", who, itest_kind(t->kind), t->answer_fb);
    EXPECT(!(t->answer_fb & MR_FB_NACK) == audio, "%s %s: nack in the answer: 0x%x", who,
           itest_kind(t->kind), t->answer_fb);
    EXPECT(t->answer_extmaps == 2, "%s %s: answer keeps %u extensions (mid, transport-cc)", who,
           itest_kind(t->kind), t->answer_extmaps);
    if (!audio)
        EXPECT(t->answer_fb & MR_FB_NACK_PLI, "%s video: no nack pli in the answer", who);
}

static bool ssrc_seen(const uint32_t *all, unsigned n, uint32_t v)
{
    for (unsigned i = 0; i < n; i++)
        if (all[i] == v)
            return true;
    return false;
}

static void check_subscribers(struct mr_test_client *subs, const struct mr_test_peer_stats *ps)
{
    uint32_t ssrcs[2 * N_SUBS + 2];
    unsigned n_ssrcs = 0;
    for (unsigned i = 0; i < ps->n_tracks; i++)
        ssrcs[n_ssrcs++] = ps->tracks[i].ssrc;
    for (unsigned i = 0; i < N_SUBS; i++) {
        struct mr_test_peer_stats ss;
        mr_test_peer_stats(subs[i].peer, &ss);
        const char *who = mr_test_peer_name(subs[i].peer);
        EXPECT(ss.state == MR_TRANSPORT_SECURE, "%s: state %d", who, ss.state);
        const char *want = i % 2 ? AES_CM : "SRTP_AEAD_AES_128_GCM";
        EXPECT(strcmp(ss.srtp_profile, want) == 0, "%s: SRTP profile %s, expected %s", who,
               ss.srtp_profile, want);
        EXPECT(ss.transport.srtp_errors == 0 && ss.rtp_unmatched == 0,
               "%s: %llu SRTP errors, %llu unmatched", who,
               (unsigned long long)ss.transport.srtp_errors, (unsigned long long)ss.rtp_unmatched);
        EXPECT(ss.n_tracks == 2, "%s: %u tracks", who, ss.n_tracks);
        for (unsigned k = 0; k < ss.n_tracks; k++) {
            const struct mr_test_track_stats *r = &ss.tracks[k];
            const struct mr_test_track_stats *sent = itest_sent_track(ps, r->kind);
            check_negotiation(who, r);
            if (sent)
                itest_check_delivery(who, r, sent);
            EXPECT(r->srs_received >= MEDIA_MS / 2000 && r->sr_max_skew_us < 200000,
                   "%s %s: %llu SRs, worst RTP/NTP skew %lld us", who, itest_kind(r->kind),
                   (unsigned long long)r->srs_received, (long long)r->sr_max_skew_us);
            EXPECT(!ssrc_seen(ssrcs, n_ssrcs, r->rx_ssrc), "%s %s: SSRC %u is not its own", who,
                   itest_kind(r->kind), r->rx_ssrc);
            ssrcs[n_ssrcs++] = r->rx_ssrc;
        }
    }
}

static void print_summary(struct mr_test_client *subs, const struct mr_test_peer_stats *ps)
{
    struct mr_test_peer *peers[N_SUBS];
    uint64_t got[2] = {0, 0};
    for (unsigned i = 0; i < N_SUBS; i++) {
        peers[i] = subs[i].peer;
        struct mr_test_peer_stats ss;
        mr_test_peer_stats(peers[i], &ss);
        for (unsigned k = 0; k < ss.n_tracks; k++)
            got[ss.tracks[k].kind == MR_MEDIA_VIDEO] += ss.tracks[k].packets;
    }
    for (unsigned kind = MR_MEDIA_AUDIO; kind <= MR_MEDIA_VIDEO; kind++) {
        struct mr_test_latency l;
        const struct mr_test_track_stats *sent = itest_sent_track(ps, kind);
        mr_test_peers_latency(peers, N_SUBS, kind, &l);
        printf(
            "# %s: publisher sent %llu packets (%llu frames, %llu key); subscribers received "
            "%llu; transit p50 %lld us, p99 %lld us, max %lld us over %llu samples after set-up\n",
            itest_kind(kind), sent ? (unsigned long long)sent->sent_packets : 0ull,
            sent ? (unsigned long long)sent->sent_frames : 0ull,
            sent ? (unsigned long long)sent->sent_keyframes : 0ull,
            (unsigned long long)got[kind == MR_MEDIA_VIDEO], (long long)l.p50_us,
            (long long)l.p99_us, (long long)l.max_us, (unsigned long long)l.n);
    }
    printf("# publisher RTCP in: %llu RR, %llu PLI, %llu FIR; key frames on request %llu\n",
           (unsigned long long)ps->rrs_received, (unsigned long long)ps->plis_received,
           (unsigned long long)ps->firs_received, (unsigned long long)ps->keyframes_on_request);
}

static void test_fanout(void)
{
    struct mr_test_server srv;
    struct mr_test_server_opts opts = {.name = "fanout"};
    struct mr_test_udp_counters udp0, udp1;
    char err[512];
    mr_test_udp_counters(&udp0);
    if (mr_test_server_start(&srv, &opts, err, sizeof(err)) < 0) {
        EXPECT(false, "server start: %s", err);
        return;
    }
    GMainContext *ctx = g_main_context_new();
    struct mr_test_client pub = {0};
    struct mr_test_client *subs = calloc(N_SUBS, sizeof(*subs));
    struct mr_test_peer_config pc = {
        .ctx = ctx, .role = MR_TEST_PUBLISHER, .name = "pub", .video_kbps = VIDEO_KBPS};
    int rc = mr_test_client_open(&pub, &srv, &pc, ROOM, STREAM, "clinic", "clinic-1");
    EXPECT(rc == 0, "publisher: %s (HTTP %d %s) %s", mr_strerror(rc), pub.whip.status,
           pub.whip.error, pub.whip.detail);
    bool ok = rc == 0 && mr_test_clients_secure(ctx, &pub, 1, 10000);
    EXPECT(ok, "publisher not secure");
    for (unsigned i = 0; ok && i < N_SUBS; i++) {
        char name[16], sub[32];
        snprintf(name, sizeof(name), "sub-%02u", i);
        snprintf(sub, sizeof(sub), "viewer-%u", i);
        struct mr_test_peer_config sc = {.ctx = ctx,
                                         .role = MR_TEST_SUBSCRIBER,
                                         .name = name,
                                         .srtp_profiles = i % 2 ? AES_CM : NULL};
        rc = mr_test_client_open(&subs[i], &srv, &sc, ROOM, STREAM, "viewer", sub);
        EXPECT(rc == 0, "%s: %s (HTTP %d %s) %s", name, mr_strerror(rc), subs[i].whip.status,
               subs[i].whip.error, subs[i].whip.detail);
        ok = rc == 0;
    }
    ok = ok && mr_test_clients_secure(ctx, subs, N_SUBS, 20000);
    EXPECT(ok, "not every subscriber became secure");
    struct mr_test_health h = {0};
    EXPECT(mr_test_server_health(&srv, &h, 5000) == 0 && h.publishers == 1 &&
               h.subscribers == N_SUBS && h.streams == 1,
           "healthz: %d publishers, %d subscribers, %d streams", h.publishers, h.subscribers,
           h.streams);
    if (ok) {
        /* Transit times while the loop was blocked in later POSTs measure
         * the test, not the relay: count from here on. */
        itest_run(ctx, 500);
        for (unsigned i = 0; i < N_SUBS; i++)
            mr_test_peer_reset_latency(subs[i].peer);
        itest_run(ctx, MEDIA_MS);
        mr_test_peer_stop_media(pub.peer);
        itest_run(ctx, 1000); /* let the last packets and reports arrive */
        struct mr_test_peer_stats ps;
        mr_test_peer_stats(pub.peer, &ps);
        mr_test_udp_counters(&udp1);
        print_summary(subs, &ps);
        itest_print_udp("during the test", &udp0, &udp1);
        check_subscribers(subs, &ps);
        EXPECT(ps.rrs_received >= 1 && ps.keyframes_on_request >= 1,
               "publisher: %llu RRs, %llu key frames on request",
               (unsigned long long)ps.rrs_received, (unsigned long long)ps.keyframes_on_request);
        EXPECT(ps.transport.send_errors == 0, "publisher: %llu send errors",
               (unsigned long long)ps.transport.send_errors);
    }
    for (unsigned i = 0; i < N_SUBS; i++) {
        if (subs[i].whip.location[0])
            EXPECT(mr_test_client_delete(&subs[i]) / 100 == 2, "DELETE %s: %d",
                   mr_test_peer_name(subs[i].peer), subs[i].whip.status);
        mr_test_client_free(&subs[i]);
    }
    if (pub.whip.location[0])
        EXPECT(mr_test_client_delete(&pub) / 100 == 2, "DELETE publisher: %d", pub.whip.status);
    mr_test_client_free(&pub);
    EXPECT(mr_test_server_health(&srv, &h, 5000) == 0 && h.publishers == 0 && h.subscribers == 0 &&
               h.streams == 0,
           "healthz after DELETE: %d publishers, %d subscribers, %d streams", h.publishers,
           h.subscribers, h.streams);
    free(subs);
    itest_stop_server(&srv);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_fanout))
