/*
 * Helpers for the recorder's tests: real RTP made with GStreamer encoders
 * (VP8, H.264, Opus), sender reports with SDES CNAME built by hand
 * (RFC 3550 sections 6.4.1 and 6.5), a real-time feeder that pushes packets
 * at their arrival times, and file checks with GstDiscoverer.
 */
#ifndef TEST_RECORD_MEDIA_H
#define TEST_RECORD_MEDIA_H

#include <errno.h>
#include <fcntl.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/encode.h"
#include "record/record.h"

#define TM_CNAME "tm-cname@medrelay"

#if defined(__SANITIZE_ADDRESS__)
/*
 * GLib leaks its first quark table by design once GStreamer's quarks
 * outgrow it (glib/gquark.c keeps old tables for lock-free readers). That
 * table is allocated by GLib's library constructor, which only a full
 * unwind shows, hence the slow unwinder for these tests. The names are the
 * sanitizers' hooks.
 */
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:_dl_init\n";
}
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
#endif

struct tm_pkt {
    int64_t pts_ns; /* capture time (the encoder's timestamp) */
    size_t len;
    uint8_t *data;
};

/* One track's packets, with what its sender reports need. */
struct tm_track {
    struct tm_pkt *p;
    size_t n, cap;
    uint32_t ssrc, clock_rate;
    uint32_t ts0; /* RTP timestamp at pts0 */
    int64_t pts0;
    int64_t delay_ns;               /* network delay added to arrival */
    int64_t step_at_ns, step_ns;    /* packets captured from step_at_ns on arrive step_ns
                                     * later still (0: none): a path change, or with
                                     * step_in_sr a slip of the capture clock, which the
                                     * sender reports then tell too */
    bool step_in_sr;
    int64_t gap_from_ns, gap_to_ns; /* packets with pts in [from, to) are not sent */
};

static inline void tm_track_add(struct tm_track *t, int64_t pts, const uint8_t *d, size_t len)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->p = realloc(t->p, t->cap * sizeof(*t->p));
    }
    t->p[t->n].pts_ns = pts;
    t->p[t->n].len = len;
    t->p[t->n].data = malloc(len);
    memcpy(t->p[t->n].data, d, len);
    if (t->n == 0) {
        t->ts0 = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
        t->pts0 = pts;
    }
    t->n++;
}

static inline void tm_track_free(struct tm_track *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->p[i].data);
    free(t->p);
    memset(t, 0, sizeof(*t));
}

/* Runs a pipeline ending in "appsink name=out" and keeps its buffers. */
static inline bool tm_collect(const char *desc, struct tm_track *t)
{
    gst_init(NULL, NULL);
    GError *e = NULL;
    GstElement *p = gst_parse_launch(desc, &e);
    if (!p) {
        fprintf(stderr, "pipeline: %s\n", e ? e->message : "?");
        return false;
    }
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "out");
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstSample *s;
    while ((s = gst_app_sink_pull_sample(GST_APP_SINK(sink)))) {
        GstBuffer *b = gst_sample_get_buffer(s);
        GstMapInfo m;
        if (gst_buffer_map(b, &m, GST_MAP_READ)) {
            tm_track_add(t, (int64_t)GST_BUFFER_PTS(b), m.data, m.size);
            gst_buffer_unmap(b, &m);
        }
        gst_sample_unref(s);
    }
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(sink);
    gst_object_unref(p);
    return t->n > 0;
}

/* VP8 at 320x240, 30 fps; kbps 0: the encoder's default rate. */
static inline bool tm_make_vp8(struct tm_track *t, double seconds, unsigned kbps, uint32_t ssrc,
                               const char *pattern)
{
    char desc[1024], rate[64] = "";
    if (kbps)
        snprintf(rate, sizeof(rate), "target-bitrate=%u end-usage=cbr", kbps * 1000);
    snprintf(desc, sizeof(desc),
             "videotestsrc num-buffers=%d pattern=%s ! video/x-raw,width=320,height=240,"
             "framerate=30/1 ! vp8enc deadline=1 keyframe-max-dist=30 %s ! "
             "rtpvp8pay pt=96 ssrc=%u mtu=1200 ! appsink name=out sync=false",
             (int)(seconds * 30), pattern, rate, ssrc);
    t->ssrc = ssrc;
    t->clock_rate = 90000;
    return tm_collect(desc, t);
}

static inline bool tm_make_h264(struct tm_track *t, double seconds, uint32_t ssrc)
{
    char desc[1024];
    snprintf(desc, sizeof(desc),
             "videotestsrc num-buffers=%d pattern=ball ! video/x-raw,width=320,height=240,"
             "framerate=30/1 ! openh264enc gop-size=30 ! h264parse ! "
             "rtph264pay pt=102 ssrc=%u mtu=1200 config-interval=-1 ! appsink name=out sync=false",
             (int)(seconds * 30), ssrc);
    t->ssrc = ssrc;
    t->clock_rate = 90000;
    return tm_collect(desc, t);
}

static inline bool tm_make_opus(struct tm_track *t, double seconds, uint32_t ssrc)
{
    char desc[1024];
    snprintf(desc, sizeof(desc),
             "audiotestsrc num-buffers=%d samplesperbuffer=960 wave=sine freq=440 ! "
             "audio/x-raw,rate=48000,channels=2 ! opusenc frame-size=20 ! "
             "rtpopuspay pt=111 ssrc=%u ! appsink name=out sync=false",
             (int)(seconds * 50), ssrc);
    t->ssrc = ssrc;
    t->clock_rate = 48000;
    return tm_collect(desc, t);
}

/*
 * Sender report (RFC 3550 6.4.1) for the time `at_ns` on the sender's clock
 * (the encoders' timestamps; wall0 is that clock's zero in Unix time), then
 * SDES with the CNAME (6.5), as one compound packet.
 */
static inline size_t tm_sr_sdes(const struct tm_track *t, int64_t at_ns, int64_t wall0_us,
                                uint8_t *out)
{
    uint64_t ntp = mr_clock_ntp_from_unix_us(wall0_us + at_ns / 1000);
    /* After a slip, the media time sampled at at_ns is step_ns older. */
    int64_t media_ns = t->step_in_sr && t->step_ns && at_ns >= t->step_at_ns + t->step_ns
                           ? at_ns - t->step_ns
                           : at_ns;
    uint32_t rtp = t->ts0 + (uint32_t)((media_ns - t->pts0) * (int64_t)t->clock_rate / 1000000000);
    uint8_t *p = out;
    *p++ = 0x80;
    *p++ = 200;
    *p++ = 0;
    *p++ = 6;
    uint32_t w[6] = {t->ssrc, (uint32_t)(ntp >> 32), (uint32_t)ntp, rtp, 0, 0};
    for (int i = 0; i < 6; i++, p += 4) {
        p[0] = (uint8_t)(w[i] >> 24);
        p[1] = (uint8_t)(w[i] >> 16);
        p[2] = (uint8_t)(w[i] >> 8);
        p[3] = (uint8_t)w[i];
    }
    size_t clen = strlen(TM_CNAME);
    size_t body = 4 + 2 + clen + 1; /* SSRC, type+len, text, END */
    size_t words = (body + 3) / 4;
    *p++ = 0x81;
    *p++ = 202;
    *p++ = 0;
    *p++ = (uint8_t)words;
    p[0] = (uint8_t)(t->ssrc >> 24);
    p[1] = (uint8_t)(t->ssrc >> 16);
    p[2] = (uint8_t)(t->ssrc >> 8);
    p[3] = (uint8_t)t->ssrc;
    p += 4;
    *p++ = 1;
    *p++ = (uint8_t)clen;
    memcpy(p, TM_CNAME, clen);
    p += clen;
    memset(p, 0, words * 4 - (4 + 2 + clen));
    p += words * 4 - (4 + 2 + clen);
    return (size_t)(p - out);
}

/* One recording fed by the feeder, with up to 4 tracks. */
struct tm_feed {
    struct mr_recording *rec;
    struct tm_track *tracks[MR_RECORD_MAX_TRACKS];
    unsigned n;
    size_t next[MR_RECORD_MAX_TRACKS];
    int64_t next_sr[MR_RECORD_MAX_TRACKS];
    bool no_rtcp;
    unsigned pushed, refused, rtcp;
    void (*at_fn)(void *arg); /* called once, at_ns into the feed */
    void *at_arg;
    int64_t at_ns;
};

/* The network delay of a packet captured at pts_ns. */
static inline int64_t tm_delay(const struct tm_track *t, int64_t pts_ns)
{
    return t->delay_ns + (t->step_ns && pts_ns >= t->step_at_ns ? t->step_ns : 0);
}

/*
 * Pushes every packet at start + capture time + the track's delay, on this
 * thread (the one producer of each ring), with a sender report per track
 * every second. Returns when every packet is out or stop_after_ns passed.
 */
static inline void tm_feed_run(struct tm_feed *f, unsigned nf, int64_t stop_after_ns)
{
    int64_t start_us = mr_clock_mono_us(), wall0_us = mr_clock_wall_us();
    for (;;) {
        int64_t now_ns = (mr_clock_mono_us() - start_us) * 1000;
        bool left = false;
        for (unsigned k = 0; k < nf; k++)
            if (f[k].at_fn && now_ns >= f[k].at_ns) {
                f[k].at_fn(f[k].at_arg);
                f[k].at_fn = NULL;
            }
        for (unsigned k = 0; k < nf; k++)
            for (unsigned i = 0; i < f[k].n; i++) {
                struct tm_track *t = f[k].tracks[i];
                while (f[k].next[i] < t->n &&
                       t->p[f[k].next[i]].pts_ns + tm_delay(t, t->p[f[k].next[i]].pts_ns) <= now_ns) {
                    struct tm_pkt *p = &t->p[f[k].next[i]++];
                    if (p->pts_ns >= t->gap_from_ns && p->pts_ns < t->gap_to_ns)
                        continue;
                    bool ok = mr_recording_push(f[k].rec, i, MR_RECORD_RTP, p->data, p->len,
                                                start_us + (p->pts_ns + tm_delay(t, p->pts_ns)) / 1000);
                    ok ? f[k].pushed++ : f[k].refused++;
                }
                if (!f[k].no_rtcp && now_ns >= f[k].next_sr[i] + tm_delay(t, f[k].next_sr[i]) &&
                    f[k].next[i] < t->n) {
                    uint8_t sr[128];
                    size_t len = tm_sr_sdes(t, f[k].next_sr[i], wall0_us, sr);
                    if (mr_recording_push(f[k].rec, i, MR_RECORD_RTCP, sr, len,
                                          start_us + now_ns / 1000))
                        f[k].rtcp++;
                    f[k].next_sr[i] += 1000000000;
                }
                left = left || f[k].next[i] < t->n;
            }
        if (!left || (stop_after_ns > 0 && now_ns >= stop_after_ns))
            return;
        g_usleep(2000);
    }
}

static inline struct mr_record_track tm_track_param(enum mr_record_kind kind, const char *codec,
                                                    uint8_t pt, uint32_t ssrc)
{
    struct mr_record_track t;
    memset(&t, 0, sizeof(t));
    t.kind = kind;
    snprintf(t.codec, sizeof(t.codec), "%s", codec);
    t.pt = pt;
    t.clock_rate = kind == MR_RECORD_AUDIO ? 48000 : 90000;
    t.channels = kind == MR_RECORD_AUDIO ? 2 : 0;
    t.ssrc = ssrc;
    if (strcmp(codec, "H264") == 0)
        snprintf(t.fmtp, sizeof(t.fmtp), "packetization-mode=1;profile-level-id=42e01f");
    return t;
}

static inline struct mr_record_params tm_params(const char *room, const char *stream)
{
    struct mr_record_params p;
    memset(&p, 0, sizeof(p));
    snprintf(p.room, sizeof(p.room), "%s", room);
    snprintf(p.stream, sizeof(p.stream), "%s", stream);
    snprintf(p.sub, sizeof(p.sub), "publisher-%s", stream);
    snprintf(p.cname, sizeof(p.cname), "%s", TM_CNAME);
    return p;
}

/* Waits until the recording is done or failed (or timeout). */
static inline enum mr_recording_state tm_wait_end(struct mr_recording *rec, int timeout_ms)
{
    struct mr_recording_info info;
    for (int waited = 0;; waited += 10) {
        mr_recording_info(rec, &info);
        if (info.state == MR_RECORDING_DONE || info.state == MR_RECORDING_FAILED ||
            waited >= timeout_ms)
            return info.state;
        g_usleep(10000);
    }
}

/* What a file holds, by GstDiscoverer. */
struct tm_probe {
    bool ok;
    char container[64], audio[32], video[32];
    int width, height;
    double duration_s;
};

static inline void tm_caps_name(GstCaps *caps, char *out, size_t len)
{
    snprintf(out, len, "%s", caps ? gst_structure_get_name(gst_caps_get_structure(caps, 0)) : "");
}

static inline struct tm_probe tm_discover(const char *path)
{
    struct tm_probe r;
    memset(&r, 0, sizeof(r));
    GstDiscoverer *d = gst_discoverer_new(10 * GST_SECOND, NULL);
    char *uri = gst_filename_to_uri(path, NULL);
    GstDiscovererInfo *info = d && uri ? gst_discoverer_discover_uri(d, uri, NULL) : NULL;
    if (info && gst_discoverer_info_get_result(info) == GST_DISCOVERER_OK) {
        r.ok = true;
        r.duration_s = (double)gst_discoverer_info_get_duration(info) / GST_SECOND;
        GstDiscovererStreamInfo *top = gst_discoverer_info_get_stream_info(info);
        GstCaps *caps = top ? gst_discoverer_stream_info_get_caps(top) : NULL;
        tm_caps_name(caps, r.container, sizeof(r.container));
        if (caps)
            gst_caps_unref(caps);
        if (top)
            gst_discoverer_stream_info_unref(top);
        GList *v = gst_discoverer_info_get_video_streams(info);
        GList *a = gst_discoverer_info_get_audio_streams(info);
        if (v) {
            GstDiscovererVideoInfo *vi = v->data;
            r.width = (int)gst_discoverer_video_info_get_width(vi);
            r.height = (int)gst_discoverer_video_info_get_height(vi);
            caps = gst_discoverer_stream_info_get_caps(v->data);
            tm_caps_name(caps, r.video, sizeof(r.video));
            gst_caps_unref(caps);
        }
        if (a) {
            caps = gst_discoverer_stream_info_get_caps(a->data);
            tm_caps_name(caps, r.audio, sizeof(r.audio));
            gst_caps_unref(caps);
        }
        gst_discoverer_stream_info_list_free(v);
        gst_discoverer_stream_info_list_free(a);
    }
    if (info)
        g_object_unref(info);
    if (d)
        g_object_unref(d);
    g_free(uri);
    return r;
}

/* Decodes a file completely; counts frames and the last timestamp. */
struct tm_decoded {
    unsigned video_frames, audio_buffers;
    double video_end_s, audio_end_s;
    bool error;
};

static inline struct tm_decoded tm_decode(const char *path)
{
    struct tm_decoded r;
    memset(&r, 0, sizeof(r));
    char *uri = gst_filename_to_uri(path, NULL);
    char desc[2048];
    snprintf(desc, sizeof(desc),
             "uridecodebin uri=%s name=d d. ! queue ! videoconvert ! video/x-raw ! appsink "
             "name=v sync=false d. ! queue ! audioconvert ! audio/x-raw ! appsink name=a "
             "sync=false",
             uri);
    g_free(uri);
    GstElement *p = gst_parse_launch(desc, NULL);
    if (!p) {
        r.error = true;
        return r;
    }
    GstElement *v = gst_bin_get_by_name(GST_BIN(p), "v"), *a = gst_bin_get_by_name(GST_BIN(p), "a");
    gst_element_set_state(p, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(p);
    bool veos = false, aeos = false;
    for (int spins = 0; spins < 20000 && !(veos && aeos); spins++) {
        GstSample *s;
        while ((s = gst_app_sink_try_pull_sample(GST_APP_SINK(v), 0))) {
            GstBuffer *b = gst_sample_get_buffer(s);
            r.video_frames++;
            r.video_end_s = (double)GST_BUFFER_PTS(b) / GST_SECOND;
            gst_sample_unref(s);
        }
        while ((s = gst_app_sink_try_pull_sample(GST_APP_SINK(a), 0))) {
            GstBuffer *b = gst_sample_get_buffer(s);
            r.audio_buffers++;
            r.audio_end_s = (double)(GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b)) / GST_SECOND;
            gst_sample_unref(s);
        }
        veos = veos || gst_app_sink_is_eos(GST_APP_SINK(v));
        aeos = aeos || gst_app_sink_is_eos(GST_APP_SINK(a));
        GstMessage *m =
            gst_bus_timed_pop_filtered(bus, GST_MSECOND, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
        if (m) {
            if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS)
                veos = aeos = true;
            else
                r.error = true, veos = aeos = true;
            gst_message_unref(m);
        }
    }
    gst_object_unref(bus);
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(v);
    gst_object_unref(a);
    gst_object_unref(p);
    return r;
}

static inline bool tm_sha256_file(const char *path, char hex[MR_RECORD_SHA256_LEN + 1])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    uint8_t buf[65536], out[32];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        EVP_DigestUpdate(md, buf, n);
    unsigned len = 0;
    EVP_DigestFinal_ex(md, out, &len);
    EVP_MD_CTX_free(md);
    fclose(f);
    mr_hex_encode(out, sizeof(out), hex);
    return true;
}

static inline unsigned tm_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
}

/* The sidecar for a media path: same stem, ".json". */
static inline json_t *tm_sidecar(const char *media_path)
{
    char json[PATH_MAX];
    snprintf(json, sizeof(json), "%s", media_path);
    char *dot = strstr(json, ".recording.");
    if (!dot)
        dot = strrchr(json, '.');
    snprintf(dot, sizeof(json) - (size_t)(dot - json), ".json");
    return json_load_file(json, 0, NULL);
}

static inline const char *tm_jstr(json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? s : "";
}

static inline double tm_jnum(json_t *doc, const char *key)
{
    return json_number_value(json_object_get(doc, key));
}

/* A fresh empty directory under /tmp. */
static inline void tm_tmpdir(char *out, size_t len, const char *tag)
{
    snprintf(out, len, "/tmp/mr-rec-%s-XXXXXX", tag);
    if (!mkdtemp(out))
        out[0] = '\0';
}

static inline void tm_rmrf(const char *path)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

#endif
