/*
 * RTP header extensions (RFC 8285): listing one-byte and two-byte blocks,
 * writing headers in either form, a parse/rewrite/parse round trip with
 * remapped ids, and the URI table.
 */
#include "rtp/rtp.h"

#include "core/error.h"
#include "mr_test.h"

/* The Chromium-like packet of test_rtp.c: mid, transport-cc, abs-send-time. */
static const uint8_t chromium_vp8[] = {
    0x90, 0x60, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x11, 0x22, 0x33, 0x44,
    0xbe, 0xde, 0x00, 0x03,
    0x40, '1',
    0x31, 0x00, 0x05,
    0x22, 0x12, 0x34, 0x56,
    0x00, 0x00, 0x00,
    0x90, 0x80, 0x81, 0x23, 0xb0, 0x8d, 0x01, 0x9d, 0x01, 0x2a,
};

static int parse_all(const uint8_t *pkt, size_t len, struct mr_rtp_header *h,
                     struct mr_rtp_ext_list *l)
{
    int rc = mr_rtp_parse(pkt, len, h);
    if (rc < 0)
        return rc;
    return mr_rtp_ext_parse(pkt, h, l);
}

static void test_one_byte_chromium(void)
{
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    CHECK_INT(parse_all(chromium_vp8, sizeof(chromium_vp8), &h, &l), MR_OK);
    CHECK_INT(l.count, 3);

    const struct mr_rtp_ext_elem *mid = mr_rtp_ext_find(&l, 4);
    CHECK(mid != NULL);
    if (mid) {
        CHECK_INT(mid->len, 1);
        CHECK_INT(mid->offset, 17);
        CHECK_INT(chromium_vp8[mid->offset], '1');
    }
    const struct mr_rtp_ext_elem *twcc = mr_rtp_ext_find(&l, 3);
    CHECK(twcc != NULL);
    if (twcc) {
        CHECK_INT(twcc->len, 2);
        CHECK_INT(twcc->offset, 19);
        CHECK_INT(chromium_vp8[twcc->offset + 1], 5);
    }
    const struct mr_rtp_ext_elem *abs = mr_rtp_ext_find(&l, 2);
    CHECK(abs != NULL);
    if (abs) {
        CHECK_INT(abs->len, 3);
        CHECK_INT(abs->offset, 22);
        CHECK_MEM(chromium_vp8 + abs->offset, "\x12\x34\x56", 3);
    }
    CHECK(mr_rtp_ext_find(&l, 1) == NULL);
    CHECK(mr_rtp_ext_find(&l, 0) == NULL);
    CHECK(mr_rtp_ext_find(NULL, 4) == NULL);
}

/* Builds a 12-byte header with X=1 and the given extension block. */
static size_t build(uint8_t *pkt, uint16_t profile, const uint8_t *blk, size_t blk_len)
{
    memset(pkt, 0, 16);
    pkt[0] = 0x90;
    pkt[1] = 0x60;
    pkt[12] = (uint8_t)(profile >> 8);
    pkt[13] = (uint8_t)profile;
    pkt[15] = (uint8_t)(blk_len / 4);
    memcpy(pkt + 16, blk, blk_len);
    return 16 + blk_len;
}

static void test_one_byte_padding_between(void)
{
    /* Zero bytes before, between and after elements are padding. */
    const uint8_t blk[] = {0x00, 0x10, 0xaa, 0x00, 0x00, 0x21, 0xbb, 0xcc};
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    size_t n = build(pkt, 0xbede, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, 2);
    CHECK_INT(l.elems[0].id, 1);
    CHECK_INT(l.elems[0].len, 1);
    CHECK_INT(l.elems[0].offset, 18);
    CHECK_INT(l.elems[1].id, 2);
    CHECK_INT(l.elems[1].len, 2);
    CHECK_INT(l.elems[1].offset, 22);
}

static void test_one_byte_id15_stops(void)
{
    /* id 15 ends the block; what follows (even garbage) is not parsed. */
    const uint8_t blk[] = {0x10, 0xaa, 0xf0, 0x3f, 0xff, 0xff, 0xff, 0xff};
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    size_t n = build(pkt, 0xbede, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, 1);
    CHECK_INT(l.elems[0].id, 1);
}

static void test_one_byte_id0_with_length(void)
{
    /* 0x01 is id 0 with length 2: not padding (which is 0x00) and not an
     * element; parsing stops as for id 15. Found by fuzz_rtp. */
    const uint8_t blk[] = {0x40, 0x31, 0x00, 0x01, 0x20, 0xaa, 0xbb, 0xcc};
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    size_t n = build(pkt, 0xbede, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, 1);
    CHECK_INT(l.elems[0].id, 4);
    CHECK(mr_rtp_ext_find(&l, 0) == NULL);
    CHECK(mr_rtp_ext_find(&l, 2) == NULL);
}

static void test_one_byte_overrun(void)
{
    /* id 1 claims 16 bytes in a 4-byte block. */
    const uint8_t blk[] = {0x1f, 0x00, 0x00, 0x00};
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    size_t n = build(pkt, 0xbede, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_EPARSE);
    /* An element that ends exactly at the block end is fine. */
    const uint8_t blk2[] = {0x12, 1, 2, 3};
    n = build(pkt, 0xbede, blk2, sizeof(blk2));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, 1);
    CHECK_INT(l.elems[0].len, 3);
    /* Whose last byte is one past it is not. */
    const uint8_t blk3[] = {0x13, 1, 2, 3};
    n = build(pkt, 0xbede, blk3, sizeof(blk3));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_EPARSE);
}

static void test_one_byte_too_many(void)
{
    /* 17 one-byte elements of one data byte each: 34 bytes, 9 words. */
    uint8_t blk[36] = {0};
    for (unsigned i = 0; i < 17; i++) {
        blk[2 * i] = (uint8_t)(((i % 14) + 1) << 4);
        blk[2 * i + 1] = (uint8_t)i;
    }
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    size_t n = build(pkt, 0xbede, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_EPARSE);
    /* Exactly MR_RTP_EXT_MAX is accepted. */
    memset(blk + 32, 0, 4);
    n = build(pkt, 0xbede, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, MR_RTP_EXT_MAX);
}

static void test_two_byte(void)
{
    /* id 1 len 0, pad, id 200 len 3, id 15 len 1 (legal here). */
    const uint8_t blk[] = {0x01, 0x00, 0x00, 0xc8, 0x03, 0xa, 0xb, 0xc, 0x0f, 0x01, 0x99, 0x00};
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    size_t n = build(pkt, 0x100f, blk, sizeof(blk)); /* appbits 0xf */
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, 3);
    CHECK_INT(l.elems[0].id, 1);
    CHECK_INT(l.elems[0].len, 0);
    CHECK_INT(l.elems[0].offset, 18);
    CHECK_INT(l.elems[1].id, 200);
    CHECK_INT(l.elems[1].len, 3);
    CHECK_INT(l.elems[1].offset, 21);
    CHECK_INT(l.elems[2].id, 15);
    CHECK_INT(pkt[l.elems[2].offset], 0x99);
}

static void test_two_byte_overrun(void)
{
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    /* Length byte says 3, only 2 left. */
    const uint8_t blk[] = {0x05, 0x03, 0xaa, 0xbb};
    size_t n = build(pkt, 0x1000, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_EPARSE);
    /* An id in the last byte with no room for its length. */
    const uint8_t blk2[] = {0x00, 0x00, 0x00, 0x05};
    n = build(pkt, 0x1000, blk2, sizeof(blk2));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_EPARSE);
}

static void test_other_profiles(void)
{
    const uint8_t blk[] = {0x12, 0x34, 0x56, 0x78};
    uint8_t pkt[64];
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    size_t n = build(pkt, 0xabac, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, 0);
    /* 0x1010 is not a two-byte profile (only the low 4 bits are appbits). */
    n = build(pkt, 0x1010, blk, sizeof(blk));
    CHECK_INT(parse_all(pkt, n, &h, &l), MR_OK);
    CHECK_INT(l.count, 0);
    /* No X bit at all. */
    const uint8_t plain[] = {0x80, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    l.count = 7;
    CHECK_INT(parse_all(plain, sizeof(plain), &h, &l), MR_OK);
    CHECK_INT(l.count, 0);
    /* A header whose block claims to lie past its own end is refused. */
    CHECK_INT(mr_rtp_parse(chromium_vp8, sizeof(chromium_vp8), &h), MR_OK);
    h.ext_len = 200;
    CHECK_INT(mr_rtp_ext_parse(chromium_vp8, &h, &l), MR_EPARSE);
}

static void test_write_plain(void)
{
    const uint32_t csrcs[] = {0x01020304, 0xa1a2a3a4};
    struct mr_rtp_out_header oh = {
        .marker = true, .payload_type = 111, .seq = 0xfffe, .timestamp = 0x11223344,
        .ssrc = 0xcafebabe, .csrc_count = 2, .csrcs = csrcs,
    };
    const uint8_t expect[] = {0x82, 0xef, 0xff, 0xfe, 0x11, 0x22, 0x33, 0x44, 0xca, 0xfe,
                              0xba, 0xbe, 0x01, 0x02, 0x03, 0x04, 0xa1, 0xa2, 0xa3, 0xa4};
    uint8_t out[64];
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, NULL, 0), 20);
    CHECK_MEM(out, expect, sizeof(expect));
    CHECK_INT(mr_rtp_write_header(out, 19, &oh, NULL, 0), MR_ENOSPC);
    CHECK_INT(mr_rtp_write_header(out, 20, &oh, NULL, 0), 20);
}

static void test_write_one_byte(void)
{
    /* mid "1" as id 1, audio level as id 2: 2 + 2 = 4 bytes, no padding. */
    const uint8_t mid[] = {'1'};
    const uint8_t level[] = {0x85};
    const struct mr_rtp_ext_out ext[] = {{1, 1, mid}, {2, 1, level}};
    struct mr_rtp_out_header oh = {.payload_type = 111, .seq = 7, .timestamp = 960, .ssrc = 9};
    const uint8_t expect[] = {0x90, 0x6f, 0x00, 0x07, 0x00, 0x00, 0x03, 0xc0, 0x00, 0x00,
                              0x00, 0x09, 0xbe, 0xde, 0x00, 0x01, 0x10, '1',  0x20, 0x85};
    uint8_t out[64];
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, ext, 2), 20);
    CHECK_MEM(out, expect, sizeof(expect));
    for (size_t cap = 0; cap < 20; cap++)
        CHECK_INT(mr_rtp_write_header(out, cap, &oh, ext, 2), MR_ENOSPC);

    /* One element of 16 bytes plus one of 3: 17 + 4 = 21, padded to 24. */
    const uint8_t sixteen[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    const uint8_t three[3] = {0xaa, 0xbb, 0xcc};
    const struct mr_rtp_ext_out ext2[] = {{14, 16, sixteen}, {3, 3, three}};
    memset(out, 0xee, sizeof(out));
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, ext2, 2), 12 + 4 + 24);
    CHECK_MEM(out + 12, "\xbe\xde\x00\x06", 4);
    CHECK_INT(out[16], 0xef);
    CHECK_MEM(out + 17, sixteen, 16);
    CHECK_INT(out[33], 0x32);
    CHECK_MEM(out + 34, three, 3);
    CHECK_MEM(out + 37, "\0\0\0", 3);
    CHECK_INT(out[40], 0xee); /* nothing written past the header */
}

static void test_write_two_byte(void)
{
    const uint8_t data[20] = {0};
    uint8_t out[128];
    struct mr_rtp_out_header oh = {.payload_type = 96, .seq = 1, .timestamp = 2, .ssrc = 3};
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;

    /* id 15 forces the two-byte form. */
    const struct mr_rtp_ext_out e15[] = {{15, 1, data}};
    int n = mr_rtp_write_header(out, sizeof(out), &oh, e15, 1);
    CHECK_INT(n, 20);
    CHECK_MEM(out + 12, "\x10\x00\x00\x01\x0f\x01\x00\x00", 8);
    /* So does an empty element, and one longer than 16 bytes. */
    const struct mr_rtp_ext_out e0[] = {{1, 1, data}, {2, 0, NULL}};
    n = mr_rtp_write_header(out, sizeof(out), &oh, e0, 2);
    CHECK_INT(n, 24); /* 3 + 2 bytes of elements, padded to 8 */
    CHECK_MEM(out + 12, "\x10\x00\x00\x02\x01\x01\x00\x02\x00\x00\x00\x00", 12);
    CHECK_INT(parse_all(out, (size_t)n, &h, &l), MR_OK);
    CHECK_INT(l.count, 2);
    CHECK_INT(l.elems[1].id, 2);
    CHECK_INT(l.elems[1].len, 0);
    const struct mr_rtp_ext_out e17[] = {{5, 17, data}};
    n = mr_rtp_write_header(out, sizeof(out), &oh, e17, 1);
    CHECK_INT(n, 12 + 4 + 20);
    CHECK_INT(parse_all(out, (size_t)n, &h, &l), MR_OK);
    CHECK_INT(h.ext_profile, 0x1000);
    CHECK_INT(l.count, 1);
    CHECK_INT(l.elems[0].len, 17);
    /* 2 + 17 = 19 bytes of elements, then a single zero. */
    CHECK_INT(out[35], 0);
    /* Two-byte ids go up to 255. */
    const struct mr_rtp_ext_out e255[] = {{255, 2, data}};
    n = mr_rtp_write_header(out, sizeof(out), &oh, e255, 1);
    CHECK_INT(parse_all(out, (size_t)n, &h, &l), MR_OK);
    CHECK_INT(l.elems[0].id, 255);
}

static void test_write_invalid(void)
{
    uint8_t out[64];
    const uint8_t d[1] = {0};
    struct mr_rtp_out_header oh = {.payload_type = 96};
    const struct mr_rtp_ext_out id0[] = {{0, 1, d}};
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, id0, 1), MR_EINVAL);
    const struct mr_rtp_ext_out nodata[] = {{1, 1, NULL}};
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, nodata, 1), MR_EINVAL);
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, NULL, 1), MR_EINVAL);
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), NULL, NULL, 0), MR_EINVAL);
    oh.payload_type = 128;
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, NULL, 0), MR_EINVAL);
    oh.payload_type = 96;
    oh.csrc_count = 16;
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, NULL, 0), MR_EINVAL);
    oh.csrc_count = 1; /* and no csrcs */
    CHECK_INT(mr_rtp_write_header(out, sizeof(out), &oh, NULL, 0), MR_EINVAL);
}

/*
 * What the relay does for every forwarded packet: read the publisher's
 * extensions, rewrite the header with the subscriber's negotiated ids, and
 * the subscriber must read the same values back.
 */
static void test_round_trip_remap(void)
{
    static const struct {
        uint8_t from, to;
    } remap[] = {{4, 1}, {3, 5}, {2, 3}};
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    CHECK_INT(parse_all(chromium_vp8, sizeof(chromium_vp8), &h, &l), MR_OK);

    struct mr_rtp_ext_out ext[MR_RTP_EXT_MAX];
    unsigned n_ext = 0;
    for (unsigned i = 0; i < l.count; i++) {
        for (unsigned j = 0; j < 3; j++) {
            if (l.elems[i].id == remap[j].from)
                ext[n_ext++] = (struct mr_rtp_ext_out){
                    remap[j].to, l.elems[i].len, chromium_vp8 + l.elems[i].offset};
        }
    }
    CHECK_INT(n_ext, 3);
    struct mr_rtp_out_header oh = {
        .marker = h.marker, .payload_type = h.payload_type, .seq = (uint16_t)(h.seq + 100),
        .timestamp = h.timestamp, .ssrc = 0x55667788,
    };
    uint8_t out[128];
    int hl = mr_rtp_write_header(out, sizeof(out), &oh, ext, n_ext);
    CHECK_INT(hl, 28);
    if (hl < 0)
        return;
    memcpy(out + hl, chromium_vp8 + h.header_len, h.payload_len);

    struct mr_rtp_header h2;
    struct mr_rtp_ext_list l2;
    CHECK_INT(parse_all(out, (size_t)hl + h.payload_len, &h2, &l2), MR_OK);
    CHECK_INT(h2.seq, h.seq + 100);
    CHECK_INT(h2.ssrc, 0x55667788);
    CHECK_INT(h2.timestamp, h.timestamp);
    CHECK_INT(h2.payload_type, h.payload_type);
    CHECK_INT(h2.marker, h.marker);
    CHECK_INT(h2.ext_profile, 0xbede);
    CHECK_INT(h2.payload_len, h.payload_len);
    CHECK_MEM(out + h2.header_len, chromium_vp8 + h.header_len, h.payload_len);
    CHECK_INT(l2.count, 3);
    for (unsigned j = 0; j < 3; j++) {
        const struct mr_rtp_ext_elem *a = mr_rtp_ext_find(&l, remap[j].from);
        const struct mr_rtp_ext_elem *b = mr_rtp_ext_find(&l2, remap[j].to);
        CHECK(a && b);
        if (a && b) {
            CHECK_INT(a->len, b->len);
            CHECK_MEM(chromium_vp8 + a->offset, out + b->offset, a->len);
        }
    }
    /* The publisher's ids are gone. */
    CHECK(mr_rtp_ext_find(&l2, 4) == NULL);
    CHECK(mr_rtp_ext_find(&l2, 2) == NULL);
}

static void test_uris(void)
{
    CHECK_INT(mr_rtp_ext_kind_from_uri("urn:ietf:params:rtp-hdrext:sdes:mid"), MR_RTP_EXT_MID);
    CHECK_INT(mr_rtp_ext_kind_from_uri("urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
              MR_RTP_EXT_AUDIO_LEVEL);
    CHECK_INT(mr_rtp_ext_kind_from_uri("http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
              MR_RTP_EXT_NONE);
    CHECK_INT(mr_rtp_ext_kind_from_uri("urn:ietf:params:rtp-hdrext:sdes:mi"), MR_RTP_EXT_NONE);
    CHECK_INT(mr_rtp_ext_kind_from_uri(""), MR_RTP_EXT_NONE);
    CHECK_INT(mr_rtp_ext_kind_from_uri(NULL), MR_RTP_EXT_NONE);
    CHECK_STR(mr_rtp_ext_kind_uri(MR_RTP_EXT_MID), "urn:ietf:params:rtp-hdrext:sdes:mid");
    CHECK_STR(mr_rtp_ext_kind_uri(MR_RTP_EXT_AUDIO_LEVEL),
              "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    CHECK(mr_rtp_ext_kind_uri(MR_RTP_EXT_NONE) == NULL);
    CHECK(mr_rtp_ext_kind_uri(MR_RTP_EXT_KIND_COUNT) == NULL);
    for (int k = MR_RTP_EXT_NONE + 1; k < MR_RTP_EXT_KIND_COUNT; k++)
        CHECK_INT(mr_rtp_ext_kind_from_uri(mr_rtp_ext_kind_uri((enum mr_rtp_ext_kind)k)), k);
}

MR_TEST_MAIN(MR_TEST(test_one_byte_chromium), MR_TEST(test_one_byte_padding_between),
             MR_TEST(test_one_byte_id15_stops),
             MR_TEST(test_one_byte_id0_with_length), MR_TEST(test_one_byte_overrun),
             MR_TEST(test_one_byte_too_many), MR_TEST(test_two_byte),
             MR_TEST(test_two_byte_overrun), MR_TEST(test_other_profiles),
             MR_TEST(test_write_plain), MR_TEST(test_write_one_byte),
             MR_TEST(test_write_two_byte), MR_TEST(test_write_invalid),
             MR_TEST(test_round_trip_remap), MR_TEST(test_uris))
