/*
 * Self-test of the test peer's simulcast publisher (cfg.video_layers),
 * without the relay:
 *
 *  - VP8 key frames carry the layer's picture size, read back with the
 *    relay's own mr_rtp_vp8_keyframe_size (640x480 when none is given, as
 *    before layers existed);
 *  - the offer, read with the relay's parser and negotiation: a=rid:<id>
 *    send per layer, a=simulcast:send q;h;f, the rtp-stream-id and
 *    repaired-rtp-stream-id extensions, no a=ssrc in the video section
 *    (Chromium's form); mr_negotiate_simulcast takes every layer;
 *  - a publisher sending straight to a subscriber (answerer) whose answer
 *    the test turns into the relay's (a=rid:<id> recv, a=simulcast:recv,
 *    the rid extensions kept): every layer on its own SSRC and sequence
 *    numbers, its rid on every packet, one timestamp per picture across
 *    layers, bitrates in their shares; a PLI or FIR for one layer's SSRC
 *    brings a key frame on that layer only; a NACK for a layer's packet
 *    comes back as RTX on the layer's RTX SSRC with its repaired rid;
 *  - an answer without simulcast: the publisher says so (layers_accepted
 *    0) and sends its top layer alone, without rid, and the subscriber's
 *    checks come out clean.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "media.h"
#include "mr_test.h"
#include "peer.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"

#define LAYERS     3
#define RID_ID     10 /* what the peer offers (Chromium's ids) */
#define RRID_ID    11
#define VP8_RTX_PT 97

static void test_keyframe_size(void)
{
    uint8_t buf[2048];
    struct mr_test_probe probe = {0};
    uint16_t w = 0, h = 0;
    struct mr_test_frame f = {.codec = MR_CODEC_VP8, .keyframe = true, .size = 3000};
    int len = mr_test_frame_payload(&f, 0, &probe, buf, sizeof(buf));
    CHECK(len > 0 && mr_rtp_vp8_keyframe_size(buf, (size_t)len, &w, &h));
    CHECK_INT(w, 640);
    CHECK_INT(h, 480);
    f.width = 1280;
    f.height = 720;
    len = mr_test_frame_payload(&f, 0, &probe, buf, sizeof(buf));
    CHECK(len > 0 && mr_rtp_vp8_keyframe_size(buf, (size_t)len, &w, &h));
    CHECK_INT(w, 1280);
    CHECK_INT(h, 720);
    CHECK(mr_rtp_vp8_is_keyframe(buf, (size_t)len));
    f.keyframe = false;
    len = mr_test_frame_payload(&f, 0, &probe, buf, sizeof(buf));
    CHECK(len > 0 && !mr_rtp_vp8_keyframe_size(buf, (size_t)len, &w, &h));
}

static void test_config(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p = NULL;
    struct mr_test_peer_config c = {.ctx = ctx, .role = MR_TEST_PUBLISHER, .video_layers = 4};
    CHECK_INT(mr_test_peer_new(&c, &p), MR_EINVAL);
    c.video_layers = 2;
    c.role = MR_TEST_SUBSCRIBER;
    CHECK_INT(mr_test_peer_new(&c, &p), MR_EINVAL);
    c.role = MR_TEST_PUBLISHER;
    c.no_video = true;
    CHECK_INT(mr_test_peer_new(&c, &p), MR_EINVAL);
    c.no_video = false;
    c.video_kbps = 2500;
    CHECK_INT(mr_test_peer_new(&c, &p), 0);
    struct mr_test_peer_stats st;
    mr_test_peer_stats(p, &st);
    /* Audio, then the top two layers: h and f, 24 and 76 %. */
    CHECK_INT(st.n_tracks, 3);
    CHECK_INT(st.layers, 2);
    CHECK_STR(st.tracks[1].rid, "h");
    CHECK_STR(st.tracks[2].rid, "f");
    CHECK_STR(st.tracks[1].mid, st.tracks[2].mid);
    CHECK_INT(st.tracks[1].width, 640);
    CHECK_INT(st.tracks[2].height, 720);
    CHECK_INT(st.tracks[1].kbps, 597);
    CHECK_INT(st.tracks[2].kbps, 1902);
    CHECK(st.tracks[1].ssrc != st.tracks[2].ssrc && st.tracks[1].rtx_ssrc != st.tracks[2].rtx_ssrc);
    mr_test_peer_free(p);
    g_main_context_unref(ctx);
}

static void test_offer(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p = NULL;
    struct mr_test_peer_config c = {.ctx = ctx, .role = MR_TEST_PUBLISHER, .video_layers = 3};
    CHECK_INT(mr_test_peer_new(&c, &p), 0);
    char *offer = NULL;
    size_t len = 0;
    CHECK_INT(mr_test_peer_create_offer(p, &offer, &len), 0);
    struct mr_sdp *sdp = malloc(sizeof(*sdp));
    char err[160] = "";
    CHECK_INT(offer ? mr_sdp_parse(offer, len, sdp, err, sizeof(err)) : MR_EINVAL, 0);
    if (err[0])
        fprintf(stderr, "%s\n%s", err, offer);
    CHECK_INT(sdp->n_bundle, 2);
    CHECK_INT(sdp->n_media, 2);
    const struct mr_sdp_media *a = &sdp->media[0], *v = &sdp->media[1];
    CHECK(!a->simulcast && a->n_rids == 0 && a->n_ssrcs == 1);
    CHECK(v->simulcast);
    CHECK_INT(v->n_ssrcs, 0);
    CHECK_INT(v->n_rids, 3);
    CHECK_INT(v->n_sim_send, 3);
    static const char *const rids[] = {"q", "h", "f"};
    for (unsigned i = 0; i < 3 && i < v->n_rids; i++) {
        CHECK_STR(v->rids[i].id, rids[i]);
        CHECK(v->rids[i].send);
        CHECK_STR(v->sim_send[i].rid, rids[i]);
        CHECK(!v->sim_send[i].paused);
    }
    struct mr_codec codec;
    struct mr_ext_ids ext;
    struct mr_sdp_sim_stream layers[4];
    CHECK_INT(mr_negotiate_publish_codec(v, &codec), 0);
    CHECK_INT(codec.rtx_pt, VP8_RTX_PT);
    mr_negotiate_codec_ext_ids(v, &codec, &ext);
    CHECK_INT(ext.id[MR_RTP_EXT_MID], 4);
    CHECK_INT(ext.id[MR_RTP_EXT_RID], RID_ID);
    CHECK_INT(ext.id[MR_RTP_EXT_RRID], RRID_ID);
    CHECK_INT(mr_negotiate_simulcast(v, &codec, &ext, layers, 4, err, sizeof(err)), 3);
    CHECK_STR(layers[2].rid, "f");
    free(sdp);
    free(offer);
    mr_test_peer_free(p);
    g_main_context_unref(ctx);
}

/* --- Peer to peer ------------------------------------------------------------ */

/* What the subscriber's tap saw of each SSRC. */
struct stream {
    uint32_t ssrc;
    char rid[8];     /* the rid (or, on RTX, repaired rid) extension's value */
    bool rid_on_all; /* ... on every packet */
    bool rtx;        /* payload type VP8_RTX_PT */
    uint64_t packets;
    uint16_t last_seq;
    unsigned seq_jumps;
    unsigned keyframes;
    uint16_t width, height; /* from its key frames */
    uint32_t first_key_ts;
    uint16_t rtx_osn; /* RTX: the last original sequence number */
};

struct tap {
    unsigned n;
    struct stream s[8];
    unsigned other; /* audio and whatever else */
};

static struct stream *stream_of(struct tap *t, uint32_t ssrc)
{
    for (unsigned i = 0; i < t->n; i++)
        if (t->s[i].ssrc == ssrc)
            return &t->s[i];
    if (t->n == 8)
        return NULL;
    struct stream *s = &t->s[t->n++];
    memset(s, 0, sizeof(*s));
    s->ssrc = ssrc;
    s->rid_on_all = true;
    return s;
}

static void on_tap(void *arg, const uint8_t *pkt, size_t len)
{
    struct tap *t = arg;
    struct mr_rtp_header h;
    struct mr_rtp_ext_list ext;
    if (mr_rtp_parse(pkt, len, &h) < 0 || (h.payload_type != 96 && h.payload_type != VP8_RTX_PT)) {
        t->other++;
        return;
    }
    struct stream *s = stream_of(t, h.ssrc);
    if (!s)
        return;
    s->rtx = h.payload_type == VP8_RTX_PT;
    const struct mr_rtp_ext_elem *e = NULL;
    if (mr_rtp_ext_parse(pkt, &h, &ext) == 0)
        e = mr_rtp_ext_find(&ext, s->rtx ? RRID_ID : RID_ID);
    if (e && e->len < sizeof(s->rid)) {
        memcpy(s->rid, pkt + e->offset, e->len);
        s->rid[e->len] = '\0';
    } else {
        s->rid_on_all = false;
    }
    if (s->packets && h.seq != (uint16_t)(s->last_seq + 1))
        s->seq_jumps++;
    s->packets++;
    s->last_seq = h.seq;
    const uint8_t *payload = pkt + h.header_len;
    uint16_t w, ht;
    if (s->rtx && h.payload_len >= 2) {
        s->rtx_osn = mr_rd16(payload);
    } else if (mr_rtp_vp8_keyframe_size(payload, h.payload_len, &w, &ht)) {
        if (!s->keyframes)
            s->first_key_ts = h.timestamp;
        s->keyframes++;
        s->width = w;
        s->height = ht;
    }
}

/* The relay's answer to a simulcast offer (what relay/sfu/plan.c and
 * mr_sdp_write_answer add): the rid extensions kept, a=rid:<id> recv per
 * layer and a=simulcast:recv, in the video section of the subscriber's
 * answer. Returns a new answer (malloc'd). */
static char *simulcast_answer(const char *answer)
{
    const char *mid = strstr(answer, "a=mid:1\r\n");
    CHECK(mid != NULL);
    if (!mid)
        return strdup(answer);
    GString *s = g_string_new_len(answer, mid - answer + 9);
    g_string_append_printf(s,
                           "a=extmap:%u urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                           "a=extmap:%u urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
                           "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n"
                           "a=simulcast:recv q;h;f\r\n",
                           RID_ID, RRID_ID);
    g_string_append(s, mid + 9);
    return g_string_free(s, FALSE);
}

/* A publisher of LAYERS layers (no periodic key frames) offers, a
 * subscriber with tap answers; with simulcast, the answer is turned into
 * the relay's. */
static void connect_pair(GMainContext *ctx, bool simulcast, struct tap *tap,
                         struct mr_test_peer *p[2])
{
    struct mr_test_peer_config pc = {.ctx = ctx,
                                     .role = MR_TEST_PUBLISHER,
                                     .name = "pub",
                                     .video_layers = LAYERS,
                                     .video_kbps = 2000,
                                     .keyframe_interval_ms = 600000,
                                     .rtcp_interval_ms = 200};
    struct mr_test_peer_config sc = {.ctx = ctx,
                                     .role = MR_TEST_SUBSCRIBER,
                                     .name = "sub",
                                     .rtcp_interval_ms = 200,
                                     .rtp_tap = on_tap,
                                     .rtp_tap_arg = tap};
    char *offer = NULL, *answer = NULL;
    size_t olen = 0, alen = 0;
    char err[160] = "";
    CHECK_INT(mr_test_peer_new(&pc, &p[0]), 0);
    CHECK_INT(mr_test_peer_new(&sc, &p[1]), 0);
    CHECK_INT(mr_test_peer_create_offer(p[0], &offer, &olen), 0);
    CHECK_INT(mr_test_peer_answer(p[1], offer, olen, &answer, &alen, err, sizeof(err)), 0);
    if (answer && simulcast) {
        char *a = simulcast_answer(answer);
        free(answer);
        answer = a;
        alen = strlen(a);
    }
    CHECK_INT(answer ? mr_test_peer_apply_answer(p[0], answer, alen, err, sizeof(err)) : MR_EINVAL,
              0);
    if (err[0])
        fprintf(stderr, "%s\n", err);
    CHECK(mr_test_peer_wait_secure(p[0], 10000));
    CHECK(mr_test_peer_wait_secure(p[1], 10000));
    free(offer);
    free(answer);
}

enum feedback { FB_PLI, FB_FIR, FB_NACK };

/* From the subscriber, as a relay sends them: an RR, then a PLI, a FIR or
 * a NACK for seq, naming media. */
static void send_feedback(struct mr_test_peer *sub, enum feedback fb, uint32_t media, uint16_t seq)
{
    uint8_t buf[256];
    struct mr_rtcp_rr rr = {.ssrc = 0x5eed};
    int a = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    size_t cap = sizeof(buf) - (size_t)(a > 0 ? a : 0);
    int b = a < 0          ? a
            : fb == FB_PLI ? mr_rtcp_write_pli(buf + a, cap, 0x5eed, media)
            : fb == FB_FIR ? mr_rtcp_write_fir(buf + a, cap, 0x5eed, media, 1)
                           : mr_rtcp_write_nack(buf + a, cap, 0x5eed, media, &seq, 1);
    CHECK(a > 0 && b > 0);
    if (b > 0)
        CHECK_INT(mr_test_peer_send_raw(sub, true, buf, (size_t)(a + b)), 0);
}

static const struct mr_test_track_stats *layer(const struct mr_test_peer_stats *s, unsigned k)
{
    return &s->tracks[1 + k]; /* audio first */
}

static void test_layers_direct(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p[2] = {NULL, NULL};
    struct tap tap = {0};
    connect_pair(ctx, true, &tap, p);
    mr_test_loop_until(ctx, NULL, NULL, 600);

    struct mr_test_peer_stats ps;
    mr_test_peer_stats(p[0], &ps);
    CHECK_INT(ps.layers, LAYERS);
    CHECK_INT(ps.layers_accepted, LAYERS);
    CHECK_INT(ps.n_tracks, 1 + LAYERS);
    for (unsigned k = 0; k < LAYERS; k++)
        CHECK_INT(layer(&ps, k)->sent_keyframes, 1);
    /* A PLI for h, a FIR for q: a key frame on that layer only. */
    send_feedback(p[1], FB_PLI, layer(&ps, 1)->ssrc, 0);
    send_feedback(p[1], FB_FIR, layer(&ps, 0)->ssrc, 0);
    mr_test_loop_until(ctx, NULL, NULL, 300);
    /* A NACK for an f packet already sent: RTX with f's repaired rid. */
    struct stream *f = NULL;
    for (unsigned i = 0; i < tap.n; i++)
        if (tap.s[i].ssrc == layer(&ps, 2)->ssrc)
            f = &tap.s[i];
    CHECK(f != NULL);
    uint16_t nacked = f ? (uint16_t)(f->last_seq - 5) : 0;
    send_feedback(p[1], FB_NACK, layer(&ps, 2)->ssrc, nacked);
    mr_test_loop_until(ctx, NULL, NULL, 300);
    mr_test_peer_stop_media(p[0]);
    mr_test_loop_until(ctx, NULL, NULL, 200);

    mr_test_peer_stats(p[0], &ps);
    char *j = mr_test_peer_stats_json(p[0]);
    printf("# %s\n", j);
    free(j);
    CHECK_INT(layer(&ps, 0)->sent_keyframes, 2);
    CHECK_INT(layer(&ps, 1)->sent_keyframes, 2);
    CHECK_INT(layer(&ps, 2)->sent_keyframes, 1);
    CHECK_INT(ps.plis_received, 1);
    CHECK_INT(ps.firs_received, 1);
    CHECK_INT(ps.keyframes_on_request, 2);
    CHECK_INT(ps.resent_packets, 1);
    /* Bitrates in their shares (8, 22, 70 %): q < h < f. */
    CHECK(layer(&ps, 0)->sent_bytes * 2 < layer(&ps, 1)->sent_bytes);
    CHECK(layer(&ps, 1)->sent_bytes * 2 < layer(&ps, 2)->sent_bytes);

    static const struct {
        const char *rid;
        uint16_t w, h;
    } want[LAYERS] = {{"q", 320, 180}, {"h", 640, 360}, {"f", 1280, 720}};
    unsigned media = 0, rtx = 0;
    uint32_t key_ts = 0;
    for (unsigned i = 0; i < tap.n; i++) {
        const struct stream *s = &tap.s[i];
        unsigned k = 0;
        while (k < LAYERS && layer(&ps, k)->ssrc != s->ssrc && layer(&ps, k)->rtx_ssrc != s->ssrc)
            k++;
        CHECK(k < LAYERS);
        if (k == LAYERS)
            continue;
        CHECK_STR(s->rid, want[k].rid);
        CHECK(s->rid_on_all);
        if (s->rtx) {
            /* The packet NACKed, on the layer's RTX SSRC. */
            rtx++;
            CHECK_INT(s->ssrc, layer(&ps, k)->rtx_ssrc);
            CHECK_INT(k, 2);
            CHECK_INT(s->packets, 1);
            CHECK_INT(s->rtx_osn, nacked);
            continue;
        }
        media++;
        CHECK_INT(s->packets, layer(&ps, k)->sent_packets);
        CHECK_INT(s->seq_jumps, 0);
        CHECK_INT(s->keyframes, layer(&ps, k)->sent_keyframes);
        CHECK_INT(s->width, want[k].w);
        CHECK_INT(s->height, want[k].h);
        /* The first pictures of all layers: one timestamp. */
        if (key_ts)
            CHECK_INT(s->first_key_ts, key_ts);
        key_ts = s->first_key_ts;
    }
    CHECK_INT(media, LAYERS);
    CHECK_INT(rtx, 1);
    CHECK(tap.other > 0); /* audio */
    mr_test_peer_free(p[0]);
    mr_test_peer_free(p[1]);
    g_main_context_unref(ctx);
}

/* The answer has no a=simulcast: the top layer goes alone, without rid. */
static void test_layers_refused(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p[2] = {NULL, NULL};
    struct tap tap = {0};
    connect_pair(ctx, false, &tap, p);
    mr_test_loop_until(ctx, NULL, NULL, 500);
    mr_test_peer_stop_media(p[0]);
    mr_test_loop_until(ctx, NULL, NULL, 200);
    struct mr_test_peer_stats ps, ss;
    mr_test_peer_stats(p[0], &ps);
    mr_test_peer_stats(p[1], &ss);
    CHECK_INT(ps.layers, LAYERS);
    CHECK_INT(ps.layers_accepted, 0);
    CHECK(!layer(&ps, 0)->accepted && !layer(&ps, 1)->accepted && layer(&ps, 2)->accepted);
    CHECK_INT(layer(&ps, 0)->sent_packets + layer(&ps, 1)->sent_packets, 0);
    CHECK_INT(tap.n, 1);
    CHECK_INT(tap.s[0].ssrc, layer(&ps, 2)->ssrc);
    CHECK_STR(tap.s[0].rid, "");
    CHECK_INT(tap.s[0].width, 1280);
    const struct mr_test_track_stats *v = &ss.tracks[1];
    CHECK_INT(v->packets, layer(&ps, 2)->sent_packets);
    CHECK_INT(v->lost + v->seq_jumps + v->mid_mismatch + v->before_keyframe, 0);
    CHECK_INT(v->rx_ssrcs, 1);
    CHECK_INT(ss.rtp_unmatched, 0);
    mr_test_peer_free(p[0]);
    mr_test_peer_free(p[1]);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_keyframe_size), MR_TEST(test_config), MR_TEST(test_offer),
             MR_TEST(test_layers_direct), MR_TEST(test_layers_refused))
