/*
 * Several streams and rooms at once: room "ward-1" has a camera and a device
 * screen published by two clinics, room "ward-2" a camera. Two viewers
 * watch each stream. Every viewer must get all of its own stream's packets
 * (from its first key frame on) and nothing of the others' (the payload
 * probes name their publisher). A viewer's FIR (RFC 5104), rather than a
 * PLI, must also reach its publisher as a key-frame request, and only its
 * publisher.
 */
#include <string.h>

#include "itest.h"
#include "rtcp/rtcp.h"

#define N_STREAMS 3
#define VIEWERS   2
#define MEDIA_MS  4000

static const struct {
    const char *room, *stream, *sub;
} streams[N_STREAMS] = {
    {"ward-1", "cam", "clinic-1"},
    {"ward-1", "screen", "clinic-2"},
    {"ward-2", "cam", "clinic-3"},
};

struct stream_peers {
    struct mr_test_client pub;
    struct mr_test_client view[VIEWERS];
};

static bool open_all(GMainContext *ctx, struct mr_test_server *srv, struct stream_peers *sp)
{
    for (unsigned s = 0; s < N_STREAMS; s++) {
        struct mr_test_peer_config pc = {
            .ctx = ctx, .role = MR_TEST_PUBLISHER, .name = streams[s].sub, .video_kbps = 300};
        int rc = mr_test_client_open(&sp[s].pub, srv, &pc, streams[s].room, streams[s].stream,
                                     "clinic", streams[s].sub);
        EXPECT(rc == 0, "publisher %s: %s (HTTP %d)", streams[s].sub, mr_strerror(rc),
               sp[s].pub.whip.status);
        if (rc < 0 || !mr_test_clients_secure(ctx, &sp[s].pub, 1, 10000))
            return false;
    }
    for (unsigned s = 0; s < N_STREAMS; s++) {
        for (unsigned v = 0; v < VIEWERS; v++) {
            char name[32];
            snprintf(name, sizeof(name), "%s-%s-v%u", streams[s].room, streams[s].stream, v);
            struct mr_test_peer_config vc = {.ctx = ctx, .role = MR_TEST_SUBSCRIBER, .name = name};
            int rc = mr_test_client_open(&sp[s].view[v], srv, &vc, streams[s].room,
                                         streams[s].stream, "expert", name);
            EXPECT(rc == 0, "%s: %s (HTTP %d)", name, mr_strerror(rc), sp[s].view[v].whip.status);
            if (rc < 0 || !mr_test_clients_secure(ctx, &sp[s].view[v], 1, 10000))
                return false;
        }
    }
    return true;
}

/* Sends an FIR for the viewer's video SSRC, through its own SRTCP. */
static void send_fir(struct mr_test_client *viewer)
{
    struct mr_test_peer_stats st;
    mr_test_peer_stats(viewer->peer, &st);
    const struct mr_test_track_stats *video = itest_sent_track(&st, MR_MEDIA_VIDEO);
    uint8_t buf[64];
    struct mr_rtcp_rr rr = {.ssrc = 0x5eed0001, .n_reports = 0};
    int n = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    int m = mr_rtcp_write_fir(buf + n, sizeof(buf) - (size_t)n, 0x5eed0001, video->rx_ssrc, 1);
    EXPECT(n > 0 && m > 0 && mr_test_peer_send_raw(viewer->peer, true, buf, (size_t)(n + m)) == 0,
           "could not send the FIR");
}

static void check_firs(GMainContext *ctx, struct stream_peers *sp)
{
    uint64_t before[N_STREAMS];
    for (unsigned s = 0; s < N_STREAMS; s++) {
        struct mr_test_peer_stats ps;
        mr_test_peer_stats(sp[s].pub.peer, &ps);
        before[s] = ps.plis_received + ps.firs_received;
    }
    send_fir(&sp[1].view[0]); /* ward-1/screen */
    itest_run(ctx, 1000);
    for (unsigned s = 0; s < N_STREAMS; s++) {
        struct mr_test_peer_stats ps;
        mr_test_peer_stats(sp[s].pub.peer, &ps);
        uint64_t got = ps.plis_received + ps.firs_received - before[s];
        if (s == 1)
            EXPECT(got >= 1, "%s: the viewer's FIR brought no key-frame request", streams[s].sub);
        else
            EXPECT(got == 0, "%s: %llu key-frame requests meant for another stream",
                   streams[s].sub, (unsigned long long)got);
    }
}

static void check_delivery(struct stream_peers *sp)
{
    for (unsigned s = 0; s < N_STREAMS; s++) {
        struct mr_test_peer_stats ps;
        mr_test_peer_stats(sp[s].pub.peer, &ps);
        for (unsigned v = 0; v < VIEWERS; v++) {
            struct mr_test_peer_stats vs;
            mr_test_peer_stats(sp[s].view[v].peer, &vs);
            const char *who = mr_test_peer_name(sp[s].view[v].peer);
            EXPECT(vs.n_tracks == 2 && vs.transport.srtp_errors == 0, "%s: %u tracks, %llu SRTP errors",
                   who, vs.n_tracks, (unsigned long long)vs.transport.srtp_errors);
            for (unsigned k = 0; k < vs.n_tracks; k++) {
                const struct mr_test_track_stats *r = &vs.tracks[k];
                EXPECT(r->sources == 1, "%s %s: media from %u publishers", who,
                       itest_kind(r->kind), r->sources);
                itest_check_delivery(who, r, itest_sent_track(&ps, r->kind));
            }
        }
    }
}

static void close_all(struct stream_peers *sp)
{
    for (unsigned s = 0; s < N_STREAMS; s++) {
        for (unsigned v = 0; v < VIEWERS; v++) {
            if (sp[s].view[v].whip.location[0])
                mr_test_client_delete(&sp[s].view[v]);
            mr_test_client_free(&sp[s].view[v]);
        }
        if (sp[s].pub.whip.location[0])
            mr_test_client_delete(&sp[s].pub);
        mr_test_client_free(&sp[s].pub);
    }
}

static void test_multistream(void)
{
    struct mr_test_server srv;
    struct mr_test_server_opts opts = {.name = "multistream"};
    char err[512];
    if (mr_test_server_start(&srv, &opts, err, sizeof(err)) < 0) {
        EXPECT(false, "server start: %s", err);
        return;
    }
    GMainContext *ctx = g_main_context_new();
    struct stream_peers sp[N_STREAMS];
    memset(sp, 0, sizeof(sp));
    if (open_all(ctx, &srv, sp)) {
        struct mr_test_health h = {0};
        EXPECT(mr_test_server_health(&srv, &h, 5000) == 0 && h.publishers == N_STREAMS &&
                   h.subscribers == N_STREAMS * VIEWERS && h.streams == N_STREAMS,
               "healthz: %d publishers, %d subscribers, %d streams", h.publishers, h.subscribers,
               h.streams);
        itest_run(ctx, MEDIA_MS / 2);
        check_firs(ctx, sp);
        itest_run(ctx, MEDIA_MS / 2);
        for (unsigned s = 0; s < N_STREAMS; s++)
            mr_test_peer_stop_media(sp[s].pub.peer);
        itest_run(ctx, 500);
        check_delivery(sp);
    }
    close_all(sp);
    itest_stop_server(&srv);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_multistream))
