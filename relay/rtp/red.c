/*
 * RED (RFC 2198): redundant audio. Chromium sends Opus as RED when both
 * ends negotiate red/48000/2: each packet carries the previous frames
 * again ahead of its own, so a lost packet's audio arrives with the next.
 * The relay forwards RED unchanged to viewers that accepted it, and the
 * primary (the packet's own frame) as plain Opus to those that did not;
 * the recording takes the primary, and a lost packet's frame from the
 * redundant blocks of the next (record_tap.c).
 *
 *  block header (F=1, redundant):        last header (F=0, primary):
 * |F|   block PT  |  timestamp offset  |   block length    |   |0|   block PT  |
 *  1       7              14                   10               1       7
 *
 * Pure.
 */
#include "core/error.h"
#include "rtp/rtp.h"

#define RED_HEADER_LEN 4

int mr_rtp_red_split(const uint8_t *payload, size_t len, struct mr_rtp_red_block *blocks,
                     unsigned max, unsigned *n_blocks, size_t *off, size_t *primary_len)
{
    if (!payload || !off || !primary_len || (max && !blocks))
        return MR_EINVAL;
    size_t pos = 0, data = 0;
    unsigned n = 0;
    for (;;) {
        if (pos >= len)
            return MR_EPARSE;
        if (!(payload[pos] & 0x80))
            break;
        if (pos + RED_HEADER_LEN > len)
            return MR_EPARSE;
        size_t blen = (size_t)((payload[pos + 2] & 0x03) << 8 | payload[pos + 3]);
        if (n < max)
            blocks[n] = (struct mr_rtp_red_block){
                .pt = payload[pos] & 0x7f,
                .ts_offset = (uint16_t)(payload[pos + 1] << 6 | payload[pos + 2] >> 2),
                .off = data, /* from the end of the headers, for now */
                .len = blen,
            };
        n++;
        data += blen;
        pos += RED_HEADER_LEN;
    }
    pos += 1; /* the primary's one-byte header */
    if (pos + data > len)
        return MR_EPARSE;
    for (unsigned i = 0; i < n && i < max; i++)
        blocks[i].off += pos;
    if (n_blocks)
        *n_blocks = n;
    *off = pos + data;
    *primary_len = len - *off;
    return 0;
}

int mr_rtp_red_primary(const uint8_t *payload, size_t len, size_t *off, size_t *primary_len)
{
    return mr_rtp_red_split(payload, len, NULL, 0, NULL, off, primary_len);
}
