/* A peer on its media worker: transport set-up, answer, life and death. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "sfu/downlink.h"
#include "sfu/sfu_priv.h"

#define ANSWER_MAX 16384

static const char *kind_word(const struct mr_peer *p)
{
    return p->kind == MR_SESSION_PUBLISH ? "publisher" : "subscriber";
}

/* --- Transport callbacks ------------------------------------------------ */

static void on_rtp(void *user, uint8_t *buf, size_t len)
{
    struct mr_peer *p = user;
    if (p->kind == MR_SESSION_PUBLISH && !p->dead && p->attached)
        mr_forward_rtp(p, buf, len);
}

static void on_rtcp(void *user, uint8_t *buf, size_t len)
{
    struct mr_peer *p = user;
    if (p->dead)
        return;
    if (p->kind == MR_SESSION_PUBLISH)
        mr_rtcp_from_publisher(p, buf, len);
    else
        mr_rtcp_from_subscriber(p, buf, len);
}

/* How the peer is connected now, for the operator (conn_shared). */
static void share_conn(struct mr_peer *p)
{
    struct mr_ice_pair_info info;
    mr_transport_pair_info(p->transport, &info);
    int v = (info.known ? MR_PEER_CONN_KNOWN : 0) | (info.tcp ? MR_PEER_CONN_TCP : 0) |
            (info.relayed ? MR_PEER_CONN_RELAYED : 0);
    __atomic_store_n(&p->conn_shared, v, __ATOMIC_RELAXED);
}

static void on_pair(void *user)
{
    struct mr_peer *p = user;
    if (!p->dead && p->transport)
        share_conn(p);
}

static void log_secure(struct mr_peer *p)
{
    char pair[160];
    mr_transport_describe_pair(p->transport, pair, sizeof(pair));
    mr_log_info(SFU, "%s %.8s: secure after %lld ms (%s, %s %s, %s)", kind_word(p), p->id,
                (long long)((p->secure_us - p->created_us) / 1000),
                mr_transport_srtp_profile(p->transport), mr_transport_dtls_version(p->transport),
                mr_transport_dtls_cipher(p->transport), pair);
}

static void stop_deadline(struct mr_peer *p)
{
    if (p->connect_deadline) {
        g_source_destroy(p->connect_deadline);
        g_source_unref(p->connect_deadline);
        p->connect_deadline = NULL;
    }
}

/* The peer is gone (its transport failed or closed, or it never
 * connected): no more media, and the control thread hears of it. */
static void peer_fail(struct mr_peer *p, const char *why)
{
    mr_log_info(SFU, "%s %.8s: %s", kind_word(p), p->id, why);
    p->dead = true;
    stop_deadline(p);
    mr_congestion_free(p);
    mr_downlink_free(p);
    if (p->bundle)
        mr_bundle_detach_all(p);
    else
        mr_stream_detach(p->stream, p);
    if (p->answered) {
        mr_relay_peer_failed(p, why);
    } else {
        p->answered = true;
        mr_relay_peer_answered(p, MR_EIO, "the media transport failed", NULL, 0);
    }
}

static void on_state(void *user, enum mr_transport_state st, const char *why)
{
    struct mr_peer *p = user;
    if (p->dead)
        return;
    if (st == MR_TRANSPORT_SECURE) {
        p->secure_us = mr_clock_mono_us();
        stop_deadline(p);
        log_secure(p);
        share_conn(p);
        if (p->bundle)
            mr_bundle_attach_all(p);
        else
            mr_stream_attach(p->stream, p);
    } else if (st == MR_TRANSPORT_FAILED || st == MR_TRANSPORT_CLOSED) {
        peer_fail(p, why ? why : "transport closed");
    }
}

/* A client that never sends a candidate (none in its offer, no PATCH)
 * gives ICE nothing to check, so ICE never fails it: without this it
 * would hold its session for ever. */
static gboolean connect_deadline(gpointer data)
{
    struct mr_peer *p = data;
    g_source_unref(p->connect_deadline);
    p->connect_deadline = NULL;
    if (!p->dead && !p->secure_us)
        peer_fail(p, "no secure connection within " G_STRINGIFY(MR_PEER_CONNECT_S) " s");
    return G_SOURCE_REMOVE;
}

static void arm_deadline(struct mr_peer *p)
{
    p->connect_deadline = g_timeout_source_new_seconds(MR_PEER_CONNECT_S);
    g_source_set_callback(p->connect_deadline, connect_deadline, p, NULL);
    g_source_attach(p->connect_deadline, p->worker->ctx);
}

/* Writes the answer (or, for a room subscription, hands the control
 * thread what its offer needs) with the local candidates known now. */
static void announce(struct mr_peer *p)
{
    if (p->bundle) {
        p->answered = true; /* the relay offers: its offer is the "answer" */
        mr_bundle_gathered(p);
        return;
    }
    char *answer = malloc(ANSWER_MAX);
    int n = answer ? mr_answer_write(p, answer, ANSWER_MAX) : MR_ENOMEM;
    mr_plan_free(p->plan);
    p->plan = NULL;
    p->answered = true;
    if (n < 0) {
        free(answer);
        p->dead = true;
        mr_relay_peer_answered(p, n, "could not write the SDP answer", NULL, 0);
        return;
    }
    mr_relay_peer_answered(p, 0, NULL, answer, (size_t)n);
}

static void on_gathered(void *user)
{
    struct mr_peer *p = user;
    if (p->dead)
        return;
    p->gathered = true;
    if (p->trickle) {
        /* The answer went out with the host candidates, the others
         * followed one by one: now say there are no more. */
        if (p->answered)
            mr_relay_peer_candidate(p, NULL);
        return;
    }
    if (!p->answered) /* a failure may already have produced the (error) answer */
        announce(p);
}

static void on_candidate(void *user, const char *line)
{
    struct mr_peer *p = user;
    /* Without trickle the answer waits for gathering and carries it. */
    if (p->trickle && p->answered && !p->dead)
        mr_relay_peer_candidate(p, line);
}

static const struct mr_transport_ops transport_ops = {
    .rtp = on_rtp,
    .rtcp = on_rtcp,
    .state = on_state,
    .gathered = on_gathered,
    .candidate = on_candidate,
    .pair = on_pair,
};

/* --- Set-up ------------------------------------------------------------- */

/* The plan's accepted sections become the peer's sources (a publisher)
 * or receivers (a subscriber), allocated to size: a subscriber carries
 * only what it receives. */
static int setup_tracks(struct mr_peer *p)
{
    const struct mr_plan *plan = p->plan;
    bool pub = p->kind == MR_SESSION_PUBLISH;
    if (plan->n_tracks == 0)
        return 0;
    if (pub)
        p->sources = calloc(plan->n_tracks, sizeof(*p->sources));
    else
        p->receivers = calloc(plan->n_tracks, sizeof(*p->receivers));
    if (!p->sources && !p->receivers)
        return MR_ENOMEM;
    for (unsigned i = 0; i < plan->offer->n_media; i++) {
        const struct mr_plan_media *pm = &plan->media[i];
        const struct mr_sdp_media *m = &plan->offer->media[i];
        if (!pm->accepted)
            continue;
        if (pub) {
            mr_source_init(&p->sources[pm->track], m, &pm->codec, &pm->ext, pm->layers,
                           pm->n_layers);
            p->n_sources++;
            continue;
        }
        struct mr_receiver *rx = &p->receivers[p->n_receivers];
        rx->kind = m->kind;
        memcpy(rx->mid, m->mid, sizeof(rx->mid));
        rx->codec = pm->codec;
        rx->ext = pm->ext;
        rx->layer_cap = (uint8_t)p->layer_cap;
        mr_receiver_init(rx, p->receivers, p->n_receivers);
        p->n_receivers++;
    }
    return 0;
}

/* Hands remote candidates (from the offer or a trickle fragment) to ICE. */
void mr_peer_add_remote_candidates(struct mr_peer *p, const struct mr_sdp_candidate *cands,
                                  unsigned n, bool end_of_candidates)
{
    for (unsigned i = 0; i < n; i++) {
        char line[MR_ICE_CANDIDATE_MAX];
        if (mr_sdp_write_candidate(&cands[i], line, sizeof(line)) > 0)
            mr_transport_add_remote_candidate(p->transport, line);
    }
    if (end_of_candidates)
        mr_transport_remote_candidates_done(p->transport);
}

static int apply_remote(struct mr_peer *p)
{
    const struct mr_sdp_media *m = &p->plan->offer->media[p->plan->transport_m];
    struct mr_transport_remote r = {
        .ice_ufrag = m->ice_ufrag,
        .ice_pwd = m->ice_pwd,
        .fingerprint_alg = m->fingerprint_alg,
        .fingerprint = m->fingerprint,
        .fingerprint_len = m->fingerprint_len,
        /* RFC 8842 §5.3: an offerer says actpass (or active), so we take
         * the passive role, i.e. the DTLS server; only a passive offerer
         * makes us the client. */
        .local_role = m->setup == MR_SETUP_PASSIVE ? MR_DTLS_CLIENT : MR_DTLS_SERVER,
    };
    int rc = mr_transport_set_remote(p->transport, &r);
    if (rc == 0)
        mr_peer_add_remote_candidates(p, m->candidates, m->n_candidates, m->end_of_candidates);
    return rc;
}

#define PUBLISHER_RCVBUF (1 << 20)

static int create_transport(struct mr_peer *p)
{
    const struct mr_config *cfg = mr_relay_config(p->relay);
    struct mr_transport_config tc = {
        .ctx = mr_worker_context_for(p->worker, p->kind == MR_SESSION_SUBSCRIBE),
        .aggregate = &p->worker->transport,
        .identity = mr_relay_identity(p->relay),
        .ice =
            {
                .local_ip = cfg->media_ip,
                .local_ip6 = cfg->media_ipv6,
                .port_min = cfg->udp_port_min,
                .port_max = cfg->udp_port_max,
                .stun_ip = mr_relay_stun_ip(p->relay),
                .stun_port = cfg->stun_port,
                /* RFC 8445 §6.1.1: the offerer controls. The relay answers
                 * WHIP and WHEP, and offers to room subscriptions. */
                .controlling = p->bundle != NULL,
                /* A key frame at a few Mbit/s is tens of datagrams in a few
                 * ms, arriving while the worker fans the previous ones out
                 * (at 1 -> 200 a packet costs it ~2 ms): room for ~450 of
                 * them, where the system's default holds ~90. Subscribers
                 * only receive RTCP. */
                .rcvbuf = p->kind == MR_SESSION_PUBLISH ? PUBLISHER_RCVBUF : 0,
                .announce_ip = cfg->announce_ip,
                .tcp = cfg->ice_tcp,
            },
        .liveness = p->worker->liveness,
    };
    int rc = mr_transport_new(&tc, &transport_ops, p, &p->transport);
    if (rc == 0 && p->plan)
        rc = apply_remote(p);
    if (rc == 0)
        rc = mr_transport_gather(p->transport);
    return rc;
}

void mr_peer_start(void *data)
{
    struct mr_peer *p = data;
    if (p->dead)
        return; /* cancelled before it started; destroy follows */
    p->created_us = mr_clock_mono_us();
    g_atomic_int_inc(&p->worker->peers);
    int rc = p->plan ? setup_tracks(p) : 0;
    p->sink = (struct mr_sink){
        .peer = p, .receivers = p->receivers, .n_receivers = p->n_receivers, .cname = p->cname};
    if (rc == 0)
        rc = create_transport(p);
    if (rc == 0 && p->kind == MR_SESSION_PUBLISH)
        mr_congestion_setup(p);
    if (rc == 0 && !p->bundle)
        arm_deadline(p);
    if (rc < 0) {
        mr_log_error(SFU, "%s %.8s: cannot set up the transport: %s", kind_word(p), p->id,
                     mr_strerror(rc));
        p->dead = true;
        p->answered = true;
        mr_plan_free(p->plan);
        p->plan = NULL;
        mr_relay_peer_answered(p, rc, "the relay could not open a media transport", NULL, 0);
        return;
    }
    /* Trickle: the host candidates are known now; the answer need not wait
     * for the STUN server (gathering ends with end-of-candidates, which
     * follows the answer at once when gathering is over already: host
     * candidates only). */
    if (p->trickle) {
        announce(p);
        if (p->gathered && !p->dead)
            mr_relay_peer_candidate(p, NULL);
    }
}

void mr_peer_destroy(void *data)
{
    struct mr_peer *p = data;
    p->dead = true;
    stop_deadline(p);
    mr_congestion_free(p); /* its timer holds p */
    mr_downlink_free(p);   /* so does its pacer */
    if (p->bundle)
        mr_bundle_free(p);
    else
        mr_stream_detach(p->stream, p);
    if (p->transport) {
        mr_transport_close(p->transport);
        mr_transport_free(p->transport);
    }
    mr_plan_free(p->plan);
    if (p->created_us)
        g_atomic_int_add(&p->worker->peers, -1);
    mr_log_debug(SFU, "%s %.8s: destroyed", kind_word(p), p->id);
    if (p->stream)
        mr_stream_unref(p->stream);
    mr_sources_free(p->sources, p->n_sources);
    free(p->receivers);
    free(p);
}

void mr_peer_trickle(struct mr_peer *p, struct mr_sdp_frag *frag)
{
    if (p->bundle && !p->dead && mr_bundle_queue_trickle(p, frag))
        return; /* before the client's answer: kept until then */
    if (!p->dead && p->transport)
        mr_peer_add_remote_candidates(p, frag->candidates, frag->n_candidates, frag->end_of_candidates);
    free(frag);
}

#define FRAG_MAX 4096

void mr_peer_restart_ice(struct mr_peer *p, struct mr_sdp_frag *frag)
{
    char *text = NULL;
    int n = MR_ESTATE;
    if (!p->dead && p->transport)
        n = mr_transport_restart_ice(p->transport, frag->ice_ufrag, frag->ice_pwd);
    if (n == 0) {
        mr_log_info(SFU, "%s %.8s: ICE restart", kind_word(p), p->id);
        mr_peer_trickle(p, frag); /* the new candidates; takes frag */
        frag = NULL;
        text = malloc(FRAG_MAX);
        n = text ? mr_answer_write_frag(p, text, FRAG_MAX) : MR_ENOMEM;
    }
    free(frag);
    if (n < 0) {
        free(text);
        mr_relay_peer_restarted(p, n, NULL, 0);
        return;
    }
    mr_relay_peer_restarted(p, 0, text, (size_t)n);
}
