/*
 * A secure media transport: ICE + DTLS + SRTP on one socket, demultiplexed
 * per RFC 7983. The same code serves the relay's peers (DTLS server,
 * ICE controlled) and the C test peer (DTLS client, ICE controlling).
 *
 * Threads: a transport lives on the GMainContext it was created with (one
 * media worker); all calls and callbacks happen on that thread.
 * Callbacks must not free the transport; defer that to an idle source.
 */
#ifndef MR_TRANSPORT_TRANSPORT_H
#define MR_TRANSPORT_TRANSPORT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls/dtls.h"
#include "ice/ice.h"
#include "transport/watch.h"

/* Largest datagram accepted or sent, and the buffer size for packets handed
 * to callbacks (room for SRTP overhead when re-protecting). */
#define MR_TRANSPORT_MTU 1500
#define MR_TRANSPORT_BUF 2048
#define MR_TRANSPORT_MAX_CANDIDATES 8

enum mr_transport_state {
    MR_TRANSPORT_NEW,
    MR_TRANSPORT_CONNECTING, /* ICE checks or DTLS handshake under way */
    MR_TRANSPORT_SECURE,     /* SRTP keys installed: media may flow */
    MR_TRANSPORT_FAILED,     /* ICE or DTLS failed, or the peer fell silent */
    MR_TRANSPORT_CLOSED,     /* the peer sent close_notify */
};

struct mr_transport_ops {
    /* A decrypted RTP packet or compound RTCP packet. buf is writable,
     * MR_TRANSPORT_BUF bytes large, and valid during the call only. */
    void (*rtp)(void *user, uint8_t *buf, size_t len);
    void (*rtcp)(void *user, uint8_t *buf, size_t len);
    void (*state)(void *user, enum mr_transport_state state, const char *why);
    void (*gathered)(void *user);
    /* Optional: a local candidate found after mr_transport_gather returned
     * (see struct mr_ice_ops.candidate). */
    void (*candidate)(void *user, const char *line);
    /* Optional: the selected ICE pair changed (mr_transport_pair_info). */
    void (*pair)(void *user);
};

struct mr_transport_config {
    GMainContext *ctx;
    /* Counters shared by the transports of one thread (its worker's), or
     * NULL; borrowed, outlives the transport. */
    struct mr_transport_stats *aggregate;
    const struct mr_dtls_identity *identity; /* borrowed, outlives the transport */
    struct mr_ice_config ice;                /* strings borrowed during _new */
    /* Once SECURE, the transport fails (state FAILED) when the peer owes
     * packets and has sent nothing that authenticated for the watch's limit
     * (liveness.h, watch.h); NULL: never. Borrowed, outlives the
     * transport. The relay's peers use their worker's (MR_PEER_SILENCE_S). */
    struct mr_transport_watch *liveness;
};

/* What the other side told us in its SDP. */
struct mr_transport_remote {
    const char *ice_ufrag;
    const char *ice_pwd;
    const char *fingerprint_alg;
    const uint8_t *fingerprint;
    size_t fingerprint_len;
    enum mr_dtls_role local_role; /* our DTLS role, from a=setup */
};

/* Counters; written by the owning thread only, with mr_counter_add, so
 * other threads may read them with mr_counter_read (core/counter.h). */
struct mr_transport_stats {
    uint64_t rtp_in, rtcp_in, bytes_in;
    uint64_t rtp_out, rtcp_out, bytes_out;
    uint64_t srtp_errors;  /* unprotect failures (auth, replay) */
    uint64_t dropped_early; /* RTP/RTCP before SRTP was ready */
    uint64_t unknown_in;   /* neither DTLS nor RTP/RTCP, or malformed */
    uint64_t dropped_ssrc; /* from an SSRC past the per-peer limit */
    uint64_t send_errors;
    uint64_t tcp_dropped;  /* not sent: an ICE-TCP connection still draining */
};

struct mr_transport;

int mr_transport_new(const struct mr_transport_config *cfg, const struct mr_transport_ops *ops,
                     void *user, struct mr_transport **out);
void mr_transport_free(struct mr_transport *t);

/* Starts gathering local candidates; ops->gathered fires when done. The
 * host candidates are known when it returns; later ones (server-reflexive)
 * also go to ops->candidate. */
int mr_transport_gather(struct mr_transport *t);

void mr_transport_local_credentials(struct mr_transport *t, char *ufrag, char *pwd);
unsigned mr_transport_local_candidates(struct mr_transport *t,
                                       char (*lines)[MR_ICE_CANDIDATE_MAX], unsigned max);
const char *mr_transport_fingerprint(const struct mr_transport *t); /* sha-256 */

/* Applies the remote description. Returns 0 or MR_EINVAL. */
int mr_transport_set_remote(struct mr_transport *t, const struct mr_transport_remote *r);
/* Restarts ICE with the peer's new credentials; DTLS and SRTP carry on
 * over the new pair. Local credentials change (read them again). */
int mr_transport_restart_ice(struct mr_transport *t, const char *ufrag, const char *pwd);
/* The same in two steps, for when the relay offers the restart: new local
 * credentials now (to offer), the peer's new ones from its answer. */
int mr_transport_restart_ice_local(struct mr_transport *t);
int mr_transport_set_remote_ice(struct mr_transport *t, const char *ufrag, const char *pwd);
int mr_transport_add_remote_candidate(struct mr_transport *t, const char *line);
void mr_transport_remote_candidates_done(struct mr_transport *t);

/*
 * Protects buf in place and sends it. cap must leave MR_SRTP_MAX_OVERHEAD
 * bytes past len. Returns 0, MR_ESTATE before SRTP is ready, MR_EAGAIN, or
 * another negative code.
 */
int mr_transport_send_rtp(struct mr_transport *t, uint8_t *buf, size_t len, size_t cap);

/*
 * Like mr_transport_send_rtp, but buf is the slot mr_sendq_slot(q) gave
 * last: it is protected in place and sent with the rest of q at the end
 * of the burst (transport/sendq.h). q is the calling thread's queue.
 * Returns 0 (queued), MR_ESTATE before SRTP is ready, or another negative
 * code; send failures are counted in send_errors when the queue flushes.
 */
struct mr_sendq;
int mr_transport_queue_rtp(struct mr_transport *t, struct mr_sendq *q, uint8_t *buf, size_t len,
                           size_t cap);
int mr_transport_send_rtcp(struct mr_transport *t, uint8_t *buf, size_t len, size_t cap);

enum mr_transport_state mr_transport_state(const struct mr_transport *t);
const struct mr_transport_stats *mr_transport_stats(const struct mr_transport *t);
/* "SRTP_AES128_CM_SHA1_80" etc., DTLS cipher and version; "" before. */
const char *mr_transport_srtp_profile(const struct mr_transport *t);
const char *mr_transport_dtls_cipher(const struct mr_transport *t);
const char *mr_transport_dtls_version(const struct mr_transport *t);
void mr_transport_describe_pair(struct mr_transport *t, char *out, size_t cap);
void mr_transport_pair_info(struct mr_transport *t, struct mr_ice_pair_info *out);
/* How far behind its reader is: bytes queued unread in the kernel for the
 * selected UDP pair (about twice the datagrams' size) and the buffer's
 * limit in *limit; -1 when unknown (TCP, TURN, not connected). */
int mr_transport_rx_queued(struct mr_transport *t, int *limit);

/* Sends DTLS close_notify (best effort) before the owner frees it. */
void mr_transport_close(struct mr_transport *t);

#endif
