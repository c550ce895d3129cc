/*
 * Fuzz target for what a client's first bytes reach on the HTTP port
 * before libwebsockets does: the request-head checker (http/head.h) and,
 * for a head it accepts, the split of its path as sent into route
 * segments. Properties checked, beyond ASan/UBSan's: an accepted head lies
 * inside the input and within MR_HTTP_HEAD_MAX, its path inside the head,
 * its Content-Length -1 or not negative, never with chunked; a refusal
 * carries a reason; every segment is NUL-terminated inside its slot. The
 * input is copied into an exact-size heap block so that ASan sees any
 * read past its length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/head.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "property violated: %s\n", what);
    abort();
}

static void split(const struct mr_http_head *h)
{
    static char segs[MR_HTTP_MAX_SEGMENTS][MR_HTTP_SEGMENT_MAX];
    char path[MR_HTTP_TARGET_MAX + 1];
    size_t n = h->path_len < sizeof(path) ? h->path_len : sizeof(path) - 1;
    memcpy(path, h->path, n);
    path[n] = '\0';
    bool bad = false;
    unsigned count =
        mr_http_path_split(path, &segs[0][0], MR_HTTP_SEGMENT_MAX, MR_HTTP_MAX_SEGMENTS, &bad);
    if (count > MR_HTTP_MAX_SEGMENTS)
        fail("more segments than slots");
    for (unsigned i = 0; i < count; i++)
        if (!memchr(segs[i], '\0', MR_HTTP_SEGMENT_MAX))
            fail("a segment is not terminated");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct mr_http_head h;
    enum mr_http_head_verdict v = mr_http_head_check(buf, size, &h);
    switch (v) {
    case MR_HTTP_HEAD_OK:
        if (h.head_len == 0 || h.head_len > size || h.head_len > MR_HTTP_HEAD_MAX)
            fail("head length");
        if (h.path < buf || h.path + h.path_len > buf + h.head_len)
            fail("path outside the head");
        if (h.content_length < -1 || (h.content_length >= 0 && h.chunked))
            fail("framing");
        split(&h);
        break;
    case MR_HTTP_HEAD_PARTIAL:
        if (size > MR_HTTP_HEAD_MAX)
            fail("partial past the limit");
        break;
    default:
        if (!h.why || !h.why[0])
            fail("a refusal without a reason");
        break;
    }
    /* The Content-Length reader on the raw bytes too. */
    long long cl;
    if (mr_http_content_length(buf, size, &cl) == 0 && cl < 0)
        fail("negative length");
    free(buf);
    return 0;
}
