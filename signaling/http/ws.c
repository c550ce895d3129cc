/* WebSocket connections: fragments in, a bounded queue out (see ws.h). */
#include "http/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "http/http_priv.h"

struct ws_msg {
    struct ws_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of head room, then the text */
};

struct mr_ws_conn {
    struct lws *wsi;
    struct mr_http_server *srv;
    void *user;               /* the handler's, from open() */
    /* Incoming message being assembled. */
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_too_large;
    /* Outgoing queue. */
    struct ws_msg *head, *tail;
    size_t queued;
    bool closing;             /* close after the queue drains */
    int close_code;
    char close_reason[64];
};

size_t mr_ws_queued(const struct mr_ws_conn *c)
{
    return c->queued;
}

static void free_queue(struct mr_ws_conn *c)
{
    while (c->head) {
        struct ws_msg *m = c->head;
        c->head = m->next;
        free(m);
    }
    c->tail = NULL;
    c->queued = 0;
}

void mr_ws_close(struct mr_ws_conn *c, int code, const char *reason)
{
    if (c->closing)
        return;
    c->closing = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason ? reason : "");
    lws_callback_on_writable(c->wsi);
}

int mr_ws_send(struct mr_ws_conn *c, const char *text, size_t len)
{
    if (c->closing)
        return MR_ESTATE;
    if (c->queued + len > c->srv->cfg->ws_max_queue) {
        /* The client does not read: dropping what it has not read and the
         * connection bounds what it costs us. It can reconnect and get the
         * room's state afresh. */
        mr_log_warn(HTTP, "websocket client too slow (%zu bytes queued); disconnecting",
                    c->queued);
        free_queue(c);
        mr_ws_close(c, 1008, "too slow: messages not read");
        return MR_ELIMIT;
    }
    struct ws_msg *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m)
        return MR_ENOMEM;
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    c->queued += len;
    lws_callback_on_writable(c->wsi);
    return 0;
}

static int ws_open(struct lws *wsi, struct mr_http_server *srv, struct mr_ws_conn **slot)
{
    const struct mr_ws_handler *h = srv->ws;
    struct mr_ws_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    c->wsi = wsi;
    c->srv = srv;
    char addr[64] = "";
    if (!lws_get_peer_simple(wsi, addr, sizeof(addr)))
        addr[0] = '\0';
    *slot = c;
    c->user = h->open(c, addr, h->user);
    if (!c->user) {
        c->closing = true;
        c->close_code = 1013;
        snprintf(c->close_reason, sizeof(c->close_reason), "server busy");
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static void deliver(struct mr_ws_conn *c, bool binary)
{
    const struct mr_ws_handler *h = c->srv->ws;
    if (c->rx_too_large)
        h->message(c->user, NULL, c->rx_len, binary, true);
    else
        h->message(c->user, c->rx ? c->rx : "", c->rx_len, binary, false);
    c->rx_len = 0;
    c->rx_too_large = false;
}

static int ws_receive(struct lws *wsi, struct mr_ws_conn *c, const void *in, size_t len)
{
    if (!c->user || c->closing)
        return 0;
    size_t cap = c->srv->cfg->ws_max_message;
    if (lws_is_first_fragment(wsi)) {
        c->rx_len = 0;
        c->rx_too_large = false;
    }
    if (!c->rx_too_large && c->rx_len + len > cap) {
        /* Keep counting, drop the bytes: the answer names the size. */
        c->rx_too_large = true;
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
    if (!c->rx_too_large) {
        if (c->rx_len + len + 1 > c->rx_cap) {
            size_t ncap = c->rx_cap ? c->rx_cap : 4096;
            while (ncap < c->rx_len + len + 1)
                ncap *= 2;
            char *n = realloc(c->rx, ncap);
            if (!n)
                return -1;
            c->rx = n;
            c->rx_cap = ncap;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx[c->rx_len + len] = '\0';
    }
    c->rx_len += len;
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
        deliver(c, lws_frame_is_binary(wsi) != 0);
    return 0;
}

static int ws_writable(struct lws *wsi, struct mr_ws_conn *c)
{
    struct ws_msg *m = c->head;
    if (m) {
        int n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
        if (n < (int)m->len)
            return -1;
        c->head = m->next;
        if (!c->head)
            c->tail = NULL;
        c->queued -= m->len;
        free(m);
        if (c->head || c->closing)
            lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->closing) {
        lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    return 0;
}

static void ws_closed(struct mr_ws_conn **slot)
{
    struct mr_ws_conn *c = *slot;
    if (!c)
        return;
    *slot = NULL;
    if (c->user)
        c->srv->ws->closed(c->user);
    free_queue(c);
    free(c->rx);
    free(c);
}

/* Only upgrades on the handler's path are accepted: the path as the
 * client sent it when the guard saw it, not one libwebsockets normalised
 * ("/whip/../ws"). */
static int ws_filter(struct lws *wsi, struct mr_http_server *srv)
{
    char uri[256];
    const struct mr_http_head *h = mr_http_guard_head(srv, wsi);
    if (!srv->ws || (h && strcmp(h->path, srv->ws->path) != 0))
        return -1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof(uri) ||
        lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
        return -1;
    return strcmp(uri, srv->ws->path) == 0 ? 0 : -1;
}

int mr_http_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
                        struct mr_ws_conn **slot, void *in, size_t len)
{
    struct mr_http_server *srv = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return ws_filter(wsi, srv);
    case LWS_CALLBACK_ESTABLISHED:
        return ws_open(wsi, srv, slot);
    case LWS_CALLBACK_RECEIVE:
        return *slot ? ws_receive(wsi, *slot, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return *slot ? ws_writable(wsi, *slot) : -1;
    case LWS_CALLBACK_CLOSED:
        ws_closed(slot);
        return 0;
    default:
        return 0;
    }
}

void mr_http_server_set_ws(struct mr_http_server *srv, const struct mr_ws_handler *h)
{
    srv->ws = h;
}
