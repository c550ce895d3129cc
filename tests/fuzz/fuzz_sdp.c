/*
 * Fuzz target for relay/sdp: every parser on the raw input, and for inputs
 * that parse as a description, the whole answer path (negotiation, writing)
 * with properties checked: an answer the relay writes always parses back
 * with the same number of sections, and a publisher's simulcast layers as
 * answered (a=rid recv only, no send list). The input is copied into an exact-size
 * heap block so that ASan sees any read past its length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/negotiate.h"
#include "sdp/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mr_sdp offer, back;
static struct mr_sdp_answer answer;
static struct mr_sdp_frag frag;
static char out[65536];

static const struct mr_sdp_candidate relay_cand = {.foundation = "1",
                                                   .component = 1,
                                                   .transport = "udp",
                                                   .priority = 2130706431,
                                                   .addr = "127.0.0.1",
                                                   .port = 40000,
                                                   .type = "host"};

/* Publishes what the offer sends when odd, subscribes it to fixed codecs
 * (VP8 or H.264 42e01f, and Opus) when even: both halves of the relay. */
static void build_answer(uint8_t flavour)
{
    struct mr_codec pub_video = {.id = flavour & 2 ? MR_CODEC_H264 : MR_CODEC_VP8,
                                 .pt = 96,
                                 .clock_rate = 90000,
                                 .h264_profile_idc = 0x42,
                                 .h264_profile_iop = 0xe0,
                                 .h264_level_idc = 0x1f};
    struct mr_codec pub_audio = {
        .id = MR_CODEC_OPUS, .pt = 111, .clock_rate = 48000, .channels = 2};
    memset(&answer, 0, sizeof(answer));
    answer.sess_id = 1;
    answer.ice_ufrag = "rLy7";
    answer.ice_pwd = "k2bJ9sQvW4xZ7cN1mP5tR8";
    answer.fingerprint_alg = "sha-256";
    answer.fingerprint = "3F:A1:00:7C:9B:22:DE:41:5A:6B:8C:0D:EE:F1:12:23:34:45:56:67:78:89:9A:AB:"
                         "BC:CD:DE:EF:F0:01:12:23";
    answer.setup = MR_SETUP_PASSIVE;
    answer.conn_addr = "127.0.0.1";
    answer.conn_port = 40000;
    answer.n_candidates = 1;
    answer.candidates = &relay_cand;
    answer.end_of_candidates = true;
    answer.n_media = offer.n_media;
    for (unsigned i = 0; i < offer.n_media; i++) {
        struct mr_sdp_answer_media *am = &answer.media[i];
        const struct mr_sdp_media *m = &offer.media[i];
        const struct mr_codec *pub = m->kind == MR_MEDIA_VIDEO ? &pub_video : &pub_audio;
        struct mr_codec c;
        struct mr_ext_ids ids;
        am->offer = m;
        int rc = flavour & 1 ? mr_negotiate_publish_codec(m, &c)
                             : mr_negotiate_subscribe_codec(m, pub, &c);
        if (rc < 0) {
            am->rejected = true;
            continue;
        }
        if (flavour & 1) {
            /* A publisher's layers, answered as the relay will once it
             * forwards them (a=rid recv, a=simulcast:recv). */
            char detail[160];
            mr_negotiate_codec_ext_ids(m, &c, &ids);
            int n = mr_negotiate_simulcast(m, &c, &ids, am->rids, 3, detail, sizeof(detail));
            am->n_rids = n > 0 ? (unsigned)n : 0;
        } else {
            mr_negotiate_ext_ids(m, &ids);
        }
        mr_negotiate_fill_answer(am, &c, &ids);
        am->dir = flavour & 1 ? MR_DIR_RECVONLY : MR_DIR_SENDONLY;
        am->ssrc = flavour & 1 ? 0 : 1000 + i;
        strcpy(am->cname, "medrelay");
        strcpy(am->msid_track, "t");
    }
}

static void check_round_trip(uint8_t flavour)
{
    build_answer(flavour);
    int len = mr_sdp_write_answer(&answer, out, sizeof(out));
    if (len < 0) {
        fprintf(stderr, "answer not written: %d\n", len);
        abort();
    }
    char err[128] = "";
    if (mr_sdp_parse(out, (size_t)len, &back, err, sizeof(err)) != 0 ||
        back.n_media != offer.n_media) {
        fprintf(stderr, "written answer does not parse back: %s\n%s", err, out);
        abort();
    }
    for (unsigned i = 0; i < offer.n_media; i++) {
        const struct mr_sdp_answer_media *am = &answer.media[i];
        if (!am->rejected && back.media[i].n_sim_send != 0) {
            fprintf(stderr, "the relay's answer sends simulcast:\n%s", out);
            abort();
        }
        if (!am->rejected && back.media[i].n_rids != am->n_rids) {
            fprintf(stderr, "answered %u rids, parsed back %u:\n%s", am->n_rids,
                    back.media[i].n_rids, out);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    char err[128];
    struct mr_sdp_candidate cand;
    mr_sdp_parse_candidate(text, size, &cand);
    mr_sdp_parse_frag(text, size, &frag, err, sizeof(err));
    if (mr_sdp_parse(text, size, &offer, err, sizeof(err)) == 0) {
        for (unsigned i = 0; i < offer.n_media; i++) {
            const struct mr_sdp_codec *k = &offer.media[i].codecs[0];
            char v[64];
            if (offer.media[i].n_codecs)
                mr_sdp_fmtp_param(k->fmtp, "profile-level-id", v, sizeof(v));
            mr_sdp_find_mid(&offer, offer.media[i].mid);
        }
        uint8_t flavour = size ? data[size - 1] : 0;
        check_round_trip(flavour);
        check_round_trip((uint8_t)(flavour + 1));
    }
    free(text);
    return 0;
}
