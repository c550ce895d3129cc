/* Internal to signaling/http. */
#ifndef MR_HTTP_PRIV_H
#define MR_HTTP_PRIV_H

#include <libwebsockets.h>

#include "http/head.h"
#include "http/http.h"
#include "http/ws.h"

struct mr_http_server {
    const struct mr_config *cfg;
    struct lws_context *ctx;
    const struct mr_http_route *routes;
    unsigned n_routes;
    const struct mr_ws_handler *ws;    /* NULL: no WebSocket endpoint */
    GHashTable *guards;                /* struct lws * -> struct http_guard * */
};

/* The server's view of a request; the public part comes first. */
struct http_req {
    struct mr_http_request pub;
    struct lws *wsi;                   /* NULL once the connection closed */
    char *auth_buf;                    /* pub.authorization when present */
    struct mr_http_server *srv;
    const struct mr_http_route *route;
    bool waiting_body;
    bool handled;
    bool responded;
    bool close_after;                  /* close once answered (body not read,
                                          framing in doubt, guarded) */
    size_t body_cap;
    /* The answer, kept until the socket is writable. */
    int status;
    char content_type[96];
    char *resp_body;
    size_t resp_len;
    char *resp_headers;                /* "name\0value\0" pairs */
    size_t resp_headers_len;
    void (*cancel)(void *user);
    void *cancel_user;
    struct http_file *file;            /* a file answer (file_answer.c); NULL */
};

/* guard.c: checks a plain-HTTP connection's request head before
 * libwebsockets reads it (see there). attach on accept, detach when the
 * connection is destroyed. */
void mr_http_guard_attach(struct mr_http_server *srv, struct lws *wsi);
void mr_http_guard_detach(struct mr_http_server *srv, struct lws *wsi);
/* The checked head of wsi's request: its framing and path as the client
 * sent them (path NUL-terminated); NULL when the connection is not guarded
 * (TLS). */
const struct mr_http_head *mr_http_guard_head(struct mr_http_server *srv, struct lws *wsi);

/* cors.c: adds CORS response headers for r (through add) when its Origin
 * is allowed: on every answer the origin and the headers scripts may read;
 * on a preflight (methods: what the path answers, "GET, HEAD, OPTIONS")
 * also the methods and request headers allowed. */
void mr_http_add_cors(const struct http_req *r, const char *methods,
                      void (*add)(struct http_req *, const char *, const char *));

/* files.c: serves a file under [server] web_root for GET/HEAD; returns 0
 * when lws took over, or answers with an error itself. */
int mr_http_serve_file(struct http_req *r);

/* file_answer.c: a file answer being written. */
struct http_file {
    int fd;
    uint64_t off;                      /* next byte to send */
    uint64_t remaining;                /* bytes of the body still to send */
    uint64_t length;                   /* Content-Length */
    bool head_sent;
};

/* Writes the next part of r's file answer (the head first). Returns 1 when
 * the answer is complete, 0 when more is to come (writable was requested
 * again), -1 when the connection must be closed. */
int mr_http_file_writable(struct lws *wsi, struct http_req *r);
void mr_http_file_free(struct http_file *f);

/* ws.c: the WebSocket reasons of the server's callback; slot is the
 * connection's per-session pointer. */
int mr_http_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
                        struct mr_ws_conn **slot, void *in, size_t len);

/* server.c */
void mr_http_header_add(struct http_req *r, const char *name, const char *value);

/* Writes r's status line and headers, with Content-Length: content_length
 * (none for 204/304), and finalizes the head. Returns 0 or -1. */
int mr_http_write_head(struct lws *wsi, struct http_req *r, uint64_t content_length);

#endif
