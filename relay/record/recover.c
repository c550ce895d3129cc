/*
 * Start-up recovery of recordings a crash or kill left open.
 *
 * For each <dir>/<room>/<date>/<name>.json in state "recording", and each
 * <name>.recording.<ext> without a sidecar: the file is renamed like a
 * finished one, its playable length is found by walking its clusters to
 * the last complete block (mkv.c; GstDiscoverer cannot tell for a file the
 * muxer never finished) and written into the header's Duration so players
 * show it, and the sidecar is completed: state "interrupted", end = the
 * file's modification time, size, duration, SHA-256.
 */
#include "record/record_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/name.h"

#define WHY "the relay stopped before the file was finalized"

struct found {
    char final[PATH_MAX];
    char base[256];
    int64_t mtime_us, size;
    double duration_s;
    char sha[MR_RECORD_SHA256_LEN + 1];
};

/* Renames <stem>.recording.<ext> (if there) and measures the result. */
static bool close_media(const char *dir, const char *stem, const char *ext, struct found *f)
{
    char rec_path[PATH_MAX];
    struct stat st;
    mr_rec_path(rec_path, sizeof(rec_path), "%s/%s.recording.%s", dir, stem, ext);
    snprintf(f->base, sizeof(f->base), "%s.%s", stem, ext);
    mr_rec_path(f->final, sizeof(f->final), "%s/%s", dir, f->base);
    if (access(rec_path, F_OK) == 0 && access(f->final, F_OK) != 0 &&
        rename(rec_path, f->final) < 0)
        snprintf(f->final, sizeof(f->final), "%s", rec_path);
    int fd = open(f->final, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    /* The modification time is when the last media reached the disk: read
     * it before the Duration patch and put it back after. */
    struct mr_rec_mkv_scan scan;
    bool have_st = fstat(fd, &st) == 0;
    if (have_st) {
        f->mtime_us = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
        f->size = st.st_size;
    }
    f->duration_s = 0;
    if (mr_rec_mkv_scan(fd, &scan) == 0) {
        f->duration_s = (double)scan.duration_ns / 1e9;
        if (mr_rec_mkv_patch_duration(fd, &scan) == 0 && have_st) {
            const struct timespec times[2] = {st.st_atim, st.st_mtim};
            futimens(fd, times);
        }
    }
    close(fd);
    if (mr_rec_hash_file(f->final, f->sha) < 0)
        f->sha[0] = '\0';
    return true;
}

static int write_doc(const char *path, json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    if (!text)
        return MR_ENOMEM;
    int rc = mr_rec_replace_file(path, text);
    free(text);
    return rc;
}

/* A sidecar in state "recording": complete it in place, keeping its fields. */
static bool recover_sidecar(const char *dir, const char *json_path, json_t *doc)
{
    const char *file = json_string_value(json_object_get(doc, "file"));
    const char *slash = strrchr(json_path, '/');
    char stem[256];
    if (mr_rec_path(stem, sizeof(stem), "%s", slash ? slash + 1 : json_path) < 0)
        return false;
    stem[strlen(stem) - strlen(".json")] = '\0';
    const char *ext = file && strstr(file, ".mkv") ? "mkv" : "webm";
    struct found f = {0};
    char iso[32];
    json_object_set_new(doc, "state", json_string("interrupted"));
    if (close_media(dir, stem, ext, &f)) {
        mr_rec_iso8601(f.mtime_us, iso);
        json_object_set_new(doc, "file", json_string(strrchr(f.final, '/') + 1));
        json_object_set_new(doc, "end", json_string(iso));
        json_object_set_new(doc, "size", json_integer(f.size));
        json_object_set_new(doc, "duration_s",
                            json_real((double)(int64_t)(f.duration_s * 1000) / 1000));
        json_object_set_new(doc, "sha256", f.sha[0] ? json_string(f.sha) : json_null());
        json_object_set_new(doc, "error", json_string(WHY));
    } else {
        json_object_set_new(doc, "file", json_null());
        json_object_set_new(doc, "error", json_string(WHY "; the media file is missing"));
    }
    return write_doc(json_path, doc) == 0;
}

static int64_t stamp_to_unix_us(const char *stem_stamp)
{
    struct tm tm = {0};
    if (!strptime(stem_stamp, "%Y%m%dT%H%M%SZ", &tm))
        return 0;
    return (int64_t)timegm(&tm) * 1000000;
}

/* A media file without a sidecar (the crash came between the two): write
 * one from what the name and the directory tell. */
static bool recover_orphan(const char *dir, const char *room, const char *stem, const char *ext)
{
    char stream[MR_NAME_MAX + 1], id8[9], json[PATH_MAX];
    unsigned segment;
    if (!mr_rec_parse_stem(stem, stream, sizeof(stream), id8, &segment))
        return false;
    struct found f = {0};
    if (!close_media(dir, stem, ext, &f))
        return false;
    const char *stamp = stem + strlen(stream) + 1;
    struct mr_rec_sidecar sc = {
        .id = id8,
        .room = room,
        .stream = stream,
        .state = "interrupted",
        .error = WHY "; its sidecar was never written",
        .file = strrchr(f.final, '/') + 1,
        .container = strcmp(ext, "mkv") == 0 ? "matroska" : "webm",
        .start_us = stamp_to_unix_us(stamp),
        .end_us = f.mtime_us,
        .duration_s = f.duration_s,
        .size = f.size,
        .sha256 = f.sha[0] ? f.sha : NULL,
        .segment = segment,
    };
    mr_rec_path(json, sizeof(json), "%s/%s.json", dir, stem);
    return mr_rec_sidecar_write(json, &sc) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static int recover_jsons(const char *dir, char **names, size_t n)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        mr_rec_path(path, sizeof(path), "%s/%s", dir, names[i]);
        if (has_suffix(names[i], ".json.tmp")) {
            unlink(path); /* a replacement that never got renamed */
            continue;
        }
        if (!has_suffix(names[i], ".json"))
            continue;
        json_t *doc = json_load_file(path, 0, NULL);
        const char *state = json_string_value(json_object_get(doc, "state"));
        if (state && strcmp(state, "recording") == 0 && recover_sidecar(dir, path, doc))
            count++;
        json_decref(doc);
    }
    return count;
}

static int recover_orphans(const char *dir, const char *room, char **names, size_t n)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ext = has_suffix(names[i], ".recording.webm")  ? "webm"
                          : has_suffix(names[i], ".recording.mkv") ? "mkv"
                                                                   : NULL;
        if (!ext)
            continue;
        char stem[256], json[PATH_MAX];
        snprintf(stem, sizeof(stem), "%s", names[i]);
        stem[strlen(stem) - strlen(".recording.") - strlen(ext)] = '\0';
        mr_rec_path(json, sizeof(json), "%s/%s.json", dir, stem);
        if (access(json, F_OK) != 0 && recover_orphan(dir, room, stem, ext))
            count++;
    }
    return count;
}

/* The entries of a directory, without dot files. */
static char **list_dir(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, cap * sizeof(*names));
            if (!grown)
                break;
            names = grown;
        }
        char *dup = strdup(e->d_name);
        if (dup)
            names[(*n)++] = dup;
    }
    closedir(d);
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool is_date(const char *s)
{
    return strlen(s) == 10 && s[4] == '-' && s[7] == '-';
}

int mr_recorder_recover(struct mr_recorder *r)
{
    if (!r)
        return MR_EINVAL;
    int count = 0;
    size_t nrooms, ndates, nfiles;
    char **rooms = list_dir(r->dir, &nrooms);
    for (size_t i = 0; i < nrooms; i++) {
        if (!rooms[i] || !mr_name_valid(rooms[i], strlen(rooms[i])))
            continue;
        char room_dir[PATH_MAX];
        mr_rec_path(room_dir, sizeof(room_dir), "%s/%s", r->dir, rooms[i]);
        char **dates = list_dir(room_dir, &ndates);
        for (size_t j = 0; j < ndates; j++) {
            if (!dates[j] || !is_date(dates[j]))
                continue;
            char dir[PATH_MAX];
            mr_rec_path(dir, sizeof(dir), "%s/%s", room_dir, dates[j]);
            char **files = list_dir(dir, &nfiles);
            count += recover_jsons(dir, files, nfiles);
            count += recover_orphans(dir, rooms[i], files, nfiles);
            free_list(files, nfiles);
        }
        free_list(dates, ndates);
    }
    free_list(rooms, nrooms);
    if (count > 0)
        mr_log_info(RECORD, "recorder: closed %d recording(s) left open by a crash", count);
    return count;
}
