/*
 * Offers the relay makes for room subscriptions (mr_sdp_write_offer), parsed
 * back with mr_sdp_parse: every field, retired sections, payload-type
 * consistency within the bundle, and the inputs the writer must refuse.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "mr_test.h"
#include "sdp/sdp.h"

#define UFRAG "rLy7"
#define PWD   "k2bJ9sQvW4xZ7cN1mP5tR8"
#define FPR   "3F:A1:00:7C:9B:22:DE:41:5A:6B:8C:0D:EE:F1:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:EF:F0:01:12:23"
#define MID_URI   "urn:ietf:params:rtp-hdrext:sdes:mid"
#define LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define H264_FMTP "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

static const struct mr_sdp_candidate cands[] = {
    {.foundation = "1", .component = 1, .transport = "udp", .priority = 2130706431,
     .addr = "127.0.0.1", .port = 40000, .type = "host"},
    {.foundation = "2", .component = 1, .transport = "udp", .priority = 2130706175,
     .addr = "10.0.0.7", .port = 40002, .type = "host"},
};

static void set_audio(struct mr_sdp_offer_media *m, const char *mid, const char *stream,
                      uint32_t ssrc)
{
    memset(m, 0, sizeof(*m));
    m->kind = MR_MEDIA_AUDIO;
    snprintf(m->mid, sizeof(m->mid), "%s", mid);
    m->codec = (struct mr_sdp_codec){.pt = 111, .name = "opus", .clock_rate = 48000,
                                     .channels = 2, .fmtp = "minptime=10;useinbandfec=1"};
    m->n_extmaps = 2;
    m->extmaps[0] = (struct mr_sdp_extmap){.id = 1, .uri = MID_URI};
    m->extmaps[1] = (struct mr_sdp_extmap){.id = 2, .uri = LEVEL_URI};
    m->ssrc = ssrc;
    snprintf(m->cname, sizeof(m->cname), "cn-%s", stream);
    snprintf(m->msid_stream, sizeof(m->msid_stream), "%s", stream);
    snprintf(m->msid_track, sizeof(m->msid_track), "audio");
}

static void set_video(struct mr_sdp_offer_media *m, const char *mid, const char *stream,
                      uint32_t ssrc, bool h264)
{
    memset(m, 0, sizeof(*m));
    m->kind = MR_MEDIA_VIDEO;
    snprintf(m->mid, sizeof(m->mid), "%s", mid);
    if (h264)
        m->codec = (struct mr_sdp_codec){.pt = 102, .name = "H264", .clock_rate = 90000,
                                         .fmtp = H264_FMTP};
    else
        m->codec = (struct mr_sdp_codec){.pt = 96, .name = "VP8", .clock_rate = 90000};
    m->codec.fb = MR_FB_NACK_PLI | MR_FB_CCM_FIR;
    m->n_extmaps = 1;
    m->extmaps[0] = (struct mr_sdp_extmap){.id = 1, .uri = MID_URI};
    m->ssrc = ssrc;
    snprintf(m->cname, sizeof(m->cname), "cn-%s", stream);
    snprintf(m->msid_stream, sizeof(m->msid_stream), "%s", stream);
    snprintf(m->msid_track, sizeof(m->msid_track), "video");
}

/* Two streams (cam: Opus + VP8, screen: H.264) and the transport. */
static struct mr_sdp_offer *base_offer(void)
{
    struct mr_sdp_offer *o = calloc(1, sizeof(*o));
    o->sess_id = 4242;
    o->sess_version = 3;
    o->ice_ufrag = UFRAG;
    o->ice_pwd = PWD;
    o->fingerprint_alg = "sha-256";
    o->fingerprint = FPR;
    o->conn_addr = "127.0.0.1";
    o->conn_port = 40000;
    o->n_candidates = 2;
    o->candidates = cands;
    o->end_of_candidates = true;
    o->n_media = 3;
    set_audio(&o->media[0], "0", "cam", 1111);
    set_video(&o->media[1], "1", "cam", 2222, false);
    set_video(&o->media[2], "2", "screen", 3333, true);
    return o;
}

static struct mr_sdp *write_and_parse(const struct mr_sdp_offer *o, char *text, size_t cap)
{
    int n = mr_sdp_write_offer(o, text, cap);
    CHECK(n > 0);
    if (n <= 0)
        return NULL;
    CHECK_INT((int)strlen(text), n);
    struct mr_sdp *sdp = malloc(sizeof(*sdp));
    char err[160] = "";
    int rc = mr_sdp_parse(text, (size_t)n, sdp, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "parse: %s\n%s", err, text);
    CHECK_INT(rc, 0);
    return sdp;
}

static void check_transport(const struct mr_sdp_media *m)
{
    CHECK_STR(m->ice_ufrag, UFRAG);
    CHECK_STR(m->ice_pwd, PWD);
    CHECK_STR(m->fingerprint_alg, "sha-256");
    CHECK_INT((int)m->fingerprint_len, 32);
    CHECK_INT(m->fingerprint[0], 0x3f);
    CHECK_INT(m->fingerprint[31], 0x23);
    CHECK_INT(m->setup, MR_SETUP_ACTPASS);
    CHECK(m->rtcp_mux);
    CHECK(m->rtcp_rsize);
    CHECK(m->ice_trickle);
    CHECK_STR(m->proto, "UDP/TLS/RTP/SAVPF");
    CHECK_INT(m->dir, MR_DIR_SENDONLY);
    CHECK_INT(m->port, 40000);
}

static void test_offer_fields(void)
{
    struct mr_sdp_offer *o = base_offer();
    char text[16384];
    struct mr_sdp *sdp = write_and_parse(o, text, sizeof(text));
    if (!sdp)
        goto out;
    CHECK(sdp->sess_id == 4242 && sdp->sess_version == 3);
    CHECK_INT(sdp->n_bundle, 3);
    CHECK_STR(sdp->bundle[0], "0");
    CHECK_STR(sdp->bundle[2], "2");
    CHECK(strstr(text, "a=msid-semantic: WMS *\r\n") != NULL);
    CHECK_INT(sdp->n_media, 3);
    for (unsigned i = 0; i < 3; i++)
        check_transport(&sdp->media[i]);

    const struct mr_sdp_media *a = &sdp->media[0];
    CHECK_INT(a->kind, MR_MEDIA_AUDIO);
    CHECK_STR(a->mid, "0");
    CHECK_INT(a->n_codecs, 1);
    CHECK_INT(a->codecs[0].pt, 111);
    CHECK_STR(a->codecs[0].name, "opus");
    CHECK_INT((int)a->codecs[0].clock_rate, 48000);
    CHECK_INT(a->codecs[0].channels, 2);
    CHECK_STR(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    CHECK_INT((int)a->codecs[0].fb, 0);
    CHECK_INT(a->n_extmaps, 2);
    CHECK_STR(a->extmaps[1].uri, LEVEL_URI);
    CHECK_INT(a->n_ssrcs, 1);
    CHECK_INT((int)a->ssrcs[0].ssrc, 1111);
    CHECK_STR(a->ssrcs[0].cname, "cn-cam");
    CHECK_STR(a->ssrcs[0].msid, "cam audio");
    CHECK_STR(a->msid, "cam audio");
    /* Candidates only in the BUNDLE-tag section. */
    CHECK_INT(a->n_candidates, 2);
    CHECK(a->end_of_candidates);
    CHECK_INT(a->candidates[1].port, 40002);

    const struct mr_sdp_media *v = &sdp->media[1];
    CHECK_INT(v->kind, MR_MEDIA_VIDEO);
    CHECK_INT(v->codecs[0].pt, 96);
    CHECK_STR(v->codecs[0].name, "VP8");
    CHECK_INT((int)v->codecs[0].fb, MR_FB_NACK_PLI | MR_FB_CCM_FIR);
    CHECK_INT(v->n_extmaps, 1);
    CHECK_INT(v->extmaps[0].id, 1);
    CHECK_STR(v->extmaps[0].uri, MID_URI);
    CHECK_INT(v->n_candidates, 0);
    CHECK_STR(v->msid, "cam video");

    const struct mr_sdp_media *h = &sdp->media[2];
    CHECK_INT(h->codecs[0].pt, 102);
    CHECK_STR(h->codecs[0].name, "H264");
    CHECK_STR(h->codecs[0].fmtp, H264_FMTP);
    CHECK_INT((int)h->ssrcs[0].ssrc, 3333);
    CHECK_STR(h->msid, "screen video");
    /* No feedback the relay does not honour. */
    CHECK(strstr(text, "transport-cc") == NULL && strstr(text, "goog-remb") == NULL);
    CHECK(strstr(text, "a=rtcp-fb:96 nack\r\n") == NULL);
out:
    free(sdp);
    free(o);
}

static void test_offer_retired(void)
{
    struct mr_sdp_offer *o = base_offer();
    o->media[0].retired = true;
    o->media[1].retired = true;
    o->media[0].ssrc = 0; /* retired sections need no source */
    char text[16384];
    struct mr_sdp *sdp = write_and_parse(o, text, sizeof(text));
    if (!sdp)
        goto out;
    CHECK_INT(sdp->n_media, 3);
    CHECK_INT(sdp->n_bundle, 1);
    CHECK_STR(sdp->bundle[0], "2");
    for (unsigned i = 0; i < 2; i++) {
        CHECK_INT(sdp->media[i].port, 0);
        CHECK_INT(sdp->media[i].dir, MR_DIR_INACTIVE);
        CHECK_INT(sdp->media[i].n_ssrcs, 0);
        CHECK_INT(sdp->media[i].n_candidates, 0);
        CHECK_INT(sdp->media[i].n_codecs, 1);
        CHECK(sdp->media[i].rtcp_mux);
    }
    CHECK_STR(sdp->media[0].mid, "0");
    CHECK_INT(sdp->media[0].codecs[0].pt, 111);
    /* The first live section carries the candidates. */
    CHECK_INT(sdp->media[2].n_candidates, 2);
    CHECK_INT(sdp->media[2].port, 40000);

    /* Everything retired: no BUNDLE group, no candidates. */
    o->media[2].retired = true;
    free(sdp);
    sdp = write_and_parse(o, text, sizeof(text));
    if (sdp) {
        CHECK_INT(sdp->n_bundle, 0);
        CHECK(strstr(text, "candidate") == NULL);
    }
    /* No sections at all is a valid (empty) offer. */
    o->n_media = 0;
    CHECK(mr_sdp_write_offer(o, text, sizeof(text)) > 0);
out:
    free(sdp);
    free(o);
}

static void test_offer_payload_types(void)
{
    struct mr_sdp_offer *o = base_offer();
    char text[16384];
    /* The same PT with the same configuration in two sections is fine. */
    o->n_media = 4;
    set_video(&o->media[3], "3", "screen2", 4444, true);
    CHECK(mr_sdp_write_offer(o, text, sizeof(text)) > 0);
    /* 102 with another profile: two meanings in one bundle. */
    snprintf(o->media[3].codec.fmtp, sizeof(o->media[3].codec.fmtp),
             "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f");
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    /* A retired section counts too: its PT is still written. */
    o->media[3].retired = true;
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->media[3].codec.pt = 103;
    CHECK(mr_sdp_write_offer(o, text, sizeof(text)) > 0);
    /* Opus on 96, where VP8 is. */
    o->media[0].codec.pt = 96;
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->media[0].codec.pt = 95; /* not dynamic */
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    free(o);
}

static void test_offer_bad_inputs(void)
{
    struct mr_sdp_offer *o = base_offer();
    char text[16384];
    CHECK_INT(mr_sdp_write_offer(NULL, text, sizeof(text)), MR_EINVAL);
    CHECK_INT(mr_sdp_write_offer(o, NULL, 10), MR_EINVAL);
    CHECK_INT(mr_sdp_write_offer(o, text, 100), MR_ENOSPC);
    CHECK_STR(text, "");

    o->ice_ufrag = "";
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->ice_ufrag = "a b";
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->ice_ufrag = UFRAG;
    o->fingerprint = NULL;
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->fingerprint = FPR;

    snprintf(o->media[1].mid, sizeof(o->media[1].mid), "0"); /* duplicate */
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->media[1].mid[0] = '\0';
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    snprintf(o->media[1].mid, sizeof(o->media[1].mid), "1");

    o->media[1].ssrc = 0; /* a live section must name its source */
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->media[1].ssrc = 2222;
    snprintf(o->media[1].msid_stream, sizeof(o->media[1].msid_stream), "cam\r\na=x");
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    snprintf(o->media[1].msid_stream, sizeof(o->media[1].msid_stream), "cam");
    snprintf(o->media[1].codec.fmtp, sizeof(o->media[1].codec.fmtp), "x=1\r\na=evil");
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->media[1].codec.fmtp[0] = '\0';
    o->media[1].kind = MR_MEDIA_APPLICATION;
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->media[1].kind = MR_MEDIA_VIDEO;
    o->media[1].extmaps[0].id = 15; /* one-byte header ids are 1-14 */
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->media[1].extmaps[0].id = 1;
    o->n_media = MR_SDP_MAX_MEDIA + 1;
    CHECK_INT(mr_sdp_write_offer(o, text, sizeof(text)), MR_EINVAL);
    o->n_media = 3;
    CHECK(mr_sdp_write_offer(o, text, sizeof(text)) > 0);
    free(o);
}

/* The largest offer: 32 sections (16 streams) fits the relay's buffer and
 * parses back. */
static void test_offer_full(void)
{
    struct mr_sdp_offer *o = base_offer();
    o->n_media = MR_SDP_MAX_MEDIA;
    for (unsigned i = 0; i < MR_SDP_MAX_MEDIA; i++) {
        char mid[8], stream[16];
        snprintf(mid, sizeof(mid), "%u", i);
        snprintf(stream, sizeof(stream), "stream-%u", i / 2);
        if (i % 2 == 0)
            set_audio(&o->media[i], mid, stream, 1000 + i);
        else
            set_video(&o->media[i], mid, stream, 1000 + i, i % 4 == 3);
    }
    char *text = malloc(65536);
    struct mr_sdp *sdp = write_and_parse(o, text, 65536);
    if (sdp) {
        CHECK_INT(sdp->n_media, MR_SDP_MAX_MEDIA);
        CHECK_INT(sdp->n_bundle, MR_SDP_MAX_MEDIA);
        CHECK_STR(sdp->media[31].msid, "stream-15 video");
    }
    free(sdp);
    free(text);
    free(o);
}

MR_TEST_MAIN(MR_TEST(test_offer_fields), MR_TEST(test_offer_retired),
             MR_TEST(test_offer_payload_types), MR_TEST(test_offer_bad_inputs),
             MR_TEST(test_offer_full))
