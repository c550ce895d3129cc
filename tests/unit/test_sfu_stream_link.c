/*
 * link_health.c: the publisher leg's figures for the consoles.
 *  - the arithmetic alone: loss before and after repair from the counters
 *    of a window, bitrate, round trip; deltas of one encoding's receive
 *    statistics across a restart or a sequence-number wrap; the figures
 *    handed from the worker to the control thread;
 *  - on the forwarding fixture: a publisher's video with gaps, some of
 *    them repaired by RTX, and audio with gaps, over one window; the next
 *    window; the publisher leaving and another coming; the stream's tick
 *    ending a window by itself.
 */
#include <string.h>

#include "sfu/link_health.h"
#include "sfu_fakes_link.h"
#include "sfu_fixture.h"

#include "core/clock.h"
#include "mr_test.h"

#define MIC    0xa1u
#define CAM    0xc1u
#define CAMRTX 0xc2u
#define SIZE   300

/* --- The arithmetic ---------------------------------------------------------- */

static void test_compute(void)
{
    struct mr_link_window w = {.duration_us = 2000000,
                               .video_expected = 1000,
                               .video_received = 950,
                               .audio_expected = 100,
                               .audio_received = 99,
                               .recovered = 45,
                               .gave_up = 5,
                               .bytes = 500000,
                               .rtt_us = 12345};
    struct mr_link_health h;
    mr_link_health_compute(&w, &h);
    CHECK(h.known);
    CHECK_INT(h.window_ms, 2000);
    CHECK_INT(h.video_packets, 1000);
    CHECK_INT(h.loss_ppm, 50000);      /* 5 % */
    CHECK_INT(h.loss_after_ppm, 5000); /* 0.5 %: 50 lost, 45 brought back */
    CHECK_INT(h.audio_packets, 100);
    CHECK_INT(h.audio_loss_ppm, 10000);
    CHECK_INT(h.recovered, 45);
    CHECK_INT(h.gave_up, 5);
    CHECK_INT(h.kbps, 2000); /* 500 kB in 2 s */
    CHECK_INT(h.rtt_ms, 12);

    /* Recovered in this window what was lost in the last: never below 0. */
    w = (struct mr_link_window){
        .duration_us = 1000000, .video_expected = 10, .video_received = 10, .recovered = 3};
    mr_link_health_compute(&w, &h);
    CHECK_INT(h.loss_ppm, 0);
    CHECK_INT(h.loss_after_ppm, 0);
    CHECK_INT(h.recovered, 3);
    CHECK_INT(h.rtt_ms, -1); /* unknown */
    CHECK_INT(h.kbps, 0);

    /* Duplicates count as arrivals: more received than sent is no loss. */
    w = (struct mr_link_window){.duration_us = 1000000, .video_expected = 10, .video_received = 12};
    mr_link_health_compute(&w, &h);
    CHECK_INT(h.loss_ppm, 0);

    /* Nothing came: every figure stays within a million. */
    w = (struct mr_link_window){.duration_us = 1000000, .video_expected = 7};
    mr_link_health_compute(&w, &h);
    CHECK_INT(h.loss_ppm, 1000000);
    CHECK_INT(h.loss_after_ppm, 1000000);

    /* No video (audio only, or the camera off): no video figures. */
    w = (struct mr_link_window){
        .duration_us = 2000000, .audio_expected = 100, .audio_received = 100, .bytes = 8000};
    mr_link_health_compute(&w, &h);
    CHECK(h.known);
    CHECK_INT(h.video_packets, 0);
    CHECK_INT(h.loss_ppm, 0);
    CHECK_INT(h.kbps, 32);

    /* A window of no length is no window. */
    w = (struct mr_link_window){.duration_us = 0, .video_expected = 10};
    mr_link_health_compute(&w, &h);
    CHECK(!h.known);
    CHECK_INT(h.rtt_ms, -1);

    /* Rounded, not truncated: 1 in 3 is 333333 ppm, 2 in 3 is 666667. */
    w = (struct mr_link_window){
        .duration_us = 1, .video_expected = 3, .video_received = 1, .recovered = 1};
    mr_link_health_compute(&w, &h);
    CHECK_INT(h.loss_ppm, 666667);
    CHECK_INT(h.loss_after_ppm, 333333);
}

static struct mr_rtp_rx_stats stats_after(uint16_t first, unsigned n, const uint16_t *skip,
                                          unsigned n_skip)
{
    struct mr_rtp_rx_stats rx;
    mr_rtp_rx_stats_init(&rx, 90000);
    for (unsigned i = 0; i < n; i++) {
        uint16_t seq = (uint16_t)(first + i);
        bool skipped = false;
        for (unsigned k = 0; k < n_skip; k++)
            skipped = skipped || skip[k] == seq;
        if (!skipped)
            mr_rtp_rx_stats_update(&rx, seq, 3000u * i, 1000 * (int64_t)i);
    }
    return rx;
}

static void test_rtp_delta(void)
{
    /* On probation (one packet): nothing to count yet. */
    struct mr_rtp_rx_stats rx = stats_after(100, 1, NULL, 0);
    struct mr_link_rtp_count c0, c1, c2;
    mr_link_rtp_count(&rx, CAM, &c0);
    CHECK(!c0.valid);
    uint64_t e = 0, r = 0;
    mr_link_rtp_delta(&c0, &c0, &e, &r);
    CHECK_INT(e, 0);

    /* 100..199 with 150 and 160 lost: the first packet is probation's. */
    uint16_t lost[] = {150, 160};
    rx = stats_after(100, 100, lost, 2);
    mr_link_rtp_count(&rx, CAM, &c1);
    CHECK(c1.valid);
    CHECK_INT(c1.expected, 99);
    CHECK_INT(c1.received, 97);
    /* From an invalid count: everything since the start. */
    mr_link_rtp_delta(&c0, &c1, &e, &r);
    CHECK_INT(e, 99);
    CHECK_INT(r, 97);

    /* Later: the difference only, across the sequence-number wrap. */
    struct mr_rtp_rx_stats wrap = stats_after(65000, 1000, NULL, 0);
    mr_link_rtp_count(&wrap, CAM, &c1);
    for (unsigned i = 0; i < 100; i++)
        if (i != 7)
            mr_rtp_rx_stats_update(&wrap, (uint16_t)(65000 + 1000 + i), 0, 0);
    mr_link_rtp_count(&wrap, CAM, &c2);
    e = r = 0;
    mr_link_rtp_delta(&c1, &c2, &e, &r);
    CHECK_INT(e, 100);
    CHECK_INT(r, 99);

    /* Another SSRC, or statistics that restarted: counted from the restart. */
    c1.ssrc = 0x1234;
    e = r = 0;
    mr_link_rtp_delta(&c1, &c2, &e, &r);
    CHECK_INT(e, c2.expected);
    CHECK_INT(r, c2.received);
    mr_link_rtp_count(&wrap, CAM, &c1);
    c1.received = c2.received + 1;
    e = r = 0;
    mr_link_rtp_delta(&c1, &c2, &e, &r);
    CHECK_INT(e, c2.expected);

    /* Gone invalid (a new stream on probation): nothing added. */
    e = r = 0;
    mr_link_rtp_delta(&c2, &c0, &e, &r);
    CHECK_INT(e, 0);
    CHECK_INT(r, 0);
}

static void test_shared(void)
{
    struct mr_link_shared sh;
    memset(&sh, 0, sizeof(sh));
    struct mr_link_health in = {.known = true,
                                .window_ms = 2000,
                                .loss_ppm = 7,
                                .kbps = 900,
                                .rtt_ms = 20},
                          out;
    mr_link_shared_write(&sh, &in);
    CHECK_INT(sh.seq, 2);
    mr_link_shared_read(&sh, &out);
    CHECK(out.known);
    CHECK_INT(out.loss_ppm, 7);
    CHECK_INT(out.kbps, 900);
    CHECK_INT(out.rtt_ms, 20);
    /* Caught in the middle of a write (and for every retry): unknown. */
    sh.seq = 3;
    mr_link_shared_read(&sh, &out);
    CHECK(!out.known);
    CHECK_INT(out.rtt_ms, -1);
}

/* --- On the forwarding fixture ----------------------------------------------- */

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

static struct mr_stream *s;
static struct mr_peer *pub;

static void video(uint16_t seq, enum fx_payload payload)
{
    struct fx_rtp r = {
        .pt = 96, .seq = seq, .ts = 3000u * seq, .ssrc = CAM, .payload = payload, .size = SIZE};
    fx_feed(pub, &r);
}

static void audio(uint16_t seq)
{
    struct fx_rtp r = {
        .pt = 111, .seq = seq, .ts = 960u * seq, .ssrc = MIC, .payload = FX_OPAQUE, .size = 80};
    fx_feed(pub, &r);
}

/* The publisher's retransmission of seq (RFC 4588). */
static void retransmit(uint16_t seq, uint16_t rtx_seq)
{
    uint8_t pkt[MR_TRANSPORT_BUF], out[MR_TRANSPORT_BUF];
    struct fx_rtp r = {.pt = 96,
                       .seq = seq,
                       .ts = 3000u * seq,
                       .ssrc = CAM,
                       .payload = FX_VP8_DELTA,
                       .size = SIZE};
    size_t len = fx_rtp_build(&r, pkt, sizeof(pkt));
    int n = mr_rtp_rtx_wrap(out, sizeof(out), pkt, 12, pkt + 12, len - 12, 97, rtx_seq, CAMRTX);
    CHECK(n > 0);
    mr_forward_rtp(pub, out, (size_t)n);
}

static bool is_lost(uint16_t seq)
{
    return seq % 20 == 5; /* 105, 125, ..., 285: ten of 101..300 */
}

static struct mr_link_health figures(void)
{
    struct mr_link_health h;
    mr_link_shared_read(&s->link_out, &h);
    return h;
}

static void test_window_on_fixture(void)
{
    fx_setup();
    s = fx_stream("cam", 30);
    fx_set_bytes_in(1000); /* the DTLS handshake, before the window */
    pub = fx_publisher(s, clinic, 2);
    mr_stream_attach(s, pub);
    CHECK(s->link.running);
    CHECK(!figures().known); /* no window yet */
    int64_t t0 = s->link.since_us;

    /* Video 100..300, ten lost, four of them brought back by RTX; audio
     * 1000..1050, two lost. */
    video(100, FX_VP8_KEY);
    for (uint16_t seq = 101; seq <= 300; seq++)
        if (!is_lost(seq))
            video(seq, FX_VP8_DELTA);
    retransmit(105, 1);
    retransmit(125, 2);
    retransmit(145, 3);
    retransmit(165, 4);
    retransmit(165, 5); /* a duplicate: not recovered twice */
    for (uint16_t seq = 1000; seq <= 1050; seq++)
        if (seq != 1020 && seq != 1030)
            audio(seq);
    fx_set_bytes_in(1000 + 500000);
    pub->rtt_us = 15400;
    mr_link_health_sample(s, t0 + 2000000);

    struct mr_link_health h = figures();
    CHECK(h.known);
    CHECK_INT(h.window_ms, 2000);
    CHECK_INT(h.video_packets, 200);    /* 101..300: 100 was probation's */
    CHECK_INT(h.loss_ppm, 50000);       /* 10 of 200 */
    CHECK_INT(h.loss_after_ppm, 30000); /* 6 of 200 */
    CHECK_INT(h.recovered, 4);
    CHECK_INT(h.gave_up, 0);
    CHECK_INT(h.audio_packets, 50);
    CHECK_INT(h.audio_loss_ppm, 40000);
    CHECK_INT(h.kbps, 2000);
    CHECK_INT(h.rtt_ms, 15);

    /* The next window: the last loss recovered late, ten new packets. */
    for (uint16_t seq = 301; seq <= 310; seq++)
        video(seq, FX_VP8_DELTA);
    retransmit(185, 6);
    mr_link_health_sample(s, t0 + 4000000);
    h = figures();
    CHECK(h.known);
    CHECK_INT(h.video_packets, 10);
    CHECK_INT(h.loss_ppm, 0);
    CHECK_INT(h.loss_after_ppm, 0);
    CHECK_INT(h.recovered, 1);
    CHECK_INT(h.audio_packets, 0);
    CHECK_INT(h.kbps, 0);

    /* The publisher leaves: unknown; another comes: unknown until its
     * first window ends, and counted from its own start. */
    mr_stream_detach(s, pub);
    CHECK(!figures().known);
    CHECK(!s->link.running);
    fx_peer_free(pub);
    pub = fx_publisher(s, clinic, 2);
    mr_stream_attach(s, pub);
    CHECK(!figures().known);
    video(7, FX_VP8_KEY);
    for (uint16_t seq = 8; seq <= 27; seq++)
        video(seq, FX_VP8_DELTA);
    mr_link_health_sample(s, s->link.since_us + 2000000);
    h = figures();
    CHECK(h.known);
    CHECK_INT(h.video_packets, 20);
    CHECK_INT(h.loss_ppm, 0);
    CHECK_INT(h.recovered, 0);
    CHECK_INT(fx_teardown(), 0);
}

/* The stream's 500 ms tick ends a window after about 2 s on its own. */
static void test_tick_ends_window(void)
{
    fx_setup();
    s = fx_stream("cam", 30);
    pub = fx_publisher(s, clinic, 2);
    mr_stream_attach(s, pub);
    int64_t t0 = mr_clock_mono_us();
    video(1, FX_VP8_KEY);
    for (uint16_t seq = 2; seq <= 40; seq++)
        if (seq != 30)
            video(seq, FX_VP8_DELTA);
    while (!figures().known && mr_clock_mono_us() - t0 < 3000000)
        fx_run_ms(50);
    struct mr_link_health h = figures();
    CHECK(h.known);
    int64_t took = mr_clock_mono_us() - t0;
    CHECK(took >= MR_LINK_WINDOW_US - MR_LINK_SLACK_US);
    CHECK(took < MR_LINK_WINDOW_US + 700000);
    CHECK(h.window_ms >= 1900 && h.window_ms < 2700);
    CHECK_INT(h.video_packets, 39);
    CHECK_INT(h.loss_ppm, 25641); /* 1 of 39 (a NACK went out; no answer) */
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_compute), MR_TEST(test_rtp_delta), MR_TEST(test_shared),
             MR_TEST(test_window_on_fixture), MR_TEST(test_tick_ends_window))
