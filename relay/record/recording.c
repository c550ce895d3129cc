/*
 * One recording's public side: start, push (the worker's only call), stop,
 * info, and the transitions to its end state. Everything GStreamer happens
 * on the recorder thread, except building the rx pipeline in
 * mr_recording_start so that a missing plugin fails the call itself.
 */
#include "record/record_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/error.h"
#include "core/log.h"
#include "core/name.h"
#include "core/random.h"

#define DEFAULT_RING_SLOTS 2048

static int check_params(const struct mr_record_params *p, char *err, size_t err_len)
{
    if (!mr_name_valid(p->room, strlen(p->room)) || !mr_name_valid(p->stream, strlen(p->stream))) {
        snprintf(err, err_len, "invalid room or stream name");
        return MR_EINVAL;
    }
    if (p->n_tracks == 0 || p->n_tracks > MR_RECORD_MAX_TRACKS) {
        snprintf(err, err_len, "a recording needs 1 to %d tracks", MR_RECORD_MAX_TRACKS);
        return MR_EINVAL;
    }
    for (unsigned i = 0; i < p->n_tracks; i++) {
        const struct mr_record_track *t = &p->tracks[i];
        if (!mr_rec_codec_find(t->codec, t->kind)) {
            snprintf(err, err_len, "%s %.16s cannot be recorded",
                     t->kind == MR_RECORD_AUDIO ? "audio codec" : "video codec", t->codec);
            return MR_ENOTSUP;
        }
        if (t->clock_rate == 0 || t->pt > 127) {
            snprintf(err, err_len, "track %u: bad clock rate or payload type", i);
            return MR_EINVAL;
        }
    }
    return 0;
}

/* Names and paths, fixed for the recording's life. */
static int layout(struct mr_recording *rec, char *err, size_t err_len)
{
    char date[11], stamp[17];
    mr_rec_utc_date(rec->started_unix_us, date);
    mr_rec_utc_stamp(rec->started_unix_us, stamp);
    snprintf(rec->reldir, sizeof(rec->reldir), "%s/%s", rec->p.room, date);
    mr_rec_path(rec->dir, sizeof(rec->dir), "%s/%s", rec->r->dir, rec->reldir);
    snprintf(rec->stem, sizeof(rec->stem), "%s_%s_%.8s", rec->p.stream, stamp, rec->id);
    rec->webm = true;
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        rec->webm = rec->webm && rec->tracks[i].codec->webm;
    rec->ext = rec->webm ? "webm" : "mkv";
    char why[128];
    if (mr_rec_mkdirs(rec->r->dir, rec->reldir, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "cannot create the recording's directory under %s: %s", rec->r->dir,
                 why);
        return MR_EIO;
    }
    return 0;
}

static struct mr_recording *alloc_recording(struct mr_recorder *r, const struct mr_record_params *p)
{
    struct mr_recording *rec = calloc(1, sizeof(*rec));
    if (!rec)
        return NULL;
    unsigned slots = r->cfg.ring_slots ? r->cfg.ring_slots : DEFAULT_RING_SLOTS;
    if (mr_ring_init(&rec->ring, slots) < 0) {
        free(rec);
        return NULL;
    }
    rec->refs = 2; /* the caller's and the recorder's */
    rec->r = r;
    rec->p = *p;
    rec->p.room[sizeof(rec->p.room) - 1] = rec->p.stream[sizeof(rec->p.stream) - 1] = '\0';
    rec->p.sub[sizeof(rec->p.sub) - 1] = rec->p.cname[sizeof(rec->p.cname) - 1] = '\0';
    rec->p.role[sizeof(rec->p.role) - 1] = '\0';
    mr_random_hex(rec->id, MR_RECORD_ID_LEN / 2);
    g_mutex_init(&rec->lock);
    g_queue_init(&rec->held);
    rec->held_first = GST_CLOCK_TIME_NONE;
    rec->state = MR_RECORDING_STARTING;
    rec->accepting = 1;
    rec->started_unix_us = mr_clock_wall_us();
    rec->start_mono_us = mr_clock_mono_us();
    for (unsigned i = 0; i < p->n_tracks; i++)
        rec->tracks[i].codec = mr_rec_codec_find(p->tracks[i].codec, p->tracks[i].kind);
    return rec;
}

static void free_recording(struct mr_recording *rec)
{
    mr_ring_cleanup(&rec->ring);
    g_mutex_clear(&rec->lock);
    free(rec);
}

/* Hands the recording to the recorder thread; fails once shutdown began. */
static int enqueue(struct mr_recording *rec)
{
    struct mr_recorder *r = rec->r;
    g_mutex_lock(&r->lock);
    bool closing = r->closing;
    if (!closing)
        r->pending = g_list_append(r->pending, rec);
    g_mutex_unlock(&r->lock);
    if (closing)
        return MR_ESTATE;
    mr_rec_wake(r);
    return 0;
}

int mr_recording_start(struct mr_recorder *r, const struct mr_record_params *p,
                       mr_recording_done_cb done, void *user, struct mr_recording **out, char *err,
                       size_t err_len)
{
    char dummy[8];
    if (!err || err_len == 0) {
        err = dummy;
        err_len = sizeof(dummy);
    }
    err[0] = '\0';
    if (!r || !p || !out)
        return MR_EINVAL;
    *out = NULL;
    int rc = check_params(p, err, err_len);
    if (rc < 0)
        return rc;
    struct mr_recording *rec = alloc_recording(r, p);
    if (!rec)
        return MR_ENOMEM;
    rec->done = done;
    rec->user = user;
    if ((rc = layout(rec, err, err_len)) < 0)
        goto fail;
    if ((rc = mr_rec_rx_build(rec, err, err_len)) < 0)
        goto fail;
    if ((rc = mr_rec_files_create(rec, 1, err, err_len)) < 0)
        goto fail_rx;
    if ((rc = enqueue(rec)) < 0) {
        snprintf(err, err_len, "the recorder is shutting down");
        goto fail_rx;
    }
    char room[MR_LOG_REDACT_LEN], where[PATH_MAX];
    mr_rec_log_path(rec, rec->stem, rec->webm ? ".recording.webm" : ".recording.mkv", where,
                    sizeof(where));
    mr_log_info(RECORD, "rec %s: started, room %s, %u track(s), file %s", rec->id,
                mr_log_redact(MR_LOG_RECORD, rec->p.room, room), rec->p.n_tracks, where);
    *out = rec;
    return 0;

    /* ERRORS */
fail_rx:
    mr_rec_rx_free(rec);
fail:
    mr_log_warn(RECORD, "rec %s: cannot start: %s", rec->id, err);
    free_recording(rec);
    return rc;
}

struct mr_recording *mr_recording_ref(struct mr_recording *rec)
{
    __atomic_add_fetch(&rec->refs, 1, __ATOMIC_RELAXED);
    return rec;
}

void mr_recording_unref(struct mr_recording *rec)
{
    if (rec && __atomic_sub_fetch(&rec->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free_recording(rec);
}

bool mr_recording_push(struct mr_recording *rec, unsigned track, int what, const uint8_t *pkt,
                       size_t len, int64_t arrival_us)
{
    if (!__atomic_load_n(&rec->accepting, __ATOMIC_ACQUIRE)) {
        /* A failed recording keeps counting what it could not take, so the
         * loss shows in the stats; a stopped one simply takes nothing. */
        if (__atomic_load_n(&rec->failed, __ATOMIC_RELAXED))
            mr_counter_add(&rec->ring.dropped, 1);
        return false;
    }
    if (track >= rec->p.n_tracks || (what != MR_RECORD_RTP && what != MR_RECORD_RTCP))
        return false;
    return mr_ring_push(&rec->ring, pkt, len, (uint8_t)track, (uint8_t)what, arrival_us);
}

void mr_recording_stop(struct mr_recording *rec)
{
    /* The recorder thread notices within one tick; nothing here touches the
     * recorder, so this is safe even after mr_recorder_free. */
    __atomic_store_n(&rec->accepting, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&rec->stop_asked, 1, __ATOMIC_RELEASE);
}

bool mr_recording_keyframe_wanted(struct mr_recording *rec)
{
    return __atomic_exchange_n(&rec->want_key, 0, __ATOMIC_ACQ_REL) != 0;
}

void mr_recording_info(struct mr_recording *rec, struct mr_recording_info *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->id, rec->id, sizeof(out->id));
    snprintf(out->room, sizeof(out->room), "%s", rec->p.room);
    snprintf(out->stream, sizeof(out->stream), "%s", rec->p.stream);
    g_mutex_lock(&rec->lock);
    out->state = rec->state;
    snprintf(out->error, sizeof(out->error), "%s", rec->error);
    snprintf(out->path, sizeof(out->path), "%s", rec->path);
    out->started_unix_us = rec->started_unix_us;
    g_mutex_unlock(&rec->lock);
    out->bytes = mr_counter_read(&rec->bytes);
    out->packets = mr_counter_read(&rec->packets);
    out->dropped = mr_counter_read(&rec->ring.dropped);
    out->segments = __atomic_load_n(&rec->segments, __ATOMIC_RELAXED);
    out->lost_packets[MR_RECORD_AUDIO] = mr_rec_lost(rec, MR_RECORD_AUDIO);
    out->lost_packets[MR_RECORD_VIDEO] = mr_rec_lost(rec, MR_RECORD_VIDEO);
}

void mr_rec_set_state(struct mr_recording *rec, enum mr_recording_state st, const char *error)
{
    g_mutex_lock(&rec->lock);
    rec->state = st;
    if (error)
        snprintf(rec->error, sizeof(rec->error), "%s", error);
    g_mutex_unlock(&rec->lock);
}

void mr_rec_set_path(struct mr_recording *rec, const char *path)
{
    g_mutex_lock(&rec->lock);
    snprintf(rec->path, sizeof(rec->path), "%s", path);
    g_mutex_unlock(&rec->lock);
}

/* "<room>/<date>/<stream>_<stamp>_<id8>..." with room and stream redacted
 * unless the record subsystem logs at debug level. */
void mr_rec_log_path(const struct mr_recording *rec, const char *stem, const char *suffix,
                     char *out, size_t len)
{
    char room[MR_LOG_REDACT_LEN], stream[MR_LOG_REDACT_LEN];
    size_t slen = strlen(rec->p.stream);
    snprintf(out, len, "%s/%s/%s%s%s", mr_log_redact(MR_LOG_RECORD, rec->p.room, room),
             rec->reldir + strlen(rec->p.room) + 1,
             mr_log_redact(MR_LOG_RECORD, rec->p.stream, stream), stem + slen, suffix);
}
