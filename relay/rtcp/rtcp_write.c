/*
 * Writers for the RTCP packets the relay sends: PLI and FIR to ask a
 * publisher for a key frame, SR and RR to report, SDES to name itself.
 *
 * Each writer checks the whole length against cap before writing a byte, so
 * a failed call leaves out untouched.
 */
#include "rtcp/rtcp.h"

#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

#define RTCP_VERSION_BITS 0x80 /* V=2, P=0 */
#define PLI_LEN 12
#define FIR_LEN 20
#define SR_FIXED_LEN 28
#define RR_FIXED_LEN 8
#define REPORT_BLOCK_LEN 24
#define SDES_CNAME 1
#define CUM_LOST_MAX 0x7fffff
#define CUM_LOST_MIN (-0x800000)

/* Common header (RFC 3550 §6.4.1); len is the whole packet, a multiple of 4. */
static void write_header(uint8_t *p, uint8_t count, uint8_t type, size_t len)
{
    p[0] = (uint8_t)(RTCP_VERSION_BITS | (count & 0x1f));
    p[1] = type;
    mr_wr16(p + 2, (uint16_t)(len / 4 - 1));
}

/*
 * PLI (RFC 4585 §6.3.1): a generic feedback message with FMT=1, PT=206 and
 * no FCI.
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P| FMT=1   |    PT=206     |          length=2             |
 * |                  SSRC of packet sender                        |
 * |                  SSRC of media source                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int mr_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    if (!out)
        return MR_EINVAL;
    if (cap < PLI_LEN)
        return MR_ENOSPC;
    write_header(out, MR_RTCP_PSFB_PLI, MR_RTCP_PSFB, PLI_LEN);
    mr_wr32(out + 4, sender_ssrc);
    mr_wr32(out + 8, media_ssrc);
    return PLI_LEN;
}

/*
 * FIR (RFC 5104 §4.3.1) with one FCI entry. §4.3.1.2 says the header's
 * media-source SSRC "SHALL be set to 0"; the entry names the source.
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P| FMT=4   |    PT=206     |          length=4             |
 * |                  SSRC of packet sender                        |
 * |                  SSRC of media source = 0                     |
 * |                              SSRC                             |
 * | Seq nr.       |    Reserved = 0                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The sequence number must grow by one for each new request to the same
 * source (§4.3.1.1), so the caller keeps it.
 */
int mr_rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seq_nr)
{
    if (!out)
        return MR_EINVAL;
    if (cap < FIR_LEN)
        return MR_ENOSPC;
    write_header(out, MR_RTCP_PSFB_FIR, MR_RTCP_PSFB, FIR_LEN);
    mr_wr32(out + 4, sender_ssrc);
    mr_wr32(out + 8, 0);
    mr_wr32(out + 12, media_ssrc);
    out[16] = seq_nr;
    out[17] = out[18] = out[19] = 0;
    return FIR_LEN;
}

/* Report block (RFC 3550 §6.4.1); see the diagram in rtcp.c. The
 * cumulative count is clamped to what 24 signed bits can carry, as A.3
 * does, and stored in two's complement. */
static void write_report_block(uint8_t *p, const struct mr_rtcp_report_block *rb)
{
    int32_t lost = rb->cumulative_lost;
    if (lost > CUM_LOST_MAX)
        lost = CUM_LOST_MAX;
    else if (lost < CUM_LOST_MIN)
        lost = CUM_LOST_MIN;
    uint32_t lost24 = (uint32_t)lost & 0xffffff;

    mr_wr32(p, rb->ssrc);
    p[4] = rb->fraction_lost;
    p[5] = (uint8_t)(lost24 >> 16);
    p[6] = (uint8_t)(lost24 >> 8);
    p[7] = (uint8_t)lost24;
    mr_wr32(p + 8, rb->ext_highest_seq);
    mr_wr32(p + 12, rb->jitter);
    mr_wr32(p + 16, rb->lsr);
    mr_wr32(p + 20, rb->dlsr);
}

/* Sender report (RFC 3550 §6.4.1; diagram in rtcp.c): header, sender
 * SSRC, 20 bytes of sender info, then the report blocks. */
int mr_rtcp_write_sr(uint8_t *out, size_t cap, const struct mr_rtcp_sr *sr)
{
    if (!out || !sr || sr->n_reports > MR_RTCP_MAX_REPORTS)
        return MR_EINVAL;
    size_t len = SR_FIXED_LEN + (size_t)sr->n_reports * REPORT_BLOCK_LEN;
    if (cap < len)
        return MR_ENOSPC;
    write_header(out, (uint8_t)sr->n_reports, MR_RTCP_SR, len);
    mr_wr32(out + 4, sr->ssrc);
    mr_wr32(out + 8, (uint32_t)(sr->ntp >> 32));
    mr_wr32(out + 12, (uint32_t)sr->ntp);
    mr_wr32(out + 16, sr->rtp_ts);
    mr_wr32(out + 20, sr->packet_count);
    mr_wr32(out + 24, sr->octet_count);
    for (unsigned i = 0; i < sr->n_reports; i++)
        write_report_block(out + SR_FIXED_LEN + (size_t)i * REPORT_BLOCK_LEN, &sr->reports[i]);
    return (int)len;
}

/* Receiver report (RFC 3550 §6.4.2): header, sender SSRC, report blocks. */
int mr_rtcp_write_rr(uint8_t *out, size_t cap, const struct mr_rtcp_rr *rr)
{
    if (!out || !rr || rr->n_reports > MR_RTCP_MAX_REPORTS)
        return MR_EINVAL;
    size_t len = RR_FIXED_LEN + (size_t)rr->n_reports * REPORT_BLOCK_LEN;
    if (cap < len)
        return MR_ENOSPC;
    write_header(out, (uint8_t)rr->n_reports, MR_RTCP_RR, len);
    mr_wr32(out + 4, rr->ssrc);
    for (unsigned i = 0; i < rr->n_reports; i++)
        write_report_block(out + RR_FIXED_LEN + (size_t)i * REPORT_BLOCK_LEN, &rr->reports[i]);
    return (int)len;
}

/*
 * SDES with one chunk (RFC 3550 §6.5):
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P| SC=1    |  PT=SDES=202  |             length            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                          SSRC/CSRC_1                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    CNAME=1    |     length    | user and domain name        ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "The list of items in each chunk MUST be terminated by one or more null
 * octets, ... followed by padding to the next 32-bit boundary" — so a chunk
 * always carries at least one null after its last item, even when the item
 * already ends on a boundary; the padding is nulls too.
 */
int mr_rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname)
{
    if (!out || !cname)
        return MR_EINVAL;
    /* Bounded scan: an item length is one octet. */
    size_t n = 0;
    while (n <= UINT8_MAX && cname[n] != '\0')
        n++;
    if (n > UINT8_MAX)
        return MR_EINVAL;

    size_t chunk = 4 + 2 + n + 1;  /* SSRC, item header, text, one null */
    chunk = (chunk + 3) & ~(size_t)3;
    size_t len = 4 + chunk;
    if (cap < len)
        return MR_ENOSPC;

    write_header(out, 1, MR_RTCP_SDES, len);
    mr_wr32(out + 4, ssrc);
    out[8] = SDES_CNAME;
    out[9] = (uint8_t)n;
    memcpy(out + 10, cname, n);
    memset(out + 10 + n, 0, len - 10 - n);
    return (int)len;
}
