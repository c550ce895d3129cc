/*
 * Codec and header-extension choices for the relay's answers (negotiate.h).
 *
 * The relay forwards packets unchanged apart from the payload type and the
 * header-extension ids, so a publisher's codec must be one every kind of
 * subscriber can decode as is: Opus, VP8, or H.264 in packetization mode 1
 * (FU-A and STAP-A, what browsers send). A subscriber gets the payload type
 * of its own offer that can carry exactly the published stream.
 */
#include "sdp/negotiate.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#include <stdio.h>

#define PT_OPUS 111
#define PT_VP8  96
#define PT_H264 102
/* Their RTX formats: VP8's next to it, H.264's past Opus (102-109 are
 * H.264's, 111 is Opus). */
#define PT_VP8_RTX  97
#define PT_RED      63 /* Chromium's number for red/48000/2 */
#define PT_H264_RTX 120

static const struct {
    enum mr_codec_id id;
    const char *name;
    uint32_t clock_rate;
    uint8_t channels;
} codec_table[] = {
    {MR_CODEC_OPUS, "opus", 48000, 2},
    {MR_CODEC_VP8, "VP8", 90000, 0},
    {MR_CODEC_H264, "H264", 90000, 0},
};

static bool ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

enum mr_codec_id mr_codec_id_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof(codec_table) / sizeof(codec_table[0]); i++)
        if (ascii_ieq(name, codec_table[i].name))
            return codec_table[i].id;
    return MR_CODEC_NONE;
}

const char *mr_codec_name(enum mr_codec_id id)
{
    for (size_t i = 0; i < sizeof(codec_table) / sizeof(codec_table[0]); i++)
        if (codec_table[i].id == id)
            return codec_table[i].name;
    return "";
}

/* --- H.264 (RFC 6184 §8.1) ----------------------------------------------- */

/* profile-level-id: 6 hex digits, profile_idc, profile-iop (the constraint
 * flags), level_idc. Absent, it means 42000a (Baseline, level 1.0). */
static int h264_profile_level(const char *fmtp, uint8_t out[3])
{
    char v[8];
    int rc = mr_sdp_fmtp_param(fmtp, "profile-level-id", v, sizeof(v));
    if (rc == MR_ENOENT) {
        out[0] = 0x42, out[1] = 0x00, out[2] = 0x0a;
        return 0;
    }
    if (rc < 0 || strlen(v) != 6)
        return MR_EPARSE;
    for (int i = 0; i < 3; i++) {
        int b = 0;
        for (int j = 0; j < 2; j++) {
            char ch = v[2 * i + j];
            int d = ch >= '0' && ch <= '9'   ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                             : -1;
            if (d < 0)
                return MR_EPARSE;
            b = b << 4 | d;
        }
        out[i] = (uint8_t)b;
    }
    return 0;
}

/* packetization-mode absent means 0 (single NAL unit), which the relay
 * cannot forward: browsers send FU-A fragments. */
static bool h264_mode1(const char *fmtp)
{
    char v[4];
    return mr_sdp_fmtp_param(fmtp, "packetization-mode", v, sizeof(v)) == 0 && strcmp(v, "1") == 0;
}

enum h264_profile {
    H264_OTHER,
    H264_CONSTRAINED_BASELINE,
    H264_BASELINE,
    H264_MAIN,
    H264_EXTENDED,
    H264_HIGH,
    H264_CONSTRAINED_HIGH,
};

/* The profile that (profile_idc, profile-iop) names. Constrained Baseline
 * can be signalled three ways (RFC 6184 §8.1, table 5): Baseline with
 * constraint_set1, Main with constraint_set0, Extended with both. */
static enum h264_profile h264_profile_of(uint8_t idc, uint8_t iop)
{
    switch (idc) {
    case 0x42:
        return iop & 0x40 ? H264_CONSTRAINED_BASELINE : H264_BASELINE;
    case 0x4d:
        return iop & 0x80 ? H264_CONSTRAINED_BASELINE : H264_MAIN;
    case 0x58:
        return (iop & 0xc0) == 0xc0 ? H264_CONSTRAINED_BASELINE : H264_EXTENDED;
    case 0x64:
        return (iop & 0x0c) == 0x0c ? H264_CONSTRAINED_HIGH : H264_HIGH;
    default:
        return H264_OTHER;
    }
}

/* 2: same profile; 1: a Baseline decoder for Constrained Baseline content;
 * 0: not decodable. Levels are not compared: WebRTC peers offer
 * level-asymmetry-allowed and decode any level their profile allows. */
static int h264_match(const struct mr_codec *pub, const uint8_t sub[3])
{
    enum h264_profile p = h264_profile_of(pub->h264_profile_idc, pub->h264_profile_iop);
    enum h264_profile s = h264_profile_of(sub[0], sub[1]);
    if (p == H264_OTHER || s == H264_OTHER)
        return pub->h264_profile_idc == sub[0] && pub->h264_profile_iop == sub[1] ? 2 : 0;
    if (p == s)
        return 2;
    return p == H264_CONSTRAINED_BASELINE && s == H264_BASELINE ? 1 : 0;
}

/* --- Codec choice ---------------------------------------------------------- */

/* The offered RTX format that repairs payload type pt (RFC 4588 §8.6:
 * "rtx/<clock>" with apt=pt), or 0. Retransmissions are asked for with
 * NACK, so without it RTX is not used. */
static uint8_t rtx_for(const struct mr_sdp_media *m, uint8_t pt)
{
    for (unsigned i = 0; i < m->n_codecs; i++) {
        const struct mr_sdp_codec *k = &m->codecs[i];
        char apt[8];
        if (!ascii_ieq(k->name, "rtx") || k->clock_rate != 90000 ||
            mr_sdp_fmtp_param(k->fmtp, "apt", apt, sizeof(apt)) != 0)
            continue;
        char *end;
        unsigned long v = strtoul(apt, &end, 10);
        if (*end == '\0' && end != apt && v == pt)
            return k->pt;
    }
    return 0;
}

/* The offered RED format whose blocks are all Opus pt (RFC 2198 fmtp
 * "pt/pt", as Chromium offers it), or 0. */
static uint8_t red_for(const struct mr_sdp_media *m, uint8_t pt)
{
    for (unsigned i = 0; i < m->n_codecs; i++) {
        const struct mr_sdp_codec *k = &m->codecs[i];
        if (!ascii_ieq(k->name, "red") || k->clock_rate != 48000 || !k->fmtp[0])
            continue;
        const char *f = k->fmtp;
        bool all = true;
        while (*f && all) {
            char *end;
            unsigned long v = strtoul(f, &end, 10);
            all = end != f && v == pt && (*end == '/' || *end == '\0');
            f = *end ? end + 1 : end;
        }
        if (all)
            return k->pt;
    }
    return 0;
}

/* Fills out from an offered codec if the relay can forward it. */
static bool codec_usable(const struct mr_sdp_media *m, const struct mr_sdp_codec *k,
                         struct mr_codec *out)
{
    enum mr_codec_id id = mr_codec_id_from_name(k->name);
    uint8_t plid[3] = {0, 0, 0};
    if (id == MR_CODEC_NONE)
        return false;
    if ((id == MR_CODEC_OPUS) != (m->kind == MR_MEDIA_AUDIO))
        return false;
    if (m->kind != MR_MEDIA_AUDIO && m->kind != MR_MEDIA_VIDEO)
        return false;
    if (id == MR_CODEC_OPUS && (k->clock_rate != 48000 || k->channels != 2))
        return false;
    if (id != MR_CODEC_OPUS && k->clock_rate != 90000)
        return false;
    if (id == MR_CODEC_H264 && (!h264_mode1(k->fmtp) || h264_profile_level(k->fmtp, plid) < 0))
        return false;
    memset(out, 0, sizeof(*out));
    out->id = id;
    out->pt = k->pt;
    out->clock_rate = k->clock_rate;
    out->channels = id == MR_CODEC_OPUS ? 2 : 0;
    out->h264_profile_idc = plid[0];
    out->h264_profile_iop = plid[1];
    out->h264_level_idc = plid[2];
    memcpy(out->fmtp, k->fmtp, sizeof(out->fmtp));
    out->fb = k->fb & MR_RELAY_FB;
    if (id != MR_CODEC_OPUS && (out->fb & MR_FB_NACK))
        out->rtx_pt = rtx_for(m, k->pt);
    if (id == MR_CODEC_OPUS)
        out->red_pt = red_for(m, k->pt);
    return true;
}

int mr_negotiate_publish_codec(const struct mr_sdp_media *m, struct mr_codec *out)
{
    if (!m || !out)
        return MR_EINVAL;
    for (unsigned i = 0; i < m->n_codecs; i++) {
        if (codec_usable(m, &m->codecs[i], out)) {
            out->fb |= m->codecs[i].fb & MR_CC_FB;
            return 0;
        }
    }
    return MR_ECODEC;
}

int mr_negotiate_subscribe_codec(const struct mr_sdp_media *m, const struct mr_codec *published,
                                 struct mr_codec *out)
{
    if (!m || !published || !out)
        return MR_EINVAL;
    int best_score = 0;
    struct mr_codec cand;
    for (unsigned i = 0; i < m->n_codecs; i++) {
        if (!codec_usable(m, &m->codecs[i], &cand) || cand.id != published->id)
            continue;
        cand.fb |= m->codecs[i].fb & MR_CC_FB;
        int score = 2;
        if (cand.id == MR_CODEC_H264) {
            uint8_t sub[3] = {cand.h264_profile_idc, cand.h264_profile_iop, cand.h264_level_idc};
            score = h264_match(published, sub);
        }
        if (!published->red_pt)
            cand.red_pt = 0; /* nothing to forward as RED */
        /* The first exact match wins; a compatible one only until then. */
        if (score > best_score) {
            best_score = score;
            *out = cand;
            if (score == 2)
                break;
        }
    }
    return best_score ? 0 : MR_ECODEC;
}

void mr_negotiate_ext_ids(const struct mr_sdp_media *m, struct mr_ext_ids *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; m && i < m->n_extmaps; i++) {
        enum mr_rtp_ext_kind kind = mr_rtp_ext_kind_from_uri(m->extmaps[i].uri);
        if (mr_negotiate_ext_honoured(m->kind, kind) && out->id[kind] == 0)
            out->id[kind] = m->extmaps[i].id;
    }
}

void mr_negotiate_codec_ext_ids(const struct mr_sdp_media *m, const struct mr_codec *c,
                                  struct mr_ext_ids *out)
{
    mr_negotiate_ext_ids(m, out);
    for (unsigned i = 0; m && i < m->n_extmaps; i++) {
        enum mr_rtp_ext_kind k = mr_rtp_ext_kind_from_uri(m->extmaps[i].uri);
        /* The layers' names, where the section sends simulcast by rid. */
        bool take = (k == MR_RTP_EXT_TRANSPORT_CC && c && (c->fb & MR_FB_TWCC)) ||
                    ((k == MR_RTP_EXT_RID || k == MR_RTP_EXT_RRID) && m->kind == MR_MEDIA_VIDEO &&
                     m->n_sim_send > 0);
        if (take)
            out->id[k] = m->extmaps[i].id;
    }
}

bool mr_negotiate_ext_honoured(enum mr_media_kind kind, enum mr_rtp_ext_kind ext)
{
    switch (ext) {
    case MR_RTP_EXT_MID:
        return kind == MR_MEDIA_AUDIO || kind == MR_MEDIA_VIDEO;
    case MR_RTP_EXT_AUDIO_LEVEL:
        return kind == MR_MEDIA_AUDIO;
    default:
        return false;
    }
}

void mr_negotiate_offer_exts(enum mr_media_kind kind, struct mr_ext_ids *out)
{
    memset(out, 0, sizeof(*out));
    /* One id per extension in every section of the bundle (RFC 8843
     * §9.2): its kind's number. */
    for (int k = MR_RTP_EXT_NONE + 1; k < MR_RTP_EXT_KIND_COUNT; k++)
        if (mr_negotiate_ext_honoured(kind, (enum mr_rtp_ext_kind)k) ||
            k == MR_RTP_EXT_TRANSPORT_CC)
            out->id[k] = (uint8_t)k;
}

unsigned mr_negotiate_extmaps(const struct mr_ext_ids *ids, struct mr_sdp_extmap *out,
                              unsigned max)
{
    unsigned n = 0;
    for (int k = MR_RTP_EXT_NONE + 1; ids && k < MR_RTP_EXT_KIND_COUNT; k++) {
        const char *uri = mr_rtp_ext_kind_uri((enum mr_rtp_ext_kind)k);
        if (ids->id[k] == 0 || !uri || n >= max || strlen(uri) >= sizeof(out[0].uri))
            continue;
        out[n].id = ids->id[k];
        strcpy(out[n].uri, uri);
        n++;
    }
    return n;
}

int mr_negotiate_offer_codec(struct mr_pt_table *t, const struct mr_codec *pub,
                             struct mr_codec *out)
{
    memset(out, 0, sizeof(*out));
    out->id = pub->id;
    out->fb = MR_RELAY_FB | MR_CC_FB;
    switch (pub->id) {
    case MR_CODEC_OPUS:
        out->pt = PT_OPUS;
        out->red_pt = pub->red_pt ? PT_RED : 0;
        out->clock_rate = 48000;
        out->channels = 2;
        snprintf(out->fmtp, sizeof(out->fmtp), "minptime=10;useinbandfec=1");
        return 0;
    case MR_CODEC_VP8:
        out->pt = PT_VP8;
        out->rtx_pt = PT_VP8_RTX;
        out->clock_rate = 90000;
        return 0;
    case MR_CODEC_H264:
        break;
    default:
        return MR_ECODEC;
    }
    const uint8_t plid[3] = {pub->h264_profile_idc, pub->h264_profile_iop, pub->h264_level_idc};
    unsigned i = 0;
    while (i < t->n_h264 && memcmp(t->h264[i], plid, 3) != 0)
        i++;
    if (i == t->n_h264) {
        if (t->n_h264 == MR_PT_TABLE_H264)
            return MR_ELIMIT;
        memcpy(t->h264[t->n_h264++], plid, 3);
    }
    out->pt = (uint8_t)(PT_H264 + i);
    out->rtx_pt = (uint8_t)(PT_H264_RTX + i);
    out->clock_rate = 90000;
    out->h264_profile_idc = plid[0];
    out->h264_profile_iop = plid[1];
    out->h264_level_idc = plid[2];
    snprintf(out->fmtp, sizeof(out->fmtp),
             "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=%02x%02x%02x",
             plid[0], plid[1], plid[2]);
    return 0;
}

void mr_negotiate_codec_sdp(const struct mr_codec *c, struct mr_sdp_codec *k)
{
    memset(k, 0, sizeof(*k));
    k->pt = c->pt;
    strcpy(k->name, mr_codec_name(c->id));
    k->clock_rate = c->clock_rate;
    k->channels = c->id == MR_CODEC_OPUS ? 2 : 0;
    memcpy(k->fmtp, c->fmtp, sizeof(k->fmtp));
    k->fmtp[MR_SDP_FMTP_MAX] = '\0';
    /* Key-frame requests and NACKs are video's: Opus has no key frames and
     * repairs itself (in-band FEC, RED). Congestion feedback is both's. */
    k->fb = c->fb & (c->id == MR_CODEC_OPUS ? MR_CC_FB : MR_RELAY_FB | MR_CC_FB);
}

bool mr_negotiate_rtx_sdp(const struct mr_codec *c, struct mr_sdp_codec *k)
{
    memset(k, 0, sizeof(*k));
    if (!c->rtx_pt || c->id == MR_CODEC_OPUS || !(c->fb & MR_FB_NACK))
        return false;
    k->pt = c->rtx_pt;
    strcpy(k->name, "rtx");
    k->clock_rate = c->clock_rate;
    snprintf(k->fmtp, sizeof(k->fmtp), "apt=%u", (unsigned)c->pt);
    return true;
}

bool mr_negotiate_red_sdp(const struct mr_codec *c, struct mr_sdp_codec *k)
{
    memset(k, 0, sizeof(*k));
    if (!c->red_pt || c->id != MR_CODEC_OPUS)
        return false;
    k->pt = c->red_pt;
    strcpy(k->name, "red");
    k->clock_rate = 48000;
    k->channels = 2;
    snprintf(k->fmtp, sizeof(k->fmtp), "%u/%u", (unsigned)c->pt, (unsigned)c->pt);
    return true;
}

void mr_negotiate_fill_answer(struct mr_sdp_answer_media *am, const struct mr_codec *c,
                              const struct mr_ext_ids *ext)
{
    if (!am || !c)
        return;
    /* RED first: what the sender sends is the answer's first format. */
    am->n_codecs = mr_negotiate_red_sdp(c, &am->codecs[0]) ? 1 : 0;
    mr_negotiate_codec_sdp(c, &am->codecs[am->n_codecs++]);
    if (mr_negotiate_rtx_sdp(c, &am->codecs[am->n_codecs]))
        am->n_codecs++;
    am->n_extmaps = mr_negotiate_extmaps(ext, am->extmaps, MR_SDP_ANSWER_MAX_EXTMAPS);
}
