/* medrelay-bench's command line: options, defaults and the server's pid. */
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/error.h"
#include "http_client.h"
#include "procstat.h"

/* --- Options ------------------------------------------------------------- */

const char mr_bench_usage[] =
    "usage: medrelay-bench --url http://HOST:PORT [options]\n"
    "  --target medrelay|janus  the server under test [medrelay]; janus: --url\n"
    "                           ws://HOST:PORT (its WebSocket API), no tokens\n"
    "  --token T                bearer token for everything (room '*'; operator role\n"
    "                           also reads /metrics off loopback); or per use:\n"
    "  --pub-token T --sub-token T --metrics-token T\n"
    "  --pid PID                the server process (default: the 'medrelay' process\n"
    "                           whose command line holds HOST:PORT)\n"
    "  --publishers P           publishers, one stream each, in rooms PREFIX-r<run>-<i> [1]\n"
    "  --subs N[,N...]          subscribers (spread over the streams); a list sweeps [10]\n"
    "  --rounds R               runs per N [1]\n"
    "  --first-round K          number the rounds from K (scripts/bench.sh runs\n"
    "                           each round against a fresh server) [1]\n"
    "  --warmup S --seconds S   warm-up and measurement window [5, 20]\n"
    "  --video-kbps K --fps F   synthetic VP8 load, plus Opus 20 ms [2500, 30]\n"
    "  --client MODE            how the peers behave [synthetic]: synthetic (one frame\n"
    "                           size, a 4 x key frame every 2 s, mid on every packet, an\n"
    "                           SR/RR a second) or real (as the Chromium clients\n"
    "                           tests/bench/clients measured: frame and Opus sizes,\n"
    "                           key frames only on PLI, the extensions, RTCP kinds and\n"
    "                           rates, a frame's packets spread over ~0.3 ms), or some\n"
    "                           of real's parts: sizes, ext, rtcp, spread\n"
    "                           joined by '+' (e.g. sizes+rtcp)\n"
    "  --pub-loss PCT           publishers drop PCT % of their RTP packets (audio and\n"
    "                           video, originals and resends) at random instead of\n"
    "                           sending them: a lossy publisher leg the server repairs\n"
    "                           (NACK, RTX); never RTCP, STUN, DTLS, subscribers' [0]\n"
    "  --sub-transport udp|tcp  how the subscribers (and late joiners) connect [udp];\n"
    "                           tcp: ICE-TCP only (RFC 6544), as a client whose\n"
    "                           network blocks UDP: no UDP candidate, the tcptype\n"
    "                           active one offered; publishers stay on UDP\n"
    "  --layers N               publishers send simulcast by rid: N layers (2: h, f;\n"
    "                           3: q, h, f), 320x180, 640x360, 1280x720 in their key\n"
    "                           frames, 8, 22, 70 % of --video-kbps; subscribers get\n"
    "                           the layer the server picks; medrelay only [1]\n"
    "  --top-layer-pause MS     with --layers: the publishers stop their top layer for\n"
    "                           MS ms in the middle of the window (as a browser's\n"
    "                           encoder drops it when limited), so the server moves\n"
    "                           the subscribers down a layer and back up [0]\n"
    "  --pacing PCT             spread a frame's packets at PCT % of the video bitrate,\n"
    "                           as a browser's pacer does (250: libwebrtc's 2.5 x);\n"
    "                           0: each frame in one burst, as an encoder hands it over [0]\n"
    "  --srtp aes-cm|gcm|any    DTLS-SRTP profiles offered [aes-cm, what browsers use]\n"
    "  --local-ip IP            the peers' address [127.0.0.1]\n"
    "  --threads T              bulk subscriber threads [2]\n"
    "  --latency-subs L         subscribers on a thread of their own that wakes for\n"
    "                           every packet; transit latency is theirs [4]\n"
    "  --tick-us U              bulk threads poll once per U us (0: per packet) [1000]\n"
    "  --bulk-nice K            bulk threads at nice K (0-19): they yield the CPU to\n"
    "                           the server, as peers on other machines would [19]\n"
    "  --join-probes M          late joiners timed to their first key frame [5]\n"
    "  --room-prefix S          [bench]\n"
    "  --label S                tag for the reports, e.g. veth or loopback\n"
    "  --csv FILE               append one CSV row per run\n"
    "Prints a table per run on stdout and one line 'BENCH_JSON {...}'.\n";

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_list(const char *s, struct mr_bench_options *o)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    o->n_subs = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (o->n_subs == MR_BENCH_MAX_SWEEP ||
            !parse_uint(t, 1, MR_BENCH_MAX_SUBS, &o->subs[o->n_subs++]))
            return false;
    return o->n_subs > 0;
}

static bool parse_pct(const char *s, double *out)
{
    char *end;
    double v = s ? strtod(s, &end) : -1;
    if (!s || !*s || *end || !(v >= 0 && v <= 100))
        return false;
    *out = v;
    return true;
}

static bool parse_label(const char *s, char *out, size_t cap)
{
    for (const char *p = s; *p; p++)
        if (!g_ascii_isalnum(*p) && !strchr("._-+", *p))
            return false;
    snprintf(out, cap, "%s", s);
    return true;
}

/* synthetic, real, or parts of real joined by '+'. */
static bool parse_client(const char *v, struct mr_bench_options *o)
{
    static const struct {
        const char *name;
        unsigned bits;
    } parts[] = {
        {"synthetic", 0},
        {"real", MR_TEST_CLIENT_REAL},
        {"sizes", MR_TEST_CLIENT_SIZES},
        {"ext", MR_TEST_CLIENT_EXT},
        {"rtcp", MR_TEST_CLIENT_RTCP},
        {"spread", MR_TEST_CLIENT_SPREAD},
    };
    char buf[64];
    unsigned bits = 0;
    if (strlen(v) >= sizeof(o->client_name))
        return false;
    snprintf(buf, sizeof(buf), "%s", v);
    char *save = NULL;
    for (char *t = strtok_r(buf, "+", &save); t; t = strtok_r(NULL, "+", &save)) {
        size_t k = 0;
        while (k < G_N_ELEMENTS(parts) && strcmp(t, parts[k].name) != 0)
            k++;
        if (k == G_N_ELEMENTS(parts))
            return false;
        bits |= parts[k].bits;
    }
    o->client = bits;
    snprintf(o->client_name, sizeof(o->client_name), "%s",
             bits == 0                     ? "synthetic"
             : bits == MR_TEST_CLIENT_REAL ? "real"
                                           : v);
    return true;
}

static bool parse_srtp(const char *v, const char **out)
{
    if (strcmp(v, "aes-cm") == 0)
        *out = "SRTP_AES128_CM_SHA1_80";
    else if (strcmp(v, "gcm") == 0)
        *out = "SRTP_AEAD_AES_128_GCM";
    else if (strcmp(v, "any") == 0)
        *out = NULL;
    else
        return false;
    return true;
}

static bool parse_flag(struct mr_bench_options *o, const char *f, const char *v)
{
    unsigned u;
    if (!v)
        return false;
    if (strcmp(f, "--url") == 0)
        o->tc.url = v;
    else if (strcmp(f, "--target") == 0 && strcmp(v, "medrelay") == 0)
        o->target = &mr_bench_target_medrelay;
    else if (strcmp(f, "--target") == 0 && strcmp(v, "janus") == 0)
        o->target = &mr_bench_target_janus;
    else if (strcmp(f, "--token") == 0)
        o->tc.pub_token = o->tc.sub_token = o->tc.metrics_token = v;
    else if (strcmp(f, "--pub-token") == 0)
        o->tc.pub_token = v;
    else if (strcmp(f, "--sub-token") == 0)
        o->tc.sub_token = v;
    else if (strcmp(f, "--metrics-token") == 0)
        o->tc.metrics_token = v;
    else if (strcmp(f, "--pid") == 0 && parse_uint(v, 1, 1u << 30, &u))
        o->pid = (pid_t)u;
    else if (strcmp(f, "--publishers") == 0)
        return parse_uint(v, 1, MR_BENCH_MAX_PUBS, &o->publishers);
    else if (strcmp(f, "--subs") == 0)
        return parse_list(v, o);
    else if (strcmp(f, "--rounds") == 0)
        return parse_uint(v, 1, 100, &o->rounds);
    else if (strcmp(f, "--first-round") == 0)
        return parse_uint(v, 1, 100, &o->first_round);
    else if (strcmp(f, "--warmup") == 0)
        return parse_uint(v, 0, 3600, &o->warmup_s);
    else if (strcmp(f, "--seconds") == 0)
        return parse_uint(v, 1, 86400, &o->seconds);
    else if (strcmp(f, "--video-kbps") == 0)
        return parse_uint(v, 50, 100000, &o->video_kbps);
    else if (strcmp(f, "--fps") == 0)
        return parse_uint(v, 1, 120, &o->fps);
    else if (strcmp(f, "--layers") == 0)
        return parse_uint(v, 1, 3, &o->layers);
    else if (strcmp(f, "--top-layer-pause") == 0)
        return parse_uint(v, 0, 3600000, &o->top_pause_ms);
    else if (strcmp(f, "--pacing") == 0)
        return parse_uint(v, 0, 10000, &o->pacing_pct) &&
               (o->pacing_pct == 0 || o->pacing_pct >= 100);
    else if (strcmp(f, "--client") == 0)
        return parse_client(v, o);
    else if (strcmp(f, "--pub-loss") == 0)
        return parse_pct(v, &o->pub_loss_pct);
    else if (strcmp(f, "--sub-transport") == 0 && (!strcmp(v, "udp") || !strcmp(v, "tcp")))
        o->sub_tcp = strcmp(v, "tcp") == 0;
    else if (strcmp(f, "--srtp") == 0)
        return parse_srtp(v, &o->srtp);
    else if (strcmp(f, "--local-ip") == 0)
        o->local_ip = v;
    else if (strcmp(f, "--threads") == 0)
        return parse_uint(v, 1, MR_BENCH_MAX_THREADS, &o->threads);
    else if (strcmp(f, "--latency-subs") == 0)
        return parse_uint(v, 0, MR_BENCH_MAX_LAT, &o->latency_subs);
    else if (strcmp(f, "--tick-us") == 0)
        return parse_uint(v, 0, 100000, &o->tick_us);
    else if (strcmp(f, "--bulk-nice") == 0)
        return parse_uint(v, 0, 19, &o->bulk_nice);
    else if (strcmp(f, "--join-probes") == 0)
        return parse_uint(v, 0, 64, &o->join_probes);
    else if (strcmp(f, "--room-prefix") == 0)
        return parse_label(v, o->room_prefix, sizeof(o->room_prefix)) && !strpbrk(v, ".+");
    else if (strcmp(f, "--label") == 0)
        return parse_label(v, o->label, sizeof(o->label));
    else if (strcmp(f, "--csv") == 0)
        o->csv = v;
    else
        return false;
    return true;
}

int mr_bench_parse_args(int argc, char **argv, struct mr_bench_options *o)
{
    *o = (struct mr_bench_options){
        .target = &mr_bench_target_medrelay,
        .room_prefix = "bench",
        .publishers = 1,
        .subs = {10},
        .n_subs = 1,
        .rounds = 1,
        .first_round = 1,
        .warmup_s = 5,
        .seconds = 20,
        .video_kbps = 2500,
        .fps = 30,
        .layers = 1,
        .srtp = "SRTP_AES128_CM_SHA1_80",
        .local_ip = "127.0.0.1",
        .threads = 2,
        .latency_subs = 4,
        .tick_us = 1000,
        .bulk_nice = 19,
        .join_probes = 5,
        .label = "run",
        .client_name = "synthetic",
    };
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return MR_EINVAL;
        if (!parse_flag(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL)) {
            fprintf(stderr, "medrelay-bench: bad option %s %s\n", argv[i],
                    i + 1 < argc ? argv[i + 1] : "");
            return MR_EINVAL;
        }
    }
    if (!o->tc.url ||
        (o->target == &mr_bench_target_medrelay && (!o->tc.pub_token || !o->tc.sub_token))) {
        fprintf(stderr, "medrelay-bench: --url and tokens (--token) are required\n");
        return MR_EINVAL;
    }
    /* Janus's subscribers answer its offer, which would name its own
     * substream choice: not measured. */
    if (o->top_pause_ms && (o->layers < 2 || o->top_pause_ms >= o->seconds * 1000)) {
        fprintf(stderr, "medrelay-bench: --top-layer-pause needs --layers 2 or 3 and a "
                        "pause shorter than the window\n");
        return MR_EINVAL;
    }
    if (o->layers > 1 && o->target != &mr_bench_target_medrelay) {
        fprintf(stderr, "medrelay-bench: --layers is for --target medrelay only\n");
        return MR_EINVAL;
    }
    return 0;
}

/* The server's pid: given, or the one process of that name listening there. */
int mr_bench_find_server(const struct mr_bench_options *o, pid_t *pid)
{
    if (o->pid) {
        *pid = o->pid;
        return kill(o->pid, 0) == 0 ? 0 : MR_ENOENT;
    }
    char host[64], path[MR_TEST_HTTP_URL_MAX], needle[96];
    uint16_t port;
    if (mr_test_http_parse_url(o->tc.url, host, sizeof(host), &port, path, sizeof(path)) < 0)
        return MR_EINVAL;
    snprintf(needle, sizeof(needle), "%s:%u", host, port);
    int rc = mr_bench_find_pid(o->target->name, needle, pid);
    if (rc < 0)
        fprintf(stderr, "medrelay-bench: %s process with %s on its command line: %s (use --pid)\n",
                o->target->name, needle, rc == MR_EBUSY ? "several" : "none");
    return rc;
}
