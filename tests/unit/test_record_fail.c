/*
 * Failures: a record directory that cannot be written (as an unprivileged
 * user, on a read-only bind mount, or where a file stands instead of a
 * directory) fails mr_recording_start with a reason; a full disk (a 256 KiB
 * tmpfs under one room) fails that recording alone while another goes on;
 * and a stalled recorder makes the ring overflow and count its drops.
 * Mounting needs root, which these tests have; a failed mount is a failure.
 */
#include <sys/mount.h>
#include <sys/wait.h>

#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"
#include "test_record_media.h"

static char root[128];

static int start_audio(struct mr_recorder *r, const char *room, const char *stream,
                       struct mr_recording **out, char *err, size_t err_len,
                       mr_recording_done_cb done, void *user)
{
    struct mr_record_params p = tm_params(room, stream);
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
    p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
    return mr_recording_start(r, &p, done, user, out, err, err_len);
}

/* Runs first, while this process has no threads to inherit badly. */
static void test_unprivileged(void)
{
    mr_log_init();
    gst_init(NULL, NULL);
    tm_tmpdir(root, sizeof(root), "fail");
    chmod(root, 0755);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/rec", root);
    CHECK_INT(mkdir(dir, 0755), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
            _exit(10);
        struct mr_record_config cfg = {.dir = dir};
        struct mr_recorder *r = NULL;
        if (mr_recorder_new(&cfg, &r) < 0)
            _exit(11);
        struct mr_recording *rec = NULL;
        char err[256] = "";
        int rc = start_audio(r, "room-a", "s", &rec, err, sizeof(err), NULL, NULL);
        printf("  as nobody: %s: %s\n", mr_errname(rc), err);
        fflush(stdout);
        _exit(rc == MR_EIO && strstr(err, "Permission denied") && !rec ? 0 : 12);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_not_a_directory(void)
{
    char file[256];
    snprintf(file, sizeof(file), "%s/plain", root);
    FILE *f = fopen(file, "w");
    fclose(f);
    struct mr_record_config cfg = {.dir = file};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), MR_EIO);
    CHECK(r == NULL);

    cfg.dir = root;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    snprintf(file, sizeof(file), "%s/room-f", root);
    f = fopen(file, "w");
    fclose(f);
    struct mr_recording *rec = NULL;
    char err[256] = "";
    CHECK_INT(start_audio(r, "room-f", "s", &rec, err, sizeof(err), NULL, NULL), MR_EIO);
    printf("  room path is a file: %s\n", err);
    CHECK(strstr(err, "Not a directory") != NULL);
    CHECK(strstr(err, "room-f") == NULL); /* no room names in errors */
    mr_recorder_free(r, 100);
}

static void test_read_only(void)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/ro", root);
    CHECK_INT(mkdir(dir, 0750), 0);
    int m1 = mount(dir, dir, NULL, MS_BIND, NULL);
    int m2 = m1 == 0 ? mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) : -1;
    if (m1 < 0 || m2 < 0)
        fprintf(stderr, "read-only bind mount of %s: %s\n", dir, strerror(errno));
    CHECK(m1 == 0 && m2 == 0);
    struct mr_record_config cfg = {.dir = dir};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct mr_recording *rec = NULL;
    char err[256] = "";
    CHECK_INT(start_audio(r, "room-r", "s", &rec, err, sizeof(err), NULL, NULL), MR_EIO);
    printf("  read-only: %s\n", err);
    CHECK(strstr(err, "Read-only file system") != NULL);
    mr_recorder_free(r, 100);
    if (m1 == 0)
        CHECK_INT(umount2(dir, MNT_DETACH), 0);
}

struct ends {
    int calls;
    enum mr_recording_state state;
};

static void on_done(struct mr_recording *rec, void *user)
{
    struct ends *e = user;
    struct mr_recording_info info;
    mr_recording_info(rec, &info);
    e->state = info.state;
    __atomic_add_fetch(&e->calls, 1, __ATOMIC_SEQ_CST);
}

static void test_full_disk(void)
{
    char dir[256], full[300];
    snprintf(dir, sizeof(dir), "%s/disk", root);
    snprintf(full, sizeof(full), "%s/full", dir);
    CHECK_INT(mkdir(dir, 0750), 0);
    CHECK_INT(mkdir(full, 0750), 0);
    int m = mount("tmpfs", full, "tmpfs", 0, "size=256k,mode=0750");
    if (m < 0)
        fprintf(stderr, "tmpfs on %s: %s\n", full, strerror(errno));
    CHECK_INT(m, 0);
    struct mr_record_config cfg = {.dir = dir};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct tm_track a = {0}, v = {0};
    CHECK(tm_make_opus(&a, 4, 0x1111));
    CHECK(tm_make_vp8(&v, 4, 1100, 0x2222, "smpte"));
    struct ends e_full = {0}, e_fine = {0};
    struct tm_feed f[2] = {{.tracks = {&a, &v}, .n = 2}, {.tracks = {&a, &v}, .n = 2}};
    char err[256];
    CHECK_INT(start_audio(r, "full", "s", &f[0].rec, err, sizeof(err), on_done, &e_full), 0);
    CHECK_INT(start_audio(r, "fine", "s", &f[1].rec, err, sizeof(err), on_done, &e_fine), 0);
    tm_feed_run(f, 2, 0);
    struct mr_recording_info info;
    mr_recording_info(f[0].rec, &info);
    printf("  full disk: state %d, error \"%s\", %u pushes refused, %llu dropped\n", info.state,
           info.error, f[0].refused, (unsigned long long)info.dropped);
    CHECK_INT(info.state, MR_RECORDING_FAILED);
    CHECK(strstr(info.error, "space") != NULL);
    CHECK_INT(e_full.calls, 1);
    CHECK(f[0].refused > 0 && info.dropped >= f[0].refused);
    CHECK(strstr(info.path, ".recording") == NULL && access(info.path, F_OK) == 0);
    json_t *doc = tm_sidecar(info.path);
    CHECK_STR(tm_jstr(doc, "state"), "failed");
    CHECK(strstr(tm_jstr(doc, "error"), "space") != NULL);
    json_decref(doc);

    mr_recording_stop(f[1].rec);
    CHECK_INT(tm_wait_end(f[1].rec, 10000), MR_RECORDING_DONE);
    /* The state is DONE a moment before the recorder thread calls back
     * (seen under ASan): wait for the call, up to 2 s. */
    for (int i = 0; i < 200 && __atomic_load_n(&e_fine.calls, __ATOMIC_SEQ_CST) == 0; i++)
        g_usleep(10000);
    CHECK_INT(__atomic_load_n(&e_fine.calls, __ATOMIC_SEQ_CST), 1);
    mr_recording_info(f[1].rec, &info);
    struct tm_probe pr = tm_discover(info.path);
    CHECK(pr.ok && pr.duration_s > 3.6);
    mr_recording_stop(f[0].rec); /* after the end: nothing happens */
    mr_recording_unref(f[0].rec);
    mr_recording_unref(f[1].rec);
    mr_recorder_free(r, 1000);
    CHECK_INT(e_full.calls, 1);
    tm_track_free(&a);
    tm_track_free(&v);
    if (m == 0)
        CHECK_INT(umount2(full, MNT_DETACH), 0);
}

static int stalling;

/* Runs on the recorder thread: while it sleeps, nothing is drained. */
static void on_done_stall(struct mr_recording *rec, void *user)
{
    (void)rec;
    (void)user;
    __atomic_store_n(&stalling, 1, __ATOMIC_SEQ_CST);
    g_usleep(500000);
    __atomic_store_n(&stalling, 2, __ATOMIC_SEQ_CST);
}

static void test_ring_overflow(void)
{
    struct mr_record_config cfg = {.dir = root, .ring_slots = 64};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    struct mr_recording *staller = NULL, *rec = NULL;
    char err[256];
    CHECK_INT(start_audio(r, "room-s", "stall", &staller, err, sizeof(err), on_done_stall, NULL),
              0);
    CHECK_INT(start_audio(r, "room-s", "victim", &rec, err, sizeof(err), NULL, NULL), 0);
    mr_recording_stop(staller);
    while (__atomic_load_n(&stalling, __ATOMIC_SEQ_CST) == 0)
        g_usleep(1000);
    uint8_t pkt[200] = {0x80, 96};
    unsigned ok = 0, refused = 0;
    for (unsigned i = 0; i < 1000; i++) {
        pkt[3] = (uint8_t)i;
        mr_recording_push(rec, 1, MR_RECORD_RTP, pkt, sizeof(pkt), mr_clock_mono_us()) ? ok++
                                                                                       : refused++;
    }
    CHECK_INT(__atomic_load_n(&stalling, __ATOMIC_SEQ_CST), 1); /* still stalled */
    struct mr_recording_info info;
    mr_recording_info(rec, &info);
    printf("  stalled recorder: %u accepted, %u refused, %llu dropped\n", ok, refused,
           (unsigned long long)info.dropped);
    CHECK_INT(ok, 64);
    CHECK_INT(refused, 936);
    CHECK_INT(info.dropped, 936);
    while (__atomic_load_n(&stalling, __ATOMIC_SEQ_CST) != 2)
        g_usleep(1000);
    g_usleep(100000);
    mr_recording_info(rec, &info);
    CHECK_INT(info.packets, 64);
    mr_recording_stop(rec);
    tm_wait_end(rec, 5000);
    mr_recording_unref(rec);
    mr_recording_unref(staller);
    mr_recorder_free(r, 1000);
    tm_rmrf(root);
}

MR_TEST_MAIN(MR_TEST(test_unprivileged), MR_TEST(test_not_a_directory), MR_TEST(test_read_only),
             MR_TEST(test_full_disk), MR_TEST(test_ring_overflow))
