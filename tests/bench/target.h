/*
 * A benchmark target: the server under test, seen as the three things the
 * benchmark needs from it: open a publisher, open a subscriber, close a
 * session. The media side is always the C test peer (tests/peer); a target
 * only does the signaling that connects a peer to the server.
 *
 * medrelay (target_medrelay.c): WHIP and WHEP, the peer offers.
 * Janus (target_janus.c): the VideoRoom plugin over its WebSocket API; a
 * publisher joins a room and offers (mr_test_peer_create_offer), a
 * subscriber joins as a subscriber and *answers* Janus's offer
 * (mr_test_peer_answer).
 *
 * Threads: open and close are called from the thread that iterates the
 * peer's context (several such threads at once, each with its own peers),
 * so a target keeps per-session state in its session and only immutable
 * configuration in the target itself.
 */
#ifndef MR_BENCH_TARGET_H
#define MR_BENCH_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"

struct mr_bench_target_config {
    const char *url;           /* http://HOST:PORT, the server's HTTP side */
    const char *pub_token;     /* bearer token for publishers */
    const char *sub_token;     /* ... for subscribers */
    const char *metrics_token; /* ... for GET /metrics (NULL: none sent) */
    const char *room_prefix;   /* publisher i publishes in room PREFIX<i>
                                  (medrelay-bench: "bench-r<run>-") */
};

struct mr_bench_session; /* one publisher or subscriber's signaling state */

/* Cumulative counts a server publishes; < 0: not known. */
struct mr_bench_server_counters {
    double forwarded; /* RTP packets sent to subscribers */
    double nack_sent; /* packets its NACKs asked publishers for */
    double recovered; /* lost packets recovered from publishers' retransmissions */
    double gave_up;   /* lost packets given up on (a key frame asked instead) */
    /* datagrams to ICE-TCP peers dropped while their connection drained */
    double tcp_backlog;
    double layer_switches; /* viewers moved from one simulcast layer to another */
};

struct mr_bench_target_ops {
    const char *name;
    /*
     * Connects peer p (created by the caller, not yet offered or answered)
     * as publisher number `stream` (or as a subscriber of that publisher's
     * stream): signaling until the peer has the remote description. ICE
     * and DTLS then complete on the peer's context. Returns 0 with *out
     * (free it with close), or a negative MR_E* code with a reason in err.
     */
    int (*open_publisher)(const struct mr_bench_target_config *cfg, struct mr_test_peer *p,
                          unsigned stream, struct mr_bench_session **out, char *err,
                          size_t err_len);
    int (*open_subscriber)(const struct mr_bench_target_config *cfg, struct mr_test_peer *p,
                           unsigned stream, struct mr_bench_session **out, char *err,
                           size_t err_len);
    /* Ends the session on the server (WHIP/WHEP DELETE, Janus leave) and
     * frees s; the peer stays with the caller. NULL s is allowed. */
    void (*close)(const struct mr_bench_target_config *cfg, struct mr_bench_session *s);
    /*
     * The server's own counters (a cross-check of what the peers counted),
     * each < 0 when the server does not publish it; returns 0 or an MR_E*
     * code (nothing read). May be NULL.
     */
    int (*counters)(const struct mr_bench_target_config *cfg, struct mr_bench_server_counters *out);
};

extern const struct mr_bench_target_ops mr_bench_target_medrelay;
extern const struct mr_bench_target_ops mr_bench_target_janus;

#endif
