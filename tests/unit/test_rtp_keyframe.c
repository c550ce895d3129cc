/*
 * Key-frame detection on hand-built VP8 (RFC 7741) and H.264 (RFC 6184)
 * payloads, including every truncation of them.
 */
#include "rtp/rtp.h"

#include "mr_test.h"

/* A key frame's first VP8 payload-header bytes as libvpx writes them:
 * P=0, then the 0x9d 0x01 0x2a start code. */
#define VP8_KEY 0xb0, 0x8d, 0x01, 0x9d, 0x01, 0x2a
/* An inter frame: P=1. */
#define VP8_DELTA 0x31, 0x05, 0x00

static void test_vp8_minimal(void)
{
    const uint8_t key[] = {0x10, VP8_KEY};      /* S=1, PID=0, no X */
    const uint8_t delta[] = {0x10, VP8_DELTA};
    CHECK(mr_rtp_vp8_is_keyframe(key, sizeof(key)));
    CHECK(!mr_rtp_vp8_is_keyframe(delta, sizeof(delta)));
    /* N (non-reference) and R bits do not matter. */
    const uint8_t key_n[] = {0x30, VP8_KEY};
    CHECK(mr_rtp_vp8_is_keyframe(key_n, sizeof(key_n)));
}

static void test_vp8_not_start(void)
{
    /* S=0: a continuation packet; its first byte is partition data. */
    const uint8_t cont[] = {0x00, VP8_KEY};
    CHECK(!mr_rtp_vp8_is_keyframe(cont, sizeof(cont)));
    /* S=1 but PID=1: the start of the second partition. */
    const uint8_t pid1[] = {0x11, VP8_KEY};
    CHECK(!mr_rtp_vp8_is_keyframe(pid1, sizeof(pid1)));
}

static void test_vp8_extensions(void)
{
    /* X with I (7-bit picture id). */
    const uint8_t i7[] = {0x90, 0x80, 0x05, VP8_KEY};
    CHECK(mr_rtp_vp8_is_keyframe(i7, sizeof(i7)));
    /* X with I (15-bit picture id, M=1). */
    const uint8_t i15[] = {0x90, 0x80, 0x81, 0x23, VP8_KEY};
    CHECK(mr_rtp_vp8_is_keyframe(i15, sizeof(i15)));
    /* Picture id byte 0x23 would read as P=1 if M were ignored. */
    const uint8_t i15d[] = {0x90, 0x80, 0x81, 0x22, VP8_DELTA};
    CHECK(!mr_rtp_vp8_is_keyframe(i15d, sizeof(i15d)));
    /* What Chromium sends with simulcast/temporal layers: I L T. */
    const uint8_t ilt[] = {0x90, 0xe0, 0x80, 0x01, 0x07, 0x20, VP8_KEY};
    CHECK(mr_rtp_vp8_is_keyframe(ilt, sizeof(ilt)));
    const uint8_t iltd[] = {0x90, 0xe0, 0x80, 0x01, 0x07, 0x20, VP8_DELTA};
    CHECK(!mr_rtp_vp8_is_keyframe(iltd, sizeof(iltd)));
    /* K alone also adds the T/K byte. */
    const uint8_t k[] = {0x90, 0x10, 0x01, VP8_KEY};
    CHECK(mr_rtp_vp8_is_keyframe(k, sizeof(k)));
    /* L alone: TL0PICIDX 0x01 would be P=1 if skipped wrongly. */
    const uint8_t l[] = {0x90, 0x40, 0x01, VP8_KEY};
    CHECK(mr_rtp_vp8_is_keyframe(l, sizeof(l)));
    /* X with no optional fields. */
    const uint8_t x0[] = {0x90, 0x00, VP8_KEY};
    CHECK(mr_rtp_vp8_is_keyframe(x0, sizeof(x0)));
}

static void test_vp8_truncated(void)
{
    /* Every prefix that ends before the payload header's first byte. */
    const uint8_t ilt[] = {0x90, 0xf0, 0x81, 0x01, 0x07, 0x20, 0xb0};
    for (size_t n = 0; n < sizeof(ilt); n++)
        CHECK(!mr_rtp_vp8_is_keyframe(ilt, n));
    CHECK(mr_rtp_vp8_is_keyframe(ilt, sizeof(ilt)));
    CHECK(!mr_rtp_vp8_is_keyframe(NULL, 10));
}

static void test_h264_single(void)
{
    const uint8_t idr[] = {0x65, 0x88, 0x84, 0x00};  /* NRI=3 type 5 */
    const uint8_t sps[] = {0x67, 0x42, 0xc0, 0x1f};  /* type 7 */
    const uint8_t pps[] = {0x68, 0xce, 0x3c, 0x80};  /* type 8 */
    const uint8_t slice[] = {0x41, 0x9a, 0x00};      /* type 1 */
    const uint8_t sei[] = {0x06, 0x05};              /* type 6 */
    CHECK(mr_rtp_h264_is_keyframe(idr, sizeof(idr)));
    CHECK(mr_rtp_h264_is_keyframe(sps, sizeof(sps)));
    CHECK(!mr_rtp_h264_is_keyframe(pps, sizeof(pps)));
    CHECK(!mr_rtp_h264_is_keyframe(slice, sizeof(slice)));
    CHECK(!mr_rtp_h264_is_keyframe(sei, sizeof(sei)));
    /* The NAL header alone is enough to know. */
    CHECK(mr_rtp_h264_is_keyframe(idr, 1));
    CHECK(!mr_rtp_h264_is_keyframe(idr, 0));
    CHECK(!mr_rtp_h264_is_keyframe(NULL, 4));
}

static void test_h264_stap_a(void)
{
    /* STAP-A carrying SPS and PPS, as Chromium sends before an IDR. */
    const uint8_t sps_pps[] = {0x78,
                               0x00, 0x04, 0x67, 0x42, 0xc0, 0x1f,
                               0x00, 0x04, 0x68, 0xce, 0x3c, 0x80};
    CHECK(mr_rtp_h264_is_keyframe(sps_pps, sizeof(sps_pps)));
    /* The key NAL second. */
    const uint8_t sei_idr[] = {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x65, 0x88};
    CHECK(mr_rtp_h264_is_keyframe(sei_idr, sizeof(sei_idr)));
    /* Nothing key in it. */
    const uint8_t sei_pps[] = {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x68, 0xce};
    CHECK(!mr_rtp_h264_is_keyframe(sei_pps, sizeof(sei_pps)));
}

static void test_h264_stap_a_malformed(void)
{
    /* Every truncation of a STAP-A whose key NAL comes second. */
    const uint8_t sei_idr[] = {0x78, 0x00, 0x02, 0x06, 0x05, 0x00, 0x02, 0x65, 0x88};
    for (size_t n = 0; n < 8; n++)
        CHECK(!mr_rtp_h264_is_keyframe(sei_idr, n));
    /* A size running past the payload. */
    const uint8_t over[] = {0x78, 0x00, 0x09, 0x06, 0x05, 0x00, 0x02, 0x65, 0x88};
    CHECK(!mr_rtp_h264_is_keyframe(over, sizeof(over)));
    /* A zero size ends the scan. */
    const uint8_t zero[] = {0x78, 0x00, 0x00, 0x00, 0x02, 0x65, 0x88};
    CHECK(!mr_rtp_h264_is_keyframe(zero, sizeof(zero)));
    /* A size of 0xffff. */
    const uint8_t huge[] = {0x78, 0xff, 0xff, 0x65};
    CHECK(!mr_rtp_h264_is_keyframe(huge, sizeof(huge)));
}

static void test_h264_fu_a(void)
{
    /* FU indicator NRI=3 type 28; FU header S=1 type 5. */
    const uint8_t start[] = {0x7c, 0x85, 0x88, 0x84};
    CHECK(mr_rtp_h264_is_keyframe(start, sizeof(start)));
    CHECK(mr_rtp_h264_is_keyframe(start, 2));
    CHECK(!mr_rtp_h264_is_keyframe(start, 1));
    /* Middle (S=0) and end (E=1) fragments of the same IDR. */
    const uint8_t mid[] = {0x7c, 0x05, 0x00};
    const uint8_t end[] = {0x7c, 0x45, 0x00};
    CHECK(!mr_rtp_h264_is_keyframe(mid, sizeof(mid)));
    CHECK(!mr_rtp_h264_is_keyframe(end, sizeof(end)));
    /* Start of a fragmented non-IDR slice. */
    const uint8_t p_start[] = {0x5c, 0x81, 0x9a};
    CHECK(!mr_rtp_h264_is_keyframe(p_start, sizeof(p_start)));
    /* S with inner type 7 (an SPS would never be fragmented, but it is key). */
    const uint8_t sps_start[] = {0x7c, 0x87, 0x42};
    CHECK(mr_rtp_h264_is_keyframe(sps_start, sizeof(sps_start)));
}

MR_TEST_MAIN(MR_TEST(test_vp8_minimal), MR_TEST(test_vp8_not_start),
             MR_TEST(test_vp8_extensions), MR_TEST(test_vp8_truncated),
             MR_TEST(test_h264_single), MR_TEST(test_h264_stap_a),
             MR_TEST(test_h264_stap_a_malformed), MR_TEST(test_h264_fu_a))
