/*
 * sfu_rtcp.c: RTCP at the relay. A viewer's PLI (RFC 4585 §6.3.1) or FIR
 * (RFC 5104 §4.3.1) for its video SSRC becomes one coalesced request to the
 * publisher, for the publisher's SSRC, in a compound packet led by a report
 * (RFC 4585 §3.1); a publisher's sender report reaches each receiver (and
 * the recording) in its SSRC and timestamp space (RFC 3550 §6.4.1) with
 * its own counts and CNAME; receiver reports to the publisher come from
 * the relay's receive statistics (RFC 3550 A.3, A.8). Malformed RTCP is
 * ignored.
 */
#include "sfu_fixture.h"

#include "mr_test.h"

#define MIC 0xa1u
#define CAM 0xc1u

static struct mr_worker *w;
static struct mr_stream *s;

static struct mr_peer *publish(struct mr_stream *st, uint32_t video_fb)
{
    const struct fx_track t[] = {
        {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 111, .ssrc = MIC},
        {.kind = MR_MEDIA_VIDEO,
         .mid = "1",
         .codec = MR_CODEC_VP8,
         .pt = 96,
         .ssrc = CAM,
         .fb = video_fb},
    };
    struct mr_peer *p = fx_publisher(st, t, 2);
    mr_stream_attach(st, p);
    return p;
}

static const struct fx_track expert[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "a", .codec = MR_CODEC_OPUS, .pt = 109},
    {.kind = MR_MEDIA_VIDEO, .mid = "v", .codec = MR_CODEC_VP8, .pt = 120},
};

static struct mr_peer *watch(void)
{
    struct mr_peer *p = fx_subscriber(s, expert, 2);
    mr_stream_attach(s, p);
    return p;
}

static void start(uint32_t video_fb)
{
    w = fx_setup();
    s = fx_stream("cam", 30);
    publish(s, video_fb);
}

/* A browser's PLI: an empty RR, then the PLI. */
static void pli(struct mr_peer *sub, uint32_t media_ssrc)
{
    uint8_t buf[64];
    struct mr_rtcp_rr rr = {.ssrc = 0x5eb};
    int n = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    n += mr_rtcp_write_pli(buf + n, sizeof(buf) - (size_t)n, 0x5eb, media_ssrc);
    mr_rtcp_from_subscriber(sub, buf, (size_t)n);
}

/* The key-frame request in the i-th RTCP packet p got: the leading RR's
 * sender, and the feedback. */
static bool request(const struct mr_peer *p, unsigned i, struct mr_rtcp_rr *rr,
                    struct mr_rtcp_fb *fb)
{
    size_t len = 0;
    const uint8_t *buf = fx_rtcp_get(p, i, &len);
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    if (!buf)
        return false;
    mr_rtcp_iter_init(&it, buf, len);
    return mr_rtcp_next(&it, &pkt) == 1 && mr_rtcp_parse_rr(&pkt, rr) == 0 &&
           mr_rtcp_next(&it, &pkt) == 1 && mr_rtcp_parse_fb(&pkt, fb) == 0 &&
           mr_rtcp_next(&it, &pkt) == 0;
}

static void test_pli_upstream(void)
{
    start(MR_FB_NACK_PLI | MR_FB_CCM_FIR);
    struct mr_peer *pub = s->publisher;
    pub->sources[0].codec.fb = MR_FB_NACK_PLI; /* audio: no key frames to ask for */
    struct mr_peer *sub = watch();
    fx_sent_clear();
    s->kf[1].last_request_us = 0; /* none pending */
    pli(sub, sub->receivers[1].out_ssrc);
    CHECK_INT(w->sfu.pli_in, 1);
    CHECK_INT(fx_rtcp_count(pub), 1);
    struct mr_rtcp_rr rr;
    struct mr_rtcp_fb fb;
    CHECK(request(pub, 0, &rr, &fb));
    CHECK_INT(rr.ssrc, pub->rtcp_ssrc);
    CHECK_INT(rr.n_reports, 0);
    CHECK_INT(fb.type, MR_RTCP_PSFB);
    CHECK_INT(fb.fmt, MR_RTCP_PSFB_PLI); /* preferred when both are offered */
    CHECK_INT(fb.sender_ssrc, pub->rtcp_ssrc);
    CHECK_INT(fb.media_ssrc, CAM);
    CHECK_INT(fb.fci_len, 0);
    CHECK_INT(fx_keyframe_requests(pub, MIC), 0);

    /* Everyone else's, right after: served by the same key frame. */
    struct mr_peer *other = watch();
    pli(other, other->receivers[1].out_ssrc);
    pli(sub, sub->receivers[1].out_ssrc);
    CHECK_INT(w->sfu.pli_in, 3);
    CHECK_INT(fx_rtcp_count(pub), 1);
    CHECK_INT(w->sfu.keyframe_requests, 2);  /* sub's arrival, its PLI */
    CHECK_INT(w->sfu.keyframe_coalesced, 3); /* other's arrival and two PLIs */

    /* Not a video SSRC of this viewer: nothing to ask for. */
    s->kf[1].last_request_us = 0;
    pli(sub, sub->receivers[0].out_ssrc);
    pli(sub, CAM);
    pli(sub, other->receivers[1].out_ssrc);
    CHECK_INT(w->sfu.pli_in, 6);
    CHECK_INT(fx_rtcp_count(pub), 1);
    CHECK_INT(fx_teardown(), 0);
}

/* A FIR with one entry per (ssrc, seq) pair, as RFC 5104 §4.3.1.1; the
 * entries' sequence numbers are seq, seq + 1, ... */
static void fir(struct mr_peer *sub, const uint32_t *ssrcs, unsigned n, uint8_t seq)
{
    uint8_t buf[12 + 8 * 4] = {0x84, 206, 0, (uint8_t)(2 + 2 * n), 0, 0, 0x5e, 0xb0};
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = buf + 12 + 8 * i;
        e[0] = (uint8_t)(ssrcs[i] >> 24), e[1] = (uint8_t)(ssrcs[i] >> 16);
        e[2] = (uint8_t)(ssrcs[i] >> 8), e[3] = (uint8_t)ssrcs[i];
        e[4] = (uint8_t)(seq + i);
    }
    mr_rtcp_from_subscriber(sub, buf, 12 + 8 * n);
}

static void test_fir_upstream(void)
{
    start(MR_FB_CCM_FIR);
    struct mr_peer *pub = s->publisher;
    struct mr_peer *sub = watch();
    fx_sent_clear();
    uint8_t seq0 = s->kf[1].fir_seq;
    for (unsigned k = 0; k < 3; k++) {
        s->kf[1].last_request_us = 0;
        fir(sub, (const uint32_t[]){0x123, sub->receivers[1].out_ssrc}, 2, (uint8_t)(10 * k));
    }
    CHECK_INT(w->sfu.fir_in, 3);
    CHECK_INT(fx_rtcp_count(pub), 3);
    for (unsigned k = 0; k < 3; k++) {
        struct mr_rtcp_rr rr;
        struct mr_rtcp_fb fb;
        uint32_t ssrc = 0;
        uint8_t seq = 0;
        CHECK(request(pub, k, &rr, &fb));
        CHECK_INT(rr.ssrc, pub->rtcp_ssrc);
        CHECK_INT(fb.fmt, MR_RTCP_PSFB_FIR);
        CHECK_INT(fb.sender_ssrc, pub->rtcp_ssrc);
        CHECK_INT(fb.media_ssrc, 0);
        CHECK_INT(mr_rtcp_fir_count(&fb), 1);
        CHECK_INT(mr_rtcp_fir_entry(&fb, 0, &ssrc, &seq), 0);
        CHECK_INT(ssrc, CAM);
        CHECK_INT(seq, (uint8_t)(seq0 + k)); /* a new request each time */
    }
    /* The last one again (its sequence number unchanged): a
     * retransmission, not a new request (RFC 5104 §4.3.1.2). */
    s->kf[1].last_request_us = 0;
    fir(sub, (const uint32_t[]){0x123, sub->receivers[1].out_ssrc}, 2, 20);
    CHECK_INT(w->sfu.fir_in, 4);
    CHECK_INT(fx_rtcp_count(pub), 3);
    /* Unknown SSRCs only: nothing. */
    s->kf[1].last_request_us = 0;
    fir(sub, (const uint32_t[]){0x123, 0x456}, 2, 30);
    CHECK_INT(w->sfu.fir_in, 5);
    CHECK_INT(fx_rtcp_count(pub), 3);
    CHECK_INT(fx_teardown(), 0);
}

static void test_publisher_without_feedback(void)
{
    start(0);
    struct mr_peer *pub = s->publisher;
    struct mr_peer *sub = watch();
    s->kf[1].last_request_us = 0;
    pli(sub, sub->receivers[1].out_ssrc);
    /* It negotiated neither PLI nor FIR: counted, nothing sent. */
    CHECK_INT(fx_rtcp_count(pub), 0);
    CHECK_INT(w->sfu.keyframe_requests, 2);
    CHECK_INT(fx_teardown(), 0);
}

static void test_room_sub_asks_its_stream(void)
{
    w = fx_setup();
    s = fx_stream("a", 30);
    struct mr_stream *b = fx_stream("b", 30);
    struct mr_peer *pub_a = publish(s, MR_FB_NACK_PLI);
    struct mr_peer *pub_b = publish(b, MR_FB_NACK_PLI);
    struct mr_sink *sa = fx_room_sub(NULL, s, expert, 2);
    struct mr_sink *sb = fx_room_sub(sa->peer, b, expert, 2);
    fx_sent_clear();
    s->kf[1].last_request_us = b->kf[1].last_request_us = 0;
    pli(sa->peer, sb->receivers[1].out_ssrc);
    CHECK_INT(fx_rtcp_count(pub_a), 0);
    CHECK_INT(fx_rtcp_count(pub_b), 1);
    pli(sa->peer, sa->receivers[1].out_ssrc);
    CHECK_INT(fx_rtcp_count(pub_a), 1);
    CHECK_INT(fx_teardown(), 0);
}

static void sender_report(struct mr_peer *pub, uint32_t ssrc, uint32_t rtp_ts)
{
    uint8_t buf[128];
    struct mr_rtcp_sr sr = {.ssrc = ssrc,
                            .ntp = 0xe86b1c3980000000ull,
                            .rtp_ts = rtp_ts,
                            .packet_count = 999,
                            .octet_count = 99999};
    int n = mr_rtcp_write_sr(buf, sizeof(buf), &sr);
    n += mr_rtcp_write_sdes_cname(buf + n, sizeof(buf) - (size_t)n, ssrc, "clinic");
    mr_rtcp_from_publisher(pub, buf, (size_t)n);
}

/* The SR of a compound packet, with its CNAME. */
static bool got_sr(const uint8_t *buf, size_t len, struct mr_rtcp_sr *sr, char *cname)
{
    struct mr_rtcp_pkt pkt;
    return buf && fx_rtcp_find(buf, len, MR_RTCP_SR, &pkt) && mr_rtcp_parse_sr(&pkt, sr) == 0 &&
           fx_rtcp_cname(buf, len, sr->ssrc, cname, 64);
}

/* ... of the i-th RTCP packet p got. */
static bool sr_to(const struct mr_peer *p, unsigned i, struct mr_rtcp_sr *sr, char *cname)
{
    size_t len = 0;
    const uint8_t *buf = fx_rtcp_get(p, i, &len);
    return got_sr(buf, len, sr, cname);
}

static void test_sender_reports_translated(void)
{
    start(MR_FB_NACK_PLI);
    struct mr_peer *pub = s->publisher;
    struct mr_peer *sub = watch();
    struct mr_sink *slice = fx_room_sub(NULL, s, expert, 2);
    struct mr_receiver *rx = &sub->receivers[1];
    fx_feed(pub,
            &(struct fx_rtp){
                .pt = 96, .ssrc = CAM, .seq = 1, .ts = 3000, .payload = FX_VP8_KEY, .size = 500});
    fx_feed(pub, &(struct fx_rtp){.pt = 96, .ssrc = CAM, .seq = 2, .ts = 3000, .size = 700});
    struct fx_out o;
    CHECK(fx_rtp_get(sub, 0, &o));
    uint32_t ts0 = o.h.timestamp;
    struct mr_peer *late = watch(); /* nothing sent to it yet */
    fx_sent_clear();

    sender_report(pub, CAM, 3000 + 90000);
    struct mr_rtcp_sr sr;
    char cname[64];
    CHECK_INT(fx_rtcp_count(sub), 1);
    CHECK(sr_to(sub, 0, &sr, cname));
    CHECK_INT(sr.ssrc, rx->out_ssrc);
    CHECK(sr.ntp == 0xe86b1c3980000000ull);
    CHECK_INT(sr.rtp_ts, ts0 + 90000);
    CHECK_INT(sr.packet_count, 2); /* what this receiver was sent */
    CHECK_INT(sr.octet_count, 1200);
    CHECK_INT(sr.n_reports, 0);
    CHECK_STR(cname, sub->cname);
    CHECK_INT(fx_rtcp_count(slice->peer), 1);
    CHECK(sr_to(slice->peer, 0, &sr, cname));
    CHECK_INT(sr.ssrc, slice->receivers[1].out_ssrc);
    CHECK_STR(cname, slice->cname);
    CHECK_INT(fx_rtcp_count(late), 0);
    /* The publisher's statistics keep it for LSR. */
    CHECK_INT(pub->sources[1].enc[0].rx.last_sr, 0x1c398000);

    /* Not the audio receivers (not bound yet), nor the dead, nor for an
     * unknown SSRC; and nothing while the publisher is not attached. */
    sender_report(pub, MIC, 1234);
    sender_report(pub, 0xdead, 1234);
    slice->peer->dead = true;
    sender_report(pub, CAM, 3000);
    CHECK_INT(fx_rtcp_count(sub), 2);
    CHECK_INT(fx_rtcp_count(slice->peer), 1);
    pub->attached = false;
    sender_report(pub, CAM, 3000);
    CHECK_INT(fx_rtcp_count(sub), 2);
    pub->attached = true;
    CHECK_INT(fx_teardown(), 0);
}

static void test_sender_report_to_recording(void)
{
    start(MR_FB_NACK_PLI);
    struct mr_peer *pub = s->publisher;
    const struct fx_track tracks[] = {
        {.kind = MR_MEDIA_AUDIO, .codec = MR_CODEC_OPUS, .pt = 111},
        {.kind = MR_MEDIA_VIDEO, .codec = MR_CODEC_VP8, .pt = 96},
    };
    struct mr_recording *rec = fx_record(s, tracks, 2);
    fx_feed(pub, &(struct fx_rtp){.pt = 111, .ssrc = MIC, .seq = 1, .ts = 480, .size = 100});
    sender_report(pub, MIC, 480 + 48000);
    CHECK_INT(fx_rec_count(rec), 2);
    unsigned track = 9;
    int what = -1;
    size_t len = 0;
    const uint8_t *p = fx_rec_get(rec, 0, &track, &what, &len);
    struct fx_out o;
    CHECK(p && fx_out_parse(p, len, &o));
    p = fx_rec_get(rec, 1, &track, &what, &len);
    struct mr_rtcp_sr sr;
    char cname[64];
    CHECK_INT(track, 0);
    CHECK_INT(what, MR_RECORD_RTCP);
    CHECK(got_sr(p, len, &sr, cname));
    CHECK_INT(sr.ssrc, s->rec_tap->receivers[0].out_ssrc);
    CHECK_INT(sr.rtp_ts, o.h.timestamp + 48000);
    CHECK_INT(sr.packet_count, 1);
    CHECK_INT(sr.octet_count, 100);
    CHECK_STR(cname, s->rec_tap->cname);

    /* The video's, as track 1. */
    fx_feed(pub,
            &(struct fx_rtp){.pt = 96, .ssrc = CAM, .seq = 1, .ts = 90, .payload = FX_VP8_KEY});
    sender_report(pub, CAM, 90);
    CHECK_INT(fx_rec_count(rec), 4);
    p = fx_rec_get(rec, 3, &track, &what, &len);
    CHECK_INT(track, 1);
    CHECK_INT(what, MR_RECORD_RTCP);
    CHECK(got_sr(p, len, &sr, cname));
    CHECK_INT(sr.ssrc, s->rec_tap->receivers[1].out_ssrc);
    CHECK_INT(fx_teardown(), 0);
}

static void audio(struct mr_peer *pub, uint16_t seq, enum fx_payload kind)
{
    fx_feed(pub, &(struct fx_rtp){.pt = 111,
                                  .ssrc = MIC,
                                  .seq = seq,
                                  .ts = seq * 960u,
                                  .payload = kind,
                                  .padding = kind == FX_NONE ? 4 : 0});
}

static bool report(const struct mr_peer *pub, unsigned i, struct mr_rtcp_rr *rr, char *cname)
{
    size_t len = 0;
    const uint8_t *buf = fx_rtcp_get(pub, i, &len);
    struct mr_rtcp_pkt pkt;
    return buf && fx_rtcp_find(buf, len, MR_RTCP_RR, &pkt) && mr_rtcp_parse_rr(&pkt, rr) == 0 &&
           fx_rtcp_cname(buf, len, rr->ssrc, cname, 64);
}

static void test_receiver_reports(void)
{
    start(MR_FB_NACK_PLI);
    struct mr_peer *pub = s->publisher;
    fx_sent_clear();
    /* Nothing received yet: no report. */
    mr_rtcp_send_receiver_reports(pub, 1000);
    CHECK_INT(fx_rtcp_count(pub), 0);

    /* 1 and 2 end the source's probation (RFC 3550 A.1); 2..10 expected,
     * 5 lost. The timestamps advance 20 ms a packet, the packets arrive
     * at once: jitter. */
    for (uint16_t seq = 1; seq <= 10; seq++)
        if (seq != 5)
            audio(pub, seq, FX_OPAQUE);
    sender_report(pub, MIC, 0);
    int64_t sr_at = pub->sources[0].enc[0].rx.last_sr_arrival_us;
    mr_rtcp_send_receiver_reports(pub, sr_at + 500000);
    struct mr_rtcp_rr rr;
    char cname[64];
    CHECK_INT(fx_rtcp_count(pub), 1);
    CHECK(report(pub, 0, &rr, cname));
    CHECK_INT(rr.ssrc, pub->rtcp_ssrc);
    CHECK_STR(cname, pub->cname);
    CHECK_INT(rr.n_reports, 1); /* the camera sent nothing */
    struct mr_rtcp_report_block *b = &rr.reports[0];
    CHECK_INT(b->ssrc, MIC);
    CHECK_INT(b->ext_highest_seq, 10);
    CHECK_INT(b->cumulative_lost, 1);
    CHECK_INT(b->fraction_lost, 256 / 9);
    CHECK(b->jitter > 100 && b->jitter < 48000); /* about 960 per packet, smoothed */
    CHECK_INT(b->lsr, 0x1c398000);
    CHECK_INT(b->dlsr, 32768); /* half a second in 1/65536 s */

    /* A padding-only packet (a bandwidth probe) arrived: not lost, though
     * nothing is forwarded. */
    audio(pub, 11, FX_NONE);
    audio(pub, 12, FX_OPAQUE);
    mr_rtcp_send_receiver_reports(pub, sr_at + 600000);
    CHECK(report(pub, 1, &rr, cname));
    CHECK_INT(rr.reports[0].ext_highest_seq, 12);
    CHECK_INT(rr.reports[0].cumulative_lost, 1);
    CHECK_INT(fx_teardown(), 0);
}

/* xorshift32: the same bytes every run. */
static uint32_t next_random(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_malformed_ignored(void)
{
    start(MR_FB_NACK_PLI);
    struct mr_peer *pub = s->publisher;
    struct mr_peer *sub = watch();
    fx_sent_clear();
    s->kf[1].last_request_us = 0;
    static const uint8_t cases[][16] = {
        {0x81, 0xc8, 0x00, 0x01, 0, 0, 0, 0xa1},       /* SR without sender info */
        {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1},          /* PLI without media SSRC */
        {0x84, 0xce, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0}, /* FIR with half an entry */
        {0x41, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0}, /* version 1 */
        {0x81, 0xce, 0x00, 0x09, 0, 0, 0, 1, 0, 0, 0}, /* longer than the buffer */
    };
    static const size_t lens[] = {8, 8, 16, 12, 12};
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        mr_rtcp_from_publisher(pub, cases[i], lens[i]);
        mr_rtcp_from_subscriber(sub, cases[i], lens[i]);
    }
    mr_rtcp_from_subscriber(sub, cases[0], 0);
    mr_rtcp_from_publisher(pub, cases[0], 3);
    uint8_t buf[256];
    uint32_t x = 2463534242u;
    for (unsigned k = 0; k < 2000; k++) {
        size_t len = next_random(&x) % sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)next_random(&x);
        buf[0] = (uint8_t)(0x80 | (buf[0] & 0x3f));
        buf[1] = (uint8_t)(200 + k % 8);
        mr_rtcp_from_publisher(pub, buf, len);
        mr_rtcp_from_subscriber(sub, buf, len);
    }
    CHECK_INT(fx_rtcp_count(pub), 0);
    CHECK_INT(fx_rtcp_count(sub), 0);
    CHECK_INT(w->sfu.keyframe_requests, 1); /* the viewer's arrival, before */
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_pli_upstream), MR_TEST(test_fir_upstream),
             MR_TEST(test_publisher_without_feedback), MR_TEST(test_room_sub_asks_its_stream),
             MR_TEST(test_sender_reports_translated), MR_TEST(test_sender_report_to_recording),
             MR_TEST(test_receiver_reports), MR_TEST(test_malformed_ignored))
