/*
 * RTX (RFC 4588 §4): a retransmission carries the original packet's
 * payload behind a two-byte original sequence number (OSN), on a stream
 * of its own (SSRC, payload type, sequence numbers).
 *
 * Pure: in place on caller-owned buffers, no allocation.
 */
#include <string.h>

#include "core/error.h"
#include "rtp/rtp.h"

static void set_seq_pt_ssrc(uint8_t *p, uint8_t pt, uint16_t seq, uint32_t ssrc)
{
    p[1] = (uint8_t)((p[1] & 0x80) | (pt & 0x7f)); /* the marker stays */
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[8] = (uint8_t)(ssrc >> 24);
    p[9] = (uint8_t)(ssrc >> 16);
    p[10] = (uint8_t)(ssrc >> 8);
    p[11] = (uint8_t)ssrc;
}

int mr_rtp_rtx_unwrap(uint8_t *buf, size_t len, const struct mr_rtp_header *h, uint8_t pt,
                      uint32_t ssrc, uint8_t **out)
{
    if (!buf || !h || !out || (size_t)h->header_len + h->payload_len > len)
        return MR_EINVAL;
    if (h->payload_len < 2)
        return MR_ETRUNC;
    const uint8_t *osn = buf + h->header_len;
    uint16_t seq = (uint16_t)(osn[0] << 8 | osn[1]);
    /* The header moves two bytes on, over the OSN: the payload and any
     * padding stay where they are. */
    memmove(buf + 2, buf, h->header_len);
    *out = buf + 2;
    set_seq_pt_ssrc(*out, pt, seq, ssrc);
    return (int)(len - 2);
}

int mr_rtp_rtx_wrap(uint8_t *out, size_t cap, const uint8_t *pkt, size_t header_len,
                    const uint8_t *payload, size_t payload_len, uint8_t pt, uint16_t seq,
                    uint32_t ssrc)
{
    if (!out || !pkt || (!payload && payload_len) || header_len < MR_RTP_FIXED_HEADER_LEN)
        return MR_EINVAL;
    size_t len = header_len + 2 + payload_len;
    if (cap < len)
        return MR_ENOSPC;
    /* In place too (out == pkt, payload right after the header): the
     * payload moves first, then the OSN goes where it began. */
    uint8_t osn[2] = {pkt[2], pkt[3]}; /* the original sequence number */
    if (payload_len) /* payload may be NULL then, which memmove may not take */
        memmove(out + header_len + 2, payload, payload_len);
    memmove(out, pkt, header_len);
    out[0] &= (uint8_t)~0x20; /* no padding: the payload ends the packet */
    out[header_len] = osn[0];
    out[header_len + 1] = osn[1];
    set_seq_pt_ssrc(out, pt, seq, ssrc);
    return (int)len;
}
