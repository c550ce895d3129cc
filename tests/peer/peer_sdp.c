/*
 * The test peer's SDP: offers written as a browser writes them (RFC 8829
 * JSEP §5.2.1, RFC 8843 BUNDLE), answers applied, and, in answerer mode,
 * answers written with the relay's own negotiation rules and writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/random.h"
#include "peer_priv.h"

#define ANSWER_MAX 16384

/* --- Offers --------------------------------------------------------------- */

static const char *const video_fb[] = {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"};

/* The RTX format a peer offers for a video payload type (RFC 4588 §8.6),
 * 0: none (a publisher with cfg.no_rtx, a subscriber that never NACKs). */
static uint8_t offered_rtx(const struct mr_test_peer *p, uint8_t pt)
{
    if (p->cfg.role == MR_TEST_PUBLISHER ? p->cfg.no_rtx : !p->cfg.nack)
        return 0;
    return pt == PT_VP8 ? PT_VP8_RTX : PT_H264_RTX;
}

static void put_video_codec(GString *s, uint8_t pt, uint8_t rtx)
{
    if (pt == PT_VP8)
        g_string_append_printf(s, "a=rtpmap:%u VP8/90000\r\n", pt);
    else
        g_string_append_printf(s, "a=rtpmap:%u H264/90000\r\n", pt);
    for (size_t i = 0; i < G_N_ELEMENTS(video_fb); i++)
        g_string_append_printf(s, "a=rtcp-fb:%u %s\r\n", pt, video_fb[i]);
    if (pt == PT_H264)
        g_string_append_printf(s,
                               "a=fmtp:%u level-asymmetry-allowed=1;packetization-mode=1;"
                               "profile-level-id=42e01f\r\n",
                               pt);
    if (rtx)
        g_string_append_printf(s, "a=rtpmap:%u rtx/90000\r\na=fmtp:%u apt=%u\r\n", rtx, rtx, pt);
}

/* The video payload types in preference order: a publisher's codec first. */
static unsigned video_pts(const struct mr_test_peer *p, uint8_t pts[2])
{
    if (p->cfg.role == MR_TEST_SUBSCRIBER) {
        pts[0] = PT_VP8;
        pts[1] = PT_H264;
        return 2;
    }
    if (p->cfg.video_codec == MR_CODEC_H264) {
        pts[0] = PT_H264;
        pts[1] = PT_VP8;
        return 2;
    }
    pts[0] = PT_VP8;
    pts[1] = PT_H264;
    return p->cfg.offer_h264 ? 2 : 1;
}

static void put_transport(GString *s, struct mr_test_peer *p, char (*cands)[MR_ICE_CANDIDATE_MAX],
                          unsigned n_cands)
{
    char ufrag[MR_ICE_CRED_MAX], pwd[MR_ICE_CRED_MAX];
    mr_transport_local_credentials(p->t, ufrag, pwd);
    g_string_append_printf(s, "c=IN IP4 %s\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", p->local_ip);
    for (unsigned i = 0; i < n_cands; i++)
        g_string_append_printf(s, "a=%s\r\n", cands[i]);
    g_string_append(s, "a=end-of-candidates\r\n");
    g_string_append_printf(s, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n", ufrag,
                           pwd);
    g_string_append_printf(s, "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n",
                           mr_transport_fingerprint(p->t));
}

/* A publisher's SSRC, and its RTX SSRC in an FID group (RFC 5576 §4.2,
 * RFC 4588 §8.1), as Chromium writes them. */
static void put_ssrcs(GString *s, const struct mr_test_peer *p, const struct mr_tp_track *t,
                      bool rtx)
{
    uint32_t ssrcs[2] = {t->st.ssrc, t->st.rtx_ssrc};
    if (rtx)
        g_string_append_printf(s, "a=ssrc-group:FID %u %u\r\n", ssrcs[0], ssrcs[1]);
    for (unsigned i = 0; i < (rtx ? 2u : 1u); i++) {
        g_string_append_printf(s, "a=ssrc:%u cname:%s\r\n", ssrcs[i], p->cname);
        g_string_append_printf(s, "a=ssrc:%u msid:%s %s-%s\r\n", ssrcs[i], p->msid_stream,
                               t->st.kind == MR_MEDIA_AUDIO ? "audio" : "video", t->st.mid);
    }
}

/* The simulcast layers of the section track i starts (tracks i ... with
 * its mid and a rid); 0 for a plain stream. */
static unsigned section_layers(const struct mr_test_peer *p, unsigned i)
{
    unsigned n = 0;
    while (i + n < p->n_tracks && p->tracks[i + n].st.rid[0] &&
           strcmp(p->tracks[i + n].st.mid, p->tracks[i].st.mid) == 0)
        n++;
    return n;
}

/* RFC 8851 §4 and RFC 8853 §5.1: a line per layer, then the list, lowest
 * first, after the codecs as Chromium writes them. */
static void put_layers(GString *s, const struct mr_tp_track *t, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        g_string_append_printf(s, "a=rid:%s send\r\n", t[k].st.rid);
    g_string_append(s, "a=simulcast:send ");
    for (unsigned k = 0; k < n; k++)
        g_string_append_printf(s, "%s%s", k ? ";" : "", t[k].st.rid);
    g_string_append(s, "\r\n");
}

/* The section track `first` starts (and its further layers). */
static void put_section(GString *s, struct mr_test_peer *p, unsigned first, uint16_t port,
                        char (*cands)[MR_ICE_CANDIDATE_MAX], unsigned n_cands)
{
    const struct mr_tp_track *t = &p->tracks[first];
    unsigned layers = section_layers(p, first);
    bool audio = t->st.kind == MR_MEDIA_AUDIO;
    uint8_t pts[2] = {PT_OPUS, 0};
    unsigned n_pts = audio ? 1 : video_pts(p, pts);
    g_string_append_printf(s, "m=%s %u UDP/TLS/RTP/SAVPF", audio ? "audio" : "video", port);
    for (unsigned i = 0; i < n_pts; i++) {
        g_string_append_printf(s, " %u", pts[i]);
        if (!audio && offered_rtx(p, pts[i]))
            g_string_append_printf(s, " %u", offered_rtx(p, pts[i]));
    }
    g_string_append(s, "\r\n");
    put_transport(s, p, cands, n_cands);
    g_string_append_printf(s, "a=mid:%s\r\n", t->st.mid);
    g_string_append_printf(s, "a=extmap:%u %s\r\n", EXT_ID_TWCC, URI_TWCC);
    g_string_append_printf(s, "a=extmap:%u %s\r\n", EXT_ID_MID,
                           mr_rtp_ext_kind_uri(MR_RTP_EXT_MID));
    if (layers)
        g_string_append_printf(s, "a=extmap:%u %s\r\na=extmap:%u %s\r\n", EXT_ID_RID,
                               mr_rtp_ext_kind_uri(MR_RTP_EXT_RID), EXT_ID_RRID,
                               mr_rtp_ext_kind_uri(MR_RTP_EXT_RRID));
    if (audio && (p->cfg.client & MR_TEST_CLIENT_EXT))
        g_string_append_printf(s, "a=extmap:%u %s\r\n", EXT_ID_ALVL,
                               mr_rtp_ext_kind_uri(MR_RTP_EXT_AUDIO_LEVEL));
    bool pub = p->cfg.role == MR_TEST_PUBLISHER;
    g_string_append(s, pub ? "a=sendonly\r\n" : "a=recvonly\r\n");
    if (pub)
        g_string_append_printf(s, "a=msid:%s %s-%s\r\n", p->msid_stream, audio ? "audio" : "video",
                               t->st.mid);
    g_string_append(s, "a=rtcp-mux\r\na=rtcp-rsize\r\n");
    if (audio) {
        g_string_append_printf(s,
                               "a=rtpmap:%u opus/48000/2\r\na=rtcp-fb:%u transport-cc\r\n"
                               "a=fmtp:%u minptime=10;useinbandfec=1\r\n",
                               PT_OPUS, PT_OPUS, PT_OPUS);
    } else {
        for (unsigned i = 0; i < n_pts; i++)
            put_video_codec(s, pts[i], offered_rtx(p, pts[i]));
    }
    /* Simulcast: no a=ssrc (Chromium writes none), the rids name the
     * layers and the receiver learns their SSRCs from the packets. */
    if (layers)
        put_layers(s, t, layers);
    else if (pub)
        put_ssrcs(s, p, t, !audio && offered_rtx(p, pts[0]));
}

/* The port of the first candidate, for m= lines (JSEP §5.2.1). */
static uint16_t first_port(char (*cands)[MR_ICE_CANDIDATE_MAX], unsigned n)
{
    struct mr_sdp_candidate c;
    if (n > 0 && mr_sdp_parse_candidate(cands[0], strlen(cands[0]), &c) == 0)
        return c.port;
    return 9;
}

int mr_test_peer_create_offer(struct mr_test_peer *p, char **offer, size_t *len)
{
    int rc = mr_tp_create_transport(p, true);
    if (rc < 0)
        return rc;
    char cands[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
    unsigned n = mr_tp_local_candidates(p, cands, MR_TRANSPORT_MAX_CANDIDATES);
    uint16_t port = first_port(cands, n);
    uint64_t sess = ((uint64_t)mr_random_u32() << 31) ^ mr_random_u32();
    GString *s = g_string_sized_new(4096);
    g_string_append_printf(s, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                           (unsigned long long)sess);
    g_string_append(s, "a=group:BUNDLE");
    for (unsigned i = 0; i < p->n_tracks; i++)
        if (mr_tp_section_head(p, i))
            g_string_append_printf(s, " %s", p->tracks[i].st.mid);
    g_string_append(s, "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS");
    if (p->cfg.role == MR_TEST_PUBLISHER)
        g_string_append_printf(s, " %s", p->msid_stream);
    g_string_append(s, "\r\n");
    for (unsigned i = 0; i < p->n_tracks; i++)
        if (mr_tp_section_head(p, i))
            put_section(s, p, i, port, cands, n);
    *len = s->len;
    *offer = strdup(s->str);
    g_string_free(s, TRUE);
    return *offer ? 0 : MR_ENOMEM;
}

/* --- Remote descriptions -------------------------------------------------- */

/* The first SSRC that is not the retransmission half of an FID group. */
static uint32_t primary_ssrc(const struct mr_sdp_media *m)
{
    for (unsigned i = 0; i < m->n_ssrcs; i++) {
        bool rtx = false;
        for (unsigned f = 0; f < m->n_fid; f++)
            rtx = rtx || m->fid[f][1] == m->ssrcs[i].ssrc;
        if (!rtx)
            return m->ssrcs[i].ssrc;
    }
    return 0;
}

/* The section carrying the bundle's transport: the BUNDLE tag, else the
 * first section with a port. */
static const struct mr_sdp_media *transport_section(const struct mr_sdp *sdp)
{
    if (sdp->n_bundle > 0)
        return mr_sdp_find_mid(sdp, sdp->bundle[0]);
    for (unsigned i = 0; i < sdp->n_media; i++)
        if (sdp->media[i].port != 0)
            return &sdp->media[i];
    return NULL;
}

static void add_candidates(struct mr_test_peer *p, const struct mr_sdp_media *m)
{
    for (unsigned i = 0; i < m->n_candidates; i++) {
        char line[MR_ICE_CANDIDATE_MAX];
        if (mr_sdp_write_candidate(&m->candidates[i], line, sizeof(line)) <= 0)
            continue;
        mr_transport_add_remote_candidate(p->t, line);
        if (p->n_remote_cands < MR_SDP_MAX_CANDIDATES)
            p->remote_cands[p->n_remote_cands++] = m->candidates[i];
    }
}

/* ICE credentials, fingerprint, DTLS role and candidates of the remote side.
 * With BUNDLE, candidates may sit in any section (JSEP puts them in the
 * first); they all reach the one transport. */
static int apply_transport(struct mr_test_peer *p, const struct mr_sdp *sdp,
                           const struct mr_sdp_media *tm, enum mr_dtls_role role)
{
    struct mr_transport_remote r = {
        .ice_ufrag = tm->ice_ufrag,
        .ice_pwd = tm->ice_pwd,
        .fingerprint_alg = tm->fingerprint_alg,
        .fingerprint = tm->fingerprint,
        .fingerprint_len = tm->fingerprint_len,
        .local_role = role,
    };
    int rc = mr_transport_set_remote(p->t, &r);
    if (rc < 0)
        return rc;
    snprintf(p->remote_ufrag, sizeof(p->remote_ufrag), "%s", tm->ice_ufrag);
    bool eoc = false;
    for (unsigned i = 0; i < sdp->n_media; i++) {
        if (sdp->media[i].port == 0)
            continue;
        add_candidates(p, &sdp->media[i]);
        eoc = eoc || sdp->media[i].end_of_candidates;
    }
    if (eoc)
        mr_transport_remote_candidates_done(p->t);
    p->remote_applied = true;
    return 0;
}

/* The RTX format a section keeps for payload type pt (rtx/90000 with
 * apt=pt, RFC 4588 §8.6), or 0. */
static uint8_t rtx_format(const struct mr_sdp_media *m, uint8_t pt)
{
    for (unsigned i = 0; i < m->n_codecs; i++) {
        const struct mr_sdp_codec *k = &m->codecs[i];
        char apt[8];
        if (g_ascii_strcasecmp(k->name, "rtx") == 0 && k->clock_rate == 90000 &&
            mr_sdp_fmtp_param(k->fmtp, "apt", apt, sizeof(apt)) == 0 && atoi(apt) == pt)
            return k->pt;
    }
    return 0;
}

static void read_answer_section(struct mr_tp_track *t, const struct mr_sdp_media *m)
{
    t->st.accepted = m && m->port != 0 && m->dir != MR_DIR_INACTIVE && m->n_codecs > 0;
    if (!t->st.accepted)
        return;
    const struct mr_sdp_codec *c = &m->codecs[0];
    t->st.codec = mr_codec_id_from_name(c->name);
    t->st.pt = c->pt;
    t->st.answer_fb = c->fb;
    t->st.rtx_pt = t->st.kind == MR_MEDIA_VIDEO ? rtx_format(m, c->pt) : 0;
    t->clock_rate = c->clock_rate ? c->clock_rate : t->clock_rate;
    mr_rtp_rx_stats_init(&t->rx, t->clock_rate);
    t->st.answer_extmaps = m->n_extmaps;
    for (unsigned i = 0; i < m->n_extmaps; i++) {
        enum mr_rtp_ext_kind kind = mr_rtp_ext_kind_from_uri(m->extmaps[i].uri);
        if (kind == MR_RTP_EXT_MID)
            t->st.mid_ext_id = m->extmaps[i].id;
        else if (kind == MR_RTP_EXT_AUDIO_LEVEL)
            t->level_ext_id = m->extmaps[i].id;
    }
    t->st.remote_ssrc = primary_ssrc(m);
}

/* The id a section's extmap gives an extension, 0: none. */
static uint8_t extmap_id(const struct mr_sdp_media *m, enum mr_rtp_ext_kind kind)
{
    for (unsigned i = 0; m && i < m->n_extmaps; i++)
        if (mr_rtp_ext_kind_from_uri(m->extmaps[i].uri) == kind)
            return m->extmaps[i].id;
    return 0;
}

/*
 * A publisher's simulcast layers (RFC 8853 §5.3: the answerer reverses the
 * direction): a layer is accepted when its section is, the answer has
 * a=simulcast, an a=rid:<id> recv line for it, and keeps the rtp-stream-id
 * extension. Layers it leaves out are not sent. With fewer than two
 * accepted, the answer refused simulcast (the relay answers one layer as a
 * plain stream): the top layer goes alone, without rid, as a browser falls
 * back to one encoding.
 */
static void read_answer_layers(struct mr_test_peer *p, const struct mr_sdp *a)
{
    p->layers_accepted = 0;
    int top = -1;
    bool section_ok = false;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (!t->st.rid[0])
            continue;
        const struct mr_sdp_media *m = mr_sdp_find_mid(a, t->st.mid);
        const struct mr_sdp_rid *r = m ? mr_sdp_media_rid(m, t->st.rid) : NULL;
        uint8_t rid = extmap_id(m, MR_RTP_EXT_RID);
        section_ok = t->st.accepted;
        top = (int)i;
        t->st.accepted = t->st.accepted && m->simulcast && r && !r->send && rid;
        t->rid_ext_id = t->st.accepted ? rid : 0;
        t->rrid_ext_id = t->st.accepted ? extmap_id(m, MR_RTP_EXT_RRID) : 0;
        p->layers_accepted += t->st.accepted;
    }
    if (top < 0 || p->layers_accepted >= 2)
        return;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        struct mr_tp_track *t = &p->tracks[i];
        if (t->st.rid[0]) {
            t->st.accepted = (int)i == top && section_ok;
            t->rid_ext_id = t->rrid_ext_id = 0;
        }
    }
    p->layers_accepted = 0;
}

int mr_test_peer_apply_answer(struct mr_test_peer *p, const char *sdp, size_t len, char *err,
                              size_t err_len)
{
    if (!p->t || p->remote_applied)
        return MR_ESTATE;
    struct mr_sdp *a = malloc(sizeof(*a));
    if (!a)
        return MR_ENOMEM;
    char why[160] = "";
    int rc = mr_sdp_parse(sdp, len, a, why, sizeof(why));
    if (rc < 0) {
        snprintf(err, err_len, "unparseable answer: %s", why);
        goto out;
    }
    unsigned accepted = 0;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        read_answer_section(&p->tracks[i], mr_sdp_find_mid(a, p->tracks[i].st.mid));
        accepted += p->tracks[i].st.accepted;
    }
    read_answer_layers(p, a);
    const struct mr_sdp_media *tm = transport_section(a);
    if (!tm || accepted == 0) {
        snprintf(err, err_len, "the answer accepts none of the offered sections");
        rc = MR_ECODEC;
        goto out;
    }
    /* RFC 8842 §5.2: an answerer that says passive is the DTLS server. */
    rc = apply_transport(p, a, tm, tm->setup == MR_SETUP_ACTIVE ? MR_DTLS_SERVER : MR_DTLS_CLIENT);
    if (rc < 0)
        snprintf(err, err_len, "the answer's transport parameters were refused: %s",
                 mr_strerror(rc));
out:
    free(a);
    return rc;
}

/* --- Answerer ------------------------------------------------------------- */

/* Whether an offered section is one this peer takes, in its role. */
static bool wanted(const struct mr_test_peer *p, const struct mr_sdp_media *m)
{
    if (m->port == 0 || (m->kind != MR_MEDIA_AUDIO && m->kind != MR_MEDIA_VIDEO) ||
        !strstr(m->proto, "RTP/SAVP") || !m->rtcp_mux)
        return false;
    if ((m->kind == MR_MEDIA_AUDIO && p->cfg.no_audio) ||
        (m->kind == MR_MEDIA_VIDEO && p->cfg.no_video))
        return false;
    if (p->cfg.role == MR_TEST_SUBSCRIBER)
        return m->dir == MR_DIR_SENDONLY || m->dir == MR_DIR_SENDRECV;
    return m->dir == MR_DIR_RECVONLY || m->dir == MR_DIR_SENDRECV;
}

static void answer_section(struct mr_test_peer *p, const struct mr_sdp_media *m,
                           struct mr_sdp_answer_media *am)
{
    struct mr_codec codec;
    struct mr_ext_ids ext;
    am->offer = m;
    /* A re-offer: a known mid keeps its track and counters. */
    struct mr_tp_track *known = p->answered ? mr_tp_track_by_mid(p, m->mid) : NULL;
    if ((!known && p->n_tracks == MR_TEST_PEER_MAX_TRACKS) || !wanted(p, m) ||
        mr_negotiate_publish_codec(m, &codec) < 0) {
        am->rejected = true;
        if (known)
            known->st.accepted = false;
        return;
    }
    mr_negotiate_ext_ids(m, &ext);
    mr_negotiate_fill_answer(am, &codec, &ext);
    if (known && known->st.accepted) {
        am->dir = p->cfg.role == MR_TEST_SUBSCRIBER ? MR_DIR_RECVONLY : MR_DIR_SENDONLY;
        if (p->cfg.role == MR_TEST_PUBLISHER) {
            am->ssrc = known->st.ssrc;
            am->rtx_ssrc = known->st.rtx_pt ? known->st.rtx_ssrc : 0;
            snprintf(am->cname, sizeof(am->cname), "%s", p->cname);
        }
        return;
    }
    struct mr_tp_track *t = known ? known : &p->tracks[p->n_tracks++];
    mr_tp_reset_track(t, m->kind, m->mid);
    t->st.accepted = true;
    t->st.codec = codec.id;
    t->st.pt = codec.pt;
    t->st.answer_fb = codec.fb;
    /* The answer keeps the offer's RTX format (mr_negotiate_fill_answer). */
    struct mr_sdp_codec rtx;
    t->st.rtx_pt = mr_negotiate_rtx_sdp(&codec, &rtx) ? codec.rtx_pt : 0;
    t->st.mid_ext_id = ext.id[MR_RTP_EXT_MID];
    t->level_ext_id = ext.id[MR_RTP_EXT_AUDIO_LEVEL];
    t->st.answer_extmaps = am->n_extmaps;
    t->st.remote_ssrc = primary_ssrc(m);
    t->clock_rate = codec.clock_rate;
    mr_rtp_rx_stats_init(&t->rx, t->clock_rate);
    if (p->cfg.role == MR_TEST_SUBSCRIBER) {
        am->dir = MR_DIR_RECVONLY;
        return;
    }
    am->dir = MR_DIR_SENDONLY;
    am->ssrc = t->st.ssrc;
    am->rtx_ssrc = t->st.rtx_pt ? t->st.rtx_ssrc : 0;
    snprintf(am->cname, sizeof(am->cname), "%s", p->cname);
    snprintf(am->msid_stream, sizeof(am->msid_stream), "%s", p->msid_stream);
    snprintf(am->msid_track, sizeof(am->msid_track), "%s-%s",
             m->kind == MR_MEDIA_AUDIO ? "audio" : "video", m->mid);
}

static int write_answer(struct mr_test_peer *p, struct mr_sdp_answer *a, char **out, size_t *len)
{
    char lines[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
    struct mr_sdp_candidate cands[MR_TRANSPORT_MAX_CANDIDATES];
    char ufrag[MR_ICE_CRED_MAX], pwd[MR_ICE_CRED_MAX];
    unsigned n_lines = mr_tp_local_candidates(p, lines, MR_TRANSPORT_MAX_CANDIDATES);
    unsigned n = 0;
    for (unsigned i = 0; i < n_lines; i++)
        if (mr_sdp_parse_candidate(lines[i], strlen(lines[i]), &cands[n]) == 0)
            n++;
    mr_transport_local_credentials(p->t, ufrag, pwd);
    a->sess_id = ((uint64_t)mr_random_u32() << 31) ^ mr_random_u32();
    a->sess_version = 1;
    a->ice_ufrag = ufrag;
    a->ice_pwd = pwd;
    a->fingerprint_alg = "sha-256";
    a->fingerprint = mr_transport_fingerprint(p->t);
    a->conn_addr = p->local_ip;
    a->conn_port = n > 0 ? cands[0].port : 9;
    a->n_candidates = n;
    a->candidates = cands;
    a->end_of_candidates = true;
    char *text = malloc(ANSWER_MAX);
    int rc = text ? mr_sdp_write_answer(a, text, ANSWER_MAX) : MR_ENOMEM;
    if (rc < 0) {
        free(text);
        return rc;
    }
    *out = text;
    *len = (size_t)rc;
    return 0;
}

/* The answer to a later offer on the same transport: same credentials and
 * DTLS role, sections updated. */
static int answer_again(struct mr_test_peer *p, const struct mr_sdp *o, struct mr_sdp_answer *a,
                        char **answer, size_t *answer_len, char *err, size_t err_len)
{
    const struct mr_sdp_media *tm = transport_section(o);
    if (tm && strcmp(tm->ice_ufrag, p->remote_ufrag) != 0) {
        snprintf(err, err_len, "the re-offer changes the ICE ufrag (no ICE restart here)");
        return MR_ESTATE;
    }
    a->n_media = o->n_media;
    for (unsigned i = 0; i < o->n_media; i++)
        answer_section(p, &o->media[i], &a->media[i]);
    a->setup = p->answer_active ? MR_SETUP_ACTIVE : MR_SETUP_PASSIVE;
    int rc = write_answer(p, a, answer, answer_len);
    if (rc < 0)
        snprintf(err, err_len, "cannot answer: %s", mr_strerror(rc));
    return rc;
}

int mr_test_peer_answer(struct mr_test_peer *p, const char *offer, size_t len, char **answer,
                        size_t *answer_len, char *err, size_t err_len)
{
    if (p->t && !p->answered)
        return MR_ESTATE;
    if (p->cfg.video_layers > 1) {
        snprintf(err, err_len, "simulcast layers are sent in offerer mode only");
        return MR_EINVAL;
    }
    struct mr_sdp *o = malloc(sizeof(*o));
    struct mr_sdp_answer *a = calloc(1, sizeof(*a));
    char why[160] = "";
    int rc = (o && a) ? mr_sdp_parse(offer, len, o, why, sizeof(why)) : MR_ENOMEM;
    if (rc < 0) {
        snprintf(err, err_len, "unparseable offer: %s", why);
        goto out;
    }
    if (p->answered) {
        rc = answer_again(p, o, a, answer, answer_len, err, err_len);
        goto out;
    }
    /* The offer decides the sections: forget the offerer-mode defaults. */
    p->n_tracks = 0;
    a->n_media = o->n_media;
    for (unsigned i = 0; i < o->n_media; i++)
        answer_section(p, &o->media[i], &a->media[i]);
    const struct mr_sdp_media *tm = transport_section(o);
    if (p->n_tracks == 0 || !tm) {
        snprintf(err, err_len, "the offer has no section this peer can take");
        rc = MR_ECODEC;
        goto out;
    }
    /* RFC 8445 §6.1.1: the offerer controls, unless it is ice-lite. */
    rc = mr_tp_create_transport(p, o->ice_lite);
    bool client = tm->setup != MR_SETUP_ACTIVE;
    a->setup = client ? MR_SETUP_ACTIVE : MR_SETUP_PASSIVE;
    if (rc == 0)
        rc = apply_transport(p, o, tm, client ? MR_DTLS_CLIENT : MR_DTLS_SERVER);
    if (rc == 0)
        rc = write_answer(p, a, answer, answer_len);
    if (rc < 0)
        snprintf(err, err_len, "cannot answer: %s", mr_strerror(rc));
    p->answered = rc == 0;
    p->answer_active = client;
out:
    free(o);
    free(a);
    return rc;
}
