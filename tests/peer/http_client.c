/* A blocking HTTP/1.1 client over one TCP connection per request. */
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"

#define RESPONSE_MAX (256 * 1024)

/* Waits until fd is ready for events or the deadline passes: 1, 0 on
 * timeout, -1 on error. */
static int wait_fd(int fd, short events, int64_t deadline_us)
{
    for (;;) {
        int64_t left = deadline_us - mr_clock_mono_us();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int rc = poll(&pfd, 1, (int)((left + 999) / 1000));
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_to(const char *host, uint16_t port, int64_t deadline, char *err, size_t elen)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, elen, "%s is not a numeric IPv4 address", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, elen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        snprintf(err, elen, "connect %s:%u: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    if (wait_fd(fd, POLLOUT, deadline) <= 0 ||
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
        snprintf(err, elen, "connect %s:%u: %s", host, port, soerr ? strerror(soerr) : "timed out");
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (wait_fd(fd, POLLOUT, deadline) <= 0)
            return -1;
    }
    return 0;
}

/* --- Response parsing ------------------------------------------------------ */

struct head {
    bool done;
    size_t body_off;     /* where the body starts in the buffer */
    long content_length; /* -1: not given */
    bool chunked;
    bool no_body;
};

static void header_value(const char *line, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    snprintf(out, cap, "%s", v);
}

static int parse_head(char *buf, struct head *h, struct mr_test_http_response *out)
{
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
        return 0;
    *end = '\0';
    h->body_off = (size_t)(end - buf) + 4;
    h->content_length = -1;
    char *save = NULL;
    char *line = strtok_r(buf, "\r\n", &save);
    if (!line || sscanf(line, "HTTP/1.%*d %d", &out->status) != 1)
        return -1;
    char cl[32] = "", te[64] = "";
    while ((line = strtok_r(NULL, "\r\n", &save))) {
        header_value(line, "Location", out->location, sizeof(out->location));
        header_value(line, "Content-Type", out->content_type, sizeof(out->content_type));
        header_value(line, "ETag", out->etag, sizeof(out->etag));
        header_value(line, "Content-Length", cl, sizeof(cl));
        header_value(line, "Transfer-Encoding", te, sizeof(te));
    }
    if (cl[0])
        h->content_length = strtol(cl, NULL, 10);
    h->chunked = strcasestr(te, "chunked") != NULL;
    h->no_body = out->status == 204 || out->status == 304 || out->status < 200;
    h->done = true;
    return 1;
}

/* Decodes a chunked body: 1 when complete (out filled), 0 when more is
 * needed, -1 when malformed. */
static int dechunk(const char *p, size_t len, char *out, size_t *out_len)
{
    size_t off = 0, o = 0;
    for (;;) {
        const char *eol = memmem(p + off, len - off, "\r\n", 2);
        if (!eol)
            return 0;
        char *endp;
        unsigned long size = strtoul(p + off, &endp, 16);
        if (endp == p + off)
            return -1;
        off = (size_t)(eol - p) + 2;
        if (size == 0) {
            *out_len = o;
            return 1;
        }
        if (len - off < size + 2)
            return 0;
        memcpy(out + o, p + off, size);
        o += size;
        off += size + 2;
    }
}

/* Whether the buffer holds the whole response; sets the body. */
static int body_complete(const struct head *h, char *buf, size_t len, bool eof,
                         struct mr_test_http_response *out)
{
    const char *b = buf + h->body_off;
    size_t have = len - h->body_off;
    if (h->no_body) {
        out->body_len = 0;
        return 1;
    }
    if (h->chunked) {
        int rc = dechunk(b, have, out->body, &out->body_len);
        return rc != 0 ? rc : (eof ? -1 : 0);
    }
    if (h->content_length >= 0) {
        if (have < (size_t)h->content_length)
            return eof ? -1 : 0;
        have = (size_t)h->content_length;
    } else if (!eof) {
        return 0;
    }
    memcpy(out->body, b, have);
    out->body_len = have;
    return 1;
}

static void read_error_code(struct mr_test_http_response *r)
{
    if (!strstr(r->content_type, "json") || r->body_len == 0)
        return;
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    if (e)
        snprintf(r->error, sizeof(r->error), "%s", e);
    json_decref(j);
}

static int read_response(int fd, int64_t deadline, struct mr_test_http_response *out, char *err,
                         size_t elen)
{
    char *buf = malloc(RESPONSE_MAX + 1);
    char *headbuf = malloc(RESPONSE_MAX + 1);
    out->body = malloc(RESPONSE_MAX + 1);
    struct head h = {0};
    size_t len = 0;
    int rc = -1;
    if (!buf || !headbuf || !out->body) {
        snprintf(err, elen, "out of memory");
        goto out;
    }
    for (;;) {
        if (wait_fd(fd, POLLIN, deadline) <= 0) {
            snprintf(err, elen, "timed out after %zu response bytes", len);
            goto out;
        }
        ssize_t n = recv(fd, buf + len, RESPONSE_MAX - len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            snprintf(err, elen, "recv: %s", strerror(errno));
            goto out;
        }
        len += (size_t)n;
        buf[len] = '\0';
        if (!h.done) {
            memcpy(headbuf, buf, len + 1); /* parse_head cuts its copy */
            if (parse_head(headbuf, &h, out) < 0) {
                snprintf(err, elen, "not an HTTP response");
                goto out;
            }
        }
        int done = h.done ? body_complete(&h, buf, len, n == 0, out) : (n == 0 ? -1 : 0);
        if (done < 0 || (done == 0 && (n == 0 || len == RESPONSE_MAX))) {
            snprintf(err, elen, "incomplete response (%zu bytes)", len);
            goto out;
        }
        if (done == 1)
            break;
    }
    out->body[out->body_len] = '\0';
    read_error_code(out);
    rc = 0;
out:
    free(buf);
    free(headbuf);
    return rc;
}

int mr_test_http_request(const char *host, uint16_t port, const char *method, const char *path,
                         const char *const *headers, const char *body, size_t body_len,
                         int timeout_ms, struct mr_test_http_response *out, char *err,
                         size_t err_len)
{
    memset(out, 0, sizeof(*out));
    int64_t deadline = mr_clock_mono_us() + (int64_t)timeout_ms * 1000;
    int fd = connect_to(host, port, deadline, err, err_len);
    if (fd < 0)
        return MR_EIO;
    GString *req = g_string_sized_new(512 + body_len);
    g_string_append_printf(req, "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n", method,
                           path, host, port);
    for (const char *const *h = headers; h && *h; h++)
        g_string_append_printf(req, "%s\r\n", *h);
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0)
        g_string_append_printf(req, "Content-Length: %zu\r\n", body_len);
    g_string_append(req, "\r\n");
    if (body_len)
        g_string_append_len(req, body, (gssize)body_len);
    int rc = send_all(fd, req->str, req->len, deadline);
    g_string_free(req, TRUE);
    if (rc < 0)
        snprintf(err, err_len, "sending the request failed: %s", strerror(errno));
    else
        rc = read_response(fd, deadline, out, err, err_len);
    close(fd);
    if (rc < 0) {
        mr_test_http_response_cleanup(out);
        return MR_EIO;
    }
    return 0;
}

void mr_test_http_response_cleanup(struct mr_test_http_response *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

int mr_test_http_parse_url(const char *url, char *host, size_t host_cap, uint16_t *port, char *path,
                           size_t path_cap)
{
    if (strncmp(url, "http://", 7) != 0)
        return MR_EINVAL;
    const char *h = url + 7;
    size_t hlen = strcspn(h, ":/");
    if (hlen == 0 || hlen >= host_cap)
        return MR_EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    const char *rest = h + hlen;
    *port = 80;
    if (*rest == ':') {
        char *end;
        long v = strtol(rest + 1, &end, 10);
        if (v <= 0 || v > 65535 || (*end != '\0' && *end != '/'))
            return MR_EINVAL;
        *port = (uint16_t)v;
        rest = end;
    }
    if ((size_t)snprintf(path, path_cap, "%s", *rest ? rest : "/") >= path_cap)
        return MR_EINVAL;
    return 0;
}

int mr_test_http_raw(const char *host, uint16_t port, const uint8_t *data, size_t len,
                     int timeout_ms)
{
    char err[128];
    int64_t deadline = mr_clock_mono_us() + (int64_t)timeout_ms * 1000;
    int fd = connect_to(host, port, deadline, err, sizeof(err));
    if (fd < 0)
        return MR_EIO;
    /* The server may close early on garbage: a failed send is expected. */
    send_all(fd, (const char *)data, len, deadline);
    int total = 0;
    char buf[4096];
    while (wait_fd(fd, POLLIN, deadline) > 0) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        total += (int)n;
    }
    close(fd);
    return total;
}
