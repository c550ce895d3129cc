/*
 * Media over the room protocol: publishing (the client offers, one
 * connection per stream), the one subscriber connection per client (the
 * server offers and re-offers), trickled candidates, and the publishers of
 * dropped connections kept for a grace period.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/name.h"
#include "ws/proto_priv.h"

/* --- Publishing ------------------------------------------------------------ */

struct pub *proto_find_pub(struct client *c, const char *stream)
{
    for (unsigned i = 0; i < c->n_pubs; i++)
        if (strcmp(c->pubs[i]->stream, stream) == 0)
            return c->pubs[i];
    return NULL;
}

static void detach_pub(struct client *c, struct pub *pb)
{
    for (unsigned i = 0; i < c->n_pubs; i++) {
        if (c->pubs[i] == pb) {
            c->pubs[i] = c->pubs[--c->n_pubs];
            break;
        }
    }
    pb->c = NULL;
}

static void free_pub(struct pub *pb)
{
    json_decref(pb->re);
    json_decref(pb->restart_re);
    free(pb->answer);
    free(pb);
}

/* Ends a publication: its relay session (or the opening of one) too. */
static void close_pub(struct mr_room_proto *p, struct pub *pb)
{
    proto_restart_cancel(p, pb);
    if (pb->ticket)
        mr_relay_cancel(p->relay, pb->ticket);
    else if (pb->session[0])
        mr_relay_close(p->relay, pb->session);
    free_pub(pb);
}

static void publish_answered(const struct mr_session_result *res, void *user)
{
    struct pub *pb = user;
    struct client *c = pb->c;
    json_t *re = pb->re;
    pb->re = NULL;
    pb->ticket = 0;
    if (res->err < 0) {
        proto_error(c, re, "publish", proto_error_code(res->err), res->detail);
        json_decref(re);
        detach_pub(c, pb);
        free_pub(pb);
        return;
    }
    snprintf(pb->session, sizeof(pb->session), "%s", res->session_id);
    pb->answer = strndup(res->answer, res->answer_len); /* NULL: no ICE restart later */
    json_t *msg = json_pack("{s:s, s:s, s:s, s:s%}", "type", "answer", "pc", "publisher",
                            "stream", pb->stream, "sdp", res->answer, res->answer_len);
    if (msg && re)
        json_object_set(msg, "re", re);
    json_decref(re);
    proto_send(c, msg);
    mr_audit("publish", c->m->room->name, c->claims.sub, mr_role_name(c->claims.role),
             pb->stream);
    proto_sync_room(c->p, c->m->room);
}

/* One of the relay's trickled candidates for the client (NULL candidate:
 * end-of-candidates). The relay calls this only after the answer or offer
 * it belongs to was delivered, and so sent. */
static json_t *candidate_msg(const char *pc, const char *candidate, const char *mid)
{
    return json_pack("{s:s, s:s, s:o, s:o}", "type", "candidate", "pc", pc, "candidate",
                     candidate ? json_string(candidate) : json_null(), "mid",
                     mid && mid[0] ? json_string(mid) : json_null());
}

static void publisher_candidate(const char *session_id, const char *candidate, const char *mid,
                                void *user)
{
    struct pub *pb = user;
    (void)session_id;
    if (!pb->c)
        return; /* orphaned: its connection is gone, nobody to tell */
    json_t *msg = candidate_msg("publisher", candidate, mid);
    if (msg)
        json_object_set_new(msg, "stream", json_string(pb->stream));
    proto_send(pb->c, msg);
}

void on_publish(struct client *c, json_t *msg, json_t *re)
{
    json_t *sdp = json_object_get(msg, "sdp");
    if (!mr_role_can_publish(c->claims.role)) {
        proto_refuse(c, re, "publish", "forbidden", "viewers cannot publish", NULL);
        return;
    }
    const char *stream = proto_stream_arg(c, msg, re, "publish");
    if (!stream)
        return;
    if (!json_is_string(sdp)) {
        proto_error(c, re, "publish", "bad-request", "a string \"sdp\" (the offer) is required");
        return;
    }
    struct pub *old = proto_find_pub(c, stream);
    if (json_is_true(json_object_get(msg, "iceRestart"))) {
        proto_restart_publisher(c, old, sdp, re);
        return;
    }
    if (!old && c->n_pubs == PROTO_MAX_PUBS) {
        proto_error(c, re, "publish", "server-busy", "too many streams published at once");
        return;
    }
    struct pub *pb = calloc(1, sizeof(*pb));
    if (!pb) {
        proto_error(c, re, "publish", "internal", "out of memory");
        return;
    }
    pb->c = c;
    snprintf(pb->stream, sizeof(pb->stream), "%s", stream);
    struct mr_session_request req = {
        .kind = MR_SESSION_PUBLISH,
        .room = c->m->room->name,
        .stream = stream,
        .sub = c->claims.sub,
        .role = mr_role_name(c->claims.role),
        .offer = json_string_value(sdp),
        .offer_len = json_string_length(sdp),
        /* Browsers take candidates one by one: the answer need not wait
         * for the STUN server. */
        .trickle = true,
        .cand_cb = publisher_candidate,
        .cand_user = pb,
    };
    char detail[256] = "";
    int rc = mr_relay_open(c->p->relay, &req, publish_answered, pb, &pb->ticket, detail,
                           sizeof(detail));
    if (rc < 0) {
        proto_error(c, re, "publish", proto_error_code(rc), detail);
        free_pub(pb);
        return;
    }
    /* Publishing the same stream again (a new connection after ICE
     * failed) replaces the old session, which the relay has closed. */
    if (old) {
        proto_restart_cancel(c->p, old);
        detach_pub(c, old);
        free_pub(old);
    }
    pb->re = re ? json_incref(re) : NULL;
    c->pubs[c->n_pubs++] = pb;
}

void on_unpublish(struct client *c, json_t *msg, json_t *re)
{
    const char *stream = proto_stream_arg(c, msg, re, "unpublish");
    if (!stream)
        return;
    struct pub *pb = proto_find_pub(c, stream);
    if (!pb) {
        proto_error(c, re, "unpublish", "stream-not-found", "you do not publish this stream");
        return;
    }
    detach_pub(c, pb);
    close_pub(c->p, pb);
    mr_audit("unpublish", c->m->room->name, c->claims.sub, mr_role_name(c->claims.role), stream);
    proto_ok(c, re, "unpublish");
    proto_sync_room(c->p, c->m->room);
}

/* --- Publishers of dropped connections ------------------------------------- */

void proto_orphan_pubs(struct client *c)
{
    if (!c->m)
        return;
    int64_t grace = (int64_t)c->p->cfg->viewer_grace_s * G_USEC_PER_SEC;
    while (c->n_pubs > 0) {
        struct pub *pb = c->pubs[0];
        detach_pub(c, pb);
        if (pb->ticket || !pb->session[0]) { /* never answered: nothing to keep */
            close_pub(c->p, pb);
            continue;
        }
        struct orphan *o = calloc(1, sizeof(*o));
        if (!o) {
            close_pub(c->p, pb);
            continue;
        }
        snprintf(o->room, sizeof(o->room), "%s", c->m->room->name);
        snprintf(o->sub, sizeof(o->sub), "%s", c->claims.sub);
        o->role = c->claims.role;
        json_decref(pb->re);
        pb->re = NULL;
        o->pub = pb;
        o->expires_us = mr_clock_mono_us() + grace;
        g_ptr_array_add(c->p->orphans, o);
    }
}

void proto_adopt_orphans(struct client *c)
{
    GPtrArray *orphans = c->p->orphans;
    for (unsigned i = 0; i < orphans->len;) {
        struct orphan *o = g_ptr_array_index(orphans, i);
        if (strcmp(o->room, c->m->room->name) != 0 || strcmp(o->sub, c->claims.sub) != 0 ||
            o->role != c->claims.role ||
            c->n_pubs == PROTO_MAX_PUBS || proto_find_pub(c, o->pub->stream)) {
            i++;
            continue;
        }
        o->pub->c = c;
        c->pubs[c->n_pubs++] = o->pub;
        g_ptr_array_remove_index_fast(orphans, i);
        free(o);
    }
}

void proto_close_orphans(struct mr_room_proto *p, const char *room, const char *sub,
                         enum mr_role role)
{
    for (unsigned i = 0; i < p->orphans->len;) {
        struct orphan *o = g_ptr_array_index(p->orphans, i);
        if (strcmp(o->room, room) != 0 || strcmp(o->sub, sub) != 0 || o->role != role) {
            i++;
            continue;
        }
        close_pub(p, o->pub);
        g_ptr_array_remove_index_fast(p->orphans, i);
        free(o);
    }
}

void proto_sweep_orphans(struct mr_room_proto *p, int64_t now_us)
{
    for (unsigned i = 0; i < p->orphans->len;) {
        struct orphan *o = g_ptr_array_index(p->orphans, i);
        if (o->expires_us > now_us) {
            i++;
            continue;
        }
        mr_log_info(HTTP, "publisher %.8s: its participant did not come back; closing",
                    o->pub->session);
        close_pub(p, o->pub);
        g_ptr_array_remove_index_fast(p->orphans, i);
        free(o);
    }
}

/* --- The subscriber connection --------------------------------------------- */

/* The streams the client should receive now, among the live ones. */
static unsigned wanted_streams(struct client *c, char (*out)[MR_NAME_MAX + 1], unsigned cap)
{
    GPtrArray *live = proto_live_streams(c->p, c->m->room);
    unsigned n = 0;
    for (unsigned i = 0; i < live->len && n < cap; i++) {
        const char *name = g_ptr_array_index(live, i);
        bool want = false;
        switch (c->sub.want) {
        case WANT_NONE:
            break;
        case WANT_ALL:
            /* Everything but what this client publishes itself. */
            want = !proto_find_pub(c, name);
            break;
        case WANT_PROGRAM:
            want = strcmp(name, c->m->room->program) == 0;
            break;
        case WANT_LIST:
            for (unsigned j = 0; j < c->sub.n_wanted && !want; j++)
                want = strcmp(name, c->sub.wanted[j]) == 0;
            break;
        }
        if (want)
            snprintf(out[n++], 65, "%s", name);
    }
    g_ptr_array_unref(live);
    return n;
}

static void subscriber_offered(const struct mr_session_result *res, void *user);
static void drop_subscription(struct client *c);

static void subscriber_candidate(const char *session_id, const char *candidate, const char *mid,
                                 void *user)
{
    struct client *c = user;
    if (strcmp(session_id, c->sub.session) != 0)
        return; /* not the connection the client has now */
    proto_send(c, candidate_msg("subscriber", candidate, mid));
}

/* Nothing to receive: no subscriber connection (an offer without sections
 * has no BUNDLE group, which browsers refuse). The client hears of the
 * first offer when a stream it wants starts. */
static void nothing_to_offer(struct client *c)
{
    if (c->sub.session[0] || c->sub.ticket) {
        drop_subscription(c);
        proto_send(c, json_pack("{s:s, s:s}", "type", "subscriber-closed", "detail",
                                "none of the streams asked for is published now"));
    }
    c->sub.n_offered = 0;
    c->sub.dirty = false;
    if (c->sub.re) {
        proto_ok(c, c->sub.re, "subscribe");
        json_decref(c->sub.re);
        c->sub.re = NULL;
    }
}

/* Asks the relay for an offer with the streams wanted now. */
static void make_offer(struct client *c, bool fresh)
{
    char(*offered)[MR_NAME_MAX + 1] = c->sub.offered;
    unsigned n = wanted_streams(c, offered, PROTO_MAX_WANTED);
    if (n == 0) {
        nothing_to_offer(c);
        return;
    }
    const char *names[PROTO_MAX_WANTED];
    for (unsigned i = 0; i < n; i++)
        names[i] = offered[i];
    struct mr_room_sub_request req = {
        .room = c->m->room->name,
        .sub = c->claims.sub,
        .role = mr_role_name(c->claims.role),
        .streams = names,
        .n_streams = n,
        .trickle = true,
        .cand_cb = subscriber_candidate,
        .cand_user = c,
        .ice_restart = c->sub.ice_restart && !fresh,
        .layer_cap = c->sub.layer_cap,
    };
    char detail[256] = "";
    int rc;
    c->sub.dirty = false;
    c->sub.ice_restart = false;
    c->sub.n_offered = n;
    if (fresh)
        rc = mr_relay_open_room_sub(c->p->relay, &req, subscriber_offered, c, &c->sub.ticket,
                                    detail, sizeof(detail));
    else
        rc = mr_relay_room_sub_update(c->p->relay, c->sub.session, &req, subscriber_offered, c,
                                      &c->sub.ticket, detail, sizeof(detail));
    if (rc == MR_ENOENT && !fresh) {
        /* The relay closed the old connection (ICE failed, the peer fell silent): the
         * client gets a new one. */
        c->sub.session[0] = '\0';
        c->sub.awaiting_answer = false;
        make_offer(c, true);
        return;
    }
    if (rc < 0) {
        proto_error(c, c->sub.re, "subscribe", proto_error_code(rc), detail);
        json_decref(c->sub.re);
        c->sub.re = NULL;
    }
}

static void subscriber_offered(const struct mr_session_result *res, void *user)
{
    struct client *c = user;
    json_t *re = c->sub.re;
    c->sub.re = NULL;
    c->sub.ticket = 0;
    if (res->err < 0) {
        proto_error(c, re, "subscribe", proto_error_code(res->err), res->detail);
        json_decref(re);
        return;
    }
    /* A new session id means a new transport: the client must make a new
     * RTCPeerConnection for it. */
    bool fresh = strcmp(c->sub.session, res->session_id) != 0;
    snprintf(c->sub.session, sizeof(c->sub.session), "%s", res->session_id);
    c->sub.awaiting_answer = true;
    json_t *streams = json_array();
    for (unsigned i = 0; i < c->sub.n_offered; i++)
        json_array_append_new(streams, json_string(c->sub.offered[i]));
    json_t *msg = json_pack("{s:s, s:s, s:s%, s:b, s:o}", "type", "offer", "pc", "subscriber",
                            "sdp", res->answer, res->answer_len, "new", fresh, "streams",
                            streams);
    if (msg && re)
        json_object_set(msg, "re", re);
    json_decref(re);
    proto_send(c, msg);
}

void proto_refresh_subscription(struct client *c)
{
    if (!c || !c->m || c->sub.want == WANT_NONE)
        return;
    char names[PROTO_MAX_WANTED][MR_NAME_MAX + 1];
    unsigned n = wanted_streams(c, names, PROTO_MAX_WANTED);
    bool same = n == c->sub.n_offered;
    for (unsigned i = 0; i < n && same; i++)
        same = strcmp(names[i], c->sub.offered[i]) == 0;
    if (same && !c->sub.dirty)
        return;
    if (c->sub.ticket || c->sub.awaiting_answer) {
        c->sub.dirty = true; /* after the answer to the offer that is out */
        return;
    }
    make_offer(c, !c->sub.session[0]);
}

static int parse_want(struct client *c, json_t *msg, json_t *re)
{
    json_t *streams = json_object_get(msg, "streams");
    struct subpc *s = &c->sub;
    if (!streams) {
        /* Viewers watch what the operator puts on the program; the others
         * see everything in the room. */
        s->want = c->claims.role == MR_ROLE_VIEWER ? WANT_PROGRAM : WANT_ALL;
        return 0;
    }
    if (json_is_string(streams) && strcmp(json_string_value(streams), "*") == 0) {
        s->want = WANT_ALL;
        return 0;
    }
    if (json_is_string(streams) && strcmp(json_string_value(streams), "program") == 0) {
        s->want = WANT_PROGRAM;
        return 0;
    }
    if (!json_is_array(streams) || json_array_size(streams) > PROTO_MAX_WANTED) {
        proto_error(c, re, "subscribe", "bad-request",
                    "\"streams\" is \"*\", \"program\" or an array of at most 32 stream names");
        return MR_EPARSE;
    }
    size_t i;
    json_t *v;
    json_array_foreach(streams, i, v) {
        if (!json_is_string(v) || !mr_name_valid(json_string_value(v), json_string_length(v))) {
            proto_error(c, re, "subscribe", "bad-name", "stream names are [A-Za-z0-9_-]{1,64}");
            return MR_EPARSE;
        }
    }
    s->n_wanted = 0;
    json_array_foreach(streams, i, v)
        snprintf(s->wanted[s->n_wanted++], sizeof(s->wanted[0]), "%s", json_string_value(v));
    s->want = WANT_LIST;
    return 0;
}

/* Closes the subscriber connection, so that the next offer makes a new
 * one (the client's ICE failed: "restart": true). A pending ticket may be
 * an update's offer: cancelling it only withdraws the offer, and the room
 * subscription lives on, so the session is closed as well (else the relay
 * would keep it, and its candidates would call back a freed client). */
static void drop_subscription(struct client *c)
{
    if (c->sub.ticket)
        mr_relay_cancel(c->p->relay, c->sub.ticket);
    if (c->sub.session[0])
        mr_relay_close(c->p->relay, c->sub.session);
    c->sub.ticket = 0;
    c->sub.session[0] = '\0';
    c->sub.awaiting_answer = false;
}

/* "layer": the best simulcast layer the subscription's video takes,
 * "high" (the default), "medium" or "low"; kept until a subscribe says
 * otherwise. */
static int parse_layer(struct client *c, json_t *msg, json_t *re)
{
    json_t *layer = json_object_get(msg, "layer");
    if (!layer)
        return 0;
    int cap = json_is_string(layer) ? mr_layer_cap_parse(json_string_value(layer)) : -1;
    if (cap < 0) {
        proto_error(c, re, "subscribe", "bad-request",
                    "\"layer\" is \"high\", \"medium\" or \"low\"");
        return MR_EPARSE;
    }
    c->sub.layer_cap = (unsigned)cap;
    return 0;
}

void on_subscribe(struct client *c, json_t *msg, json_t *re)
{
    if (parse_want(c, msg, re) < 0 || parse_layer(c, msg, re) < 0)
        return;
    if (json_is_true(json_object_get(msg, "restart")))
        drop_subscription(c);
    /* The same connection with new ICE credentials (the client's network
     * changed): the next offer carries the relay's. */
    if (json_is_true(json_object_get(msg, "iceRestart")) && c->sub.session[0])
        c->sub.ice_restart = true;
    json_decref(c->sub.re);
    c->sub.re = re ? json_incref(re) : NULL;
    if (!c->sub.session[0] && !c->sub.ticket) {
        make_offer(c, true);
        return;
    }
    c->sub.dirty = true;
    proto_refresh_subscription(c);
}

void on_answer(struct client *c, json_t *msg, json_t *re)
{
    json_t *sdp = json_object_get(msg, "sdp");
    const char *pc = proto_str(msg, "pc");
    if (!pc || strcmp(pc, "subscriber") != 0 || !json_is_string(sdp)) {
        proto_error(c, re, "answer", "bad-request",
                    "an answer needs \"pc\": \"subscriber\" and a string \"sdp\"");
        return;
    }
    if (!c->sub.awaiting_answer) {
        proto_error(c, re, "answer", "bad-request", "no offer is waiting for an answer");
        return;
    }
    char detail[256] = "";
    int rc = mr_relay_room_sub_answer(c->p->relay, c->sub.session, json_string_value(sdp),
                                      json_string_length(sdp), detail, sizeof(detail));
    if (rc == MR_ENOENT) {
        c->sub.awaiting_answer = false;
        c->sub.session[0] = '\0';
        make_offer(c, true);
        return;
    }
    if (rc < 0) {
        proto_error(c, re, "answer", rc == MR_ECODEC ? "unsupported-codec" : "bad-sdp", detail);
        return;
    }
    c->sub.awaiting_answer = false;
    proto_ok(c, re, "answer");
    if (c->sub.dirty)
        proto_refresh_subscription(c);
}

/* A trickled candidate as an RFC 8840 fragment for mr_relay_patch. */
static int candidate_frag(json_t *msg, char *out, size_t cap)
{
    json_t *cand = json_object_get(msg, "candidate");
    if (json_is_null(cand) || (json_is_string(cand) && json_string_length(cand) == 0))
        return snprintf(out, cap, "a=end-of-candidates\r\n");
    if (!json_is_string(cand))
        return MR_EPARSE;
    const char *v = json_string_value(cand);
    if (strncmp(v, "a=", 2) == 0)
        v += 2;
    if (strncmp(v, "candidate:", 10) != 0 || strpbrk(v, "\r\n"))
        return MR_EPARSE;
    int n = snprintf(out, cap, "a=%s\r\n", v);
    return n > 0 && (size_t)n < cap ? n : MR_EPARSE;
}

void on_candidate(struct client *c, json_t *msg, json_t *re)
{
    const char *pc = proto_str(msg, "pc");
    const char *session = NULL;
    if (pc && strcmp(pc, "subscriber") == 0) {
        session = c->sub.session;
    } else if (pc && strcmp(pc, "publisher") == 0) {
        const char *stream = proto_str(msg, "stream");
        struct pub *pb = stream ? proto_find_pub(c, stream) : NULL;
        session = pb ? pb->session : NULL;
    } else {
        proto_error(c, re, "candidate", "bad-request",
                    "\"pc\" is \"publisher\" (with \"stream\") or \"subscriber\"");
        return;
    }
    if (!session || !session[0]) {
        proto_error(c, re, "candidate", "session-not-found", "no such connection (yet)");
        return;
    }
    char frag[1200];
    int n = candidate_frag(msg, frag, sizeof(frag));
    if (n < 0) {
        proto_error(c, re, "candidate", "bad-request",
                    "\"candidate\" is an ICE candidate string (\"candidate:...\"), or null or "
                    "\"\" for the end of candidates");
        return;
    }
    char detail[256] = "";
    uint64_t ticket = 0;
    int rc = mr_relay_patch(c->p->relay, session, frag, (size_t)n, NULL, NULL, &ticket, detail,
                            sizeof(detail));
    if (rc == MR_ENOENT)
        proto_error(c, re, "candidate", "session-not-found", "the connection is gone");
    else if (rc < 0)
        proto_error(c, re, "candidate", "bad-request", detail);
    else if (re)
        proto_ok(c, re, "candidate");
}

/* --- Closing ----------------------------------------------------------------- */

void proto_close_sessions(struct client *c, bool keep_pubs)
{
    struct mr_room_proto *p = c->p;
    drop_subscription(c);
    c->sub.want = WANT_NONE;
    if (keep_pubs)
        return;
    while (c->n_pubs > 0) {
        struct pub *pb = c->pubs[0];
        detach_pub(c, pb);
        close_pub(p, pb);
    }
}
