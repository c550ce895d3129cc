/*
 * Internal to relay/sfu: streams, peers, tracks and negotiation plans.
 *
 * Ownership and threads:
 *  - struct mr_stream is shared by the control thread and its worker and is
 *    reference-counted (atomically). Fields are grouped by the one thread
 *    that may touch them.
 *  - struct mr_peer is allocated by the control thread, then handed to its
 *    stream's worker, which alone touches its media fields. It is destroyed
 *    only on the control thread's request (peer_destroy on the worker), so a
 *    worker never frees a peer the control thread may still name.
 *  - struct mr_plan (the parsed offer and the choices made for it) moves
 *    from the control thread to the worker with the peer, and is freed there
 *    once the answer is written.
 */
#ifndef MR_SFU_PRIV_H
#define MR_SFU_PRIV_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "record/record.h"
#include "rtcp/rtcp.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"
#include "sfu/link_health.h"
#include "sfu/relay.h"
#include "sfu/rewrite.h"
#include "sfu/track.h"
#include "sfu/worker.h"
#include "transport/transport.h"

#define MR_CNAME_LEN 17
/* A WHIP or WHEP peer not secure this long after it was created has failed
 * (one that never sends a candidate is never failed by ICE). */
#define MR_PEER_CONNECT_S 30
/* A secure peer that owes packets and has sent none that authenticated
 * this long is dead (transport/liveness.h): ARCHITECTURE.md's "dead peers
 * are detected within about 30 s". */
#define MR_PEER_SILENCE_S 30

struct mr_relay;

/* Decisions for one m-line of an offer. */
struct mr_plan_media {
    bool accepted;
    int track;             /* publisher: its source index; subscriber: the
                              publisher's source it receives */
    struct mr_codec codec; /* in this peer's numbering */
    struct mr_ext_ids ext;
    /* Publisher: the simulcast layers it sends by rid (RFC 8853), in its
     * offer's order; 0: one plain stream. */
    unsigned n_layers;
    struct mr_sdp_sim_stream layers[MR_MAX_ENCODINGS];
};

struct mr_plan {
    struct mr_sdp *offer;  /* owned */
    unsigned transport_m;  /* the m-line whose ICE/DTLS parameters are used */
    struct mr_plan_media media[MR_SDP_MAX_MEDIA];
    unsigned n_tracks;
};

struct mr_bundle;

struct mr_peer {
    /* Immutable after creation. */
    char id[MR_SESSION_ID_LEN + 1];
    enum mr_session_kind kind;
    struct mr_relay *relay;
    struct mr_stream *stream; /* holds a reference; NULL for a room
                                 subscription, which receives several */
    struct mr_worker *worker; /* where it lives (its stream's or room's) */
    struct mr_bundle *bundle; /* a room subscription's streams (bundle.c),
                                 NULL otherwise */
    char cname[MR_CNAME_LEN];
    char frag_media[96];      /* "m=audio 9 UDP/TLS/RTP/SAVPF 111" of the
                                 section carrying the transport */
    char frag_mid[MR_SDP_MID_MAX + 1];
    uint32_t rtcp_ssrc;       /* our SSRC in RTCP we originate */
    bool trickle;             /* answer (or offer) with the host candidates
                                 at once; trickle the later ones */
    unsigned layer_cap;       /* a subscriber's (mr_session_request) */

    /* Worker thread only. */
    struct mr_plan *plan;     /* until the answer is written */
    struct mr_transport *transport;
    struct mr_source *sources;     /* a publisher's, n_sources of them */
    unsigned n_sources;
    struct mr_receiver *receivers; /* a WHEP subscriber's */
    unsigned n_receivers;
    struct mr_sink sink;      /* a WHEP subscriber's entry in its stream */
    bool answered;
    bool gathered;            /* ICE gathering is over */
    GSource *connect_deadline; /* until secure (WHIP/WHEP peers) */
    bool dead;                /* failed or closing: no more media */
    bool attached;            /* in the stream's publisher slot / list */
    int64_t created_us;
    int64_t secure_us;
    int64_t rtt_us;           /* a publisher's round trip (RTCP XR), 0: unknown */
    /* A publisher's congestion feedback (congestion.c), when negotiated. */
    struct mr_twcc_rx *twcc;
    GSource *twcc_timer;
    uint8_t twcc_ext_id;
    /* A viewer's downlink estimate and layer allocation (downlink.h),
     * when it negotiated transport-cc; NULL otherwise. */
    struct mr_downlink *down;
    bool down_none;           /* no receiver of it negotiated transport-cc */

    /* Written by the worker, read by the control thread (relaxed atomics):
     * how the peer is connected, for the operator (session_status.c). */
    int conn_shared;       /* MR_PEER_CONN_* */
    int64_t rtt_shared_us; /* its latest round trip; 0: unknown */
    int layer_shared;      /* a viewer's: MR_LAYER_SHARED(rank, why); 0: unknown */
    int down_kbps_shared;  /* its downlink's estimate; 0: not measured */
};

/* A viewer's layer for the operator: its rank + 1, and enum mr_layer_why. */
#define MR_LAYER_SHARED(rank, why) ((int)(rank) + 1 + ((int)(why) << 4))

#define MR_PEER_CONN_KNOWN   1 /* a pair is selected */
#define MR_PEER_CONN_TCP     2
#define MR_PEER_CONN_RELAYED 4 /* through TURN */

/* Publishes a round trip the worker measured (a publisher's from RTCP XR,
 * a viewer's from its receiver reports). */
static inline void mr_peer_share_rtt(struct mr_peer *p, int64_t rtt_us)
{
    __atomic_store_n(&p->rtt_shared_us, rtt_us > 0 ? rtt_us : 1, __ATOMIC_RELAXED);
}

/* A recording seen from the worker: receivers like a subscriber's (bound
 * to the publisher's sources, rewritten, gated on key frames), whose packets
 * go into the recorder's ring. Allocated by the control thread, owned by
 * the stream's worker once attached. */
struct mr_rec_tap {
    struct mr_recording *rec; /* a reference */
    unsigned n_receivers;
    struct mr_receiver receivers[MR_MAX_TRACKS];
    char cname[MR_CNAME_LEN];
};

/* Key-frame requests for one source of the publisher (keyframe.c). */
struct mr_keyframe_gate {
    int64_t last_request_us;
    int64_t last_keyframe_us; /* when a key-frame packet was last forwarded */
    bool deferred;            /* someone asked since the last key frame: the
                                 retry asks for them */
    uint8_t fir_seq;          /* RFC 5104: per media sender */
};

struct mr_stream {
    int refs;                 /* atomic */
    char room[MR_NAME_MAX + 1];
    char name[MR_NAME_MAX + 1];
    char key[MR_STREAM_KEY_MAX + 1];            /* "room/name" */
    struct mr_worker *worker;
    unsigned grace_s;         /* how long viewers wait for a publisher */

    /* Control thread only. */
    char pub_session[MR_SESSION_ID_LEN + 1]; /* "" when nobody publishes */
    char pub_sub[MR_SUB_MAX + 1];
    char pub_role[MR_ROLE_NAME_MAX + 1];
    bool pub_ready;           /* the publisher's answer went out */
    struct mr_source_desc pub_sources[MR_MAX_TRACKS];
    unsigned n_pub_sources;
    unsigned n_sessions;

    unsigned n_room_holds;    /* room subscriptions offering or sending it:
                                 they keep it registered like sessions */
    unsigned n_room_receivers; /* of which with an answered section */
    bool muted[2];            /* by enum mr_media_kind (audio, video) */
    bool pinned;              /* at its top layer (layer_control.c) */
    struct mr_relay_room *home;     /* its room, a reference while registered */

    struct mr_recording *recording; /* a reference; NULL when not recording */
    struct mr_source_desc rec_sources[MR_MAX_TRACKS]; /* what it was started with */
    unsigned n_rec_sources;
    char rec_error[256];      /* the last recording failure, for the API */

    /* Worker thread only. */
    struct mr_peer *publisher;
    struct mr_rec_tap *rec_tap;
    GPtrArray *sinks;         /* struct mr_sink *, not owned: the fan-out */
    bool fwd_muted[2];        /* the worker's copy of muted[] */
    bool fwd_pinned;          /* and of pinned: layers.c ignores viewers'
                                 downlink caps */
    GSource *tick;            /* RTCP reports, keyframe requests, link health */
    GSource *grace;           /* viewers waiting for a publisher */
    GSource *keyframe_retry;  /* key-frame requests deferred (keyframe.c) */
    GSource *layers_tick;     /* simulcast layer choice (layers.c); only
                                 with a simulcast publisher */
    int64_t layers_rated_us;  /* the layers' bitrates were last measured */
    GSource *nack_timer;      /* NACKs to the publisher (repair.c); armed
                                 while a packet is missing */
    struct mr_keyframe_gate kf[MR_MAX_TRACKS]; /* per publisher source */
    bool shedding;            /* video not fanned out: worker behind (overload.c) */
    int64_t backlog_checked_us, shed_since_us, shed_logged_us;
    unsigned shed_episodes;   /* since the last warning */
    struct mr_link_meter link; /* the publisher leg's counters at the start
                                  of the window (link_health.c) */

    /* Written by the worker, read by the control thread (atomics only). */
    struct mr_link_shared link_out; /* the last window's figures */
};

/* A room on the control thread: where its streams and room subscriptions
 * live. Every stream of a room and every room subscription of it share one
 * worker, so a room subscription's transport can send any of them without
 * crossing threads. Referenced by its registered streams and its room
 * subscriptions; the worker is chosen with the first and kept until the
 * last goes. */
struct mr_relay_room {
    int refs;                 /* control thread only */
    char name[MR_NAME_MAX + 1];
    struct mr_worker *worker;
};

/* stream.c */
struct mr_stream *mr_stream_new(const char *room, const char *name, struct mr_worker *w,
                                unsigned grace_s);
struct mr_stream *mr_stream_ref(struct mr_stream *s);
void mr_stream_unref(struct mr_stream *s);
/* Worker: attach/detach a ready peer (publisher slot or subscriber list). */
void mr_stream_attach(struct mr_stream *s, struct mr_peer *p);
void mr_stream_detach(struct mr_stream *s, struct mr_peer *p);
/* Worker: add/remove a sink (a WHEP subscriber or a room subscription's
 * slice); a new one is bound to the current publisher. */
void mr_stream_add_sink(struct mr_stream *s, struct mr_sink *sink);
void mr_stream_remove_sink(struct mr_stream *s, struct mr_sink *sink);
/* Control thread: has the worker apply st->muted. */
void mr_stream_post_muted(struct mr_stream *s);
/* Worker: restarts the viewers' receivers of one kind (not the recording's):
 * the next packet rebases their sequence numbers and timestamps, so a pause
 * does not look like loss, and video waits for a key frame. */
void mr_stream_restart_receivers(struct mr_stream *s, enum mr_media_kind kind);
/* keyframe.c (worker): key-frame requests to the publisher, per source,
 * coalesced. src: a source index, or -1 for every video source. */
void mr_keyframe_request(struct mr_stream *s, int src, int64_t now_us);
/* For the video sources these receivers take (a new sink). */
void mr_keyframe_request_for(struct mr_stream *s, const struct mr_receiver *rx, unsigned n,
                             int64_t now_us);
/* Whether a receiver of source src (or the recorder) waits for one. */
bool mr_keyframe_wanted(struct mr_stream *s, int src);
/* The tick (and the retry): asks again for the sources someone still waits
 * on or asked for since their last key frame (a lost PLI or key frame would
 * leave a viewer black). */
void mr_keyframe_tick(struct mr_stream *s, int64_t now_us);

/* layers.c (worker) */
/* Measures a simulcast source's layers over the last window_us and ranks
 * them, best first (src->ranked). */
void mr_layers_rank(struct mr_source *src, int64_t now, int64_t window_us);
/* The layer a receiver now on `current` with that cap (MR_LAYER_CAP_*)
 * should take: the best alive within the cap, else the best alive. */
unsigned mr_layers_pick(const struct mr_source *src, int64_t now, unsigned current, unsigned cap);
/* The encodings of source src that receivers take or move to (bit e). */
unsigned mr_layers_wanted(struct mr_stream *s, int src);
/* Starts choosing layers when s's publisher sends simulcast; stops. */
void mr_layers_start(struct mr_stream *s);
void mr_layers_stop(struct mr_stream *s);
/* A new publisher: every source starts afresh (FIR sequence numbers go on). */
void mr_keyframe_reset(struct mr_stream *s);
/* The stream is freed: no retry may fire. */
void mr_keyframe_stop(struct mr_stream *s);

/* link_health.c (worker): the publisher leg's figures for the consoles. */
/* A new publisher, or none: a new window starts, the figures are unknown
 * until it ends. */
void mr_link_health_reset(struct mr_stream *s, int64_t now_us);
/* Ends the window now: publishes its figures into s->link_out. */
void mr_link_health_sample(struct mr_stream *s, int64_t now_us);
/* The stream's tick: ends the window when it is MR_LINK_WINDOW_US old, or
 * starts or stops measuring when the publisher came or went. */
void mr_link_health_tick(struct mr_stream *s, int64_t now_us);

/* overload.c (worker): checks the publisher's socket backlog now and then;
 * true while the stream's video must not be fanned out. */
bool mr_overload_shedding(struct mr_stream *s, struct mr_peer *pub, int64_t now_us);

/* plan.c (control thread) */
int mr_plan_publish(const char *offer, size_t len, struct mr_plan **out, char *detail,
                    size_t detail_len);
int mr_plan_subscribe(const char *offer, size_t len, const struct mr_source_desc *pub,
                      unsigned n_pub, struct mr_plan **out, char *detail, size_t detail_len);
void mr_plan_free(struct mr_plan *plan);

/* answer.c (worker) */
int mr_answer_write(struct mr_peer *p, char *out, size_t cap);
/* The relay's ICE fragment (RFC 8840 §9) after a restart. */
int mr_answer_write_frag(struct mr_peer *p, char *out, size_t cap);

/* peer.c (worker) */
void mr_peer_start(void *peer);   /* mr_worker_call target */
void mr_peer_destroy(void *peer); /* mr_worker_call target */
void mr_peer_trickle(struct mr_peer *p, struct mr_sdp_frag *frag); /* takes frag */
void mr_peer_restart_ice(struct mr_peer *p, struct mr_sdp_frag *frag); /* takes frag */
/* Hands remote candidates (from SDP or a trickle fragment) to ICE. */
void mr_peer_add_remote_candidates(struct mr_peer *p, const struct mr_sdp_candidate *cands,
                                   unsigned n, bool end_of_candidates);

/* bundle.c (worker): a room subscription's streams on its one transport. */
/* The transport gathered: send the control thread what the offer needs. */
void mr_bundle_gathered(struct mr_peer *p);
/* The transport is secure / failed: (de)attach every slice to its stream. */
void mr_bundle_attach_all(struct mr_peer *p);
void mr_bundle_detach_all(struct mr_peer *p);
/* Frees the bundle (the peer is being destroyed). */
void mr_bundle_free(struct mr_peer *p);
/* Keeps trickled candidates until the answer sets the remote side: true
 * when frag was taken. */
bool mr_bundle_queue_trickle(struct mr_peer *p, struct mr_sdp_frag *frag);
/* The video receiver of a room subscription (or a WHEP peer) that sends
 * this SSRC, and its stream, for the client's key-frame requests; NULL
 * when none. */
struct mr_receiver *mr_peer_video_receiver(struct mr_peer *p, uint32_t ssrc,
                                           struct mr_stream **stream);
struct mr_receiver *mr_bundle_video_receiver(struct mr_peer *p, uint32_t ssrc,
                                             struct mr_stream **stream);
/* A viewer's sinks and their streams, at most max: a WHEP subscriber's
 * one, or a room subscription's slots. */
#define MR_PEER_MAX_SINKS 16
unsigned mr_peer_sinks(struct mr_peer *p, struct mr_sink **sinks, struct mr_stream **streams,
                       unsigned max);

/* record_tap.c */
struct mr_rec_tap *mr_rec_tap_new(const struct mr_source_desc *pub, unsigned n_pub,
                                  struct mr_record_params *params);
void mr_rec_tap_free(struct mr_rec_tap *tap);
/* Control thread: hands a tap to the stream's worker (NULL: detach). */
void mr_stream_post_tap(struct mr_stream *s, struct mr_rec_tap *tap);
/* Worker: a sender report of publisher source ti, translated for the tap. */
void mr_rec_tap_sender_report(struct mr_rec_tap *tap, int ti, unsigned enc,
                              const struct mr_rtcp_sr *sr, int64_t now_us);

/* forward.c (worker, hot path) */
void mr_forward_rtp(struct mr_peer *pub, uint8_t *buf, size_t len);

/* repair.c (worker): loss repair on the publisher's leg. */
struct mr_fwd_packet;
/* A packet of no media SSRC: if it is a retransmission (RTX) of a source,
 * unwraps it in place into the original (*buf, *len and pkt follow) and
 * returns the source's index; else counts the drop and returns -1. */
int mr_repair_rtx(struct mr_peer *pub, struct mr_fwd_packet *pkt, size_t *len, uint8_t **buf);
/* Accounts a video packet's sequence number (gaps become NACKs); false
 * when it is a retransmission of a packet that needs none (dropped). */
bool mr_repair_on_packet(struct mr_stream *s, struct mr_peer *pub, const struct mr_fwd_packet *pkt,
                         bool rtx);
/* The stream is freed: its NACK timer goes. */
void mr_repair_stop(struct mr_stream *s);
/* RTCP XR for the publisher leg's round trip: the Receiver Reference Time
 * block sent with reports, and the publisher's DLRR answer. */
int mr_repair_write_rrtr(struct mr_peer *pub, uint8_t *buf, size_t cap);
void mr_repair_on_xr(struct mr_peer *pub, const struct mr_rtcp_pkt *pkt);

/* congestion.c (worker): transport-wide congestion feedback to a
 * publisher that negotiated it (set up with its sources, freed with it),
 * and each packet's arrival for it. */
struct mr_twcc_rx;
void mr_congestion_setup(struct mr_peer *p);
void mr_congestion_free(struct mr_peer *p);
void mr_congestion_on_packet(struct mr_peer *p, const uint8_t *buf,
                             const struct mr_rtp_ext_list *ext, int64_t now_us);

/* retransmit.c (worker): a viewer's NACK answered from the history. */
void mr_retransmit_nack(struct mr_peer *sub, const struct mr_rtcp_fb *fb, int64_t now_us);
/* A viewer's receiver report: its round trip. */
void mr_retransmit_on_rr(struct mr_peer *sub, const struct mr_rtcp_pkt *pkt, int64_t now_us);

/* forward.c: writes pkt as dst receives it (its SSRC, payload type,
 * extension ids) with the given output sequence number and timestamp, and
 * the transport-wide sequence number tseq (2 bytes, network order; NULL:
 * none). Returns the length, or 0 when it does not fit cap. */
size_t mr_forward_write(const struct mr_receiver *dst, const struct mr_source *src,
                        const struct mr_fwd_packet *pkt, uint16_t seq, uint32_t ts,
                        const uint8_t *tseq, uint8_t *out, size_t cap);

/* sfu_rtcp.c (worker) */
void mr_rtcp_from_publisher(struct mr_peer *pub, const uint8_t *buf, size_t len);
void mr_rtcp_from_subscriber(struct mr_peer *sub, const uint8_t *buf, size_t len);
void mr_rtcp_send_receiver_reports(struct mr_peer *pub, int64_t now_us);
/* For the encodings of source src in mask (bit e; 0: all of them). */
void mr_rtcp_send_keyframe_request(struct mr_peer *pub, unsigned src, uint8_t fir_seq,
                                   unsigned mask);

/* relay.c: worker -> control thread notifications. */
void mr_relay_peer_answered(struct mr_peer *p, int err, const char *detail, char *answer,
                            size_t answer_len);
void mr_relay_peer_failed(struct mr_peer *p, const char *why);
/* trickle.c: a local candidate found after the answer ("candidate:..."),
 * or NULL once gathering is done; for the session's candidate callback. */
void mr_relay_peer_candidate(struct mr_peer *p, const char *line);
/* The relay's new ICE fragment after a restart (takes frag). */
void mr_relay_peer_restarted(struct mr_peer *p, int err, char *frag, size_t len);

/* Accessors used by workers. */
const struct mr_config *mr_relay_config(const struct mr_relay *r);
const struct mr_dtls_identity *mr_relay_identity(const struct mr_relay *r);
const char *mr_relay_stun_ip(const struct mr_relay *r);
const struct mr_worker_pool *mr_relay_workers(const struct mr_relay *r);

#endif
