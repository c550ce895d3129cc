/*
 * The codecs a recording can hold without transcoding, and the RTP caps
 * rtpbin needs for each. WebM takes VP8 and Opus; H.264 goes to Matroska,
 * which browsers do not all play but VLC and ffplay do. Anything else
 * (PCMU, G.722, VP9 and AV1 for now) is refused at start.
 */
#include "record/record_priv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct mr_rec_codec codecs[] = {
    {"opus", MR_RECORD_AUDIO, "OPUS", "rtpopusdepay", "opusparse", NULL, "opus", true},
    {"VP8", MR_RECORD_VIDEO, "VP8", "rtpvp8depay", NULL, NULL, "VP8", true},
    /* avc3 keeps SPS and PPS in the stream (config-interval=-1 repeats them
     * at every IDR), so a resolution change mid-file still decodes: the
     * muxer cannot change its codec private data once the header is out. */
    {"H264", MR_RECORD_VIDEO, "H264", "rtph264depay", "h264parse",
     "video/x-h264,stream-format=avc3,alignment=au", "H264", false},
};

const struct mr_rec_codec *mr_rec_codec_find(const char *name, enum mr_record_kind kind)
{
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
        if (codecs[i].kind == kind && strcasecmp(codecs[i].name, name) == 0)
            return &codecs[i];
    return NULL;
}

/* Copies "key=value;key=value" fmtp parameters into caps as strings, which is
 * how GStreamer's depayloaders expect them (sprop-parameter-sets etc.). */
static void add_fmtp(GstCaps *caps, const char *fmtp)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", fmtp);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        while (*kv == ' ')
            kv++;
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            continue;
        *eq = '\0';
        for (char *k = kv; *k; k++)
            *k = (char)g_ascii_tolower(*k);
        /* Fields named like the caps' own would confuse rtpbin. */
        if (strcmp(kv, "payload") == 0 || strcmp(kv, "media") == 0 ||
            strcmp(kv, "clock-rate") == 0 || strcmp(kv, "encoding-name") == 0 ||
            !g_ascii_isalpha(kv[0]))
            continue;
        gst_caps_set_simple(caps, kv, G_TYPE_STRING, eq + 1, NULL);
    }
}

GstCaps *mr_rec_rtp_caps(const struct mr_record_track *t, const struct mr_rec_codec *c)
{
    GstCaps *caps = gst_caps_new_simple(
        "application/x-rtp", "media", G_TYPE_STRING, c->kind == MR_RECORD_AUDIO ? "audio" : "video",
        "clock-rate", G_TYPE_INT, (int)t->clock_rate, "encoding-name", G_TYPE_STRING, c->encoding,
        "payload", G_TYPE_INT, (int)t->pt, NULL);
    if (c->kind == MR_RECORD_AUDIO) {
        char ch[4];
        snprintf(ch, sizeof(ch), "%u", t->channels ? t->channels : 2);
        gst_caps_set_simple(caps, "encoding-params", G_TYPE_STRING, ch, NULL);
    }
    if (t->fmtp[0])
        add_fmtp(caps, t->fmtp);
    return caps;
}

/* Caps for Opus before the first packet: the muxer builds the OpusHead from
 * them, so the audio track can be in a file from its first instant and
 * silence can stand in until real audio arrives. */
GstCaps *mr_rec_opus_caps(unsigned channels)
{
    return gst_caps_new_simple("audio/x-opus", "rate", G_TYPE_INT, 48000, "channels", G_TYPE_INT,
                               (int)(channels == 1 ? 1 : 2), "channel-mapping-family", G_TYPE_INT,
                               0, NULL);
}
