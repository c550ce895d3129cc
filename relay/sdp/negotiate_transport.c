/*
 * The transport checks of the media description (negotiate.h): what an
 * offer or an answer must say for the relay to set up ICE, DTLS-SRTP and
 * the bundle, for WHIP/WHEP sessions and room subscriptions alike.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sdp/negotiate.h"

static bool in_bundle(const struct mr_sdp *sdp, const char *mid)
{
    for (unsigned i = 0; i < sdp->n_bundle; i++)
        if (strcmp(sdp->bundle[i], mid) == 0)
            return true;
    return false;
}

/* Port 0 means rejected unless the section is bundle-only and in the group
 * (RFC 8843 §6: what webrtcbin offers for every section after the first
 * with bundle-policy=max-bundle). */
bool mr_negotiate_usable_media(const struct mr_sdp *sdp, const struct mr_sdp_media *m)
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

static int find_transport(const struct mr_sdp *sdp, char *detail, size_t dlen)
{
    unsigned usable = 0;
    int tm = -1;
    for (unsigned i = 0; i < sdp->n_media; i++)
        if (mr_negotiate_usable_media(sdp, &sdp->media[i]))
            usable++;
    if (sdp->n_bundle > 0) {
        for (unsigned i = 0; i < sdp->n_media && tm < 0; i++)
            if (strcmp(sdp->media[i].mid, sdp->bundle[0]) == 0)
                tm = (int)i;
    } else if (usable == 1) {
        for (unsigned i = 0; i < sdp->n_media && tm < 0; i++)
            if (mr_negotiate_usable_media(sdp, &sdp->media[i]))
                tm = (int)i;
    } else if (usable > 1) {
        snprintf(detail, dlen, "the offer must bundle its media (a=group:BUNDLE)");
        return MR_EPARSE;
    }
    if (tm < 0) {
        snprintf(detail, dlen, "the offer has no audio or video section over UDP/TLS/RTP/SAVPF");
        return MR_ECODEC;
    }
    return tm;
}

int mr_negotiate_offer_transport(const struct mr_sdp *sdp, unsigned *tm, char *detail, size_t dlen)
{
    /* Nothing to negotiate at all is a malformed offer, not a codec
     * mismatch (RFC 8829 §5.8: an offer describes its media sections). */
    if (sdp->n_media == 0) {
        snprintf(detail, dlen, "the offer has no media section (m=)");
        return MR_EPARSE;
    }
    int i = find_transport(sdp, detail, dlen);
    if (i < 0)
        return i;
    const struct mr_sdp_media *m = &sdp->media[i];
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
    *tm = (unsigned)i;
    return 0;
}

bool mr_negotiate_rtcp_mux(const struct mr_sdp *sdp, unsigned tm, unsigned i)
{
    if (sdp->media[i].rtcp_mux)
        return true;
    return sdp->n_bundle > 0 && tm < sdp->n_media && sdp->media[tm].rtcp_mux &&
           in_bundle(sdp, sdp->media[i].mid);
}

int mr_negotiate_answer_transport(const struct mr_sdp_media *tm, char *detail, size_t dlen)
{
    if (!tm->ice_ufrag[0] || !tm->ice_pwd[0] || tm->fingerprint_len == 0) {
        snprintf(detail, dlen, "the answer lacks ICE credentials or a DTLS fingerprint");
        return MR_EPARSE;
    }
    /* RFC 8842 §5.2: the answerer picks; actpass is not an answer. */
    if (tm->setup != MR_SETUP_ACTIVE && tm->setup != MR_SETUP_PASSIVE) {
        snprintf(detail, dlen, "the answer must say a=setup:active or a=setup:passive");
        return MR_EPARSE;
    }
    if (!tm->rtcp_mux) {
        snprintf(detail, dlen, "the answer lacks a=rtcp-mux, which is required");
        return MR_EPARSE;
    }
    return 0;
}
