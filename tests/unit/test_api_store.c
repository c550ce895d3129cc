/*
 * Recordings on disk (signaling/api/store.h) and retention: a record
 * directory laid out by hand, with the traps a walk must not fall into
 * (symbolic links out of the directory, bad names, broken sidecars).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/store.h"
#include "core/config.h"
#include "core/error.h"
#include "mr_test.h"

static char root[64];

static void put(const char *rel, const char *fmt, ...)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static void dir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    mkdir(path, 0750);
}

static bool exists(const char *rel)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    return lstat(path, &st) == 0;
}

static void sidecar(const char *rel, const char *id, const char *room, int segment,
                    const char *state, const char *file, const char *start, const char *end)
{
    put(rel,
        "{\"id\":\"%s\",\"room\":\"%s\",\"stream\":\"cam\",\"publisher\":\"cart\","
        "\"state\":\"%s\",\"file\":\"%s\",\"container\":\"webm\",\"start\":\"%s\"%s%s%s,"
        "\"segment\":%d}",
        id, room, state, file, start, end ? ",\"end\":\"" : "", end ? end : "", end ? "\"" : "",
        segment);
}

/* ward-1/2025-01-02: a finished recording in two segments, one in progress.
 * ward-2/2025-01-03: one finished. Plus traps. */
static void setup(void)
{
    snprintf(root, sizeof(root), "/tmp/mr-store-XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    dir("ward-1");
    dir("ward-1/2025-01-02");
    dir("ward-2");
    dir("ward-2/2025-01-03");
    sidecar("ward-1/2025-01-02/cam_20250102T080000Z_aaaaaaaa.json", "aaaaaaaaaaaaaaaa",
            "ward-1", 0, "complete", "cam_20250102T080000Z_aaaaaaaa.webm",
            "2025-01-02T08:00:00Z", "2025-01-02T08:30:00Z");
    put("ward-1/2025-01-02/cam_20250102T080000Z_aaaaaaaa.webm", "0123456789");
    sidecar("ward-1/2025-01-02/cam_20250102T083000Z_aaaaaaaa_1.json", "aaaaaaaaaaaaaaaa",
            "ward-1", 1, "complete", "cam_20250102T083000Z_aaaaaaaa_1.webm",
            "2025-01-02T08:30:00Z", "2025-01-02T09:00:00Z");
    put("ward-1/2025-01-02/cam_20250102T083000Z_aaaaaaaa_1.webm", "abc");
    /* In progress: the sidecar still names the final file; the media has
     * its in-progress name. */
    sidecar("ward-1/2025-01-02/mic_20250102T100000Z_bbbbbbbb.json", "bbbbbbbbbbbbbbbb",
            "ward-1", 0, "recording", "mic_20250102T100000Z_bbbbbbbb.webm",
            "2025-01-02T10:00:00Z", NULL);
    put("ward-1/2025-01-02/mic_20250102T100000Z_bbbbbbbb.recording.webm", "growing");
    sidecar("ward-2/2025-01-03/cam_20250103T080000Z_cccccccc.json", "cccccccccccccccc",
            "ward-2", 0, "complete", "cam_20250103T080000Z_cccccccc.mkv",
            "2025-01-03T08:00:00Z", "2025-01-03T08:10:00Z");
    put("ward-2/2025-01-03/cam_20250103T080000Z_cccccccc.mkv", "matroska");
    /* Traps: a sidecar whose room disagrees with its folder, one with a bad
     * id, a broken one, a symlinked sidecar and media pointing out of the
     * directory, a symlinked room and date folder, a bad folder name. */
    sidecar("ward-2/2025-01-03/x_dddddddd.json", "dddddddddddddddd", "ward-1", 0, "complete",
            "x.webm", "2025-01-03T08:00:00Z", "2025-01-03T08:10:00Z");
    sidecar("ward-2/2025-01-03/y.json", "../../etc/passwd", "ward-2", 0, "complete", "y.webm",
            "2025-01-03T08:00:00Z", NULL);
    put("ward-2/2025-01-03/z.json", "{not json");
    char path[512], target[512];
    snprintf(target, sizeof(target), "%s/outside.json", root);
    put("outside.json", "{\"id\":\"eeeeeeeeeeeeeeee\",\"state\":\"complete\"}");
    snprintf(path, sizeof(path), "%s/ward-2/2025-01-03/link.json", root);
    CHECK(symlink(target, path) == 0);
    sidecar("ward-2/2025-01-03/ffff.json", "ffffffffffffffff", "ward-2", 0, "complete",
            "ffff.webm", "2025-01-03T08:00:00Z", NULL);
    snprintf(target, sizeof(target), "%s/secret.bin", root);
    put("secret.bin", "secret");
    snprintf(path, sizeof(path), "%s/ward-2/2025-01-03/ffff.webm", root);
    CHECK(symlink(target, path) == 0);
    snprintf(target, sizeof(target), "%s/ward-1", root);
    snprintf(path, sizeof(path), "%s/ward-3", root);
    CHECK(symlink(target, path) == 0);
    snprintf(target, sizeof(target), "%s/ward-1/2025-01-02", root);
    snprintf(path, sizeof(path), "%s/ward-2/2025-01-04", root);
    CHECK(symlink(target, path) == 0);
    dir("bad.name");
    dir("bad.name/2025-01-02");
    sidecar("bad.name/2025-01-02/g.json", "1111111111111111", "bad.name", 0, "complete",
            "g.webm", "2025-01-02T08:00:00Z", NULL);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

struct seen {
    char ids[16][MR_STORE_ID_MAX];
    unsigned n;
};

static bool record(const struct mr_store_entry *e, void *user)
{
    struct seen *s = user;
    if (s->n < 16)
        snprintf(s->ids[s->n++], MR_STORE_ID_MAX, "%s", e->id);
    return true;
}

static bool saw(const struct seen *s, const char *id)
{
    for (unsigned i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

static void test_walk(void)
{
    setup();
    struct seen s = {.n = 0};
    CHECK_INT(mr_store_each(root, NULL, record, &s), 0);
    /* Four recordings, plus ffff (its sidecar is fine; its media is not). */
    CHECK_INT(s.n, 5);
    CHECK(saw(&s, "aaaaaaaaaaaaaaaa-0") && saw(&s, "aaaaaaaaaaaaaaaa-1"));
    CHECK(saw(&s, "bbbbbbbbbbbbbbbb-0") && saw(&s, "cccccccccccccccc-0"));
    CHECK(saw(&s, "ffffffffffffffff-0"));
    CHECK(!saw(&s, "dddddddddddddddd-0") && !saw(&s, "eeeeeeeeeeeeeeee-0"));
    struct seen one = {.n = 0};
    CHECK_INT(mr_store_each(root, "ward-2", record, &one), 0);
    CHECK_INT(one.n, 2);
    struct seen none = {.n = 0};
    CHECK_INT(mr_store_each(root, "ward-3", record, &none), 0); /* a symlink */
    CHECK_INT(none.n, 0);
    CHECK_INT(mr_store_each("/nonexistent/recordings", NULL, record, &none), 0);
    CHECK_INT(none.n, 0);
    teardown();
}

static void test_find_and_open(void)
{
    setup();
    struct mr_store_entry e;
    CHECK_INT(mr_store_find(root, "aaaaaaaaaaaaaaaa-1", &e), 0);
    CHECK_STR(e.room, "ward-1");
    CHECK_STR(e.date, "2025-01-02");
    CHECK_STR(e.state, "complete");
    CHECK_INT(e.start_s, 1735806600);
    CHECK_INT(e.end_s, 1735808400);
    CHECK(e.media_found);
    CHECK_INT(e.media_size, 3);
    CHECK_STR(mr_store_content_type(&e), "video/webm");
    int fd = -1;
    uint64_t size = 0;
    CHECK_INT(mr_store_open_media(root, &e, &fd, &size), 0);
    CHECK_INT(size, 3);
    char buf[8] = "";
    CHECK_INT(read(fd, buf, sizeof(buf)), 3);
    CHECK_MEM(buf, "abc", 3);
    close(fd);
    mr_store_entry_clear(&e);

    CHECK_INT(mr_store_find(root, "bbbbbbbbbbbbbbbb-0", &e), 0);
    CHECK_STR(e.media, "mic_20250102T100000Z_bbbbbbbb.recording.webm");
    CHECK_INT(e.end_s, INT64_MIN);
    mr_store_entry_clear(&e);

    CHECK_INT(mr_store_find(root, "cccccccccccccccc-0", &e), 0);
    CHECK_STR(mr_store_content_type(&e), "video/x-matroska");
    mr_store_entry_clear(&e);

    /* The media is a symbolic link out of the directory: never opened. */
    CHECK_INT(mr_store_find(root, "ffffffffffffffff-0", &e), 0);
    CHECK(!e.media_found);
    CHECK_INT(mr_store_open_media(root, &e, &fd, &size), MR_ENOENT);
    mr_store_entry_clear(&e);

    CHECK_INT(mr_store_find(root, "aaaaaaaaaaaaaaaa-2", &e), MR_ENOENT);
    CHECK_INT(mr_store_find(root, "dddddddddddddddd-0", &e), MR_ENOENT);
    CHECK_INT(mr_store_find(root, "../../etc/passwd", &e), MR_ENOENT);
    teardown();
}

static void test_ids(void)
{
    char rec[17];
    unsigned seg = 99;
    CHECK(mr_store_id_parse("9f3c2a11deadbeef-0", rec, &seg));
    CHECK_STR(rec, "9f3c2a11deadbeef");
    CHECK_INT(seg, 0);
    CHECK(mr_store_id_parse("9f3c2a11deadbeef-123456789", rec, &seg));
    CHECK_INT(seg, 123456789);
    static const char *const bad[] = {
        "", "9f3c2a11deadbeef", "9f3c2a11deadbeef-", "9f3c2a11deadbeef-01",
        "9f3c2a11deadbeef-1234567890", "9F3C2A11DEADBEEF-1", "9f3c2a11deadbee-1",
        "9f3c2a11deadbeefa-1", "9f3c2a11deadbeef_1", "9f3c2a11deadbeef-1x", "../x",
        "9f3c2a11deadbeeg-1", "9f3c2a11deadbeef--1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!mr_store_id_parse(bad[i], NULL, NULL));
}

static void test_delete_and_prune(void)
{
    setup();
    struct mr_store_entry e;
    CHECK_INT(mr_store_find(root, "cccccccccccccccc-0", &e), 0);
    CHECK_INT(mr_store_delete(root, &e), 0);
    CHECK(!exists("ward-2/2025-01-03/cam_20250103T080000Z_cccccccc.mkv"));
    CHECK(!exists("ward-2/2025-01-03/cam_20250103T080000Z_cccccccc.json"));
    CHECK_INT(mr_store_delete(root, &e), MR_ENOENT);
    mr_store_entry_clear(&e);
    /* A symlinked media file is unlinked as a link; its target stays. */
    CHECK_INT(mr_store_find(root, "ffffffffffffffff-0", &e), 0);
    CHECK_INT(mr_store_delete(root, &e), 0);
    CHECK(exists("secret.bin"));
    mr_store_entry_clear(&e);
    /* Folders with files stay; an empty old one goes; today's stays. */
    dir("ward-2/2025-01-05");
    dir("ward-2/2025-01-06");
    CHECK_INT(mr_store_prune_dates(root, 1736121600 /* 2025-01-06T00:00:00Z */), 1);
    CHECK(!exists("ward-2/2025-01-05"));
    CHECK(exists("ward-2/2025-01-06"));
    CHECK(exists("ward-2/2025-01-03"));
    CHECK(exists("ward-1/2025-01-02"));
    teardown();
}

static void test_retention(void)
{
    setup();
    struct mr_config cfg;
    mr_config_defaults(&cfg);
    snprintf(cfg.record_dir, sizeof(cfg.record_dir), "%s", root);
    cfg.retention_days = 0;
    CHECK_INT(mr_api_retention_sweep(&cfg, 1800000000), 0); /* 0 keeps everything */
    cfg.retention_days = 1;
    /* 2025-01-03T08:45Z: only ward-1's segment 0 ended more than a day
     * before (08:30 on the 2nd); segment 1 ended at 09:00. */
    CHECK_INT(mr_api_retention_sweep(&cfg, 1735893900), 1);
    CHECK(!exists("ward-1/2025-01-02/cam_20250102T080000Z_aaaaaaaa.json"));
    CHECK(!exists("ward-1/2025-01-02/cam_20250102T080000Z_aaaaaaaa.webm"));
    CHECK(exists("ward-1/2025-01-02/cam_20250102T083000Z_aaaaaaaa_1.json"));
    /* Much later: everything finished goes, the recording in progress and
     * the files that are not recordings stay. The sidecar ffff has no end:
     * its start counts. */
    CHECK_INT(mr_api_retention_sweep(&cfg, 1800000000), 3);
    CHECK(exists("ward-1/2025-01-02/mic_20250102T100000Z_bbbbbbbb.json"));
    CHECK(exists("ward-1/2025-01-02/mic_20250102T100000Z_bbbbbbbb.recording.webm"));
    CHECK(!exists("ward-2/2025-01-03/cam_20250103T080000Z_cccccccc.json"));
    CHECK(exists("ward-2/2025-01-03/z.json"));
    CHECK(exists("secret.bin") && exists("outside.json"));
    teardown();
}

MR_TEST_MAIN(MR_TEST(test_walk), MR_TEST(test_find_and_open), MR_TEST(test_ids),
             MR_TEST(test_delete_and_prune), MR_TEST(test_retention))
