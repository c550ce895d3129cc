/*
 * RTP header extensions (RFC 8285): listing the elements of a received
 * block, writing a header with a block, and the URIs the relay knows.
 */
#include "rtp/rtp.h"

#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

#define EXT_PROFILE_ONE_BYTE 0xBEDE
#define EXT_PROFILE_TWO_BYTE 0x1000 /* 0x100 + 4 "appbits", RFC 8285 §4.3 */
#define EXT_ONE_BYTE_STOP 15        /* reserved id: stop parsing, §4.2 */

static int ext_add(struct mr_rtp_ext_list *out, uint8_t id, uint8_t len, size_t offset)
{
    if (out->count == MR_RTP_EXT_MAX)
        return MR_EPARSE;
    out->elems[out->count++] = (struct mr_rtp_ext_elem){
        .id = id,
        .len = len,
        .offset = (uint16_t)offset,
    };
    return MR_OK;
}

/*
 * One-byte form (RFC 8285 §4.2), after the 0xBEDE header:
 *  0 1 2 3 4 5 6 7
 * +-+-+-+-+-+-+-+-+
 * |  ID   |  len  |  data (len + 1 bytes) ...
 * +-+-+-+-+-+-+-+-+
 *
 * A zero byte is padding (it may sit between elements, too). ID 15 is
 * reserved: "the process MUST terminate processing of the current extension
 * block", so whatever follows is ignored rather than rejected.
 *
 * ID 0 is reserved for padding, and padding bytes are zero, so a byte with
 * ID 0 and a non-zero length field is neither padding nor an element. Like
 * libwebrtc, we stop there as for ID 15 and keep what came before, instead
 * of reporting an element no writer could reproduce.
 */
static int parse_one_byte(const uint8_t *blk, size_t blk_len, size_t base,
                          struct mr_rtp_ext_list *out)
{
    size_t i = 0;
    while (i < blk_len) {
        uint8_t b = blk[i];
        if (b == 0) {
            i++;
            continue;
        }
        uint8_t id = b >> 4;
        uint8_t len = (uint8_t)((b & 0x0f) + 1);
        if (id == EXT_ONE_BYTE_STOP || id == 0)
            break;
        if (len > blk_len - i - 1)
            return MR_EPARSE;
        int rc = ext_add(out, id, len, base + i + 1);
        if (rc < 0)
            return rc;
        i += 1 + (size_t)len;
    }
    return MR_OK;
}

/*
 * Two-byte form (RFC 8285 §4.3), after the 0x100X header:
 *  0                   1
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       ID      |     length    |  data (length bytes, may be 0) ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A zero byte in the ID position is a single byte of padding.
 */
static int parse_two_byte(const uint8_t *blk, size_t blk_len, size_t base,
                          struct mr_rtp_ext_list *out)
{
    size_t i = 0;
    while (i < blk_len) {
        uint8_t id = blk[i];
        if (id == 0) {
            i++;
            continue;
        }
        if (blk_len - i < 2)
            return MR_EPARSE;
        uint8_t len = blk[i + 1];
        if (len > blk_len - i - 2)
            return MR_EPARSE;
        int rc = ext_add(out, id, len, base + i + 2);
        if (rc < 0)
            return rc;
        i += 2 + (size_t)len;
    }
    return MR_OK;
}

int mr_rtp_ext_parse(const uint8_t *buf, const struct mr_rtp_header *h,
                     struct mr_rtp_ext_list *out)
{
    if (!buf || !h || !out)
        return MR_EINVAL;
    out->count = 0;
    if (!h->extension)
        return MR_OK;
    /* The header comes from mr_rtp_parse, but a block that does not lie
     * inside the header it describes would send us past the packet. */
    if ((size_t)h->ext_offset + h->ext_len > h->header_len)
        return MR_EPARSE;

    const uint8_t *blk = buf + h->ext_offset;
    if (h->ext_profile == EXT_PROFILE_ONE_BYTE)
        return parse_one_byte(blk, h->ext_len, h->ext_offset, out);
    if ((h->ext_profile & 0xfff0) == EXT_PROFILE_TWO_BYTE)
        return parse_two_byte(blk, h->ext_len, h->ext_offset, out);
    /* Some other profile's extension: opaque to us, and not an error. */
    return MR_OK;
}

const struct mr_rtp_ext_elem *mr_rtp_ext_find(const struct mr_rtp_ext_list *l, uint8_t id)
{
    if (!l)
        return NULL;
    for (unsigned i = 0; i < l->count && i < MR_RTP_EXT_MAX; i++) {
        if (l->elems[i].id == id)
            return &l->elems[i];
    }
    return NULL;
}

/* The one-byte form fits only ids 1-14 with 1-16 data bytes; one element
 * outside that range forces the whole block into the two-byte form, since
 * RFC 8285 §4.1 allows one form per packet. */
static bool ext_fits_one_byte(const struct mr_rtp_ext_out *ext, unsigned n_ext)
{
    for (unsigned i = 0; i < n_ext; i++) {
        if (ext[i].id < 1 || ext[i].id > 14 || ext[i].len < 1 || ext[i].len > 16)
            return false;
    }
    return true;
}

int mr_rtp_write_header(uint8_t *out, size_t cap, const struct mr_rtp_out_header *h,
                        const struct mr_rtp_ext_out *ext, unsigned n_ext)
{
    if (!out || !h)
        return MR_EINVAL;
    if (h->payload_type > 127 || h->csrc_count > MR_RTP_MAX_CSRC)
        return MR_EINVAL;
    if (h->csrc_count > 0 && !h->csrcs)
        return MR_EINVAL;
    if (n_ext > 0 && !ext)
        return MR_EINVAL;

    bool one_byte = ext_fits_one_byte(ext, n_ext);
    size_t data_len = 0;
    for (unsigned i = 0; i < n_ext; i++) {
        /* Id 0 is padding in both forms and cannot name an element. */
        if (ext[i].id == 0 || (ext[i].len > 0 && !ext[i].data))
            return MR_EINVAL;
        data_len += (one_byte ? 1u : 2u) + ext[i].len;
    }
    size_t padded = (data_len + 3) & ~(size_t)3;
    /* The block's length field counts 32-bit words in 16 bits. */
    if (padded / 4 > UINT16_MAX)
        return MR_EINVAL;

    size_t hlen = MR_RTP_FIXED_HEADER_LEN + 4 * (size_t)h->csrc_count;
    size_t total = hlen + (n_ext > 0 ? 4 + padded : 0);
    if (total > cap)
        return MR_ENOSPC;

    out[0] = (uint8_t)(2u << 6 | (n_ext > 0 ? 1u << 4 : 0) | h->csrc_count);
    out[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->payload_type);
    mr_wr16(out + 2, h->seq);
    mr_wr32(out + 4, h->timestamp);
    mr_wr32(out + 8, h->ssrc);
    for (unsigned i = 0; i < h->csrc_count; i++)
        mr_wr32(out + MR_RTP_FIXED_HEADER_LEN + 4 * (size_t)i, h->csrcs[i]);
    if (n_ext == 0)
        return (int)total;

    uint8_t *p = out + hlen;
    mr_wr16(p, one_byte ? EXT_PROFILE_ONE_BYTE : EXT_PROFILE_TWO_BYTE);
    mr_wr16(p + 2, (uint16_t)(padded / 4));
    p += 4;
    for (unsigned i = 0; i < n_ext; i++) {
        if (one_byte) {
            *p++ = (uint8_t)(ext[i].id << 4 | (ext[i].len - 1));
        } else {
            *p++ = ext[i].id;
            *p++ = ext[i].len;
        }
        if (ext[i].len > 0)
            memcpy(p, ext[i].data, ext[i].len);
        p += ext[i].len;
    }
    memset(p, 0, padded - data_len);
    return (int)total;
}

static const char *const ext_uris[MR_RTP_EXT_KIND_COUNT] = {
    [MR_RTP_EXT_MID] = "urn:ietf:params:rtp-hdrext:sdes:mid",
    [MR_RTP_EXT_AUDIO_LEVEL] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    [MR_RTP_EXT_TRANSPORT_CC] =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    [MR_RTP_EXT_RID] = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    [MR_RTP_EXT_RRID] = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
};

enum mr_rtp_ext_kind mr_rtp_ext_kind_from_uri(const char *uri)
{
    if (!uri)
        return MR_RTP_EXT_NONE;
    for (int k = MR_RTP_EXT_NONE + 1; k < MR_RTP_EXT_KIND_COUNT; k++) {
        if (strcmp(uri, ext_uris[k]) == 0)
            return (enum mr_rtp_ext_kind)k;
    }
    return MR_RTP_EXT_NONE;
}

const char *mr_rtp_ext_kind_uri(enum mr_rtp_ext_kind kind)
{
    if (kind <= MR_RTP_EXT_NONE || kind >= MR_RTP_EXT_KIND_COUNT)
        return NULL;
    return ext_uris[kind];
}

int mr_rtp_ext_transport_seq(const uint8_t *buf, const struct mr_rtp_ext_elem *e, uint16_t *out)
{
    if (!buf || !e || !out)
        return MR_EINVAL;
    if (e->len != 2)
        return MR_EPARSE;
    *out = (uint16_t)(buf[e->offset] << 8 | buf[e->offset + 1]);
    return MR_OK;
}
