/* Query arguments of a request (already percent-decoded by libwebsockets). */
#include <string.h>

#include "core/error.h"
#include "http/http.h"

int mr_http_query_arg(const struct mr_http_request *req, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = req->query;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            if (vlen + 1 > cap)
                return MR_ENOSPC;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return (int)vlen;
        }
        p += len + (end ? 1 : 0);
    }
    return -1;
}
