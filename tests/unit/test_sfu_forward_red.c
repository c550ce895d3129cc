/*
 * Opus RED (RFC 2198) through the relay: forwarded unchanged to viewers
 * that accepted red/48000/2 (their payload type), its primary block as
 * plain Opus to those that did not and to the recording; a RED payload
 * whose headers run past it is dropped as malformed. A packet lost on the
 * clinic's uplink reaches the recording from the redundancy of the next.
 */
#include <string.h>

#include "sfu_fixture.h"

#include "mr_test.h"

#define MIC 0xa1u

static const struct fx_track clinic[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 111, .ssrc = MIC,
     .red_pt = 63},
};
static const struct fx_track with_red[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "a", .codec = MR_CODEC_OPUS, .pt = 109, .red_pt = 120},
};
static const struct fx_track opus_only[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "a", .codec = MR_CODEC_OPUS, .pt = 109},
};

/* A RED payload: one redundant block (the previous frame, 20 bytes, 960
 * samples earlier) and the primary (30 bytes). */
static size_t red_packet(uint16_t seq, uint8_t *buf, size_t cap, unsigned cut)
{
    struct fx_rtp r = {.pt = 63, .seq = seq, .ts = 960u * seq, .ssrc = MIC,
                       .payload = FX_OPAQUE, .size = 4 + 1 + 20 + 30};
    size_t len = fx_rtp_build(&r, buf, cap);
    uint8_t *p = buf + 12;
    p[0] = 0x80 | 111;              /* F=1, block PT 111 */
    p[1] = (uint8_t)(960 >> 6);     /* timestamp offset 960 (14 bits) */
    p[2] = (uint8_t)((960 & 0x3f) << 2);
    p[3] = 20;                      /* block length */
    p[4] = 111;                     /* F=0: the primary */
    for (unsigned i = 0; i < 20; i++)
        p[5 + i] = 0xee;
    for (unsigned i = 0; i < 30; i++)
        p[25 + i] = (uint8_t)(seq + i);
    return len - cut;
}

static void test_red_forwarded_or_unwrapped(void)
{
    fx_setup();
    struct mr_stream *s = fx_stream("mic", 30);
    struct mr_peer *pub = fx_publisher(s, clinic, 1);
    mr_stream_attach(s, pub);
    struct mr_peer *red = fx_subscriber(s, with_red, 1), *plain = fx_subscriber(s, opus_only, 1);
    mr_stream_attach(s, red);
    mr_stream_attach(s, plain);
    struct mr_recording *rec = fx_record(s, clinic, 1);
    uint8_t buf[MR_TRANSPORT_BUF];
    for (uint16_t q = 1; q <= 3; q++) {
        size_t len = red_packet(q, buf, sizeof(buf), 0);
        mr_forward_rtp(pub, buf, len);
        fx_run();
    }
    CHECK_INT(fx_rtp_count(red), 3);
    CHECK_INT(fx_rtp_count(plain), 3);
    CHECK_INT(fx_rec_count(rec), 3);
    struct fx_out a, b;
    CHECK(fx_rtp_get(red, 2, &a));
    CHECK(fx_rtp_get(plain, 2, &b));
    CHECK_INT(a.h.payload_type, 120);
    CHECK_INT(a.h.payload_len, 55);
    CHECK_INT(a.payload[0], 0x80 | 111); /* unchanged: the block PT is Opus's */
    CHECK_INT(b.h.payload_type, 109);
    CHECK_INT(b.h.payload_len, 30);
    for (unsigned i = 0; i < 30; i++)
        CHECK_INT(b.payload[i], (uint8_t)(3 + i));
    /* Headers past the payload: malformed, nobody gets it. */
    size_t len = red_packet(4, buf, sizeof(buf), 0);
    buf[12 + 3] = 200; /* a redundant block longer than the payload */
    mr_forward_rtp(pub, buf, len);
    fx_run();
    CHECK_INT(fx_rtp_count(red), 3);
    CHECK_INT(fx_rtp_count(plain), 3);
    fx_record_stop(s);
    CHECK_INT(fx_teardown(), 0);
}

/* The frame of packet q, len bytes: what its primary carries, and what the
 * next packets carry again as redundancy. */
static void frame(uint16_t q, uint8_t *out, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        out[i] = (uint8_t)(q * 7u + i);
}

#define FRAME_LEN 24

/* A RED packet with the frames of q-n..q-1 as redundant blocks (oldest
 * first, 960 samples apart; block PT pt) and q's as the primary. */
static size_t red_n(uint16_t q, unsigned n, uint8_t pt, uint8_t *buf, size_t cap)
{
    struct fx_rtp r = {.pt = 63, .seq = q, .ts = 960u * q, .ssrc = MIC, .payload = FX_OPAQUE,
                       .size = 4 * n + 1 + FRAME_LEN * (n + 1)};
    size_t len = fx_rtp_build(&r, buf, cap);
    uint8_t *p = buf + 12;
    for (unsigned k = 0; k < n; k++) {
        unsigned off = 960u * (n - k);
        p[4 * k] = 0x80 | pt;
        p[4 * k + 1] = (uint8_t)(off >> 6);
        p[4 * k + 2] = (uint8_t)((off & 0x3f) << 2);
        p[4 * k + 3] = FRAME_LEN;
    }
    p[4 * n] = 111;
    uint8_t *data = p + 4 * n + 1;
    for (unsigned k = 0; k < n; k++)
        frame((uint16_t)(q - (n - k)), data + FRAME_LEN * k, FRAME_LEN);
    frame(q, data + FRAME_LEN * n, FRAME_LEN);
    return len;
}

static void send_red(struct mr_peer *pub, uint16_t q, unsigned n, uint8_t pt)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    mr_forward_rtp(pub, buf, red_n(q, n, pt, buf, sizeof(buf)));
    fx_run();
}

/* The recording's i-th packet: its sequence number and timestamp relative
 * to the first one's, and whether its payload is frame q's. */
static bool rec_is(struct mr_recording *rec, unsigned i, uint16_t q)
{
    unsigned track;
    int what;
    size_t len, len0;
    const uint8_t *p = fx_rec_get(rec, i, &track, &what, &len);
    const uint8_t *p0 = fx_rec_get(rec, 0, &track, &what, &len0);
    struct fx_out o, o0;
    if (!p || !p0 || !fx_out_parse(p, len, &o) || !fx_out_parse(p0, len0, &o0))
        return false;
    uint8_t want[FRAME_LEN];
    frame(q, want, FRAME_LEN);
    bool ok = o.h.payload_type == 111 && o.h.payload_len == FRAME_LEN &&
              memcmp(o.payload, want, FRAME_LEN) == 0 &&
              (uint16_t)(o.h.seq - o0.h.seq) == (uint16_t)(q - 1) &&
              o.h.timestamp - o0.h.timestamp == 960u * (q - 1u);
    if (!ok)
        fprintf(stderr, "# recording[%u]: seq +%u ts +%u pt %u len %u, want frame %u\n", i,
                (unsigned)(uint16_t)(o.h.seq - o0.h.seq), o.h.timestamp - o0.h.timestamp,
                o.h.payload_type, o.h.payload_len, q);
    return ok;
}

/* Packets 3 (one redundant block: recovered), 6 and 7 (two lost, one
 * block: only 7 can be), 10 and 11 (two blocks: both) never arrive; the
 * recording gets each frame the redundancy carries, in order, with its
 * own sequence number and timestamp, and the viewers only what came. A
 * block of another payload type is not Opus and is left alone; a late
 * packet after all changes nothing. */
static void test_red_fills_recording_holes(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("mic", 30);
    struct mr_peer *pub = fx_publisher(s, clinic, 1);
    mr_stream_attach(s, pub);
    struct mr_peer *plain = fx_subscriber(s, opus_only, 1);
    mr_stream_attach(s, plain);
    struct mr_recording *rec = fx_record(s, clinic, 1);
    static const uint16_t sent[] = {1, 2, 4, 5, 8, 9, 12};
    for (unsigned i = 0; i < sizeof(sent) / sizeof(sent[0]); i++)
        send_red(pub, sent[i], sent[i] == 12 ? 2 : 1, 111);
    CHECK_INT(fx_rtp_count(plain), 7);
    static const uint16_t recorded[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12};
    CHECK_INT(fx_rec_count(rec), sizeof(recorded) / sizeof(recorded[0]));
    for (unsigned i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++)
        CHECK(rec_is(rec, i, recorded[i]));
    CHECK_INT(w->sfu.red_recovered, 4);

    /* 14 lost, and 15's block is not Opus: nothing to recover. */
    send_red(pub, 13, 1, 111);
    send_red(pub, 15, 1, 100);
    CHECK_INT(fx_rec_count(rec), 13);
    CHECK_INT(w->sfu.red_recovered, 4);
    /* 17 lost, recovered from 18; then 17 arrives late: recorded again
     * under the same number (the recorder keeps one), not recovered twice. */
    send_red(pub, 16, 1, 111);
    send_red(pub, 18, 1, 111);
    send_red(pub, 17, 1, 111);
    CHECK_INT(w->sfu.red_recovered, 5);
    CHECK(rec_is(rec, 14, 17));
    CHECK(rec_is(rec, 15, 18));
    CHECK(rec_is(rec, 16, 17));
    fx_record_stop(s);
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_red_forwarded_or_unwrapped), MR_TEST(test_red_fills_recording_holes))
