/*
 * Fuzz target for loss repair's pure functions: the generic NACK and XR
 * DLRR of relay/rtcp/rtcp_repair.c, RTX of relay/rtp/rtx.c and the
 * missing-packet list of relay/sfu/nack.c. Each input is read three ways;
 * abort() marks a broken property.
 *
 *  (a) A compound RTCP packet: every packet is parsed as feedback, its NACK
 *      entries walked (each written back must give the same 4 bytes), and
 *      searched for DLRR sub-blocks; then the input, as 16-bit words, is a
 *      list of sequence numbers for the NACK writer, whose output must
 *      parse back to the same numbers.
 *  (b) An RTP packet: parsed, and when its payload holds an OSN, unwrapped
 *      as a retransmission in place; the result must parse with the OSN as
 *      its sequence number and everything else unchanged, and wrapping it
 *      back (into another buffer, then in place) must give the input again,
 *      without its padding.
 *  (c) Events for a missing-packet list, 4 bytes each:
 *        op, v (16 bits), dt (time step: low 6 bits << (top 2 bits * 4) µs)
 *      op % 8: 0-1 the next packet after a gap of v % 8, 2 a late packet
 *      (v % 64 before the highest), 3 a packet with sequence number v,
 *      4 the packet of entry v % n (a retransmission), 5 a key frame,
 *      6 mr_nack_due with an rtt and max from v, 7 v >> 8 packets in
 *      order. Like the relay's timer (repair.c), mr_nack_due also runs once
 *      5 ms have passed since the last call. The stream stays within what
 *      16-bit sequence numbers can describe: time moves 50 µs per sequence
 *      number the highest advances (20,000 packets a second at most), so no
 *      entry outlives half the sequence space. After every event the list is
 *      checked: at most MR_NACK_MAX entries, strictly increasing in wrap
 *      order and all before the highest; what each call returned, given up
 *      and changed adds up.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp/rtcp.h"
#include "rtp/rtp.h"
#include "sfu/nack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int16_t seq_diff(uint16_t a, uint16_t b)
{
    return (int16_t)(uint16_t)(a - b);
}

/* --- (a) RTCP -------------------------------------------------------------- */

static void nack_entries(const struct mr_rtcp_fb *fb)
{
    int n = mr_rtcp_nack_count(fb);
    if (fb->type != MR_RTCP_RTPFB || fb->fmt != MR_RTCP_RTPFB_NACK) {
        check(n == -1 /* MR_EINVAL */);
        return;
    }
    if (fb->fci_len % 4 != 0) {
        /* Padding of a length that is not whole words. */
        check(n == -3 /* MR_EPARSE */);
        return;
    }
    check(n >= 0 && (size_t)n == fb->fci_len / 4);
    uint16_t seqs[17];
    for (int i = 0; i < n; i++) {
        const uint8_t *e = fb->fci + 4 * (size_t)i;
        unsigned k = mr_rtcp_nack_entry(fb, (unsigned)i, seqs);
        check(k >= 1 && k <= 17 && seqs[0] == rd16(e));
        for (unsigned j = 1; j < k; j++) {
            uint16_t off = (uint16_t)(seqs[j] - seqs[0]);
            check(off >= 1 && off <= 16 && (rd16(e + 2) >> (off - 1) & 1));
            check(seq_diff(seqs[j], seqs[j - 1]) > 0);
        }
        /* Written back, the entry's numbers make the same entry. */
        uint8_t out[16];
        check(mr_rtcp_write_nack(out, sizeof(out), fb->sender_ssrc, fb->media_ssrc, seqs, k) == 16);
        check(memcmp(out + 12, e, 4) == 0);
    }
    check(mr_rtcp_nack_entry(fb, (unsigned)n, seqs) == 0);
    check(mr_rtcp_nack_entry(fb, UINT_MAX, seqs) == 0);
}

/* Looks for ssrc in an XR packet; a hit must be three words of it. */
static void find_dlrr(const struct mr_rtcp_pkt *p, uint32_t ssrc, uint64_t now)
{
    uint32_t lrr = 0, dlrr = 0;
    int rc = mr_rtcp_xr_find_dlrr(p, ssrc, &lrr, &dlrr);
    if (p->type != MR_RTCP_XR) {
        check(rc == -1 /* MR_EINVAL */);
        return;
    }
    check(rc == 0 || rc == 1 || rc == -3 /* MR_EPARSE */);
    if (rc != 1)
        return;
    int found = 0;
    for (size_t off = 12; off + 12 <= p->len && !found; off += 4)
        found = rd32(p->data + off) == ssrc && rd32(p->data + off + 4) == lrr &&
                rd32(p->data + off + 8) == dlrr;
    check(found);
    int64_t rtt = mr_rtcp_rtt_us(now, lrr, dlrr);
    check(lrr == 0 ? rtt == -1 : rtt >= 0 && rtt <= (int64_t)(((uint64_t)1 << 31) * 1000000 >> 16));
}

static void rtcp_compound(const uint8_t *data, size_t size)
{
    uint64_t now = size >= 8 ? (uint64_t)rd32(data) << 32 | rd32(data + 4) : 0;
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    int rc;
    mr_rtcp_iter_init(&it, data, size);
    while ((rc = mr_rtcp_next(&it, &p)) == 1) {
        struct mr_rtcp_fb fb;
        if (mr_rtcp_parse_fb(&p, &fb) == 0)
            nack_entries(&fb);
        if (p.len >= 8)
            find_dlrr(&p, rd32(p.data + 4), now);
        /* Every word of the packet's first 64 bytes as a receiver. */
        for (size_t off = 8; off + 4 <= p.len && off < 64; off += 4)
            find_dlrr(&p, rd32(p.data + off), now);
        if (p.type == MR_RTCP_XR) {
            /* Whatever the padding says, only the bytes before it count. */
            struct mr_rtcp_pkt q = p;
            q.padding = !p.padding;
            find_dlrr(&q, 0, now);
        }
    }
    check(rc <= 0);
}

/* True when seq is one of seqs[0..n). */
static int has(const uint16_t *seqs, unsigned n, uint16_t seq)
{
    for (unsigned i = 0; i < n; i++)
        if (seqs[i] == seq)
            return 1;
    return 0;
}

/* The input as a list of sequence numbers: as they are (any order,
 * duplicates), and made ascending from its bytes as steps. */
static void nack_writer(const uint8_t *data, size_t size)
{
    static uint16_t seqs[128], back[128 * 17];
    static uint8_t out[12 + 4 * 128 + 16];
    if (size < 3)
        return;
    unsigned n = 0;
    for (size_t i = 2; i + 2 <= size && n < 128; i += 2)
        seqs[n++] = rd16(data + i);
    size_t cap = data[0] & 1 ? sizeof(out) - 16 : data[1];

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            /* Ascending: steps of 1 + a byte, from the first word. */
            uint16_t s = rd16(data);
            n = 0;
            for (size_t i = 2; i < size && n < 128; i++) {
                s = (uint16_t)(s + 1 + data[i] % 40);
                seqs[n++] = s;
            }
        }
        memset(out, 0xee, sizeof(out));
        int len = mr_rtcp_write_nack(out, cap, 7, 9, seqs, n);
        if (len < 0) {
            check(len == -5 /* MR_ENOSPC */ || n == 0);
            check(out[0] == 0xee);
            continue;
        }
        check((size_t)len <= cap && out[len] == 0xee);
        struct mr_rtcp_iter it;
        struct mr_rtcp_pkt p;
        struct mr_rtcp_fb fb;
        mr_rtcp_iter_init(&it, out, (size_t)len);
        check(mr_rtcp_next(&it, &p) == 1 && mr_rtcp_parse_fb(&p, &fb) == 0);
        check(fb.sender_ssrc == 7 && fb.media_ssrc == 9);
        int entries = mr_rtcp_nack_count(&fb);
        check(entries >= 1 && (unsigned)entries <= n);
        unsigned m = 0;
        uint16_t prev_pid = 0;
        for (int i = 0; i < entries; i++) {
            unsigned k = mr_rtcp_nack_entry(&fb, (unsigned)i, back + m);
            check(k >= 1);
            /* Ascending input: no PID within reach of the one before. */
            if (pass == 1 && i > 0)
                check((uint16_t)(back[m] - prev_pid) > 16);
            prev_pid = back[m];
            m += k;
        }
        /* The same numbers: all of them, and no others. */
        for (unsigned i = 0; i < n; i++)
            check(has(back, m, seqs[i]));
        for (unsigned i = 0; i < m; i++)
            check(has(seqs, n, back[i]));
        if (pass == 1)
            check(m == n && memcmp(back, seqs, n * sizeof(seqs[0])) == 0);
    }
}

/* The relay's RRTR with input-drawn values reads back as an XR with no
 * DLRR. */
static void rrtr(const uint8_t *data, size_t size)
{
    if (size < 12)
        return;
    uint8_t out[20];
    uint64_t ntp = (uint64_t)rd32(data) << 32 | rd32(data + 4);
    int n = mr_rtcp_write_xr_rrtr(out, sizeof(out), rd32(data + 8), ntp);
    check(n == 20 && rd32(out + 12) == rd32(data) && rd32(out + 16) == rd32(data + 4));
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    uint32_t lrr, dlrr;
    mr_rtcp_iter_init(&it, out, 20);
    check(mr_rtcp_next(&it, &p) == 1 && p.type == MR_RTCP_XR && p.len == 20);
    check(mr_rtcp_xr_find_dlrr(&p, rd32(data + 8), &lrr, &dlrr) == 0);
}

/* --- (b) RTX --------------------------------------------------------------- */

static void rtx(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536 + 16], back[65536 + 16];
    struct mr_rtp_header h, o;
    if (mr_rtp_parse(data, size, &h) != 0)
        return;
    memcpy(buf, data, size);
    uint8_t pt = (uint8_t)((h.payload_type + 1) & 0x7f);
    uint32_t ssrc = ~h.ssrc;
    uint8_t *orig = NULL;
    int n = mr_rtp_rtx_unwrap(buf, size, &h, pt, ssrc, &orig);
    if (h.payload_len < 2) {
        check(n == -4 /* MR_ETRUNC */ && orig == NULL && memcmp(buf, data, size) == 0);
        return;
    }
    check(n >= 0 && (size_t)n == size - 2 && orig == buf + 2);
    check(mr_rtp_parse(orig, (size_t)n, &o) == 0);
    check(o.seq == rd16(data + h.header_len));
    check(o.payload_type == pt && o.ssrc == ssrc && o.marker == h.marker);
    check(o.timestamp == h.timestamp && o.csrc_count == h.csrc_count);
    check(o.extension == h.extension && o.ext_profile == h.ext_profile);
    check(o.ext_offset == h.ext_offset && o.ext_len == h.ext_len);
    check(o.header_len == h.header_len && o.payload_len == h.payload_len - 2);
    check(o.padding == h.padding && o.padding_len == h.padding_len);
    /* CSRCs and extension, then payload and padding, as they were. */
    check(memcmp(orig + 12, data + 12, h.header_len - 12u) == 0);
    check(memcmp(orig + o.header_len, data + h.header_len + 2, (size_t)n - o.header_len) == 0);
    struct mr_rtp_ext_list a, b;
    int ra = mr_rtp_ext_parse(data, &h, &a), rb = mr_rtp_ext_parse(orig, &o, &b);
    check(ra == rb);
    if (ra == 0) {
        check(a.count == b.count);
        for (unsigned i = 0; i < a.count; i++)
            check(a.elems[i].id == b.elems[i].id && a.elems[i].len == b.elems[i].len &&
                  a.elems[i].offset == b.elems[i].offset);
    }

    /* Wrapped back: the input without its padding. */
    size_t want = size - h.padding_len;
    int m = mr_rtp_rtx_wrap(back, sizeof(back), orig, o.header_len, orig + o.header_len,
                            o.payload_len, h.payload_type, h.seq, h.ssrc);
    check(m >= 0 && (size_t)m == want);
    check(back[0] == (data[0] & ~0x20) && memcmp(back + 1, data + 1, want - 1) == 0);
    /* Too small by a byte: nothing. */
    check(mr_rtp_rtx_wrap(back, want - 1, orig, o.header_len, orig + o.header_len, o.payload_len,
                          h.payload_type, h.seq, h.ssrc) == -5 /* MR_ENOSPC */);
    /* In place, in the unwrapped packet's own buffer. */
    m = mr_rtp_rtx_wrap(orig, sizeof(buf) - 2, orig, o.header_len, orig + o.header_len,
                        o.payload_len, h.payload_type, h.seq, h.ssrc);
    check(m >= 0 && (size_t)m == want && memcmp(orig, back, want) == 0);
}

/* --- (c) The missing-packet list ------------------------------------------ */

#define SEQ_STEP_US 50 /* time per sequence number the highest advances */
#define TIMER_US    5000

struct nack_run {
    struct mr_nack_list l;
    int64_t now;
    int64_t last_due;
};

static void check_list(const struct mr_nack_list *l)
{
    check(l->n <= MR_NACK_MAX);
    check(l->started || l->n == 0);
    for (unsigned i = 0; i < l->n; i++) {
        const struct mr_nack_entry *e = &l->entries[i];
        check(seq_diff(l->highest, e->seq) > 0);
        check(e->tries <= MR_NACK_MAX_TRIES);
        if (i > 0)
            check(seq_diff(e->seq, l->entries[i - 1].seq) > 0);
    }
}

static int find_entry(const struct mr_nack_list *l, uint16_t seq)
{
    for (unsigned i = 0; i < l->n; i++)
        if (l->entries[i].seq == seq)
            return (int)i;
    return -1;
}

static void packet(struct nack_run *r, uint16_t seq)
{
    struct mr_nack_list *l = &r->l;
    unsigned n0 = l->n, gave_up = 0;
    bool started = l->started;
    int16_t diff = seq_diff(seq, l->highest);
    int was_missing = find_entry(l, seq) >= 0;
    if (started && diff > 0)
        r->now += (int64_t)diff * SEQ_STEP_US;
    enum mr_nack_seen seen = mr_nack_on_packet(l, seq, r->now, &gave_up);
    if (!started) {
        check(seen == MR_NACK_IN_ORDER && l->n == 0 && gave_up == 0 && l->highest == seq);
    } else if (diff > 0) {
        unsigned gap = (unsigned)diff - 1;
        check(seen == MR_NACK_IN_ORDER && l->highest == seq);
        if (gap > MR_NACK_MAX_GAP) {
            check(l->n == 0 && gave_up == n0);
        } else {
            unsigned want = n0 + gap < MR_NACK_MAX ? n0 + gap : MR_NACK_MAX;
            check(l->n == want && gave_up == n0 + gap - want);
            for (unsigned k = 0; k < gap && k < MR_NACK_MAX; k++) {
                const struct mr_nack_entry *e = &l->entries[l->n - 1 - k];
                check(e->seq == (uint16_t)(seq - 1 - k) && e->tries == 0);
                check(e->missing_since_us == r->now);
            }
        }
    } else if (diff < -MR_NACK_MAX_BACK) {
        /* Far behind: an encoder restarted under the same SSRC. */
        check(seen == MR_NACK_IN_ORDER && l->n == 0 && gave_up == n0 && l->highest == seq);
    } else if (was_missing) {
        check(seen == MR_NACK_FILLED && l->n == n0 - 1 && gave_up == 0);
        check(find_entry(l, seq) < 0);
    } else {
        check(seen == MR_NACK_OLD && l->n == n0 && gave_up == 0);
    }
}

static void due(struct nack_run *r, int64_t rtt, unsigned max)
{
    static uint16_t out[MR_NACK_MAX + 2];
    struct mr_nack_list *l = &r->l;
    unsigned n0 = l->n, gave_up = 0;
    memset(out, 0xee, sizeof(out));
    unsigned k = mr_nack_due(l, r->now, rtt, out, max, &gave_up);
    r->last_due = r->now;
    check(k <= max && k <= l->n && l->n == n0 - gave_up);
    for (unsigned i = k; i < max; i++)
        check(out[i] == 0xeeee);
    for (unsigned i = 0; i < k; i++) {
        int at = find_entry(l, out[i]);
        check(at >= 0 && l->entries[at].asked_us == r->now && l->entries[at].tries >= 1);
        if (i > 0)
            check(seq_diff(out[i], out[i - 1]) > 0);
    }
    for (unsigned i = 0; i < l->n; i++)
        check(r->now - l->entries[i].missing_since_us <= MR_NACK_MAX_AGE_US);
    /* Nothing left due at the same instant, unless max held some back. */
    if (k < max) {
        gave_up = 0;
        check(mr_nack_due(l, r->now, rtt, out, max, &gave_up) == 0 && gave_up == 0);
    }
}

static void keyframe(struct nack_run *r, uint16_t seq)
{
    static struct mr_nack_list before;
    struct mr_nack_list *l = &r->l;
    before = *l;
    mr_nack_keyframe(l, seq);
    unsigned dropped = before.n - l->n;
    check(l->n <= before.n);
    for (unsigned i = 0; i < dropped; i++)
        check(seq_diff(before.entries[i].seq, seq) < 0);
    if (l->n > 0) {
        check(seq_diff(l->entries[0].seq, seq) >= 0);
        check(memcmp(l->entries, before.entries + dropped, l->n * sizeof(l->entries[0])) == 0);
    }
}

static void nack_events(const uint8_t *data, size_t size)
{
    static struct nack_run r;
    memset(&r, 0, sizeof(r));
    mr_nack_init(&r.l);
    for (size_t i = 0; i + 4 <= size; i += 4) {
        const uint8_t *e = data + i;
        uint16_t v = rd16(e + 1);
        struct mr_nack_list *l = &r.l;
        r.now += (int64_t)(e[3] & 0x3f) << ((e[3] >> 6) * 4);
        if (r.now - r.last_due >= TIMER_US)
            due(&r, 30000, 64);
        switch (e[0] % 8) {
        case 0:
        case 1:
            packet(&r, (uint16_t)(l->highest + 1 + v % 8));
            break;
        case 2:
            packet(&r, (uint16_t)(l->highest - v % 64));
            break;
        case 3:
            packet(&r, v);
            break;
        case 4:
            if (l->n)
                packet(&r, l->entries[v % l->n].seq);
            break;
        case 5:
            if (e[1] & 1 && l->n)
                keyframe(&r, l->entries[e[2] % l->n].seq);
            else
                keyframe(&r, (uint16_t)(l->highest - e[2] % 32));
            break;
        case 6:
            due(&r, (int64_t)e[1] * 2000, e[2] % (MR_NACK_MAX + 2));
            break;
        case 7:
            for (unsigned k = 0; k < e[1]; k++)
                packet(&r, (uint16_t)(l->highest + 1));
            break;
        }
        check_list(l);
        check(mr_nack_pending(l) == (l->n > 0));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtcp_compound(data, size);
    nack_writer(data, size);
    rrtr(data, size);
    rtx(data, size);
    nack_events(data, size);
    return 0;
}
