#include "http/head.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static bool tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

unsigned mr_http_path_split(const char *path, char *segs, size_t seg_cap, unsigned max, bool *bad)
{
    const char *p = path[0] == '/' ? path + 1 : path;
    unsigned count = 0;
    if (*p == '\0')
        return 0;
    for (;;) {
        if (count == max) {
            *bad = true;
            return count;
        }
        char *seg = segs + (size_t)count++ * seg_cap;
        size_t n = 0;
        for (; *p && *p != '/'; p++) {
            char c = *p;
            if (c == '%' && hexval((unsigned char)p[1]) >= 0 && hexval((unsigned char)p[2]) >= 0) {
                c = (char)(hexval((unsigned char)p[1]) * 16 + hexval((unsigned char)p[2]));
                p += 2;
            }
            if (n + 1 < seg_cap)
                seg[n] = c;
            n++;
        }
        seg[n < seg_cap ? n : seg_cap - 1] = '\0';
        if (n == 0 || n >= seg_cap)
            *bad = true;
        if (*p == '\0')
            return count;
        p++;
    }
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

int mr_http_content_length(const char *v, size_t len, long long *out)
{
    bool have = false;
    long long first = 0;
    size_t i = 0;
    for (;;) {
        while (i < len && ows(v[i]))
            i++;
        if (i == len || v[i] < '0' || v[i] > '9')
            return -1;
        long long n = 0;
        for (; i < len && v[i] >= '0' && v[i] <= '9'; i++)
            n = n > (LLONG_MAX - 9) / 10 ? LLONG_MAX : n * 10 + (v[i] - '0');
        while (i < len && ows(v[i]))
            i++;
        if (have && n != first)
            return -1;
        first = n;
        have = true;
        if (i == len)
            break;
        if (v[i++] != ',')
            return -1;
    }
    *out = first;
    return 0;
}

/* One line [s, s + len), without its line end. */
struct span {
    const char *s;
    size_t len;
};

/* What the field lines said about the body and the host. */
struct fields {
    long long content_length;
    bool has_cl, chunked, has_te;
    unsigned hosts;
};

/* The request target: visible ASCII, percent-escapes well formed and never
 * NUL, and no decoded control character in the path (it ends up in logs
 * and Location headers). */
static bool target_ok(const char *t, size_t len, const char **why)
{
    bool in_query = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f) {
            *why = "the request target holds a character that must be percent-encoded";
            return false;
        }
        if (c == '?')
            in_query = true;
        if (c != '%')
            continue;
        int hi = i + 2 < len ? hexval((unsigned char)t[i + 1]) : -1;
        int lo = i + 2 < len ? hexval((unsigned char)t[i + 2]) : -1;
        if (i + 2 >= len || hi < 0 || lo < 0) {
            *why = "the request target holds a malformed percent-escape";
            return false;
        }
        int d = hi * 16 + lo;
        if (d == 0 || (!in_query && (d < 0x20 || d == 0x7f))) {
            *why = "the request target encodes a NUL or control character";
            return false;
        }
        i += 2;
    }
    return true;
}

/* request-line = method SP request-target SP HTTP-version */
static enum mr_http_head_verdict request_line(struct span l, bool *http11, struct span *path,
                                              const char **why)
{
    size_t i = 0;
    while (i < l.len && tchar((unsigned char)l.s[i]))
        i++;
    const char *sp1 = i > 0 && i < l.len && l.s[i] == ' ' ? l.s + i : NULL;
    const char *target = sp1 ? sp1 + 1 : NULL;
    const char *sp2 = target ? memchr(target, ' ', l.len - (size_t)(target - l.s)) : NULL;
    *why = "malformed request line";
    if (!sp2 || sp2 == target)
        return MR_HTTP_HEAD_BAD;
    const char *version = sp2 + 1;
    size_t vlen = l.len - (size_t)(version - l.s);
    if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1')) {
        *why = "only HTTP/1.0 and HTTP/1.1 are served";
        return MR_HTTP_HEAD_BAD;
    }
    *http11 = version[7] == '1';
    size_t tlen = (size_t)(sp2 - target);
    if (!target_ok(target, tlen, why))
        return MR_HTTP_HEAD_BAD;
    const char *q = memchr(target, '?', tlen);
    path->s = target;
    path->len = q ? (size_t)(q - target) : tlen;
    if (tlen > MR_HTTP_TARGET_MAX) {
        *why = "the request target is too long";
        return MR_HTTP_HEAD_URI_TOO_LONG;
    }
    *why = "";
    return MR_HTTP_HEAD_OK;
}

static bool name_is(struct span name, const char *want)
{
    return name.len == strlen(want) && strncasecmp(name.s, want, name.len) == 0;
}

/* field-line = field-name ":" OWS field-value OWS */
static bool field_line(struct span l, struct fields *f, const char **why)
{
    *why = "malformed header field";
    if (l.len == 0 || ows(l.s[0])) {
        *why = "obsolete line folding is not accepted";
        return false;
    }
    size_t i = 0;
    while (i < l.len && tchar((unsigned char)l.s[i]))
        i++;
    if (i == 0 || i == l.len || l.s[i] != ':')
        return false;
    struct span name = {l.s, i};
    const char *v = l.s + i + 1;
    size_t vlen = l.len - i - 1;
    for (size_t k = 0; k < vlen; k++) {
        unsigned char c = (unsigned char)v[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = "a header field holds a control character";
            return false;
        }
    }
    while (vlen && ows(*v))
        v++, vlen--;
    while (vlen && ows(v[vlen - 1]))
        vlen--;
    if (name_is(name, "content-length")) {
        long long n;
        if (mr_http_content_length(v, vlen, &n) < 0 || (f->has_cl && n != f->content_length)) {
            *why = "invalid or conflicting Content-Length";
            return false;
        }
        f->has_cl = true;
        f->content_length = n;
    } else if (name_is(name, "transfer-encoding")) {
        if (f->has_te || vlen != 7 || strncasecmp(v, "chunked", 7) != 0) {
            *why = "the only transfer coding accepted is a single \"chunked\"";
            return false;
        }
        f->has_te = f->chunked = true;
    } else if (name_is(name, "host")) {
        f->hosts++;
    }
    *why = "";
    return true;
}

/* The next line of buf from *pos, without CR LF / LF; false when no line
 * end has arrived yet. A CR anywhere but before the LF is refused. */
static bool next_line(const char *buf, size_t len, size_t *pos, struct span *out, bool *bare_cr)
{
    const char *lf = memchr(buf + *pos, '\n', len - *pos);
    if (!lf)
        return false;
    size_t end = (size_t)(lf - buf);
    out->s = buf + *pos;
    out->len = end - *pos;
    if (out->len && out->s[out->len - 1] == '\r')
        out->len--;
    *bare_cr = memchr(out->s, '\r', out->len) != NULL || memchr(out->s, '\0', out->len) != NULL;
    *pos = end + 1;
    return true;
}

enum mr_http_head_verdict mr_http_head_check(const char *buf, size_t len, struct mr_http_head *out)
{
    struct fields f = {.content_length = -1};
    struct span l, path = {0};
    bool bad_char, http11 = true, first = true;
    size_t pos = 0;
    memset(out, 0, sizeof(*out));
    out->content_length = -1;
    out->why = "";
    /* RFC 9112 §2.2: empty lines before the request line are ignored. */
    while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
        pos++;
    for (;;) {
        if (!next_line(buf, len, &pos, &l, &bad_char)) {
            /* No line end yet: more may come, unless the head is already
             * over the limit without one. */
            if (len <= MR_HTTP_HEAD_MAX)
                return MR_HTTP_HEAD_PARTIAL;
            out->why = "the request head exceeds 8 KiB";
            return MR_HTTP_HEAD_TOO_LARGE;
        }
        if (pos > MR_HTTP_HEAD_MAX) {
            out->why = "the request head exceeds 8 KiB";
            return MR_HTTP_HEAD_TOO_LARGE;
        }
        if (bad_char) {
            out->why = "a bare CR or a NUL in the request head";
            return MR_HTTP_HEAD_BAD;
        }
        if (first) {
            enum mr_http_head_verdict v = request_line(l, &http11, &path, &out->why);
            if (v != MR_HTTP_HEAD_OK)
                return v;
            first = false;
            continue;
        }
        if (l.len == 0)
            break;
        if (!field_line(l, &f, &out->why))
            return MR_HTTP_HEAD_BAD;
    }
    if (f.has_cl && f.has_te) {
        out->why = "Content-Length and Transfer-Encoding together";
        return MR_HTTP_HEAD_BAD;
    }
    if (f.hosts > 1 || (http11 && f.hosts == 0)) {
        out->why = f.hosts ? "more than one Host header" : "an HTTP/1.1 request needs a Host header";
        return MR_HTTP_HEAD_BAD;
    }
    out->head_len = pos;
    out->path = path.s;
    out->path_len = path.len;
    out->content_length = f.has_cl ? f.content_length : -1;
    out->chunked = f.chunked;
    return MR_HTTP_HEAD_OK;
}
