/*
 * Self-test of the C test peer, without the relay: the probe and the
 * packetizers against the relay's own key-frame detection, the offer against
 * the relay's SDP parser and negotiation, and a publisher (offerer) talking
 * straight to a subscriber (answerer) over loopback, where every check the
 * integration tests rely on must come out clean.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "media.h"
#include "mr_test.h"
#include "peer.h"
#include "rtp/rtp.h"

static void test_probe(void)
{
    uint8_t buf[40] = {0};
    struct mr_test_probe in = {.source = 0xdeadbeef,
                               .counter = 7,
                               .frame = 3,
                               .send_us = 0x0123456789abLL},
                         out;
    mr_test_probe_write(buf + 16, &in);
    CHECK_INT(mr_test_probe_read(buf, sizeof(buf), &out), 0);
    CHECK_INT(out.source, in.source);
    CHECK_INT(out.counter, 7);
    CHECK_INT(out.frame, 3);
    CHECK_INT(out.send_us, in.send_us);
    CHECK_INT(mr_test_probe_read(buf, 23, &out), MR_EPARSE);
    buf[16] ^= 1;
    CHECK_INT(mr_test_probe_read(buf, sizeof(buf), &out), MR_EPARSE);
}

/* Packetizes a frame and checks sizes, probes and key-frame marks. */
static void check_frame(enum mr_codec_id codec, bool key, size_t size, unsigned want_packets)
{
    struct mr_test_frame f = {.codec = codec, .keyframe = key, .size = size, .picture_id = 300};
    unsigned n = mr_test_frame_packets(&f);
    CHECK_INT(n, want_packets);
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t buf[2048];
        struct mr_test_probe probe = {.source = 1, .counter = i}, back;
        int len = mr_test_frame_payload(&f, i, &probe, buf, sizeof(buf));
        CHECK(len > MR_TEST_PROBE_LEN && len <= MR_TEST_MAX_PAYLOAD);
        if (len <= 0)
            return;
        total += (size_t)len;
        CHECK_INT(mr_test_probe_read(buf, (size_t)len, &back), 0);
        CHECK_INT(back.counter, i);
        bool k = codec == MR_CODEC_VP8 ? mr_rtp_vp8_is_keyframe(buf, (size_t)len)
                                       : mr_rtp_h264_is_keyframe(buf, (size_t)len);
        /* The first packet starts the key frame; for H.264 the first FU-A
         * of the IDR slice does too. */
        bool want = key && (i == 0 || (codec == MR_CODEC_H264 && i == 1));
        CHECK_INT(k, want);
    }
    CHECK(total >= size);
    uint8_t buf[2048];
    struct mr_test_probe probe = {0};
    CHECK_INT(mr_test_frame_payload(&f, n, &probe, buf, sizeof(buf)), MR_EINVAL);
    CHECK_INT(mr_test_frame_payload(&f, 0, &probe, buf, 40), MR_ENOSPC);
}

static void test_packetizers(void)
{
    check_frame(MR_CODEC_VP8, true, 16000, 14);
    check_frame(MR_CODEC_VP8, false, 4000, 4);
    check_frame(MR_CODEC_VP8, false, 100, 1);
    check_frame(MR_CODEC_VP8, true, 10, 1); /* grown to the minimum */
    check_frame(MR_CODEC_H264, true, 16000, 15);
    check_frame(MR_CODEC_H264, false, 4000, 4);
    check_frame(MR_CODEC_H264, false, 1000, 1);
    uint8_t buf[200];
    struct mr_test_probe probe = {.counter = 9}, back;
    CHECK_INT(mr_test_opus_payload(80, &probe, buf, sizeof(buf)), 80);
    CHECK_INT(buf[0], 0xf8);
    CHECK_INT(mr_test_probe_read(buf, 80, &back), 0);
    CHECK_INT(back.counter, 9);
    CHECK_INT(mr_test_opus_payload(10, &probe, buf, sizeof(buf)), MR_EINVAL);
}

static void test_offer(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p = NULL;
    struct mr_test_peer_config cfg = {.ctx = ctx, .role = MR_TEST_PUBLISHER, .offer_h264 = true};
    CHECK_INT(mr_test_peer_new(&cfg, &p), 0);
    char *offer = NULL;
    size_t len = 0;
    CHECK_INT(mr_test_peer_create_offer(p, &offer, &len), 0);
    CHECK_INT(mr_test_peer_create_offer(p, &offer, &len), MR_ESTATE);
    struct mr_sdp *sdp = malloc(sizeof(*sdp));
    char err[160] = "";
    CHECK_INT(mr_sdp_parse(offer, len, sdp, err, sizeof(err)), 0);
    if (err[0])
        fprintf(stderr, "%s\n%s", err, offer);
    CHECK_INT(sdp->n_bundle, 2);
    CHECK_INT(sdp->n_media, 2);
    for (unsigned i = 0; i < sdp->n_media && i < 2; i++) {
        const struct mr_sdp_media *m = &sdp->media[i];
        CHECK_INT(m->kind, i == 0 ? MR_MEDIA_AUDIO : MR_MEDIA_VIDEO);
        CHECK(m->rtcp_mux && m->rtcp_rsize && m->end_of_candidates);
        CHECK_INT(m->setup, MR_SETUP_ACTPASS);
        CHECK_INT(m->dir, MR_DIR_SENDONLY);
        CHECK_INT(m->fingerprint_len, 32);
        CHECK(m->n_candidates >= 1 && m->n_ssrcs == i + 1 && m->ice_ufrag[0]);
        struct mr_codec c;
        CHECK_INT(mr_negotiate_publish_codec(m, &c), 0);
        CHECK_INT(c.id, i == 0 ? MR_CODEC_OPUS : MR_CODEC_VP8);
        CHECK_INT(c.pt, i == 0 ? 111 : 96);
        struct mr_ext_ids ext;
        mr_negotiate_ext_ids(m, &ext);
        CHECK_INT(ext.id[MR_RTP_EXT_MID], 4);
    }
    /* VP8 and H.264, each with its RTX format and the RTX SSRC in an FID
     * group, which the relay's negotiation pairs. */
    CHECK_INT(sdp->media[1].n_codecs, 4);
    CHECK(sdp->media[1].codecs[0].fb & MR_FB_NACK_PLI);
    CHECK_INT(sdp->media[1].n_ssrcs, 2);
    CHECK_INT(sdp->media[1].n_fid, 1);
    struct mr_codec vc;
    CHECK_INT(mr_negotiate_publish_codec(&sdp->media[1], &vc), 0);
    CHECK_INT(vc.rtx_pt, 97);
    CHECK_INT(sdp->media[1].fid[0][0], sdp->media[1].ssrcs[0].ssrc);
    free(sdp);
    free(offer);
    mr_test_peer_free(p);
    g_main_context_unref(ctx);
}

/* ICE-TCP only (cfg.ice_tcp_only): every candidate of the offer and of the
 * trickle fragment is TCP with tcptype active, as Chromium's where UDP is
 * blocked, and the m= lines carry its port (9, the discard port RFC 6544
 * gives active candidates). A subscriber that NACKs (cfg.nack) offers RTX
 * beside each video codec. */
static void test_offer_tcp_only(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p = NULL;
    struct mr_test_peer_config cfg = {
        .ctx = ctx, .role = MR_TEST_SUBSCRIBER, .ice_tcp_only = true, .nack = true};
    CHECK_INT(mr_test_peer_new(&cfg, &p), 0);
    char *offer = NULL;
    size_t len = 0;
    CHECK_INT(mr_test_peer_create_offer(p, &offer, &len), 0);
    struct mr_sdp *sdp = malloc(sizeof(*sdp));
    char err[160] = "";
    CHECK_INT(offer ? mr_sdp_parse(offer, len, sdp, err, sizeof(err)) : MR_EINVAL, 0);
    for (unsigned i = 0; offer && i < sdp->n_media; i++) {
        const struct mr_sdp_media *m = &sdp->media[i];
        CHECK_INT(m->n_candidates, 1);
        CHECK_INT(m->port, 9);
        for (unsigned k = 0; k < m->n_candidates; k++) {
            CHECK_STR(m->candidates[k].transport, "tcp");
            CHECK_STR(m->candidates[k].tcptype, "active");
        }
    }
    CHECK_INT(sdp->media[1].n_codecs, 4); /* VP8, its RTX, H.264, its RTX */
    char frag[2048];
    CHECK(mr_test_peer_local_fragment(p, frag, sizeof(frag)) > 0);
    CHECK(strstr(frag, " tcptype active") && !strstr(frag, " UDP ") && !strstr(frag, "passive"));
    free(sdp);
    free(offer);
    mr_test_peer_free(p);
    g_main_context_unref(ctx);
}

static bool media_done(void *arg)
{
    struct mr_test_peer **pp = arg;
    struct mr_test_peer_stats s;
    mr_test_peer_stats(pp[1], &s);
    /* About 1.5 s: periodic and requested key frames, several SRs each. */
    return s.n_tracks == 2 && s.tracks[1].keyframes >= 4 && s.srs_received >= 8 &&
           s.tracks[0].packets >= 75;
}

/* A publisher offers, a subscriber answers as a server-offered viewer would;
 * media flows straight between them. */
static void direct(enum mr_codec_id codec)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p[2] = {NULL, NULL};
    struct mr_test_peer_config pc = {.ctx = ctx,
                                     .role = MR_TEST_PUBLISHER,
                                     .name = "pub",
                                     .video_codec = codec,
                                     .keyframe_interval_ms = 500,
                                     .rtcp_interval_ms = 300,
                                     .video_kbps = 500};
    struct mr_test_peer_config sc = {
        .ctx = ctx, .role = MR_TEST_SUBSCRIBER, .name = "sub", .rtcp_interval_ms = 300};
    char *offer = NULL, *answer = NULL;
    size_t olen = 0, alen = 0;
    char err[160] = "";
    CHECK_INT(mr_test_peer_new(&pc, &p[0]), 0);
    CHECK_INT(mr_test_peer_new(&sc, &p[1]), 0);
    CHECK_INT(mr_test_peer_create_offer(p[0], &offer, &olen), 0);
    CHECK_INT(mr_test_peer_answer(p[1], offer, olen, &answer, &alen, err, sizeof(err)), 0);
    CHECK_INT(mr_test_peer_apply_answer(p[0], answer, alen, err, sizeof(err)), 0);
    if (err[0])
        fprintf(stderr, "%s\n", err);
    CHECK(mr_test_peer_wait_secure(p[0], 10000));
    CHECK(mr_test_peer_wait_secure(p[1], 10000));
    mr_test_loop_until(ctx, NULL, NULL, 300);
    CHECK_INT(mr_test_peer_request_keyframe(p[1]), 0);
    CHECK(mr_test_loop_until(ctx, media_done, p, 10000));
    mr_test_peer_stop_media(p[0]);
    mr_test_loop_until(ctx, NULL, NULL, 300);

    struct mr_test_peer_stats ps, ss;
    mr_test_peer_stats(p[0], &ps);
    mr_test_peer_stats(p[1], &ss);
    char *j = mr_test_peer_stats_json(p[1]);
    printf("# %s: %s\n", mr_codec_name(codec), j);
    free(j);
    j = mr_test_peer_stats_json(p[0]);
    printf("# %s: %s\n", mr_codec_name(codec), j);
    free(j);
    CHECK_INT(ps.plis_received, 1);
    CHECK(ps.keyframes_on_request >= 1);
    CHECK(ps.rrs_received >= 1);
    CHECK_INT(ss.n_tracks, 2);
    for (unsigned i = 0; i < ss.n_tracks && i < ps.n_tracks; i++) {
        const struct mr_test_track_stats *r = &ss.tracks[i], *s = &ps.tracks[i];
        CHECK_INT(r->codec, i == 0 ? MR_CODEC_OPUS : codec);
        CHECK_INT(r->packets, s->sent_packets);
        CHECK_INT(r->source_first_counter, 0);
        CHECK_INT(r->last_counter + 1, s->sent_packets);
        CHECK_INT(r->lost + r->duplicates + r->reordered + r->seq_jumps + r->ts_backwards, 0);
        CHECK_INT(r->pt_mismatch + r->mid_mismatch + r->probe_missing + r->before_keyframe, 0);
        CHECK_INT(r->rx_ssrc, s->ssrc);
        CHECK_INT(r->rx_ssrcs, 1);
        CHECK(r->latency.n == r->packets && r->latency.p99_us < 1000000);
        CHECK(r->sr_max_skew_us < 100000);
    }
    CHECK(ss.tracks[1].keyframes >= 4);
    CHECK_INT(ss.tracks[1].keyframes, ps.tracks[1].sent_keyframes);
    CHECK(ss.tracks[0].srs_received >= 4 && ss.tracks[1].srs_received >= 4);
    CHECK_INT(ss.transport.srtp_errors, 0);
    CHECK_INT(ss.rtp_unmatched, 0);
    free(offer);
    free(answer);
    mr_test_peer_free(p[0]);
    mr_test_peer_free(p[1]);
    g_main_context_unref(ctx);
}

static void test_direct_vp8(void)
{
    direct(MR_CODEC_VP8);
}

static void test_direct_h264(void)
{
    direct(MR_CODEC_H264);
}

MR_TEST_MAIN(MR_TEST(test_probe), MR_TEST(test_packetizers), MR_TEST(test_offer),
             MR_TEST(test_offer_tcp_only), MR_TEST(test_direct_vp8), MR_TEST(test_direct_h264))
