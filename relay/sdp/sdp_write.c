/*
 * Answers (RFC 8829 JSEP §5.3.1, RFC 8843 BUNDLE) and candidate lines.
 *
 * Every accepted section carries the same ICE credentials, fingerprint and
 * setup role: that is the JSEP form of a bundled answer and what Chromium
 * and aiortc both read (aiortc checks each section for them). Candidates and
 * end-of-candidates go in the first accepted section only, the one whose
 * mid leads the BUNDLE group, as JSEP §5.3.1 does for bundled sections;
 * peers take the transport from that section.
 *
 * A rejected section keeps its media type, proto, one format and its mid, so
 * the offerer can match it (RFC 8843 §7.3.3: port zero, left out of the
 * BUNDLE group), plus a=inactive and, for RTP, a=rtcp-mux: harmless, and
 * some parsers check rtcp-mux on every RTP section.
 *
 * Every string that comes from the caller is checked for control bytes
 * before it is written, so that no value can end a line early and add
 * attributes of its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

struct wbuf {
    char *p;
    size_t cap;
    size_t len;
    bool full;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(struct wbuf *w, const char *fmt, ...)
{
    if (w->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->full = true;
        return;
    }
    w->len += (size_t)n;
}

/* --- Candidates (RFC 8839 §5.1) ------------------------------------------- */

/* A fixed-size field holds a NUL, and a word: no blank or control byte,
 * which would break the line or let it not parse back. */
static bool word_ok(const char *s, size_t size, bool may_be_empty)
{
    if (!memchr(s, '\0', size) || strpbrk(s, " \t") || !mr_sdp_str_is_text(s))
        return false;
    return may_be_empty || s[0] != '\0';
}

#define WORD_OK(field, may_be_empty) word_ok((field), sizeof(field), (may_be_empty))

static bool cand_valid(const struct mr_sdp_candidate *c)
{
    return WORD_OK(c->foundation, false) && WORD_OK(c->transport, false) &&
           WORD_OK(c->addr, false) && WORD_OK(c->type, false) && WORD_OK(c->raddr, true) &&
           WORD_OK(c->tcptype, true) && c->component > 0;
}

static void put_candidate(struct wbuf *w, const struct mr_sdp_candidate *c)
{
    put(w, "candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component, c->transport,
        (unsigned)c->priority, c->addr, (unsigned)c->port, c->type);
    if (c->raddr[0])
        put(w, " raddr %s rport %u", c->raddr, (unsigned)c->rport);
    if (c->tcptype[0])
        put(w, " tcptype %s", c->tcptype);
}

int mr_sdp_write_candidate(const struct mr_sdp_candidate *c, char *out, size_t cap)
{
    if (!c || !out || !cand_valid(c))
        return MR_EINVAL;
    struct wbuf w = {out, cap, 0, cap == 0};
    put_candidate(&w, c);
    if (w.full)
        return MR_ENOSPC;
    return (int)w.len;
}

/* --- Answer sections ------------------------------------------------------ */

static const char *dir_name(enum mr_direction d)
{
    switch (d) {
    case MR_DIR_SENDONLY:
        return "sendonly";
    case MR_DIR_RECVONLY:
        return "recvonly";
    case MR_DIR_INACTIVE:
        return "inactive";
    default:
        return "sendrecv";
    }
}

static bool is_rtp(const struct mr_sdp_media *m)
{
    return strstr(m->proto, "RTP/") != NULL;
}

static void put_rejected(struct wbuf *w, const struct mr_sdp_answer_media *am)
{
    const struct mr_sdp_media *m = am->offer;
    put(w, "m=%s 0 %s %s\r\n", m->kind_name, m->proto, m->first_fmt[0] ? m->first_fmt : "0");
    put(w, "c=IN IP4 0.0.0.0\r\n");
    if (m->mid[0])
        put(w, "a=mid:%s\r\n", m->mid);
    put(w, "a=inactive\r\n");
    if (is_rtp(m))
        put(w, "a=rtcp-mux\r\n");
}

static void put_transport(struct wbuf *w, const struct mr_sdp_answer *a)
{
    put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", a->ice_ufrag, a->ice_pwd);
    put(w, "a=fingerprint:%s %s\r\n", a->fingerprint_alg, a->fingerprint);
    put(w, "a=setup:%s\r\n", a->setup == MR_SETUP_ACTIVE ? "active" : "passive");
}

static void put_codecs(struct wbuf *w, const struct mr_sdp_answer_media *am)
{
    static const struct {
        uint32_t flag;
        const char *text;
    } fbs[] = {{MR_FB_NACK, "nack"},
               {MR_FB_NACK_PLI, "nack pli"},
               {MR_FB_CCM_FIR, "ccm fir"},
               {MR_FB_GOOG_REMB, "goog-remb"},
               {MR_FB_TWCC, "transport-cc"}};
    for (unsigned i = 0; i < am->n_codecs; i++) {
        const struct mr_sdp_codec *k = &am->codecs[i];
        put(w, "a=rtpmap:%u %s/%u", (unsigned)k->pt, k->name, (unsigned)k->clock_rate);
        if (k->channels)
            put(w, "/%u", (unsigned)k->channels);
        put(w, "\r\n");
        for (size_t f = 0; f < sizeof(fbs) / sizeof(fbs[0]); f++)
            if (k->fb & fbs[f].flag)
                put(w, "a=rtcp-fb:%u %s\r\n", (unsigned)k->pt, fbs[f].text);
        if (k->fmtp[0])
            put(w, "a=fmtp:%u %s\r\n", (unsigned)k->pt, k->fmtp);
    }
}

/* RFC 5576 ssrc lines: the media SSRC, and with a retransmission SSRC the
 * FID group that pairs them (RFC 4588 §8.1). */
static void put_ssrcs(struct wbuf *w, uint32_t ssrc, uint32_t rtx_ssrc, const char *cname,
                      const char *stream, const char *track)
{
    uint32_t ssrcs[2] = {ssrc, rtx_ssrc};
    if (rtx_ssrc)
        put(w, "a=ssrc-group:FID %u %u\r\n", (unsigned)ssrc, (unsigned)rtx_ssrc);
    for (unsigned i = 0; i < 2 && ssrcs[i]; i++) {
        put(w, "a=ssrc:%u cname:%s\r\n", (unsigned)ssrcs[i], cname);
        if (track[0])
            put(w, "a=ssrc:%u msid:%s %s\r\n", (unsigned)ssrcs[i], stream, track);
    }
}

/* RFC 8830 msid and RFC 5576 ssrc lines for a section the relay sends on. */
static void put_source(struct wbuf *w, const struct mr_sdp_answer_media *am)
{
    if (am->ssrc == 0 || (am->dir != MR_DIR_SENDONLY && am->dir != MR_DIR_SENDRECV))
        return;
    const char *stream = am->msid_stream[0] ? am->msid_stream : "-";
    if (am->msid_track[0])
        put(w, "a=msid:%s %s\r\n", stream, am->msid_track);
    put_ssrcs(w, am->ssrc, am->rtx_ssrc, am->cname, stream, am->msid_track);
}

static void put_candidates(struct wbuf *w, const struct mr_sdp_candidate *cands, unsigned n,
                           bool end_of_candidates)
{
    for (unsigned i = 0; i < n; i++) {
        put(w, "a=");
        put_candidate(w, &cands[i]);
        put(w, "\r\n");
    }
    if (end_of_candidates)
        put(w, "a=end-of-candidates\r\n");
}

/* RFC 8851/8853: the layers the relay receives. */
static void put_simulcast(struct wbuf *w, const struct mr_sdp_answer_media *am)
{
    if (am->n_rids == 0)
        return;
    for (unsigned i = 0; i < am->n_rids; i++)
        put(w, "a=rid:%s recv\r\n", am->rids[i].rid);
    put(w, "a=simulcast:recv ");
    for (unsigned i = 0; i < am->n_rids; i++)
        put(w, "%s%s%s", i ? ";" : "", am->rids[i].paused ? "~" : "", am->rids[i].rid);
    put(w, "\r\n");
}

static void put_accepted(struct wbuf *w, const struct mr_sdp_answer *a,
                         const struct mr_sdp_answer_media *am, bool first)
{
    const struct mr_sdp_media *m = am->offer;
    /* Every accepted section, one offered bundle-only too, gets the
     * bundle's address:port (RFC 9143 §7.3, which replaced RFC 8843's
     * "port 0 + a=bundle-only" in answers): GStreamer's webrtcbin leaves a
     * port-0 section of an answer unassociated and sends nothing on it. */
    put(w, "m=%s %u %s", m->kind_name, (unsigned)a->conn_port, m->proto);
    for (unsigned i = 0; i < am->n_codecs; i++)
        put(w, " %u", (unsigned)am->codecs[i].pt);
    put(w, "\r\nc=IN %s %s\r\n", strchr(a->conn_addr, ':') ? "IP6" : "IP4", a->conn_addr);
    if (m->mid[0])
        put(w, "a=mid:%s\r\n", m->mid);
    put(w, "a=%s\r\n", dir_name(am->dir));
    put_transport(w, a);
    put(w, "a=rtcp-mux\r\n");
    if (m->rtcp_rsize)
        put(w, "a=rtcp-rsize\r\n");
    for (unsigned i = 0; i < am->n_extmaps; i++)
        put(w, "a=extmap:%u %s\r\n", (unsigned)am->extmaps[i].id, am->extmaps[i].uri);
    put_codecs(w, am);
    put_source(w, am);
    put_simulcast(w, am);
    if (first)
        put_candidates(w, a->candidates, a->n_candidates, a->end_of_candidates);
}

/* --- Checks ----------------------------------------------------------------- */

/* A caller's NUL-terminated string: a non-empty word. */
static bool text_ok(const char *s)
{
    return s && s[0] && mr_sdp_str_is_text(s) && !strpbrk(s, " \t");
}

static bool offer_valid(const struct mr_sdp_media *m)
{
    /* The offered section is normally the parser's output; check it anyway,
     * since its strings are written back verbatim. */
    return m && WORD_OK(m->kind_name, false) && WORD_OK(m->proto, false) && WORD_OK(m->mid, true) &&
           WORD_OK(m->first_fmt, true);
}

static bool codec_valid(const struct mr_sdp_codec *k)
{
    if (k->pt > 127 || !WORD_OK(k->name, false))
        return false;
    return memchr(k->fmtp, '\0', sizeof(k->fmtp)) && mr_sdp_str_is_text(k->fmtp);
}

static bool media_valid(const struct mr_sdp_answer_media *am)
{
    if (!offer_valid(am->offer))
        return false;
    if (am->rejected)
        return true;
    if (am->n_codecs == 0 || am->n_codecs > MR_SDP_ANSWER_MAX_CODECS ||
        am->n_extmaps > MR_SDP_ANSWER_MAX_EXTMAPS || am->dir > MR_DIR_INACTIVE)
        return false;
    for (unsigned i = 0; i < am->n_codecs; i++)
        if (!codec_valid(&am->codecs[i]))
            return false;
    for (unsigned i = 0; i < am->n_extmaps; i++)
        if (am->extmaps[i].id == 0 || !WORD_OK(am->extmaps[i].uri, false))
            return false;
    if (am->n_rids > MR_SDP_ANSWER_MAX_RIDS)
        return false;
    for (unsigned i = 0; i < am->n_rids; i++)
        if (!WORD_OK(am->rids[i].rid, false) || strpbrk(am->rids[i].rid, ";,~"))
            return false;
    if (am->ssrc == 0)
        return true;
    return WORD_OK(am->cname, false) && WORD_OK(am->msid_stream, true) &&
           WORD_OK(am->msid_track, true);
}

static bool answer_valid(const struct mr_sdp_answer *a)
{
    if (a->n_media > MR_SDP_MAX_MEDIA || (a->n_candidates && !a->candidates))
        return false;
    if (!text_ok(a->ice_ufrag) || !text_ok(a->ice_pwd) || !text_ok(a->fingerprint_alg) ||
        !text_ok(a->fingerprint) || !text_ok(a->conn_addr))
        return false;
    if (a->setup != MR_SETUP_ACTIVE && a->setup != MR_SETUP_PASSIVE)
        return false;
    for (unsigned i = 0; i < a->n_candidates; i++)
        if (!cand_valid(&a->candidates[i]))
            return false;
    for (unsigned i = 0; i < a->n_media; i++)
        if (!media_valid(&a->media[i]))
            return false;
    return true;
}

/* --- Answer --------------------------------------------------------------- */

static void put_session(struct wbuf *w, const struct mr_sdp_answer *a)
{
    put(w, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
        (unsigned long long)a->sess_id, (unsigned long long)a->sess_version);
    bool any = false;
    for (unsigned i = 0; i < a->n_media; i++) {
        const struct mr_sdp_answer_media *am = &a->media[i];
        if (am->rejected || !am->offer->mid[0])
            continue;
        put(w, any ? " %s" : "a=group:BUNDLE %s", am->offer->mid);
        any = true;
    }
    if (any)
        put(w, "\r\n");
    /* The relay takes trickled candidates (PATCH, RFC 9725 §4.3.1). */
    put(w, "a=ice-options:trickle\r\n");
    put(w, "a=msid-semantic: WMS *\r\n");
}

int mr_sdp_write_answer(const struct mr_sdp_answer *a, char *out, size_t cap)
{
    if (!a || !out || !answer_valid(a))
        return MR_EINVAL;
    struct wbuf w = {out, cap, 0, cap == 0};
    put_session(&w, a);
    bool first = true;
    for (unsigned i = 0; i < a->n_media; i++) {
        const struct mr_sdp_answer_media *am = &a->media[i];
        if (am->rejected) {
            put_rejected(&w, am);
        } else {
            put_accepted(&w, a, am, first);
            first = false;
        }
    }
    if (w.full) {
        if (cap)
            out[0] = '\0';
        return MR_ENOSPC;
    }
    return (int)w.len;
}

/* --- Offer ---------------------------------------------------------------- */

/*
 * The relay's own offers (room subscriptions): every live section sends one
 * codec on one SSRC. A retired section stays in place with port 0 (JSEP
 * §5.2.2: the number of m-lines never shrinks) and keeps a format and its
 * rtpmap, so that it parses like any other section.
 */

#define OFFER_PROTO "UDP/TLS/RTP/SAVPF"

static bool same_codec(const struct mr_sdp_codec *a, const struct mr_sdp_codec *b)
{
    return strcmp(a->name, b->name) == 0 && a->clock_rate == b->clock_rate &&
           a->channels == b->channels && strcmp(a->fmtp, b->fmtp) == 0;
}

static bool offer_media_valid(const struct mr_sdp_offer *o, unsigned i)
{
    const struct mr_sdp_offer_media *m = &o->media[i];
    if ((m->kind != MR_MEDIA_AUDIO && m->kind != MR_MEDIA_VIDEO) || !WORD_OK(m->mid, false) ||
        m->codec.pt < 96 || !codec_valid(&m->codec) || m->codec.clock_rate == 0 ||
        m->n_extmaps > MR_SDP_ANSWER_MAX_EXTMAPS)
        return false;
    if (m->rtx.name[0] &&
        (m->rtx.pt < 96 || m->rtx.pt == m->codec.pt || !codec_valid(&m->rtx)))
        return false;
    if (m->red.name[0] && (m->red.pt == m->codec.pt || !codec_valid(&m->red)))
        return false;
    for (unsigned k = 0; k < m->n_extmaps; k++)
        if (m->extmaps[k].id == 0 || m->extmaps[k].id > 14 || !WORD_OK(m->extmaps[k].uri, false))
            return false;
    if (!m->retired && (m->ssrc == 0 || !WORD_OK(m->cname, false) ||
                        !WORD_OK(m->msid_stream, true) || !WORD_OK(m->msid_track, true)))
        return false;
    for (unsigned j = 0; j < i; j++) {
        const struct mr_sdp_offer_media *e = &o->media[j];
        if (strcmp(e->mid, m->mid) == 0)
            return false;
        /* RFC 8843 §9.1: within a bundle a payload type means one codec
         * configuration. */
        if (e->codec.pt == m->codec.pt && !same_codec(&e->codec, &m->codec))
            return false;
    }
    return true;
}

static bool offer_valid_all(const struct mr_sdp_offer *o)
{
    if (o->n_media > MR_SDP_MAX_MEDIA || (o->n_candidates && !o->candidates))
        return false;
    if (!text_ok(o->ice_ufrag) || !text_ok(o->ice_pwd) || !text_ok(o->fingerprint_alg) ||
        !text_ok(o->fingerprint) || !text_ok(o->conn_addr))
        return false;
    for (unsigned i = 0; i < o->n_candidates; i++)
        if (!cand_valid(&o->candidates[i]))
            return false;
    for (unsigned i = 0; i < o->n_media; i++)
        if (!offer_media_valid(o, i))
            return false;
    return true;
}

static const char *offer_kind(const struct mr_sdp_offer_media *m)
{
    return m->kind == MR_MEDIA_AUDIO ? "audio" : "video";
}

static void put_offer_codec(struct wbuf *w, const struct mr_sdp_offer_media *m)
{
    struct mr_sdp_answer_media am = {.n_codecs = 0};
    if (m->red.name[0])
        am.codecs[am.n_codecs++] = m->red;
    am.codecs[am.n_codecs++] = m->codec;
    if (m->rtx.name[0])
        am.codecs[am.n_codecs++] = m->rtx;
    put_codecs(w, &am);
}

static void put_offer_retired(struct wbuf *w, const struct mr_sdp_offer_media *m)
{
    const struct mr_sdp_codec *k = &m->codec;
    put(w, "m=%s 0 " OFFER_PROTO " %u\r\nc=IN IP4 0.0.0.0\r\n", offer_kind(m), (unsigned)k->pt);
    put(w, "a=mid:%s\r\na=inactive\r\na=rtcp-mux\r\n", m->mid);
    put(w, "a=rtpmap:%u %s/%u", (unsigned)k->pt, k->name, (unsigned)k->clock_rate);
    if (k->channels)
        put(w, "/%u", (unsigned)k->channels);
    put(w, "\r\n");
}

static void put_offer_live(struct wbuf *w, const struct mr_sdp_offer *o,
                           const struct mr_sdp_offer_media *m, bool first)
{
    put(w, "m=%s %u " OFFER_PROTO, offer_kind(m), (unsigned)o->conn_port);
    if (m->red.name[0])
        put(w, " %u", (unsigned)m->red.pt);
    put(w, " %u", (unsigned)m->codec.pt);
    if (m->rtx.name[0])
        put(w, " %u", (unsigned)m->rtx.pt);
    put(w, "\r\n");
    put(w, "c=IN %s %s\r\n", strchr(o->conn_addr, ':') ? "IP6" : "IP4", o->conn_addr);
    put(w, "a=mid:%s\r\na=sendonly\r\n", m->mid);
    put(w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", o->ice_ufrag, o->ice_pwd);
    put(w, "a=fingerprint:%s %s\r\n", o->fingerprint_alg, o->fingerprint);
    /* RFC 8842 §5.2: an offerer must say actpass. */
    put(w, "a=setup:actpass\r\na=rtcp-mux\r\na=rtcp-rsize\r\n");
    for (unsigned i = 0; i < m->n_extmaps; i++)
        put(w, "a=extmap:%u %s\r\n", (unsigned)m->extmaps[i].id, m->extmaps[i].uri);
    put_offer_codec(w, m);
    const char *stream = m->msid_stream[0] ? m->msid_stream : "-";
    if (m->msid_track[0])
        put(w, "a=msid:%s %s\r\n", stream, m->msid_track);
    put_ssrcs(w, m->ssrc, m->rtx_ssrc, m->cname, stream, m->msid_track);
    if (first)
        put_candidates(w, o->candidates, o->n_candidates, o->end_of_candidates);
}

int mr_sdp_write_offer(const struct mr_sdp_offer *o, char *out, size_t cap)
{
    if (!o || !out || !offer_valid_all(o))
        return MR_EINVAL;
    struct wbuf w = {out, cap, 0, cap == 0};
    put(&w, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
        (unsigned long long)o->sess_id, (unsigned long long)o->sess_version);
    bool any = false;
    for (unsigned i = 0; i < o->n_media; i++) {
        if (o->media[i].retired)
            continue;
        put(&w, any ? " %s" : "a=group:BUNDLE %s", o->media[i].mid);
        any = true;
    }
    if (any)
        put(&w, "\r\n");
    put(&w, "a=ice-options:trickle\r\na=msid-semantic: WMS *\r\n");
    bool first = true;
    for (unsigned i = 0; i < o->n_media; i++) {
        const struct mr_sdp_offer_media *m = &o->media[i];
        if (m->retired) {
            put_offer_retired(&w, m);
        } else {
            put_offer_live(&w, o, m, first);
            first = false;
        }
    }
    if (w.full) {
        if (cap)
            out[0] = '\0';
        return MR_ENOSPC;
    }
    return (int)w.len;
}
