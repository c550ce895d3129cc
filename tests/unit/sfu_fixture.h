/*
 * A stream's forwarding without sockets, for the unit tests of forward.c,
 * burst.c, stream.c and sfu_rtcp.c (test_sfu_forward*, test_sfu_burst,
 * test_sfu_stream, test_sfu_rtcp): packets fed into a publisher's sources
 * come out as what each receiver would be sent.
 *
 * What is real: relay/sfu's forward.c, burst.c, stream.c, sfu_rtcp.c,
 * source.c, bind.c, rewrite.c, record_tap.c, overload.c and the loss
 * repair (nack.c, history.c, repair.c, retransmit.c), and the pure
 * libraries under them (mr_rtp, mr_rtcp, mr_sdp, mr_core). What is fake
 * (sfu_fakes.c, link-time doubles of the functions they call):
 *  - transports: mr_transport_queue_rtp, mr_transport_send_rtp (a
 *    retransmission) and mr_transport_send_rtcp record
 *    each datagram for its peer, in clear (no SRTP); RTP queued on the send
 *    queue counts as sent once the fan-out says the receiver is done
 *    (mr_sendq_receiver_done) or the queue is flushed, as in sendq.h;
 *    mr_transport_rx_queued answers what the test set (fx_set_backlog);
 *  - the send queue (mr_sendq_*): slots, and the order datagrams leave in;
 *  - recordings (mr_recording_*): what the tap pushes, the recorder's
 *    "key frame wanted", a full ring;
 *  - the worker (mr_worker_call posts to the test's GMainContext, run by
 *    fx_run; mr_worker_release counts), the control thread
 *    (mr_relay_peer_failed is recorded) and room subscriptions
 *    (mr_bundle_video_receiver over the slices fx_room_sub made).
 *
 * The worker is a struct mr_worker built by hand: its own GMainContext
 * (nothing runs but what the test iterates), a real burst (mr_burst_new)
 * and the fake send queue. One fixture at a time: fx_setup() ...
 * fx_teardown() in each test.
 *
 * Time is the real monotonic clock (core/clock.h reads it inline); tests of
 * timers iterate the context for as long as they need (fx_run_ms).
 */
#ifndef MR_TEST_SFU_FIXTURE_H
#define MR_TEST_SFU_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtp.h"
#include "sfu/burst.h"
#include "sfu/sfu_priv.h"

/* --- Set-up ----------------------------------------------------------------- */

/* Starts a fixture: a fresh worker, empty logs. */
struct mr_worker *fx_setup(void);
/* Detaches and frees every peer and stream the fixture made, frees the
 * worker. Returns 0, or -1 when a stream was not freed (a reference
 * leaked: mr_worker_release was not called for it), datagrams were left
 * in the send queue, or one was queued from a buffer that is not a slot. */
int fx_teardown(void);

/* A stream on the fixture's worker (the fixture holds the reference). */
struct mr_stream *fx_stream(const char *name, unsigned grace_s);

/* One media section as negotiated, in the peer's own numbering. */
struct fx_track {
    enum mr_media_kind kind;
    const char *mid;
    enum mr_codec_id codec;
    uint8_t pt;
    /* Publisher: the SSRC its section announces (0: none), and the
     * retransmission SSRC announced before it, with a=ssrc-group:FID ssrc
     * rtx_ssrc (0: none). */
    uint32_t ssrc;
    uint32_t rtx_ssrc;
    /* Header-extension ids; 0: not negotiated. */
    uint8_t mid_id;
    uint8_t level_id;
    uint32_t fb;    /* MR_FB_* */
    uint8_t rtx_pt; /* its RTX format (with MR_FB_NACK); 0: none */
    uint8_t red_pt; /* Opus: its RED format; 0: none */
    uint8_t h264_profile_idc, h264_profile_iop;
    /* Simulcast (RFC 8853): its layers' rids, learned from the rid header
     * extension (rid_id; rrid_id for their RTX); n_layers 0: none. */
    unsigned n_layers;
    const char *rids[MR_MAX_ENCODINGS];
    uint8_t rid_id, rrid_id;
    /* The transport-wide sequence number's id (with MR_FB_TWCC); 0: none. */
    uint8_t tcc_id;
};

/* A publisher of s with n sources (mr_source_init), not attached yet. */
struct mr_peer *fx_publisher(struct mr_stream *s, const struct fx_track *tracks, unsigned n);
/* A WHEP subscriber of s with n receivers (mr_receiver_init), not attached
 * yet: mr_stream_attach(s, p) puts its sink in the fan-out. */
struct mr_peer *fx_subscriber(struct mr_stream *s, const struct fx_track *tracks, unsigned n);
/* A room subscription's slice of s, added with mr_stream_add_sink at once:
 * on p's bundle, or on a new room-subscription peer (a bundle and no stream
 * of its own) when p is NULL. At most FX_SLICES per peer. Returns the
 * slice's sink; sink->peer is the peer. */
#define FX_SLICES 4
struct mr_sink *fx_room_sub(struct mr_peer *p, struct mr_stream *s, const struct fx_track *tracks,
                            unsigned n);

/* The receiver with that mid in a sink. */
struct mr_receiver *fx_receiver(struct mr_sink *sink, const char *mid);

/* Frees a peer now (detached first if attached), as peer_destroy would. */
void fx_peer_free(struct mr_peer *p);

/* What mr_transport_rx_queued answers for p: datagrams still waiting on
 * its socket (> 0 keeps a burst open), and the receive buffer's size. */
void fx_set_backlog(struct mr_peer *p, int queued, int limit);

/* --- The worker's loop -------------------------------------------------------- */

/* Runs what is ready (posted calls, the fan-out, due timers), no waiting. */
void fx_run(void);
/* Runs the context for ms milliseconds of wall time. */
void fx_run_ms(unsigned ms);
/* Number of mr_worker_release calls (one per stream freed). */
unsigned fx_released(void);

/* --- RTP in --------------------------------------------------------------------- */

enum fx_payload {
    FX_OPAQUE,     /* bytes of a pattern: audio, or the middle of a frame */
    FX_VP8_KEY,    /* a VP8 key frame's first packet (S=1, PID=0, P=0) */
    FX_VP8_DELTA,  /* an interframe's first packet (P=1) */
    FX_H264_IDR,   /* an FU-A start of an IDR slice */
    FX_H264_STAP,  /* a STAP-A with SPS and PPS */
    FX_H264_SLICE, /* a non-IDR slice (NAL type 1) */
    FX_NONE,       /* no payload: with padding, a padding-only probe */
};

struct fx_rtp {
    uint8_t pt;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    bool marker;
    enum fx_payload payload;
    unsigned size;  /* payload bytes; 0: 60 (FX_NONE: none) */
    uint8_t mid_id; /* 0: no mid extension */
    const char *mid;
    uint8_t level_id; /* 0: no audio-level extension */
    uint8_t level;
    uint8_t padding; /* padding bytes (P bit), count byte included */
    uint8_t rid_id;  /* 0: no rid extension */
    const char *rid;
    bool vp8_pid;    /* VP8 payloads with a 15-bit picture id and TL0PICIDX */
    uint16_t pid;
    uint8_t tl0;
};

/* Writes the packet; returns its length (0 if cap is too small). */
size_t fx_rtp_build(const struct fx_rtp *r, uint8_t *out, size_t cap);
/* Builds it and hands it to mr_forward_rtp, as the publisher's transport
 * does after SRTP (aborts if it does not fit a datagram). */
void fx_feed(struct mr_peer *pub, const struct fx_rtp *r);
/* Byte i of the pattern fx_rtp_build fills payloads with. */
uint8_t fx_pattern(uint16_t seq, unsigned i);

/* --- What came out -------------------------------------------------------------- */

struct fx_out {
    struct mr_rtp_header h;
    struct mr_rtp_ext_list ext;
    const uint8_t *buf;
    size_t len;
    const uint8_t *payload;
};

/* RTP datagrams sent to p (queued and left), in order, and the i-th. */
unsigned fx_rtp_count(const struct mr_peer *p);
bool fx_rtp_get(const struct mr_peer *p, unsigned i, struct fx_out *out);
/* Parses RTP (false if malformed). */
bool fx_out_parse(const uint8_t *buf, size_t len, struct fx_out *out);
/* Whether o carries the payload fx_rtp_build wrote for packet in_seq,
 * size bytes long, from byte `from` on (after the codec's leading bytes). */
bool fx_out_payload_is(const struct fx_out *o, uint16_t in_seq, unsigned size, unsigned from);
/* An extension element of a parsed packet, or NULL. */
const uint8_t *fx_out_ext(const struct fx_out *o, uint8_t id, unsigned *len);

/* RTCP compound packets sent to p, and the i-th. */
unsigned fx_rtcp_count(const struct mr_peer *p);
const uint8_t *fx_rtcp_get(const struct mr_peer *p, unsigned i, size_t *len);

/* Every datagram sent, in the order it left (RTP and RTCP, any peer). */
struct fx_datagram {
    const struct mr_peer *peer;
    bool rtcp;
    size_t len;
    uint8_t data[MR_TRANSPORT_BUF];
};
unsigned fx_sent_total(void);
const struct fx_datagram *fx_sent_at(unsigned i);
/* RTP written into send-queue slots but not yet sent. */
unsigned fx_pending(void);
/* Calls of mr_sendq_receiver_done and mr_sendq_flush so far. */
unsigned fx_receivers_done(void);
unsigned fx_sendq_flushes(void);
/* Forgets what was sent so far (counts start again from 0). */
void fx_sent_clear(void);

/* RTCP helpers: the first packet of that type in a compound packet
 * (pkt->data/len), and the CNAME of its SDES for ssrc ("" if none). */
bool fx_rtcp_find(const uint8_t *buf, size_t len, uint8_t type, struct mr_rtcp_pkt *pkt);
bool fx_rtcp_cname(const uint8_t *buf, size_t len, uint32_t ssrc, char *out, size_t cap);
/* Compound packets sent to p with a key-frame request for media_ssrc (a
 * PLI, or a FIR entry), and with a receiver report with report blocks. */
unsigned fx_keyframe_requests(const struct mr_peer *p, uint32_t media_ssrc);
unsigned fx_reports(const struct mr_peer *p);

/* --- The recording ---------------------------------------------------------------- */

/* A recording tap of s for these publisher sources (mr_rec_tap_new, with a
 * fake recording), handed over with mr_stream_post_tap and run. */
struct mr_recording *fx_record(struct mr_stream *s, const struct fx_track *tracks, unsigned n);
/* mr_stream_post_tap(s, NULL), run. */
void fx_record_stop(struct mr_stream *s);
/* What mr_recording_push received. */
unsigned fx_rec_count(const struct mr_recording *rec);
const uint8_t *fx_rec_get(const struct mr_recording *rec, unsigned i, unsigned *track, int *what,
                          size_t *len);
/* The next mr_recording_keyframe_wanted answers true (once). */
void fx_rec_want_keyframe(struct mr_recording *rec);
/* mr_recording_push refuses (the ring is full) while full. */
void fx_rec_set_full(struct mr_recording *rec, bool full);
/* References the fake recording holds besides the fixture's own. */
int fx_rec_refs(const struct mr_recording *rec);

/* --- The control thread ------------------------------------------------------------- */

/* Peers reported with mr_relay_peer_failed, and why. */
unsigned fx_failed_count(void);
const struct mr_peer *fx_failed_peer(unsigned i);
const char *fx_failed_why(unsigned i);

#endif
