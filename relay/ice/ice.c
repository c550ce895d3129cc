#include "ice/ice.h"

#include <nice/agent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "core/log.h"
#include "ice/ice_direct.h"

struct mr_ice {
    NiceAgent *agent;
    NiceAddress announce; /* its family is 0 when there is none */
    guint stream_id;
    GMainContext *ctx;
    const struct mr_ice_ops *ops;
    void *user;
    enum mr_ice_state state;
    bool gathering_done;
    bool tcp_pair; /* the selected pair is ICE-TCP */
    struct mr_ice_direct direct; /* the selected UDP pair's socket (ice_direct.h) */
    int rcvbuf;                  /* asked for on that socket; 0: the system's */
};

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                    gpointer data)
{
    struct mr_ice *ice = data;
    (void)agent;
    (void)stream_id;
    (void)component_id;
    ice->ops->recv(ice->user, (const uint8_t *)buf, len);
}

struct mr_ice_direct *mr_ice_direct_of(struct mr_ice *ice)
{
    return &ice->direct;
}

/* Follows libnice's selected pair, and sizes its socket's receive buffer. */
static void refresh_direct(struct mr_ice *ice)
{
    mr_ice_direct_refresh(&ice->direct, ice->agent, ice->stream_id);
    if (ice->rcvbuf > 0) {
        int granted = mr_ice_direct_set_rcvbuf(&ice->direct, ice->rcvbuf);
        if (granted && granted < ice->rcvbuf)
            mr_log_debug(ICE, "receive buffer %d bytes (asked for %d)", granted, ice->rcvbuf);
    }
}

static void on_state_changed(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                             gpointer data)
{
    struct mr_ice *ice = data;
    enum mr_ice_state next = ice->state;
    (void)stream_id;
    (void)component_id;
    switch (state) {
    case NICE_COMPONENT_STATE_GATHERING:
    case NICE_COMPONENT_STATE_CONNECTING:
        next = MR_ICE_CHECKING;
        break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        next = MR_ICE_CONNECTED;
        break;
    case NICE_COMPONENT_STATE_FAILED:
        next = MR_ICE_FAILED;
        break;
    default:
        return;
    }
    /* The direct path follows libnice's pair only while the component is
     * usable: leaving CONNECTED/READY (a failure, a restart) stops it. */
    if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY)
        refresh_direct(ice);
    else
        mr_ice_direct_clear(&ice->direct);
    if (next == ice->state)
        return;
    ice->state = next;
    ice->ops->state(ice->user, next);
}

static void on_selected_pair(NiceAgent *agent, guint stream_id, guint component_id,
                             NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
    struct mr_ice *ice = data;
    (void)stream_id;
    (void)component_id;
    (void)remote;
    (void)agent;
    ice->tcp_pair = local->transport != NICE_CANDIDATE_TRANSPORT_UDP;
    if (ice->state == MR_ICE_CONNECTED)
        refresh_direct(ice);
    if (ice->ops->pair)
        ice->ops->pair(ice->user);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data)
{
    struct mr_ice *ice = data;
    (void)agent;
    (void)stream_id;
    if (ice->gathering_done)
        return;
    ice->gathering_done = true;
    ice->ops->gathered(ice->user);
}

/* A local candidate as the peer should see it, "candidate:..." (no "a=")
 * in out; false when it does not fit. Behind a 1:1 NAT a host candidate
 * carries the announced address, with its own port: the NAT forwards that
 * port to this one. */
static bool candidate_line(struct mr_ice *ice, const NiceCandidate *cand, char *out)
{
    NiceCandidate *c = nice_candidate_copy(cand);
    if (ice->announce.s.addr.sa_family && c->type == NICE_CANDIDATE_TYPE_HOST &&
        c->addr.s.addr.sa_family == ice->announce.s.addr.sa_family) {
        guint port = nice_address_get_port(&c->addr);
        c->addr = ice->announce;
        nice_address_set_port(&c->addr, port);
        c->base_addr = c->addr; /* or libnice writes the bound one as raddr */
    }
    gchar *sdp = nice_agent_generate_local_candidate_sdp(ice->agent, c);
    nice_candidate_free(c);
    /* libnice writes "a=candidate:..."; callers want the value only. */
    bool ok = sdp && g_str_has_prefix(sdp, "a=") && strlen(sdp + 2) < MR_ICE_CANDIDATE_MAX;
    if (ok)
        memcpy(out, sdp + 2, strlen(sdp + 2) + 1);
    g_free(sdp);
    return ok;
}

/* Host candidates are bound inside nice_agent_gather_candidates, before it
 * returns (and so are in every SDP written after mr_ice_gather); only the
 * ones that need a network round trip arrive later and are worth telling
 * the peer about one by one. */
static void on_new_candidate(NiceAgent *agent, NiceCandidate *cand, gpointer data)
{
    struct mr_ice *ice = data;
    char line[MR_ICE_CANDIDATE_MAX];
    (void)agent;
    if (!ice->ops->candidate || (cand->type != NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE &&
                                 cand->type != NICE_CANDIDATE_TYPE_RELAYED))
        return;
    if (candidate_line(ice, cand, line))
        ice->ops->candidate(ice->user, line);
}

#define ICE_STUN_RETRANSMISSIONS 5

static int configure_agent(struct mr_ice *ice, const struct mr_ice_config *cfg)
{
    NiceAddress addr;
    nice_address_init(&addr);
    if (!cfg->local_ip || !nice_address_set_from_string(&addr, cfg->local_ip))
        return MR_EINVAL;
    /* A connectivity check's STUN transaction is retransmitted after 0.5,
     * 1, 2, 4 and 8 s (libnice's default, 3, gives up after ~3.5 s): a
     * check the peer triggers during a clinic's uplink outage or a 4G
     * handover must outlive it, or libnice fails the pair and with it the
     * session (measured: a 3 s outage ended about one publisher in eight).
     * Keepalives are connectivity checks (answered, so libnice fails a
     * pair after 50 s without an answer), not indications. */
    g_object_set(ice->agent, "controlling-mode", cfg->controlling ? TRUE : FALSE, "ice-tcp",
                 cfg->tcp ? TRUE : FALSE, "upnp", FALSE, "stun-max-retransmissions",
                 (guint)ICE_STUN_RETRANSMISSIONS, "keepalive-conncheck", TRUE, NULL);
    /* libnice refuses to turn both off; only a test asks for TCP alone. */
    if (cfg->tcp && cfg->no_udp)
        g_object_set(ice->agent, "ice-udp", FALSE, NULL);
    if (cfg->announce_ip && cfg->announce_ip[0] &&
        !nice_address_set_from_string(&ice->announce, cfg->announce_ip))
        return MR_EINVAL;
    if (cfg->stun_ip && cfg->stun_ip[0])
        g_object_set(ice->agent, "stun-server", cfg->stun_ip, "stun-server-port",
                     (guint)cfg->stun_port, NULL);
    if (!nice_agent_add_local_address(ice->agent, &addr))
        return MR_EINVAL;
    if (cfg->local_ip6 && cfg->local_ip6[0]) {
        NiceAddress addr6;
        nice_address_init(&addr6);
        if (!nice_address_set_from_string(&addr6, cfg->local_ip6) ||
            !nice_agent_add_local_address(ice->agent, &addr6))
            return MR_EINVAL;
    }
    ice->stream_id = nice_agent_add_stream(ice->agent, 1);
    if (ice->stream_id == 0)
        return MR_ENOMEM;
    if (cfg->port_min)
        nice_agent_set_port_range(ice->agent, ice->stream_id, 1, cfg->port_min, cfg->port_max);
    return 0;
}

int mr_ice_new(GMainContext *ctx, const struct mr_ice_config *cfg, const struct mr_ice_ops *ops,
               void *user, struct mr_ice **out)
{
    struct mr_ice *ice = calloc(1, sizeof(*ice));
    if (!ice)
        return MR_ENOMEM;
    ice->ctx = ctx;
    ice->ops = ops;
    ice->user = user;
    ice->rcvbuf = cfg->rcvbuf;
    ice->state = MR_ICE_NEW;
    mr_ice_direct_clear(&ice->direct);
    nice_address_init(&ice->announce);
    /* No NICE_AGENT_OPTION_CONSENT_FRESHNESS: see ice.h. */
    ice->agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245,
                                     NICE_AGENT_OPTION_ICE_TRICKLE);
    if (!ice->agent) {
        free(ice);
        return MR_ENOMEM;
    }
    int rc = configure_agent(ice, cfg);
    if (rc < 0) {
        g_object_unref(ice->agent);
        free(ice);
        return rc;
    }
    g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_state_changed), ice);
    g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), ice);
    g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), ice);
    g_signal_connect(ice->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), ice);
    nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ctx, on_recv, ice);
    *out = ice;
    return 0;
}

void mr_ice_free(struct mr_ice *ice)
{
    if (!ice)
        return;
    /* Detach every callback first: the agent may outlive this call while
     * its own pending sources drain, and must not call into freed memory. */
    nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->ctx, NULL, NULL);
    g_signal_handlers_disconnect_by_data(ice->agent, ice);
    mr_ice_direct_clear(&ice->direct);
    nice_agent_remove_stream(ice->agent, ice->stream_id);
    g_object_unref(ice->agent);
    free(ice);
}

/* Send buffer of ICE-TCP connections, set on the passive (listening)
 * sockets, whose accepted connections inherit it (the kernel doubles it and
 * stops autotuning it). libnice drops a datagram only once it is full:
 * autotuned up to tcp_wmem's 4 MiB (13 s of 2.5 Mbit/s), a viewer whose
 * link falls behind got ever later media instead of losses that NACKs and
 * key frames repair (measured: a viewer stalled 10 s got everything 10 s
 * late). 128 KiB asked, 256 KiB granted: about 0.8 s at 2.5 Mbit/s. */
#define ICE_TCP_SNDBUF (128 * 1024)

static void cap_tcp_sndbuf(struct mr_ice *ice)
{
    GPtrArray *socks = nice_agent_get_sockets(ice->agent, ice->stream_id, 1);
    for (guint i = 0; socks && i < socks->len; i++) {
        GSocket *s = g_ptr_array_index(socks, i);
        int bytes = ICE_TCP_SNDBUF;
        if (g_socket_get_protocol(s) == G_SOCKET_PROTOCOL_TCP &&
            setsockopt(g_socket_get_fd(s), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0)
            mr_log_debug(ICE, "cannot cap a TCP socket's send buffer");
    }
    if (socks)
        g_ptr_array_unref(socks);
}

int mr_ice_gather(struct mr_ice *ice)
{
    if (!nice_agent_gather_candidates(ice->agent, ice->stream_id))
        return MR_EIO;
    cap_tcp_sndbuf(ice);
    return 0;
}

void mr_ice_local_credentials(struct mr_ice *ice, char *ufrag, char *pwd)
{
    gchar *u = NULL, *p = NULL;
    ufrag[0] = pwd[0] = '\0';
    if (nice_agent_get_local_credentials(ice->agent, ice->stream_id, &u, &p)) {
        snprintf(ufrag, MR_ICE_CRED_MAX, "%s", u);
        snprintf(pwd, MR_ICE_CRED_MAX, "%s", p);
    }
    g_free(u);
    g_free(p);
}

unsigned mr_ice_local_candidates(struct mr_ice *ice, char (*lines)[MR_ICE_CANDIDATE_MAX],
                                 unsigned max)
{
    GSList *cands = nice_agent_get_local_candidates(ice->agent, ice->stream_id, 1);
    unsigned n = 0;
    for (GSList *i = cands; i && n < max; i = i->next)
        if (candidate_line(ice, i->data, lines[n]))
            n++;
    g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
    return n;
}

int mr_ice_set_remote_credentials(struct mr_ice *ice, const char *ufrag, const char *pwd)
{
    return nice_agent_set_remote_credentials(ice->agent, ice->stream_id, ufrag, pwd) ? 0
                                                                                    : MR_EINVAL;
}

int mr_ice_restart_local(struct mr_ice *ice)
{
    mr_ice_direct_clear(&ice->direct);
    return nice_agent_restart_stream(ice->agent, ice->stream_id) ? 0 : MR_EINVAL;
}

int mr_ice_restart(struct mr_ice *ice, const char *remote_ufrag, const char *remote_pwd)
{
    int rc = mr_ice_restart_local(ice);
    return rc < 0 ? rc : mr_ice_set_remote_credentials(ice, remote_ufrag, remote_pwd);
}

int mr_ice_add_remote_candidate(struct mr_ice *ice, const char *line)
{
    char sdp[MR_ICE_CANDIDATE_MAX + 2];
    if (strncmp(line, "candidate:", 10) != 0 ||
        snprintf(sdp, sizeof(sdp), "a=%s", line) >= (int)sizeof(sdp))
        return MR_ENOTSUP;
    NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream_id, sdp);
    if (!c)
        return MR_ENOTSUP; /* mDNS names, unknown transports */
    int rc = MR_ENOTSUP;
    /* TCP candidates (RFC 6544: active, passive, simultaneous-open) only
     * when ICE-TCP is on; libnice pairs them with its own of the
     * matching kind. */
    gboolean tcp = FALSE;
    g_object_get(ice->agent, "ice-tcp", &tcp, NULL);
    if (c->component_id == 1 && (c->transport == NICE_CANDIDATE_TRANSPORT_UDP || tcp)) {
        GSList one = {.data = c, .next = NULL};
        rc = nice_agent_set_remote_candidates(ice->agent, ice->stream_id, 1, &one) > 0 ? 0
                                                                                      : MR_ENOTSUP;
    }
    nice_candidate_free(c);
    return rc;
}

void mr_ice_remote_gathering_done(struct mr_ice *ice)
{
    nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream_id);
}

int mr_ice_send(struct mr_ice *ice, const uint8_t *buf, size_t len)
{
    if (mr_ice_direct_on(&ice->direct))
        return mr_ice_direct_send(&ice->direct, buf, len);
    /* Not gated on our state: the peer may start DTLS as soon as its side
     * of a pair works, slightly before libnice reports CONNECTED here. */
    gint n = nice_agent_send(ice->agent, ice->stream_id, 1, (guint)len, (const gchar *)buf);
    if (n == (gint)len)
        return 0;
    /* On a TCP pair libnice drops a datagram (returns 0) while earlier
     * ones still wait for the connection to drain. */
    if (n == 0 && ice->tcp_pair && ice->state == MR_ICE_CONNECTED)
        return MR_EBUSY;
    return ice->state == MR_ICE_CONNECTED ? MR_EIO : MR_EAGAIN;
}

bool mr_ice_on_tcp(const struct mr_ice *ice)
{
    return ice->tcp_pair;
}

unsigned mr_ice_send_batch(struct mr_ice *ice, const struct iovec *iov, unsigned n)
{
    if (n > MR_ICE_BATCH_MAX)
        n = MR_ICE_BATCH_MAX;
    unsigned sent = 0;
    if (mr_ice_direct_on(&ice->direct)) {
        /* sendmmsg stops at the first datagram that fails; go on past a
         * short count until one fails outright. */
        int k;
        while (sent < n && (k = mr_ice_direct_send_batch(&ice->direct, iov + sent, n - sent)) > 0)
            sent += (unsigned)k;
        return sent;
    }
    while (sent < n && mr_ice_send(ice, iov[sent].iov_base, iov[sent].iov_len) == 0)
        sent++;
    return sent;
}

int mr_ice_rx_queued(struct mr_ice *ice, int *limit)
{
    return mr_ice_direct_rx_queued(&ice->direct, limit);
}

static const char *type_name(NiceCandidateType t)
{
    switch (t) {
    case NICE_CANDIDATE_TYPE_HOST:
        return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
        return "relay";
    }
    return "?";
}

static const char *transport_name(NiceCandidateTransport t)
{
    switch (t) {
    case NICE_CANDIDATE_TRANSPORT_UDP:
        return "udp";
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
        return "tcp-active";
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
        return "tcp-passive";
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
        return "tcp-so";
    }
    return "?";
}

void mr_ice_pair_info(struct mr_ice *ice, struct mr_ice_pair_info *out)
{
    NiceCandidate *local = NULL, *remote = NULL;
    *out = (struct mr_ice_pair_info){0};
    if (!nice_agent_get_selected_pair(ice->agent, ice->stream_id, 1, &local, &remote))
        return;
    out->known = true;
    out->tcp = local->transport != NICE_CANDIDATE_TRANSPORT_UDP;
    out->relayed = local->type == NICE_CANDIDATE_TYPE_RELAYED ||
                   remote->type == NICE_CANDIDATE_TYPE_RELAYED;
}

void mr_ice_describe_pair(struct mr_ice *ice, char *out, size_t cap)
{
    NiceCandidate *local = NULL, *remote = NULL;
    out[0] = '\0';
    if (!nice_agent_get_selected_pair(ice->agent, ice->stream_id, 1, &local, &remote))
        return;
    char la[NICE_ADDRESS_STRING_LEN], ra[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&local->addr, la);
    nice_address_to_string(&remote->addr, ra);
    snprintf(out, cap, "%s %s:%u -> %s:%u (%s/%s)", transport_name(local->transport), la,
             nice_address_get_port(&local->addr), ra, nice_address_get_port(&remote->addr),
             type_name(local->type), type_name(remote->type));
}
