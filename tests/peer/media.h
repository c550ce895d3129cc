/*
 * Synthetic media for the test peer: RTP payloads that look like what real
 * encoders packetize (VP8 per RFC 7741, H.264 per RFC 6184, Opus per RFC
 * 7587) closely enough for depacketizers and the relay's key-frame
 * detection, each carrying a probe at its very end so a receiver can check
 * completeness and order and measure transit time.
 *
 * Pure functions on caller-owned buffers: no allocation, no I/O, no clock.
 */
#ifndef MR_TEST_MEDIA_H
#define MR_TEST_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sdp/negotiate.h"

/*
 * The probe: the last MR_TEST_PROBE_LEN bytes of every payload the test
 * peer sends, big-endian:
 *  0                   1                   2                   3
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       magic "MRP1"                            |
 * |               source (random per sending track)               |
 * |          counter (packets this track sent before this one)    |
 * |              frame (video frame or audio packet index)        |
 * |             send time, CLOCK_MONOTONIC microseconds           |
 * |                          (64 bits)                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Sender and receiver run on one machine, so the monotonic clock is shared.
 */
#define MR_TEST_PROBE_LEN   24
#define MR_TEST_PROBE_MAGIC 0x4d525031u

struct mr_test_probe {
    uint32_t source;
    uint32_t counter;
    uint32_t frame;
    int64_t send_us;
};

void mr_test_probe_write(uint8_t *out, const struct mr_test_probe *p);
/* Reads the probe at the end of a payload: 0, or MR_EPARSE (too short or no
 * magic). */
int mr_test_probe_read(const uint8_t *payload, size_t len, struct mr_test_probe *out);

/* Largest RTP payload the peer writes (with the probe); with a 12-byte
 * header, a mid extension and the SRTP tag it stays well under 1280. */
#define MR_TEST_MAX_PAYLOAD 1200
/* Frames are at least this large, so a key frame's headers always fit. */
#define MR_TEST_MIN_FRAME 32

/* One video frame to packetize. */
struct mr_test_frame {
    enum mr_codec_id codec; /* MR_CODEC_VP8 or MR_CODEC_H264 */
    bool keyframe;
    size_t size;         /* coded bytes (VP8 frame, or the H.264 slice NAL) */
    uint16_t picture_id; /* VP8: 15-bit PictureID */
    uint16_t width;      /* VP8 key frames: the picture size their header */
    uint16_t height;     /* says (14 bits each) [0: 640x480] */
};

/* How many RTP packets the frame takes (each payload <= MR_TEST_MAX_PAYLOAD). */
unsigned mr_test_frame_packets(const struct mr_test_frame *f);

/*
 * Writes the payload of packet i (0-based) of the frame, ending with the
 * probe, into out. The caller sets the RTP marker on the last packet.
 * VP8: payload descriptor X=1 I=1 M=1 (15-bit PictureID), S=1 PID=0 on the
 * first packet, which starts with the frame's payload header (P=0, the
 * start code and the picture size on key frames, P=1 otherwise). H.264: a key frame opens with a
 * STAP-A of SPS, PPS and an SEI holding the probe, then FU-A fragments of an
 * IDR slice; other frames are a single NAL unit or FU-A fragments of a
 * non-IDR slice. Returns the payload length, MR_EINVAL or MR_ENOSPC.
 */
int mr_test_frame_payload(const struct mr_test_frame *f, unsigned i,
                          const struct mr_test_probe *probe, uint8_t *out, size_t cap);

/* An Opus packet (TOC: CELT fullband 20 ms, mono, one frame) of size bytes
 * (>= 1 + MR_TEST_PROBE_LEN) ending with the probe. Returns size or an error. */
int mr_test_opus_payload(size_t size, const struct mr_test_probe *probe, uint8_t *out, size_t cap);

#endif
