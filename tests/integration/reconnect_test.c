/*
 * Publisher reconnects and the viewers' grace period (ARCHITECTURE.md §1,
 * "Publisher reconnects", "Viewers survive a publisher gap").
 *
 * Publisher A (sub "clinic-1") streams to three subscribers, then vanishes
 * without a DELETE, as a clinic's dropped 4G link would. Publisher B with
 * the same sub POSTs a moment later and must get 201 (it replaces A); the
 * subscribers, without renegotiating, must resume with B's media within the
 * grace period, their RTP sequence numbers continuing (+1 across the
 * switch), timestamps moving forward and SSRCs unchanged. A different sub
 * POSTing to the stream while B publishes gets 409 stream-busy. Then B
 * leaves (DELETE) and nobody comes back: with viewer_grace = 3 the relay
 * closes the subscribers' sessions after about 3 s (DTLS close_notify to
 * them, /healthz counts none; their DELETE, coming late, still succeeds:
 * DELETE is idempotent).
 */
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define N_SUBS  3
#define ROOM    "clinic"
#define STREAM  "cart-a"
#define GRACE_S 3

static struct mr_test_peer_config pub_config(GMainContext *ctx, const char *name)
{
    return (struct mr_test_peer_config){
        .ctx = ctx, .role = MR_TEST_PUBLISHER, .name = name, .video_kbps = 500};
}

/* Every subscriber track receives probes from the publisher's tracks. */
struct from_pub {
    struct mr_test_client *subs;
    const struct mr_test_peer_stats *pub;
};

static bool all_from(void *arg)
{
    const struct from_pub *f = arg;
    for (unsigned i = 0; i < N_SUBS; i++) {
        struct mr_test_peer_stats ss;
        mr_test_peer_stats(f->subs[i].peer, &ss);
        for (unsigned k = 0; k < ss.n_tracks; k++) {
            const struct mr_test_track_stats *sent = itest_sent_track(f->pub, ss.tracks[k].kind);
            if (!sent || ss.tracks[k].cur_source != sent->source)
                return false;
        }
    }
    return true;
}

static bool wait_media_from(GMainContext *ctx, struct mr_test_client *subs,
                            struct mr_test_client *pub, int timeout_ms)
{
    struct mr_test_peer_stats ps;
    mr_test_peer_stats(pub->peer, &ps); /* sources are fixed at creation */
    struct from_pub f = {subs, &ps};
    return mr_test_loop_until(ctx, all_from, &f, timeout_ms);
}

/* What each subscriber saw across the switch from A to B. */
static void check_switch(struct mr_test_client *subs, const struct mr_test_client *b)
{
    for (unsigned i = 0; i < N_SUBS; i++) {
        struct mr_test_peer_stats ss;
        mr_test_peer_stats(subs[i].peer, &ss);
        const char *who = mr_test_peer_name(subs[i].peer);
        for (unsigned k = 0; k < ss.n_tracks; k++) {
            const struct mr_test_track_stats *r = &ss.tracks[k];
            const char *kind = itest_kind(r->kind);
            int64_t resume_us = r->source_first_us - b->whip.post_us;
            printf("# %s %s: first packet from B %.1f ms after B's POST; across the switch: "
                   "seq %+d, timestamp %+lld ticks (%.1f ms of RTP time) over %.1f ms\n",
                   who, kind, resume_us / 1000.0, r->switch_seq_step, (long long)r->switch_ts_step,
                   r->switch_ts_step * 1000.0 / (r->kind == MR_MEDIA_AUDIO ? 48000 : 90000),
                   r->switch_gap_us / 1000.0);
            EXPECT(r->sources == 2, "%s %s: %u sources seen", who, kind, r->sources);
            EXPECT(resume_us > 0 && resume_us < GRACE_S * 1000000LL,
                   "%s %s: resumed %lld us after B's POST", who, kind, (long long)resume_us);
            EXPECT(r->switch_seq_step == 1, "%s %s: sequence stepped %d across the switch", who,
                   kind, r->switch_seq_step);
            EXPECT(r->switch_ts_step > 0, "%s %s: timestamp stepped %lld across the switch", who,
                   kind, (long long)r->switch_ts_step);
            EXPECT(r->rx_ssrcs == 1, "%s %s: %u SSRCs (renegotiated?)", who, kind, r->rx_ssrcs);
        }
    }
}

static void check_busy(GMainContext *ctx, struct mr_test_server *srv)
{
    struct mr_test_client c;
    struct mr_test_peer_config cc = pub_config(ctx, "pub-other");
    int rc = mr_test_client_open(&c, srv, &cc, ROOM, STREAM, "clinic", "clinic-2");
    EXPECT(rc == MR_EPERM && c.whip.status == 409 && strcmp(c.whip.error, "stream-busy") == 0,
           "a different sub's POST: %s, HTTP %d %s", mr_strerror(rc), c.whip.status, c.whip.error);
    mr_test_client_free(&c);
}

static bool no_subscribers(void *arg)
{
    struct mr_test_health h;
    return mr_test_server_health(arg, &h, 2000) == 0 && h.subscribers == 0;
}

/* B leaves; the relay must close the viewers after the grace period. */
static void check_grace(GMainContext *ctx, struct mr_test_server *srv, struct mr_test_client *b,
                        struct mr_test_client *subs)
{
    EXPECT(mr_test_client_delete(b) / 100 == 2, "DELETE B: %d", b->whip.status);
    int64_t t0 = mr_clock_mono_us();
    bool gone = false;
    while (!gone && mr_clock_mono_us() - t0 < 15000000) {
        itest_run(ctx, 200); /* the subscribers keep running meanwhile */
        gone = no_subscribers(srv);
    }
    double after_s = (mr_clock_mono_us() - t0) / 1e6;
    printf("# viewer sessions closed %.2f s after the publisher left (viewer_grace = %d)\n",
           after_s, GRACE_S);
    /* GLib's second-granularity timers may fire up to a second early. */
    EXPECT(gone && after_s >= GRACE_S - 1.5 && after_s < GRACE_S + 7,
           "subscribers gone: %d, after %.2f s", gone, after_s);
    itest_run(ctx, 500);
    for (unsigned i = 0; i < N_SUBS; i++) {
        const char *who = mr_test_peer_name(subs[i].peer);
        struct mr_test_peer_stats ss;
        mr_test_peer_stats(subs[i].peer, &ss);
        EXPECT(ss.state == MR_TRANSPORT_CLOSED,
               "%s: transport state %d (%s), expected closed "
               "by the relay",
               who, ss.state, ss.state_why);
        int st = mr_test_client_delete(&subs[i]);
        EXPECT(st == 200 || st == 204, "%s: DELETE after the grace period: %d %s", who, st,
               subs[i].whip.error);
    }
    struct mr_test_health h = {-1, -1, -1};
    EXPECT(mr_test_server_health(srv, &h, 5000) == 0 && h.publishers == 0 && h.subscribers == 0 &&
               h.streams == 0,
           "healthz: %d publishers, %d subscribers, %d streams", h.publishers, h.subscribers,
           h.streams);
}

static bool open_all(GMainContext *ctx, struct mr_test_server *srv, struct mr_test_client *a,
                     struct mr_test_client *subs)
{
    struct mr_test_peer_config ac = pub_config(ctx, "pub-A");
    int rc = mr_test_client_open(a, srv, &ac, ROOM, STREAM, "clinic", "clinic-1");
    EXPECT(rc == 0, "A: %s (HTTP %d %s)", mr_strerror(rc), a->whip.status, a->whip.error);
    if (rc < 0 || !mr_test_clients_secure(ctx, a, 1, 10000))
        return false;
    for (unsigned i = 0; i < N_SUBS; i++) {
        char name[16], sub[32];
        snprintf(name, sizeof(name), "sub-%u", i);
        snprintf(sub, sizeof(sub), "expert-%u", i);
        struct mr_test_peer_config sc = {.ctx = ctx, .role = MR_TEST_SUBSCRIBER, .name = name};
        rc = mr_test_client_open(&subs[i], srv, &sc, ROOM, STREAM, "expert", sub);
        EXPECT(rc == 0, "%s: %s (HTTP %d %s)", name, mr_strerror(rc), subs[i].whip.status,
               subs[i].whip.error);
        if (rc < 0)
            return false;
    }
    return mr_test_clients_secure(ctx, subs, N_SUBS, 10000);
}

static void test_reconnect(void)
{
    struct mr_test_server srv;
    struct mr_test_server_opts opts = {.name = "reconnect",
                                       .config_extra = "[media]\nviewer_grace = 3\n"};
    char err[512];
    if (mr_test_server_start(&srv, &opts, err, sizeof(err)) < 0) {
        EXPECT(false, "server start: %s", err);
        return;
    }
    GMainContext *ctx = g_main_context_new();
    struct mr_test_client a = {0}, b = {0}, subs[N_SUBS];
    memset(subs, 0, sizeof(subs));
    bool ok = open_all(ctx, &srv, &a, subs);
    EXPECT(ok, "A and the subscribers did not all connect");
    ok = ok && wait_media_from(ctx, subs, &a, 10000);
    EXPECT(ok, "the subscribers did not all receive A's media");
    if (ok) {
        itest_run(ctx, 1500);
        mr_test_client_free(&a); /* gone without a word */
        itest_run(ctx, 1500);
        struct mr_test_peer_config bc = pub_config(ctx, "pub-B");
        int rc = mr_test_client_open(&b, &srv, &bc, ROOM, STREAM, "clinic", "clinic-1");
        EXPECT(rc == 0 && b.whip.status == 201, "B (same sub): %s, HTTP %d %s", mr_strerror(rc),
               b.whip.status, b.whip.error);
        ok = rc == 0 && mr_test_clients_secure(ctx, &b, 1, 10000);
        ok = ok && wait_media_from(ctx, subs, &b, 10000);
        EXPECT(ok, "the subscribers did not all resume with B's media");
    }
    if (ok) {
        check_switch(subs, &b);
        check_busy(ctx, &srv);
        itest_run(ctx, 2000);
        mr_test_peer_stop_media(b.peer);
        itest_run(ctx, 500);
        struct mr_test_peer_stats bs;
        mr_test_peer_stats(b.peer, &bs);
        for (unsigned i = 0; i < N_SUBS; i++) {
            struct mr_test_peer_stats ss;
            mr_test_peer_stats(subs[i].peer, &ss);
            EXPECT(ss.transport.srtp_errors == 0, "%s: SRTP errors",
                   mr_test_peer_name(subs[i].peer));
            for (unsigned k = 0; k < ss.n_tracks; k++)
                itest_check_delivery(mr_test_peer_name(subs[i].peer), &ss.tracks[k],
                                     itest_sent_track(&bs, ss.tracks[k].kind));
        }
        check_grace(ctx, &srv, &b, subs);
    }
    mr_test_client_free(&a);
    mr_test_client_free(&b);
    for (unsigned i = 0; i < N_SUBS; i++)
        mr_test_client_free(&subs[i]);
    itest_stop_server(&srv);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_reconnect))
