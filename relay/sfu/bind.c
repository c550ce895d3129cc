/* Receivers bound to a publisher's sources (track.h). */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "sfu/sfu_priv.h"

uint32_t mr_random_ssrc(void)
{
    uint32_t v;
    do
        v = mr_random_u32();
    while (v == 0);
    return v;
}

void mr_receiver_init(struct mr_receiver *rx, const struct mr_receiver *before, unsigned n_before)
{
    rx->src = -1;
    rx->rank = 0;
    for (unsigned k = 0; k < n_before; k++)
        rx->rank += before[k].kind == rx->kind;
    rx->out_ssrc = mr_random_ssrc();
    mr_rewrite_init(&rx->rw, (uint16_t)mr_random_u32(), mr_random_u32());
    mr_receiver_init_rtx(rx);
}

void mr_receiver_init_rtx(struct mr_receiver *rx)
{
    bool rtx = rx->kind == MR_MEDIA_VIDEO && rx->codec.rtx_pt && (rx->codec.fb & MR_FB_NACK);
    rx->rtx_ssrc = rtx ? mr_random_ssrc() : 0;
    rx->rtx_seq = (uint16_t)mr_random_u32();
}

static bool h264_compatible(const struct mr_codec *pub, const struct mr_codec *sub)
{
    if (pub->h264_profile_idc == sub->h264_profile_idc &&
        pub->h264_profile_iop == sub->h264_profile_iop)
        return true;
    /* Constrained Baseline (42e0/4240) plays on a Baseline (4200) decoder. */
    return pub->h264_profile_idc == 0x42 && sub->h264_profile_idc == 0x42 &&
           (pub->h264_profile_iop & 0x40);
}

static bool codec_compatible(const struct mr_codec *pub, const struct mr_codec *sub)
{
    if (pub->id != sub->id)
        return false;
    return pub->id != MR_CODEC_H264 || h264_compatible(pub, sub);
}

/* The publisher's source of the given kind and rank (0 = its first video). A
 * returning publisher may order its sections differently from the last. */
static int find_by_rank(const struct mr_peer *pub, enum mr_media_kind kind, unsigned rank)
{
    for (unsigned i = 0; i < pub->n_sources; i++)
        if (pub->sources[i].kind == kind && rank-- == 0)
            return (int)i;
    return -1;
}

void mr_receivers_bind(struct mr_receiver *rx, unsigned n, const struct mr_peer *pub,
                       const char *who)
{
    for (unsigned j = 0; j < n; j++) {
        struct mr_receiver *t = &rx[j];
        t->src = pub ? find_by_rank(pub, t->kind, t->rank) : -1;
        const struct mr_source *src = t->src >= 0 ? &pub->sources[t->src] : NULL;
        /* A simulcast source's best layer so far (layers.c moves it on). */
        t->encoding = t->target = src ? mr_layers_pick(src, mr_clock_mono_us(), 0, t->layer_cap)
                                               : 0;
        t->vp8 = (struct mr_vp8_ids_map){0};
        t->compatible = src && codec_compatible(&src->codec, &t->codec);
        t->waiting_keyframe = t->kind == MR_MEDIA_VIDEO;
        /* The next packet rebases sequence numbers and timestamps, so a
         * new publisher continues the old one's spaces. */
        mr_rewrite_unbind(&t->rw);
        if (pub && !t->compatible)
            mr_log_warn(SFU, "%s: track %u cannot take the publisher's %s", who, j,
                        src ? mr_codec_name(src->codec.id) : "media");
    }
}

struct mr_receiver *mr_receivers_video(struct mr_receiver *rx, unsigned n, uint32_t ssrc)
{
    for (unsigned j = 0; j < n; j++)
        if (rx[j].kind == MR_MEDIA_VIDEO && rx[j].out_ssrc == ssrc)
            return &rx[j];
    return NULL;
}

void mr_sink_bind(struct mr_sink *sink, const struct mr_peer *pub)
{
    char who[40];
    snprintf(who, sizeof(who), "%s %.8s", sink->peer->bundle ? "room subscription" : "subscriber",
             sink->peer->id);
    mr_receivers_bind(sink->receivers, sink->n_receivers, pub, who);
}
