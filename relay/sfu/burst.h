/*
 * Subscriber-major fan-out (internal to relay/sfu).
 *
 * A worker's burst of input (everything its sockets had ready) is decrypted
 * and parsed packet by packet as it arrives, but fanned out only when the
 * burst is handled, sink by sink (a subscriber's receivers): each one's rewrite state,
 * SRTP contexts and socket are used for all of the burst's packets at once,
 * its datagrams are written into the same few send-queue slots every time
 * and sent at once (one sendmmsg, a UDP GSO run per frame). Packet-major
 * fan-out touched every receiver's state once per packet and walked
 * megabytes of slots between writing and sending them, from cold caches.
 *
 * When: a GSource one step below G_PRIORITY_DEFAULT (libnice's sockets,
 * timers and mr_worker_call), so after the burst's last packet; sooner when
 * MR_BURST_PACKETS are waiting, and before anything changes which publisher
 * or tracks a stream's receivers are bound to (mr_burst_flush from
 * stream.c). No packet waits longer than the burst it came in.
 *
 * Storage: MR_BURST_PACKETS copies per worker, made once; no allocation on
 * the packet path. Each pending packet holds a reference on its stream.
 *
 * Thread: the worker's; every call on its thread.
 */
#ifndef MR_SFU_BURST_H
#define MR_SFU_BURST_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtp.h"
#include "rtp/vp8_ids.h"

/* A whole key frame of a 2.5 Mbit/s stream, or a frame of each of several
 * streams, fits; a burst larger than this is fanned out in parts. */
#define MR_BURST_PACKETS 96

struct mr_burst;
struct mr_peer;
struct mr_stream;
struct mr_worker;

/* A publisher's RTP packet as forwarding sees it: parsed once for every
 * receiver. buf and payload point into the packet (the caller's while
 * arriving, the burst's copy while waiting). */
struct mr_fwd_packet {
    struct mr_rtp_header h;
    struct mr_rtp_ext_list ext;
    const uint8_t *buf;
    const uint8_t *payload;
    struct mr_peer *pub;
    int src;           /* the publisher's source */
    unsigned enc;      /* and its encoding */
    uint16_t seq;      /* what viewers' numbering follows: h.seq less the
                          padding skipped before it (mr_encoding_seq) */
    bool keyframe;
    /* A simulcast VP8 source's picture ids, read once for the receivers
     * that renumber them (zero otherwise). */
    struct mr_vp8_ids vp8;
    int64_t now_us;
    /* RED (RFC 2198) audio: where its primary block lies in the payload,
     * for receivers that take plain Opus; red_len 0: not RED. */
    uint16_t red_off, red_len;
};

/* Attaches the fan-out source to w's context. Returns 0 or MR_ENOMEM. */
int mr_burst_new(struct mr_worker *w, struct mr_burst **out);
/* Fans out what waits, detaches and frees. NULL is fine. */
void mr_burst_free(struct mr_burst *b);

/* Keeps a copy of pkt (len bytes at pkt->buf) for s's receivers. */
void mr_burst_add(struct mr_burst *b, struct mr_stream *s, const struct mr_fwd_packet *pkt,
                  size_t len);

/* Fans out everything waiting, now. */
void mr_burst_flush(struct mr_burst *b);

/* forward.c: one sink's share of n packets of s, in order (rewritten,
 * protected, queued on the worker's send queue, then sent). */
struct mr_sink;
void mr_forward_to_sink(struct mr_sink *sink, const struct mr_fwd_packet *const *pkts, unsigned n,
                        struct mr_worker *w);

#endif
