/*
 * The recorder thread: its own GMainContext (never the default one, which
 * belongs to HTTP and signaling) runs every bus watch of every recording and
 * one 10 ms tick that drains the rings, moves frames into files and finishes
 * recordings. Recordings reach it through a mutex-protected pending list.
 */
#include "record/record_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/error.h"
#include "core/log.h"

#define CLOSE_WAIT_US 10000000 /* for the muxers' EOS after a stop */

static gboolean on_tick(gpointer data);

static void ensure_tick(struct mr_recorder *r)
{
    if (r->tick)
        return;
    r->tick = g_timeout_source_new(MR_REC_TICK_MS);
    g_source_set_callback(r->tick, on_tick, r, NULL);
    g_source_attach(r->tick, r->ctx);
    g_source_unref(r->tick);
}

static void adopt(struct mr_recorder *r)
{
    g_mutex_lock(&r->lock);
    GList *list = r->pending;
    r->pending = NULL;
    g_mutex_unlock(&r->lock);
    for (GList *l = list; l; l = l->next) {
        struct mr_recording *rec = l->data;
        r->active = g_list_append(r->active, rec);
        rec->adopted = true;
        if (r->shutdown)
            mr_recording_stop(rec);
        if (mr_rec_rx_start(rec) < 0)
            mr_rec_fail(rec, "cannot start the receiving pipeline");
        else if (rec->phase == MR_PHASE_RUN)
            mr_rec_set_state(rec, MR_RECORDING_ACTIVE, NULL);
        for (unsigned i = 0; i < rec->p.n_tracks; i++)
            if (rec->tracks[i].codec->kind == MR_RECORD_VIDEO)
                __atomic_store_n(&rec->want_key, 1, __ATOMIC_RELEASE);
    }
    g_list_free(list);
}

static gboolean on_wake(gpointer data)
{
    struct mr_recorder *r = data;
    adopt(r);
    ensure_tick(r);
    return G_SOURCE_REMOVE;
}

void mr_rec_wake(struct mr_recorder *r)
{
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, on_wake, r, NULL);
    g_source_attach(src, r->ctx);
    g_source_unref(src);
}

/* The recording's end, whichever way: the done callback, exactly once. */
static void report(struct mr_recording *rec)
{
    rec->phase = MR_PHASE_END;
    __atomic_store_n(&rec->bytes, rec->done_bytes, __ATOMIC_RELAXED);
    if (rec->reported)
        return;
    rec->reported = true;
    if (rec->done)
        rec->done(rec, rec->user);
}

/* Nothing ever reached a file: the empty first file is removed and its
 * sidecar says why, rather than leaving something that does not play. */
static void no_media(struct mr_recording *rec, const char *sidecar_state, const char *why)
{
    struct mr_rec_seg tmp = {.rec = rec, .n = 1, .size = -1, .scanned_s = 0, .hash.fd = -1};
    mr_rec_seg_stem(rec, 1, tmp.stem, sizeof(tmp.stem));
    g_mutex_lock(&rec->lock);
    unlink(rec->path);
    rec->path[0] = '\0';
    g_mutex_unlock(&rec->lock);
    mr_rec_seg_sidecar(&tmp, sidecar_state, why);
}

static void end_abnormally(struct mr_recording *rec, const char *sidecar_state, const char *why)
{
    if (rec->phase == MR_PHASE_END)
        return;
    if (__atomic_load_n(&rec->segments, __ATOMIC_RELAXED) == 0)
        no_media(rec, sidecar_state, why);
    __atomic_store_n(&rec->failed, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&rec->accepting, 0, __ATOMIC_RELEASE);
    mr_rec_set_state(rec, MR_RECORDING_FAILED, why);
    if (rec->rx)
        gst_element_set_state(rec->rx, GST_STATE_NULL);
    if (rec->seg) {
        rec->old = g_list_append(rec->old, rec->seg);
        rec->seg = NULL;
    }
    for (GList *l = rec->old; l; l = l->next)
        mr_rec_seg_abort(l->data, sidecar_state, why);
    mr_rec_route_cleanup(rec);
    report(rec);
}

void mr_rec_fail(struct mr_recording *rec, const char *why)
{
    if (rec->phase != MR_PHASE_END)
        mr_log_error(RECORD, "rec %s: failed: %s", rec->id, why);
    end_abnormally(rec, "failed", why);
}

static void finish_ok(struct mr_recording *rec)
{
    if (rec->rx)
        gst_element_set_state(rec->rx, GST_STATE_NULL);
    unsigned segs = __atomic_load_n(&rec->segments, __ATOMIC_RELAXED);
    if (segs == 0) {
        no_media(rec, "failed", "no media was received");
        mr_rec_set_state(rec, MR_RECORDING_FAILED, "no media was received");
        mr_log_warn(RECORD, "rec %s: stopped before any media arrived", rec->id);
    } else {
        mr_rec_set_state(rec, MR_RECORDING_DONE, NULL);
        mr_log_info(RECORD,
                    "rec %s: complete: %u segment(s), %llu packets, %llu dropped, "
                    "%llu audio and %llu video packets lost",
                    rec->id, segs, (unsigned long long)mr_counter_read(&rec->packets),
                    (unsigned long long)mr_counter_read(&rec->ring.dropped),
                    (unsigned long long)mr_rec_lost(rec, MR_RECORD_AUDIO),
                    (unsigned long long)mr_rec_lost(rec, MR_RECORD_VIDEO));
    }
    report(rec);
}

static void update_bytes(struct mr_recording *rec, int64_t now)
{
    struct stat st;
    if (now - rec->bytes_mono_us < 500000)
        return;
    rec->bytes_mono_us = now;
    uint64_t total = rec->done_bytes;
    if (rec->seg && stat(rec->seg->path, &st) == 0)
        total += (uint64_t)st.st_size;
    __atomic_store_n(&rec->bytes, total, __ATOMIC_RELAXED);
}

static void begin_drain(struct mr_recording *rec, int64_t now)
{
    mr_rec_rx_drain(rec, true);
    mr_rec_rx_end(rec);
    rec->phase = MR_PHASE_DRAIN;
    rec->deadline_us = now + MR_REC_RX_EOS_WAIT_US;
    mr_rec_set_state(rec, MR_RECORDING_FINALIZING, NULL);
}

static void service(struct mr_recording *rec, int64_t now)
{
    if (rec->phase == MR_PHASE_RUN && __atomic_load_n(&rec->stop_asked, __ATOMIC_ACQUIRE))
        begin_drain(rec, now);
    if (rec->phase == MR_PHASE_RUN)
        mr_rec_rx_drain(rec, false);
    if (rec->phase == MR_PHASE_RUN || rec->phase == MR_PHASE_DRAIN)
        mr_rec_route_pull(rec);
    if (rec->phase != MR_PHASE_END)
        mr_rec_route_tick(rec, now);
    if (rec->phase == MR_PHASE_DRAIN && (mr_rec_rx_done(rec) || now > rec->deadline_us)) {
        mr_rec_route_flush(rec);
        rec->phase = rec->phase == MR_PHASE_END ? MR_PHASE_END : MR_PHASE_CLOSE;
        rec->deadline_us = now + CLOSE_WAIT_US;
    }
    if (rec->phase == MR_PHASE_CLOSE) {
        if (!rec->seg && !rec->old)
            finish_ok(rec);
        else if (now > rec->deadline_us)
            end_abnormally(rec, "interrupted", "the muxer did not finish the file in time");
    }
    update_bytes(rec, now);
}

static void reap(struct mr_recorder *r)
{
    GList *next;
    for (GList *l = r->active; l; l = next) {
        struct mr_recording *rec = l->data;
        next = l->next;
        if (rec->phase != MR_PHASE_END)
            continue;
        r->active = g_list_delete_link(r->active, l);
        mr_rec_rx_free(rec);
        mr_rec_seg_free(rec->seg);
        rec->seg = NULL;
        g_list_free_full(rec->old, (GDestroyNotify)mr_rec_seg_free);
        rec->old = NULL;
        mr_rec_route_cleanup(rec);
        __atomic_store_n(&rec->bytes, rec->done_bytes, __ATOMIC_RELAXED);
        mr_recording_unref(rec);
    }
}

/* Shutdown ran out of time. Files whose muxer already finished are
 * complete and only need their hash; anything else is closed as it is. */
static void force_end(struct mr_recording *rec)
{
    bool only_hashing = rec->phase == MR_PHASE_CLOSE && !rec->seg;
    for (GList *l = rec->old; l && only_hashing; l = l->next) {
        struct mr_rec_seg *s = l->data;
        only_hashing = s->state == MR_SEG_HASHING || s->state == MR_SEG_DONE;
    }
    if (!only_hashing) {
        end_abnormally(rec, "interrupted", "interrupted at shutdown before it was finalized");
        return;
    }
    for (GList *l = rec->old; l; l = l->next)
        while (((struct mr_rec_seg *)l->data)->state == MR_SEG_HASHING)
            mr_rec_seg_hash_step(l->data);
    finish_ok(rec);
}

static gboolean on_tick(gpointer data)
{
    struct mr_recorder *r = data;
    int64_t now = mr_clock_mono_us();
    adopt(r);
    for (GList *l = r->active; l; l = l->next)
        service(l->data, now);
    if (r->shutdown && now > r->deadline_us)
        for (GList *l = r->active; l; l = l->next)
            force_end(l->data);
    reap(r);
    if (r->active)
        return G_SOURCE_CONTINUE;
    r->tick = NULL;
    if (r->shutdown)
        g_main_loop_quit(r->loop);
    return G_SOURCE_REMOVE;
}

static gboolean on_shutdown(gpointer data)
{
    struct mr_recorder *r = data;
    r->shutdown = true;
    adopt(r);
    for (GList *l = r->active; l; l = l->next)
        mr_recording_stop(l->data);
    ensure_tick(r);
    return G_SOURCE_REMOVE;
}

static gpointer run(gpointer data)
{
    struct mr_recorder *r = data;
    g_main_context_push_thread_default(r->ctx);
    g_main_loop_run(r->loop);
    g_main_context_pop_thread_default(r->ctx);
    return NULL;
}

/* mkdir -p, each directory we create getting 0750. */
static int make_root(const char *dir, char *why, size_t why_len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mr_rec_mkdir(path, why, why_len);
        *p = '/';
        if (rc < 0)
            return rc;
    }
    return mr_rec_mkdir(path, why, why_len);
}

static bool have_elements(void)
{
    static const char *const need[] = {"rtpbin", "appsrc",   "appsink", "input-selector",
                                       "queue",  "filesink", "webmmux", "matroskamux"};
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        GstElementFactory *f = gst_element_factory_find(need[i]);
        if (!f) {
            mr_log_error(RECORD, "recorder: GStreamer element %s is missing", need[i]);
            return false;
        }
        gst_object_unref(f);
    }
    return true;
}

static int init(struct mr_recorder *r, const struct mr_record_config *cfg)
{
    char why[128];
    snprintf(r->dir, sizeof(r->dir), "%s", cfg->dir);
    size_t len = strlen(r->dir);
    while (len > 1 && r->dir[len - 1] == '/')
        r->dir[--len] = '\0';
    r->cfg = *cfg;
    r->cfg.dir = r->dir;
    if (make_root(r->dir, why, sizeof(why)) < 0) {
        mr_log_error(RECORD, "recorder: cannot create %s: %s", r->dir, why);
        return MR_EIO;
    }
    GError *e = NULL;
    if (!gst_init_check(NULL, NULL, &e)) {
        mr_log_error(RECORD, "recorder: GStreamer: %s", e ? e->message : "cannot initialise");
        g_clear_error(&e);
        return MR_ENOTSUP;
    }
    if (!have_elements())
        return MR_ENOTSUP;
    /* GStreamer's system clock reads CLOCK_MONOTONIC by default, as the
     * workers do; measure any offset anyway rather than assume it. */
    GstClock *clock = gst_system_clock_obtain();
    r->clock_offset_ns = (int64_t)gst_clock_get_time(clock) - mr_clock_mono_us() * 1000;
    gst_object_unref(clock);
    return 0;
}

int mr_recorder_new(const struct mr_record_config *cfg, struct mr_recorder **out)
{
    if (!cfg || !cfg->dir || !cfg->dir[0] || !out || strlen(cfg->dir) >= PATH_MAX / 2)
        return MR_EINVAL;
    *out = NULL;
    struct mr_recorder *r = calloc(1, sizeof(*r));
    if (!r)
        return MR_ENOMEM;
    int rc = init(r, cfg);
    if (rc < 0) {
        free(r);
        return rc;
    }
    g_mutex_init(&r->lock);
    r->ctx = g_main_context_new();
    r->loop = g_main_loop_new(r->ctx, FALSE);
    r->thread = g_thread_try_new("mr-record", run, r, NULL);
    if (!r->thread) {
        g_main_loop_unref(r->loop);
        g_main_context_unref(r->ctx);
        g_mutex_clear(&r->lock);
        free(r);
        return MR_ENOMEM;
    }
    mr_log_info(RECORD, "recorder: writing under %s", r->dir);
    *out = r;
    return 0;
}

void mr_recorder_free(struct mr_recorder *r, int timeout_ms)
{
    if (!r)
        return;
    g_mutex_lock(&r->lock);
    r->closing = true;
    g_mutex_unlock(&r->lock);
    r->deadline_us = mr_clock_mono_us() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, on_shutdown, r, NULL);
    g_source_attach(src, r->ctx);
    g_source_unref(src);
    g_thread_join(r->thread);
    g_main_loop_unref(r->loop);
    g_main_context_unref(r->ctx);
    g_mutex_clear(&r->lock);
    free(r);
}
