/*
 * A small blocking HTTP/1.1 client for the test peer and the integration
 * tests: one request per TCP connection ("Connection: close") to a numeric
 * IPv4 address, with a deadline over the whole exchange. Enough for WHIP,
 * WHEP, /healthz and error bodies; not a general client.
 */
#ifndef MR_TEST_HTTP_CLIENT_H
#define MR_TEST_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define MR_TEST_HTTP_URL_MAX 512

struct mr_test_http_response {
    int status;
    char location[MR_TEST_HTTP_URL_MAX]; /* "" when absent */
    char content_type[128];
    char etag[128];
    char *body; /* malloc'd, NUL-terminated (also when empty) */
    size_t body_len;
    char error[64]; /* the "error" member of a JSON error body, or "" */
};

/*
 * Sends one request and reads the whole response (Content-Length, chunked,
 * or until the server closes). headers: extra "Name: value" lines (no CRLF),
 * NULL-terminated, or NULL. Host, Connection and (with a body, or for POST
 * and PATCH) Content-Length are added. Returns 0 with out filled (the
 * caller then calls mr_test_http_response_cleanup), or MR_EIO (connection
 * refused or reset, timeout, malformed response) with a reason in err.
 */
int mr_test_http_request(const char *host, uint16_t port, const char *method, const char *path,
                         const char *const *headers, const char *body, size_t body_len,
                         int timeout_ms, struct mr_test_http_response *out, char *err,
                         size_t err_len);

void mr_test_http_response_cleanup(struct mr_test_http_response *r);

/* Splits "http://HOST:PORT/path" (port 80 when absent). Returns 0 or
 * MR_EINVAL. */
int mr_test_http_parse_url(const char *url, char *host, size_t host_cap, uint16_t *port, char *path,
                           size_t path_cap);

/* Sends raw bytes on a fresh connection and closes it after reading
 * whatever comes back within timeout_ms (for garbage tests). Returns the
 * number of response bytes read, or MR_EIO if the connection failed. */
int mr_test_http_raw(const char *host, uint16_t port, const uint8_t *data, size_t len,
                     int timeout_ms);

#endif
