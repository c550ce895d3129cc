/*
 * Between a transport and the send queue (relay/transport only).
 */
#ifndef MR_TRANSPORT_TRANSPORT_BATCH_H
#define MR_TRANSPORT_TRANSPORT_BATCH_H

#include <sys/uio.h>

struct mr_transport;

/* Sends n datagrams t protected earlier (mr_transport_queue_rtp), in one
 * batch; counts what went and what did not. */
void mr_transport_send_queued(struct mr_transport *t, const struct iovec *iov, unsigned n);

#endif
