/*
 * RTCP compound-packet iteration and the parsers for the packets the relay
 * reads: sender and receiver reports (RFC 3550 §6.4), generic feedback
 * (RFC 4585 §6.1) and FIR entries (RFC 5104 §4.3.1).
 *
 * Every length comes from the network and is checked against the buffer
 * before anything behind it is read.
 */
#include "rtcp/rtcp.h"

#include <limits.h>

#include "core/bytes.h"
#include "core/error.h"

#define RTCP_HEADER_LEN 4
#define SR_SENDER_INFO_LEN 20 /* NTP, RTP timestamp, packet and octet counts */
#define REPORT_BLOCK_LEN 24
#define FB_HEADER_LEN 12
#define FIR_ENTRY_LEN 8

void mr_rtcp_iter_init(struct mr_rtcp_iter *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = buf ? len : 0;
    it->off = 0;
}

/*
 * Common header (RFC 3550 §6.4.1):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    RC   |      PT       |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * length is the packet's size in 32-bit words minus one, so a packet is
 * never shorter than its header. With P set, the packet's last octet counts
 * the padding octets, itself included (§6.4.1).
 *
 * The RFC 3550 §A.2 rule that a compound packet starts with SR or RR is
 * not enforced: reduced-size RTCP (RFC 5506), which browsers negotiate with
 * a=rtcp-rsize, sends feedback packets alone.
 */
int mr_rtcp_next(struct mr_rtcp_iter *it, struct mr_rtcp_pkt *pkt)
{
    if (!it || !pkt)
        return MR_EINVAL;
    if (it->off >= it->len)
        return 0;
    size_t left = it->len - it->off;
    if (left < RTCP_HEADER_LEN)
        return MR_ETRUNC;
    /* Every RTCP packet is a whole number of words, so the datagram is too. */
    if (left % 4 != 0)
        return MR_EPARSE;

    const uint8_t *p = it->buf + it->off;
    if (p[0] >> 6 != 2)
        return MR_EPARSE;
    size_t plen = ((size_t)(p[2] << 8 | p[3]) + 1) * 4;
    if (plen > left)
        return MR_EPARSE;
    bool padding = (p[0] >> 5) & 1;
    if (padding) {
        uint8_t pad = p[plen - 1];
        if (pad == 0 || pad > plen - RTCP_HEADER_LEN)
            return MR_EPARSE;
    }

    *pkt = (struct mr_rtcp_pkt){
        .type = p[1],
        .count = p[0] & 0x1f,
        .padding = padding,
        .data = p,
        .len = plen,
    };
    it->off += plen;
    return 1;
}

/* The packet's length without trailing padding; mr_rtcp_next has checked
 * the padding count, but a caller may build a pkt by hand. */
static int body_len(const struct mr_rtcp_pkt *pkt, size_t *out)
{
    if (!pkt->data || pkt->len < RTCP_HEADER_LEN)
        return MR_EPARSE;
    size_t n = pkt->len;
    if (pkt->padding) {
        uint8_t pad = pkt->data[n - 1];
        if (pad == 0 || pad > n - RTCP_HEADER_LEN)
            return MR_EPARSE;
        n -= pad;
    }
    *out = n;
    return MR_OK;
}

/*
 * Report block (RFC 3550 §6.4.1):
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 SSRC_1 (SSRC of first source)                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | fraction lost |       cumulative number of packets lost       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           extended highest sequence number received           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      interarrival jitter                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         last SR (LSR)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   delay since last SR (DLSR)                  |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * The cumulative count is signed: duplicates can make it negative.
 */
static void parse_report_block(const uint8_t *p, struct mr_rtcp_report_block *rb)
{
    uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    rb->ssrc = mr_rd32(p);
    rb->fraction_lost = p[4];
    /* Sign-extend 24 bits without shifting into the sign bit. */
    rb->cumulative_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    rb->ext_highest_seq = mr_rd32(p + 8);
    rb->jitter = mr_rd32(p + 12);
    rb->lsr = mr_rd32(p + 16);
    rb->dlsr = mr_rd32(p + 20);
}

/*
 * Sender report (RFC 3550 §6.4.1):
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                 report blocks (RC of them) ...                |
 *
 * Bytes after the report blocks are a profile-specific extension, ignored.
 */
int mr_rtcp_parse_sr(const struct mr_rtcp_pkt *pkt, struct mr_rtcp_sr *out)
{
    if (!pkt || !out)
        return MR_EINVAL;
    if (pkt->type != MR_RTCP_SR)
        return MR_EINVAL;
    size_t n;
    int rc = body_len(pkt, &n);
    if (rc < 0)
        return rc;
    unsigned count = pkt->count & 0x1f;
    if (n < RTCP_HEADER_LEN + 4 + SR_SENDER_INFO_LEN + (size_t)count * REPORT_BLOCK_LEN)
        return MR_EPARSE;

    const uint8_t *p = pkt->data + RTCP_HEADER_LEN;
    out->ssrc = mr_rd32(p);
    out->ntp = (uint64_t)mr_rd32(p + 4) << 32 | mr_rd32(p + 8);
    out->rtp_ts = mr_rd32(p + 12);
    out->packet_count = mr_rd32(p + 16);
    out->octet_count = mr_rd32(p + 20);
    out->n_reports = count;
    p += 4 + SR_SENDER_INFO_LEN;
    for (unsigned i = 0; i < count; i++)
        parse_report_block(p + (size_t)i * REPORT_BLOCK_LEN, &out->reports[i]);
    return MR_OK;
}

/*
 * Receiver report (RFC 3550 §6.4.2): the SR without sender info.
 * |V=2|P|    RC   |   PT=RR=201   |             length            |
 * |                     SSRC of packet sender                     |
 * |                 report blocks (RC of them) ...                |
 */
int mr_rtcp_parse_rr(const struct mr_rtcp_pkt *pkt, struct mr_rtcp_rr *out)
{
    if (!pkt || !out)
        return MR_EINVAL;
    if (pkt->type != MR_RTCP_RR)
        return MR_EINVAL;
    size_t n;
    int rc = body_len(pkt, &n);
    if (rc < 0)
        return rc;
    unsigned count = pkt->count & 0x1f;
    if (n < RTCP_HEADER_LEN + 4 + (size_t)count * REPORT_BLOCK_LEN)
        return MR_EPARSE;

    const uint8_t *p = pkt->data + RTCP_HEADER_LEN;
    out->ssrc = mr_rd32(p);
    out->n_reports = count;
    p += 4;
    for (unsigned i = 0; i < count; i++)
        parse_report_block(p + (size_t)i * REPORT_BLOCK_LEN, &out->reports[i]);
    return MR_OK;
}

/*
 * Generic feedback message (RFC 4585 §6.1):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|   FMT   |       PT      |          length               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  SSRC of packet sender                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  SSRC of media source                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * :            Feedback Control Information (FCI)                 :
 */
int mr_rtcp_parse_fb(const struct mr_rtcp_pkt *pkt, struct mr_rtcp_fb *out)
{
    if (!pkt || !out)
        return MR_EINVAL;
    if (pkt->type != MR_RTCP_RTPFB && pkt->type != MR_RTCP_PSFB)
        return MR_EINVAL;
    size_t n;
    int rc = body_len(pkt, &n);
    if (rc < 0)
        return rc;
    if (n < FB_HEADER_LEN)
        return MR_EPARSE;

    out->type = pkt->type;
    out->fmt = pkt->count & 0x1f;
    out->sender_ssrc = mr_rd32(pkt->data + 4);
    out->media_ssrc = mr_rd32(pkt->data + 8);
    out->fci = pkt->data + FB_HEADER_LEN;
    out->fci_len = n - FB_HEADER_LEN;
    return MR_OK;
}

/*
 * FIR FCI entry (RFC 5104 §4.3.1.1), one per requested source:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                              SSRC                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Seq nr.       |    Reserved                                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The SSRC here, not the header's media source (which FIR sets to 0), names
 * the stream that should send a decoder refresh point.
 */
int mr_rtcp_fir_count(const struct mr_rtcp_fb *fb)
{
    if (!fb)
        return MR_EINVAL;
    if (fb->type != MR_RTCP_PSFB || fb->fmt != MR_RTCP_PSFB_FIR)
        return MR_EINVAL;
    if (fb->fci_len == 0 || fb->fci_len % FIR_ENTRY_LEN != 0 || !fb->fci)
        return MR_EPARSE;
    /* From mr_rtcp_parse_fb, fci_len is bounded by a 16-bit word count; a
     * hand-built fb is checked so the count still fits an int. */
    if (fb->fci_len / FIR_ENTRY_LEN > INT_MAX)
        return MR_EPARSE;
    return (int)(fb->fci_len / FIR_ENTRY_LEN);
}

int mr_rtcp_fir_entry(const struct mr_rtcp_fb *fb, unsigned i, uint32_t *ssrc, uint8_t *seq_nr)
{
    int n = mr_rtcp_fir_count(fb);
    if (n < 0)
        return n;
    if (i >= (unsigned)n)
        return MR_ENOENT;
    const uint8_t *p = fb->fci + (size_t)i * FIR_ENTRY_LEN;
    if (ssrc)
        *ssrc = mr_rd32(p);
    if (seq_nr)
        *seq_nr = p[4];
    return MR_OK;
}
