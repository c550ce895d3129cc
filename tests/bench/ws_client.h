/*
 * A small blocking WebSocket client (RFC 6455) for the benchmark's Janus
 * target: one connection to a numeric IPv4 address, a subprotocol, whole
 * text messages in and out (client frames masked, fragments joined, pings
 * answered, no extensions). Every call has a deadline. Not a general client.
 */
#ifndef MR_BENCH_WS_CLIENT_H
#define MR_BENCH_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct mr_bench_ws {
    int fd;       /* -1 when closed */
    uint8_t *buf; /* bytes read and not yet consumed */
    size_t len, cap;
};

/* Connects to ws://host:port/path with Sec-WebSocket-Protocol `protocol`.
 * Returns 0, or MR_EIO with a reason in err. */
int mr_bench_ws_connect(struct mr_bench_ws *ws, const char *host, uint16_t port, const char *path,
                        const char *protocol, int timeout_ms, char *err, size_t err_len);

/* Sends one text message. Returns 0 or MR_EIO. */
int mr_bench_ws_send(struct mr_bench_ws *ws, const char *text, size_t len, int timeout_ms);

/* Reads the next whole text message into *out (NUL-terminated; g_free it).
 * Returns its length, MR_EAGAIN on timeout, or MR_EIO (closed, bad frame). */
int mr_bench_ws_recv(struct mr_bench_ws *ws, char **out, int timeout_ms);

/* Closes the connection (no closing handshake) and frees the buffer. */
void mr_bench_ws_close(struct mr_bench_ws *ws);

#endif
