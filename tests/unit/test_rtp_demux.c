/*
 * First-byte demultiplexing (RFC 7983 §7) and RTP/RTCP separation
 * (RFC 5761 §4), checked at every byte value.
 */
#include "rtp/demux.h"

#include "mr_test.h"

/* The class RFC 7983 §7 assigns to a first byte, written independently of
 * the implementation as a table of ranges. */
static enum mr_demux_class expected_class(unsigned b0, unsigned b1)
{
    static const struct {
        unsigned lo, hi;
        enum mr_demux_class cls;
    } ranges[] = {
        {0, 3, MR_DEMUX_STUN},
        {16, 19, MR_DEMUX_ZRTP},
        {20, 63, MR_DEMUX_DTLS},
        {64, 79, MR_DEMUX_TURN_CHANNEL},
        {128, 191, MR_DEMUX_RTP},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (b0 >= ranges[i].lo && b0 <= ranges[i].hi) {
            if (ranges[i].cls == MR_DEMUX_RTP && b1 >= 192 && b1 <= 223)
                return MR_DEMUX_RTCP;
            return ranges[i].cls;
        }
    }
    return MR_DEMUX_UNKNOWN;
}

static void test_every_first_byte(void)
{
    uint8_t pkt[2] = {0, 96};
    for (unsigned b = 0; b < 256; b++) {
        pkt[0] = (uint8_t)b;
        CHECK_INT(mr_demux_classify(pkt, 2), expected_class(b, 96));
    }
}

static void test_boundaries(void)
{
    static const struct {
        uint8_t b;
        enum mr_demux_class cls;
    } cases[] = {
        {0, MR_DEMUX_STUN},          {3, MR_DEMUX_STUN},
        {4, MR_DEMUX_UNKNOWN},       {15, MR_DEMUX_UNKNOWN},
        {16, MR_DEMUX_ZRTP},         {19, MR_DEMUX_ZRTP},
        {20, MR_DEMUX_DTLS},         {22, MR_DEMUX_DTLS}, /* handshake */
        {63, MR_DEMUX_DTLS},         {64, MR_DEMUX_TURN_CHANNEL},
        {79, MR_DEMUX_TURN_CHANNEL}, {80, MR_DEMUX_UNKNOWN},
        {127, MR_DEMUX_UNKNOWN},     {128, MR_DEMUX_RTP},
        {191, MR_DEMUX_RTP},         {192, MR_DEMUX_UNKNOWN},
        {255, MR_DEMUX_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t pkt[12] = {cases[i].b, 111};
        CHECK_INT(mr_demux_classify(pkt, sizeof(pkt)), cases[i].cls);
    }
}

static void test_rtp_vs_rtcp(void)
{
    /* Every second byte under V=2 (0x80): 192-223 are RTCP. */
    uint8_t pkt[8] = {0x80};
    for (unsigned b = 0; b < 256; b++) {
        pkt[1] = (uint8_t)b;
        enum mr_demux_class want = b >= 192 && b <= 223 ? MR_DEMUX_RTCP : MR_DEMUX_RTP;
        CHECK_INT(mr_demux_classify(pkt, sizeof(pkt)), want);
    }
    pkt[1] = 191;
    CHECK_INT(mr_demux_classify(pkt, 2), MR_DEMUX_RTP);
    pkt[1] = 192;
    CHECK_INT(mr_demux_classify(pkt, 2), MR_DEMUX_RTCP);
    pkt[1] = 223;
    CHECK_INT(mr_demux_classify(pkt, 2), MR_DEMUX_RTCP);
    pkt[1] = 224;
    CHECK_INT(mr_demux_classify(pkt, 2), MR_DEMUX_RTP);
    /* The same holds with the RTCP padding bit and a report count set. */
    pkt[0] = 0xa1;
    pkt[1] = 201;
    CHECK_INT(mr_demux_classify(pkt, 2), MR_DEMUX_RTCP);
    /* And for the last first byte of the range. */
    pkt[0] = 0xbf;
    CHECK_INT(mr_demux_classify(pkt, 2), MR_DEMUX_RTCP);
}

static void test_short(void)
{
    const uint8_t stun[1] = {0x00};
    const uint8_t dtls[1] = {22};
    const uint8_t rtp[1] = {0x80};
    CHECK_INT(mr_demux_classify(stun, 0), MR_DEMUX_UNKNOWN);
    CHECK_INT(mr_demux_classify(NULL, 0), MR_DEMUX_UNKNOWN);
    CHECK_INT(mr_demux_classify(NULL, 5), MR_DEMUX_UNKNOWN);
    CHECK_INT(mr_demux_classify(stun, 1), MR_DEMUX_STUN);
    CHECK_INT(mr_demux_classify(dtls, 1), MR_DEMUX_DTLS);
    /* RTP/RTCP need the second byte to be told apart. */
    CHECK_INT(mr_demux_classify(rtp, 1), MR_DEMUX_UNKNOWN);
}

MR_TEST_MAIN(MR_TEST(test_every_first_byte), MR_TEST(test_boundaries),
             MR_TEST(test_rtp_vs_rtcp), MR_TEST(test_short))
