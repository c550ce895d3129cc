/*
 * A segment's files: names, the sidecar, and what happens once the muxer is
 * done (rename, SHA-256, final sidecar) or when it is cut short.
 *
 * Names: <stream>_<YYYYMMDDTHHMMSSZ>_<id8> for the first file of a
 * recording and the same with _2, _3 ... for the next segments; the stamp
 * is the recording's start (UTC), so a recording's files sort together. A
 * file being written is called <name>.recording.<ext>; it is renamed to
 * <name>.<ext> once finished, and <name>.json sits beside it.
 */
#include "record/record_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/error.h"
#include "core/log.h"

void mr_rec_seg_stem(const struct mr_recording *rec, unsigned n, char *out, size_t len)
{
    if (n <= 1)
        snprintf(out, len, "%s", rec->stem);
    else
        snprintf(out, len, "%s_%u", rec->stem, n);
}

static void base_sidecar(const struct mr_recording *rec, unsigned n, struct mr_rec_sidecar *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->id = rec->id;
    sc->room = rec->p.room;
    sc->stream = rec->p.stream;
    sc->publisher = rec->p.sub;
    sc->publisher_role = rec->p.role;
    sc->container = rec->webm ? "webm" : "matroska";
    for (unsigned i = rec->p.n_tracks; i-- > 0;) {
        if (rec->tracks[i].codec->kind == MR_RECORD_AUDIO)
            sc->audio = rec->tracks[i].codec->label;
        else
            sc->video = rec->tracks[i].codec->label;
    }
    sc->segment = n;
    sc->dropped = mr_counter_read(&rec->ring.dropped);
    sc->lost[MR_RECORD_AUDIO] = mr_rec_lost(rec, MR_RECORD_AUDIO);
    sc->lost[MR_RECORD_VIDEO] = mr_rec_lost(rec, MR_RECORD_VIDEO);
    sc->duration_s = -1;
    sc->size = -1;
}

int mr_rec_files_create(struct mr_recording *rec, unsigned n, char *err, size_t err_len)
{
    char stem[224], media[PATH_MAX], json[PATH_MAX], file[256], why[128];
    mr_rec_seg_stem(rec, n, stem, sizeof(stem));
    snprintf(file, sizeof(file), "%s.recording.%s", stem, rec->ext);
    mr_rec_path(media, sizeof(media), "%s/%s", rec->dir, file);
    mr_rec_path(json, sizeof(json), "%s/%s.json", rec->dir, stem);
    if (mr_rec_create_file(media, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "cannot create a recording file under %s: %s", rec->r->dir, why);
        return MR_EIO;
    }
    struct mr_rec_sidecar sc;
    base_sidecar(rec, n, &sc);
    sc.state = "recording";
    sc.file = file;
    sc.start_us = n == 1 ? rec->started_unix_us : mr_clock_wall_us();
    if (mr_rec_sidecar_write(json, &sc) < 0) {
        snprintf(err, err_len, "cannot write a sidecar under %s: %s", rec->r->dir, strerror(errno));
        unlink(media);
        return MR_EIO;
    }
    if (n == 1)
        mr_rec_set_path(rec, media);
    return 0;
}

double mr_rec_seg_duration(const struct mr_rec_seg *s)
{
    if (s->scanned_s >= 0)
        return s->scanned_s;
    GstClockTime end = s->max_end;
    for (unsigned i = 0; i < MR_RECORD_MAX_TRACKS; i++)
        if (s->end[i] > end)
            end = s->end[i];
    return (double)end / GST_SECOND;
}

void mr_rec_seg_sidecar(struct mr_rec_seg *s, const char *state, const char *error)
{
    struct mr_recording *rec = s->rec;
    struct mr_rec_sidecar sc;
    char json[PATH_MAX];
    base_sidecar(rec, s->n, &sc);
    sc.state = state;
    sc.error = error && error[0] ? error : NULL;
    const char *slash = strrchr(s->path, '/');
    sc.file = !s->path[0] ? NULL : slash ? slash + 1 : s->path;
    sc.width = s->width;
    sc.height = s->height;
    sc.start_us = rec->started_unix_us + (int64_t)(s->base / 1000);
    sc.duration_s = mr_rec_seg_duration(s);
    sc.end_us = sc.start_us + (int64_t)(sc.duration_s * 1e6);
    sc.size = s->size;
    sc.sha256 = s->hash.hex[0] ? s->hash.hex : NULL;
    mr_rec_path(json, sizeof(json), "%s/%s.json", rec->dir, s->stem);
    if (mr_rec_sidecar_write(json, &sc) < 0)
        mr_log_warn(RECORD, "rec %s: segment %u: cannot write its sidecar: %s", rec->id, s->n,
                    strerror(errno));
}

/* <name>.recording.<ext> -> <name>.<ext>, and the final size. */
static void finalize_file(struct mr_rec_seg *s)
{
    struct mr_recording *rec = s->rec;
    char final[PATH_MAX];
    struct stat st;
    mr_rec_path(final, sizeof(final), "%s/%s.%s", rec->dir, s->stem, rec->ext);
    if (rename(s->path, final) == 0)
        snprintf(s->path, sizeof(s->path), "%s", final);
    else
        mr_log_warn(RECORD, "rec %s: segment %u: cannot rename its file: %s", rec->id, s->n,
                    strerror(errno));
    mr_rec_set_path(rec, s->path);
    if (stat(s->path, &st) == 0)
        s->size = st.st_size;
}

static void done(struct mr_rec_seg *s, const char *state, const char *error)
{
    struct mr_recording *rec = s->rec;
    char where[PATH_MAX];
    mr_rec_seg_sidecar(s, state, error);
    s->state = MR_SEG_DONE;
    mr_rec_hash_cleanup(&s->hash);
    if (s->size > 0)
        rec->done_bytes += (uint64_t)s->size;
    mr_rec_log_path(rec, s->stem, rec->webm ? ".webm" : ".mkv", where, sizeof(where));
    mr_log_info(RECORD, "rec %s: segment %u %s: %.1f s, %lld bytes, file %s", rec->id, s->n, state,
                mr_rec_seg_duration(s), (long long)s->size, where);
}

/* The muxer wrote its end (EOS reached the sink): the file is complete. */
void mr_rec_seg_finished(struct mr_rec_seg *s)
{
    mr_rec_seg_stop(s);
    finalize_file(s);
    if (mr_rec_hash_begin(&s->hash, s->path) < 0) {
        done(s, "complete", NULL);
        return;
    }
    s->state = MR_SEG_HASHING;
}

int mr_rec_seg_hash_step(struct mr_rec_seg *s)
{
    int rc = mr_rec_hash_step(&s->hash, MR_REC_HASH_STEP);
    if (rc == 0)
        return 0;
    if (rc < 0)
        s->hash.hex[0] = '\0';
    done(s, "complete", NULL);
    return 1;
}

/* A muxer stopped without EOS left no duration in the header: find it by
 * walking the clusters and write it in, as recovery does after a crash. */
static void repair(struct mr_rec_seg *s)
{
    int fd = open(s->path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    struct mr_rec_mkv_scan scan;
    if (mr_rec_mkv_scan(fd, &scan) == 0) {
        s->scanned_s = (double)scan.duration_ns / GST_SECOND;
        mr_rec_mkv_patch_duration(fd, &scan);
    } else {
        s->scanned_s = 0;
    }
    close(fd);
}

/*
 * Ends a segment that cannot finish normally (the recording failed, or
 * shutdown ran out of time): whatever reached the disk stays, named as a
 * finished file, hashed, with the given state in its sidecar.
 */
void mr_rec_seg_abort(struct mr_rec_seg *s, const char *state, const char *error)
{
    if (s->state == MR_SEG_DONE)
        return;
    if (s->state == MR_SEG_HASHING) {
        while (mr_rec_seg_hash_step(s) == 0)
            ;
        return;
    }
    mr_rec_seg_stop(s);
    repair(s);
    finalize_file(s);
    if (mr_rec_hash_file(s->path, s->hash.hex) < 0)
        s->hash.hex[0] = '\0';
    done(s, state, error);
}
