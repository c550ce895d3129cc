/* The request-head checker (http/head.h): RFC 9112 framing, the answers
 * libwebsockets cannot give, and the path split as sent. */
#include <limits.h>

#include "http/head.h"
#include "mr_test.h"

static enum mr_http_head_verdict check(const char *text, struct mr_http_head *h)
{
    return mr_http_head_check(text, strlen(text), h);
}

static void test_good_heads(void)
{
    struct mr_http_head h;
    const char *get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_INT(check(get, &h), MR_HTTP_HEAD_OK);
    CHECK_INT(h.head_len, strlen(get));
    CHECK_INT(h.content_length, -1);
    CHECK(!h.chunked);
    CHECK_INT(h.path_len, 8);
    CHECK(strncmp(h.path, "/healthz", h.path_len) == 0);
    /* The body after the head is not the checker's business. */
    const char *post = "POST /whip/ward-3/cam?x=1 HTTP/1.1\r\nHost: a:8080\r\n"
                       "Content-Type: application/sdp\r\ncontent-length:  12 \r\n\r\nv=0\r\n...";
    CHECK_INT(check(post, &h), MR_HTTP_HEAD_OK);
    CHECK_INT(h.content_length, 12);
    CHECK_INT(h.path_len, strlen("/whip/ward-3/cam"));
    /* RFC 9112 §2.2: a recipient may take a bare LF as a line end, and
     * ignores empty lines before the request line. */
    CHECK_INT(check("\r\n\nGET / HTTP/1.1\nHost: x\n\n", &h), MR_HTTP_HEAD_OK);
    /* HTTP/1.0 needs no Host. */
    CHECK_INT(check("GET / HTTP/1.0\r\n\r\n", &h), MR_HTTP_HEAD_OK);
    /* Repeated equal lengths are one length (RFC 9110 §8.6). */
    CHECK_INT(check("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                    &h),
              MR_HTTP_HEAD_OK);
    CHECK_INT(h.content_length, 5);
    CHECK_INT(check("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", &h),
              MR_HTTP_HEAD_OK);
    CHECK(h.chunked);
    /* Percent-escapes in the query may encode controls (not NUL). */
    CHECK_INT(check("GET /media/r?n=%0A HTTP/1.1\r\nHost: x\r\n\r\n", &h), MR_HTTP_HEAD_OK);
}

static void test_partial(void)
{
    struct mr_http_head h;
    CHECK_INT(check("", &h), MR_HTTP_HEAD_PARTIAL);
    CHECK_INT(check("GET /heal", &h), MR_HTTP_HEAD_PARTIAL);
    CHECK_INT(check("GET / HTTP/1.1\r\nHost: x\r\n", &h), MR_HTTP_HEAD_PARTIAL);
    CHECK_INT(check("GET / HTTP/1.1\r\nHost: x\r\n\r", &h), MR_HTTP_HEAD_PARTIAL);
    /* A bad request line is refused before the head is complete. */
    CHECK_INT(check("GET /%00 HTTP/1.1\r\nHost:", &h), MR_HTTP_HEAD_BAD);
}

static void test_sizes(void)
{
    struct mr_http_head h;
    static char buf[3 * MR_HTTP_HEAD_MAX];
    /* A head of exactly the limit passes; one byte more is 431. */
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    size_t fixed = strlen(start) + 4;
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, start, strlen(start));
    memcpy(buf + MR_HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
    CHECK_INT(mr_http_head_check(buf, MR_HTTP_HEAD_MAX, &h), MR_HTTP_HEAD_OK);
    CHECK_INT(h.head_len, MR_HTTP_HEAD_MAX);
    memset(buf + strlen(start), 'a', MR_HTTP_HEAD_MAX - fixed + 1);
    memcpy(buf + MR_HTTP_HEAD_MAX - 3, "\r\n\r\n", 4);
    CHECK_INT(mr_http_head_check(buf, MR_HTTP_HEAD_MAX + 1, &h), MR_HTTP_HEAD_TOO_LARGE);
    /* No end in sight past the limit: 431 without waiting for more. */
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, start, strlen(start));
    CHECK_INT(mr_http_head_check(buf, MR_HTTP_HEAD_MAX, &h), MR_HTTP_HEAD_PARTIAL);
    CHECK_INT(mr_http_head_check(buf, MR_HTTP_HEAD_MAX + 1, &h), MR_HTTP_HEAD_TOO_LARGE);
    /* A request line longer than the head limit is 431 too. */
    memcpy(buf, "GET /", 5);
    CHECK_INT(mr_http_head_check(buf, sizeof(buf), &h), MR_HTTP_HEAD_TOO_LARGE);
    /* A target longer than MR_HTTP_TARGET_MAX in a small head: 414. */
    size_t n = (size_t)snprintf(buf, sizeof(buf), "GET /");
    memset(buf + n, 'b', MR_HTTP_TARGET_MAX);
    n += MR_HTTP_TARGET_MAX;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(mr_http_head_check(buf, n, &h), MR_HTTP_HEAD_URI_TOO_LONG);
}

static void test_bad_heads(void)
{
    struct mr_http_head h;
    static const char *const bad[] = {
        /* request line */
        "GET\r\nHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\x16\x03\x01\x02\x01\r\n\r\n",
        /* the target: NUL and bad escapes (libwebsockets closes silently
         * on the first and answers 403 to the second) */
        "POST /whip/ro%00om/cam HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /whip/room/%00x HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a?b=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /whip/r%zzm/cam HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a% HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a%4 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a%0d%0aX:%20y HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        /* field lines */
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n",
        /* framing: RFC 9112 §6.1, §6.3 */
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5a\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        /* Host: RFC 9112 §3.2 */
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum mr_http_head_verdict v = check(bad[i], &h);
        if (v != MR_HTTP_HEAD_BAD)
            fprintf(stderr, "case %zu: %d\n", i, (int)v);
        CHECK_INT(v, MR_HTTP_HEAD_BAD);
        CHECK(h.why[0] != '\0');
    }
    /* A NUL in a field line. */
    const char nul[] = "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n";
    CHECK_INT(mr_http_head_check(nul, sizeof(nul) - 1, &h), MR_HTTP_HEAD_BAD);
}

static void test_content_length(void)
{
    long long v;
    CHECK_INT(mr_http_content_length("0", 1, &v), 0);
    CHECK_INT(v, 0);
    /* Leading zeros, however many (the 31-character limit of libwebsockets
     * read such a length as no body). */
    const char *padded = "0000000000000000000000000000000000000000001234";
    CHECK_INT(mr_http_content_length(padded, strlen(padded), &v), 0);
    CHECK_INT(v, 1234);
    const char *huge = "99999999999999999999999999";
    CHECK_INT(mr_http_content_length(huge, strlen(huge), &v), 0);
    CHECK_INT(v, LLONG_MAX);
    CHECK_INT(mr_http_content_length(" 7 , 7,7 ", 9, &v), 0);
    CHECK_INT(v, 7);
    CHECK_INT(mr_http_content_length("7,8", 3, &v), -1);
    CHECK_INT(mr_http_content_length("7,", 2, &v), -1);
    CHECK_INT(mr_http_content_length("", 0, &v), -1);
    CHECK_INT(mr_http_content_length("1e3", 3, &v), -1);
}

static void test_path_split(void)
{
    char segs[4][8];
    bool bad = false;
    CHECK_INT(mr_http_path_split("/", &segs[0][0], 8, 4, &bad), 0);
    CHECK(!bad);
    CHECK_INT(mr_http_path_split("/whip/a%2Db/cam", &segs[0][0], 8, 4, &bad), 3);
    CHECK_STR(segs[1], "a-b");
    CHECK(!bad);
    /* An encoded '/' stays in its segment: "..%2F..%2Fapi" is one segment,
     * not a way up and out of /whip. */
    char wide[4][16];
    CHECK_INT(mr_http_path_split("/whip/..%2F..%2Fapi/rooms", &wide[0][0], 16, 4, &bad), 3);
    CHECK_STR(wide[0], "whip");
    CHECK_STR(wide[1], "../../api");
    CHECK_STR(wide[2], "rooms");
    CHECK(!bad);
    /* Empty, too long and too many segments are bad but never overflow. */
    bad = false;
    CHECK_INT(mr_http_path_split("/a//b", &segs[0][0], 8, 4, &bad), 3);
    CHECK(bad);
    bad = false;
    CHECK_INT(mr_http_path_split("/abcdefghij", &segs[0][0], 8, 4, &bad), 1);
    CHECK(bad);
    CHECK_STR(segs[0], "abcdefg");
    bad = false;
    CHECK_INT(mr_http_path_split("/a/b/c/d/e/f", &segs[0][0], 8, 4, &bad), 4);
    CHECK(bad);
    bad = false;
    CHECK_INT(mr_http_path_split("/a/", &segs[0][0], 8, 4, &bad), 2);
    CHECK(bad);
    /* A truncated escape is kept as it is. */
    bad = false;
    CHECK_INT(mr_http_path_split("/a%4", &segs[0][0], 8, 4, &bad), 1);
    CHECK_STR(segs[0], "a%4");
}

MR_TEST_MAIN(MR_TEST(test_good_heads), MR_TEST(test_partial), MR_TEST(test_sizes),
             MR_TEST(test_bad_heads), MR_TEST(test_content_length), MR_TEST(test_path_split))
