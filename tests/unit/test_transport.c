/*
 * The secure media transport end to end on 127.0.0.1: two transports over
 * real libnice agents on one GMainContext, A as ICE controlling + DTLS
 * client, B as controlled + DTLS server, sharing one DTLS identity. They
 * exchange credentials, fingerprints and candidates as signalling would,
 * reach SECURE, and carry SRTP-protected RTP and RTCP both ways; a wrong
 * fingerprint makes the handshake fail.
 */
#include "transport/transport.h"

#include <ctype.h>
#include <stdbool.h>

#include "core/error.h"
#include "mr_test.h"
#include "rtp/rtp.h"
#include "srtp/srtp.h"
#include "transport/sendq.h"

#define DEADLINE_US (10 * G_USEC_PER_SEC)
#define N_RTP       50
#define PAYLOAD_LEN 120
#define PKT_MAX     (12 + PAYLOAD_LEN)

struct peer {
    const char *name;
    struct mr_transport *t;
    bool gathered;
    bool was_secure;
    enum mr_transport_state state; /* as reported through the callback */
    unsigned state_calls;
    const char *why;
    unsigned rtp_rx, rtcp_rx;
    unsigned rtp_bad; /* received but not byte-identical to what was sent */
    unsigned rtp_misordered; /* index not one past the previous one's */
    unsigned next_index;
    unsigned want_rtp; /* what has_rtp waits for */
    uint8_t rtcp_last[64];
    size_t rtcp_last_len;
    bool freed;
    unsigned calls_after_free;
    /* What the other side sent, to compare against. */
    uint8_t expect[N_RTP][PKT_MAX];
    size_t expect_len[N_RTP];
};

static bool after_free(struct peer *p)
{
    if (p->freed)
        p->calls_after_free++;
    return p->freed;
}

static void on_rtp(void *user, uint8_t *buf, size_t len)
{
    struct peer *p = user;
    if (after_free(p))
        return;
    /* The payload carries the packet's index in its first byte. */
    unsigned i = len > 12 ? buf[12] : N_RTP;
    if (i >= N_RTP || len != p->expect_len[i] || memcmp(buf, p->expect[i], len) != 0)
        p->rtp_bad++;
    if (i != p->next_index)
        p->rtp_misordered++;
    p->next_index = i + 1;
    p->rtp_rx++;
}

static void on_rtcp(void *user, uint8_t *buf, size_t len)
{
    struct peer *p = user;
    if (after_free(p))
        return;
    p->rtcp_rx++;
    p->rtcp_last_len = len < sizeof(p->rtcp_last) ? len : sizeof(p->rtcp_last);
    memcpy(p->rtcp_last, buf, p->rtcp_last_len);
}

static void on_state(void *user, enum mr_transport_state state, const char *why)
{
    struct peer *p = user;
    if (after_free(p))
        return;
    p->state = state;
    p->state_calls++;
    p->why = why;
    if (state == MR_TRANSPORT_SECURE)
        p->was_secure = true;
}

static void on_gathered(void *user)
{
    struct peer *p = user;
    if (after_free(p))
        return;
    p->gathered = true;
}

static const struct mr_transport_ops ops = {
    .rtp = on_rtp,
    .rtcp = on_rtcp,
    .state = on_state,
    .gathered = on_gathered,
};

typedef bool (*cond_fn)(struct peer *a, struct peer *b);

/* Iterates ctx until cond holds or the deadline passes; returns cond. */
static bool run_until(GMainContext *ctx, cond_fn cond, struct peer *a, struct peer *b)
{
    gint64 end = g_get_monotonic_time() + DEADLINE_US;
    while (!cond(a, b) && g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(1000);
    }
    return cond(a, b);
}

/* Runs ctx for about ms milliseconds regardless. */
static void run_for(GMainContext *ctx, int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    while (g_get_monotonic_time() < end) {
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(1000);
    }
}

static bool both_gathered(struct peer *a, struct peer *b)
{
    return a->gathered && b->gathered;
}

static bool both_secure(struct peer *a, struct peer *b)
{
    bool done_a = a->state == MR_TRANSPORT_SECURE || a->state == MR_TRANSPORT_FAILED;
    bool done_b = b->state == MR_TRANSPORT_SECURE || b->state == MR_TRANSPORT_FAILED;
    return done_a && done_b;
}

static bool b_failed(struct peer *a, struct peer *b)
{
    (void)a;
    return b->state == MR_TRANSPORT_FAILED;
}

static bool all_media_in(struct peer *a, struct peer *b)
{
    return a->rtp_rx >= N_RTP && b->rtp_rx >= N_RTP && a->rtcp_rx >= 1 && b->rtcp_rx >= 1;
}

static bool all_media_in_rtp(struct peer *a, struct peer *b)
{
    return a->rtp_rx >= N_RTP && b->rtp_rx >= N_RTP;
}

static bool b_closed(struct peer *a, struct peer *b)
{
    (void)a;
    return b->state == MR_TRANSPORT_CLOSED;
}

static bool parse_fingerprint(const char *s, uint8_t *out, size_t *len)
{
    size_t n = 0;
    while (*s) {
        unsigned v;
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
            sscanf(s, "%2x", &v) != 1 || n == 64)
            return false;
        out[n++] = (uint8_t)v;
        s += 2;
        if (*s == ':')
            s++;
        else if (*s)
            return false;
    }
    *len = n;
    return n > 0;
}

/* Hands every local candidate of `from` to `to`, then end-of-candidates. */
static unsigned exchange_candidates(struct peer *from, struct peer *to)
{
    char lines[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
    unsigned n = mr_transport_local_candidates(from->t, lines, MR_TRANSPORT_MAX_CANDIDATES);
    unsigned added = 0;
    for (unsigned i = 0; i < n; i++) {
        CHECK(strncmp(lines[i], "candidate:", 10) == 0);
        CHECK(strstr(lines[i], "127.0.0.1") != NULL);
        if (mr_transport_add_remote_candidate(to->t, lines[i]) == 0)
            added++;
    }
    mr_transport_remote_candidates_done(to->t);
    return added;
}

/* Applies to `self` what `other` would signal: ICE credentials and the
 * certificate fingerprint (optionally corrupted). */
static int set_remote(struct peer *self, struct peer *other, enum mr_dtls_role role, bool corrupt)
{
    char ufrag[MR_ICE_CRED_MAX], pwd[MR_ICE_CRED_MAX];
    mr_transport_local_credentials(other->t, ufrag, pwd);
    CHECK(ufrag[0] != '\0');
    CHECK(strlen(pwd) >= 22); /* RFC 8445 §5.3: at least 128 bits */
    uint8_t fp[64];
    size_t fp_len = 0;
    CHECK(parse_fingerprint(mr_transport_fingerprint(other->t), fp, &fp_len));
    CHECK_INT(fp_len, 32);
    if (corrupt)
        fp[0] ^= 0x80;
    struct mr_transport_remote r = {
        .ice_ufrag = ufrag,
        .ice_pwd = pwd,
        .fingerprint_alg = "sha-256",
        .fingerprint = fp,
        .fingerprint_len = fp_len,
        .local_role = role,
    };
    return mr_transport_set_remote(self->t, &r);
}

/* RFC 3550 §5.1 header via the RTP writer, then a payload whose first
 * byte is the packet's index. */
static size_t build_rtp(uint8_t *buf, size_t cap, unsigned i, uint32_t ssrc)
{
    struct mr_rtp_out_header h = {
        .marker = (i % 10) == 9,
        .payload_type = 96,
        .seq = (uint16_t)(65520 + i), /* crosses the 16-bit wrap */
        .timestamp = 3000u * i,
        .ssrc = ssrc,
    };
    int n = mr_rtp_write_header(buf, cap, &h, NULL, 0);
    CHECK_INT(n, 12);
    if (n != 12)
        return 0;
    buf[12] = (uint8_t)i;
    for (size_t k = 1; k < PAYLOAD_LEN; k++)
        buf[12 + k] = (uint8_t)(i * 7 + k);
    return 12 + PAYLOAD_LEN;
}

/* RFC 4585 §6.3.1: PLI, FMT 1, PT 206, length 2. */
static size_t build_pli(uint8_t *buf, uint32_t sender, uint32_t media)
{
    const uint8_t hdr[4] = {0x81, 206, 0x00, 0x02};
    memcpy(buf, hdr, 4);
    for (int k = 0; k < 4; k++) {
        buf[4 + k] = (uint8_t)(sender >> (24 - 8 * k));
        buf[8 + k] = (uint8_t)(media >> (24 - 8 * k));
    }
    return 12;
}

struct pair {
    GMainContext *ctx;
    struct mr_dtls_identity *id;
    struct peer *a, *b;
    struct mr_transport_watch *watch; /* B's liveness, when judged */
};

/* B judges A's liveness with this limit (0: never). */
static bool pair_new_with(struct pair *p, unsigned b_silence_ms)
{
    memset(p, 0, sizeof(*p));
    p->a = calloc(1, sizeof(*p->a));
    p->b = calloc(1, sizeof(*p->b));
    p->ctx = g_main_context_new();
    if (!p->a || !p->b || !p->ctx)
        return false;
    p->a->name = "A";
    p->b->name = "B";
    CHECK_INT(mr_dtls_identity_new(&p->id), MR_OK);
    if (!p->id)
        return false;
    struct mr_transport_config ca = {
        .ctx = p->ctx,
        .identity = p->id,
        /* test_send_queue bursts 266 datagrams at one socket before it
         * reads: a receive buffer as big as a publisher's keeps them all. */
        .ice = {.local_ip = "127.0.0.1", .port_min = 0, .port_max = 0, .controlling = true,
                .rcvbuf = 1 << 20},
    };
    struct mr_transport_config cb = ca;
    cb.ice.controlling = false;
    if (b_silence_ms) {
        CHECK_INT(mr_transport_watch_new(p->ctx, b_silence_ms, &p->watch), MR_OK);
        cb.liveness = p->watch;
    }
    CHECK_INT(mr_transport_new(&ca, &ops, p->a, &p->a->t), MR_OK);
    CHECK_INT(mr_transport_new(&cb, &ops, p->b, &p->b->t), MR_OK);
    return p->a->t && p->b->t;
}

static bool pair_new(struct pair *p)
{
    return pair_new_with(p, 0);
}

/* Frees both transports outside any callback, then keeps the loop running
 * a little: nothing may call back into the (still allocated) peers. */
static void pair_free(struct pair *p)
{
    if (p->a) {
        mr_transport_free(p->a->t);
        p->a->freed = true;
    }
    if (p->b) {
        mr_transport_free(p->b->t);
        p->b->freed = true;
    }
    if (p->ctx) {
        run_for(p->ctx, 200);
        /* Drain what libnice left pending on our context. */
        while (g_main_context_iteration(p->ctx, FALSE))
            ;
    }
    if (p->a)
        CHECK_INT(p->a->calls_after_free, 0);
    if (p->b)
        CHECK_INT(p->b->calls_after_free, 0);
    mr_transport_watch_free(p->watch);
    mr_dtls_identity_free(p->id);
    if (p->ctx)
        g_main_context_unref(p->ctx);
    free(p->a);
    free(p->b);
}

/* Gathers, signals both ways, and runs until both ends settle. */
static void connect_pair(struct pair *p, bool corrupt_b_view_of_a)
{
    struct peer *a = p->a, *b = p->b;
    CHECK_INT(mr_transport_gather(a->t), MR_OK);
    CHECK_INT(mr_transport_gather(b->t), MR_OK);
    CHECK(run_until(p->ctx, both_gathered, a, b));
    CHECK_INT(set_remote(a, b, MR_DTLS_CLIENT, false), MR_OK);
    CHECK_INT(set_remote(b, a, MR_DTLS_SERVER, corrupt_b_view_of_a), MR_OK);
    CHECK(exchange_candidates(a, b) >= 1);
    CHECK(exchange_candidates(b, a) >= 1);
}

static void test_media_both_ways(void)
{
    struct pair p;
    if (!pair_new(&p))
        goto out;
    struct peer *a = p.a, *b = p.b;

    CHECK_INT(mr_transport_state(a->t), MR_TRANSPORT_NEW);
    CHECK_STR(mr_transport_srtp_profile(a->t), "");
    CHECK_STR(mr_transport_dtls_cipher(a->t), "");
    CHECK_STR(mr_transport_dtls_version(a->t), "");
    /* Same identity, same fingerprint, in the documented format. */
    CHECK_STR(mr_transport_fingerprint(a->t), mr_transport_fingerprint(b->t));
    CHECK_INT(strlen(mr_transport_fingerprint(a->t)), 95);

    /* Nothing may be sent before SRTP keys exist. */
    uint8_t early[PKT_MAX + MR_SRTP_MAX_OVERHEAD];
    size_t n = build_rtp(early, sizeof(early), 0, 0xa0a0a0a0);
    CHECK_INT(mr_transport_send_rtp(a->t, early, n, sizeof(early)), MR_ESTATE);
    n = build_pli(early, 1, 2);
    CHECK_INT(mr_transport_send_rtcp(a->t, early, n, sizeof(early)), MR_ESTATE);

    /* A remote description without ICE credentials is refused. */
    struct mr_transport_remote empty = {
        .ice_ufrag = "", .ice_pwd = "x", .fingerprint_alg = "sha-256"};
    CHECK_INT(mr_transport_set_remote(a->t, &empty), MR_EINVAL);

    connect_pair(&p, false);
    /* Still not secure right after signalling: ICE has not even run. */
    CHECK_INT(mr_transport_send_rtp(b->t, early, 12, sizeof(early)), MR_ESTATE);
    CHECK(run_until(p.ctx, both_secure, a, b));
    CHECK_INT(a->state, MR_TRANSPORT_SECURE);
    CHECK_INT(b->state, MR_TRANSPORT_SECURE);
    CHECK_INT(mr_transport_state(a->t), MR_TRANSPORT_SECURE);
    CHECK_INT(mr_transport_state(b->t), MR_TRANSPORT_SECURE);
    if (a->state != MR_TRANSPORT_SECURE || b->state != MR_TRANSPORT_SECURE) {
        fprintf(stderr, "A: %s, B: %s\n", a->why ? a->why : "-", b->why ? b->why : "-");
        goto out;
    }
    /* A second remote description is refused. */
    CHECK_INT(set_remote(a, b, MR_DTLS_CLIENT, false), MR_ESTATE);

    CHECK_STR(mr_transport_srtp_profile(a->t), "SRTP_AEAD_AES_128_GCM");
    CHECK_STR(mr_transport_srtp_profile(b->t), "SRTP_AEAD_AES_128_GCM");
    CHECK_STR(mr_transport_dtls_version(a->t), "DTLSv1.2");
    CHECK_STR(mr_transport_dtls_version(b->t), "DTLSv1.2");
    CHECK(mr_transport_dtls_cipher(a->t)[0] != '\0');
    CHECK_STR(mr_transport_dtls_cipher(a->t), mr_transport_dtls_cipher(b->t));
    char pair_a[256], pair_b[256];
    mr_transport_describe_pair(a->t, pair_a, sizeof(pair_a));
    mr_transport_describe_pair(b->t, pair_b, sizeof(pair_b));
    CHECK(strstr(pair_a, "127.0.0.1") != NULL);
    CHECK(strstr(pair_b, "127.0.0.1") != NULL);
    printf("# %s, %s %s; A: %s; B: %s\n", mr_transport_srtp_profile(a->t),
           mr_transport_dtls_version(a->t), mr_transport_dtls_cipher(a->t), pair_a, pair_b);

    /* 50 RTP packets each way, then a PLI each way. */
    uint64_t a_bytes = 0, b_bytes = 0;
    int a_rc = 0, b_rc = 0;
    for (unsigned i = 0; i < N_RTP; i++) {
        uint8_t buf[PKT_MAX + MR_SRTP_MAX_OVERHEAD];
        n = build_rtp(b->expect[i], PKT_MAX, i, 0xaaaa0001);
        b->expect_len[i] = n;
        memcpy(buf, b->expect[i], n);
        a_rc |= mr_transport_send_rtp(a->t, buf, n, sizeof(buf));
        a_bytes += n + 16; /* the GCM tag */

        n = build_rtp(a->expect[i], PKT_MAX, i, 0xbbbb0002);
        a->expect_len[i] = n;
        memcpy(buf, a->expect[i], n);
        b_rc |= mr_transport_send_rtp(b->t, buf, n, sizeof(buf));
        b_bytes += n + 16;
        /* Let the loop breathe so no socket buffer fills up. */
        if (i % 10 == 9)
            g_main_context_iteration(p.ctx, FALSE);
    }
    CHECK_INT(a_rc, 0);
    CHECK_INT(b_rc, 0);
    uint8_t pli_ab[12], pli_ba[12], buf[12 + MR_SRTP_MAX_OVERHEAD];
    build_pli(pli_ab, 0xaaaa0001, 0xbbbb0002);
    build_pli(pli_ba, 0xbbbb0002, 0xaaaa0001);
    memcpy(buf, pli_ab, 12);
    CHECK_INT(mr_transport_send_rtcp(a->t, buf, 12, sizeof(buf)), MR_OK);
    memcpy(buf, pli_ba, 12);
    CHECK_INT(mr_transport_send_rtcp(b->t, buf, 12, sizeof(buf)), MR_OK);
    a_bytes += 12 + 16 + 4; /* GCM tag and SRTCP index */
    b_bytes += 12 + 16 + 4;

    /* Too little room past the packet: refused before anything is sent. */
    memcpy(buf, pli_ab, 12);
    CHECK_INT(mr_transport_send_rtcp(a->t, buf, 12, 12 + MR_SRTP_MAX_OVERHEAD - 1), MR_ENOSPC);

    CHECK(run_until(p.ctx, all_media_in, a, b));
    run_for(p.ctx, 50); /* nothing extra may arrive */
    CHECK_INT(b->rtp_rx, N_RTP);
    CHECK_INT(a->rtp_rx, N_RTP);
    CHECK_INT(b->rtp_bad, 0);
    CHECK_INT(a->rtp_bad, 0);
    CHECK_INT(b->rtcp_rx, 1);
    CHECK_INT(a->rtcp_rx, 1);
    CHECK_INT(b->rtcp_last_len, 12);
    CHECK_MEM(b->rtcp_last, pli_ab, 12);
    CHECK_INT(a->rtcp_last_len, 12);
    CHECK_MEM(a->rtcp_last, pli_ba, 12);

    const struct mr_transport_stats *sa = mr_transport_stats(a->t);
    const struct mr_transport_stats *sb = mr_transport_stats(b->t);
    CHECK_INT(sa->rtp_out, N_RTP);
    CHECK_INT(sa->rtcp_out, 1);
    CHECK_INT(sb->rtp_out, N_RTP);
    CHECK_INT(sb->rtcp_out, 1);
    CHECK_INT(sa->rtp_in, N_RTP);
    CHECK_INT(sa->rtcp_in, 1);
    CHECK_INT(sb->rtp_in, N_RTP);
    CHECK_INT(sb->rtcp_in, 1);
    CHECK_INT(sa->bytes_out, a_bytes);
    CHECK_INT(sb->bytes_out, b_bytes);
    /* bytes_in also counts the DTLS handshake. */
    CHECK(sb->bytes_in >= a_bytes);
    CHECK(sa->bytes_in >= b_bytes);
    CHECK_INT(sa->srtp_errors + sb->srtp_errors, 0);
    CHECK_INT(sa->dropped_early + sb->dropped_early, 0);
    CHECK_INT(sa->unknown_in + sb->unknown_in, 0);
    CHECK_INT(sa->send_errors + sb->send_errors, 0);

    /* close_notify from A: B reports CLOSED. */
    unsigned a_calls = a->state_calls;
    mr_transport_close(a->t);
    CHECK(run_until(p.ctx, b_closed, a, b));
    CHECK_INT(mr_transport_state(b->t), MR_TRANSPORT_CLOSED);
    CHECK(b->why != NULL);
    CHECK_INT(a->state_calls, a_calls); /* closing ourselves reports nothing */

out:
    pair_free(&p);
}

static void test_wrong_fingerprint(void)
{
    struct pair p;
    if (!pair_new(&p))
        goto out;
    struct peer *a = p.a, *b = p.b;
    connect_pair(&p, true);
    CHECK(run_until(p.ctx, b_failed, a, b));
    CHECK_INT(b->state, MR_TRANSPORT_FAILED);
    CHECK_INT(mr_transport_state(b->t), MR_TRANSPORT_FAILED);
    CHECK(!b->was_secure);
    CHECK(b->why != NULL && strstr(b->why, "fingerprint") != NULL);
    CHECK_STR(mr_transport_srtp_profile(b->t), "");
    uint8_t buf[PKT_MAX + MR_SRTP_MAX_OVERHEAD];
    size_t n = build_rtp(buf, sizeof(buf), 0, 1);
    CHECK_INT(mr_transport_send_rtp(b->t, buf, n, sizeof(buf)), MR_ESTATE);
    /* A, whose view of B is right, finishes its half of the handshake; B
     * sends it no alert, so A may report SECURE. Whatever A sends now, B
     * has no keys for. */
    run_for(p.ctx, 100);
    printf("# wrong fingerprint at B (%s); A ended in state %d\n", b->why ? b->why : "-",
           (int)a->state);
    if (a->state == MR_TRANSPORT_SECURE) {
        n = build_rtp(buf, sizeof(buf), 0, 1);
        CHECK_INT(mr_transport_send_rtp(a->t, buf, n, sizeof(buf)), MR_OK);
        run_for(p.ctx, 100);
        CHECK_INT(b->rtp_rx, 0);
        CHECK_INT(mr_transport_stats(b->t)->rtp_in, 0);
        CHECK_INT(mr_transport_stats(b->t)->dropped_early, 1);
    }
out:
    pair_free(&p);
}

static bool b_has_rtp(struct peer *a, struct peer *b)
{
    (void)a;
    return b->rtp_rx >= b->want_rtp;
}

/* Queues n more packets from a to b (sequence numbers going on from *seq,
 * as SRTP's replay protection wants), without running the loop. */
static void queue_more(struct mr_sendq *q, struct peer *a, unsigned *seq, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t *slot = mr_sendq_slot(q);
        size_t len = build_rtp(slot, MR_TRANSPORT_BUF, (*seq)++, 0xaaaa0001);
        CHECK_INT(mr_transport_queue_rtp(a->t, q, slot, len, MR_TRANSPORT_BUF), MR_OK);
    }
}

/*
 * The send queue (transport/sendq.h): datagrams queued from two transports,
 * interleaved, leave only when the loop has nothing else to do, each
 * transport's in order and intact; a full queue flushes itself; a
 * transport freed with datagrams queued sends them first. With sendmmsg
 * per transport, and with one io_uring submit for both.
 */
static void send_queue_case(bool io_uring)
{
    struct pair p;
    struct mr_sendq *q = NULL;
    if (!pair_new(&p))
        goto out;
    struct peer *a = p.a, *b = p.b;
    connect_pair(&p, false);
    CHECK(run_until(p.ctx, both_secure, a, b));
    if (a->state != MR_TRANSPORT_SECURE || b->state != MR_TRANSPORT_SECURE)
        goto out;
    CHECK_INT(mr_sendq_new(p.ctx, io_uring, &q), MR_OK);
    if (!q)
        goto out;
    CHECK(mr_sendq_io_uring(q) == io_uring);

    uint8_t early[PKT_MAX + MR_SRTP_MAX_OVERHEAD];
    size_t n = build_rtp(early, sizeof(early), 0, 1);
    struct mr_transport *unkeyed = NULL;
    struct mr_transport_config cfg = {
        .ctx = p.ctx, .identity = p.id, .ice = {.local_ip = "127.0.0.1"}};
    CHECK_INT(mr_transport_new(&cfg, &ops, a, &unkeyed), MR_OK);
    CHECK_INT(mr_transport_queue_rtp(unkeyed, q, mr_sendq_slot(q), n, MR_TRANSPORT_BUF), MR_ESTATE);
    mr_transport_free(unkeyed);

    for (unsigned i = 0; i < N_RTP; i++) {
        size_t len = build_rtp(b->expect[i], PKT_MAX, i, 0xaaaa0001);
        b->expect_len[i] = len;
        uint8_t *slot = mr_sendq_slot(q);
        memcpy(slot, b->expect[i], len);
        CHECK_INT(mr_transport_queue_rtp(a->t, q, slot, len, MR_TRANSPORT_BUF), MR_OK);
        len = build_rtp(a->expect[i], PKT_MAX, i, 0xbbbb0002);
        a->expect_len[i] = len;
        slot = mr_sendq_slot(q);
        memcpy(slot, a->expect[i], len);
        CHECK_INT(mr_transport_queue_rtp(b->t, q, slot, len, MR_TRANSPORT_BUF), MR_OK);
    }
    /* Nothing has left yet: the burst is not over. */
    CHECK_INT(mr_transport_stats(a->t)->rtp_out, 0);
    CHECK_INT(mr_transport_stats(b->t)->rtp_out, 0);
    CHECK(run_until(p.ctx, all_media_in_rtp, a, b));
    run_for(p.ctx, 50);
    CHECK_INT(b->rtp_rx, N_RTP);
    CHECK_INT(a->rtp_rx, N_RTP);
    CHECK_INT(b->rtp_bad + a->rtp_bad, 0);
    CHECK_INT(b->rtp_misordered + a->rtp_misordered, 0);
    CHECK_INT(mr_transport_stats(a->t)->rtp_out, N_RTP);
    CHECK_INT(mr_transport_stats(a->t)->bytes_out, N_RTP * (PKT_MAX + 16));
    CHECK_INT(mr_transport_stats(a->t)->send_errors, 0);

    /* More than the queue holds: the slot past the last flushes it. */
    unsigned seq = N_RTP;
    b->rtp_rx = 0;
    queue_more(q, a, &seq, MR_SENDQ_SLOTS + 10);
    CHECK_INT(mr_transport_stats(a->t)->rtp_out, N_RTP + MR_SENDQ_SLOTS);
    b->want_rtp = MR_SENDQ_SLOTS + 10;
    CHECK(run_until(p.ctx, b_has_rtp, a, b));
    CHECK_INT(b->rtp_rx, MR_SENDQ_SLOTS + 10);
    CHECK_INT(mr_transport_stats(a->t)->rtp_out, N_RTP + MR_SENDQ_SLOTS + 10);

    /* Freed with five queued: they go out first, the queue forgets a. */
    b->rtp_rx = 0;
    queue_more(q, a, &seq, 5);
    mr_transport_free(a->t);
    a->t = NULL;
    b->want_rtp = 5;
    CHECK(run_until(p.ctx, b_has_rtp, a, b));
    run_for(p.ctx, 50);
    CHECK_INT(b->rtp_rx, 5);
out:
    mr_sendq_free(q);
    pair_free(&p);
}

static void test_send_queue(void)
{
    send_queue_case(false);
}

/* This machine's kernel has io_uring (kernel.io_uring_disabled = 0): the
 * queue must use it. */
static void test_send_queue_io_uring(void)
{
    send_queue_case(true);
}

/* --- Liveness (transport/liveness.h) ------------------------------------- */

#define SILENCE_MS 600

/* Runs the pair for ms in 50 ms steps: B sends A an RTP packet each step
 * when b_feeds, A sends B a PLI every other step when a_reports and an RTP
 * packet each step when a_sends. Returns the milliseconds until B failed,
 * or -1 if it did not. */
static int run_traffic(struct pair *p, int ms, bool b_feeds, bool a_reports, bool a_sends)
{
    struct peer *a = p->a, *b = p->b;
    gint64 start = g_get_monotonic_time();
    for (unsigned step = 0; step * 50 < (unsigned)ms; step++) {
        uint8_t buf[PKT_MAX + MR_SRTP_MAX_OVERHEAD];
        if (b_feeds && b->state == MR_TRANSPORT_SECURE) {
            size_t n = build_rtp(buf, PKT_MAX, step % N_RTP, 0xbbbb0002);
            CHECK_INT(mr_transport_send_rtp(b->t, buf, n, sizeof(buf)), MR_OK);
        }
        if (a_sends) {
            size_t n = build_rtp(buf, PKT_MAX, step % N_RTP, 0xaaaa0001);
            CHECK_INT(mr_transport_send_rtp(a->t, buf, n, sizeof(buf)), MR_OK);
        }
        if (a_reports && step % 2 == 0) {
            build_pli(buf, 0xaaaa0001, 0xbbbb0002);
            CHECK_INT(mr_transport_send_rtcp(a->t, buf, 12, sizeof(buf)), MR_OK);
        }
        run_for(p->ctx, 50);
        if (b->state == MR_TRANSPORT_FAILED)
            return (int)((g_get_monotonic_time() - start) / 1000);
    }
    return -1;
}

static bool connect_secure(struct pair *p)
{
    connect_pair(p, false);
    CHECK(run_until(p->ctx, both_secure, p->a, p->b));
    return p->a->state == MR_TRANSPORT_SECURE && p->b->state == MR_TRANSPORT_SECURE;
}

/* B failed A took ms after A's last packet could have come: about
 * SILENCE_MS (two looks of SILENCE_MS/15 late at most, plus the loop's
 * slack), for silence. */
static void check_failed_in_time(const struct pair *p, int took, const char *who)
{
    printf("# silent %s failed after %d ms (limit %d)\n", who, took, SILENCE_MS);
    CHECK(took >= SILENCE_MS - 100);
    CHECK(took <= SILENCE_MS + 2 * SILENCE_MS / 15 + 300);
    CHECK(p->b->why && strstr(p->b->why, "nothing authenticated from the peer") != NULL);
}

/* A viewer (A) fed by B stays while it reports, however long; once its
 * reports stop while B still feeds it, B fails it about SILENCE_MS later. */
static void test_silent_viewer_fails(void)
{
    struct pair p;
    if (!pair_new_with(&p, SILENCE_MS) || !connect_secure(&p))
        goto out;
    CHECK_INT(run_traffic(&p, 3 * SILENCE_MS, true, true, false), -1);
    CHECK_INT(p.b->state, MR_TRANSPORT_SECURE);
    check_failed_in_time(&p, run_traffic(&p, 5 * SILENCE_MS, true, false, false), "viewer");
    /* A, which judges nothing, is still secure. */
    CHECK_INT(p.a->state, MR_TRANSPORT_SECURE);
out:
    pair_free(&p);
}

/* A peer fed nothing and sending nothing owes nothing and stays; once it
 * has sent media (a publisher) and stops, B fails it. */
static void test_silent_sender_fails(void)
{
    struct pair p;
    if (!pair_new_with(&p, SILENCE_MS) || !connect_secure(&p))
        goto out;
    CHECK_INT(run_traffic(&p, 4 * SILENCE_MS, false, false, false), -1);
    CHECK_INT(run_traffic(&p, 2 * SILENCE_MS, false, false, true), -1);
    CHECK_INT(p.b->state, MR_TRANSPORT_SECURE);
    check_failed_in_time(&p, run_traffic(&p, 5 * SILENCE_MS, false, false, false), "sender");
out:
    pair_free(&p);
}

MR_TEST_MAIN(MR_TEST(test_media_both_ways), MR_TEST(test_wrong_fingerprint),
             MR_TEST(test_send_queue), MR_TEST(test_send_queue_io_uring),
             MR_TEST(test_silent_viewer_fails), MR_TEST(test_silent_sender_fails))
