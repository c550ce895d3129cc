/*
 * Self-test of the test peer's loss repair, without the relay: a publisher
 * (offerer) sends video straight to a subscriber (answerer) over loopback,
 * dropping 10 % of its packets on the way (cfg.send_loss_pct); the test
 * plays the relay's part and NACKs (RFC 4585 §6.2.1) from the subscriber's
 * side:
 *
 *  - packets older than the publisher's history (MR_TEST_PEER_HISTORY)
 *    bring nothing back, and are counted as missed;
 *  - packets in it come back, as RTX (RFC 4588: the publisher's RTX SSRC
 *    and payload type, a sequence of their own, the original sequence
 *    number in front of the original payload) when the answer kept the RTX
 *    format, else unchanged on the media SSRC; NACKed again while missing
 *    (resends are dropped too), every one arrives;
 *  - the subscriber unwraps the RTX and its loss counter ends with only
 *    what was never asked for.
 *
 * The subscriber's rtp_tap sees every packet as decrypted, so each one is
 * checked against the probe it carries: the publisher numbers its video
 * packets and probes in step (sequence = base + probe counter).
 *
 * Also the publisher's answer to an XR Receiver Reference Time (the DLRR
 * the relay reads for its NACK timing), with the relay's own parser; and a
 * subscriber that NACKs what it misses itself (cfg.nack).
 */
#include <stdlib.h>

#include "core/bytes.h"
#include "core/error.h"
#include "media.h"
#include "mr_test.h"
#include "peer.h"
#include "peer_priv.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"

#define MAX_COUNTERS 4096
#define SENT_BEFORE  1400 /* video packets: more than the history holds */
#define NACK_PER_PKT 64
#define OLD_NACKED   10

struct tap {
    uint32_t ssrc, rtx_ssrc; /* the publisher's video and RTX SSRCs */
    uint8_t pt, rtx_pt;
    bool have_base;
    uint16_t base;  /* sequence number - probe counter */
    bool repairing; /* media stopped: what comes now is resent */
    bool have_rtx_seq;
    uint16_t rtx_seq;
    unsigned rtx, resent, bad;            /* RTX packets, resends seen, malformed or misnumbered */
    unsigned char seen[MAX_COUNTERS];     /* per probe counter: arrivals */
    unsigned char came_rtx[MAX_COUNTERS]; /* ... of which as RTX */
};

static bool probe_counter(const uint8_t *payload, size_t len, uint32_t *c)
{
    struct mr_test_probe probe;
    if (mr_test_probe_read(payload, len, &probe) < 0 || probe.counter >= MAX_COUNTERS)
        return false;
    *c = probe.counter;
    return true;
}

/* An RTX packet: the right payload type, RTX sequence numbers of its own
 * going up (by more than one where a resend was dropped), and an original
 * sequence number that is the probe's. */
static void tap_rtx(struct tap *t, const uint8_t *pkt, const struct mr_rtp_header *h)
{
    const uint8_t *payload = pkt + h->header_len;
    uint16_t step = (uint16_t)(h->seq - t->rtx_seq);
    uint32_t c;
    t->rtx++;
    bool in_step = !t->have_rtx_seq || (step >= 1 && step < 64);
    t->have_rtx_seq = true;
    t->rtx_seq = h->seq;
    if (h->payload_type != t->rtx_pt || h->payload_len < 2 || !in_step ||
        !probe_counter(payload + 2, h->payload_len - 2u, &c) ||
        mr_rd16(payload) != (uint16_t)(t->base + c)) {
        t->bad++;
        return;
    }
    t->seen[c]++;
    t->came_rtx[c]++;
    t->resent++;
}

static void on_tap(void *arg, const uint8_t *pkt, size_t len)
{
    struct tap *t = arg;
    struct mr_rtp_header h;
    uint32_t c;
    if (mr_rtp_parse(pkt, len, &h) < 0 || (h.ssrc != t->ssrc && h.ssrc != t->rtx_ssrc))
        return;
    if (t->rtx_ssrc && h.ssrc == t->rtx_ssrc) {
        tap_rtx(t, pkt, &h);
        return;
    }
    if (h.payload_type != t->pt || !probe_counter(pkt + h.header_len, h.payload_len, &c)) {
        t->bad++;
        return;
    }
    if (!t->have_base) {
        t->have_base = true;
        t->base = (uint16_t)(h.seq - c);
    }
    if (h.seq != (uint16_t)(t->base + c))
        t->bad++;
    t->seen[c]++;
    t->resent += t->repairing;
}

/* An RR and a NACK for seqs, from the subscriber, as the relay sends them. */
static void send_nack(struct mr_test_peer *sub, uint32_t media, const uint16_t *seqs, unsigned n)
{
    uint8_t buf[1200];
    struct mr_rtcp_rr rr = {.ssrc = 0x5eed};
    int a = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    int b =
        a < 0 ? a : mr_rtcp_write_nack(buf + a, sizeof(buf) - (size_t)a, 0x5eed, media, seqs, n);
    CHECK(a > 0 && b > 0);
    if (b > 0)
        CHECK_INT(mr_test_peer_send_raw(sub, true, buf, (size_t)(a + b)), 0);
}

static const struct mr_test_track_stats *video(const struct mr_test_peer_stats *s)
{
    for (unsigned i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].kind == MR_MEDIA_VIDEO)
            return &s->tracks[i];
    return &s->tracks[0];
}

static bool sent_enough(void *arg)
{
    struct mr_test_peer_stats s;
    mr_test_peer_stats(arg, &s);
    return video(&s)->sent_packets >= SENT_BEFORE;
}

/* NACKs what is missing of counters [from, to) until it all came (at most
 * ten rounds: resends are dropped too); returns how many were missing. */
static unsigned repair(GMainContext *ctx, struct mr_test_peer *sub, struct tap *t, uint32_t from,
                       uint32_t to)
{
    unsigned first = 0;
    for (int round = 0; round < 10; round++) {
        uint16_t seqs[NACK_PER_PKT];
        unsigned n = 0, missing = 0;
        for (uint32_t c = from; c < to; c++) {
            if (t->seen[c])
                continue;
            missing++;
            seqs[n++] = (uint16_t)(t->base + c);
            if (n == NACK_PER_PKT) {
                send_nack(sub, t->ssrc, seqs, n);
                n = 0;
            }
        }
        if (n)
            send_nack(sub, t->ssrc, seqs, n);
        first = round == 0 ? missing : first;
        if (missing == 0)
            break;
        mr_test_loop_until(ctx, NULL, NULL, 100);
    }
    return first;
}

/* Connects a publisher dropping 10 % to a subscriber that taps its RTP
 * (and NACKs what it misses itself when nack). */
static void connect_pair(GMainContext *ctx, bool rtx, bool nack, struct tap *t,
                         struct mr_test_peer *p[2])
{
    struct mr_test_peer_config pc = {.ctx = ctx,
                                     .role = MR_TEST_PUBLISHER,
                                     .name = "pub",
                                     .no_audio = true,
                                     .video_kbps = 8000,
                                     .no_rtx = !rtx,
                                     .send_loss_pct = 10,
                                     .manual_start = true};
    struct mr_test_peer_config sc = {.ctx = ctx,
                                     .role = MR_TEST_SUBSCRIBER,
                                     .name = "sub",
                                     .nack = nack,
                                     .rtp_tap = on_tap,
                                     .rtp_tap_arg = t};
    char *offer = NULL, *answer = NULL;
    size_t olen = 0, alen = 0;
    char err[160] = "";
    CHECK_INT(mr_test_peer_new(&pc, &p[0]), 0);
    CHECK_INT(mr_test_peer_new(&sc, &p[1]), 0);
    CHECK_INT(mr_test_peer_create_offer(p[0], &offer, &olen), 0);
    CHECK_INT(mr_test_peer_answer(p[1], offer, olen, &answer, &alen, err, sizeof(err)), 0);
    CHECK_INT(mr_test_peer_apply_answer(p[0], answer, alen, err, sizeof(err)), 0);
    if (err[0])
        fprintf(stderr, "%s\n", err);
    CHECK(rtx == (strstr(offer, "a=ssrc-group:FID") != NULL));
    CHECK(rtx == (strstr(answer, "rtx/90000") != NULL));
    CHECK(mr_test_peer_wait_secure(p[0], 10000));
    CHECK(mr_test_peer_wait_secure(p[1], 10000));
    struct mr_test_peer_stats ps;
    mr_test_peer_stats(p[0], &ps);
    const struct mr_test_track_stats *v = video(&ps);
    CHECK_INT(v->rtx_pt, rtx ? 97 : 0);
    t->ssrc = v->ssrc;
    t->rtx_ssrc = v->rtx_pt ? v->rtx_ssrc : 0;
    t->pt = v->pt;
    t->rtx_pt = v->rtx_pt;
    free(offer);
    free(answer);
}

static void direct_repair(bool rtx)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p[2] = {NULL, NULL};
    struct tap *t = calloc(1, sizeof(*t));
    connect_pair(ctx, rtx, false, t, p);
    mr_test_peer_start_media(p[0]);
    CHECK(mr_test_loop_until(ctx, sent_enough, p[0], 10000));
    mr_test_peer_stop_media(p[0]);
    mr_test_loop_until(ctx, NULL, NULL, 300);
    struct mr_test_peer_stats ps, ss;
    mr_test_peer_stats(p[0], &ps);
    uint32_t n = (uint32_t)video(&ps)->sent_packets, first = 0, old_missing = 0;
    CHECK(t->have_base && n < MAX_COUNTERS && ps.send_dropped > 0);
    if (!t->have_base || n >= MAX_COUNTERS)
        goto out;
    while (!t->seen[first])
        first++;
    for (uint32_t c = first; c < n - MR_TEST_PEER_HISTORY; c++)
        old_missing += !t->seen[c];
    t->repairing = true;

    /* Out of the history: nothing comes back. */
    uint16_t old[OLD_NACKED];
    for (unsigned i = 0; i < OLD_NACKED; i++)
        old[i] = (uint16_t)(t->base + i);
    send_nack(p[1], t->ssrc, old, OLD_NACKED);
    mr_test_loop_until(ctx, NULL, NULL, 300);
    mr_test_peer_stats(p[0], &ps);
    CHECK_INT(ps.nacks_received, 1);
    CHECK_INT(ps.nacked_packets, OLD_NACKED);
    CHECK_INT(ps.resend_missed, OLD_NACKED);
    CHECK_INT(ps.resent_packets, 0);
    CHECK_INT(t->resent + t->rtx, 0);

    /* In the history: all of it comes back, as RTX when negotiated. */
    unsigned missing = repair(ctx, p[1], t, n - MR_TEST_PEER_HISTORY, n);
    CHECK(missing > 20); /* about 10 % of 1024 */
    unsigned got = 0, as_rtx = 0;
    for (uint32_t c = n - MR_TEST_PEER_HISTORY; c < n; c++) {
        got += t->seen[c] > 0;
        as_rtx += t->came_rtx[c] > 0;
    }
    CHECK_INT(got, MR_TEST_PEER_HISTORY);
    CHECK_INT(as_rtx, rtx ? missing : 0);
    CHECK_INT(t->bad, 0);
    CHECK(t->resent >= missing);
    mr_test_peer_stats(p[0], &ps);
    mr_test_peer_stats(p[1], &ss);
    printf("# %s: %u of %u video packets dropped; %u recovered with %llu resends in %llu NACKs; "
           "%u older than the history\n",
           rtx ? "rtx" : "plain", missing + old_missing, n, missing,
           (unsigned long long)ps.resent_packets, (unsigned long long)ps.nacks_received,
           old_missing);
    CHECK(ps.nacks_received >= 2 && ps.resent_packets >= missing);
    CHECK_INT(ps.resend_missed, OLD_NACKED);
    const struct mr_test_track_stats *sv = video(&ss);
    CHECK_INT(sv->rtx_packets, rtx ? t->rtx : 0);
    CHECK_INT(sv->lost, old_missing);
    CHECK_INT(sv->pt_mismatch + sv->duplicates + sv->probe_missing, 0);
    CHECK_INT(ss.transport.srtp_errors, 0);
    CHECK_INT(ss.rtp_unmatched, 0);
out:
    free(t);
    mr_test_peer_free(p[0]);
    mr_test_peer_free(p[1]);
    g_main_context_unref(ctx);
}

/* A subscriber that NACKs itself (cfg.nack, as a browser): each gap once,
 * when the packet after it arrives; the publisher resends every packet
 * named (RTX), and what stays lost is what no NACK could bring back:
 * resends dropped too, and drops at the very end (no packet after them). */
static void test_subscriber_nacks(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p[2] = {NULL, NULL};
    struct tap *t = calloc(1, sizeof(*t));
    connect_pair(ctx, true, true, t, p);
    mr_test_peer_start_media(p[0]);
    CHECK(mr_test_loop_until(ctx, sent_enough, p[0], 10000));
    mr_test_peer_stop_media(p[0]);
    mr_test_loop_until(ctx, NULL, NULL, 300);
    struct mr_test_peer_stats ps, ss;
    mr_test_peer_stats(p[0], &ps);
    mr_test_peer_stats(p[1], &ss);
    const struct mr_test_track_stats *sv = video(&ss);
    printf("# subscriber NACKs: %llu dropped of %llu sent (resends included); %llu NACKs named "
           "%llu, %llu resent, %llu came as RTX; %llu lost\n",
           (unsigned long long)ps.send_dropped, (unsigned long long)video(&ps)->sent_packets,
           (unsigned long long)ss.nacks_sent, (unsigned long long)ss.nack_packets_sent,
           (unsigned long long)ps.resent_packets, (unsigned long long)sv->rtx_packets,
           (unsigned long long)sv->lost);
    CHECK(ps.send_dropped > 20 && ss.nacks_sent >= 10);
    CHECK_INT(ps.nacks_received, ss.nacks_sent);
    CHECK_INT(ps.nacked_packets, ss.nack_packets_sent);
    CHECK_INT(ps.resent_packets, ps.nacked_packets);
    CHECK_INT(ps.resend_missed, 0);
    CHECK(sv->rtx_packets > 0 && sv->rtx_packets <= ps.resent_packets);
    /* Lost: the resends that did not arrive, and drops after the last
     * packet. (Not send_dropped - nack_packets_sent: a key frame's burst
     * at 8 Mbit/s overflows the subscriber's socket buffer now and then,
     * and those packets are NACKed too.) */
    uint64_t unanswered = ss.nack_packets_sent - sv->rtx_packets;
    CHECK(sv->lost >= unanswered && sv->lost <= unanswered + 5);
    CHECK_INT(sv->duplicates + sv->pt_mismatch + sv->probe_missing, 0);
    CHECK_INT(t->bad, 0);
    CHECK_INT(ss.transport.srtp_errors + ss.rtp_unmatched, 0);
    free(t);
    mr_test_peer_free(p[0]);
    mr_test_peer_free(p[1]);
    g_main_context_unref(ctx);
}

static void test_dlrr(void)
{
    GMainContext *ctx = g_main_context_new();
    struct mr_test_peer *p = NULL;
    struct mr_test_peer_config cfg = {.ctx = ctx, .role = MR_TEST_PUBLISHER};
    CHECK_INT(mr_test_peer_new(&cfg, &p), 0);
    uint8_t buf[64];
    CHECK_INT(mr_tp_write_dlrr(p, 7, buf, sizeof(buf), 1000), 0); /* nothing to answer */
    const uint64_t ntp = 0x0123456789abcdefull;
    int n = mr_rtcp_write_xr_rrtr(buf, sizeof(buf), 0xfeed, ntp);
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt pkt;
    mr_rtcp_iter_init(&it, buf, (size_t)n);
    CHECK_INT(mr_rtcp_next(&it, &pkt), 1);
    mr_tp_on_xr(p, &pkt, 1000000);
    CHECK_INT(mr_tp_write_dlrr(p, 7, buf, 20, 1000000), MR_ENOSPC);
    n = mr_tp_write_dlrr(p, 7, buf, sizeof(buf), 1000000 + 500000);
    CHECK_INT(n, 24);
    mr_rtcp_iter_init(&it, buf, (size_t)(n > 0 ? n : 0));
    uint32_t lrr = 0, dlrr = 0;
    CHECK_INT(mr_rtcp_next(&it, &pkt), 1);
    CHECK_INT(mr_rtcp_xr_find_dlrr(&pkt, 0xfeed, &lrr, &dlrr), 1);
    CHECK_INT(lrr, 0x456789ab);
    CHECK_INT(dlrr, 32768); /* 0.5 s in 1/65536 s */
    CHECK_INT(mr_rtcp_xr_find_dlrr(&pkt, 0xbeef, &lrr, &dlrr), 0);
    CHECK_INT(mr_tp_write_dlrr(p, 7, buf, sizeof(buf), 2000000), 0); /* answered once */
    mr_test_peer_free(p);
    g_main_context_unref(ctx);
}

static void test_repair_rtx(void)
{
    direct_repair(true);
}

static void test_repair_plain(void)
{
    direct_repair(false);
}

MR_TEST_MAIN(MR_TEST(test_dlrr), MR_TEST(test_repair_rtx), MR_TEST(test_repair_plain),
             MR_TEST(test_subscriber_nacks))
