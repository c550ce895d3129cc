/*
 * Per-subscriber RTP sequence-number and timestamp rewriting.
 *
 * Each subscriber track sends with its own SSRC and its own sequence and
 * timestamp spaces (starting at random values, RFC 3550 §5.1). Packets of
 * one source map with fixed offsets, so loss and reordering pass through
 * unchanged; when the source changes (a publisher reconnects, or its SSRC
 * changes), the offsets are rebased so the subscriber sees one continuous
 * stream: the next sequence number, and a timestamp advanced by the wall
 * time that passed. Pure: the caller passes `now`.
 */
#ifndef MR_SFU_REWRITE_H
#define MR_SFU_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

struct mr_rewrite {
    bool bound;          /* offsets belong to src_ssrc */
    bool sent;           /* at least one packet was mapped */
    uint32_t src_ssrc;
    uint16_t seq_delta;
    uint32_t ts_delta;
    uint16_t last_seq;   /* highest output sequence number */
    uint32_t last_ts;    /* output timestamp of that packet */
    int64_t last_us;     /* when it was mapped */
};

/* first_seq/first_ts: where the output spaces start (random). */
void mr_rewrite_init(struct mr_rewrite *rw, uint16_t first_seq, uint32_t first_ts);

/* Forces a rebase on the next packet even if its SSRC is unchanged. */
void mr_rewrite_unbind(struct mr_rewrite *rw);

/* Maps one packet of src_ssrc to the output spaces. */
void mr_rewrite_map(struct mr_rewrite *rw, uint32_t src_ssrc, uint16_t seq, uint32_t ts,
                    uint32_t clock_rate, int64_t now_us, uint16_t *out_seq, uint32_t *out_ts);

/* Maps a source timestamp (from a sender report); false when unbound or
 * bound to another source. */
bool mr_rewrite_ts(const struct mr_rewrite *rw, uint32_t src_ssrc, uint32_t ts, uint32_t *out);

#endif
