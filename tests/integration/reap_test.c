/*
 * Dead peers are reaped (ARCHITECTURE.md §1: "Dead peers are detected within
 * about 30 s (ICE consent freshness, RFC 7675)").
 *
 * A publisher streams to three subscribers. Two of them vanish without a
 * DELETE, one after the other:
 *  - "sub-silent": its transport is freed and its UDP port taken over by a
 *    socket that swallows everything, as when a phone leaves coverage behind
 *    a NAT: the relay's consent checks go unanswered, with no ICMP error;
 *  - "sub-closed": its transport is freed and the port left closed, so the
 *    kernel answers the relay's checks with ICMP port unreachable.
 * Each must be dropped by the relay within 45 s (/healthz counts it gone,
 * PATCH of its URL answers 404 session-not-found, and its client's DELETE,
 * coming late, still succeeds: DELETE is idempotent), while "sub-stays"
 * keeps receiving every packet.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "itest.h"

#define ROOM         "ward-7"
#define STREAM       "bed-3"
#define REAP_LIMIT_S 45
#define N_SUBS       3

static const char *const names[N_SUBS] = {"sub-silent", "sub-closed", "sub-stays"};

static int subscriber_count(struct mr_test_server *srv)
{
    struct mr_test_health h;
    return mr_test_server_health(srv, &h, 2000) == 0 ? h.subscribers : -1;
}

static bool open_all(GMainContext *ctx, struct mr_test_server *srv, struct mr_test_client *pub,
                     struct mr_test_client *subs)
{
    struct mr_test_peer_config pc = {
        .ctx = ctx, .role = MR_TEST_PUBLISHER, .name = "pub", .video_kbps = 300};
    int rc = mr_test_client_open(pub, srv, &pc, ROOM, STREAM, "clinic", "clinic-1");
    EXPECT(rc == 0, "publisher: %s (HTTP %d %s)", mr_strerror(rc), pub->whip.status,
           pub->whip.error);
    if (rc < 0 || !mr_test_clients_secure(ctx, pub, 1, 10000))
        return false;
    for (unsigned i = 0; i < N_SUBS; i++) {
        char sub[16];
        snprintf(sub, sizeof(sub), "v-%u", i);
        struct mr_test_peer_config sc = {.ctx = ctx, .role = MR_TEST_SUBSCRIBER, .name = names[i]};
        rc = mr_test_client_open(&subs[i], srv, &sc, ROOM, STREAM, "viewer", sub);
        EXPECT(rc == 0, "%s: %s (HTTP %d %s)", names[i], mr_strerror(rc), subs[i].whip.status,
               subs[i].whip.error);
        if (rc < 0)
            return false;
    }
    return mr_test_clients_secure(ctx, subs, N_SUBS, 10000);
}

/* Binds a socket to the port a freed peer used, and never reads it. The
 * peer's agent may hold the port until its context runs once more. */
static int swallow_port(GMainContext *ctx, uint16_t port)
{
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        if (fd >= 0)
            close(fd);
        itest_run(ctx, 20);
    }
    return -1;
}

/* Lets subscriber i vanish (silently or not) and waits for the relay to drop
 * its session; returns the seconds it took, or -1. */
static double vanish(GMainContext *ctx, struct mr_test_server *srv, struct mr_test_client *c,
                     bool silent, int *swallow_fd)
{
    char frag[4096];
    int frag_len = mr_test_peer_local_fragment(c->peer, frag, sizeof(frag));
    struct mr_sdp_candidate cand;
    unsigned n_cand = mr_test_peer_local_candidates(c->peer, &cand, 1);
    EXPECT(frag_len > 0 && n_cand == 1, "%s: no fragment or candidate", mr_test_peer_name(c->peer));
    if (frag_len <= 0 || n_cand != 1)
        return -1;
    int st = mr_test_whip_patch(&c->whip, frag, (size_t)frag_len, MR_TEST_HTTP_TIMEOUT_MS);
    EXPECT(st == 204, "PATCH (trickle) of a live session: %d %s", st, c->whip.error);
    int before = subscriber_count(srv);
    const char *name = silent ? "sub-silent" : "sub-closed";
    mr_test_client_free(c); /* no DELETE, no more consent replies */
    int64_t t0 = mr_clock_mono_us();
    if (silent) {
        *swallow_fd = swallow_port(ctx, cand.port);
        EXPECT(*swallow_fd >= 0, "%s: cannot take over port %u", name, cand.port);
    }
    int n = before;
    while (n == before && mr_clock_mono_us() - t0 < (REAP_LIMIT_S + 10) * 1000000LL) {
        itest_run(ctx, 1000);
        n = subscriber_count(srv);
    }
    double s = (mr_clock_mono_us() - t0) / 1e6;
    printf("# %s was reaped after %.1f s (healthz polled every ~1 s)\n", name, s);
    EXPECT(n == before - 1 && s < REAP_LIMIT_S, "%s: %d subscribers after %.1f s", name, n, s);
    st = mr_test_whip_patch(&c->whip, frag, (size_t)frag_len, MR_TEST_HTTP_TIMEOUT_MS);
    EXPECT(st == 404 && strcmp(c->whip.error, "session-not-found") == 0,
           "%s: PATCH of the reaped session: %d %s", name, st, c->whip.error);
    st = mr_test_client_delete(c);
    EXPECT(st == 200 || st == 204, "%s: DELETE of the reaped session: %d %s", name, st,
           c->whip.error);
    return s;
}

static void check_survivor(GMainContext *ctx, struct mr_test_client *pub, struct mr_test_client *c)
{
    mr_test_peer_stop_media(pub->peer);
    itest_run(ctx, 500);
    struct mr_test_peer_stats ps, ss;
    mr_test_peer_stats(pub->peer, &ps);
    mr_test_peer_stats(c->peer, &ss);
    EXPECT(ss.state == MR_TRANSPORT_SECURE && ss.transport.srtp_errors == 0,
           "sub-stays: state %d, %llu SRTP errors", ss.state,
           (unsigned long long)ss.transport.srtp_errors);
    for (unsigned k = 0; k < ss.n_tracks; k++)
        itest_check_delivery("sub-stays", &ss.tracks[k], itest_sent_track(&ps, ss.tracks[k].kind));
    EXPECT(mr_test_client_delete(c) / 100 == 2, "DELETE sub-stays: %d", c->whip.status);
    EXPECT(mr_test_client_delete(pub) / 100 == 2, "DELETE publisher: %d", pub->whip.status);
}

static void test_reap(void)
{
    struct mr_test_server srv;
    struct mr_test_server_opts opts = {.name = "reap"};
    char err[512];
    if (mr_test_server_start(&srv, &opts, err, sizeof(err)) < 0) {
        EXPECT(false, "server start: %s", err);
        return;
    }
    GMainContext *ctx = g_main_context_new();
    struct mr_test_client pub = {0}, subs[N_SUBS];
    memset(subs, 0, sizeof(subs));
    int swallow_fd = -1;
    bool ok = open_all(ctx, &srv, &pub, subs);
    EXPECT(ok, "not everyone connected");
    if (ok) {
        itest_run(ctx, 1000);
        EXPECT(subscriber_count(&srv) == N_SUBS, "healthz: not %d subscribers", N_SUBS);
        vanish(ctx, &srv, &subs[0], true, &swallow_fd);
        vanish(ctx, &srv, &subs[1], false, NULL);
        check_survivor(ctx, &pub, &subs[2]);
    }
    if (swallow_fd >= 0)
        close(swallow_fd);
    mr_test_client_free(&pub);
    for (unsigned i = 0; i < N_SUBS; i++)
        mr_test_client_free(&subs[i]);
    itest_stop_server(&srv);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_reap))
