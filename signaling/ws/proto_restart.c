/*
 * A publisher's ICE restart over the room protocol (docs/protocol.md): the
 * clinic's network changed (4G <-> Wi-Fi, a new address) and its browser
 * made a new offer with new ICE credentials (createOffer({iceRestart:
 * true})). The same relay session restarts ICE, as a WHIP PATCH does, so
 * DTLS, SRTP, the stream, its viewers and its recording carry on; the
 * client gets an ordinary "answer": the last one, with the relay's new
 * credentials and candidates.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "ws/proto_priv.h"

#define FRAG_MAX 4096

/* The value of the first "a=<attr>:" line of sdp in out; false if none. */
static bool sdp_attr(const char *sdp, const char *attr, char *out, size_t cap)
{
    char key[32];
    snprintf(key, sizeof(key), "a=%s:", attr);
    for (const char *l = sdp; l && *l;) {
        const char *end = l + strcspn(l, "\r\n");
        size_t klen = strlen(key);
        if ((size_t)(end - l) > klen && strncmp(l, key, klen) == 0 &&
            (size_t)(end - l) - klen < cap) {
            memcpy(out, l + klen, (size_t)(end - l) - klen);
            out[(size_t)(end - l) - klen] = '\0';
            return true;
        }
        l = end + strspn(end, "\r\n");
    }
    return false;
}

/* The restart's fragment (RFC 8840) from the new offer: its credentials and
 * the candidates it already carries. Returns the length or MR_EPARSE. */
static int offer_fragment(const char *sdp, char *out, size_t cap)
{
    char ufrag[257], pwd[257];
    if (!sdp_attr(sdp, "ice-ufrag", ufrag, sizeof(ufrag)) ||
        !sdp_attr(sdp, "ice-pwd", pwd, sizeof(pwd)))
        return MR_EPARSE;
    int n = snprintf(out, cap, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag, pwd);
    for (const char *l = sdp; n > 0 && (size_t)n < cap && *l;) {
        const char *end = l + strcspn(l, "\r\n");
        if (strncmp(l, "a=candidate:", 12) == 0)
            n += snprintf(out + n, cap - (size_t)n, "%.*s\r\n", (int)(end - l), l);
        l = end + strspn(end, "\r\n");
    }
    return n > 0 && (size_t)n < cap ? n : MR_EPARSE;
}

/* The last answer with the relay's new credentials and candidates (from
 * its fragment): the old candidates go, the new ones follow the first
 * a=mid (one bundled transport). */
static char *restarted_answer(const char *old, const char *frag)
{
    char ufrag[257], pwd[257];
    if (!sdp_attr(frag, "ice-ufrag", ufrag, sizeof(ufrag)) ||
        !sdp_attr(frag, "ice-pwd", pwd, sizeof(pwd)))
        return NULL;
    GString *out = g_string_new(NULL);
    bool placed = false;
    for (const char *l = old; *l;) {
        const char *end = l + strcspn(l, "\r\n");
        int len = (int)(end - l);
        if (strncmp(l, "a=ice-ufrag:", 12) == 0)
            g_string_append_printf(out, "a=ice-ufrag:%s\r\n", ufrag);
        else if (strncmp(l, "a=ice-pwd:", 10) == 0)
            g_string_append_printf(out, "a=ice-pwd:%s\r\n", pwd);
        else if (strncmp(l, "a=candidate:", 12) != 0 && strncmp(l, "a=end-of-candidates", 19) != 0)
            g_string_append_printf(out, "%.*s\r\n", len, l);
        if (!placed && strncmp(l, "a=mid:", 6) == 0) {
            placed = true;
            for (const char *f = frag; *f;) {
                const char *fend = f + strcspn(f, "\r\n");
                if (strncmp(f, "a=candidate:", 12) == 0)
                    g_string_append_printf(out, "%.*s\r\n", (int)(fend - f), f);
                f = fend + strspn(fend, "\r\n");
            }
        }
        l = end + strspn(end, "\r\n");
    }
    return g_string_free(out, FALSE);
}

static void restarted(const struct mr_session_result *res, void *user)
{
    struct pub *pb = user;
    json_t *re = pb->restart_re;
    pb->restart_re = NULL;
    pb->restart_ticket = 0;
    char *frag = res->err < 0 ? NULL : g_strndup(res->answer, res->answer_len);
    char *answer = frag ? restarted_answer(pb->answer, frag) : NULL;
    g_free(frag);
    if (answer) {
        free(pb->answer);
        pb->answer = strdup(answer);
    }
    if (pb->c && !answer) {
        proto_error(pb->c, re, "publish", res->err < 0 ? proto_error_code(res->err) : "internal",
                    res->err < 0 ? res->detail : "could not write the new answer");
    } else if (pb->c) {
        json_t *msg = json_pack("{s:s, s:s, s:s, s:s}", "type", "answer", "pc", "publisher",
                                "stream", pb->stream, "sdp", answer);
        if (msg && re)
            json_object_set(msg, "re", re);
        proto_send(pb->c, msg);
    }
    g_free(answer);
    json_decref(re);
}

void proto_restart_publisher(struct client *c, struct pub *pb, json_t *sdp, json_t *re)
{
    if (!pb || !pb->session[0] || !pb->answer) {
        proto_error(c, re, "publish", "session-not-found",
                    "nothing published under that name on this connection to restart");
        return;
    }
    if (pb->restart_ticket) {
        proto_error(c, re, "publish", "bad-request", "an ICE restart is already under way");
        return;
    }
    char frag[FRAG_MAX];
    int n = offer_fragment(json_string_value(sdp), frag, sizeof(frag));
    if (n < 0) {
        proto_error(c, re, "publish", "bad-sdp", "the offer carries no a=ice-ufrag and a=ice-pwd");
        return;
    }
    char detail[256] = "";
    int rc = mr_relay_patch(c->p->relay, pb->session, frag, (size_t)n, restarted, pb,
                            &pb->restart_ticket, detail, sizeof(detail));
    if (rc == MR_EAGAIN) {
        pb->restart_re = re ? json_incref(re) : NULL;
        return;
    }
    pb->restart_ticket = 0;
    if (rc == 0)
        proto_error(c, re, "publish", "bad-request",
                    "the offer keeps the ICE credentials: not an ICE restart");
    else if (rc == MR_ENOENT)
        proto_error(c, re, "publish", "session-not-found", "the connection is gone");
    else
        proto_error(c, re, "publish", rc == MR_EBUSY ? "bad-request" : "bad-sdp", detail);
}

void proto_restart_cancel(struct mr_room_proto *p, struct pub *pb)
{
    if (pb->restart_ticket)
        mr_relay_cancel(p->relay, pb->restart_ticket);
    pb->restart_ticket = 0;
}
