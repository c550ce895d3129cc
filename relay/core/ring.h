/*
 * A bounded single-producer, single-consumer ring of fixed-size packet
 * slots, lock-free: the producer (a media worker) copies a packet into the
 * next free slot or, when the ring is full, drops it and counts the drop;
 * it never blocks and never allocates. The consumer (the recorder thread)
 * drains slots in order. Head and tail are atomics with acquire/release
 * ordering, so a slot's bytes are visible to the consumer before the slot
 * is, and the producer only reuses a slot after the consumer released it.
 */
#ifndef MR_CORE_RING_H
#define MR_CORE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_RING_SLOT_DATA 1500

struct mr_ring_slot {
    int64_t arrival_us; /* producer's monotonic clock */
    uint16_t len;
    uint8_t track;      /* caller-defined tag */
    uint8_t kind;       /* caller-defined tag (e.g. RTP or RTCP) */
    uint8_t data[MR_RING_SLOT_DATA];
};

struct mr_ring {
    struct mr_ring_slot *slots;
    uint32_t mask;       /* capacity - 1; capacity is a power of two */
    uint32_t head;       /* next slot to write; producer owns, atomic */
    uint32_t tail;       /* next slot to read; consumer owns, atomic */
    uint64_t dropped;    /* producer only, read with mr_counter_read */
    uint64_t pushed;
};

/* capacity is rounded up to a power of two (at least 2). Returns 0 or
 * MR_ENOMEM. */
int mr_ring_init(struct mr_ring *r, uint32_t capacity);
void mr_ring_cleanup(struct mr_ring *r);

/* Producer: copies len bytes (at most MR_RING_SLOT_DATA) into the ring.
 * Returns false (and counts a drop) when the ring is full or len too big. */
bool mr_ring_push(struct mr_ring *r, const uint8_t *data, size_t len, uint8_t track,
                  uint8_t kind, int64_t arrival_us);

/* Consumer: the oldest slot, or NULL when empty. The slot stays valid until
 * mr_ring_release(). */
const struct mr_ring_slot *mr_ring_peek(struct mr_ring *r);
void mr_ring_release(struct mr_ring *r);

#endif
