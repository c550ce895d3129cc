/* Negotiation plans: which m-lines of an offer the relay accepts, and how. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sfu/sfu_priv.h"

void mr_plan_free(struct mr_plan *plan)
{
    if (!plan)
        return;
    free(plan->offer);
    free(plan);
}

static bool in_bundle(const struct mr_sdp *sdp, const char *mid)
{
    for (unsigned i = 0; i < sdp->n_bundle; i++)
        if (strcmp(sdp->bundle[i], mid) == 0)
            return true;
    return false;
}

/* Audio or video over DTLS-SRTP, and not rejected by the offerer: port 0
 * means rejected unless the section is bundle-only and in the group
 * (RFC 8843 §6: what webrtcbin offers for every section after the first
 * with bundle-policy=max-bundle). */
static bool usable_media(const struct mr_sdp *sdp, const struct mr_sdp_media *m)
{
    if (m->kind != MR_MEDIA_AUDIO && m->kind != MR_MEDIA_VIDEO)
        return false;
    bool bundled = sdp->n_bundle > 0 && in_bundle(sdp, m->mid);
    if (sdp->n_bundle > 0 && !bundled)
        return false;
    if (m->port == 0 && !(m->bundle_only && bundled))
        return false;
    return strstr(m->proto, "RTP/SAVP") != NULL; /* DTLS-SRTP only */
}

/*
 * Finds the m-line that carries the bundle's transport (RFC 8843 §7.2: the
 * first mid of the group) and checks it has what ICE and DTLS need.
 */
static int check_transport(struct mr_plan *plan, char *detail, size_t dlen)
{
    const struct mr_sdp *sdp = plan->offer;
    int tm = -1;
    unsigned usable = 0;
    /* Nothing to negotiate at all is a malformed offer, not a codec
     * mismatch (RFC 8829 §5.8: an offer describes its media sections). */
    if (sdp->n_media == 0) {
        snprintf(detail, dlen, "the offer has no media section (m=)");
        return MR_EPARSE;
    }
    for (unsigned i = 0; i < sdp->n_media; i++)
        if (usable_media(sdp, &sdp->media[i]))
            usable++;
    if (sdp->n_bundle > 0) {
        for (unsigned i = 0; i < sdp->n_media && tm < 0; i++)
            if (strcmp(sdp->media[i].mid, sdp->bundle[0]) == 0)
                tm = (int)i;
    } else if (usable == 1) {
        for (unsigned i = 0; i < sdp->n_media && tm < 0; i++)
            if (usable_media(sdp, &sdp->media[i]))
                tm = (int)i;
    } else if (usable > 1) {
        snprintf(detail, dlen, "the offer must bundle its media (a=group:BUNDLE)");
        return MR_EPARSE;
    }
    if (tm < 0) {
        snprintf(detail, dlen, "the offer has no audio or video section over UDP/TLS/RTP/SAVPF");
        return MR_ECODEC;
    }
    const struct mr_sdp_media *m = &sdp->media[tm];
    if (m->port == 0) {
        /* RFC 8843 §7.2.1: the offerer-tagged section is never bundle-only. */
        snprintf(detail, dlen, "the first section of the BUNDLE group has port 0");
        return MR_EPARSE;
    }
    if (!m->ice_ufrag[0] || !m->ice_pwd[0]) {
        snprintf(detail, dlen, "the offer has no a=ice-ufrag/a=ice-pwd");
        return MR_EPARSE;
    }
    if (m->fingerprint_len == 0) {
        snprintf(detail, dlen, "the offer has no a=fingerprint (DTLS-SRTP is required)");
        return MR_EPARSE;
    }
    plan->transport_m = (unsigned)tm;
    return 0;
}

static int check_rtcp_mux(const struct mr_plan *plan, char *detail, size_t dlen)
{
    /* Within a bundle, rtcp-mux is a property of the one transport (RFC
     * 8843 §9.3): the tagged section's says it for all. */
    bool tag_mux = plan->offer->n_bundle > 0 && plan->offer->media[plan->transport_m].rtcp_mux;
    for (unsigned i = 0; i < plan->offer->n_media; i++) {
        if (plan->media[i].accepted && !plan->offer->media[i].rtcp_mux && !tag_mux) {
            snprintf(detail, dlen, "media section %u lacks a=rtcp-mux, which is required", i);
            return MR_EPARSE;
        }
    }
    return 0;
}

/* Hands the plan out, or frees it when nothing was accepted (detail says
 * why already) or an accepted section breaks a transport rule. */
static int finish_plan(struct mr_plan *plan, struct mr_plan **out, char *detail, size_t dlen)
{
    int rc = plan->n_tracks == 0 ? MR_ECODEC : check_rtcp_mux(plan, detail, dlen);
    if (rc < 0) {
        mr_plan_free(plan);
        return rc;
    }
    *out = plan;
    return 0;
}

static int parse_offer(const char *offer, size_t len, struct mr_plan **out, char *detail,
                       size_t dlen)
{
    struct mr_plan *plan = calloc(1, sizeof(*plan));
    if (!plan)
        return MR_ENOMEM;
    plan->offer = malloc(sizeof(*plan->offer));
    if (!plan->offer) {
        free(plan);
        return MR_ENOMEM;
    }
    char why[160] = "";
    int rc = mr_sdp_parse(offer, len, plan->offer, why, sizeof(why));
    if (rc < 0) {
        snprintf(detail, dlen, "malformed SDP offer: %s", why[0] ? why : mr_strerror(rc));
        mr_plan_free(plan);
        return MR_EPARSE;
    }
    rc = check_transport(plan, detail, dlen);
    if (rc < 0) {
        mr_plan_free(plan);
        return rc;
    }
    *out = plan;
    return 0;
}

int mr_plan_publish(const char *offer, size_t len, struct mr_plan **out, char *detail,
                    size_t dlen)
{
    struct mr_plan *plan;
    int rc = parse_offer(offer, len, &plan, detail, dlen);
    if (rc < 0)
        return rc;
    const struct mr_sdp *sdp = plan->offer;
    for (unsigned i = 0; i < sdp->n_media; i++) {
        const struct mr_sdp_media *m = &sdp->media[i];
        struct mr_plan_media *pm = &plan->media[i];
        pm->track = -1;
        if (!usable_media(sdp, m) || m->dir == MR_DIR_RECVONLY || m->dir == MR_DIR_INACTIVE)
            continue;
        if (mr_negotiate_publish_codec(m, &pm->codec) < 0)
            continue;
        if (plan->n_tracks == MR_MAX_TRACKS) {
            snprintf(detail, dlen,
                     "the offer sends more than %d audio and video sections; a publisher may "
                     "send at most %d",
                     MR_MAX_TRACKS, MR_MAX_TRACKS);
            mr_plan_free(plan);
            return MR_EPARSE;
        }
        mr_negotiate_ext_ids(m, &pm->ext);
        pm->accepted = true;
        pm->track = (int)plan->n_tracks++;
    }
    if (plan->n_tracks == 0)
        snprintf(detail, dlen,
                 "the offer sends no codec the relay forwards (Opus, VP8, H.264 with "
                 "packetization-mode=1)");
    return finish_plan(plan, out, detail, dlen);
}

int mr_plan_subscribe(const char *offer, size_t len, const struct mr_source_desc *pub,
                      unsigned n_pub, struct mr_plan **out, char *detail, size_t dlen)
{
    struct mr_plan *plan;
    int rc = parse_offer(offer, len, &plan, detail, dlen);
    if (rc < 0)
        return rc;
    const struct mr_sdp *sdp = plan->offer;
    bool used[MR_MAX_TRACKS] = {false};
    for (unsigned i = 0; i < sdp->n_media; i++) {
        const struct mr_sdp_media *m = &sdp->media[i];
        struct mr_plan_media *pm = &plan->media[i];
        pm->track = -1;
        if (!usable_media(sdp, m) || m->dir == MR_DIR_SENDONLY || m->dir == MR_DIR_INACTIVE)
            continue;
        /* The next published track of this kind this offer can receive. */
        for (unsigned t = 0; t < n_pub && !pm->accepted; t++) {
            if (used[t] || pub[t].kind != m->kind)
                continue;
            if (mr_negotiate_subscribe_codec(m, &pub[t].codec, &pm->codec) < 0)
                continue;
            mr_negotiate_ext_ids(m, &pm->ext);
            pm->accepted = true;
            pm->track = (int)t;
            used[t] = true;
            plan->n_tracks++;
        }
    }
    if (plan->n_tracks == 0)
        snprintf(detail, dlen, "the offer cannot receive any codec the stream uses (%s%s%s)",
                 n_pub > 0 ? mr_codec_name(pub[0].codec.id) : "",
                 n_pub > 1 ? ", " : "", n_pub > 1 ? mr_codec_name(pub[1].codec.id) : "");
    return finish_plan(plan, out, detail, dlen);
}
