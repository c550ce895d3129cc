/*
 * First-byte demultiplexing of a shared WebRTC socket (RFC 7983 §7) and
 * RTP/RTCP separation on a multiplexed port (RFC 5761 §4).
 */
#include "rtp/demux.h"

/*
 * RFC 5761 §4: with RTP and RTCP on one port, the second octet tells them
 * apart. RTCP packet types 192-223 (FIR, NACK, SMPTETC, IJ, SR, RR, SDES,
 * BYE, APP, RTPFB, PSFB, XR, ...) fall where an RTP packet would need the
 * marker bit set and a payload type of 64-95, a range RFC 5761 tells
 * senders to avoid for exactly this reason.
 */
#define RTCP_PT_MIN 192
#define RTCP_PT_MAX 223

enum mr_demux_class mr_demux_classify(const uint8_t *buf, size_t len)
{
    if (!buf || len < 1)
        return MR_DEMUX_UNKNOWN;
    uint8_t b = buf[0];
    if (b <= 3)
        return MR_DEMUX_STUN;
    if (b >= 16 && b <= 19)
        return MR_DEMUX_ZRTP;
    if (b >= 20 && b <= 63)
        return MR_DEMUX_DTLS;
    if (b >= 64 && b <= 79)
        return MR_DEMUX_TURN_CHANNEL;
    if (b >= 128 && b <= 191) {
        if (len < 2)
            return MR_DEMUX_UNKNOWN;
        if (buf[1] >= RTCP_PT_MIN && buf[1] <= RTCP_PT_MAX)
            return MR_DEMUX_RTCP;
        return MR_DEMUX_RTP;
    }
    /* 4-15, 80-127 and 192-255 are unassigned: drop, per RFC 7983 §7. */
    return MR_DEMUX_UNKNOWN;
}
