/*
 * Frames from the appsinks into files: which segment a frame goes to, when
 * a file starts and when it is cut.
 *
 * Rules:
 *  - The first file starts at the first video key frame, holding audio for
 *    up to 2 s so that the speech before it is kept (both tracks then start
 *    together at the earliest frame); without a key frame by then it starts
 *    with audio alone, and video joins in a new segment.
 *  - Audio is in every file from its first instant: silence stands in until
 *    real audio arrives and in any gap, so the muxer never waits for it.
 *  - A video track that falls 10 s behind the others (camera stopped) is
 *    ended in the current file; when it comes back with a key frame, a new
 *    segment starts. A shorter gap (an uplink outage, a handover) stays in
 *    the file. A video-only file simply pauses.
 *  - Size or duration limits cut at the next video key frame (the worker is
 *    asked for one), or at any audio frame when the file has no video.
 *  - After a cut, frames from before it (audio that was a little late) still
 *    go to the old file for up to 1 s, then the old file gets its EOS.
 */
#include "record/record_priv.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/error.h"
#include "core/log.h"

#define NO_TRIGGER UINT_MAX

struct held {
    unsigned track;
    GstBuffer *buf;
};

static bool is_video(const struct mr_recording *rec, unsigned i)
{
    return rec->tracks[i].codec->kind == MR_RECORD_VIDEO;
}

static bool has_video(const struct mr_recording *rec)
{
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        if (is_video(rec, i))
            return true;
    return false;
}

static void want_key(struct mr_recording *rec)
{
    __atomic_store_n(&rec->want_key, 1, __ATOMIC_RELEASE);
}

/* Caps for the muxer: as given, plus the size for VP8 when the depayloader
 * did not put it there (the muxer refuses video caps without one). */
static void update_caps(struct mr_rec_track *t, GstCaps *caps)
{
    bool need_size = t->caps && t->width &&
                     !gst_structure_has_field(gst_caps_get_structure(t->caps, 0), "width");
    if (!caps || (caps == t->raw_caps && !need_size))
        return;
    gst_caps_replace(&t->raw_caps, caps);
    GstCaps *c = gst_caps_copy(caps);
    GstStructure *st = gst_caps_get_structure(c, 0);
    if (t->width && !gst_structure_has_field(st, "width"))
        gst_structure_set(st, "width", G_TYPE_INT, (int)t->width, "height", G_TYPE_INT,
                          (int)t->height, NULL);
    gst_caps_take(&t->caps, c);
}

/* Key frame or not, and the picture size when it is one. */
static bool inspect(struct mr_rec_track *t, GstBuffer *buf, GstCaps *caps)
{
    if (t->codec->kind != MR_RECORD_VIDEO)
        return true;
    bool key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    if (strcmp(t->codec->label, "VP8") == 0) {
        GstMapInfo map;
        unsigned w, h;
        if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
            int rc = mr_rec_vp8_size(map.data, map.size, &w, &h);
            gst_buffer_unmap(buf, &map);
            key = rc == 0;
            if (rc == 0) {
                t->width = w;
                t->height = h;
            }
        }
    } else if (key && caps) {
        int w = 0, h = 0;
        GstStructure *st = gst_caps_get_structure(caps, 0);
        if (gst_structure_get_int(st, "width", &w) && gst_structure_get_int(st, "height", &h)) {
            t->width = (unsigned)w;
            t->height = (unsigned)h;
        }
    }
    return key;
}

/* A current segment that ended by itself (its only track stopped) is set
 * aside, so that the next frame starts a new one. */
static void settle(struct mr_recording *rec)
{
    if (rec->seg && rec->seg->state != MR_SEG_WRITING) {
        rec->old = g_list_append(rec->old, rec->seg);
        rec->seg = NULL;
    }
}

/*
 * Audio that already went into the old file past the cut (the key frame
 * that caused it came out of its jitter buffer late, after a loss) is not
 * repeated as silence at the start of the new one: its audio starts where
 * the old one's ended.
 */
static void carry_audio(const struct mr_rec_seg *old, struct mr_rec_seg *s)
{
    for (unsigned i = 0; i < MR_RECORD_MAX_TRACKS; i++) {
        if (!s->pad[i] || !old->pad[i] || s->rec->tracks[i].codec->kind != MR_RECORD_AUDIO)
            continue;
        GstClockTime old_end = old->base + old->end[i];
        if (old_end > s->base)
            s->end[i] = old_end - s->base;
    }
}

static bool open_segment(struct mr_recording *rec, GstClockTime base, unsigned trigger)
{
    enum mr_rec_role roles[MR_RECORD_MAX_TRACKS] = {MR_ROLE_NONE};
    for (unsigned i = 0; i < rec->p.n_tracks; i++) {
        if (!is_video(rec, i) || i == trigger)
            roles[i] = MR_ROLE_MEMBER;
        else if (trigger != NO_TRIGGER && rec->tracks[i].caps && rec->tracks[i].width)
            roles[i] = MR_ROLE_WAIT_KEY;
    }
    char err[256];
    unsigned n = __atomic_load_n(&rec->segments, __ATOMIC_RELAXED) + 1;
    struct mr_rec_seg *s = mr_rec_seg_new(rec, n, base, roles, err, sizeof(err));
    if (!s) {
        mr_rec_fail(rec, err);
        return false;
    }
    if (rec->seg) {
        carry_audio(rec->seg, s);
        rec->seg->state = MR_SEG_CLOSING;
        rec->seg->cut = base;
        rec->seg->cut_mono_us = mr_clock_mono_us();
        rec->old = g_list_append(rec->old, rec->seg);
    }
    rec->seg = s;
    if (n > 1)
        mr_log_info(RECORD, "rec %s: segment %u started", rec->id, n);
    return true;
}

static void drop_held(struct mr_recording *rec)
{
    struct held *h;
    while ((h = g_queue_pop_head(&rec->held))) {
        gst_buffer_unref(h->buf);
        g_free(h);
    }
    rec->held_first = GST_CLOCK_TIME_NONE;
}

/* Opens the first file of a run: at the earliest held or given frame. */
static void open_first(struct mr_recording *rec, unsigned trigger, GstBuffer *buf)
{
    GstClockTime base = rec->held_first;
    if (buf && (base == GST_CLOCK_TIME_NONE || GST_BUFFER_PTS(buf) < base))
        base = GST_BUFFER_PTS(buf);
    if (base == GST_CLOCK_TIME_NONE || !open_segment(rec, base, trigger)) {
        drop_held(rec);
        return;
    }
    struct held *h;
    while ((h = g_queue_pop_head(&rec->held))) {
        mr_rec_seg_push(rec->seg, h->track, h->buf);
        gst_buffer_unref(h->buf);
        g_free(h);
    }
    rec->held_first = GST_CLOCK_TIME_NONE;
}

static void startup(struct mr_recording *rec, unsigned i, GstBuffer *buf, bool key)
{
    if (is_video(rec, i) && !key) {
        want_key(rec);
        return;
    }
    if (is_video(rec, i) || !has_video(rec)) {
        open_first(rec, is_video(rec, i) ? i : NO_TRIGGER, buf);
        if (rec->seg)
            mr_rec_seg_push(rec->seg, i, buf);
        return;
    }
    struct held *h = g_new(struct held, 1);
    h->track = i;
    h->buf = gst_buffer_ref(buf);
    g_queue_push_tail(&rec->held, h);
    if (rec->held_first == GST_CLOCK_TIME_NONE) {
        rec->held_first = GST_BUFFER_PTS(buf);
        rec->held_mono_us = mr_clock_mono_us();
    }
    if (GST_BUFFER_PTS(buf) >= rec->held_first + MR_REC_STARTUP_WAIT)
        open_first(rec, NO_TRIGGER, NULL);
}

/* A frame from before the current file's start: the previous file, if it
 * is still open for that track, else nowhere. */
static void late(struct mr_recording *rec, unsigned i, GstBuffer *buf)
{
    GstClockTime pts = GST_BUFFER_PTS(buf);
    for (GList *l = g_list_last(rec->old); l; l = l->prev) {
        struct mr_rec_seg *s = l->data;
        if (s->state == MR_SEG_CLOSING && pts >= s->base && pts < s->cut && s->pad[i] &&
            s->open[i]) {
            mr_rec_seg_push(s, i, buf);
            return;
        }
    }
    mr_log_debug(RECORD, "rec %s: track %u: frame before the file's start dropped", rec->id, i);
}

/* Whether segment s is full, with a buffer at pts arriving. The buffer's
 * own time counts as well as what the segment holds: a video key frame
 * exactly one limit after the segment's start would otherwise cut or not
 * depending on whether the audio up to it happened to arrive first (video
 * ends count at their start), and the cut would slip by a key-frame
 * interval. */
static bool due(const struct mr_recording *rec, const struct mr_rec_seg *s, GstClockTime pts)
{
    const struct mr_record_config *cfg = &rec->r->cfg;
    GstClockTime held = MAX(s->max_end, pts - s->base);
    return (cfg->segment_bytes && s->bytes_in >= cfg->segment_bytes) ||
           (cfg->segment_seconds && held >= cfg->segment_seconds * GST_SECOND);
}

static bool video_open(const struct mr_recording *rec, const struct mr_rec_seg *s)
{
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        if (is_video(rec, i) && s->pad[i] && s->open[i])
            return true;
    return false;
}

static void route(struct mr_recording *rec, unsigned i, GstBuffer *buf, bool key)
{
    settle(rec);
    if (!rec->seg) {
        startup(rec, i, buf, key);
        return;
    }
    struct mr_rec_seg *s = rec->seg;
    GstClockTime pts = GST_BUFFER_PTS(buf);
    if (pts < s->base) {
        late(rec, i, buf);
        return;
    }
    for (GList *l = rec->old; l; l = l->next) {
        struct mr_rec_seg *o = l->data;
        if (o->state == MR_SEG_CLOSING && pts >= o->cut)
            o->past_cut[i] = true;
    }
    bool cut = false;
    if (!s->pad[i] || !s->open[i]) {
        if (!is_video(rec, i) || !key) {
            want_key(rec);
            return;
        }
        cut = true;
    } else if (s->need_key[i] && !key) {
        want_key(rec);
        return;
    } else if (due(rec, s, pts)) {
        cut = video_open(rec, s) ? is_video(rec, i) && key : true;
        if (!cut)
            want_key(rec);
    }
    if (cut && !open_segment(rec, pts, is_video(rec, i) ? i : NO_TRIGGER))
        return;
    rec->seg->need_key[i] = false;
    mr_rec_seg_push(rec->seg, i, buf);
}

static void take(struct mr_recording *rec, unsigned i, GstSample *sample)
{
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstCaps *caps = gst_sample_get_caps(sample);
    struct mr_rec_track *t = &rec->tracks[i];
    if (!buf || !GST_BUFFER_PTS_IS_VALID(buf))
        return;
    bool key = inspect(t, buf, caps);
    update_caps(t, caps);
    route(rec, i, buf, key);
    /* The sidecar of a file in progress learns the picture size as soon as
     * it is known, so a file a crash leaves behind still says it. */
    if (rec->seg && !rec->seg->width && t->width) {
        rec->seg->width = t->width;
        rec->seg->height = t->height;
        mr_rec_seg_sidecar(rec->seg, "recording", NULL);
    }
}

/*
 * Takes what the appsinks hold, oldest first across tracks, so that a cut
 * at a key frame sees the audio around it in time order (within what has
 * come out of rtpbin; see also carry_audio).
 */
void mr_rec_route_pull(struct mr_recording *rec)
{
    GstSample *head[MR_RECORD_MAX_TRACKS] = {NULL};
    for (unsigned n = 0; n < 4000 && rec->phase != MR_PHASE_END; n++) {
        if (rec->seg && mr_rec_seg_congested(rec->seg))
            break;
        unsigned best = UINT_MAX;
        GstClockTime best_pts = GST_CLOCK_TIME_NONE;
        for (unsigned i = 0; i < rec->p.n_tracks; i++) {
            struct mr_rec_track *t = &rec->tracks[i];
            if (!head[i]) {
                head[i] = gst_app_sink_try_pull_sample(GST_APP_SINK(t->sink), 0);
                if (!head[i])
                    t->eos = gst_app_sink_is_eos(GST_APP_SINK(t->sink));
            }
            GstBuffer *b = head[i] ? gst_sample_get_buffer(head[i]) : NULL;
            GstClockTime pts = b ? GST_BUFFER_PTS(b) : GST_CLOCK_TIME_NONE;
            if (head[i] && (best == UINT_MAX || pts < best_pts)) {
                best = i;
                best_pts = pts;
            }
        }
        if (best == UINT_MAX)
            break;
        take(rec, best, head[best]);
        gst_sample_unref(head[best]);
        head[best] = NULL;
    }
    /* Heads left when the loop stopped (congestion, the limit) cannot go
     * back into their appsinks: take them now. */
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        if (head[i]) {
            if (rec->phase != MR_PHASE_END)
                take(rec, i, head[i]);
            gst_sample_unref(head[i]);
        }
}

/* How long audio has come without video track v: since v's last frame or
 * since the audio's own run began (after an outage of both), the later. */
static GstClockTime audio_alone(const struct mr_recording *rec, const struct mr_rec_seg *s,
                                unsigned v)
{
    GstClockTime alone = 0;
    for (unsigned a = 0; a < rec->p.n_tracks; a++) {
        if (is_video(rec, a) || !s->real_end[a])
            continue;
        GstClockTime from = MAX(s->real_end[v], s->run_start[a]);
        if (s->real_end[a] > from && s->real_end[a] - from > alone)
            alone = s->real_end[a] - from;
    }
    return alone;
}

/* Keeps every pad of the current file moving: silence for quiet audio, the
 * end for video that stopped. */
static void keep_flowing(struct mr_recording *rec, struct mr_rec_seg *s)
{
    for (unsigned i = 0; i < rec->p.n_tracks; i++) {
        if (!s->pad[i] || !s->open[i])
            continue;
        if (!is_video(rec, i) && s->max_end > MR_REC_SILENCE_LAG)
            mr_rec_seg_fill(s, i, s->max_end - MR_REC_SILENCE_LAG);
        if (is_video(rec, i) && audio_alone(rec, s, i) > MR_REC_VIDEO_STALL) {
            mr_log_info(RECORD, "rec %s: video track %u stopped; segment %u goes on without it",
                        rec->id, i, s->n);
            mr_rec_seg_end_track(s, i);
            want_key(rec);
        }
    }
}

static void tend_old(struct mr_recording *rec, int64_t now_us)
{
    GList *next;
    for (GList *l = rec->old; l; l = next) {
        struct mr_rec_seg *s = l->data;
        next = l->next;
        if (s->state == MR_SEG_CLOSING) {
            bool all = true;
            for (unsigned i = 0; i < rec->p.n_tracks; i++)
                all = all && (!s->pad[i] || !s->open[i] || s->past_cut[i]);
            if (all || now_us - s->cut_mono_us > MR_REC_CLOSE_GRACE_US)
                mr_rec_seg_eos(s);
        } else if (s->state == MR_SEG_HASHING) {
            mr_rec_seg_hash_step(s);
        }
        if (s->state == MR_SEG_DONE) {
            rec->old = g_list_delete_link(rec->old, l);
            mr_rec_seg_free(s);
        }
    }
}

void mr_rec_route_tick(struct mr_recording *rec, int64_t now_us)
{
    settle(rec);
    if (!rec->seg && !g_queue_is_empty(&rec->held) &&
        now_us - rec->held_mono_us > MR_REC_STARTUP_WAIT / 1000 + 500000)
        open_first(rec, NO_TRIGGER, NULL);
    if (rec->phase == MR_PHASE_END)
        return;
    if (rec->seg && rec->seg->state == MR_SEG_WRITING)
        keep_flowing(rec, rec->seg);
    tend_old(rec, now_us);
}

/* The end of the media: every file gets its EOS. */
void mr_rec_route_flush(struct mr_recording *rec)
{
    if (!rec->seg && !g_queue_is_empty(&rec->held))
        open_first(rec, NO_TRIGGER, NULL);
    if (rec->phase == MR_PHASE_END)
        return;
    settle(rec);
    if (rec->seg) {
        rec->old = g_list_append(rec->old, rec->seg);
        rec->seg = NULL;
    }
    for (GList *l = rec->old; l; l = l->next) {
        struct mr_rec_seg *s = l->data;
        if (s->state <= MR_SEG_CLOSING)
            mr_rec_seg_eos(s);
    }
}

void mr_rec_route_cleanup(struct mr_recording *rec)
{
    drop_held(rec);
}
