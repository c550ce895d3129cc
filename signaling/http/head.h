/*
 * The head of an HTTP/1.1 request, checked as bytes before libwebsockets
 * parses it (RFC 9112 §2.1):
 *
 *   HTTP-message   = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
 *   request-line   = method SP request-target SP HTTP-version
 *   field-line     = field-name ":" OWS field-value OWS
 *
 * libwebsockets 4.1 answers some malformed heads and drops the connection
 * on others without a word (a head larger than its buffer, "%00" in the
 * target), and reads a duplicated Content-Length as the first of its
 * values, which is how requests are smuggled past a proxy that reads the
 * last. This checker gives each of those the answer the RFCs name, so the
 * server can send it before the library sees the request:
 *
 *   431  the head is larger than MR_HTTP_HEAD_MAX (RFC 6585 §5);
 *   414  the request target is longer than MR_HTTP_TARGET_MAX (RFC 9110 §15.5.15);
 *   400  a malformed request line or field line, obs-fold (RFC 9112 §5.2),
 *        whitespace before a colon (§5.1), a bare CR or a NUL, a bad or
 *        NUL-decoding percent-escape in the target, Content-Length values
 *        that are not digits or disagree (RFC 9112 §6.3, RFC 9110 §8.6),
 *        Content-Length with Transfer-Encoding or a transfer coding other
 *        than chunked (RFC 9112 §6.1), no Host or more than one (§3.2),
 *        a version other than HTTP/1.0 and HTTP/1.1.
 *
 * Pure: no allocation, no I/O. buf need not be NUL-terminated.
 */
#ifndef MR_HTTP_HEAD_H
#define MR_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

#define MR_HTTP_HEAD_MAX 8192
#define MR_HTTP_TARGET_MAX 2048

enum mr_http_head_verdict {
    MR_HTTP_HEAD_OK,           /* complete and acceptable */
    MR_HTTP_HEAD_PARTIAL,      /* no end yet, within the limit: wait for more */
    MR_HTTP_HEAD_BAD,          /* answer 400 */
    MR_HTTP_HEAD_URI_TOO_LONG, /* answer 414 */
    MR_HTTP_HEAD_TOO_LARGE,    /* answer 431 */
};

struct mr_http_head {
    size_t head_len;          /* bytes up to and including the empty line */
    const char *path;         /* the target's path as sent (into buf, not
                                 NUL-terminated), path_len bytes */
    size_t path_len;
    long long content_length; /* -1 when absent; LLONG_MAX when too large to hold */
    bool chunked;             /* Transfer-Encoding: chunked */
    const char *why;          /* static text for the client, "" when OK */
};

/* Checks the first len bytes a client sent on a connection (the start of
 * a request). Returns the verdict and fills out (head_len and the body's
 * framing only when OK). */
enum mr_http_head_verdict mr_http_head_check(const char *buf, size_t len, struct mr_http_head *out);

/*
 * Reads a Content-Length field value: 1*DIGIT, or a comma-separated list
 * of equal ones (what a recipient of repeated fields sees joined, RFC 9110
 * §5.3), with optional whitespace around each. Leading zeros are allowed
 * whatever their number; a value past LLONG_MAX reads as LLONG_MAX.
 * Returns 0 with the value in out, or -1.
 */
int mr_http_content_length(const char *value, size_t len, long long *out);

/*
 * Splits a path as the client sent it (percent-encoded, no query) at its
 * '/' and percent-decodes each segment on its own, so that an encoded
 * "%2F" stays inside its segment (RFC 3986 §2.2) where it fails any name
 * check, instead of turning into a separator. Up to max segments of
 * seg_cap bytes each are written to segs (segment i at segs + i *
 * seg_cap, NUL-terminated). Returns the number of segments ("/" has none)
 * and sets *bad when one is empty, longer than seg_cap - 1, or past max
 * (the extra ones are dropped).
 */
unsigned mr_http_path_split(const char *path, char *segs, size_t seg_cap, unsigned max,
                            bool *bad);

#endif
