/*
 * Codec and extension choices (negotiate.h) on the real offers: what a WHIP
 * publisher sends and which payload type a WHEP viewer receives it on.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "mr_test.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

static struct mr_sdp *parse_file(const char *name)
{
    const char *dir = getenv("MR_SHARED_SDP");
    char path[1024];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data/sdp", name);
    char *text = mr_test_read_file(path, &len);
    struct mr_sdp *s = calloc(1, sizeof(*s));
    if (!text || !s) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    char err[128] = "";
    CHECK_INT(mr_sdp_parse(text, len, s, err, sizeof(err)), 0);
    free(text);
    return s;
}

static struct mr_sdp *parse_text(const char *text)
{
    struct mr_sdp *s = calloc(1, sizeof(*s));
    char err[128] = "";
    int rc = mr_sdp_parse(text, strlen(text), s, err, sizeof(err));
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, 0);
    return s;
}

static struct mr_codec h264(uint8_t idc, uint8_t iop, uint8_t level)
{
    struct mr_codec c;
    memset(&c, 0, sizeof(c));
    c.id = MR_CODEC_H264;
    c.pt = 100;
    c.clock_rate = 90000;
    c.h264_profile_idc = idc;
    c.h264_profile_iop = iop;
    c.h264_level_idc = level;
    return c;
}

static void test_names(void)
{
    CHECK_INT(mr_codec_id_from_name("opus"), MR_CODEC_OPUS);
    CHECK_INT(mr_codec_id_from_name("OPUS"), MR_CODEC_OPUS);
    CHECK_INT(mr_codec_id_from_name("vp8"), MR_CODEC_VP8);
    CHECK_INT(mr_codec_id_from_name("h264"), MR_CODEC_H264);
    CHECK_INT(mr_codec_id_from_name("H2640"), MR_CODEC_NONE);
    CHECK_INT(mr_codec_id_from_name("VP9"), MR_CODEC_NONE);
    CHECK_INT(mr_codec_id_from_name(""), MR_CODEC_NONE);
    CHECK_STR(mr_codec_name(MR_CODEC_OPUS), "opus");
    CHECK_STR(mr_codec_name(MR_CODEC_VP8), "VP8");
    CHECK_STR(mr_codec_name(MR_CODEC_H264), "H264");
}

static void test_whip_chromium(void)
{
    struct mr_sdp *s = parse_file("chromium_whip_sendonly.sdp");
    struct mr_codec a, v;
    CHECK_INT(mr_negotiate_publish_codec(&s->media[0], &a), 0);
    CHECK_INT(a.id, MR_CODEC_OPUS);
    CHECK_INT(a.pt, 111);
    CHECK_INT(a.clock_rate, 48000);
    CHECK_INT(a.channels, 2);
    CHECK_STR(a.fmtp, "minptime=10;useinbandfec=1");
    CHECK_INT(a.fb, MR_FB_TWCC); /* publishers: congestion feedback */
    CHECK_INT(mr_negotiate_publish_codec(&s->media[1], &v), 0);
    CHECK_INT(v.id, MR_CODEC_VP8);
    CHECK_INT(v.pt, 96);
    CHECK_INT(v.clock_rate, 90000);
    CHECK_INT(v.fb, MR_FB_NACK | MR_FB_NACK_PLI | MR_FB_CCM_FIR | MR_FB_TWCC);
    CHECK_INT(v.rtx_pt, 97); /* a=fmtp:97 apt=96 */
    CHECK_INT(a.rtx_pt, 0);
    CHECK_INT(a.red_pt, 63); /* a=fmtp:63 111/111 */
    CHECK_INT(v.red_pt, 0);

    struct mr_ext_ids ids;
    mr_negotiate_ext_ids(&s->media[0], &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_MID], 4);
    CHECK_INT(ids.id[MR_RTP_EXT_AUDIO_LEVEL], 1);
    mr_negotiate_ext_ids(&s->media[1], &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_MID], 4);
    CHECK_INT(ids.id[MR_RTP_EXT_AUDIO_LEVEL], 0);
    CHECK_INT(ids.id[MR_RTP_EXT_TRANSPORT_CC], 0); /* a viewer's: not read */
    mr_negotiate_codec_ext_ids(&s->media[1], &v, &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_TRANSPORT_CC], 3);
    v.fb &= ~(uint32_t)MR_FB_TWCC;
    mr_negotiate_codec_ext_ids(&s->media[1], &v, &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_TRANSPORT_CC], 0);
    free(s);
}

static void test_whip_aiortc(void)
{
    struct mr_sdp *s = parse_file("aiortc_whip_sendonly.sdp");
    struct mr_codec v, a;
    CHECK_INT(mr_negotiate_publish_codec(&s->media[0], &v), 0);
    CHECK_INT(v.id, MR_CODEC_VP8);
    CHECK_INT(v.pt, 97);
    CHECK_INT(v.fb, MR_FB_NACK | MR_FB_NACK_PLI);
    CHECK_INT(v.rtx_pt, 98);
    CHECK_INT(mr_negotiate_publish_codec(&s->media[1], &a), 0);
    CHECK_INT(a.id, MR_CODEC_OPUS);
    CHECK_INT(a.pt, 96);
    CHECK_STR(a.fmtp, "");
    struct mr_ext_ids ids;
    mr_negotiate_ext_ids(&s->media[0], &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_MID], 1);
    mr_negotiate_ext_ids(&s->media[1], &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_MID], 1);
    CHECK_INT(ids.id[MR_RTP_EXT_AUDIO_LEVEL], 2);
    free(s);
}

static void test_whep_chromium(void)
{
    struct mr_sdp *pub = parse_file("chromium_whip_sendonly.sdp");
    struct mr_sdp *s = parse_file("chromium_whep_recvonly.sdp");
    const struct mr_sdp_media *v = &s->media[0], *a = &s->media[1];
    struct mr_codec pv, pa, out;
    CHECK_INT(mr_negotiate_publish_codec(&pub->media[1], &pv), 0);
    CHECK_INT(mr_negotiate_publish_codec(&pub->media[0], &pa), 0);

    CHECK_INT(mr_negotiate_subscribe_codec(v, &pv, &out), 0);
    CHECK_INT(out.id, MR_CODEC_VP8);
    CHECK_INT(out.pt, 96);
    /* A viewer's congestion feedback is read (its downlink's estimate),
     * with the transport-wide sequence number; not REMB. */
    CHECK_INT(out.fb, MR_FB_NACK | MR_FB_NACK_PLI | MR_FB_CCM_FIR | MR_FB_TWCC);
    CHECK_INT(out.rtx_pt, 97);
    struct mr_ext_ids cc_ids;
    mr_negotiate_codec_ext_ids(v, &out, &cc_ids);
    CHECK_INT(cc_ids.id[MR_RTP_EXT_TRANSPORT_CC], 4);
    CHECK_INT(cc_ids.id[MR_RTP_EXT_RID], 0); /* it sends no simulcast */
    CHECK_INT(mr_negotiate_subscribe_codec(a, &pa, &out), 0);
    CHECK_INT(out.pt, 111);
    CHECK_INT(out.red_pt, 63); /* the viewer takes RED as the clinic sends it */
    pa.red_pt = 0;
    CHECK_INT(mr_negotiate_subscribe_codec(a, &pa, &out), 0);
    CHECK_INT(out.red_pt, 0); /* plain Opus from the clinic: plain Opus */
    pa.red_pt = 63;
    CHECK_STR(out.fmtp, "minptime=10;useinbandfec=1");
    CHECK_INT(mr_negotiate_subscribe_codec(v, &pa, &out), MR_ECODEC);

    struct mr_codec cb = h264(0x42, 0xe0, 0x1f);
    CHECK_INT(mr_negotiate_subscribe_codec(v, &cb, &out), 0);
    CHECK_INT(out.pt, 108);
    CHECK_STR(out.fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    CHECK_INT(out.h264_profile_idc, 0x42);
    CHECK_INT(out.h264_profile_iop, 0xe0);
    CHECK_INT(out.h264_level_idc, 0x1f);
    struct mr_codec base = h264(0x42, 0x00, 0x1f);
    CHECK_INT(mr_negotiate_subscribe_codec(v, &base, &out), 0);
    CHECK_INT(out.pt, 102);
    struct mr_codec main_p = h264(0x4d, 0x00, 0x28);
    CHECK_INT(mr_negotiate_subscribe_codec(v, &main_p, &out), 0);
    CHECK_INT(out.pt, 116);
    struct mr_codec hi444 = h264(0xf4, 0x00, 0x1f);
    CHECK_INT(mr_negotiate_subscribe_codec(v, &hi444, &out), 0);
    CHECK_INT(out.pt, 41);
    /* High and Constrained High are not in this offer. */
    struct mr_codec high = h264(0x64, 0x00, 0x1f), chigh = h264(0x64, 0x0c, 0x1f);
    CHECK_INT(mr_negotiate_subscribe_codec(v, &high, &out), MR_ECODEC);
    CHECK_INT(mr_negotiate_subscribe_codec(v, &chigh, &out), MR_ECODEC);

    struct mr_ext_ids ids;
    mr_negotiate_ext_ids(v, &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_MID], 9);
    mr_negotiate_ext_ids(a, &ids);
    CHECK_INT(ids.id[MR_RTP_EXT_MID], 9);
    CHECK_INT(ids.id[MR_RTP_EXT_AUDIO_LEVEL], 14);
    free(pub);
    free(s);
}

/* aiortc publishes H.264 only when asked; its profiles against a viewer. */
static void test_whep_from_aiortc_h264(void)
{
    struct mr_sdp *pub = parse_file("aiortc_whip_sendonly.sdp");
    struct mr_sdp *s = parse_file("chromium_whep_recvonly.sdp");
    /* The third codec of aiortc's video section: H264 42001f pm=1. */
    struct mr_sdp_media only_h264 = pub->media[0];
    only_h264.n_codecs = 1;
    only_h264.codecs[0] = pub->media[0].codecs[2];
    struct mr_codec p, out;
    CHECK_INT(mr_negotiate_publish_codec(&only_h264, &p), 0);
    CHECK_INT(p.id, MR_CODEC_H264);
    CHECK_INT(p.pt, 99);
    CHECK_INT(p.h264_profile_idc, 0x42);
    CHECK_INT(p.h264_profile_iop, 0x00);
    CHECK_INT(p.h264_level_idc, 0x1f);
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[0], &p, &out), 0);
    CHECK_INT(out.pt, 102);
    free(pub);
    free(s);
}

#define HEAD "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"

static void test_h264_compatibility(void)
{
    /* A Baseline decoder takes Constrained Baseline content, but an exact
     * profile match is preferred even when offered later. */
    struct mr_sdp *s = parse_text(
        HEAD
        "m=video 9 UDP/TLS/RTP/SAVPF 100 101\r\n"
        "a=rtpmap:100 H264/90000\r\na=fmtp:100 packetization-mode=1;profile-level-id=42001f\r\n"
        "a=rtpmap:101 h264/90000\r\na=fmtp:101 profile-level-id=42E01F;packetization-mode=1\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 100\r\n"
        "a=rtpmap:100 H264/90000\r\na=fmtp:100 packetization-mode=1;profile-level-id=42001f\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 100\r\n"
        "a=rtpmap:100 H264/90000\r\na=fmtp:100 packetization-mode=1;profile-level-id=42e01f\r\n");
    struct mr_codec out;
    struct mr_codec cb42 = h264(0x42, 0xe0, 0x1f), cb4d = h264(0x4d, 0x80, 0x1f),
                    cb58 = h264(0x58, 0xc0, 0x1f), base = h264(0x42, 0x00, 0x1f),
                    ext = h264(0x58, 0x80, 0x1f);
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[0], &cb42, &out), 0);
    CHECK_INT(out.pt, 101);
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[0], &cb4d, &out), 0);
    CHECK_INT(out.pt, 101);
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[0], &cb58, &out), 0);
    CHECK_INT(out.pt, 101);
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[1], &cb42, &out), 0);
    CHECK_INT(out.pt, 100);
    /* Baseline content may use features a Constrained Baseline decoder
     * lacks, and Extended is its own profile. */
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[2], &base, &out), MR_ECODEC);
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[2], &ext, &out), MR_ECODEC);
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[1], &base, &out), 0);
    free(s);
}

static void test_publish_refusals(void)
{
    struct mr_sdp *s = parse_text(
        HEAD
        "m=video 9 UDP/TLS/RTP/SAVPF 104 105 106 107 108\r\n"
        "a=rtpmap:104 H264/90000\r\na=fmtp:104 packetization-mode=0;profile-level-id=42e01f\r\n"
        "a=rtpmap:105 H264/90000\r\na=fmtp:105 profile-level-id=42e01f\r\n"
        "a=rtpmap:106 H264/90000\r\na=fmtp:106 packetization-mode=1;profile-level-id=42e0\r\n"
        "a=rtpmap:107 VP8/48000\r\na=rtpmap:108 VP9/90000\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 112 0\r\n"
        "a=rtpmap:111 opus/48000\r\na=rtpmap:112 opus/44100/2\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 OPUS/48000/2\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 packetization-mode=1\r\na=rtpmap:97 vp8/90000\r\n"
        "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\n"
        "a=rtcp-fb:96 nack pli\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
    struct mr_codec out;
    for (unsigned i = 0; i < 4; i++)
        CHECK_INT(mr_negotiate_publish_codec(&s->media[i], &out), MR_ECODEC);
    CHECK_INT(mr_negotiate_publish_codec(&s->media[5], &out), MR_ECODEC);
    /* Without profile-level-id, H.264 means 42000a. */
    CHECK_INT(mr_negotiate_publish_codec(&s->media[4], &out), 0);
    CHECK_INT(out.id, MR_CODEC_H264);
    CHECK_INT(out.pt, 96);
    CHECK_INT(out.h264_profile_idc, 0x42);
    CHECK_INT(out.h264_profile_iop, 0x00);
    CHECK_INT(out.h264_level_idc, 0x0a);
    CHECK_INT(out.fb, MR_FB_NACK | MR_FB_NACK_PLI | MR_FB_TWCC);
    CHECK_INT(mr_negotiate_publish_codec(NULL, &out), MR_EINVAL);
    free(s);
}

static void test_fill_answer(void)
{
    struct mr_sdp *s = parse_file("chromium_whep_recvonly.sdp");
    struct mr_codec pa = {0}, out;
    pa.id = MR_CODEC_OPUS;
    pa.pt = 96;
    pa.clock_rate = 48000;
    pa.channels = 2;
    CHECK_INT(mr_negotiate_subscribe_codec(&s->media[1], &pa, &out), 0);
    struct mr_ext_ids ids;
    mr_negotiate_codec_ext_ids(&s->media[1], &out, &ids);
    struct mr_sdp_answer_media am;
    memset(&am, 0, sizeof(am));
    am.n_extmaps = 5;
    mr_negotiate_fill_answer(&am, &out, &ids);
    CHECK_INT(am.n_codecs, 1);
    CHECK_INT(am.codecs[0].pt, 111);
    CHECK_STR(am.codecs[0].name, "opus");
    CHECK_INT(am.codecs[0].clock_rate, 48000);
    CHECK_INT(am.codecs[0].channels, 2);
    CHECK_STR(am.codecs[0].fmtp, "minptime=10;useinbandfec=1");
    /* A viewer's audio counts for its downlink's estimate too. */
    CHECK_INT(am.codecs[0].fb, MR_FB_TWCC);
    CHECK_INT(am.n_extmaps, 3);
    CHECK_INT(am.extmaps[0].id, 9);
    CHECK_STR(am.extmaps[0].uri, "urn:ietf:params:rtp-hdrext:sdes:mid");
    CHECK_INT(am.extmaps[1].id, 14);
    CHECK_STR(am.extmaps[1].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    CHECK_INT(am.extmaps[2].id, 4);
    CHECK_STR(am.extmaps[2].uri,
              "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");

    /* Feedback beyond PLI, FIR, NACK and transport-cc never
     * reaches an answer; an RTX format follows its codec. */
    struct mr_codec vp8 = {0};
    vp8.id = MR_CODEC_VP8;
    vp8.pt = 96;
    vp8.rtx_pt = 97;
    vp8.clock_rate = 90000;
    vp8.fb = MR_FB_NACK | MR_FB_NACK_PLI | MR_FB_CCM_FIR | MR_FB_GOOG_REMB | MR_FB_TWCC;
    memset(&ids, 0, sizeof(ids));
    mr_negotiate_fill_answer(&am, &vp8, &ids);
    CHECK_INT(am.n_codecs, 2);
    CHECK_STR(am.codecs[0].name, "VP8");
    CHECK_INT(am.codecs[0].channels, 0);
    CHECK_INT(am.codecs[0].fb, MR_FB_NACK | MR_FB_NACK_PLI | MR_FB_CCM_FIR | MR_FB_TWCC);
    CHECK_INT(am.codecs[1].pt, 97);
    CHECK_STR(am.codecs[1].name, "rtx");
    CHECK_INT(am.codecs[1].clock_rate, 90000);
    CHECK_STR(am.codecs[1].fmtp, "apt=96");
    CHECK_INT(am.codecs[1].fb, 0);
    CHECK_INT(am.n_extmaps, 0);
    /* Without NACK, no RTX. */
    vp8.fb = MR_FB_NACK_PLI;
    mr_negotiate_fill_answer(&am, &vp8, &ids);
    CHECK_INT(am.n_codecs, 1);
    free(s);
}

/* The layers of a publisher's simulcast section (RFC 8853): Chromium's
 * q;h;f with the rid extension, and the ways an offer narrows them. */
static void test_simulcast_layers(void)
{
    struct mr_sdp *s = parse_file("chromium_whip_simulcast.sdp");
    const struct mr_sdp_media *v = &s->media[1];
    struct mr_codec c;
    struct mr_ext_ids ext;
    struct mr_sdp_sim_stream out[3];
    char detail[160] = "";
    CHECK_INT(mr_negotiate_publish_codec(v, &c), 0);
    mr_negotiate_codec_ext_ids(v, &c, &ext);
    CHECK_INT(ext.id[MR_RTP_EXT_RID], 10);
    CHECK_INT(ext.id[MR_RTP_EXT_RRID], 11);
    CHECK_INT(mr_negotiate_simulcast(v, &c, &ext, out, 3, detail, sizeof(detail)), 3);
    CHECK_STR(out[0].rid, "q");
    CHECK_STR(out[2].rid, "f");
    /* At most max, in the offer's order. */
    CHECK_INT(mr_negotiate_simulcast(v, &c, &ext, out, 2, detail, sizeof(detail)), 2);
    CHECK_STR(out[1].rid, "h");
    /* Without the rid extension, or on audio: one plain stream. */
    struct mr_ext_ids none = ext;
    none.id[MR_RTP_EXT_RID] = 0;
    CHECK_INT(mr_negotiate_simulcast(v, &c, &none, out, 3, detail, sizeof(detail)), 0);
    CHECK_INT(mr_negotiate_simulcast(&s->media[0], &c, &ext, out, 3, detail, sizeof(detail)),
              0);
    /* No rid extension is read where the section sends no simulcast. */
    struct mr_codec ac;
    CHECK_INT(mr_negotiate_publish_codec(&s->media[0], &ac), 0);
    mr_negotiate_codec_ext_ids(&s->media[0], &ac, &none);
    CHECK_INT(none.id[MR_RTP_EXT_RID], 0);
    free(s);

    /* pt= restrictions leave out the layers that cannot use the codec;
     * one layer left is no simulcast. */
    s = parse_text(HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 98\r\na=mid:0\r\n"
                        "a=rtpmap:96 VP8/90000\r\na=rtpmap:98 VP9/90000\r\n"
                        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                        "a=rid:a send pt=98\r\na=rid:b send pt=96,98\r\na=rid:c send\r\n"
                        "a=simulcast:send a;b;c\r\n");
    CHECK_INT(mr_negotiate_publish_codec(&s->media[0], &c), 0);
    mr_negotiate_codec_ext_ids(&s->media[0], &c, &ext);
    CHECK_INT(mr_negotiate_simulcast(&s->media[0], &c, &ext, out, 3, detail, sizeof(detail)), 2);
    CHECK_STR(out[0].rid, "b");
    CHECK_STR(out[1].rid, "c");
    free(s);
    s = parse_text(HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 98\r\na=mid:0\r\n"
                        "a=rtpmap:96 VP8/90000\r\na=rtpmap:98 VP9/90000\r\n"
                        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                        "a=rid:a send pt=98\r\na=rid:b send\r\na=simulcast:send a;b\r\n");
    CHECK_INT(mr_negotiate_publish_codec(&s->media[0], &c), 0);
    mr_negotiate_codec_ext_ids(&s->media[0], &c, &ext);
    CHECK_INT(mr_negotiate_simulcast(&s->media[0], &c, &ext, out, 3, detail, sizeof(detail)), 0);
    free(s);

    /* A list naming a rid no a=rid send line defines is refused. */
    s = parse_text(HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\n"
                        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                        "a=rid:a send\r\na=rid:b recv\r\na=simulcast:send a;b\r\n");
    CHECK_INT(mr_negotiate_publish_codec(&s->media[0], &c), 0);
    mr_negotiate_codec_ext_ids(&s->media[0], &c, &ext);
    CHECK_INT(mr_negotiate_simulcast(&s->media[0], &c, &ext, out, 3, detail, sizeof(detail)),
              MR_EPARSE);
    CHECK(strstr(detail, "names rid 'b'") != NULL);
    free(s);
}

MR_TEST_MAIN(MR_TEST(test_names), MR_TEST(test_whip_chromium), MR_TEST(test_whip_aiortc),
             MR_TEST(test_whep_chromium), MR_TEST(test_whep_from_aiortc_h264),
             MR_TEST(test_h264_compatibility), MR_TEST(test_publish_refusals),
             MR_TEST(test_fill_answer), MR_TEST(test_simulcast_layers))
