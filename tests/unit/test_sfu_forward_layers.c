/*
 * Simulcast layers through the forwarding path (forward.c, layers.c,
 * source.c): a publisher's three VP8 layers (q, h, f) learned from the rid
 * extension; a viewer takes the best layer that arrives and moves at that
 * layer's key frame, asked for with a PLI on its SSRC, with its sequence
 * numbers and VP8 picture ids continuing; a layer that stops sends its
 * viewers to the next one.
 */
#include "sfu_fixture.h"

#include "mr_test.h"

#define PT_VP8  96
#define EXT_MID 4
#define EXT_RID 10

static const uint32_t ssrc_of[3] = {0x1111, 0x2222, 0x3333}; /* q h f */
static const unsigned size_of[3] = {100, 400, 1000};
static const char *const rid_of[3] = {"q", "h", "f"};

struct layer_state {
    uint16_t seq[3];
    uint16_t pid[3];
    uint32_t ts;
};

static void feed(struct mr_peer *pub, struct layer_state *st, unsigned l, bool key)
{
    struct fx_rtp r = {.pt = PT_VP8,
                       .seq = st->seq[l]++,
                       .ts = st->ts,
                       .ssrc = ssrc_of[l],
                       .marker = true,
                       .payload = key ? FX_VP8_KEY : FX_VP8_DELTA,
                       .size = size_of[l],
                       .rid_id = EXT_RID,
                       .rid = rid_of[l],
                       .vp8_pid = true,
                       .pid = st->pid[l]++,
                       .tl0 = 7};
    fx_feed(pub, &r);
}

/* Feeds the layers in mask for ms milliseconds, a frame every 30 ms. */
static void run_layers(struct mr_peer *pub, struct layer_state *st, unsigned mask, unsigned ms)
{
    for (unsigned t = 0; t < ms; t += 30) {
        st->ts += 2700;
        for (unsigned l = 0; l < 3; l++)
            if (mask & (1u << l))
                feed(pub, st, l, false);
        fx_run_ms(30);
    }
}

static uint16_t out_pid(const struct fx_out *o)
{
    return (uint16_t)(((o->payload[2] & 0x7f) << 8) | o->payload[3]);
}

/* The last packet sent to p. */
static struct fx_out last_out(const struct mr_peer *p)
{
    struct fx_out o = {0};
    unsigned n = fx_rtp_count(p);
    if (n)
        fx_rtp_get(p, n - 1, &o);
    return o;
}

static void test_best_layer_and_back(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("cam", 5);
    const struct fx_track pt = {.kind = MR_MEDIA_VIDEO,
                                .mid = "v",
                                .codec = MR_CODEC_VP8,
                                .pt = PT_VP8,
                                .mid_id = EXT_MID,
                                .fb = MR_FB_NACK_PLI,
                                .n_layers = 3,
                                .rids = {"q", "h", "f"},
                                .rid_id = EXT_RID};
    struct mr_peer *pub = fx_publisher(s, &pt, 1);
    mr_stream_attach(s, pub);
    CHECK_INT(pub->sources[0].n_encodings, 3);
    const struct fx_track vt = {
        .kind = MR_MEDIA_VIDEO, .mid = "0", .codec = MR_CODEC_VP8, .pt = 98, .fb = MR_FB_NACK_PLI};
    struct mr_peer *sub = fx_subscriber(s, &vt, 1);
    mr_stream_attach(s, sub);
    struct mr_receiver *rx = &sub->receivers[0];

    /* The layers' SSRCs come with their rids; a packet without one on a
     * new SSRC belongs nowhere. */
    struct layer_state st = {.seq = {100, 2000, 30000}, .pid = {10, 400, 9000}, .ts = 1000};
    struct fx_rtp stray = {.pt = PT_VP8, .seq = 1, .ssrc = 0x9999, .payload = FX_VP8_KEY};
    fx_feed(pub, &stray);
    for (unsigned l = 0; l < 3; l++)
        feed(pub, &st, l, l == 0);
    fx_run();
    for (unsigned l = 0; l < 3; l++)
        CHECK_INT((int)pub->sources[0].enc[l].ssrc, (int)ssrc_of[l]);
    /* Bound before anything arrived: the first layer's key frame. */
    CHECK_INT(rx->encoding, 0);
    CHECK_INT(fx_rtp_count(sub), 1);

    /* Measured (f carries the most), the viewer is sent to f, which is
     * asked for a key frame; q goes on meanwhile. */
    unsigned before = fx_keyframe_requests(pub, ssrc_of[2]);
    run_layers(pub, &st, 7, 720);
    CHECK_INT(rx->target, 2);
    CHECK_INT(rx->encoding, 0);
    CHECK(fx_keyframe_requests(pub, ssrc_of[2]) > before);
    CHECK_INT(fx_keyframe_requests(pub, ssrc_of[1]), 0);
    CHECK(w->sfu.drop_layer_wait > 0);
    struct fx_out o = last_out(sub);
    CHECK_INT((int)o.h.payload_len, (int)size_of[0]);
    uint16_t seq0 = o.h.seq, pid0 = out_pid(&o);
    uint32_t ts0 = o.h.timestamp;

    /* f's key frame: the viewer moves, numbering continues. */
    st.ts += 2700;
    feed(pub, &st, 2, true);
    fx_run();
    o = last_out(sub);
    CHECK_INT(rx->encoding, 2);
    CHECK_INT((int)o.h.payload_len, (int)size_of[2]);
    CHECK_INT(o.h.seq, (uint16_t)(seq0 + 1));
    CHECK_INT(out_pid(&o), (uint16_t)(pid0 + 1));
    CHECK_INT(o.payload[4], 8); /* TL0PICIDX: q's last (7), then +1 */
    CHECK(o.h.timestamp - ts0 < 90000);
    CHECK_INT(w->sfu.layer_switches, 1);
    unsigned n = fx_rtp_count(sub);
    run_layers(pub, &st, 7, 90);
    /* Only f now: 3 frames. */
    CHECK_INT(fx_rtp_count(sub) - n, 3);
    o = last_out(sub);
    CHECK_INT(out_pid(&o), (uint16_t)(pid0 + 4));

    /* f stops (the encoder dropped its top layer): within a second the
     * viewer is sent to h, at h's key frame. */
    before = fx_keyframe_requests(pub, ssrc_of[1]);
    run_layers(pub, &st, 3, 750);
    CHECK_INT(rx->target, 1);
    CHECK(fx_keyframe_requests(pub, ssrc_of[1]) > before);
    uint16_t seq1 = last_out(sub).h.seq;
    st.ts += 2700;
    feed(pub, &st, 1, true);
    fx_run();
    o = last_out(sub);
    CHECK_INT(rx->encoding, 1);
    CHECK_INT(o.h.seq, (uint16_t)(seq1 + 1));
    CHECK_INT(out_pid(&o), (uint16_t)(pid0 + 5));

    /* f comes back: the viewer goes up again. */
    run_layers(pub, &st, 7, 750);
    CHECK_INT(rx->target, 2);
    CHECK_INT(fx_teardown(), 0);
}

/* Ranking: by picture size when key frames told it, else by bitrate. */
static void test_rank(void)
{
    struct mr_source src;
    memset(&src, 0, sizeof(src));
    src.n_encodings = 3;
    int64_t now = 10000000;
    for (unsigned e = 0; e < 3; e++)
        src.enc[e].last_us = now - 1000;
    src.enc[0].octets = 50000; /* most bytes, smallest picture */
    src.enc[1].octets = 20000;
    src.enc[2].octets = 30000;
    mr_layers_rank(&src, now, 1000000);
    CHECK_INT(src.ranked[0], 0);
    CHECK_INT(src.ranked[1], 2);
    CHECK_INT((int)src.enc[0].rate_bps, 400000);
    src.enc[0].width = 320, src.enc[0].height = 180;
    src.enc[1].width = 1280, src.enc[1].height = 720;
    src.enc[2].width = 640, src.enc[2].height = 360;
    mr_layers_rank(&src, now, 1000000);
    CHECK_INT(src.ranked[0], 1);
    CHECK_INT(src.ranked[1], 2);
    CHECK_INT(src.ranked[2], 0);
    CHECK_INT(mr_layers_pick(&src, now, 0, MR_LAYER_CAP_HIGH), 1);
    /* Caps: the second best, the third; past the lowest, the lowest. */
    CHECK_INT(mr_layers_pick(&src, now, 0, MR_LAYER_CAP_MEDIUM), 2);
    CHECK_INT(mr_layers_pick(&src, now, 0, MR_LAYER_CAP_LOW), 0);
    CHECK_INT(mr_layers_pick(&src, now, 0, 7), 0);
    /* The best is silent: the next one. */
    src.enc[1].last_us = now - 600000;
    CHECK_INT(mr_layers_pick(&src, now, 0, MR_LAYER_CAP_HIGH), 2);
    /* The lowest is silent too: a viewer capped low takes the one above
     * rather than nothing. */
    src.enc[0].last_us = now - 600000;
    CHECK_INT(mr_layers_pick(&src, now, 0, MR_LAYER_CAP_LOW), 2);
    /* Nothing alive: stay. */
    for (unsigned e = 0; e < 3; e++)
        src.enc[e].last_us = 0;
    CHECK_INT(mr_layers_pick(&src, now, 2, MR_LAYER_CAP_HIGH), 2);
    CHECK_INT(mr_layer_cap_parse("medium"), MR_LAYER_CAP_MEDIUM);
    CHECK_INT(mr_layer_cap_parse("low"), MR_LAYER_CAP_LOW);
    CHECK_INT(mr_layer_cap_parse("high"), MR_LAYER_CAP_HIGH);
    CHECK_INT(mr_layer_cap_parse("HIGH"), -1);
    CHECK_INT(mr_layer_cap_parse(""), -1);
    CHECK_INT(mr_layer_cap_parse(NULL), -1);
}

MR_TEST_MAIN(MR_TEST(test_best_layer_and_back), MR_TEST(test_rank))
