/*
 * The RTCP of loss repair: generic NACK (RFC 4585 §6.2.1), which viewers
 * send the relay and the relay sends publishers, and the extended reports
 * (RFC 3611) that give the relay the publisher leg's round trip: the relay
 * sends a Receiver Reference Time block (§4.4) and the publisher answers
 * with a DLRR block (§4.5). A publisher that only sends media receives no
 * sender reports from the relay, so SR/RR cannot give it.
 *
 * Pure: no allocation, no clock. Writers check the whole length first.
 */
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "rtcp/rtcp.h"

#define NACK_HEADER_LEN 12
#define NACK_ENTRY_LEN  4
#define XR_HEADER_LEN   8
#define XR_BLOCK_RRTR   4
#define XR_BLOCK_DLRR   5
#define RRTR_LEN        (XR_HEADER_LEN + 12)
#define DLRR_ENTRY_LEN  12

/*
 * Generic NACK FCI entries, 4 bytes each:
 * |            PID                |             BLP               |
 * PID names one lost packet; bit i of BLP names PID + i + 1.
 */
int mr_rtcp_nack_count(const struct mr_rtcp_fb *fb)
{
    if (!fb || fb->type != MR_RTCP_RTPFB || fb->fmt != MR_RTCP_RTPFB_NACK)
        return MR_EINVAL;
    if (fb->fci_len % NACK_ENTRY_LEN != 0)
        return MR_EPARSE;
    return (int)(fb->fci_len / NACK_ENTRY_LEN); /* bounded by a 16-bit length */
}

unsigned mr_rtcp_nack_entry(const struct mr_rtcp_fb *fb, unsigned i, uint16_t seqs[17])
{
    if (!fb || ((size_t)i + 1) * NACK_ENTRY_LEN > fb->fci_len)
        return 0;
    const uint8_t *e = fb->fci + (size_t)i * NACK_ENTRY_LEN;
    uint16_t pid = mr_rd16(e), blp = mr_rd16(e + 2);
    unsigned n = 0;
    seqs[n++] = pid;
    for (unsigned b = 0; b < 16; b++)
        if (blp & (1u << b))
            seqs[n++] = (uint16_t)(pid + b + 1);
    return n;
}

/* Packs seqs (oldest first) into PID/BLP entries: a sequence number within
 * 16 after the entry's PID joins its bitmask. */
int mr_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, unsigned n)
{
    if (!out || (!seqs && n))
        return MR_EINVAL;
    unsigned entries = 0;
    for (unsigned i = 0; i < n; entries++) {
        uint16_t pid = seqs[i++];
        while (i < n && (uint16_t)(seqs[i] - pid - 1) < 16)
            i++;
    }
    size_t len = NACK_HEADER_LEN + (size_t)entries * NACK_ENTRY_LEN;
    if (entries == 0 || len / 4 - 1 > 0xffff)
        return MR_EINVAL;
    if (cap < len)
        return MR_ENOSPC;
    out[0] = 0x80 | MR_RTCP_RTPFB_NACK;
    out[1] = MR_RTCP_RTPFB;
    mr_wr16(out + 2, (uint16_t)(len / 4 - 1));
    mr_wr32(out + 4, sender_ssrc);
    mr_wr32(out + 8, media_ssrc);
    uint8_t *e = out + NACK_HEADER_LEN;
    for (unsigned i = 0; i < n; e += NACK_ENTRY_LEN) {
        uint16_t pid = seqs[i++], blp = 0;
        while (i < n && (uint16_t)(seqs[i] - pid - 1) < 16)
            blp |= (uint16_t)(1u << (uint16_t)(seqs[i++] - pid - 1));
        mr_wr16(e, pid);
        mr_wr16(e + 2, blp);
    }
    return (int)len;
}

/*
 * XR with one Receiver Reference Time block (RFC 3611 §4.4):
 * |V=2|P|reserved |   PT=XR=207   |             length=4          |
 * |                              SSRC                             |
 * |     BT=4      |   reserved    |       block length = 2        |
 * |              NTP timestamp, most significant word             |
 * |             NTP timestamp, least significant word             |
 */
int mr_rtcp_write_xr_rrtr(uint8_t *out, size_t cap, uint32_t ssrc, uint64_t ntp)
{
    if (!out)
        return MR_EINVAL;
    if (cap < RRTR_LEN)
        return MR_ENOSPC;
    out[0] = 0x80;
    out[1] = MR_RTCP_XR;
    mr_wr16(out + 2, RRTR_LEN / 4 - 1);
    mr_wr32(out + 4, ssrc);
    out[8] = XR_BLOCK_RRTR;
    out[9] = 0;
    mr_wr16(out + 10, 2);
    mr_wr32(out + 12, (uint32_t)(ntp >> 32));
    mr_wr32(out + 16, (uint32_t)ntp);
    return RRTR_LEN;
}

/* Looks through a DLRR block's sub-blocks (SSRC, LRR, DLRR) for ssrc. */
static int dlrr_find(const uint8_t *b, size_t words, uint32_t ssrc, uint32_t *lrr,
                     uint32_t *dlrr)
{
    if (words % 3 != 0)
        return MR_EPARSE;
    for (size_t off = 0; off < words * 4; off += DLRR_ENTRY_LEN) {
        if (mr_rd32(b + off) == ssrc) {
            *lrr = mr_rd32(b + off + 4);
            *dlrr = mr_rd32(b + off + 8);
            return 1;
        }
    }
    return 0;
}

/*
 * An XR packet's report blocks, each "BT, type-specific, block length (in
 * 32-bit words, excluding this header)"; the DLRR block (BT=5) holds one
 * (SSRC, last RR, delay since last RR) sub-block per receiver.
 */
int mr_rtcp_xr_find_dlrr(const struct mr_rtcp_pkt *pkt, uint32_t ssrc, uint32_t *lrr,
                         uint32_t *dlrr)
{
    if (!pkt || !lrr || !dlrr || pkt->type != MR_RTCP_XR)
        return MR_EINVAL;
    if (pkt->len < XR_HEADER_LEN)
        return MR_EPARSE;
    size_t len = pkt->len;
    if (pkt->padding) {
        uint8_t pad = pkt->data[len - 1];
        if (pad == 0 || pad > len - XR_HEADER_LEN)
            return MR_EPARSE;
        len -= pad;
    }
    size_t off = XR_HEADER_LEN;
    while (off + 4 <= len) {
        const uint8_t *b = pkt->data + off;
        size_t words = mr_rd16(b + 2);
        if (off + 4 + words * 4 > len)
            return MR_EPARSE;
        if (b[0] == XR_BLOCK_DLRR) {
            int rc = dlrr_find(b + 4, words, ssrc, lrr, dlrr);
            if (rc != 0)
                return rc;
        }
        off += 4 + words * 4;
    }
    return off == len ? 0 : MR_EPARSE;
}

/* RFC 3550 §6.4.1: the round trip from a report that echoes the middle 32
 * bits of an NTP timestamp (LSR or LRR) with the delay since (1/65536 s). */
int64_t mr_rtcp_rtt_us(uint64_t now_ntp, uint32_t echoed, uint32_t delay)
{
    if (echoed == 0)
        return -1;
    uint32_t now_mid = (uint32_t)(now_ntp >> 16);
    uint32_t rtt = now_mid - echoed - delay;
    if (rtt > 0x7fffffffu)
        return 0; /* clocks a little off: as near as makes no difference */
    return (int64_t)(((uint64_t)rtt * 1000000) >> 16);
}
