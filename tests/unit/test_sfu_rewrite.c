/*
 * Per-subscriber RTP sequence-number and timestamp rewriting: fixed offsets
 * per source (RFC 3550 §5.1 sequence and timestamp spaces, modulo 2^16 and
 * 2^32), loss and reordering passed through, and a continuous output when
 * the source changes, advanced by the wall time that passed.
 */
#include "sfu/rewrite.h"

#include "mr_test.h"

#define VIDEO 90000u
#define AUDIO 48000u
#define MS    1000 /* microseconds */
#define SEC   1000000

struct out {
    uint16_t seq;
    uint32_t ts;
};

static struct out map(struct mr_rewrite *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
                      uint32_t rate, int64_t now)
{
    struct out o = {0, 0};
    mr_rewrite_map(rw, ssrc, seq, ts, rate, now, &o.seq, &o.ts);
    return o;
}

static void test_init(void)
{
    struct mr_rewrite rw;
    memset(&rw, 0xff, sizeof(rw));
    mr_rewrite_init(&rw, 1000, 50000);
    CHECK(!rw.bound);
    CHECK(!rw.sent);
    /* As if a packet just before the first one had been sent. */
    CHECK_INT(rw.last_seq, 999);
    CHECK_INT(rw.last_ts, 50000);
    uint32_t ts = 77;
    CHECK(!mr_rewrite_ts(&rw, 0x1111, 1234, &ts));
    CHECK_INT(ts, 77); /* untouched */

    mr_rewrite_init(&rw, 0, 0);
    CHECK_INT(rw.last_seq, 65535);
}

static void test_first_packet(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 1000, 50000);
    struct out o = map(&rw, 0xaaaa, 7, 123456, VIDEO, 5 * SEC);
    CHECK_INT(o.seq, 1000);
    CHECK_INT(o.ts, 50000);
    CHECK(rw.bound);
    CHECK(rw.sent);
    CHECK_INT(rw.src_ssrc, 0xaaaa);
    CHECK_INT(rw.last_seq, 1000);
    CHECK_INT(rw.last_ts, 50000);
    CHECK_INT(rw.last_us, 5 * SEC);

    /* No time advance on the very first packet, however late it comes. */
    mr_rewrite_init(&rw, 1, 2);
    o = map(&rw, 0xbbbb, 60000, 0xfffffff0, AUDIO, 999 * SEC);
    CHECK_INT(o.seq, 1);
    CHECK_INT(o.ts, 2);
}

static void test_consecutive(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 1000, 50000);
    map(&rw, 0xaaaa, 7, 123456, VIDEO, 0);
    struct out o = map(&rw, 0xaaaa, 8, 123456 + 3000, VIDEO, 33 * MS);
    CHECK_INT(o.seq, 1001);
    CHECK_INT(o.ts, 53000);
    /* Several packets of one frame share its timestamp. */
    o = map(&rw, 0xaaaa, 9, 123456 + 3000, VIDEO, 34 * MS);
    CHECK_INT(o.seq, 1002);
    CHECK_INT(o.ts, 53000);
    /* Loss passes through as a gap of the same size. */
    o = map(&rw, 0xaaaa, 13, 123456 + 9000, VIDEO, 100 * MS);
    CHECK_INT(o.seq, 1006);
    CHECK_INT(o.ts, 59000);
    CHECK_INT(rw.last_seq, 1006);
    CHECK_INT(rw.last_ts, 59000);
    CHECK_INT(rw.last_us, 100 * MS);
    /* The wall clock does not enter the mapping within one source. */
    o = map(&rw, 0xaaaa, 14, 123456 + 12000, VIDEO, 50 * SEC);
    CHECK_INT(o.seq, 1007);
    CHECK_INT(o.ts, 62000);
}

static void test_reordering(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 500, 10000);
    map(&rw, 0xaaaa, 100, 1000, VIDEO, 0);
    /* Input 102, 101, 104, 103: output in the same order, same offsets. */
    struct out o = map(&rw, 0xaaaa, 102, 7000, VIDEO, 66 * MS);
    CHECK_INT(o.seq, 502);
    CHECK_INT(o.ts, 16000);
    o = map(&rw, 0xaaaa, 101, 4000, VIDEO, 67 * MS);
    CHECK_INT(o.seq, 501);
    CHECK_INT(o.ts, 13000);
    /* The late packet does not move last_* back. */
    CHECK_INT(rw.last_seq, 502);
    CHECK_INT(rw.last_ts, 16000);
    CHECK_INT(rw.last_us, 66 * MS);
    o = map(&rw, 0xaaaa, 104, 13000, VIDEO, 133 * MS);
    CHECK_INT(o.seq, 504);
    o = map(&rw, 0xaaaa, 103, 10000, VIDEO, 134 * MS);
    CHECK_INT(o.seq, 503);
    CHECK_INT(o.ts, 19000);
    CHECK_INT(rw.last_seq, 504);
    CHECK_INT(rw.last_ts, 22000);
    CHECK_INT(rw.last_us, 133 * MS);
    /* A duplicate maps to the same numbers and changes nothing. */
    o = map(&rw, 0xaaaa, 104, 13000, VIDEO, 200 * MS);
    CHECK_INT(o.seq, 504);
    CHECK_INT(o.ts, 22000);
    CHECK_INT(rw.last_us, 133 * MS);
    /* A very old packet (a retransmission) is still mapped, not rebased. */
    o = map(&rw, 0xaaaa, 90, 0, VIDEO, 201 * MS);
    CHECK_INT(o.seq, 490);
    CHECK_INT(rw.last_seq, 504);
}

static void test_seq_wrap(void)
{
    struct mr_rewrite rw;
    /* The output space wraps. */
    mr_rewrite_init(&rw, 65534, 0);
    uint16_t got[4];
    for (uint16_t i = 0; i < 4; i++)
        got[i] = map(&rw, 0xaaaa, (uint16_t)(100 + i), 3000u * i, VIDEO, i * 33 * MS).seq;
    CHECK_INT(got[0], 65534);
    CHECK_INT(got[1], 65535);
    CHECK_INT(got[2], 0);
    CHECK_INT(got[3], 1);
    CHECK_INT(rw.last_seq, 1); /* 1 is newer than 65535 modulo 2^16 */

    /* The input space wraps. */
    mr_rewrite_init(&rw, 10, 0);
    CHECK_INT(map(&rw, 0xbbbb, 65534, 0, VIDEO, 0).seq, 10);
    CHECK_INT(map(&rw, 0xbbbb, 65535, 0, VIDEO, 0).seq, 11);
    CHECK_INT(map(&rw, 0xbbbb, 0, 0, VIDEO, 0).seq, 12);
    CHECK_INT(map(&rw, 0xbbbb, 1, 0, VIDEO, 0).seq, 13);
    CHECK_INT(rw.last_seq, 13);

    /* Reordered across the output wrap: 65535 arrives after 0. */
    mr_rewrite_init(&rw, 65534, 0);
    map(&rw, 0xcccc, 1, 0, VIDEO, 0);                   /* -> 65534 */
    CHECK_INT(map(&rw, 0xcccc, 3, 0, VIDEO, 0).seq, 0); /* before 65535 */
    CHECK_INT(map(&rw, 0xcccc, 2, 0, VIDEO, 0).seq, 65535);
    CHECK_INT(rw.last_seq, 0);
}

static void test_ts_wrap(void)
{
    struct mr_rewrite rw;
    /* The output space wraps. */
    mr_rewrite_init(&rw, 1, 0xffffff00u);
    CHECK_INT(map(&rw, 0xaaaa, 1, 1000, VIDEO, 0).ts, 0xffffff00u);
    CHECK_INT(map(&rw, 0xaaaa, 2, 1000 + 0x100, VIDEO, 0).ts, 0);
    CHECK_INT(map(&rw, 0xaaaa, 3, 1000 + 0x200, VIDEO, 0).ts, 0x100);

    /* The input space wraps. */
    mr_rewrite_init(&rw, 1, 5000);
    CHECK_INT(map(&rw, 0xbbbb, 1, 0xfffff000u, VIDEO, 0).ts, 5000);
    CHECK_INT(map(&rw, 0xbbbb, 2, 0x00000800u, VIDEO, 0).ts, 5000 + 0x1800);

    /* A source change whose advance crosses 2^32. */
    mr_rewrite_init(&rw, 1, 0xfffffff0u);
    map(&rw, 0xcccc, 1, 0, VIDEO, 0);
    struct out o = map(&rw, 0xdddd, 9, 777, VIDEO, 1 * SEC);
    CHECK_INT(o.ts, (uint32_t)(0xfffffff0u + 90000u)); /* 89984 */
}

static void test_source_change(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 1000, 50000);
    /* Source A for one second of video. */
    for (uint16_t i = 0; i <= 30; i++)
        map(&rw, 0xaaaa, (uint16_t)(200 + i), 3000u * i, VIDEO, (int64_t)i * SEC / 30);
    CHECK_INT(rw.last_seq, 1030);
    CHECK_INT(rw.last_ts, 50000 + 90000);
    CHECK_INT(rw.last_us, 1 * SEC);

    /* Source B starts 2 s after A's last packet, with its own spaces. */
    struct out o = map(&rw, 0xbbbb, 40000, 0x80000000u, VIDEO, 3 * SEC);
    CHECK_INT(o.seq, 1031);
    CHECK_INT(o.ts, 50000 + 90000 + 180000);
    CHECK_INT(rw.src_ssrc, 0xbbbb);
    /* B's next packets keep B's offsets. */
    o = map(&rw, 0xbbbb, 40001, 0x80000000u + 3000, VIDEO, 3 * SEC + 33 * MS);
    CHECK_INT(o.seq, 1032);
    CHECK_INT(o.ts, 50000 + 90000 + 180000 + 3000);
    o = map(&rw, 0xbbbb, 40003, 0x80000000u + 9000, VIDEO, 3 * SEC + 100 * MS);
    CHECK_INT(o.seq, 1034);

    /* SRs of the old source no longer map; B's do. */
    uint32_t ts;
    CHECK(!mr_rewrite_ts(&rw, 0xaaaa, 3000, &ts));
    CHECK(mr_rewrite_ts(&rw, 0xbbbb, 0x80000000u + 3000, &ts));
    CHECK_INT(ts, 50000 + 90000 + 180000 + 3000);

    /* Back to A (a publisher switching back): continuous again, and by the
     * clock rate of the track (audio here). */
    o = map(&rw, 0xaaaa, 231, 93000, AUDIO, 3 * SEC + 600 * MS);
    CHECK_INT(o.seq, 1035);
    CHECK_INT(o.ts, 50000 + 90000 + 180000 + 9000 + 24000);
}

static void test_source_change_no_time(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 1, 1000);
    map(&rw, 0xaaaa, 5, 5, VIDEO, 10 * SEC);
    /* Same instant: the timestamp still moves forward by one tick. */
    struct out o = map(&rw, 0xbbbb, 9, 9, VIDEO, 10 * SEC);
    CHECK_INT(o.seq, 2);
    CHECK_INT(o.ts, 1001);
    /* Less than one tick (10 us at 90 kHz): also one. */
    o = map(&rw, 0xcccc, 9, 9, VIDEO, 10 * SEC + 10);
    CHECK_INT(o.seq, 3);
    CHECK_INT(o.ts, 1002);
    /* The clock going backwards is treated as no time. */
    o = map(&rw, 0xdddd, 9, 9, VIDEO, 9 * SEC);
    CHECK_INT(o.seq, 4);
    CHECK_INT(o.ts, 1003);
    /* 1 ms at 90 kHz is 90 ticks; at 48 kHz, 48. */
    o = map(&rw, 0xeeee, 9, 9, VIDEO, 9 * SEC + 1 * MS);
    CHECK_INT(o.ts, 1003 + 90);
    o = map(&rw, 0xffff, 9, 9, AUDIO, 9 * SEC + 2 * MS);
    CHECK_INT(o.ts, 1003 + 90 + 48);
    CHECK_INT(o.seq, 6);
}

/* A source change continues after the highest sequence number sent, not
 * after whichever packet happened to arrive last. */
static void test_source_change_after_reorder(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 100, 0);
    map(&rw, 0xaaaa, 1, 0, VIDEO, 0);          /* 100 */
    map(&rw, 0xaaaa, 3, 6000, VIDEO, 66 * MS); /* 102 */
    map(&rw, 0xaaaa, 2, 3000, VIDEO, 67 * MS); /* 101, late */
    struct out o = map(&rw, 0xbbbb, 50, 0, VIDEO, 66 * MS + 1 * SEC);
    CHECK_INT(o.seq, 103);
    CHECK_INT(o.ts, 6000 + 90000);
}

static void test_unbind(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 1000, 50000);
    map(&rw, 0xaaaa, 10, 100000, VIDEO, 0);
    map(&rw, 0xaaaa, 11, 103000, VIDEO, 33 * MS);
    mr_rewrite_unbind(&rw);
    CHECK(!rw.bound);
    uint32_t ts = 5;
    CHECK(!mr_rewrite_ts(&rw, 0xaaaa, 103000, &ts));
    CHECK_INT(ts, 5);
    /* The publisher restarted with the same SSRC but new spaces: the
     * output continues instead of jumping back. */
    struct out o = map(&rw, 0xaaaa, 3, 7, VIDEO, 33 * MS + 500 * MS);
    CHECK_INT(o.seq, 1002);
    CHECK_INT(o.ts, 53000 + 45000);
    CHECK(rw.bound);
    o = map(&rw, 0xaaaa, 4, 3007, VIDEO, 33 * MS + 533 * MS);
    CHECK_INT(o.seq, 1003);
    CHECK_INT(o.ts, 53000 + 45000 + 3000);
    /* Unbinding before anything was sent just rebases to the start. */
    mr_rewrite_init(&rw, 7, 70);
    mr_rewrite_unbind(&rw);
    o = map(&rw, 0xaaaa, 3, 3, VIDEO, 1 * SEC);
    CHECK_INT(o.seq, 7);
    CHECK_INT(o.ts, 70);
}

static void test_sr_timestamp(void)
{
    struct mr_rewrite rw;
    mr_rewrite_init(&rw, 1, 1000000);
    uint32_t ts = 0;
    CHECK(!mr_rewrite_ts(&rw, 0xaaaa, 0, &ts)); /* nothing bound yet */
    struct out o = map(&rw, 0xaaaa, 1, 4000, VIDEO, 0);
    CHECK_INT(o.ts, 1000000);
    /* An SR timestamp maps exactly like a packet's, between packets and
     * across the 32-bit wrap. */
    CHECK(mr_rewrite_ts(&rw, 0xaaaa, 4000, &ts));
    CHECK_INT(ts, 1000000);
    CHECK(mr_rewrite_ts(&rw, 0xaaaa, 4000 + 1500, &ts));
    CHECK_INT(ts, 1001500);
    CHECK(mr_rewrite_ts(&rw, 0xaaaa, 3000, &ts)); /* an SR older than the packet */
    CHECK_INT(ts, 999000);
    CHECK(mr_rewrite_ts(&rw, 0xaaaa, 4000 + 0xfffff000u, &ts));
    CHECK_INT(ts, (uint32_t)(1000000u + 0xfffff000u)); /* 995904 */
    /* Other SSRCs are refused and the output is left alone. */
    ts = 42;
    CHECK(!mr_rewrite_ts(&rw, 0xbbbb, 4000, &ts));
    CHECK_INT(ts, 42);
    /* So is everything after unbind, until the next packet rebinds. */
    mr_rewrite_unbind(&rw);
    CHECK(!mr_rewrite_ts(&rw, 0xaaaa, 4000, &ts));
    CHECK_INT(ts, 42);
    o = map(&rw, 0xaaaa, 2, 7000, VIDEO, 0);
    CHECK(mr_rewrite_ts(&rw, 0xaaaa, 7000, &ts));
    CHECK_INT(ts, o.ts);
}

MR_TEST_MAIN(MR_TEST(test_init), MR_TEST(test_first_packet), MR_TEST(test_consecutive),
             MR_TEST(test_reordering), MR_TEST(test_seq_wrap), MR_TEST(test_ts_wrap),
             MR_TEST(test_source_change), MR_TEST(test_source_change_no_time),
             MR_TEST(test_source_change_after_reorder), MR_TEST(test_unbind),
             MR_TEST(test_sr_timestamp))
