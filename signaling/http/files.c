/* Static files (the web consoles) from [server] web_root. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "http/http_priv.h"

/* Only plain names: no "..", no hidden files, no empty segments, no
 * separator (a segment may hold a '/' that came encoded as %2F). */
static bool safe_segment(const char *s)
{
    if (!s[0] || s[0] == '.')
        return false;
    for (; *s; s++)
        if (*s == '\\' || *s == '/' || (unsigned char)*s < 0x20)
            return false;
    return true;
}

static const char *mime_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".json") == 0)
        return "application/json";
    return "application/octet-stream";
}

int mr_http_serve_file(struct http_req *r)
{
    char path[2048];
    int n = snprintf(path, sizeof(path), "%s", r->srv->cfg->web_root);
    if (r->pub.n_segments == 0) {
        n += snprintf(path + n, sizeof(path) - (size_t)n, "/index.html");
    } else {
        for (unsigned i = 0; i < r->pub.n_segments; i++) {
            if (!safe_segment(r->pub.segments[i]) || (size_t)n >= sizeof(path)) {
                mr_http_respond_error(&r->pub, 404, "not-found", "no such resource");
                return 0;
            }
            n += snprintf(path + n, sizeof(path) - (size_t)n, "/%s", r->pub.segments[i]);
        }
    }
    struct stat st;
    if ((size_t)n >= sizeof(path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        mr_http_respond_error(&r->pub, 404, "not-found", "no such resource");
        return 0;
    }
    static const char extra[] = "x-content-type-options: nosniff\r\n"
                                "cache-control: no-cache\r\n";
    r->responded = true;
    if (lws_serve_http_file(r->wsi, path, mime_for(path), extra, (int)strlen(extra)) < 0)
        return -1;
    return 0;
}
