/*
 * ICE (RFC 8445) for one bundled, rtcp-muxed media transport, on libnice.
 * This is the only module that includes libnice.
 *
 * Full ICE: the relay answers offers, so it is normally the controlled agent;
 * the test peer, which makes offers, is controlling. Host candidates are
 * gathered on the configured media address only (libnice never gathers
 * loopback by itself), in the configured UDP port range, plus a server-
 * reflexive candidate when a STUN server is configured.
 *
 * Failure (MR_ICE_FAILED), as libnice 0.1.21 decides it:
 *  - libnice's consent freshness (RFC 7675) is off. In 0.1.21 it sends
 *    one check every 4-6 s, never retransmits it, and fails the pair 10 s
 *    after the last answer (NICE_AGENT_TIMER_CONSENT_TIMEOUT, a third of
 *    the RFC's 30 s): one or two checks lost on a lossy uplink ended
 *    sessions that carried media well (about half of those through a 3 s
 *    outage). Keepalive connectivity checks go out at the same pace
 *    instead, and libnice fails the pair 50 s after the last answer
 *    (NICE_AGENT_TIMER_KEEPALIVE_TIMEOUT). A peer that vanishes is found
 *    sooner, within about 30 s, by the transport's liveness rule
 *    (transport/liveness.h); the peer's own checks are answered as before;
 *  - connectivity checks that never succeed fail once every pair has
 *    failed (STUN retransmissions from 500 ms, then libnice's 5 s idle
 *    timeout): about 8 s after the peer's candidates arrive;
 *  - an agent never given a remote candidate (none in the offer, none
 *    trickled) has no pair to fail and waits for ever: the relay's peers
 *    give up on a connection that is not secure after 30 s
 *    (MR_PEER_CONNECT_S, relay/sfu/peer.c).
 *
 * Threads: an agent runs on the GMainContext given at creation (a media
 * worker's); every call and callback happens on that context's thread.
 */
#ifndef MR_ICE_ICE_H
#define MR_ICE_ICE_H

#include <glib.h>
#include <sys/uio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_ICE_CANDIDATE_MAX 256 /* one "candidate:..." line, with NUL */
#define MR_ICE_CRED_MAX 257

struct mr_ice_config {
    const char *local_ip;     /* host candidates are gathered here only */
    const char *local_ip6;    /* and here (an IPv6 address); NULL or "": not */
    uint16_t port_min;        /* 0: any port */
    uint16_t port_max;
    const char *stun_ip;      /* numeric address or NULL */
    uint16_t stun_port;
    bool controlling;
    /* Receive buffer asked for the selected pair's socket, in bytes (0: the
     * system's). A publisher's socket must hold a key frame's burst while
     * its worker is busy fanning the previous packets out. */
    int rcvbuf;
    /* Written into the host candidates of local_ip's family instead of
     * the bound address (the relay behind a 1:1 NAT); NULL or "": none. */
    const char *announce_ip;
    /* ICE-TCP (RFC 6544) as well: passive (and active) host candidates on
     * the same port range, and the peer's TCP candidates accepted. */
    bool tcp;
    /* UDP candidates; false only to test ICE-TCP alone. */
    bool no_udp;
};

enum mr_ice_state {
    MR_ICE_NEW,
    MR_ICE_CHECKING,
    MR_ICE_CONNECTED, /* a pair works; media may flow */
    MR_ICE_FAILED,    /* checks failed, or keepalives unanswered for 50 s */
};

struct mr_ice_ops {
    /* A datagram that is not STUN. buf is libnice's, valid during the call. */
    void (*recv)(void *user, const uint8_t *buf, size_t len);
    void (*state)(void *user, enum mr_ice_state state);
    /* Local gathering finished; every local candidate is now known. */
    void (*gathered)(void *user);
    /* Optional (NULL: not told). A local candidate found after
     * mr_ice_gather returned: a server-reflexive (or relayed) one, as a
     * "candidate:..." line (no "a="), valid during the call. Host
     * candidates are all known when mr_ice_gather returns, so they are
     * never reported here; nor are peer-reflexive ones, which RFC 8445
     * §7.2.5.3.1 keeps from being signaled. */
    void (*candidate)(void *user, const char *line);
    /* Optional: libnice selected another pair (mr_ice_pair_info). */
    void (*pair)(void *user);
};

struct mr_ice;

/* Creates an agent with one stream and one component. Returns 0, MR_EINVAL
 * (bad address) or MR_ENOMEM. ops and user are borrowed. */
int mr_ice_new(GMainContext *ctx, const struct mr_ice_config *cfg, const struct mr_ice_ops *ops,
               void *user, struct mr_ice **out);
void mr_ice_free(struct mr_ice *ice);

/* Starts gathering; `gathered` fires when done (host-only: at once, on the
 * next loop iteration). The host candidates are known when it returns.
 * Returns 0 or MR_EIO (no port could be bound). */
int mr_ice_gather(struct mr_ice *ice);

/* Local credentials, NUL-terminated, at most MR_ICE_CRED_MAX - 1 bytes. */
void mr_ice_local_credentials(struct mr_ice *ice, char *ufrag, char *pwd);

/* Writes up to max local candidates as "candidate:..." lines (no "a=").
 * Returns how many were written. */
unsigned mr_ice_local_candidates(struct mr_ice *ice, char (*lines)[MR_ICE_CANDIDATE_MAX],
                                 unsigned max);

int mr_ice_set_remote_credentials(struct mr_ice *ice, const char *ufrag, const char *pwd);

/* ICE restart (RFC 8445 §9): new local credentials, the peer's new ones,
 * fresh connectivity checks; local candidates are kept. Remote candidates
 * must be added again afterwards. Returns 0 or MR_EINVAL. */
int mr_ice_restart(struct mr_ice *ice, const char *remote_ufrag, const char *remote_pwd);
/* Only the local half: new local credentials and fresh checks, the peer's
 * credentials set later (mr_ice_set_remote_credentials). */
int mr_ice_restart_local(struct mr_ice *ice);

/* Adds one remote candidate from a "candidate:..." line. Candidates the
 * agent cannot use (TCP without ICE-TCP, mDNS names, other components,
 * unparseable) are skipped: returns MR_ENOTSUP for those, 0 when added. */
int mr_ice_add_remote_candidate(struct mr_ice *ice, const char *line);

/* The peer has sent all its candidates (a=end-of-candidates). */
void mr_ice_remote_gathering_done(struct mr_ice *ice);

/* Sends one datagram on the selected pair. Returns 0, MR_EAGAIN when no pair
 * is selected yet or the socket buffer is full, MR_EBUSY when a TCP pair
 * dropped it (earlier datagrams still wait to drain: libnice never queues
 * a datagram behind them), or MR_EIO. */
int mr_ice_send(struct mr_ice *ice, const uint8_t *buf, size_t len);
/* Whether the selected pair is ICE-TCP. */
bool mr_ice_on_tcp(const struct mr_ice *ice);

/* How the selected pair connects, for the operator. */
struct mr_ice_pair_info {
    bool known;   /* a pair is selected */
    bool tcp;     /* ICE-TCP (else UDP) */
    bool relayed; /* either end is a TURN relay candidate */
};
void mr_ice_pair_info(struct mr_ice *ice, struct mr_ice_pair_info *out);

/* Most datagrams mr_ice_send_batch takes in one call. */
#define MR_ICE_BATCH_MAX 32

/* Sends n datagrams (iov[i] each) on the selected pair, in order: one
 * sendmmsg on a UDP pair, one by one otherwise (TCP, TURN). Returns how
 * many went (0..n; the rest are dropped by the caller), never more than
 * MR_ICE_BATCH_MAX. */
unsigned mr_ice_send_batch(struct mr_ice *ice, const struct iovec *iov, unsigned n);

/* The selected pair as "udp 127.0.0.1:5000 -> 127.0.0.1:6000 (host/host)"
 * into out; "" when none. */
/* Bytes waiting unread on the selected UDP pair's socket (kernel
 * accounting) and its limit; -1 without a direct UDP path. */
int mr_ice_rx_queued(struct mr_ice *ice, int *limit);

void mr_ice_describe_pair(struct mr_ice *ice, char *out, size_t cap);

#endif
