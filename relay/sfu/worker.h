/*
 * Media workers: a fixed pool of threads, each running its own GLib main
 * context. A stream, and with it every peer of that stream, lives on one
 * worker for its whole life, so forwarding never crosses threads or takes a
 * lock. Work reaches a worker only through mr_worker_call().
 */
#ifndef MR_SFU_WORKER_H
#define MR_SFU_WORKER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "transport/sendq.h"
#include "transport/transport.h"

struct mr_burst;
struct mr_side_loop;

/* What the forwarding and RTCP code did, per worker (core/counter.h). */
#define MR_SFU_COUNTERS(X)                                                                 \
    X(forwarded, "medrelay_rtp_forwarded_packets_total", "RTP packets sent to subscribers") \
    X(drop_parse, "parse", "malformed RTP after decryption")                              \
    X(drop_unknown_track, "unknown_track", "RTP matching no negotiated track or codec")   \
    X(drop_padding, "padding", "padding-only RTP")                                       \
    X(drop_keyframe_wait, "keyframe_wait", "held back until the viewer's first key frame") \
    X(drop_incompatible, "incompatible", "the viewer cannot take the publisher's codec")   \
    X(drop_layer_wait, "layer_wait", "a layer's packets before its key frame, for a viewer moving to it") \
    X(layer_switches, "layer_switches", "viewers moved from one simulcast layer to another") \
    X(bw_down, "bw_down", "viewers' layers lowered for their downlink's estimate")       \
    X(bw_up, "bw_up", "viewers' layers raised after their downlink had room")            \
    X(probes, "probes", "probes of viewers' downlinks")                                  \
    X(padding_out, "padding_out", "padding packets of those probes")                     \
    X(drop_record, "record_queue", "the recorder fell behind (its queue was full)")        \
    X(drop_muted, "muted", "a moderator muted the stream's audio or video")              \
    X(drop_overload, "overload", "video not fanned out while the worker caught up")      \
    X(pli_in, "pli", "PLI from subscribers")                                             \
    X(fir_in, "fir", "FIR from subscribers")                                             \
    X(keyframe_requests, "sent", "key-frame requests sent to publishers")                \
    X(keyframe_coalesced, "coalesced", "key-frame requests merged into one already sent") \
    X(nack_in, "nack_in", "packets viewers' NACKs asked for")                            \
    X(rtx_out, "rtx_out", "packets resent to viewers from the history")                   \
    X(rtx_missed, "rtx_missed", "packets viewers asked for that the history lacks")       \
    X(rtx_pending, "rtx_pending", "asked for while the relay itself waits for them upstream") \
    X(rtx_limited, "rtx_limited", "viewers' requests refused: over their rate, or resent enough") \
    X(nack_out, "nack_out", "packets the relay's NACKs asked publishers for")             \
    X(nack_gave_up, "nack_gave_up", "lost packets given up on (a key frame asked instead)") \
    X(rtx_recovered, "rtx_recovered", "lost packets recovered from publishers' retransmissions") \
    X(red_recovered, "red_recovered", "lost audio packets recorded from the next one's RED")    \
    X(drop_rtx_duplicate, "rtx_duplicate", "retransmissions of packets already received")  \
    X(drop_rtx_malformed, "rtx_malformed", "RTX shorter than its OSN, or of no known stream")

struct mr_sfu_stats {
#define MR_SFU_COUNTER_FIELD(field, name, help) uint64_t field;
    MR_SFU_COUNTERS(MR_SFU_COUNTER_FIELD)
#undef MR_SFU_COUNTER_FIELD
};

struct mr_worker {
    unsigned index;
    GThread *thread;
    GMainContext *ctx;
    GMainLoop *loop;
    int load; /* streams placed here; atomic */
    int peers; /* peers living here; atomic */
    clockid_t cpu_clock; /* this thread's CPU-time clock, for metrics */
    /* Counters written by this worker only (core/counter.h). */
    struct mr_transport_stats transport;
    struct mr_sfu_stats sfu;
    /* Scratch space for building outgoing packets; worker thread only. */
    uint8_t out_buf[MR_TRANSPORT_BUF];
    /* Publishers' RTP waits here for the end of the burst, then goes out
     * receiver by receiver (burst.h) through the send queue's slots
     * (transport/sendq.h). */
    struct mr_burst *burst;
    struct mr_sendq *sendq;
    /* Looks at the liveness of all its peers' transports, main and side
     * context alike (transport/watch.h). */
    struct mr_transport_watch *liveness;
    /* Where subscribers' agents live, out of the publishers' way
     * (side_loop.h). */
    struct mr_side_loop *side;
    /* When the main context last began a turn: a dispatch that has run
     * long since (a publisher's backlog read to its end) keeps the side
     * loop and every timer waiting (overload.c). Worker thread only. */
    int64_t turn_started_us;
    GSource *turn_clock;
};

struct mr_worker_pool {
    unsigned n;
    struct mr_worker *workers;
};

/* Starts n threads (n >= 1). Returns 0 or MR_ENOMEM. */
int mr_worker_pool_new(unsigned n, bool io_uring, struct mr_worker_pool **out);

/* Stops the threads after they ran what was queued, then frees the pool. */
void mr_worker_pool_free(struct mr_worker_pool *pool);

/* The worker with the fewest streams; its load is incremented. */
struct mr_worker *mr_worker_pool_acquire(struct mr_worker_pool *pool);
/* The worker with the fewest streams, load unchanged (a room's choice). */
struct mr_worker *mr_worker_pool_pick(struct mr_worker_pool *pool);
/* One more stream on w (released with mr_worker_release). */
void mr_worker_hold(struct mr_worker *w);
void mr_worker_release(struct mr_worker *w);

/* Runs fn(data) on the worker's thread, later (never synchronously), in
 * its main context; the side loop gets a turn soon after, for what fn
 * attached there. */
void mr_worker_call(struct mr_worker *w, void (*fn)(void *data), void *data);

/* The context for a new peer's transport: publishers' in the main one,
 * subscribers' in the side loop. */
GMainContext *mr_worker_context_for(struct mr_worker *w, bool subscriber);

#endif
