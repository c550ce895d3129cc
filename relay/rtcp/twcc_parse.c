/*
 * Transport-wide congestion control feedback, the reading side: validating
 * an RTPFB FMT=15 FCI and iterating over its statuses
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1; the diagram
 * is in twcc.h).
 *
 * What is accepted is what libwebrtc's rtcp::TransportFeedback::Parse
 * accepts, but for the reserved symbol, refused wherever a counted status
 * carries it. mr_twcc_parse walks every chunk once and checks every length
 * against the buffer, so the iterator that walks them again needs no check.
 */
#include "rtcp/twcc.h"

#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

#define FCI_FIXED_LEN   8 /* base seq, status count, reference time, fb count */
#define CHUNK_LEN       2
#define SYMBOL_RESERVED 3

/* Statuses a chunk describes, at most left: a run says how many; a
 * vector holds 14 or 7, of which those past the status count are
 * ignored. */
static unsigned chunk_len(uint16_t c, unsigned left)
{
    unsigned n;
    if (!(c & 0x8000))
        n = c & 0x1fff;
    else if (!(c & 0x4000))
        n = 14;
    else
        n = 7;
    return n < left ? n : left;
}

/* Symbol i of a chunk (i below what chunk_len gave). */
static uint8_t chunk_symbol(uint16_t c, unsigned i)
{
    if (!(c & 0x8000))
        return (uint8_t)(c >> 13 & 3);
    if (!(c & 0x4000))
        return (uint8_t)(c >> (13 - i) & 1);
    return (uint8_t)(c >> (2 * (6 - i)) & 3);
}

/* Adds a chunk's first n statuses to the received count and the delta
 * bytes they need (a symbol's value is its delta's size). */
static int chunk_tally(uint16_t c, unsigned n, unsigned *received, size_t *delta_bytes)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t sym = chunk_symbol(c, i);
        if (sym == SYMBOL_RESERVED)
            return MR_EPARSE;
        if (!(c & 0x8000)) {
            /* A run: every status alike, no need to look at each. */
            *received += sym ? n : 0;
            *delta_bytes += (size_t)sym * n;
            return MR_OK;
        }
        *received += sym ? 1 : 0;
        *delta_bytes += sym;
    }
    return MR_OK;
}

int mr_twcc_parse(const uint8_t *fci, size_t fci_len, struct mr_twcc_fb *out)
{
    if (!fci || !out)
        return MR_EINVAL;
    if (fci_len < FCI_FIXED_LEN + CHUNK_LEN)
        return MR_EPARSE;
    unsigned count = mr_rd16(fci + 2);
    if (count == 0)
        return MR_EPARSE; /* libwebrtc refuses an empty feedback too */

    size_t off = FCI_FIXED_LEN;
    unsigned seen = 0, received = 0;
    size_t need = 0;
    while (seen < count) {
        if (fci_len - off < CHUNK_LEN)
            return MR_EPARSE;
        uint16_t c = mr_rd16(fci + off);
        off += CHUNK_LEN;
        unsigned n = chunk_len(c, count - seen);
        int rc = chunk_tally(c, n, &received, &need);
        if (rc < 0)
            return rc;
        seen += n;
    }

    /* libwebrtc reads a feedback whose deltas do not all fit as one
     * without any (sent when its sender asks for statuses only). A
     * word or more short is a truncated packet, not that. */
    size_t left = fci_len - off;
    bool has_deltas = left >= need;
    if (!has_deltas && left >= 4)
        return MR_EPARSE;

    *out = (struct mr_twcc_fb){
        .base_seq = mr_rd16(fci),
        .status_count = (uint16_t)count,
        .ref_time = (uint32_t)fci[4] << 16 | (uint32_t)fci[5] << 8 | fci[6],
        .fb_count = fci[7],
        .has_deltas = has_deltas,
        .n_received = (uint16_t)received,
        .chunks = fci + FCI_FIXED_LEN,
        .deltas = fci + off,
    };
    return MR_OK;
}

int mr_twcc_parse_fb(const struct mr_rtcp_fb *fb, struct mr_twcc_fb *out)
{
    if (!fb || !out)
        return MR_EINVAL;
    if (fb->type != MR_RTCP_RTPFB || fb->fmt != MR_RTCP_RTPFB_TWCC)
        return MR_EINVAL;
    return mr_twcc_parse(fb->fci, fb->fci_len, out);
}

void mr_twcc_iter_init(struct mr_twcc_iter *it, const struct mr_twcc_fb *fb)
{
    if (!it)
        return;
    memset(it, 0, sizeof(*it));
    if (!fb || !fb->chunks)
        return;
    it->chunk = fb->chunks;
    it->delta = fb->deltas;
    it->has_deltas = fb->has_deltas;
    it->left = fb->status_count;
    it->seq = fb->base_seq;
    it->time_us = (int64_t)fb->ref_time * MR_TWCC_REF_TICK_US;
}

/* Reads the recv delta of a received packet, in microseconds. */
static int32_t read_delta(struct mr_twcc_iter *it, uint8_t sym)
{
    int32_t ticks;
    if (sym == MR_TWCC_SMALL_DELTA) {
        ticks = it->delta[0];
        it->delta += 1;
    } else {
        ticks = mr_rd16(it->delta);
        if (ticks >= 0x8000)
            ticks -= 0x10000;
        it->delta += 2;
    }
    return ticks * MR_TWCC_DELTA_TICK_US;
}

bool mr_twcc_next(struct mr_twcc_iter *it, struct mr_twcc_status *st)
{
    if (!it || !st || it->left == 0)
        return false;
    /* A run of length 0 describes nothing: go on to the next chunk. */
    while (it->in_chunk == 0) {
        it->chunk_val = mr_rd16(it->chunk);
        it->chunk += CHUNK_LEN;
        it->in_chunk = chunk_len(it->chunk_val, it->left);
        it->pos = 0;
    }
    uint8_t sym = chunk_symbol(it->chunk_val, it->pos);
    it->pos++;
    it->in_chunk--;
    it->left--;

    *st = (struct mr_twcc_status){
        .seq = it->seq,
        .symbol = sym,
        .received = sym != MR_TWCC_NOT_RECEIVED,
    };
    if (st->received && it->has_deltas) {
        st->delta_us = read_delta(it, sym);
        it->time_us += st->delta_us;
    }
    if (st->received)
        st->arrival_us = it->time_us;
    it->seq++;
    return true;
}
