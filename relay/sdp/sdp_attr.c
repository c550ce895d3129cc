/*
 * SDP attributes (a= lines) of an offer, dispatched through a table.
 *
 * Values that the relay acts on (payload types, extension ids, ICE
 * credentials, fingerprints, mids) are checked strictly; attributes the relay
 * does not use are ignored, and so are payload types the m= line does not
 * list. A handler runs on c->cur, which before the first m= line holds the
 * session-level values that media sections inherit.
 */
#include <string.h>

#include "core/error.h"
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

static int fail(struct mr_sdp_pctx *c, const char *why)
{
    c->why = why;
    return MR_EPARSE;
}

static bool take_bit(uint8_t *bits, uint8_t pt)
{
    bool was = bits[pt >> 3] & (1u << (pt & 7));
    bits[pt >> 3] |= (uint8_t)(1u << (pt & 7));
    return was;
}

static struct mr_sdp_codec *find_codec(struct mr_sdp_media *m, uint64_t pt)
{
    for (unsigned i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

/* --- Session ------------------------------------------------------------- */

/* RFC 5888 §5: a=group:<semantics> *(SP <identification-tag>). Only the first
 * BUNDLE group counts: the relay bundles everything on one transport. */
static int attr_group(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span sem, mid;
    struct mr_sdp *out = c->out;
    if (!mr_sdp_token_next(&v, &sem) || !mr_sdp_span_eq(sem, "BUNDLE"))
        return 0;
    bool first = !c->bundle_seen;
    c->bundle_seen = true;
    while (mr_sdp_token_next(&v, &mid)) {
        if (mid.n > MR_SDP_MID_MAX || !mr_sdp_span_is_token(mid))
            return fail(c, "bad mid in a=group:BUNDLE");
        if (first && out->n_bundle < MR_SDP_MAX_MEDIA)
            mr_sdp_span_copy(mid, out->bundle[out->n_bundle++], MR_SDP_MID_MAX + 1);
    }
    return 0;
}

static int attr_ice_lite(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    c->out->ice_lite = true;
    return 0;
}

static int attr_allow_mixed(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    c->out->extmap_allow_mixed = true;
    return 0;
}

/* --- Transport: ICE (RFC 8839 §5) and DTLS (RFC 8842, RFC 8122) ------------ */

static int attr_ice_ufrag(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    if (c->cur->ice_ufrag[0])
        return fail(c, "second a=ice-ufrag");
    if (mr_sdp_ice_cred(v, 4, c->cur->ice_ufrag) < 0)
        return fail(c, "a=ice-ufrag is not 4-256 ice-chars");
    return 0;
}

static int attr_ice_pwd(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    if (c->cur->ice_pwd[0])
        return fail(c, "second a=ice-pwd");
    if (mr_sdp_ice_cred(v, 22, c->cur->ice_pwd) < 0)
        return fail(c, "a=ice-pwd is not 22-256 ice-chars");
    return 0;
}

static int attr_ice_options(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span opt;
    while (mr_sdp_token_next(&v, &opt))
        if (mr_sdp_span_eq(opt, "trickle"))
            c->cur->ice_trickle = true;
    return 0;
}

static int attr_candidate(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_candidate cand;
    int rc = mr_sdp_parse_candidate(v.p, v.n, &cand);
    if (rc == MR_ENOTSUP)
        return 0;
    if (rc < 0)
        return fail(c, "bad a=candidate");
    if (c->cur->n_candidates < MR_SDP_MAX_CANDIDATES)
        c->cur->candidates[c->cur->n_candidates++] = cand;
    return 0;
}

static int attr_end_of_candidates(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    c->cur->end_of_candidates = true;
    return 0;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* RFC 8122 §5: fingerprint = hash-func SP 2UHEX *(":" 2UHEX). Lowercase hex
 * is accepted too; the digest must have the length of its hash. */
static int parse_fingerprint(struct mr_sdp_span v, char *alg, uint8_t *digest, unsigned *len)
{
    static const struct {
        const char *name;
        unsigned len;
    } algs[] = {{"sha-1", 20}, {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48}, {"sha-512", 64}};
    struct mr_sdp_span name, hex, extra;
    if (!mr_sdp_token_next(&v, &name) || !mr_sdp_token_next(&v, &hex) ||
        mr_sdp_token_next(&v, &extra))
        return MR_EPARSE;
    unsigned want = 0;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (mr_sdp_span_ieq(name, algs[i].name)) {
            strcpy(alg, algs[i].name);
            want = algs[i].len;
        }
    }
    if (want == 0 || hex.n != want * 3 - 1)
        return MR_EPARSE;
    for (unsigned i = 0; i < want; i++) {
        int hi = hex_value(hex.p[3 * i]), lo = hex_value(hex.p[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i + 1 < want && hex.p[3 * i + 2] != ':'))
            return MR_EPARSE;
        digest[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = want;
    return 0;
}

/* Several fingerprints may be offered (RFC 8122 §5); every one must be well
 * formed, and the first is the one the DTLS handshake checks. */
static int attr_fingerprint(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    char alg[16];
    uint8_t digest[MR_SDP_FPR_MAX];
    unsigned len = 0;
    if (parse_fingerprint(v, alg, digest, &len) < 0)
        return fail(c, "bad a=fingerprint (algorithm or digest length)");
    struct mr_sdp_media *m = c->cur;
    if (m->fingerprint_len == 0) {
        memcpy(m->fingerprint_alg, alg, sizeof(alg));
        memcpy(m->fingerprint, digest, len);
        m->fingerprint_len = len;
    }
    return 0;
}

static int attr_setup(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    if (c->cur->setup != MR_SETUP_NONE)
        return fail(c, "second a=setup");
    if (mr_sdp_span_eq(v, "actpass"))
        c->cur->setup = MR_SETUP_ACTPASS;
    else if (mr_sdp_span_eq(v, "active"))
        c->cur->setup = MR_SETUP_ACTIVE;
    else if (mr_sdp_span_eq(v, "passive"))
        c->cur->setup = MR_SETUP_PASSIVE;
    else
        return fail(c, "a=setup is not actpass, active or passive");
    return 0;
}

/* --- Media: identity and direction --------------------------------------- */

static int set_dir(struct mr_sdp_pctx *c, enum mr_direction dir)
{
    bool *set = c->in_media ? &c->dir_set : &c->sess_dir_set;
    if (*set)
        return fail(c, "second direction attribute");
    *set = true;
    c->cur->dir = dir;
    return 0;
}

static int attr_sendrecv(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    return set_dir(c, MR_DIR_SENDRECV);
}

static int attr_sendonly(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    return set_dir(c, MR_DIR_SENDONLY);
}

static int attr_recvonly(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    return set_dir(c, MR_DIR_RECVONLY);
}

static int attr_inactive(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    return set_dir(c, MR_DIR_INACTIVE);
}

/* RFC 8843 §9.1: a=mid:<identification-tag>, unique in the description. */
static int attr_mid(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_media *m = c->cur;
    if (m->mid[0])
        return fail(c, "second a=mid");
    if (v.n > MR_SDP_MID_MAX || !mr_sdp_span_is_token(v) ||
        mr_sdp_span_copy(v, m->mid, sizeof(m->mid)) < 0)
        return fail(c, "a=mid is not a token of 1-32 characters");
    for (unsigned i = 0; i + 1 < c->out->n_media; i++)
        if (strcmp(c->out->media[i].mid, m->mid) == 0)
            return fail(c, "duplicate a=mid");
    return 0;
}

static int attr_msid(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    if (!c->cur->msid[0] && mr_sdp_span_copy(v, c->cur->msid, sizeof(c->cur->msid)) < 0)
        return fail(c, "a=msid empty or too long");
    return 0;
}

static int attr_rtcp_mux(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    c->cur->rtcp_mux = true;
    return 0;
}

static int attr_rtcp_rsize(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    c->cur->rtcp_rsize = true;
    return 0;
}

static int attr_bundle_only(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    c->cur->bundle_only = true;
    return 0;
}

/* --- Media: codecs (RFC 8866 §6.6, §6.15; RFC 4585 §4.2) ------------------ */

/* a=rtpmap:<pt> <encoding name>/<clock rate>[/<channels>] */
static int attr_rtpmap(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span pt_s, enc, name, rate, chan;
    uint64_t pt, r, ch = 0;
    if (!mr_sdp_token_next(&v, &pt_s) || !mr_sdp_token_next(&v, &enc) ||
        mr_sdp_span_uint(pt_s, 127, &pt) < 0)
        return fail(c, "a=rtpmap payload type is not a number in 0-127");
    if (!mr_sdp_span_cut(enc, '/', &name, &rate))
        return fail(c, "a=rtpmap without clock rate");
    if (mr_sdp_span_cut(rate, '/', &rate, &chan) && (mr_sdp_span_uint(chan, 255, &ch) < 0 || !ch))
        return fail(c, "a=rtpmap channels not in 1-255");
    if (mr_sdp_span_uint(rate, UINT32_MAX, &r) < 0 || r == 0)
        return fail(c, "a=rtpmap clock rate is not a 32-bit number");
    if (name.n >= sizeof(c->cur->codecs[0].name) || !mr_sdp_span_is_token(name))
        return fail(c, "a=rtpmap encoding name empty or too long");
    if (take_bit(c->rtpmap_seen, (uint8_t)pt))
        return fail(c, "second a=rtpmap for a payload type");
    struct mr_sdp_codec *k = find_codec(c->cur, pt);
    if (!k)
        return 0;
    mr_sdp_span_copy(name, k->name, sizeof(k->name));
    k->clock_rate = (uint32_t)r;
    k->channels = (uint8_t)ch;
    return 0;
}

/* a=fmtp:<pt> <parameters> */
static int attr_fmtp(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span pt_s;
    uint64_t pt;
    if (!mr_sdp_token_next(&v, &pt_s) || mr_sdp_span_uint(pt_s, 127, &pt) < 0)
        return fail(c, "a=fmtp payload type is not a number in 0-127");
    v = mr_sdp_span_trim(v);
    if (v.n > MR_SDP_FMTP_MAX)
        return fail(c, "a=fmtp parameters too long");
    if (take_bit(c->fmtp_seen, (uint8_t)pt))
        return fail(c, "second a=fmtp for a payload type");
    struct mr_sdp_codec *k = find_codec(c->cur, pt);
    if (k && v.n)
        mr_sdp_span_copy(v, k->fmtp, sizeof(k->fmtp));
    return 0;
}

static uint32_t fb_flag(struct mr_sdp_span type, struct mr_sdp_span param)
{
    bool none = param.n == 0;
    if (mr_sdp_span_eq(type, "nack"))
        return none ? MR_FB_NACK : mr_sdp_span_eq(param, "pli") ? MR_FB_NACK_PLI : 0;
    if (mr_sdp_span_eq(type, "ccm"))
        return mr_sdp_span_eq(param, "fir") ? MR_FB_CCM_FIR : 0;
    if (mr_sdp_span_eq(type, "goog-remb") && none)
        return MR_FB_GOOG_REMB;
    if (mr_sdp_span_eq(type, "transport-cc") && none)
        return MR_FB_TWCC;
    return 0;
}

/* a=rtcp-fb:<pt or *> <type> [<parameter>] */
static int attr_rtcp_fb(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span pt_s, type;
    uint64_t pt = 0;
    bool all;
    if (!mr_sdp_token_next(&v, &pt_s) || !mr_sdp_token_next(&v, &type))
        return fail(c, "a=rtcp-fb needs a payload type and a type");
    all = mr_sdp_span_eq(pt_s, "*");
    if (!all && mr_sdp_span_uint(pt_s, 127, &pt) < 0)
        return fail(c, "a=rtcp-fb payload type is not * or a number in 0-127");
    uint32_t flag = fb_flag(type, mr_sdp_span_trim(v));
    for (unsigned i = 0; i < c->cur->n_codecs; i++)
        if (all || c->cur->codecs[i].pt == pt)
            c->cur->codecs[i].fb |= flag;
    return 0;
}

/* --- Media: header extensions (RFC 8285 §8) ------------------------------- */

/* a=extmap:<id>["/"<direction>] <URI> [<extension attributes>] */
static int attr_extmap(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span id_s, dir, uri;
    uint64_t id;
    if (!mr_sdp_token_next(&v, &id_s) || !mr_sdp_token_next(&v, &uri))
        return fail(c, "a=extmap needs an id and a URI");
    if (mr_sdp_span_cut(id_s, '/', &id_s, &dir) && !mr_sdp_span_eq(dir, "sendrecv") &&
        !mr_sdp_span_eq(dir, "sendonly") && !mr_sdp_span_eq(dir, "recvonly") &&
        !mr_sdp_span_eq(dir, "inactive"))
        return fail(c, "a=extmap direction unknown");
    if (mr_sdp_span_uint(id_s, 255, &id) < 0 || id == 0)
        return fail(c, "a=extmap id is not in 1-255");
    struct mr_sdp_media *m = c->cur;
    if (uri.n >= sizeof(m->extmaps[0].uri))
        return fail(c, "a=extmap URI too long");
    for (unsigned i = 0; i < m->n_extmaps; i++)
        if (m->extmaps[i].id == id)
            return fail(c, "a=extmap id used twice");
    if (m->n_extmaps < MR_SDP_MAX_EXTMAPS) {
        struct mr_sdp_extmap *e = &m->extmaps[m->n_extmaps++];
        e->id = (uint8_t)id;
        mr_sdp_span_copy(uri, e->uri, sizeof(e->uri));
    }
    return 0;
}

/* --- Media: sources (RFC 5576) -------------------------------------------- */

static struct mr_sdp_ssrc *ssrc_entry(struct mr_sdp_media *m, uint32_t ssrc)
{
    for (unsigned i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc)
            return &m->ssrcs[i];
    if (m->n_ssrcs == MR_SDP_MAX_SSRCS)
        return NULL;
    struct mr_sdp_ssrc *s = &m->ssrcs[m->n_ssrcs++];
    s->ssrc = ssrc;
    return s;
}

/* a=ssrc:<ssrc-id> <attribute>[:<value>] */
static int attr_ssrc(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span id_s, attr, val;
    uint64_t id;
    if (!mr_sdp_token_next(&v, &id_s) || mr_sdp_span_uint(id_s, UINT32_MAX, &id) < 0)
        return fail(c, "a=ssrc id is not a 32-bit number");
    struct mr_sdp_ssrc *s = ssrc_entry(c->cur, (uint32_t)id);
    v = mr_sdp_span_trim(v);
    if (!s || !mr_sdp_span_cut(v, ':', &attr, &val))
        return 0;
    if (mr_sdp_span_eq(attr, "cname") && mr_sdp_span_copy(val, s->cname, sizeof(s->cname)) < 0)
        return fail(c, "a=ssrc cname empty or too long");
    if (mr_sdp_span_eq(attr, "msid") && mr_sdp_span_copy(val, s->msid, sizeof(s->msid)) < 0)
        return fail(c, "a=ssrc msid empty or too long");
    return 0;
}

/* a=ssrc-group:<semantics> *(SP <ssrc-id>); FID pairs a primary SSRC with
 * its retransmission SSRC (RFC 4588 §8). */
static int attr_ssrc_group(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_span sem, s;
    uint64_t ids[2];
    unsigned n = 0;
    if (!mr_sdp_token_next(&v, &sem))
        return fail(c, "a=ssrc-group without semantics");
    while (mr_sdp_token_next(&v, &s)) {
        uint64_t id;
        if (mr_sdp_span_uint(s, UINT32_MAX, &id) < 0)
            return fail(c, "a=ssrc-group id is not a 32-bit number");
        if (n < 2)
            ids[n] = id;
        n++;
    }
    if (!mr_sdp_span_eq(sem, "FID"))
        return 0;
    if (n != 2)
        return fail(c, "a=ssrc-group:FID needs two SSRCs");
    struct mr_sdp_media *m = c->cur;
    if (m->n_fid < MR_SDP_MAX_FID) {
        m->fid[m->n_fid][0] = (uint32_t)ids[0];
        m->fid[m->n_fid][1] = (uint32_t)ids[1];
        m->n_fid++;
    }
    return 0;
}

/* --- Dispatch ------------------------------------------------------------- */

enum { AT_SESSION = 1, AT_MEDIA = 2, AT_BOTH = 3 };

static const struct {
    const char *name;
    unsigned where;
    int (*fn)(struct mr_sdp_pctx *c, struct mr_sdp_span v);
} attr_table[] = {
    {"group", AT_SESSION, attr_group},
    {"ice-lite", AT_SESSION, attr_ice_lite},
    {"extmap-allow-mixed", AT_BOTH, attr_allow_mixed},
    {"ice-ufrag", AT_BOTH, attr_ice_ufrag},
    {"ice-pwd", AT_BOTH, attr_ice_pwd},
    {"ice-options", AT_BOTH, attr_ice_options},
    {"candidate", AT_BOTH, attr_candidate},
    {"end-of-candidates", AT_BOTH, attr_end_of_candidates},
    {"fingerprint", AT_BOTH, attr_fingerprint},
    {"setup", AT_BOTH, attr_setup},
    {"sendrecv", AT_BOTH, attr_sendrecv},
    {"sendonly", AT_BOTH, attr_sendonly},
    {"recvonly", AT_BOTH, attr_recvonly},
    {"inactive", AT_BOTH, attr_inactive},
    {"extmap", AT_BOTH, attr_extmap},
    {"mid", AT_MEDIA, attr_mid},
    {"msid", AT_MEDIA, attr_msid},
    {"rtcp-mux", AT_MEDIA, attr_rtcp_mux},
    {"rtcp-rsize", AT_MEDIA, attr_rtcp_rsize},
    {"simulcast", AT_MEDIA, mr_sdp_attr_simulcast},
    {"rid", AT_MEDIA, mr_sdp_attr_rid},
    {"bundle-only", AT_MEDIA, attr_bundle_only},
    {"rtpmap", AT_MEDIA, attr_rtpmap},
    {"fmtp", AT_MEDIA, attr_fmtp},
    {"rtcp-fb", AT_MEDIA, attr_rtcp_fb},
    {"ssrc", AT_MEDIA, attr_ssrc},
    {"ssrc-group", AT_MEDIA, attr_ssrc_group},
};

int mr_sdp_attr_dispatch(struct mr_sdp_pctx *c, struct mr_sdp_span name, struct mr_sdp_span value)
{
    unsigned here = c->in_media ? AT_MEDIA : AT_SESSION;
    for (size_t i = 0; i < sizeof(attr_table) / sizeof(attr_table[0]); i++) {
        if (!mr_sdp_span_eq(name, attr_table[i].name))
            continue;
        /* An attribute at the wrong level is ignored, as an unknown one. */
        if (!(attr_table[i].where & here))
            return 0;
        return attr_table[i].fn(c, value);
    }
    return 0;
}
