/*
 * Transport-wide congestion control feedback, the receive side: recording
 * arrivals by transport-wide sequence number and writing the RTPFB FMT=15
 * packets (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1; the
 * diagram is in twcc.h).
 *
 * The reference for every choice below is what Chromium's own receiver
 * sends, since Chromium's sender is the one that reads it: libwebrtc's
 * RemoteEstimatorProxy (which packets a feedback covers) and
 * rtcp::TransportFeedback (how they are encoded). Written from their
 * behaviour, not their code.
 */
#include "rtcp/twcc.h"

#include "core/bytes.h"
#include "core/error.h"

#define RING_MASK        ((uint64_t)MR_TWCC_RING - 1)
#define CHUNK_LEN        2
#define MAX_RUN          0x1fff /* 13-bit run length */
#define ONE_BIT_CAP      14     /* symbols in a one-bit status vector chunk */
#define TWO_BIT_CAP      7      /* symbols in a two-bit status vector chunk */
#define RTCP_PADDING_BIT 0x20

_Static_assert((MR_TWCC_RING & (MR_TWCC_RING - 1)) == 0, "MR_TWCC_RING is a power of two");
/* A feedback covers at most the ring, so its status count always fits. */
_Static_assert(MR_TWCC_RING <= UINT16_MAX, "status count is 16 bits");

static int64_t *slot(struct mr_twcc_rx *t, int64_t seq)
{
    return &t->arrival_us[(uint64_t)seq & RING_MASK];
}

static void restart(struct mr_twcc_rx *t, int64_t seq)
{
    for (size_t i = 0; i < MR_TWCC_RING; i++)
        t->arrival_us[i] = MR_TWCC_NONE;
    t->max_seq = seq;
    t->next_seq = seq;
    t->stale_pending = false;
}

void mr_twcc_rx_init(struct mr_twcc_rx *t)
{
    if (!t)
        return;
    restart(t, 0);
    t->stale_next = 0;
    t->started = false;
    t->fb_count = 0;
}

/* The unwrapped sequence number nearest the highest one received; half
 * the circle ahead of it counts as behind, as mr_rtp_seq_newer has it. */
static int64_t unwrap(const struct mr_twcc_rx *t, uint16_t tseq)
{
    int32_t d = (uint16_t)(tseq - (uint16_t)t->max_seq);
    if (d >= 0x8000)
        d -= 0x10000;
    return t->max_seq + d;
}

/*
 * Moves the highest sequence number up to seq. The slots of the sequence
 * numbers skipped (and of seq) still hold what arrived MR_TWCC_RING earlier,
 * so they are cleared: that keeps "a slot in the window holds its own
 * sequence number or nothing" true without a tag per slot. A jump of the
 * whole ring or more restarts the window at seq: every slot would be
 * cleared anyway, and reporting thousands of packets as lost that the
 * sender may never have sent (a restarted sequence) would tell its
 * loss-based estimator something false.
 */
static void advance(struct mr_twcc_rx *t, int64_t seq)
{
    if (seq - t->max_seq >= MR_TWCC_RING) {
        restart(t, seq);
        return;
    }
    for (int64_t s = t->max_seq + 1; s <= seq; s++)
        *slot(t, s) = MR_TWCC_NONE;
    t->max_seq = seq;
}

/*
 * A packet that arrives after a feedback reported it missing moves the
 * window back to it, so the next feedback reports it received, and with it
 * again the packets after it. libwebrtc's RemoteEstimatorProxy does the
 * same, and Chromium's sender expects it: its TransportFeedbackAdapter keeps
 * a packet reported lost in its history precisely because a later feedback
 * may report it received, and it ignores the packets reported received a
 * second time (they left its history the first time). Without this, a
 * reordered packet would stay lost for the loss-based estimator. A
 * duplicate does not move the window: its first arrival was reported.
 */
void mr_twcc_rx_on_packet(struct mr_twcc_rx *t, uint16_t tseq, int64_t arrival_us)
{
    if (!t)
        return;
    if (arrival_us == MR_TWCC_NONE)
        arrival_us++; /* the sentinel is not a time */
    int64_t seq = unwrap(t, tseq);
    if (!t->started) {
        t->started = true;
        restart(t, seq);
    } else if (seq > t->max_seq) {
        advance(t, seq);
    } else if (seq <= t->max_seq - MR_TWCC_RING) {
        /* Older than the ring: a straggler, or a sender that restarted its
         * sequence below ours. Two in a row tell the second (RFC 3550 A.1
         * resynchronises RTP sequence numbers the same way). */
        if (!t->stale_pending || tseq != t->stale_next) {
            t->stale_pending = true;
            t->stale_next = (uint16_t)(tseq + 1);
            return;
        }
        restart(t, seq);
    }
    t->stale_pending = false;

    int64_t *s = slot(t, seq);
    if (*s != MR_TWCC_NONE)
        return;
    *s = arrival_us;
    if (seq < t->next_seq)
        t->next_seq = seq;
}

/*
 * The open chunk of a feedback being written, as libwebrtc's
 * TransportFeedback::LastChunk chooses chunks: symbols are added while one
 * chunk can still hold them all (7 of any kind, 14 without a large delta,
 * up to 8191 of the same symbol); when the next one does not fit, the chunk
 * is emitted: as a run if all its symbols are equal, a one-bit vector if it
 * is full, otherwise a two-bit vector of its first 7, the rest staying
 * open. Writing the same chunks as Chromium's own receiver keeps our
 * packets within what its parser has always been fed.
 */
struct chunk_enc {
    uint8_t sym[ONE_BIT_CAP]; /* the first ones; a long run needs only sym[0] */
    unsigned size;
    bool all_same;
    bool has_large;
};

static void enc_clear(struct chunk_enc *c)
{
    c->size = 0;
    c->all_same = true;
    c->has_large = false;
}

static bool enc_can_add(const struct chunk_enc *c, uint8_t sym)
{
    if (c->size < TWO_BIT_CAP)
        return true;
    if (c->size < ONE_BIT_CAP && !c->has_large && sym != MR_TWCC_LARGE_DELTA)
        return true;
    return c->size < MAX_RUN && c->all_same && c->sym[0] == sym;
}

static void enc_add(struct chunk_enc *c, uint8_t sym)
{
    if (c->size < ONE_BIT_CAP)
        c->sym[c->size] = sym;
    c->size++;
    c->all_same = c->all_same && sym == c->sym[0];
    c->has_large = c->has_large || sym == MR_TWCC_LARGE_DELTA;
}

static uint16_t enc_run(const struct chunk_enc *c)
{
    return (uint16_t)(c->sym[0] << 13 | c->size);
}

static uint16_t enc_one_bit(const struct chunk_enc *c)
{
    uint16_t v = 0x8000;
    for (unsigned i = 0; i < c->size; i++)
        v |= (uint16_t)(c->sym[i] << (ONE_BIT_CAP - 1 - i));
    return v;
}

static uint16_t enc_two_bit(const struct chunk_enc *c, unsigned n)
{
    uint16_t v = 0xc000;
    for (unsigned i = 0; i < n; i++)
        v |= (uint16_t)(c->sym[i] << 2 * (TWO_BIT_CAP - 1 - i));
    return v;
}

/* Emits the chunk when the next symbol does not fit (enc_can_add false). */
static uint16_t enc_emit(struct chunk_enc *c)
{
    uint16_t v;
    if (c->all_same) {
        v = enc_run(c);
        enc_clear(c);
        return v;
    }
    if (c->size == ONE_BIT_CAP) {
        v = enc_one_bit(c);
        enc_clear(c);
        return v;
    }
    /* Mixed, with a large delta: 7 go out, up to 6 stay open. */
    v = enc_two_bit(c, TWO_BIT_CAP);
    unsigned rest = c->size - TWO_BIT_CAP;
    uint8_t tail[TWO_BIT_CAP];
    for (unsigned i = 0; i < rest; i++)
        tail[i] = c->sym[TWO_BIT_CAP + i];
    enc_clear(c);
    for (unsigned i = 0; i < rest; i++)
        enc_add(c, tail[i]);
    return v;
}

/* The open chunk as the packet's last one: any size fits one chunk. */
static uint16_t enc_last(const struct chunk_enc *c)
{
    if (c->all_same)
        return enc_run(c);
    if (c->size <= TWO_BIT_CAP)
        return enc_two_bit(c, c->size);
    return enc_one_bit(c);
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/*
 * A feedback being measured (chunk_out NULL) or written. Times are kept
 * relative to the first received packet of the window so that no sum can
 * overflow whatever clock values the caller passes.
 */
struct fb_build {
    struct chunk_enc enc;
    size_t len;        /* bytes so far, the open chunk counted, no padding */
    unsigned n;        /* statuses so far */
    unsigned n_chunks; /* chunks emitted so far */
    int64_t first_us;  /* arrival of the first received packet */
    int64_t clock_rel; /* reference time + deltas so far - first_us */
    uint8_t *chunk_out;
    uint8_t *delta_out;
};

static void build_init(struct fb_build *b, int64_t first_us, uint8_t *chunk_out, uint8_t *delta_out)
{
    enc_clear(&b->enc);
    b->len = MR_TWCC_HEADER_LEN;
    b->n = 0;
    b->n_chunks = 0;
    b->first_us = first_us;
    /* The reference time is first_us rounded down to 64 ms. */
    int64_t rem = first_us % MR_TWCC_REF_TICK_US;
    b->clock_rel = -(rem < 0 ? rem + MR_TWCC_REF_TICK_US : rem);
    b->chunk_out = chunk_out;
    b->delta_out = delta_out;
}

static bool sub_ok(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a < INT64_MIN + b) || (b < 0 && a > INT64_MAX + b))
        return false;
    *out = a - b;
    return true;
}

/*
 * The delta of a packet that arrived at arrival_us, in 250 us ticks,
 * rounded to the nearest (half away from zero), from the time the deltas
 * so far add up to rather than the previous arrival: the rounding errors
 * then do not accumulate, as in libwebrtc. False when 16 signed bits cannot
 * carry it.
 */
static bool delta_ticks(const struct fb_build *b, int64_t arrival_us, int16_t *ticks)
{
    int64_t rel, d;
    if (!sub_ok(arrival_us, b->first_us, &rel) || !sub_ok(rel, b->clock_rel, &d))
        return false;
    const int64_t half = MR_TWCC_DELTA_TICK_US / 2;
    if (d > (int64_t)INT16_MAX * MR_TWCC_DELTA_TICK_US + half ||
        d < (int64_t)INT16_MIN * MR_TWCC_DELTA_TICK_US - half)
        return false;
    int64_t q = (d >= 0 ? d + half : d - half) / MR_TWCC_DELTA_TICK_US;
    if (q > INT16_MAX || q < INT16_MIN)
        return false;
    *ticks = (int16_t)q;
    return true;
}

static void put_chunk(struct fb_build *b, uint16_t v)
{
    b->n_chunks++;
    if (b->chunk_out) {
        mr_wr16(b->chunk_out, v);
        b->chunk_out += CHUNK_LEN;
    }
}

/*
 * Adds the status of one sequence number (arrival_us, or MR_TWCC_NONE) if
 * the packet, padded, still fits cap. The symbol's value is also its
 * delta's size in bytes (0, 1, 2).
 */
static bool build_add(struct fb_build *b, int64_t arrival_us, size_t cap)
{
    uint8_t sym = MR_TWCC_NOT_RECEIVED;
    int16_t ticks = 0;
    if (arrival_us != MR_TWCC_NONE) {
        if (!delta_ticks(b, arrival_us, &ticks))
            return false;
        sym = ticks >= 0 && ticks <= UINT8_MAX ? MR_TWCC_SMALL_DELTA : MR_TWCC_LARGE_DELTA;
    }
    bool emit = b->enc.size > 0 && !enc_can_add(&b->enc, sym);
    /* A new open chunk, or the emitted one (the open one stays counted). */
    size_t len = b->len + (b->enc.size == 0 || emit ? CHUNK_LEN : 0) + sym;
    if (b->n >= MR_TWCC_RING || pad4(len) > cap)
        return false;

    if (emit)
        put_chunk(b, enc_emit(&b->enc));
    enc_add(&b->enc, sym);
    if (b->delta_out && sym == MR_TWCC_SMALL_DELTA) {
        *b->delta_out++ = (uint8_t)ticks;
    } else if (b->delta_out && sym == MR_TWCC_LARGE_DELTA) {
        mr_wr16(b->delta_out, (uint16_t)ticks);
        b->delta_out += 2;
    }
    b->clock_rel += (int64_t)ticks * MR_TWCC_DELTA_TICK_US;
    b->len = len;
    b->n++;
    return true;
}

/* The first sequence number to report: the first one not reported yet,
 * unless it has left the ring (too long without feedback). */
static int64_t window_start(const struct mr_twcc_rx *t)
{
    int64_t oldest = t->max_seq - MR_TWCC_RING + 1;
    return t->next_seq > oldest ? t->next_seq : oldest;
}

/* Arrival of the first received packet from lo on; max_seq always is one. */
static int64_t first_arrival(struct mr_twcc_rx *t, int64_t lo)
{
    for (int64_t s = lo; s < t->max_seq; s++) {
        if (*slot(t, s) != MR_TWCC_NONE)
            return *slot(t, s);
    }
    return *slot(t, t->max_seq);
}

/* Header, SSRCs and fixed FCI fields, then the padding, for a packet of
 * body bytes padded to len. */
static void write_frame(uint8_t *out, size_t body, size_t len, const uint32_t ssrc[2],
                        uint16_t base, uint16_t count, int64_t first_us, uint8_t fb_count)
{
    int64_t ref = first_us / MR_TWCC_REF_TICK_US;
    if (first_us % MR_TWCC_REF_TICK_US < 0)
        ref--;
    uint32_t ref24 = (uint32_t)((uint64_t)ref & 0xffffff);
    bool padded = len > body;

    out[0] = (uint8_t)(0x80 | (padded ? RTCP_PADDING_BIT : 0) | MR_RTCP_RTPFB_TWCC);
    out[1] = MR_RTCP_RTPFB;
    mr_wr16(out + 2, (uint16_t)(len / 4 - 1));
    mr_wr32(out + 4, ssrc[0]);
    mr_wr32(out + 8, ssrc[1]);
    mr_wr16(out + 12, base);
    mr_wr16(out + 14, count);
    mr_wr32(out + 16, ref24 << 8 | fb_count);
    for (size_t i = body; i < len; i++)
        out[i] = 0;
    if (padded)
        out[len - 1] = (uint8_t)(len - body);
}

int mr_twcc_rx_write_feedback(struct mr_twcc_rx *t, uint32_t sender_ssrc, uint32_t media_ssrc,
                              int64_t now_us, uint8_t *out, size_t cap)
{
    if (!t || !out)
        return MR_EINVAL;
    if (!t->started)
        return 0;
    int64_t lo = window_start(t);
    if (lo > t->max_seq)
        return 0;
    int64_t first_us = first_arrival(t, lo);

    /* Measure how many statuses fit, then write them: the deltas follow
     * the chunks, whose number is known only at the end. */
    struct fb_build b;
    build_init(&b, first_us, NULL, NULL);
    for (int64_t s = lo; s <= t->max_seq && build_add(&b, *slot(t, s), cap); s++)
        ;
    unsigned n = b.n;
    if (n == 0)
        return MR_ENOSPC;
    size_t n_chunks = b.n_chunks + (b.enc.size > 0 ? 1 : 0);
    size_t body = b.len;
    size_t len = pad4(body);

    uint8_t *chunks = out + MR_TWCC_HEADER_LEN;
    build_init(&b, first_us, chunks, chunks + n_chunks * CHUNK_LEN);
    for (unsigned i = 0; i < n; i++)
        (void)build_add(&b, *slot(t, lo + i), cap); /* as measured: fits */
    if (b.enc.size > 0)
        put_chunk(&b, enc_last(&b.enc));
    const uint32_t ssrc[2] = {sender_ssrc, media_ssrc};
    write_frame(out, body, len, ssrc, (uint16_t)lo, (uint16_t)n, first_us, t->fb_count);

    t->next_seq = lo + n;
    t->fb_count++;
    return (int)len;
}
