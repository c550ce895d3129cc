/* The test peer's life cycle, its transport and the loop helpers. */
#include "peer_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/random.h"

#define GATHER_TIMEOUT_MS 5000

const char *mr_test_peer_name(const struct mr_test_peer *p)
{
    return p->name;
}

enum mr_test_peer_role mr_test_peer_role(const struct mr_test_peer *p)
{
    return p->cfg.role;
}

static uint32_t nonzero_random(void)
{
    uint32_t v;
    do
        v = mr_random_u32();
    while (v == 0);
    return v;
}

double mr_tp_uniform(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0; /* 2^53 */
}

void mr_tp_reset_track(struct mr_tp_track *t, enum mr_media_kind kind, const char *mid)
{
    uint32_t *buckets = t->lat.buckets; /* kept: allocated once per slot */
    struct mr_tp_sent *history = t->history;
    memset(t, 0, sizeof(*t));
    t->lat.buckets = buckets;
    if (buckets)
        memset(buckets, 0, (LAT_BUCKETS + 1) * sizeof(*buckets));
    t->history = history;
    mr_tp_history_clear(t);
    t->st.kind = kind;
    snprintf(t->st.mid, sizeof(t->st.mid), "%s", mid);
    t->clock_rate = kind == MR_MEDIA_AUDIO ? 48000 : 90000;
    t->st.ssrc = nonzero_random();
    t->st.source = nonzero_random();
    t->seq = (uint16_t)mr_random_u32();
    t->ts_base = mr_random_u32();
    t->rng = (uint64_t)nonzero_random() << 32 | nonzero_random();
    t->st.rtx_ssrc = nonzero_random();
    t->rtx_seq = (uint16_t)mr_random_u32();
    t->loss_rng = (uint64_t)nonzero_random() << 32 | nonzero_random();
    mr_rtp_rx_stats_init(&t->rx, t->clock_rate);
}

struct mr_tp_track *mr_tp_track_by_mid(struct mr_test_peer *p, const char *mid)
{
    for (unsigned i = 0; i < p->n_tracks; i++)
        if (strcmp(p->tracks[i].st.mid, mid) == 0)
            return &p->tracks[i];
    return NULL;
}

bool mr_tp_section_head(const struct mr_test_peer *p, unsigned i)
{
    return i == 0 || strcmp(p->tracks[i].st.mid, p->tracks[i - 1].st.mid) != 0;
}

/*
 * The simulcast layers a publisher can send, lowest first (the order of
 * Chromium's a=simulcast:send q;h;f): each one's rid, the picture size its
 * VP8 key frames carry (a 1280x720 camera scaled down by 4, 2 and 1), and
 * its weight in video_kbps. The weights follow libwebrtc's top bitrates for
 * those sizes (200, 700 and 2500 kbit/s: 6, 21 and 74 %), rounded to 8, 22
 * and 70 %; with two layers the top two share it in the same proportion
 * (24 and 76 %).
 */
static const struct {
    const char *rid;
    uint16_t width, height;
    unsigned weight;
} layer_table[MR_TP_MAX_LAYERS] = {
    {"q", 320, 180, 8},
    {"h", 640, 360, 22},
    {"f", 1280, 720, 70},
};

/* Turns the video track at p->tracks[first] into n layers (tracks first
 * ... first + n - 1, same mid), the top n of layer_table. */
static void add_layers(struct mr_test_peer *p, unsigned first, unsigned n)
{
    unsigned skip = MR_TP_MAX_LAYERS - n, weights = 0;
    for (unsigned k = skip; k < MR_TP_MAX_LAYERS; k++)
        weights += layer_table[k].weight;
    for (unsigned k = 0; k < n; k++) {
        struct mr_tp_track *t = &p->tracks[first + k];
        if (k > 0)
            mr_tp_reset_track(t, MR_MEDIA_VIDEO, p->tracks[first].st.mid);
        /* One RTP timeline for all layers: a picture has one timestamp. */
        t->ts_base = p->tracks[first].ts_base;
        snprintf(t->st.rid, sizeof(t->st.rid), "%s", layer_table[skip + k].rid);
        t->st.width = layer_table[skip + k].width;
        t->st.height = layer_table[skip + k].height;
        t->st.kbps = p->cfg.video_kbps * layer_table[skip + k].weight / weights;
        if (t->st.kbps == 0)
            t->st.kbps = 1;
    }
    p->n_tracks = first + n;
}

static void apply_defaults(struct mr_test_peer_config *c)
{
    if (!c->video_codec)
        c->video_codec = MR_CODEC_VP8;
    if (!c->video_kbps)
        c->video_kbps = 1000;
    if (!c->fps)
        c->fps = 30;
    if (!c->audio_bytes)
        c->audio_bytes = 80;
    if (!c->keyframe_interval_ms)
        c->keyframe_interval_ms = 2000;
    if (!c->rtcp_interval_ms)
        c->rtcp_interval_ms = 1000;
}

int mr_test_peer_new(const struct mr_test_peer_config *cfg, struct mr_test_peer **out)
{
    if (!cfg || !cfg->ctx || !out || (cfg->no_audio && cfg->no_video) ||
        !(cfg->send_loss_pct >= 0 && cfg->send_loss_pct <= 100) ||
        (cfg->identity && cfg->srtp_profiles) || cfg->video_layers > MR_TP_MAX_LAYERS ||
        (cfg->video_layers > 1 && (cfg->role != MR_TEST_PUBLISHER || cfg->no_video)) ||
        (cfg->video_codec != MR_CODEC_NONE && cfg->video_codec != MR_CODEC_VP8 &&
         cfg->video_codec != MR_CODEC_H264))
        return MR_EINVAL;
    struct mr_test_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return MR_ENOMEM;
    p->cfg = *cfg;
    apply_defaults(&p->cfg);
    snprintf(p->name, sizeof(p->name), "%s", cfg->name ? cfg->name : "peer");
    snprintf(p->local_ip, sizeof(p->local_ip), "%s", cfg->local_ip ? cfg->local_ip : "127.0.0.1");
    p->cfg.name = p->name;
    p->cfg.local_ip = p->local_ip;
    p->cfg.srtp_profiles = NULL; /* used during creation only */
    p->identity = cfg->identity;
    if (!p->identity) {
        int rc = mr_dtls_identity_new(&p->own_identity);
        if (rc == 0 && cfg->srtp_profiles)
            rc = mr_dtls_identity_set_srtp_profiles(p->own_identity, cfg->srtp_profiles);
        if (rc < 0) {
            mr_dtls_identity_free(p->own_identity);
            free(p);
            return rc;
        }
        p->identity = p->own_identity;
    }
    mr_random_hex(p->cname, 8);
    snprintf(p->msid_stream, sizeof(p->msid_stream), "mr-peer-%.8s", p->cname);
    p->rtcp_ssrc = nonzero_random();
    p->audio_rtcp_ssrc = nonzero_random();
    /* Sections in browser order, audio first; mids are their indexes. */
    static const char *const mids[] = {"0", "1"};
    if (!cfg->no_audio) {
        mr_tp_reset_track(&p->tracks[p->n_tracks], MR_MEDIA_AUDIO, mids[p->n_tracks]);
        p->n_tracks++;
    }
    if (!cfg->no_video) {
        mr_tp_reset_track(&p->tracks[p->n_tracks], MR_MEDIA_VIDEO, mids[p->n_tracks]);
        p->n_tracks++;
        if (cfg->video_layers > 1)
            add_layers(p, p->n_tracks - 1, cfg->video_layers);
    }
    *out = p;
    return 0;
}

static void stop_source(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

void mr_test_peer_free(struct mr_test_peer *p)
{
    if (!p)
        return;
    mr_tp_media_stop(p);
    stop_source(&p->rtcp_timer);
    mr_transport_free(p->t);
    mr_dtls_identity_free(p->own_identity);
    for (unsigned i = 0; i < MR_TEST_PEER_MAX_TRACKS; i++) {
        free(p->tracks[i].lat.buckets);
        free(p->tracks[i].history);
    }
    free(p);
}

void mr_test_peer_close(struct mr_test_peer *p)
{
    mr_tp_media_stop(p);
    stop_source(&p->rtcp_timer);
    if (p->t)
        mr_transport_close(p->t);
}

/* --- Transport ------------------------------------------------------------ */

static void on_rtp(void *user, uint8_t *buf, size_t len)
{
    struct mr_test_peer *p = user;
    if (p->cfg.rtp_tap)
        p->cfg.rtp_tap(p->cfg.rtp_tap_arg, buf, len);
    if (p->cfg.role == MR_TEST_SUBSCRIBER)
        mr_tp_receive_rtp(p, buf, len);
    else
        p->rtp_unmatched++; /* a send-only peer expects none */
}

static void on_rtcp(void *user, uint8_t *buf, size_t len)
{
    struct mr_test_peer *p = user;
    if (p->cfg.role == MR_TEST_PUBLISHER)
        mr_tp_sender_rtcp(p, buf, len);
    else
        mr_tp_receiver_rtcp(p, buf, len);
}

static gboolean rtcp_tick(gpointer data)
{
    struct mr_test_peer *p = data;
    int64_t now = mr_clock_mono_us();
    if (p->cfg.role == MR_TEST_PUBLISHER) {
        /* With MR_TEST_CLIENT_RTCP the media pacer sends them (on time). */
        if (p->media_on && !(p->cfg.client & MR_TEST_CLIENT_RTCP))
            mr_tp_send_sender_reports(p, now);
    } else {
        mr_tp_send_receiver_reports(p, now);
    }
    return G_SOURCE_CONTINUE;
}

static void on_state(void *user, enum mr_transport_state st, const char *why)
{
    struct mr_test_peer *p = user;
    p->state = st;
    snprintf(p->state_why, sizeof(p->state_why), "%s", why ? why : "");
    if (st == MR_TRANSPORT_SECURE && !p->was_secure) {
        p->was_secure = true;
        p->secure_us = mr_clock_mono_us();
        /* A browser's subscriber reports every 200 ms (MR_TEST_CLIENT_RTCP). */
        bool browser_rr =
            p->cfg.role == MR_TEST_SUBSCRIBER && (p->cfg.client & MR_TEST_CLIENT_RTCP);
        p->rtcp_timer = g_timeout_source_new(browser_rr ? 200 : p->cfg.rtcp_interval_ms);
        g_source_set_callback(p->rtcp_timer, rtcp_tick, p, NULL);
        g_source_attach(p->rtcp_timer, p->cfg.ctx);
        if (p->cfg.role == MR_TEST_PUBLISHER && !p->cfg.manual_start)
            mr_tp_media_start(p);
    } else if (st == MR_TRANSPORT_FAILED || st == MR_TRANSPORT_CLOSED) {
        /* Timers stop here; the owner frees the peer outside this call. */
        mr_tp_media_stop(p);
        stop_source(&p->rtcp_timer);
    }
}

static void on_gathered(void *user)
{
    struct mr_test_peer *p = user;
    p->gathered = true;
}

static const struct mr_transport_ops transport_ops = {
    .rtp = on_rtp,
    .rtcp = on_rtcp,
    .state = on_state,
    .gathered = on_gathered,
};

static bool is_gathered(void *arg)
{
    return ((struct mr_test_peer *)arg)->gathered;
}

int mr_tp_create_transport(struct mr_test_peer *p, bool controlling)
{
    if (p->t)
        return MR_ESTATE;
    struct mr_transport_config tc = {
        .ctx = p->cfg.ctx,
        .identity = p->identity,
        .ice = {.local_ip = p->local_ip,
                .controlling = controlling,
                .tcp = p->cfg.ice_tcp_only,
                .no_udp = p->cfg.ice_tcp_only},
    };
    int rc = mr_transport_new(&tc, &transport_ops, p, &p->t);
    if (rc < 0)
        return rc;
    rc = mr_transport_gather(p->t);
    if (rc < 0)
        return rc;
    if (!mr_test_loop_until(p->cfg.ctx, is_gathered, p, GATHER_TIMEOUT_MS))
        return MR_EIO;
    return 0;
}

/*
 * Whether a local candidate goes to the other side: with cfg.ice_tcp_only,
 * the tcptype active one only, as Chromium offers where UDP is blocked.
 * libnice gathers a passive one too (and simultaneous-open ones never);
 * offered beside the active one, the relay's own active candidate connects
 * to it and libnice nominates that pair (tcp-active on the relay), a
 * connection a client behind a firewall would never accept. With the
 * active one only, the relay's passive candidate takes the connection
 * (tcp-passive on the relay, peer-reflexive here: the port the kernel
 * picked).
 */
static bool signalled(const struct mr_test_peer *p, const char *line)
{
    return !p->cfg.ice_tcp_only || strstr(line, " tcptype active") != NULL;
}

unsigned mr_tp_local_candidates(struct mr_test_peer *p, char (*lines)[MR_ICE_CANDIDATE_MAX],
                                unsigned max)
{
    unsigned n = p->t ? mr_transport_local_candidates(p->t, lines, max) : 0, k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!signalled(p, lines[i]))
            continue;
        if (k != i)
            memcpy(lines[k], lines[i], MR_ICE_CANDIDATE_MAX);
        k++;
    }
    return k;
}

enum mr_transport_state mr_test_peer_state(const struct mr_test_peer *p)
{
    return p->t ? mr_transport_state(p->t) : MR_TRANSPORT_NEW;
}

static bool settled(void *arg)
{
    enum mr_transport_state st = mr_test_peer_state(arg);
    return st == MR_TRANSPORT_SECURE || st == MR_TRANSPORT_FAILED || st == MR_TRANSPORT_CLOSED;
}

bool mr_test_peer_wait_secure(struct mr_test_peer *p, int timeout_ms)
{
    mr_test_loop_until(p->cfg.ctx, settled, p, timeout_ms);
    return mr_test_peer_state(p) == MR_TRANSPORT_SECURE;
}

void mr_test_peer_start_media(struct mr_test_peer *p)
{
    if (p->cfg.role == MR_TEST_PUBLISHER)
        mr_tp_media_start(p);
}

void mr_test_peer_stop_media(struct mr_test_peer *p)
{
    mr_tp_media_stop(p);
}

int mr_test_peer_send_raw(struct mr_test_peer *p, bool rtcp, const uint8_t *buf, size_t len)
{
    uint8_t out[MR_TRANSPORT_BUF];
    if (!p->t || mr_transport_state(p->t) != MR_TRANSPORT_SECURE)
        return MR_ESTATE;
    if (len > MR_TRANSPORT_MTU - 64)
        return MR_ETOOBIG;
    memcpy(out, buf, len);
    return rtcp ? mr_transport_send_rtcp(p->t, out, len, sizeof(out))
                : mr_transport_send_rtp(p->t, out, len, sizeof(out));
}

int mr_test_peer_add_remote_candidate(struct mr_test_peer *p, const char *line)
{
    if (!p->t)
        return MR_ESTATE;
    if (strncmp(line, "a=", 2) == 0)
        line += 2;
    return mr_transport_add_remote_candidate(p->t, line);
}

unsigned mr_test_peer_remote_candidates(const struct mr_test_peer *p, struct mr_sdp_candidate *out,
                                        unsigned max)
{
    unsigned n = p->n_remote_cands < max ? p->n_remote_cands : max;
    memcpy(out, p->remote_cands, n * sizeof(*out));
    return n;
}

const char *mr_test_peer_remote_ufrag(const struct mr_test_peer *p)
{
    return p->remote_ufrag;
}

void mr_test_peer_local_ufrag(struct mr_test_peer *p, char *out, size_t cap)
{
    char ufrag[MR_ICE_CRED_MAX] = "", pwd[MR_ICE_CRED_MAX];
    if (p->t)
        mr_transport_local_credentials(p->t, ufrag, pwd);
    snprintf(out, cap, "%s", ufrag);
}

unsigned mr_test_peer_local_candidates(struct mr_test_peer *p, struct mr_sdp_candidate *out,
                                       unsigned max)
{
    char lines[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
    unsigned n = mr_tp_local_candidates(p, lines, MR_TRANSPORT_MAX_CANDIDATES);
    unsigned k = 0;
    for (unsigned i = 0; i < n && k < max; i++)
        if (mr_sdp_parse_candidate(lines[i], strlen(lines[i]), &out[k]) == 0)
            k++;
    return k;
}

int mr_test_peer_local_fragment(struct mr_test_peer *p, char *out, size_t cap)
{
    if (!p->t || p->n_tracks == 0)
        return MR_ESTATE;
    char ufrag[MR_ICE_CRED_MAX], pwd[MR_ICE_CRED_MAX];
    char lines[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
    mr_transport_local_credentials(p->t, ufrag, pwd);
    unsigned n = mr_tp_local_candidates(p, lines, MR_TRANSPORT_MAX_CANDIDATES);
    const struct mr_tp_track *t = &p->tracks[0];
    /* RFC 8840 §9: credentials, then the bundled section's mid and candidates. */
    int len = snprintf(out, cap,
                       "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=%s 9 UDP/TLS/RTP/SAVPF %u\r\n"
                       "a=mid:%s\r\n",
                       ufrag, pwd, t->st.kind == MR_MEDIA_AUDIO ? "audio" : "video",
                       t->st.kind == MR_MEDIA_AUDIO ? PT_OPUS : PT_VP8, t->st.mid);
    for (unsigned i = 0; i < n && len >= 0 && (size_t)len < cap; i++)
        len += snprintf(out + len, cap - (size_t)len, "a=%s\r\n", lines[i]);
    if (len >= 0 && (size_t)len < cap)
        len += snprintf(out + len, cap - (size_t)len, "a=end-of-candidates\r\n");
    return (len < 0 || (size_t)len >= cap) ? MR_ENOSPC : len;
}

/* --- Loop helper ---------------------------------------------------------- */

static gboolean wake(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

bool mr_test_loop_until(GMainContext *ctx, mr_test_cond cond, void *arg, int timeout_ms)
{
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    /* Blocking iterations return on any event; this wakes them at least
     * every 20 ms so the deadline and cond are checked. */
    GSource *w = g_timeout_source_new(20);
    g_source_set_callback(w, wake, NULL, NULL);
    g_source_attach(w, ctx);
    while (!(cond && cond(arg)) && g_get_monotonic_time() < end)
        g_main_context_iteration(ctx, TRUE);
    g_source_destroy(w);
    g_source_unref(w);
    return cond ? cond(arg) : true;
}
