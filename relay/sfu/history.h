/*
 * A video source's packet history: the last packets it sent, as received
 * (decrypted, the publisher's SSRC and sequence numbers), so the relay can
 * answer its viewers' NACKs itself (RFC 4585 §6.2.1, RFC 4588) without
 * asking the publisher: one viewer's lossy link costs the publisher
 * nothing.
 *
 * A ring indexed by sequence number, allocated once with the source and
 * never again: storing a packet is one copy, no allocation, no lock.
 * MR_HISTORY_SLOTS packets are about 1.4 s of an 8 Mbit/s stream and
 * several seconds of a clinic's 1-2 Mbit/s; a packet older than the
 * caller's age limit (round trip-dependent, at most MR_HISTORY_MAX_AGE_US)
 * is not resent: the viewer's decoder has moved on.
 *
 * Worker thread only.
 */
#ifndef MR_SFU_HISTORY_H
#define MR_SFU_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define MR_HISTORY_SLOTS      1024 /* a power of two */
#define MR_HISTORY_PKT_MAX    1500
#define MR_HISTORY_MAX_AGE_US 2000000

struct mr_history_slot {
    int64_t stored_us; /* 0: empty */
    uint32_t ssrc;
    uint16_t seq;
    uint16_t len;
    uint8_t data[MR_HISTORY_PKT_MAX];
};

struct mr_pkt_history {
    struct mr_history_slot slots[MR_HISTORY_SLOTS];
};

/* NULL when out of memory (the source then keeps no history). */
struct mr_pkt_history *mr_history_new(void);
void mr_history_free(struct mr_pkt_history *h);
/* Keeps a copy of pkt (RTP, len bytes) under (ssrc, seq). A packet
 * longer than a slot is not kept. */
void mr_history_put(struct mr_pkt_history *h, const uint8_t *pkt, size_t len, uint32_t ssrc,
                    uint16_t seq, int64_t now_us);
/* The packet (ssrc, seq) if it is kept and no older than max_age_us. */
const struct mr_history_slot *mr_history_get(const struct mr_pkt_history *h, uint32_t ssrc,
                                             uint16_t seq, int64_t now_us, int64_t max_age_us);

#endif
