/* Negotiation plans: which m-lines of a WHIP or WHEP offer the relay
 * accepts, and how, by the rules of the media description (negotiate.h). */
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

static int check_rtcp_mux(const struct mr_plan *plan, char *detail, size_t dlen)
{
    for (unsigned i = 0; i < plan->offer->n_media; i++) {
        if (plan->media[i].accepted &&
            !mr_negotiate_rtcp_mux(plan->offer, plan->transport_m, i)) {
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
    rc = mr_negotiate_offer_transport(plan->offer, &plan->transport_m, detail, dlen);
    if (rc < 0) {
        mr_plan_free(plan);
        return rc;
    }
    *out = plan;
    return 0;
}

/* The section's extension ids for its codec. transport-cc without the
 * sequence number extension reports nothing: neither is answered then. */
static void codec_ext_ids(const struct mr_sdp_media *m, struct mr_plan_media *pm)
{
    mr_negotiate_codec_ext_ids(m, &pm->codec, &pm->ext);
    if (!pm->ext.id[MR_RTP_EXT_TRANSPORT_CC])
        pm->codec.fb &= ~(uint32_t)MR_FB_TWCC;
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
        if (!mr_negotiate_usable_media(sdp, m) || m->dir == MR_DIR_RECVONLY ||
            m->dir == MR_DIR_INACTIVE)
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
        codec_ext_ids(m, pm);
        /* Simulcast by rid (RFC 8853): up to MR_MAX_ENCODINGS layers; a
         * list naming rids it does not define is refused. Without layers
         * the rid extensions name nothing and are not answered. */
        rc = mr_negotiate_simulcast(m, &pm->codec, &pm->ext, pm->layers, MR_MAX_ENCODINGS,
                                    detail, dlen);
        if (rc < 0) {
            mr_plan_free(plan);
            return rc;
        }
        pm->n_layers = (unsigned)rc;
        if (pm->n_layers == 0)
            pm->ext.id[MR_RTP_EXT_RID] = pm->ext.id[MR_RTP_EXT_RRID] = 0;
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
        if (!mr_negotiate_usable_media(sdp, m) || m->dir == MR_DIR_SENDONLY ||
            m->dir == MR_DIR_INACTIVE)
            continue;
        /* The next published track of this kind this offer can receive. */
        for (unsigned t = 0; t < n_pub && !pm->accepted; t++) {
            if (used[t] || pub[t].kind != m->kind)
                continue;
            if (mr_negotiate_subscribe_codec(m, &pub[t].codec, &pm->codec) < 0)
                continue;
            codec_ext_ids(m, pm);
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
