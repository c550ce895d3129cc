/*
 * mr-peer: the C test peer on the command line, for manual runs and the
 * benchmark.
 *
 *   mr-peer publish URL TOKEN [--seconds N] [--video-kbps K] [--fps F]
 *                             [--codec vp8|h264] [--keyframe-interval S]
 *                             [--layers N] (simulcast by rid: 2 or 3 layers)
 *   mr-peer subscribe URL TOKEN [--seconds N] [--count C]
 *   both: [--srtp gcm|aes-cm] (the DTLS-SRTP profile offered; browsers
 *   negotiate aes-cm; default: GCM preferred, AES-CM accepted)
 *         [--ice udp|tcp] (tcp: ICE-TCP only, as a client whose network
 *         blocks UDP; default udp)
 *
 * Connects over WHIP (publish) or WHEP (subscribe, C peers in one process),
 * runs for N seconds (or until SIGINT/SIGTERM), DELETEs its sessions and
 * prints one JSON line of statistics on stdout. Exit status 0 when every
 * peer connected, 1 when one did not, 2 on bad usage.
 */
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "peer.h"
#include "whip_client.h"

#define MAX_COUNT       1000
#define HTTP_TIMEOUT_MS 10000

struct options {
    bool publish;
    const char *url;
    const char *token;
    unsigned seconds;
    unsigned video_kbps;
    unsigned fps;
    unsigned keyframe_s;
    unsigned count;
    unsigned layers;
    enum mr_codec_id codec;
    const char *srtp_profiles;
    bool ice_tcp_only;
};

static const char usage[] =
    "usage: mr-peer publish URL TOKEN [--seconds N] [--video-kbps K] [--fps F]\n"
    "                                 [--codec vp8|h264] [--keyframe-interval S] [--layers 1-3]\n"
    "       mr-peer subscribe URL TOKEN [--seconds N] [--count C]\n"
    "       both: [--srtp gcm|aes-cm] [--ice udp|tcp]\n";

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || *end || v == 0 || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static int parse_flag(struct options *o, const char *flag, const char *val)
{
    bool ok;
    if (strcmp(flag, "--seconds") == 0)
        ok = parse_uint(val, 86400, &o->seconds);
    else if (strcmp(flag, "--video-kbps") == 0 && o->publish)
        ok = parse_uint(val, 100000, &o->video_kbps);
    else if (strcmp(flag, "--fps") == 0 && o->publish)
        ok = parse_uint(val, 120, &o->fps);
    else if (strcmp(flag, "--keyframe-interval") == 0 && o->publish)
        ok = parse_uint(val, 3600, &o->keyframe_s);
    else if (strcmp(flag, "--layers") == 0 && o->publish)
        ok = parse_uint(val, 3, &o->layers);
    else if (strcmp(flag, "--count") == 0 && !o->publish)
        ok = parse_uint(val, MAX_COUNT, &o->count);
    else if (strcmp(flag, "--srtp") == 0 && val)
        ok = (o->srtp_profiles = strcmp(val, "gcm") == 0      ? "SRTP_AEAD_AES_128_GCM"
                                 : strcmp(val, "aes-cm") == 0 ? "SRTP_AES128_CM_SHA1_80"
                                                              : NULL) != NULL;
    else if (strcmp(flag, "--ice") == 0 && val)
        ok = (o->ice_tcp_only = strcmp(val, "tcp") == 0) || strcmp(val, "udp") == 0;
    else if (strcmp(flag, "--codec") == 0 && o->publish && val)
        ok = (o->codec = mr_codec_id_from_name(val)) == MR_CODEC_VP8 || o->codec == MR_CODEC_H264;
    else
        ok = false;
    if (!ok)
        fprintf(stderr, "mr-peer: bad option %s %s\n", flag, val ? val : "");
    return ok ? 0 : MR_EINVAL;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.seconds = 10, .count = 1, .codec = MR_CODEC_VP8};
    if (argc < 4 || (strcmp(argv[1], "publish") != 0 && strcmp(argv[1], "subscribe") != 0))
        return MR_EINVAL;
    o->publish = strcmp(argv[1], "publish") == 0;
    o->url = argv[2];
    o->token = argv[3];
    for (int i = 4; i < argc; i += 2)
        if (parse_flag(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL) < 0)
            return MR_EINVAL;
    return 0;
}

static gboolean on_signal(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_CONTINUE;
}

static bool is_set(void *arg)
{
    return *(bool *)arg;
}

struct session {
    struct mr_test_peer *peer;
    struct mr_test_whip whip;
    bool connected;
};

static bool connect_one(struct session *s, const struct options *o, GMainContext *ctx, unsigned i)
{
    char name[32];
    snprintf(name, sizeof(name), "%s-%u", o->publish ? "pub" : "sub", i);
    struct mr_test_peer_config cfg = {
        .ctx = ctx,
        .role = o->publish ? MR_TEST_PUBLISHER : MR_TEST_SUBSCRIBER,
        .name = name,
        .video_codec = o->codec,
        .video_kbps = o->video_kbps,
        .fps = o->fps,
        .keyframe_interval_ms = o->keyframe_s * 1000,
        .video_layers = o->layers,
        .srtp_profiles = o->srtp_profiles,
        .ice_tcp_only = o->ice_tcp_only,
    };
    int rc = mr_test_peer_new(&cfg, &s->peer);
    if (rc == 0)
        rc = mr_test_whip_connect_url(&s->whip, s->peer, o->url, o->token, HTTP_TIMEOUT_MS);
    if (rc < 0) {
        fprintf(stderr, "mr-peer: %s: %s (HTTP %d %s) %s\n", name, mr_strerror(rc), s->whip.status,
                s->whip.error, s->whip.detail);
        return false;
    }
    s->connected = true;
    return true;
}

static void print_json(struct session *ss, unsigned n, bool publish)
{
    if (publish) {
        char *j = mr_test_peer_stats_json(ss[0].peer);
        printf("%s\n", j ? j : "{}");
        free(j);
        return;
    }
    printf("{\"subscribers\":%u,\"peers\":[", n);
    for (unsigned i = 0; i < n; i++) {
        char *j = ss[i].peer ? mr_test_peer_stats_json(ss[i].peer) : NULL;
        printf("%s%s", i ? "," : "", j ? j : "null");
        free(j);
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    bool stop = false;
    GSource *sigs[2] = {g_unix_signal_source_new(SIGINT), g_unix_signal_source_new(SIGTERM)};
    for (int i = 0; i < 2; i++) {
        g_source_set_callback(sigs[i], on_signal, &stop, NULL);
        g_source_attach(sigs[i], ctx);
    }
    struct session *ss = calloc(o.count, sizeof(*ss));
    bool ok = ss != NULL;
    for (unsigned i = 0; ok && i < o.count && !stop; i++)
        ok = connect_one(&ss[i], &o, ctx, i);
    for (unsigned i = 0; ok && i < o.count; i++)
        ok = mr_test_peer_wait_secure(ss[i].peer, 10000);
    if (ok)
        mr_test_loop_until(ctx, is_set, &stop, (int)o.seconds * 1000);
    for (unsigned i = 0; ss && i < o.count; i++)
        if (ss[i].peer)
            mr_test_peer_stop_media(ss[i].peer);
    if (ss && ss[0].peer)
        print_json(ss, o.count, o.publish);
    for (unsigned i = 0; ss && i < o.count; i++) {
        if (ss[i].connected)
            mr_test_whip_delete(&ss[i].whip, HTTP_TIMEOUT_MS);
        mr_test_peer_free(ss[i].peer);
    }
    free(ss);
    for (int i = 0; i < 2; i++) {
        g_source_destroy(sigs[i]);
        g_source_unref(sigs[i]);
    }
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    return ok ? 0 : 1;
}
