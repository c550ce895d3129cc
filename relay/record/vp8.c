#include "record/record_priv.h"

#include "core/error.h"

/*
 * RFC 6386 section 9.1, the uncompressed data chunk at the start of a frame:
 *
 *   byte 0..2  frame tag, little-endian: bit 0 frame type (0 = key frame),
 *              bits 1-3 version, bit 4 show_frame, bits 5-23 first partition size
 *   key frames only:
 *   byte 3..5  start code 0x9d 0x01 0x2a
 *   byte 6..7  width, little-endian: 14 bits size, 2 bits horizontal scale
 *   byte 8..9  height, the same with the vertical scale
 */
int mr_rec_vp8_size(const uint8_t *buf, size_t len, unsigned *width, unsigned *height)
{
    if (len < 3)
        return MR_EPARSE;
    if (buf[0] & 0x01)
        return MR_ENOENT;
    if (len < 10)
        return MR_EPARSE;
    if (buf[3] != 0x9d || buf[4] != 0x01 || buf[5] != 0x2a)
        return MR_EPARSE;
    unsigned w = (unsigned)(buf[6] | buf[7] << 8) & 0x3fff;
    unsigned h = (unsigned)(buf[8] | buf[9] << 8) & 0x3fff;
    if (w == 0 || h == 0)
        return MR_EPARSE;
    *width = w;
    *height = h;
    return 0;
}
