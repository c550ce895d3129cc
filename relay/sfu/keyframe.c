/*
 * Key-frame requests upstream, per source (internal to relay/sfu).
 *
 * However many viewers ask, each source of the publisher is asked as
 * little as it can be: a burst of PLIs makes an encoder send key frames
 * back to back, which a clinic's weak uplink pays for. While a request is
 * pending (no key frame since), the key frame it asks for serves everyone
 * who asks in the next WINDOW; once a key frame has come, whoever asks now
 * missed it, so a new request goes out at once, or GAP after the previous
 * one at the earliest (a retry then asks for them).
 *
 * Per source: a viewer's PLI for the camera does not make the ultrasound
 * and the patient monitor send key frames too, and a key frame on one
 * source answers only the requests for that one.
 *
 * Thread: the stream's worker.
 */
#include "core/clock.h"
#include "core/counter.h"
#include "sfu/sfu_priv.h"

#define KEYFRAME_REQUEST_WINDOW_US 300000
#define KEYFRAME_REQUEST_GAP_US    100000

static bool receivers_wait(const struct mr_receiver *rx, unsigned n, int src)
{
    for (unsigned j = 0; j < n; j++)
        if (rx[j].src == src && rx[j].compatible &&
            (rx[j].waiting_keyframe || rx[j].target != rx[j].encoding))
            return true;
    return false;
}

bool mr_keyframe_wanted(struct mr_stream *s, int src)
{
    /* The recorder asks for a key frame of the file, not of one track. */
    if (s->rec_tap && (mr_recording_keyframe_wanted(s->rec_tap->rec) ||
                       receivers_wait(s->rec_tap->receivers, s->rec_tap->n_receivers, src)))
        return true;
    for (unsigned i = 0; i < s->sinks->len; i++) {
        struct mr_sink *sink = g_ptr_array_index(s->sinks, i);
        if (receivers_wait(sink->receivers, sink->n_receivers, src))
            return true;
    }
    return false;
}

static bool is_video(const struct mr_stream *s, int src)
{
    const struct mr_peer *pub = s->publisher;
    return pub && src >= 0 && (unsigned)src < pub->n_sources &&
           pub->sources[src].kind == MR_MEDIA_VIDEO;
}

static void stop_retry(struct mr_stream *s)
{
    if (s->keyframe_retry) {
        g_source_destroy(s->keyframe_retry);
        g_source_unref(s->keyframe_retry);
        s->keyframe_retry = NULL;
    }
}

static gboolean retry(gpointer data)
{
    struct mr_stream *s = data;
    g_source_unref(s->keyframe_retry);
    s->keyframe_retry = NULL;
    mr_keyframe_tick(s, mr_clock_mono_us());
    return G_SOURCE_REMOVE;
}

/* Asks again in wait_us, unless a retry is armed already (the earliest
 * due one fires first and re-arms for the others). */
static void defer(struct mr_stream *s, int64_t wait_us)
{
    if (s->keyframe_retry)
        return;
    s->keyframe_retry = g_timeout_source_new((guint)((wait_us + 999) / 1000));
    g_source_set_callback(s->keyframe_retry, retry, s, NULL);
    g_source_attach(s->keyframe_retry, s->worker->ctx);
}

static bool any_deferred(const struct mr_stream *s)
{
    for (unsigned i = 0; i < MR_MAX_TRACKS; i++)
        if (s->kf[i].deferred)
            return true;
    return false;
}

/* asked: someone asked now (counted when coalesced), not a retry or the
 * tick asking on their behalf. */
static void request_one(struct mr_stream *s, int src, int64_t now_us, bool asked)
{
    struct mr_keyframe_gate *g = &s->kf[src];
    if (g->last_request_us) {
        bool answered = g->last_keyframe_us >= g->last_request_us;
        int64_t wait = (answered ? KEYFRAME_REQUEST_GAP_US : KEYFRAME_REQUEST_WINDOW_US) -
                       (now_us - g->last_request_us);
        if (wait > 0) {
            if (asked)
                mr_counter_add(&s->worker->sfu.keyframe_coalesced, 1);
            /* Pending: the coming key frame serves this asker too (the
             * tick asks again if it never comes). */
            if (answered) {
                g->deferred = true;
                defer(s, wait);
            }
            return;
        }
    }
    g->deferred = false;
    g->last_request_us = now_us;
    mr_counter_add(&s->worker->sfu.keyframe_requests, 1);
    mr_rtcp_send_keyframe_request(s->publisher, (unsigned)src, g->fir_seq++,
                                  mr_layers_wanted(s, src));
    if (!any_deferred(s))
        stop_retry(s);
}

void mr_keyframe_request(struct mr_stream *s, int src, int64_t now_us)
{
    if (!s->publisher || s->publisher->dead)
        return;
    if (src >= 0) {
        if (is_video(s, src) && src < MR_MAX_TRACKS)
            request_one(s, src, now_us, true);
        return;
    }
    for (unsigned i = 0; i < s->publisher->n_sources && i < MR_MAX_TRACKS; i++)
        if (is_video(s, (int)i))
            request_one(s, (int)i, now_us, true);
}

void mr_keyframe_request_for(struct mr_stream *s, const struct mr_receiver *rx, unsigned n,
                             int64_t now_us)
{
    for (unsigned j = 0; j < n; j++)
        if (rx[j].kind == MR_MEDIA_VIDEO && rx[j].src >= 0)
            mr_keyframe_request(s, rx[j].src, now_us);
}

/* Asks for the sources someone asked for after their last key frame (a
 * viewer that lost part of it is not "waiting": only its PLI says so), or
 * someone waits on: the tick's round, and the retry's. */
void mr_keyframe_tick(struct mr_stream *s, int64_t now_us)
{
    if (!s->publisher || s->publisher->dead)
        return;
    for (unsigned i = 0; i < s->publisher->n_sources && i < MR_MAX_TRACKS; i++)
        if (is_video(s, (int)i) && (s->kf[i].deferred || mr_keyframe_wanted(s, (int)i)))
            request_one(s, (int)i, now_us, false);
}

void mr_keyframe_reset(struct mr_stream *s)
{
    stop_retry(s);
    for (unsigned i = 0; i < MR_MAX_TRACKS; i++)
        s->kf[i] = (struct mr_keyframe_gate){.fir_seq = s->kf[i].fir_seq};
}

void mr_keyframe_stop(struct mr_stream *s)
{
    stop_retry(s);
}
