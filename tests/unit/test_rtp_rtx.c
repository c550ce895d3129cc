/*
 * RTX (RFC 4588 §4, rtx.c): a retransmission unwrapped in place into the
 * original packet, two bytes into the buffer, with its CSRCs, header
 * extension and padding intact; a packet wrapped into a retransmission,
 * into another buffer or in place; and the two as each other's inverse.
 */
#include "rtp/rtp.h"

#include "core/error.h"
#include "mr_test.h"

#define ORIG_PT   96
#define ORIG_SSRC 0x55667788u
#define RTX_PT    97
#define RTX_SEQ   5000
#define RTX_SSRC  0xaabbccddu
#define OSN       0x1234

/*
 * A retransmission as a browser sends it (RFC 4588 §4):
 * |V=2|P|X| CC=2 |M| PT=97 |  sequence number 5000 (RTX stream)  |
 * |                   timestamp (the original's)                 |
 * |                      SSRC (RTX stream)                       |
 * |                          2 CSRCs                             |
 * |  0xBEDE one-byte extension, 2 words: id 1 (1 byte), id 3 "ab" |
 * |            OSN                |  original payload...          |
 * |                     ... padding, count 4                     |
 */
static const uint8_t rtx_pkt[] = {
    0xb2, 0xe1, 0x13, 0x88,       /* P, X, CC 2; M, PT 97; seq 5000 */
    0x11, 0x22, 0x33, 0x44,       /* timestamp */
    0xaa, 0xbb, 0xcc, 0xdd,       /* SSRC of the RTX stream */
    0x01, 0x01, 0x01, 0x01,       /* CSRC 1 */
    0x02, 0x02, 0x02, 0x02,       /* CSRC 2 */
    0xbe, 0xde, 0x00, 0x02,       /* one-byte extension, 2 words */
    0x10, 0x7f, 0x31, 0x61,       /* id 1 len 1; id 3 len 2, 'a' */
    0x62, 0x00, 0x00, 0x00,       /* 'b', then extension padding */
    0x12, 0x34,                   /* OSN */
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, /* the original payload */
    0xa5, 0xa6, 0xa7, 0xa8, 0xa9, /* (10 bytes) */
    0x00, 0x00, 0x00, 0x04,       /* padding */
};
#define RTX_HEADER_LEN 32
#define PAYLOAD_LEN    10

/* The same packet on its original stream, padded the same way. */
static void original(uint8_t *out, bool padding, size_t *len)
{
    memcpy(out, rtx_pkt, RTX_HEADER_LEN);
    out[0] = padding ? 0xb2 : 0x92;
    out[1] = 0x80 | ORIG_PT;
    out[2] = OSN >> 8;
    out[3] = OSN & 0xff;
    out[8] = 0x55;
    out[9] = 0x66;
    out[10] = 0x77;
    out[11] = 0x88;
    memcpy(out + RTX_HEADER_LEN, rtx_pkt + RTX_HEADER_LEN + 2, PAYLOAD_LEN);
    *len = RTX_HEADER_LEN + PAYLOAD_LEN;
    if (padding) {
        memcpy(out + *len, rtx_pkt + sizeof(rtx_pkt) - 4, 4);
        *len += 4;
    }
}

static void test_unwrap(void)
{
    uint8_t buf[sizeof(rtx_pkt)];
    memcpy(buf, rtx_pkt, sizeof(buf));
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(buf, sizeof(buf), &h), MR_OK);
    CHECK_INT(h.header_len, RTX_HEADER_LEN);
    CHECK_INT(h.payload_len, PAYLOAD_LEN + 2);
    CHECK_INT(h.padding_len, 4);

    uint8_t *orig = NULL;
    int n = mr_rtp_rtx_unwrap(buf, sizeof(buf), &h, ORIG_PT, ORIG_SSRC, &orig);
    CHECK_INT(n, sizeof(rtx_pkt) - 2);
    CHECK(orig == buf + 2);
    if (n < 0)
        return;

    struct mr_rtp_header o;
    CHECK_INT(mr_rtp_parse(orig, (size_t)n, &o), MR_OK);
    CHECK_INT(o.seq, OSN);
    CHECK_INT(o.payload_type, ORIG_PT);
    CHECK_INT(o.ssrc, ORIG_SSRC);
    CHECK(o.marker);
    CHECK_INT(o.timestamp, 0x11223344);
    CHECK_INT(o.csrc_count, 2);
    CHECK_INT(mr_rtp_csrc(orig, 0), 0x01010101);
    CHECK_INT(mr_rtp_csrc(orig, 1), 0x02020202);
    CHECK(o.extension);
    CHECK_INT(o.ext_profile, 0xbede);
    CHECK_INT(o.header_len, RTX_HEADER_LEN);
    CHECK_INT(o.payload_len, PAYLOAD_LEN);
    CHECK(o.padding);
    CHECK_INT(o.padding_len, 4);
    CHECK_MEM(orig + o.header_len, rtx_pkt + RTX_HEADER_LEN + 2, PAYLOAD_LEN);

    /* The extension parses where it now is. */
    struct mr_rtp_ext_list ext;
    CHECK_INT(mr_rtp_ext_parse(orig, &o, &ext), MR_OK);
    CHECK_INT(ext.count, 2);
    const struct mr_rtp_ext_elem *lvl = mr_rtp_ext_find(&ext, 1);
    const struct mr_rtp_ext_elem *mid = mr_rtp_ext_find(&ext, 3);
    CHECK(lvl && lvl->len == 1 && orig[lvl->offset] == 0x7f);
    CHECK(mid && mid->len == 2 && memcmp(orig + mid->offset, "ab", 2) == 0);

    /* Byte for byte the original, with its padding. */
    uint8_t want[64];
    size_t want_len;
    original(want, true, &want_len);
    CHECK_INT(n, want_len);
    CHECK_MEM(orig, want, want_len);
}

/* A retransmission without CSRCs, extension or padding, and one whose
 * payload is the OSN alone. */
static void test_unwrap_plain(void)
{
    uint8_t buf[32] = {0x80, RTX_PT, 0x00, 0x07, 0,    0, 0, 9, 0xaa,
                       0xbb, 0xcc,   0xdd, 0xff, 0xfe, 1, 2, 3};
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(buf, 17, &h), MR_OK);
    uint8_t *orig;
    int n = mr_rtp_rtx_unwrap(buf, 17, &h, ORIG_PT, ORIG_SSRC, &orig);
    CHECK_INT(n, 15);
    struct mr_rtp_header o;
    CHECK_INT(mr_rtp_parse(orig, (size_t)n, &o), MR_OK);
    CHECK_INT(o.seq, 0xfffe);
    CHECK(!o.marker);
    CHECK_INT(o.payload_type, ORIG_PT);
    CHECK_INT(o.payload_len, 3);
    CHECK_INT(orig[12], 1);
    CHECK_INT(orig[14], 3);

    /* Only the OSN: the original had an empty payload. */
    uint8_t two[14] = {0x80, RTX_PT, 0, 8, 0, 0, 0, 9, 0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x05};
    CHECK_INT(mr_rtp_parse(two, sizeof(two), &h), MR_OK);
    n = mr_rtp_rtx_unwrap(two, sizeof(two), &h, ORIG_PT, ORIG_SSRC, &orig);
    CHECK_INT(n, 12);
    CHECK_INT(mr_rtp_parse(orig, (size_t)n, &o), MR_OK);
    CHECK_INT(o.seq, 5);
    CHECK_INT(o.payload_len, 0);
}

static void test_unwrap_short(void)
{
    /* One payload byte, then padding: less than an OSN. */
    uint8_t buf[20] = {0xa0, RTX_PT, 0,    1, 0, 0, 0, 9, 0xaa, 0xbb,
                       0xcc, 0xdd,   0x42, 0, 0, 0, 0, 0, 0,    7};
    uint8_t before[sizeof(buf)];
    memcpy(before, buf, sizeof(buf));
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(buf, sizeof(buf), &h), MR_OK);
    CHECK_INT(h.payload_len, 1);
    uint8_t *orig = NULL;
    CHECK_INT(mr_rtp_rtx_unwrap(buf, sizeof(buf), &h, ORIG_PT, ORIG_SSRC, &orig), MR_ETRUNC);
    CHECK_MEM(buf, before, sizeof(buf));
    CHECK(orig == NULL);

    /* Padding only (a bandwidth probe on the RTX stream). */
    buf[12] = 0;
    buf[19] = 8;
    memcpy(before, buf, sizeof(buf));
    CHECK_INT(mr_rtp_parse(buf, sizeof(buf), &h), MR_OK);
    CHECK_INT(h.payload_len, 0);
    CHECK_INT(mr_rtp_rtx_unwrap(buf, sizeof(buf), &h, ORIG_PT, ORIG_SSRC, &orig), MR_ETRUNC);
    CHECK_MEM(buf, before, sizeof(buf));

    /* A header that does not describe this buffer. */
    CHECK_INT(mr_rtp_parse(buf, sizeof(buf), &h), MR_OK);
    h.payload_len = 20;
    CHECK_INT(mr_rtp_rtx_unwrap(buf, sizeof(buf), &h, ORIG_PT, ORIG_SSRC, &orig), MR_EINVAL);
    CHECK_MEM(buf, before, sizeof(buf));
    CHECK_INT(mr_rtp_rtx_unwrap(NULL, sizeof(buf), &h, ORIG_PT, ORIG_SSRC, &orig), MR_EINVAL);
    CHECK_INT(mr_rtp_rtx_unwrap(buf, sizeof(buf), NULL, ORIG_PT, ORIG_SSRC, &orig), MR_EINVAL);
    CHECK_INT(mr_rtp_rtx_unwrap(buf, sizeof(buf), &h, ORIG_PT, ORIG_SSRC, NULL), MR_EINVAL);
}

/* The retransmission the relay would send: rtx_pkt without its padding. */
static void rtx_unpadded(uint8_t *out, size_t *len)
{
    *len = sizeof(rtx_pkt) - 4;
    memcpy(out, rtx_pkt, *len);
    out[0] &= (uint8_t)~0x20;
}

static void test_wrap(void)
{
    uint8_t orig[64], out[64], want[64];
    size_t orig_len, want_len;
    original(orig, false, &orig_len);
    rtx_unpadded(want, &want_len);

    memset(out, 0xee, sizeof(out));
    int n = mr_rtp_rtx_wrap(out, sizeof(out), orig, RTX_HEADER_LEN, orig + RTX_HEADER_LEN,
                            PAYLOAD_LEN, RTX_PT, RTX_SEQ, RTX_SSRC);
    CHECK_INT(n, want_len);
    CHECK_MEM(out, want, want_len);
    CHECK_INT(out[want_len], 0xee);

    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(out, (size_t)n, &h), MR_OK);
    CHECK_INT(h.seq, RTX_SEQ);
    CHECK_INT(h.payload_type, RTX_PT);
    CHECK_INT(h.ssrc, RTX_SSRC);
    CHECK(h.marker);
    CHECK_INT(h.payload_len, PAYLOAD_LEN + 2);
    CHECK_INT(out[h.header_len] << 8 | out[h.header_len + 1], OSN);
    /* The original is untouched. */
    uint8_t again[64];
    size_t again_len;
    original(again, false, &again_len);
    CHECK_MEM(orig, again, orig_len);

    /* A payload type with the marker's bit set keeps to 7 bits. */
    n = mr_rtp_rtx_wrap(out, sizeof(out), orig, RTX_HEADER_LEN, orig + RTX_HEADER_LEN, PAYLOAD_LEN,
                        0x80 | RTX_PT, RTX_SEQ, RTX_SSRC);
    CHECK_INT(n, want_len);
    CHECK_INT(out[1], 0x80 | RTX_PT);
    orig[1] = ORIG_PT; /* no marker */
    n = mr_rtp_rtx_wrap(out, sizeof(out), orig, RTX_HEADER_LEN, orig + RTX_HEADER_LEN, PAYLOAD_LEN,
                        0x80 | RTX_PT, RTX_SEQ, RTX_SSRC);
    CHECK_INT(n, want_len);
    CHECK_INT(out[1], RTX_PT);
}

static void test_wrap_clears_padding(void)
{
    uint8_t orig[64], out[64], want[64];
    size_t orig_len, want_len;
    original(orig, true, &orig_len);
    rtx_unpadded(want, &want_len);
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(orig, orig_len, &h), MR_OK);
    CHECK(h.padding);

    int n = mr_rtp_rtx_wrap(out, sizeof(out), orig, h.header_len, orig + h.header_len,
                            h.payload_len, RTX_PT, RTX_SEQ, RTX_SSRC);
    CHECK_INT(n, want_len);
    CHECK_MEM(out, want, want_len);
    CHECK_INT(out[0] & 0x20, 0);
    struct mr_rtp_header w;
    CHECK_INT(mr_rtp_parse(out, (size_t)n, &w), MR_OK);
    CHECK(!w.padding);
    CHECK_INT(w.padding_len, 0);
    CHECK_INT(w.payload_len, PAYLOAD_LEN + 2);
}

static void test_wrap_in_place(void)
{
    uint8_t buf[64], want[64];
    size_t len, want_len;
    original(buf, true, &len); /* the padding is overwritten */
    memset(buf + len, 0xee, sizeof(buf) - len);
    rtx_unpadded(want, &want_len);

    int n = mr_rtp_rtx_wrap(buf, sizeof(buf), buf, RTX_HEADER_LEN, buf + RTX_HEADER_LEN,
                            PAYLOAD_LEN, RTX_PT, RTX_SEQ, RTX_SSRC);
    CHECK_INT(n, want_len);
    CHECK_MEM(buf, want, want_len);

    /* Just room enough, in place: header, OSN, payload. */
    original(buf, false, &len);
    n = mr_rtp_rtx_wrap(buf, len + 2, buf, RTX_HEADER_LEN, buf + RTX_HEADER_LEN, PAYLOAD_LEN,
                        RTX_PT, RTX_SEQ, RTX_SSRC);
    CHECK_INT(n, want_len);
    CHECK_MEM(buf, want, want_len);
}

static void test_wrap_errors(void)
{
    uint8_t orig[64], out[64], before[64];
    size_t orig_len;
    original(orig, false, &orig_len);
    memset(out, 0x5a, sizeof(out));
    memcpy(before, out, sizeof(out));
    for (size_t cap = 0; cap < orig_len + 2; cap++)
        CHECK_INT(mr_rtp_rtx_wrap(out, cap, orig, RTX_HEADER_LEN, orig + RTX_HEADER_LEN,
                                  PAYLOAD_LEN, RTX_PT, RTX_SEQ, RTX_SSRC),
                  MR_ENOSPC);
    CHECK_MEM(out, before, sizeof(out));
    /* In place, too small: the packet is left as it was. */
    uint8_t copy[64];
    memcpy(copy, orig, orig_len);
    CHECK_INT(mr_rtp_rtx_wrap(orig, orig_len + 1, orig, RTX_HEADER_LEN, orig + RTX_HEADER_LEN,
                              PAYLOAD_LEN, RTX_PT, RTX_SEQ, RTX_SSRC),
              MR_ENOSPC);
    CHECK_MEM(orig, copy, orig_len);

    CHECK_INT(mr_rtp_rtx_wrap(out, sizeof(out), orig, 11, orig + 11, 4, RTX_PT, RTX_SEQ, RTX_SSRC),
              MR_EINVAL);
    CHECK_INT(mr_rtp_rtx_wrap(NULL, sizeof(out), orig, RTX_HEADER_LEN, orig + RTX_HEADER_LEN,
                              PAYLOAD_LEN, RTX_PT, RTX_SEQ, RTX_SSRC),
              MR_EINVAL);
    CHECK_INT(mr_rtp_rtx_wrap(out, sizeof(out), NULL, RTX_HEADER_LEN, orig + RTX_HEADER_LEN,
                              PAYLOAD_LEN, RTX_PT, RTX_SEQ, RTX_SSRC),
              MR_EINVAL);
    CHECK_INT(mr_rtp_rtx_wrap(out, sizeof(out), orig, RTX_HEADER_LEN, NULL, PAYLOAD_LEN, RTX_PT,
                              RTX_SEQ, RTX_SSRC),
              MR_EINVAL);
    /* No payload at all is a retransmission of an empty packet. */
    CHECK_INT(
        mr_rtp_rtx_wrap(out, sizeof(out), orig, RTX_HEADER_LEN, NULL, 0, RTX_PT, RTX_SEQ, RTX_SSRC),
        RTX_HEADER_LEN + 2);
}

/* Wrap, then unwrap: the original comes back, in another buffer and in
 * place. */
static void test_round_trip(void)
{
    uint8_t orig[64], buf[64];
    size_t orig_len;
    original(orig, false, &orig_len);

    int n = mr_rtp_rtx_wrap(buf, sizeof(buf), orig, RTX_HEADER_LEN, orig + RTX_HEADER_LEN,
                            PAYLOAD_LEN, RTX_PT, RTX_SEQ, RTX_SSRC);
    CHECK_INT(n, orig_len + 2);
    struct mr_rtp_header h;
    CHECK_INT(mr_rtp_parse(buf, (size_t)n, &h), MR_OK);
    uint8_t *back;
    int m = mr_rtp_rtx_unwrap(buf, (size_t)n, &h, ORIG_PT, ORIG_SSRC, &back);
    CHECK_INT(m, orig_len);
    CHECK_MEM(back, orig, orig_len);

    /* In place, for each sequence number near the wrap. */
    static const uint16_t osns[] = {0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff};
    for (size_t i = 0; i < sizeof(osns) / sizeof(osns[0]); i++) {
        original(buf, false, &orig_len);
        buf[2] = (uint8_t)(osns[i] >> 8);
        buf[3] = (uint8_t)osns[i];
        memcpy(orig, buf, orig_len);
        n = mr_rtp_rtx_wrap(buf, sizeof(buf), buf, RTX_HEADER_LEN, buf + RTX_HEADER_LEN,
                            PAYLOAD_LEN, RTX_PT, (uint16_t)(RTX_SEQ + i), RTX_SSRC);
        CHECK_INT(n, orig_len + 2);
        CHECK_INT(mr_rtp_parse(buf, (size_t)n, &h), MR_OK);
        CHECK_INT(h.seq, RTX_SEQ + i);
        m = mr_rtp_rtx_unwrap(buf, (size_t)n, &h, ORIG_PT, ORIG_SSRC, &back);
        CHECK_INT(m, orig_len);
        CHECK_MEM(back, orig, orig_len);
        struct mr_rtp_header o;
        CHECK_INT(mr_rtp_parse(back, (size_t)m, &o), MR_OK);
        CHECK_INT(o.seq, osns[i]);
    }
}

MR_TEST_MAIN(MR_TEST(test_unwrap), MR_TEST(test_unwrap_plain), MR_TEST(test_unwrap_short),
             MR_TEST(test_wrap), MR_TEST(test_wrap_clears_padding), MR_TEST(test_wrap_in_place),
             MR_TEST(test_wrap_errors), MR_TEST(test_round_trip))
