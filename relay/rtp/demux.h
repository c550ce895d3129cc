/*
 * Classifies a datagram on a shared WebRTC socket by its first byte, as
 * RFC 7983 §7 prescribes, and separates RTCP from RTP on a multiplexed port
 * by the payload-type byte (RFC 5761 §4: 192-223 are RTCP).
 *
 *                +----------------+
 *                |        [0..3] -+--> STUN
 *                |      [16..19] -+--> ZRTP
 *    packet -->  |      [20..63] -+--> DTLS
 *                |      [64..79] -+--> TURN channel
 *                |    [128..191] -+--> RTP/RTCP
 *                +----------------+
 */
#ifndef MR_RTP_DEMUX_H
#define MR_RTP_DEMUX_H

#include <stddef.h>
#include <stdint.h>

enum mr_demux_class {
    MR_DEMUX_UNKNOWN = 0,
    MR_DEMUX_STUN,
    MR_DEMUX_ZRTP,
    MR_DEMUX_DTLS,
    MR_DEMUX_TURN_CHANNEL,
    MR_DEMUX_RTP,
    MR_DEMUX_RTCP,
};

/* Too-short packets (under 2 bytes for RTP/RTCP, 1 otherwise) are UNKNOWN. */
enum mr_demux_class mr_demux_classify(const uint8_t *buf, size_t len);

#endif
