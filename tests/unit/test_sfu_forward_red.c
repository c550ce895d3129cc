/*
 * Opus RED (RFC 2198) through the relay: forwarded unchanged to viewers
 * that accepted red/48000/2 (their payload type), its primary block as
 * plain Opus to those that did not and to the recording; a RED payload
 * whose headers run past it is dropped as malformed.
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

MR_TEST_MAIN(MR_TEST(test_red_forwarded_or_unwrapped))
