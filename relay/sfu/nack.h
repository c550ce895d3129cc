/*
 * What the relay lost of one publisher's RTP stream, and when to ask for
 * it again (RFC 4585 generic NACK): the upstream half of loss repair.
 *
 * A gap in sequence numbers puts the missing packets on a bounded list. A
 * packet is asked for once it has been missing ~10 ms (reordering within
 * a burst is not loss), then again about once per round trip of the
 * publisher's leg, each retry a little later than the one before, and
 * given up after MR_NACK_MAX_TRIES requests or MR_NACK_MAX_AGE_US: by then
 * a key frame (asked for by the caller, once) is the faster repair. A key
 * frame also ends the wait for anything before it.
 *
 * Pure and fixed-size: no allocation, no clock (callers pass now), so it
 * runs on the packet path and in unit tests alike. Worker thread only.
 */
#ifndef MR_SFU_NACK_H
#define MR_SFU_NACK_H

#include <stdbool.h>
#include <stdint.h>

#define MR_NACK_MAX         128     /* missing packets tracked per stream */
#define MR_NACK_MAX_GAP     512     /* a larger jump restarts the stream */
#define MR_NACK_MAX_BACK    4096    /* and so does one this far back (late
                                       packets are a history's length, 1024
                                       at most) */
#define MR_NACK_MAX_TRIES   10
#define MR_NACK_MAX_AGE_US  1000000
#define MR_NACK_FIRST_US    10000   /* reordering allowance */
#define MR_NACK_MIN_RETRY_US 20000

struct mr_nack_entry {
    uint16_t seq;
    uint8_t tries;
    int64_t missing_since_us;
    int64_t asked_us; /* last request, 0: none yet */
};

struct mr_nack_list {
    bool started;
    uint16_t highest;
    unsigned n; /* entries[0..n), oldest sequence number first */
    struct mr_nack_entry entries[MR_NACK_MAX];
};

enum mr_nack_seen {
    MR_NACK_IN_ORDER,  /* newer than all before (after a gap or not) */
    MR_NACK_FILLED,    /* was missing: a late or retransmitted packet */
    MR_NACK_OLD,       /* older and not missing: a duplicate */
};

void mr_nack_init(struct mr_nack_list *l);
/* Accounts a packet that arrived. *gave_up counts packets dropped from
 * the list without being recovered (a gap too large to ask for, or the
 * list overflowing): the caller asks for a key frame. */
enum mr_nack_seen mr_nack_on_packet(struct mr_nack_list *l, uint16_t seq, int64_t now_us,
                                    unsigned *gave_up);
/* A key frame starts at seq: what is missing before it is no longer
 * needed. */
void mr_nack_keyframe(struct mr_nack_list *l, uint16_t seq);
/* The packets to ask for now, oldest first, into out[0..max); marks them
 * asked. rtt_us is the publisher leg's round trip. *gave_up counts those
 * given up now. */
unsigned mr_nack_due(struct mr_nack_list *l, int64_t now_us, int64_t rtt_us, uint16_t *out,
                     unsigned max, unsigned *gave_up);
/* Whether seq is on the list (missing and still asked for). */
bool mr_nack_missing(const struct mr_nack_list *l, uint16_t seq);
static inline bool mr_nack_pending(const struct mr_nack_list *l)
{
    return l->n > 0;
}

#endif
