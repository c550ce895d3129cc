/*
 * The recorder end to end with real RTP: VP8+Opus to WebM, H.264+Opus to
 * Matroska, audio-only and video-only, fed in real time with sender reports;
 * each file is checked with GstDiscoverer (container, codecs, 320x240,
 * duration within 10 %), its sidecar field by field, its SHA-256, modes and
 * name. Also: a codec the container cannot take, and the recorder's CPU for
 * a 1 Mbit/s VP8 + Opus stream.
 */
#include <glob.h>
#include <regex.h>
#include <sys/resource.h>

#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"
#include "test_record_media.h"

#define SECONDS 4.0

static char root[128];

struct expect {
    const char *stream, *ext, *container_caps, *container, *audio, *video;
    struct mr_recording *rec;
    struct tm_track a, v;
    struct tm_feed feed;
};

static void check_name(const char *path, const char *stream, const char *ext, const char *id)
{
    char pattern[256];
    snprintf(pattern, sizeof(pattern),
             "/room-1/[0-9]{4}-[0-9]{2}-[0-9]{2}/%s_[0-9]{8}T[0-9]{6}Z_%.8s\\.%s$", stream, id,
             ext);
    regex_t re;
    CHECK_INT(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    CHECK(regexec(&re, path, 0, NULL, 0) == 0);
    regfree(&re);
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    CHECK_INT(tm_mode(dir), 0750); /* date */
    *strrchr(dir, '/') = '\0';
    CHECK_INT(tm_mode(dir), 0750); /* room */
    CHECK_INT(tm_mode(path), 0640);
}

static void check_sidecar(struct expect *x, const struct mr_recording_info *info)
{
    json_t *doc = tm_sidecar(info->path);
    CHECK(doc != NULL);
    CHECK_STR(tm_jstr(doc, "id"), info->id);
    CHECK_STR(tm_jstr(doc, "room"), "room-1");
    CHECK_STR(tm_jstr(doc, "stream"), x->stream);
    char sub[64];
    snprintf(sub, sizeof(sub), "publisher-%s", x->stream);
    CHECK_STR(tm_jstr(doc, "publisher"), sub);
    CHECK_STR(tm_jstr(doc, "state"), "complete");
    CHECK(json_is_null(json_object_get(doc, "error")));
    CHECK_STR(tm_jstr(doc, "file"), strrchr(info->path, '/') + 1);
    CHECK_STR(tm_jstr(doc, "container"), x->container);
    json_t *codecs = json_object_get(doc, "codecs");
    CHECK_STR(x->audio ? tm_jstr(codecs, "audio") : "-", x->audio ? "opus" : "-");
    if (x->video) {
        CHECK_STR(tm_jstr(codecs, "video"), strstr(x->video, "vp8") ? "VP8" : "H264");
        CHECK_INT(json_integer_value(json_object_get(doc, "width")), 320);
        CHECK_INT(json_integer_value(json_object_get(doc, "height")), 240);
    } else {
        CHECK(json_object_get(codecs, "video") == NULL);
        CHECK(json_is_null(json_object_get(doc, "width")));
    }
    CHECK(strlen(tm_jstr(doc, "start")) == 24 && tm_jstr(doc, "start")[23] == 'Z');
    CHECK(strlen(tm_jstr(doc, "end")) == 24 &&
          strcmp(tm_jstr(doc, "end"), tm_jstr(doc, "start")) > 0);
    double dur = tm_jnum(doc, "duration_s");
    CHECK(fabs(dur - SECONDS) < SECONDS * 0.1);
    struct stat st;
    CHECK(stat(info->path, &st) == 0);
    CHECK_INT(json_integer_value(json_object_get(doc, "size")), st.st_size);
    CHECK_INT(info->bytes, st.st_size);
    char hex[MR_RECORD_SHA256_LEN + 1];
    CHECK(tm_sha256_file(info->path, hex));
    CHECK_STR(tm_jstr(doc, "sha256"), hex);
    CHECK_INT(json_integer_value(json_object_get(doc, "segment")), 1);
    CHECK_INT(json_integer_value(json_object_get(doc, "dropped_packets")), 0);
    json_decref(doc);
}

static void check_file(struct expect *x)
{
    struct mr_recording_info info;
    mr_recording_info(x->rec, &info);
    CHECK_INT(info.state, MR_RECORDING_DONE);
    CHECK_STR(info.error, "");
    CHECK(strstr(info.path, ".recording.") == NULL);
    check_name(info.path, x->stream, x->ext, info.id);
    CHECK_INT(info.packets, x->feed.pushed + x->feed.rtcp);
    CHECK_INT(info.dropped, 0);
    CHECK_INT(info.segments, 1);
    struct tm_probe pr = tm_discover(info.path);
    CHECK(pr.ok);
    CHECK_STR(pr.container, x->container_caps);
    CHECK_STR(pr.audio, x->audio ? x->audio : "");
    CHECK_STR(pr.video, x->video ? x->video : "");
    if (x->video) {
        CHECK_INT(pr.width, 320);
        CHECK_INT(pr.height, 240);
    }
    printf("  %s: %s %s %s %dx%d %.2f s, %llu bytes\n", x->stream, pr.container, pr.audio, pr.video,
           pr.width, pr.height, pr.duration_s, (unsigned long long)info.bytes);
    CHECK(fabs(pr.duration_s - SECONDS) < SECONDS * 0.1);
    check_sidecar(x, &info);
}

static void start(struct mr_recorder *r, struct expect *x)
{
    struct mr_record_params p = tm_params("room-1", x->stream);
    if (x->audio) {
        CHECK(tm_make_opus(&x->a, SECONDS, 0x1111));
        p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
        x->feed.tracks[x->feed.n++] = &x->a;
    }
    if (x->video && strstr(x->video, "vp8")) {
        CHECK(tm_make_vp8(&x->v, SECONDS, 0, 0x2222, "ball"));
        p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
        x->feed.tracks[x->feed.n++] = &x->v;
    } else if (x->video) {
        CHECK(tm_make_h264(&x->v, SECONDS, 0x3333));
        p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "H264", 102, 0x3333);
        x->feed.tracks[x->feed.n++] = &x->v;
    }
    char err[256];
    CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &x->rec, err, sizeof(err)), 0);
    x->feed.rec = x->rec;
}

static void test_formats(void)
{
    mr_log_init();
    tm_tmpdir(root, sizeof(root), "basic");
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct expect x[4] = {
#define X(s, e, cc, c, a, v)                                                                       \
    {.stream = s, .ext = e, .container_caps = cc, .container = c, .audio = a, .video = v}
        X("both-vp8", "webm", "video/webm", "webm", "audio/x-opus", "video/x-vp8"),
        X("both-h264", "mkv", "video/x-matroska", "matroska", "audio/x-opus", "video/x-h264"),
        X("audio-only", "webm", "audio/webm", "webm", "audio/x-opus", NULL),
        X("video-only", "webm", "video/webm", "webm", NULL, "video/x-vp8"),
#undef X
    };
    struct tm_feed feeds[4];
    for (int i = 0; i < 4; i++) {
        start(r, &x[i]);
        struct mr_recording_info info;
        mr_recording_info(x[i].rec, &info);
        CHECK(strstr(info.path, ".recording.") != NULL);
        CHECK_INT(access(info.path, F_OK), 0);
        json_t *doc = tm_sidecar(info.path);
        CHECK_STR(tm_jstr(doc, "state"), "recording");
        json_decref(doc);
    }
    for (int i = 0; i < 4; i++)
        feeds[i] = x[i].feed;
    tm_feed_run(feeds, 4, 0);
    for (int i = 0; i < 4; i++) {
        x[i].feed = feeds[i];
        mr_recording_stop(x[i].rec);
    }
    for (int i = 0; i < 4; i++) {
        CHECK_INT(tm_wait_end(x[i].rec, 10000), MR_RECORDING_DONE);
        check_file(&x[i]);
        mr_recording_unref(x[i].rec);
        tm_track_free(&x[i].a);
        tm_track_free(&x[i].v);
    }
    mr_recorder_free(r, 5000);
}

static void test_unsupported(void)
{
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct mr_record_params p = tm_params("room-2", "pcmu");
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "PCMU", 0, 1);
    struct mr_recording *rec = NULL;
    char err[256] = "";
    CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &rec, err, sizeof(err)), MR_ENOTSUP);
    CHECK(rec == NULL);
    CHECK(strstr(err, "PCMU") != NULL);
    char room2[256];
    snprintf(room2, sizeof(room2), "%s/room-2", root);
    CHECK(access(room2, F_OK) != 0);
    p = tm_params("room/../x", "s");
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 1);
    CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &rec, err, sizeof(err)), MR_EINVAL);
    mr_recorder_free(r, 1000);
}

/* CPU time (s) of this process's threads (utime + stime), by thread id;
 * GStreamer reuses pooled threads under new names, so compare by id. */
struct cpu_by_thread {
    int tid[64];
    char name[64][20];
    double s[64];
    int n;
};

static void thread_cpu(struct cpu_by_thread *c)
{
    memset(c, 0, sizeof(*c));
    glob_t g;
    if (glob("/proc/self/task/*/stat", 0, NULL, &g) != 0)
        return;
    long hz = sysconf(_SC_CLK_TCK);
    for (size_t i = 0; i < g.gl_pathc && c->n < 64; i++) {
        char buf[1024] = "";
        FILE *f = fopen(g.gl_pathv[i], "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (!open || !close)
            continue;
        unsigned long ut = 0, st = 0;
        /* after the name: state ppid pgrp session tty tpgid flags minflt
         * cminflt majflt cmajflt utime stime */
        sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
        c->tid[c->n] = atoi(buf);
        snprintf(c->name[c->n], sizeof(c->name[0]), "%.*s", (int)(close - open - 1), open + 1);
        c->s[c->n++] = (double)(ut + st) / (double)hz;
    }
    globfree(&g);
}

/* Prints each thread's share and returns the CPU of all but the main
 * thread (the test's feeder): the recorder's own. */
static double print_thread_cpu(const struct cpu_by_thread *c0, const struct cpu_by_thread *c1)
{
    double others = 0;
    printf("  by thread:");
    for (int i = 0; i < c1->n; i++) {
        double before = 0;
        for (int k = 0; k < c0->n; k++)
            if (c0->tid[k] == c1->tid[i])
                before = c0->s[k];
        if (c1->tid[i] != getpid())
            others += c1->s[i] - before;
        if (c1->s[i] - before >= 0.01)
            printf(" %s %.2f s;", c1->name[i], c1->s[i] - before);
    }
    printf("\n");
    return others;
}

/* CPU of the whole process while one 1 Mbit/s VP8 + Opus stream is
 * recorded (the feeder only sleeps and copies into the ring), and which
 * threads took it (threads that ended in between are not listed). */
static void test_cpu(void)
{
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct tm_track a = {0}, v = {0};
    CHECK(tm_make_opus(&a, 5, 0x1111));
    CHECK(tm_make_vp8(&v, 5, 1100, 0x2222, "smpte"));
    size_t bytes = 0;
    for (size_t i = 0; i < v.n; i++)
        bytes += v.p[i].len;
    for (size_t i = 0; i < a.n; i++)
        bytes += a.p[i].len;
    struct mr_record_params p = tm_params("room-1", "cpu");
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
    struct tm_feed f = {.tracks = {&a, &v}, .n = 2};
    char err[256];
    CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &f.rec, err, sizeof(err)), 0);
    struct rusage ru0, ru1;
    struct cpu_by_thread c0, c1;
    thread_cpu(&c0);
    getrusage(RUSAGE_SELF, &ru0);
    int64_t t0 = mr_clock_mono_us();
    tm_feed_run(&f, 1, 0);
    mr_recording_stop(f.rec);
    CHECK_INT(tm_wait_end(f.rec, 10000), MR_RECORDING_DONE);
    thread_cpu(&c1);
    int64_t t1 = mr_clock_mono_us();
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                          ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                          ru0.ru_stime.tv_usec) /
                     1e6;
    double wall = (double)(t1 - t0) / 1e6;
    printf("  cpu: %.2f Mbit/s stream, %.3f s CPU in %.2f s: %.1f %% of one core\n",
           (double)bytes * 8 / 5 / 1e6, cpu, wall, 100 * cpu / wall);
    double rec_cpu = print_thread_cpu(&c0, &c1);
    printf("  recorder threads (all but the feeder): %.1f %% of one core\n", 100 * rec_cpu / wall);
    CHECK(cpu / wall < 0.25);
    mr_recording_unref(f.rec);
    tm_track_free(&a);
    tm_track_free(&v);
    mr_recorder_free(r, 1000);
    tm_rmrf(root);
}

MR_TEST_MAIN(MR_TEST(test_formats), MR_TEST(test_unsupported), MR_TEST(test_cpu))
