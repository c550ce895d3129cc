/*
 * WHIP (RFC 9725) and WHEP sessions for the test peer: POST the peer's
 * offer, apply the 201 answer, PATCH (trickle / ICE restart) and DELETE the
 * session resource. Blocking calls: the peer's context is not iterated while
 * they wait, so keep their timeouts short in the middle of a media test.
 */
#ifndef MR_TEST_WHIP_CLIENT_H
#define MR_TEST_WHIP_CLIENT_H

#include <stdint.h>

#include "http_client.h"
#include "peer.h"

struct mr_test_whip {
    char host[64];
    uint16_t port;
    char token[1024];
    char location[MR_TEST_HTTP_URL_MAX]; /* the session URL (a path) */
    char etag[128];
    int status;        /* of the last request; 0 when none came back */
    char error[64];    /* its JSON "error" code, or "" */
    char detail[256];  /* a reason when something failed */
    int64_t post_us;   /* monotonic time the POST started */
    int64_t answer_us; /* monotonic time its response was read */
};

/*
 * Creates the peer's offer, POSTs it to http://host:port/path with the
 * bearer token, and applies the 201 answer. Returns 0; MR_EIO when no HTTP
 * response came back; MR_EPERM when the server answered anything but 201
 * (see w->status and w->error); or the peer's error for an offer or answer
 * it could not make or apply (w->detail).
 */
int mr_test_whip_connect(struct mr_test_whip *w, struct mr_test_peer *p, const char *host,
                         uint16_t port, const char *path, const char *token, int timeout_ms);

/* The same from a URL "http://127.0.0.1:8080/whep/room/stream". */
int mr_test_whip_connect_url(struct mr_test_whip *w, struct mr_test_peer *p, const char *url,
                             const char *token, int timeout_ms);

/* DELETE the session. Returns the HTTP status, or MR_EIO. */
int mr_test_whip_delete(struct mr_test_whip *w, int timeout_ms);

/* PATCH the session with a trickle-ice-sdpfrag. Returns the HTTP status, or
 * MR_EIO. */
int mr_test_whip_patch(struct mr_test_whip *w, const char *frag, size_t len, int timeout_ms);

#endif
