/*
 * Between a transport and the send queue (relay/transport only).
 */
#ifndef MR_TRANSPORT_TRANSPORT_BATCH_H
#define MR_TRANSPORT_TRANSPORT_BATCH_H

#include <stddef.h>
#include <sys/uio.h>

struct mr_transport;

struct mr_ice_uring;

/* Sends n datagrams t protected earlier (mr_transport_queue_rtp), in one
 * batch; counts what went and what did not. */
void mr_transport_send_queued(struct mr_transport *t, const struct iovec *iov, unsigned n);

/* Or stages them on u for a later mr_ice_uring_submit: returns the handle,
 * or -1 when t cannot go that way (send them with mr_transport_send_queued).
 * After the submit, mr_transport_count_queued with the handle's result. */
int mr_transport_stage_queued(struct mr_transport *t, struct mr_ice_uring *u,
                              const struct iovec *iov, unsigned n);
/* Counts a batch of n datagrams of which sent (bytes) went. */
void mr_transport_count_queued(struct mr_transport *t, unsigned n, unsigned sent, size_t bytes);

#endif
