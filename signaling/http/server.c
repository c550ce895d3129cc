/* libwebsockets glue: request stages, answers, and the GLib loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "http/error_code.h"
#include "http/http_priv.h"

/* How long an answer may take once the body is in (ICE gathering with a
 * STUN server included) before the connection is dropped. */
#define ASYNC_TIMEOUT_S 20

struct pss {
    struct http_req *req;
    struct mr_ws_conn *ws;  /* after a WebSocket upgrade */
};

/* --- Request bookkeeping ------------------------------------------------- */

static void free_req(struct http_req *r)
{
    mr_http_file_free(r->file);
    free(r->auth_buf);
    free(r->pub.body);
    free(r->resp_body);
    free(r->resp_headers);
    free(r);
}

/* The connection is gone: tell a pending handler, then forget the request. */
static void drop_req(struct pss *pss)
{
    struct http_req *r = pss->req;
    if (!r)
        return;
    pss->req = NULL;
    if (!r->responded && r->cancel)
        r->cancel(r->cancel_user);
    free_req(r);
}

void mr_http_header_add(struct http_req *r, const char *name, const char *value)
{
    size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
    char *p = realloc(r->resp_headers, r->resp_headers_len + nl + vl);
    if (!p)
        return;
    memcpy(p + r->resp_headers_len, name, nl);
    memcpy(p + r->resp_headers_len + nl, value, vl);
    r->resp_headers = p;
    r->resp_headers_len += nl + vl;
}

void mr_http_respond(struct mr_http_request *req, int status, const char *content_type,
                     const char *body, size_t len, const struct mr_http_header *headers,
                     unsigned n_headers)
{
    struct http_req *r = (struct http_req *)req;
    if (r->responded)
        return;
    r->responded = true;
    r->status = status;
    snprintf(r->content_type, sizeof(r->content_type), "%s", content_type ? content_type : "");
    if (body && len) {
        r->resp_body = malloc(len);
        if (r->resp_body) {
            memcpy(r->resp_body, body, len);
            r->resp_len = len;
        }
    }
    mr_http_add_cors(r, NULL, mr_http_header_add);
    for (unsigned i = 0; i < n_headers; i++)
        mr_http_header_add(r, headers[i].name, headers[i].value);
    if (r->wsi)
        lws_callback_on_writable(r->wsi);
}

void mr_http_add_header(struct mr_http_request *req, const char *name, const char *value)
{
    mr_http_header_add((struct http_req *)req, name, value);
}

static void respond_error_with(struct mr_http_request *req, int status, const char *code,
                               const char *detail, const struct mr_http_header *headers,
                               unsigned n_headers)
{
    json_t *obj = json_pack("{s:s, s:s}", "error", code, "detail", detail ? detail : "");
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    static const char fallback[] = "{\"error\":\"internal\",\"detail\":\"\"}";
    mr_http_respond(req, status, "application/json", text ? text : fallback,
                    text ? strlen(text) : sizeof(fallback) - 1, headers, n_headers);
    free(text);
    json_decref(obj);
}

void mr_http_respond_error(struct mr_http_request *req, int status, const char *code,
                           const char *detail)
{
    respond_error_with(req, status, code, detail, NULL, 0);
}

void mr_http_respond_err(struct mr_http_request *req, int err, const char *detail)
{
    struct mr_http_error e = mr_http_error_of(err);
    respond_error_with(req, e.status, e.code, detail && detail[0] ? detail : mr_strerror(err), NULL,
                       0);
}

void mr_http_set_cancel(struct mr_http_request *req, void (*cancel)(void *user), void *user)
{
    struct http_req *r = (struct http_req *)req;
    r->cancel = cancel;
    r->cancel_user = user;
}

bool mr_http_from_loopback(const struct mr_http_request *req)
{
    const char *a = req->peer_addr;
    if (req->proxied)
        return false;
    /* IPv4 clients of a dual-stack socket appear as ::ffff:127.x.y.z. */
    if (strncmp(a, "::ffff:", 7) == 0)
        a += 7;
    return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0;
}

bool mr_http_content_type_is(const struct mr_http_request *req, const char *type)
{
    size_t n = strlen(type);
    const char *ct = req->content_type;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, type, n) != 0)
        return false;
    /* Media-type parameters such as charset are allowed and ignored. */
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* --- Writing the answer -------------------------------------------------- */

int mr_http_write_head(struct lws *wsi, struct http_req *r, uint64_t content_length)
{
    size_t cap = LWS_PRE + 4096 + r->resp_headers_len;
    unsigned char *buf = malloc(cap);
    if (!buf)
        return -1;
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + cap - 1;
    int rc = -1;
    if (lws_add_http_header_status(wsi, (unsigned)r->status, &p, end))
        goto out;
    if (r->content_type[0] &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (unsigned char *)r->content_type,
                                     (int)strlen(r->content_type), &p, end))
        goto out;
    for (size_t off = 0; off < r->resp_headers_len;) {
        const char *name = r->resp_headers + off;
        const char *value = name + strlen(name) + 1;
        char hname[128];
        snprintf(hname, sizeof(hname), "%s:", name);
        if (lws_add_http_header_by_name(wsi, (unsigned char *)hname, (unsigned char *)value,
                                        (int)strlen(value), &p, end))
            goto out;
        off += strlen(name) + 1 + strlen(value) + 1;
    }
    if (r->status != 204 && r->status != 304) {
        /* A HEAD answer announces the length without sending the body;
         * lws's own helper would then wait for those bytes. */
        char len[24];
        int n = snprintf(len, sizeof(len), "%llu", (unsigned long long)content_length);
        if (r->pub.method == MR_HTTP_HEAD
                ? lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                               (unsigned char *)len, n, &p, end)
                : lws_add_http_header_content_length(wsi, content_length, &p, end))
            goto out;
    }
    if (r->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (unsigned char *)"close", 5, &p,
                                     end))
        goto out;
    if (lws_finalize_write_http_header(wsi, start, &p, end))
        goto out;
    rc = 0;
out:
    free(buf);
    return rc;
}

static int write_answer(struct lws *wsi, struct http_req *r)
{
    if (mr_http_write_head(wsi, r, r->resp_len) < 0)
        return -1;
    if (!r->resp_len || r->pub.method == MR_HTTP_HEAD)
        return 0;
    unsigned char *buf = malloc(LWS_PRE + r->resp_len);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, r->resp_body, r->resp_len);
    int n = lws_write(wsi, buf + LWS_PRE, r->resp_len, LWS_WRITE_HTTP_FINAL);
    free(buf);
    return n == (int)r->resp_len ? 0 : -1;
}

/* --- Reading the request ------------------------------------------------- */

static enum mr_http_method method_of(int lws_index)
{
    /* The order of lws's method_names[] with uncommon headers enabled. */
    static const enum mr_http_method map[] = {
        MR_HTTP_GET,   MR_HTTP_POST,   MR_HTTP_OPTIONS, MR_HTTP_PUT,
        MR_HTTP_PATCH, MR_HTTP_DELETE, MR_HTTP_OTHER,   MR_HTTP_HEAD,
    };
    if (lws_index < 0 || (size_t)lws_index >= sizeof(map) / sizeof(map[0]))
        return MR_HTTP_OTHER;
    return map[lws_index];
}

static void copy_header(struct lws *wsi, enum lws_token_indexes tok, char *out, size_t cap)
{
    out[0] = '\0';
    if (lws_hdr_total_length(wsi, tok) >= (int)cap || lws_hdr_copy(wsi, out, (int)cap, tok) < 0)
        out[0] = '\0';
}

/* A header of any length, in a new buffer (NULL when absent or out of
 * memory). Repeated headers come joined with ',' by libwebsockets. */
static char *dup_header(struct lws *wsi, enum lws_token_indexes tok)
{
    int len = lws_hdr_total_length(wsi, tok);
    if (len <= 0)
        return NULL;
    char *out = malloc((size_t)len + 2);
    if (out && lws_hdr_copy(wsi, out, len + 2, tok) < 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* libwebsockets keeps the query's arguments as fragments of one header,
 * already percent-decoded; they are joined back with '&'. A query that
 * does not fit is dropped whole rather than cut. */
static void copy_query(struct lws *wsi, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0;; i++) {
        int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len <= 0)
            return;
        if (n + (size_t)len + 2 > cap) {
            out[0] = '\0';
            return;
        }
        if (n)
            out[n++] = '&';
        if (lws_hdr_copy_fragment(wsi, out + n, (int)(cap - n), WSI_TOKEN_HTTP_URI_ARGS, i) < 0) {
            out[0] = '\0';
            return;
        }
        n += strlen(out + n);
    }
}

static void split_path(struct mr_http_request *req)
{
    const char *p = req->path;
    if (*p == '/')
        p++;
    if (*p == '\0')
        return; /* "/" has no segments */
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (req->n_segments == MR_HTTP_MAX_SEGMENTS || len >= MR_HTTP_SEGMENT_MAX || len == 0) {
            req->bad_path = true;
            if (req->n_segments == MR_HTTP_MAX_SEGMENTS)
                return;
        }
        size_t n = len < MR_HTTP_SEGMENT_MAX ? len : MR_HTTP_SEGMENT_MAX - 1;
        memcpy(req->segments[req->n_segments], p, n);
        req->segments[req->n_segments][n] = '\0';
        req->n_segments++;
        if (!slash)
            return;
        p = slash + 1;
    }
}

/* About what the head took: every header libwebsockets knows, with its
 * name. (It does not list the others; on a plain connection the guard has
 * measured the raw head already.) */
static size_t head_size(struct lws *wsi)
{
    size_t n = 0;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (len > 0) {
            const unsigned char *name = lws_token_to_string((enum lws_token_indexes)t);
            n += (size_t)len + (name ? strlen((const char *)name) : 0) + 3;
        }
    }
    return n;
}

/*
 * The body's framing (RFC 9112 §6): Content-Length as the client sent it,
 * read in full (libwebsockets reads only a length of up to 31 characters,
 * and the first of conflicting ones). On a guarded connection the guard
 * has checked the raw head already; otherwise the same rules are applied
 * to what libwebsockets kept.
 */
static int read_framing(struct lws *wsi, struct http_req *r, const char **why)
{
    const struct mr_http_head *h = mr_http_guard_head(r->srv, wsi);
    if (h) {
        r->pub.content_length = h->content_length;
        r->close_after = true; /* see guard.c */
        return 0;
    }
    if (head_size(wsi) > MR_HTTP_HEAD_MAX) {
        *why = "the request head exceeds 8 KiB";
        return 431;
    }
    r->pub.content_length = -1;
    char *cl = dup_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    long long n = -1;
    bool bad = cl && mr_http_content_length(cl, strlen(cl), &n) < 0;
    free(cl);
    if (bad || (n >= 0 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)) {
        *why = bad ? "invalid or conflicting Content-Length"
                   : "Content-Length and Transfer-Encoding together";
        return 400;
    }
    r->pub.content_length = n;
    /* libwebsockets' own view of a length it could not read differs from
     * ours: the connection is not reused after this request. */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) >= 31)
        r->close_after = true;
    return 0;
}

/* What the request head says, read from libwebsockets. Returns 0, or the
 * status to refuse it with (400, 414, 431) with a reason in *why; framing
 * errors also mean the connection cannot be trusted further. */
static int read_request(struct lws *wsi, struct http_req *r, const char **why)
{
    char *uri = NULL;
    int uri_len = 0;
    int idx = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    *why = "malformed request line";
    if (idx < 0 || !uri || uri_len <= 0)
        return 400;
    if (uri_len >= (int)sizeof(r->pub.path)) {
        *why = "the request target is too long";
        return 414;
    }
    r->pub.method = method_of(idx);
    memcpy(r->pub.path, uri, (size_t)uri_len);
    r->pub.path[uri_len] = '\0';
    /* A NUL decoded from the path (libwebsockets keeps its length) would
     * cut it short unseen. */
    if (strlen(r->pub.path) != (size_t)uri_len) {
        *why = "the request target encodes a NUL";
        return 400;
    }
    /* On a guarded connection, the path as sent (see guard.c). */
    const struct mr_http_head *h = mr_http_guard_head(r->srv, wsi);
    if (h)
        snprintf(r->pub.path, sizeof(r->pub.path), "%s", h->path);
    /* lws splits a path at ';' and '&' into fragments; such a path cannot
     * name a route or a stream. */
    static const enum lws_token_indexes uri_tokens[] = {
        WSI_TOKEN_GET_URI,   WSI_TOKEN_POST_URI,   WSI_TOKEN_OPTIONS_URI, WSI_TOKEN_PUT_URI,
        WSI_TOKEN_PATCH_URI, WSI_TOKEN_DELETE_URI, WSI_TOKEN_HEAD_URI,
    };
    for (size_t i = 0; i < sizeof(uri_tokens) / sizeof(uri_tokens[0]); i++)
        if (lws_hdr_total_length(wsi, uri_tokens[i]) > uri_len)
            r->pub.bad_path = true;
    if (h)
        r->pub.n_segments = mr_http_path_split(h->path, &r->pub.segments[0][0],
                                               MR_HTTP_SEGMENT_MAX, MR_HTTP_MAX_SEGMENTS,
                                               &r->pub.bad_path);
    else
        split_path(&r->pub);
    r->auth_buf = dup_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    r->pub.authorization = r->auth_buf ? r->auth_buf : "";
    copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, r->pub.content_type,
                sizeof(r->pub.content_type));
    copy_header(wsi, WSI_TOKEN_ORIGIN, r->pub.origin, sizeof(r->pub.origin));
    copy_header(wsi, WSI_TOKEN_HTTP_RANGE, r->pub.range, sizeof(r->pub.range));
    copy_query(wsi, r->pub.query, sizeof(r->pub.query));
    if (!lws_get_peer_simple(wsi, r->pub.peer_addr, sizeof(r->pub.peer_addr)))
        r->pub.peer_addr[0] = '\0';
    r->pub.proxied = lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0 ||
                     lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_X_REAL_IP) > 0 ||
                     lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_VIA) > 0 ||
                     lws_hdr_custom_length(wsi, "forwarded:", 10) > 0;
    r->pub.cors_preflight = r->pub.method == MR_HTTP_OPTIONS &&
                            lws_hdr_custom_length(wsi, "access-control-request-method:", 30) > 0;
    return read_framing(wsi, r, why);
}

static const struct mr_http_route *find_route(struct mr_http_server *srv,
                                              const struct mr_http_request *req, char *allow,
                                              size_t allow_len)
{
    static const char *const names[] = {"GET", "POST", "PATCH", "DELETE", "OPTIONS", "PUT",
                                        "HEAD", "?"};
    const struct mr_http_route *found = NULL;
    allow[0] = '\0';
    if (req->n_segments == 0)
        return NULL;
    for (unsigned i = 0; i < srv->n_routes; i++) {
        const struct mr_http_route *rt = &srv->routes[i];
        if (strcmp(rt->prefix, req->segments[0]) != 0 || req->n_segments < rt->min_segments ||
            req->n_segments > rt->max_segments)
            continue;
        if (rt->method == req->method)
            found = rt;
        size_t n = strlen(allow);
        snprintf(allow + n, allow_len - n, "%s%s", n ? ", " : "", names[rt->method]);
    }
    return found;
}

/* The methods the routes answer at req's path (a mask of
 * MR_HTTP_METHOD_BIT()s, OPTIONS included), and the media types their
 * bodies take. A path no route takes is a file's: GET and HEAD. */
static unsigned path_methods(const struct mr_http_server *srv, const struct mr_http_request *req,
                             const char **accept_post, const char **accept_patch)
{
    unsigned mask = 0;
    bool routed = false;
    *accept_post = *accept_patch = NULL;
    for (unsigned i = 0; i < srv->n_routes && req->n_segments > 0; i++) {
        const struct mr_http_route *rt = &srv->routes[i];
        if (strcmp(rt->prefix, req->segments[0]) != 0 || req->n_segments < rt->min_segments ||
            req->n_segments > rt->max_segments)
            continue;
        routed = true;
        unsigned m = rt->methods ? rt->methods(req, rt->user) : MR_HTTP_METHOD_BIT(rt->method);
        mask |= m;
        if (rt->accepts && rt->method == MR_HTTP_POST && (m & MR_HTTP_METHOD_BIT(MR_HTTP_POST)))
            *accept_post = rt->accepts;
        if (rt->accepts && rt->method == MR_HTTP_PATCH && (m & MR_HTTP_METHOD_BIT(MR_HTTP_PATCH)))
            *accept_patch = rt->accepts;
    }
    if (!routed)
        mask = MR_HTTP_METHOD_BIT(MR_HTTP_GET) | MR_HTTP_METHOD_BIT(MR_HTTP_HEAD);
    return mask | MR_HTTP_METHOD_BIT(MR_HTTP_OPTIONS);
}

/* "GET, HEAD, POST, ..." for a mask of MR_HTTP_METHOD_BIT()s. */
static void methods_text(unsigned mask, char *out, size_t cap)
{
    static const enum mr_http_method order[] = {MR_HTTP_GET,   MR_HTTP_HEAD,   MR_HTTP_POST,
                                                MR_HTTP_PUT,   MR_HTTP_PATCH,  MR_HTTP_DELETE,
                                                MR_HTTP_OPTIONS};
    static const char *const names[] = {"GET", "POST", "PATCH", "DELETE", "OPTIONS", "PUT",
                                        "HEAD"};
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && n < cap; i++)
        if (mask & MR_HTTP_METHOD_BIT(order[i]))
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", names[order[i]]);
}

/* RFC 9725 §4.6: an OPTIONS that is not a CORS preflight may get the ICE
 * servers (Link headers) from the routes of its path; a preflight never
 * does (it carries no token, and a browser does not show it to scripts). */
static void options_hooks(struct http_req *r)
{
    const struct mr_http_request *req = &r->pub;
    for (unsigned i = 0; i < r->srv->n_routes && req->n_segments > 0 && !req->cors_preflight; i++) {
        const struct mr_http_route *rt = &r->srv->routes[i];
        if (rt->options && strcmp(rt->prefix, req->segments[0]) == 0 &&
            req->n_segments >= rt->min_segments && req->n_segments <= rt->max_segments)
            rt->options(&r->pub, rt->user);
    }
}

/* OPTIONS: a CORS preflight (or a WHIP client asking what the endpoint
 * takes: RFC 9725 wants Accept-Post in the answer), answered before any route and without a token,
 * which a preflight never carries. */
static void preflight(struct http_req *r)
{
    const char *accept_post, *accept_patch;
    char methods[64];
    methods_text(path_methods(r->srv, &r->pub, &accept_post, &accept_patch), methods,
                 sizeof(methods));
    r->responded = true;
    r->status = 204;
    mr_http_add_cors(r, methods, mr_http_header_add);
    mr_http_header_add(r, "Allow", methods);
    if (accept_post)
        mr_http_header_add(r, "Accept-Post", accept_post);
    if (accept_patch)
        mr_http_header_add(r, "Accept-Patch", accept_patch);
    options_hooks(r);
    lws_callback_on_writable(r->wsi);
}

static void run_handle(struct http_req *r)
{
    r->handled = true;
    r->route->handle(&r->pub, r->route->user);
    if (!r->responded && r->wsi)
        lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, ASYNC_TIMEOUT_S);
}

/* Stages 1-3 of http.h, run when the headers are complete. */
static int start_request(struct lws *wsi, struct pss *pss)
{
    struct http_req *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->wsi = wsi;
    r->srv = lws_context_user(lws_get_context(wsi));
    pss->req = r;
    const char *why;
    int refused = read_request(wsi, r, &why);
    if (refused) {
        mr_http_respond_error(&r->pub, refused, "bad-request", why);
        r->close_after = true;
        return 0;
    }
    if (r->pub.method == MR_HTTP_OPTIONS) {
        preflight(r);
        return 0;
    }
    char allow[128];
    r->route = find_route(r->srv, &r->pub, allow, sizeof(allow));
    if (!r->route) {
        if (allow[0]) {
            struct mr_http_header h = {"Allow", allow};
            respond_error_with(&r->pub, 405, "bad-request", "method not allowed on this resource",
                               &h, 1);
        } else if (r->pub.method == MR_HTTP_GET || r->pub.method == MR_HTTP_HEAD) {
            return mr_http_serve_file(r);
        } else {
            mr_http_respond_error(&r->pub, 404, "not-found", "no such route");
        }
        r->close_after = r->close_after || r->pub.content_length > 0;
        return 0;
    }
    if (r->route->check && r->route->check(&r->pub, r->route->user) < 0) {
        r->close_after = r->close_after || r->pub.content_length != 0;
        return 0;
    }
    size_t cap = r->srv->cfg->max_body;
    if (r->route->body && r->pub.content_length > (long long)cap) {
        mr_http_respond_error(&r->pub, 413, "too-large", "the request body exceeds the limit");
        r->close_after = true;
        return 0;
    }
    r->body_cap = cap;
    /* RFC 9112 §6.3: a request with neither Content-Length nor
     * Transfer-Encoding has no body (curl -X POST sends such requests);
     * libwebsockets would never report its completion. */
    bool chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    bool expect_body = r->route->body &&
                       (r->pub.content_length > 0 ||
                        (r->pub.method == MR_HTTP_POST && (r->pub.content_length == 0 || chunked)));
    if (expect_body) {
        r->waiting_body = true;
        return 0;
    }
    run_handle(r);
    return 0;
}

static void body_complete(struct http_req *r);

static int append_body(struct http_req *r, const void *in, size_t len)
{
    if (!r->waiting_body || r->responded || len == 0)
        return 0; /* lws reports an explicitly empty POST body as (NULL, 0) */
    if (r->pub.body_len + len > r->body_cap) {
        mr_http_respond_error(&r->pub, 413, "too-large", "the request body exceeds the limit");
        r->close_after = true;
        return 0;
    }
    /* Bytes past the announced length are not this request's (a client
     * that pipelines, or libwebsockets reading on after a length it could
     * not parse): they are dropped with the connection. */
    long long cl = r->pub.content_length;
    bool full = cl >= 0 && r->pub.body_len + len >= (unsigned long long)cl;
    if (full && r->pub.body_len + len > (unsigned long long)cl) {
        len = (size_t)cl - r->pub.body_len;
        r->close_after = true;
    }
    char *b = realloc(r->pub.body, r->pub.body_len + len + 1);
    if (!b)
        return -1;
    memcpy(b + r->pub.body_len, in, len);
    r->pub.body = b;
    r->pub.body_len += len;
    b[r->pub.body_len] = '\0';
    if (full)
        body_complete(r);
    return 0;
}

static void body_complete(struct http_req *r)
{
    if (!r->waiting_body || r->responded || r->handled)
        return;
    r->waiting_body = false;
    if (!r->pub.body) {
        r->pub.body = calloc(1, 1);
        if (!r->pub.body) {
            mr_http_respond_error(&r->pub, 500, "internal", "out of memory");
            return;
        }
    }
    run_handle(r);
}

static int on_writable(struct lws *wsi, struct pss *pss)
{
    struct http_req *r = pss->req;
    if (!r || !r->responded || r->status == 0)
        return 0;
    int rc = r->file ? mr_http_file_writable(wsi, r) : write_answer(wsi, r);
    if (rc == 0 && r->file)
        return 0; /* more of the file to come */
    rc = rc < 0 ? -1 : 0;
    bool close_after = r->close_after;
    pss->req = NULL;
    free_req(r);
    if (rc < 0 || close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct pss *pss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        drop_req(pss);
        return start_request(wsi, pss);
    case LWS_CALLBACK_HTTP_BODY:
        return pss->req ? append_body(pss->req, in, len) : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss->req)
            body_complete(pss->req);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(wsi, pss);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        if (pss->req) {
            free_req(pss->req);
            pss->req = NULL;
        }
        /* A guarded connection serves one request (guard.c). */
        if (mr_http_guard_head(lws_context_user(lws_get_context(wsi)), wsi))
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return mr_http_ws_callback(wsi, reason, &pss->ws, in, len);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        mr_http_guard_attach(lws_context_user(lws_get_context(wsi)), wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        mr_http_guard_detach(lws_context_user(lws_get_context(wsi)), wsi);
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss)
            drop_req(pss);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback, sizeof(struct pss), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* WebSocket clients idle for 20 s are pinged; with no answer within 40 s
 * (a clinic's 4G link gone) the connection is dropped, and the
 * participant's state with it. */
static const lws_retry_bo_t ws_idle_policy = {
    .secs_since_valid_ping = 20,
    .secs_since_valid_hangup = 40,
};

static void lws_log(int level, const char *line)
{
    static struct mr_ratelimit rl = MR_RATELIMIT_INIT(1000000, 10);
    if (!mr_ratelimit_ok(&rl, mr_clock_mono_us()))
        return;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        mr_log_warn(HTTP, "libwebsockets: %.*s", (int)n, line);
    else
        mr_log_debug(HTTP, "libwebsockets: %.*s", (int)n, line);
}

static bool readable(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        mr_log_error(HTTP, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

int mr_http_server_new(const struct mr_config *cfg, GMainLoop *loop,
                       const struct mr_http_route *routes, unsigned n_routes,
                       struct mr_http_server **out)
{
    struct mr_http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return MR_ENOMEM;
    srv->cfg = cfg;
    srv->guards = g_hash_table_new(g_direct_hash, g_direct_equal);
    srv->routes = routes;
    srv->n_routes = n_routes;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    void *loops[] = {loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = cfg->listen_port;
    info.iface = cfg->listen_host;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_GLIB | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (strchr(cfg->listen_host, ':'))
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.user = srv;
    /* Room for an 8 KiB head as libwebsockets stores it (the guard and
     * read_framing refuse larger ones with 431). */
    info.max_http_header_data = 16384;
    info.timeout_secs = 10;
    info.retry_and_idle_policy = &ws_idle_policy;
    if (cfg->tls_cert[0]) {
        /* HTTPS and WSS only, TLS 1.2 or later. */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
        info.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
    }
    info.keepalive_timeout = 30;
    if (cfg->tls_cert[0] && (!readable(cfg->tls_cert) || !readable(cfg->tls_key))) {
        g_hash_table_destroy(srv->guards);
        free(srv);
        return MR_EIO;
    }
    srv->ctx = lws_create_context(&info);
    if (!srv->ctx) {
        if (cfg->tls_cert[0])
            mr_log_error(HTTP, "cannot use the TLS certificate %s with the key %s (see the "
                               "libwebsockets message above)", cfg->tls_cert, cfg->tls_key);
        g_hash_table_destroy(srv->guards);
        free(srv);
        return MR_EIO;
    }
    *out = srv;
    return 0;
}

void mr_http_server_free(struct mr_http_server *srv)
{
    if (!srv)
        return;
    lws_context_destroy(srv->ctx);
    g_hash_table_destroy(srv->guards);
    free(srv);
}
