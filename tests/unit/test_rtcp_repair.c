/*
 * The RTCP of loss repair (rtcp_repair.c): generic NACK (RFC 4585 §6.2.1)
 * written and read back, and against packets assembled by hand from the
 * RFC's layout; XR Receiver Reference Time (RFC 3611 §4.4) byte for byte;
 * the DLRR search (§4.5) among blocks and sub-blocks, malformed lengths and
 * padding; the round trip from LRR and DLRR (RFC 3550 §6.4.1).
 */
#include <limits.h>

#include "rtcp/rtcp.h"

#include "core/error.h"
#include "mr_test.h"

/* Parses the single packet at buf as feedback. */
static int parse_one_fb(const uint8_t *buf, size_t len, struct mr_rtcp_fb *fb)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, buf, len);
    int rc = mr_rtcp_next(&it, &p);
    if (rc != 1)
        return rc < 0 ? rc : MR_EPARSE;
    return mr_rtcp_parse_fb(&p, fb);
}

/* Every sequence number a NACK names, in entry order, into seqs. */
static unsigned nack_all(const struct mr_rtcp_fb *fb, uint16_t *seqs, unsigned max)
{
    unsigned n = 0;
    int count = mr_rtcp_nack_count(fb);
    for (int i = 0; i < count; i++) {
        uint16_t e[17];
        unsigned k = mr_rtcp_nack_entry(fb, (unsigned)i, e);
        for (unsigned j = 0; j < k && n < max; j++)
            seqs[n++] = e[j];
    }
    return n;
}

/* Writes seqs as a NACK, parses it back and checks that the same sequence
 * numbers come out in the same order, in `entries` entries. */
static void nack_round_trip(const uint16_t *seqs, unsigned n, int entries)
{
    uint8_t buf[2600];
    struct mr_rtcp_fb fb;
    int len = mr_rtcp_write_nack(buf, sizeof(buf), 0x11223344, 0x55667788, seqs, n);
    CHECK_INT(len, 12 + 4 * entries);
    if (len < 0)
        return;
    CHECK_INT(parse_one_fb(buf, (size_t)len, &fb), MR_OK);
    CHECK_INT(fb.type, MR_RTCP_RTPFB);
    CHECK_INT(fb.fmt, MR_RTCP_RTPFB_NACK);
    CHECK_INT(fb.sender_ssrc, 0x11223344);
    CHECK_INT(fb.media_ssrc, 0x55667788);
    CHECK_INT(mr_rtcp_nack_count(&fb), entries);
    uint16_t back[600];
    CHECK_INT(nack_all(&fb, back, 600), n);
    CHECK_MEM(back, seqs, n * sizeof(seqs[0]));
}

static void test_nack_single(void)
{
    uint16_t one[] = {1000};
    nack_round_trip(one, 1, 1);
    uint16_t zero[] = {0};
    nack_round_trip(zero, 1, 1);
    uint16_t top[] = {65535};
    nack_round_trip(top, 1, 1);
}

static void test_nack_blp_packing(void)
{
    /* Consecutive: one entry, BLP bits 0 and 1. */
    uint16_t three[] = {500, 501, 502};
    nack_round_trip(three, 3, 1);
    /* 17 in a row fill one entry: PID and all 16 bits. */
    uint16_t run[17];
    for (unsigned i = 0; i < 17; i++)
        run[i] = (uint16_t)(2000 + i);
    nack_round_trip(run, 17, 1);
    /* 18 in a row need a second entry. */
    uint16_t run18[18];
    for (unsigned i = 0; i < 18; i++)
        run18[i] = (uint16_t)(2000 + i);
    nack_round_trip(run18, 18, 2);

    uint8_t buf[64];
    struct mr_rtcp_fb fb;
    /* Exactly 16 apart: the last BLP bit of the PID's entry. */
    uint16_t at16[] = {100, 116};
    int len = mr_rtcp_write_nack(buf, sizeof(buf), 1, 2, at16, 2);
    CHECK_INT(len, 16);
    CHECK_INT(buf[12] << 8 | buf[13], 100);
    CHECK_INT(buf[14] << 8 | buf[15], 0x8000);
    nack_round_trip(at16, 2, 1);
    /* 17 apart: out of reach of the first entry's bitmask. */
    uint16_t at17[] = {100, 117};
    len = mr_rtcp_write_nack(buf, sizeof(buf), 1, 2, at17, 2);
    CHECK_INT(len, 20);
    CHECK_INT(buf[12] << 8 | buf[13], 100);
    CHECK_INT(buf[14] << 8 | buf[15], 0);
    CHECK_INT(buf[16] << 8 | buf[17], 117);
    CHECK_INT(buf[18] << 8 | buf[19], 0);
    nack_round_trip(at17, 2, 2);
    /* Sparse bits: PID 10, then 11, 14 and 26 (bits 0, 3 and 15). */
    uint16_t sparse[] = {10, 11, 14, 26};
    len = mr_rtcp_write_nack(buf, sizeof(buf), 1, 2, sparse, 4);
    CHECK_INT(len, 16);
    CHECK_INT(buf[14] << 8 | buf[15], 0x8009);
    CHECK_INT(parse_one_fb(buf, (size_t)len, &fb), MR_OK);
    uint16_t e[17];
    CHECK_INT(mr_rtcp_nack_entry(&fb, 0, e), 4);
    CHECK_MEM(e, sparse, sizeof(sparse));
}

static void test_nack_wrap(void)
{
    /* 65535 -> 0: one entry whose BLP reaches across the wrap. */
    uint16_t wrap[] = {65530, 65535, 0, 1, 9};
    uint8_t buf[64];
    int len = mr_rtcp_write_nack(buf, sizeof(buf), 1, 2, wrap, 5);
    CHECK_INT(len, 16);
    CHECK_INT(buf[12] << 8 | buf[13], 65530);
    /* 65535 is PID+5 (bit 4), 0 is PID+6 (bit 5), 1 bit 6, 9 is PID+15 (bit 14) */
    CHECK_INT(buf[14] << 8 | buf[15], 1 << 4 | 1 << 5 | 1 << 6 | 1 << 14);
    nack_round_trip(wrap, 5, 1);
    /* A PID of 65535 whose bits all lie after the wrap. */
    uint16_t after[17];
    for (unsigned i = 0; i < 17; i++)
        after[i] = (uint16_t)(65535 + i);
    nack_round_trip(after, 17, 1);
    /* Across the wrap, 17 apart: two entries. */
    uint16_t two[] = {65530, 11};
    nack_round_trip(two, 2, 2);
}

static void test_nack_many(void)
{
    /* 300 sequence numbers, every third one, crossing the wrap: every
     * entry holds the PID and bits 2, 5, 8, 11 and 14 (6 numbers), so
     * 300 need 50 entries. */
    uint16_t seqs[300];
    for (unsigned i = 0; i < 300; i++)
        seqs[i] = (uint16_t)(65000 + 3 * i);
    nack_round_trip(seqs, 300, 50);
    /* 600 spaced 17 apart: one entry each. */
    uint16_t far[600];
    for (unsigned i = 0; i < 600; i++)
        far[i] = (uint16_t)(17 * i);
    nack_round_trip(far, 600, 600);
}

/*
 * RFC 4585 §6.1 and §6.2.1, by hand:
 * |V=2|P|  FMT=1  |   PT=205      |          length=3             |
 * |                  SSRC of packet sender                        |
 * |                  SSRC of media source                         |
 * |            PID                |             BLP               |
 */
static const uint8_t rfc_nack[] = {
    0x81, 0xcd, 0x00, 0x04, /* FMT 1, RTPFB, length 4: five words */
    0xde, 0xad, 0xbe, 0xef, /* sender */
    0x01, 0x02, 0x03, 0x04, /* media source */
    0x03, 0xe8, 0x00, 0x05, /* PID 1000, BLP bits 0 and 2: 1001, 1003 */
    0x03, 0xfa, 0x00, 0x00, /* PID 1018 alone */
};

static void test_nack_rfc_layout(void)
{
    uint16_t seqs[] = {1000, 1001, 1003, 1018};
    uint8_t buf[64];
    memset(buf, 0xaa, sizeof(buf));
    int len = mr_rtcp_write_nack(buf, sizeof(buf), 0xdeadbeef, 0x01020304, seqs, 4);
    CHECK_INT(len, (int)sizeof(rfc_nack));
    CHECK_MEM(buf, rfc_nack, sizeof(rfc_nack));
    CHECK_INT(buf[sizeof(rfc_nack)], 0xaa); /* nothing written past it */

    struct mr_rtcp_fb fb;
    CHECK_INT(parse_one_fb(rfc_nack, sizeof(rfc_nack), &fb), MR_OK);
    CHECK_INT(mr_rtcp_nack_count(&fb), 2);
    uint16_t e[17];
    CHECK_INT(mr_rtcp_nack_entry(&fb, 0, e), 3);
    CHECK_INT(e[0], 1000);
    CHECK_INT(e[1], 1001);
    CHECK_INT(e[2], 1003);
    CHECK_INT(mr_rtcp_nack_entry(&fb, 1, e), 1);
    CHECK_INT(e[0], 1018);
    CHECK_INT(mr_rtcp_nack_entry(&fb, 2, e), 0);
    CHECK_INT(mr_rtcp_nack_entry(&fb, 100, e), 0);
    /* Far past the end: the entry's offset must not wrap round. */
    CHECK_INT(mr_rtcp_nack_entry(&fb, UINT_MAX, e), 0);
    CHECK_INT(mr_rtcp_nack_entry(NULL, 0, e), 0);

    /* A full BLP: 17 numbers. */
    static const uint8_t full[] = {
        0x81, 0xcd, 0x00, 0x03, /* NACK, length 3 */
        0x00, 0x00, 0x00, 0x01, /* sender */
        0x00, 0x00, 0x00, 0x02, /* media source */
        0xff, 0xf8, 0xff, 0xff, /* PID 65528, every BLP bit */
    };
    CHECK_INT(parse_one_fb(full, sizeof(full), &fb), MR_OK);
    CHECK_INT(mr_rtcp_nack_entry(&fb, 0, e), 17);
    CHECK_INT(e[0], 65528);
    CHECK_INT(e[7], 65535);
    CHECK_INT(e[8], 0);
    CHECK_INT(e[16], 8);
}

static void test_nack_malformed(void)
{
    struct mr_rtcp_fb fb;
    CHECK_INT(parse_one_fb(rfc_nack, sizeof(rfc_nack), &fb), MR_OK);

    /* FCI not a multiple of 4 (only a hand-built fb can say so: packets
     * are whole words). */
    struct mr_rtcp_fb odd = fb;
    for (size_t cut = 1; cut < 4; cut++) {
        odd.fci_len = fb.fci_len - cut;
        CHECK_INT(mr_rtcp_nack_count(&odd), MR_EPARSE);
    }
    /* With fewer than 4 bytes left, the last entry is past the end. */
    uint16_t e[17];
    odd.fci_len = 6;
    CHECK_INT(mr_rtcp_nack_entry(&odd, 0, e), 3);
    CHECK_INT(mr_rtcp_nack_entry(&odd, 1, e), 0);
    /* No FCI at all: no entries. */
    odd.fci_len = 0;
    CHECK_INT(mr_rtcp_nack_count(&odd), 0);
    CHECK_INT(mr_rtcp_nack_entry(&odd, 0, e), 0);

    /* Wrong type or FMT. */
    struct mr_rtcp_fb other = fb;
    other.type = MR_RTCP_PSFB;
    CHECK_INT(mr_rtcp_nack_count(&other), MR_EINVAL);
    other = fb;
    other.fmt = MR_RTCP_RTPFB_TWCC;
    CHECK_INT(mr_rtcp_nack_count(&other), MR_EINVAL);
    CHECK_INT(mr_rtcp_nack_count(NULL), MR_EINVAL);
    /* A PLI on the wire (PSFB, FMT 1) is not a NACK. */
    uint8_t pli[12];
    CHECK_INT(mr_rtcp_write_pli(pli, sizeof(pli), 1, 2), 12);
    CHECK_INT(parse_one_fb(pli, sizeof(pli), &other), MR_OK);
    CHECK_INT(mr_rtcp_nack_count(&other), MR_EINVAL);
    /* TWCC's FMT on an RTPFB packet. */
    uint8_t twcc[16];
    memcpy(twcc, rfc_nack, 16);
    twcc[0] = 0x80 | MR_RTCP_RTPFB_TWCC;
    twcc[3] = 3;
    CHECK_INT(parse_one_fb(twcc, sizeof(twcc), &other), MR_OK);
    CHECK_INT(mr_rtcp_nack_count(&other), MR_EINVAL);
}

static void test_nack_write_errors(void)
{
    uint16_t seqs[] = {1000, 1001, 1003, 1018};
    uint8_t buf[64], before[64];
    memset(buf, 0x5a, sizeof(buf));
    memcpy(before, buf, sizeof(buf));
    /* Two entries need 20 bytes. */
    for (size_t cap = 0; cap < 20; cap++) {
        CHECK_INT(mr_rtcp_write_nack(buf, cap, 1, 2, seqs, 4), MR_ENOSPC);
        CHECK_MEM(buf, before, sizeof(buf));
    }
    CHECK_INT(mr_rtcp_write_nack(buf, 20, 1, 2, seqs, 4), 20);
    /* Nothing to ask for, or no buffer. */
    CHECK_INT(mr_rtcp_write_nack(buf, sizeof(buf), 1, 2, seqs, 0), MR_EINVAL);
    CHECK_INT(mr_rtcp_write_nack(buf, sizeof(buf), 1, 2, NULL, 0), MR_EINVAL);
    CHECK_INT(mr_rtcp_write_nack(buf, sizeof(buf), 1, 2, NULL, 3), MR_EINVAL);
    CHECK_INT(mr_rtcp_write_nack(NULL, sizeof(buf), 1, 2, seqs, 4), MR_EINVAL);
}

/* A NACK appended to a report in one buffer, as the relay sends them. */
static void test_nack_in_compound(void)
{
    uint8_t buf[128];
    struct mr_rtcp_rr rr = {.ssrc = 7};
    int a = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    CHECK_INT(a, 8);
    uint16_t seqs[] = {42, 43};
    int b = mr_rtcp_write_nack(buf + a, sizeof(buf) - (size_t)a, 7, 9, seqs, 2);
    CHECK_INT(b, 16);

    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb fb;
    mr_rtcp_iter_init(&it, buf, (size_t)(a + b));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_RR);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_RTPFB);
    CHECK_INT(mr_rtcp_parse_fb(&p, &fb), MR_OK);
    CHECK_INT(mr_rtcp_nack_count(&fb), 1);
    uint16_t e[17];
    CHECK_INT(mr_rtcp_nack_entry(&fb, 0, e), 2);
    CHECK_INT(e[1], 43);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);
}

/*
 * RFC 3611 §2 and §4.4:
 * |V=2|P|reserved |   PT=XR=207   |             length            |
 * |                              SSRC                             |
 * |     BT=4      |   reserved    |       block length = 2        |
 * |              NTP timestamp, most significant word             |
 * |             NTP timestamp, least significant word             |
 */
static void test_xr_rrtr_bytes(void)
{
    static const uint8_t want[] = {
        0x80, 0xcf, 0x00, 0x04, /* V=2, XR, length 4 */
        0xca, 0xfe, 0xba, 0xbe, /* SSRC */
        0x04, 0x00, 0x00, 0x02, /* BT=4, block length 2 */
        0xe8, 0x6b, 0x1c, 0x39, /* NTP, most significant word */
        0x80, 0x00, 0x00, 0x01, /* NTP, least significant word */
    };
    uint8_t buf[32];
    memset(buf, 0xaa, sizeof(buf));
    CHECK_INT(mr_rtcp_write_xr_rrtr(buf, sizeof(buf), 0xcafebabe, 0xe86b1c3980000001ULL), 20);
    CHECK_MEM(buf, want, sizeof(want));
    CHECK_INT(buf[20], 0xaa);

    /* It iterates as one XR packet, with no DLRR in it. */
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, buf, 20);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_XR);
    CHECK_INT(p.len, 20);
    uint32_t lrr = 1, dlrr = 2;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xcafebabe, &lrr, &dlrr), 0);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);

    /* Too small: nothing written. */
    uint8_t before[32];
    memset(buf, 0x5a, sizeof(buf));
    memcpy(before, buf, sizeof(buf));
    for (size_t cap = 0; cap < 20; cap++)
        CHECK_INT(mr_rtcp_write_xr_rrtr(buf, cap, 1, 2), MR_ENOSPC);
    CHECK_MEM(buf, before, sizeof(buf));
    CHECK_INT(mr_rtcp_write_xr_rrtr(NULL, sizeof(buf), 1, 2), MR_EINVAL);
}

/* Appends a 32-bit word to an XR packet being built. */
static size_t put32(uint8_t *b, size_t off, uint32_t v)
{
    b[off] = (uint8_t)(v >> 24);
    b[off + 1] = (uint8_t)(v >> 16);
    b[off + 2] = (uint8_t)(v >> 8);
    b[off + 3] = (uint8_t)v;
    return off + 4;
}

static size_t block_header(uint8_t *b, size_t off, uint8_t bt, uint16_t words)
{
    return put32(b, off, (uint32_t)bt << 24 | words);
}

/* Fixes the XR header of a packet of len bytes (a multiple of 4). */
static void xr_header(uint8_t *b, size_t len, uint32_t ssrc, bool padding)
{
    b[0] = padding ? 0xa0 : 0x80;
    b[1] = MR_RTCP_XR;
    b[2] = (uint8_t)((len / 4 - 1) >> 8);
    b[3] = (uint8_t)(len / 4 - 1);
    put32(b, 4, ssrc);
}

static struct mr_rtcp_pkt xr_pkt(const uint8_t *b, size_t len)
{
    return (struct mr_rtcp_pkt){
        .type = MR_RTCP_XR, .padding = (b[0] & 0x20) != 0, .data = b, .len = len};
}

/*
 * An XR from a publisher: an RRTR of its own, a DLRR block answering two
 * receivers, a VoIP-metrics-sized unknown block, and a second DLRR block
 * answering a third.
 */
static size_t build_xr(uint8_t *b)
{
    size_t off = 8;
    off = block_header(b, off, 4, 2); /* RRTR */
    off = put32(b, off, 0x11111111);
    off = put32(b, off, 0x22222222);
    off = block_header(b, off, 5, 6); /* DLRR, two sub-blocks */
    off = put32(b, off, 0xa0a0a0a0);
    off = put32(b, off, 0x00010001);
    off = put32(b, off, 0x00000100);
    off = put32(b, off, 0xb0b0b0b0);
    off = put32(b, off, 0x00020002);
    off = put32(b, off, 0x00000200);
    off = block_header(b, off, 7, 8); /* VoIP metrics, skipped */
    for (int i = 0; i < 8; i++)
        off = put32(b, off, 0x05050505); /* a 5 here is no block type */
    off = block_header(b, off, 5, 3);    /* DLRR, one sub-block */
    off = put32(b, off, 0xc0c0c0c0);
    off = put32(b, off, 0x00030003);
    off = put32(b, off, 0x00000300);
    xr_header(b, off, 0x99999999, false);
    return off;
}

static void test_xr_find_dlrr(void)
{
    uint8_t b[256];
    size_t len = build_xr(b);
    struct mr_rtcp_pkt p = xr_pkt(b, len);
    uint32_t lrr = 0, dlrr = 0;

    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xa0a0a0a0, &lrr, &dlrr), 1);
    CHECK_INT(lrr, 0x00010001);
    CHECK_INT(dlrr, 0x100);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xb0b0b0b0, &lrr, &dlrr), 1);
    CHECK_INT(lrr, 0x00020002);
    CHECK_INT(dlrr, 0x200);
    /* In the second DLRR block, past an unknown one. */
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), 1);
    CHECK_INT(lrr, 0x00030003);
    CHECK_INT(dlrr, 0x300);

    /* Not there: not the packet's own SSRC, nor a value of another block. */
    lrr = dlrr = 77;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x99999999, &lrr, &dlrr), 0);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x11111111, &lrr, &dlrr), 0);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x05050505, &lrr, &dlrr), 0);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x00010001, &lrr, &dlrr), 0);
    CHECK_INT(lrr, 77);
    CHECK_INT(dlrr, 77);

    /* No blocks at all, and an empty DLRR block. */
    uint8_t e[16];
    xr_header(e, 8, 1, false);
    p = xr_pkt(e, 8);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 1, &lrr, &dlrr), 0);
    block_header(e, 8, 5, 0);
    xr_header(e, 12, 1, false);
    p = xr_pkt(e, 12);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0, &lrr, &dlrr), 0);

    /* Arguments. */
    p = xr_pkt(b, len);
    CHECK_INT(mr_rtcp_xr_find_dlrr(NULL, 1, &lrr, &dlrr), MR_EINVAL);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 1, NULL, &dlrr), MR_EINVAL);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 1, &lrr, NULL), MR_EINVAL);
    p.type = MR_RTCP_RR;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xa0a0a0a0, &lrr, &dlrr), MR_EINVAL);
}

static void test_xr_malformed(void)
{
    uint8_t b[256];
    size_t len = build_xr(b);
    struct mr_rtcp_pkt p;
    uint32_t lrr, dlrr;

    /* Shorter than the XR header. */
    p = xr_pkt(b, 4);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), MR_EPARSE);

    /* Cut inside the last block: its length runs past the packet. */
    p = xr_pkt(b, len - 4);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), MR_EPARSE);
    /* Cut between blocks: fine, the third receiver is just not there. */
    p = xr_pkt(b, len - 16);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), 0);
    /* Cut inside a block header: two bytes left over. */
    p = xr_pkt(b, len - 14);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), MR_EPARSE);

    /* The last block one word too long. */
    uint8_t c[256];
    memcpy(c, b, len);
    c[84 + 3] = 4;
    p = xr_pkt(c, len);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), MR_EPARSE);
    /* The first block (RRTR) running far past the packet. */
    memcpy(c, b, len);
    c[8 + 3] = 30;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xa0a0a0a0, &lrr, &dlrr), MR_EPARSE);
    c[8 + 2] = 0xff;
    c[8 + 3] = 0xff;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xa0a0a0a0, &lrr, &dlrr), MR_EPARSE);
    /* The first DLRR block too short: its second sub-block is read as a
     * block header whose length runs past the packet. */
    memcpy(c, b, len);
    c[20 + 3] = 3;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), MR_EPARSE);
    /* (A receiver found before the damage is still found.) */
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xa0a0a0a0, &lrr, &dlrr), 1);
    /* The first DLRR block not whole sub-blocks. */
    memcpy(c, b, len);
    c[20 + 3] = 7;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xc0c0c0c0, &lrr, &dlrr), MR_EPARSE);
    /* A lone DLRR block that is not whole sub-blocks. */
    uint8_t d[32];
    size_t off = block_header(d, 8, 5, 4);
    for (int i = 0; i < 4; i++)
        off = put32(d, off, 0x42);
    xr_header(d, off, 1, false);
    p = xr_pkt(d, off);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x42, &lrr, &dlrr), MR_EPARSE);
    /* An unknown block's length may be anything that fits. */
    off = block_header(d, 8, 42, 4);
    for (int i = 0; i < 4; i++)
        off = put32(d, off, 0x42);
    xr_header(d, off, 1, false);
    p = xr_pkt(d, off);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x42, &lrr, &dlrr), 0);
}

static void test_xr_padding(void)
{
    /* One DLRR block, then 8 bytes of padding (the count in the last). */
    uint8_t b[64];
    memset(b, 0, sizeof(b));
    size_t off = block_header(b, 8, 5, 3);
    off = put32(b, off, 0xabcdef01);
    off = put32(b, off, 0x12345678);
    off = put32(b, off, 0x00008000);
    off += 8;
    b[off - 1] = 8;
    xr_header(b, off, 5, true);

    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, b, off);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK(p.padding);
    CHECK_INT(p.len, off);
    uint32_t lrr = 0, dlrr = 0;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcdef01, &lrr, &dlrr), 1);
    CHECK_INT(lrr, 0x12345678);
    CHECK_INT(dlrr, 0x8000);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x1, &lrr, &dlrr), 0);

    /* Without the P bit the padding is read as blocks: the count byte
     * makes the last one claim 8 words past the end; zero words would be
     * two empty blocks (BT 0). */
    p.padding = false;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x1, &lrr, &dlrr), MR_EPARSE);
    b[off - 1] = 0;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0x1, &lrr, &dlrr), 0);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcdef01, &lrr, &dlrr), 1);

    /* A count of zero, or reaching into the header. */
    p.padding = true;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcdef01, &lrr, &dlrr), MR_EPARSE);
    b[off - 1] = (uint8_t)(off - 8 + 1);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcdef01, &lrr, &dlrr), MR_EPARSE);
    /* All of the body padding: no blocks. */
    b[off - 1] = (uint8_t)(off - 8);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcdef01, &lrr, &dlrr), 0);
    /* Padding that cuts into the DLRR block. */
    b[off - 1] = 12;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcdef01, &lrr, &dlrr), MR_EPARSE);
}

/* A publisher's compound: RR, then XR with its RRTR and a DLRR for the
 * relay; the iterator delivers the XR and the DLRR is found in it. */
static void test_xr_in_compound(void)
{
    uint8_t b[128];
    struct mr_rtcp_rr rr = {.ssrc = 0x99999999,
                            .n_reports = 1,
                            .reports = {{.ssrc = 0x1234, .jitter = 3, .lsr = 5, .dlsr = 6}}};
    int a = mr_rtcp_write_rr(b, sizeof(b), &rr);
    CHECK_INT(a, 32);
    uint8_t *x = b + a;
    size_t off = block_header(x, 8, 4, 2);
    off = put32(x, off, 0xe86b1c39);
    off = put32(x, off, 0x80000000);
    off = block_header(x, off, 5, 3);
    off = put32(x, off, 0x0000abcd); /* the relay's RTCP SSRC */
    off = put32(x, off, 0x1c398000);
    off = put32(x, off, 0x00010000); /* one second */
    xr_header(x, off, 0x99999999, false);

    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, b, (size_t)a + off);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_RR);
    uint32_t lrr = 0, dlrr = 0;
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcd, &lrr, &dlrr), MR_EINVAL);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_XR);
    CHECK(p.data == x);
    CHECK_INT(p.len, off);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcd, &lrr, &dlrr), 1);
    CHECK_INT(lrr, 0x1c398000);
    CHECK_INT(dlrr, 0x10000);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);

    /* The relay's own RRTR, appended the same way, is found in a compound
     * as an XR without DLRR. */
    int c = mr_rtcp_write_xr_rrtr(b + a, sizeof(b) - (size_t)a, 0xabcd, 0x0123456789abcdefULL);
    CHECK_INT(c, 20);
    mr_rtcp_iter_init(&it, b, (size_t)(a + c));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_XR);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&p, 0xabcd, &lrr, &dlrr), 0);
}

static void test_rtt(void)
{
    /* LRR: the middle 32 bits of the NTP time the RRTR carried. */
    uint64_t sent = 0xe86b1c3980000000ULL;
    uint32_t lrr = (uint32_t)(sent >> 16);
    uint32_t dlrr = 2 * 65536 + 32768; /* 2.5 s held by the publisher */
    /* 50 ms of network: 0.05 * 65536 = 3276.8 units. */
    uint64_t now = sent + ((uint64_t)dlrr << 16) + ((uint64_t)3277 << 16);
    int64_t rtt = mr_rtcp_rtt_us(now, lrr, dlrr);
    CHECK(rtt >= 50000 - 20 && rtt <= 50000 + 20);

    /* Exactly one second, and nothing at all. */
    now = sent + ((uint64_t)dlrr << 16) + ((uint64_t)65536 << 16);
    CHECK_INT(mr_rtcp_rtt_us(now, lrr, dlrr), 1000000);
    now = sent + ((uint64_t)dlrr << 16);
    CHECK_INT(mr_rtcp_rtt_us(now, lrr, dlrr), 0);
    /* The low 16 bits of now do not count. */
    CHECK_INT(mr_rtcp_rtt_us(now | 0xffff, lrr, dlrr), 0);

    /* Nothing echoed yet. */
    CHECK_INT(mr_rtcp_rtt_us(now, 0, 0), -1);
    CHECK_INT(mr_rtcp_rtt_us(now, 0, dlrr), -1);

    /* A publisher's clock a little ahead makes it negative: 0, not huge. */
    now = sent + ((uint64_t)dlrr << 16) - ((uint64_t)10 << 16);
    CHECK_INT(mr_rtcp_rtt_us(now, lrr, dlrr), 0);

    /* Across the wrap of the middle 32 bits. */
    lrr = 0xffffff00;
    now = (uint64_t)(uint32_t)(lrr + 6554) << 16; /* 100 ms later: 6553.6 units */
    rtt = mr_rtcp_rtt_us(now, lrr, 0);
    CHECK(rtt >= 100000 - 20 && rtt <= 100000 + 20);
}

MR_TEST_MAIN(MR_TEST(test_nack_single), MR_TEST(test_nack_blp_packing), MR_TEST(test_nack_wrap),
             MR_TEST(test_nack_many), MR_TEST(test_nack_rfc_layout), MR_TEST(test_nack_malformed),
             MR_TEST(test_nack_write_errors), MR_TEST(test_nack_in_compound),
             MR_TEST(test_xr_rrtr_bytes), MR_TEST(test_xr_find_dlrr), MR_TEST(test_xr_malformed),
             MR_TEST(test_xr_padding), MR_TEST(test_xr_in_compound), MR_TEST(test_rtt))
