/*
 * A per-thread send queue: protected datagrams wait in pooled slots until
 * the thread's current burst of input is handled, then each transport's go
 * out together in one sendmmsg (mr_ice_send_batch).
 *
 * Why: fanning a video frame out is n_packets x n_subscribers sends, and a
 * sendmsg per datagram pays the system call, the file lookup and the socket
 * lock every time. The queue turns that into one call per subscriber per
 * burst, and its slots are the only buffers the forwarding path writes
 * into (no allocation per packet: MR_SENDQ_SLOTS buffers per thread, made
 * and touched once, so not even a page fault on the hot path).
 *
 * How many: enough for a whole video frame to every subscriber of a big
 * room (9 packets x 200 subscribers), so each subscriber's frame is one run
 * for UDP GSO (ice_direct.c). 1->200 over veth, per forwarded packet: 256
 * slots 11.2 us, 1024 8.5 us, 4096 7.7 us; 2048 x 2 KiB = 4 MiB per worker.
 *
 * When: a GSource one step below G_PRIORITY_DEFAULT (where libnice's
 * sockets, timers and mr_worker_call run) flushes the queue as soon as the
 * thread has no ready input left, i.e. at the end of every burst; a full
 * queue is flushed at once, which bounds the delay any datagram can get to
 * MR_SENDQ_SLOTS protect operations (3-4 ms; a frame's fan-out takes that
 * long anyway, and the last subscriber gets it sooner than without).
 *
 * Thread: one GMainContext; every call on its thread.
 */
#ifndef MR_TRANSPORT_SENDQ_H
#define MR_TRANSPORT_SENDQ_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#define MR_SENDQ_SLOTS 2048

struct mr_sendq;
struct mr_transport;

/* Attaches the flush source to ctx. Returns 0 or MR_ENOMEM. */
int mr_sendq_new(GMainContext *ctx, struct mr_sendq **out);
/* Flushes what is queued, detaches and frees. NULL is fine. */
void mr_sendq_free(struct mr_sendq *q);

/* The next free slot (MR_TRANSPORT_BUF bytes), flushing first when all are
 * taken. It belongs to the caller until the next call on q; queue it with
 * mr_transport_queue_rtp or just leave it. Never NULL. */
uint8_t *mr_sendq_slot(struct mr_sendq *q);

/* Sends everything queued, in order per transport. */
void mr_sendq_flush(struct mr_sendq *q);

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
