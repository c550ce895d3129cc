/*
 * Internal to the test peer: the peer and track structs shared by peer.c
 * (life cycle, transport callbacks), peer_sdp.c (offers and answers),
 * peer_send.c (publishing) and peer_recv.c (receive checks and RTCP).
 */
#ifndef MR_TEST_PEER_PRIV_H
#define MR_TEST_PEER_PRIV_H

#include "media.h"
#include "peer.h"
#include "rtcp/rtcp.h"
#include "rtp/rtp.h"

#define PEER_NAME_MAX 64
/* Transit-time histogram: 5 µs buckets up to 100 ms, then one overflow. */
#define LAT_BUCKET_US 5
#define LAT_BUCKETS   20000
/* Probe counters remembered to tell duplicates from late arrivals. */
#define COUNTER_WINDOW 1024
/* When the loop was blocked longer than this, media skips to the present. */
#define MEDIA_MAX_LAG_US 300000
/* Payload type and header extension ids the peer offers (Chromium's). */
#define PT_OPUS     111
#define PT_VP8      96
#define PT_H264     102
#define PT_VP8_RTX  97 /* RFC 4588 formats of VP8 and H.264, as Chromium numbers them */
#define PT_H264_RTX 103
#define EXT_ID_TWCC 3
#define EXT_ID_MID  4
#define EXT_ID_ALVL 1 /* ssrc-audio-level, offered with MR_TEST_CLIENT_EXT */
#define EXT_ID_RID  10 /* rtp-stream-id and repaired-rtp-stream-id, offered */
#define EXT_ID_RRID 11 /* with cfg.video_layers */
/* Simulcast layers a publisher can send (cfg.video_layers). */
#define MR_TP_MAX_LAYERS 3
#define URI_TWCC    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

struct mr_tp_latency {
    uint32_t *buckets; /* LAT_BUCKETS + 1, allocated for subscribers only */
    uint64_t n;
    int64_t max_us;
};

struct mr_tp_window {
    bool started;
    uint32_t high;                      /* highest counter seen */
    uint64_t bits[COUNTER_WINDOW / 64]; /* bit c % COUNTER_WINDOW: seen */
};

/* One sent video packet, as it was before SRTP (len 0: empty). */
#define HISTORY_SLOT 1280
struct mr_tp_sent {
    uint16_t seq;
    uint16_t len;
    uint8_t data[HISTORY_SLOT];
};

struct mr_tp_track {
    struct mr_test_track_stats st; /* kept up to date in place */
    uint32_t clock_rate;

    /* Sending. */
    uint16_t seq;
    uint32_t ts_base;
    uint64_t units;  /* frames (video) or packets (audio) scheduled */
    int64_t next_us; /* when unit `units` is due */
    uint16_t picture_id;
    bool keyframe_pending; /* the next frame is a key frame */
    /* A frame being paced out (cfg.pacing_pct): packet `paced_next` of
     * `paced_n` is due at paced_due_us, the rest every paced_gap_us. */
    struct mr_test_frame paced;
    uint32_t paced_ts;
    unsigned paced_next, paced_n;
    int64_t paced_due_us, paced_gap_us;
    bool keyframe_requested; /* ... because of a PLI or FIR */
    size_t next_key_bytes;   /* the next key frame's size, 0: the usual
                                (mr_test_peer_send_keyframe) */
    int64_t last_keyframe_us;
    /* cfg.client (MR_TEST_CLIENT_*): */
    uint8_t level_ext_id; /* negotiated audio-level id, 0: none */
    /* A simulcast layer (st.rid): the negotiated rtp-stream-id and
     * repaired-rtp-stream-id ids, 0 while the answer has not accepted
     * simulcast (then no rid is sent). */
    uint8_t rid_ext_id, rrid_ext_id;
    bool ssrc_acked;      /* a report block named our SSRC: no more mid
                             (nor rid) with MR_TEST_CLIENT_EXT */
    uint64_t rng;         /* frame and packet sizes */
    int64_t next_sr_us;   /* when this track's next SR is due */
    /* Loss repair (peer_repair.c): the last MR_TEST_PEER_HISTORY video
     * packets sent, slot seq % MR_TEST_PEER_HISTORY (allocated once, on
     * the track's first packet, kept across resets like lat.buckets);
     * the RTX stream's next sequence number; cfg.send_loss_pct's draws. */
    struct mr_tp_sent *history;
    uint16_t rtx_seq;
    uint64_t loss_rng;

    /* Receiving. */
    bool have_seq;
    uint16_t last_seq;
    uint32_t last_ts;
    uint32_t last_ssrc;
    uint32_t last_key_ts;
    bool have_high;
    uint16_t high_seq; /* newest video sequence number (cfg.nack) */
    struct mr_tp_window win;
    struct mr_rtp_rx_stats rx;
    struct mr_tp_latency lat;
};

struct mr_test_peer {
    struct mr_test_peer_config cfg;
    char name[PEER_NAME_MAX];
    char local_ip[64];
    struct mr_dtls_identity *own_identity;
    const struct mr_dtls_identity *identity;
    struct mr_transport *t;
    bool gathered;
    bool remote_applied;
    bool answered;      /* answerer mode: the first answer went out */
    bool answer_active; /* ... saying a=setup:active */
    bool was_secure;
    int64_t secure_us;
    enum mr_transport_state state;
    char state_why[96];
    char cname[17];
    char msid_stream[40];
    uint32_t rtcp_ssrc;       /* the SSRC of a subscriber's own RTCP */
    uint32_t audio_rtcp_ssrc; /* MR_TEST_CLIENT_RTCP: its audio receiver's, */
    int64_t next_audio_rr_us; /* whose next RR is due then */

    unsigned n_tracks;
    struct mr_tp_track tracks[MR_TEST_PEER_MAX_TRACKS];
    unsigned layers_accepted; /* simulcast layers the answer accepted */
    char remote_ufrag[MR_SDP_ICE_MAX + 1];
    unsigned n_remote_cands;
    struct mr_sdp_candidate remote_cands[MR_SDP_MAX_CANDIDATES];

    bool media_on;
    int64_t media_start_us;
    GSource *media_timer;
    GSource *rtcp_timer;

    uint64_t plis_received, firs_received, rrs_received, srs_received;
    uint64_t keyframes_on_request;
    uint64_t plis_sent, rrs_sent;
    uint64_t nacks_received, nacked_packets, resent_packets, resend_missed;
    uint64_t send_dropped;
    uint64_t nacks_sent, nack_packets_sent;
    /* The remote side's latest XR Receiver Reference Time (RFC 3611 §4.4),
     * answered with DLRR in the next SR; rrtr_us 0: none to answer. */
    uint32_t rrtr_ssrc, rrtr_lrr;
    int64_t rrtr_us;
    uint64_t rtp_unmatched;
};

/* Internal functions carry the mr_tp_ prefix. */

/* peer.c */
/* Whether track i starts a media section (the first of its mid: the others
 * are the section's further simulcast layers). */
bool mr_tp_section_head(const struct mr_test_peer *p, unsigned i);
int mr_tp_create_transport(struct mr_test_peer *p, bool controlling);
/* The local candidates the other side is told of (cfg.ice_tcp_only: the
 * tcptype active one only), as "candidate:..." lines; how many. */
unsigned mr_tp_local_candidates(struct mr_test_peer *p, char (*lines)[MR_ICE_CANDIDATE_MAX],
                                unsigned max);
struct mr_tp_track *mr_tp_track_by_mid(struct mr_test_peer *p, const char *mid);
void mr_tp_reset_track(struct mr_tp_track *t, enum mr_media_kind kind, const char *mid);

/* A uniform random number in [0, 1) from *state (xorshift64*); the peer's
 * size and interval draws, deterministic per seed. */
double mr_tp_uniform(uint64_t *state);

/* peer_send.c (publisher) */
void mr_tp_media_start(struct mr_test_peer *p);
void mr_tp_media_stop(struct mr_test_peer *p);
void mr_tp_send_sender_reports(struct mr_test_peer *p, int64_t now_us);
/* MR_TEST_CLIENT_RTCP: the SRs that are due by now_us, per track. */
void mr_tp_send_due_sender_reports(struct mr_test_peer *p, int64_t now_us);
/* RTCP to a sender: receiver reports, PLI, FIR, NACK. */
void mr_tp_sender_rtcp(struct mr_test_peer *p, const uint8_t *buf, size_t len);
/* The video track sending on ssrc, or NULL. */
struct mr_tp_track *mr_tp_video_track(struct mr_test_peer *p, uint32_t ssrc);

/* peer_repair.c (publisher): loss repair and injected loss */
/* Sends an RTP packet written into buf (room for SRTP up to cap): keeps a
 * video packet in the track's history first, then drops it instead of
 * sending it with probability cfg.send_loss_pct. */
void mr_tp_send_media(struct mr_test_peer *p, struct mr_tp_track *t, uint8_t *buf, size_t len,
                      size_t cap);
/* A generic NACK (RFC 4585 §6.2.1) for one of our video SSRCs: sends again
 * what the history still holds. */
void mr_tp_on_nack(struct mr_test_peer *p, const struct mr_rtcp_fb *fb);
/* Forgets the history (the allocation stays). */
void mr_tp_history_clear(struct mr_tp_track *t);
/* An XR packet: remembers its Receiver Reference Time block, if any. */
void mr_tp_on_xr(struct mr_test_peer *p, const struct mr_rtcp_pkt *pkt, int64_t now_us);
/* Writes an XR DLRR packet from ssrc answering the last RRTR (once), into
 * out; returns its length, 0 when there is nothing to answer, or
 * MR_ENOSPC. */
int mr_tp_write_dlrr(struct mr_test_peer *p, uint32_t ssrc, uint8_t *out, size_t cap,
                     int64_t now_us);

/* peer_recv.c (subscriber) */
void mr_tp_receive_rtp(struct mr_test_peer *p, uint8_t *buf, size_t len);
/* RTCP to a receiver: sender reports. */
void mr_tp_receiver_rtcp(struct mr_test_peer *p, const uint8_t *buf, size_t len);
void mr_tp_send_receiver_reports(struct mr_test_peer *p, int64_t now_us);
void mr_tp_latency_summary(const struct mr_tp_latency *l, struct mr_test_latency *out);

#endif
