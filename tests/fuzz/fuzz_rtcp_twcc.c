/*
 * Fuzz target for rtcp/twcc.h, transport-wide congestion control feedback.
 * abort() marks a broken property.
 *
 *  - The input as an FCI, and as a compound RTCP packet, through the
 *    parser and the iterator; what parses is recorded into a recorder as
 *    the arrivals it describes and written again: the statuses from the
 *    first received to the last, and their times, must come back.
 *  - The input as a stream of 4-byte events driving a recorder: packets
 *    (in order, reordered, duplicated, far jumps, extreme clocks) and
 *    feedback written into small and large buffers. Every packet written
 *    must parse, stay within its buffer, count on, continue where the
 *    previous one ended when no packet came between, and report only
 *    arrivals that happened (within the 125 us of rounding); a refused
 *    write must leave the recorder untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "rtcp/twcc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENDER 0x01020304u
#define MEDIA  0x05060708u
/* 2^24 x 64 ms: the reference time's period. */
#define WRAP_US    ((int64_t)MR_TWCC_REF_TICK_US << 24)
#define MAX_EVENTS 2048

static void check(int cond)
{
    if (!cond)
        abort();
}

static struct mr_twcc_rx rx, snapshot;
static uint8_t out[16384];

/* Walks a parsed feedback; returns the statuses, checking the counts. */
static unsigned walk(const struct mr_twcc_fb *fb, struct mr_twcc_status *st, unsigned max)
{
    struct mr_twcc_iter it;
    struct mr_twcc_status s;
    unsigned n = 0, received = 0;
    mr_twcc_iter_init(&it, fb);
    while (mr_twcc_next(&it, &s)) {
        check(s.seq == (uint16_t)(fb->base_seq + n));
        check(s.received == (s.symbol != MR_TWCC_NOT_RECEIVED) && s.symbol <= 2);
        received += s.received;
        if (st && n < max)
            st[n] = s;
        n++;
    }
    check(n == fb->status_count && received == fb->n_received);
    return n;
}

static int64_t floor_mod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

/* a - b on the reference time's circle, in (-WRAP_US / 2, WRAP_US / 2]. */
static int64_t circle_diff(int64_t a, int64_t b)
{
    int64_t d = floor_mod(a, WRAP_US) - floor_mod(b, WRAP_US);
    if (d > WRAP_US / 2)
        d -= WRAP_US;
    else if (d <= -WRAP_US / 2)
        d += WRAP_US;
    return d;
}

/* Reads the one feedback packet of n bytes in out. */
static void read_packet(int n, size_t cap, struct mr_twcc_fb *fb)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb rfb;
    check(n > 0 && n % 4 == 0 && (size_t)n <= cap);
    mr_rtcp_iter_init(&it, out, (size_t)n);
    check(mr_rtcp_next(&it, &p) == 1 && p.len == (size_t)n);
    check(mr_rtcp_parse_fb(&p, &rfb) == 0);
    check(rfb.sender_ssrc == SENDER && rfb.media_ssrc == MEDIA);
    check(mr_twcc_parse_fb(&rfb, fb) == 0 && fb->has_deltas);
    check(mr_rtcp_next(&it, &p) == 0);
}

static struct mr_twcc_status orig[MR_TWCC_RING], back[MR_TWCC_RING];

/* Records what a parsed feedback describes and writes it again. */
static void rewrite(const struct mr_twcc_fb *fb)
{
    if (!fb->has_deltas || fb->n_received == 0 || fb->status_count > MR_TWCC_RING)
        return;
    unsigned n = walk(fb, orig, MR_TWCC_RING), first = n, last = 0;
    mr_twcc_rx_init(&rx);
    for (unsigned i = 0; i < n; i++) {
        if (!orig[i].received)
            continue;
        mr_twcc_rx_on_packet(&rx, orig[i].seq, orig[i].arrival_us);
        first = first < i ? first : i;
        last = i;
    }
    int len = mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, 0, out, sizeof(out));
    struct mr_twcc_fb again;
    read_packet(len, sizeof(out), &again);
    check(mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, 0, out, sizeof(out)) == 0);
    check(again.base_seq == orig[first].seq && again.status_count == last - first + 1);
    walk(&again, back, MR_TWCC_RING);
    for (unsigned i = 0; i <= last - first; i++) {
        const struct mr_twcc_status *a = &orig[first + i], *b = &back[i];
        check(a->received == b->received);
        /* Times on the 250 us grid come back exactly, up to the period. */
        if (a->received)
            check(circle_diff(a->arrival_us, b->arrival_us) == 0);
    }
}

static void parse_input(const uint8_t *data, size_t size)
{
    struct mr_twcc_fb fb;
    if (mr_twcc_parse(data, size, &fb) == 0) {
        check(fb.chunks == data + 8 && fb.deltas <= data + size);
        walk(&fb, NULL, 0);
        rewrite(&fb);
    }
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb rfb;
    mr_rtcp_iter_init(&it, data, size);
    while (mr_rtcp_next(&it, &p) == 1) {
        if (mr_rtcp_parse_fb(&p, &rfb) == 0 && mr_twcc_parse_fb(&rfb, &fb) == 0)
            walk(&fb, NULL, 0);
    }
}

/* Every arrival recorded for a sequence number, up to four of them. */
static struct {
    uint8_t n;
    int64_t at[4];
} shadow[65536];
static uint16_t touched[MAX_EVENTS];

static bool happened(uint16_t seq, int64_t reported)
{
    if (shadow[seq].n > 4)
        return true; /* too many to keep: not checked */
    for (unsigned i = 0; i < shadow[seq].n; i++) {
        int64_t d = circle_diff(reported, shadow[seq].at[i]);
        if (d >= -125 && d <= 125)
            return true;
    }
    return false;
}

struct run {
    uint8_t fb_count;
    bool continues; /* no packet since the last feedback */
    uint16_t next_base;
};

static struct mr_twcc_status got[MR_TWCC_RING];

/* Writes one feedback into cap bytes and checks it; returns its length. */
static int write_checked(struct run *r, size_t cap)
{
    snapshot = rx;
    int n = mr_twcc_rx_write_feedback(&rx, SENDER, MEDIA, 0, out, cap);
    if (n <= 0) {
        check(n == 0 || (n == MR_ENOSPC && cap < MR_TWCC_MIN_PACKET));
        check(memcmp(&rx, &snapshot, sizeof(rx)) == 0);
        return n;
    }
    struct mr_twcc_fb fb;
    read_packet(n, cap, &fb);
    check(fb.fb_count == r->fb_count);
    r->fb_count++;
    if (r->continues)
        check(fb.base_seq == r->next_base);
    unsigned k = walk(&fb, got, MR_TWCC_RING);
    check(k <= MR_TWCC_RING);
    for (unsigned i = 0; i < k; i++)
        check(!got[i].received || happened(got[i].seq, got[i].arrival_us));
    r->continues = true;
    r->next_base = (uint16_t)(fb.base_seq + fb.status_count);
    return n;
}

static void on_packet(struct run *r, uint16_t seq, int64_t at, unsigned *n_touched)
{
    mr_twcc_rx_on_packet(&rx, seq, at);
    r->continues = false;
    if (shadow[seq].n == 0)
        touched[(*n_touched)++] = seq;
    if (shadow[seq].n < 4)
        shadow[seq].at[shadow[seq].n] = at;
    if (shadow[seq].n <= 4)
        shadow[seq].n++;
}

/* The clock after an event: mostly forward, sometimes back, sometimes at
 * an extreme. Wrapping adds keep it defined. */
static int64_t step_clock(int64_t now, const uint8_t *e)
{
    if (e[3] == 0xff)
        return e[2] & 1 ? INT64_MAX - e[1] : INT64_MIN + e[1];
    int64_t step = (int64_t)e[3] * (e[2] & 0x40 ? 100000 : 250);
    if (e[2] & 0x20)
        step = -step / 4;
    return (int64_t)((uint64_t)now + (uint64_t)step);
}

static void recorder_events(const uint8_t *data, size_t size)
{
    struct run r = {0};
    unsigned n_touched = 0;
    uint16_t cur = size > 1 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
    int64_t now = 1000000000;
    mr_twcc_rx_init(&rx);
    for (size_t i = 2; i + 4 <= size && n_touched < MAX_EVENTS; i += 4) {
        const uint8_t *e = data + i;
        now = step_clock(now, e);
        switch (e[0] % 8) {
        case 5: /* anywhere: far ahead, far behind, a restart */
            cur = (uint16_t)(e[1] << 8 | e[2]);
            on_packet(&r, cur, now, &n_touched);
            break;
        case 6:
            (void)write_checked(&r, e[1] % 64);
            break;
        case 7:
            (void)write_checked(&r, e[1] & 1 ? 1200 : sizeof(out));
            break;
        default: /* near the last one: in order, reordered, repeated */
            cur = (uint16_t)(cur + (int8_t)e[1] / 8 + 1);
            on_packet(&r, cur, now, &n_touched);
            break;
        }
    }
    /* Whatever is left drains, in a bounded number of packets. */
    unsigned rounds = 0;
    while (write_checked(&r, 1200) > 0)
        check(++rounds <= MR_TWCC_RING);
    for (unsigned i = 0; i < n_touched; i++)
        shadow[touched[i]].n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_input(data, size);
    recorder_events(data, size);
    return 0;
}
