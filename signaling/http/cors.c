/* Cross-origin resource sharing: browsers on other origins may use WHIP,
 * WHEP and the API. Tokens travel in headers, never in cookies, so the
 * allowed origins can default to "*" without exposing ambient credentials. */
#include <string.h>

#include "http/http_priv.h"

static bool origin_listed(const char *list, const char *origin)
{
    size_t olen = strlen(origin);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ')
            end++;
        if ((size_t)(end - p) == olen && olen > 0 && strncmp(p, origin, olen) == 0)
            return true;
        p = end;
    }
    return false;
}

void mr_http_add_cors(const struct http_req *r, bool preflight,
                      void (*add)(struct http_req *, const char *, const char *))
{
    struct http_req *req = (struct http_req *)r;
    const char *list = r->srv->cfg->cors_origins;
    const char *origin = r->pub.origin;
    if (strcmp(list, "*") == 0) {
        add(req, "Access-Control-Allow-Origin", "*");
    } else if (origin_listed(list, origin)) {
        add(req, "Access-Control-Allow-Origin", origin);
        add(req, "Vary", "Origin");
    } else {
        return;
    }
    if (preflight) {
        add(req, "Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
        add(req, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, Range");
        add(req, "Access-Control-Max-Age", "600");
    } else {
        add(req, "Access-Control-Expose-Headers", "Location, Link, ETag, Accept-Patch, Content-Range, Accept-Ranges, Content-Length");
    }
}
