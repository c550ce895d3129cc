/*
 * A viewer's downlink (internal to relay/sfu): what its link carries, and
 * the simulcast layers that fit it.
 *
 * Every packet the relay sends a viewer that negotiated transport-cc
 * carries a transport-wide sequence number; the viewer's feedback says
 * when each arrived; relay/bwe turns both into an estimate of the
 * bandwidth its link has (delay-based, with a loss-based bound: why that
 * rather than REMB is in bwe.h). Its feedback is also when the layers are
 * allocated (allocate.c): each simulcast receiver of the viewer gets the
 * best layer that fits with the others, moved down at once and up only
 * after the link has had room for a while.
 *
 * A viewer held below the layer it could take otherwise is probed now and
 * then: for PROBE_US its send rate is filled with padding up to what the
 * better layers need (RTX padding-only packets, RFC 4588, which its
 * decoder never sees); the estimator judges the cluster by its arrival
 * rate, and a probe is cut short as soon as the link shows queueing.
 *
 * Nothing here runs for viewers without transport-cc, or of single-layer
 * streams only: their receivers' bw_cap stays MR_LAYER_CAP_HIGH.
 *
 * Worker thread only; allocated once per viewer, nothing on the packet
 * path but a few stores.
 */
#ifndef MR_SFU_DOWNLINK_H
#define MR_SFU_DOWNLINK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "bwe/bwe.h"
#include "sfu/sfu_priv.h"

struct mr_downlink {
    struct mr_bwe bwe;
    uint16_t tseq;       /* the next transport-wide sequence number */
    uint16_t probe;      /* the probe under way; 0: none */
    uint16_t cluster;    /* its part the estimator measures: the id
                            packets now sent carry; 0: none */
    uint16_t last_probe; /* the last cluster's id */
    uint32_t probe_bps;  /* its target rate */
    int64_t probe_start_us, probe_end_us;
    uint64_t probe_octets; /* sent since it began, media and padding */
    int64_t next_probe_us; /* none before */
    int64_t probe_gap_us;  /* between probes: grows while they fail */
    bool verdict_due;      /* the last probe is still to be judged */
    GSource *pacer;        /* while probing */
    int64_t alloc_us;      /* the last allocation */
};

/* Sets a viewer up when one of its receivers negotiated transport-cc
 * (p->down stays NULL otherwise; asked once); frees it. Called by the
 * layers' tick for the viewers of a simulcast stream only: an estimate
 * (~18 KB) chooses layers, so a viewer of single-layer streams does not
 * carry one. */
void mr_downlink_setup(struct mr_peer *p);
void mr_downlink_free(struct mr_peer *p);

/* The packet path: whether a packet for rx carries a transport-wide
 * sequence number, and which (network order, into tseq). */
static inline bool mr_downlink_tseq(const struct mr_peer *p, const struct mr_receiver *rx,
                                    uint8_t tseq[2])
{
    if (!p->down || !rx->ext.id[MR_RTP_EXT_TRANSPORT_CC])
        return false;
    tseq[0] = (uint8_t)(p->down->tseq >> 8);
    tseq[1] = (uint8_t)p->down->tseq;
    return true;
}

/* The packet mr_downlink_tseq numbered left (len: its RTP length). */
void mr_downlink_sent(struct mr_peer *p, size_t len, int64_t now_us);

/* A transport-cc feedback from the viewer. */
void mr_downlink_feedback(struct mr_peer *p, const struct mr_rtcp_fb *fb, int64_t now_us);

/* allocate.c: the viewer's layers for its estimate; returns the rate
 * (bit/s) a probe should fill up to when a receiver is held below the
 * layer it would take with more bandwidth, else 0. */
uint32_t mr_downlink_allocate(struct mr_peer *p, uint32_t estimate_bps, int64_t now_us);

#endif
