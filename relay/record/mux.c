/*
 * One output file: our source pads -> queues -> muxer -> filesink.
 *
 * Muxer and sink settings, chosen so that a file cut off at any moment
 * (SIGKILL, power kept) plays up to about its last second:
 *  - clusters of at most 1 s (max-cluster-duration), started at key frames
 *    when possible (min-cluster-duration 500 ms): a reader of a cut-off file
 *    loses at most the unfinished cluster's last block;
 *  - filesink buffer-mode=unbuffered and sync=false: every write of the
 *    muxer goes to the kernel at once, so nothing waits in user space for a
 *    buffer to fill (audio-only streams would otherwise sit in a 64 KiB
 *    stdio buffer for many seconds);
 *  - EOS on a normal stop, so the muxer writes the duration and the cues
 *    (an index, which browsers need to seek).
 * The muxer is collectpads-based: it writes only when every pad has data
 * or has ended, and it ignores GAP events. route.c therefore keeps every
 * pad fed (Opus silence for audio gaps) or ends it (video that stalled).
 */
#include "record/record_priv.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"

/* A 20 ms Opus CELT frame of silence (TOC 0xf8: config 31, mono, one
 * frame), as WebRTC stacks use for comfort silence. */
static const uint8_t opus_silence[3] = {0xf8, 0xff, 0xfe};

static void describe_error(GstMessage *msg, char *out, size_t len)
{
    GError *e = NULL;
    char *debug = NULL;
    gst_message_parse_error(msg, &e, &debug);
    /* The element's own message may name the file (and so the room); the
     * generic text for its code does not. */
    char *generic = e ? gst_error_get_message(e->domain, e->code) : NULL;
    const char *reason = debug ? strrchr(debug, '\n') : NULL;
    reason = reason ? reason + 1 : debug;
    if (reason && (strchr(reason, '/') || strlen(reason) > 120))
        reason = NULL;
    snprintf(out, len, "writing the file: %s%s%s%s", generic ? generic : "error",
             reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
    g_free(generic);
    g_free(debug);
    g_clear_error(&e);
}

static gboolean on_seg_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
    struct mr_rec_seg *s = data;
    (void)bus;
    if (s->state == MR_SEG_DONE || s->state == MR_SEG_HASHING)
        return G_SOURCE_CONTINUE;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
        mr_rec_seg_finished(s);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
        char why[256];
        describe_error(msg, why, sizeof(why));
        mr_rec_fail(s->rec, why);
    }
    return G_SOURCE_CONTINUE;
}

static GstElement *build_muxer(struct mr_rec_seg *s)
{
    struct mr_recording *rec = s->rec;
    GstElement *mux = gst_element_factory_make(rec->webm ? "webmmux" : "matroskamux", NULL);
    GstElement *sink = gst_element_factory_make("filesink", NULL);
    if (!mux || !sink) {
        if (mux)
            gst_object_unref(gst_object_ref_sink(mux));
        if (sink)
            gst_object_unref(gst_object_ref_sink(sink));
        return NULL;
    }
    g_object_set(mux, "min-cluster-duration", (gint64)(500 * GST_MSECOND), "max-cluster-duration",
                 (gint64)GST_SECOND, "writing-app", "medrelay", NULL);
    g_object_set(sink, "location", s->path, "sync", FALSE, "async", FALSE, "buffer-mode",
                 2 /* unbuffered */, NULL);
    gst_bin_add_many(GST_BIN(s->pipe), mux, sink, NULL);
    if (!gst_element_link(mux, sink))
        return NULL;
    return mux;
}

/* our pad -> queue -> muxer's audio_%u / video_%u */
static bool add_input(struct mr_rec_seg *s, GstElement *mux, unsigned i)
{
    struct mr_recording *rec = s->rec;
    bool video = rec->tracks[i].codec->kind == MR_RECORD_VIDEO;
    GstElement *q = gst_element_factory_make("queue", NULL);
    if (!q)
        return false;
    g_object_set(q, "max-size-buffers", 0, "max-size-time", (guint64)0, "max-size-bytes",
                 MR_REC_QUEUE_MAX_BYTES, NULL);
    gst_bin_add(GST_BIN(s->pipe), q);
    s->queue[i] = q;
    GstPad *mpad = gst_element_request_pad_simple(mux, video ? "video_%u" : "audio_%u");
    GstPad *qsrc = gst_element_get_static_pad(q, "src");
    GstPad *qsink = gst_element_get_static_pad(q, "sink");
    char name[16];
    snprintf(name, sizeof(name), "t%u", i);
    s->pad[i] = gst_pad_new(name, GST_PAD_SRC);
    gst_pad_set_active(s->pad[i], TRUE);
    bool ok = mpad && gst_pad_link(qsrc, mpad) == GST_PAD_LINK_OK &&
              gst_pad_link(s->pad[i], qsink) == GST_PAD_LINK_OK;
    if (mpad)
        gst_object_unref(mpad);
    gst_object_unref(qsrc);
    gst_object_unref(qsink);
    return ok;
}

static void start_stream(struct mr_rec_seg *s, unsigned i, guint group)
{
    struct mr_recording *rec = s->rec;
    char sid[48];
    snprintf(sid, sizeof(sid), "%s/%u/%u", rec->id, s->n, i);
    GstEvent *ev = gst_event_new_stream_start(sid);
    gst_event_set_group_id(ev, group);
    gst_pad_push_event(s->pad[i], ev);
    GstCaps *caps = rec->tracks[i].caps ? gst_caps_ref(rec->tracks[i].caps)
                                        : mr_rec_opus_caps(rec->p.tracks[i].channels);
    gst_pad_push_event(s->pad[i], gst_event_new_caps(caps));
    gst_caps_unref(caps);
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    gst_pad_push_event(s->pad[i], gst_event_new_segment(&seg));
}

static int build(struct mr_rec_seg *s, const enum mr_rec_role roles[])
{
    struct mr_recording *rec = s->rec;
    char name[48];
    snprintf(name, sizeof(name), "seg-%s-%u", rec->id, s->n);
    s->pipe = gst_pipeline_new(name);
    GstElement *mux = s->pipe ? build_muxer(s) : NULL;
    if (!mux)
        return MR_ENOTSUP;
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        if (roles[i] != MR_ROLE_NONE && !add_input(s, mux, i))
            return MR_ENOTSUP;
    GstBus *bus = gst_element_get_bus(s->pipe);
    s->watch = gst_bus_create_watch(bus);
    gst_object_unref(bus);
    g_source_set_callback(s->watch, G_SOURCE_FUNC(on_seg_bus), s, NULL);
    g_source_attach(s->watch, rec->r->ctx);
    /* No clock: nothing here waits for time, the muxer just writes. */
    gst_pipeline_use_clock(GST_PIPELINE(s->pipe), NULL);
    if (gst_element_set_state(s->pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        return MR_EIO;
    guint group = gst_util_group_id_next();
    for (unsigned i = 0; i < rec->p.n_tracks; i++) {
        if (roles[i] == MR_ROLE_NONE)
            continue;
        start_stream(s, i, group);
        s->open[i] = true;
        s->need_key[i] = roles[i] == MR_ROLE_WAIT_KEY;
    }
    return 0;
}

struct mr_rec_seg *mr_rec_seg_new(struct mr_recording *rec, unsigned n, GstClockTime base,
                                  const enum mr_rec_role roles[MR_RECORD_MAX_TRACKS], char *err,
                                  size_t err_len)
{
    struct mr_rec_seg *s = g_new0(struct mr_rec_seg, 1);
    s->rec = rec;
    s->n = n;
    s->base = base;
    s->cut = GST_CLOCK_TIME_NONE;
    s->size = -1;
    s->scanned_s = -1;
    s->hash.fd = -1;
    mr_rec_seg_stem(rec, n, s->stem, sizeof(s->stem));
    mr_rec_path(s->path, sizeof(s->path), "%s/%s.recording.%s", rec->dir, s->stem, rec->ext);
    /* The first segment's file was created by mr_recording_start. */
    if (n > 1 && mr_rec_files_create(rec, n, err, err_len) < 0)
        goto fail;
    if (build(s, roles) < 0) {
        snprintf(err, err_len, "cannot build the muxing pipeline");
        goto fail;
    }
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        if (rec->tracks[i].codec->kind == MR_RECORD_VIDEO && rec->tracks[i].width) {
            s->width = rec->tracks[i].width;
            s->height = rec->tracks[i].height;
            break;
        }
    __atomic_add_fetch(&rec->segments, 1, __ATOMIC_RELAXED);
    mr_rec_set_path(rec, s->path);
    return s;

    /* ERRORS */
fail:
    mr_rec_seg_free(s);
    return NULL;
}

static void push(struct mr_rec_seg *s, unsigned i, GstBuffer *out)
{
    GstFlowReturn fr = gst_pad_push(s->pad[i], out);
    if (fr != GST_FLOW_OK && fr != GST_FLOW_FLUSHING)
        mr_log_debug(RECORD, "rec %s: segment %u track %u: %s", s->rec->id, s->n, i,
                     gst_flow_get_name(fr));
}

/* Opus silence from the track's end up to file time `until`. */
static void fill_silence(struct mr_rec_seg *s, unsigned i, GstClockTime until)
{
    while (s->end[i] + MR_REC_OPUS_FRAME <= until) {
        GstBuffer *b =
            gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, (gpointer)opus_silence,
                                        sizeof(opus_silence), 0, sizeof(opus_silence), NULL, NULL);
        GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = s->end[i];
        GST_BUFFER_DURATION(b) = MR_REC_OPUS_FRAME;
        s->end[i] += MR_REC_OPUS_FRAME;
        push(s, i, b);
    }
}

void mr_rec_seg_fill(struct mr_rec_seg *s, unsigned i, GstClockTime until)
{
    if (s->pad[i] && s->open[i])
        fill_silence(s, i, until);
}

/*
 * Pushes a frame (rx running time in its PTS) at its place in this file.
 * Audio: gaps of two frames or more are filled with silence, and a frame
 * that overlaps what was written (silence filled in while it was late) is
 * moved to the end or, if wholly covered, dropped. Video: timestamps are
 * kept strictly increasing.
 */
void mr_rec_seg_push(struct mr_rec_seg *s, unsigned i, GstBuffer *buf)
{
    GstClockTime t = GST_BUFFER_PTS(buf) - s->base;
    GstClockTime dur = GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0;
    bool audio = s->rec->tracks[i].codec->kind == MR_RECORD_AUDIO;
    if (!s->real_end[i] || t > s->real_end[i] + MR_REC_RUN_GAP)
        s->run_start[i] = t;
    if (audio) {
        if (t >= s->end[i] + 2 * MR_REC_OPUS_FRAME)
            fill_silence(s, i, t);
        if (dur && t + dur <= s->end[i])
            return;
        if (t < s->end[i])
            t = s->end[i];
    } else if (s->real_end[i] && t <= s->end[i]) {
        t = s->end[i] + GST_MSECOND;
    }
    GstBuffer *out = gst_buffer_copy(buf);
    GST_BUFFER_PTS(out) = GST_BUFFER_DTS(out) = t;
    s->bytes_in += gst_buffer_get_size(out);
    s->end[i] = audio ? t + (dur ? dur : MR_REC_OPUS_FRAME) : t;
    s->real_end[i] = s->end[i] ? s->end[i] : 1;
    if (s->end[i] > s->max_end)
        s->max_end = s->end[i];
    push(s, i, out);
}

void mr_rec_seg_end_track(struct mr_rec_seg *s, unsigned i)
{
    if (!s->pad[i] || !s->open[i])
        return;
    s->open[i] = false;
    gst_pad_push_event(s->pad[i], gst_event_new_eos());
}

void mr_rec_seg_eos(struct mr_rec_seg *s)
{
    for (unsigned i = 0; i < MR_RECORD_MAX_TRACKS; i++)
        mr_rec_seg_end_track(s, i);
    if (s->state < MR_SEG_EOS_SENT)
        s->state = MR_SEG_EOS_SENT;
}

bool mr_rec_seg_congested(const struct mr_rec_seg *s)
{
    for (unsigned i = 0; i < MR_RECORD_MAX_TRACKS; i++) {
        guint level = 0;
        if (!s->queue[i])
            continue;
        g_object_get(s->queue[i], "current-level-bytes", &level, NULL);
        if (level > MR_REC_QUEUE_HIGH_BYTES)
            return true;
    }
    return false;
}

void mr_rec_seg_stop(struct mr_rec_seg *s)
{
    if (s->pipe)
        gst_element_set_state(s->pipe, GST_STATE_NULL);
}

void mr_rec_seg_free(struct mr_rec_seg *s)
{
    if (!s)
        return;
    if (s->watch) {
        g_source_destroy(s->watch);
        g_source_unref(s->watch);
    }
    mr_rec_seg_stop(s);
    for (unsigned i = 0; i < MR_RECORD_MAX_TRACKS; i++)
        if (s->pad[i]) {
            gst_pad_set_active(s->pad[i], FALSE);
            gst_object_unref(s->pad[i]);
        }
    if (s->pipe)
        gst_object_unref(s->pipe);
    mr_rec_hash_cleanup(&s->hash);
    g_free(s);
}
