/*
 * The API's routes: one table of endpoints, matched segment by segment,
 * each with the access it needs. The HTTP server routes every /api request
 * here (one route per method); the check stage below finds the endpoint
 * and applies the contract's order — route and names (404/405/400), token
 * (401), role and room (403) — and the handler answers with the state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api/api_priv.h"
#include "core/error.h"
#include "core/name.h"

enum access {
    ACCESS_ANY,              /* any valid token; the handler filters by room */
    ACCESS_ALL_ROOMS,        /* a token for every room ("*") */
    ACCESS_ROOM,             /* a token covering {room} */
    ACCESS_OPERATOR_ROOM,    /* an operator's token covering {room} */
    ACCESS_ARCHIVE,          /* operator or expert; the recording's room is
                                checked once it is found */
    ACCESS_ARCHIVE_OPERATOR, /* operator; likewise */
};

struct endpoint {
    enum mr_http_method method;
    const char *path; /* after "/api/"; ":room", ":stream", ":id" are parameters */
    enum access access;
    bool starts_recording; /* refused (403) in rooms whose policy is "never" */
    void (*handle)(struct api_call *c);
};

static const struct endpoint endpoints[] = {
    {MR_HTTP_GET, "rooms", ACCESS_ANY, false, mr_api_list_rooms},
    {MR_HTTP_GET, "streams", ACCESS_ALL_ROOMS, false, mr_api_list_all_streams},
    {MR_HTTP_GET, "rooms/:room/streams", ACCESS_ROOM, false, mr_api_list_streams},
    {MR_HTTP_GET, "rooms/:room/streams/:stream", ACCESS_ROOM, false, mr_api_get_stream},
    {MR_HTTP_GET, "rooms/:room/sessions", ACCESS_OPERATOR_ROOM, false, mr_api_list_sessions},
    {MR_HTTP_POST, "rooms/:room/streams/:stream/recording", ACCESS_OPERATOR_ROOM, true,
     mr_api_start_stream},
    {MR_HTTP_DELETE, "rooms/:room/streams/:stream/recording", ACCESS_OPERATOR_ROOM, false,
     mr_api_stop_stream},
    {MR_HTTP_POST, "rooms/:room/recording", ACCESS_OPERATOR_ROOM, true, mr_api_start_room},
    {MR_HTTP_DELETE, "rooms/:room/recording", ACCESS_OPERATOR_ROOM, false, mr_api_stop_room},
    {MR_HTTP_GET, "recordings", ACCESS_ARCHIVE, false, mr_api_list_recordings},
    {MR_HTTP_GET, "recordings/:id", ACCESS_ARCHIVE, false, mr_api_get_recording},
    {MR_HTTP_POST, "recordings/:id/url", ACCESS_ARCHIVE, false, mr_api_issue_url},
    {MR_HTTP_DELETE, "recordings/:id", ACCESS_ARCHIVE_OPERATOR, false, mr_api_delete_recording},
};

#define N_ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

/* --- Answers ------------------------------------------------------------- */

void mr_api_respond_json(struct mr_http_request *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(body);
    if (!text) {
        mr_http_respond_error(req, 500, "internal", "out of memory");
        return;
    }
    /* Recordings and participants are patient data: no caches. */
    struct mr_http_header h = {"Cache-Control", "no-store"};
    mr_http_respond(req, status, "application/json", text, strlen(text), &h, 1);
    free(text);
}

static void respond_405(struct mr_http_request *req, const char *allow)
{
    static const char body[] = "{\"error\":\"bad-request\","
                               "\"detail\":\"method not allowed on this resource\"}";
    struct mr_http_header h = {"Allow", allow};
    mr_http_respond(req, 405, "application/json", body, sizeof(body) - 1, &h, 1);
}

/* --- Routing --------------------------------------------------------------- */

/* Matches the path's shape (not the method) and collects the parameters. */
static bool match(const struct endpoint *ep, const struct mr_http_request *req,
                  struct api_call *c)
{
    char pattern[96];
    unsigned i = 1;
    snprintf(pattern, sizeof(pattern), "%s", ep->path);
    c->room = c->stream = c->id = NULL;
    for (char *save = NULL, *part = strtok_r(pattern, "/", &save); part;
         part = strtok_r(NULL, "/", &save), i++) {
        if (i >= req->n_segments)
            return false;
        const char *seg = req->segments[i];
        if (strcmp(part, ":room") == 0)
            c->room = seg;
        else if (strcmp(part, ":stream") == 0)
            c->stream = seg;
        else if (strcmp(part, ":id") == 0)
            c->id = seg;
        else if (strcmp(part, seg) != 0)
            return false;
    }
    return i == req->n_segments;
}

static const char *method_name(enum mr_http_method m)
{
    return m == MR_HTTP_GET ? "GET" : m == MR_HTTP_POST ? "POST" : "DELETE";
}

/* Finds the endpoint, or answers 404/405 and returns NULL. */
static const struct endpoint *find(struct mr_http_request *req, struct api_call *c)
{
    const struct endpoint *found = NULL;
    char allow[64] = "";
    for (size_t i = 0; i < N_ENDPOINTS && !req->bad_path; i++) {
        struct api_call tmp;
        if (!match(&endpoints[i], req, &tmp))
            continue;
        if (endpoints[i].method == req->method) {
            found = &endpoints[i];
            c->room = tmp.room;
            c->stream = tmp.stream;
            c->id = tmp.id;
        } else {
            size_t n = strlen(allow);
            snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
                     method_name(endpoints[i].method));
        }
    }
    if (!found && allow[0])
        respond_405(req, allow);
    else if (!found)
        mr_http_respond_error(req, 404, "not-found", "no such route");
    return found;
}

/* Names and ids in the path: 400 bad-name, or 404 for an id that cannot
 * name a recording. */
static bool params_ok(struct mr_http_request *req, const struct api_call *c)
{
    if ((c->room && !mr_name_valid(c->room, strlen(c->room))) ||
        (c->stream && !mr_name_valid(c->stream, strlen(c->stream)))) {
        mr_http_respond_error(req, 400, "bad-name",
                              "room and stream names must match [A-Za-z0-9_-]{1,64}");
        return false;
    }
    if (c->id && !mr_store_id_parse(c->id, NULL, NULL)) {
        mr_http_respond_error(req, 404, "not-found", "no such recording");
        return false;
    }
    return true;
}

/* --- Access ---------------------------------------------------------------- */

bool mr_api_covers(const struct api_call *c, const char *room)
{
    return mr_claims_cover_room(&c->claims, room);
}

void mr_api_refuse(struct api_call *c, int status, const char *detail, const char *room)
{
    mr_http_refuse(c->req, status, detail, room, c->claims.sub, mr_role_name(c->claims.role));
}

static bool allowed(const struct endpoint *ep, const struct api_call *c, const char **why)
{
    enum mr_role role = c->claims.role;
    switch (ep->access) {
    case ACCESS_ANY:
        return true;
    case ACCESS_ALL_ROOMS:
        *why = "listing every room's streams needs a token for all rooms";
        return strcmp(c->claims.room, "*") == 0;
    case ACCESS_ROOM:
        *why = "the token is not valid for this room";
        return mr_api_covers(c, c->room);
    case ACCESS_OPERATOR_ROOM:
        *why = !mr_api_covers(c, c->room) ? "the token is not valid for this room"
                                          : "only an operator controls recording";
        return mr_api_covers(c, c->room) && role == MR_ROLE_OPERATOR;
    case ACCESS_ARCHIVE:
        *why = "recordings are for operators and experts";
        return role == MR_ROLE_OPERATOR || role == MR_ROLE_EXPERT;
    case ACCESS_ARCHIVE_OPERATOR:
        *why = "only an operator deletes recordings";
        return role == MR_ROLE_OPERATOR;
    }
    return false;
}

static int authenticate(struct api_call *c)
{
    char why[128];
    if (mr_auth_bearer(c->api->key, c->req->authorization, (int64_t)time(NULL), &c->claims, why,
                       sizeof(why)) < 0) {
        mr_api_refuse(c, 401, why, c->room);
        return MR_EAGAIN;
    }
    return 0;
}

/* --- Stages ------------------------------------------------------------------ */

static int check_api(struct mr_http_request *req, void *user)
{
    struct mr_api *api = user;
    struct api_call c = {.api = api, .req = req};
    const char *why = "forbidden";
    const struct endpoint *ep = find(req, &c);
    if (!ep || !params_ok(req, &c) || authenticate(&c) < 0)
        return MR_EAGAIN;
    if (!allowed(ep, &c, &why)) {
        mr_api_refuse(&c, 403, why, c.room);
        return MR_EAGAIN;
    }
    if (ep->starts_recording && mr_config_record_policy(api->cfg, c.room) == MR_RECORD_NEVER) {
        mr_api_refuse(&c, 403, "this room's recording policy is \"never\"", c.room);
        return MR_EAGAIN;
    }
    req->route_data = (void *)ep;
    return 0;
}

static void handle_api(struct mr_http_request *req, void *user)
{
    struct mr_api *api = user;
    const struct endpoint *ep = req->route_data;
    struct api_call c = {.api = api, .req = req};
    /* The checks passed moments ago; this recovers the parameters and the
     * claims (a token that expired in between is refused). */
    if (!match(ep, req, &c)) {
        mr_http_respond_error(req, 500, "internal", "route lost");
        return;
    }
    if (authenticate(&c) < 0)
        return;
    ep->handle(&c);
}

/* --- Life cycle ------------------------------------------------------------- */

int mr_api_new(const struct mr_config *cfg, struct mr_relay *relay, const struct mr_auth_key *key,
               struct mr_api **out)
{
    struct mr_api *api = calloc(1, sizeof(*api));
    if (!api)
        return MR_ENOMEM;
    api->cfg = cfg;
    api->relay = relay;
    api->key = key;
    int rc = mr_api_url_key(key->secret, key->len, api->url_key);
    if (rc < 0) {
        free(api);
        return rc;
    }
    api->urls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    *out = api;
    return 0;
}

void mr_api_free(struct mr_api *api)
{
    if (!api)
        return;
    g_hash_table_destroy(api->urls);
    OPENSSL_cleanse(api->url_key, sizeof(api->url_key));
    free(api);
}

/* For a preflight: the methods of the endpoints whose path is req's. */
static unsigned api_methods(const struct mr_http_request *req, void *user)
{
    unsigned mask = 0;
    (void)user;
    for (size_t i = 0; i < N_ENDPOINTS && !req->bad_path; i++) {
        struct api_call tmp;
        if (match(&endpoints[i], req, &tmp))
            mask |= MR_HTTP_METHOD_BIT(endpoints[i].method);
    }
    return mask;
}

void mr_api_routes(struct mr_api *api, struct mr_http_route *out)
{
    /* clang-format off */
    const struct mr_http_route routes[MR_API_ROUTES] = {
        {MR_HTTP_GET,    "api",   2, 6, false, check_api,          handle_api,          api,
         api_methods, NULL, NULL},
        {MR_HTTP_POST,   "api",   2, 6, true,  check_api,          handle_api,          api,
         api_methods, NULL, NULL},
        {MR_HTTP_DELETE, "api",   2, 6, false, check_api,          handle_api,          api,
         api_methods, NULL, NULL},
        {MR_HTTP_GET,    "media", 3, 3, false, mr_api_media_check, mr_api_media_handle, api,
         NULL,        NULL, NULL},
        {MR_HTTP_HEAD,   "media", 3, 3, false, mr_api_media_check, mr_api_media_handle, api,
         NULL,        NULL, NULL},
    };
    /* clang-format on */
    memcpy(out, routes, sizeof(routes));
}
