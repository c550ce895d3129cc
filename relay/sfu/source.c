/* A publisher's sources and their encodings (track.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"
#include "sfu/history.h"
#include "sfu/track.h"

/* The first SSRC of a section that is not the retransmission half of an
 * FID group (RFC 5576 §4): the one media will arrive on. */
static uint32_t primary_ssrc(const struct mr_sdp_media *m)
{
    for (unsigned i = 0; i < m->n_ssrcs; i++) {
        bool rtx = false;
        for (unsigned f = 0; f < m->n_fid; f++)
            if (m->fid[f][1] == m->ssrcs[i].ssrc)
                rtx = true;
        if (!rtx)
            return m->ssrcs[i].ssrc;
    }
    return 0;
}

/* The retransmission SSRC an FID group pairs with ssrc, or 0. */
static uint32_t fid_rtx_ssrc(const struct mr_sdp_media *m, uint32_t ssrc)
{
    for (unsigned f = 0; ssrc && f < m->n_fid; f++)
        if (m->fid[f][0] == ssrc)
            return m->fid[f][1];
    return 0;
}

/* A new SSRC for an encoding: its statistics and losses start afresh. */
static void encoding_restart(struct mr_encoding *e, uint32_t ssrc, uint32_t rtx_ssrc,
                             uint32_t clock_rate)
{
    e->ssrc = ssrc;
    e->rtx_ssrc = rtx_ssrc;
    mr_rtp_rx_stats_init(&e->rx, clock_rate);
    mr_nack_init(&e->nack);
}

void mr_source_init(struct mr_source *src, const struct mr_sdp_media *m, const struct mr_codec *c,
                    const struct mr_ext_ids *ext, const struct mr_sdp_sim_stream *layers,
                    unsigned n_layers)
{
    memset(src, 0, sizeof(*src));
    src->kind = m->kind;
    memcpy(src->mid, m->mid, sizeof(src->mid));
    src->codec = *c;
    src->ext = *ext;
    if (n_layers > MR_MAX_ENCODINGS)
        n_layers = MR_MAX_ENCODINGS;
    if (n_layers >= 2) {
        /* Simulcast: SSRCs (and RTX SSRCs) come with the rids. */
        src->n_encodings = n_layers;
        for (unsigned e = 0; e < n_layers; e++) {
            encoding_restart(&src->enc[e], 0, 0, c->clock_rate);
            snprintf(src->enc[e].rid, sizeof(src->enc[e].rid), "%s", layers[e].rid);
        }
    } else {
        src->n_encodings = 1;
        uint32_t ssrc = primary_ssrc(m);
        encoding_restart(&src->enc[0], ssrc, c->rtx_pt ? fid_rtx_ssrc(m, ssrc) : 0,
                         c->clock_rate);
    }
    /* Viewers' NACKs are answered from them, whatever the publisher
     * negotiated; NULL (out of memory) only means none are answered. */
    for (unsigned e = 0; src->kind == MR_MEDIA_VIDEO && e < src->n_encodings; e++)
        src->enc[e].history = mr_history_new();
}

void mr_sources_free(struct mr_source *srcs, unsigned n)
{
    for (unsigned i = 0; srcs && i < n; i++)
        for (unsigned e = 0; e < srcs[i].n_encodings; e++)
            mr_history_free(srcs[i].enc[e].history);
    free(srcs);
}

int mr_source_by_ssrc(const struct mr_source *srcs, unsigned n, uint32_t ssrc, unsigned *enc)
{
    if (ssrc == 0)
        return -1;
    for (unsigned i = 0; i < n; i++)
        for (unsigned e = 0; e < srcs[i].n_encodings; e++)
            if (srcs[i].enc[e].ssrc == ssrc) {
                if (enc)
                    *enc = e;
                return (int)i;
            }
    return -1;
}

/* The encoding a simulcast packet's rid (or repaired rid) extension
 * names, or -1. */
static int encoding_by_rid(const struct mr_source *s, enum mr_rtp_ext_kind kind,
                           const struct mr_rtp_ext_list *ext, const uint8_t *buf)
{
    uint8_t id = s->ext.id[kind];
    const struct mr_rtp_ext_elem *rid = id ? mr_rtp_ext_find(ext, id) : NULL;
    for (unsigned e = 0; rid && e < s->n_encodings; e++)
        if (rid->len == strlen(s->enc[e].rid) &&
            memcmp(buf + rid->offset, s->enc[e].rid, rid->len) == 0)
            return (int)e;
    return -1;
}

static bool mid_matches(const struct mr_source *s, const struct mr_rtp_ext_list *ext,
                        const uint8_t *buf)
{
    uint8_t id = s->ext.id[MR_RTP_EXT_MID];
    const struct mr_rtp_ext_elem *mid = id ? mr_rtp_ext_find(ext, id) : NULL;
    return mid && mid->len == strlen(s->mid) && memcmp(buf + mid->offset, s->mid, mid->len) == 0;
}

int mr_source_find(struct mr_source *srcs, unsigned n, const struct mr_rtp_header *h,
                   const struct mr_rtp_ext_list *ext, const uint8_t *buf, unsigned *enc)
{
    int found = mr_source_by_ssrc(srcs, n, h->ssrc, enc);
    if (found >= 0)
        return found;
    for (unsigned i = 0; i < n && found < 0; i++)
        if (mid_matches(&srcs[i], ext, buf))
            found = (int)i;
    if (found < 0) {
        for (unsigned i = 0; i < n; i++) {
            if (!mr_source_media_pt(&srcs[i], h->payload_type))
                continue;
            if (found >= 0)
                return -1; /* ambiguous */
            found = (int)i;
        }
    }
    /* Only media of the negotiated codec may claim a source; retransmission
     * or FEC streams carry other payload types. */
    if (found < 0 || !mr_source_media_pt(&srcs[found], h->payload_type))
        return -1;
    struct mr_source *src = &srcs[found];
    /* A new SSRC for the section (announced none, or the encoder
     * restarted): its one encoding follows it, or the layer its rid
     * names. */
    int e = src->n_encodings > 1 ? encoding_by_rid(src, MR_RTP_EXT_RID, ext, buf) : 0;
    if (e < 0)
        return -1;
    encoding_restart(&src->enc[e], h->ssrc, 0, src->codec.clock_rate);
    *enc = (unsigned)e;
    return found;
}

int mr_source_rtx(struct mr_source *srcs, unsigned n, const struct mr_rtp_header *h,
                  const struct mr_rtp_ext_list *ext, const uint8_t *buf, unsigned *enc)
{
    int found = -1;
    for (unsigned i = 0; i < n; i++) {
        if (!srcs[i].codec.rtx_pt || srcs[i].codec.rtx_pt != h->payload_type)
            continue;
        for (unsigned e = 0; e < srcs[i].n_encodings; e++)
            if (srcs[i].enc[e].rtx_ssrc == h->ssrc) {
                *enc = e;
                return (int)i;
            }
        if (mid_matches(&srcs[i], ext, buf))
            found = (int)i;
    }
    /* Not announced (no FID group, or a restarted encoder): the section
     * its mid names, else the one section with that RTX format, learns
     * it. */
    for (unsigned i = 0; i < n && found < 0; i++) {
        if (srcs[i].codec.rtx_pt != h->payload_type || !srcs[i].codec.rtx_pt)
            continue;
        for (unsigned j = i + 1; j < n; j++)
            if (srcs[j].codec.rtx_pt == h->payload_type)
                return -1; /* ambiguous */
        found = (int)i;
    }
    if (found < 0)
        return -1;
    struct mr_source *src = &srcs[found];
    int e = src->n_encodings > 1 ? encoding_by_rid(src, MR_RTP_EXT_RRID, ext, buf) : 0;
    if (e < 0 || src->enc[e].ssrc == 0 ||
        (src->enc[e].rtx_ssrc != 0 && src->n_encodings == 1))
        return -1;
    src->enc[e].rtx_ssrc = h->ssrc;
    *enc = (unsigned)e;
    return found;
}

static void saw(struct mr_pads *p, uint16_t seq)
{
    if (!p->seen || mr_rtp_seq_newer(seq, p->high))
        p->high = seq;
    p->seen = true;
}

void mr_encoding_padding(struct mr_encoding *e, uint16_t seq)
{
    struct mr_pads *p = &e->pads;
    if (p->seen && !mr_rtp_seq_newer(seq, p->high))
        return;
    saw(p, seq);
    p->total++;
    p->seq[p->next] = seq;
    p->next = (p->next + 1) % MR_PADS_KEPT;
    if (p->n < MR_PADS_KEPT)
        p->n++;
}

uint16_t mr_encoding_seq(struct mr_encoding *e, uint16_t seq)
{
    struct mr_pads *p = &e->pads;
    saw(p, seq);
    if (!p->total)
        return seq; /* the common case: no padding on this SSRC */
    /* Skipped after this packet (it came late) do not count for it. */
    uint32_t before = p->total;
    for (unsigned i = 0; i < p->n; i++) {
        uint16_t pad = p->seq[(p->next + MR_PADS_KEPT - 1 - i) % MR_PADS_KEPT];
        if (!mr_rtp_seq_newer(pad, seq))
            break; /* padding is skipped in order: the rest are older */
        before--;
    }
    return (uint16_t)(seq - before);
}
