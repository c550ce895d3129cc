/*
 * File answers with range requests (RFC 9110 §14), for recordings.
 * Debian's libwebsockets is built without LWS_WITH_RANGES, so ranges are
 * handled here: the head is written on the first writable callback, then
 * the body in chunks of CHUNK bytes, one per callback, read with pread()
 * so memory stays flat whatever the file's size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http_priv.h"
#include "http/range.h"

/* One chunk per writable callback: big enough to keep a local link busy,
 * small enough that other connections get their turn. */
#define CHUNK (64 * 1024)

void mr_http_file_free(struct http_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

/* Picks 200, 206 or 416 for the request's Range and fills the body span. */
static int choose(struct http_req *r, struct http_file *f, uint64_t size, char *content_range,
                  size_t cr_len)
{
    struct mr_http_range range;
    content_range[0] = '\0';
    switch (mr_http_range_parse(r->pub.range, size, &range)) {
    case MR_HTTP_RANGE_ONE:
        f->off = range.first;
        f->length = range.last - range.first + 1;
        snprintf(content_range, cr_len, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, range.first,
                 range.last, size);
        return 206;
    case MR_HTTP_RANGE_UNSATISFIABLE:
        snprintf(content_range, cr_len, "bytes */%" PRIu64, size);
        return 416;
    case MR_HTTP_RANGE_NONE:
    default:
        f->off = 0;
        f->length = size;
        return 200;
    }
}

int mr_http_respond_file(struct mr_http_request *req, int fd, uint64_t size,
                         const char *content_type, const struct mr_http_header *headers,
                         unsigned n_headers)
{
    struct http_req *r = (struct http_req *)req;
    struct http_file *f = calloc(1, sizeof(*f));
    if (r->responded || !f) {
        close(fd);
        free(f);
        if (!r->responded)
            mr_http_respond_error(req, 500, "internal", "out of memory");
        return 500;
    }
    f->fd = fd;
    char content_range[96];
    int status = choose(r, f, size, content_range, sizeof(content_range));
    if (status == 416) {
        mr_http_file_free(f);
        struct mr_http_header h[2] = {{"Content-Range", content_range}, {"Accept-Ranges", "bytes"}};
        static const char body[] = "{\"error\":\"bad-request\","
                                   "\"detail\":\"the requested range is not satisfiable\"}";
        mr_http_respond(req, 416, "application/json", body, sizeof(body) - 1, h, 2);
        return 416;
    }
    f->remaining = req->method == MR_HTTP_HEAD ? 0 : f->length;
    /* mr_http_respond() queues the status and the headers; the body comes
     * from the file, so none is given here. */
    mr_http_respond(req, status, content_type, NULL, 0, headers, n_headers);
    mr_http_header_add(r, "Accept-Ranges", "bytes");
    if (status == 206)
        mr_http_header_add(r, "Content-Range", content_range);
    r->file = f;
    return status;
}

static int send_chunk(struct lws *wsi, struct http_file *f)
{
    static unsigned char buf[LWS_PRE + CHUNK]; /* the control thread's only */
    size_t want = f->remaining < CHUNK ? (size_t)f->remaining : CHUNK;
    ssize_t got;
    do
        got = pread(f->fd, buf + LWS_PRE, want, (off_t)f->off);
    while (got < 0 && errno == EINTR);
    if (got <= 0)
        return -1; /* the file shrank or failed: the length cannot be kept */
    f->off += (uint64_t)got;
    f->remaining -= (uint64_t)got;
    enum lws_write_protocol wp = f->remaining ? LWS_WRITE_HTTP : LWS_WRITE_HTTP_FINAL;
    if (lws_write(wsi, buf + LWS_PRE, (size_t)got, wp) != (int)got)
        return -1;
    return f->remaining ? 0 : 1;
}

int mr_http_file_writable(struct lws *wsi, struct http_req *r)
{
    struct http_file *f = r->file;
    if (!f->head_sent) {
        if (mr_http_write_head(wsi, r, f->length) < 0)
            return -1;
        f->head_sent = true;
        if (f->remaining == 0)
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    int rc = send_chunk(wsi, f);
    if (rc == 0)
        lws_callback_on_writable(wsi);
    return rc;
}
