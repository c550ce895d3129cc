/*
 * The relay's control interface: the one narrow door through which
 * signaling (HTTP, WebSocket) drives the media plane.
 *
 * Every call is made on the control thread (the main GLib loop) and every
 * result comes back there, asynchronously, through a callback. Requests and
 * results are plain data (names, SDP text, ids, error codes), so the relay
 * can later run as a separate process or node behind the same interface
 * without signaling changing.
 *
 * Inside, each stream is placed on one media worker thread, which owns its
 * publisher, its subscribers and all their packets.
 */
#ifndef MR_SFU_RELAY_H
#define MR_SFU_RELAY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/name.h"
#include "record/record.h"

#define MR_SESSION_ID_LEN 32 /* hex digits */
#define MR_ROLE_NAME_MAX 15  /* "operator" and its kin */

enum mr_session_kind { MR_SESSION_PUBLISH, MR_SESSION_SUBSCRIBE };

struct mr_relay;

/* Creates the relay and starts its media workers (cfg->workers, or one per
 * online CPU). cfg is borrowed for the relay's lifetime; control is the
 * control thread's context. Returns 0, MR_ECRYPTO (no DTLS identity),
 * MR_EINVAL (bad media address) or MR_ENOMEM. */
int mr_relay_new(const struct mr_config *cfg, GMainContext *control, struct mr_relay **out);

/* Closes every session, stops the workers and frees the relay. */
void mr_relay_free(struct mr_relay *relay);

/* Result of opening a session, delivered on the control thread. Strings are
 * owned by the relay and valid during the callback only. */
struct mr_session_result {
    int err;                /* 0, or an MR_E* code as for mr_relay_open */
    const char *detail;     /* why, in words fit for the client */
    const char *session_id; /* MR_SESSION_ID_LEN hex digits */
    const char *answer;     /* SDP answer (or ICE fragment after a restart) */
    size_t answer_len;
    const char *ice_ufrag;  /* the relay's current ICE ufrag: changes with
                               every ICE restart, so it serves as the ETag */
};

typedef void (*mr_session_cb)(const struct mr_session_result *res, void *user);

/*
 * Trickle ICE from the relay (RFC 8838), for clients that can take the
 * relay's candidates one by one (the room protocol; WHIP and WHEP answers
 * stay complete). A session opened with trickle gets its answer (or offer)
 * as soon as the host candidates are known, without a=end-of-candidates,
 * instead of after gathering, which waits for the STUN server (and for
 * its timeout when it does not answer). Each later local candidate is then
 * passed to the candidate callback, on the control thread, and a last call
 * with candidate NULL says gathering is done.
 *
 * candidate: "candidate:..." (no "a="), or NULL for end-of-candidates;
 * mid: the media section it belongs to (the bundle's transport section).
 * Both are valid during the call only. Calls come only after the session's
 * answer (or first offer) was delivered, in order, and never after
 * mr_relay_cancel or mr_relay_close of that session.
 */
typedef void (*mr_candidate_cb)(const char *session_id, const char *candidate, const char *mid,
                                void *user);

struct mr_session_request {
    enum mr_session_kind kind;
    const char *room;   /* validated names */
    const char *stream;
    const char *sub;    /* who, from the token: sub and role together are */
    const char *role;   /* one identity (a publisher is replaced only by
                           the same identity, else MR_EBUSY) */
    const char *offer;  /* SDP, offer_len bytes, copied during the call */
    size_t offer_len;
    bool trickle;       /* answer at once, trickle the rest to cand_cb */
    mr_candidate_cb cand_cb;
    void *cand_user;
    /* A subscriber's cap on a simulcast stream's layers, counted from the
     * best: 0 none, 1 at most the second best, 2 at most the third
     * (MR_LAYER_CAP_*; past the lowest, the lowest). */
    unsigned layer_cap;
};

#define MR_LAYER_CAP_HIGH   0
#define MR_LAYER_CAP_MEDIUM 1
#define MR_LAYER_CAP_LOW    2
/* "high", "medium", "low" to MR_LAYER_CAP_*; -1 for anything else. */
int mr_layer_cap_parse(const char *name);

/*
 * Opens a publisher (WHIP) or subscriber (WHEP) session.
 *
 * Checks that need no media work happen now; on failure the call returns
 *   MR_EPARSE   the offer is not valid SDP, or lacks what WebRTC needs
 *   MR_ECODEC   no offered codec can carry (or receive) the stream
 *   MR_ENOENT   WHEP: nothing is published on that stream
 *   MR_EBUSY    WHIP: another identity (sub and role) publishes that stream
 * with a reason in detail, and cb is never called.
 * On 0, cb is called exactly once, later, on the control thread, with the
 * answer or a late failure (the relay could not open a port, ...), unless
 * mr_relay_cancel(*ticket) comes first.
 */
int mr_relay_open(struct mr_relay *relay, const struct mr_session_request *req,
                  mr_session_cb cb, void *user, uint64_t *ticket, char *detail,
                  size_t detail_len);

/* The requester went away: cb will not be called. A session being opened
 * for it is closed; a session being restarted carries on. */
void mr_relay_cancel(struct mr_relay *relay, uint64_t ticket);

/* What the relay knows about a session, for authorization: the identity
 * that opened it is sub and role together. */
struct mr_session_info {
    enum mr_session_kind kind;
    char room[MR_NAME_MAX + 1];
    char stream[MR_NAME_MAX + 1];
    char sub[MR_SUB_MAX + 1];
    char role[MR_ROLE_NAME_MAX + 1];
};

/* Returns 0 or MR_ENOENT. */
int mr_relay_session_info(struct mr_relay *relay, const char *session_id,
                          struct mr_session_info *out);

/*
 * Applies a PATCH body (application/trickle-ice-sdpfrag) to a session.
 * Returns
 *   0           new remote candidates were applied (answer 204);
 *   MR_EAGAIN   the fragment carries new ICE credentials: an ICE restart
 *               (RFC 8445 §9) has begun, and cb will deliver the relay's new
 *               fragment in res->answer (answer 200), unless cancelled;
 *   MR_ENOENT   no such session; MR_EPARSE malformed fragment (detail);
 *   MR_EBUSY    an ICE restart is already under way.
 */
int mr_relay_patch(struct mr_relay *relay, const char *session_id, const char *frag, size_t len,
                   mr_session_cb cb, void *user, uint64_t *ticket, char *detail,
                   size_t detail_len);

/* Ends a session. Returns 0 or MR_ENOENT. */
int mr_relay_close(struct mr_relay *relay, const char *session_id);

/* Counts for /healthz and logs. */
struct mr_relay_counts {
    unsigned publishers;
    unsigned subscribers;      /* WHEP sessions and room subscriptions */
    unsigned streams;
    unsigned room_subscribers; /* of subscribers, the room subscriptions */
};
void mr_relay_counts(struct mr_relay *relay, struct mr_relay_counts *out);

/* --- Room subscriptions: several streams over one transport ----------- */

/*
 * A room subscription receives any number of a room's streams over one
 * transport: one browser RTCPeerConnection, however many streams a client
 * watches. The relay makes the offers and the client answers (as Janus and
 * LiveKit do for their subscribers): the relay knows what it will send, and
 * the browser only has to accept it.
 *
 * Each offer has, per live stream asked for, one sendonly section per
 * published track (audio, video), whose a=msid is "<stream> <kind>-<ssrc>" so the
 * browser's track event names the stream; the relay's ICE credentials,
 * DTLS fingerprint (a=setup:actpass) and all its candidates (with trickle:
 * those known so far). Every change
 * of the set of streams (asked for, or published, or gone) is a new offer
 * on the same transport: same ICE credentials and fingerprint, o= version
 * incremented, earlier sections kept in place (a stream no longer sent has
 * its sections set to port 0; once an answer has settled that, a later
 * stream may take their positions, with fresh mids, as browsers do when
 * they recycle an m-line). Payload types keep one meaning per session.
 *
 * A stream whose publisher goes away stays in the subscription (its tracks
 * simply receive nothing, and a publisher back with the same codecs resumes
 * them); it is retired by the next update that finds it unpublished or
 * published with other codecs. mr_relay_session_info reports a room
 * subscription as MR_SESSION_SUBSCRIBE with stream "". The relay is ICE
 * controlling (it offers); an answer's a=setup:active makes it the DTLS
 * server, passive the client.
 */
struct mr_room_sub_request {
    const char *room;                 /* validated name */
    const char *sub;                  /* who, from the token (sub and role: */
    const char *role;                 /* an update must come from the same) */
    const char *const *streams;       /* validated stream names */
    unsigned n_streams;
    /* Trickle ICE as for mr_session_request; read by
     * mr_relay_open_room_sub only (an update keeps the session's). Later
     * offers carry every candidate found so far, and a=end-of-candidates
     * once gathering is done. */
    bool trickle;
    mr_candidate_cb cand_cb;
    void *cand_user;
    /* mr_relay_room_sub_update only: restart ICE (RFC 8445 §9), as a WHIP
     * or WHEP client does with PATCH. The relay takes new ICE credentials
     * and its offer carries them; the client's answer brings its new ones.
     * The streams, their SSRCs and sequence numbers, and DTLS carry on. */
    bool ice_restart;
    /* The best simulcast layer its video takes (MR_LAYER_CAP_*; 0, the
     * best, by default): a viewer on a phone, or on a link it knows is
     * weak. An update that changes it applies to the streams sent now. */
    unsigned layer_cap;
};

/* Opens a room subscription. Streams not published now are skipped (ask
 * again with mr_relay_room_sub_update when they start). With none live the
 * offer has no m-line and so no BUNDLE group, which Chromium refuses under
 * bundlePolicy "max-bundle" (it accepts it under "balanced"). Returns 0 and cb
 * delivers the relay's offer in res->answer (once, on the control thread,
 * unless cancelled), or MR_ENOMEM / MR_EINVAL (detail) with cb never
 * called. The session is found by res->session_id for the calls below,
 * mr_relay_patch (the client's trickled candidates; the relay's offer
 * carries all of its own) and mr_relay_close. */
int mr_relay_open_room_sub(struct mr_relay *relay, const struct mr_room_sub_request *req,
                           mr_session_cb cb, void *user, uint64_t *ticket, char *detail,
                           size_t detail_len);

/* Applies the client's answer to the last offer. Returns 0, MR_ENOENT (no
 * such room subscription), MR_ESTATE (no offer is waiting for an answer),
 * or MR_EPARSE / MR_ECODEC with detail (the session keeps its previous
 * state and the offer may be answered again): MR_EPARSE for SDP that does
 * not parse, sections that do not match the offer's, a missing transport
 * or a=setup, or a changed ICE ufrag where the offer did not restart ICE
 * (req->ice_restart); MR_ECODEC when an accepted section lacks the
 * offered payload type. Sections the client rejects (port 0) are not
 * sent. Trickled candidates (mr_relay_patch) are kept until the first
 * answer; a fragment with other ICE credentials is MR_EPARSE there. */
int mr_relay_room_sub_answer(struct mr_relay *relay, const char *session_id, const char *sdp,
                             size_t len, char *detail, size_t detail_len);

/* Changes the set of streams (req->streams; room, sub and role must match
 * the session's, else MR_ENOENT) and makes a new offer, delivered by cb as for
 * open (mr_relay_cancel of its ticket withdraws the offer: the session
 * stays as last answered). Returns 0, MR_ENOENT, MR_EINVAL (a bad
 * request, detail), MR_ENOMEM, or MR_EBUSY when the previous offer is not
 * answered yet (try again after answering). */
int mr_relay_room_sub_update(struct mr_relay *relay, const char *session_id,
                             const struct mr_room_sub_request *req, mr_session_cb cb,
                             void *user, uint64_t *ticket, char *detail, size_t detail_len);

/* --- Moderation -------------------------------------------------------- */

/* Stops (muted) or resumes forwarding a published stream's audio or video
 * to every receiver (subscribers and room subscriptions; the recording
 * keeps what the room heard, so it is muted too). The state belongs to the
 * stream while it exists and survives a publisher reconnect. Returns 0 or
 * MR_ENOENT (no such stream). */
/* A WHEP viewer's layer cap (MR_LAYER_CAP_*), changed after it started
 * (PATCH): applied to its receivers at once. Returns 0, MR_ENOENT when no
 * WHEP viewer has that id, MR_EINVAL for a cap past MR_LAYER_CAP_LOW. */
int mr_relay_set_layer_cap(struct mr_relay *relay, const char *session_id, unsigned cap);

/* Pins a room's stream at its top layer (the operator's program shown in
 * a conference hall): every viewer of it gets the best layer alive
 * whatever its downlink's estimate (a viewer's own cap still holds).
 * stream NULL or "" unpins the room's. Kept for a stream not published
 * yet. Returns 0 or MR_ENOMEM. */
int mr_relay_set_pin(struct mr_relay *relay, const char *room, const char *stream);

int mr_relay_set_muted(struct mr_relay *relay, const char *room, const char *stream,
                       bool audio, bool muted);

/* --- Recordings ------------------------------------------------------- */

/*
 * Starts recording a published stream (an operator's request; `by` and
 * by_role are its identity, for the audit trail). Returns 0, MR_EBUSY (already recording),
 * MR_ENOENT (nothing published), MR_EPERM (the room's policy is "never"),
 * or MR_EIO when the recorder refused (unwritable directory, ...; detail
 * says why).
 */
int mr_relay_record_start(struct mr_relay *relay, const char *room, const char *stream,
                          const char *by, const char *by_role, char *detail, size_t detail_len);

/* Stops and finalizes a stream's recording. Returns 0 or MR_ENOENT. */
int mr_relay_record_stop(struct mr_relay *relay, const char *room, const char *stream,
                         const char *by, const char *by_role);

/*
 * The publisher leg's health (publisher -> relay), measured by the relay on
 * what it receives, over the last window of about 2 s (link_health.c).
 * Loss is counted in RTP packets by sequence number, summed over the
 * publisher's video sources and their encodings: *before repair* is what
 * did not arrive the first time (what the relay's receiver reports tell
 * the publisher), *after repair* is what the publisher's retransmissions
 * (NACK/RTX) did not bring back either. Audio is not repaired: its loss is
 * one figure. Fractions are in parts per million.
 */
struct mr_link_health {
    bool known;               /* false: nobody publishes, or no full window
                                 since the publisher came */
    uint32_t window_ms;       /* how long the window was */
    uint32_t video_packets;   /* video packets sent in it (sequence numbers);
                                 0: no video arrived, the video figures mean
                                 nothing */
    uint32_t loss_ppm;        /* video lost before repair, per million sent */
    uint32_t loss_after_ppm;  /* still missing after repair */
    uint32_t audio_packets;   /* the same for audio; 0: none arrived */
    uint32_t audio_loss_ppm;
    uint32_t recovered;       /* lost packets retransmissions brought in it */
    uint32_t gave_up;         /* lost packets given up on (a key frame
                                 requested instead) */
    uint32_t kbps;            /* all the relay received from the publisher
                                 (media, retransmissions, RTCP), kbit/s */
    int32_t rtt_ms;           /* the leg's round trip (RTCP XR); -1: unknown */
};

/* What the API shows of a stream. */
struct mr_stream_status {
    char room[MR_NAME_MAX + 1];
    char stream[MR_NAME_MAX + 1];
    char publisher[MR_SUB_MAX + 1];         /* sub of the publisher, "" when none */
    char publisher_role[MR_ROLE_NAME_MAX + 1]; /* and its role */
    bool published;
    bool has_audio, has_video;    /* what the publisher sends */
    bool audio_muted, video_muted; /* mr_relay_set_muted */
    unsigned subscribers;         /* WHEP sessions and room subscriptions
                                     receiving it */
    enum mr_record_policy policy;
    bool recording;
    struct mr_recording_info rec; /* when recording */
    char record_error[256];       /* why the last recording failed or could
                                     not start; "" after one starts */
    struct mr_link_health link;   /* the publisher's uplink */
};

typedef void (*mr_stream_status_fn)(const struct mr_stream_status *st, void *user);

/* Calls fn for every stream, or every stream of room (when not NULL),
 * sorted by room and stream name. */
void mr_relay_each_stream(struct mr_relay *relay, const char *room, mr_stream_status_fn fn,
                          void *user);

/* What the API shows of a media session: who, what, and how it is
 * connected (for the operator: clinics behind firewalls come in over
 * ICE-TCP or through TURN). */
enum mr_session_path { MR_PATH_UNKNOWN, MR_PATH_UDP, MR_PATH_TCP };
/* Why a viewer is not sent a better layer. */
enum mr_layer_why {
    MR_LAYER_WHY_BEST = 0, /* it is the best arriving */
    MR_LAYER_WHY_CAP,      /* the viewer's own cap */
    MR_LAYER_WHY_DOWNLINK, /* its downlink's estimate */
};

struct mr_session_status {
    char id[9];                   /* the first 8 characters, as in logs */
    enum mr_session_kind kind;
    bool room_subscription;       /* the room protocol's one subscriber
                                     connection (stream is "") */
    char stream[MR_NAME_MAX + 1];
    char sub[MR_SUB_MAX + 1];
    char role[MR_ROLE_NAME_MAX + 1];
    enum mr_session_path path;    /* the selected ICE pair; UNKNOWN until
                                     one is */
    bool relayed;                 /* through a TURN server */
    int32_t rtt_ms;               /* the relay's latest measure; -1: unknown */
    /* A viewer's simulcast video (its first simulcast stream): the layer
     * sent (MR_LAYER_CAP_* rank; -1: none or not simulcast), why not a
     * better one, and its downlink's estimate (-1: not measured). */
    int layer;
    enum mr_layer_why layer_why;
    int32_t downlink_kbps;
};

typedef void (*mr_session_status_fn)(const struct mr_session_status *st, void *user);

/* Calls fn for every media session of room (WHIP, WHEP, and room
 * connections), sorted by sub, role and id. */
void mr_relay_each_session(struct mr_relay *relay, const char *room, mr_session_status_fn fn,
                           void *user);

/* Appends the relay's metrics in the Prometheus text format to out. */
void mr_relay_metrics(struct mr_relay *relay, GString *out);

#endif
