/*
 * Transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): the RTCP
 * RTPFB FMT=15 packet in which a receiver tells a sender when each of its
 * packets arrived, by the transport-wide sequence number that every RTP
 * packet of the transport carries in a header extension (§2; the URI is
 * MR_RTP_EXT_TRANSPORT_CC in rtp/rtp.h).
 *
 * Why: a publishing Chromium sizes its encoders with its send-side
 * bandwidth estimation (GCC). Fed with this feedback, GCC runs both its
 * delay-based estimator, on the exact arrival time of every packet, and its
 * loss-based one, on which packets never arrived. That is chosen over REMB,
 * where the receiver estimates a rate and the sender only obeys it: with
 * transport-wide feedback the relay only reports what it saw and estimates
 * nothing, and the estimator that runs is the one Chromium tunes and ships.
 *
 * Two halves, both pure (no allocation, no I/O, no clock, no lock):
 *  - struct mr_twcc_rx records the arrivals of ONE transport (the sequence
 *    spans every SSRC of a bundle) and writes feedback packets;
 *  - mr_twcc_parse reads one, for tests and for a viewer's feedback.
 *
 * Thread: a recorder belongs to the worker that owns its transport; it is
 * neither locked nor shared. The caller passes every time, as microseconds
 * of one monotonic clock (mr_clock_mono_us).
 *
 * The packet (§3.1, with the RFC 4585 §6.1 feedback header):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  FMT=15 |    PT=205     |           length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     SSRC of packet sender                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      SSRC of media source                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  FCI:
 * |      base sequence number     |      packet status count      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 reference time                | fb pkt. count |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          packet chunk         |         packet chunk          |
 * .                                                               .
 * |         packet chunk          |  recv delta   |  recv delta   |
 * .                                                               .
 * |           recv delta          |  recv delta   | zero padding  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The packet status count statuses start at the base sequence number. The
 * reference time counts 64 ms units of the receiver's clock, modulo 2^24.
 * Chunks are 16 bits each:
 *  - run length (T=0): |0| S (2) | run length (13) |, one symbol repeated;
 *  - status vector (T=1): |1|0| 14 one-bit symbols | (0 lost, 1 small) or
 *    |1|1| 7 two-bit symbols |.
 * Symbols: 0 not received, 1 received with a small delta (one byte,
 * 0..255 x 250 us), 2 received with a large or negative delta (two bytes,
 * signed, x 250 us), 3 reserved. Each received packet has one delta, in
 * sequence order: the first from the reference time, each next from the
 * previous received packet's time.
 */
#ifndef MR_RTCP_TWCC_H
#define MR_RTCP_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtcp/rtcp.h"

/* Sequence numbers a recorder remembers: a power of two. 2048 packets is
 * two seconds at 1000 packets a second (10 Mb/s), twenty feedback
 * intervals of Chromium's own receiver (100 ms). */
#define MR_TWCC_RING 2048

#define MR_TWCC_DELTA_TICK_US 250   /* unit of a recv delta */
#define MR_TWCC_REF_TICK_US   64000 /* unit of the reference time */
#define MR_TWCC_HEADER_LEN    20    /* RTCP header, SSRCs and the fixed FCI */
/* The smallest cap mr_twcc_rx_write_feedback can always write into: the
 * header, one chunk and one large delta. */
#define MR_TWCC_MIN_PACKET 24

enum mr_twcc_symbol {
    MR_TWCC_NOT_RECEIVED = 0,
    MR_TWCC_SMALL_DELTA = 1,
    MR_TWCC_LARGE_DELTA = 2,
};

/*
 * The receive-side recorder of one transport, embedded by value in its
 * owner (MR_TWCC_RING * 8 bytes and a few more; nothing to free).
 *
 * Sequence numbers are unwrapped to 64 bits against the highest one
 * received. arrival_us[seq % MR_TWCC_RING] holds the first arrival of seq
 * for every seq in (max_seq - MR_TWCC_RING, max_seq], or MR_TWCC_NONE; older
 * ones are forgotten. next_seq is the first sequence number no feedback has
 * covered yet.
 */
struct mr_twcc_rx {
    int64_t arrival_us[MR_TWCC_RING];
    int64_t max_seq;
    int64_t next_seq;
    uint16_t stale_next; /* an old packet's seq + 1, see twcc.c */
    bool stale_pending;
    bool started;
    uint8_t fb_count; /* of the next packet written */
};

#define MR_TWCC_NONE INT64_MIN /* not received */

void mr_twcc_rx_init(struct mr_twcc_rx *t);

/*
 * Records that the packet with transport-wide sequence number tseq arrived
 * at arrival_us. O(1) but for the rare forward jump, which clears the
 * sequence numbers skipped (at most MR_TWCC_RING stores). A duplicate keeps
 * the first arrival. A packet older than the ring is dropped, unless the
 * next one follows it: the sender has restarted its sequence, and the
 * recorder restarts with it (RFC 3550 A.1 does the same for RTP). A jump
 * forward of MR_TWCC_RING or more restarts the window at tseq, since what
 * lies between cannot be told apart from packets never sent.
 */
void mr_twcc_rx_on_packet(struct mr_twcc_rx *t, uint16_t tseq, int64_t arrival_us);

/*
 * Writes one RTPFB FMT=15 packet into out (which may be the tail of a
 * compound packet being built) covering the sequence numbers from the first
 * not yet reported to the highest received, the missing ones as not
 * received, in at most cap bytes. When they do not all fit, it writes the
 * first ones and the next call goes on from there; so does a gap of more
 * than 8.19 s between two arrivals, which one delta cannot carry. The
 * caller calls it until it returns 0, at each feedback interval.
 *
 * media_ssrc must be an SSRC the sender sends with (libwebrtc puts the
 * last packet's): recent libwebrtc drops a transport feedback whose media
 * source is none of its own SSRCs (RTCPReceiver::HandleTransportFeedback).
 * sender_ssrc is the relay's SSRC towards that peer.
 *
 * The packet is zero-padded to 32 bits with the P bit set and the padding
 * count in its last byte, as libwebrtc writes it; RFC 3550 §6.4.1 allows
 * padding only on the last packet of a compound packet, so put it last (or
 * alone: reduced-size RTCP).
 *
 * now_us (the clock of arrival_us) is not written into the packet: the
 * reference time is the first reported arrival rounded down to 64 ms, as in
 * libwebrtc, so the first delta is a small one. It is taken so that the
 * window can age without changing callers; today it is unused.
 *
 * Returns the length written (a multiple of 4), 0 when there is nothing new
 * to report, MR_ENOSPC when cap cannot hold even the first status (out and
 * the recorder are then untouched; cap >= MR_TWCC_MIN_PACKET always
 * suffices), or MR_EINVAL.
 */
int mr_twcc_rx_write_feedback(struct mr_twcc_rx *t, uint32_t sender_ssrc, uint32_t media_ssrc,
                              int64_t now_us, uint8_t *out, size_t cap);

/*
 * A parsed feedback FCI (everything after the media source SSRC). The
 * pointers borrow the parsed buffer, which must outlive the struct and its
 * iterators.
 */
struct mr_twcc_fb {
    uint16_t base_seq;
    uint16_t status_count; /* >= 1 */
    uint32_t ref_time;     /* 24 bits, in 64 ms units, modulo 2^24 */
    uint8_t fb_count;
    bool has_deltas; /* false: statuses only (see mr_twcc_parse) */
    uint16_t n_received;
    const uint8_t *chunks; /* first packet chunk */
    const uint8_t *deltas; /* first recv delta */
};

/*
 * Parses and validates a feedback FCI as libwebrtc's
 * rtcp::TransportFeedback::Parse does: at least one status, every chunk the
 * count needs present, no reserved symbol among the counted statuses, and
 * the deltas of every received packet present. Bytes after the deltas are
 * ignored: they are the draft's zero padding when a sender did not use the
 * P bit. A feedback whose deltas are all missing (fewer than 4 bytes left)
 * parses with has_deltas false, as libwebrtc writes it when the sender asked
 * for no timestamps. Returns 0, MR_EPARSE or MR_EINVAL.
 */
int mr_twcc_parse(const uint8_t *fci, size_t fci_len, struct mr_twcc_fb *out);

/* The same, from a parsed feedback packet; MR_EINVAL when it is not
 * RTPFB FMT=15. */
int mr_twcc_parse_fb(const struct mr_rtcp_fb *fb, struct mr_twcc_fb *out);

/* One packet's status, in sequence order. */
struct mr_twcc_status {
    uint16_t seq;
    uint8_t symbol; /* enum mr_twcc_symbol */
    bool received;
    int32_t delta_us;   /* this packet's recv delta; 0 if not received or no deltas */
    int64_t arrival_us; /* ref_time * 64 ms plus the deltas so far, when received */
};

struct mr_twcc_iter {
    const uint8_t *chunk; /* next chunk to decode */
    const uint8_t *delta; /* next recv delta */
    bool has_deltas;
    uint16_t chunk_val;
    unsigned in_chunk; /* statuses of the current chunk still to yield */
    unsigned pos;      /* index of the next one in the current chunk */
    unsigned left;     /* statuses still to yield in all */
    uint16_t seq;
    int64_t time_us;
};

/* Iterates over a feedback that mr_twcc_parse accepted. mr_twcc_next
 * returns true with *st set, false after the last status. */
void mr_twcc_iter_init(struct mr_twcc_iter *it, const struct mr_twcc_fb *fb);
bool mr_twcc_next(struct mr_twcc_iter *it, struct mr_twcc_status *st);

#endif
