/*
 * A per-thread send queue: protected datagrams wait in pooled slots until
 * the thread's current burst of input is handled, then each transport's go
 * out together in one sendmmsg (mr_ice_send_batch), or, with io_uring,
 * every transport's in one submit (relay/ice/ice_uring.h).
 *
 * Why: fanning a video frame out is n_packets x n_subscribers sends, and a
 * sendmsg per datagram pays the system call, the file lookup and the socket
 * lock every time. The queue turns that into one call per subscriber per
 * burst, and its slots are the only buffers the forwarding path writes
 * into (no allocation per packet: MR_SENDQ_SLOTS buffers per thread, made
 * and touched once, so not even a page fault on the hot path).
 *
 * How many: without io_uring the relay's fan-out (relay/sfu/burst.h) writes
 * one receiver's share of a burst (at most MR_BURST_PACKETS) and flushes,
 * so it uses the first few slots over and over, hot in the cache. With
 * io_uring it writes several receivers' shares, at least
 * MR_SENDQ_URING_BATCH datagrams, and sends them in one system call
 * (ice_uring.h has the figures). 256 x 2 KiB = 512 KiB per worker.
 *
 * When: mr_sendq_flush by the caller, or a GSource one step below
 * G_PRIORITY_DEFAULT (where libnice's sockets, timers and mr_worker_call
 * run) as soon as the thread has no ready input left; a full queue is
 * flushed at once.
 *
 * Thread: one GMainContext; every call on its thread.
 */
#ifndef MR_TRANSPORT_SENDQ_H
#define MR_TRANSPORT_SENDQ_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_SENDQ_SLOTS       256
#define MR_SENDQ_URING_BATCH 64

struct mr_sendq;
struct mr_transport;

/* Attaches the flush source to ctx; with io_uring true, sends through an
 * io_uring where the system has one (mr_sendq_io_uring tells). Returns 0 or
 * MR_ENOMEM. */
int mr_sendq_new(GMainContext *ctx, bool io_uring, struct mr_sendq **out);
/* Flushes what is queued, detaches and frees. NULL is fine. */
void mr_sendq_free(struct mr_sendq *q);

/* The next free slot (MR_TRANSPORT_BUF bytes), flushing first when all are
 * taken. It belongs to the caller until the next call on q; queue it with
 * mr_transport_queue_rtp or just leave it. Never NULL. */
uint8_t *mr_sendq_slot(struct mr_sendq *q);

/* Sends everything queued, in order per transport. */
void mr_sendq_flush(struct mr_sendq *q);

/* The fan-out has written one receiver's share: without io_uring it leaves
 * now (the next receiver reuses the slots); with io_uring it waits for more
 * receivers' until MR_SENDQ_URING_BATCH datagrams wait (or the caller
 * flushes at the end). That many make the system call cheap per datagram
 * (1.2 µs over 64) without holding the first receivers back long (64
 * datagrams take about 0.1 ms to protect and queue), and keep the slots in
 * use within the CPU's cache (128 KiB). */
void mr_sendq_receiver_done(struct mr_sendq *q);

/* Whether q sends through io_uring. */
bool mr_sendq_io_uring(const struct mr_sendq *q);

/* --- For relay/transport only --------------------------------------------
 * A transport's queued datagrams form a chain through the queue's entries,
 * so a flush visits each entry once. */
struct mr_sendq_link {
    int first, last; /* entry indices, -1 when nothing is queued */
};
#define MR_SENDQ_LINK_INIT {-1, -1}

/* Records that the slot returned last holds len bytes for t. */
void mr_sendq_commit(struct mr_sendq *q, struct mr_transport *t, struct mr_sendq_link *link,
                     size_t len);
/* Sends t's queued datagrams now (before t goes away). */
void mr_sendq_flush_one(struct mr_sendq *q, struct mr_sendq_link *link);

#endif
