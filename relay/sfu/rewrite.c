#include "sfu/rewrite.h"

#include "rtp/rtp.h"

void mr_rewrite_init(struct mr_rewrite *rw, uint16_t first_seq, uint32_t first_ts)
{
    *rw = (struct mr_rewrite){0};
    /* As if a packet just before the first one had been sent. */
    rw->last_seq = (uint16_t)(first_seq - 1);
    rw->last_ts = first_ts;
}

void mr_rewrite_unbind(struct mr_rewrite *rw)
{
    rw->bound = false;
}

static void rebase(struct mr_rewrite *rw, uint32_t src_ssrc, uint16_t seq, uint32_t ts,
                   uint32_t clock_rate, int64_t now_us)
{
    uint32_t next_ts = rw->last_ts;
    if (rw->sent) {
        /* Advance by the wall time since the last packet (at least one
         * tick), so the receiver's jitter buffer sees time pass, not a jump
         * backwards. */
        int64_t elapsed = now_us - rw->last_us;
        uint64_t ticks = elapsed > 0 ? (uint64_t)elapsed * clock_rate / 1000000 : 0;
        next_ts += ticks > 0 ? (uint32_t)ticks : 1;
    }
    rw->seq_delta = (uint16_t)(rw->last_seq + 1 - seq);
    rw->ts_delta = next_ts - ts;
    rw->src_ssrc = src_ssrc;
    rw->bound = true;
}

void mr_rewrite_map(struct mr_rewrite *rw, uint32_t src_ssrc, uint16_t seq, uint32_t ts,
                    uint32_t clock_rate, int64_t now_us, uint16_t *out_seq, uint32_t *out_ts)
{
    if (!rw->bound || rw->src_ssrc != src_ssrc)
        rebase(rw, src_ssrc, seq, ts, clock_rate, now_us);
    uint16_t s = (uint16_t)(seq + rw->seq_delta);
    uint32_t t = ts + rw->ts_delta;
    if (!rw->sent || mr_rtp_seq_newer(s, rw->last_seq)) {
        rw->last_seq = s;
        rw->last_ts = t;
        rw->last_us = now_us;
    }
    rw->sent = true;
    *out_seq = s;
    *out_ts = t;
}

bool mr_rewrite_ts(const struct mr_rewrite *rw, uint32_t src_ssrc, uint32_t ts, uint32_t *out)
{
    if (!rw->bound || rw->src_ssrc != src_ssrc)
        return false;
    *out = ts + rw->ts_delta;
    return true;
}
