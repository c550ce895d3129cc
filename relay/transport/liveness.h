/*
 * Is the peer still there? (internal to relay/transport)
 *
 * libnice's ICE consent freshness (RFC 7675) is not used: version 0.1.21
 * sends one check every 4-6 s, never retransmits it, and declares consent
 * lost 10 s after the last answer. On a clinic's lossy 4G uplink one or two
 * lost checks then end a session that carries media perfectly well (measured:
 * about half the sessions through a 3 s outage, and viewers at 10 % loss).
 * libnice keeps sending keepalive checks instead (its own 50 s limit stays
 * as a backstop), and the transport judges liveness from what the peer
 * itself sends, authenticated by SRTP:
 *
 *   a peer is dead when it owes us packets and has sent none that
 *   authenticated for `limit`.
 *
 * A peer that has been sending media (a publisher: RTP, or at least RTCP,
 * all the time) owes them from its last packet. Any other peer owes them
 * while we send it media (every receiver reports, RFC 3550 §6.2; Chromium
 * about once a second): from its last packet if media kept going to it,
 * else from when media came back. A viewer that receives nothing and sends
 * nothing (its publisher left) owes nothing: only libnice's backstop ends
 * it; when media comes again it has the whole limit to report.
 *
 * Pure: callers pass the transport's counters and the time.
 */
#ifndef MR_TRANSPORT_LIVENESS_H
#define MR_TRANSPORT_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

struct mr_liveness {
    uint64_t heard_n; /* authenticated packets in, at the last look */
    uint64_t fed_n;   /* media packets out, at the last look */
    int64_t heard_us; /* when heard_n last moved */
    int64_t fed_us;   /* when fed_n last moved (-1: not yet) */
    int64_t look_us;  /* the last look */
    int64_t owed_us;  /* since when it owes a packet (when owed) */
    bool owed;
    bool sender;      /* the peer has sent media */
};

void mr_liveness_start(struct mr_liveness *l, uint64_t heard_n, uint64_t fed_n, int64_t now);

/* One look at the counters: heard_n authenticated packets received so far
 * (RTP and RTCP), rtp_in of them RTP, fed_n media packets sent. Returns
 * true when the peer is dead. The verdict is as late as the looks are far
 * apart: look every limit/15 or more often. */
bool mr_liveness_check(struct mr_liveness *l, uint64_t heard_n, uint64_t rtp_in, uint64_t fed_n,
                       int64_t now, int64_t limit_us);

#endif
