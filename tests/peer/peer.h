/*
 * The C test peer: a WebRTC endpoint built on the relay's own transport
 * (relay/transport: ICE + DTLS + SRTP), for integration tests and the load
 * benchmark. It plays a publisher (sendonly audio + video, synthetic media)
 * or a subscriber (recvonly audio + video, with detailed receive checks),
 * either as the offerer (WHIP/WHEP: it writes an offer like a browser and
 * applies the server's answer) or as the answerer (servers such as Janus
 * offer to their subscribers).
 *
 * Threads: a peer lives on the GMainContext given in its configuration; every
 * call must be made by the thread that iterates that context, and nothing
 * happens unless it is iterated (see mr_test_loop_until). Several peers may
 * share one context.
 *
 * Media a publisher sends (see media.h): video frames at a fixed rate, one
 * RTP timestamp per frame, split into packets of at most 1200 bytes and sent
 * in a burst, as encoders do (the marker bit ends each frame); a key frame
 * first, every keyframe_interval_ms, and on the next frame after a PLI or
 * FIR (requests that arrive before it are coalesced into it). Opus packets
 * every 20 ms. A sender report per track every rtcp_interval_ms. When the
 * loop was blocked for a while, the peer does not burst to catch up: like a
 * capturer that dropped frames, it skips to the present.
 *
 * Simulcast (cfg.video_layers 2 or 3): a publisher sends its video as
 * layers by rid (RFC 8851/8853), as Chromium does with three
 * sendEncodings: each layer its own SSRC, RTX SSRC, sequence numbers,
 * frames and key frames, one RTP timeline for all (the same timestamp for
 * the same picture), its picture size in its VP8 key frames (320x180,
 * 640x360, 1280x720) and a share of video_kbps (8, 22 and 70 %); the
 * rtp-stream-id extension on its packets, the repaired one on its RTX.
 * The offer says a=rid:<id> send and a=simulcast:send q;h;f (and no
 * a=ssrc: the receiver learns them from the rids); the answer must say
 * a=rid:<id> recv and a=simulcast (stats: layers_accepted), else only the
 * top layer goes, without rid. A PLI or FIR asks the layer it names.
 *
 * Loss repair, as a browser does it: a publisher keeps its last
 * MR_TEST_PEER_HISTORY video packets per track and answers generic NACKs
 * (RFC 4585 §6.2.1) with the packets it still has: as RTX (RFC 4588) when
 * the answer kept the RTX format it offers (with an FID group), else again
 * on the media SSRC. A subscriber that negotiated RTX (answerer mode)
 * unwraps retransmissions and counts them as the packets they carry.
 */
#ifndef MR_TEST_PEER_H
#define MR_TEST_PEER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtls/dtls.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"
#include "transport/transport.h"

#define MR_TEST_PEER_MAX_TRACKS 8
/* Video packets a publisher keeps per track to answer NACKs (about 3.5 s
 * at 2.5 Mbit/s): as many as the relay's own history. */
#define MR_TEST_PEER_HISTORY 1024

enum mr_test_peer_role { MR_TEST_PUBLISHER, MR_TEST_SUBSCRIBER };

/* Zero fields take the default given in brackets. */
struct mr_test_peer_config {
    GMainContext *ctx; /* borrowed, outlives the peer */
    enum mr_test_peer_role role;
    const char *name;                        /* for messages ["peer"], copied */
    const char *local_ip;                    /* host candidates ["127.0.0.1"] */
    const struct mr_dtls_identity *identity; /* borrowed; NULL: the peer makes one */
    const char *srtp_profiles;               /* for the peer's own identity: DTLS-SRTP
                                                profiles offered, OpenSSL names, e.g.
                                                "SRTP_AES128_CM_SHA1_80" (what browsers
                                                negotiate) [GCM, then AES-CM] */
    bool no_audio;                           /* leave out the audio section */
    bool no_video;                           /* leave out the video section */
    enum mr_codec_id video_codec;            /* what a publisher sends [VP8]; it
                                                offers this one first */
    bool offer_h264;                         /* also offer H.264 (a subscriber
                                                always offers VP8 and H.264) */
    unsigned video_kbps;                     /* [1000] */
    unsigned fps;                            /* [30] */
    unsigned audio_bytes;                    /* Opus payload size [80: 32 kbit/s] */
    unsigned keyframe_interval_ms;           /* [2000] */
    unsigned pacing_pct;                     /* 0: a frame's packets leave in one
                                                burst; else they are spread at this
                                                percentage of video_kbps (250: the
                                                2.5 x of libwebrtc's pacer, what
                                                browsers send), a frame within
                                                its frame interval [0] */
    unsigned rtcp_interval_ms;               /* SRs, RRs [1000] (without
                                                MR_TEST_CLIENT_RTCP) */
    unsigned client;                         /* MR_TEST_CLIENT_* bits: what
                                                behaves like a browser
                                                (below) [0: synthetic] */
    bool manual_start;                       /* a publisher waits for
                                                mr_test_peer_start_media instead
                                                of starting when secure */
    bool no_rtx;                             /* a publisher offers no RTX format:
                                                NACKed packets go again on their
                                                own SSRC */
    bool ice_tcp_only;                       /* ICE-TCP (RFC 6544) only, as a
                                                client whose network blocks UDP:
                                                no UDP candidate is gathered, and
                                                offers, answers and trickle
                                                fragments carry the tcptype active
                                                candidate only (Chromium's; the
                                                relay's passive one accepts it) */
    bool nack;                               /* a subscriber NACKs each gap in its
                                                video (RFC 4585 generic NACK) once,
                                                when the packet after it arrives,
                                                and offers RTX for the repairs, as
                                                browsers do [off: it only counts
                                                loss] */
    unsigned video_layers;                   /* a publisher's simulcast layers by
                                                rid, 2 (h, f) or 3 (q, h, f);
                                                0 or 1: one stream, no rid [1] */
    double send_loss_pct;                    /* a publisher drops this share of
                                                its RTP packets (originals and
                                                resends, audio and video) at
                                                random instead of sending them,
                                                as a lossy uplink would; never
                                                RTCP, STUN or DTLS [0] */
    /* Tests: every RTP packet the peer receives, decrypted, before its
     * checks (borrowed; called on the peer's context). NULL: none. */
    void (*rtp_tap)(void *arg, const uint8_t *pkt, size_t len);
    void *rtp_tap_arg;
};

/*
 * What a peer does like the browsers measured by tests/bench/clients
 * (Chromium 156 publishing VP8 2.5 Mbit/s + Opus over WHIP and watching over
 * WHEP through medrelay; tests/bench/README.md, "Real clients"), each a bit
 * of cfg.client so a benchmark can turn them on one at a time. Without them
 * the peer is synthetic: frames of one size, a 4 x key frame every
 * keyframe_interval_ms, Opus packets of audio_bytes, the mid extension on
 * every packet, an SR per track and an RR per peer every rtcp_interval_ms.
 */
enum {
    /* Frame sizes spread around bitrate / fps (sd 4 %, every 64th frame
     * 1.4 x, as libvpx's golden frames), key frames only when asked (PLI,
     * FIR; libwebrtc sends none periodically) and 2 x a frame, split into
     * near-equal packets of at most 1200 RTP bytes; Opus payloads spread
     * around audio_bytes (sd 20 bytes, 25 to 128). */
    MR_TEST_CLIENT_SIZES = 1u << 0,
    /* Header extensions: the mid only until a report block from the remote
     * side acknowledges the SSRC (libwebrtc's rule), the audio level
     * (RFC 6464, offered with id 1) on every audio packet. */
    MR_TEST_CLIENT_EXT = 1u << 1,
    /* RTCP: a publisher's SR for video every 360000 / kbit/s ms (144 ms at
     * 2.5 Mbit/s) and for audio every 5 s, each x 0.5-1.5 at random; a
     * subscriber's RR for video with a REMB every 200 ms and an RR for
     * audio about every 5 s, reduced size (RFC 5506, no SDES), as Chromium
     * sends them whether or not goog-remb was negotiated. */
    MR_TEST_CLIENT_RTCP = 1u << 2,
    /* A frame's packets a little apart, as Chromium's pacer thread sends
     * them (0.2-0.4 ms for a frame of 9, p50), not in one tight loop
     * (about 50 us): the publisher's thread sleeps between some of them. */
    MR_TEST_CLIENT_SPREAD = 1u << 3,
    MR_TEST_CLIENT_REAL =
        MR_TEST_CLIENT_SIZES | MR_TEST_CLIENT_EXT | MR_TEST_CLIENT_RTCP | MR_TEST_CLIENT_SPREAD,
};

/* Transit time samples (receive time minus the probe's send time). */
struct mr_test_latency {
    uint64_t n;
    int64_t p50_us, p99_us, max_us;
};

/* One media section of the peer, with what was sent or received on it. */
struct mr_test_track_stats {
    enum mr_media_kind kind;
    char mid[8];
    bool accepted;           /* the remote description accepted the section */
    enum mr_codec_id codec;  /* negotiated */
    uint8_t pt;              /* negotiated payload type */
    uint8_t mid_ext_id;      /* negotiated id of the mid extension, 0: none */
    uint32_t answer_fb;      /* MR_FB_* feedback the remote description kept */
    unsigned answer_extmaps; /* header extensions it kept */

    /* Sending (publisher). */
    uint32_t ssrc;
    uint32_t source;       /* the probes' source id */
    uint64_t sent_packets; /* also the next probe counter */
    uint64_t sent_bytes;   /* payload bytes */
    uint64_t sent_frames;
    uint64_t sent_keyframes;
    uint64_t srs_sent;
    uint8_t rtx_pt;    /* negotiated RTX format (RFC 4588) for pt, 0: none */
    uint32_t rtx_ssrc; /* a publisher's RTX SSRC (offered in an FID group) */
    bool ssrc_reported; /* a report block from the remote side named ssrc
                           (a relay knows the stream) */
    /* A simulcast layer (cfg.video_layers): its rid ("" for a plain
     * stream), the picture size its VP8 key frames carry and its bitrate.
     * The layers of a section are tracks of their own with the same mid,
     * lowest first. */
    char rid[4];
    uint16_t width, height;
    unsigned kbps;
    bool paused; /* mr_test_peer_set_layer_active(false) */

    /* Receiving (subscriber). */
    uint32_t remote_ssrc;    /* a=ssrc of the remote description, 0: none */
    uint32_t rx_ssrc;        /* first SSRC received */
    unsigned rx_ssrcs;       /* SSRC changes seen + 1 (1 when all is well) */
    uint8_t rx_pt;           /* last payload type received */
    uint64_t pt_mismatch;    /* packets whose PT is not the negotiated one */
    uint64_t mid_mismatch;   /* packets without our mid (when negotiated) */
    uint64_t packets, bytes; /* bytes: RTP payload */
    int64_t first_us;        /* monotonic time of the first packet, 0: none */
    int64_t last_us;
    uint64_t keyframes; /* key frames (their first packets) received */
    uint16_t key_width, key_height; /* the picture size of the latest VP8 key
                                       frame received (a simulcast layer's) */
    int64_t first_keyframe_us;
    uint64_t before_keyframe; /* video packets before the first key frame */
    uint64_t seq_jumps;       /* RTP sequence steps other than +1 */
    uint64_t seq_backwards;   /* of which backwards (or repeated) */
    uint64_t ts_backwards;    /* RTP timestamps older than the previous one */
    uint64_t probe_missing;   /* payloads without a probe */
    unsigned sources;         /* distinct publishers seen (probe source) */
    uint32_t cur_source;      /* the latest one */
    int64_t source_first_us;  /* when its first packet arrived */
    uint64_t source_packets;  /* packets from it */
    uint32_t source_first_counter, last_counter;
    uint64_t lost; /* probe counters skipped (and not seen later) */
    uint64_t duplicates;
    uint64_t reordered; /* arrived after a later counter */
    /* At the latest change of source: the RTP sequence and timestamp steps
     * from the old source's last packet to the new one's first, and the wall
     * time between them. */
    int32_t switch_seq_step;
    int64_t switch_ts_step;
    int64_t switch_gap_us;
    uint64_t srs_received;
    uint64_t rtx_packets;   /* retransmissions received (RTX, unwrapped) */
    int64_t sr_max_skew_us; /* worst distance between an SR's RTP time and
                               the RTP time of the received media then */
    struct mr_test_latency latency;
};

struct mr_test_peer_stats {
    enum mr_transport_state state;
    char state_why[96]; /* why it failed or closed, or "" */
    bool was_secure;
    int64_t secure_us; /* monotonic time SECURE was reached */
    char srtp_profile[32];
    /* The selected ICE pair, e.g. "tcp-active 127.0.0.1:45021 ->
     * 127.0.0.1:40123 (host/host)" (mr_transport_describe_pair); "" when
     * none. */
    char pair[128];
    unsigned n_tracks;
    struct mr_test_track_stats tracks[MR_TEST_PEER_MAX_TRACKS];
    /* A publisher's simulcast layers offered (cfg.video_layers, 0: none)
     * and accepted by the answer (0: simulcast refused, the top layer goes
     * alone). */
    unsigned layers, layers_accepted;
    /* RTCP received. */
    uint64_t plis_received, firs_received, rrs_received, srs_received;
    uint64_t keyframes_on_request; /* key frames sent to answer PLI/FIR */
    /* RTCP sent. */
    uint64_t plis_sent, rrs_sent;
    /* Loss repair (publisher): generic NACKs received, the packets they
     * named, those sent again (from the history of the last
     * MR_TEST_PEER_HISTORY video packets; as RTX when negotiated), those
     * no longer (or never) in it; and the RTP packets cfg.send_loss_pct
     * dropped. */
    uint64_t nacks_received, nacked_packets, resent_packets, resend_missed;
    uint64_t send_dropped;
    /* Subscriber with cfg.nack: NACKs sent and the packets they named. */
    uint64_t nacks_sent, nack_packets_sent;
    uint64_t rtp_unmatched;              /* RTP for none of our sections */
    struct mr_transport_stats transport; /* SRTP errors, drops, ... */
};

struct mr_test_peer;

/* Creates a peer (no transport yet: that comes with the offer or answer).
 * Returns 0, MR_EINVAL (no context, nothing to send or receive, a loss
 * outside 0-100 %, SRTP profiles for a borrowed identity or unknown to
 * OpenSSL, video_layers above 3 or for a subscriber or without video),
 * MR_ENOMEM or MR_ECRYPTO. */
int mr_test_peer_new(const struct mr_test_peer_config *cfg, struct mr_test_peer **out);

/* Frees the peer at once: no DTLS close_notify, no DELETE. To the relay this
 * looks like a peer whose network went away. */
void mr_test_peer_free(struct mr_test_peer *p);

/* Sends DTLS close_notify (best effort), stops media; free afterwards. */
void mr_test_peer_close(struct mr_test_peer *p);

const char *mr_test_peer_name(const struct mr_test_peer *p);
enum mr_test_peer_role mr_test_peer_role(const struct mr_test_peer *p);

/* --- Offerer ------------------------------------------------------------- */

/*
 * Creates the transport (ICE controlling), gathers (iterating the context
 * for up to 5 s) and writes an offer as a browser would: BUNDLE, rtcp-mux,
 * rtcp-rsize, setup:actpass, fingerprint, ICE credentials, every candidate
 * and end-of-candidates; Opus/48000/2 pt 111, VP8 pt 96 (and H.264
 * packetization-mode 1 42e01f pt 102), the mid header extension, nack / nack
 * pli / ccm fir / goog-remb / transport-cc feedback and the transport-cc
 * extension (a relay must leave out what it does not honour); a=ssrc and
 * a=msid for a publisher, and unless cfg.no_rtx its RTX formats (VP8 97,
 * H.264 103, apt= the codec) and SSRC (a=ssrc-group:FID); with
 * cfg.video_layers the video section's a=rid:<id> send lines,
 * a=simulcast:send and the rtp-stream-id and repaired-rtp-stream-id
 * extensions (ids 10 and 11, Chromium's) instead of its a=ssrc lines.
 * *offer is malloc'd, NUL-terminated.
 * Returns 0, MR_ESTATE (called twice), MR_EIO (gathering failed), MR_ENOMEM.
 */
int mr_test_peer_create_offer(struct mr_test_peer *p, char **offer, size_t *len);

/*
 * Applies the answer: per section whether it was accepted, the codec and
 * payload type, header extension ids and SSRCs, and per simulcast layer
 * whether it was (stats: layers_accepted); then the transport's remote
 * ICE credentials, fingerprint and DTLS role (setup:passive in the answer
 * makes this peer the DTLS client), and candidates. Returns 0, MR_ESTATE,
 * MR_EPARSE (with a reason in err) or MR_ECODEC (nothing usable accepted).
 */
int mr_test_peer_apply_answer(struct mr_test_peer *p, const char *sdp, size_t len, char *err,
                              size_t err_len);

/* --- Answerer ------------------------------------------------------------ */

/*
 * Answers a server's offer: accepts each audio/video section in the
 * direction of the peer's role with the first codec the relay's negotiation
 * rules allow (mr_negotiate_*), rejects the rest; creates the transport (ICE
 * controlling only when the offerer is ice-lite), gathers, applies the
 * offer's transport parameters and candidates, and writes the answer with
 * mr_sdp_write_answer (setup:active: the peer is the DTLS client, unless the
 * offer says active). *answer is malloc'd. Returns 0, MR_ESTATE, MR_EPARSE,
 * MR_ECODEC, MR_EIO or MR_ENOMEM.
 *
 * Called again after a first answer, it answers the server's next offer on
 * the same transport (a room subscription's re-offer): sections whose mid
 * it knows keep their track and counters (a section the offer retired, port
 * 0, becomes not accepted and stays in the list), new mids get new tracks,
 * and the transport is left as it is. The offer must keep the ICE ufrag
 * (else MR_ESTATE: no ICE restart). A publisher with cfg.video_layers is
 * refused (MR_EINVAL): layers are offered, never answered.
 */
int mr_test_peer_answer(struct mr_test_peer *p, const char *offer, size_t len, char **answer,
                        size_t *answer_len, char *err, size_t err_len);

/* A remote candidate trickled later ("candidate:..." line, "a=" optional). */
int mr_test_peer_add_remote_candidate(struct mr_test_peer *p, const char *line);

/* --- Running ------------------------------------------------------------- */

enum mr_transport_state mr_test_peer_state(const struct mr_test_peer *p);

/* Iterates the context until the transport is SECURE (true) or FAILED /
 * CLOSED / timeout (false). */
bool mr_test_peer_wait_secure(struct mr_test_peer *p, int timeout_ms);

/* Publisher: starts (or resumes) and stops sending media and SRs. */
void mr_test_peer_start_media(struct mr_test_peer *p);
void mr_test_peer_stop_media(struct mr_test_peer *p);

/* Publisher: the next video frame (of every layer) is a key frame of
 * `bytes` bytes (0: the usual size), sent like any frame (in one burst
 * unless cfg.pacing_pct): a scene cut, or a key frame asked for at a high
 * bitrate. Returns 0 or MR_ESTATE (not a publisher, no video track
 * sending). */
int mr_test_peer_send_keyframe(struct mr_test_peer *p, size_t bytes);

/* Publisher: stops or resumes sending simulcast layer `rid`, as a browser
 * does for an encoding set inactive (or its encoder drops it under a CPU or
 * bandwidth limit): its RTP timeline goes on, and it resumes with a key
 * frame. Returns 0, MR_ENOENT (no such layer) or MR_ESTATE (not a
 * publisher). */
int mr_test_peer_set_layer_active(struct mr_test_peer *p, const char *rid, bool active);

/* Subscriber: sends a PLI for every received video track. Returns 0 or
 * MR_ESTATE (not secure, or no video SSRC known yet). */
int mr_test_peer_request_keyframe(struct mr_test_peer *p);

/* Protects and sends buf as given (an RTP packet, or a compound RTCP packet
 * when rtcp): for tests that play a hostile but authenticated peer. Returns
 * 0, MR_ESTATE (not secure), MR_ETOOBIG, or the transport's error (libsrtp
 * refuses headers it cannot parse). */
int mr_test_peer_send_raw(struct mr_test_peer *p, bool rtcp, const uint8_t *buf, size_t len);

/* The remote description's candidates (the server's media ports). Returns
 * how many were written. */
unsigned mr_test_peer_remote_candidates(const struct mr_test_peer *p, struct mr_sdp_candidate *out,
                                        unsigned max);

/* ICE usernames: the remote side's ufrag ("" before the remote description)
 * and ours ("" before the transport exists). Borrowed / copied into out. */
const char *mr_test_peer_remote_ufrag(const struct mr_test_peer *p);
void mr_test_peer_local_ufrag(struct mr_test_peer *p, char *out, size_t cap);

/* The peer's own candidates (its media ports). Returns how many. */
unsigned mr_test_peer_local_candidates(struct mr_test_peer *p, struct mr_sdp_candidate *out,
                                       unsigned max);

/* A trickle-ice-sdpfrag (RFC 8840) with the peer's ICE credentials and
 * candidates, for PATCH. Returns its length or MR_ENOSPC / MR_ESTATE. */
int mr_test_peer_local_fragment(struct mr_test_peer *p, char *out, size_t cap);

/* A snapshot of the counters (latency percentiles computed now). */
void mr_test_peer_stats(const struct mr_test_peer *p, struct mr_test_peer_stats *out);

/* Forgets the transit-time samples so far (e.g. those taken while the test
 * itself kept the loop blocked setting up more peers). */
void mr_test_peer_reset_latency(struct mr_test_peer *p);

/* Transit times of all tracks of one kind over several peers. */
void mr_test_peers_latency(struct mr_test_peer *const *peers, unsigned n, enum mr_media_kind kind,
                           struct mr_test_latency *out);

/* The snapshot as one JSON object (no newline), malloc'd. */
char *mr_test_peer_stats_json(const struct mr_test_peer *p);

/* --- Loop helpers -------------------------------------------------------- */

typedef bool (*mr_test_cond)(void *arg);

/* Iterates ctx, blocking for events (never spinning), until cond(arg) holds
 * or timeout_ms pass; returns cond(arg). cond NULL: runs the whole time. */
bool mr_test_loop_until(GMainContext *ctx, mr_test_cond cond, void *arg, int timeout_ms);

#endif
