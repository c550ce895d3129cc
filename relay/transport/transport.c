#include "transport/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/counter.h"
#include "core/error.h"
#include "core/log.h"
#include "ice/ice_uring.h"
#include "rtp/demux.h"
#include "srtp/srtp.h"
#include "transport/liveness.h"
#include "transport/sendq.h"
#include "transport/transport_batch.h"
#include "transport/watch.h"

/* Adds to this transport's counters and to the shared ones of its worker. */
#define COUNT(t, field, n)                                               \
    do {                                                                 \
        mr_counter_add(&(t)->stats.field, (n));                          \
        if ((t)->aggregate)                                              \
            mr_counter_add(&(t)->aggregate->field, (n));                 \
    } while (0)

/* Distinct SSRCs a peer may send on (see ssrc_admitted). */
#define INBOUND_SSRC_MAX 16

/* DTLS datagrams that found no selected ICE pair yet (see dtls_send). */
#define HELD_MAX 8
struct held_dgram {
    uint16_t len;
    uint8_t data[MR_TRANSPORT_MTU];
};

struct mr_transport {
    GMainContext *ctx;
    struct mr_transport_stats *aggregate;
    const struct mr_transport_ops *ops;
    void *user;
    struct mr_ice *ice;
    struct mr_dtls *dtls;
    struct mr_srtp *srtp;
    const struct mr_dtls_identity *identity;
    GSource *dtls_timer;
    /* Liveness: looked at by the watch while SECURE (if there is one). */
    struct mr_transport_watch *watch;
    struct mr_watch_link live_link;
    struct mr_liveness live;
    char live_why[64]; /* the reason handed to ops->state, kept alive */
    enum mr_transport_state state;
    enum mr_dtls_role role;
    bool remote_set;
    bool ice_connected;
    bool dtls_started;
    const char *fingerprint;
    enum mr_srtp_profile profile;
    struct mr_transport_stats stats;
    struct mr_ratelimit log_rl;
    struct held_dgram *held; /* allocated only while something waits */
    unsigned n_held;
    uint32_t in_ssrcs[INBOUND_SSRC_MAX];
    unsigned n_in_ssrcs;
    struct mr_sendq *sendq; /* where queued datagrams wait (mr_transport_queue_rtp) */
    struct mr_sendq_link qlink;
};

static void stop_source(GSource **s)
{
    if (*s) {
        g_source_destroy(*s);
        g_source_unref(*s);
        *s = NULL;
    }
}

static void start_liveness(struct mr_transport *t);

static void set_state(struct mr_transport *t, enum mr_transport_state st, const char *why)
{
    if (t->state == st || t->state == MR_TRANSPORT_FAILED || t->state == MR_TRANSPORT_CLOSED)
        return;
    t->state = st;
    if (st == MR_TRANSPORT_SECURE)
        start_liveness(t);
    else if (st == MR_TRANSPORT_FAILED || st == MR_TRANSPORT_CLOSED)
        mr_watch_unlink(t->watch, &t->live_link);
    t->ops->state(t->user, st, why);
}

/* --- Liveness (liveness.h) ---------------------------------------------- */

static void live_look(struct mr_watch_link *l)
{
    struct mr_transport *t =
        (struct mr_transport *)((char *)l - offsetof(struct mr_transport, live_link));
    const struct mr_transport_stats *s = &t->stats;
    unsigned limit_ms = mr_transport_watch_limit_ms(t->watch);
    if (!mr_liveness_check(&t->live, s->rtp_in + s->rtcp_in, s->rtp_in, s->rtp_out,
                           mr_clock_mono_us(), (int64_t)limit_ms * 1000))
        return;
    snprintf(t->live_why, sizeof(t->live_why), "nothing authenticated from the peer for %u s",
             (limit_ms + 500) / 1000);
    set_state(t, MR_TRANSPORT_FAILED, t->live_why); /* unlinks it */
}

static void start_liveness(struct mr_transport *t)
{
    if (!t->watch || t->live_link.linked)
        return;
    const struct mr_transport_stats *s = &t->stats;
    mr_liveness_start(&t->live, s->rtp_in + s->rtcp_in, s->rtp_out, mr_clock_mono_us());
    mr_watch_link(t->watch, &t->live_link);
}

/* --- DTLS retransmission timer ------------------------------------------ */

static void arm_dtls_timer(struct mr_transport *t);

static gboolean dtls_timer_fired(gpointer data)
{
    struct mr_transport *t = data;
    g_source_unref(t->dtls_timer);
    t->dtls_timer = NULL;
    mr_dtls_handle_timeout(t->dtls);
    arm_dtls_timer(t);
    return G_SOURCE_REMOVE;
}

static void arm_dtls_timer(struct mr_transport *t)
{
    stop_source(&t->dtls_timer);
    int64_t us = mr_dtls_timeout_us(t->dtls);
    if (us < 0)
        return;
    t->dtls_timer = g_timeout_source_new((guint)((us + 999) / 1000));
    g_source_set_callback(t->dtls_timer, dtls_timer_fired, t, NULL);
    g_source_attach(t->dtls_timer, t->ctx);
}

/* --- DTLS callbacks ----------------------------------------------------- */

/*
 * A browser starts DTLS as soon as its side of a candidate pair works, which
 * is often a few milliseconds before libnice here has selected a pair. A
 * flight written then would be lost and the handshake would stall until the
 * browser retransmits (about 400 ms later), so hold it and send it the
 * moment ICE connects.
 */
static void hold_datagram(struct mr_transport *t, const uint8_t *buf, size_t len)
{
    if (!t->held)
        t->held = g_try_new(struct held_dgram, HELD_MAX);
    if (!t->held || t->n_held == HELD_MAX || len > MR_TRANSPORT_MTU) {
        COUNT(t, send_errors, 1);
        return;
    }
    t->held[t->n_held].len = (uint16_t)len;
    memcpy(t->held[t->n_held].data, buf, len);
    t->n_held++;
}

static void send_held(struct mr_transport *t)
{
    for (unsigned i = 0; i < t->n_held; i++)
        if (mr_ice_send(t->ice, t->held[i].data, t->held[i].len) < 0)
            COUNT(t, send_errors, 1);
    t->n_held = 0;
    g_free(t->held);
    t->held = NULL;
}

static void dtls_send(void *user, const uint8_t *buf, size_t len)
{
    struct mr_transport *t = user;
    int rc = mr_ice_send(t->ice, buf, len);
    if (rc == MR_EAGAIN)
        hold_datagram(t, buf, len);
    else if (rc < 0)
        COUNT(t, send_errors, 1);
}

static void dtls_connected(void *user)
{
    struct mr_transport *t = user;
    struct mr_dtls_srtp_keys keys;
    int rc = mr_dtls_srtp_keys(t->dtls, &keys);
    if (rc == 0)
        rc = mr_srtp_new((enum mr_srtp_profile)keys.profile, keys.local, keys.remote, &t->srtp);
    t->profile = (enum mr_srtp_profile)keys.profile;
    explicit_bzero(&keys, sizeof(keys));
    if (rc < 0) {
        set_state(t, MR_TRANSPORT_FAILED, "cannot install SRTP keys");
        return;
    }
    set_state(t, MR_TRANSPORT_SECURE, NULL);
}

static void dtls_failed(void *user, const char *why)
{
    struct mr_transport *t = user;
    set_state(t, MR_TRANSPORT_FAILED, why);
}

static void dtls_closed(void *user)
{
    struct mr_transport *t = user;
    set_state(t, MR_TRANSPORT_CLOSED, "peer closed DTLS");
}

static const struct mr_dtls_ops dtls_ops = {
    .send = dtls_send,
    .connected = dtls_connected,
    .failed = dtls_failed,
    .closed = dtls_closed,
};

/* --- ICE callbacks ------------------------------------------------------ */

/*
 * libsrtp clones a stream context for every new SSRC that authenticates and
 * keeps it for the session's life, so a peer cycling SSRCs could grow the
 * relay's memory without bound. Real peers use a handful (audio, video,
 * retransmission, RTCP); past INBOUND_SSRC_MAX, new SSRCs are dropped
 * before libsrtp sees them.
 */
static bool ssrc_admitted(const struct mr_transport *t, uint32_t ssrc)
{
    for (unsigned i = 0; i < t->n_in_ssrcs; i++)
        if (t->in_ssrcs[i] == ssrc)
            return true;
    return t->n_in_ssrcs < INBOUND_SSRC_MAX;
}

static void remember_ssrc(struct mr_transport *t, uint32_t ssrc)
{
    for (unsigned i = 0; i < t->n_in_ssrcs; i++)
        if (t->in_ssrcs[i] == ssrc)
            return;
    if (t->n_in_ssrcs < INBOUND_SSRC_MAX)
        t->in_ssrcs[t->n_in_ssrcs++] = ssrc;
}

/* RTP carries its SSRC at offset 8, RTCP the sender's at offset 4: the
 * one libsrtp keys its stream contexts by. */
static uint32_t packet_ssrc(const uint8_t *p, bool rtcp)
{
    const uint8_t *s = p + (rtcp ? 4 : 8);
    return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
}

static void handle_srtp(struct mr_transport *t, const uint8_t *data, size_t len, bool rtcp)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    if (!t->srtp) {
        COUNT(t, dropped_early, 1);
        return;
    }
    if (len > MR_TRANSPORT_MTU || len < 12) {
        COUNT(t, unknown_in, 1);
        return;
    }
    uint32_t ssrc = packet_ssrc(data, rtcp);
    if (!ssrc_admitted(t, ssrc)) {
        COUNT(t, dropped_ssrc, 1);
        return;
    }
    /* libnice's buffer is not ours to modify: decrypt a copy. */
    memcpy(buf, data, len);
    int rc = rtcp ? mr_srtp_unprotect_rtcp(t->srtp, buf, &len)
                  : mr_srtp_unprotect_rtp(t->srtp, buf, &len);
    if (rc < 0) {
        COUNT(t, srtp_errors, 1);
        if (mr_ratelimit_ok(&t->log_rl, mr_clock_mono_us()))
            mr_log_debug(SRTP, "transport %p: unprotect %s failed: %s", (void *)t,
                         rtcp ? "RTCP" : "RTP", mr_strerror(rc));
        return;
    }
    remember_ssrc(t, ssrc);
    if (rtcp) {
        COUNT(t, rtcp_in, 1);
        t->ops->rtcp(t->user, buf, len);
    } else {
        COUNT(t, rtp_in, 1);
        t->ops->rtp(t->user, buf, len);
    }
}

static void ice_recv(void *user, const uint8_t *buf, size_t len)
{
    struct mr_transport *t = user;
    COUNT(t, bytes_in, len);
    switch (mr_demux_classify(buf, len)) {
    case MR_DEMUX_DTLS:
        if (!t->remote_set)
            return; /* no fingerprint to check the peer against yet */
        mr_dtls_handle_datagram(t->dtls, buf, len);
        arm_dtls_timer(t);
        return;
    case MR_DEMUX_RTP:
        handle_srtp(t, buf, len, false);
        return;
    case MR_DEMUX_RTCP:
        handle_srtp(t, buf, len, true);
        return;
    default:
        COUNT(t, unknown_in, 1);
        return;
    }
}

static void start_dtls_client(struct mr_transport *t)
{
    if (t->role == MR_DTLS_CLIENT && t->dtls && t->ice_connected && !t->dtls_started) {
        t->dtls_started = true;
        mr_dtls_start(t->dtls);
        arm_dtls_timer(t);
    }
}

static void ice_state(void *user, enum mr_ice_state st)
{
    struct mr_transport *t = user;
    switch (st) {
    case MR_ICE_CHECKING:
        /* An ICE restart re-runs checks under a secure session: media
         * keeps its keys, so the transport stays SECURE meanwhile. */
        if (t->state != MR_TRANSPORT_SECURE)
            set_state(t, MR_TRANSPORT_CONNECTING, NULL);
        break;
    case MR_ICE_CONNECTED:
        t->ice_connected = true;
        send_held(t);
        if (t->state != MR_TRANSPORT_SECURE)
            set_state(t, MR_TRANSPORT_CONNECTING, NULL);
        start_dtls_client(t);
        break;
    case MR_ICE_FAILED:
        set_state(t, MR_TRANSPORT_FAILED,
                  t->ice_connected ? "ICE keepalive checks unanswered"
                                   : "ICE connectivity checks failed");
        break;
    case MR_ICE_NEW:
        break;
    }
}

static void ice_gathered(void *user)
{
    struct mr_transport *t = user;
    t->ops->gathered(t->user);
}

static void ice_candidate(void *user, const char *line)
{
    struct mr_transport *t = user;
    if (t->ops->candidate)
        t->ops->candidate(t->user, line);
}

static void ice_pair(void *user)
{
    struct mr_transport *t = user;
    if (t->ops->pair)
        t->ops->pair(t->user);
}

static const struct mr_ice_ops ice_ops = {
    .pair = ice_pair,
    .recv = ice_recv,
    .state = ice_state,
    .gathered = ice_gathered,
    .candidate = ice_candidate,
};

/* --- Public API --------------------------------------------------------- */

int mr_transport_new(const struct mr_transport_config *cfg, const struct mr_transport_ops *ops,
                     void *user, struct mr_transport **out)
{
    int rc = mr_srtp_global_init();
    if (rc < 0)
        return rc;
    struct mr_transport *t = calloc(1, sizeof(*t));
    if (!t)
        return MR_ENOMEM;
    t->ctx = cfg->ctx;
    t->aggregate = cfg->aggregate;
    t->ops = ops;
    t->user = user;
    t->fingerprint = mr_dtls_identity_fingerprint(cfg->identity);
    t->log_rl = (struct mr_ratelimit)MR_RATELIMIT_INIT(1000000, 5);
    t->identity = cfg->identity;
    t->watch = cfg->liveness;
    t->live_link.look = live_look;
    t->qlink = (struct mr_sendq_link)MR_SENDQ_LINK_INIT;
    rc = mr_ice_new(cfg->ctx, &cfg->ice, &ice_ops, t, &t->ice);
    if (rc < 0) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void mr_transport_free(struct mr_transport *t)
{
    if (!t)
        return;
    stop_source(&t->dtls_timer);
    mr_watch_unlink(t->watch, &t->live_link);
    if (t->sendq)
        mr_sendq_flush_one(t->sendq, &t->qlink);
    mr_ice_free(t->ice);
    mr_dtls_free(t->dtls);
    mr_srtp_free(t->srtp);
    g_free(t->held);
    free(t);
}

int mr_transport_gather(struct mr_transport *t)
{
    return mr_ice_gather(t->ice);
}

void mr_transport_local_credentials(struct mr_transport *t, char *ufrag, char *pwd)
{
    mr_ice_local_credentials(t->ice, ufrag, pwd);
}

unsigned mr_transport_local_candidates(struct mr_transport *t,
                                       char (*lines)[MR_ICE_CANDIDATE_MAX], unsigned max)
{
    return mr_ice_local_candidates(t->ice, lines, max);
}

const char *mr_transport_fingerprint(const struct mr_transport *t)
{
    return t->fingerprint;
}

int mr_transport_set_remote(struct mr_transport *t, const struct mr_transport_remote *r)
{
    if (t->remote_set)
        return MR_ESTATE;
    if (!r->ice_ufrag || !r->ice_pwd || !r->ice_ufrag[0] || !r->ice_pwd[0])
        return MR_EINVAL;
    int rc = mr_dtls_new(t->identity, r->local_role, &dtls_ops, t, &t->dtls);
    if (rc < 0)
        return rc;
    t->role = r->local_role;
    rc = mr_dtls_set_remote_fingerprint(t->dtls, r->fingerprint_alg, r->fingerprint,
                                        r->fingerprint_len);
    if (rc == 0)
        rc = mr_ice_set_remote_credentials(t->ice, r->ice_ufrag, r->ice_pwd);
    if (rc < 0) {
        mr_dtls_free(t->dtls);
        t->dtls = NULL;
        return rc;
    }
    if (t->role == MR_DTLS_SERVER)
        mr_dtls_start(t->dtls);
    t->remote_set = true;
    start_dtls_client(t);
    return 0;
}

int mr_transport_restart_ice(struct mr_transport *t, const char *ufrag, const char *pwd)
{
    if (!t->remote_set)
        return MR_ESTATE;
    return mr_ice_restart(t->ice, ufrag, pwd);
}

int mr_transport_restart_ice_local(struct mr_transport *t)
{
    if (!t->remote_set)
        return MR_ESTATE;
    return mr_ice_restart_local(t->ice);
}

int mr_transport_set_remote_ice(struct mr_transport *t, const char *ufrag, const char *pwd)
{
    if (!t->remote_set)
        return MR_ESTATE;
    return mr_ice_set_remote_credentials(t->ice, ufrag, pwd);
}

int mr_transport_add_remote_candidate(struct mr_transport *t, const char *line)
{
    return mr_ice_add_remote_candidate(t->ice, line);
}

void mr_transport_remote_candidates_done(struct mr_transport *t)
{
    mr_ice_remote_gathering_done(t->ice);
}

/* SRTP or SRTCP in place; *len grows by the tag (and the SRTCP index). */
static int protect(struct mr_transport *t, uint8_t *buf, size_t *len, size_t cap, bool rtcp)
{
    if (!t->srtp)
        return MR_ESTATE;
    return rtcp ? mr_srtp_protect_rtcp(t->srtp, buf, len, cap)
                : mr_srtp_protect_rtp(t->srtp, buf, len, cap);
}

static int send_protected(struct mr_transport *t, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
    int rc = protect(t, buf, &len, cap, rtcp);
    if (rc < 0)
        return rc;
    rc = mr_ice_send(t->ice, buf, len);
    if (rc == MR_EBUSY) {
        COUNT(t, tcp_dropped, 1);
        return rc;
    }
    if (rc < 0) {
        COUNT(t, send_errors, 1);
        return rc;
    }
    if (rtcp)
        COUNT(t, rtcp_out, 1);
    else
        COUNT(t, rtp_out, 1);
    COUNT(t, bytes_out, len);
    return 0;
}

int mr_transport_queue_rtp(struct mr_transport *t, struct mr_sendq *q, uint8_t *buf, size_t len,
                           size_t cap)
{
    int rc = protect(t, buf, &len, cap, false);
    if (rc < 0)
        return rc;
    /* A transport queues on one thread's queue only: its own. */
    if (t->sendq && t->sendq != q)
        mr_sendq_flush_one(t->sendq, &t->qlink);
    t->sendq = q;
    mr_sendq_commit(q, t, &t->qlink, len);
    return 0;
}

void mr_transport_count_queued(struct mr_transport *t, unsigned n, unsigned sent, size_t bytes)
{
    COUNT(t, rtp_out, sent);
    COUNT(t, bytes_out, bytes);
    /* On a TCP pair the rest of a batch is dropped once one datagram is:
     * the connection is still draining (mr_ice_send). */
    if (sent < n && mr_ice_on_tcp(t->ice))
        COUNT(t, tcp_dropped, n - sent);
    else if (sent < n)
        COUNT(t, send_errors, n - sent);
}

void mr_transport_send_queued(struct mr_transport *t, const struct iovec *iov, unsigned n)
{
    unsigned sent = mr_ice_send_batch(t->ice, iov, n);
    size_t bytes = 0;
    for (unsigned i = 0; i < sent; i++)
        bytes += iov[i].iov_len;
    mr_transport_count_queued(t, n, sent, bytes);
}

int mr_transport_stage_queued(struct mr_transport *t, struct mr_ice_uring *u,
                              const struct iovec *iov, unsigned n)
{
    return mr_ice_uring_stage(u, t->ice, iov, n);
}

int mr_transport_send_rtp(struct mr_transport *t, uint8_t *buf, size_t len, size_t cap)
{
    return send_protected(t, buf, len, cap, false);
}

int mr_transport_send_rtcp(struct mr_transport *t, uint8_t *buf, size_t len, size_t cap)
{
    return send_protected(t, buf, len, cap, true);
}

enum mr_transport_state mr_transport_state(const struct mr_transport *t)
{
    return t->state;
}

const struct mr_transport_stats *mr_transport_stats(const struct mr_transport *t)
{
    return &t->stats;
}

const char *mr_transport_srtp_profile(const struct mr_transport *t)
{
    return t->srtp ? mr_srtp_profile_name(t->profile) : "";
}

const char *mr_transport_dtls_cipher(const struct mr_transport *t)
{
    return t->dtls ? mr_dtls_cipher(t->dtls) : "";
}

const char *mr_transport_dtls_version(const struct mr_transport *t)
{
    return t->dtls ? mr_dtls_version(t->dtls) : "";
}

void mr_transport_describe_pair(struct mr_transport *t, char *out, size_t cap)
{
    mr_ice_describe_pair(t->ice, out, cap);
}

void mr_transport_pair_info(struct mr_transport *t, struct mr_ice_pair_info *out)
{
    mr_ice_pair_info(t->ice, out);
}

int mr_transport_rx_queued(struct mr_transport *t, int *limit)
{
    return mr_ice_rx_queued(t->ice, limit);
}

void mr_transport_close(struct mr_transport *t)
{
    if (t->dtls)
        mr_dtls_close(t->dtls);
}
