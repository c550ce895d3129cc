/*
 * One system call for the datagrams of many ICE sockets: a thread's send
 * queue stages each transport's batch here (the same sendmmsg messages, UDP
 * GSO runs included, that mr_ice_direct_send_batch would make) and
 * mr_ice_uring_submit hands them all to the kernel with one io_uring_enter.
 *
 * Why: a fan-out sends on as many sockets as there are subscribers, and
 * sendmmsg batches only per socket. In this project's VMs a system call
 * costs about 1.2 µs before it does anything (measured: getppid), so a
 * receiver's single datagram (a paced video packet, an audio packet) cost a
 * whole sendmmsg; the bench's micro-benchmark on loopback, 200 sockets:
 * one datagram each 3.1-4.4 µs per datagram with sendmmsg per socket, 1.2-1.7
 * µs with one io_uring submit; a GSO run of nine each 0.69-0.77 -> 0.41-0.49 µs.
 *
 * Every request carries MSG_DONTWAIT, so the kernel finishes it during the
 * submit (a full socket buffer completes it with -EAGAIN at once instead of
 * arming a poll): when mr_ice_uring_submit returns, every staged datagram
 * has gone or failed, and the caller may reuse its buffers.
 *
 * Where io_uring is missing (built without liburing, an old kernel,
 * kernel.io_uring_disabled, a seccomp filter) mr_ice_uring_new says
 * MR_ENOTSUP and the caller keeps sendmmsg per socket.
 *
 * Thread: one thread; the staged ICE objects must live until the submit.
 */
#ifndef MR_ICE_ICE_URING_H
#define MR_ICE_ICE_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "ice/ice.h"

/* Datagrams one submit carries at most: a full send queue. */
#define MR_ICE_URING_DATAGRAMS 256

struct mr_ice_uring;

/* A ring for MR_ICE_URING_DATAGRAMS requests. Returns 0, MR_ENOTSUP (no
 * io_uring here) or MR_ENOMEM. */
int mr_ice_uring_new(struct mr_ice_uring **out);
void mr_ice_uring_free(struct mr_ice_uring *u); /* NULL is fine */

/* Stages n (<= MR_ICE_BATCH_MAX) datagrams for ice's selected socket; the
 * iov array is copied, the bytes it points to are borrowed until the
 * submit. Returns a handle for mr_ice_uring_result, or -1 when ice has no
 * direct socket (TCP, TURN, not connected) or the ring is full: send those
 * another way (mr_ice_send_batch). */
int mr_ice_uring_stage(struct mr_ice_uring *u, struct mr_ice *ice, const struct iovec *iov,
                       unsigned n);

/* The same for a direct path that is on (d->fd, d->to; relay/ice and its
 * tests). */
struct mr_ice_direct;
int mr_ice_uring_stage_direct(struct mr_ice_uring *u, struct mr_ice_direct *d,
                              const struct iovec *iov, unsigned n);

/* Sends everything staged, in one system call when the ring takes it. A
 * GSO run the path refuses is sent again as plain datagrams (and that
 * socket uses plain datagrams from then on), as mr_ice_direct_send_batch
 * does; since the rest of that batch has gone by then, its refused runs
 * arrive after the datagrams that were no run, once per socket. Returns 0, or MR_EIO when the ring
 * failed: what it did not take went through sendmmsg, and every later stage says no (-1). */
int mr_ice_uring_submit(struct mr_ice_uring *u);

/* After the submit: how many datagrams of a staged batch the kernel took
 * and their bytes. */
void mr_ice_uring_result(const struct mr_ice_uring *u, int handle, unsigned *sent, size_t *bytes);

/* Forgets the staged batches and their results, for the next round. */
void mr_ice_uring_reset(struct mr_ice_uring *u);

#endif
