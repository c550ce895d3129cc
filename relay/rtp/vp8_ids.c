/* VP8 picture ids and TL0PICIDX (vp8_ids.h). */
#include "rtp/vp8_ids.h"

#include <string.h>

#include "core/error.h"

int mr_rtp_vp8_ids(const uint8_t *p, size_t len, struct mr_vp8_ids *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 1)
        return MR_EPARSE;
    if (!(p[0] & 0x80)) /* X: no extension byte, no ids */
        return 0;
    if (len < 2)
        return MR_EPARSE;
    uint8_t x = p[1];
    size_t off = 2;
    if (x & 0x80) { /* I: picture id */
        if (off >= len)
            return MR_EPARSE;
        out->has_pid = true;
        out->pid_off = (uint8_t)off;
        if (p[off] & 0x80) {
            if (off + 1 >= len)
                return MR_EPARSE;
            out->pid15 = true;
            out->pid = (uint16_t)(((p[off] & 0x7f) << 8) | p[off + 1]);
            off += 2;
        } else {
            out->pid = p[off] & 0x7f;
            off += 1;
        }
    }
    if (x & 0x40) { /* L: TL0PICIDX */
        if (off >= len)
            return MR_EPARSE;
        out->has_tl0 = true;
        out->tl0_off = (uint8_t)off;
        out->tl0 = p[off];
    }
    return 0;
}

static uint16_t pid_mask(const struct mr_vp8_ids *in)
{
    return in->pid15 ? 0x7fff : 0x7f;
}

void mr_vp8_ids_rebase(struct mr_vp8_ids_map *m, const struct mr_vp8_ids *in)
{
    if (!m->started)
        return; /* nothing sent yet: the layer's own ids */
    if (in->has_pid)
        m->pid_delta = (uint16_t)((m->last_pid + 1u - in->pid) & pid_mask(in));
    if (in->has_tl0)
        m->tl0_delta = (uint8_t)(m->last_tl0 + 1u - in->tl0);
}

void mr_vp8_ids_apply(struct mr_vp8_ids_map *m, const struct mr_vp8_ids *in, uint8_t *payload,
                      bool newest)
{
    if (in->has_pid) {
        uint16_t pid = (uint16_t)((in->pid + m->pid_delta) & pid_mask(in));
        if (in->pid15) {
            payload[in->pid_off] = (uint8_t)(0x80 | (pid >> 8));
            payload[in->pid_off + 1] = (uint8_t)pid;
        } else {
            payload[in->pid_off] = (uint8_t)pid;
        }
        if (newest)
            m->last_pid = pid;
    }
    if (in->has_tl0) {
        uint8_t tl0 = (uint8_t)(in->tl0 + m->tl0_delta);
        payload[in->tl0_off] = tl0;
        if (newest)
            m->last_tl0 = tl0;
    }
    if (newest)
        m->started = true;
}
