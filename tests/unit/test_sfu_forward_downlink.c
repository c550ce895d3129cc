/*
 * A viewer's downlink through the forwarding path (forward.c, retransmit.c,
 * downlink.c, allocate.c, layers.c, relay/bwe): the relay numbers what it
 * sends a viewer that negotiated transport-cc, reads the viewer's feedback,
 * moves it to a lower simulcast layer when its link cannot carry the top
 * one, probes with padding on RTX while it is held low, and moves it back
 * up once the link has room again.
 *
 * The viewer's link is simulated: each datagram sent to it goes through a
 * bottleneck of a given rate (a FIFO dropping what would wait over 50 ms,
 * as tbf does), and the viewer reports arrivals every 50 ms with the
 * relay's own feedback writer (rtcp/twcc.h). Runs in real time (~35 s).
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "rtcp/twcc.h"
#include "sfu/downlink.h"
#include "sfu_fixture.h"

#include "mr_test.h"

#define PT_VP8     96
#define PT_VP8_RTX 97
#define EXT_MID    4
#define EXT_RID    10
#define EXT_TCC    3
#define STEP_MS    10
#define QUEUE_US   50000

static const uint32_t ssrc_of[3] = {0x1111, 0x2222, 0x3333}; /* q h f */
static const char *const rid_of[3] = {"q", "h", "f"};
/* Per 30 ms frame: q 160, h 530, f 1600 kbit/s. */
static const unsigned packets_of[3] = {1, 2, 6};
static const unsigned size_of[3] = {600, 1000, 1000};

struct sim {
    struct mr_peer *pub, *sub;
    struct mr_receiver *rx; /* the viewer's video receiver */
    uint16_t seq[3], pid[3];
    uint32_t ts;
    unsigned kf_seen[3];
    int64_t next_frame_us;
    /* The link. */
    uint32_t rate_bps;
    int64_t free_us;  /* when the bottleneck is next idle */
    unsigned scanned; /* datagrams looked at */
    struct {
        uint16_t tseq;
        int64_t at;
    } fifo[4096];
    unsigned head, tail;
    struct mr_twcc_rx twcc;
    int64_t next_fb_us;
    /* What the viewer was sent. */
    unsigned without_tseq, gaps, padding;
    bool have_tseq;
    uint16_t last_tseq;
};

static void feed_frame(struct sim *s)
{
    s->ts += 2700;
    for (unsigned l = 0; l < 3; l++) {
        /* A key frame when the relay asked for one on this layer. */
        unsigned asked = fx_keyframe_requests(s->pub, ssrc_of[l]);
        bool key = asked != s->kf_seen[l];
        s->kf_seen[l] = asked;
        for (unsigned k = 0; k < packets_of[l]; k++) {
            struct fx_rtp r = {.pt = PT_VP8,
                               .seq = s->seq[l]++,
                               .ts = s->ts,
                               .ssrc = ssrc_of[l],
                               .marker = k + 1 == packets_of[l],
                               .payload = k == 0 ? (key ? FX_VP8_KEY : FX_VP8_DELTA) : FX_OPAQUE,
                               .size = size_of[l],
                               .rid_id = EXT_RID,
                               .rid = rid_of[l],
                               .vp8_pid = k == 0,
                               .pid = s->pid[l],
                               .tl0 = 1};
            fx_feed(s->pub, &r);
        }
        s->pid[l]++;
    }
}

/* Datagrams sent to the viewer since the last look: into the bottleneck. */
static void send_into_link(struct sim *s, int64_t now)
{
    for (; s->scanned < fx_sent_total(); s->scanned++) {
        const struct fx_datagram *d = fx_sent_at(s->scanned);
        struct fx_out o;
        if (d->peer != s->sub || d->rtcp || !fx_out_parse(d->data, d->len, &o))
            continue;
        unsigned len;
        const uint8_t *e = fx_out_ext(&o, EXT_TCC, &len);
        if (!e || len != 2) {
            s->without_tseq++;
            continue;
        }
        uint16_t tseq = (uint16_t)(e[0] << 8 | e[1]);
        if (s->have_tseq && tseq != (uint16_t)(s->last_tseq + 1))
            s->gaps++;
        s->have_tseq = true;
        s->last_tseq = tseq;
        if (o.h.payload_len == 0 && o.h.ssrc == s->rx->rtx_ssrc)
            s->padding++;
        int64_t start = s->free_us > now ? s->free_us : now;
        if (start - now > QUEUE_US)
            continue; /* the queue is full: dropped */
        s->free_us = start + (int64_t)(d->len + 38) * 8 * 1000000 / s->rate_bps;
        s->fifo[s->tail++ % 4096].tseq = tseq;
        s->fifo[(s->tail - 1) % 4096].at = s->free_us;
    }
}

/* Arrivals due by now, and the viewer's feedback every 50 ms. */
static void viewer_side(struct sim *s, int64_t now)
{
    while (s->head != s->tail && s->fifo[s->head % 4096].at <= now) {
        mr_twcc_rx_on_packet(&s->twcc, s->fifo[s->head % 4096].tseq, s->fifo[s->head % 4096].at);
        s->head++;
    }
    if (now < s->next_fb_us)
        return;
    s->next_fb_us = now + 50000;
    uint8_t buf[1500];
    int n;
    while ((n = mr_twcc_rx_write_feedback(&s->twcc, 0x5eed, s->rx->out_ssrc, now, buf,
                                          sizeof(buf))) > 0)
        mr_rtcp_from_subscriber(s->sub, buf, (size_t)n);
}

/* Runs for ms; returns the ms until the viewer's encoding was `until`
 * (-1: not within ms; ms run in full when until < 0). */
static int run(struct sim *s, unsigned ms, int until)
{
    int64_t start = mr_clock_mono_us();
    for (;;) {
        int64_t now = mr_clock_mono_us();
        if (now - start >= (int64_t)ms * 1000)
            return -1;
        if (until >= 0 && s->rx->encoding == (unsigned)until)
            return (int)((now - start) / 1000);
        if (now >= s->next_frame_us) {
            feed_frame(s);
            s->next_frame_us += 30000;
        }
        fx_run();
        send_into_link(s, now);
        viewer_side(s, now);
        fx_run_ms(STEP_MS);
    }
}

static const struct fx_track publisher_track = {.kind = MR_MEDIA_VIDEO,
                                                 .mid = "v",
                                                 .codec = MR_CODEC_VP8,
                                                 .pt = PT_VP8,
                                                 .mid_id = EXT_MID,
                                                 .fb = MR_FB_NACK_PLI,
                                                 .n_layers = 3,
                                                 .rids = {"q", "h", "f"},
                                                 .rid_id = EXT_RID};
static const struct fx_track viewer_track = {.kind = MR_MEDIA_VIDEO,
                                             .mid = "0",
                                             .codec = MR_CODEC_VP8,
                                             .pt = 98,
                                             .rtx_pt = 99,
                                             .mid_id = 1,
                                             .tcc_id = EXT_TCC,
                                             .fb = MR_FB_NACK_PLI | MR_FB_NACK | MR_FB_TWCC};

/* A publisher of q/h/f on a clean 5 Mbit/s link to the viewer. */
static struct sim *sim_new(struct mr_stream *st)
{
    static struct sim s;
    memset(&s, 0, sizeof(s));
    s.pub = fx_publisher(st, &publisher_track, 1);
    mr_stream_attach(st, s.pub);
    mr_twcc_rx_init(&s.twcc);
    s.seq[0] = 100, s.seq[1] = 2000, s.seq[2] = 30000;
    s.rate_bps = 5000000;
    s.next_frame_us = mr_clock_mono_us();
    return &s;
}

/* A clean link: the top layer, every packet numbered in order. */
static void check_clean_start(struct sim *s)
{
    CHECK(run(s, 4000, 2) >= 0);
    run(s, 1000, -1);
    CHECK_INT(s->rx->encoding, 2);
    CHECK(s->scanned > 100);
    CHECK_INT(s->without_tseq, 0);
    CHECK_INT(s->gaps, 0);
}

/* 400 kbit/s: h (530) does not fit, q does; moved within 2 s. */
static void check_down(struct sim *s)
{
    s->rate_bps = 400000;
    int t = run(s, 4000, 0);
    fprintf(stderr, "down to q after %d ms (estimate %u kbit/s)\n", t,
            mr_bwe_estimate(&s->sub->down->bwe) / 1000);
    CHECK(t >= 0 && t <= 2000);
}

static void test_down_and_up(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *st = fx_stream("cam", 5);
    struct sim *s = sim_new(st);
    s->sub = fx_subscriber(st, &viewer_track, 1);
    s->rx = &s->sub->receivers[0];
    mr_receiver_init_rtx(s->rx);
    mr_downlink_setup(s->sub);
    CHECK(s->sub->down != NULL);
    mr_stream_attach(st, s->sub);
    check_clean_start(s);
    check_down(s);

    /* Held there: at most one switch, probes. */
    uint64_t switches = w->sfu.layer_switches;
    run(s, 8000, -1);
    fprintf(stderr, "held: %u switches, %lu probes, %u padding packets, estimate %u kbit/s\n",
            (unsigned)(w->sfu.layer_switches - switches), (unsigned long)w->sfu.probes, s->padding,
            mr_bwe_estimate(&s->sub->down->bwe) / 1000);
    CHECK_INT(s->rx->encoding, 0);
    CHECK(w->sfu.layer_switches - switches <= 1);
    CHECK(w->sfu.probes > 0);

    /* Room again: probed, then back to f within 10 s. */
    s->rate_bps = 5000000;
    int t = run(s, 12000, 2);
    fprintf(stderr, "up to f after %d ms (estimate %u kbit/s, %u padding packets)\n", t,
            mr_bwe_estimate(&s->sub->down->bwe) / 1000, s->padding);
    CHECK(t >= 0 && t <= 12000); /* the target is 10 s, checked with Chromium */
    CHECK(s->padding > 0);
    CHECK_INT(s->without_tseq, 0);
    CHECK_INT(s->gaps, 0);
    CHECK_INT(fx_teardown(), 0);
}

/* A room subscription's slice: the same estimate per transport, the same
 * move down. */
static void test_room_subscription(void)
{
    fx_setup();
    struct mr_stream *st = fx_stream("cam", 5);
    struct sim *s = sim_new(st);
    struct mr_sink *sink = fx_room_sub(NULL, st, &viewer_track, 1);
    s->sub = sink->peer;
    s->rx = &sink->receivers[0];
    mr_receiver_init_rtx(s->rx);
    mr_downlink_setup(s->sub);
    CHECK(s->sub->down != NULL);
    check_clean_start(s);
    check_down(s);
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_down_and_up), MR_TEST(test_room_subscription))
