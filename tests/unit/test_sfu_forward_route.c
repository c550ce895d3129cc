/*
 * forward.c and source.c: which of a publisher's sources a packet belongs
 * to (its SSRC; else the mid header extension, RFC 8843 §15; else a payload
 * type only one source uses), and which receivers take it (those bound to
 * that source and encoding, by kind and rank: bind.c).
 */
#include "sfu_fixture.h"

#include "mr_test.h"

#define PT_OPUS 111
#define PT_VP8  96
#define EXT_MID 4

/* A camera and a device screen with the same codec, and a microphone; the
 * SSRCs announced or not (ssrcs[i], 0: none). */
static struct mr_peer *publisher(struct mr_stream *s, const uint32_t ssrcs[3], uint8_t mid_id)
{
    const struct fx_track t[] = {
        {.kind = MR_MEDIA_VIDEO,
         .mid = "cam",
         .codec = MR_CODEC_VP8,
         .pt = PT_VP8,
         .ssrc = ssrcs[0],
         .mid_id = mid_id},
        {.kind = MR_MEDIA_AUDIO,
         .mid = "mic",
         .codec = MR_CODEC_OPUS,
         .pt = PT_OPUS,
         .ssrc = ssrcs[1],
         .mid_id = mid_id},
        {.kind = MR_MEDIA_VIDEO,
         .mid = "scr",
         .codec = MR_CODEC_VP8,
         .pt = PT_VP8,
         .ssrc = ssrcs[2],
         .mid_id = mid_id},
    };
    struct mr_peer *p = fx_publisher(s, t, 3);
    mr_stream_attach(s, p);
    return p;
}

/* A viewer of both videos and the audio, in another order. */
static const struct fx_track viewer_tracks[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 109},
    {.kind = MR_MEDIA_VIDEO, .mid = "1", .codec = MR_CODEC_VP8, .pt = 98},
    {.kind = MR_MEDIA_VIDEO, .mid = "2", .codec = MR_CODEC_VP8, .pt = 100},
};

static struct mr_peer *viewer(struct mr_stream *s, const struct fx_track *t, unsigned n)
{
    struct mr_peer *p = fx_subscriber(s, t, n);
    mr_stream_attach(s, p);
    return p;
}

static void key(struct mr_peer *pub, uint32_t ssrc, uint16_t seq, const char *mid)
{
    fx_feed(pub, &(struct fx_rtp){.pt = PT_VP8,
                                  .ssrc = ssrc,
                                  .seq = seq,
                                  .ts = seq * 3000u,
                                  .payload = FX_VP8_KEY,
                                  .mid_id = mid ? EXT_MID : 0,
                                  .mid = mid});
}

/* The SSRC of the i-th packet p got, or 0. */
static uint32_t ssrc_of(const struct mr_peer *p, unsigned i)
{
    struct fx_out o;
    return fx_rtp_get(p, i, &o) ? o.h.ssrc : 0;
}

static void test_bound_by_kind_and_rank(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("ward", 5);
    struct mr_peer *pub = publisher(s, (const uint32_t[]){0xc0, 0xa0, 0x5c}, 0);
    struct mr_peer *sub = viewer(s, viewer_tracks, 3);
    CHECK_INT(sub->receivers[0].rank, 0);
    CHECK_INT(sub->receivers[0].src, 1);
    CHECK_INT(sub->receivers[1].rank, 0);
    CHECK_INT(sub->receivers[1].src, 0);
    CHECK_INT(sub->receivers[2].rank, 1);
    CHECK_INT(sub->receivers[2].src, 2);

    /* By SSRC: the screen's packet goes to the second video only. */
    key(pub, 0x5c, 1, NULL);
    CHECK_INT(fx_rtp_count(sub), 1);
    CHECK_INT(ssrc_of(sub, 0), sub->receivers[2].out_ssrc);
    key(pub, 0xc0, 1, NULL);
    CHECK_INT(ssrc_of(sub, 1), sub->receivers[1].out_ssrc);
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS, .ssrc = 0xa0, .seq = 1});
    CHECK_INT(ssrc_of(sub, 2), sub->receivers[0].out_ssrc);
    CHECK_INT(w->sfu.forwarded, 3);
    CHECK_INT(w->sfu.drop_unknown_track, 0);
    CHECK_INT(fx_teardown(), 0);
}

static void test_found_by_mid(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("ward", 5);
    struct mr_peer *pub = publisher(s, (const uint32_t[]){0, 0, 0}, EXT_MID);
    struct mr_peer *sub = viewer(s, viewer_tracks, 3);

    key(pub, 0xaaaa, 1, "scr");
    CHECK_INT(pub->sources[2].enc[0].ssrc, 0xaaaa);
    CHECK_INT(pub->sources[0].enc[0].ssrc, 0);
    CHECK_INT(ssrc_of(sub, 0), sub->receivers[2].out_ssrc);
    /* Learned: the SSRC alone finds it from now on. */
    fx_feed(pub, &(struct fx_rtp){.pt = PT_VP8, .ssrc = 0xaaaa, .seq = 2});
    CHECK_INT(fx_rtp_count(sub), 2);
    CHECK_INT(ssrc_of(sub, 1), sub->receivers[2].out_ssrc);
    key(pub, 0xbbbb, 1, "cam");
    CHECK_INT(pub->sources[0].enc[0].ssrc, 0xbbbb);
    CHECK_INT(ssrc_of(sub, 2), sub->receivers[1].out_ssrc);

    /* The mid of a source with another payload type (retransmissions):
     * dropped, and the SSRC is not learned. */
    fx_feed(pub,
            &(struct fx_rtp){.pt = 97, .ssrc = 0xcccc, .seq = 1, .mid_id = EXT_MID, .mid = "mic"});
    CHECK_INT(pub->sources[1].enc[0].ssrc, 0);
    CHECK_INT(w->sfu.drop_unknown_track, 1);
    /* A mid nobody has, and a payload type two sources use. */
    key(pub, 0xdddd, 1, "xyz");
    CHECK_INT(w->sfu.drop_unknown_track, 2);
    CHECK_INT(fx_rtp_count(sub), 3);
    CHECK_INT(fx_teardown(), 0);
}

static void test_found_by_payload_type(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("ward", 5);
    const struct fx_track t[] = {
        {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = PT_OPUS},
        {.kind = MR_MEDIA_VIDEO, .mid = "1", .codec = MR_CODEC_VP8, .pt = PT_VP8},
    };
    struct mr_peer *pub = fx_publisher(s, t, 2);
    mr_stream_attach(s, pub);
    struct mr_peer *sub = viewer(s, viewer_tracks, 2);
    /* Neither SSRC nor mid: the payload type is unique. A mid extension
     * the publisher did not negotiate is not read. */
    fx_feed(pub, &(struct fx_rtp){.pt = PT_VP8,
                                  .ssrc = 0x7777,
                                  .seq = 5,
                                  .payload = FX_VP8_KEY,
                                  .mid_id = EXT_MID,
                                  .mid = "0"});
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS, .ssrc = 0x8888, .seq = 5});
    CHECK_INT(pub->sources[1].enc[0].ssrc, 0x7777);
    CHECK_INT(pub->sources[0].enc[0].ssrc, 0x8888);
    CHECK(pub->sources[1].enc[0].rx.started);
    CHECK_INT(fx_rtp_count(sub), 2);
    CHECK_INT(ssrc_of(sub, 0), sub->receivers[1].out_ssrc);
    CHECK_INT(ssrc_of(sub, 1), sub->receivers[0].out_ssrc);
    CHECK_INT(w->sfu.drop_unknown_track, 0);
    CHECK_INT(fx_teardown(), 0);
}

static void test_ambiguous_payload_type(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("ward", 5);
    struct mr_peer *pub = publisher(s, (const uint32_t[]){0, 0, 0}, 0);
    struct mr_peer *sub = viewer(s, viewer_tracks, 3);
    key(pub, 0x1234, 1, NULL);
    CHECK_INT(w->sfu.drop_unknown_track, 1);
    CHECK_INT(pub->sources[0].enc[0].ssrc, 0);
    CHECK_INT(pub->sources[2].enc[0].ssrc, 0);
    CHECK_INT(fx_rtp_count(sub), 0);
    /* The audio's payload type is its own. */
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS, .ssrc = 0x4321, .seq = 1});
    CHECK_INT(fx_rtp_count(sub), 1);
    CHECK_INT(w->sfu.drop_unknown_track, 1);
    CHECK_INT(fx_teardown(), 0);
}

static void test_retransmission_ssrc_not_the_source(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("ward", 5);
    const struct fx_track t[] = {{.kind = MR_MEDIA_VIDEO,
                                  .mid = "0",
                                  .codec = MR_CODEC_VP8,
                                  .pt = PT_VP8,
                                  .ssrc = 0x1000,
                                  .rtx_ssrc = 0x2000}};
    struct mr_peer *pub = fx_publisher(s, t, 1);
    mr_stream_attach(s, pub);
    struct mr_peer *sub = viewer(s, viewer_tracks + 1, 1);
    /* RFC 5576 §4: the FID group's second SSRC repairs the first. */
    CHECK_INT(pub->sources[0].enc[0].ssrc, 0x1000);
    fx_feed(pub, &(struct fx_rtp){.pt = 97, .ssrc = 0x2000, .seq = 1});
    key(pub, 0x1000, 1, NULL);
    CHECK_INT(fx_rtp_count(sub), 1);
    CHECK_INT(w->sfu.drop_unknown_track, 1);
    CHECK_INT(fx_teardown(), 0);
}

static void test_other_source_gets_nothing(void)
{
    static const struct fx_track audio_only[] = {
        {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 109}};
    static const struct fx_track three_videos[] = {
        {.kind = MR_MEDIA_VIDEO, .mid = "0", .codec = MR_CODEC_VP8, .pt = 96},
        {.kind = MR_MEDIA_VIDEO, .mid = "1", .codec = MR_CODEC_VP8, .pt = 96},
        {.kind = MR_MEDIA_VIDEO, .mid = "2", .codec = MR_CODEC_VP8, .pt = 96},
    };
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("ward", 5);
    struct mr_peer *pub = publisher(s, (const uint32_t[]){0xc0, 0xa0, 0x5c}, 0);
    struct mr_peer *ears = viewer(s, audio_only, 1);
    struct mr_peer *eyes = viewer(s, three_videos, 3);
    /* The publisher has two videos: the third receiver has no source. */
    CHECK_INT(eyes->receivers[2].src, -1);
    CHECK(!eyes->receivers[2].compatible);
    key(pub, 0xc0, 1, NULL);
    key(pub, 0x5c, 1, NULL);
    CHECK_INT(fx_rtp_count(ears), 0);
    CHECK_INT(fx_rtp_count(eyes), 2);
    CHECK_INT(eyes->receivers[2].packets_out, 0);
    CHECK_INT(w->sfu.forwarded, 2);

    /* Another encoding of the same source (a simulcast layer) is not it. */
    eyes->receivers[0].encoding = eyes->receivers[0].target = 1;
    key(pub, 0xc0, 2, NULL);
    CHECK_INT(fx_rtp_count(eyes), 2);
    CHECK_INT(fx_teardown(), 0);
}

static void test_room_sub_slices_apart(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *a = fx_stream("a", 5), *b = fx_stream("b", 5);
    struct mr_peer *pub_a = publisher(a, (const uint32_t[]){0xa1, 0xa2, 0xa3}, 0);
    struct mr_peer *pub_b = publisher(b, (const uint32_t[]){0xb1, 0xb2, 0xb3}, 0);
    struct mr_sink *sa = fx_room_sub(NULL, a, viewer_tracks, 3);
    struct mr_sink *sb = fx_room_sub(sa->peer, b, viewer_tracks, 3);
    const struct mr_peer *room = sa->peer;
    key(pub_b, 0xb1, 1, NULL);
    key(pub_a, 0xa3, 1, NULL);
    CHECK_INT(fx_rtp_count(room), 2);
    CHECK_INT(ssrc_of(room, 0), sb->receivers[1].out_ssrc);
    CHECK_INT(ssrc_of(room, 1), sa->receivers[2].out_ssrc);
    CHECK_INT(sa->receivers[1].packets_out, 0);
    CHECK_INT(sb->receivers[2].packets_out, 0);
    CHECK_INT(w->sfu.forwarded, 2);
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_bound_by_kind_and_rank), MR_TEST(test_found_by_mid),
             MR_TEST(test_found_by_payload_type), MR_TEST(test_ambiguous_payload_type),
             MR_TEST(test_retransmission_ssrc_not_the_source),
             MR_TEST(test_other_source_gets_nothing), MR_TEST(test_room_sub_slices_apart))
