/*
 * What a network and a publisher do to a stream must not break the file:
 * a video SSRC change mid-stream (a new rtpbin source), an RTP timestamp
 * jump on audio, and 10 % packet loss with reordering on both tracks; and
 * meanwhile the recorder thread stalls for 1 s (the rings hold the packets,
 * which keep their arrival times, so nothing is lost). Each recording must
 * finish, decode without error and last about as long as what was fed.
 */
#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"
#include "test_record_media.h"

#define SECONDS 4.0

static char root[128];

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* From 2 s on, a new source: new SSRC, sequence numbers and timestamps. */
static void change_ssrc(struct tm_track *t)
{
    for (size_t i = 0; i < t->n; i++) {
        uint8_t *d = t->p[i].data;
        if (t->p[i].pts_ns < 2000000000LL)
            continue;
        uint16_t seq = (uint16_t)(d[2] << 8 | d[3]);
        seq = (uint16_t)(seq + 20000);
        d[2] = (uint8_t)(seq >> 8);
        d[3] = (uint8_t)seq;
        put32(d + 4, get32(d + 4) + 0x12345678u);
        put32(d + 8, 0xabcdef01u);
    }
}

/* From 2 s on, RTP timestamps 5 s ahead (sequence numbers go on). */
static void jump_timestamps(struct tm_track *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->p[i].pts_ns >= 2000000000LL)
            put32(t->p[i].data + 4, get32(t->p[i].data + 4) + 5 * t->clock_rate);
}

/* Drops one packet in ten and swaps some neighbours (they keep their
 * arrival times, so the later one arrives first). */
static void impair(struct tm_track *t, unsigned seed)
{
    size_t out = 0;
    for (size_t i = 0; i < t->n; i++) {
        seed = seed * 1103515245u + 12345u;
        if (i > 0 && (seed >> 16) % 10 == 0) {
            free(t->p[i].data);
            continue;
        }
        t->p[out++] = t->p[i];
    }
    t->n = out;
    for (size_t i = 1; i + 1 < t->n; i += 7) {
        uint8_t *d = t->p[i].data;
        size_t len = t->p[i].len;
        t->p[i].data = t->p[i + 1].data;
        t->p[i].len = t->p[i + 1].len;
        t->p[i + 1].data = d;
        t->p[i + 1].len = len;
    }
}

static int stalled;

/* Runs on the recorder thread, which drains nothing while it sleeps. */
static void on_done_stall(struct mr_recording *rec, void *user)
{
    (void)rec;
    (void)user;
    g_usleep(1000000);
    __atomic_store_n(&stalled, 1, __ATOMIC_SEQ_CST);
}

static void stop_staller(void *rec)
{
    mr_recording_stop(rec);
}

static void test_robust(void)
{
    mr_log_init();
    tm_tmpdir(root, sizeof(root), "robust");
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    const char *names[3] = {"ssrc-change", "ts-jump", "loss"};
    struct tm_track a[3] = {{0}}, v[3] = {{0}};
    struct tm_feed f[3];
    memset(f, 0, sizeof(f));
    for (int k = 0; k < 3; k++) {
        CHECK(tm_make_opus(&a[k], SECONDS, 0x1111));
        CHECK(tm_make_vp8(&v[k], SECONDS, 0, 0x2222, "ball"));
        struct mr_record_params p = tm_params("robust", names[k]);
        p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
        p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
        f[k].tracks[0] = &a[k];
        f[k].tracks[1] = &v[k];
        f[k].n = 2;
        char err[256];
        CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &f[k].rec, err, sizeof(err)), 0);
    }
    struct mr_recording *staller = NULL;
    struct mr_record_params sp = tm_params("robust", "staller");
    sp.tracks[sp.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
    char err[256];
    CHECK_INT(mr_recording_start(r, &sp, on_done_stall, NULL, &staller, err, sizeof(err)), 0);
    f[0].at_fn = stop_staller;
    f[0].at_arg = staller;
    f[0].at_ns = 2500000000LL;
    change_ssrc(&v[0]);
    f[0].no_rtcp = true; /* the reports would name the old SSRC only */
    jump_timestamps(&a[1]);
    impair(&a[2], 1);
    impair(&v[2], 2);
    tm_feed_run(f, 3, 0);
    CHECK_INT(__atomic_load_n(&stalled, __ATOMIC_SEQ_CST), 1);
    mr_recording_unref(staller);
    for (int k = 0; k < 3; k++) {
        mr_recording_stop(f[k].rec);
        CHECK_INT(tm_wait_end(f[k].rec, 10000), MR_RECORDING_DONE);
        struct mr_recording_info info;
        mr_recording_info(f[k].rec, &info);
        struct tm_probe pr = tm_discover(info.path);
        struct tm_decoded d = tm_decode(info.path);
        printf("  %s: %u segment(s), %.2f s, video %u frames to %.2f s, audio to %.2f s%s\n",
               names[k], info.segments, pr.duration_s, d.video_frames, d.video_end_s, d.audio_end_s,
               d.error ? ", decoding error" : "");
        CHECK(pr.ok && !d.error);
        CHECK_INT(info.segments, 1);
        CHECK_INT(info.dropped, 0);
        CHECK(fabs(pr.duration_s - SECONDS) < SECONDS * 0.1);
        CHECK(d.video_end_s > SECONDS - 0.5 && d.audio_end_s > SECONDS - 0.5);
        CHECK(d.video_frames >= (k == 2 ? 60 : 110));
        mr_recording_unref(f[k].rec);
        tm_track_free(&a[k]);
        tm_track_free(&v[k]);
    }
    mr_recorder_free(r, 1000);
    tm_rmrf(root);
}

MR_TEST_MAIN(MR_TEST(test_robust))
