/*
 * The fake objects behind sfu_fixture.c (internal to the fixture): the
 * transports, room subscriptions and recordings that sfu_fakes.c's
 * link-time doubles work on, and the logs they keep.
 */
#ifndef MR_TEST_SFU_FAKES_H
#define MR_TEST_SFU_FAKES_H

#include "sfu_fixture.h"

/* A peer's transport: whom it sends to, and its socket's backlog. */
struct mr_transport {
    const struct mr_peer *peer;
    int queued;
    int limit;
};

/* A room subscription: its slices, one per stream (bundle.c's slots). */
struct fx_slice {
    struct mr_sink sink;
    struct mr_stream *stream; /* a reference */
    struct mr_receiver receivers[MR_MAX_TRACKS];
};

struct mr_bundle {
    unsigned n;
    struct fx_slice slices[FX_SLICES];
};

/* Empties the logs (at set-up and tear-down). */
void fx_fakes_reset(void);
/* Contract breaches seen by the fakes: RTP queued from a buffer that is
 * not the slot handed out last, or longer than its capacity. */
unsigned fx_fakes_errors(void);

struct mr_transport *fx_transport_new(const struct mr_peer *peer);
/* Sends what it has queued (as mr_sendq_flush_one before a transport
 * goes), then frees it. */
void fx_transport_free(struct mr_transport *t);

/* A recording with two references (the tap's and the fixture's). */
struct mr_recording *fx_recording_new(void);

#endif
