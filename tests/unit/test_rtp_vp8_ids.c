/*
 * VP8 picture ids and TL0PICIDX (relay/rtp/vp8_ids.h), and the picture
 * size of a key frame (mr_rtp_vp8_keyframe_size).
 */
#include "rtp/rtp.h"
#include "rtp/vp8_ids.h"

#include "core/error.h"
#include "mr_test.h"

static void test_parse(void)
{
    struct mr_vp8_ids ids;
    /* X I L: 15-bit picture id 0x1234, TL0PICIDX 7. */
    const uint8_t long_pid[] = {0x90, 0xc0, 0x92, 0x34, 0x07, 0x00};
    CHECK_INT(mr_rtp_vp8_ids(long_pid, sizeof(long_pid), &ids), 0);
    CHECK(ids.has_pid && ids.pid15 && ids.has_tl0);
    CHECK_INT(ids.pid, 0x1234);
    CHECK_INT(ids.pid_off, 2);
    CHECK_INT(ids.tl0, 7);
    CHECK_INT(ids.tl0_off, 4);
    /* 7-bit picture id, no TL0PICIDX. */
    const uint8_t short_pid[] = {0x90, 0x80, 0x12, 0x00};
    CHECK_INT(mr_rtp_vp8_ids(short_pid, sizeof(short_pid), &ids), 0);
    CHECK(ids.has_pid && !ids.pid15 && !ids.has_tl0);
    CHECK_INT(ids.pid, 0x12);
    /* No X: no ids. */
    const uint8_t plain[] = {0x10, 0x00};
    CHECK_INT(mr_rtp_vp8_ids(plain, sizeof(plain), &ids), 0);
    CHECK(!ids.has_pid && !ids.has_tl0);
    /* Cut short anywhere: refused. */
    for (size_t n = 0; n < 5; n++)
        CHECK_INT(mr_rtp_vp8_ids(long_pid, n, &ids), MR_EPARSE);
}

/* A viewer on layer A (ids 100.., tl0 7) moved to layer B (ids 9000..,
 * tl0 200): B's ids continue A's. */
static void test_rebase(void)
{
    struct mr_vp8_ids_map map = {0};
    uint8_t a[] = {0x90, 0xc0, 0x80, 100, 7, 0x00};
    struct mr_vp8_ids ids;
    CHECK_INT(mr_rtp_vp8_ids(a, sizeof(a), &ids), 0);
    mr_vp8_ids_rebase(&map, &ids); /* nothing sent yet: unchanged */
    mr_vp8_ids_apply(&map, &ids, a, true);
    CHECK_INT(a[3], 100);
    CHECK_INT(map.last_pid, 100);
    uint8_t b[] = {0x90, 0xc0, 0x80 | (9000 >> 8), 9000 & 0xff, 200, 0x00};
    CHECK_INT(mr_rtp_vp8_ids(b, sizeof(b), &ids), 0);
    mr_vp8_ids_rebase(&map, &ids);
    mr_vp8_ids_apply(&map, &ids, b, true);
    CHECK_INT(mr_rtp_vp8_ids(b, sizeof(b), &ids), 0);
    CHECK_INT(ids.pid, 101);
    CHECK_INT(ids.tl0, 8);
    CHECK_INT(b[2] & 0x80, 0x80); /* still 15 bits */
    /* The next of B's: 9001 → 102; an older one resent keeps the mapping
     * without becoming the last. */
    uint8_t b2[] = {0x90, 0xc0, 0x80 | (9001 >> 8), 9001 & 0xff, 200, 0x01};
    CHECK_INT(mr_rtp_vp8_ids(b2, sizeof(b2), &ids), 0);
    mr_vp8_ids_apply(&map, &ids, b2, false);
    CHECK_INT(b2[3], 102);
    CHECK_INT(map.last_pid, 101);
    /* Wrapping: last 0x7fff, the new layer's 5 → 0. */
    map.last_pid = 0x7fff;
    uint8_t c[] = {0x90, 0x80, 0x80, 5, 0x00};
    CHECK_INT(mr_rtp_vp8_ids(c, sizeof(c), &ids), 0);
    mr_vp8_ids_rebase(&map, &ids);
    mr_vp8_ids_apply(&map, &ids, c, true);
    CHECK_INT(c[2], 0x80);
    CHECK_INT(c[3], 0);
}

static void test_keyframe_size(void)
{
    /* Descriptor (X I M), then a key frame's tag, start code, 1280x720. */
    const uint8_t key[] = {0x90, 0x80, 0x80, 0x01, 0x50, 0x2a, 0x01,
                           0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02};
    uint16_t w = 0, h = 0;
    CHECK(mr_rtp_vp8_keyframe_size(key, sizeof(key), &w, &h));
    CHECK_INT(w, 1280);
    CHECK_INT(h, 720);
    /* Not a key frame, a later partition, or cut short: no size. */
    uint8_t delta[sizeof(key)];
    memcpy(delta, key, sizeof(key));
    delta[4] |= 0x01;
    CHECK(!mr_rtp_vp8_keyframe_size(delta, sizeof(delta), &w, &h));
    CHECK(!mr_rtp_vp8_keyframe_size(key, sizeof(key) - 1, &w, &h));
    uint8_t later[sizeof(key)];
    memcpy(later, key, sizeof(key));
    later[0] &= (uint8_t)~0x10;
    CHECK(!mr_rtp_vp8_keyframe_size(later, sizeof(later), &w, &h));
}

MR_TEST_MAIN(MR_TEST(test_parse), MR_TEST(test_rebase), MR_TEST(test_keyframe_size))
