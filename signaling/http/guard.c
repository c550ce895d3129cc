/*
 * The head guard: on a plain-HTTP connection, the request head is checked
 * as bytes (http/head.h) before libwebsockets reads it, so that the answers
 * libwebsockets 4.1 cannot give (431 for a head over 8 KiB, 400 for "%00"
 * in the target or for conflicting Content-Length: it drops such
 * connections without a word, or reads the first of two lengths) are given.
 *
 * How: when a connection is accepted, libwebsockets' reading is paused
 * (lws_rx_flow_control) and the guard watches the socket itself. It peeks
 * (MSG_PEEK) at what has arrived, so nothing is consumed; while the head
 * is incomplete it sets SO_RCVLOWAT one byte past what it has seen, so the
 * socket turns readable again only when more arrives (no busy loop on a
 * slow client; libwebsockets' own timeout still closes one that never
 * finishes). A good head lets libwebsockets go on with the very same
 * bytes. A bad one is answered here, the write side shut, what the client
 * still sends read and dropped for a moment (closing a socket with unread
 * data would reset the connection and could destroy the answer in the
 * client's buffer), and the connection then closed.
 *
 * Routing on a guarded connection follows the path as sent, split at its
 * '/' only (an encoded "%2F" stays inside its segment, as RFC 3986 §2.2
 * says), not libwebsockets' decoded and re-normalised one, so that what a
 * proxy in front matched on ("/whip/...") is what is served.
 *
 * TLS connections are not guarded (the head is only visible after
 * decryption inside libwebsockets): there, a head beyond libwebsockets'
 * buffer is still dropped without an answer. Guarded connections close
 * after one answer, because a second request on the same connection could
 * already sit in libwebsockets' buffer, out of the guard's sight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib-unix.h>

#include "core/clock.h"
#include "core/log.h"
#include "http/http_priv.h"

/* How long a refused client may go on sending before the close. */
#define LINGER_US (2 * G_USEC_PER_SEC)
#define LINGER_MAX_BYTES (1 << 20)

enum guard_state { GUARD_CHECKING, GUARD_PASSED, GUARD_REFUSING };

struct http_guard {
    struct mr_http_server *srv;
    struct lws *wsi;
    int fd;
    guint watch;
    guint timer;
    enum guard_state state;
    struct mr_http_head head;
    char path[MR_HTTP_TARGET_MAX + 1]; /* the target's path as sent */
    size_t seen;       /* bytes of an incomplete head peeked last time */
    size_t drained;
};

static void set_lowat(int fd, int bytes)
{
    /* Linux honours SO_RCVLOWAT in poll for TCP; where it would not, the
     * watch merely fires more often. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof(bytes));
}

static void stop_sources(struct http_guard *g)
{
    if (g->watch)
        g_source_remove(g->watch);
    if (g->timer)
        g_source_remove(g->timer);
    g->watch = g->timer = 0;
}

/* Closes now (libwebsockets' asynchronous kill of a connection whose
 * reading is paused leaves its event loop spinning). */
static void kill_connection(struct http_guard *g)
{
    stop_sources(g);
    lws_set_timeout(g->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static gboolean linger_over(gpointer data)
{
    struct http_guard *g = data;
    g->timer = 0;
    kill_connection(g);
    return G_SOURCE_REMOVE;
}

/* The answer is tiny and the socket fresh, so one send takes it whole. */
static void answer(struct http_guard *g, enum mr_http_head_verdict v)
{
    int status = v == MR_HTTP_HEAD_TOO_LARGE ? 431 : v == MR_HTTP_HEAD_URI_TOO_LONG ? 414 : 400;
    const char *reason = status == 431   ? "Request Header Fields Too Large"
                         : status == 414 ? "URI Too Long"
                                         : "Bad Request";
    char body[256], msg[512];
    int blen = snprintf(body, sizeof(body), "{\"error\":\"bad-request\",\"detail\":\"%s\"}",
                        g->head.why);
    int n = snprintf(msg, sizeof(msg),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, reason, blen, body);
    if (send(g->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
        mr_log_debug(HTTP, "a refused request's answer could not be sent whole");
    shutdown(g->fd, SHUT_WR);
    mr_log_info(HTTP, "refused a request head with %d: %s", status, g->head.why);
}

static void pass(struct http_guard *g)
{
    stop_sources(g);
    set_lowat(g->fd, 1);
    g->state = GUARD_PASSED;
    lws_rx_flow_control(g->wsi, 1);
}

/* Reads and drops what a refused client still sends; closes at its end. */
static gboolean drain(struct http_guard *g)
{
    char scratch[16384];
    ssize_t n = recv(g->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    g->drained += n > 0 ? (size_t)n : 0;
    if (n <= 0 || g->drained > LINGER_MAX_BYTES) {
        g->watch = 0;
        kill_connection(g);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean readable(gint fd, GIOCondition cond, gpointer data)
{
    struct http_guard *g = data;
    (void)cond;
    if (g->state == GUARD_REFUSING)
        return drain(g);
    char buf[MR_HTTP_HEAD_MAX + 1];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    /* Nothing new since the last look (SO_RCVLOWAT asked for more): the
     * client closed after part of a head, or the socket failed. Either
     * way libwebsockets finds out and cleans up as it always does. */
    if (n <= 0 || (size_t)n <= g->seen) {
        g->watch = 0;
        pass(g);
        return G_SOURCE_REMOVE;
    }
    enum mr_http_head_verdict v = mr_http_head_check(buf, (size_t)n, &g->head);
    if (v == MR_HTTP_HEAD_PARTIAL) {
        g->seen = (size_t)n;
        set_lowat(fd, (int)n + 1);
        return G_SOURCE_CONTINUE;
    }
    if (v == MR_HTTP_HEAD_OK) {
        /* head.path points into buf: keep a copy (the check limits it). */
        size_t plen = g->head.path_len < sizeof(g->path) ? g->head.path_len : sizeof(g->path) - 1;
        memcpy(g->path, g->head.path, plen);
        g->path[plen] = '\0';
        g->head.path = g->path;
        g->head.path_len = plen;
        g->watch = 0;
        pass(g);
        return G_SOURCE_REMOVE;
    }
    g->state = GUARD_REFUSING;
    set_lowat(fd, 1);
    answer(g, v);
    g->timer = g_timeout_add(LINGER_US / 1000, linger_over, g);
    return G_SOURCE_CONTINUE;
}

void mr_http_guard_attach(struct mr_http_server *srv, struct lws *wsi)
{
    if (lws_is_ssl(wsi))
        return;
    int fd = (int)lws_get_socket_fd(wsi);
    struct http_guard *g = calloc(1, sizeof(*g));
    if (fd < 0 || !g) {
        free(g);
        return; /* unguarded: libwebsockets alone, as before */
    }
    g->srv = srv;
    g->wsi = wsi;
    g->fd = fd;
    g->state = GUARD_CHECKING;
    g_hash_table_insert(srv->guards, wsi, g);
    lws_rx_flow_control(wsi, 0);
    g->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, readable, g);
}

void mr_http_guard_detach(struct mr_http_server *srv, struct lws *wsi)
{
    struct http_guard *g = g_hash_table_lookup(srv->guards, wsi);
    if (!g)
        return;
    stop_sources(g);
    g_hash_table_remove(srv->guards, wsi);
    free(g);
}

const struct mr_http_head *mr_http_guard_head(struct mr_http_server *srv, struct lws *wsi)
{
    struct http_guard *g = g_hash_table_lookup(srv->guards, wsi);
    return g && g->state == GUARD_PASSED ? &g->head : NULL;
}
