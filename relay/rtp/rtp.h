/*
 * RTP packets (RFC 3550) and their header extensions (RFC 8285).
 *
 * Pure functions on caller-owned buffers: no allocation, no I/O, no clock.
 */
#ifndef MR_RTP_RTP_H
#define MR_RTP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_RTP_FIXED_HEADER_LEN 12
#define MR_RTP_MAX_CSRC 15
#define MR_RTP_EXT_MAX 16 /* elements kept per packet; more is a parse error */

/*
 * RFC 3550 §5.1:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |  (if X)
 * |                        header extension                       |
 */
struct mr_rtp_header {
    bool padding;
    bool extension;
    bool marker;
    uint8_t csrc_count;
    uint8_t payload_type;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    uint16_t ext_profile; /* 0xBEDE, 0x1000-0x100F, or opaque; 0 without X */
    uint16_t ext_offset;  /* offset of extension data, after its 4-byte header */
    uint16_t ext_len;     /* bytes of extension data (length field * 4) */
    uint16_t header_len;  /* fixed header + CSRCs + extension */
    uint16_t payload_len; /* bytes between header and padding */
    uint8_t padding_len;  /* trailing padding bytes, including the count byte */
};

/*
 * Parses and validates an RTP packet: version 2, lengths consistent with len,
 * padding count within the packet. Returns 0, MR_EPARSE or MR_ETRUNC.
 */
int mr_rtp_parse(const uint8_t *buf, size_t len, struct mr_rtp_header *out);

/* Reads CSRC i (i < csrc_count) of a parsed packet. */
uint32_t mr_rtp_csrc(const uint8_t *buf, unsigned i);

/* One header-extension element (RFC 8285), located in the packet buffer. */
struct mr_rtp_ext_elem {
    uint8_t id;      /* 1-14 (one-byte form) or 1-255 (two-byte form) */
    uint8_t len;     /* data bytes: 1-16 (one-byte) or 0-255 (two-byte) */
    uint16_t offset; /* of the data, from the start of the packet */
};

struct mr_rtp_ext_list {
    unsigned count;
    struct mr_rtp_ext_elem elems[MR_RTP_EXT_MAX];
};

/*
 * Lists the elements of a one-byte (0xBEDE, RFC 8285 §4.2) or two-byte
 * (0x100X, §4.3) extension block. Padding bytes are skipped; id 15 in the
 * one-byte form stops parsing as the RFC requires. A packet without an
 * extension, or with another profile, yields count 0. Returns 0 or MR_EPARSE
 * (an element runs past the block, or more than MR_RTP_EXT_MAX elements).
 */
int mr_rtp_ext_parse(const uint8_t *buf, const struct mr_rtp_header *h,
                     struct mr_rtp_ext_list *out);

/* Returns the element with the given id, or NULL. */
const struct mr_rtp_ext_elem *mr_rtp_ext_find(const struct mr_rtp_ext_list *l, uint8_t id);

/* An element to write: id, and len bytes at data (borrowed). */
struct mr_rtp_ext_out {
    uint8_t id;
    uint8_t len;
    const uint8_t *data;
};

/* The fields the relay sets when it writes a packet header. */
struct mr_rtp_out_header {
    bool marker;
    uint8_t payload_type;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    uint8_t csrc_count;
    const uint32_t *csrcs; /* csrc_count entries, host order; may be NULL if 0 */
};

/*
 * Writes an RTP header without padding into out: fixed header, CSRCs, and,
 * when n_ext > 0, an extension block in the one-byte form if every id is
 * 1-14 and every len 1-16, otherwise in the two-byte form (RFC 8285 §4.3),
 * zero-padded to a multiple of four bytes. Returns the header length or
 * MR_ENOSPC / MR_EINVAL (id 0, id > 14 with len > 255...).
 */
int mr_rtp_write_header(uint8_t *out, size_t cap, const struct mr_rtp_out_header *h,
                        const struct mr_rtp_ext_out *ext, unsigned n_ext);

/* Sequence-number arithmetic modulo 2^16 (RFC 3550 A.1). */
static inline bool mr_rtp_seq_newer(uint16_t a, uint16_t b)
{
    return a != b && (uint16_t)(a - b) < 0x8000;
}

/* Timestamps modulo 2^32. */
static inline bool mr_rtp_ts_newer(uint32_t a, uint32_t b)
{
    return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/*
 * True when the payload starts a key frame.
 * VP8 (RFC 7741 §4.2-4.3): payload descriptor with S=1 and PID=0, then the
 * VP8 payload header's P bit is 0.
 * H.264 (RFC 6184): an IDR slice (NAL type 5) or SPS (7), alone, inside a
 * STAP-A (24), or at the start (S bit) of an FU-A (28).
 */
bool mr_rtp_vp8_is_keyframe(const uint8_t *payload, size_t len);
/* The picture size a VP8 key frame's first packet announces; false for
 * any other packet. */
bool mr_rtp_vp8_keyframe_size(const uint8_t *payload, size_t len, uint16_t *w, uint16_t *h);
bool mr_rtp_h264_is_keyframe(const uint8_t *payload, size_t len);

/* Header extensions the relay understands (by URI, RFC 8285 §5). */
enum mr_rtp_ext_kind {
    MR_RTP_EXT_NONE = 0,
    MR_RTP_EXT_MID,         /* urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8843) */
    MR_RTP_EXT_AUDIO_LEVEL, /* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464) */
    /* http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01,
     * the sequence number transport-wide feedback reports (rtcp/twcc.h) */
    MR_RTP_EXT_TRANSPORT_CC,
    /* urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id and
     * ...:repaired-rtp-stream-id (RFC 8852): which simulcast layer (rid) a
     * packet, or a retransmission, belongs to */
    MR_RTP_EXT_RID,
    MR_RTP_EXT_RRID,
    MR_RTP_EXT_KIND_COUNT
};

/* Maps a URI to a kind (MR_RTP_EXT_NONE when the relay does not handle it). */
enum mr_rtp_ext_kind mr_rtp_ext_kind_from_uri(const char *uri);
const char *mr_rtp_ext_kind_uri(enum mr_rtp_ext_kind kind);

/*
 * Reads the transport-wide sequence number from its element
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2): two bytes,
 * big-endian. buf is the packet the element was listed from. Returns 0, or
 * MR_EPARSE when the element is not two bytes long (libwebrtc refuses those
 * too), or MR_EINVAL.
 */
int mr_rtp_ext_transport_seq(const uint8_t *buf, const struct mr_rtp_ext_elem *e, uint16_t *out);

/* RTX (RFC 4588, rtx.c). Unwraps a retransmission in place: the packet
 * becomes the original (its sequence number from the OSN, pt and ssrc the
 * original stream's) and starts two bytes into buf, at *out. Returns the
 * new length, or MR_ETRUNC when the payload is shorter than the OSN. */
int mr_rtp_rtx_unwrap(uint8_t *buf, size_t len, const struct mr_rtp_header *h, uint8_t pt,
                      uint32_t ssrc, uint8_t **out);
/* Writes into out the retransmission of a packet whose header (with its
 * output sequence number, which becomes the OSN) is pkt[0..header_len) and
 * payload payload[0..payload_len): on the RTX stream pt/seq/ssrc. Returns
 * the length or MR_ENOSPC. */
int mr_rtp_rtx_wrap(uint8_t *out, size_t cap, const uint8_t *pkt, size_t header_len,
                    const uint8_t *payload, size_t payload_len, uint8_t pt, uint16_t seq,
                    uint32_t ssrc);

/* RED (RFC 2198, red.c): where a RED payload's primary block (the
 * packet's own frame, after the redundant ones) starts and how long it is.
 * Returns 0 or MR_EPARSE. */
int mr_rtp_red_primary(const uint8_t *payload, size_t len, size_t *off, size_t *primary_len);

/* A redundant block: an earlier frame, ts_offset samples before the
 * packet's own, at payload[off..off+len). */
struct mr_rtp_red_block {
    uint8_t pt;
    uint16_t ts_offset;
    size_t off, len;
};
/* The same, with the redundant blocks too, oldest first: how many there
 * are in *n_blocks, the first max of them in blocks. Returns 0 or
 * MR_EPARSE. */
int mr_rtp_red_split(const uint8_t *payload, size_t len, struct mr_rtp_red_block *blocks,
                     unsigned max, unsigned *n_blocks, size_t *off, size_t *primary_len);

#endif
