/*
 * stream.c: a stream on its worker. Attaching and detaching publishers
 * rebinds the receivers (by kind and rank, bind.c); WHEP viewers wait
 * grace_s for a publisher, room subscriptions stay; key-frame requests are
 * coalesced (stream.c's KEYFRAME_REQUEST_WINDOW_US and _GAP_US, pinned
 * here); a moderator's unmute restarts the receivers; the tick reports to
 * the publisher and asks again for a key frame somebody still waits for.
 */
#include "core/clock.h"
#include "sfu_fixture.h"

#include "mr_test.h"

#define WINDOW_US 300000 /* KEYFRAME_REQUEST_WINDOW_US */
#define GAP_US    100000 /* KEYFRAME_REQUEST_GAP_US */
#define TICK_MS   500
#define CAM       0xc1u /* the camera's SSRC */
#define CAM_BACK  0xc2u /* ... when the clinic comes back */
#define SCREEN    0x51u /* its second video: a device screen */

static const struct fx_track clinic[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 111, .ssrc = 0xa1},
    {.kind = MR_MEDIA_VIDEO,
     .mid = "1",
     .codec = MR_CODEC_VP8,
     .pt = 96,
     .ssrc = 0xc1,
     .fb = MR_FB_NACK_PLI},
    {.kind = MR_MEDIA_VIDEO,
     .mid = "2",
     .codec = MR_CODEC_VP8,
     .pt = 96,
     .ssrc = 0x51,
     .fb = MR_FB_NACK_PLI},
};

/* The same clinic back with its sections in another order, other SSRCs. */
static const struct fx_track clinic_back[] = {
    {.kind = MR_MEDIA_VIDEO,
     .mid = "v0",
     .codec = MR_CODEC_VP8,
     .pt = 100,
     .ssrc = 0xc2,
     .fb = MR_FB_NACK_PLI},
    {.kind = MR_MEDIA_VIDEO,
     .mid = "v1",
     .codec = MR_CODEC_VP8,
     .pt = 100,
     .ssrc = 0x52,
     .fb = MR_FB_NACK_PLI},
    {.kind = MR_MEDIA_AUDIO, .mid = "a0", .codec = MR_CODEC_OPUS, .pt = 109, .ssrc = 0xa2},
};

static const struct fx_track expert[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 111},
    {.kind = MR_MEDIA_VIDEO, .mid = "1", .codec = MR_CODEC_VP8, .pt = 96},
    {.kind = MR_MEDIA_VIDEO, .mid = "2", .codec = MR_CODEC_VP8, .pt = 96},
};

static struct mr_worker *w;
static struct mr_stream *s;

static struct mr_peer *publish(const struct fx_track *t)
{
    struct mr_peer *p = fx_publisher(s, t, 3);
    mr_stream_attach(s, p);
    return p;
}

static struct mr_peer *watch(void)
{
    struct mr_peer *p = fx_subscriber(s, expert, 3);
    mr_stream_attach(s, p);
    return p;
}

static void send(struct mr_peer *pub, const struct fx_track *t, uint16_t seq, uint32_t ts,
                 enum fx_payload kind)
{
    fx_feed(
        pub,
        &(struct fx_rtp){
            .pt = t->pt, .ssrc = t->ssrc, .seq = seq, .ts = ts, .payload = kind, .marker = true});
}

static uint16_t last_seq(const struct mr_peer *p, uint32_t ssrc)
{
    struct fx_out o;
    uint16_t seq = 0;
    for (unsigned i = 0; fx_rtp_get(p, i, &o); i++)
        if (o.h.ssrc == ssrc)
            seq = o.h.seq;
    return seq;
}

static void test_publisher_rebinds(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    struct mr_peer *sub = watch(); /* before anyone publishes */
    struct mr_receiver *rx = sub->receivers;
    CHECK(rx[0].src == -1 && rx[1].src == -1 && rx[2].src == -1);
    CHECK(!rx[0].compatible);
    CHECK_INT(s->sinks->len, 1);

    struct mr_peer *pub = publish(clinic);
    struct mr_recording *rec = fx_record(s, clinic, 3);
    struct mr_receiver *tap = s->rec_tap->receivers;
    CHECK(rx[0].src == 0 && rx[1].src == 1 && rx[2].src == 2);
    CHECK(rx[0].compatible && rx[1].compatible && rx[2].compatible);
    CHECK(rx[1].waiting_keyframe && rx[2].waiting_keyframe && !rx[0].waiting_keyframe);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 1);
    send(pub, &clinic[1], 10, 1000, FX_VP8_KEY);
    send(pub, &clinic[0], 10, 1000, FX_OPAQUE);
    uint16_t cam = last_seq(sub, rx[1].out_ssrc), mic = last_seq(sub, rx[0].out_ssrc);
    CHECK_INT(fx_rtp_count(sub), 2);

    /* The clinic drops: unbound, and the viewers' grace period starts. */
    mr_stream_detach(s, pub);
    CHECK(!s->publisher && !pub->attached);
    CHECK(rx[0].src == -1 && rx[1].src == -1 && !rx[1].compatible);
    CHECK(tap[0].src == -1 && tap[1].src == -1 && tap[2].src == -1);
    CHECK(s->grace);
    send(pub, &clinic[0], 11, 1960, FX_OPAQUE); /* a straggler: nowhere to go */
    CHECK_INT(fx_rtp_count(sub), 2);

    /* Back, in another order: each receiver finds its kind and rank. */
    struct mr_peer *back = publish(clinic_back);
    CHECK(!s->grace);
    CHECK(rx[0].src == 2 && rx[1].src == 0 && rx[2].src == 1);
    CHECK(tap[0].src == 2 && tap[1].src == 0 && tap[2].src == 1); /* so is the recording */
    CHECK(tap[1].waiting_keyframe && !tap[1].rw.bound);
    CHECK_INT(fx_keyframe_requests(back, CAM_BACK), 1);
    send(back, &clinic_back[1], 7000, 5, FX_VP8_KEY);
    send(back, &clinic_back[0], 9000, 5, FX_VP8_KEY);
    send(back, &clinic_back[2], 3, 5, FX_OPAQUE);
    CHECK_INT(fx_rtp_count(sub), 5);
    struct fx_out o;
    CHECK(fx_rtp_get(sub, 3, &o));
    CHECK_INT(o.h.ssrc, rx[1].out_ssrc);
    CHECK_INT(o.h.payload_type, 96); /* the viewer's numbering */
    CHECK_INT(o.h.seq, (uint16_t)(cam + 1));
    CHECK_INT(last_seq(sub, rx[0].out_ssrc), (uint16_t)(mic + 1));
    CHECK_INT(fx_rec_count(rec), 5);
    CHECK_INT(fx_failed_count(), 0);
    CHECK_INT(fx_teardown(), 0);
}

static void test_grace_closes_whep_viewers(void)
{
    w = fx_setup();
    s = fx_stream("cam", 1);
    struct mr_peer *pub = publish(clinic);
    struct mr_peer *sub = watch();
    struct mr_sink *slice = fx_room_sub(NULL, s, expert, 3);
    mr_stream_detach(s, pub);
    CHECK(s->grace);
    /* Within the grace period nothing happens (GLib's whole-second timers
     * may fire up to a quarter second early). */
    fx_run_ms(700);
    CHECK_INT(fx_failed_count(), 0);
    CHECK(sub->attached);
    fx_run_ms(1400);
    CHECK_INT(fx_failed_count(), 1);
    CHECK(fx_failed_peer(0) == sub);
    CHECK_STR(fx_failed_why(0), "the publisher did not return within the grace period");
    CHECK(sub->dead && !sub->attached && !sub->sink.attached);
    /* The room subscription keeps its slice, unbound, for its other
     * streams and for the publisher's return. */
    CHECK(slice->attached);
    CHECK_INT(s->sinks->len, 1);
    CHECK(g_ptr_array_index(s->sinks, 0) == slice);
    CHECK(!s->grace);

    /* A publisher back in time stops the clock; without viewers none
     * starts. */
    struct mr_peer *again = publish(clinic);
    struct mr_peer *sub2 = watch();
    mr_stream_detach(s, again);
    CHECK(s->grace);
    publish(clinic);
    CHECK(!s->grace);
    CHECK(sub2->attached && !sub2->dead);
    fx_peer_free(sub2);
    fx_peer_free(slice->peer);
    mr_stream_detach(s, s->publisher);
    CHECK(!s->grace);
    CHECK_INT(fx_failed_count(), 1);
    CHECK_INT(fx_teardown(), 0);
}

static void test_keyframe_window(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    struct mr_peer *pub = publish(clinic);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 0); /* nobody watches */
    watch();
    /* The viewer takes both video sources: each is asked once. */
    CHECK_INT(fx_keyframe_requests(pub, CAM), 1);
    CHECK_INT(fx_keyframe_requests(pub, SCREEN), 1);
    CHECK_INT(w->sfu.keyframe_requests, 2);
    int64_t t0 = s->kf[1].last_request_us;
    CHECK(t0 > 0);
    /* While it is pending, everyone who asks is served by it. */
    watch();
    watch();
    mr_keyframe_request(s, 1, t0 + WINDOW_US - 1);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 1);
    CHECK_INT(w->sfu.keyframe_requests, 2);
    CHECK_INT(w->sfu.keyframe_coalesced, 5); /* 2 + 2 for the viewers, 1 */
    CHECK(!s->keyframe_retry); /* the tick asks again if it never comes */
    /* No key frame within the window: ask again, that source only. */
    mr_keyframe_request(s, 1, t0 + WINDOW_US);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 2);
    CHECK_INT(fx_keyframe_requests(pub, SCREEN), 1);
    CHECK_INT(s->kf[1].last_request_us, t0 + WINDOW_US);
    CHECK_INT(w->sfu.keyframe_requests, 3);

    /* A key frame of one source answers its requests, not the other's. */
    send(pub, &clinic[2], 1, 0, FX_VP8_KEY);
    CHECK(s->kf[2].last_keyframe_us > 0);
    CHECK_INT(s->kf[1].last_keyframe_us, 0);

    /* An audio source is never asked. */
    mr_keyframe_request(s, 0, t0 + 10 * WINDOW_US);
    CHECK_INT(w->sfu.keyframe_requests, 3);

    /* A new publisher starts afresh: asked at once. */
    struct mr_peer *back = publish(clinic_back);
    CHECK_INT(fx_keyframe_requests(back, CAM_BACK), 1);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 2);
    /* A dead publisher is not asked. */
    back->dead = true;
    s->kf[0].last_request_us = 0;
    mr_keyframe_request(s, -1, mr_clock_mono_us());
    CHECK_INT(fx_keyframe_requests(back, CAM_BACK), 1);
    CHECK_INT(fx_teardown(), 0);
}

static void test_keyframe_gap(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    struct mr_peer *pub = publish(clinic);
    struct mr_peer *sub = watch();
    /* A request ten seconds ago, answered by a key frame now. */
    int64_t t = mr_clock_mono_us() - 10000000;
    s->kf[1].last_request_us = 0;
    mr_keyframe_request(s, 1, t);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 2);
    send(pub, &clinic[1], 1, 0, FX_VP8_KEY);
    CHECK(s->kf[1].last_keyframe_us >= t);
    CHECK(!sub->receivers[1].waiting_keyframe);

    /* Whoever asks now missed it: asked for GAP after the last request,
     * by a retry armed for then. */
    mr_keyframe_request(s, 1, t + GAP_US - 1);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 2);
    CHECK(s->keyframe_retry);
    mr_keyframe_request(s, 1, t + GAP_US);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 3);
    CHECK(!s->keyframe_retry); /* a request went out: the retry goes */

    /* The retry asks only if a receiver still waits for a key frame. */
    send(pub, &clinic[1], 2, 3000, FX_VP8_KEY);
    sub->receivers[2].waiting_keyframe = true;
    int64_t last = s->kf[1].last_request_us;
    mr_keyframe_request(s, 1, last + GAP_US - 1000); /* a retry in 1 ms */
    CHECK(s->keyframe_retry);
    fx_run_ms(20);
    CHECK(!s->keyframe_retry);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 4);

    /* Nobody waits, but someone asked after the key frame (a viewer's PLI
     * after losing part of it): the retry asks for it. As if the last
     * request was long ago, so that a retry would go out. */
    send(pub, &clinic[1], 3, 6000, FX_VP8_KEY);
    send(pub, &clinic[2], 1, 6000, FX_VP8_KEY);
    CHECK(!sub->receivers[2].waiting_keyframe);
    last = s->kf[1].last_request_us = mr_clock_mono_us() - 10000000;
    mr_keyframe_request(s, 1, last + GAP_US - 1000);
    CHECK(s->keyframe_retry);
    fx_run_ms(20);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 5);
    CHECK(!s->kf[1].deferred);

    /* A request that went out answers the deferred ask: no retry after. */
    send(pub, &clinic[1], 4, 9000, FX_VP8_KEY);
    last = s->kf[1].last_request_us = mr_clock_mono_us() - 10000000;
    mr_keyframe_request(s, 1, last + GAP_US - 1000);
    CHECK(s->kf[1].deferred);
    mr_keyframe_request(s, 1, last + GAP_US);
    CHECK(!s->kf[1].deferred && !s->keyframe_retry);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 6);
    CHECK_INT(fx_teardown(), 0);
}

static void test_tick(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    static const struct fx_track h264[] = {
        {.kind = MR_MEDIA_VIDEO, .mid = "0", .codec = MR_CODEC_H264, .pt = 102}};
    struct mr_peer *pub = publish(clinic);
    struct mr_peer *sub = watch();
    struct mr_peer *other = fx_subscriber(s, h264, 1); /* cannot take VP8: never served */
    mr_stream_attach(s, other);
    CHECK(other->receivers[0].waiting_keyframe && !other->receivers[0].compatible);
    send(pub, &clinic[0], 1, 960, FX_OPAQUE);
    send(pub, &clinic[0], 2, 1920, FX_OPAQUE);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 1);
    CHECK_INT(fx_reports(pub), 0);
    /* The key frame asked for on arrival never came: the tick asks again,
     * with a receiver report. (Halfway between ticks from here on.) */
    fx_run_ms(TICK_MS + TICK_MS / 2);
    CHECK_INT(fx_reports(pub), 1);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 2);

    /* Served: only reports. */
    send(pub, &clinic[1], 1, 0, FX_VP8_KEY);
    send(pub, &clinic[2], 1, 0, FX_VP8_KEY);
    CHECK(!sub->receivers[1].waiting_keyframe && !sub->receivers[2].waiting_keyframe);
    fx_run_ms(TICK_MS);
    CHECK_INT(fx_reports(pub), 2);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 2);

    /* The recorder wants one (a segment is due): the tick asks. */
    struct mr_recording *rec = fx_record(s, clinic, 3);
    send(pub, &clinic[1], 2, 3000, FX_VP8_KEY);
    send(pub, &clinic[2], 2, 3000, FX_VP8_KEY);
    unsigned asked = fx_keyframe_requests(pub, CAM);
    fx_rec_want_keyframe(rec);
    fx_run_ms(TICK_MS);
    CHECK_INT(fx_keyframe_requests(pub, CAM), asked + 1);

    /* A dead publisher gets nothing. */
    pub->dead = true;
    unsigned n = fx_rtcp_count(pub);
    fx_run_ms(TICK_MS);
    CHECK_INT(fx_rtcp_count(pub), n);
    CHECK_INT(fx_teardown(), 0);
}

static void test_unmute_restarts(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    struct mr_peer *pub = publish(clinic);
    struct mr_peer *sub = watch();
    struct mr_recording *rec = fx_record(s, clinic, 3);
    struct mr_receiver *rx = sub->receivers;
    send(pub, &clinic[1], 100, 9000, FX_VP8_KEY);
    send(pub, &clinic[0], 100, 4800, FX_OPAQUE);
    uint16_t cam = last_seq(sub, rx[1].out_ssrc), mic = last_seq(sub, rx[0].out_ssrc);
    CHECK_INT(fx_rec_count(rec), 2);

    s->muted[MR_MEDIA_AUDIO] = s->muted[MR_MEDIA_VIDEO] = true;
    mr_stream_post_muted(s);
    CHECK(!s->fwd_muted[MR_MEDIA_AUDIO]); /* the worker applies it, later */
    fx_run();
    CHECK(s->fwd_muted[MR_MEDIA_AUDIO] && s->fwd_muted[MR_MEDIA_VIDEO]);
    CHECK(!rx[1].waiting_keyframe && rx[0].rw.bound); /* muting restarts nothing */
    send(pub, &clinic[1], 101, 12000, FX_VP8_DELTA);
    CHECK_INT(fx_rtp_count(sub), 2);

    s->muted[MR_MEDIA_AUDIO] = s->muted[MR_MEDIA_VIDEO] = false;
    mr_stream_post_muted(s);
    unsigned asked = fx_keyframe_requests(pub, CAM);
    fx_run_ms(GAP_US / 1000 + 50);
    CHECK(!s->fwd_muted[MR_MEDIA_AUDIO] && !s->fwd_muted[MR_MEDIA_VIDEO]);
    CHECK(rx[1].waiting_keyframe && rx[2].waiting_keyframe);
    CHECK(!rx[0].rw.bound && !rx[1].rw.bound);
    CHECK_INT(fx_keyframe_requests(pub, CAM), asked + 1);
    /* The recording's receivers restart too. */
    CHECK(s->rec_tap->receivers[1].waiting_keyframe);

    /* No gap that looks like loss: the next packets follow on. */
    send(pub, &clinic[0], 900, 480000, FX_OPAQUE);
    CHECK_INT(last_seq(sub, rx[0].out_ssrc), (uint16_t)(mic + 1));
    send(pub, &clinic[1], 950, 900000, FX_VP8_DELTA);
    CHECK_INT(last_seq(sub, rx[1].out_ssrc), cam);
    send(pub, &clinic[1], 951, 903000, FX_VP8_KEY);
    CHECK_INT(last_seq(sub, rx[1].out_ssrc), (uint16_t)(cam + 1));
    CHECK_INT(fx_teardown(), 0);
}

static void test_restart_flushes_first(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    struct mr_peer *pub = publish(clinic);
    struct mr_peer *sub = watch();
    send(pub, &clinic[1], 1, 0, FX_VP8_KEY);
    /* A frame waiting in the burst was sent before the restart: it goes
     * out under the old state, not held back for the next key frame. */
    fx_set_backlog(pub, 3000, 1 << 20);
    send(pub, &clinic[1], 2, 3000, FX_VP8_DELTA);
    CHECK_INT(fx_rtp_count(sub), 1);
    mr_stream_restart_receivers(s, MR_MEDIA_VIDEO);
    CHECK_INT(fx_rtp_count(sub), 2);
    CHECK(sub->receivers[1].waiting_keyframe);
    send(pub, &clinic[1], 3, 6000, FX_VP8_DELTA);
    fx_run();
    CHECK_INT(fx_rtp_count(sub), 2);
    CHECK_INT(fx_teardown(), 0);
}

static void test_sinks_in_order(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    struct mr_peer *pub = publish(clinic);
    struct mr_peer *a = watch(), *b = watch(), *c = watch(), *d = watch();
    mr_stream_add_sink(s, &a->sink); /* twice: once in the list */
    CHECK_INT(s->sinks->len, 4);
    mr_stream_detach(s, b);
    mr_stream_detach(s, b);
    CHECK_INT(s->sinks->len, 3);
    fx_sent_clear();
    send(pub, &clinic[0], 1, 960, FX_OPAQUE);
    /* In the order they came: the newest viewer stays last. */
    CHECK_INT(fx_sent_total(), 3);
    CHECK(fx_sent_at(0)->peer == a);
    CHECK(fx_sent_at(1)->peer == c);
    CHECK(fx_sent_at(2)->peer == d);
    CHECK_INT(fx_teardown(), 0);
}

/* Each source is asked for itself: a viewer's PLI for the device screen
 * does not make the camera send a key frame (a clinic's uplink pays for
 * every one), and a viewer that takes only audio asks for none. */
static void test_keyframe_per_source(void)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    struct mr_peer *pub = publish(clinic);
    struct mr_peer *ears = fx_subscriber(s, expert, 1); /* audio only */
    mr_stream_attach(s, ears);
    CHECK_INT(fx_keyframe_requests(pub, CAM) + fx_keyframe_requests(pub, SCREEN), 0);
    CHECK_INT(w->sfu.keyframe_requests, 0);

    struct mr_peer *sub = watch();
    CHECK_INT(fx_keyframe_requests(pub, CAM), 1);
    CHECK_INT(fx_keyframe_requests(pub, SCREEN), 1);
    /* Both answered; later the screen's viewer loses a packet of it. */
    send(pub, &clinic[1], 1, 0, FX_VP8_KEY);
    send(pub, &clinic[2], 1, 0, FX_VP8_KEY);
    s->kf[1].last_request_us = s->kf[2].last_request_us = 0;
    uint8_t buf[64];
    struct mr_rtcp_rr rr = {.ssrc = 0x5eb};
    int n = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    n += mr_rtcp_write_pli(buf + n, sizeof(buf) - (size_t)n, 0x5eb, sub->receivers[2].out_ssrc);
    mr_rtcp_from_subscriber(sub, buf, (size_t)n);
    CHECK_INT(fx_keyframe_requests(pub, SCREEN), 2);
    CHECK_INT(fx_keyframe_requests(pub, CAM), 1);
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_publisher_rebinds), MR_TEST(test_grace_closes_whep_viewers),
             MR_TEST(test_keyframe_window), MR_TEST(test_keyframe_gap), MR_TEST(test_keyframe_per_source), MR_TEST(test_tick),
             MR_TEST(test_unmute_restarts), MR_TEST(test_restart_flushes_first),
             MR_TEST(test_sinks_in_order))
