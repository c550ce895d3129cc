/*
 * RTP fixed-header parsing (RFC 3550 §5.1): field extraction, CSRCs,
 * extension and padding bounds, with packets assembled by hand from the
 * RFC diagram.
 */
#include "rtp/rtp.h"

#include "core/error.h"
#include "mr_test.h"

/*
 * A Chromium-like VP8 packet: V=2 X=1 CC=0, PT 96, one-byte extensions
 * (id 4 mid "1", id 3 transport-wide seq 5, id 2 abs-send-time), then a
 * VP8 descriptor with a 15-bit picture id and a key-frame payload header.
 */
static const uint8_t chromium_vp8[] = {
    0x90, 0x60, 0x12, 0x34,             /* V=2 X=1, PT=96, seq 0x1234 */
    0x56, 0x78, 0x9a, 0xbc,             /* timestamp */
    0x11, 0x22, 0x33, 0x44,             /* SSRC */
    0xbe, 0xde, 0x00, 0x03,             /* one-byte profile, 3 words */
    0x40, '1',                          /* id 4, len 1: mid "1" */
    0x31, 0x00, 0x05,                   /* id 3, len 2: transport-cc seq */
    0x22, 0x12, 0x34, 0x56,             /* id 2, len 3: abs-send-time */
    0x00, 0x00, 0x00,                   /* padding to the word */
    0x90, 0x80, 0x81, 0x23,             /* VP8: X S PID=0, I, M pictureid */
    0xb0, 0x8d, 0x01, 0x9d, 0x01, 0x2a, /* key frame: P=0, start code */
};

static void test_parse_minimal(void)
{
    /* Opus-like audio packet, no CSRC, no extension, 3 payload bytes. */
    const uint8_t pkt[] = {0x80, 0xef, 0xff, 0xfe, 0x00, 0x00, 0x03, 0xc0,
                           0xde, 0xad, 0xbe, 0xef, 0xaa, 0xbb, 0xcc};
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK(!h.padding);
    CHECK(!h.extension);
    CHECK(h.marker);
    CHECK_INT(h.csrc_count, 0);
    CHECK_INT(h.payload_type, 111);
    CHECK_INT(h.seq, 0xfffe);
    CHECK_INT(h.timestamp, 960);
    CHECK_INT(h.ssrc, 0xdeadbeef);
    CHECK_INT(h.ext_profile, 0);
    CHECK_INT(h.ext_len, 0);
    CHECK_INT(h.header_len, 12);
    CHECK_INT(h.payload_len, 3);
    CHECK_INT(h.padding_len, 0);
}

static void test_parse_header_only(void)
{
    /* A header with no payload is a valid (if useless) packet. */
    const uint8_t pkt[] = {0x80, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.header_len, 12);
    CHECK_INT(h.payload_len, 0);
}

static void test_parse_chromium(void)
{
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(chromium_vp8, sizeof(chromium_vp8), &h), MR_OK);
    CHECK(h.extension);
    CHECK(!h.marker);
    CHECK_INT(h.payload_type, 96);
    CHECK_INT(h.seq, 0x1234);
    CHECK_INT(h.timestamp, 0x56789abc);
    CHECK_INT(h.ssrc, 0x11223344);
    CHECK_INT(h.ext_profile, 0xbede);
    CHECK_INT(h.ext_offset, 16);
    CHECK_INT(h.ext_len, 12);
    CHECK_INT(h.header_len, 28);
    CHECK_INT(h.payload_len, 10);
    CHECK(mr_rtp_vp8_is_keyframe(chromium_vp8 + h.header_len, h.payload_len));
}

static void test_parse_csrcs(void)
{
    /* CC=2, then a two-byte extension block of one word, then payload. */
    const uint8_t pkt[] = {
        0x92, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
        0x01, 0x02, 0x03, 0x04, /* CSRC 0 */
        0xa0, 0xb0, 0xc0, 0xd0, /* CSRC 1 */
        0x10, 0x00, 0x00, 0x01, /* two-byte profile, 1 word */
        0x07, 0x01, 0x55, 0x00, /* id 7 len 1, one pad byte */
        0x42,
    };
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.csrc_count, 2);
    CHECK_INT(mr_rtp_csrc(pkt, 0), 0x01020304);
    CHECK_INT(mr_rtp_csrc(pkt, 1), 0xa0b0c0d0);
    CHECK_INT(h.ext_profile, 0x1000);
    CHECK_INT(h.ext_offset, 24);
    CHECK_INT(h.ext_len, 4);
    CHECK_INT(h.header_len, 28);
    CHECK_INT(h.payload_len, 1);
}

static void test_parse_max_csrcs(void)
{
    uint8_t pkt[12 + 15 * 4 + 1] = {0x8f, 0x00};
    for (unsigned i = 0; i < 15; i++)
        pkt[12 + 4 * i + 3] = (uint8_t)(i + 1);
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.csrc_count, 15);
    CHECK_INT(h.header_len, 72);
    CHECK_INT(h.payload_len, 1);
    CHECK_INT(mr_rtp_csrc(pkt, 14), 15);
    /* One byte short of the last CSRC. */
    CHECK_INT(mr_rtp_parse(pkt, 71, &h), MR_ETRUNC);
}

static void test_parse_version(void)
{
    uint8_t pkt[12] = {0x80};
    struct mr_rtp_header h;
    for (unsigned v = 0; v < 4; v++) {
        pkt[0] = (uint8_t)(v << 6);
        CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), v == 2 ? MR_OK : MR_EPARSE);
    }
}

static void test_parse_truncated(void)
{
    struct mr_rtp_header h;
    /* Every prefix of the Chromium packet that cuts into its header. */
    for (size_t n = 0; n < 28; n++)
        CHECK_INT(mr_rtp_parse(chromium_vp8, n, &h), MR_ETRUNC);
    CHECK_INT(mr_rtp_parse(chromium_vp8, 28, &h), MR_OK);
    CHECK_INT(h.payload_len, 0);
    CHECK_INT(mr_rtp_parse(NULL, 12, &h), MR_EINVAL);
}

static void test_parse_extension_length(void)
{
    /* An extension length of 0x4000 words cannot fit the packet. */
    uint8_t pkt[20] = {0x90, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0x40, 0x00};
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_ETRUNC);
    /* Length 0 is a legal, empty block. */
    pkt[14] = 0;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.ext_len, 0);
    CHECK_INT(h.header_len, 16);
    CHECK_INT(h.payload_len, 4);
    /* Length 1 ends exactly at the buffer. */
    pkt[15] = 1;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.payload_len, 0);
    pkt[15] = 2;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_ETRUNC);
}

static void test_parse_padding(void)
{
    /* P=1, 4 payload bytes, then 4 bytes of padding whose last says 4. */
    uint8_t pkt[20] = {0xa0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                       1, 2, 3, 4, 0, 0, 0, 4};
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK(h.padding);
    CHECK_INT(h.padding_len, 4);
    CHECK_INT(h.payload_len, 4);

    /* Padding that fills the whole payload: Chromium's bandwidth probes. */
    pkt[19] = 8;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.payload_len, 0);
    CHECK_INT(h.padding_len, 8);

    /* Padding reaching into the header. */
    pkt[19] = 9;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_EPARSE);
    pkt[19] = 255;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_EPARSE);
    /* A zero count is not padding at all. */
    pkt[19] = 0;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_EPARSE);
    /* P set on a header-only packet: the count byte would be the SSRC. */
    pkt[11] = 1;
    CHECK_INT(mr_rtp_parse(pkt, 12, &h), MR_EPARSE);
    /* Without P the same trailing bytes are payload. */
    pkt[0] = 0x80;
    pkt[19] = 0;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.payload_len, 8);
}

static void test_parse_padding_after_extension(void)
{
    /* P=1 X=1: padding is measured from the end of the extension. */
    const uint8_t pkt[] = {0xb0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                           0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00,
                           0x77, 0x02};
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(h.header_len, 20);
    CHECK_INT(h.payload_len, 0);
    CHECK_INT(h.padding_len, 2);
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt) - 1, &h), MR_EPARSE); /* count 0x77 */
}

static void test_parse_too_long(void)
{
    static uint8_t big[70000];
    big[0] = 0x80;
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(big, sizeof(big), &h), MR_EPARSE);
    CHECK_INT(mr_rtp_parse(big, 65535, &h), MR_OK);
    CHECK_INT(h.payload_len, 65535 - 12);
}

static void test_seq_ts_newer(void)
{
    CHECK(mr_rtp_seq_newer(1, 0));
    CHECK(!mr_rtp_seq_newer(0, 1));
    CHECK(!mr_rtp_seq_newer(5, 5));
    CHECK(mr_rtp_seq_newer(0, 65535));
    CHECK(mr_rtp_seq_newer(100, 65000));
    CHECK(!mr_rtp_seq_newer(65000, 100));
    CHECK(mr_rtp_ts_newer(0, 0xffffffffu));
    CHECK(!mr_rtp_ts_newer(0xffffffffu, 0));
    CHECK(mr_rtp_ts_newer(3000, 0));
}

MR_TEST_MAIN(MR_TEST(test_parse_minimal), MR_TEST(test_parse_header_only),
             MR_TEST(test_parse_chromium), MR_TEST(test_parse_csrcs),
             MR_TEST(test_parse_max_csrcs), MR_TEST(test_parse_version),
             MR_TEST(test_parse_truncated), MR_TEST(test_parse_extension_length),
             MR_TEST(test_parse_padding), MR_TEST(test_parse_padding_after_extension),
             MR_TEST(test_parse_too_long), MR_TEST(test_seq_ts_newer))
