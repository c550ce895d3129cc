/*
 * mr_sdp_parse, mr_sdp_parse_candidate and the lookups, on the real offers of
 * tests/data/sdp (Chromium 156, aiortc 1.4) and on broken descriptions.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "mr_test.h"
#include "sdp/sdp.h"

static struct mr_sdp *sdp_new(void)
{
    struct mr_sdp *s = calloc(1, sizeof(*s));
    if (!s) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return s;
}

static char *load(const char *name, size_t *len)
{
    const char *dir = getenv("MR_SHARED_SDP");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data/sdp", name);
    char *text = mr_test_read_file(path, len);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    return text;
}

/* Parses a corpus file; fails the test (and returns NULL) when it does not. */
static struct mr_sdp *parse_file(const char *name)
{
    size_t len;
    char *text = load(name, &len);
    struct mr_sdp *s = sdp_new();
    char err[128] = "";
    int rc = mr_sdp_parse(text, len, s, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", name, err);
    CHECK_INT(rc, 0);
    free(text);
    return s;
}

static int parse_str(const char *text, char *err, size_t err_len)
{
    struct mr_sdp *s = sdp_new();
    int rc = mr_sdp_parse(text, strlen(text), s, err, err_len);
    free(s);
    return rc;
}

static const struct mr_sdp_extmap *find_ext(const struct mr_sdp_media *m, const char *uri)
{
    for (unsigned i = 0; i < m->n_extmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0)
            return &m->extmaps[i];
    return NULL;
}

static int ext_id(const struct mr_sdp_media *m, const char *uri)
{
    const struct mr_sdp_extmap *e = find_ext(m, uri);
    return e ? e->id : -1;
}

#define URI_MID   "urn:ietf:params:rtp-hdrext:sdes:mid"
#define URI_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

/* The payload types of H.264 with packetization-mode=1, in offer order. */
static unsigned h264_pm1(const struct mr_sdp_media *m, uint8_t *pts, unsigned cap)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->n_codecs; i++) {
        char pm[8];
        if (strcmp(m->codecs[i].name, "H264") == 0 &&
            mr_sdp_fmtp_param(m->codecs[i].fmtp, "packetization-mode", pm, sizeof(pm)) == 0 &&
            strcmp(pm, "1") == 0 && n < cap)
            pts[n++] = m->codecs[i].pt;
    }
    return n;
}

static uint8_t pt_by_name(const struct mr_sdp_media *m, const char *name)
{
    for (unsigned i = 0; i < m->n_codecs; i++)
        if (strcmp(m->codecs[i].name, name) == 0)
            return m->codecs[i].pt;
    return 255;
}

/* Chromium puts a udp host candidate and a tcp active one in each section. */
static void check_chromium_candidates(const struct mr_sdp_media *m, uint16_t udp_port)
{
    CHECK_INT(m->n_candidates, 2);
    CHECK_STR(m->candidates[0].transport, "udp");
    CHECK_STR(m->candidates[0].addr, "127.0.0.1");
    CHECK_INT(m->candidates[0].port, udp_port);
    CHECK_INT(m->candidates[0].priority, 2122194687u);
    CHECK_STR(m->candidates[0].type, "host");
    CHECK_STR(m->candidates[0].tcptype, "");
    CHECK_STR(m->candidates[1].transport, "tcp");
    CHECK_INT(m->candidates[1].port, 9);
    CHECK_STR(m->candidates[1].tcptype, "active");
    CHECK(m->ice_trickle);
    CHECK(!m->end_of_candidates);
    CHECK_INT(m->setup, MR_SETUP_ACTPASS);
    CHECK_STR(m->fingerprint_alg, "sha-256");
    CHECK_INT(m->fingerprint_len, 32);
    CHECK(m->rtcp_mux);
    CHECK(m->rtcp_rsize);
}

static void check_chromium_audio(const struct mr_sdp_media *a)
{
    CHECK_INT(a->kind, MR_MEDIA_AUDIO);
    CHECK_STR(a->proto, "UDP/TLS/RTP/SAVPF");
    CHECK_INT(a->n_codecs, 8);
    CHECK_INT(a->codecs[0].pt, 111);
    CHECK_STR(a->codecs[0].name, "opus");
    CHECK_INT(a->codecs[0].clock_rate, 48000);
    CHECK_INT(a->codecs[0].channels, 2);
    CHECK_STR(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    CHECK_INT(a->codecs[0].fb, MR_FB_TWCC);
    CHECK_INT(a->codecs[7].pt, 126);
    CHECK_STR(a->codecs[7].name, "telephone-event");
    CHECK_INT(a->codecs[7].clock_rate, 8000);
}

static void check_chromium_video_codecs(const struct mr_sdp_media *v)
{
    const struct mr_sdp_codec *vp8 = mr_sdp_media_codec(v, 96);
    CHECK(vp8 != NULL);
    if (vp8) {
        CHECK_STR(vp8->name, "VP8");
        CHECK_INT(vp8->clock_rate, 90000);
        CHECK_INT(vp8->channels, 0);
        CHECK_INT(vp8->fb,
                  MR_FB_GOOG_REMB | MR_FB_TWCC | MR_FB_CCM_FIR | MR_FB_NACK | MR_FB_NACK_PLI);
    }
    CHECK_INT(pt_by_name(v, "VP8"), 96);
    const struct mr_sdp_codec *rtx = mr_sdp_media_codec(v, 97);
    CHECK(rtx && strcmp(rtx->name, "rtx") == 0 && strcmp(rtx->fmtp, "apt=96") == 0);
    const struct mr_sdp_codec *h = mr_sdp_media_codec(v, 108);
    CHECK(h &&
          strcmp(h->fmtp,
                 "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f") == 0);
    CHECK(mr_sdp_media_codec(v, 5) == NULL);
}

static void test_chromium_whip(void)
{
    struct mr_sdp *s = parse_file("chromium_whip_sendonly.sdp");
    CHECK(s->sess_id == 6187532672837371828ull);
    CHECK_INT(s->sess_version, 2);
    CHECK(s->extmap_allow_mixed);
    CHECK(!s->ice_lite);
    CHECK_INT(s->n_bundle, 2);
    CHECK_STR(s->bundle[0], "0");
    CHECK_STR(s->bundle[1], "1");
    CHECK_INT(s->n_media, 2);
    const struct mr_sdp_media *a = &s->media[0], *v = &s->media[1];
    CHECK_STR(a->mid, "0");
    CHECK_STR(a->kind_name, "audio");
    CHECK_INT(a->port, 53119);
    CHECK_INT(a->dir, MR_DIR_SENDONLY);
    check_chromium_audio(a);
    CHECK_INT(a->n_extmaps, 4);
    CHECK_INT(ext_id(a, URI_MID), 4);
    CHECK_INT(ext_id(a, URI_LEVEL), 1);
    CHECK_STR(a->ice_ufrag, "Wzlf");
    CHECK_STR(a->ice_pwd, "61tCF95u79tJcwuYxazpxr8V");
    CHECK_INT(a->fingerprint[0], 0x0a);
    CHECK_INT(a->fingerprint[31], 0x74);
    check_chromium_candidates(a, 53119);
    CHECK_INT(a->n_ssrcs, 1);
    CHECK(a->ssrcs[0].ssrc == 1857369629u);
    CHECK_STR(a->ssrcs[0].cname, "CttSwYLdP43DNHFj");
    CHECK_STR(a->ssrcs[0].msid, "- 87e6e9fb-612a-4432-aa7f-bbbefe6d55ec");
    CHECK_STR(a->msid, "- 87e6e9fb-612a-4432-aa7f-bbbefe6d55ec");
    CHECK(!a->simulcast);

    CHECK_STR(v->mid, "1");
    CHECK_INT(v->kind, MR_MEDIA_VIDEO);
    CHECK_INT(v->dir, MR_DIR_SENDONLY);
    CHECK_INT(v->n_codecs, 23);
    check_chromium_video_codecs(v);
    uint8_t pts[8];
    CHECK_INT(h264_pm1(v, pts, 8), 3);
    CHECK_INT(pts[0], 102);
    CHECK_INT(pts[1], 108);
    CHECK_INT(pts[2], 116);
    CHECK_INT(v->n_extmaps, 11);
    CHECK_INT(ext_id(v, URI_MID), 4);
    CHECK_STR(v->ice_ufrag, "Wzlf");
    check_chromium_candidates(v, 42607);
    CHECK_INT(v->n_ssrcs, 2);
    CHECK_INT(v->n_fid, 1);
    CHECK(v->fid[0][0] == 425878776u && v->fid[0][1] == 4293561399u);
    CHECK(mr_sdp_find_mid(s, "1") == v);
    CHECK(mr_sdp_find_mid(s, "2") == NULL);
    free(s);
}

static void test_chromium_whep(void)
{
    struct mr_sdp *s = parse_file("chromium_whep_recvonly.sdp");
    CHECK_INT(s->n_media, 2);
    const struct mr_sdp_media *v = &s->media[0], *a = &s->media[1];
    CHECK_INT(v->kind, MR_MEDIA_VIDEO);
    CHECK_STR(v->mid, "0");
    CHECK_INT(v->dir, MR_DIR_RECVONLY);
    CHECK_INT(v->n_codecs, 34);
    CHECK_INT(v->codecs[33].pt, 49);
    CHECK_STR(v->codecs[33].name, "flexfec-03");
    check_chromium_video_codecs(v);
    uint8_t pts[8];
    CHECK_INT(h264_pm1(v, pts, 8), 4);
    CHECK_INT(pts[0], 102);
    CHECK_INT(pts[1], 108);
    CHECK_INT(pts[2], 116);
    CHECK_INT(pts[3], 41);
    CHECK_INT(ext_id(v, URI_MID), 9);
    CHECK_INT(v->n_ssrcs, 0);
    check_chromium_candidates(v, 39385);
    CHECK_STR(v->ice_ufrag, "5ngu");
    CHECK_STR(v->ice_pwd, "8Uz14pXYV88il9lhcIDjMEOW");
    CHECK_INT(a->kind, MR_MEDIA_AUDIO);
    CHECK_STR(a->mid, "1");
    CHECK_INT(a->dir, MR_DIR_RECVONLY);
    check_chromium_audio(a);
    CHECK_INT(ext_id(a, URI_MID), 9);
    CHECK_INT(ext_id(a, URI_LEVEL), 14);
    free(s);
}

static void test_chromium_simulcast(void)
{
    struct mr_sdp *s = parse_file("chromium_whip_simulcast.sdp");
    CHECK_INT(s->n_media, 2);
    CHECK(!s->media[0].simulcast);
    CHECK(s->media[1].simulcast);
    CHECK_INT(s->media[1].n_extmaps, 13);
    CHECK_INT(s->media[1].n_ssrcs, 0);
    CHECK_INT(s->media[0].n_ssrcs, 1);
    CHECK_INT(pt_by_name(&s->media[1], "VP8"), 96);
    /* a=rid:q send, h, f and a=simulcast:send q;h;f */
    const struct mr_sdp_media *v = &s->media[1];
    CHECK_INT(v->n_rids, 3);
    CHECK_INT(v->n_sim_send, 3);
    static const char *const ids[] = {"q", "h", "f"};
    for (unsigned i = 0; i < 3 && v->n_rids == 3 && v->n_sim_send == 3; i++) {
        CHECK_STR(v->rids[i].id, ids[i]);
        CHECK(v->rids[i].send);
        CHECK_INT(v->rids[i].n_pts, 0);
        CHECK_STR(v->sim_send[i].rid, ids[i]);
        CHECK(!v->sim_send[i].paused);
    }
    CHECK(mr_sdp_media_rid(v, "h") == &v->rids[1]);
    CHECK(mr_sdp_media_rid(v, "x") == NULL);
    CHECK_INT(s->media[0].n_rids, 0);
    free(s);
}

static void test_chromium_sendrecv(void)
{
    struct mr_sdp *s = parse_file("chromium_sendrecv.sdp");
    CHECK_INT(s->n_media, 2);
    CHECK_INT(s->media[0].dir, MR_DIR_SENDRECV);
    CHECK_INT(s->media[1].dir, MR_DIR_SENDRECV);
    CHECK_INT(s->media[1].n_fid, 1);
    CHECK_INT(s->media[1].n_ssrcs, 2);
    CHECK_INT(ext_id(&s->media[0], URI_MID), 4);
    check_chromium_candidates(&s->media[0], 59429);
    free(s);
}

static void test_aiortc(void)
{
    struct mr_sdp *s = parse_file("aiortc_whip_sendonly.sdp");
    CHECK(s->sess_id == 4004388913ull);
    CHECK(!s->extmap_allow_mixed);
    CHECK_INT(s->n_media, 2);
    const struct mr_sdp_media *v = &s->media[0], *a = &s->media[1];
    CHECK_INT(v->kind, MR_MEDIA_VIDEO);
    CHECK_STR(v->mid, "0");
    CHECK_INT(v->dir, MR_DIR_SENDONLY);
    CHECK_INT(v->n_codecs, 6);
    CHECK_INT(pt_by_name(v, "VP8"), 97);
    CHECK_INT(mr_sdp_media_codec(v, 97)->fb, MR_FB_NACK | MR_FB_NACK_PLI | MR_FB_GOOG_REMB);
    uint8_t pts[4];
    CHECK_INT(h264_pm1(v, pts, 4), 2);
    CHECK_INT(pts[0], 99);
    CHECK_INT(pts[1], 101);
    CHECK_INT(ext_id(v, URI_MID), 1);
    CHECK_INT(v->n_extmaps, 2);
    /* aiortc gives each section its own credentials, even under BUNDLE, and
     * lists candidates and end-of-candidates before them. */
    CHECK_STR(v->ice_ufrag, "2tNy");
    CHECK_STR(v->ice_pwd, "5zuIJqfybawn8cEY5T649z");
    CHECK_STR(a->ice_ufrag, "coci");
    CHECK_STR(a->ice_pwd, "u6caH616br68jo1up7xuFh");
    CHECK(v->end_of_candidates && a->end_of_candidates);
    CHECK(!v->ice_trickle);
    CHECK_INT(v->n_candidates, 1);
    CHECK_STR(v->candidates[0].addr, "127.0.0.1");
    CHECK_INT(v->candidates[0].port, 53056);
    CHECK_STR(v->candidates[0].foundation, "16572de626da4e5384a0ce2d0d93678a");
    CHECK_INT(a->candidates[0].port, 48091);
    CHECK_INT(v->fingerprint[0], 0xb5);
    CHECK_INT(v->setup, MR_SETUP_ACTPASS);
    CHECK(v->rtcp_mux && !v->rtcp_rsize);
    CHECK_INT(v->n_ssrcs, 2);
    CHECK_INT(v->n_fid, 1);
    CHECK(v->fid[0][0] == 4168376184u && v->fid[0][1] == 1926765699u);
    CHECK_STR(v->ssrcs[0].cname, "34b829dc-4a02-41cd-b18b-09be7abb16a4");
    CHECK_INT(a->kind, MR_MEDIA_AUDIO);
    CHECK_STR(a->mid, "1");
    CHECK_INT(a->n_codecs, 3);
    CHECK_INT(pt_by_name(a, "opus"), 96);
    CHECK_INT(a->codecs[0].channels, 2);
    CHECK_STR(a->codecs[1].name, "PCMU");
    CHECK_INT(ext_id(a, URI_MID), 1);
    CHECK_INT(ext_id(a, URI_LEVEL), 2);
    CHECK_INT(a->n_ssrcs, 1);
    CHECK(a->ssrcs[0].ssrc == 646797306u);
    free(s);
}

/* GStreamer 1.22 webrtcbin with bundle-policy=max-bundle (issue 14): the
 * audio section after the tagged one is "m=audio 0" with a=bundle-only and
 * no candidates, but carries the same credentials and fingerprint. */
static void test_gst_webrtcbin_maxbundle(void)
{
    struct mr_sdp *s = parse_file("gst_webrtcbin_whip_maxbundle.sdp");
    CHECK(s->sess_id == 7892585080485047285ull);
    CHECK_INT(s->n_bundle, 2);
    CHECK_STR(s->bundle[0], "video0");
    CHECK_STR(s->bundle[1], "audio1");
    CHECK_INT(s->n_media, 2);
    const struct mr_sdp_media *v = &s->media[0], *a = &s->media[1];
    CHECK_INT(v->kind, MR_MEDIA_VIDEO);
    CHECK_STR(v->mid, "video0");
    CHECK_INT(v->port, 9);
    CHECK(!v->bundle_only);
    CHECK_INT(v->dir, MR_DIR_SENDONLY);
    CHECK_INT(v->n_codecs, 1);
    CHECK_INT(pt_by_name(v, "VP8"), 96);
    CHECK(v->ice_trickle); /* session-level a=ice-options:trickle */
    CHECK_STR(v->ice_ufrag, "JrwnlRbGuujZWCaPH+8FM8KqTf7on+9h");
    CHECK_INT(v->fingerprint_len, 32);
    CHECK_INT(v->fingerprint[0], 0x92);
    CHECK_INT(v->setup, MR_SETUP_ACTPASS);
    CHECK(v->rtcp_mux && v->rtcp_rsize);
    CHECK(!v->end_of_candidates);
    CHECK_INT(v->n_candidates, 3);
    CHECK_STR(v->candidates[0].transport, "udp");
    CHECK_INT(v->candidates[0].port, 56552);
    CHECK_STR(v->candidates[1].tcptype, "active");
    CHECK_INT(v->n_ssrcs, 1);
    CHECK(v->ssrcs[0].ssrc == 655870080u);
    CHECK_STR(v->ssrcs[0].cname, "user1506600003@host-adf0ff02");
    CHECK_INT(a->kind, MR_MEDIA_AUDIO);
    CHECK_STR(a->mid, "audio1");
    CHECK_INT(a->port, 0);
    CHECK(a->bundle_only);
    CHECK_INT(a->dir, MR_DIR_SENDONLY);
    CHECK_INT(a->n_codecs, 1);
    CHECK_INT(pt_by_name(a, "OPUS"), 111); /* upper case, as webrtcbin writes it */
    CHECK_INT(a->codecs[0].channels, 2);
    CHECK_INT(a->n_candidates, 0);
    CHECK_STR(a->ice_ufrag, v->ice_ufrag);
    CHECK_INT(a->fingerprint_len, 32);
    CHECK(a->rtcp_mux);
    CHECK(a->ssrcs[0].ssrc == 1666176320u);
    free(s);
}

/* --- Leniency ------------------------------------------------------------- */

#define HEAD "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
#define PWD  "abcdefghijklmnopqrstuv"
#define FPR                                                                                        \
    "sha-256 B5:6F:39:14:7C:23:1A:38:87:3D:B1:CE:4C:5F:D7:E8:23:37:7F:5E:35:B4:21:3B:F7:9C:66:06:" \
    "11:86:64:6A"
#define VIDEO "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"

static void test_session_level_inherited(void)
{
    const char *text = HEAD "a=ice-ufrag:sess\r\na=ice-pwd:" PWD "\r\na=fingerprint:" FPR "\r\n"
                            "a=setup:passive\r\na=ice-options:trickle renomination\r\n"
                            "a=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\r\n"
                            "a=sendonly\r\na=extmap:3 " URI_MID "\r\na=msid-semantic: WMS\r\n"
                            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
                            "a=mid:a\r\n" VIDEO "a=mid:v\r\na=ice-ufrag:mine\r\na=recvonly\r\n"
                            "a=candidate:2 1 udp 1 10.0.0.2 6000 typ host\r\n";
    struct mr_sdp *s = sdp_new();
    char err[128] = "";
    CHECK_INT(mr_sdp_parse(text, strlen(text), s, err, sizeof(err)), 0);
    const struct mr_sdp_media *a = &s->media[0], *v = &s->media[1];
    CHECK_STR(a->ice_ufrag, "sess");
    CHECK_STR(a->ice_pwd, PWD);
    CHECK_STR(v->ice_ufrag, "mine");
    CHECK_STR(v->ice_pwd, PWD);
    CHECK(a->ice_trickle && v->ice_trickle);
    CHECK_INT(a->fingerprint_len, 32);
    CHECK_INT(v->setup, MR_SETUP_PASSIVE);
    CHECK_INT(a->dir, MR_DIR_SENDONLY);
    CHECK_INT(v->dir, MR_DIR_RECVONLY);
    CHECK_INT(ext_id(a, URI_MID), 3);
    CHECK_INT(ext_id(v, URI_MID), 3);
    CHECK_INT(a->n_candidates, 1);
    CHECK_STR(a->candidates[0].transport, "udp");
    CHECK_INT(v->n_candidates, 1);
    CHECK_STR(v->candidates[0].addr, "10.0.0.2");
    CHECK_INT(v->n_codecs, 1);
    CHECK_STR(v->codecs[0].name, "");
    free(s);
}

static void test_lenient_forms(void)
{
    char err[128];
    /* LF line ends, trailing blanks, unknown attributes and lines, extmap
     * with a direction, rtpmap/fmtp/rtcp-fb of a payload type not listed,
     * rtcp-fb for every codec, attributes before the mid. */
    const char *text = "v=0\no=- 1 2 IN IP4 0.0.0.0\ns=-\nt=0 0\nb=AS:30\n"
                       "a=msid-semantic:WMS *  \na=x-unknown:1\n"
                       "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"
                       "a=rtcp-fb:* nack pli\na=rtpmap:96 VP8/90000\na=rtpmap:98 VP9/90000\n"
                       "a=fmtp:98 profile-id=0\na=rtcp-fb:99 nack\na=extmap:2/recvonly " URI_MID
                       "\na=mid:video\na=rtpmap:97 H264/90000\na=fmtp:97 packetization-mode=1\n"
                       "a=rtcp-fb:97 ccm fir\na=rtcp-fb:97 trr-int 100\n"
                       "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:data\n"
                       "a=sctp-port:5000\n";
    struct mr_sdp *s = sdp_new();
    CHECK_INT(mr_sdp_parse(text, strlen(text), s, err, sizeof(err)), 0);
    const struct mr_sdp_media *v = &s->media[0];
    CHECK_INT(v->n_codecs, 2);
    CHECK_INT(v->codecs[0].fb, MR_FB_NACK_PLI);
    CHECK_INT(v->codecs[1].fb, MR_FB_NACK_PLI | MR_FB_CCM_FIR);
    CHECK_INT(ext_id(v, URI_MID), 2);
    CHECK_STR(v->mid, "video");
    CHECK_STR(v->first_fmt, "96");
    CHECK_INT(s->n_media, 2);
    CHECK_INT(s->media[1].kind, MR_MEDIA_APPLICATION);
    CHECK_INT(s->media[1].n_codecs, 0);
    CHECK_STR(s->media[1].first_fmt, "webrtc-datachannel");
    CHECK_STR(s->media[1].proto, "UDP/DTLS/SCTP");
    free(s);
}

static void test_caps_keep_first(void)
{
    size_t cap = 64 * 1024;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, HEAD "m=video 9 UDP/TLS/RTP/SAVPF");
    for (int pt = 0; pt < 60; pt++)
        n += (size_t)snprintf(text + n, cap - n, " %d", pt + 60);
    n += (size_t)snprintf(text + n, cap - n, "\r\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "a=candidate:%d 1 udp %d 10.0.0.%d 5000 typ host\r\n", i, i + 1, i);
    for (int i = 1; i <= 30; i++)
        n += (size_t)snprintf(text + n, cap - n, "a=extmap:%d urn:x:%d\r\n", i, i);
    for (int i = 1; i <= 20; i++)
        n += (size_t)snprintf(text + n, cap - n, "a=ssrc:%d cname:c\r\n", i);
    struct mr_sdp *s = sdp_new();
    char err[128] = "";
    CHECK_INT(mr_sdp_parse(text, n, s, err, sizeof(err)), 0);
    const struct mr_sdp_media *m = &s->media[0];
    CHECK_INT(m->n_codecs, MR_SDP_MAX_CODECS);
    CHECK_INT(m->codecs[0].pt, 60);
    CHECK_INT(m->codecs[MR_SDP_MAX_CODECS - 1].pt, 60 + MR_SDP_MAX_CODECS - 1);
    CHECK_INT(m->n_candidates, MR_SDP_MAX_CANDIDATES);
    CHECK_STR(m->candidates[0].foundation, "0");
    CHECK_STR(m->candidates[31].foundation, "31");
    CHECK_INT(m->n_extmaps, MR_SDP_MAX_EXTMAPS);
    CHECK_INT(m->extmaps[0].id, 1);
    CHECK_INT(m->n_ssrcs, MR_SDP_MAX_SSRCS);
    free(s);
    free(text);
}

/* --- Broken descriptions -------------------------------------------------- */

static void expect_parse_error(const char *text, const char *what)
{
    char err[128] = "";
    int rc = parse_str(text, err, sizeof(err));
    if (rc != MR_EPARSE)
        fprintf(stderr, "accepted: %s\n", what);
    CHECK_INT(rc, MR_EPARSE);
    CHECK(err[0] != '\0');
}

static void test_broken(void)
{
    static const struct {
        const char *what, *text;
    } cases[] = {
        {"missing v=", "o=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\n"},
        {"v=1", "v=1\r\no=- 1 2 IN IP4 0.0.0.0\r\n"},
        {"no o=", "v=0\r\ns=-\r\nt=0 0\r\n"},
        {"m= before o=", "v=0\r\n" VIDEO},
        {"garbage line", HEAD "hello world\r\n"},
        {"upper-case type", HEAD "A=foo\r\n"},
        {"leading blank", HEAD " a=mid:0\r\n"},
        {"second v=", HEAD "v=0\r\n"},
        {"o= short", "v=0\r\no=- 1 2 IN IP4\r\n"},
        {"o= id overflow", "v=0\r\no=- 18446744073709551616 2 IN IP4 0.0.0.0\r\n"},
        {"o= id not a number", "v=0\r\no=- 12a 2 IN IP4 0.0.0.0\r\n"},
        {"m= without formats", HEAD "m=video 9 UDP/TLS/RTP/SAVPF\r\n"},
        {"m= port too big", HEAD "m=video 65536 UDP/TLS/RTP/SAVPF 96\r\n"},
        {"m= pt too big", HEAD "m=video 9 UDP/TLS/RTP/SAVPF 128\r\n"},
        {"m= pt not a number", HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96a\r\n"},
        {"m= pt negative", HEAD "m=video 9 UDP/TLS/RTP/SAVPF -1\r\n"},
        {"m= pt twice", HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 96\r\n"},
        {"m= kind too long", HEAD "m=videovideovideovideo 9 RTP/AVP 96\r\n"},
        {"rtpmap pt 128", HEAD VIDEO "a=rtpmap:128 VP8/90000\r\n"},
        {"rtpmap no rate", HEAD VIDEO "a=rtpmap:96 VP8\r\n"},
        {"rtpmap rate overflow", HEAD VIDEO "a=rtpmap:96 VP8/4294967296\r\n"},
        {"rtpmap channels 0", HEAD VIDEO "a=rtpmap:96 opus/48000/0\r\n"},
        {"rtpmap twice", HEAD VIDEO "a=rtpmap:96 VP8/90000\r\na=rtpmap:96 VP9/90000\r\n"},
        {"fmtp twice", HEAD VIDEO "a=fmtp:96 a=1\r\na=fmtp:96 a=2\r\n"},
        {"rtcp-fb bad pt", HEAD VIDEO "a=rtcp-fb:x nack\r\n"},
        {"extmap id 0", HEAD VIDEO "a=extmap:0 " URI_MID "\r\n"},
        {"extmap id 256", HEAD VIDEO "a=extmap:256 " URI_MID "\r\n"},
        {"extmap bad direction", HEAD VIDEO "a=extmap:1/both " URI_MID "\r\n"},
        {"extmap id twice", HEAD VIDEO "a=extmap:1 urn:a\r\na=extmap:1 urn:b\r\n"},
        {"ssrc overflow", HEAD VIDEO "a=ssrc:4294967296 cname:x\r\n"},
        {"FID with one ssrc", HEAD VIDEO "a=ssrc-group:FID 1\r\n"},
        {"duplicate mid", HEAD VIDEO "a=mid:0\r\n" VIDEO "a=mid:0\r\n"},
        {"second mid", HEAD VIDEO "a=mid:0\r\na=mid:1\r\n"},
        {"two directions", HEAD VIDEO "a=sendonly\r\na=recvonly\r\n"},
        {"bad setup", HEAD VIDEO "a=setup:holdconn\r\n"},
        {"short ufrag", HEAD VIDEO "a=ice-ufrag:abc\r\n"},
        {"ufrag with bad char", HEAD VIDEO "a=ice-ufrag:ab:cd\r\n"},
        {"short pwd", HEAD VIDEO "a=ice-pwd:abc\r\n"},
        {"bad candidate", HEAD VIDEO "a=candidate:1 1 udp 1 10.0.0.1 5000 typ\r\n"},
        {"candidate port", HEAD VIDEO "a=candidate:1 1 udp 1 10.0.0.1 65536 typ host\r\n"},
        {"fpr md5", HEAD "a=fingerprint:md5 B5:6F:39:14:7C:23:1A:38:87:3D:B1:CE:4C:5F:D7:E8\r\n"},
        {"fpr short", HEAD "a=fingerprint:sha-256 B5:6F:39\r\n"},
        {"fpr sha-1 length for sha-256", HEAD
         "a=fingerprint:sha-256 B5:6F:39:14:7C:23:1A:38:87:3D:B1:CE:4C:5F:D7:E8:23:37:7F:5E\r\n"},
        {"fpr not hex", HEAD
         "a=fingerprint:sha-1 ZZ:6F:39:14:7C:23:1A:38:87:3D:B1:CE:4C:5F:D7:E8:23:37:7F:5E\r\n"},
        {"fpr bad separator", HEAD
         "a=fingerprint:sha-1 B5-6F:39:14:7C:23:1A:38:87:3D:B1:CE:4C:5F:D7:E8:23:37:7F:5E\r\n"},
        {"fpr missing digest", HEAD "a=fingerprint:sha-256\r\n"},
        {"truncated", HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/900"},
        {"lone CR", HEAD "a=mid:0\rb=x\r\n"},
        {"control byte", HEAD "s=\x01\r\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_parse_error(cases[i].text, cases[i].what);

    char err[128] = "";
    struct mr_sdp *s = sdp_new();
    CHECK_INT(mr_sdp_parse("", 0, s, err, sizeof(err)), MR_EPARSE);
    CHECK(err[0] != '\0');
    CHECK_INT(mr_sdp_parse(NULL, 0, s, err, sizeof(err)), MR_EPARSE);
    CHECK_INT(mr_sdp_parse(NULL, 5, s, err, sizeof(err)), MR_EINVAL);
    /* A failed parse reports the line and leaves no media behind. */
    const char *text = HEAD VIDEO "a=rtpmap:200 VP8/90000\r\n";
    CHECK_INT(mr_sdp_parse(text, strlen(text), s, err, sizeof(err)), MR_EPARSE);
    CHECK(strncmp(err, "line 6: ", 8) == 0);
    CHECK_INT(s->n_media, 0);
    free(s);
}

static void test_overlong_values(void)
{
    char text[2048], big[600];
    static const char *const fmts[] = {
        HEAD VIDEO "a=mid:%.33s\r\n",
        HEAD VIDEO "a=ice-ufrag:%.257s\r\n",
        HEAD VIDEO "a=ice-pwd:%.257s\r\n",
        HEAD VIDEO "a=fmtp:96 x=%.254s\r\n",
        HEAD VIDEO "a=extmap:1 urn:%.124s\r\n",
        HEAD VIDEO "a=ssrc:1 cname:%.64s\r\n",
        HEAD VIDEO "a=msid:%.128s\r\n",
        HEAD VIDEO "a=rtpmap:96 %.32s/90000\r\n",
        HEAD "m=video 9 UDP/TLS/RTP/SAVPF%.32s 96\r\n",
        HEAD VIDEO "a=candidate:%.33s 1 udp 1 10.0.0.1 5000 typ host\r\n",
        HEAD VIDEO "a=candidate:1 1 udp 1 %.64s 5000 typ host\r\n",
        HEAD "a=group:BUNDLE %.33s\r\n",
    };
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        snprintf(text, sizeof(text), fmts[i], big);
        expect_parse_error(text, fmts[i]);
    }
    /* One byte shorter, each is accepted. */
    static const char *const ok[] = {
        HEAD VIDEO "a=mid:%.32s\r\n",          HEAD VIDEO "a=ice-ufrag:%.256s\r\n",
        HEAD VIDEO "a=fmtp:96 x=%.253s\r\n",   HEAD VIDEO "a=extmap:1 urn:%.123s\r\n",
        HEAD VIDEO "a=ssrc:1 cname:%.63s\r\n", HEAD "a=group:BUNDLE %.32s\r\n",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char err[128] = "";
        snprintf(text, sizeof(text), ok[i], big);
        CHECK_INT(parse_str(text, err, sizeof(err)), 0);
    }
}

static void test_too_many_media(void)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof(text), HEAD);
    for (int i = 0; i < MR_SDP_MAX_MEDIA; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "m=audio 9 RTP/AVP 0\r\na=mid:%d\r\n", i);
    char err[128] = "";
    struct mr_sdp *s = sdp_new();
    CHECK_INT(mr_sdp_parse(text, n, s, err, sizeof(err)), 0);
    CHECK_INT(s->n_media, MR_SDP_MAX_MEDIA);
    CHECK_STR(s->media[31].mid, "31");
    n += (size_t)snprintf(text + n, sizeof(text) - n, "m=audio 9 RTP/AVP 0\r\n");
    CHECK_INT(mr_sdp_parse(text, n, s, err, sizeof(err)), MR_EPARSE);
    CHECK(strstr(err, "too many") != NULL);
    free(s);
}

/* Every prefix that ends inside a line is refused; the text is copied to an
 * exact-size heap block so that ASan catches any read past len. */
static void test_truncated_everywhere(void)
{
    size_t len;
    char *text = load("chromium_whip_sendonly.sdp", &len);
    struct mr_sdp *s = sdp_new();
    unsigned refused = 0, inside = 0;
    for (size_t n = 1; n < len; n++) {
        char *copy = malloc(n);
        memcpy(copy, text, n);
        int rc = mr_sdp_parse(copy, n, s, NULL, 0);
        if (text[n - 1] != '\n') {
            inside++;
            refused += rc == MR_EPARSE;
        }
        free(copy);
    }
    CHECK_INT(refused, inside);
    free(s);
    free(text);
}

static void test_nul_bytes(void)
{
    size_t len;
    char *text = load("aiortc_whip_sendonly.sdp", &len);
    struct mr_sdp *s = sdp_new();
    unsigned refused = 0, tried = 0;
    for (size_t i = 0; i < len; i += 37) {
        char saved = text[i];
        text[i] = '\0';
        tried++;
        refused += mr_sdp_parse(text, len, s, NULL, 0) == MR_EPARSE;
        text[i] = saved;
    }
    CHECK_INT(refused, tried);
    CHECK_INT(mr_sdp_parse(text, len, s, NULL, 0), 0);
    free(s);
    free(text);
}

/* --- Candidates ------------------------------------------------------------ */

static void test_candidates(void)
{
    struct mr_sdp_candidate c;
    const char *v = "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx "
                    "raddr 192.168.1.2 rport 46154 generation 0 ufrag EsAw network-cost 999";
    CHECK_INT(mr_sdp_parse_candidate(v, strlen(v), &c), 0);
    CHECK_STR(c.foundation, "842163049");
    CHECK_INT(c.component, 1);
    CHECK_STR(c.transport, "udp");
    CHECK_INT(c.priority, 1677729535u);
    CHECK_STR(c.addr, "203.0.113.7");
    CHECK_INT(c.port, 46154);
    CHECK_STR(c.type, "srflx");
    CHECK_STR(c.raddr, "192.168.1.2");
    CHECK_INT(c.rport, 46154);

    v = "1 1 TCP 2128609279 2001:db8::1 9 typ host tcptype passive";
    CHECK_INT(mr_sdp_parse_candidate(v, strlen(v), &c), 0);
    CHECK_STR(c.transport, "tcp");
    CHECK_STR(c.addr, "2001:db8::1");
    CHECK_STR(c.tcptype, "passive");
    CHECK_STR(c.raddr, "");

    v = "candidate:3 1 udp 2113937151 9f1c3b2a-77e1-4e0b-8c7d-1bd0a9bcf2f1.local 56273 typ host";
    CHECK_INT(mr_sdp_parse_candidate(v, strlen(v), &c), 0);
    CHECK_STR(c.addr, "9f1c3b2a-77e1-4e0b-8c7d-1bd0a9bcf2f1.local");

    v = "candidate:4 1 udp 41885439 198.51.100.9 3478 typ relay raddr 0.0.0.0 rport 0";
    CHECK_INT(mr_sdp_parse_candidate(v, strlen(v), &c), 0);
    CHECK_STR(c.type, "relay");

    /* Not NUL-terminated: the byte after len must not be read. */
    char exact[] = {'1', ' ', '1', ' ', 'u', 'd', 'p', ' ', '5', ' ', '1', '.', '2', '.',
                    '3', '.', '4', ' ', '9', ' ', 't', 'y', 'p', ' ', 'h', 'o', 's', 't'};
    CHECK_INT(mr_sdp_parse_candidate(exact, sizeof(exact), &c), 0);
    CHECK_STR(c.type, "host");

    static const char *const bad[] = {
        "",
        "candidate:",
        "candidate:1 0 udp 1 1.2.3.4 9 typ host",
        "candidate:1 257 udp 1 1.2.3.4 9 typ host",
        "candidate:1 1 udp 0 1.2.3.4 9 typ host",
        "candidate:1 1 udp 4294967296 1.2.3.4 9 typ host",
        "candidate:1 1 udp 1 1.2.3.4 65536 typ host",
        "candidate:1 1 udp 1 1.2.3.4 9 type host",
        "candidate:1 1 udp 1 1.2.3.4 9 typ host generation",
        "candidate:1 1 udp 1 1.2.3.4 9 typ host tcptype sideways",
        "candidate:1 1 udp 1 1.2.3.4 9 typ host raddr 1.2.3.4 rport x",
        "candidate:1 1 udp 1 1.2.3.4/24 9 typ host",
        "candidate:f:o 1 udp 1 1.2.3.4 9 typ host",
        "candidate:123456789012345678901234567890123 1 udp 1 1.2.3.4 9 typ host",
        "candidate:1 1 udp 1 1.2.3.4 9 typ host\r\na=evil",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = mr_sdp_parse_candidate(bad[i], strlen(bad[i]), &c);
        if (rc != MR_EPARSE)
            fprintf(stderr, "accepted candidate: %s\n", bad[i]);
        CHECK_INT(rc, MR_EPARSE);
    }
    v = "candidate:1 1 sctp 1 1.2.3.4 9 typ host";
    CHECK_INT(mr_sdp_parse_candidate(v, strlen(v), &c), MR_ENOTSUP);
    v = "candidate:1 1 udp 1 1.2.3.4 9 typ magic";
    CHECK_INT(mr_sdp_parse_candidate(v, strlen(v), &c), MR_ENOTSUP);
    CHECK_INT(mr_sdp_parse_candidate(NULL, 3, &c), MR_EINVAL);

    /* In an offer, an unsupported candidate is skipped, not an error. */
    const char *text = HEAD VIDEO "a=candidate:1 1 sctp 1 1.2.3.4 9 typ host\r\n"
                                  "a=candidate:2 1 udp 1 1.2.3.4 9 typ host\r\n";
    struct mr_sdp *s = sdp_new();
    CHECK_INT(mr_sdp_parse(text, strlen(text), s, NULL, 0), 0);
    CHECK_INT(s->media[0].n_candidates, 1);
    CHECK_STR(s->media[0].candidates[0].foundation, "2");
    free(s);
}

static void test_fmtp_param(void)
{
    char v[16];
    const char *f = "level-asymmetry-allowed=1; packetization-mode=1;profile-level-id=42e01f";
    CHECK_INT(mr_sdp_fmtp_param(f, "packetization-mode", v, sizeof(v)), 0);
    CHECK_STR(v, "1");
    CHECK_INT(mr_sdp_fmtp_param(f, "Profile-Level-Id", v, sizeof(v)), 0);
    CHECK_STR(v, "42e01f");
    CHECK_INT(mr_sdp_fmtp_param(f, "profile", v, sizeof(v)), MR_ENOENT);
    CHECK_INT(mr_sdp_fmtp_param(f, "profile-level-id", v, 6), MR_ENOSPC);
    CHECK_INT(mr_sdp_fmtp_param("111/111", "apt", v, sizeof(v)), MR_ENOENT);
    CHECK_INT(mr_sdp_fmtp_param("", "apt", v, sizeof(v)), MR_ENOENT);
    CHECK_INT(mr_sdp_fmtp_param("apt=", "apt", v, sizeof(v)), 0);
    CHECK_STR(v, "");
}

/* RFC 8851 and 8853 forms: restrictions, paused streams, alternatives,
 * both directions. */
static void test_rid_simulcast_forms(void)
{
    static const char text[] =
        HEAD VIDEO "a=mid:0\r\n"
        "a=rid:lo send pt=96,97;max-width=320;max-height=180;max-fps=15;depend=x;unknown\r\n"
        "a=rid:Mid_1 send\r\n"
        "a=rid:hi-2 send max-br=2000000\r\n"
        "a=rid:r recv\r\n"
        "a=simulcast:recv r send lo;Mid_1,hi-2;~hi-2\r\n";
    struct mr_sdp *s = sdp_new();
    char err[128] = "";
    CHECK_INT(mr_sdp_parse(text, strlen(text), s, err, sizeof(err)), 0);
    const struct mr_sdp_media *m = &s->media[0];
    CHECK_INT(m->n_rids, 4);
    CHECK_INT(m->rids[0].n_pts, 2);
    CHECK_INT(m->rids[0].pts[1], 97);
    CHECK_INT((int)m->rids[0].max_width, 320);
    CHECK_INT((int)m->rids[0].max_height, 180);
    CHECK_INT((int)m->rids[0].max_fps, 15);
    CHECK_STR(m->rids[1].id, "Mid_1");
    CHECK_INT((int)m->rids[2].max_width, 0);
    CHECK(!m->rids[3].send);
    CHECK(m->simulcast);
    /* The first of each alternative list, the send direction only. */
    CHECK_INT(m->n_sim_send, 3);
    CHECK_STR(m->sim_send[0].rid, "lo");
    CHECK_STR(m->sim_send[1].rid, "Mid_1");
    CHECK_STR(m->sim_send[2].rid, "hi-2");
    CHECK(!m->sim_send[1].paused);
    CHECK(m->sim_send[2].paused);
    free(s);
}

/* Refused with a reason: rids outside the grammar, too many, duplicates,
 * simulcast lists that do not parse. */
static void test_rid_simulcast_broken(void)
{
    static const struct {
        const char *what, *line, *why;
    } cases[] = {
        {"rid with a dot", "a=rid:a.b send\r\n", "a=rid id"},
        {"rid of 17 bytes", "a=rid:abcdefghijklmnopq send\r\n", "a=rid id"},
        {"rid without direction", "a=rid:q\r\n", "direction"},
        {"rid direction both", "a=rid:q both\r\n", "direction"},
        {"rid twice", "a=rid:q send\r\na=rid:q send\r\n", "same id"},
        {"rid pt not a number", "a=rid:q send pt=x\r\n", "pt="},
        {"rid pt 128", "a=rid:q send pt=128\r\n", "pt="},
        {"rid limit not a number", "a=rid:q send max-width=wide\r\n", "limit"},
        {"nine rids",
         "a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\na=rid:d send\r\na=rid:e send\r\n"
         "a=rid:f send\r\na=rid:g send\r\na=rid:h send\r\na=rid:i send\r\n",
         "more than 8"},
        {"simulcast without direction", "a=simulcast:q;h\r\n", "direction"},
        {"simulcast direction only", "a=simulcast:send\r\n", "without streams"},
        {"simulcast empty stream", "a=simulcast:send q;;h\r\n", "empty stream"},
        {"simulcast empty alternative", "a=simulcast:send q,\r\n", "empty stream"},
        {"simulcast trailing semicolon", "a=simulcast:send q;\r\n", "empty stream"},
        {"simulcast bad rid", "a=simulcast:send q;h!\r\n", "a=simulcast rid"},
        {"simulcast lone tilde", "a=simulcast:send ~\r\n", "a=simulcast rid"},
        {"simulcast send twice", "a=simulcast:send q recv r send h\r\n", "twice"},
        {"second simulcast", "a=simulcast:send q\r\na=simulcast:send h\r\n", "second"},
        {"nine streams", "a=simulcast:send a;b;c;d;e;f;g;h;i\r\n", "more than 8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024], err[128] = "";
        snprintf(text, sizeof(text), HEAD VIDEO "a=mid:0\r\n%s", cases[i].line);
        int rc = parse_str(text, err, sizeof(err));
        if (rc != MR_EPARSE || !strstr(err, cases[i].why))
            fprintf(stderr, "  %s: rc %d, \"%s\"\n", cases[i].what, rc, err);
        CHECK_INT(rc, MR_EPARSE);
        CHECK(strstr(err, cases[i].why) != NULL);
    }
}

MR_TEST_MAIN(MR_TEST(test_chromium_whip), MR_TEST(test_chromium_whep),
             MR_TEST(test_chromium_simulcast), MR_TEST(test_rid_simulcast_forms),
             MR_TEST(test_rid_simulcast_broken), MR_TEST(test_chromium_sendrecv),
             MR_TEST(test_aiortc), MR_TEST(test_gst_webrtcbin_maxbundle),
             MR_TEST(test_session_level_inherited),
             MR_TEST(test_lenient_forms), MR_TEST(test_caps_keep_first), MR_TEST(test_broken),
             MR_TEST(test_overlong_values), MR_TEST(test_too_many_media),
             MR_TEST(test_truncated_everywhere), MR_TEST(test_nul_bytes), MR_TEST(test_candidates),
             MR_TEST(test_fmtp_param))
