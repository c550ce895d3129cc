/* The control side of recordings: policy, start and stop, status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "sfu/relay_priv.h"

static struct mr_stream *lookup(struct mr_relay *r, const char *room, const char *stream)
{
    char key[MR_STREAM_KEY_MAX + 1];
    snprintf(key, sizeof(key), "%s/%s", room, stream);
    return g_hash_table_lookup(r->streams, key);
}

/* --- The recorder reports an end (on its thread) ------------------------ */

struct rec_done {
    struct mr_relay *relay;
    struct mr_recording *rec; /* a reference */
};

static void detach(struct mr_stream *st)
{
    mr_stream_post_tap(st, NULL);
    mr_recording_unref(st->recording);
    st->recording = NULL;
}

static gboolean handle_done(gpointer data)
{
    struct rec_done *d = data;
    struct mr_recording_info info;
    mr_recording_info(d->rec, &info);
    /* A recording that failed while its stream goes on (a full disk) is
     * detached; one that finished after a stop is already. */
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, d->relay->streams);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct mr_stream *st = value;
        if (st->recording == d->rec) {
            detach(st);
            snprintf(st->rec_error, sizeof(st->rec_error), "%s", info.error);
            mr_audit("record-failed", st->room, st->pub_sub, st->pub_role, info.error);
        }
    }
    mr_recording_unref(d->rec);
    free(d);
    return G_SOURCE_REMOVE;
}

static void recording_done(struct mr_recording *rec, void *user)
{
    struct mr_relay *r = user;
    struct rec_done *d = malloc(sizeof(*d));
    if (!d)
        return;
    d->relay = r;
    d->rec = mr_recording_ref(rec);
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, handle_done, d, NULL);
    g_source_attach(src, r->control);
    g_source_unref(src);
}

/* --- Start and stop ----------------------------------------------------- */

static int start(struct mr_relay *r, struct mr_stream *st, const char *by, const char *by_role,
                 char *detail, size_t dlen)
{
    struct mr_record_params params;
    memset(&params, 0, sizeof(params));
    snprintf(params.room, sizeof(params.room), "%s", st->room);
    snprintf(params.stream, sizeof(params.stream), "%s", st->name);
    snprintf(params.sub, sizeof(params.sub), "%s", st->pub_sub);
    snprintf(params.role, sizeof(params.role), "%s", st->pub_role);
    struct mr_rec_tap *tap = mr_rec_tap_new(st->pub_sources, st->n_pub_sources, &params);
    if (!tap) {
        snprintf(detail, dlen, "out of memory");
        return MR_ENOMEM;
    }
    struct mr_recording *rec;
    char err[256] = "";
    int rc = mr_recording_start(r->recorder, &params, recording_done, r, &rec, err, sizeof(err));
    if (rc < 0) {
        mr_rec_tap_free(tap);
        snprintf(detail, dlen, "the recording could not start: %s", err[0] ? err : mr_strerror(rc));
        snprintf(st->rec_error, sizeof(st->rec_error), "%s", detail);
        char room[MR_LOG_REDACT_LEN];
        mr_log_error(RECORD, "room %s: %s", mr_log_redact(MR_LOG_RECORD, st->room, room), detail);
        mr_audit("record-failed", st->room, by, by_role, detail);
        return rc == MR_ENOTSUP ? MR_ENOTSUP : MR_EIO;
    }
    st->rec_error[0] = '\0';
    tap->rec = mr_recording_ref(rec);
    st->recording = rec;
    memcpy(st->rec_sources, st->pub_sources, sizeof(st->rec_sources));
    st->n_rec_sources = st->n_pub_sources;
    mr_stream_post_tap(st, tap);
    mr_audit("record-start", st->room, by, by_role, st->name);
    return 0;
}

static void stop(struct mr_stream *st, const char *by, const char *by_role, const char *why)
{
    if (!st->recording)
        return;
    mr_recording_stop(st->recording);
    detach(st);
    mr_audit("record-stop", st->room, by, by_role, why);
}

int mr_relay_record_start(struct mr_relay *r, const char *room, const char *stream,
                          const char *by, const char *by_role, char *detail, size_t dlen)
{
    struct mr_stream *st = lookup(r, room, stream);
    if (!st || !st->pub_session[0] || !st->pub_ready) {
        snprintf(detail, dlen, "nothing is published on this stream");
        return MR_ENOENT;
    }
    if (mr_config_record_policy(r->cfg, room) == MR_RECORD_NEVER) {
        snprintf(detail, dlen, "this room's recording policy is \"never\"");
        return MR_EPERM;
    }
    if (st->recording) {
        snprintf(detail, dlen, "this stream is already being recorded");
        return MR_EBUSY;
    }
    return start(r, st, by, by_role, detail, dlen);
}

int mr_relay_record_stop(struct mr_relay *r, const char *room, const char *stream, const char *by,
                         const char *by_role)
{
    struct mr_stream *st = lookup(r, room, stream);
    if (!st || !st->recording)
        return MR_ENOENT;
    stop(st, by, by_role, "stopped by an operator");
    return 0;
}

static bool same_codecs(const struct mr_stream *st)
{
    if (st->n_rec_sources != st->n_pub_sources)
        return false;
    for (unsigned i = 0; i < st->n_pub_sources; i++)
        if (st->rec_sources[i].kind != st->pub_sources[i].kind ||
            st->rec_sources[i].codec.id != st->pub_sources[i].codec.id ||
            st->rec_sources[i].codec.pt != st->pub_sources[i].codec.pt)
            return false;
    return true;
}

void mr_relay_record_on_publish(struct mr_relay *r, struct mr_stream *st)
{
    /* A returning publisher with the same codecs continues the file (the
     * tap's rewriting makes the gap a pause); other codecs need a new one. */
    if (st->recording && !same_codecs(st))
        stop(st, st->pub_sub, st->pub_role, "the publisher came back with other codecs");
    if (st->recording || mr_config_record_policy(r->cfg, st->room) != MR_RECORD_ALWAYS)
        return;
    char detail[300];
    start(r, st, st->pub_sub, st->pub_role, detail, sizeof(detail));
}

void mr_relay_record_on_stream_end(struct mr_relay *r, struct mr_stream *st)
{
    (void)r;
    stop(st, st->pub_sub, st->pub_role, "the stream ended");
}

void mr_relay_record_stop_all(struct mr_relay *r)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, r->streams);
    while (g_hash_table_iter_next(&it, &key, &value))
        stop(value, NULL, NULL, "the server is shutting down");
}

/* --- Status ------------------------------------------------------------- */

static gint by_key(gconstpointer a, gconstpointer b)
{
    const struct mr_stream *x = *(struct mr_stream *const *)a;
    const struct mr_stream *y = *(struct mr_stream *const *)b;
    return strcmp(x->key, y->key);
}

void mr_relay_each_stream(struct mr_relay *r, const char *room, mr_stream_status_fn fn,
                          void *user)
{
    GPtrArray *list = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, r->streams);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct mr_stream *st = value;
        if (!room || strcmp(st->room, room) == 0)
            g_ptr_array_add(list, st);
    }
    g_ptr_array_sort(list, by_key);
    for (unsigned i = 0; i < list->len; i++) {
        const struct mr_stream *st = g_ptr_array_index(list, i);
        struct mr_stream_status s;
        memset(&s, 0, sizeof(s));
        snprintf(s.room, sizeof(s.room), "%s", st->room);
        snprintf(s.stream, sizeof(s.stream), "%s", st->name);
        snprintf(s.publisher, sizeof(s.publisher), "%s", st->pub_sub);
        snprintf(s.publisher_role, sizeof(s.publisher_role), "%s", st->pub_role);
        s.published = st->pub_session[0] && st->pub_ready;
        s.subscribers = st->n_sessions - (st->pub_session[0] ? 1 : 0) + st->n_room_receivers;
        for (unsigned t = 0; t < st->n_pub_sources; t++) {
            s.has_audio = s.has_audio || st->pub_sources[t].kind == MR_MEDIA_AUDIO;
            s.has_video = s.has_video || st->pub_sources[t].kind == MR_MEDIA_VIDEO;
        }
        s.audio_muted = st->muted[MR_MEDIA_AUDIO];
        s.video_muted = st->muted[MR_MEDIA_VIDEO];
        s.policy = mr_config_record_policy(r->cfg, st->room);
        s.recording = st->recording != NULL;
        snprintf(s.record_error, sizeof(s.record_error), "%s", st->rec_error);
        if (st->recording)
            mr_recording_info(st->recording, &s.rec);
        mr_link_shared_read(&st->link_out, &s.link);
        s.link.known = s.link.known && s.published;
        fn(&s, user);
    }
    g_ptr_array_free(list, TRUE);
}
