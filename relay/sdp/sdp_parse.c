/*
 * SDP offers (RFC 8866) as WebRTC peers write them: the line loop, the
 * o= and m= lines, session-level defaults, ICE candidates (RFC 8839 §5.1)
 * and the lookups of sdp.h. Attribute values are parsed in sdp_attr.c.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

/* --- Candidates ---------------------------------------------------------- */

/*
 * RFC 8839 §5.1:
 *   candidate-attribute = "candidate" ":" foundation SP component-id SP
 *                         transport SP priority SP connection-address SP
 *                         port SP "typ" SP cand-type
 *                         [SP "raddr" SP connection-address]
 *                         [SP "rport" SP port] *(SP cand-extension)
 *   foundation = 1*32ice-char    component-id = 1*3DIGIT
 *   priority = 1*10DIGIT         cand-extension = name SP value
 * Chromium appends "generation 0 network-id 3 network-cost 50"; such
 * extensions are skipped, but they must come in name/value pairs.
 */

/* An IPv4 or IPv6 address, or a hostname such as an mDNS ".local" name. */
static int parse_cand_addr(struct mr_sdp_span s, char *dst, size_t cap)
{
    for (size_t i = 0; i < s.n; i++) {
        char ch = s.p[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == ':' || ch == '-';
        if (!ok)
            return MR_EPARSE;
    }
    return mr_sdp_span_copy(s, dst, cap);
}

static int parse_cand_port(struct mr_sdp_span s, uint16_t *port)
{
    uint64_t v;
    if (mr_sdp_span_uint(s, 65535, &v) < 0)
        return MR_EPARSE;
    *port = (uint16_t)v;
    return 0;
}

/* The fixed part, up to and including the port. Sets *unsupported for a
 * transport other than UDP or TCP. */
static int parse_cand_head(struct mr_sdp_span *rest, struct mr_sdp_candidate *out,
                           bool *unsupported)
{
    struct mr_sdp_span t[6];
    uint64_t v;
    for (int i = 0; i < 6; i++)
        if (!mr_sdp_token_next(rest, &t[i]))
            return MR_EPARSE;
    if (t[0].n > 32 || !mr_sdp_span_is_ice(t[0]) ||
        mr_sdp_span_copy(t[0], out->foundation, sizeof(out->foundation)) < 0)
        return MR_EPARSE;
    if (mr_sdp_span_uint(t[1], 256, &v) < 0 || v == 0)
        return MR_EPARSE;
    out->component = (unsigned)v;
    if (mr_sdp_span_ieq(t[2], "udp"))
        memcpy(out->transport, "udp", 4);
    else if (mr_sdp_span_ieq(t[2], "tcp"))
        memcpy(out->transport, "tcp", 4);
    else if (mr_sdp_span_is_token(t[2]))
        *unsupported = true;
    else
        return MR_EPARSE;
    if (mr_sdp_span_uint(t[3], UINT32_MAX, &v) < 0 || v == 0)
        return MR_EPARSE;
    out->priority = (uint32_t)v;
    if (parse_cand_addr(t[4], out->addr, sizeof(out->addr)) < 0)
        return MR_EPARSE;
    return parse_cand_port(t[5], &out->port);
}

static int parse_cand_type(struct mr_sdp_span *rest, struct mr_sdp_candidate *out,
                           bool *unsupported)
{
    static const char *const types[] = {"host", "srflx", "prflx", "relay"};
    struct mr_sdp_span typ, type;
    if (!mr_sdp_token_next(rest, &typ) || !mr_sdp_span_eq(typ, "typ") ||
        !mr_sdp_token_next(rest, &type) || !mr_sdp_span_is_token(type))
        return MR_EPARSE;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (mr_sdp_span_eq(type, types[i])) {
            strcpy(out->type, types[i]);
            return 0;
        }
    }
    *unsupported = true;
    return 0;
}

static int parse_cand_ext(struct mr_sdp_span name, struct mr_sdp_span val,
                          struct mr_sdp_candidate *out)
{
    if (!mr_sdp_span_is_token(name))
        return MR_EPARSE;
    if (mr_sdp_span_eq(name, "raddr"))
        return parse_cand_addr(val, out->raddr, sizeof(out->raddr));
    if (mr_sdp_span_eq(name, "rport"))
        return parse_cand_port(val, &out->rport);
    if (mr_sdp_span_eq(name, "tcptype")) {
        if (!mr_sdp_span_eq(val, "active") && !mr_sdp_span_eq(val, "passive") &&
            !mr_sdp_span_eq(val, "so"))
            return MR_EPARSE;
        return mr_sdp_span_copy(val, out->tcptype, sizeof(out->tcptype));
    }
    return 0;
}

int mr_sdp_parse_candidate(const char *value, size_t len, struct mr_sdp_candidate *out)
{
    if (!out || (!value && len))
        return MR_EINVAL;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)value[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return MR_EPARSE;
    }
    struct mr_sdp_span rest = mr_sdp_span_trim((struct mr_sdp_span){value, len});
    static const char prefix[] = "candidate:";
    if (rest.n >= sizeof(prefix) - 1 && memcmp(rest.p, prefix, sizeof(prefix) - 1) == 0) {
        rest.p += sizeof(prefix) - 1;
        rest.n -= sizeof(prefix) - 1;
    }
    bool unsupported = false;
    if (parse_cand_head(&rest, out, &unsupported) < 0 ||
        parse_cand_type(&rest, out, &unsupported) < 0)
        return MR_EPARSE;
    struct mr_sdp_span name, val;
    while (mr_sdp_token_next(&rest, &name)) {
        if (!mr_sdp_token_next(&rest, &val) || parse_cand_ext(name, val, out) < 0)
            return MR_EPARSE;
    }
    /* Well-formed, but not something the relay's ICE agent can use; the
     * SDP parsers skip such candidates instead of refusing the offer. */
    return unsupported ? MR_ENOTSUP : 0;
}

/* --- Lines ---------------------------------------------------------------- */

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static int parse_origin(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span t[6], extra;
    for (int i = 0; i < 6; i++) {
        if (!mr_sdp_token_next(&v, &t[i])) {
            c->why = "o= needs six fields";
            return MR_EPARSE;
        }
    }
    if (mr_sdp_token_next(&v, &extra)) {
        c->why = "o= has more than six fields";
        return MR_EPARSE;
    }
    if (mr_sdp_span_uint(t[1], UINT64_MAX, &c->out->sess_id) < 0 ||
        mr_sdp_span_uint(t[2], UINT64_MAX, &c->out->sess_version) < 0) {
        c->why = "o= session id or version is not a 64-bit number";
        return MR_EPARSE;
    }
    return 0;
}

static const struct {
    uint8_t pt;
    const char *name;
    uint32_t rate;
} static_pts[] = {
    /* RFC 3551 §6: payload types that may appear without an rtpmap. */
    {0, "PCMU", 8000},
    {8, "PCMA", 8000},
    {9, "G722", 8000},
    {13, "CN", 8000},
};

static void add_codec(struct mr_sdp_media *m, uint8_t pt)
{
    if (m->n_codecs >= MR_SDP_MAX_CODECS)
        return; /* Codecs are in preference order: keep the first ones. */
    struct mr_sdp_codec *k = &m->codecs[m->n_codecs++];
    k->pt = pt;
    for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]); i++) {
        if (static_pts[i].pt == pt) {
            strcpy(k->name, static_pts[i].name);
            k->clock_rate = static_pts[i].rate;
        }
    }
}

static bool is_proto(struct mr_sdp_span s)
{
    for (size_t i = 0; i < s.n; i++) {
        struct mr_sdp_span one = {s.p + i, 1};
        if (s.p[i] != '/' && !mr_sdp_span_is_token(one))
            return false;
    }
    return s.n > 0;
}

static bool span_contains(struct mr_sdp_span s, const char *lit)
{
    size_t n = strlen(lit);
    for (size_t i = 0; i + n <= s.n; i++)
        if (memcmp(s.p + i, lit, n) == 0)
            return true;
    return false;
}

/* The format list: payload types 0-127 for RTP profiles, anything else
 * (such as "webrtc-datachannel") for the others. */
static int parse_formats(struct mr_sdp_pctx *c, struct mr_sdp_span rest)
{
    struct mr_sdp_media *m = c->cur;
    bool seen[128] = {false};
    struct mr_sdp_span f;
    unsigned n = 0;
    while (mr_sdp_token_next(&rest, &f)) {
        if (n++ == 0 && mr_sdp_span_copy(f, m->first_fmt, sizeof(m->first_fmt)) < 0) {
            c->why = "m= format too long";
            return MR_EPARSE;
        }
        if (!c->is_rtp)
            continue;
        uint64_t pt;
        if (mr_sdp_span_uint(f, 127, &pt) < 0) {
            c->why = "m= payload type is not a number in 0-127";
            return MR_EPARSE;
        }
        if (seen[pt]) {
            c->why = "m= lists a payload type twice";
            return MR_EPARSE;
        }
        seen[pt] = true;
        add_codec(m, (uint8_t)pt);
    }
    if (c->is_rtp && n == 0) {
        c->why = "m= without payload types";
        return MR_EPARSE;
    }
    return 0;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int parse_media_line(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp *out = c->out;
    if (out->n_media == MR_SDP_MAX_MEDIA) {
        c->why = "too many m= sections";
        return MR_EPARSE;
    }
    struct mr_sdp_media *m = &out->media[out->n_media++];
    memset(m, 0, sizeof(*m));
    c->cur = m;
    c->in_media = true;
    c->dir_set = false;
    memset(c->rtpmap_seen, 0, sizeof(c->rtpmap_seen));
    memset(c->fmtp_seen, 0, sizeof(c->fmtp_seen));
    struct mr_sdp_span kind, port, proto, count;
    uint64_t num;
    if (!mr_sdp_token_next(&v, &kind) || !mr_sdp_token_next(&v, &port) ||
        !mr_sdp_token_next(&v, &proto)) {
        c->why = "m= needs media, port and proto";
        return MR_EPARSE;
    }
    if (!mr_sdp_span_is_token(kind) || mr_sdp_span_copy(kind, m->kind_name, sizeof(m->kind_name))) {
        c->why = "bad m= media type";
        return MR_EPARSE;
    }
    m->kind = mr_sdp_span_eq(kind, "audio")         ? MR_MEDIA_AUDIO
              : mr_sdp_span_eq(kind, "video")       ? MR_MEDIA_VIDEO
              : mr_sdp_span_eq(kind, "application") ? MR_MEDIA_APPLICATION
                                                    : MR_MEDIA_OTHER;
    if (mr_sdp_span_cut(port, '/', &port, &count) &&
        (mr_sdp_span_uint(count, 65535, &num) < 0 || num == 0)) {
        c->why = "bad m= port count";
        return MR_EPARSE;
    }
    if (mr_sdp_span_uint(port, 65535, &num) < 0) {
        c->why = "bad m= port";
        return MR_EPARSE;
    }
    m->port = (uint16_t)num;
    if (!is_proto(proto) || mr_sdp_span_copy(proto, m->proto, sizeof(m->proto)) < 0) {
        c->why = "bad m= proto";
        return MR_EPARSE;
    }
    c->is_rtp = span_contains(proto, "RTP/");
    return parse_formats(c, v);
}

/* --- Session-level defaults ---------------------------------------------- */

static void inherit_extmaps(struct mr_sdp_media *m, const struct mr_sdp_media *s)
{
    for (unsigned i = 0; i < s->n_extmaps && m->n_extmaps < MR_SDP_MAX_EXTMAPS; i++) {
        bool have = false;
        for (unsigned j = 0; j < m->n_extmaps; j++)
            have = have || m->extmaps[j].id == s->extmaps[i].id;
        if (!have)
            m->extmaps[m->n_extmaps++] = s->extmaps[i];
    }
}

/* Resolves what the section did not say from the session level, so that
 * every section holds its effective transport (sdp.h). */
static void finish_media(struct mr_sdp_pctx *c)
{
    struct mr_sdp_media *m = c->cur;
    const struct mr_sdp_media *s = &c->sess;
    if (!m->ice_ufrag[0])
        memcpy(m->ice_ufrag, s->ice_ufrag, sizeof(m->ice_ufrag));
    if (!m->ice_pwd[0])
        memcpy(m->ice_pwd, s->ice_pwd, sizeof(m->ice_pwd));
    m->ice_trickle = m->ice_trickle || s->ice_trickle;
    if (m->fingerprint_len == 0) {
        memcpy(m->fingerprint_alg, s->fingerprint_alg, sizeof(m->fingerprint_alg));
        memcpy(m->fingerprint, s->fingerprint, sizeof(m->fingerprint));
        m->fingerprint_len = s->fingerprint_len;
    }
    if (m->setup == MR_SETUP_NONE)
        m->setup = s->setup;
    m->end_of_candidates = m->end_of_candidates || s->end_of_candidates;
    if (m->n_candidates == 0) {
        memcpy(m->candidates, s->candidates, sizeof(s->candidates[0]) * s->n_candidates);
        m->n_candidates = s->n_candidates;
    }
    if (!c->dir_set)
        m->dir = c->sess_dir_set ? s->dir : MR_DIR_SENDRECV;
    inherit_extmaps(m, s);
}

/* --- The line loop -------------------------------------------------------- */

static int parse_attr_line(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span name = v, value = {v.p + v.n, 0};
    mr_sdp_span_cut(v, ':', &name, &value);
    if (!mr_sdp_span_is_token(name)) {
        c->why = "bad attribute name";
        return MR_EPARSE;
    }
    return mr_sdp_attr_dispatch(c, name, mr_sdp_span_trim(value));
}

static int parse_line(struct mr_sdp_pctx *c, struct mr_sdp_span line, bool *seen_v, bool *seen_o)
{
    /* Trailing blanks are a common slip of hand-written SDP; tolerate them. */
    while (line.n > 0 && (line.p[line.n - 1] == ' ' || line.p[line.n - 1] == '\t'))
        line.n--;
    if (line.n == 0)
        return 0;
    if (line.n < 2 || line.p[0] < 'a' || line.p[0] > 'z' || line.p[1] != '=') {
        c->why = "not a <type>=<value> line";
        return MR_EPARSE;
    }
    struct mr_sdp_span v = {line.p + 2, line.n - 2};
    if (!*seen_v) {
        *seen_v = true;
        if (mr_sdp_span_eq(line, "v=0"))
            return 0;
        c->why = "first line is not v=0";
        return MR_EPARSE;
    }
    switch (line.p[0]) {
    case 'v':
        c->why = "second v= line";
        return MR_EPARSE;
    case 'o':
        if (*seen_o || c->in_media) {
            c->why = "misplaced o= line";
            return MR_EPARSE;
        }
        *seen_o = true;
        return parse_origin(c, v);
    case 'm':
        if (!*seen_o) {
            c->why = "m= before o=";
            return MR_EPARSE;
        }
        if (c->in_media)
            finish_media(c);
        return parse_media_line(c, v);
    case 'a':
        return parse_attr_line(c, v);
    default:
        return 0; /* s=, t=, c=, b=... carry nothing the relay uses. */
    }
}

static void set_err(char *err, size_t err_len, unsigned line_no, const char *why)
{
    if (!err || err_len == 0)
        return;
    if (line_no == 0)
        snprintf(err, err_len, "%s", why);
    else
        snprintf(err, err_len, "line %u: %s", line_no, why);
}

int mr_sdp_parse(const char *text, size_t len, struct mr_sdp *out, char *err, size_t err_len)
{
    if (!out || (!text && len))
        return MR_EINVAL;
    memset(out, 0, sizeof(*out));
    if (err && err_len)
        err[0] = '\0';
    /* About 30 KB of stack for the session-level defaults; the parser does
     * not allocate. */
    struct mr_sdp_pctx c;
    memset(&c, 0, sizeof(c));
    c.out = out;
    c.cur = &c.sess;
    struct mr_sdp_lines it;
    mr_sdp_lines_init(&it, text, len);
    struct mr_sdp_span line;
    bool seen_v = false, seen_o = false;
    int rc;
    while ((rc = mr_sdp_lines_next(&it, true, &line, &c.why)) == 1) {
        if ((rc = parse_line(&c, line, &seen_v, &seen_o)) < 0)
            goto fail;
    }
    if (rc < 0)
        goto fail;
    if (!seen_v || !seen_o) {
        c.why = !seen_v ? "empty description" : "no o= line";
        it.line_no = 0;
        rc = MR_EPARSE;
        goto fail;
    }
    if (c.in_media)
        finish_media(&c);
    return 0;

fail:
    set_err(err, err_len, it.line_no, c.why ? c.why : "malformed");
    out->n_media = 0;
    out->n_bundle = 0;
    return MR_EPARSE;
}

/* --- Lookups -------------------------------------------------------------- */

const struct mr_sdp_codec *mr_sdp_media_codec(const struct mr_sdp_media *m, uint8_t pt)
{
    if (!m)
        return NULL;
    for (unsigned i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

const struct mr_sdp_media *mr_sdp_find_mid(const struct mr_sdp *sdp, const char *mid)
{
    if (!sdp || !mid || !mid[0])
        return NULL;
    for (unsigned i = 0; i < sdp->n_media; i++)
        if (strcmp(sdp->media[i].mid, mid) == 0)
            return &sdp->media[i];
    return NULL;
}

/* fmtp parameters are "name=value" pairs separated by ';' (RFC 8866 §6.15
 * leaves the format to the codec; every codec the relay handles uses this
 * form). Names compare case-insensitively, as media type parameters do. */
int mr_sdp_fmtp_param(const char *fmtp, const char *name, char *out, size_t cap)
{
    if (!fmtp || !name || !out || cap == 0)
        return MR_EINVAL;
    struct mr_sdp_span rest = {fmtp, strlen(fmtp)}, item, key, val;
    while (rest.n > 0) {
        if (!mr_sdp_span_cut(rest, ';', &item, &rest)) {
            item = rest;
            rest.n = 0;
        }
        if (!mr_sdp_span_cut(item, '=', &key, &val))
            continue;
        if (!mr_sdp_span_ieq(mr_sdp_span_trim(key), name))
            continue;
        val = mr_sdp_span_trim(val);
        if (val.n >= cap)
            return MR_ENOSPC;
        memcpy(out, val.p, val.n);
        out[val.n] = '\0';
        return 0;
    }
    return MR_ENOENT;
}

const struct mr_sdp_rid *mr_sdp_media_rid(const struct mr_sdp_media *m, const char *id)
{
    for (unsigned i = 0; m && id && i < m->n_rids; i++)
        if (strcmp(m->rids[i].id, id) == 0)
            return &m->rids[i];
    return NULL;
}
