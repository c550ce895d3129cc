/* Range header parsing (RFC 9110 §14.1-14.2); see range.h. */
#include "http/range.h"

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>

/* At most this many range-specs are looked at; more is an abuse (or a
 * download manager) and gets the whole file. */
#define MAX_SPECS 16

struct spec {
    bool suffix;   /* "-n" */
    bool open;     /* "a-" */
    uint64_t a, b; /* first/last, or the suffix length in a */
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
    while (is_ows(*p))
        p++;
    return p;
}

/* 1*DIGIT, saturating at UINT64_MAX: a huge first-pos is simply beyond the
 * end, a huge last-pos is clamped. Returns NULL when there is no digit. */
static const char *parse_uint(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    if (p == start)
        return NULL;
    *out = v;
    return p;
}

/* One range-spec, up to (not including) the next ',' or the end. */
static const char *parse_spec(const char *p, struct spec *s)
{
    s->suffix = s->open = false;
    s->a = s->b = 0;
    if (*p == '-') {
        s->suffix = true;
        return parse_uint(p + 1, &s->a);
    }
    p = parse_uint(p, &s->a);
    if (!p || *p != '-')
        return NULL;
    p++;
    if (*p >= '0' && *p <= '9') {
        p = parse_uint(p, &s->b);
        /* §14.1.1: a last-pos below first-pos makes the spec invalid. */
        return s->b < s->a ? NULL : p;
    }
    s->open = true;
    return p;
}

/* §14.1.1: which bytes a satisfiable spec selects; false when it selects
 * none of a representation of `size` bytes. */
static bool resolve(const struct spec *s, uint64_t size, struct mr_http_range *r)
{
    if (size == 0)
        return false;
    if (s->suffix) {
        if (s->a == 0)
            return false;
        r->first = s->a >= size ? 0 : size - s->a;
        r->last = size - 1;
        return true;
    }
    if (s->a >= size)
        return false;
    r->first = s->a;
    r->last = s->open || s->b >= size ? size - 1 : s->b;
    return true;
}

enum mr_http_range_kind mr_http_range_parse(const char *header, uint64_t size,
                                            struct mr_http_range *out)
{
    if (!header)
        return MR_HTTP_RANGE_NONE;
    const char *p = skip_ows(header);
    if (strncasecmp(p, "bytes", 5) != 0)
        return MR_HTTP_RANGE_NONE;
    p = skip_ows(p + 5);
    if (*p != '=')
        return MR_HTTP_RANGE_NONE;
    p++;
    unsigned n_specs = 0, n_ok = 0;
    bool nonzero_suffix = false;
    struct mr_http_range first_ok = {0, 0};
    for (;;) {
        p = skip_ows(p);
        if (*p == ',') { /* #rule: empty list elements are allowed */
            p++;
            continue;
        }
        if (*p == '\0')
            break;
        struct spec s;
        p = parse_spec(p, &s);
        if (!p)
            return MR_HTTP_RANGE_NONE;
        p = skip_ows(p);
        if (*p != ',' && *p != '\0')
            return MR_HTTP_RANGE_NONE;
        if (++n_specs > MAX_SPECS)
            return MR_HTTP_RANGE_NONE;
        nonzero_suffix |= s.suffix && s.a > 0;
        struct mr_http_range r;
        if (resolve(&s, size, &r) && n_ok++ == 0)
            first_ok = r;
    }
    if (n_specs == 0)
        return MR_HTTP_RANGE_NONE;
    if (n_ok == 0)
        /* §14.1.1: an empty representation satisfies only a non-zero
         * suffix-range, which selects nothing: send it whole (empty). */
        return size == 0 && nonzero_suffix ? MR_HTTP_RANGE_NONE : MR_HTTP_RANGE_UNSATISFIABLE;
    if (n_specs > 1)
        return MR_HTTP_RANGE_NONE;
    *out = first_ok;
    return MR_HTTP_RANGE_ONE;
}
