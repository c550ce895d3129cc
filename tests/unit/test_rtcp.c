/*
 * RTCP compound iteration, SR/RR/feedback/FIR parsing (RFC 3550 §6.4,
 * RFC 4585 §6.1, RFC 5104 §4.3.1) and the writers, checked byte for byte
 * against packets assembled by hand from the RFC diagrams and by parsing
 * their output back.
 */
#include "rtcp/rtcp.h"

#include "core/error.h"
#include "mr_test.h"

/*
 * A compound packet as a browser sends it: an SR with one report block,
 * then an SDES with a CNAME chunk.
 */
static const uint8_t sr_sdes[] = {
    /* SR: V=2 RC=1, PT 200, length 12 (52 bytes) */
    0x81, 0xc8, 0x00, 0x0c,
    0x11, 0x22, 0x33, 0x44,             /* sender SSRC */
    0xe8, 0x6b, 0x1c, 0x39,             /* NTP seconds */
    0x80, 0x00, 0x00, 0x00,             /* NTP fraction: .5 s */
    0x00, 0x01, 0x5f, 0x90,             /* RTP timestamp 90000 */
    0x00, 0x00, 0x01, 0x2c,             /* packets 300 */
    0x00, 0x04, 0x93, 0xe0,             /* octets 300000 */
    0xaa, 0xbb, 0xcc, 0xdd,             /* report: SSRC */
    0x40, 0xff, 0xff, 0xfe,             /* fraction 64, cumulative -2 */
    0x00, 0x01, 0x00, 0x05,             /* ext highest seq: cycle 1, seq 5 */
    0x00, 0x00, 0x00, 0x2a,             /* jitter 42 */
    0x6b, 0x1c, 0x39, 0x80,             /* LSR */
    0x00, 0x01, 0x80, 0x00,             /* DLSR 1.5 s */
    /* SDES: V=2 SC=1, PT 202, length 3 (16 bytes) */
    0x81, 0xca, 0x00, 0x03,
    0x11, 0x22, 0x33, 0x44,
    0x01, 0x05, 'a', 'b', 'c', 'd', 'e', 0x00,
};

static void test_iterate_compound(void)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_SR);
    CHECK_INT(p.count, 1);
    CHECK(!p.padding);
    CHECK(p.data == sr_sdes);
    CHECK_INT(p.len, 52);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_SDES);
    CHECK_INT(p.count, 1);
    CHECK(p.data == sr_sdes + 52);
    CHECK_INT(p.len, 16);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);

    mr_rtcp_iter_init(&it, sr_sdes, 0);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);
    mr_rtcp_iter_init(&it, NULL, 8);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);
}

static void test_iterate_errors(void)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    uint8_t buf[sizeof(sr_sdes)];

    /* Fewer than 4 bytes. */
    for (size_t n = 1; n < 4; n++) {
        mr_rtcp_iter_init(&it, sr_sdes, n);
        CHECK_INT(mr_rtcp_next(&it, &p), MR_ETRUNC);
    }
    /* Not a multiple of 4. */
    mr_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes) - 1);
    CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
    /* The first packet is fine, the second is cut short. */
    mr_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes) - 4);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
    /* Length runs past the buffer. */
    memcpy(buf, sr_sdes, sizeof(buf));
    buf[3] = 0x20;
    mr_rtcp_iter_init(&it, buf, sizeof(buf));
    CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
    buf[2] = 0xff;
    buf[3] = 0xff;
    mr_rtcp_iter_init(&it, buf, sizeof(buf));
    CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
    /* Wrong version, in the first or the second packet. */
    for (unsigned v = 0; v < 4; v++) {
        if (v == 2)
            continue;
        memcpy(buf, sr_sdes, sizeof(buf));
        buf[0] = (uint8_t)(v << 6 | 1);
        mr_rtcp_iter_init(&it, buf, sizeof(buf));
        CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
        memcpy(buf, sr_sdes, sizeof(buf));
        buf[52] = (uint8_t)(v << 6 | 1);
        mr_rtcp_iter_init(&it, buf, sizeof(buf));
        CHECK_INT(mr_rtcp_next(&it, &p), 1);
        CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
    }
}

static void test_iterate_padding(void)
{
    /* An RR with no blocks, padded by 4 bytes (P=1, count byte 4). */
    uint8_t rr[] = {0xa0, 0xc9, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x04};
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_rr r;
    mr_rtcp_iter_init(&it, rr, sizeof(rr));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK(p.padding);
    CHECK_INT(p.len, 12);
    CHECK_INT(mr_rtcp_parse_rr(&p, &r), MR_OK);
    CHECK_INT(r.ssrc, 0x01020304);
    CHECK_INT(r.n_reports, 0);
    /* Padding count 0, or reaching into the header. */
    rr[11] = 0;
    mr_rtcp_iter_init(&it, rr, sizeof(rr));
    CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
    rr[11] = 9;
    mr_rtcp_iter_init(&it, rr, sizeof(rr));
    CHECK_INT(mr_rtcp_next(&it, &p), MR_EPARSE);
    /* Padding that eats the SSRC leaves an RR too short to parse. */
    rr[11] = 8;
    mr_rtcp_iter_init(&it, rr, sizeof(rr));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_rr(&p, &r), MR_EPARSE);
}

static void test_parse_sr(void)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_sr sr;
    mr_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_sr(&p, &sr), MR_OK);
    CHECK_INT(sr.ssrc, 0x11223344);
    CHECK(sr.ntp == 0xe86b1c3980000000ull);
    CHECK_INT(sr.rtp_ts, 90000);
    CHECK_INT(sr.packet_count, 300);
    CHECK_INT(sr.octet_count, 300000);
    CHECK_INT(sr.n_reports, 1);
    CHECK_INT(sr.reports[0].ssrc, 0xaabbccdd);
    CHECK_INT(sr.reports[0].fraction_lost, 64);
    CHECK_INT(sr.reports[0].cumulative_lost, -2);
    CHECK_INT(sr.reports[0].ext_highest_seq, 0x10005);
    CHECK_INT(sr.reports[0].jitter, 42);
    CHECK_INT(sr.reports[0].lsr, 0x6b1c3980);
    CHECK_INT(sr.reports[0].dlsr, 0x18000);

    /* Not an RR, and the SDES is not an SR. */
    struct mr_rtcp_rr rr;
    CHECK_INT(mr_rtcp_parse_rr(&p, &rr), MR_EINVAL);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_sr(&p, &sr), MR_EINVAL);
}

static void test_parse_sr_short(void)
{
    /* RC=2 but room for one block only. */
    uint8_t buf[52];
    memcpy(buf, sr_sdes, sizeof(buf));
    buf[0] = 0x82;
    struct mr_rtcp_pkt p = {.type = 200, .count = 2, .data = buf, .len = sizeof(buf)};
    struct mr_rtcp_sr sr;
    CHECK_INT(mr_rtcp_parse_sr(&p, &sr), MR_EPARSE);
    /* RC=0 in a packet with a trailing block: the block is a profile
     * extension and is ignored. */
    p.count = 0;
    CHECK_INT(mr_rtcp_parse_sr(&p, &sr), MR_OK);
    CHECK_INT(sr.n_reports, 0);
    /* Sender info cut short. */
    p.len = 24;
    CHECK_INT(mr_rtcp_parse_sr(&p, &sr), MR_EPARSE);
    p.len = 28;
    CHECK_INT(mr_rtcp_parse_sr(&p, &sr), MR_OK);
}

static void test_parse_rr_signed_lost(void)
{
    /* RR, RC=3: cumulative lost 0x7fffff, 0x800000 and 0x000001. */
    const uint8_t rr[] = {
        0x83, 0xc9, 0x00, 0x13, 0xde, 0xad, 0xbe, 0xef,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x7f, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00, 0x00, 0x00, 0x02, 0xff, 0x80, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 9, 0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 6,
    };
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_rr r;
    mr_rtcp_iter_init(&it, rr, sizeof(rr));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.len, sizeof(rr));
    CHECK_INT(mr_rtcp_parse_rr(&p, &r), MR_OK);
    CHECK_INT(r.ssrc, 0xdeadbeef);
    CHECK_INT(r.n_reports, 3);
    CHECK_INT(r.reports[0].cumulative_lost, 8388607);
    CHECK_INT(r.reports[1].cumulative_lost, -8388608);
    CHECK_INT(r.reports[1].fraction_lost, 255);
    CHECK_INT(r.reports[2].cumulative_lost, 1);
    CHECK_INT(r.reports[2].fraction_lost, 1);
    CHECK_INT(r.reports[2].ext_highest_seq, 9);
    CHECK_INT(r.reports[2].jitter, 8);
    CHECK_INT(r.reports[2].lsr, 7);
    CHECK_INT(r.reports[2].dlsr, 6);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);
}

static void test_parse_fb(void)
{
    /* A generic NACK (RTPFB FMT=1): PID 100, BLP 0x0005. */
    const uint8_t nack[] = {0x81, 0xcd, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
                            0x12, 0x34, 0x56, 0x78, 0x00, 0x64, 0x00, 0x05};
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb fb;
    mr_rtcp_iter_init(&it, nack, sizeof(nack));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_fb(&p, &fb), MR_OK);
    CHECK_INT(fb.type, MR_RTCP_RTPFB);
    CHECK_INT(fb.fmt, MR_RTCP_RTPFB_NACK);
    CHECK_INT(fb.sender_ssrc, 1);
    CHECK_INT(fb.media_ssrc, 0x12345678);
    CHECK_INT(fb.fci_len, 4);
    CHECK(fb.fci == nack + 12);
    CHECK_INT(mr_rtcp_fir_count(&fb), MR_EINVAL); /* not a FIR */

    /* Too short for the two SSRCs. */
    const uint8_t shorty[] = {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1};
    mr_rtcp_iter_init(&it, shorty, sizeof(shorty));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_fb(&p, &fb), MR_EPARSE);
    /* Not feedback. */
    mr_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_fb(&p, &fb), MR_EINVAL);
}

static void test_parse_fir(void)
{
    /* FIR with two entries (RFC 5104 §4.3.1). */
    const uint8_t fir[] = {0x84, 0xce, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                           0xaa, 0xaa, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00,
                           0xbb, 0xbb, 0xbb, 0xbb, 0xfe, 0x00, 0x00, 0x00};
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb fb;
    uint32_t ssrc = 0;
    uint8_t seq = 0;
    mr_rtcp_iter_init(&it, fir, sizeof(fir));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_fb(&p, &fb), MR_OK);
    CHECK_INT(fb.fmt, MR_RTCP_PSFB_FIR);
    CHECK_INT(mr_rtcp_fir_count(&fb), 2);
    CHECK_INT(mr_rtcp_fir_entry(&fb, 0, &ssrc, &seq), MR_OK);
    CHECK_INT(ssrc, 0xaaaaaaaa);
    CHECK_INT(seq, 3);
    CHECK_INT(mr_rtcp_fir_entry(&fb, 1, &ssrc, &seq), MR_OK);
    CHECK_INT(ssrc, 0xbbbbbbbb);
    CHECK_INT(seq, 0xfe);
    CHECK_INT(mr_rtcp_fir_entry(&fb, 2, &ssrc, &seq), MR_ENOENT);

    /* FCI not a multiple of 8, or empty. */
    fb.fci_len = 12;
    CHECK_INT(mr_rtcp_fir_count(&fb), MR_EPARSE);
    CHECK_INT(mr_rtcp_fir_entry(&fb, 0, &ssrc, &seq), MR_EPARSE);
    fb.fci_len = 0;
    CHECK_INT(mr_rtcp_fir_count(&fb), MR_EPARSE);
    CHECK_INT(mr_rtcp_fir_count(NULL), MR_EINVAL);
}

static void test_write_pli_exact(void)
{
    /* RFC 4585 §6.3.1: FMT=1, PT=206, length 2, sender, media source. */
    const uint8_t expect[] = {0x81, 0xce, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44,
                              0x55, 0x66, 0x77, 0x88};
    uint8_t out[32];
    memset(out, 0xee, sizeof(out));
    CHECK_INT(mr_rtcp_write_pli(out, sizeof(out), 0x11223344, 0x55667788), 12);
    CHECK_MEM(out, expect, sizeof(expect));
    CHECK_INT(out[12], 0xee);
    CHECK_INT(mr_rtcp_write_pli(out, 11, 1, 2), MR_ENOSPC);
    CHECK_INT(mr_rtcp_write_pli(out, 12, 1, 2), 12);

    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb fb;
    mr_rtcp_iter_init(&it, expect, sizeof(expect));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_fb(&p, &fb), MR_OK);
    CHECK_INT(fb.type, MR_RTCP_PSFB);
    CHECK_INT(fb.fmt, MR_RTCP_PSFB_PLI);
    CHECK_INT(fb.sender_ssrc, 0x11223344);
    CHECK_INT(fb.media_ssrc, 0x55667788);
    CHECK_INT(fb.fci_len, 0);
}

static void test_write_fir_exact(void)
{
    /* RFC 5104 §4.3.1: FMT=4, PT=206, length 4, media source 0, then the
     * FCI entry (SSRC, seq nr, 3 reserved zero bytes). */
    const uint8_t expect[] = {0x84, 0xce, 0x00, 0x04, 0x11, 0x22, 0x33, 0x44,
                              0x00, 0x00, 0x00, 0x00, 0x55, 0x66, 0x77, 0x88,
                              0x07, 0x00, 0x00, 0x00};
    uint8_t out[32];
    memset(out, 0xee, sizeof(out));
    CHECK_INT(mr_rtcp_write_fir(out, sizeof(out), 0x11223344, 0x55667788, 7), 20);
    CHECK_MEM(out, expect, sizeof(expect));
    CHECK_INT(out[20], 0xee);
    CHECK_INT(mr_rtcp_write_fir(out, 19, 1, 2, 3), MR_ENOSPC);

    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb fb;
    uint32_t ssrc;
    uint8_t seq;
    mr_rtcp_iter_init(&it, expect, sizeof(expect));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_fb(&p, &fb), MR_OK);
    CHECK_INT(mr_rtcp_fir_count(&fb), 1);
    CHECK_INT(mr_rtcp_fir_entry(&fb, 0, &ssrc, &seq), MR_OK);
    CHECK_INT(ssrc, 0x55667788);
    CHECK_INT(seq, 7);
}

static void fill_block(struct mr_rtcp_report_block *b, uint32_t i)
{
    *b = (struct mr_rtcp_report_block){
        .ssrc = 0x1000 + i, .fraction_lost = (uint8_t)(i * 7), .cumulative_lost = (int32_t)i - 3,
        .ext_highest_seq = 0x10000 + i, .jitter = i * 11, .lsr = 0xabcd0000 + i, .dlsr = i * 13,
    };
}

static void check_block(const struct mr_rtcp_report_block *a, const struct mr_rtcp_report_block *b)
{
    CHECK_INT(a->ssrc, b->ssrc);
    CHECK_INT(a->fraction_lost, b->fraction_lost);
    CHECK_INT(a->cumulative_lost, b->cumulative_lost);
    CHECK_INT(a->ext_highest_seq, b->ext_highest_seq);
    CHECK_INT(a->jitter, b->jitter);
    CHECK_INT(a->lsr, b->lsr);
    CHECK_INT(a->dlsr, b->dlsr);
}

static void test_write_sr(void)
{
    /* Writing the parsed SR of the vector reproduces it byte for byte. */
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_sr sr, back;
    mr_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes));
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_sr(&p, &sr), MR_OK);
    uint8_t out[1024];
    CHECK_INT(mr_rtcp_write_sr(out, sizeof(out), &sr), 52);
    CHECK_MEM(out, sr_sdes, 52);
    CHECK_INT(mr_rtcp_write_sr(out, 51, &sr), MR_ENOSPC);

    /* The most report blocks an SR can carry. */
    sr.n_reports = MR_RTCP_MAX_REPORTS;
    for (unsigned i = 0; i < MR_RTCP_MAX_REPORTS; i++)
        fill_block(&sr.reports[i], i);
    int n = mr_rtcp_write_sr(out, sizeof(out), &sr);
    CHECK_INT(n, 28 + 24 * 31);
    mr_rtcp_iter_init(&it, out, (size_t)n);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.count, 31);
    CHECK_INT(mr_rtcp_parse_sr(&p, &back), MR_OK);
    CHECK_INT(back.n_reports, 31);
    CHECK(back.ntp == sr.ntp);
    for (unsigned i = 0; i < MR_RTCP_MAX_REPORTS; i++)
        check_block(&back.reports[i], &sr.reports[i]);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);

    sr.n_reports = 32;
    CHECK_INT(mr_rtcp_write_sr(out, sizeof(out), &sr), MR_EINVAL);
}

static void test_write_rr(void)
{
    struct mr_rtcp_rr rr = {.ssrc = 0x01020304, .n_reports = 2}, back;
    fill_block(&rr.reports[0], 1);
    fill_block(&rr.reports[1], 2);
    /* Out-of-range cumulative counts are clamped to 24 signed bits. */
    rr.reports[1].cumulative_lost = 100000000;
    uint8_t out[128];
    int n = mr_rtcp_write_rr(out, sizeof(out), &rr);
    CHECK_INT(n, 56);
    CHECK_MEM(out, "\x82\xc9\x00\x0d\x01\x02\x03\x04", 8);
    CHECK_MEM(out + 8, "\x00\x00\x10\x01\x07\xff\xff\xfe", 8);
    CHECK_MEM(out + 32 + 4, "\x0e\x7f\xff\xff", 4);
    CHECK_INT(mr_rtcp_write_rr(out, 55, &rr), MR_ENOSPC);

    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, out, (size_t)n);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_rr(&p, &back), MR_OK);
    CHECK_INT(back.ssrc, rr.ssrc);
    CHECK_INT(back.n_reports, 2);
    check_block(&back.reports[0], &rr.reports[0]);
    CHECK_INT(back.reports[1].cumulative_lost, 0x7fffff);
    rr.reports[1].cumulative_lost = -100000000;
    n = mr_rtcp_write_rr(out, sizeof(out), &rr);
    mr_rtcp_iter_init(&it, out, (size_t)n);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(mr_rtcp_parse_rr(&p, &back), MR_OK);
    CHECK_INT(back.reports[1].cumulative_lost, -0x800000);

    /* An empty RR is 8 bytes. */
    rr.n_reports = 0;
    CHECK_INT(mr_rtcp_write_rr(out, sizeof(out), &rr), 8);
    CHECK_MEM(out, "\x80\xc9\x00\x01", 4);
}

static void test_write_sdes(void)
{
    uint8_t out[300];
    /* "abcde": 4 SSRC + 2 item header + 5 = 11, one null makes 12. */
    memset(out, 0xee, sizeof(out));
    CHECK_INT(mr_rtcp_write_sdes_cname(out, sizeof(out), 0x11223344, "abcde"), 16);
    CHECK_MEM(out, sr_sdes + 52, 16);
    CHECK_INT(out[16], 0xee);
    /* "abcdef": 12 bytes of chunk already on a boundary; the terminating
     * null must still come, so the chunk grows by a whole word. */
    CHECK_INT(mr_rtcp_write_sdes_cname(out, sizeof(out), 1, "abcdef"), 20);
    CHECK_MEM(out, "\x81\xca\x00\x04\x00\x00\x00\x01\x01\x06" "abcdef" "\0\0\0\0", 20);
    /* Every length from 0 to 8: total is a multiple of 4, at least one null. */
    char name[256];
    for (size_t len = 0; len <= 8; len++) {
        memset(name, 'x', len);
        name[len] = '\0';
        int n = mr_rtcp_write_sdes_cname(out, sizeof(out), 1, name);
        CHECK_INT(n, 4 + ((4 + 2 + len + 1 + 3) / 4) * 4);
        CHECK_INT(n % 4, 0);
        CHECK_INT(out[9], len);
        CHECK_INT(out[10 + len], 0);
        CHECK_INT(out[n - 1], 0);
        CHECK_INT((out[2] << 8 | out[3]), n / 4 - 1);
    }
    /* 255 is the longest CNAME an item can carry. */
    memset(name, 'y', 255);
    name[255] = '\0';
    int n = mr_rtcp_write_sdes_cname(out, sizeof(out), 1, name);
    CHECK_INT(n, 4 + 264);
    CHECK_INT(out[9], 255);
    CHECK_INT(mr_rtcp_write_sdes_cname(out, (size_t)n - 1, 1, name), MR_ENOSPC);
    char too_long[300];
    memset(too_long, 'z', 256);
    too_long[256] = '\0';
    CHECK_INT(mr_rtcp_write_sdes_cname(out, sizeof(out), 1, too_long), MR_EINVAL);
    CHECK_INT(mr_rtcp_write_sdes_cname(out, sizeof(out), 1, NULL), MR_EINVAL);

    /* The output iterates as one SDES packet. */
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, out, (size_t)n);
    CHECK_INT(mr_rtcp_next(&it, &p), 1);
    CHECK_INT(p.type, MR_RTCP_SDES);
    CHECK_INT(p.count, 1);
    CHECK_INT(mr_rtcp_next(&it, &p), 0);
}

static void test_write_compound(void)
{
    /* RR + SDES + PLI built back to back, then iterated. */
    uint8_t out[256];
    size_t off = 0;
    struct mr_rtcp_rr rr = {.ssrc = 5, .n_reports = 1};
    fill_block(&rr.reports[0], 9);
    int n = mr_rtcp_write_rr(out + off, sizeof(out) - off, &rr);
    CHECK(n > 0);
    off += (size_t)n;
    n = mr_rtcp_write_sdes_cname(out + off, sizeof(out) - off, 5, "relay");
    CHECK(n > 0);
    off += (size_t)n;
    n = mr_rtcp_write_pli(out + off, sizeof(out) - off, 5, 6);
    CHECK(n > 0);
    off += (size_t)n;

    static const uint8_t types[] = {MR_RTCP_RR, MR_RTCP_SDES, MR_RTCP_PSFB};
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, out, off);
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT(mr_rtcp_next(&it, &p), 1);
        CHECK_INT(p.type, types[i]);
    }
    CHECK_INT(mr_rtcp_next(&it, &p), 0);
}

MR_TEST_MAIN(MR_TEST(test_iterate_compound), MR_TEST(test_iterate_errors),
             MR_TEST(test_iterate_padding), MR_TEST(test_parse_sr), MR_TEST(test_parse_sr_short),
             MR_TEST(test_parse_rr_signed_lost), MR_TEST(test_parse_fb), MR_TEST(test_parse_fir),
             MR_TEST(test_write_pli_exact), MR_TEST(test_write_fir_exact), MR_TEST(test_write_sr),
             MR_TEST(test_write_rr), MR_TEST(test_write_sdes), MR_TEST(test_write_compound))
