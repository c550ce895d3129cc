/*
 * Moderation over the room protocol: muting a track (anyone their own
 * streams, an operator any), and, for operators only, removing a
 * participant, starting and stopping recordings, and choosing the program
 * stream viewers receive. Every action goes to the audit log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "core/error.h"
#include "core/name.h"
#include "ws/proto_priv.h"

static bool require_operator(struct client *c, json_t *re, const char *request)
{
    if (mr_role_can_moderate(c->claims.role))
        return true;
    proto_refuse(c, re, request, "forbidden", "only an operator may do this", NULL);
    return false;
}

struct find_stream {
    const char *name;
    bool found;
    char publisher[MR_SUB_MAX + 1]; /* its identity: sub and role */
    char publisher_role[MR_ROLE_NAME_MAX + 1];
};

static void match_stream(const struct mr_stream_status *st, void *user)
{
    struct find_stream *f = user;
    if (strcmp(st->stream, f->name) == 0 && st->published) {
        f->found = true;
        snprintf(f->publisher, sizeof(f->publisher), "%s", st->publisher);
        snprintf(f->publisher_role, sizeof(f->publisher_role), "%s", st->publisher_role);
    }
}

void on_mute(struct client *c, json_t *msg, json_t *re)
{
    const char *stream = proto_stream_arg(c, msg, re, "mute");
    const char *kind = proto_str(msg, "kind");
    json_t *muted = json_object_get(msg, "muted");
    if (!stream)
        return;
    if (!kind || (strcmp(kind, "audio") != 0 && strcmp(kind, "video") != 0) ||
        !json_is_boolean(muted)) {
        proto_error(c, re, "mute", "bad-request",
                    "mute needs \"kind\": \"audio\" or \"video\" and a boolean \"muted\"");
        return;
    }
    struct find_stream f = {.name = stream};
    mr_relay_each_stream(c->p->relay, c->m->room->name, match_stream, &f);
    if (!f.found) {
        proto_error(c, re, "mute", "stream-not-found", "nothing is published on this stream");
        return;
    }
    /* Participants mute their own streams (the same identity: sub and
     * role); operators anyone's. */
    bool own = strcmp(f.publisher, c->claims.sub) == 0 &&
               strcmp(f.publisher_role, mr_role_name(c->claims.role)) == 0;
    if (!own && !require_operator(c, re, "mute"))
        return;
    bool on = json_is_true(muted);
    if (mr_relay_set_muted(c->p->relay, c->m->room->name, stream, strcmp(kind, "audio") == 0,
                           on) < 0) {
        proto_error(c, re, "mute", "stream-not-found", "nothing is published on this stream");
        return;
    }
    char detail[128];
    snprintf(detail, sizeof(detail), "%s %s %s", stream, kind, on ? "muted" : "unmuted");
    mr_audit("mute", c->m->room->name, c->claims.sub, mr_role_name(c->claims.role), detail);
    proto_ok(c, re, "mute");
    /* The event (with who did it) goes out from the room's next sync;
     * do it now so that the owner hears at once. */
    proto_sync_room(c->p, c->m->room);
}

void on_remove(struct client *c, json_t *msg, json_t *re)
{
    const char *id = proto_str(msg, "participant");
    if (!require_operator(c, re, "remove"))
        return;
    if (!id) {
        proto_error(c, re, "remove", "bad-request", "a string \"participant\" (its id) is required");
        return;
    }
    struct mr_member *m = mr_room_member(c->m->room, id);
    struct client *target = proto_client_of(m);
    if (!target) {
        proto_error(c, re, "remove", "not-found", "no such participant in this room");
        return;
    }
    if (target == c) {
        proto_error(c, re, "remove", "bad-request", "use \"leave\" to leave");
        return;
    }
    mr_rooms_ban(c->p->rooms, c->m->room, m->sub, m->role, (int64_t)time(NULL));
    char detail[MR_SUB_MAX + 64];
    snprintf(detail, sizeof(detail), "removed by %s (%s)", c->claims.sub,
             mr_role_name(c->claims.role));
    mr_audit("remove", c->m->room->name, m->sub, mr_role_name(m->role), detail);
    proto_send(target, json_pack("{s:s, s:s}", "type", "removed", "by", c->m->id));
    /* Its media ends now, publishers included: no grace for the removed,
     * nor for what an earlier, dropped connection of it left behind. */
    proto_close_orphans(c->p, c->m->room->name, m->sub, m->role);
    proto_leave(target, "removed", false);
    c->p->stats.drop_removed++;
    target->leaving = true;
    if (target->conn)
        mr_ws_close(target->conn, 1008, "removed by an operator");
    proto_ok(c, re, "remove");
}

/* Starts or stops one stream's recording; returns 0 or an error sent. */
static int record_one(struct client *c, const char *stream, bool start, json_t *re)
{
    char detail[256] = "";
    const char *role = mr_role_name(c->claims.role);
    int rc = start ? mr_relay_record_start(c->p->relay, c->m->room->name, stream,
                                           c->claims.sub, role, detail, sizeof(detail))
                   : mr_relay_record_stop(c->p->relay, c->m->room->name, stream, c->claims.sub,
                                          role);
    if (rc == 0 || (start && rc == MR_EBUSY))
        return 0;
    const char *code = proto_error_code(rc);
    if (rc == MR_ENOENT)
        snprintf(detail, sizeof(detail), "%s", start ? "nothing is published on this stream"
                                                     : "this stream is not being recorded");
    else if (rc == MR_EPERM)
        snprintf(detail, sizeof(detail), "this room's recording policy is \"never\"");
    proto_error(c, re, "record", code, detail);
    return rc;
}

void on_record(struct client *c, json_t *msg, json_t *re)
{
    const char *action = proto_str(msg, "action");
    if (!require_operator(c, re, "record"))
        return;
    if (!action || (strcmp(action, "start") != 0 && strcmp(action, "stop") != 0)) {
        proto_error(c, re, "record", "bad-request", "\"action\" is \"start\" or \"stop\"");
        return;
    }
    bool start = strcmp(action, "start") == 0;
    if (json_object_get(msg, "stream")) {
        const char *stream = proto_stream_arg(c, msg, re, "record");
        if (!stream || record_one(c, stream, start, re) < 0)
            return;
    } else {
        /* The whole room: every stream published now. */
        GPtrArray *live = proto_live_streams(c->p, c->m->room);
        for (unsigned i = 0; i < live->len; i++) {
            const char *name = g_ptr_array_index(live, i);
            if (start)
                record_one(c, name, true, re);
            else
                mr_relay_record_stop(c->p->relay, c->m->room->name, name, c->claims.sub,
                                     mr_role_name(c->claims.role));
        }
        g_ptr_array_unref(live);
    }
    proto_ok(c, re, "record");
    proto_sync_room(c->p, c->m->room);
}

void on_program(struct client *c, json_t *msg, json_t *re)
{
    json_t *v = json_object_get(msg, "stream");
    if (!require_operator(c, re, "program"))
        return;
    const char *stream = json_is_null(v) ? "" : json_string_value(v);
    if (!stream || (stream[0] && !mr_name_valid(stream, strlen(stream)))) {
        proto_error(c, re, "program", "bad-name",
                    "\"stream\" is a stream name, or null to clear the program");
        return;
    }
    json_t *pin = json_object_get(msg, "pin");
    if (pin && !json_is_boolean(pin)) {
        proto_error(c, re, "program", "bad-request", "\"pin\" is true or false");
        return;
    }
    struct mr_room *room = c->m->room;
    snprintf(room->program, sizeof(room->program), "%s", stream);
    /* Pinned: every viewer of the program gets its top layer, whatever its
     * link's estimate (a conference hall's screen). */
    room->program_pinned = stream[0] && json_is_true(pin);
    mr_relay_set_pin(c->p->relay, room->name, room->program_pinned ? stream : NULL);
    char what[MR_NAME_MAX + 16];
    snprintf(what, sizeof(what), "%s%s", stream[0] ? stream : "(none)",
             room->program_pinned ? " (pinned)" : "");
    mr_audit("program", room->name, c->claims.sub, mr_role_name(c->claims.role), what);
    proto_ok(c, re, "program");
    proto_broadcast(c->p, room, NULL,
                    json_pack("{s:s, s:o, s:b}", "type", "program", "stream",
                              stream[0] ? json_string(stream) : json_null(), "pin",
                              room->program_pinned));
    for (unsigned i = 0; i < room->members->len; i++)
        proto_refresh_subscription(proto_client_of(g_ptr_array_index(room->members, i)));
}
