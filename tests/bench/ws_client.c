/* A small blocking WebSocket client (RFC 6455) for the Janus target. */
#include "ws_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"

#define MAX_MESSAGE (1u << 20)

/* RFC 6455 §5.2 opcodes. */
enum {
    OP_CONT = 0x0,
    OP_TEXT = 0x1,
    OP_BINARY = 0x2,
    OP_CLOSE = 0x8,
    OP_PING = 0x9,
    OP_PONG = 0xa
};

static int wait_fd(int fd, short events, int64_t deadline_us)
{
    int64_t left = (deadline_us - mr_clock_mono_us()) / 1000;
    struct pollfd p = {.fd = fd, .events = events};
    if (left <= 0)
        return MR_EAGAIN;
    int n = poll(&p, 1, (int)left);
    return n > 0 ? 0 : n == 0 ? MR_EAGAIN : MR_EIO;
}

static int write_all(int fd, const uint8_t *buf, size_t len, int64_t deadline_us)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            int rc = wait_fd(fd, POLLOUT, deadline_us);
            if (rc < 0)
                return MR_EIO;
            continue;
        }
        if (n <= 0)
            return MR_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads more bytes into ws->buf. */
static int fill(struct mr_bench_ws *ws, int64_t deadline_us)
{
    if (ws->cap - ws->len < 4096) {
        size_t cap = ws->cap ? ws->cap * 2 : 16384;
        if (cap > 4 * MAX_MESSAGE)
            return MR_EIO;
        uint8_t *b = realloc(ws->buf, cap);
        if (!b)
            return MR_ENOMEM;
        ws->buf = b;
        ws->cap = cap;
    }
    for (;;) {
        ssize_t n = recv(ws->fd, ws->buf + ws->len, ws->cap - ws->len, MSG_DONTWAIT);
        if (n > 0) {
            ws->len += (size_t)n;
            return 0;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return MR_EIO;
        int rc = wait_fd(ws->fd, POLLIN, deadline_us);
        if (rc < 0)
            return rc;
    }
}

static void consume(struct mr_bench_ws *ws, size_t n)
{
    memmove(ws->buf, ws->buf + n, ws->len - n);
    ws->len -= n;
}

int mr_bench_ws_connect(struct mr_bench_ws *ws, const char *host, uint16_t port, const char *path,
                        const char *protocol, int timeout_ms, char *err, size_t err_len)
{
    memset(ws, 0, sizeof(*ws));
    int64_t deadline = mr_clock_mono_us() + (int64_t)timeout_ms * 1000;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, err_len, "not an IPv4 address: %s", host);
        ws->fd = -1;
        return MR_EIO;
    }
    ws->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ws->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (ws->fd < 0 || (connect(ws->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
                       (errno != EINPROGRESS || wait_fd(ws->fd, POLLOUT, deadline) < 0)))
        goto fail;
    int so_err = 0;
    socklen_t sl = sizeof(so_err);
    if (getsockopt(ws->fd, SOL_SOCKET, SO_ERROR, &so_err, &sl) < 0 || so_err)
        goto fail;
    uint8_t nonce[16];
    mr_random_bytes(nonce, sizeof(nonce));
    gchar *key = g_base64_encode(nonce, sizeof(nonce));
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
                     path, host, port, key, protocol);
    g_free(key);
    if (write_all(ws->fd, (const uint8_t *)req, (size_t)n, deadline) < 0)
        goto fail;
    /* The response head ends with an empty line; anything after it is
     * already WebSocket data. */
    char *end = NULL;
    while (!end) {
        if (fill(ws, deadline) < 0)
            goto fail;
        end = g_strstr_len((const char *)ws->buf, (gssize)ws->len, "\r\n\r\n");
    }
    if (ws->len < 12 || memcmp(ws->buf, "HTTP/1.1 101", 12) != 0) {
        snprintf(err, err_len, "no WebSocket upgrade: %.40s", (const char *)ws->buf);
        mr_bench_ws_close(ws);
        return MR_EIO;
    }
    consume(ws, (size_t)(end + 4 - (char *)ws->buf));
    return 0;

fail:
    snprintf(err, err_len, "cannot connect to ws://%s:%u%s: %s", host, port, path, strerror(errno));
    mr_bench_ws_close(ws);
    return MR_EIO;
}

/* One frame, masked (RFC 6455 §5.3: every client frame is). */
static int send_frame(struct mr_bench_ws *ws, int op, const uint8_t *data, size_t len,
                      int64_t deadline)
{
    uint8_t head[14];
    size_t h = 0;
    head[h++] = (uint8_t)(0x80 | op);
    if (len < 126) {
        head[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        head[h++] = 0x80 | 126;
        head[h++] = (uint8_t)(len >> 8);
        head[h++] = (uint8_t)len;
    } else {
        head[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            head[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t mask[4];
    mr_random_bytes(mask, sizeof(mask));
    memcpy(head + h, mask, 4);
    h += 4;
    uint8_t *frame = malloc(h + len);
    if (!frame)
        return MR_ENOMEM;
    memcpy(frame, head, h);
    for (size_t i = 0; i < len; i++)
        frame[h + i] = data[i] ^ mask[i % 4];
    int rc = write_all(ws->fd, frame, h + len, deadline);
    free(frame);
    return rc;
}

int mr_bench_ws_send(struct mr_bench_ws *ws, const char *text, size_t len, int timeout_ms)
{
    if (ws->fd < 0)
        return MR_EIO;
    return send_frame(ws, OP_TEXT, (const uint8_t *)text, len,
                      mr_clock_mono_us() + (int64_t)timeout_ms * 1000);
}

/* Parses one whole frame at the head of the buffer, if there is one. */
static bool frame_ready(const struct mr_bench_ws *ws, int *op, bool *fin, size_t *off,
                        uint64_t *plen)
{
    if (ws->len < 2)
        return false;
    *fin = ws->buf[0] & 0x80;
    *op = ws->buf[0] & 0x0f;
    uint64_t len = ws->buf[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
        if (ws->len < 4)
            return false;
        len = (uint64_t)ws->buf[2] << 8 | ws->buf[3];
        h = 4;
    } else if (len == 127) {
        if (ws->len < 10)
            return false;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | ws->buf[2 + i];
        h = 10;
    }
    if (ws->buf[1] & 0x80)
        h += 4; /* a server must not mask, but skip a mask if it does */
    *off = h;
    *plen = len;
    return ws->len >= h + len;
}

int mr_bench_ws_recv(struct mr_bench_ws *ws, char **out, int timeout_ms)
{
    int64_t deadline = mr_clock_mono_us() + (int64_t)timeout_ms * 1000;
    GString *msg = g_string_new(NULL);
    int rc = 0;
    for (;;) {
        int op;
        bool fin;
        size_t off;
        uint64_t len;
        while (ws->fd >= 0 && !frame_ready(ws, &op, &fin, &off, &len)) {
            if (ws->len > 10 && len > MAX_MESSAGE)
                rc = MR_EIO;
            if (rc < 0 || (rc = fill(ws, deadline)) < 0)
                goto done;
        }
        if (ws->fd < 0) {
            rc = MR_EIO;
            goto done;
        }
        const char *payload = (const char *)ws->buf + off;
        if (op == OP_PING) {
            send_frame(ws, OP_PONG, (const uint8_t *)payload, len, deadline);
        } else if (op == OP_CLOSE) {
            rc = MR_EIO;
            goto done;
        } else if (op == OP_TEXT || op == OP_BINARY || op == OP_CONT) {
            g_string_append_len(msg, payload, (gssize)len);
            if (fin) {
                consume(ws, off + len);
                rc = (int)msg->len;
                *out = g_string_free(msg, FALSE);
                return rc;
            }
        }
        consume(ws, off + len);
    }
done:
    g_string_free(msg, TRUE);
    return rc;
}

void mr_bench_ws_close(struct mr_bench_ws *ws)
{
    if (ws->fd >= 0)
        close(ws->fd);
    ws->fd = -1;
    free(ws->buf);
    ws->buf = NULL;
    ws->len = ws->cap = 0;
}
