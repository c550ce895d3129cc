/* A stream on its worker: one publisher slot, a list of subscribers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/log.h"
#include "sfu/burst.h"
#include "sfu/sfu_priv.h"

#define TICK_MS                    500

struct mr_stream *mr_stream_new(const char *room, const char *name, struct mr_worker *w,
                                unsigned grace_s)
{
    struct mr_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->refs = 1;
    snprintf(s->room, sizeof(s->room), "%s", room);
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->key, sizeof(s->key), "%s/%s", room, name);
    s->worker = w;
    s->grace_s = grace_s;
    s->sinks = g_ptr_array_new();
    return s;
}

struct mr_stream *mr_stream_ref(struct mr_stream *s)
{
    g_atomic_int_inc(&s->refs);
    return s;
}

static void stop_source(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

void mr_stream_unref(struct mr_stream *s)
{
    if (!g_atomic_int_dec_and_test(&s->refs))
        return;
    /* The last reference is dropped on the worker by the last peer, or on
     * the control thread by a stream that never got one; either way no
     * source is attached any more when peers are gone. */
    stop_source(&s->tick);
    stop_source(&s->grace);
    mr_keyframe_stop(s);
    mr_layers_stop(s);
    mr_repair_stop(s);
    mr_rec_tap_free(s->rec_tap);
    if (s->recording)
        mr_recording_unref(s->recording);
    g_ptr_array_free(s->sinks, TRUE);
    mr_worker_release(s->worker);
    free(s);
}

static gboolean tick(gpointer data)
{
    struct mr_stream *s = data;
    int64_t now = mr_clock_mono_us();
    if (s->publisher && !s->publisher->dead) {
        mr_rtcp_send_receiver_reports(s->publisher, now);
        /* A lost PLI or key frame would leave a viewer black: ask again. */
        mr_keyframe_tick(s, now);
    }
    /* About every 2 s (every fourth tick): the uplink's loss, bitrate, round trip. */
    mr_link_health_tick(s, now);
    return G_SOURCE_CONTINUE;
}

static void ensure_tick(struct mr_stream *s)
{
    if (s->tick)
        return;
    s->tick = g_timeout_source_new(TICK_MS);
    g_source_set_callback(s->tick, tick, s, NULL);
    g_source_attach(s->tick, s->worker->ctx);
}

static gboolean grace_expired(gpointer data)
{
    struct mr_stream *s = data;
    g_source_unref(s->grace);
    s->grace = NULL;
    mr_log_info(SFU, "stream %p: publisher did not return; closing its WHEP viewers", (void *)s);
    /* Copy: failing a peer detaches it from the list being walked. A room
     * subscription stays: its tracks of this stream are unbound already,
     * and its other streams go on. */
    GPtrArray *subs = g_ptr_array_copy(s->sinks, NULL, NULL);
    for (unsigned i = 0; i < subs->len; i++) {
        struct mr_peer *sub = ((struct mr_sink *)g_ptr_array_index(subs, i))->peer;
        if (sub->bundle)
            continue;
        sub->dead = true;
        mr_stream_detach(s, sub);
        mr_relay_peer_failed(sub, "the publisher did not return within the grace period");
    }
    g_ptr_array_free(subs, TRUE);
    return G_SOURCE_REMOVE;
}

static void start_grace(struct mr_stream *s)
{
    s->grace = g_timeout_source_new_seconds(s->grace_s);
    g_source_set_callback(s->grace, grace_expired, s, NULL);
    g_source_attach(s->grace, s->worker->ctx);
}

static void attach_publisher(struct mr_stream *s, struct mr_peer *p)
{
    /* What the old publisher sent goes out under the old binding. */
    mr_burst_flush(s->worker->burst);
    if (s->publisher && s->publisher != p)
        s->publisher->attached = false; /* replaced; its destroy follows */
    s->publisher = p;
    p->attached = true;
    stop_source(&s->grace);
    for (unsigned i = 0; i < s->sinks->len; i++)
        mr_sink_bind(g_ptr_array_index(s->sinks, i), p);
    if (s->rec_tap)
        mr_receivers_bind(s->rec_tap->receivers, s->rec_tap->n_receivers, p, "recording");
    mr_keyframe_reset(s);
    mr_layers_start(s);
    mr_link_health_reset(s, mr_clock_mono_us());
    if (s->sinks->len > 0 || s->rec_tap)
        mr_keyframe_request(s, -1, mr_clock_mono_us());
}

void mr_stream_attach(struct mr_stream *s, struct mr_peer *p)
{
    ensure_tick(s);
    if (p->kind == MR_SESSION_PUBLISH) {
        attach_publisher(s, p);
        return;
    }
    if (p->attached)
        return;
    p->attached = true;
    mr_stream_add_sink(s, &p->sink);
}

void mr_stream_add_sink(struct mr_stream *s, struct mr_sink *sink)
{
    if (sink->attached)
        return;
    ensure_tick(s);
    g_ptr_array_add(s->sinks, sink);
    sink->attached = true;
    mr_sink_bind(sink, s->publisher && !s->publisher->dead ? s->publisher : NULL);
    /* Video should start within a second: ask for a key frame of what it
     * takes now rather than wait for the encoder's next one (an audio-only
     * viewer asks for none). */
    mr_keyframe_request_for(s, sink->receivers, sink->n_receivers, mr_clock_mono_us());
}

void mr_stream_remove_sink(struct mr_stream *s, struct mr_sink *sink)
{
    if (!sink->attached)
        return;
    sink->attached = false;
    /* In order, not by moving the last one into the gap: the fan-out
     * serves receivers in the order they joined, so one leaving never
     * sends the newest viewer to the front and everyone after it back. */
    g_ptr_array_remove(s->sinks, sink);
}

void mr_stream_detach(struct mr_stream *s, struct mr_peer *p)
{
    if (!p->attached)
        return;
    p->attached = false;
    if (p->kind == MR_SESSION_SUBSCRIBE) {
        mr_stream_remove_sink(s, &p->sink);
        return;
    }
    if (s->publisher != p)
        return;
    mr_burst_flush(s->worker->burst);
    s->publisher = NULL;
    mr_link_health_reset(s, mr_clock_mono_us());
    for (unsigned i = 0; i < s->sinks->len; i++)
        mr_sink_bind(g_ptr_array_index(s->sinks, i), NULL);
    if (s->rec_tap)
        mr_receivers_bind(s->rec_tap->receivers, s->rec_tap->n_receivers, NULL, "recording");
    if (s->sinks->len > 0 && !s->grace)
        start_grace(s);
}

/* --- Moderation ---------------------------------------------------------- */

struct mute_call {
    struct mr_stream *stream; /* a reference */
    bool muted[2];
};

/* Restarts every receiver's tracks of one kind as after a publisher
 * change: the next packet rebases sequence numbers and timestamps (no gap
 * that looks like loss), and video waits for a key frame. */
static void restart_kind(struct mr_receiver *rx, unsigned n, enum mr_media_kind kind)
{
    for (unsigned j = 0; j < n; j++) {
        if (rx[j].kind != kind)
            continue;
        mr_rewrite_unbind(&rx[j].rw);
        rx[j].waiting_keyframe = kind == MR_MEDIA_VIDEO;
    }
}

void mr_stream_restart_receivers(struct mr_stream *s, enum mr_media_kind kind)
{
    mr_burst_flush(s->worker->burst); /* packets from before the restart */
    for (unsigned i = 0; i < s->sinks->len; i++) {
        struct mr_sink *sink = g_ptr_array_index(s->sinks, i);
        restart_kind(sink->receivers, sink->n_receivers, kind);
    }
}

static void apply_muted(void *data)
{
    struct mute_call *c = data;
    struct mr_stream *s = c->stream;
    for (int k = MR_MEDIA_AUDIO; k <= MR_MEDIA_VIDEO; k++) {
        if (s->fwd_muted[k] == c->muted[k])
            continue;
        s->fwd_muted[k] = c->muted[k];
        if (c->muted[k])
            continue;
        mr_stream_restart_receivers(s, (enum mr_media_kind)k);
        if (s->rec_tap)
            restart_kind(s->rec_tap->receivers, s->rec_tap->n_receivers, (enum mr_media_kind)k);
        if (k == MR_MEDIA_VIDEO)
            mr_keyframe_request(s, -1, mr_clock_mono_us());
    }
    mr_stream_unref(s);
    free(c);
}

void mr_stream_post_muted(struct mr_stream *s)
{
    struct mute_call *c = malloc(sizeof(*c));
    if (!c)
        return;
    c->stream = mr_stream_ref(s);
    c->muted[0] = s->muted[0];
    c->muted[1] = s->muted[1];
    mr_worker_call(s->worker, apply_muted, c);
}
