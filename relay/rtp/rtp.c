/*
 * RTP fixed header (RFC 3550 §5.1): parsing and validation.
 *
 * Every length in the packet comes from the network, so each one is checked
 * against the buffer before anything behind it is read.
 */
#include "rtp/rtp.h"

#include "core/bytes.h"
#include "core/error.h"

/*
 * RFC 3550 §5.1:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * RFC 3550 §5.3.1, header extension (when X is set):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        header extension                       |
 * |                             ....                              |
 *
 * The length counts 32-bit words of extension data, not counting the
 * 4-byte extension header itself.
 *
 * Padding (P bit): the last octet of the packet counts the padding octets,
 * itself included, so it can be neither 0 nor reach into the header.
 */
int mr_rtp_parse(const uint8_t *buf, size_t len, struct mr_rtp_header *out)
{
    if (!buf || !out)
        return MR_EINVAL;
    /* RTP travels in UDP datagrams, and the header's 16-bit offsets cannot
     * describe anything longer; a bigger "packet" is not one. */
    if (len > UINT16_MAX)
        return MR_EPARSE;
    if (len < MR_RTP_FIXED_HEADER_LEN)
        return MR_ETRUNC;
    if (buf[0] >> 6 != 2)
        return MR_EPARSE;

    *out = (struct mr_rtp_header){0};
    out->padding = (buf[0] >> 5) & 1;
    out->extension = (buf[0] >> 4) & 1;
    out->csrc_count = buf[0] & 0x0f;
    out->marker = buf[1] >> 7;
    out->payload_type = buf[1] & 0x7f;
    out->seq = mr_rd16(buf + 2);
    out->timestamp = mr_rd32(buf + 4);
    out->ssrc = mr_rd32(buf + 8);

    /* size_t arithmetic throughout: len <= 65535 and each addend is bounded,
     * so nothing wraps before it is compared with len. */
    size_t hlen = MR_RTP_FIXED_HEADER_LEN + 4 * (size_t)out->csrc_count;
    if (hlen > len)
        return MR_ETRUNC;

    if (out->extension) {
        if (hlen + 4 > len)
            return MR_ETRUNC;
        size_t ext_len = 4 * (size_t)mr_rd16(buf + hlen + 2);
        out->ext_profile = mr_rd16(buf + hlen);
        out->ext_offset = (uint16_t)(hlen + 4);
        if (hlen + 4 + ext_len > len)
            return MR_ETRUNC;
        out->ext_len = (uint16_t)ext_len;
        hlen += 4 + ext_len;
    }
    out->header_len = (uint16_t)hlen;

    size_t rest = len - hlen;
    if (out->padding) {
        uint8_t pad = buf[len - 1];
        if (pad == 0 || pad > rest)
            return MR_EPARSE;
        out->padding_len = pad;
        rest -= pad;
    }
    out->payload_len = (uint16_t)rest;
    return MR_OK;
}

uint32_t mr_rtp_csrc(const uint8_t *buf, unsigned i)
{
    return mr_rd32(buf + MR_RTP_FIXED_HEADER_LEN + 4 * (size_t)i);
}
