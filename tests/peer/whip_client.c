/* WHIP/WHEP client sessions: offer out, answer in, PATCH and DELETE. */
#include "whip_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"

static void note_response(struct mr_test_whip *w, const struct mr_test_http_response *r)
{
    w->status = r->status;
    snprintf(w->error, sizeof(w->error), "%s", r->error);
    if (r->status >= 300)
        snprintf(w->detail, sizeof(w->detail), "%.200s", r->body ? r->body : "");
}

int mr_test_whip_connect(struct mr_test_whip *w, struct mr_test_peer *p, const char *host,
                         uint16_t port, const char *path, const char *token, int timeout_ms)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->host, sizeof(w->host), "%s", host);
    w->port = port;
    snprintf(w->token, sizeof(w->token), "%s", token);
    char *offer = NULL;
    size_t offer_len = 0;
    int rc = mr_test_peer_create_offer(p, &offer, &offer_len);
    if (rc < 0) {
        snprintf(w->detail, sizeof(w->detail), "cannot create the offer: %s", mr_strerror(rc));
        return rc;
    }
    char auth[1100];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    const char *headers[] = {auth, "Content-Type: application/sdp", NULL};
    struct mr_test_http_response r;
    w->post_us = mr_clock_mono_us();
    rc = mr_test_http_request(host, port, "POST", path, headers, offer, offer_len, timeout_ms, &r,
                              w->detail, sizeof(w->detail));
    w->answer_us = mr_clock_mono_us();
    free(offer);
    if (rc < 0)
        return MR_EIO;
    note_response(w, &r);
    if (r.status != 201) {
        mr_test_http_response_cleanup(&r);
        return MR_EPERM;
    }
    snprintf(w->location, sizeof(w->location), "%s", r.location);
    snprintf(w->etag, sizeof(w->etag), "%s", r.etag);
    rc = mr_test_peer_apply_answer(p, r.body, r.body_len, w->detail, sizeof(w->detail));
    mr_test_http_response_cleanup(&r);
    return rc;
}

int mr_test_whip_connect_url(struct mr_test_whip *w, struct mr_test_peer *p, const char *url,
                             const char *token, int timeout_ms)
{
    char host[64], path[MR_TEST_HTTP_URL_MAX];
    uint16_t port;
    if (mr_test_http_parse_url(url, host, sizeof(host), &port, path, sizeof(path)) < 0) {
        memset(w, 0, sizeof(*w));
        snprintf(w->detail, sizeof(w->detail), "not an http:// URL: %.200s", url);
        return MR_EINVAL;
    }
    return mr_test_whip_connect(w, p, host, port, path, token, timeout_ms);
}

static int session_request(struct mr_test_whip *w, const char *method, const char *ctype,
                           const char *body, size_t len, int timeout_ms)
{
    char auth[1100], type[128];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", w->token);
    snprintf(type, sizeof(type), "Content-Type: %s", ctype ? ctype : "");
    const char *headers[] = {auth, ctype ? type : NULL, NULL};
    struct mr_test_http_response r;
    w->status = 0;
    int rc = mr_test_http_request(w->host, w->port, method, w->location, headers, body, len,
                                  timeout_ms, &r, w->detail, sizeof(w->detail));
    if (rc < 0)
        return MR_EIO;
    note_response(w, &r);
    if (r.etag[0])
        snprintf(w->etag, sizeof(w->etag), "%s", r.etag);
    mr_test_http_response_cleanup(&r);
    return w->status;
}

int mr_test_whip_delete(struct mr_test_whip *w, int timeout_ms)
{
    return session_request(w, "DELETE", NULL, NULL, 0, timeout_ms);
}

int mr_test_whip_patch(struct mr_test_whip *w, const char *frag, size_t len, int timeout_ms)
{
    return session_request(w, "PATCH", "application/trickle-ice-sdpfrag", frag, len, timeout_ms);
}
