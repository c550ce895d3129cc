/*
 * Room subscriptions, driven through the relay's control interface in
 * process (the room protocol's /ws is not there yet): two streams of one
 * room published by C test peers, one room subscription answered by a C
 * test peer. Checks that both streams arrive on the one transport with the
 * offered SSRCs and payload types, in order; that an update retires a
 * stream's sections (its packets stop) and a later one brings it back on
 * recycled positions with fresh mids; that a publisher's reconnect keeps
 * the sections flowing with continuous sequence numbers; that PLIs reach
 * only the right publisher; that a moderator's mute drops audio (and is
 * counted and reported); and that closing ends it.
 */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"
#include "itest.h"
#include "rtcp/rtcp.h"
#include "sfu/relay.h"

#define ROOM "ward-7"

struct result {
    bool done;
    int err;
    char id[MR_SESSION_ID_LEN + 1];
    char *sdp;
    size_t len;
};

static void on_result(const struct mr_session_result *res, void *user)
{
    struct result *r = user;
    r->done = true;
    r->err = res->err;
    snprintf(r->id, sizeof(r->id), "%s", res->session_id ? res->session_id : "");
    free(r->sdp);
    r->sdp = res->answer ? g_strndup(res->answer, res->answer_len) : NULL;
    r->len = res->answer_len;
}

static bool result_done(void *arg)
{
    return ((struct result *)arg)->done;
}

static GMainContext *ctx;
static struct mr_relay *relay;

/* Publishes room/stream as sub; returns the secure peer or NULL. */
static struct mr_test_peer *publish(const char *stream, const char *sub, char *session_id)
{
    struct mr_test_peer_config pc = {
        .ctx = ctx, .role = MR_TEST_PUBLISHER, .name = stream, .video_kbps = 300};
    struct mr_test_peer *p = NULL;
    char *offer = NULL, detail[200] = "", err[200] = "";
    size_t len = 0;
    uint64_t ticket;
    struct result res = {0};
    EXPECT(mr_test_peer_new(&pc, &p) == 0 && mr_test_peer_create_offer(p, &offer, &len) == 0,
           "%s: no offer", stream);
    struct mr_session_request req = {.kind = MR_SESSION_PUBLISH, .room = ROOM, .stream = stream,
                                     .sub = sub, .offer = offer, .offer_len = len};
    int rc = offer ? mr_relay_open(relay, &req, on_result, &res, &ticket, detail, sizeof(detail))
                   : MR_EINVAL;
    EXPECT(rc == 0, "%s: open: %s %s", stream, mr_strerror(rc), detail);
    if (rc == 0)
        mr_test_loop_until(ctx, result_done, &res, 10000);
    EXPECT(res.done && res.err == 0 && res.sdp, "%s: no answer (%d)", stream, res.err);
    if (res.sdp)
        EXPECT(mr_test_peer_apply_answer(p, res.sdp, res.len, err, sizeof(err)) == 0, "%s: %s",
               stream, err);
    bool ok = res.sdp && mr_test_peer_wait_secure(p, 10000);
    EXPECT(ok, "%s: publisher not secure", stream);
    snprintf(session_id, MR_SESSION_ID_LEN + 1, "%s", res.id);
    free(offer);
    free(res.sdp);
    if (!ok) {
        mr_test_peer_free(p);
        return NULL;
    }
    return p;
}

/* The stream a section of the offer carries (its a=msid), "" if retired. */
static void offer_streams(const char *sdp, size_t len, char mids[][8],
                          char streams[][MR_NAME_MAX + 1], unsigned *n, unsigned *live)
{
    struct mr_sdp *o = malloc(sizeof(*o));
    char err[160];
    *n = *live = 0;
    EXPECT(mr_sdp_parse(sdp, len, o, err, sizeof(err)) == 0, "offer does not parse: %s", err);
    for (unsigned i = 0; i < o->n_media; i++) {
        snprintf(mids[i], 8, "%.7s", o->media[i].mid);
        char *sp = strchr(o->media[i].msid, ' ');
        snprintf(streams[i], 65, "%.*s", sp ? (int)(sp - o->media[i].msid) : 0, o->media[i].msid);
        *live += o->media[i].port != 0;
        EXPECT(o->media[i].port == 0 || o->media[i].setup == MR_SETUP_ACTPASS,
               "section %u: setup %d", i, o->media[i].setup);
    }
    *n = o->n_media;
    free(o);
}

struct sub_state {
    struct mr_test_peer *peer;
    char id[MR_SESSION_ID_LEN + 1];
    unsigned n_sections;
    char mids[MR_SDP_MAX_MEDIA][8];
    char streams[MR_SDP_MAX_MEDIA][MR_NAME_MAX + 1];
};

/* Answers an offer with the test peer and applies the answer. */
static bool answer_offer(struct sub_state *ss, struct result *res, unsigned want_live)
{
    char *answer = NULL, err[200] = "", detail[200] = "";
    size_t alen = 0;
    unsigned live;
    EXPECT(res->done && res->err == 0 && res->sdp, "no offer delivered (%d)", res->err);
    if (!res->sdp)
        return false;
    offer_streams(res->sdp, res->len, ss->mids, ss->streams, &ss->n_sections, &live);
    EXPECT(live == want_live, "offer has %u live sections, expected %u", live, want_live);
    int rc = mr_test_peer_answer(ss->peer, res->sdp, res->len, &answer, &alen, err, sizeof(err));
    EXPECT(rc == 0, "test peer cannot answer: %s", err);
    if (rc == 0) {
        rc = mr_relay_room_sub_answer(relay, ss->id, answer, alen, detail, sizeof(detail));
        EXPECT(rc == 0, "relay refused the answer: %s %s", mr_strerror(rc), detail);
        /* The same answer again: nothing is waiting for one. */
        EXPECT(mr_relay_room_sub_answer(relay, ss->id, answer, alen, detail, sizeof(detail)) ==
                   MR_ESTATE, "a second answer was taken");
    }
    free(answer);
    return rc == 0;
}

static const char *stream_of(const struct sub_state *ss, const char *mid)
{
    for (unsigned i = 0; i < ss->n_sections; i++)
        if (strcmp(ss->mids[i], mid) == 0)
            return ss->streams[i];
    return "";
}

/* A receiving track that is live now, and what the publisher sends on it. */
/* gap: the track was muted for a while, so probes were skipped (not lost
 * in transit) while its RTP stays continuous. */
static void check_flowing(const char *who, const struct mr_test_track_stats *r,
                          const struct mr_test_peer *pub, bool gap)
{
    struct mr_test_peer_stats ps;
    mr_test_peer_stats(pub, &ps);
    const struct mr_test_track_stats *sent = itest_sent_track(&ps, r->kind);
    const char *k = itest_kind(r->kind);
    EXPECT(r->packets > 20, "%s %s: %llu packets", who, k, (unsigned long long)r->packets);
    EXPECT(sent && r->cur_source == sent->source, "%s %s: from source %08x, not %08x", who, k,
           r->cur_source, sent ? sent->source : 0);
    EXPECT((gap ? r->lost > 0 : r->lost == 0) && r->duplicates == 0 && r->reordered == 0,
           "%s %s: lost %llu dup %llu reordered %llu", who, k, (unsigned long long)r->lost,
           (unsigned long long)r->duplicates, (unsigned long long)r->reordered);
    EXPECT(r->seq_jumps == 0 && r->ts_backwards == 0, "%s %s: %llu seq jumps, %llu ts back",
           who, k, (unsigned long long)r->seq_jumps, (unsigned long long)r->ts_backwards);
    EXPECT(r->rx_ssrcs == 1 && r->rx_ssrc == r->remote_ssrc, "%s %s: ssrc %u (%u), offered %u",
           who, k, r->rx_ssrc, r->rx_ssrcs, r->remote_ssrc);
    EXPECT(r->pt_mismatch == 0 && r->rx_pt == r->pt && r->mid_mismatch == 0,
           "%s %s: pt %u (negotiated %u), %llu without mid", who, k, r->rx_pt, r->pt,
           (unsigned long long)r->mid_mismatch);
    if (r->kind == MR_MEDIA_VIDEO)
        EXPECT(r->keyframes >= 1 && r->before_keyframe == 0, "%s video: %llu key frames, %llu "
               "before", who, (unsigned long long)r->keyframes,
               (unsigned long long)r->before_keyframe);
}

struct pubs {
    struct mr_test_peer *cam, *screen;
    char cam_id[MR_SESSION_ID_LEN + 1], screen_id[MR_SESSION_ID_LEN + 1];
};

static struct mr_test_peer *pub_of(struct pubs *pb, const char *stream)
{
    return strcmp(stream, "cam") == 0 ? pb->cam : strcmp(stream, "screen") == 0 ? pb->screen : NULL;
}

/* Every accepted track of the subscription carries its stream's media. */
static unsigned check_all_flowing(struct sub_state *ss, struct pubs *pb, const char *phase,
                                  const char *gap_mid)
{
    struct mr_test_peer_stats st;
    mr_test_peer_stats(ss->peer, &st);
    unsigned live = 0;
    for (unsigned i = 0; i < st.n_tracks; i++) {
        const struct mr_test_track_stats *t = &st.tracks[i];
        if (!t->accepted)
            continue;
        char who[64];
        const char *stream = stream_of(ss, t->mid);
        snprintf(who, sizeof(who), "%s: %s (mid %s)", phase, stream, t->mid);
        struct mr_test_peer *pub = pub_of(pb, stream);
        EXPECT(pub != NULL, "%s: no publisher", who);
        if (pub)
            check_flowing(who, t, pub, gap_mid && strcmp(gap_mid, t->mid) == 0);
        live++;
    }
    EXPECT(st.transport.srtp_errors == 0 && st.rtp_unmatched == 0, "%s: %llu SRTP errors, %llu "
           "unmatched", phase, (unsigned long long)st.transport.srtp_errors,
           (unsigned long long)st.rtp_unmatched);
    return live;
}

static uint64_t packets_of(struct mr_test_peer *p, const char *mid)
{
    struct mr_test_peer_stats st;
    mr_test_peer_stats(p, &st);
    for (unsigned i = 0; i < st.n_tracks; i++)
        if (strcmp(st.tracks[i].mid, mid) == 0)
            return st.tracks[i].packets;
    return 0;
}

static bool update(struct sub_state *ss, const char *const *streams, unsigned n, unsigned live)
{
    struct mr_room_sub_request rq = {.room = ROOM, .sub = "expert-1", .streams = streams,
                                     .n_streams = n};
    struct result res = {0};
    uint64_t ticket, t2;
    char detail[200] = "";
    int rc = mr_relay_room_sub_update(relay, ss->id, &rq, on_result, &res, &ticket, detail,
                                      sizeof(detail));
    EXPECT(rc == 0, "update: %s %s", mr_strerror(rc), detail);
    if (rc < 0)
        return false;
    EXPECT(mr_relay_room_sub_update(relay, ss->id, &rq, on_result, &res, &t2, detail,
                                    sizeof(detail)) == MR_EBUSY, "a second update was taken");
    mr_test_loop_until(ctx, result_done, &res, 5000);
    bool ok = answer_offer(ss, &res, live);
    free(res.sdp);
    return ok;
}

/* --- Phases ------------------------------------------------------------- */

static bool open_sub(struct sub_state *ss)
{
    static const char *const streams[] = {"cam", "ghost", "screen"}; /* ghost: not published */
    struct mr_room_sub_request rq = {.room = ROOM, .sub = "expert-1", .streams = streams,
                                     .n_streams = 3};
    struct result res = {0};
    uint64_t ticket;
    char detail[200] = "";
    int rc = mr_relay_open_room_sub(relay, &rq, on_result, &res, &ticket, detail, sizeof(detail));
    EXPECT(rc == 0, "open_room_sub: %s %s", mr_strerror(rc), detail);
    if (rc < 0)
        return false;
    mr_test_loop_until(ctx, result_done, &res, 10000);
    snprintf(ss->id, sizeof(ss->id), "%s", res.id);
    struct mr_test_peer_config vc = {.ctx = ctx, .role = MR_TEST_SUBSCRIBER, .name = "room-sub"};
    EXPECT(mr_test_peer_new(&vc, &ss->peer) == 0, "no subscriber peer");
    /* Garbage is refused and leaves the offer waiting. */
    EXPECT(mr_relay_room_sub_answer(relay, ss->id, "v=0\r\n", 5, detail, sizeof(detail)) ==
               MR_EPARSE, "garbage answer taken");
    bool ok = ss->peer && answer_offer(ss, &res, 4);
    free(res.sdp);
    EXPECT(ss->n_sections == 4, "first offer: %u sections", ss->n_sections);
    return ok && mr_test_peer_wait_secure(ss->peer, 10000);
}

static void check_retire_and_readd(struct sub_state *ss, struct pubs *pb)
{
    char screen_mids[2][8] = {"", ""};
    for (unsigned i = 0, k = 0; i < ss->n_sections; i++)
        if (strcmp(ss->streams[i], "screen") == 0 && k < 2)
            snprintf(screen_mids[k++], 8, "%s", ss->mids[i]);
    static const char *const cam_only[] = {"cam"};
    if (!update(ss, cam_only, 1, 2))
        return;
    EXPECT(ss->n_sections == 4, "after retiring: %u sections (m-lines never go away)",
           ss->n_sections);
    itest_run(ctx, 400); /* the worker applies the answer; packets in flight land */
    uint64_t before = packets_of(ss->peer, screen_mids[0]) + packets_of(ss->peer, screen_mids[1]);
    itest_run(ctx, 1500);
    uint64_t after = packets_of(ss->peer, screen_mids[0]) + packets_of(ss->peer, screen_mids[1]);
    EXPECT(after == before, "retired screen sections still receive (%llu -> %llu)",
           (unsigned long long)before, (unsigned long long)after);
    EXPECT(check_all_flowing(ss, pb, "cam only", NULL) == 2, "cam only: live tracks");

    static const char *const both[] = {"cam", "screen"};
    if (!update(ss, both, 2, 4))
        return;
    EXPECT(ss->n_sections == 4, "re-added: %u sections (retired positions reused)",
           ss->n_sections);
    for (unsigned i = 0; i < ss->n_sections; i++)
        if (strcmp(ss->streams[i], "screen") == 0)
            EXPECT(strcmp(ss->mids[i], screen_mids[0]) && strcmp(ss->mids[i], screen_mids[1]),
                   "recycled section %u kept mid %s", i, ss->mids[i]);
    itest_run(ctx, 2500);
    EXPECT(check_all_flowing(ss, pb, "re-added", NULL) == 4, "re-added: live tracks");
}

/* PLI for the screen's video SSRC: only the screen's publisher is asked. */
static void check_pli_routing(struct sub_state *ss, struct pubs *pb)
{
    struct mr_test_peer_stats st, cam0, scr0, cam1, scr1;
    mr_test_peer_stats(ss->peer, &st);
    uint32_t ssrc = 0;
    for (unsigned i = 0; i < st.n_tracks; i++)
        if (st.tracks[i].accepted && st.tracks[i].kind == MR_MEDIA_VIDEO &&
            strcmp(stream_of(ss, st.tracks[i].mid), "screen") == 0)
            ssrc = st.tracks[i].rx_ssrc;
    itest_run(ctx, 400); /* past the coalescing window */
    mr_test_peer_stats(pb->cam, &cam0);
    mr_test_peer_stats(pb->screen, &scr0);
    uint8_t buf[64];
    struct mr_rtcp_rr rr = {.ssrc = 0x5eed0002};
    int n = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    int m = mr_rtcp_write_pli(buf + n, sizeof(buf) - (size_t)n, 0x5eed0002, ssrc);
    EXPECT(ssrc && n > 0 && m > 0 &&
               mr_test_peer_send_raw(ss->peer, true, buf, (size_t)(n + m)) == 0,
           "could not send the PLI");
    itest_run(ctx, 250);
    mr_test_peer_stats(pb->cam, &cam1);
    mr_test_peer_stats(pb->screen, &scr1);
    EXPECT(scr1.plis_received + scr1.firs_received > scr0.plis_received + scr0.firs_received,
           "the screen's publisher got no key-frame request");
    EXPECT(cam1.plis_received == cam0.plis_received && cam1.firs_received == cam0.firs_received,
           "the camera's publisher was asked for a key frame meant for the screen");
}

static void check_reconnect(struct sub_state *ss, struct pubs *pb)
{
    /* The same participant publishes again: its new session replaces the
     * old one, whose peer then vanishes. */
    char id[MR_SESSION_ID_LEN + 1];
    struct mr_test_peer *old = pb->cam;
    struct mr_test_peer *fresh = publish("cam", "clinic-1", id);
    mr_test_peer_free(old);
    pb->cam = fresh;
    if (!fresh)
        return;
    snprintf(pb->cam_id, sizeof(pb->cam_id), "%s", id);
    struct mr_session_info info;
    EXPECT(mr_relay_session_info(relay, ss->id, &info) == 0 && info.kind == MR_SESSION_SUBSCRIBE &&
               info.stream[0] == '\0' && strcmp(info.room, ROOM) == 0,
           "the room subscription did not survive the publisher's reconnect");
    itest_run(ctx, 2500);
    struct mr_test_peer_stats st;
    mr_test_peer_stats(ss->peer, &st);
    for (unsigned i = 0; i < st.n_tracks; i++)
        if (st.tracks[i].accepted && strcmp(stream_of(ss, st.tracks[i].mid), "cam") == 0)
            EXPECT(st.tracks[i].sources == 2, "cam %s: %u sources (expected old and new)",
                   itest_kind(st.tracks[i].kind), st.tracks[i].sources);
    check_all_flowing(ss, pb, "after reconnect", NULL);
}

struct status_seen {
    unsigned n;
    struct mr_stream_status cam, screen;
};

static void on_status(const struct mr_stream_status *s, void *user)
{
    struct status_seen *seen = user;
    seen->n++;
    if (strcmp(s->stream, "cam") == 0)
        seen->cam = *s;
    else if (strcmp(s->stream, "screen") == 0)
        seen->screen = *s;
}

static uint64_t metric(const char *text, const char *line_start)
{
    const char *p = strstr(text, line_start);
    return p ? strtoull(p + strlen(line_start), NULL, 10) : UINT64_MAX;
}

static void check_mute(struct sub_state *ss, struct pubs *pb)
{
    EXPECT(mr_relay_set_muted(relay, ROOM, "nope", true, true) == MR_ENOENT, "unknown stream");
    EXPECT(mr_relay_set_muted(relay, ROOM, "cam", true, true) == 0, "mute failed");
    struct status_seen seen = {0};
    mr_relay_each_stream(relay, ROOM, on_status, &seen);
    EXPECT(seen.n == 2 && seen.cam.audio_muted && !seen.cam.video_muted && seen.cam.has_audio &&
               seen.cam.has_video && seen.cam.subscribers == 1 && seen.screen.subscribers == 1 &&
               !seen.screen.audio_muted,
           "status: %u streams, cam muted %d/%d, has %d/%d, subscribers %u/%u", seen.n,
           seen.cam.audio_muted, seen.cam.video_muted, seen.cam.has_audio, seen.cam.has_video,
           seen.cam.subscribers, seen.screen.subscribers);
    char cam_audio[8] = "", cam_video[8] = "";
    struct mr_test_peer_stats st;
    mr_test_peer_stats(ss->peer, &st);
    for (unsigned i = 0; i < st.n_tracks; i++)
        if (st.tracks[i].accepted && strcmp(stream_of(ss, st.tracks[i].mid), "cam") == 0)
            snprintf(st.tracks[i].kind == MR_MEDIA_AUDIO ? cam_audio : cam_video, 8, "%s",
                     st.tracks[i].mid);
    itest_run(ctx, 300);
    uint64_t a0 = packets_of(ss->peer, cam_audio), v0 = packets_of(ss->peer, cam_video);
    itest_run(ctx, 1200);
    uint64_t a1 = packets_of(ss->peer, cam_audio), v1 = packets_of(ss->peer, cam_video);
    EXPECT(a1 == a0, "muted audio still arrives (%llu -> %llu)", (unsigned long long)a0,
           (unsigned long long)a1);
    EXPECT(v1 > v0 + 10, "video stopped while only audio was muted");
    GString *m = g_string_new(NULL);
    mr_relay_metrics(relay, m);
    EXPECT(metric(m->str, "medrelay_packets_dropped_total{cause=\"muted\"} ") > 20,
           "muted drops not counted");
    EXPECT(metric(m->str, "medrelay_sessions{kind=\"room_subscriber\"} ") == 1 &&
               metric(m->str, "medrelay_sessions{kind=\"subscribe\"} ") == 0 &&
               metric(m->str, "medrelay_sessions{kind=\"publish\"} ") == 2,
           "session metrics wrong");
    g_string_free(m, TRUE);
    EXPECT(mr_relay_set_muted(relay, ROOM, "cam", true, false) == 0, "unmute failed");
    itest_run(ctx, 1200);
    EXPECT(packets_of(ss->peer, cam_audio) > a1 + 20, "audio did not resume after unmute");
    check_all_flowing(ss, pb, "after unmute", cam_audio);
}

static void check_close(struct sub_state *ss)
{
    struct mr_relay_counts c;
    mr_relay_counts(relay, &c);
    EXPECT(c.subscribers == 1 && c.room_subscribers == 1 && c.publishers == 2 && c.streams == 2,
           "counts: %u subscribers (%u room), %u publishers, %u streams", c.subscribers,
           c.room_subscribers, c.publishers, c.streams);
    EXPECT(mr_relay_close(relay, ss->id) == 0, "close failed");
    struct mr_session_info info;
    EXPECT(mr_relay_session_info(relay, ss->id, &info) == MR_ENOENT, "still there after close");
    mr_relay_counts(relay, &c);
    EXPECT(c.subscribers == 0 && c.room_subscribers == 0 && c.streams == 2,
           "after close: %u subscribers, %u streams", c.subscribers, c.streams);
    itest_run(ctx, 300);
}

static void test_room_sub(void)
{
    struct mr_config cfg;
    mr_config_defaults(&cfg);
    snprintf(cfg.media_ip, sizeof(cfg.media_ip), "127.0.0.1");
    cfg.workers = 2;
    cfg.record_policy = MR_RECORD_NEVER;
    char dir[] = "/tmp/mr-room-sub-XXXXXX";
    EXPECT(g_mkdtemp(dir) != NULL, "no temporary directory");
    snprintf(cfg.record_dir, sizeof(cfg.record_dir), "%s", dir);
    ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    int rc = mr_relay_new(&cfg, ctx, &relay);
    EXPECT(rc == 0, "relay: %s", mr_strerror(rc));
    if (rc < 0)
        return;
    struct pubs pb = {0};
    struct sub_state ss = {0};
    pb.cam = publish("cam", "clinic-1", pb.cam_id);
    pb.screen = publish("screen", "clinic-2", pb.screen_id);
    if (pb.cam && pb.screen && open_sub(&ss)) {
        itest_run(ctx, 2500);
        EXPECT(check_all_flowing(&ss, &pb, "both", NULL) == 4, "both: live tracks");
        check_retire_and_readd(&ss, &pb);
        check_pli_routing(&ss, &pb);
        check_reconnect(&ss, &pb);
        check_mute(&ss, &pb);
        check_close(&ss);
    }
    mr_test_peer_free(ss.peer);
    mr_test_peer_free(pb.cam);
    mr_test_peer_free(pb.screen);
    mr_relay_free(relay);
    itest_run(ctx, 50);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    g_rmdir(dir);
}

MR_TEST_MAIN(MR_TEST(test_room_sub))
