/*
 * Segments and gaps: a recording split by duration (2 s) and one split by
 * size (60 kB) give several files, each playable on its own and starting
 * with a key frame, with their own sidecars (same id, segment 1, 2, ...);
 * video that stops for 11 s ends in the first file and comes back in a
 * second one while audio goes on; audio that stops for 2 s is filled with
 * silence, so the muxer keeps writing and the file stays one piece; an
 * outage of both (a clinic's uplink, a network change), of 3 s or of 11.5 s
 * (longer than the video stall), stays in one file too.
 */
#include <glob.h>

#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"
#include "test_record_media.h"

static char root[128];

struct case_ {
    const char *room;
    struct mr_recorder *r;
    struct tm_track a, v;
    struct tm_feed feed;
    unsigned nfiles;
    char files[8][PATH_MAX];
    double dur[8];
};

static void start(struct case_ *c, unsigned seconds, uint64_t bytes, double media_s)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/%s", root, c->room);
    struct mr_record_config cfg = {.dir = dir, .segment_seconds = seconds, .segment_bytes = bytes};
    CHECK_INT(mr_recorder_new(&cfg, &c->r), 0);
    CHECK(tm_make_opus(&c->a, media_s, 0x1111));
    CHECK(tm_make_vp8(&c->v, media_s, 0, 0x2222, "ball"));
    struct mr_record_params p = tm_params(c->room, "cam");
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
    c->feed.tracks[0] = &c->a;
    c->feed.tracks[1] = &c->v;
    c->feed.n = 2;
    char err[256];
    CHECK_INT(mr_recording_start(c->r, &p, NULL, NULL, &c->feed.rec, err, sizeof(err)), 0);
}

/* Stops, then checks every file of the recording. */
static void finish(struct case_ *c)
{
    mr_recording_stop(c->feed.rec);
    CHECK_INT(tm_wait_end(c->feed.rec, 10000), MR_RECORDING_DONE);
    struct mr_recording_info info;
    mr_recording_info(c->feed.rec, &info);
    char pattern[512];
    snprintf(pattern, sizeof(pattern), "%s/%s/%s/*/cam_*.webm", root, c->room, c->room);
    glob_t g;
    CHECK_INT(glob(pattern, 0, NULL, &g), 0);
    c->nfiles = (unsigned)g.gl_pathc;
    CHECK_INT(c->nfiles, info.segments);
    printf("  %s: %u segments:", c->room, c->nfiles);
    for (unsigned i = 0; i < c->nfiles && i < 8; i++) {
        /* glob sorts: cam_..._id8.webm before cam_..._id8_2.webm */
        snprintf(c->files[i], PATH_MAX, "%s", g.gl_pathv[i]);
        json_t *doc = tm_sidecar(c->files[i]);
        CHECK_STR(tm_jstr(doc, "id"), info.id);
        CHECK_STR(tm_jstr(doc, "state"), "complete");
        CHECK_INT(json_integer_value(json_object_get(doc, "segment")), i + 1);
        char hex[MR_RECORD_SHA256_LEN + 1];
        tm_sha256_file(c->files[i], hex);
        CHECK_STR(tm_jstr(doc, "sha256"), hex);
        if (i > 0) {
            char suffix[16];
            snprintf(suffix, sizeof(suffix), "_%u.webm", i + 1);
            CHECK(strstr(c->files[i], suffix) != NULL);
        }
        struct tm_probe pr = tm_discover(c->files[i]);
        struct tm_decoded d = tm_decode(c->files[i]);
        c->dur[i] = pr.duration_s;
        printf(" [%.2f s, video %u frames to %.2f s, audio to %.2f s]", pr.duration_s,
               d.video_frames, d.video_end_s, d.audio_end_s);
        CHECK(pr.ok && !d.error);
        CHECK_STR(pr.audio, "audio/x-opus");
        CHECK(fabs(tm_jnum(doc, "duration_s") - pr.duration_s) < 0.1);
        json_decref(doc);
    }
    printf("\n");
    globfree(&g);
    mr_recording_unref(c->feed.rec);
    mr_recorder_free(c->r, 1000);
    tm_track_free(&c->a);
    tm_track_free(&c->v);
}

static void test_segments(void)
{
    mr_log_init();
    tm_tmpdir(root, sizeof(root), "seg");
    struct case_ c[6] = {{.room = "by-time"},
                         {.room = "by-size"},
                         {.room = "video-gap"},
                         {.room = "audio-gap"},
                         {.room = "outage"},
                         {.room = "long-outage"}};
    start(&c[0], 2, 0, 5);
    start(&c[1], 0, 60000, 5);
    start(&c[2], 0, 0, 13.5);
    start(&c[3], 0, 0, 5);
    start(&c[4], 0, 0, 6);
    start(&c[5], 0, 0, 13.5);
    /* The camera stops for 11 s while the microphone goes on. */
    c[2].v.gap_from_ns = 1500000000LL;
    c[2].v.gap_to_ns = 12500000000LL;
    c[3].a.gap_from_ns = 1500000000LL;
    c[3].a.gap_to_ns = 3500000000LL;
    /* The clinic's uplink is down for 3 s: both tracks stop and resume. */
    c[4].a.gap_from_ns = c[4].v.gap_from_ns = 1500000000LL;
    c[4].a.gap_to_ns = c[4].v.gap_to_ns = 4500000000LL;
    /* A clinic that changed networks: 11.5 s without anything. */
    c[5].a.gap_from_ns = c[5].v.gap_from_ns = 1500000000LL;
    c[5].a.gap_to_ns = c[5].v.gap_to_ns = 13000000000LL;
    struct tm_feed f[6];
    for (int i = 0; i < 6; i++)
        f[i] = c[i].feed;
    tm_feed_run(f, 6, 0);
    for (int i = 0; i < 6; i++)
        c[i].feed = f[i];

    finish(&c[0]);
    CHECK_INT(c[0].nfiles, 3); /* cuts at the key frames at 2 s and 4 s */
    double total = 0;
    for (unsigned i = 0; i < c[0].nfiles; i++)
        total += c[0].dur[i];
    CHECK(fabs(total - 5) < 0.5);
    CHECK(fabs(c[0].dur[0] - 2) < 0.2);

    finish(&c[1]);
    CHECK(c[1].nfiles >= 2);

    finish(&c[2]);
    CHECK_INT(c[2].nfiles, 2);
    if (c[2].nfiles == 2) {
        struct tm_decoded d = tm_decode(c[2].files[0]);
        CHECK(d.video_end_s < 1.6 && d.audio_end_s > 12);
        CHECK(fabs(c[2].dur[1] - 0.5) < 0.3); /* from the key frame at 13 s */
    }

    /* An outage shorter than the stall: one file, video on both sides. */
    finish(&c[4]);
    CHECK_INT(c[4].nfiles, 1);
    if (c[4].nfiles == 1) {
        struct tm_decoded o = tm_decode(c[4].files[0]);
        CHECK(o.video_end_s > 5.8 && o.audio_end_s > 5.8);
    }

    /* Longer than the video stall, but audio and video stopped together:
     * one file, video on both sides of the gap. */
    finish(&c[5]);
    CHECK_INT(c[5].nfiles, 1);
    if (c[5].nfiles == 1) {
        struct tm_decoded o = tm_decode(c[5].files[0]);
        CHECK(o.video_end_s > 13.3 && o.audio_end_s > 13.3);
    }

    finish(&c[3]);
    CHECK_INT(c[3].nfiles, 1);
    struct tm_decoded d = tm_decode(c[3].files[0]);
    CHECK(d.audio_end_s > 4.8 && d.video_end_s > 4.8);
    tm_rmrf(root);
}

MR_TEST_MAIN(MR_TEST(test_segments))
