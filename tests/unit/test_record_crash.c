/*
 * Crash safety: a child process records VP8 + Opus and is killed with
 * SIGKILL 3 s into the media, so no EOS, no index, no duration. The file
 * must still play to within 2 s of the kill, and mr_recorder_recover must
 * close it (renamed, state "interrupted", end, size, duration, SHA-256),
 * also for a media file whose sidecar was never written. And the orderly
 * shutdown (SIGTERM) that finalizes, or interrupts when out of time.
 */
#include <glob.h>
#include <signal.h>
#include <sys/wait.h>

#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"
#include "test_record_media.h"

#define KILL_AFTER_S 3.0

static char root[128];

static void child(int fd)
{
    struct tm_track a = {0}, v = {0};
    if (!tm_make_opus(&a, 8, 0x1111) || !tm_make_vp8(&v, 8, 0, 0x2222, "ball"))
        _exit(2);
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    if (mr_recorder_new(&cfg, &r) < 0)
        _exit(3);
    struct mr_record_params p = tm_params("ward-7", "cam");
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
    struct tm_feed f = {.tracks = {&a, &v}, .n = 2};
    char err[256];
    if (mr_recording_start(r, &p, NULL, NULL, &f.rec, err, sizeof(err)) < 0)
        _exit(4);
    if (write(fd, "x", 1) != 1)
        _exit(5);
    tm_feed_run(&f, 1, 0);
    pause();
    _exit(0);
}

static bool find_one(const char *pattern, char *out, size_t len)
{
    glob_t g;
    bool ok = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1;
    if (ok)
        snprintf(out, len, "%s", g.gl_pathv[0]);
    globfree(&g);
    return ok;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[2 * PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
    CHECK_INT(system(cmd), 0);
}

static void check_recovered(const char *media, double min_s, double max_s)
{
    json_t *doc = tm_sidecar(media);
    CHECK(doc != NULL);
    CHECK_STR(tm_jstr(doc, "state"), "interrupted");
    CHECK(strstr(tm_jstr(doc, "error"), "stopped") != NULL);
    CHECK_STR(tm_jstr(doc, "file"), strrchr(media, '/') + 1);
    struct stat st;
    CHECK(stat(media, &st) == 0);
    CHECK_INT(json_integer_value(json_object_get(doc, "size")), st.st_size);
    char hex[MR_RECORD_SHA256_LEN + 1];
    CHECK(tm_sha256_file(media, hex));
    CHECK_STR(tm_jstr(doc, "sha256"), hex);
    CHECK(strlen(tm_jstr(doc, "end")) == 24);
    double dur = tm_jnum(doc, "duration_s");
    CHECK(dur >= min_s && dur <= max_s);
    CHECK_INT(tm_mode(media), 0640);
    struct tm_probe pr = tm_discover(media);
    struct tm_decoded d = tm_decode(media);
    printf("  %s: sidecar %.2f s; discoverer %.2f s %s %s; decoded video to %.2f s (%u frames), "
           "audio to %.2f s\n",
           strrchr(media, '/') + 1, dur, pr.duration_s, pr.audio, pr.video, d.video_end_s,
           d.video_frames, d.audio_end_s);
    CHECK(pr.ok);
    CHECK_STR(pr.video, "video/x-vp8");
    CHECK_STR(pr.audio, "audio/x-opus");
    CHECK(pr.duration_s > dur - 0.1 && pr.duration_s < dur + 0.1); /* the patched Duration */
    CHECK(!d.error);
    CHECK(d.video_end_s >= min_s && d.audio_end_s >= min_s);
    json_decref(doc);
}

static void test_kill_and_recover(void)
{
    mr_log_init();
    tm_tmpdir(root, sizeof(root), "crash");
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(fds[1]);
    }
    close(fds[1]);
    char c;
    CHECK_INT(read(fds[0], &c, 1), 1);
    close(fds[0]);
    g_usleep((gulong)(KILL_AFTER_S * 1e6));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fprintf(stderr, "the child ended by itself: status %d\n", status);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    char pattern[256], media[PATH_MAX], orphan[PATH_MAX];
    snprintf(pattern, sizeof(pattern), "%s/ward-7/*/cam_*.recording.webm", root);
    CHECK(find_one(pattern, media, sizeof(media)));
    json_t *doc = tm_sidecar(media);
    CHECK_STR(tm_jstr(doc, "state"), "recording");
    json_decref(doc);
    /* The same bytes again, as if the crash had come before the sidecar. */
    snprintf(orphan, sizeof(orphan), "%s", media);
    char *stamp = strstr(strrchr(orphan, '/'), "cam_") + 4;
    char tail[64];
    snprintf(tail, sizeof(tail), "%.16s_deadbeef.recording.webm", stamp);
    char lost[PATH_MAX];
    snprintf(lost, sizeof(lost), "%.*s/lost_%s", (int)(strrchr(orphan, '/') - orphan), orphan,
             tail);
    copy_file(media, lost);

    /* "end" must be when the last media was written (the file's mtime),
     * not when recovery ran: date the file back and check both. */
    const struct timespec when[2] = {{1577934245, 0}, {1577934245, 0}};
    CHECK_INT(utimensat(AT_FDCWD, media, when, 0), 0);

    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    CHECK_INT(mr_recorder_recover(r), 2);
    CHECK_INT(mr_recorder_recover(r), 0);
    CHECK(access(media, F_OK) != 0);
    char *rec = strstr(media, ".recording");
    memmove(rec, rec + strlen(".recording"), strlen(rec + strlen(".recording")) + 1);
    check_recovered(media, KILL_AFTER_S - 2.0, KILL_AFTER_S + 0.5);
    doc = tm_sidecar(media);
    CHECK_STR(tm_jstr(doc, "end"), "2020-01-02T03:04:05.000Z");
    json_decref(doc);
    struct stat st;
    CHECK(stat(media, &st) == 0 && st.st_mtim.tv_sec == 1577934245);

    rec = strstr(lost, ".recording");
    memmove(rec, rec + strlen(".recording"), strlen(rec + strlen(".recording")) + 1);
    check_recovered(lost, KILL_AFTER_S - 2.0, KILL_AFTER_S + 0.5);
    doc = tm_sidecar(lost);
    CHECK_STR(tm_jstr(doc, "id"), "deadbeef");
    CHECK_STR(tm_jstr(doc, "room"), "ward-7");
    CHECK_STR(tm_jstr(doc, "stream"), "lost");
    CHECK_STR(tm_jstr(doc, "container"), "webm");
    CHECK_INT(json_integer_value(json_object_get(doc, "segment")), 1);
    CHECK(strncmp(tm_jstr(doc, "start"), "20", 2) == 0);
    json_decref(doc);
    mr_recorder_free(r, 1000);
    tm_rmrf(root);
}

/* mr_recorder_free (SIGTERM): finalized in time, or interrupted when the
 * timeout is too short; both leave a named, playable file and a sidecar. */
static void shutdown_case(int timeout_ms, const char *state)
{
    tm_tmpdir(root, sizeof(root), "stop");
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct tm_track a = {0}, v = {0};
    CHECK(tm_make_opus(&a, 3, 0x1111));
    CHECK(tm_make_vp8(&v, 3, 0, 0x2222, "ball"));
    struct mr_record_params p = tm_params("ward-7", "cam");
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
    struct tm_feed f = {.tracks = {&a, &v}, .n = 2};
    char err[256];
    CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &f.rec, err, sizeof(err)), 0);
    tm_feed_run(&f, 1, 2000000000LL);
    mr_recorder_free(r, timeout_ms);
    struct mr_recording_info info;
    mr_recording_info(f.rec, &info);
    CHECK_INT(info.state, timeout_ms ? MR_RECORDING_DONE : MR_RECORDING_FAILED);
    CHECK(strstr(info.path, ".recording") == NULL);
    json_t *doc = tm_sidecar(info.path);
    CHECK_STR(tm_jstr(doc, "state"), state);
    char hex[MR_RECORD_SHA256_LEN + 1];
    tm_sha256_file(info.path, hex);
    CHECK_STR(tm_jstr(doc, "sha256"), hex);
    struct tm_probe pr = tm_discover(info.path);
    printf("  shutdown with %d ms: %s, %.2f s (sidecar %.2f s)\n", timeout_ms, state, pr.duration_s,
           tm_jnum(doc, "duration_s"));
    CHECK(pr.ok && pr.duration_s > 1.5 && pr.duration_s < 2.5);
    json_decref(doc);
    CHECK(!mr_recording_push(f.rec, 0, MR_RECORD_RTP, a.p[0].data, a.p[0].len, 0));
    mr_recording_unref(f.rec);
    tm_track_free(&a);
    tm_track_free(&v);
    tm_rmrf(root);
}

static void test_shutdown(void)
{
    shutdown_case(5000, "complete");
    shutdown_case(0, "interrupted");
}

MR_TEST_MAIN(MR_TEST(test_kill_and_recover), MR_TEST(test_shutdown))
