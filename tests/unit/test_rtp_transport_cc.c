/*
 * The transport-wide sequence number header extension
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2): its URI in the
 * kind table, and reading its value from a received packet.
 */
#include "rtp/rtp.h"

#include "core/error.h"
#include "mr_test.h"

#define URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

static void test_uri(void)
{
    CHECK_INT(mr_rtp_ext_kind_from_uri(URI), MR_RTP_EXT_TRANSPORT_CC);
    CHECK_STR(mr_rtp_ext_kind_uri(MR_RTP_EXT_TRANSPORT_CC), URI);
    /* The -02 extension (feedback on request) is another one. */
    CHECK_INT(mr_rtp_ext_kind_from_uri(
                  "http://www.webrtc.org/experiments/rtp-hdrext/transport-wide-cc-02"),
              MR_RTP_EXT_NONE);
    CHECK(MR_RTP_EXT_TRANSPORT_CC < MR_RTP_EXT_KIND_COUNT);
}

/*
 * As Chromium sends video: the one-byte form with the sequence number at
 * id 3 (0x31: id 3, length 2) carrying 0xfffe, then a 4-byte element at id
 * 5 as transport-wide-cc-02 would be.
 */
static const uint8_t pkt[] = {
    0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44, 0xbe, 0xde,
    0x00, 0x02, 0x31, 0xff, 0xfe, 0x53, 0x12, 0x34, 0x80, 0x05, 0x00, 0x90, 0x80, 0x81,
};

static void test_read(void)
{
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    CHECK_INT(mr_rtp_parse(pkt, sizeof(pkt), &h), MR_OK);
    CHECK_INT(mr_rtp_ext_parse(pkt, &h, &l), MR_OK);
    const struct mr_rtp_ext_elem *e = mr_rtp_ext_find(&l, 3);
    uint16_t seq = 0;
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(mr_rtp_ext_transport_seq(pkt, e, &seq), MR_OK);
        CHECK_INT(seq, 0xfffe);
    }
    /* Not two bytes: refused, as libwebrtc's TransportSequenceNumber does. */
    e = mr_rtp_ext_find(&l, 5);
    CHECK(e != NULL);
    if (e)
        CHECK_INT(mr_rtp_ext_transport_seq(pkt, e, &seq), MR_EPARSE);
    struct mr_rtp_ext_elem one = {.id = 3, .len = 1, .offset = 17};
    CHECK_INT(mr_rtp_ext_transport_seq(pkt, &one, &seq), MR_EPARSE);
    CHECK_INT(seq, 0xfffe);
    CHECK_INT(mr_rtp_ext_transport_seq(NULL, &one, &seq), MR_EINVAL);
    CHECK_INT(mr_rtp_ext_transport_seq(pkt, NULL, &seq), MR_EINVAL);
    CHECK_INT(mr_rtp_ext_transport_seq(pkt, &one, NULL), MR_EINVAL);
}

static void test_written_then_read(void)
{
    /* What mr_rtp_write_header puts in, reads back. */
    const uint8_t val[2] = {0x01, 0x02};
    const struct mr_rtp_ext_out ext[] = {{.id = 7, .len = 2, .data = val}};
    const struct mr_rtp_out_header oh = {.payload_type = 96, .seq = 1, .ssrc = 9};
    uint8_t out[64];
    int n = mr_rtp_write_header(out, sizeof(out), &oh, ext, 1);
    CHECK(n > 0);
    if (n <= 0)
        return;
    out[n] = 0xaa; /* a byte of payload */
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    CHECK_INT(mr_rtp_parse(out, (size_t)n + 1, &h), MR_OK);
    CHECK_INT(mr_rtp_ext_parse(out, &h, &l), MR_OK);
    uint16_t seq = 0;
    const struct mr_rtp_ext_elem *e = mr_rtp_ext_find(&l, 7);
    CHECK(e && mr_rtp_ext_transport_seq(out, e, &seq) == MR_OK);
    CHECK_INT(seq, 0x0102);
}

MR_TEST_MAIN(MR_TEST(test_uri), MR_TEST(test_read), MR_TEST(test_written_then_read))
