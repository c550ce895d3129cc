/*
 * Trickle ICE fragments: application/trickle-ice-sdpfrag (RFC 8840 §9), as a
 * WHIP/WHEP client sends them in a PATCH (RFC 9725 §4.3.1):
 *
 *   a=ice-options:trickle ice2
 *   a=group:BUNDLE 0 1
 *   m=audio 9 UDP/TLS/RTP/SAVPF 111
 *   a=mid:0
 *   a=ice-ufrag:EsAw
 *   a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y
 *   a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host
 *   a=end-of-candidates
 *
 * With BUNDLE there is one transport, so candidates of every m= section are
 * gathered into one list and all sections must carry the same credentials.
 * The m=, a=mid and other lines are accepted and not interpreted. Unlike a
 * full description, the last line may lack its line end: clients build
 * fragments by hand and often join lines without a final CRLF.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

/* Stores an ICE credential; a second, different value in another section
 * would ask for two transports, which BUNDLE excludes. */
static int frag_cred(char *dst, struct mr_sdp_span v, size_t min, const char **why)
{
    char tmp[MR_SDP_ICE_MAX + 1];
    if (mr_sdp_ice_cred(v, min, tmp) < 0) {
        *why =
            min == 4 ? "a=ice-ufrag is not 4-256 ice-chars" : "a=ice-pwd is not 22-256 ice-chars";
        return MR_EPARSE;
    }
    if (dst[0] && strcmp(dst, tmp) != 0) {
        *why = "m= sections carry different ICE credentials";
        return MR_EPARSE;
    }
    memcpy(dst, tmp, sizeof(tmp));
    return 0;
}

static int frag_attr(struct mr_sdp_frag *out, struct mr_sdp_span name, struct mr_sdp_span v,
                     const char **why)
{
    if (mr_sdp_span_eq(name, "ice-ufrag"))
        return frag_cred(out->ice_ufrag, v, 4, why);
    if (mr_sdp_span_eq(name, "ice-pwd"))
        return frag_cred(out->ice_pwd, v, 22, why);
    if (mr_sdp_span_eq(name, "end-of-candidates")) {
        out->end_of_candidates = true;
        return 0;
    }
    if (!mr_sdp_span_eq(name, "candidate"))
        return 0;
    struct mr_sdp_candidate cand;
    int rc = mr_sdp_parse_candidate(v.p, v.n, &cand);
    if (rc == MR_ENOTSUP)
        return 0;
    if (rc < 0) {
        *why = "bad a=candidate";
        return MR_EPARSE;
    }
    if (out->n_candidates < MR_SDP_MAX_CANDIDATES)
        out->candidates[out->n_candidates++] = cand;
    return 0;
}

static int frag_line(struct mr_sdp_frag *out, struct mr_sdp_span line, const char **why)
{
    while (line.n > 0 && (line.p[line.n - 1] == ' ' || line.p[line.n - 1] == '\t'))
        line.n--;
    if (line.n == 0)
        return 0;
    if (line.n < 2 || line.p[0] < 'a' || line.p[0] > 'z' || line.p[1] != '=') {
        *why = "not a <type>=<value> line";
        return MR_EPARSE;
    }
    if (line.p[0] != 'a')
        return 0;
    struct mr_sdp_span v = {line.p + 2, line.n - 2}, name = v, value = {v.p + v.n, 0};
    mr_sdp_span_cut(v, ':', &name, &value);
    if (!mr_sdp_span_is_token(name)) {
        *why = "bad attribute name";
        return MR_EPARSE;
    }
    return frag_attr(out, name, mr_sdp_span_trim(value), why);
}

int mr_sdp_parse_frag(const char *text, size_t len, struct mr_sdp_frag *out, char *err,
                      size_t err_len)
{
    if (!out || (!text && len))
        return MR_EINVAL;
    memset(out, 0, sizeof(*out));
    if (err && err_len)
        err[0] = '\0';
    struct mr_sdp_lines it;
    struct mr_sdp_span line;
    const char *why = "malformed";
    int rc;
    mr_sdp_lines_init(&it, text, len);
    while ((rc = mr_sdp_lines_next(&it, false, &line, &why)) == 1) {
        if ((rc = frag_line(out, line, &why)) < 0)
            break;
    }
    if (rc == 0)
        return 0;
    if (err && err_len)
        snprintf(err, err_len, "line %u: %s", it.line_no, why);
    memset(out, 0, sizeof(*out));
    return MR_EPARSE;
}
