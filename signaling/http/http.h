/*
 * The HTTP server: libwebsockets on the control thread's GLib loop.
 *
 * Routes are registered by the modules that implement them (WHIP/WHEP, the
 * API); this module knows nothing about media. A request passes through
 * stages in the order the contract fixes for its answers:
 *   1. route: first path segment, segment count and method (404 / 405);
 *   2. the route's check(): names, token, content type (400, 401, 403, 415);
 *   3. the body-size cap (413), from Content-Length or while reading;
 *   4. the route's handle(): body and state (400, 404, 409, ...).
 * Any stage may answer; the first answer wins. handle() may answer later,
 * asynchronously, unless the client goes away first (then the request's
 * cancel hook runs and the request must not be touched again).
 * OPTIONS (a CORS preflight, or a WHIP client asking) is answered by the
 * server itself, before any route: 204 with the methods the routes for
 * that path answer (cors.c), and for a request that is not a preflight
 * whatever the routes' options hooks add (WHIP's ICE servers).
 */
#ifndef MR_HTTP_HTTP_H
#define MR_HTTP_HTTP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define MR_HTTP_MAX_SEGMENTS 8
#define MR_HTTP_SEGMENT_MAX 128

enum mr_http_method {
    MR_HTTP_GET,
    MR_HTTP_POST,
    MR_HTTP_PATCH,
    MR_HTTP_DELETE,
    MR_HTTP_OPTIONS,
    MR_HTTP_PUT,
    MR_HTTP_HEAD,
    MR_HTTP_OTHER,
};

/* A request as handlers see it. Strings are "" when a header is absent. */
struct mr_http_request {
    enum mr_http_method method;
    char path[1024];              /* as sent (percent-encoded) on a plain
                                     connection; decoded by libwebsockets
                                     under TLS */
    unsigned n_segments;
    char segments[MR_HTTP_MAX_SEGMENTS][MR_HTTP_SEGMENT_MAX];
    bool bad_path;                /* a segment was empty, too long or too many */
    char query[1024];             /* the query's arguments, percent-decoded by
                                     libwebsockets, joined by '&'; "" */
    const char *authorization;    /* the whole header, however long; "" */
    char content_type[256];
    char range[256];              /* Range (RFC 9110 §14.2); "" also when longer */
    char origin[256];
    char peer_addr[64];           /* the client's IP address */
    bool proxied;                 /* Forwarded, X-Forwarded-For, X-Real-IP or
                                     Via: it came through a proxy */
    bool cors_preflight;          /* OPTIONS with Access-Control-Request-Method:
                                     a browser's CORS preflight */
    long long content_length;     /* -1 when absent */
    char *body;                   /* NUL-terminated; NULL before the body */
    size_t body_len;
    void *route_data;             /* for the route's own use */
};

struct mr_http_header {
    const char *name;             /* without the colon */
    const char *value;
};

typedef int (*mr_http_check_fn)(struct mr_http_request *req, void *user);
typedef void (*mr_http_handle_fn)(struct mr_http_request *req, void *user);

struct mr_http_route {
    enum mr_http_method method;
    const char *prefix;           /* first path segment, e.g. "whip" */
    unsigned min_segments;        /* counting the prefix */
    unsigned max_segments;
    bool body;                    /* reads a body (capped by [server] max_body) */
    /* Header stage: return 0 to go on, or answer and return MR_EAGAIN. */
    mr_http_check_fn check;
    /* Body stage: must answer, now or later (or set a cancel hook). */
    mr_http_handle_fn handle;
    void *user;
    /* For OPTIONS (a CORS preflight; RFC 9725 also asks WHIP endpoints to
     * announce Accept-Post there), both optional.
     * methods: the methods the resource at req's path answers, as a mask
     * of MR_HTTP_METHOD_BIT()s, when that depends on more than the prefix
     * and the segment count (the API's endpoints; 0: none here). NULL: this
     * route's method.
     * accepts: the media type the body takes, announced as Accept-Post
     * (POST) or Accept-Patch (PATCH, RFC 5789 §3.1). NULL: none. */
    unsigned (*methods)(const struct mr_http_request *req, void *user);
    const char *accepts;
    /* For OPTIONS that is not a CORS preflight (a WHIP client asking, RFC
     * 9725 §4.6), optional: may add headers to the 204 the server writes,
     * with mr_http_add_header. It cannot change the status or answer. */
    void (*options)(struct mr_http_request *req, void *user);
};

#define MR_HTTP_METHOD_BIT(m) (1u << (m))

struct mr_http_server;

/* Starts listening on cfg's listen address. loop is the control thread's
 * main loop. routes is borrowed for the server's lifetime. Returns 0 or
 * MR_EIO (cannot listen) / MR_ENOMEM. */
int mr_http_server_new(const struct mr_config *cfg, GMainLoop *loop,
                       const struct mr_http_route *routes, unsigned n_routes,
                       struct mr_http_server **out);
void mr_http_server_free(struct mr_http_server *srv);

/* Accepts WebSocket upgrades on h->path (see http/ws.h); h is borrowed for
 * the server's lifetime. Call before the loop runs. */
struct mr_ws_handler;
void mr_http_server_set_ws(struct mr_http_server *srv, const struct mr_ws_handler *h);

/*
 * Answers a request. body may be NULL; headers (n of them) are added to the
 * CORS and content headers. After this call the request belongs to the
 * server again. Safe to call once; later calls are ignored.
 */
void mr_http_respond(struct mr_http_request *req, int status, const char *content_type,
                     const char *body, size_t len, const struct mr_http_header *headers,
                     unsigned n_headers);

/* Adds a header to the answer the server writes itself for an OPTIONS
 * request; for a route's options hook only (other answers take their
 * headers in mr_http_respond). */
void mr_http_add_header(struct mr_http_request *req, const char *name, const char *value);

/* Answers with {"error": code, "detail": detail} and the given status. */
void mr_http_respond_error(struct mr_http_request *req, int status, const char *code,
                           const char *detail);

/* Answers with the contract's status and code for an MR_E* failure (the
 * one table of http/error_code.h), and detail, or mr_strerror(err) when
 * detail is NULL or "". */
void mr_http_respond_err(struct mr_http_request *req, int err, const char *detail);

/*
 * Answers with the first `size` bytes of an open file: the whole (200), or
 * the one range the request's Range header asks for (206, Content-Range),
 * or 416 with Content-Range "bytes * /size" when no range is satisfiable
 * (see http/range.h). Accept-Ranges: bytes is always sent; a HEAD request
 * gets the same headers without the body. The body is read and written in
 * chunks as the socket becomes writable, so a recording is never held in
 * memory, and `size` is a snapshot: a file that grows meanwhile is served
 * up to that size. fd is transferred (closed by the server, also on
 * failure); headers as for mr_http_respond. Returns the status chosen.
 */
int mr_http_respond_file(struct mr_http_request *req, int fd, uint64_t size,
                         const char *content_type, const struct mr_http_header *headers,
                         unsigned n_headers);

/* Copies the value of the query argument `name` (the first occurrence)
 * into out. Returns its length, -1 when absent, MR_ENOSPC when too long. */
int mr_http_query_arg(const struct mr_http_request *req, const char *name, char *out,
                      size_t cap);

/* Runs cancel(user) if the client goes away before the answer. */
void mr_http_set_cancel(struct mr_http_request *req, void (*cancel)(void *user), void *user);

/* True when the request came from a client on this host: the loopback
 * interface, and no proxy header. A proxy on the same host (a TLS
 * terminator) connects from loopback for every client it serves, so a
 * request that names a proxy hop is never local, whatever its address. */
bool mr_http_from_loopback(const struct mr_http_request *req);

/*
 * Refuses a protected action: answers 401 unauthorized or 403 forbidden
 * (status) with detail, as mr_http_respond_error, and writes the refusal to
 * the audit trail (core/audit.h) with the client's address, the method and
 * path, the room the request named (NULL when none), and who asked when
 * the token was authentic (sub and role; sub NULL or "" when not).
 */
void mr_http_refuse(struct mr_http_request *req, int status, const char *detail, const char *room,
                    const char *sub, const char *role);

/* True when the media type of req (ignoring parameters and case) is type. */
bool mr_http_content_type_is(const struct mr_http_request *req, const char *type);

#endif
