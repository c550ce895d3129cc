/*
 * Lip-sync: a publisher whose video flashes white and whose audio beeps at
 * the same instants (every second, 100 ms), with the video arriving 150 ms
 * later than the audio, as a slower video path would deliver it. The sender
 * reports tell rtpbin the true capture times, so in the file each flash
 * must start within 40 ms of its beep (the issue allows 80 ms). Without
 * sender reports the same feed shows the 150 ms offset, which proves the
 * measurement and that the correction comes from the reports.
 *
 * A third recording of the same feed has its audio path grow 120 ms slower
 * 2.5 s in (a 4G link changing cells): arrival times move, the RTP
 * timestamps and sender reports do not, so the file must stay in sync.
 * A jitter buffer that slaves its output to arrival times (rtpbin's
 * default) shifts the audio by up to the step and then overshoots when the
 * next report pulls it back (seen with Chromium's fake microphone).
 */
#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"
#include "test_record_media.h"

#define SECONDS        10
#define VIDEO_DELAY_NS (150 * 1000000LL)
#define STEP_AT_NS     (2500 * 1000000LL)
#define AUDIO_STEP_NS  (120 * 1000000LL)

static char root[128];

/* Raw frames in, RTP out: black frames with white ones for 100 ms after
 * each whole second. */
static bool make_flash_video(struct tm_track *t)
{
    gst_init(NULL, NULL);
    GError *e = NULL;
    GstElement *p = gst_parse_launch(
        "appsrc name=src format=time caps=video/x-raw,format=I420,width=320,height=240,"
        "framerate=30/1 ! vp8enc deadline=1 keyframe-max-dist=30 lag-in-frames=0 ! "
        "rtpvp8pay pt=96 ssrc=8888 mtu=1200 ! appsink name=out sync=false",
        &e);
    if (!p)
        return false;
    GstElement *src = gst_bin_get_by_name(GST_BIN(p), "src");
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "out");
    gst_element_set_state(p, GST_STATE_PLAYING);
    const size_t size = 320 * 240 * 3 / 2;
    for (int n = 0; n < SECONDS * 30; n++) {
        GstBuffer *b = gst_buffer_new_allocate(NULL, size, NULL);
        GstMapInfo m;
        gst_buffer_map(b, &m, GST_MAP_WRITE);
        bool white = n % 30 < 3;
        memset(m.data, white ? 235 : 16, 320 * 240);
        memset(m.data + 320 * 240, 128, size - 320 * 240);
        gst_buffer_unmap(b, &m);
        GST_BUFFER_PTS(b) = gst_util_uint64_scale(n, GST_SECOND, 30);
        GST_BUFFER_DURATION(b) = gst_util_uint64_scale(1, GST_SECOND, 30);
        gst_app_src_push_buffer(GST_APP_SRC(src), b);
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    GstSample *s;
    while ((s = gst_app_sink_pull_sample(GST_APP_SINK(sink)))) {
        GstBuffer *b = gst_sample_get_buffer(s);
        GstMapInfo m;
        gst_buffer_map(b, &m, GST_MAP_READ);
        tm_track_add(t, (int64_t)GST_BUFFER_PTS(b), m.data, m.size);
        gst_buffer_unmap(b, &m);
        gst_sample_unref(s);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_object_unref(p);
    t->ssrc = 8888;
    t->clock_rate = 90000;
    return t->n > 0;
}

/* Silence with a 1 kHz (square) beep for 100 ms after each whole second. */
static bool make_beep_audio(struct tm_track *t)
{
    GstElement *p = gst_parse_launch(
        "appsrc name=src format=time caps=audio/x-raw,format=S16LE,rate=48000,channels=1,"
        "layout=interleaved ! opusenc frame-size=20 ! rtpopuspay pt=111 ssrc=9999 ! "
        "appsink name=out sync=false",
        NULL);
    if (!p)
        return false;
    GstElement *src = gst_bin_get_by_name(GST_BIN(p), "src");
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "out");
    gst_element_set_state(p, GST_STATE_PLAYING);
    for (int n = 0; n < SECONDS * 50; n++) {
        GstBuffer *b = gst_buffer_new_allocate(NULL, 960 * 2, NULL);
        GstMapInfo m;
        gst_buffer_map(b, &m, GST_MAP_WRITE);
        int16_t *pcm = (int16_t *)m.data;
        for (int i = 0; i < 960; i++) {
            long k = (long)n * 960 + i; /* sample index */
            bool beep = k % 48000 < 4800;
            pcm[i] = beep ? (k / 24 % 2 ? 12000 : -12000) : 0; /* 1 kHz square */
        }
        gst_buffer_unmap(b, &m);
        GST_BUFFER_PTS(b) = gst_util_uint64_scale(n, GST_SECOND, 50);
        GST_BUFFER_DURATION(b) = 20 * GST_MSECOND;
        gst_app_src_push_buffer(GST_APP_SRC(src), b);
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    GstSample *s;
    while ((s = gst_app_sink_pull_sample(GST_APP_SINK(sink)))) {
        GstBuffer *b = gst_sample_get_buffer(s);
        GstMapInfo m;
        gst_buffer_map(b, &m, GST_MAP_READ);
        tm_track_add(t, (int64_t)GST_BUFFER_PTS(b), m.data, m.size);
        gst_buffer_unmap(b, &m);
        gst_sample_unref(s);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_object_unref(p);
    t->ssrc = 9999;
    t->clock_rate = 48000;
    return t->n > 0;
}

/* Onsets (seconds) of flashes and beeps in a file, by decoding it. */
struct onsets {
    double flash[16], beep[16];
    int nflash, nbeep;
};

static void find_onsets(const char *path, struct onsets *o)
{
    memset(o, 0, sizeof(*o));
    char *uri = gst_filename_to_uri(path, NULL);
    char desc[1024];
    snprintf(desc, sizeof(desc),
             "uridecodebin uri=%s name=d d. ! queue ! videoconvert ! video/x-raw,format=GRAY8 ! "
             "appsink name=v sync=false d. ! queue ! audioconvert ! audioresample ! "
             "audio/x-raw,format=S16LE,channels=1,rate=48000 ! appsink name=a sync=false",
             uri);
    g_free(uri);
    GstElement *p = gst_parse_launch(desc, NULL);
    GstElement *v = gst_bin_get_by_name(GST_BIN(p), "v"), *a = gst_bin_get_by_name(GST_BIN(p), "a");
    gst_element_set_state(p, GST_STATE_PLAYING);
    bool was_white = false, was_loud = false;
    for (int spins = 0; spins < 20000; spins++) {
        GstSample *s;
        while ((s = gst_app_sink_try_pull_sample(GST_APP_SINK(v), 0))) {
            GstBuffer *b = gst_sample_get_buffer(s);
            GstMapInfo m;
            gst_buffer_map(b, &m, GST_MAP_READ);
            bool white = m.data[m.size / 2] > 128;
            if (white && !was_white && o->nflash < 16)
                o->flash[o->nflash++] = (double)GST_BUFFER_PTS(b) / GST_SECOND;
            was_white = white;
            gst_buffer_unmap(b, &m);
            gst_sample_unref(s);
        }
        while ((s = gst_app_sink_try_pull_sample(GST_APP_SINK(a), 0))) {
            GstBuffer *b = gst_sample_get_buffer(s);
            GstMapInfo m;
            gst_buffer_map(b, &m, GST_MAP_READ);
            const int16_t *pcm = (const int16_t *)m.data;
            size_t n = m.size / 2;
            for (size_t i = 0; i < n; i++) {
                bool loud = abs(pcm[i]) > 3000;
                if (loud && !was_loud && o->nbeep < 16)
                    o->beep[o->nbeep++] =
                        (double)GST_BUFFER_PTS(b) / GST_SECOND + (double)i / 48000;
                if (loud)
                    was_loud = true;
                /* A beep ends after 50 ms of quiet. */
                static int quiet;
                quiet = loud ? 0 : quiet + 1;
                if (quiet > 2400)
                    was_loud = false;
            }
            gst_buffer_unmap(b, &m);
            gst_sample_unref(s);
        }
        if (gst_app_sink_is_eos(GST_APP_SINK(v)) && gst_app_sink_is_eos(GST_APP_SINK(a)))
            break;
        g_usleep(1000);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(v);
    gst_object_unref(a);
    gst_object_unref(p);
}

static void start(struct mr_recorder *r, struct tm_feed *f, struct tm_track *v, struct tm_track *a,
                  bool rtcp)
{
    struct mr_record_params p = tm_params("sync", rtcp ? "with-sr" : "without-sr");
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 9999);
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 8888);
    memset(f, 0, sizeof(*f));
    f->tracks[0] = a;
    f->tracks[1] = v;
    f->n = 2;
    f->no_rtcp = !rtcp;
    char err[256];
    CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &f->rec, err, sizeof(err)), 0);
}

/* A finished recording's flash - beep offset (seconds) at each flash from
 * the second on (the first is at the very start of the file), in o->pair[]. */
struct pairs {
    double at[16], off[16];
    int n;
};

static void measure(struct tm_feed *f, const char *label, struct pairs *out)
{
    mr_recording_stop(f->rec);
    CHECK_INT(tm_wait_end(f->rec, 10000), MR_RECORDING_DONE);
    struct mr_recording_info info;
    mr_recording_info(f->rec, &info);
    mr_recording_unref(f->rec);
    struct onsets o;
    find_onsets(info.path, &o);
    memset(out, 0, sizeof(*out));
    printf("  %s:", label);
    for (int i = 0; i < o.nflash; i++) {
        double best = 1e9;
        for (int j = 0; j < o.nbeep; j++)
            if (fabs(o.flash[i] - o.beep[j]) < fabs(best))
                best = o.flash[i] - o.beep[j];
        printf(" %+.0f", best * 1000);
        if (o.flash[i] < 0.5 || fabs(best) > 0.5)
            continue;
        out->at[out->n] = o.flash[i];
        out->off[out->n++] = best;
    }
    printf(" ms (flash - beep; %d flashes, %d beeps)\n", o.nflash, o.nbeep);
    CHECK(out->n >= SECONDS - 1);
}

/* The largest |offset - expect| over the flashes in [from, to) seconds. */
static double worst(const struct pairs *p, double from, double to, double expect)
{
    double w = 0;
    for (int i = 0; i < p->n; i++)
        if (p->at[i] >= from && p->at[i] < to && fabs(p->off[i] - expect) > w)
            w = fabs(p->off[i] - expect);
    return w;
}

static double mean(const struct pairs *p)
{
    double sum = 0;
    for (int i = 0; i < p->n; i++)
        sum += p->off[i];
    return p->n ? sum / p->n : 0;
}

static void test_sync(void)
{
    mr_log_init();
    tm_tmpdir(root, sizeof(root), "sync");
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct tm_track v = {0}, a = {0};
    CHECK(make_flash_video(&v));
    CHECK(make_beep_audio(&a));
    v.delay_ns = VIDEO_DELAY_NS;
    /* The same packets, with the audio path's step (shared packet arrays). */
    struct tm_track a_step = a;
    a_step.step_at_ns = STEP_AT_NS;
    a_step.step_ns = AUDIO_STEP_NS;
    struct tm_track a_slip = a_step;
    a_slip.step_in_sr = true;
    struct tm_feed f[4];
    start(r, &f[0], &v, &a, true);
    start(r, &f[1], &v, &a, false);
    start(r, &f[2], &v, &a_step, true);
    start(r, &f[3], &v, &a_slip, true);
    tm_feed_run(f, 4, 0);
    struct pairs with, without, step, slip;
    measure(&f[0], "with sender reports", &with);
    measure(&f[1], "without", &without);
    measure(&f[2], "audio path 120 ms slower at 2.5 s", &step);
    measure(&f[3], "audio clock slips 120 ms at 2.5 s", &slip);
    const double end = SECONDS, slip_s = AUDIO_STEP_NS / 1e9, at_s = STEP_AT_NS / 1e9;
    printf("  A/V offset: with sender reports max %.0f ms, without mean %+.0f ms, path step max "
           "%.0f ms, after the slip max %.0f ms from -%.0f ms\n",
           worst(&with, 0, end, 0) * 1000, mean(&without) * 1000, worst(&step, 0, end, 0) * 1000,
           worst(&slip, at_s + 1.5, end, -slip_s) * 1000, slip_s * 1000);
    CHECK(worst(&with, 0, end, 0) < 0.040);
    CHECK(fabs(mean(&without) - VIDEO_DELAY_NS / 1e9) < 0.040);
    /* Slaving to arrival times moves the audio by 26 ms here within 4 s
     * of the step; RTP time does not move it at all. */
    CHECK(worst(&step, 0, end, 0) < 0.020);
    /* The slip: in sync before it; from the sender report after next on,
     * the audio as late as the source's, and no further (slaving to
     * arrival times overshoots by 32 ms). */
    CHECK(worst(&slip, 0, at_s, 0) < 0.020);
    CHECK(worst(&slip, at_s + 1.5, end, -slip_s) < 0.020);
    tm_track_free(&v);
    tm_track_free(&a);
    mr_recorder_free(r, 2000);
    tm_rmrf(root);
}

MR_TEST_MAIN(MR_TEST(test_sync))
