/*
 * VP8's picture ids and TL0PICIDX (RFC 7741 §4.2), read and rewritten in
 * place, so that a viewer moved from one simulcast layer to another sees
 * them continue: each layer numbers its own pictures, and a receiver that
 * sees the ids jump may take the new layer's frames for old ones or wait
 * for pictures that never come. Pure, no allocation.
 */
#ifndef MR_RTP_VP8_IDS_H
#define MR_RTP_VP8_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ids of one packet's payload descriptor. */
struct mr_vp8_ids {
    bool has_pid;
    bool pid15; /* 15-bit picture id (M bit), else 7-bit */
    uint16_t pid;
    bool has_tl0;
    uint8_t tl0;
    uint8_t pid_off; /* where they lie in the payload */
    uint8_t tl0_off;
};

/* Reads the descriptor at the start of a VP8 payload. Returns 0, or
 * MR_EPARSE when it is cut short. */
int mr_rtp_vp8_ids(const uint8_t *payload, size_t len, struct mr_vp8_ids *out);

/* One receiver's mapping: what is added to the layer's own ids. */
struct mr_vp8_ids_map {
    bool started; /* last_* hold what was sent */
    uint16_t pid_delta;
    uint8_t tl0_delta;
    uint16_t last_pid;
    uint8_t last_tl0;
};

/* The packet `in` (the first of a key frame) starts another layer: its
 * ids become the ones after the last sent. */
void mr_vp8_ids_rebase(struct mr_vp8_ids_map *m, const struct mr_vp8_ids *in);

/* Rewrites the ids of a payload being sent (payload[0..len), parsed as
 * `in`) through the map; `newest` records them as the last sent (not for
 * a retransmission of an older packet). */
void mr_vp8_ids_apply(struct mr_vp8_ids_map *m, const struct mr_vp8_ids *in, uint8_t *payload,
                      bool newest);

#endif
