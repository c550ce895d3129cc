/* Cross-origin resource sharing (Fetch standard, "CORS protocol"): browsers
 * on other origins may use WHIP, WHEP and the API. Tokens travel in
 * headers, never in cookies, so the allowed origins can default to "*"
 * without exposing ambient credentials (and no Allow-Credentials is sent).
 *
 * What a cross-origin script needs, and so what is allowed here:
 *   request headers  Authorization (Bearer tokens; a "*" would not cover it),
 *                    Content-Type (application/sdp and the trickle-ICE
 *                    fragment are not CORS-safelisted), If-Match and
 *                    If-None-Match (the ETag of the ICE session, RFC
 *                    9725's "ICE Support"), Range (recordings);
 *   response headers Location (the session URL), ETag, Link (ICE servers
 *                    and protocol extensions), Accept-Patch and Accept-Post
 *                    (what PATCH and POST take), Retry-After (with a 503,
 *                    RFC 9725's "Load Balancing and Redirections"), Allow
 *                    (with a 405),
 *                    Content-Range, Accept-Ranges and Content-Length
 *                    (recordings); Content-Type is safelisted.
 * The methods a preflight allows are those the routes answer for its path
 * (server.c), so a browser is told no more than the server does.
 */
#include <string.h>

#include "http/http_priv.h"

#define ALLOW_HEADERS "Authorization, Content-Type, If-Match, If-None-Match, Range"
#define EXPOSE_HEADERS                                                                             \
    "Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After, Allow, Content-Range, "         \
    "Accept-Ranges, Content-Length"

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

void mr_http_add_cors(const struct http_req *r, const char *methods,
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
    if (methods) {
        add(req, "Access-Control-Allow-Methods", methods);
        add(req, "Access-Control-Allow-Headers", ALLOW_HEADERS);
        add(req, "Access-Control-Max-Age", "600");
    }
    /* Also on OPTIONS: a script that sends one itself (after its own
     * preflight) reads Accept-Post and Allow from this answer. */
    add(req, "Access-Control-Expose-Headers", EXPOSE_HEADERS);
}
