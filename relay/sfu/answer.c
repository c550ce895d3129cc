/* Writes a peer's SDP answer from its plan and its transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"
#include "sfu/sfu_priv.h"

static void fill_media(struct mr_peer *p, struct mr_sdp_answer_media *am, unsigned i,
                       unsigned *track)
{
    const struct mr_plan_media *pm = &p->plan->media[i];
    am->offer = &p->plan->offer->media[i];
    if (!pm->accepted) {
        am->rejected = true;
        return;
    }
    mr_negotiate_fill_answer(am, &pm->codec, &pm->ext);
    if (p->kind == MR_SESSION_PUBLISH) {
        am->dir = MR_DIR_RECVONLY;
        am->n_rids = pm->n_layers;
        memcpy(am->rids, pm->layers, sizeof(pm->layers[0]) * pm->n_layers);
        return;
    }
    am->dir = MR_DIR_SENDONLY;
    const struct mr_receiver *t = &p->receivers[(*track)++];
    am->ssrc = t->out_ssrc;
    am->rtx_ssrc = t->rtx_ssrc;
    snprintf(am->cname, sizeof(am->cname), "%s", p->cname);
    snprintf(am->msid_stream, sizeof(am->msid_stream), "medrelay-%.8s", p->id);
    snprintf(am->msid_track, sizeof(am->msid_track), "%s-%s",
             t->kind == MR_MEDIA_AUDIO ? "audio" : "video", t->mid);
}

int mr_answer_write(struct mr_peer *p, char *out, size_t cap)
{
    const struct mr_config *cfg = mr_relay_config(p->relay);
    char lines[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
    struct mr_sdp_candidate cands[MR_TRANSPORT_MAX_CANDIDATES];
    char ufrag[MR_ICE_CRED_MAX], pwd[MR_ICE_CRED_MAX];
    struct mr_sdp_answer *a = calloc(1, sizeof(*a));
    if (!a)
        return MR_ENOMEM;

    unsigned n_lines =
        mr_transport_local_candidates(p->transport, lines, MR_TRANSPORT_MAX_CANDIDATES);
    unsigned n_cands = 0;
    for (unsigned i = 0; i < n_lines; i++)
        if (mr_sdp_parse_candidate(lines[i], strlen(lines[i]), &cands[n_cands]) == 0)
            n_cands++;
    mr_transport_local_credentials(p->transport, ufrag, pwd);

    a->sess_id = ((uint64_t)mr_random_u32() << 31) | mr_random_u32();
    a->sess_version = 1;
    a->ice_ufrag = ufrag;
    a->ice_pwd = pwd;
    a->fingerprint_alg = "sha-256";
    a->fingerprint = mr_transport_fingerprint(p->transport);
    a->setup = p->plan->offer->media[p->plan->transport_m].setup == MR_SETUP_PASSIVE
                   ? MR_SETUP_ACTIVE
                   : MR_SETUP_PASSIVE;
    a->conn_addr = cfg->media_ip;
    a->conn_port = n_cands > 0 ? cands[0].port : 9;
    a->n_candidates = n_cands;
    a->candidates = cands;
    a->end_of_candidates = !p->trickle; /* with trickle, more may follow */
    a->n_media = p->plan->offer->n_media;
    unsigned track = 0;
    for (unsigned i = 0; i < a->n_media; i++)
        fill_media(p, &a->media[i], i, &track);
    int n = mr_sdp_write_answer(a, out, cap);
    free(a);
    return n;
}

int mr_answer_write_frag(struct mr_peer *p, char *out, size_t cap)
{
    char lines[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
    char ufrag[MR_ICE_CRED_MAX], pwd[MR_ICE_CRED_MAX];
    unsigned n_lines =
        mr_transport_local_candidates(p->transport, lines, MR_TRANSPORT_MAX_CANDIDATES);
    mr_transport_local_credentials(p->transport, ufrag, pwd);
    /* RFC 8840 §9 / RFC 9725 §4.3.2: credentials, then the bundled section
     * with its candidates. */
    int n = snprintf(out, cap, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n%s\r\n"
                     "a=mid:%s\r\n", ufrag, pwd, p->frag_media, p->frag_mid);
    for (unsigned i = 0; i < n_lines && n >= 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "a=%s\r\n", lines[i]);
    if (n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "a=end-of-candidates\r\n");
    return (n < 0 || (size_t)n >= cap) ? MR_ENOSPC : n;
}
