/*
 * Robustness against hostile input: while a publisher streams to a
 * subscriber, other sockets throw datagrams at the relay's media ports (read
 * from the answers' candidates): random bytes, truncated headers, STUN
 * requests with the right USERNAME but a wrong MESSAGE-INTEGRITY, other STUN
 * messages, DTLS records of every content type, RTP and RTCP claiming the
 * publisher's SSRCs with wrong authentication tags, and bytes from the other
 * RFC 7983 ranges; and random bytes, truncated or oversized requests at the
 * HTTP port.
 *
 * libnice drops datagrams whose source is not a validated remote candidate
 * (the relay logs no SRTP failure for any of them), so the above exercises
 * libnice's STUN handling, not the relay's own demultiplexing, DTLS and SRTP
 * code. Meanwhile the peers therefore also
 * play hostile but authenticated endpoints: through their own SRTP sessions
 * they send malformed RTP (CSRC lists, header extensions and padding of any
 * shape, payload types nobody negotiated, foreign and real SSRCs) and
 * malformed compound RTCP (any type, lying lengths and counts), which reach
 * the relay's parsers after decryption (or, when the first type byte is not
 * an RTCP one, fail as SRTP: RFC 7983 demultiplexes on that byte).
 *
 * The subscriber must keep receiving every packet without a decrypt
 * failure, both peers must stay connected, and the server must keep
 * answering /healthz. MEDRELAY_GARBAGE_SEED repeats a run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_client.h"
#include "itest.h"

#define ROOM        "triage"
#define STREAM      "bay-1"
#define N_SOCKS     6
#define MAX_TARGETS 4
#define GARBAGE_MS  6000
#define TICK_MS     20
#define BURST       6 /* datagrams per target and tick: 300/s per port */

enum kind { K_RANDOM, K_SHORT, K_STUN_REQ, K_STUN_OTHER, K_DTLS, K_RTP, K_RTCP, K_RANGES, N_KINDS };
static const char *const kind_names[N_KINDS] = {"random", "short", "stun-request", "stun-other",
                                                "dtls",   "rtp",   "rtcp",         "other-ranges"};

struct garbage {
    GRand *rand;
    int fds[N_SOCKS];
    struct sockaddr_in targets[MAX_TARGETS];
    unsigned n_targets;
    uint32_t ssrcs[8];
    unsigned n_ssrcs;
    char username[600];
    uint64_t sent[N_KINDS], refused;
    uint64_t hostile_rtp, hostile_rtcp, hostile_refused;
};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static void fill(struct garbage *g, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)g_rand_int_range(g->rand, 0, 256);
}

static unsigned pick(struct garbage *g, unsigned n)
{
    return (unsigned)g_rand_int_range(g->rand, 0, (gint32)n);
}

/* CRC-32 (ISO 3309) for the STUN FINGERPRINT attribute (RFC 8489 §14.7). */
static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static size_t stun_attr(uint8_t *b, size_t off, unsigned type, const void *val, size_t len)
{
    put16(b + off, type);
    put16(b + off + 2, (unsigned)len);
    memcpy(b + off + 4, val, len);
    size_t padded = (len + 3) & ~(size_t)3;
    memset(b + off + 4 + len, 0, padded - len);
    return off + 4 + padded;
}

/* RFC 8445 §7.1.2 binding request with the session's USERNAME, a made-up
 * MESSAGE-INTEGRITY and a correct FINGERPRINT: it passes the cheap checks
 * and must fail the integrity check. */
static size_t stun_request(struct garbage *g, uint8_t *b)
{
    uint8_t val[20];
    put16(b, 0x0001);
    put32(b + 4, 0x2112a442);
    fill(g, b + 8, 12);
    size_t off = stun_attr(b, 20, 0x0006, g->username, strlen(g->username));
    fill(g, val, 8);
    off = stun_attr(b, off, pick(g, 2) ? 0x802a : 0x8029, val, 8); /* ICE-CONTROLLING/-ED */
    put32(val, g_rand_int(g->rand));
    off = stun_attr(b, off, 0x0024, val, 4); /* PRIORITY */
    if (pick(g, 2))
        off = stun_attr(b, off, 0x0025, val, 0); /* USE-CANDIDATE */
    fill(g, val, 20);
    off = stun_attr(b, off, 0x0008, val, 20); /* MESSAGE-INTEGRITY */
    put16(b + 2, (unsigned)(off + 8 - 20));
    put32(val, crc32(b, off) ^ 0x5354554eu);
    return stun_attr(b, off, 0x8028, val, 4);
}

/* Any STUN class and method, random attributes, lengths that may lie. */
static size_t stun_other(struct garbage *g, uint8_t *b)
{
    size_t n = 20 + 4 * pick(g, 40);
    fill(g, b, n);
    b[0] &= 0x3f;
    put32(b + 4, 0x2112a442);
    put16(b + 2, pick(g, 4) ? (unsigned)(n - 20) : pick(g, 65536));
    return n;
}

/* A DTLS 1.2 record (RFC 6347 §4.1): any content type, epoch 0-2, length
 * usually right; handshake records carry a handshake header. */
static size_t dtls_record(struct garbage *g, uint8_t *b)
{
    size_t body = pick(g, 600);
    b[0] = (uint8_t)(20 + pick(g, 5));
    b[1] = 0xfe;
    b[2] = pick(g, 2) ? 0xfd : 0xff;
    put16(b + 3, pick(g, 3));
    fill(g, b + 5, 6 + body);
    put16(b + 11, pick(g, 8) ? (unsigned)body : pick(g, 65536));
    if (b[0] == 22 && body >= 12)
        b[13] = (uint8_t)pick(g, 21); /* handshake type: hello, certificate, ... */
    return 13 + body;
}

static uint32_t some_ssrc(struct garbage *g)
{
    return g->n_ssrcs && pick(g, 4) ? g->ssrcs[pick(g, g->n_ssrcs)] : g_rand_int(g->rand);
}

/* SRTP-shaped: a real header (often the publisher's SSRC), random
 * "ciphertext" and tag. */
static size_t rtp_packet(struct garbage *g, uint8_t *b)
{
    size_t n = 12 + 20 + pick(g, 1200);
    fill(g, b, n);
    b[0] = 0x80 | (b[0] & 0x30);
    b[1] = (uint8_t)((b[1] & 0x80) | (pick(g, 3) == 0 ? 111 : pick(g, 2) ? 96 : (b[1] & 0x7f)));
    put32(b + 8, some_ssrc(g));
    return n;
}

/* SRTCP-shaped: SR, RR, SDES, BYE, feedback; E bit and index, random tag. */
static size_t rtcp_packet(struct garbage *g, uint8_t *b)
{
    size_t words = 1 + pick(g, 40);
    size_t n = 4 + 4 * words;
    fill(g, b, n + 4 + 16);
    b[0] = (uint8_t)(0x80 | pick(g, 32));
    b[1] = (uint8_t)(200 + pick(g, 7));
    put16(b + 2, pick(g, 8) ? (unsigned)words : pick(g, 65536));
    put32(b + 4, some_ssrc(g));
    b[n] |= 0x80; /* E: encrypted */
    return n + 4 + 16;
}

static size_t make_datagram(struct garbage *g, enum kind k, uint8_t *b)
{
    static const uint8_t ranges[][2] = {{0, 3}, {16, 19}, {64, 79}, {128, 191}, {192, 255}};
    size_t n;
    switch (k) {
    case K_STUN_REQ:
        return stun_request(g, b);
    case K_STUN_OTHER:
        return stun_other(g, b);
    case K_DTLS:
        return dtls_record(g, b);
    case K_RTP:
        return rtp_packet(g, b);
    case K_RTCP:
        return rtcp_packet(g, b);
    case K_SHORT:
        n = 1 + pick(g, 13);
        fill(g, b, n);
        return n;
    case K_RANGES: {
        const uint8_t *r = ranges[pick(g, G_N_ELEMENTS(ranges))];
        n = 1 + pick(g, 1400);
        fill(g, b, n);
        b[0] = (uint8_t)(r[0] + pick(g, r[1] - r[0] + 1u));
        return n;
    }
    default:
        n = 1 + pick(g, 1400);
        fill(g, b, n);
        return n;
    }
}

/* Payload types neither peer negotiated: the relay must drop such packets.
 * Their SSRCs are foreign: RTP with a real SSRC and a random sequence number
 * would move that SRTP stream's rollover and replay state on both ends and
 * make the publisher's own later packets fail authentication, a harm an
 * authenticated publisher can only do to itself. */
static const uint8_t foreign_pts[] = {0, 8, 13, 100, 101, 103, 110, 120, 127};

static uint32_t foreign_ssrc(struct garbage *g)
{
    for (;;) {
        uint32_t v = g_rand_int(g->rand);
        bool known = false;
        for (unsigned i = 0; i < g->n_ssrcs; i++)
            known = known || g->ssrcs[i] == v;
        if (!known)
            return v;
    }
}

static size_t hostile_rtp(struct garbage *g, uint8_t *b)
{
    static const unsigned profiles[] = {0xbede, 0x1000, 0x1001};
    unsigned cc = pick(g, 4) ? 0 : pick(g, 16);
    bool x = pick(g, 2);
    size_t ext_words = x ? pick(g, 6) : 0;
    size_t n = 12 + 4 * cc + (x ? 4 + 4 * ext_words : 0) + pick(g, 600);
    fill(g, b, n);
    b[0] = (uint8_t)(0x80 | (pick(g, 4) ? 0 : 0x20) | (x ? 0x10 : 0) | cc);
    b[1] = (uint8_t)((b[1] & 0x80) | foreign_pts[pick(g, G_N_ELEMENTS(foreign_pts))]);
    put32(b + 8, foreign_ssrc(g));
    if (x) {
        size_t o = 12 + 4 * cc;
        put16(b + o, pick(g, 4) ? profiles[pick(g, 3)] : pick(g, 65536));
        put16(b + o + 2, (unsigned)ext_words);
    }
    return n;
}

/* One to four packets of any type, mostly version 2, lengths that may lie.
 * A sender report keeps a foreign SSRC: one naming the publisher's would be
 * translated for the viewers, as it should. */
static size_t hostile_rtcp(struct garbage *g, uint8_t *b)
{
    size_t off = 0;
    for (unsigned i = 0, parts = 1 + pick(g, 4); i < parts; i++) {
        size_t words = 1 + pick(g, 12);
        fill(g, b + off, 4 + 4 * words);
        unsigned type = pick(g, 5) ? 200 + pick(g, 8) : pick(g, 256);
        b[off] = (uint8_t)((pick(g, 10) ? 0x80 : (b[off] & 0xc0)) | pick(g, 32));
        b[off + 1] = (uint8_t)type;
        put16(b + off + 2, pick(g, 6) ? (unsigned)words : pick(g, 65536));
        put32(b + off + 4, type == 200 ? foreign_ssrc(g) : some_ssrc(g));
        off += 4 + 4 * words;
    }
    return off;
}

static void send_hostile(struct garbage *g, struct mr_test_peer *pub, struct mr_test_peer *sub)
{
    uint8_t buf[1500];
    for (unsigned i = 0; i < 4; i++) {
        bool rtcp = i >= 2;
        struct mr_test_peer *p = i == 3 ? sub : pub;
        size_t n = rtcp ? hostile_rtcp(g, buf) : hostile_rtp(g, buf);
        if (mr_test_peer_send_raw(p, rtcp, buf, n) < 0)
            g->hostile_refused++; /* libsrtp cannot parse the header */
        else if (rtcp)
            g->hostile_rtcp++;
        else
            g->hostile_rtp++;
    }
}

static void send_burst(struct garbage *g)
{
    uint8_t buf[2048];
    for (unsigned t = 0; t < g->n_targets; t++) {
        for (unsigned i = 0; i < BURST; i++) {
            enum kind k = (enum kind)pick(g, N_KINDS);
            size_t n = make_datagram(g, k, buf);
            int fd = g->fds[pick(g, N_SOCKS)];
            if (sendto(fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&g->targets[t],
                       sizeof(g->targets[t])) < 0)
                g->refused++; /* ICMP from an earlier one, or a full buffer */
            else
                g->sent[k]++;
        }
    }
}

/* Garbage for the HTTP port: one connection, then close. */
static void http_garbage(struct garbage *g, const struct mr_test_server *srv)
{
    uint8_t buf[12000];
    size_t n;
    switch (pick(g, 5)) {
    case 0:
        n = 1 + pick(g, 4000);
        fill(g, buf, n);
        break;
    case 1:
        n = (size_t)snprintf((char *)buf, sizeof(buf), "GET /healthz HTTP/1.1\r\nX-");
        fill(g, buf + n, 200);
        n += 200;
        break;
    case 2:
        n = (size_t)snprintf((char *)buf, sizeof(buf),
                             "POST /whip/a/b HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
                             "Content-Type: application/sdp\r\n\r\nv=0\r\n");
        break;
    case 3:
        memcpy(buf, "GET /", 5);
        memset(buf + 5, 'a', 10000);
        memcpy(buf + 10005, " HTTP/1.1\r\n\r\n", 13);
        n = 10018;
        break;
    default:
        n = (size_t)snprintf((char *)buf, sizeof(buf), "\r\n\r\n\x16\xfe\xfd\r\n\r\n");
        break;
    }
    mr_test_http_raw(srv->host, srv->port, buf, n, 100);
}

static bool setup_garbage(struct garbage *g, struct mr_test_client *pub, struct mr_test_client *sub)
{
    const char *env = getenv("MEDRELAY_GARBAGE_SEED");
    guint32 seed = env ? (guint32)strtoul(env, NULL, 0) : g_random_int();
    printf("# garbage seed %u (MEDRELAY_GARBAGE_SEED)\n", seed);
    g->rand = g_rand_new_with_seed(seed);
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (unsigned i = 0; i < N_SOCKS; i++) {
        g->fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (g->fds[i] < 0 || bind(g->fds[i], (struct sockaddr *)&local, sizeof(local)) < 0)
            return false;
    }
    struct mr_test_client *cs[2] = {pub, sub};
    for (unsigned c = 0; c < 2; c++) {
        struct mr_sdp_candidate cand[2];
        unsigned n = mr_test_peer_remote_candidates(cs[c]->peer, cand, 2);
        for (unsigned i = 0; i < n && g->n_targets < MAX_TARGETS; i++) {
            struct sockaddr_in *t = &g->targets[g->n_targets++];
            *t = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(cand[i].port)};
            inet_pton(AF_INET, cand[i].addr, &t->sin_addr);
            printf("# target: the relay's port %u for the %s\n", cand[i].port,
                   c ? "subscriber" : "publisher");
        }
    }
    struct mr_test_peer_stats ps;
    mr_test_peer_stats(pub->peer, &ps);
    for (unsigned i = 0; i < ps.n_tracks; i++)
        g->ssrcs[g->n_ssrcs++] = ps.tracks[i].ssrc;
    char ufrag[300];
    mr_test_peer_local_ufrag(pub->peer, ufrag, sizeof(ufrag));
    snprintf(g->username, sizeof(g->username), "%s:%s", mr_test_peer_remote_ufrag(pub->peer),
             ufrag);
    return g->n_targets >= 2;
}

/* The SSRCs the relay sends the subscriber, for feedback that names them. */
static void add_subscriber_ssrcs(struct garbage *g, struct mr_test_client *sub)
{
    struct mr_test_peer_stats ss;
    mr_test_peer_stats(sub->peer, &ss);
    for (unsigned i = 0; i < ss.n_tracks && g->n_ssrcs < G_N_ELEMENTS(g->ssrcs); i++)
        if (ss.tracks[i].rx_ssrc)
            g->ssrcs[g->n_ssrcs++] = ss.tracks[i].rx_ssrc;
}

static void cleanup_garbage(struct garbage *g)
{
    for (unsigned i = 0; i < N_SOCKS; i++)
        if (g->fds[i] > 0)
            close(g->fds[i]);
    if (g->rand)
        g_rand_free(g->rand);
}

/* Sends garbage for GARBAGE_MS while the peers run; checks /healthz twice a
 * second. */
static void throw_garbage(GMainContext *ctx, struct mr_test_server *srv, struct garbage *g,
                          struct mr_test_client *pub, struct mr_test_client *sub)
{
    int64_t start = mr_clock_mono_us(), last_http = start;
    unsigned health_ok = 0, health_checks = 0;
    while (mr_clock_mono_us() - start < GARBAGE_MS * 1000LL) {
        send_burst(g);
        send_hostile(g, pub->peer, sub->peer);
        itest_run(ctx, TICK_MS);
        if (mr_clock_mono_us() - last_http >= 500000) {
            last_http = mr_clock_mono_us();
            http_garbage(g, srv);
            struct mr_test_health h;
            health_checks++;
            health_ok += mr_test_server_health(srv, &h, 2000) == 0 && h.publishers == 1 &&
                         h.subscribers == 1;
        }
    }
    uint64_t total = 0;
    printf("# garbage sent:");
    for (unsigned k = 0; k < N_KINDS; k++) {
        printf(" %s %llu", kind_names[k], (unsigned long long)g->sent[k]);
        total += g->sent[k];
    }
    printf(" (total %llu, %llu refused by the kernel)\n", (unsigned long long)total,
           (unsigned long long)g->refused);
    printf("# hostile authenticated packets: %llu RTP, %llu RTCP (%llu refused by libsrtp)\n",
           (unsigned long long)g->hostile_rtp, (unsigned long long)g->hostile_rtcp,
           (unsigned long long)g->hostile_refused);
    EXPECT(health_ok == health_checks && health_checks > 0, "/healthz answered %u of %u times",
           health_ok, health_checks);
}

static void check_peers(GMainContext *ctx, struct mr_test_server *srv, struct mr_test_client *pub,
                        struct mr_test_client *sub, const struct garbage *g)
{
    itest_run(ctx, 1000);
    mr_test_peer_stop_media(pub->peer);
    itest_run(ctx, 500);
    struct mr_test_peer_stats ps, ss;
    mr_test_peer_stats(pub->peer, &ps);
    mr_test_peer_stats(sub->peer, &ss);
    EXPECT(ps.state == MR_TRANSPORT_SECURE && ss.state == MR_TRANSPORT_SECURE,
           "states: publisher %d, subscriber %d", ps.state, ss.state);
    EXPECT(ss.transport.srtp_errors == 0 && ss.rtp_unmatched == 0,
           "subscriber: %llu SRTP errors, %llu unmatched",
           (unsigned long long)ss.transport.srtp_errors, (unsigned long long)ss.rtp_unmatched);
    EXPECT(ps.transport.srtp_errors == 0, "publisher: %llu SRTP errors",
           (unsigned long long)ps.transport.srtp_errors);
    for (unsigned k = 0; k < ss.n_tracks; k++) {
        itest_check_delivery("sub", &ss.tracks[k], itest_sent_track(&ps, ss.tracks[k].kind));
        printf("# %s: %llu of %llu packets received\n", itest_kind(ss.tracks[k].kind),
               (unsigned long long)ss.tracks[k].packets,
               (unsigned long long)itest_sent_track(&ps, ss.tracks[k].kind)->sent_packets);
    }
    /* Every hostile RTP packet came from a new SSRC: past the relay's
     * per-peer limit (16) they must be dropped before libsrtp would clone
     * a stream context for each (unbounded memory otherwise). */
    double capped = -1;
    EXPECT(mr_test_server_metric(srv, "medrelay_packets_dropped_total{cause=\"too_many_ssrcs\"}",
                                 &capped) == 0 && capped + 16 >= (double)g->hostile_rtp,
           "%.0f packets dropped for too many SSRCs, %llu hostile RTP packets sent", capped,
           (unsigned long long)g->hostile_rtp);
    printf("# %.0f of %llu new-SSRC packets dropped by the per-peer SSRC limit\n", capped,
           (unsigned long long)g->hostile_rtp);
    struct mr_test_health h = {0};
    EXPECT(mr_test_server_health(srv, &h, 5000) == 0 && h.publishers == 1 && h.subscribers == 1,
           "healthz after the garbage: %d publishers, %d subscribers", h.publishers, h.subscribers);
    EXPECT(mr_test_server_alive(srv), "the server died");
}

static void test_garbage(void)
{
    struct mr_test_server srv;
    /* SRTP failures are logged at debug level: they show garbage got as far
     * as the relay's demultiplexer. */
    struct mr_test_server_opts opts = {.name = "garbage",
                                       .config_extra = "[log]\nlevel = info,srtp=debug\n"};
    char err[512];
    if (mr_test_server_start(&srv, &opts, err, sizeof(err)) < 0) {
        EXPECT(false, "server start: %s", err);
        return;
    }
    GMainContext *ctx = g_main_context_new();
    struct mr_test_client pub = {0}, sub = {0};
    struct garbage g = {0};
    struct mr_test_peer_config pc = {
        .ctx = ctx, .role = MR_TEST_PUBLISHER, .name = "pub", .video_kbps = 500};
    struct mr_test_peer_config sc = {.ctx = ctx, .role = MR_TEST_SUBSCRIBER, .name = "sub"};
    int rc = mr_test_client_open(&pub, &srv, &pc, ROOM, STREAM, "clinic", "clinic-1");
    bool ok = rc == 0 && mr_test_clients_secure(ctx, &pub, 1, 10000);
    rc = ok ? mr_test_client_open(&sub, &srv, &sc, ROOM, STREAM, "viewer", "v-1") : rc;
    ok = ok && rc == 0 && mr_test_clients_secure(ctx, &sub, 1, 10000);
    EXPECT(ok, "set-up failed: %s (HTTP %d/%d)", mr_strerror(rc), pub.whip.status, sub.whip.status);
    ok = ok && setup_garbage(&g, &pub, &sub);
    if (ok) {
        itest_run(ctx, 1000);
        add_subscriber_ssrcs(&g, &sub);
        throw_garbage(ctx, &srv, &g, &pub, &sub);
        check_peers(ctx, &srv, &pub, &sub, &g);
        EXPECT(mr_test_client_delete(&sub) / 100 == 2, "DELETE subscriber: %d", sub.whip.status);
        EXPECT(mr_test_client_delete(&pub) / 100 == 2, "DELETE publisher: %d", pub.whip.status);
    }
    cleanup_garbage(&g);
    mr_test_client_free(&pub);
    mr_test_client_free(&sub);
    itest_stop_server(&srv);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_garbage))
