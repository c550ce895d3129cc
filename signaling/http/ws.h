/*
 * WebSocket connections (RFC 6455) on the HTTP server's port, for the room
 * protocol. This module only moves text messages: it assembles fragments
 * up to a size cap, queues outgoing messages up to a byte cap, pings idle
 * clients, and reports open, message and close to one handler. It knows
 * nothing about JSON or rooms.
 *
 * All calls and callbacks happen on the control thread.
 */
#ifndef MR_HTTP_WS_H
#define MR_HTTP_WS_H

#include <stdbool.h>
#include <stddef.h>

struct mr_ws_conn;

struct mr_ws_handler {
    const char *path;         /* the one path upgrades are accepted on, "/ws" */
    /* A client connected; peer_addr is its IP address. Returns the
     * connection's user data, or NULL to refuse (the server then closes
     * the connection with 1013, "try again later"). */
    void *(*open)(struct mr_ws_conn *c, const char *peer_addr, void *user);
    /* A whole text or binary message (binary ones are passed with
     * binary = true so the handler can refuse them). A message over
     * [rooms] ws_max_message arrives as (NULL, its size so far,
     * too_large = true), once, and its bytes are dropped. */
    void (*message)(void *conn_user, const char *data, size_t len, bool binary,
                    bool too_large);
    /* The connection is gone (either side closed it, or it was dropped).
     * The mr_ws_conn is invalid after this returns. */
    void (*closed)(void *conn_user);
    void *user;
};

/*
 * Queues a text message. Returns 0, or MR_ELIMIT when the client's queue
 * would pass [rooms] ws_max_queue: the client does not keep up, so the
 * message is dropped and the connection is closed (1008) — the handler's
 * closed() follows later. MR_ESTATE after the connection began closing.
 */
int mr_ws_send(struct mr_ws_conn *c, const char *text, size_t len);

/* Closes the connection after what is queued is sent, with a close code
 * (1000 normal, 1008 policy) and a short reason. closed() follows later. */
void mr_ws_close(struct mr_ws_conn *c, int code, const char *reason);

/* Bytes queued for the client now (for tests and metrics). */
size_t mr_ws_queued(const struct mr_ws_conn *c);

#endif
