/* Synthetic VP8, H.264 and Opus payloads with a probe at their end. */
#include "media.h"

#include <string.h>

#include "core/error.h"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void mr_test_probe_write(uint8_t *out, const struct mr_test_probe *p)
{
    put32(out, MR_TEST_PROBE_MAGIC);
    put32(out + 4, p->source);
    put32(out + 8, p->counter);
    put32(out + 12, p->frame);
    put32(out + 16, (uint32_t)((uint64_t)p->send_us >> 32));
    put32(out + 20, (uint32_t)p->send_us);
}

int mr_test_probe_read(const uint8_t *payload, size_t len, struct mr_test_probe *out)
{
    if (!payload || len < MR_TEST_PROBE_LEN)
        return MR_EPARSE;
    const uint8_t *p = payload + len - MR_TEST_PROBE_LEN;
    if (get32(p) != MR_TEST_PROBE_MAGIC)
        return MR_EPARSE;
    out->source = get32(p + 4);
    out->counter = get32(p + 8);
    out->frame = get32(p + 12);
    out->send_us = (int64_t)((uint64_t)get32(p + 16) << 32 | get32(p + 20));
    return 0;
}

/* Deterministic filler, so a corrupted payload would be visible in a dump. */
static void fill(uint8_t *out, size_t n, uint32_t seed)
{
    for (size_t k = 0; k < n; k++)
        out[k] = (uint8_t)(seed * 31u + k * 7u + 1u);
}

/* --- Splitting ---------------------------------------------------------- */

#define VP8_DESC_LEN    4 /* X, I|M, 15-bit PictureID */
#define VP8_DATA        (MR_TEST_MAX_PAYLOAD - VP8_DESC_LEN - MR_TEST_PROBE_LEN)
#define FU_HDR_LEN      2 /* FU indicator, FU header */
#define FU_DATA         (MR_TEST_MAX_PAYLOAD - FU_HDR_LEN - MR_TEST_PROBE_LEN)
#define H264_SINGLE_MAX (MR_TEST_MAX_PAYLOAD - 1 - MR_TEST_PROBE_LEN) /* NAL header + data */

static unsigned div_up(size_t a, size_t b)
{
    return (unsigned)((a + b - 1) / b);
}

/* Bytes of frame data in data packet i of n: an even split, the remainder
 * going to the first packets. */
static size_t chunk_len(size_t size, unsigned i, unsigned n)
{
    return size / n + (i < size % n ? 1 : 0);
}

static size_t chunk_off(size_t size, unsigned i, unsigned n)
{
    size_t rem = size % n;
    return (size / n) * i + (i < rem ? i : rem);
}

static bool h264_single(const struct mr_test_frame *f)
{
    return !f->keyframe && f->size <= H264_SINGLE_MAX;
}

unsigned mr_test_frame_packets(const struct mr_test_frame *f)
{
    size_t size = f->size < MR_TEST_MIN_FRAME ? MR_TEST_MIN_FRAME : f->size;
    if (f->codec == MR_CODEC_VP8)
        return div_up(size, VP8_DATA);
    if (h264_single(f))
        return 1;
    /* A key frame's parameter sets travel in a STAP-A of their own. */
    return div_up(size, FU_DATA) + (f->keyframe ? 1 : 0);
}

/* --- VP8 (RFC 7741) ------------------------------------------------------ */

/* The frame's payload header (§4.3) and, on key frames, the start code and
 * dimensions that follow it (RFC 6386 §9.1: 14-bit width and height, each
 * little-endian with a 2-bit scale, 0 here). Returns its length. */
static size_t vp8_frame_header(const struct mr_test_frame *f, uint8_t *out)
{
    uint32_t first_part = (uint32_t)(f->size / 2) & 0x7ffff;
    out[0] = (uint8_t)((first_part & 0x7) << 5 | 0x10 /* show_frame */ | (f->keyframe ? 0 : 1));
    out[1] = (uint8_t)(first_part >> 3);
    out[2] = (uint8_t)(first_part >> 11);
    if (!f->keyframe)
        return 3;
    uint16_t w = f->width ? f->width & 0x3fff : 640, h = f->height ? f->height & 0x3fff : 480;
    const uint8_t key[7] = {
        0x9d, 0x01, 0x2a, (uint8_t)w, (uint8_t)(w >> 8), (uint8_t)h, (uint8_t)(h >> 8)};
    memcpy(out + 3, key, sizeof(key));
    return 10;
}

static int vp8_payload(const struct mr_test_frame *f, size_t size, unsigned i, unsigned n,
                       const struct mr_test_probe *probe, uint8_t *out, size_t cap)
{
    size_t data = chunk_len(size, i, n);
    size_t len = VP8_DESC_LEN + data + MR_TEST_PROBE_LEN;
    if (len > cap)
        return MR_ENOSPC;
    out[0] = 0x80 | (i == 0 ? 0x10 : 0); /* X, S on the first packet, PID 0 */
    out[1] = 0x80;                       /* I: a PictureID follows */
    out[2] = (uint8_t)(0x80 | ((f->picture_id >> 8) & 0x7f));
    out[3] = (uint8_t)f->picture_id;
    size_t hdr = i == 0 ? vp8_frame_header(f, out + VP8_DESC_LEN) : 0;
    fill(out + VP8_DESC_LEN + hdr, data - hdr, (uint32_t)chunk_off(size, i, n));
    mr_test_probe_write(out + len - MR_TEST_PROBE_LEN, probe);
    return (int)len;
}

/* --- H.264 (RFC 6184) ---------------------------------------------------- */

/* A Constrained Baseline level 3.1 SPS and a PPS, as Chromium's OpenH264
 * would send them (contents only need to be plausible). */
static const uint8_t h264_sps[] = {0x67, 0x42, 0xe0, 0x1f, 0x8d, 0x68, 0x05, 0x00,
                                   0x5b, 0xa1, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x03, 0x00, 0x3c, 0x0f, 0x10, 0xc8};
static const uint8_t h264_pps[] = {0x68, 0xce, 0x3c, 0x80};

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* §5.7.1 STAP-A: SPS, PPS, and an SEI (user data unregistered, §7.3.2.3 of
 * H.264) whose last bytes are the probe. */
static int h264_stap(const struct mr_test_probe *probe, uint8_t *out, size_t cap)
{
    static const uint8_t uuid[16] = "medrelay-testpee";
    size_t sei_len = 3 + sizeof(uuid) + MR_TEST_PROBE_LEN;
    size_t len = 1 + 2 + sizeof(h264_sps) + 2 + sizeof(h264_pps) + 2 + sei_len;
    if (len > cap)
        return MR_ENOSPC;
    size_t o = 0;
    out[o++] = 0x78; /* F=0, NRI=3, type 24 */
    put16(out + o, sizeof(h264_sps));
    memcpy(out + o + 2, h264_sps, sizeof(h264_sps));
    o += 2 + sizeof(h264_sps);
    put16(out + o, sizeof(h264_pps));
    memcpy(out + o + 2, h264_pps, sizeof(h264_pps));
    o += 2 + sizeof(h264_pps);
    put16(out + o, sei_len);
    o += 2;
    out[o++] = 0x06;                                        /* SEI */
    out[o++] = 0x05;                                        /* user data unregistered */
    out[o++] = (uint8_t)(sizeof(uuid) + MR_TEST_PROBE_LEN); /* payload size */
    memcpy(out + o, uuid, sizeof(uuid));
    o += sizeof(uuid);
    mr_test_probe_write(out + o, probe);
    return (int)len;
}

static int h264_payload(const struct mr_test_frame *f, size_t size, unsigned i, unsigned n,
                        const struct mr_test_probe *probe, uint8_t *out, size_t cap)
{
    uint8_t nri = f->keyframe ? 0x60 : 0x40;
    uint8_t type = f->keyframe ? 5 : 1; /* IDR slice, non-IDR slice */
    if (h264_single(f)) {
        size_t len = 1 + size + MR_TEST_PROBE_LEN;
        if (len > cap)
            return MR_ENOSPC;
        out[0] = nri | type;
        fill(out + 1, size, 0);
        mr_test_probe_write(out + 1 + size, probe);
        return (int)len;
    }
    if (f->keyframe && i == 0)
        return h264_stap(probe, out, cap);
    /* §5.8 FU-A fragments of the slice. */
    unsigned k = f->keyframe ? i - 1 : i, nk = f->keyframe ? n - 1 : n;
    size_t data = chunk_len(size, k, nk);
    size_t len = FU_HDR_LEN + data + MR_TEST_PROBE_LEN;
    if (len > cap)
        return MR_ENOSPC;
    out[0] = nri | 28;
    out[1] = (uint8_t)((k == 0 ? 0x80 : 0) | (k == nk - 1 ? 0x40 : 0) | type);
    fill(out + FU_HDR_LEN, data, (uint32_t)chunk_off(size, k, nk));
    mr_test_probe_write(out + len - MR_TEST_PROBE_LEN, probe);
    return (int)len;
}

int mr_test_frame_payload(const struct mr_test_frame *f, unsigned i,
                          const struct mr_test_probe *probe, uint8_t *out, size_t cap)
{
    if (!f || !probe || !out)
        return MR_EINVAL;
    unsigned n = mr_test_frame_packets(f);
    size_t size = f->size < MR_TEST_MIN_FRAME ? MR_TEST_MIN_FRAME : f->size;
    if (i >= n)
        return MR_EINVAL;
    if (f->codec == MR_CODEC_VP8)
        return vp8_payload(f, size, i, n, probe, out, cap);
    if (f->codec == MR_CODEC_H264)
        return h264_payload(f, size, i, n, probe, out, cap);
    return MR_EINVAL;
}

/* --- Opus (RFC 7587, RFC 6716 §3.1) -------------------------------------- */

int mr_test_opus_payload(size_t size, const struct mr_test_probe *probe, uint8_t *out, size_t cap)
{
    if (!probe || !out || size < 1 + MR_TEST_PROBE_LEN || size > MR_TEST_MAX_PAYLOAD)
        return MR_EINVAL;
    if (size > cap)
        return MR_ENOSPC;
    out[0] = 31 << 3; /* config 31: CELT FB 20 ms; s=0 mono; c=0 one frame */
    fill(out + 1, size - 1 - MR_TEST_PROBE_LEN, probe->counter);
    mr_test_probe_write(out + size - MR_TEST_PROBE_LEN, probe);
    return (int)size;
}
