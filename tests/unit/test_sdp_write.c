/*
 * Answers (mr_sdp_write_answer) built the way the relay builds them, for
 * WHIP and WHEP offers of Chromium and aiortc, parsed back with mr_sdp_parse;
 * and candidate lines (mr_sdp_write_candidate).
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "mr_test.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

#define UFRAG "rLy7"
#define PWD   "k2bJ9sQvW4xZ7cN1mP5tR8"
#define FPR                                                                                        \
    "3F:A1:00:7C:9B:22:DE:41:5A:6B:8C:0D:EE:F1:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:EF:F0:"      \
    "01:12:23"

static const struct mr_sdp_candidate cands[] = {
    {.foundation = "1",
     .component = 1,
     .transport = "udp",
     .priority = 2130706431,
     .addr = "127.0.0.1",
     .port = 40000,
     .type = "host"},
    {.foundation = "2",
     .component = 1,
     .transport = "tcp",
     .priority = 1518280447,
     .addr = "127.0.0.1",
     .port = 40001,
     .type = "host",
     .tcptype = "passive"},
};

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
    CHECK_INT(mr_sdp_parse(text, len, s, NULL, 0), 0);
    free(text);
    return s;
}

static void answer_init(struct mr_sdp_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->sess_id = 4611686018427387904ull;
    a->sess_version = 1;
    a->ice_ufrag = UFRAG;
    a->ice_pwd = PWD;
    a->fingerprint_alg = "sha-256";
    a->fingerprint = FPR;
    a->setup = MR_SETUP_PASSIVE;
    a->conn_addr = "127.0.0.1";
    a->conn_port = 40000;
    a->n_candidates = 2;
    a->candidates = cands;
    a->end_of_candidates = true;
}

/* What the relay does for a WHIP offer: every audio/video section gets its
 * publish codec and is answered recvonly (a sendrecv offer too). */
static void build_whip(struct mr_sdp_answer *a, const struct mr_sdp *offer)
{
    answer_init(a);
    a->n_media = offer->n_media;
    for (unsigned i = 0; i < offer->n_media; i++) {
        struct mr_sdp_answer_media *am = &a->media[i];
        struct mr_codec c;
        struct mr_ext_ids ids;
        am->offer = &offer->media[i];
        if (mr_negotiate_publish_codec(am->offer, &c) < 0) {
            am->rejected = true;
            continue;
        }
        mr_negotiate_codec_ext_ids(am->offer, &c, &ids);
        mr_negotiate_fill_answer(am, &c, &ids);
        am->dir = MR_DIR_RECVONLY;
    }
}

/* For a WHEP offer: sendonly sections with an SSRC, for a VP8 + Opus stream. */
static void build_whep(struct mr_sdp_answer *a, const struct mr_sdp *offer)
{
    struct mr_codec pub[2] = {{.id = MR_CODEC_VP8, .pt = 96, .clock_rate = 90000},
                              {.id = MR_CODEC_OPUS, .pt = 111, .clock_rate = 48000, .channels = 2}};
    answer_init(a);
    a->setup = MR_SETUP_ACTIVE;
    a->n_media = offer->n_media;
    for (unsigned i = 0; i < offer->n_media; i++) {
        struct mr_sdp_answer_media *am = &a->media[i];
        const struct mr_codec *p = offer->media[i].kind == MR_MEDIA_VIDEO ? &pub[0] : &pub[1];
        struct mr_codec c;
        struct mr_ext_ids ids;
        am->offer = &offer->media[i];
        if (mr_negotiate_subscribe_codec(am->offer, p, &c) < 0) {
            am->rejected = true;
            continue;
        }
        mr_negotiate_codec_ext_ids(am->offer, &c, &ids);
        mr_negotiate_fill_answer(am, &c, &ids);
        am->dir = MR_DIR_SENDONLY;
        am->ssrc = 0x10000000u + i;
        am->rtx_ssrc = am->offer->kind == MR_MEDIA_VIDEO ? 0x20000000u : 0;
        strcpy(am->cname, "medrelay");
        strcpy(am->msid_stream, "room1-cam");
        snprintf(am->msid_track, sizeof(am->msid_track), "track%u", i);
    }
}

static char *write_answer(const struct mr_sdp_answer *a, int *len)
{
    char *out = malloc(16384);
    *len = mr_sdp_write_answer(a, out, 16384);
    CHECK(*len > 0);
    if (*len <= 0)
        out[0] = '\0';
    return out;
}

static bool has_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "\r\n%s\r\n", line);
    return strstr(text, want) != NULL;
}

/* Checks that hold for every answer: CRLF only, nothing the relay does not
 * honour, and it parses back. */
static struct mr_sdp *check_answer(const char *text, int len)
{
    CHECK(len > 2 && text[len - 2] == '\r' && text[len - 1] == '\n');
    CHECK_INT(strlen(text), len);
    for (int i = 0; i < len; i++)
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            CHECK(!"bare LF");
    CHECK(strncmp(text, "v=0\r\no=- 4611686018427387904 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
                  56) == 0);
    CHECK(has_line(text, "a=msid-semantic: WMS *"));
    static const char *const never[] = {"goog-remb", "simulcast", "a=rid", "abs-send-time",
                                        "actpass", "a=ssrc-group:SIM"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        if (strstr(text, never[i]))
            fprintf(stderr, "answer contains %s\n", never[i]);
        CHECK(strstr(text, never[i]) == NULL);
    }
    struct mr_sdp *s = calloc(1, sizeof(*s));
    char err[128] = "";
    int rc = mr_sdp_parse(text, (size_t)len, s, err, sizeof(err));
    if (rc)
        fprintf(stderr, "answer does not parse: %s\n%s", err, text);
    CHECK_INT(rc, 0);
    return s;
}

static void check_transport(const struct mr_sdp_media *m, enum mr_setup setup)
{
    static const uint8_t fpr0[3] = {0x3f, 0xa1, 0x00};
    CHECK_STR(m->ice_ufrag, UFRAG);
    CHECK_STR(m->ice_pwd, PWD);
    CHECK_STR(m->fingerprint_alg, "sha-256");
    CHECK_INT(m->fingerprint_len, 32);
    CHECK_MEM(m->fingerprint, fpr0, 3);
    CHECK_INT(m->fingerprint[31], 0x23);
    CHECK_INT(m->setup, setup);
    CHECK(m->rtcp_mux);
    CHECK(m->ice_trickle);
    CHECK_INT(m->port, 40000);
}

static void check_first_candidates(const struct mr_sdp *s)
{
    CHECK_INT(s->media[0].n_candidates, 2);
    CHECK_STR(s->media[0].candidates[0].addr, "127.0.0.1");
    CHECK_INT(s->media[0].candidates[0].port, 40000);
    CHECK_STR(s->media[0].candidates[1].tcptype, "passive");
    CHECK(s->media[0].end_of_candidates);
    for (unsigned i = 1; i < s->n_media; i++)
        CHECK_INT(s->media[i].n_candidates, 0);
}

static void test_whip_chromium(void)
{
    struct mr_sdp *offer = parse_file("chromium_whip_sendonly.sdp");
    static struct mr_sdp_answer a;
    build_whip(&a, offer);
    int len;
    char *text = write_answer(&a, &len);
    struct mr_sdp *s = check_answer(text, len);
    CHECK(has_line(text, "a=group:BUNDLE 0 1"));
    /* RED first (RFC 2198): the clinic's audio carries its previous frame
     * too, over a lossy uplink. */
    CHECK(has_line(text, "m=audio 40000 UDP/TLS/RTP/SAVPF 63 111"));
    CHECK(has_line(text, "a=rtpmap:63 red/48000/2"));
    CHECK(has_line(text, "a=fmtp:63 111/111"));
    CHECK(has_line(text, "c=IN IP4 127.0.0.1"));
    CHECK(has_line(text, "a=rtpmap:111 opus/48000/2"));
    CHECK(has_line(text, "a=fmtp:111 minptime=10;useinbandfec=1"));
    CHECK(has_line(text, "m=video 40000 UDP/TLS/RTP/SAVPF 96 97"));
    CHECK(has_line(text, "a=rtpmap:96 VP8/90000"));
    CHECK(has_line(text, "a=rtcp-fb:96 nack"));
    CHECK(has_line(text, "a=rtcp-fb:96 nack pli"));
    CHECK(has_line(text, "a=rtpmap:97 rtx/90000"));
    CHECK(has_line(text, "a=fmtp:97 apt=96"));
    /* Congestion feedback to the clinic's encoder (relay/rtcp/twcc.h). */
    CHECK(has_line(text, "a=rtcp-fb:96 transport-cc"));
    CHECK(has_line(text, "a=rtcp-fb:111 transport-cc"));
    CHECK(has_line(text,
                   "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"));
    CHECK(has_line(text, "a=rtcp-fb:96 ccm fir"));
    CHECK(has_line(text, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid"));
    CHECK(has_line(text, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level"));
    CHECK(has_line(text, "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host"));
    CHECK(
        has_line(text, "a=candidate:2 1 tcp 1518280447 127.0.0.1 40001 typ host tcptype passive"));
    CHECK(has_line(text, "a=setup:passive"));
    CHECK(has_line(text, "a=rtcp-rsize"));
    CHECK(strstr(text, "a=ssrc:") == NULL);

    CHECK_INT(s->n_bundle, 2);
    CHECK_STR(s->bundle[0], "0");
    CHECK_STR(s->bundle[1], "1");
    CHECK_INT(s->n_media, 2);
    for (unsigned i = 0; i < 2; i++) {
        CHECK_STR(s->media[i].mid, offer->media[i].mid);
        CHECK_INT(s->media[i].dir, MR_DIR_RECVONLY);
        CHECK_INT(s->media[i].n_codecs, 2); /* RED and Opus; VP8 and its RTX */
        CHECK(s->media[i].rtcp_rsize);
        check_transport(&s->media[i], MR_SETUP_PASSIVE);
    }
    CHECK_STR(s->media[0].codecs[0].name, "red");
    CHECK_STR(s->media[0].codecs[1].name, "opus");
    CHECK_INT(s->media[0].codecs[1].channels, 2);
    CHECK_INT(s->media[0].n_extmaps, 3); /* mid, audio level, transport-wide seq */
    CHECK_INT(s->media[1].codecs[0].pt, 96);
    CHECK_INT(s->media[1].codecs[0].fb,
              MR_FB_NACK | MR_FB_NACK_PLI | MR_FB_CCM_FIR | MR_FB_TWCC);
    CHECK_INT(s->media[1].n_extmaps, 2);
    CHECK_INT(s->media[1].extmaps[0].id, 4);
    CHECK_INT(s->media[1].extmaps[1].id, 3);
    check_first_candidates(s);
    free(s);
    free(text);
    free(offer);
}

/* aiortc puts video first, has no rtcp-rsize, and checks every section for
 * credentials, setup and rtcp-mux. */
static void test_whip_aiortc(void)
{
    struct mr_sdp *offer = parse_file("aiortc_whip_sendonly.sdp");
    static struct mr_sdp_answer a;
    build_whip(&a, offer);
    int len;
    char *text = write_answer(&a, &len);
    struct mr_sdp *s = check_answer(text, len);
    CHECK(has_line(text, "a=rtpmap:97 VP8/90000"));
    CHECK(has_line(text, "a=rtcp-fb:97 nack pli"));
    CHECK(has_line(text, "a=rtcp-fb:97 nack"));
    CHECK(has_line(text, "m=video 40000 UDP/TLS/RTP/SAVPF 97 98"));
    CHECK(has_line(text, "a=fmtp:98 apt=97"));
    CHECK(!strstr(text, "ccm fir"));
    CHECK(has_line(text, "m=audio 40000 UDP/TLS/RTP/SAVPF 96"));
    CHECK(has_line(text, "a=rtpmap:96 opus/48000/2"));
    CHECK(!strstr(text, "a=fmtp:96")); /* Opus without parameters */
    CHECK(!strstr(text, "rtcp-rsize"));
    CHECK_INT(s->n_bundle, 2);
    CHECK_INT(s->media[0].kind, MR_MEDIA_VIDEO);
    CHECK_INT(s->media[0].extmaps[0].id, 1);
    CHECK_INT(s->media[1].n_extmaps, 2);
    for (unsigned i = 0; i < 2; i++)
        check_transport(&s->media[i], MR_SETUP_PASSIVE);
    check_first_candidates(s);
    free(s);
    free(text);
    free(offer);
}

static void test_whip_sendrecv_and_simulcast(void)
{
    const char *files[] = {"chromium_sendrecv.sdp", "chromium_whip_simulcast.sdp"};
    for (size_t f = 0; f < 2; f++) {
        struct mr_sdp *offer = parse_file(files[f]);
        static struct mr_sdp_answer a;
        build_whip(&a, offer);
        int len;
        char *text = write_answer(&a, &len);
        struct mr_sdp *s = check_answer(text, len);
        CHECK_INT(s->media[0].dir, MR_DIR_RECVONLY);
        CHECK_INT(s->media[1].dir, MR_DIR_RECVONLY);
        CHECK(!s->media[1].simulcast);
        free(s);
        free(text);
        free(offer);
    }
}

static void test_whep_chromium(void)
{
    struct mr_sdp *offer = parse_file("chromium_whep_recvonly.sdp");
    static struct mr_sdp_answer a;
    build_whep(&a, offer);
    int len;
    char *text = write_answer(&a, &len);
    struct mr_sdp *s = check_answer(text, len);
    CHECK(has_line(text, "a=group:BUNDLE 0 1"));
    CHECK(has_line(text, "m=video 40000 UDP/TLS/RTP/SAVPF 96 97"));
    CHECK(has_line(text, "m=audio 40000 UDP/TLS/RTP/SAVPF 111"));
    /* Congestion feedback, for the viewer's downlink estimate. */
    CHECK(has_line(text, "a=rtcp-fb:96 transport-cc"));
    CHECK(has_line(text, "a=rtcp-fb:111 transport-cc"));
    CHECK(has_line(text,
                   "a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"));
    /* The relay's retransmissions to the viewer, paired (RFC 4588 §8.1). */
    CHECK(has_line(text, "a=ssrc-group:FID 268435456 536870912"));
    CHECK(has_line(text, "a=ssrc:536870912 cname:medrelay"));
    CHECK(has_line(text, "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid"));
    CHECK(has_line(text, "a=extmap:14 urn:ietf:params:rtp-hdrext:ssrc-audio-level"));
    CHECK(has_line(text, "a=msid:room1-cam track0"));
    CHECK(has_line(text, "a=ssrc:268435456 cname:medrelay"));
    CHECK(has_line(text, "a=ssrc:268435456 msid:room1-cam track0"));
    CHECK(has_line(text, "a=setup:active"));
    CHECK_INT(s->n_media, 2);
    for (unsigned i = 0; i < 2; i++) {
        const struct mr_sdp_media *m = &s->media[i];
        CHECK_INT(m->dir, MR_DIR_SENDONLY);
        check_transport(m, MR_SETUP_ACTIVE);
        CHECK_INT(m->n_ssrcs, i == 0 ? 2 : 1);
        CHECK_INT(m->n_fid, i == 0 ? 1 : 0);
        CHECK(m->ssrcs[0].ssrc == 0x10000000u + i);
        CHECK_STR(m->ssrcs[0].cname, "medrelay");
        CHECK(strncmp(m->msid, "room1-cam track", 15) == 0);
    }
    CHECK_INT(s->media[0].codecs[0].pt, 96);
    CHECK_INT(s->media[1].codecs[0].pt, 111);
    check_first_candidates(s);
    free(s);
    free(text);
    free(offer);
}

static void test_rejected_sections(void)
{
    const char *text =
        "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v d\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\na=mid:a\r\na=rtcp-mux\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\na=rtcp-mux\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:d\r\na=sctp-port:5000\r\n";
    struct mr_sdp *offer = calloc(1, sizeof(*offer));
    CHECK_INT(mr_sdp_parse(text, strlen(text), offer, NULL, 0), 0);
    static struct mr_sdp_answer a;
    build_whip(&a, offer);
    CHECK(a.media[0].rejected && !a.media[1].rejected);
    a.media[2].rejected = true; /* data channels are never accepted */
    int len;
    char *out = write_answer(&a, &len);
    struct mr_sdp *s = check_answer(out, len);
    CHECK(has_line(out, "a=group:BUNDLE v"));
    CHECK(has_line(out, "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n"
                        "a=inactive\r\na=rtcp-mux"));
    CHECK(has_line(out, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                        "c=IN IP4 0.0.0.0\r\na=mid:d\r\na=inactive"));
    CHECK_INT(s->n_media, 3);
    CHECK_INT(s->media[0].port, 0);
    CHECK_STR(s->media[0].mid, "a");
    CHECK_INT(s->media[1].port, 40000);
    CHECK_INT(s->media[2].port, 0);
    CHECK_STR(s->media[2].mid, "d");
    /* The candidates go to the first accepted section. */
    CHECK_INT(s->media[0].n_candidates, 0);
    CHECK_INT(s->media[1].n_candidates, 2);
    free(s);
    free(out);

    /* Nothing accepted: no BUNDLE group at all. */
    a.media[1].rejected = true;
    out = write_answer(&a, &len);
    CHECK(strstr(out, "a=group") == NULL);
    CHECK(strstr(out, "a=candidate") == NULL);
    free(out);
    free(offer);
}

static void test_no_space(void)
{
    struct mr_sdp *offer = parse_file("chromium_whep_recvonly.sdp");
    static struct mr_sdp_answer a;
    build_whep(&a, offer);
    char *buf = malloc(16384);
    int len = mr_sdp_write_answer(&a, buf, 16384);
    CHECK(len > 0);
    /* Every capacity short of length + NUL fails cleanly. */
    unsigned nospc = 0;
    for (int cap = 0; cap <= len; cap++) {
        char *small = malloc(cap ? (size_t)cap : 1);
        nospc += mr_sdp_write_answer(&a, small, (size_t)cap) == MR_ENOSPC;
        free(small);
    }
    CHECK_INT(nospc, len + 1);
    char *exact = malloc((size_t)len + 1);
    CHECK_INT(mr_sdp_write_answer(&a, exact, (size_t)len + 1), len);
    CHECK(memcmp(exact, buf, (size_t)len + 1) == 0);
    free(exact);
    free(buf);
    free(offer);
}

static void test_invalid_answers(void)
{
    struct mr_sdp *offer = parse_file("chromium_whip_sendonly.sdp");
    static struct mr_sdp_answer a;
    char buf[8192];
    build_whip(&a, offer);
    CHECK(mr_sdp_write_answer(&a, buf, sizeof(buf)) > 0);
    a.setup = MR_SETUP_ACTPASS;
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    build_whip(&a, offer);
    a.ice_ufrag = "ab\r\na=ice-lite";
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    build_whip(&a, offer);
    a.fingerprint = NULL;
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    build_whip(&a, offer);
    strcpy(a.media[1].codecs[0].fmtp, "x=1\r\na=rtcp-fb:96 nack");
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    build_whip(&a, offer);
    a.media[0].ssrc = 5;
    a.media[0].dir = MR_DIR_SENDONLY;
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL); /* no cname */
    build_whip(&a, offer);
    a.media[1].n_codecs = 0;
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    build_whip(&a, offer);
    a.media[1].offer = NULL;
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    build_whip(&a, offer);
    a.candidates = NULL;
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    build_whip(&a, offer);
    a.n_media = MR_SDP_MAX_MEDIA + 1;
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    CHECK_INT(mr_sdp_write_answer(NULL, buf, sizeof(buf)), MR_EINVAL);
    free(offer);
}

static void test_write_candidate(void)
{
    char line[160];
    struct mr_sdp_candidate c = {.foundation = "842163049",
                                 .component = 1,
                                 .transport = "udp",
                                 .priority = 1677729535,
                                 .addr = "203.0.113.7",
                                 .port = 46154,
                                 .type = "srflx",
                                 .raddr = "192.168.1.2",
                                 .rport = 46154};
    int n = mr_sdp_write_candidate(&c, line, sizeof(line));
    CHECK_STR(line, "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx "
                    "raddr 192.168.1.2 rport 46154");
    CHECK_INT(n, strlen(line));
    struct mr_sdp_candidate back;
    CHECK_INT(mr_sdp_parse_candidate(line, (size_t)n, &back), 0);
    CHECK_STR(back.foundation, c.foundation);
    CHECK_INT(back.priority, c.priority);
    CHECK_STR(back.addr, c.addr);
    CHECK_INT(back.port, c.port);
    CHECK_STR(back.type, c.type);
    CHECK_STR(back.raddr, c.raddr);
    CHECK_INT(back.rport, c.rport);
    CHECK_INT(mr_sdp_write_candidate(&c, line, (size_t)n), MR_ENOSPC);
    CHECK_INT(mr_sdp_write_candidate(&c, line, (size_t)n + 1), n);
    n = mr_sdp_write_candidate(&cands[1], line, sizeof(line));
    CHECK_STR(line, "candidate:2 1 tcp 1518280447 127.0.0.1 40001 typ host tcptype passive");
    c.addr[0] = '\0';
    CHECK_INT(mr_sdp_write_candidate(&c, line, sizeof(line)), MR_EINVAL);
    strcpy(c.addr, "1.2.3.4 x");
    CHECK_INT(mr_sdp_write_candidate(&c, line, sizeof(line)), MR_EINVAL);
}

/* The form GStreamer's webrtcbin offers with bundle-policy=max-bundle:
 * every section after the first is "port 0, a=bundle-only" (RFC 8843 §6).
 * The answer accepts it with the bundle's port, as RFC 9143 §7.3 answers
 * every bundled section (webrtcbin leaves a port-0 answer section without
 * a transceiver), and the fingerprint in every section (webrtcbin checks
 * each one). */
static const char webrtcbin_offer[] =
    "v=0\r\no=- 7350931813364526080 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "a=ice-options:trickle\r\na=group:BUNDLE video0 audio1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\n"
    "a=ice-ufrag:GhXk\r\na=ice-pwd:bV4p1Q2wE3rT5yU7iO9pA1sD\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=sendonly\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\na=ssrc:3484078950 cname:user1@host\r\na=mid:video0\r\n"
    "a=fingerprint:sha-256 "
    "4A:1B:00:7C:9B:22:DE:41:5A:6B:8C:0D:EE:F1:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:EF:F0:01:"
    "12:23\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 97\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=setup:actpass\r\n"
    "a=ice-ufrag:GhXk\r\na=ice-pwd:bV4p1Q2wE3rT5yU7iO9pA1sD\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=sendonly\r\na=rtpmap:97 OPUS/48000/2\r\na=rtcp-fb:97 nack pli\r\n"
    "a=fmtp:97 sprop-maxcapturerate=48000;sprop-stereo=0\r\n"
    "a=ssrc:1125213484 cname:user1@host\r\na=mid:audio1\r\n"
    "a=fingerprint:sha-256 "
    "4A:1B:00:7C:9B:22:DE:41:5A:6B:8C:0D:EE:F1:12:23:34:45:56:67:78:89:9A:AB:BC:CD:DE:EF:F0:01:"
    "12:23\r\n";

static void test_whip_bundle_only(void)
{
    static struct mr_sdp offer;
    CHECK_INT(mr_sdp_parse(webrtcbin_offer, sizeof(webrtcbin_offer) - 1, &offer, NULL, 0), 0);
    CHECK(!offer.media[0].bundle_only);
    CHECK(offer.media[1].bundle_only);
    CHECK_INT(offer.media[1].port, 0);
    static struct mr_sdp_answer a;
    build_whip(&a, &offer);
    CHECK(!a.media[0].rejected && !a.media[1].rejected);
    int len;
    char *text = write_answer(&a, &len);
    struct mr_sdp *s = check_answer(text, len);
    CHECK(strstr(text, "a=group:BUNDLE video0 audio1\r\n") != NULL);
    CHECK(strstr(text, "\r\nm=video 40000 UDP/TLS/RTP/SAVPF 96\r\n") != NULL);
    CHECK(strstr(text, "\r\nm=audio 40000 UDP/TLS/RTP/SAVPF 97\r\n") != NULL);
    CHECK(strstr(text, "a=bundle-only") == NULL);
    CHECK_INT(s->n_media, 2);
    CHECK(!s->media[1].bundle_only);
    CHECK_INT(s->media[1].fingerprint_len, 32);
    CHECK_STR(s->media[1].ice_ufrag, UFRAG);
    CHECK_INT(s->media[1].dir, MR_DIR_RECVONLY);
    CHECK_STR(s->media[1].codecs[0].name, "opus");
    free(text);
    free(s);
}

/* The writer's simulcast lines (for when the relay answers layers): one
 * a=rid recv per layer and a=simulcast:recv with the paused ones marked;
 * the answer parses back to the same layers. */
static void test_simulcast_lines(void)
{
    struct mr_sdp *offer = parse_file("chromium_whip_simulcast.sdp");
    static struct mr_sdp_answer a;
    build_whip(&a, offer);
    struct mr_sdp_answer_media *am = &a.media[1];
    static const char *const ids[] = {"q", "h", "f"};
    for (unsigned i = 0; i < 3; i++) {
        snprintf(am->rids[i].rid, sizeof(am->rids[i].rid), "%s", ids[i]);
        am->rids[i].paused = i == 2;
    }
    am->n_rids = 3;
    int len;
    char *text = write_answer(&a, &len);
    CHECK(has_line(text, "a=rid:q recv"));
    CHECK(has_line(text, "a=rid:f recv"));
    CHECK(has_line(text, "a=simulcast:recv q;h;~f"));
    struct mr_sdp *s = calloc(1, sizeof(*s));
    char err[128] = "";
    CHECK_INT(mr_sdp_parse(text, (size_t)len, s, err, sizeof(err)), 0);
    CHECK_INT(s->media[1].n_rids, 3);
    CHECK(!s->media[1].rids[0].send);
    CHECK(!s->media[0].simulcast);
    free(s);
    free(text);
    /* A rid that would break the list is refused. */
    snprintf(am->rids[1].rid, sizeof(am->rids[1].rid), "h;x");
    char buf[8192];
    CHECK_INT(mr_sdp_write_answer(&a, buf, sizeof(buf)), MR_EINVAL);
    free(offer);
}

MR_TEST_MAIN(MR_TEST(test_whip_chromium), MR_TEST(test_whip_aiortc),
             MR_TEST(test_whip_sendrecv_and_simulcast), MR_TEST(test_whep_chromium),
             MR_TEST(test_rejected_sections), MR_TEST(test_no_space), MR_TEST(test_invalid_answers),
             MR_TEST(test_write_candidate), MR_TEST(test_whip_bundle_only),
             MR_TEST(test_simulcast_lines))
