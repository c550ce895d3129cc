/*
 * Sources and receivers (internal to relay/sfu).
 *
 * A publisher's media section is a *source*: the codec and header
 * extensions it was negotiated with, and its *encodings*, each an RTP
 * stream of its own (an SSRC, a retransmission SSRC, and for simulcast a
 * rid) with its receive statistics, its missing packets, and for video a
 * packet history for its viewers' retransmissions (history.h). A plain
 * section has one encoding; a simulcast one (RFC 8853) one per layer, up
 * to MR_MAX_ENCODINGS, whose SSRCs are learned from the rid header
 * extension of their first packets.
 *
 * A subscriber's media section, or one track of a recording, is a
 * *receiver*: it takes one encoding of one source and sends it on with its
 * own SSRC, payload type, header-extension ids and sequence/timestamp
 * spaces (rewrite.h), and holds video back until a key frame. Of a
 * simulcast source it takes the layer layers.c picks; it moves to another
 * at that layer's next key frame, its spaces (and VP8's picture ids)
 * continuing.
 *
 * A *sink* is what a stream's fan-out walks: the receivers of one peer for
 * that stream (a WHEP subscriber's, or a room subscription's slice).
 *
 * Receivers are bound to sources by kind and rank (the first video to the
 * first video), so a publisher that comes back with its sections in
 * another order, or with other SSRCs, feeds the same receivers (bind.c).
 *
 * Thread: the stream's worker, once the control thread has handed them
 * over.
 */
#ifndef MR_SFU_TRACK_H
#define MR_SFU_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "rtcp/rtcp.h"
#include "rtp/vp8_ids.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"
#include "sfu/nack.h"
#include "sfu/rewrite.h"

/* Media sections one publisher may send: a camera, a microphone and
 * several device screens (ultrasound, ECG, endoscope, patient monitor). An
 * offer with more is refused. */
#define MR_MAX_TRACKS 8
/* RTP streams of one source: simulcast layers (issue 17). */
#define MR_MAX_ENCODINGS 3
#define MR_RID_MAX       16

struct mr_peer;
struct mr_pkt_history; /* history.h */

/* Padding-only packets a publisher sends on a media SSRC (its encoder's
 * bandwidth probes; Chromium's H.264 simulcast layers send hundreds) are
 * not forwarded: viewers' sequence numbers skip them, so that a viewer
 * sees no gap to NACK. The last MR_PADS_KEPT of them are remembered, to
 * renumber a packet that arrives late (source.c, mr_encoding_seq). */
#define MR_PADS_KEPT 256
struct mr_pads {
    uint32_t total;              /* skipped so far */
    uint16_t high;               /* the highest sequence number seen */
    bool seen;
    uint16_t seq[MR_PADS_KEPT];  /* the latest, a ring */
    unsigned n, next;
};

/* One RTP stream of a source. */
struct mr_encoding {
    uint32_t ssrc;     /* 0 until announced or learned from a packet */
    uint32_t rtx_ssrc; /* its retransmission stream; 0: none (yet) */
    char rid[MR_RID_MAX + 1]; /* simulcast: its layer's rid; "" otherwise */
    struct mr_rtp_rx_stats rx; /* of what arrived first time (loss before repair) */
    struct mr_nack_list nack;  /* what is missing, for NACKs (video) */
    struct mr_pkt_history *history; /* video: for viewers' NACKs; NULL: none */
    /* For choosing layers (layers.c): what arrives, and how big it is. */
    int64_t last_us;   /* its last media packet; 0: none yet */
    uint64_t octets;   /* payload received */
    uint64_t packets;
    uint64_t rate_octets, rate_packets; /* at the last rate measurement */
    uint32_t rate_bps; /* over the last measurement window */
    uint32_t silence_us; /* silent this long, it has stopped (0: not measured) */
    uint16_t width, height; /* from its last key frame (VP8); 0: unknown */
    struct mr_pads pads;
};

/* A publisher's media section. */
struct mr_source {
    enum mr_media_kind kind;
    char mid[MR_SDP_MID_MAX + 1];
    struct mr_codec codec; /* the publisher's numbering */
    struct mr_ext_ids ext; /* the publisher's extension ids */
    unsigned n_encodings;  /* 1, or its simulcast layers */
    struct mr_encoding enc[MR_MAX_ENCODINGS];
    /* Simulcast: its encodings from the best to the worst (layers.c);
     * n_ranked 0 until the layers have been measured. */
    uint8_t ranked[MR_MAX_ENCODINGS];
    unsigned n_ranked;
    /* Loss repair on the publisher's leg, for the consoles. */
    uint32_t recovered; /* lost packets its retransmissions brought */
    uint32_t gave_up;   /* lost packets given up on */
};

/* What the control thread keeps of a source, to negotiate subscribers and
 * recordings against. */
struct mr_source_desc {
    enum mr_media_kind kind;
    struct mr_codec codec; /* the publisher's numbering */
};

/* A packet resent to one viewer: not again within a round trip, and not
 * more than MR_RESEND_MAX times. */
#define MR_RESENT_SLOTS 64
#define MR_RESEND_MAX   4
struct mr_resent {
    uint16_t seq;   /* the viewer's sequence number */
    uint8_t count;  /* 0: the slot is free */
    uint32_t at_ms; /* when last resent: the monotonic clock in ms, wrapping
                       (differences only); 8 bytes a slot, 512 a receiver */
};

/* A subscriber's media section, or a recording's track. The fields the
 * fan-out reads and writes for every packet come first, so that a
 * receiver's share of a burst touches two cache lines, not four. */
struct mr_receiver {
    int src;               /* the bound source's index, or -1 */
    unsigned encoding;     /* which of its encodings it takes */
    unsigned target;       /* the one it moves to at its next key frame
                              (== encoding when it stays) */
    uint8_t layer_cap;     /* MR_LAYER_CAP_*: the best layer it takes */
    uint8_t bw_cap;        /* the same, for its viewer's downlink (allocate.c) */
    bool compatible;       /* the bound source's codec fits ours */
    bool waiting_keyframe; /* video: held back until a key frame */
    uint32_t out_ssrc;
    struct mr_rewrite rw;
    uint32_t packets_out; /* for the sender reports it gets */
    uint32_t octets_out;
    struct mr_ext_ids ext; /* the receiver's extension ids */
    char mid[MR_SDP_MID_MAX + 1];
    /* Set-up, binding and feedback. */
    enum mr_media_kind kind;
    unsigned rank; /* among its peer's receivers of this kind and stream:
                      which source of that kind it takes */
    bool fir_seen; /* fir_seq holds the viewer's last FIR's */
    uint8_t fir_seq;
    struct mr_codec codec; /* in the receiver's numbering; its pt (near the
                              start) still lies in the second line */
    /* Retransmissions to the viewer (retransmit.c): its RTX stream when it
     * negotiated one (codec.rtx_pt), the round trip from its receiver
     * reports, and the limits that keep one viewer's NACKs (a storm
     * included) its own business. */
    uint32_t rtx_ssrc;
    uint16_t rtx_seq;
    uint32_t sr_ntp_mid; /* the last sender report it was sent */
    int64_t sr_sent_us;
    int64_t rtt_us;      /* 0: not known yet */
    int64_t nack_tat_us; /* rate limit: theoretical arrival time (GCRA) */
    struct mr_resent resent[MR_RESENT_SLOTS];
    /* VP8 picture ids and TL0PICIDX continue across layer switches: what
     * is added to the layer's own, and the last ones sent. */
    struct mr_vp8_ids_map vp8;
    /* The downlink's allocation (allocate.c): since when a better layer
     * has fitted, and what this receiver sends (bit/s, measured there). */
    int64_t bw_up_since_us, bw_down_since_us;
    int64_t bw_raised_us;       /* when bw_cap was last raised; 0: not lately */
    int64_t bw_failed_until_us; /* not raised to bw_failed or better before */
    uint32_t bw_raised_bps;     /* the estimate it was raised on */
    uint32_t bw_failed_bps;     /* the same, for the raise that failed */
    uint8_t bw_failed;
    int64_t rate_us;
    uint32_t rate_octets, rate_packets;
    uint32_t rate_bps;
};

/* One entry of a stream's fan-out list. */
struct mr_sink {
    struct mr_peer *peer;          /* whose transport sends */
    struct mr_receiver *receivers; /* this stream's receivers in that peer */
    unsigned n_receivers;
    const char *cname; /* for translated sender reports */
    bool attached;     /* in the stream's list */
};

/* bind.c (worker) */
/* (Re)binds receivers to pub's sources by kind and rank (pub NULL:
 * unbinds): video waits for a key frame, and the next packet rebases
 * sequence numbers and timestamps. who names them in logs. */
void mr_receivers_bind(struct mr_receiver *rx, unsigned n, const struct mr_peer *pub,
                       const char *who);
void mr_sink_bind(struct mr_sink *sink, const struct mr_peer *pub);
/* The video receiver of rx[0..n) that sends this SSRC, or NULL. */
struct mr_receiver *mr_receivers_video(struct mr_receiver *rx, unsigned n, uint32_t ssrc);
/* A receiver's (or a recording track's) starting state: a random output
 * SSRC and rewriting origin, rank among the first `before` receivers. */
void mr_receiver_init(struct mr_receiver *rx, const struct mr_receiver *before, unsigned n_before);
/* Its RTX stream (SSRC, first sequence number) if its codec has one. */
void mr_receiver_init_rtx(struct mr_receiver *rx);
/* A non-zero random SSRC. */
uint32_t mr_random_ssrc(void);

/* source.c (worker) */
/* A source as negotiated: codec, extension ids, the SSRC the section
 * announces (0: learned from the first packet) and its RTX SSRC, or its
 * simulcast layers' rids (layers[0..n_layers), SSRCs learned); a video
 * source's encodings get their packet histories. */
void mr_source_init(struct mr_source *src, const struct mr_sdp_media *m, const struct mr_codec *c,
                    const struct mr_ext_ids *ext, const struct mr_sdp_sim_stream *layers,
                    unsigned n_layers);
/* Frees srcs[0..n) (allocated as one array) and their encodings' histories. */
void mr_sources_free(struct mr_source *srcs, unsigned n);
/* The source (and encoding) a packet belongs to, by SSRC, else by the mid
 * header extension (RFC 8843 §15), else by a payload type only one source
 * uses; a packet of the negotiated payload type on a new SSRC teaches the
 * encoding its SSRC: a simulcast source's, the one its rid header
 * extension names (without it the packet belongs nowhere). Returns the
 * index or -1. */
struct mr_rtp_header;
struct mr_rtp_ext_list;
int mr_source_find(struct mr_source *srcs, unsigned n, const struct mr_rtp_header *h,
                   const struct mr_rtp_ext_list *ext, const uint8_t *buf, unsigned *enc);
/* The source (and encoding) a retransmission (RFC 4588) belongs to: by
 * its RTX SSRC and format, else learned like mr_source_find learns media
 * SSRCs (a simulcast layer's from the repaired-rid extension). Returns the
 * index or -1. */
int mr_source_rtx(struct mr_source *srcs, unsigned n, const struct mr_rtp_header *h,
                  const struct mr_rtp_ext_list *ext, const uint8_t *buf, unsigned *enc);
/* Whether pt is one of the source's media formats: its codec, or that
 * codec as RED (RFC 2198). */
static inline bool mr_source_media_pt(const struct mr_source *src, uint8_t pt)
{
    return pt == src->codec.pt || (src->codec.red_pt && pt == src->codec.red_pt);
}
/* A padding-only packet of e's SSRC, skipped (one older than a packet
 * already numbered is left as a gap: renumbering would repeat a number);
 * the sequence number viewers' numbering follows for packet seq of e: seq
 * less the padding-only packets skipped before it. */
void mr_encoding_padding(struct mr_encoding *e, uint16_t seq);
uint16_t mr_encoding_seq(struct mr_encoding *e, uint16_t seq);
/* The source with an encoding of that SSRC, or -1. */
int mr_source_by_ssrc(const struct mr_source *srcs, unsigned n, uint32_t ssrc, unsigned *enc);

#endif
