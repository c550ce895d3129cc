/*
 * Key-frame detection from the first bytes of an RTP payload, so the relay
 * can switch a subscriber to a new layer or answer a PLI on a clean frame
 * boundary without decoding video.
 */
#include "rtp/rtp.h"

/*
 * VP8 payload descriptor (RFC 7741 §4.2):
 *        0 1 2 3 4 5 6 7
 *       +-+-+-+-+-+-+-+-+
 *       |X|R|N|S|R| PID | (REQUIRED)
 *       +-+-+-+-+-+-+-+-+
 *  X:   |I|L|T|K| RSV   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  I:   |M| PictureID   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *       |   PictureID   | (OPTIONAL, when M is set: 15-bit picture id)
 *       +-+-+-+-+-+-+-+-+
 *  L:   |   TL0PICIDX   | (OPTIONAL)
 *       +-+-+-+-+-+-+-+-+
 *  T/K: |TID|Y| KEYIDX  | (OPTIONAL, one byte when T or K is set)
 *       +-+-+-+-+-+-+-+-+
 *
 * VP8 payload header (RFC 7741 §4.3), present in the first packet of a
 * frame (S=1, PID=0):
 *        0 1 2 3 4 5 6 7
 *       +-+-+-+-+-+-+-+-+
 *       |Size0|H| VER |P|
 *       +-+-+-+-+-+-+-+-+
 *
 * P is the inverse key-frame flag: 0 on a key frame. In octet terms it is
 * the least significant bit of the first byte.
 */
#define VP8_X 0x80
#define VP8_S 0x10
#define VP8_PID 0x07
#define VP8_I 0x80
#define VP8_L 0x40
#define VP8_T 0x20
#define VP8_K 0x10
#define VP8_M 0x80
#define VP8_P 0x01

/* Where the VP8 payload header starts (past the descriptor) in the first
 * packet of a frame's first partition, or 0 when this is not one. */
static size_t vp8_header_at(const uint8_t *payload, size_t len)
{
    if (!payload || len < 1)
        return 0;
    uint8_t d = payload[0];
    /* Only the first partition's first packet carries the payload header. */
    if (!(d & VP8_S) || (d & VP8_PID) != 0)
        return 0;

    size_t i = 1;
    if (d & VP8_X) {
        if (i >= len)
            return false;
        uint8_t x = payload[i++];
        if (x & VP8_I) {
            if (i >= len)
                return false;
            i += (payload[i] & VP8_M) ? 2 : 1;
        }
        if (x & VP8_L)
            i++;
        if (x & (VP8_T | VP8_K))
            i++;
    }
    return i < len ? i : 0;
}

bool mr_rtp_vp8_is_keyframe(const uint8_t *payload, size_t len)
{
    size_t i = vp8_header_at(payload, len);
    return i && (payload[i] & VP8_P) == 0;
}

/* RFC 6386 §9.1: a key frame's 3-byte tag, the start code 9d 01 2a, then
 * width and height, 14 bits each (little-endian, 2 bits of scaling). */
bool mr_rtp_vp8_keyframe_size(const uint8_t *payload, size_t len, uint16_t *w, uint16_t *h)
{
    size_t i = vp8_header_at(payload, len);
    if (!i || (payload[i] & VP8_P) || len < i + 10)
        return false;
    const uint8_t *k = payload + i + 3;
    if (k[0] != 0x9d || k[1] != 0x01 || k[2] != 0x2a)
        return false;
    *w = (uint16_t)((k[3] | (k[4] << 8)) & 0x3fff);
    *h = (uint16_t)((k[5] | (k[6] << 8)) & 0x3fff);
    return true;
}

/*
 * H.264 NAL unit header (RFC 6184 §1.3, §5.3):
 *       +---------------+
 *       |0|1|2|3|4|5|6|7|
 *       +-+-+-+-+-+-+-+-+
 *       |F|NRI|  Type   |
 *       +---------------+
 *
 * Type 5 is a coded slice of an IDR picture and 7 a sequence parameter
 * set; an SPS leads every key frame a WebRTC encoder produces, and IDR
 * slices are the key frame itself, so either one marks a starting point.
 */
#define H264_TYPE_MASK 0x1f
#define H264_IDR 5
#define H264_SPS 7
#define H264_STAP_A 24
#define H264_FU_A 28
#define H264_FU_S 0x80

static bool h264_type_is_key(uint8_t type)
{
    return type == H264_IDR || type == H264_SPS;
}

/*
 * STAP-A (RFC 6184 §5.7.1): after the one-byte STAP-A NAL header, a
 * sequence of aggregation units, each a 16-bit size and a NAL unit:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          RTP Header                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |STAP-A NAL HDR |         NALU 1 Size           | NALU 1 HDR    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         NALU 1 Data                           |
 * :                                                               :
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               | NALU 2 Size                   | NALU 2 HDR    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A unit whose size is zero or runs past the payload ends the scan: the
 * rest of the packet cannot be trusted, and we only ever answer "no".
 */
static bool h264_stap_a_has_key(const uint8_t *p, size_t len)
{
    size_t i = 1;
    while (len - i >= 2) {
        size_t size = (size_t)p[i] << 8 | p[i + 1];
        i += 2;
        if (size == 0 || size > len - i)
            return false;
        if (h264_type_is_key(p[i] & H264_TYPE_MASK))
            return true;
        i += size;
    }
    return false;
}

/*
 * FU-A (RFC 6184 §5.8): the FU indicator (a NAL header with type 28), then
 * the FU header, whose S bit marks the first fragment and whose type is
 * that of the fragmented NAL unit:
 *       +---------------+
 *       |0|1|2|3|4|5|6|7|
 *       +-+-+-+-+-+-+-+-+
 *       |S|E|R|  Type   |
 *       +---------------+
 */
bool mr_rtp_h264_is_keyframe(const uint8_t *payload, size_t len)
{
    if (!payload || len < 1)
        return false;
    uint8_t type = payload[0] & H264_TYPE_MASK;
    switch (type) {
    case H264_STAP_A:
        return h264_stap_a_has_key(payload, len);
    case H264_FU_A:
        if (len < 2)
            return false;
        return (payload[1] & H264_FU_S) && h264_type_is_key(payload[1] & H264_TYPE_MASK);
    default:
        return h264_type_is_key(type);
    }
}
