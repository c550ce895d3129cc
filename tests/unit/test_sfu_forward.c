/*
 * forward.c: a publisher's RTP, once decrypted, as each receiver gets it.
 * The packet's source is found by SSRC, by the mid header extension
 * (RFC 8843 §15) or by a payload type only one source uses; each receiver
 * sends it with its own SSRC, payload type, extension ids and sequence and
 * timestamp spaces (RFC 3550 §5.1), video from a key frame on. What is
 * dropped is counted in the worker's counters.
 *
 * Which source a packet belongs to, and which receivers take it:
 * test_sfu_forward_route.c.
 */
#include "sfu_fixture.h"

#include "mr_test.h"

#define A_SSRC    0x11111111u
#define V_SSRC    0x22222222u
#define PT_OPUS   111
#define PT_VP8    96
#define EXT_LEVEL 1
#define EXT_MID   4

/* A publisher's camera and microphone, as Chromium offers them. */
static const struct fx_track pub_av[] = {
    {.kind = MR_MEDIA_AUDIO,
     .mid = "0",
     .codec = MR_CODEC_OPUS,
     .pt = PT_OPUS,
     .ssrc = A_SSRC,
     .mid_id = EXT_MID,
     .level_id = EXT_LEVEL},
    {.kind = MR_MEDIA_VIDEO,
     .mid = "1",
     .codec = MR_CODEC_VP8,
     .pt = PT_VP8,
     .ssrc = V_SSRC,
     .mid_id = EXT_MID,
     .fb = MR_FB_NACK_PLI | MR_FB_CCM_FIR},
};

/* A viewer with other numbers for everything. */
static const struct fx_track sub_av[] = {
    {.kind = MR_MEDIA_AUDIO,
     .mid = "a",
     .codec = MR_CODEC_OPUS,
     .pt = 109,
     .mid_id = 9,
     .level_id = 10},
    {.kind = MR_MEDIA_VIDEO,
     .mid = "v",
     .codec = MR_CODEC_VP8,
     .pt = 120,
     .mid_id = 9,
     .fb = MR_FB_NACK_PLI},
};

static struct mr_worker *w;
static struct mr_stream *s;
static struct mr_peer *pub;

/* A stream with the publisher attached. */
static void start(void)
{
    w = fx_setup();
    s = fx_stream("cam", 5);
    pub = fx_publisher(s, pub_av, 2);
    mr_stream_attach(s, pub);
}

static struct mr_peer *viewer(const struct fx_track *tracks, unsigned n)
{
    struct mr_peer *p = fx_subscriber(s, tracks, n);
    mr_stream_attach(s, p);
    return p;
}

static void audio(uint16_t seq, uint32_t ts)
{
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS,
                                  .seq = seq,
                                  .ts = ts,
                                  .ssrc = A_SSRC,
                                  .mid_id = EXT_MID,
                                  .mid = "0",
                                  .level_id = EXT_LEVEL,
                                  .level = 0x85,
                                  .size = 80});
}

static void video(uint16_t seq, uint32_t ts, enum fx_payload kind, bool marker)
{
    fx_feed(pub, &(struct fx_rtp){.pt = PT_VP8,
                                  .seq = seq,
                                  .ts = ts,
                                  .ssrc = V_SSRC,
                                  .mid_id = EXT_MID,
                                  .mid = "1",
                                  .payload = kind,
                                  .marker = marker,
                                  .size = 1000});
}

/* The i-th RTP packet p got (zeroed when there is none). */
static struct fx_out got(const struct mr_peer *p, unsigned i)
{
    struct fx_out o;
    if (!fx_rtp_get(p, i, &o))
        memset(&o, 0, sizeof(o));
    return o;
}

static void test_audio_rewritten(void)
{
    start();
    struct mr_peer *sub = viewer(sub_av, 2);
    struct mr_receiver *rx = &sub->receivers[0];
    uint16_t seq0 = (uint16_t)(rx->rw.last_seq + 1); /* where mr_receiver_init started it */
    uint32_t ts0 = rx->rw.last_ts;
    fx_sent_clear();

    audio(100, 5000);
    CHECK_INT(fx_rtp_count(sub), 1);
    struct fx_out o = got(sub, 0);
    CHECK_INT(o.h.ssrc, rx->out_ssrc);
    CHECK(o.h.ssrc != A_SSRC);
    CHECK_INT(o.h.payload_type, 109);
    CHECK_INT(o.h.seq, seq0);
    CHECK_INT(o.h.timestamp, ts0);
    CHECK(!o.h.marker);
    CHECK(fx_out_payload_is(&o, 100, 80, 0));
    /* The receiver's mid, under its id; the level carried over. */
    unsigned len = 0;
    const uint8_t *mid = fx_out_ext(&o, 9, &len);
    CHECK(mid && len == 1 && mid[0] == 'a');
    const uint8_t *level = fx_out_ext(&o, 10, &len);
    CHECK(level && len == 1 && level[0] == 0x85);
    CHECK(!fx_out_ext(&o, EXT_MID, NULL));
    CHECK(!fx_out_ext(&o, EXT_LEVEL, NULL));
    CHECK_INT(o.ext.count, 2);

    /* Fixed offsets: the next packet, then a gap of the same size. */
    audio(101, 5960);
    audio(105, 9800);
    o = got(sub, 1);
    CHECK_INT(o.h.seq, (uint16_t)(seq0 + 1));
    CHECK_INT(o.h.timestamp, ts0 + 960);
    o = got(sub, 2);
    CHECK_INT(o.h.seq, (uint16_t)(seq0 + 5));
    CHECK_INT(o.h.timestamp, ts0 + 4800);
    CHECK_INT(rx->packets_out, 3);
    CHECK_INT(rx->octets_out, 240);
    CHECK_INT(w->sfu.forwarded, 3);
    /* The publisher's receive statistics saw all three. */
    CHECK_INT(pub->sources[0].enc[0].rx.max_seq, 105);
    CHECK_INT(fx_teardown(), 0);
}

static void test_extensions_as_negotiated(void)
{
    static const struct fx_track mid_only[] = {
        {.kind = MR_MEDIA_AUDIO, .mid = "m0", .codec = MR_CODEC_OPUS, .pt = 111, .mid_id = 3}};
    static const struct fx_track none[] = {
        {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 111}};
    static const struct fx_track level_only[] = {
        {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 111, .level_id = 12}};
    start();
    struct mr_peer *a = viewer(mid_only, 1);
    struct mr_peer *b = viewer(none, 1);
    struct mr_peer *c = viewer(level_only, 1);
    audio(1, 960);

    unsigned len = 0;
    struct fx_out o = got(a, 0);
    const uint8_t *mid = fx_out_ext(&o, 3, &len);
    CHECK(mid && len == 2 && memcmp(mid, "m0", 2) == 0);
    CHECK_INT(o.ext.count, 1); /* no audio level: a did not negotiate it */
    o = got(b, 0);
    CHECK(!o.h.extension);
    CHECK_INT(o.h.header_len, 12);
    CHECK(fx_out_payload_is(&o, 1, 80, 0));
    o = got(c, 0);
    const uint8_t *level = fx_out_ext(&o, 12, &len);
    CHECK(level && len == 1 && level[0] == 0x85);
    CHECK_INT(o.ext.count, 1);

    /* A packet that came without the level goes on without it. */
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS, .seq = 2, .ts = 1920, .ssrc = A_SSRC});
    o = got(c, 1);
    CHECK(!o.h.extension);
    CHECK_INT(o.h.seq, (uint16_t)(got(c, 0).h.seq + 1));
    CHECK_INT(fx_teardown(), 0);
}

static void test_video_waits_for_keyframe(void)
{
    start();
    struct mr_peer *sub = viewer(sub_av, 2);
    struct mr_receiver *rx = &sub->receivers[1];
    uint16_t seq0 = (uint16_t)(rx->rw.last_seq + 1);
    uint32_t ts0 = rx->rw.last_ts;
    CHECK(rx->waiting_keyframe);

    video(10, 3000, FX_VP8_DELTA, false);
    video(11, 3000, FX_OPAQUE, true);
    CHECK_INT(fx_rtp_count(sub), 0);
    CHECK_INT(w->sfu.drop_keyframe_wait, 2);
    CHECK(rx->waiting_keyframe);

    /* The key frame starts it, at the start of both spaces. */
    video(12, 6000, FX_VP8_KEY, false);
    video(13, 6000, FX_OPAQUE, true);
    video(14, 9000, FX_VP8_DELTA, true);
    CHECK(!rx->waiting_keyframe);
    CHECK_INT(fx_rtp_count(sub), 3);
    struct fx_out o = got(sub, 0);
    CHECK_INT(o.h.ssrc, rx->out_ssrc);
    CHECK_INT(o.h.payload_type, 120);
    CHECK_INT(o.h.seq, seq0);
    CHECK_INT(o.h.timestamp, ts0);
    CHECK(!o.h.marker);
    CHECK(o.payload[0] == 0x10 && o.payload[1] == 0x00 && o.payload[2] == 0x9d);
    CHECK(fx_out_payload_is(&o, 12, 1000, 5));
    unsigned len = 0;
    const uint8_t *mid = fx_out_ext(&o, 9, &len);
    CHECK(mid && len == 1 && mid[0] == 'v');
    CHECK_INT(o.ext.count, 1);
    o = got(sub, 1);
    CHECK_INT(o.h.seq, (uint16_t)(seq0 + 1));
    CHECK_INT(o.h.timestamp, ts0);
    CHECK(o.h.marker);
    o = got(sub, 2);
    CHECK_INT(o.h.seq, (uint16_t)(seq0 + 2));
    CHECK_INT(o.h.timestamp, ts0 + 3000);
    CHECK_INT(w->sfu.drop_keyframe_wait, 2);
    CHECK_INT(s->kf[1].last_keyframe_us > 0, 1);

    /* A second viewer waits for a key frame of its own. */
    struct mr_peer *late = viewer(sub_av, 2);
    video(15, 12000, FX_VP8_DELTA, true);
    CHECK_INT(fx_rtp_count(sub), 4);
    CHECK_INT(fx_rtp_count(late), 0);
    video(16, 15000, FX_VP8_KEY, true);
    CHECK_INT(fx_rtp_count(sub), 5);
    CHECK_INT(fx_rtp_count(late), 1);
    o = got(late, 0);
    CHECK_INT(o.h.ssrc, late->receivers[1].out_ssrc);
    CHECK_INT(fx_teardown(), 0);
}

static void test_h264_keyframes(void)
{
    static const struct fx_track h264[] = {{.kind = MR_MEDIA_VIDEO,
                                            .mid = "0",
                                            .codec = MR_CODEC_H264,
                                            .pt = 102,
                                            .ssrc = V_SSRC,
                                            .h264_profile_idc = 0x42,
                                            .h264_profile_iop = 0xe0}};
    static const struct fx_track h264_sub[] = {{.kind = MR_MEDIA_VIDEO,
                                                .mid = "0",
                                                .codec = MR_CODEC_H264,
                                                .pt = 125,
                                                .h264_profile_idc = 0x42,
                                                .h264_profile_iop = 0xe0}};
    w = fx_setup();
    s = fx_stream("scope", 5);
    pub = fx_publisher(s, h264, 1);
    mr_stream_attach(s, pub);
    struct mr_peer *a = viewer(h264_sub, 1);
    struct mr_peer *b = viewer(h264_sub, 1);
    struct fx_rtp r = {.pt = 102, .ssrc = V_SSRC, .seq = 1, .ts = 90, .payload = FX_H264_SLICE};
    fx_feed(pub, &r);
    CHECK_INT(fx_rtp_count(a), 0);
    r.seq = 2, r.payload = FX_H264_IDR;
    fx_feed(pub, &r);
    CHECK_INT(fx_rtp_count(a), 1);
    CHECK_INT(fx_rtp_count(b), 1);
    CHECK_INT(got(a, 0).h.payload_type, 125);

    /* An SPS and PPS in a STAP-A start a frame too. */
    b->receivers[0].waiting_keyframe = true;
    r.seq = 3, r.payload = FX_H264_SLICE;
    fx_feed(pub, &r);
    r.seq = 4, r.payload = FX_H264_STAP;
    fx_feed(pub, &r);
    CHECK_INT(fx_rtp_count(a), 3);
    CHECK_INT(fx_rtp_count(b), 2);
    CHECK_INT(fx_teardown(), 0);
}

static void test_audio_flows_at_once(void)
{
    start();
    struct mr_peer *sub = viewer(sub_av, 2);
    CHECK(!sub->receivers[0].waiting_keyframe);
    video(1, 0, FX_VP8_DELTA, true);
    audio(1, 0);
    CHECK_INT(fx_rtp_count(sub), 1);
    CHECK_INT(got(sub, 0).h.payload_type, 109);
    CHECK_INT(fx_teardown(), 0);
}

static void test_incompatible_codec(void)
{
    static const struct fx_track h264_base[] = {{.kind = MR_MEDIA_VIDEO,
                                                 .mid = "0",
                                                 .codec = MR_CODEC_H264,
                                                 .pt = 102,
                                                 .h264_profile_idc = 0x42,
                                                 .h264_profile_iop = 0x00}};
    static const struct fx_track h264_high[] = {{.kind = MR_MEDIA_VIDEO,
                                                 .mid = "0",
                                                 .codec = MR_CODEC_H264,
                                                 .pt = 102,
                                                 .h264_profile_idc = 0x64,
                                                 .h264_profile_iop = 0x00}};
    static const struct fx_track h264_cb[] = {{.kind = MR_MEDIA_VIDEO,
                                               .mid = "0",
                                               .codec = MR_CODEC_H264,
                                               .pt = 102,
                                               .ssrc = V_SSRC,
                                               .h264_profile_idc = 0x42,
                                               .h264_profile_iop = 0xe0}};
    static const struct fx_track vp8[] = {
        {.kind = MR_MEDIA_VIDEO, .mid = "0", .codec = MR_CODEC_VP8, .pt = 96}};
    w = fx_setup();
    s = fx_stream("ecg", 5);
    pub = fx_publisher(s, h264_cb, 1); /* Constrained Baseline */
    mr_stream_attach(s, pub);
    struct mr_peer *base = viewer(h264_base, 1);
    struct mr_peer *high = viewer(h264_high, 1);
    struct mr_peer *v = viewer(vp8, 1);
    CHECK(base->receivers[0].compatible);
    CHECK(!high->receivers[0].compatible);
    CHECK(!v->receivers[0].compatible);
    fx_feed(pub, &(struct fx_rtp){.pt = 102, .ssrc = V_SSRC, .seq = 7, .payload = FX_H264_IDR});
    CHECK_INT(fx_rtp_count(base), 1);
    CHECK_INT(fx_rtp_count(high), 0);
    CHECK_INT(fx_rtp_count(v), 0);
    CHECK_INT(w->sfu.drop_incompatible, 2);
    CHECK_INT(w->sfu.forwarded, 1);
    CHECK_INT(fx_teardown(), 0);
}

static void test_drops_counted(void)
{
    start();
    struct mr_peer *sub = viewer(sub_av, 2);
    uint8_t junk[20] = {0x40, 0x60}; /* version 1 */
    mr_forward_rtp(pub, junk, sizeof(junk));
    CHECK_INT(w->sfu.drop_parse, 1);
    mr_forward_rtp(pub, junk, 5);
    CHECK_INT(w->sfu.drop_parse, 2);

    /* Another payload type on a known SSRC (retransmissions, FEC). */
    fx_feed(pub, &(struct fx_rtp){.pt = 97, .seq = 1, .ssrc = V_SSRC});
    /* An unknown SSRC with a payload type nobody uses. */
    fx_feed(pub, &(struct fx_rtp){.pt = 35, .seq = 1, .ssrc = 0x5555});
    CHECK_INT(w->sfu.drop_unknown_track, 2);

    /* Padding only (a bandwidth probe): nothing to forward, but it arrived,
     * so the receive statistics (loss reported to the publisher) count it. */
    fx_feed(pub, &(struct fx_rtp){
                     .pt = PT_VP8, .seq = 1, .ssrc = V_SSRC, .payload = FX_NONE, .padding = 200});
    CHECK_INT(w->sfu.drop_padding, 1);
    CHECK(pub->sources[1].enc[0].rx.started);
    CHECK_INT(fx_rtp_count(sub), 0);
    CHECK_INT(w->sfu.forwarded, 0);
    CHECK_INT(w->sfu.drop_keyframe_wait, 0);

    /* Padding after a payload: the payload goes on, without the padding. */
    fx_feed(pub,
            &(struct fx_rtp){.pt = PT_OPUS, .seq = 2, .ssrc = A_SSRC, .size = 30, .padding = 6});
    CHECK_INT(fx_rtp_count(sub), 1);
    struct fx_out o = got(sub, 0);
    CHECK(!o.h.padding);
    CHECK(fx_out_payload_is(&o, 2, 30, 0));
    CHECK_INT(fx_teardown(), 0);
}

static void test_muted_kind(void)
{
    start();
    struct mr_peer *sub = viewer(sub_av, 2);
    struct mr_recording *rec = fx_record(s, pub_av, 2);
    s->fwd_muted[MR_MEDIA_AUDIO] = true;
    audio(1, 960);
    audio(2, 1920);
    video(1, 3000, FX_VP8_KEY, true);
    CHECK_INT(w->sfu.drop_muted, 2);
    CHECK_INT(fx_rtp_count(sub), 1);
    CHECK_INT(got(sub, 0).h.payload_type, 120);
    /* Nor does the recording hear it; the statistics go on. */
    CHECK_INT(fx_rec_count(rec), 1);
    CHECK_INT(pub->sources[0].enc[0].rx.max_seq, 2);

    s->fwd_muted[MR_MEDIA_AUDIO] = false;
    s->fwd_muted[MR_MEDIA_VIDEO] = true;
    audio(3, 2880);
    video(2, 6000, FX_VP8_KEY, true);
    CHECK_INT(w->sfu.drop_muted, 3);
    CHECK_INT(fx_rtp_count(sub), 2);
    CHECK_INT(got(sub, 1).h.payload_type, 109);
    CHECK_INT(fx_teardown(), 0);
}

static void test_recording_tap(void)
{
    start();
    CHECK_INT(fx_keyframe_requests(pub, V_SSRC), 0); /* nobody watches */
    struct mr_recording *rec = fx_record(s, pub_av, 2);
    struct mr_rec_tap *tap = s->rec_tap;
    CHECK(tap && tap->rec == rec);
    CHECK_INT(fx_keyframe_requests(pub, V_SSRC), 1); /* a file starts with a picture */
    CHECK_INT(tap->n_receivers, 2);
    uint16_t seq0 = (uint16_t)(tap->receivers[0].rw.last_seq + 1);

    /* No viewer: the recording is fed all the same. */
    audio(50, 48000);
    video(7, 3000, FX_VP8_DELTA, true); /* the file starts at a key frame */
    video(8, 6000, FX_VP8_KEY, true);
    CHECK_INT(fx_rec_count(rec), 2);
    unsigned track;
    int what;
    size_t len;
    const uint8_t *p = fx_rec_get(rec, 0, &track, &what, &len);
    struct fx_out o;
    CHECK(p && fx_out_parse(p, len, &o));
    CHECK_INT(track, 0);
    CHECK_INT(what, MR_RECORD_RTP);
    CHECK_INT(o.h.ssrc, tap->receivers[0].out_ssrc);
    CHECK_INT(o.h.payload_type, PT_OPUS); /* the publisher's numbering */
    CHECK_INT(o.h.seq, seq0);
    CHECK(!o.h.extension); /* no transport extensions in the file */
    CHECK(fx_out_payload_is(&o, 50, 80, 0));
    p = fx_rec_get(rec, 1, &track, &what, &len);
    CHECK(p && fx_out_parse(p, len, &o));
    CHECK_INT(track, 1);
    CHECK_INT(o.h.ssrc, tap->receivers[1].out_ssrc);
    CHECK_INT(o.h.payload_type, PT_VP8);
    CHECK(o.h.marker);
    CHECK_INT(w->sfu.drop_keyframe_wait, 1);

    /* A full ring drops and counts; the track's sender reports do not
     * count what the file never got. */
    uint32_t pkts = tap->receivers[0].packets_out; /* the audio track */
    CHECK(pkts > 0);
    fx_rec_set_full(rec, true);
    audio(51, 48960);
    CHECK_INT(w->sfu.drop_record, 1);
    CHECK_INT(fx_rec_count(rec), 2);
    CHECK_INT(tap->receivers[0].packets_out, pkts);

    /* Stopped: the tap lets its reference go, nothing more is pushed. */
    fx_rec_set_full(rec, false);
    fx_record_stop(s);
    CHECK(!s->rec_tap);
    CHECK_INT(fx_rec_refs(rec), 0);
    audio(52, 49920);
    CHECK_INT(fx_rec_count(rec), 2);
    CHECK_INT(fx_teardown(), 0);
}

static void test_receivers_rewrite_apart(void)
{
    start();
    struct mr_peer *a = viewer(sub_av, 2);
    struct mr_peer *b = viewer(sub_av, 2);
    struct mr_sink *c = fx_room_sub(NULL, s, sub_av, 2);
    struct mr_receiver *rx[3] = {&a->receivers[0], &b->receivers[0], &c->receivers[0]};
    const struct mr_peer *peers[3] = {a, b, c->peer};
    uint16_t seq0[3];
    uint32_t ts0[3];
    for (int i = 0; i < 3; i++) {
        seq0[i] = (uint16_t)(rx[i]->rw.last_seq + 1);
        ts0[i] = rx[i]->rw.last_ts;
    }
    CHECK(rx[0]->out_ssrc != rx[1]->out_ssrc && rx[1]->out_ssrc != rx[2]->out_ssrc);
    audio(1000, 100000);
    audio(1001, 100960);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(fx_rtp_count(peers[i]), 2);
        struct fx_out o = got(peers[i], 0);
        CHECK_INT(o.h.ssrc, rx[i]->out_ssrc);
        CHECK_INT(o.h.seq, seq0[i]);
        CHECK_INT(o.h.timestamp, ts0[i]);
        o = got(peers[i], 1);
        CHECK_INT(o.h.seq, (uint16_t)(seq0[i] + 1));
        CHECK_INT(o.h.timestamp, ts0[i] + 960);
        CHECK(fx_out_payload_is(&o, 1001, 80, 0));
    }
    CHECK_INT(w->sfu.forwarded, 6);

    /* A viewer that is gone (failed, closing) gets nothing more. */
    b->dead = true;
    audio(1002, 101920);
    CHECK_INT(fx_rtp_count(a), 3);
    CHECK_INT(fx_rtp_count(b), 2);
    CHECK_INT(fx_rtp_count(c->peer), 3);
    CHECK_INT(fx_teardown(), 0);
}

static void test_new_ssrc_continues(void)
{
    start();
    struct mr_peer *sub = viewer(sub_av, 2);
    audio(500, 1000);
    audio(501, 1960);
    /* The encoder restarts with another SSRC, sequence and timestamp: the
     * payload type finds its source, which learns the SSRC, and the viewer
     * sees one continuous stream. */
    fx_run_ms(20);
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS, .seq = 9, .ts = 777777, .ssrc = 0x3333});
    CHECK_INT(pub->sources[0].enc[0].ssrc, 0x3333);
    CHECK_INT(pub->sources[0].enc[0].rx.max_seq, 9); /* its statistics start again */
    CHECK_INT(fx_rtp_count(sub), 3);
    struct fx_out prev = got(sub, 1), o = got(sub, 2);
    CHECK_INT(o.h.ssrc, prev.h.ssrc);
    CHECK_INT(o.h.seq, (uint16_t)(prev.h.seq + 1));
    /* Advanced by the wall time between them: 20 ms or more at 48 kHz. */
    uint32_t step = o.h.timestamp - prev.h.timestamp;
    CHECK(step >= 960 && step < 48000);
    /* The old SSRC is no longer the source's. */
    audio(502, 2920);
    CHECK_INT(pub->sources[0].enc[0].ssrc, A_SSRC);
    CHECK_INT(fx_rtp_count(sub), 4);
    CHECK_INT(fx_teardown(), 0);
}

static void test_overload_sheds_video(void)
{
    start();
    struct mr_peer *sub = viewer(sub_av, 2);
    struct mr_recording *rec = fx_record(s, pub_av, 2);
    video(1, 0, FX_VP8_KEY, true);
    CHECK_INT(fx_rtp_count(sub), 1);
    /* A backlog past the threshold: video waits, audio and the recording
     * go on (overload.c). */
    fx_set_backlog(pub, 600 * 1024, 1 << 21);
    fx_run_ms(2);
    video(2, 3000, FX_VP8_DELTA, true);
    audio(1, 960);
    fx_run();
    CHECK(s->shedding);
    CHECK_INT(w->sfu.drop_overload, 1);
    CHECK_INT(fx_rtp_count(sub), 2);
    CHECK_INT(got(sub, 1).h.payload_type, 109);
    CHECK_INT(fx_rec_count(rec), 3);
    /* Caught up: the viewer waits for a key frame again. */
    fx_set_backlog(pub, 0, 1 << 21);
    fx_run_ms(2);
    video(3, 6000, FX_VP8_DELTA, true);
    CHECK(!s->shedding);
    CHECK_INT(fx_rtp_count(sub), 2);
    video(4, 9000, FX_VP8_KEY, true);
    CHECK_INT(fx_rtp_count(sub), 3);
    CHECK_INT(got(sub, 2).h.seq, (uint16_t)(got(sub, 0).h.seq + 1));
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_audio_rewritten), MR_TEST(test_extensions_as_negotiated),
             MR_TEST(test_video_waits_for_keyframe), MR_TEST(test_h264_keyframes),
             MR_TEST(test_audio_flows_at_once), MR_TEST(test_incompatible_codec),
             MR_TEST(test_drops_counted), MR_TEST(test_muted_kind), MR_TEST(test_recording_tap),
             MR_TEST(test_receivers_rewrite_apart), MR_TEST(test_new_ssrc_continues),
             MR_TEST(test_overload_sheds_video))
