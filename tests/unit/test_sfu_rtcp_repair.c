/*
 * Loss repair (repair.c, retransmit.c) on the forwarding fixture:
 *  - upstream: a gap in a publisher's video becomes a NACK (RFC 4585
 *    §6.2.1) after the reordering allowance; its RTX answer (RFC 4588)
 *    reaches viewers and the recording as the lost packet; a duplicate
 *    retransmission, or a malformed one, goes nowhere; a packet never
 *    recovered ends in a key-frame request;
 *  - downstream: a viewer's NACK is answered from the history, as RTX
 *    when the viewer negotiated it (same SSRC and sequence number
 *    otherwise), never passed to the publisher; a storm is rate-limited
 *    for that viewer alone;
 *  - the publisher leg's round trip from RTCP XR DLRR.
 */
#include <string.h>

#include "sfu_fixture.h"

#include "core/clock.h"
#include "mr_test.h"

#define MIC    0xa1u
#define CAM    0xc1u
#define CAMRTX 0xc2u
#define SIZE   300

static struct mr_worker *w;
static struct mr_stream *s;
static struct mr_peer *pub;

static const struct fx_track clinic[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 111, .ssrc = MIC},
    {.kind = MR_MEDIA_VIDEO,
     .mid = "1",
     .codec = MR_CODEC_VP8,
     .pt = 96,
     .ssrc = CAM,
     .rtx_ssrc = CAMRTX,
     .fb = MR_FB_NACK | MR_FB_NACK_PLI,
     .rtx_pt = 97},
};

/* An expert who negotiated RTX (121 for its VP8 120), and one who did not. */
static const struct fx_track expert_rtx[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "a", .codec = MR_CODEC_OPUS, .pt = 109},
    {.kind = MR_MEDIA_VIDEO,
     .mid = "v",
     .codec = MR_CODEC_VP8,
     .pt = 120,
     .fb = MR_FB_NACK | MR_FB_NACK_PLI,
     .rtx_pt = 121},
};
static const struct fx_track expert_plain[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "a", .codec = MR_CODEC_OPUS, .pt = 109},
    {.kind = MR_MEDIA_VIDEO, .mid = "v", .codec = MR_CODEC_VP8, .pt = 120, .fb = MR_FB_NACK},
};

static void start(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    pub = fx_publisher(s, clinic, 2);
    mr_stream_attach(s, pub);
}

static struct mr_peer *watch(const struct fx_track *t)
{
    struct mr_peer *p = fx_subscriber(s, t, 2);
    mr_stream_attach(s, p);
    return p;
}

static void video(uint16_t seq, enum fx_payload payload)
{
    struct fx_rtp r = {.pt = 96, .seq = seq, .ts = 3000u * seq, .ssrc = CAM,
                       .payload = payload, .size = SIZE};
    fx_feed(pub, &r);
    fx_run();
}

/* The publisher's retransmission of seq, as RTX sequence number rtx_seq. */
static void retransmit(uint16_t seq, uint16_t rtx_seq, uint32_t ssrc, unsigned cut)
{
    uint8_t pkt[MR_TRANSPORT_BUF], out[MR_TRANSPORT_BUF];
    struct fx_rtp r = {.pt = 96, .seq = seq, .ts = 3000u * seq, .ssrc = CAM,
                       .payload = FX_OPAQUE, .size = SIZE};
    size_t len = fx_rtp_build(&r, pkt, sizeof(pkt));
    int n = mr_rtp_rtx_wrap(out, sizeof(out), pkt, 12, pkt + 12, len - 12, 97, rtx_seq, ssrc);
    CHECK(n > 0);
    mr_forward_rtp(pub, out, (size_t)n - cut);
    fx_run();
}

/* The NACKed sequence numbers in the compound packets pub was sent. */
static unsigned nacked(uint16_t *seqs, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fx_rtcp_count(pub); i++) {
        size_t len;
        const uint8_t *buf = fx_rtcp_get(pub, i, &len);
        struct mr_rtcp_pkt pkt;
        struct mr_rtcp_fb fb;
        if (!fx_rtcp_find(buf, len, MR_RTCP_RTPFB, &pkt) || mr_rtcp_parse_fb(&pkt, &fb) < 0 ||
            fb.fmt != MR_RTCP_RTPFB_NACK)
            continue;
        CHECK_INT(fb.media_ssrc, CAM);
        for (int e = 0; e < mr_rtcp_nack_count(&fb); e++) {
            uint16_t got[17];
            unsigned k = mr_rtcp_nack_entry(&fb, (unsigned)e, got);
            for (unsigned j = 0; j < k && n < max; j++)
                seqs[n++] = got[j];
        }
    }
    return n;
}

/* The viewer's NACK for its sequence numbers n0 + k. */
static void viewer_nack(struct mr_peer *sub, const uint16_t *seqs, unsigned n)
{
    uint8_t buf[1400];
    int len = mr_rtcp_write_nack(buf, sizeof(buf), 0x5eb, sub->receivers[1].out_ssrc, seqs, n);
    CHECK(len > 0);
    mr_rtcp_from_subscriber(sub, buf, (size_t)len);
}

static void test_upstream_gap_nacked_and_recovered(void)
{
    start();
    struct mr_peer *sub = watch(expert_rtx);
    struct mr_recording *rec = fx_record(s, clinic, 2);
    video(100, FX_VP8_KEY);
    video(101, FX_OPAQUE);
    video(103, FX_OPAQUE); /* 102 lost */
    video(104, FX_OPAQUE);
    unsigned to_sub = fx_rtp_count(sub), to_rec = fx_rec_count(rec);
    CHECK_INT(to_sub, 4);
    uint16_t seqs[8];
    CHECK_INT(nacked(seqs, 8), 0); /* reordering allowance first */
    /* The viewer saw the gap too: the relay has nothing to resend yet, and
     * says so apart from packets it will never have. */
    struct fx_out before;
    CHECK(fx_rtp_get(sub, 1, &before));
    uint16_t its = (uint16_t)(before.h.seq + 1);
    viewer_nack(sub, &its, 1);
    CHECK_INT(w->sfu.rtx_pending, 1);
    CHECK_INT(w->sfu.rtx_missed, 0);
    fx_run_ms(30);
    CHECK_INT(nacked(seqs, 8), 1);
    CHECK_INT(seqs[0], 102);
    CHECK_INT(w->sfu.nack_out, 1);

    /* The retransmission is the lost packet for the viewer and the
     * recording: in its place in the viewer's sequence space. */
    retransmit(102, 7000, CAMRTX, 0);
    CHECK_INT(fx_rtp_count(sub), to_sub + 1);
    CHECK_INT(fx_rec_count(rec), to_rec + 1);
    struct fx_out first, got;
    CHECK(fx_rtp_get(sub, 0, &first));
    CHECK(fx_rtp_get(sub, to_sub, &got));
    CHECK_INT(got.h.ssrc, sub->receivers[1].out_ssrc);
    CHECK_INT(got.h.payload_type, 120);
    CHECK_INT((uint16_t)(got.h.seq - first.h.seq), 2);
    CHECK_INT(got.h.timestamp - first.h.timestamp, 6000);
    CHECK(fx_out_payload_is(&got, 102, SIZE, 0));
    CHECK_INT(w->sfu.rtx_recovered, 1);
    CHECK_INT(pub->sources[1].recovered, 1);
    /* Received: not asked for again. */
    fx_run_ms(150);
    CHECK_INT(nacked(seqs, 8), 1);

    /* Again (or a probe re-sending an old packet): nobody gets it twice. */
    retransmit(102, 7001, CAMRTX, 0);
    retransmit(101, 7002, CAMRTX, 0);
    CHECK_INT(fx_rtp_count(sub), to_sub + 1);
    CHECK_INT(w->sfu.drop_rtx_duplicate, 2);
    /* Malformed: shorter than its OSN; of an unknown RTX SSRC. */
    retransmit(105, 7003, CAMRTX, SIZE + 1);
    retransmit(105, 7004, 0xbad, 0);
    CHECK_INT(w->sfu.drop_rtx_malformed, 2);
    CHECK_INT(fx_rtp_count(sub), to_sub + 1);
    /* Receive statistics count first arrivals only (the first one on
     * probation, RFC 3550 A.1): 102 stays lost. */
    CHECK_INT(pub->sources[1].enc[0].rx.received, 3);
    fx_record_stop(s);
    CHECK_INT(fx_teardown(), 0);
}

/* A frame's last packet lost, and resent (a publisher's redundant-payload
 * probing) before the next frame showed the gap: it is the lost packet,
 * not a duplicate, and nothing is asked for. */
static void test_retransmission_before_the_gap_shows(void)
{
    start();
    struct mr_peer *sub = watch(expert_rtx);
    video(100, FX_VP8_KEY);
    video(101, FX_OPAQUE);
    retransmit(102, 7000, CAMRTX, 0);
    video(103, FX_OPAQUE);
    fx_run_ms(30);
    CHECK_INT(fx_rtp_count(sub), 4);
    for (unsigned i = 0; i < 4; i++) {
        struct fx_out o, first;
        CHECK(fx_rtp_get(sub, 0, &first));
        CHECK(fx_rtp_get(sub, i, &o));
        CHECK_INT((uint16_t)(o.h.seq - first.h.seq), i);
    }
    uint16_t seqs[4];
    CHECK_INT(nacked(seqs, 4), 0);
    CHECK_INT(w->sfu.drop_rtx_duplicate, 0);
    CHECK_INT(w->sfu.rtx_recovered, 1);
    CHECK_INT(fx_teardown(), 0);
}

/* A packet that never comes: asked for about once per round trip, then
 * given up for one key-frame request. */
static void test_upstream_give_up(void)
{
    start();
    watch(expert_rtx);
    pub->rtt_us = 1000; /* retries 20 ms apart, then longer */
    video(10, FX_VP8_KEY);
    video(12, FX_OPAQUE);
    int64_t t0 = mr_clock_mono_us();
    fx_sent_clear();
    unsigned before = (unsigned)w->sfu.keyframe_requests;
    while (w->sfu.nack_gave_up == 0 && mr_clock_mono_us() - t0 < 2000000)
        fx_run_ms(10);
    uint16_t seqs[32];
    unsigned n = nacked(seqs, 32);
    CHECK_INT(n, MR_NACK_MAX_TRIES);
    for (unsigned i = 0; i < n; i++)
        CHECK_INT(seqs[i], 11);
    CHECK_INT(w->sfu.nack_gave_up, 1);
    CHECK_INT(pub->sources[1].gave_up, 1);
    CHECK(w->sfu.keyframe_requests + w->sfu.keyframe_coalesced > before);
    CHECK(fx_keyframe_requests(pub, CAM) >= 1);
    /* And the timer rests: nothing missing. */
    CHECK(!mr_nack_pending(&pub->sources[1].enc[0].nack));
    CHECK_INT(fx_teardown(), 0);
}

static void test_viewer_nack_answered_as_rtx(void)
{
    start();
    struct mr_peer *sub = watch(expert_rtx);
    for (uint16_t q = 200; q < 210; q++)
        video(q, q == 200 ? FX_VP8_KEY : FX_OPAQUE);
    struct fx_out o3, o5;
    CHECK(fx_rtp_get(sub, 3, &o3));
    CHECK(fx_rtp_get(sub, 5, &o5));
    unsigned upstream = fx_rtcp_count(pub), sent = fx_rtp_count(sub);
    uint16_t want[2] = {o3.h.seq, o5.h.seq};
    viewer_nack(sub, want, 2);
    CHECK_INT(fx_rtp_count(sub), sent + 2);
    CHECK_INT(w->sfu.nack_in, 2);
    CHECK_INT(w->sfu.rtx_out, 2);
    const struct mr_receiver *rx = &sub->receivers[1];
    for (unsigned i = 0; i < 2; i++) {
        struct fx_out r, orig;
        CHECK(fx_rtp_get(sub, sent + i, &r));
        CHECK(fx_rtp_get(sub, i == 0 ? 3 : 5, &orig));
        CHECK_INT(r.h.ssrc, rx->rtx_ssrc);
        CHECK_INT(r.h.payload_type, 121);
        CHECK_INT(r.h.timestamp, orig.h.timestamp);
        CHECK_INT(r.h.payload_len, orig.h.payload_len + 2);
        CHECK_INT(r.payload[0] << 8 | r.payload[1], want[i]); /* OSN */
        CHECK(memcmp(r.payload + 2, orig.payload, orig.h.payload_len) == 0);
    }
    /* Not again within the viewer's round trip; never upstream. */
    viewer_nack(sub, want, 2);
    CHECK_INT(fx_rtp_count(sub), sent + 2);
    CHECK_INT(w->sfu.rtx_limited, 2);
    CHECK_INT(fx_rtcp_count(pub), upstream);
    CHECK_INT(w->sfu.nack_out, 0);
    /* Never forwarded, or long gone: missed. */
    uint16_t never[1] = {(uint16_t)(o5.h.seq + 100)};
    viewer_nack(sub, never, 1);
    CHECK_INT(w->sfu.rtx_missed, 1);
    CHECK_INT(fx_teardown(), 0);
}

static void test_viewer_nack_without_rtx(void)
{
    start();
    struct mr_peer *sub = watch(expert_plain);
    for (uint16_t q = 300; q < 305; q++)
        video(q, q == 300 ? FX_VP8_KEY : FX_OPAQUE);
    struct fx_out o2, r;
    CHECK(fx_rtp_get(sub, 2, &o2));
    unsigned sent = fx_rtp_count(sub);
    viewer_nack(sub, &o2.h.seq, 1);
    CHECK_INT(fx_rtp_count(sub), sent + 1);
    CHECK(fx_rtp_get(sub, sent, &r));
    /* The same packet again: SSRC, sequence number, payload. */
    CHECK_INT(r.h.ssrc, o2.h.ssrc);
    CHECK_INT(r.h.seq, o2.h.seq);
    CHECK_INT(r.h.payload_type, 120);
    CHECK(fx_out_payload_is(&r, 302, SIZE, 0));
    CHECK_INT(fx_teardown(), 0);
}

/* A viewer NACKing everything spends its own budget; another viewer's
 * requests are still answered. */
static void test_nack_storm_limited(void)
{
    start();
    struct mr_peer *storm = watch(expert_rtx), *calm = watch(expert_rtx);
    for (unsigned q = 0; q < 600; q++)
        video((uint16_t)(1000 + q), q == 0 ? FX_VP8_KEY : FX_OPAQUE);
    struct fx_out first;
    CHECK(fx_rtp_get(storm, 0, &first));
    uint16_t all[600];
    for (unsigned i = 0; i < 600; i++)
        all[i] = (uint16_t)(first.h.seq + i);
    unsigned sent = fx_rtp_count(storm);
    for (int round = 0; round < 3; round++)
        viewer_nack(storm, all, 600);
    unsigned resent = fx_rtp_count(storm) - sent;
    CHECK(resent <= 210); /* the burst allowance, plus what refilled */
    CHECK(resent >= 190);
    CHECK(w->sfu.rtx_limited >= 1500);
    struct fx_out c;
    CHECK(fx_rtp_get(calm, 7, &c));
    unsigned calm_sent = fx_rtp_count(calm);
    viewer_nack(calm, &c.h.seq, 1);
    CHECK_INT(fx_rtp_count(calm), calm_sent + 1);
    CHECK_INT(fx_rtcp_count(pub) > 0 ? fx_keyframe_requests(pub, CAM) : 0, 1); /* its join */
    CHECK_INT(w->sfu.nack_out, 0);
    CHECK_INT(fx_teardown(), 0);
}

/* The publisher's DLRR answers the relay's RRTR: the round trip. */
static void test_rtt_from_xr(void)
{
    start();
    video(1, FX_VP8_KEY);
    fx_run_ms(600); /* a receiver report goes out, with an RRTR */
    size_t len;
    const uint8_t *rr = fx_rtcp_get(pub, fx_rtcp_count(pub) - 1, &len);
    struct mr_rtcp_pkt xr;
    CHECK(rr && fx_rtcp_find(rr, len, MR_RTCP_XR, &xr));
    CHECK_INT(xr.data[8], 4); /* BT=4: Receiver Reference Time */
    CHECK_INT(xr.data[11], 2);
    /* A reference time 50 ms ago, answered after 40 ms: a 10 ms round
     * trip (the middle 32 bits of the NTP time, RFC 3611 §4.5). */
    uint64_t ntp = mr_clock_ntp_from_unix_us(mr_clock_wall_us() - 50000);
    uint32_t lrr = (uint32_t)(ntp >> 16);
    uint32_t dlrr = 40u * 65536u / 1000u;
    uint8_t buf[24] = {0x80, 207, 0, 5, 0, 0, 0, 0x99, 5, 0, 0, 3};
    for (int i = 0; i < 4; i++) {
        buf[12 + i] = (uint8_t)(pub->rtcp_ssrc >> (24 - 8 * i));
        buf[16 + i] = (uint8_t)(lrr >> (24 - 8 * i));
        buf[20 + i] = (uint8_t)(dlrr >> (24 - 8 * i));
    }
    mr_rtcp_from_publisher(pub, buf, sizeof(buf));
    CHECK(pub->rtt_us >= 5000 && pub->rtt_us <= 40000);
    /* Someone else's DLRR, or garbage: nothing learnt. */
    int64_t rtt = pub->rtt_us;
    buf[12] ^= 0xff;
    mr_rtcp_from_publisher(pub, buf, sizeof(buf));
    buf[3] = 9;
    mr_rtcp_from_publisher(pub, buf, sizeof(buf));
    CHECK_INT(pub->rtt_us, rtt);
    CHECK_INT(fx_teardown(), 0);
}

/* A padding-only packet on the camera's SSRC (Chromium's H.264 simulcast
 * layers send hundreds): the viewer's numbering skips it. */
static void padding(uint16_t seq)
{
    struct fx_rtp r = {.pt = 96, .seq = seq, .ts = 3000u * seq, .ssrc = CAM,
                       .payload = FX_NONE, .padding = 200};
    fx_feed(pub, &r);
    fx_run();
}

static void test_padding_skipped(void)
{
    start();
    struct mr_peer *sub = watch(expert_rtx);
    /* 10 11 [12 13] 14 16 [17] 15(late) 18: the viewer sees no gap, the
     * late packet in its place. */
    video(10, FX_VP8_KEY);
    video(11, FX_OPAQUE);
    padding(12);
    padding(13);
    video(14, FX_OPAQUE);
    video(16, FX_OPAQUE);
    padding(17);
    video(15, FX_OPAQUE);
    video(18, FX_OPAQUE);
    CHECK_INT(w->sfu.drop_padding, 3);
    CHECK_INT(fx_rtp_count(sub), 6);
    static const uint16_t in[6] = {10, 11, 14, 16, 15, 18};
    static const int step[6] = {0, 1, 2, 4, 3, 5};
    struct fx_out first;
    CHECK(fx_rtp_get(sub, 0, &first));
    for (unsigned i = 0; i < 6; i++) {
        struct fx_out o;
        CHECK(fx_rtp_get(sub, i, &o));
        CHECK_INT(o.h.seq, (uint16_t)(first.h.seq + step[i]));
        CHECK(i == 0 || fx_out_payload_is(&o, in[i], SIZE, 0)); /* 0: a key frame's */
    }
    /* A NACK of the viewer's numbers finds the packets they stand for. */
    unsigned sent = fx_rtp_count(sub);
    uint16_t want[2] = {(uint16_t)(first.h.seq + 2), (uint16_t)(first.h.seq + 3)};
    viewer_nack(sub, want, 2);
    CHECK_INT(w->sfu.rtx_out, 2);
    for (unsigned i = 0; i < 2; i++) {
        struct fx_out r, orig;
        CHECK(fx_rtp_get(sub, sent + i, &r));
        CHECK(fx_rtp_get(sub, i == 0 ? 2 : 4, &orig));
        CHECK_INT(r.payload[0] << 8 | r.payload[1], want[i]); /* OSN */
        CHECK(memcmp(r.payload + 2, orig.payload, orig.h.payload_len) == 0);
    }
    /* Late padding (older than what was numbered) is left as a gap. */
    padding(9);
    video(19, FX_OPAQUE);
    struct fx_out last;
    CHECK(fx_rtp_get(sub, fx_rtp_count(sub) - 1, &last));
    CHECK_INT(last.h.seq, (uint16_t)(first.h.seq + 6));
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_upstream_gap_nacked_and_recovered),
             MR_TEST(test_retransmission_before_the_gap_shows), MR_TEST(test_upstream_give_up),
             MR_TEST(test_viewer_nack_answered_as_rtx), MR_TEST(test_viewer_nack_without_rtx),
             MR_TEST(test_nack_storm_limited), MR_TEST(test_rtt_from_xr),
             MR_TEST(test_padding_skipped))
