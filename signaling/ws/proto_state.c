/*
 * A room's state for the protocol, and its events. Streams live in the
 * relay and change there for reasons of their own (a WHIP encoder starts,
 * a REST call starts a recording, a publisher's ICE fails), so rather than
 * hooking every path, each room keeps a snapshot of its streams and
 * proto_sync_room() turns the differences into events. It runs after every
 * action of the protocol and once a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws/proto_priv.h"

json_t *proto_member_json(const struct mr_member *m)
{
    return json_pack("{s:s, s:s, s:s}", "id", m->id, "sub", m->sub, "role",
                     mr_role_name(m->role));
}

/* --- Snapshots ------------------------------------------------------------- */

static void collect(const struct mr_stream_status *st, void *user)
{
    GArray *out = user;
    if (!st->published)
        return;
    struct stream_snap s = {
        .has_audio = st->has_audio,
        .has_video = st->has_video,
        .audio_muted = st->audio_muted,
        .video_muted = st->video_muted,
        .recording = st->recording,
    };
    snprintf(s.name, sizeof(s.name), "%s", st->stream);
    snprintf(s.publisher, sizeof(s.publisher), "%s", st->publisher);
    snprintf(s.publisher_role, sizeof(s.publisher_role), "%s", st->publisher_role);
    g_array_append_val(out, s);
}

/* The relay's published streams of room, sorted by name. */
static GArray *snapshot(struct mr_room_proto *p, const char *room)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(struct stream_snap));
    mr_relay_each_stream(p->relay, room, collect, a);
    return a;
}

void proto_room_snap_free(void *data)
{
    struct room_snap *rs = data;
    if (!rs)
        return;
    g_array_free(rs->streams, TRUE);
    free(rs);
}

GPtrArray *proto_live_streams(struct mr_room_proto *p, struct mr_room *room)
{
    GArray *a = snapshot(p, room->name);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; i < a->len; i++)
        g_ptr_array_add(names, g_strdup(g_array_index(a, struct stream_snap, i).name));
    g_array_free(a, TRUE);
    return names;
}

/* --- State ----------------------------------------------------------------- */

/* The member id of the participant publishing a stream over /ws, if any
 * (a WHIP encoder has none): the member with the publisher's identity. */
static const char *publisher_id(struct mr_room *room, const struct stream_snap *s)
{
    enum mr_role role;
    if (!s->publisher[0] || mr_role_from_name(s->publisher_role, &role) < 0)
        return NULL;
    struct mr_member *m = mr_room_member_by_identity(room, s->publisher, role, NULL);
    return m ? m->id : NULL;
}

/* Whether a and b were published by the same identity. */
static bool same_publisher(const struct stream_snap *a, const struct stream_snap *b)
{
    return strcmp(a->publisher, b->publisher) == 0 &&
           strcmp(a->publisher_role, b->publisher_role) == 0;
}

static json_t *stream_json(struct mr_room *room, const struct stream_snap *s)
{
    const char *pid = publisher_id(room, s);
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:{s:b, s:b}, s:b}", "name", s->name,
                     "publisher", s->publisher, "publisher_role", s->publisher_role,
                     "participant", pid ? json_string(pid) : json_null(),
                     "audio", s->has_audio, "video", s->has_video, "muted", "audio",
                     s->audio_muted, "video", s->video_muted, "recording", s->recording);
}

json_t *proto_room_state(struct mr_room_proto *p, struct mr_room *room)
{
    /* Viewers are counted, not listed: a broadcast has hundreds. */
    json_t *participants = json_array();
    for (unsigned i = 0; i < room->members->len; i++) {
        const struct mr_member *m = g_ptr_array_index(room->members, i);
        if (m->role != MR_ROLE_VIEWER)
            json_array_append_new(participants, proto_member_json(m));
    }
    json_t *streams = json_array();
    GArray *snap = snapshot(p, room->name);
    for (unsigned i = 0; i < snap->len; i++)
        json_array_append_new(streams,
                              stream_json(room, &g_array_index(snap, struct stream_snap, i)));
    g_array_free(snap, TRUE);
    return json_pack("{s:s, s:o, s:b, s:o, s:i, s:o}", "name", room->name, "program",
                     room->program[0] ? json_string(room->program) : json_null(),
                     "program_pinned", room->program_pinned, "participants", participants,
                     "viewers", (json_int_t)mr_room_viewers(room), "streams", streams);
}

/* --- Events ---------------------------------------------------------------- */

static const struct stream_snap *find(GArray *a, const char *name)
{
    for (unsigned i = 0; i < a->len; i++)
        if (strcmp(g_array_index(a, struct stream_snap, i).name, name) == 0)
            return &g_array_index(a, struct stream_snap, i);
    return NULL;
}

static void event(struct mr_room_proto *p, struct mr_room *room, const char *type,
                  const char *stream, json_t *extra)
{
    json_t *msg = json_pack("{s:s, s:s}", "type", type, "stream", stream);
    if (msg && extra)
        json_object_update(msg, extra);
    json_decref(extra);
    proto_broadcast(p, room, NULL, msg);
}

static void mute_event(struct mr_room_proto *p, struct mr_room *room, const char *stream,
                       const char *kind, bool muted)
{
    event(p, room, "stream-muted", stream, json_pack("{s:s, s:b}", "kind", kind, "muted", muted));
}

/* Events for what changed between before and now; returns whether the set
 * of live streams changed. */
static bool diff(struct mr_room_proto *p, struct mr_room *room, GArray *before, GArray *now)
{
    bool changed = false;
    for (unsigned i = 0; i < before->len; i++) {
        const struct stream_snap *b = &g_array_index(before, struct stream_snap, i);
        const struct stream_snap *n = find(now, b->name);
        if (!n || !same_publisher(n, b)) {
            if (b->recording)
                event(p, room, "recording-stopped", b->name, NULL);
            event(p, room, "stream-stopped", b->name, NULL);
            changed = true;
        }
    }
    for (unsigned i = 0; i < now->len; i++) {
        const struct stream_snap *n = &g_array_index(now, struct stream_snap, i);
        const struct stream_snap *b = find(before, n->name);
        if (b && !same_publisher(n, b))
            b = NULL; /* someone else's stream now: a new one */
        if (!b) {
            event(p, room, "stream-started", n->name,
                  json_pack("{s:o}", "info", stream_json(room, n)));
            changed = true;
        }
        if (b && b->audio_muted != n->audio_muted)
            mute_event(p, room, n->name, "audio", n->audio_muted);
        if (b && b->video_muted != n->video_muted)
            mute_event(p, room, n->name, "video", n->video_muted);
        if ((b ? b->recording : false) != n->recording)
            event(p, room, n->recording ? "recording-started" : "recording-stopped", n->name,
                  NULL);
    }
    return changed;
}

void proto_sync_room(struct mr_room_proto *p, struct mr_room *room)
{
    struct room_snap *rs = room->proto;
    GArray *now = snapshot(p, room->name);
    if (!rs) {
        /* First look at this room: what is there now is the starting
         * state (clients get it with "joined"), not news. */
        rs = calloc(1, sizeof(*rs));
        if (!rs) {
            g_array_free(now, TRUE);
            return;
        }
        rs->streams = now;
        room->proto = rs;
        return;
    }
    GArray *before = rs->streams;
    rs->streams = now;
    bool changed = diff(p, room, before, now);
    g_array_free(before, TRUE);
    if (!changed)
        return;
    for (unsigned i = 0; i < room->members->len; i++)
        proto_refresh_subscription(proto_client_of(g_ptr_array_index(room->members, i)));
}
