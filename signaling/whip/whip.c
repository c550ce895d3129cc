#include "whip/whip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "core/name.h"
#include "http/error_code.h"
#include "whip/sessions.h"

static bool is_whip(const struct mr_http_request *req)
{
    return strcmp(req->segments[0], "whip") == 0;
}

static bool names_ok(const struct mr_http_request *req)
{
    return !req->bad_path && req->n_segments >= 3 &&
           mr_name_valid(req->segments[1], strlen(req->segments[1])) &&
           mr_name_valid(req->segments[2], strlen(req->segments[2]));
}

/* Refuses (401/403) and audits, naming who asked when the token said. */
static void refuse(struct mr_http_request *req, int status, const char *detail,
                   const struct mr_claims *claims)
{
    mr_http_refuse(req, status, detail, req->segments[1], claims->sub, mr_role_name(claims->role));
}

/* Token, then room: 401 before 403. Answers on failure. */
static int authenticate(struct mr_whip *w, struct mr_http_request *req, struct mr_claims *claims)
{
    char why[128];
    if (mr_auth_bearer(w->key, req->authorization, (int64_t)time(NULL), claims, why,
                       sizeof(why)) < 0) {
        refuse(req, 401, why, claims);
        return MR_EAGAIN;
    }
    return 0;
}

static int authorize(struct mr_whip *w, struct mr_http_request *req, struct mr_claims *claims)
{
    if (authenticate(w, req, claims) < 0)
        return MR_EAGAIN;
    if (!mr_claims_cover_room(claims, req->segments[1])) {
        refuse(req, 403, "the token is not valid for this room", claims);
        return MR_EAGAIN;
    }
    return 0;
}

static int check_post(struct mr_http_request *req, void *user)
{
    struct mr_whip *w = user;
    struct mr_claims claims;
    /* Two segments or more than three: a name is empty (libwebsockets folds
     * "//") or holds a '/' (it decodes "%2F") — either way not a name. */
    if (req->n_segments != 3 || !names_ok(req)) {
        mr_http_respond_error(req, 400, "bad-name",
                              "room and stream names must match [A-Za-z0-9_-]{1,64}");
        return MR_EAGAIN;
    }
    if (authorize(w, req, &claims) < 0)
        return MR_EAGAIN;
    if (is_whip(req) && !mr_role_can_publish(claims.role)) {
        refuse(req, 403, "this role may not publish", &claims);
        return MR_EAGAIN;
    }
    if (!mr_http_content_type_is(req, "application/sdp")) {
        mr_http_respond_error(req, 415, "unsupported-media-type",
                              "the offer must be sent as application/sdp");
        return MR_EAGAIN;
    }
    return 0;
}

/* --- POST: open a session ------------------------------------------------ */

struct pending {
    struct mr_whip *w;
    struct mr_http_request *req;
    uint64_t ticket;
    bool has_cred;                /* cred holds the caller's TURN credentials */
    struct mr_turn_cred cred;
};

/* --- ICE servers (RFC 9725 §4.6) ------------------------------------------ */

/* Link header values for the ICE servers, one per URL, into links (n of
 * MR_TURN_URLS_MAX); TURN URLs only with credentials (cred NULL: left out).
 * Returns how many. Credentials never go to the log. */
static unsigned ice_server_links(const struct mr_turn *turn, const struct mr_turn_cred *cred,
                                 char links[][MR_TURN_LINK_MAX])
{
    unsigned n = 0;
    for (unsigned i = 0; turn && i < turn->n_urls && i < MR_TURN_URLS_MAX; i++) {
        if (turn->urls[i].relay && !cred)
            continue;
        if (mr_turn_link_value(&turn->urls[i], cred, links[n], MR_TURN_LINK_MAX) > 0)
            n++;
    }
    return n;
}

/* The caller's credentials for the POST's answer (none when [turn] names
 * no TURN server, or the token has no time left). */
static void take_credentials(struct pending *p, const struct mr_claims *claims)
{
    p->has_cred = mr_turn_for_claims(p->w->turn, claims, (int64_t)time(NULL), &p->cred) == 0;
}

/*
 * OPTIONS that is not a CORS preflight, from a client that wants its ICE
 * servers before it makes its offer (RFC 9725 §4.6 allows it for WebRTC
 * stacks that cannot change them later). Only a token that may POST here
 * gets them; anything else gets the plain 204 (OPTIONS is never refused).
 */
static void options_ice_servers(struct mr_http_request *req, void *user)
{
    struct mr_whip *w = user;
    struct mr_claims claims;
    struct mr_turn_cred cred;
    char why[128];
    char links[MR_TURN_URLS_MAX][MR_TURN_LINK_MAX];
    int64_t now = (int64_t)time(NULL);
    if (!mr_turn_enabled(w->turn) || req->n_segments != 3 || !names_ok(req) ||
        mr_auth_bearer(w->key, req->authorization, now, &claims, why, sizeof(why)) < 0 ||
        !mr_claims_cover_room(&claims, req->segments[1]) ||
        (is_whip(req) && !mr_role_can_publish(claims.role)))
        return;
    bool has_cred = mr_turn_for_claims(w->turn, &claims, now, &cred) == 0;
    unsigned n = ice_server_links(w->turn, has_cred ? &cred : NULL, links);
    for (unsigned i = 0; i < n; i++)
        mr_http_add_header(req, "Link", links[i]);
    explicit_bzero(&cred, sizeof(cred));
    explicit_bzero(links, sizeof(links));
}

/* A request waiting for the relay; answers 500 itself when out of memory. */
static struct pending *new_pending(struct mr_whip *w, struct mr_http_request *req)
{
    struct pending *p = calloc(1, sizeof(*p));
    if (!p) {
        mr_http_respond_error(req, 500, "internal", "out of memory");
        return NULL;
    }
    p->w = w;
    p->req = req;
    return p;
}

static void pending_free(struct pending *p)
{
    explicit_bzero(&p->cred, sizeof(p->cred));
    free(p);
}

static void pending_cancel(void *user)
{
    struct pending *p = user;
    mr_relay_cancel(p->w->relay, p->ticket);
    pending_free(p);
}

/* --- What WHIP and WHEP remember of their sessions (sessions.h) ----------- */

/* False for an id longer than a session id (the relay never holds one). */
static bool record_of(const char *id, const struct mr_session_info *info,
                      struct mr_whip_session *out)
{
    size_t n = strlen(id);
    if (n >= sizeof(out->id))
        return false;
    *out = (struct mr_whip_session){.kind = info->kind};
    memcpy(out->id, id, n + 1);
    snprintf(out->room, sizeof(out->room), "%s", info->room);
    snprintf(out->stream, sizeof(out->stream), "%s", info->stream);
    snprintf(out->sub, sizeof(out->sub), "%s", info->sub);
    snprintf(out->role, sizeof(out->role), "%s", info->role);
    return true;
}

static void info_of(const struct mr_whip_session *rec, struct mr_session_info *out)
{
    *out = (struct mr_session_info){.kind = rec->kind};
    snprintf(out->room, sizeof(out->room), "%s", rec->room);
    snprintf(out->stream, sizeof(out->stream), "%s", rec->stream);
    snprintf(out->sub, sizeof(out->sub), "%s", rec->sub);
    snprintf(out->role, sizeof(out->role), "%s", rec->role);
}

/* A session the relay holds now, remembered live. Out of memory it is not
 * remembered: a DELETE after it ended then answers 404, as before there
 * was a memory. */
static void remember(struct mr_whip *w, const char *id)
{
    struct mr_session_info info;
    struct mr_whip_session rec;
    if (mr_relay_session_info(w->relay, id, &info) < 0 || !record_of(id, &info, &rec))
        return;
    if (mr_whip_sessions_add(w->sessions, &rec) < 0)
        mr_log_warn(HTTP, "session %.8s: out of memory; a DELETE after it ends will be 404", id);
}

/*
 * The session a DELETE names: live in the relay, or ended a short while
 * ago. A session the memory has live but the relay no longer holds ended
 * since the last sweep (a reconnect replaced it a moment ago, its ICE
 * failed): it is marked ended now. Returns false when it is neither.
 */
static bool find_for_delete(struct mr_whip *w, const char *id, struct mr_session_info *info,
                            bool *ended)
{
    *ended = false;
    if (mr_relay_session_info(w->relay, id, info) == 0)
        return true;
    int64_t now = mr_clock_mono_us();
    mr_whip_sessions_end(w->sessions, id, now);
    const struct mr_whip_session *rec = mr_whip_sessions_ended(w->sessions, id, now);
    if (!rec)
        return false;
    info_of(rec, info);
    *ended = true;
    return true;
}

static bool relay_has(void *user, const char *id)
{
    struct mr_whip *w = user;
    struct mr_session_info info;
    return mr_relay_session_info(w->relay, id, &info) == 0;
}

static gboolean on_sweep(gpointer data)
{
    struct mr_whip *w = data;
    mr_whip_sessions_sweep(w->sessions, mr_clock_mono_us(), relay_has, w);
    return G_SOURCE_CONTINUE;
}

int mr_whip_init(struct mr_whip *w)
{
    int rc = mr_whip_sessions_new(MR_WHIP_ENDED_MAX, MR_WHIP_ENDED_KEEP_US, &w->sessions);
    if (rc < 0)
        return rc;
    w->sweep = g_timeout_add_seconds(MR_WHIP_SWEEP_S, on_sweep, w);
    return 0;
}

void mr_whip_cleanup(struct mr_whip *w)
{
    if (w->sweep)
        g_source_remove(w->sweep);
    w->sweep = 0;
    mr_whip_sessions_free(w->sessions);
    w->sessions = NULL;
}

/* --- POST: the answer ----------------------------------------------------- */

static void session_opened(const struct mr_session_result *res, void *user)
{
    struct pending *p = user;
    struct mr_http_request *req = p->req;
    if (res->err < 0) {
        mr_http_respond_err(req, res->err, res->detail);
        pending_free(p);
        return;
    }
    char location[512], etag[48];
    char links[MR_TURN_URLS_MAX][MR_TURN_LINK_MAX];
    snprintf(location, sizeof(location), "/%s/%s/%s/%s", req->segments[0], req->segments[1],
             req->segments[2], res->session_id);
    snprintf(etag, sizeof(etag), "\"%.40s\"", res->ice_ufrag ? res->ice_ufrag : "");
    struct mr_http_header headers[3 + MR_TURN_URLS_MAX] = {
        {"Location", location},
        {"ETag", etag},
        {"Accept-Patch", "application/trickle-ice-sdpfrag"},
    };
    unsigned n = ice_server_links(p->w->turn, p->has_cred ? &p->cred : NULL, links);
    for (unsigned i = 0; i < n; i++)
        headers[3 + i] = (struct mr_http_header){"Link", links[i]};
    mr_http_respond(req, 201, "application/sdp", res->answer, res->answer_len, headers, 3 + n);
    explicit_bzero(links, sizeof(links));
    remember(p->w, res->session_id);
    pending_free(p);
}

static void handle_post(struct mr_http_request *req, void *user)
{
    struct mr_whip *w = user;
    struct mr_claims claims;
    char detail[256];
    /* The token was checked moments ago; this only recovers its claims
     * (one that expired in between is refused). */
    if (authenticate(w, req, &claims) < 0)
        return;
    if (req->body_len == 0) {
        mr_http_respond_error(req, 400, "bad-sdp", "the request has no SDP offer");
        return;
    }
    /* WHEP ?layer=high|medium|low: the best simulcast layer this viewer
     * takes (a phone on 4G asks for less than a hospital's screen). */
    char layer[16] = "";
    int cap = 0;
    int n = is_whip(req) ? -1 : mr_http_query_arg(req, "layer", layer, sizeof(layer));
    if (n != -1 && (n < 0 || (cap = mr_layer_cap_parse(layer)) < 0)) {
        mr_http_respond_error(req, 400, "bad-request", "layer is high, medium or low");
        return;
    }
    /* Admission limits hold viewers back; a publisher (an operating room's
     * feed, a clinic coming back) is never refused for load. */
    if (!is_whip(req) && w->admit &&
        w->admit(w->admit_user, MR_SESSION_SUBSCRIBE, req->segments[1], detail,
                 sizeof(detail)) < 0) {
        mr_http_respond_error(req, 503, "server-busy", detail);
        return;
    }
    struct pending *p = new_pending(w, req);
    if (!p)
        return;
    take_credentials(p, &claims);
    struct mr_session_request sr = {
        .kind = is_whip(req) ? MR_SESSION_PUBLISH : MR_SESSION_SUBSCRIBE,
        .room = req->segments[1],
        .stream = req->segments[2],
        .sub = claims.sub,
        .role = mr_role_name(claims.role),
        .offer = req->body,
        .offer_len = req->body_len,
        .layer_cap = (unsigned)cap,
    };
    int rc = mr_relay_open(w->relay, &sr, session_opened, p, &p->ticket, detail, sizeof(detail));
    if (rc < 0) {
        pending_free(p);
        mr_http_respond_err(req, rc, detail);
        return;
    }
    mr_http_set_cancel(req, pending_cancel, p);
}

/* --- PATCH and DELETE on a session --------------------------------------- */

/* Checks names, token and that the token may act on this session: the
 * identity that opened it (same sub and role) or an operator of the room.
 * For a DELETE that holds for a session that has ended as for a live one
 * (find_for_delete); a PATCH acts on live sessions only. An unknown session
 * is left for the state stage (404). */
static int check_session(struct mr_http_request *req, void *user)
{
    struct mr_whip *w = user;
    struct mr_claims claims;
    if (!names_ok(req)) {
        mr_http_respond_error(req, 400, "bad-name",
                              "room and stream names must match [A-Za-z0-9_-]{1,64}");
        return MR_EAGAIN;
    }
    if (authorize(w, req, &claims) < 0)
        return MR_EAGAIN;
    struct mr_session_info info;
    bool ended;
    bool known = req->method == MR_HTTP_DELETE
                     ? find_for_delete(w, req->segments[3], &info, &ended)
                     : mr_relay_session_info(w->relay, req->segments[3], &info) == 0;
    if (known && claims.role != MR_ROLE_OPERATOR &&
        (strcmp(info.sub, claims.sub) != 0 || strcmp(info.role, mr_role_name(claims.role)) != 0)) {
        refuse(req, 403, "this session belongs to someone else", &claims);
        return MR_EAGAIN;
    }
    if (req->method == MR_HTTP_PATCH &&
        !mr_http_content_type_is(req, "application/trickle-ice-sdpfrag") &&
        (is_whip(req) || !mr_http_content_type_is(req, "application/json"))) {
        mr_http_respond_error(req, 415, "unsupported-media-type",
                              is_whip(req) ? "PATCH takes application/trickle-ice-sdpfrag"
                                           : "PATCH takes application/trickle-ice-sdpfrag, or "
                                             "application/json for the viewer's layer");
        return MR_EAGAIN;
    }
    return 0;
}

/* A WHEP viewer's layer cap changed: {"layer": "high"|"medium"|"low"}. */
static void patch_layer(struct mr_whip *w, struct mr_http_request *req)
{
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
    json_t *layer = json_is_object(body) ? json_object_get(body, "layer") : NULL;
    int cap = json_is_string(layer) ? mr_layer_cap_parse(json_string_value(layer)) : -1;
    json_decref(body);
    if (cap < 0) {
        mr_http_respond_error(req, 400, "bad-request",
                              "the body is {\"layer\": \"high\"|\"medium\"|\"low\"}");
        return;
    }
    if (mr_relay_set_layer_cap(w->relay, req->segments[3], (unsigned)cap) < 0) {
        mr_http_respond_error(req, 404, "session-not-found", "no such session");
        return;
    }
    mr_http_respond(req, 204, NULL, NULL, 0, NULL, 0);
}

/* A session is found under the URL it was created with only. */
static bool url_names(const struct mr_http_request *req, const struct mr_session_info *info)
{
    enum mr_session_kind kind = is_whip(req) ? MR_SESSION_PUBLISH : MR_SESSION_SUBSCRIBE;
    return info->kind == kind && strcmp(info->room, req->segments[1]) == 0 &&
           strcmp(info->stream, req->segments[2]) == 0;
}

/* The live session the URL names. */
static bool session_matches(struct mr_whip *w, const struct mr_http_request *req)
{
    struct mr_session_info info;
    return mr_relay_session_info(w->relay, req->segments[3], &info) == 0 && url_names(req, &info);
}

static void restarted(const struct mr_session_result *res, void *user)
{
    struct pending *p = user;
    if (res->err < 0) {
        mr_http_respond_error(p->req, 500, "internal", res->detail);
    } else {
        char etag[48];
        snprintf(etag, sizeof(etag), "\"%.40s\"", res->ice_ufrag ? res->ice_ufrag : "");
        struct mr_http_header h = {"ETag", etag};
        mr_http_respond(p->req, 200, "application/trickle-ice-sdpfrag", res->answer,
                        res->answer_len, &h, 1);
    }
    free(p);
}

static void handle_patch(struct mr_http_request *req, void *user)
{
    struct mr_whip *w = user;
    char detail[256];
    bool layer = mr_http_content_type_is(req, "application/json");
    if (req->body_len == 0) {
        mr_http_respond_error(req, 400, layer ? "bad-request" : "bad-sdp",
                              layer ? "the request has no body" : "the request has no sdpfrag");
        return;
    }
    if (!session_matches(w, req)) {
        mr_http_respond_error(req, 404, "session-not-found", "no such session");
        return;
    }
    if (layer) {
        patch_layer(w, req);
        return;
    }
    struct pending *p = new_pending(w, req);
    if (!p)
        return;
    int rc = mr_relay_patch(w->relay, req->segments[3], req->body, req->body_len, restarted, p,
                            &p->ticket, detail, sizeof(detail));
    if (rc == MR_EAGAIN) {
        mr_http_set_cancel(req, pending_cancel, p); /* ICE restart: answered later */
        return;
    }
    free(p);
    /* The table speaks of streams; here the lookup is of a session, and
     * busy means an ICE restart is already under way. */
    if (rc == 0)
        mr_http_respond(req, 204, NULL, NULL, 0, NULL, 0);
    else if (rc == MR_ENOENT)
        mr_http_respond_error(req, 404, "session-not-found", detail);
    else if (rc == MR_EBUSY)
        mr_http_respond_error(req, 400, "bad-request", detail);
    else
        mr_http_respond_err(req, rc, detail); /* MR_EPARSE: bad-sdp */
}

/* Ends a session; one that has ended already (find_for_delete) is
 * answered the same, so a client's DELETE after its peer closed DTLS, or
 * a DELETE sent twice, succeeds. */
static void handle_delete(struct mr_http_request *req, void *user)
{
    struct mr_whip *w = user;
    const char *id = req->segments[3];
    struct mr_session_info info;
    bool ended;
    if (!find_for_delete(w, id, &info, &ended) || !url_names(req, &info)) {
        mr_http_respond_error(req, 404, "session-not-found", "no such session");
        return;
    }
    if (!ended) {
        if (mr_relay_close(w->relay, id) < 0) {
            mr_http_respond_error(req, 404, "session-not-found", "no such session");
            return;
        }
        /* Replaces the live record its POST left, or adds one for a
         * session the room protocol opened under these names. */
        struct mr_whip_session rec;
        if (record_of(id, &info, &rec) && mr_whip_sessions_add(w->sessions, &rec) == 0)
            mr_whip_sessions_end(w->sessions, id, mr_clock_mono_us());
    }
    mr_http_respond(req, 200, NULL, NULL, 0, NULL, 0);
}

void mr_whip_routes(struct mr_whip *w, struct mr_http_route *out)
{
    static const char *const prefixes[] = {"whip", "whep"};
    /* POST takes /{room}/{stream}, and also fewer or more segments, so that
     * a name left empty or holding a '/' (decoded from %2F under TLS) is
     * refused 400 bad-name rather than 404; only the first shape takes an
     * offer (Accept-Post on OPTIONS). */
    static const struct {
        unsigned min, max;
        const char *accepts;
    } posts[] = {{3, 3, "application/sdp"}, {2, 2, NULL}, {4, MR_HTTP_MAX_SEGMENTS, NULL}};
    unsigned n = 0;
    for (unsigned i = 0; i < 2; i++) {
        for (unsigned k = 0; k < sizeof(posts) / sizeof(posts[0]); k++)
            out[n++] = (struct mr_http_route){.method = MR_HTTP_POST,
                                              .prefix = prefixes[i],
                                              .min_segments = posts[k].min,
                                              .max_segments = posts[k].max,
                                              .body = true,
                                              .check = check_post,
                                              .handle = handle_post,
                                              .user = w,
                                              .accepts = posts[k].accepts,
                                              .options = k == 0 ? options_ice_servers : NULL};
        out[n++] = (struct mr_http_route){.method = MR_HTTP_PATCH,
                                          .prefix = prefixes[i],
                                          .min_segments = 4,
                                          .max_segments = 4,
                                          .body = true,
                                          .check = check_session,
                                          .handle = handle_patch,
                                          .user = w,
                                          .accepts = "application/trickle-ice-sdpfrag"};
        out[n++] = (struct mr_http_route){.method = MR_HTTP_DELETE,
                                          .prefix = prefixes[i],
                                          .min_segments = 4,
                                          .max_segments = 4,
                                          .check = check_session,
                                          .handle = handle_delete,
                                          .user = w};
    }
}
