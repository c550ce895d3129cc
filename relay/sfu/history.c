/* A video source's recent packets, for retransmissions (history.h). */
#include "sfu/history.h"

#include <stdlib.h>
#include <string.h>

struct mr_pkt_history *mr_history_new(void)
{
    /* calloc: pages are touched only as packets fill them. */
    return calloc(1, sizeof(struct mr_pkt_history));
}

void mr_history_free(struct mr_pkt_history *h)
{
    free(h);
}

void mr_history_put(struct mr_pkt_history *h, const uint8_t *pkt, size_t len, uint32_t ssrc,
                    uint16_t seq, int64_t now_us)
{
    struct mr_history_slot *s = &h->slots[seq & (MR_HISTORY_SLOTS - 1)];
    if (len > sizeof(s->data)) {
        s->stored_us = 0; /* whatever the slot held is older still */
        return;
    }
    memcpy(s->data, pkt, len);
    s->len = (uint16_t)len;
    s->ssrc = ssrc;
    s->seq = seq;
    s->stored_us = now_us ? now_us : 1;
}

const struct mr_history_slot *mr_history_get(const struct mr_pkt_history *h, uint32_t ssrc,
                                             uint16_t seq, int64_t now_us, int64_t max_age_us)
{
    const struct mr_history_slot *s = &h->slots[seq & (MR_HISTORY_SLOTS - 1)];
    if (s->stored_us == 0 || s->seq != seq || s->ssrc != ssrc ||
        now_us - s->stored_us > max_age_us)
        return NULL;
    return s;
}
