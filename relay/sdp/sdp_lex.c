/*
 * The SDP lexer: lines, tokens and numbers, on spans of untrusted text.
 *
 * RFC 8866 §5: a description is lines of "<type>=<value>" ended by CRLF; LF
 * alone is accepted as most parsers do. Values are UTF-8 text, so bytes of
 * 0x80 and above pass, but control bytes (NUL, a lone CR...) never do: they
 * could cut a C string short or smuggle a line into the answer we write.
 */
#include "sdp/sdp_internal.h"

#include <string.h>

#include "core/error.h"

void mr_sdp_lines_init(struct mr_sdp_lines *it, const char *text, size_t len)
{
    it->text = text;
    it->len = text ? len : 0;
    it->pos = 0;
    it->line_no = 0;
}

static bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

int mr_sdp_lines_next(struct mr_sdp_lines *it, bool require_eol, struct mr_sdp_span *line,
                      const char **why)
{
    if (it->pos >= it->len)
        return 0;
    it->line_no++;
    size_t start = it->pos, i = start;
    while (i < it->len && it->text[i] != '\n') {
        unsigned char c = (unsigned char)it->text[i];
        if (c == '\r' && i + 1 < it->len && it->text[i + 1] == '\n')
            break;
        if (c == '\r' && i + 1 == it->len && !require_eol)
            break;
        if (is_control(c)) {
            *why = c == '\r' ? "CR without LF" : "control byte in line";
            return MR_EPARSE;
        }
        i++;
    }
    if (i == it->len && require_eol) {
        *why = "last line has no line end (truncated)";
        return MR_EPARSE;
    }
    line->p = it->text + start;
    line->n = i - start;
    /* Skip the line end: CRLF, LF, or a trailing CR at the very end. */
    if (i < it->len && it->text[i] == '\r')
        i++;
    if (i < it->len && it->text[i] == '\n')
        i++;
    it->pos = i;
    return 1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

struct mr_sdp_span mr_sdp_span_trim(struct mr_sdp_span s)
{
    while (s.n > 0 && is_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

bool mr_sdp_token_next(struct mr_sdp_span *rest, struct mr_sdp_span *tok)
{
    size_t i = 0;
    while (i < rest->n && is_blank(rest->p[i]))
        i++;
    if (i == rest->n) {
        rest->p += i;
        rest->n = 0;
        return false;
    }
    size_t start = i;
    while (i < rest->n && !is_blank(rest->p[i]))
        i++;
    tok->p = rest->p + start;
    tok->n = i - start;
    rest->p += i;
    rest->n -= i;
    return true;
}

bool mr_sdp_span_cut(struct mr_sdp_span s, char sep, struct mr_sdp_span *before,
                     struct mr_sdp_span *after)
{
    const char *hit = s.n ? memchr(s.p, sep, s.n) : NULL;
    if (!hit)
        return false;
    size_t k = (size_t)(hit - s.p);
    before->p = s.p;
    before->n = k;
    after->p = hit + 1;
    after->n = s.n - k - 1;
    return true;
}

bool mr_sdp_span_eq(struct mr_sdp_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool mr_sdp_span_ieq(struct mr_sdp_span s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(s.p[i]) != ascii_lower(lit[i]))
            return false;
    return true;
}

int mr_sdp_span_uint(struct mr_sdp_span s, uint64_t max, uint64_t *out)
{
    /* 20 digits hold every uint64_t; longer runs are refused before the
     * overflow check so that leading zeros cannot hide a huge value. */
    if (s.n == 0 || s.n > 20)
        return MR_EPARSE;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c < '0' || c > '9')
            return MR_EPARSE;
        unsigned d = (unsigned)(c - '0');
        if (v > (UINT64_MAX - d) / 10)
            return MR_EPARSE;
        v = v * 10 + d;
    }
    if (v > max)
        return MR_EPARSE;
    *out = v;
    return 0;
}

int mr_sdp_span_copy(struct mr_sdp_span s, char *dst, size_t cap)
{
    if (s.n == 0 || s.n >= cap)
        return MR_EPARSE;
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return 0;
}

/* RFC 8866 §9: token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39
 *                          / %x41-5A / %x5E-7E */
static bool is_token_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
           c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
           (c >= 0x5e && c <= 0x7e);
}

bool mr_sdp_span_is_token(struct mr_sdp_span s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_token_char((unsigned char)s.p[i]))
            return false;
    return true;
}

static bool is_ice_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

bool mr_sdp_span_is_ice(struct mr_sdp_span s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_ice_char(s.p[i]))
            return false;
    return true;
}

bool mr_sdp_str_is_text(const char *s)
{
    for (; *s; s++)
        if (is_control((unsigned char)*s))
            return false;
    return true;
}

int mr_sdp_ice_cred(struct mr_sdp_span v, size_t min, char *dst)
{
    if (v.n < min || v.n > MR_SDP_ICE_MAX || !mr_sdp_span_is_ice(v))
        return MR_EPARSE;
    return mr_sdp_span_copy(v, dst, MR_SDP_ICE_MAX + 1);
}
