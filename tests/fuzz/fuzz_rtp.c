/*
 * Fuzz target for relay/rtp: demux, header parsing, extension listing and
 * lookup, key-frame detection, RED (RFC 2198) splitting, and a
 * parse/write/parse round trip whose results must agree (abort() marks a
 * broken property as a crash).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/demux.h"
#include "rtp/rtp.h"
#include "rtp/vp8_ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

/* Rewrites the parsed header with its own extensions under shifted ids and
 * checks that the result parses back to the same fields and data. */
static void round_trip(const uint8_t *data, const struct mr_rtp_header *h,
                       const struct mr_rtp_ext_list *l)
{
    uint32_t csrcs[MR_RTP_MAX_CSRC];
    for (unsigned i = 0; i < h->csrc_count; i++)
        csrcs[i] = mr_rtp_csrc(data, i);
    struct mr_rtp_ext_out ext[MR_RTP_EXT_MAX];
    for (unsigned i = 0; i < l->count; i++) {
        /* Ids 1-14 stay in range; the shift exercises remapping, and
         * 255 % 14 + 1 keeps one-byte-eligible ids eligible. */
        uint8_t id = l->elems[i].id;
        ext[i] = (struct mr_rtp_ext_out){
            .id = id <= 14 ? (uint8_t)(id % 14 + 1) : id,
            .len = l->elems[i].len,
            .data = data + l->elems[i].offset,
        };
    }
    struct mr_rtp_out_header oh = {
        .marker = h->marker, .payload_type = h->payload_type, .seq = h->seq,
        .timestamp = h->timestamp, .ssrc = h->ssrc, .csrc_count = h->csrc_count,
        .csrcs = csrcs,
    };
    static uint8_t out[65536];
    int n = mr_rtp_write_header(out, sizeof(out), &oh, ext, l->count);
    check(n >= MR_RTP_FIXED_HEADER_LEN);

    struct mr_rtp_header h2;
    struct mr_rtp_ext_list l2;
    check(mr_rtp_parse(out, (size_t)n, &h2) == 0);
    check(h2.header_len == n && h2.payload_len == 0);
    check(h2.seq == h->seq && h2.ssrc == h->ssrc && h2.timestamp == h->timestamp);
    check(h2.marker == h->marker && h2.payload_type == h->payload_type);
    check(h2.csrc_count == h->csrc_count);
    for (unsigned i = 0; i < h->csrc_count; i++)
        check(mr_rtp_csrc(out, i) == csrcs[i]);
    check(mr_rtp_ext_parse(out, &h2, &l2) == 0);
    check(l2.count == l->count);
    for (unsigned i = 0; i < l2.count; i++) {
        check(l2.elems[i].id == ext[i].id && l2.elems[i].len == ext[i].len);
        check((size_t)l2.elems[i].offset + l2.elems[i].len <= (size_t)n);
        check(memcmp(out + l2.elems[i].offset, ext[i].data, ext[i].len) == 0);
    }
}

/* The input as a RED payload: every block lies inside it, in order, and
 * the primary is what mr_rtp_red_primary finds. */
static void red(const uint8_t *data, size_t size)
{
    struct mr_rtp_red_block b[4];
    unsigned n = 0;
    size_t off = 0, len = 0, off2 = 0, len2 = 0;
    int rc = mr_rtp_red_split(data, size, b, 4, &n, &off, &len);
    check(rc == mr_rtp_red_primary(data, size, &off2, &len2));
    if (rc != 0)
        return;
    check(off == off2 && len == len2 && off + len == size && off >= 4 * (size_t)n + 1);
    size_t end = 4 * (size_t)n + 1;
    for (unsigned i = 0; i < n && i < 4; i++) {
        check(b[i].off == end && b[i].off + b[i].len <= off);
        check(b[i].pt < 128 && b[i].ts_offset < (1u << 14));
        end += b[i].len;
    }
    if (n <= 4)
        check(end == off);
}

/* VP8's ids (vp8_ids.h) on the input as a payload: rewritten through a
 * map that moved to another layer, they parse back at the same places with
 * the values the map gave, and the descriptor's other bits are untouched. */
static void vp8_ids(const uint8_t *data, size_t size)
{
    uint16_t w, hgt;
    (void)mr_rtp_vp8_keyframe_size(data, size, &w, &hgt);
    struct mr_vp8_ids in, back;
    if (mr_rtp_vp8_ids(data, size, &in) < 0)
        return;
    check(!in.has_pid || (size_t)in.pid_off + (in.pid15 ? 2u : 1u) <= size);
    check(!in.has_tl0 || in.tl0_off < size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    struct mr_vp8_ids_map map = {.started = true, .last_pid = 0x1234, .last_tl0 = 0x56};
    mr_vp8_ids_rebase(&map, &in);
    mr_vp8_ids_apply(&map, &in, copy, true);
    check(mr_rtp_vp8_ids(copy, size, &back) == 0);
    check(back.has_pid == in.has_pid && back.pid15 == in.pid15 && back.has_tl0 == in.has_tl0);
    check(!in.has_pid || back.pid == ((0x1234 + 1) & (in.pid15 ? 0x7fff : 0x7f)));
    check(!in.has_tl0 || back.tl0 == 0x57);
    check(copy[0] == data[0] && (size < 2 || copy[1] == data[1]));
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)mr_demux_classify(data, size);
    red(data, size);
    vp8_ids(data, size);
    (void)mr_rtp_vp8_is_keyframe(data, size);
    (void)mr_rtp_h264_is_keyframe(data, size);

    /* The URI table with the input as a (bounded) string. */
    char uri[128];
    size_t ulen = size < sizeof(uri) - 1 ? size : sizeof(uri) - 1;
    memcpy(uri, data, ulen);
    uri[ulen] = '\0';
    enum mr_rtp_ext_kind kind = mr_rtp_ext_kind_from_uri(uri);
    if (kind != MR_RTP_EXT_NONE)
        check(strcmp(mr_rtp_ext_kind_uri(kind), uri) == 0);

    struct mr_rtp_header h;
    if (mr_rtp_parse(data, size, &h) != 0)
        return 0;
    check((size_t)h.header_len + h.payload_len + h.padding_len == size);
    uint32_t sum = 0;
    for (unsigned i = 0; i < h.csrc_count; i++)
        sum += mr_rtp_csrc(data, i);
    (void)sum;

    struct mr_rtp_ext_list l;
    if (mr_rtp_ext_parse(data, &h, &l) == 0) {
        check(l.count <= MR_RTP_EXT_MAX);
        for (unsigned i = 0; i < l.count; i++) {
            const struct mr_rtp_ext_elem *e = &l.elems[i];
            check(e->id != 0);
            check(e->offset >= h.ext_offset);
            check((size_t)e->offset + e->len <= (size_t)h.ext_offset + h.ext_len);
            check(mr_rtp_ext_find(&l, e->id) != NULL);
        }
        for (unsigned id = 0; id < 256; id += 17)
            (void)mr_rtp_ext_find(&l, (uint8_t)id);
        round_trip(data, &h, &l);
    }

    const uint8_t *payload = data + h.header_len;
    (void)mr_rtp_vp8_is_keyframe(payload, h.payload_len);
    vp8_ids(payload, h.payload_len);
    (void)mr_rtp_h264_is_keyframe(payload, h.payload_len);
    return 0;
}
