/* The room protocol: connections, the dispatch table, join and leave. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/name.h"
#include "http/error_code.h"
#include "ws/proto_priv.h"

/* A client must join within this long after connecting. */
#define JOIN_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define TICK_MS 1000

/* --- Sending ------------------------------------------------------------- */

void proto_send(struct client *c, json_t *msg)
{
    if (!msg)
        return;
    char *text = c->conn ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (text)
        mr_ws_send(c->conn, text, strlen(text));
    free(text);
    json_decref(msg);
}

void proto_error(struct client *c, json_t *re, const char *request, const char *code,
                 const char *detail)
{
    c->p->stats.refused++;
    json_t *msg = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "detail",
                            detail ? detail : "");
    if (msg && request)
        json_object_set_new(msg, "request", json_string(request));
    if (msg && re)
        json_object_set(msg, "re", re);
    proto_send(c, msg);
}

void proto_refuse(struct client *c, json_t *re, const char *request, const char *code,
                  const char *detail, const char *room)
{
    char what[48];
    snprintf(what, sizeof(what), "ws %s", request ? request : "?");
    bool known = c->claims.sub[0] != '\0';
    struct mr_audit_refusal r = {
        .request = what,
        .room = room ? room : c->m ? c->m->room->name : NULL,
        .sub = known ? c->claims.sub : NULL,
        .role = known ? mr_role_name(c->claims.role) : NULL,
        .addr = c->addr,
        .status = strcmp(code, "unauthorized") == 0 ? 401 : 403,
        .detail = detail,
    };
    mr_audit_refused(&r);
    proto_error(c, re, request, code, detail);
}

void proto_ok(struct client *c, json_t *re, const char *request)
{
    json_t *msg = json_pack("{s:s, s:s}", "type", "ok", "request", request);
    if (msg && re)
        json_object_set(msg, "re", re);
    proto_send(c, msg);
}

void proto_broadcast(struct mr_room_proto *p, struct mr_room *room, const struct client *except,
                     json_t *msg)
{
    (void)p;
    if (!msg)
        return;
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return;
    size_t len = strlen(text);
    /* A client too slow to take it is closed later (ws.c); the member
     * list does not change during the walk. */
    for (unsigned i = 0; i < room->members->len; i++) {
        struct client *c = proto_client_of(g_ptr_array_index(room->members, i));
        if (c && c != except && c->conn && !c->leaving)
            mr_ws_send(c->conn, text, len);
    }
    free(text);
}

struct client *proto_client_of(struct mr_member *m)
{
    return m ? m->conn : NULL;
}

const char *proto_str(json_t *msg, const char *field)
{
    json_t *v = json_object_get(msg, field);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *proto_stream_arg(struct client *c, json_t *msg, json_t *re, const char *request)
{
    const char *stream = proto_str(msg, "stream");
    if (!stream) {
        proto_error(c, re, request, "bad-request", "a string \"stream\" is required");
        return NULL;
    }
    if (!mr_name_valid(stream, strlen(stream))) {
        proto_error(c, re, request, "bad-name", "stream names are [A-Za-z0-9_-]{1,64}");
        return NULL;
    }
    return stream;
}

const char *proto_error_code(int err)
{
    return mr_http_error_of(err).code;
}

/* --- Join and leave ------------------------------------------------------ */

static unsigned relay_sessions(struct mr_room_proto *p)
{
    struct mr_relay_counts n;
    mr_relay_counts(p->relay, &n);
    return n.publishers + n.subscribers;
}

struct viewer_count {
    unsigned n;
};

static void count_viewers(const struct mr_stream_status *st, void *user)
{
    ((struct viewer_count *)user)->n += st->subscribers;
}

/* WHEP viewers of a room (room subscriptions are /ws members already
 * counted by the room; counting them twice only errs on the safe side). */
static unsigned relay_viewers(struct mr_room_proto *p, const char *room)
{
    struct viewer_count vc = {0};
    mr_relay_each_stream(p->relay, room, count_viewers, &vc);
    return vc.n;
}

static enum mr_admit_refusal admit(struct client *c, const char *room)
{
    enum mr_admit_refusal why;
    struct mr_room_proto *p = c->p;
    c->m = mr_rooms_admit(p->rooms, room, c->claims.sub, c->claims.role, (int64_t)time(NULL),
                          relay_sessions(p), relay_viewers(p, room), &why);
    if (c->m)
        c->m->conn = c;
    return why;
}

/* A participant with the same identity (sub and role) was already here:
 * the newcomer is the same person on a new connection (a dropped link), so
 * the old one goes. The same sub with another role is someone else. */
static void replace_previous(struct client *c)
{
    struct mr_member *old =
        mr_room_member_by_identity(c->m->room, c->m->sub, c->m->role, c->m);
    struct client *oc = proto_client_of(old);
    if (!oc)
        return;
    json_t *msg = json_pack("{s:s, s:s}", "type", "replaced", "detail",
                            "the same participant joined from another connection");
    proto_send(oc, msg);
    proto_close_sessions(oc, true); /* the newcomer adopts the publishers */
    proto_orphan_pubs(oc);
    oc->leaving = true;
    c->p->stats.drop_replaced++;
    if (oc->conn)
        mr_ws_close(oc->conn, 1000, "replaced");
    bool announce = old->role != MR_ROLE_VIEWER;
    json_t *left = json_pack("{s:s, s:s, s:s}", "type", "participant-left", "id", old->id,
                             "reason", "replaced");
    mr_rooms_leave(c->p->rooms, old, (int64_t)time(NULL));
    oc->m = NULL;
    if (announce)
        proto_broadcast(c->p, c->m->room, c, left);
    else
        json_decref(left);
}

/* The room a refused join named, if it is a name (for the audit trail). */
static const char *named_room(json_t *msg)
{
    const char *room = proto_str(msg, "room");
    return room && mr_name_valid(room, strlen(room)) ? room : NULL;
}

static bool check_join(struct client *c, json_t *msg, json_t *re, const char **room)
{
    const char *token = proto_str(msg, "token");
    char why[160];
    if (c->m) {
        proto_error(c, re, "join", "bad-request", "already joined; leave first");
        return false;
    }
    if (!token || mr_auth_token(c->p->key, token, strlen(token), (int64_t)time(NULL),
                                &c->claims, why, sizeof(why)) < 0) {
        const char *asked = named_room(msg);
        if (!asked && c->claims.sub[0] && strcmp(c->claims.room, "*") != 0)
            asked = c->claims.room;
        proto_refuse(c, re, "join", "unauthorized", token ? why : "a token is required", asked);
        memset(&c->claims, 0, sizeof(c->claims));
        return false;
    }
    *room = proto_str(msg, "room");
    if (!*room)
        *room = c->claims.room;
    if (!mr_name_valid(*room, strlen(*room))) {
        proto_error(c, re, "join", "bad-name",
                    strcmp(*room, "*") == 0 ? "this token is for every room: name one"
                                            : "room names are [A-Za-z0-9_-]{1,64}");
        memset(&c->claims, 0, sizeof(c->claims));
        return false;
    }
    if (!mr_claims_cover_room(&c->claims, *room)) {
        proto_refuse(c, re, "join", "forbidden", "the token is not for this room", *room);
        memset(&c->claims, 0, sizeof(c->claims));
        return false;
    }
    return true;
}

/*
 * The "iceServers" of "joined", as RTCConfiguration takes them: the STUN
 * URLs in one RTCIceServer without credentials, the TURN URLs in another
 * with the member's TURN credentials (never longer-lived than its token).
 * NULL when [turn] names nothing; the TURN entry is left out when the token
 * has no time left for credentials.
 */
static json_t *ice_servers(struct client *c)
{
    const struct mr_turn *t = c->p->turn;
    struct mr_turn_cred cred;
    if (!mr_turn_enabled(t))
        return NULL;
    bool has_cred = mr_turn_for_claims(t, &c->claims, (int64_t)time(NULL), &cred) == 0;
    json_t *stun = json_array(), *turn = json_array(), *out = json_array();
    for (unsigned i = 0; i < t->n_urls; i++)
        json_array_append_new(t->urls[i].relay ? turn : stun, json_string(t->urls[i].url));
    if (json_array_size(stun) > 0)
        json_array_append_new(out, json_pack("{s:O}", "urls", stun));
    if (has_cred)
        json_array_append_new(out, json_pack("{s:O, s:s, s:s}", "urls", turn, "username",
                                             cred.username, "credential", cred.credential));
    json_decref(stun);
    json_decref(turn);
    explicit_bzero(&cred, sizeof(cred));
    return out;
}

static void on_join(struct client *c, json_t *msg, json_t *re)
{
    const char *room;
    if (!check_join(c, msg, re, &room))
        return;
    enum mr_admit_refusal why = admit(c, room);
    if (why != MR_ADMIT_OK) {
        c->p->stats.joins_refused++;
        if (why == MR_ADMIT_BANNED) {
            proto_refuse(c, re, "join", "forbidden", mr_admit_refusal_text(why), room);
        } else {
            proto_error(c, re, "join", "server-busy", mr_admit_refusal_text(why));
            mr_audit("join-refused", room, c->claims.sub, mr_role_name(c->claims.role),
                     mr_admit_refusal_text(why));
        }
        memset(&c->claims, 0, sizeof(c->claims));
        return;
    }
    c->p->stats.joins++;
    replace_previous(c);
    proto_adopt_orphans(c);
    mr_audit("join", room, c->claims.sub, mr_role_name(c->claims.role), NULL);
    mr_log_info(HTTP, "room member %s joined (%s)", c->m->id, mr_role_name(c->claims.role));
    /* The room's state as it is now, then events from here on. */
    proto_sync_room(c->p, c->m->room);
    json_t *joined = json_pack("{s:s, s:o, s:o}", "type", "joined", "you",
                               proto_member_json(c->m), "room",
                               proto_room_state(c->p, c->m->room));
    json_t *servers = ice_servers(c);
    if (joined && servers)
        json_object_set(joined, "iceServers", servers);
    json_decref(servers);
    if (joined && re)
        json_object_set(joined, "re", re);
    proto_send(c, joined);
    /* Viewers come and go in hundreds during a broadcast: they are counted
     * in the state, not announced to everyone. */
    if (c->claims.role != MR_ROLE_VIEWER)
        proto_broadcast(c->p, c->m->room, c,
                        json_pack("{s:s, s:o}", "type", "participant-joined", "participant",
                                  proto_member_json(c->m)));
}

/* Leaves the room: sessions closed (publishers kept for a grace period when
 * the connection merely dropped), the others told. */
void proto_leave(struct client *c, const char *reason, bool keep_pubs)
{
    if (!c->m)
        return;
    proto_close_sessions(c, keep_pubs);
    if (keep_pubs)
        proto_orphan_pubs(c);
    struct mr_room *room = c->m->room;
    char room_name[MR_NAME_MAX + 1], id[MR_MEMBER_ID_LEN + 1];
    snprintf(room_name, sizeof(room_name), "%s", room->name);
    snprintf(id, sizeof(id), "%s", c->m->id);
    mr_audit("leave", room_name, c->claims.sub, mr_role_name(c->claims.role), reason);
    mr_log_info(HTTP, "room member %s left (%s)", id, reason);
    if (c->claims.role != MR_ROLE_VIEWER)
        proto_broadcast(c->p, room, c,
                        json_pack("{s:s, s:s, s:s}", "type", "participant-left", "id", id,
                                  "reason", reason));
    mr_rooms_leave(c->p->rooms, c->m, (int64_t)time(NULL));
    c->m = NULL;
    room = mr_rooms_find(c->p->rooms, room_name);
    if (room)
        proto_sync_room(c->p, room);
}

static void on_leave(struct client *c, json_t *msg, json_t *re)
{
    (void)msg;
    proto_ok(c, re, "leave");
    proto_leave(c, "left", false);
    c->leaving = true;
    if (c->conn)
        mr_ws_close(c->conn, 1000, "left");
}

static void on_ping(struct client *c, json_t *msg, json_t *re)
{
    (void)msg;
    json_t *pong = json_pack("{s:s}", "type", "pong");
    if (pong && re)
        json_object_set(pong, "re", re);
    proto_send(c, pong);
}

/* --- Dispatch -------------------------------------------------------------- */

struct handler {
    const char *type;
    bool joined;              /* only after a successful join */
    void (*fn)(struct client *c, json_t *msg, json_t *re);
};

static const struct handler handlers[] = {
    {"join", false, on_join},
    {"leave", true, on_leave},
    {"ping", false, on_ping},
    {"publish", true, on_publish},
    {"unpublish", true, on_unpublish},
    {"subscribe", true, on_subscribe},
    {"answer", true, on_answer},
    {"candidate", true, on_candidate},
    {"mute", true, on_mute},
    {"remove", true, on_remove},
    {"record", true, on_record},
    {"program", true, on_program},
};

/* The message-rate limit (room/flood.h): false when the message is
 * refused; a client that keeps flooding is disconnected. */
static bool rate_ok(struct client *c)
{
    switch (mr_flood_count(&c->flood, mr_clock_mono_us())) {
    case MR_FLOOD_OK:
        return true;
    case MR_FLOOD_REFUSE:
        proto_error(c, NULL, NULL, "server-busy", "too many messages; slow down");
        return false;
    case MR_FLOOD_DROP:
        return false;
    case MR_FLOOD_DISCONNECT:
        break;
    }
    mr_log_warn(HTTP, "websocket client %s keeps flooding; disconnecting", c->addr);
    c->p->stats.drop_flood++;
    c->leaving = true;
    if (c->conn)
        mr_ws_close(c->conn, 1008, "too many messages");
    return false;
}

static void dispatch(struct client *c, json_t *msg)
{
    json_t *re = json_object_get(msg, "id");
    if (re && !json_is_string(re) && !json_is_integer(re)) {
        proto_error(c, NULL, NULL, "bad-request", "\"id\" must be a string or an integer");
        return;
    }
    const char *type = proto_str(msg, "type");
    if (!type) {
        proto_error(c, re, NULL, "bad-request", "a message needs a string \"type\"");
        return;
    }
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if (strcmp(handlers[i].type, type) != 0)
            continue;
        if (handlers[i].joined && !c->m) {
            proto_refuse(c, re, type, "unauthorized", "join a room first", NULL);
            return;
        }
        handlers[i].fn(c, msg, re);
        return;
    }
    proto_error(c, re, NULL, "bad-request", "unknown message type");
}

static void on_message(void *user, const char *data, size_t len, bool binary, bool too_large)
{
    struct client *c = user;
    if (c->leaving)
        return;
    c->p->stats.messages++;
    if (!rate_ok(c))
        return;
    if (too_large) {
        char detail[96];
        snprintf(detail, sizeof(detail), "message of %zu bytes or more exceeds the limit of %zu",
                 len, c->p->cfg->ws_max_message);
        proto_error(c, NULL, NULL, "too-large", detail);
        return;
    }
    if (binary) {
        proto_error(c, NULL, NULL, "bad-request", "messages are JSON text, not binary");
        return;
    }
    json_error_t jerr;
    json_t *msg = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!msg || !json_is_object(msg)) {
        proto_error(c, NULL, NULL, "bad-request",
                    msg ? "a message is a JSON object" : "malformed JSON");
        json_decref(msg);
        return;
    }
    dispatch(c, msg);
    json_decref(msg);
}

/* --- Connections ----------------------------------------------------------- */

static void *on_open(struct mr_ws_conn *conn, const char *addr, void *user)
{
    struct mr_room_proto *p = user;
    struct client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->p = p;
    c->conn = conn;
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    c->opened_us = mr_clock_mono_us();
    g_ptr_array_add(p->clients, c);
    return c;
}

static void free_client(struct client *c)
{
    json_decref(c->sub.re);
    free(c);
}

static void on_closed(void *user)
{
    struct client *c = user;
    c->conn = NULL;
    /* A connection that just dropped keeps its publishers for a while. */
    proto_leave(c, c->leaving ? "left" : "connection lost", !c->leaving);
    proto_close_sessions(c, false);
    g_ptr_array_remove_fast(c->p->clients, c);
    free_client(c);
}

static void sync_one(struct mr_room *room, void *user)
{
    if (room->members->len > 0)
        proto_sync_room(user, room);
}

static gboolean on_tick(gpointer data)
{
    struct mr_room_proto *p = data;
    int64_t now = mr_clock_mono_us();
    for (unsigned i = 0; i < p->clients->len; i++) {
        struct client *c = g_ptr_array_index(p->clients, i);
        if (!c->m && !c->leaving && c->conn && now - c->opened_us > JOIN_TIMEOUT_US) {
            c->leaving = true;
            p->stats.drop_no_join++;
            mr_ws_close(c->conn, 1008, "no join");
        }
    }
    proto_sweep_orphans(p, now);
    mr_rooms_each(p->rooms, sync_one, p);
    return G_SOURCE_CONTINUE;
}

int mr_room_proto_new(const struct mr_config *cfg, struct mr_relay *relay,
                      const struct mr_auth_key *key, struct mr_room_proto **out)
{
    struct mr_room_proto *p = calloc(1, sizeof(*p));
    if (!p)
        return MR_ENOMEM;
    p->cfg = cfg;
    p->relay = relay;
    p->key = key;
    p->rooms = mr_rooms_new(cfg, proto_room_snap_free);
    p->clients = g_ptr_array_new();
    p->orphans = g_ptr_array_new(); /* emptied by proto_sweep_orphans */
    p->handler = (struct mr_ws_handler){
        .path = "/ws",
        .open = on_open,
        .message = on_message,
        .closed = on_closed,
        .user = p,
    };
    p->tick = g_timeout_add(TICK_MS, on_tick, p);
    *out = p;
    return 0;
}

void mr_room_proto_free(struct mr_room_proto *p)
{
    if (!p)
        return;
    g_source_remove(p->tick);
    /* The HTTP server is gone: its connections closed without telling us. */
    while (p->clients->len > 0) {
        struct client *c = g_ptr_array_index(p->clients, 0);
        c->conn = NULL;
        c->leaving = true;
        on_closed(c);
    }
    proto_sweep_orphans(p, INT64_MAX);
    g_ptr_array_free(p->clients, TRUE);
    g_ptr_array_free(p->orphans, TRUE);
    mr_rooms_free(p->rooms);
    free(p);
}

void mr_room_proto_set_turn(struct mr_room_proto *p, const struct mr_turn *turn)
{
    p->turn = turn;
}

const struct mr_ws_handler *mr_room_proto_handler(struct mr_room_proto *p)
{
    return &p->handler;
}

int mr_room_proto_admit_http(struct mr_room_proto *p, enum mr_session_kind kind,
                             const char *room, char *detail, size_t dlen)
{
    const struct mr_config *cfg = p->cfg;
    unsigned sessions = relay_sessions(p) + mr_rooms_connections(p->rooms);
    if (cfg->max_sessions && sessions >= cfg->max_sessions) {
        snprintf(detail, dlen, "the server has as many sessions as it admits");
        return MR_ELIMIT;
    }
    if (kind == MR_SESSION_SUBSCRIBE && cfg->room_viewers) {
        struct mr_room *r = mr_rooms_find(p->rooms, room);
        unsigned viewers = relay_viewers(p, room) + (r ? mr_room_viewers(r) : 0);
        if (viewers >= cfg->room_viewers) {
            snprintf(detail, dlen, "the room has as many viewers as it admits");
            return MR_ELIMIT;
        }
    }
    return 0;
}
