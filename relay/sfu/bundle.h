/*
 * Internal to relay/sfu: a room subscription's streams on its one
 * transport, as its worker sees them (bundle.c), and what the control
 * thread hands over (room_sub.c).
 *
 * A room subscription is one peer whose tracks belong to several streams
 * of its room. Its receivers are grouped in slots, one per stream: a slot is
 * a struct mr_sink in that stream's fan-out list, so forwarding treats
 * it exactly like a WHEP subscriber. A slot is made by the control thread
 * when an answer accepts a stream's sections, then owned by the worker; it
 * never changes afterwards (a different set of sections is a new slot).
 * The control thread names slots it handed over only as handles, to have
 * the worker drop them.
 */
#ifndef MR_SFU_BUNDLE_H
#define MR_SFU_BUNDLE_H

#include "sfu/sfu_priv.h"

/* The most m-lines a room subscription's offer may have (and so tracks):
 * what the SDP parser reads back. */
#define MR_ROOM_SUB_MAX_SECTIONS MR_SDP_MAX_MEDIA

struct mr_bundle_slot {
    struct mr_sink sink;       /* sink.receivers = receivers */
    struct mr_stream *stream;  /* a reference */
    char cname[MR_CNAME_LEN];  /* one per stream: browsers sync a stream's
                                  audio and video by it */
    unsigned n_receivers;
    struct mr_receiver receivers[];
};

/* Control thread: a slot of n receivers for st (takes a reference); the
 * caller fills them. NULL on ENOMEM. */
struct mr_bundle_slot *mr_bundle_slot_new(struct mr_stream *st, unsigned n_receivers);
/* Frees a slot that was never handed over (or is done with). */
void mr_bundle_slot_free(struct mr_bundle_slot *slot);

struct mr_bundle *mr_bundle_new(void);

/* What the client's answer changes on the worker. */
struct mr_bundle_commit {
    struct mr_peer *peer;
    bool set_remote;           /* the first answer with a live section, or
                                  the answer to an ICE restart */
    bool ice_restart;          /* set_remote: only the ICE credentials */
    char ice_ufrag[MR_SDP_ICE_MAX + 1];
    char ice_pwd[MR_SDP_ICE_MAX + 1];
    char fingerprint_alg[16];
    uint8_t fingerprint[MR_SDP_FPR_MAX];
    unsigned fingerprint_len;
    enum mr_dtls_role role;
    unsigned n_candidates;     /* in the answer */
    struct mr_sdp_candidate candidates[MR_SDP_MAX_CANDIDATES];
    bool end_of_candidates;
    unsigned n_drop;           /* slots to detach and free */
    struct mr_bundle_slot *drop[MR_ROOM_SUB_MAX_SECTIONS];
    unsigned n_add;            /* slots to attach (owned by the commit) */
    struct mr_bundle_slot *add[MR_ROOM_SUB_MAX_SECTIONS];
};

/* mr_worker_call target; takes the commit. */
void mr_bundle_commit(void *commit);

/* mr_worker_call target (the peer): restarts ICE on the relay's side (new
 * local credentials, RFC 8445 §9) and posts them to the control thread as
 * a description with restart set; the answer to the offer that carries
 * them brings the client's (a commit with ice_restart). */
void mr_bundle_restart_ice(void *peer);

/* mr_worker_call target (takes it): a room subscription's new layer cap
 * for the receivers it has now. */
struct mr_bundle_cap {
    struct mr_peer *peer;
    uint8_t layer_cap;
};
void mr_bundle_set_layer_cap(void *cap);

/* What the first offer needs from the transport, posted to the control
 * thread once gathering is done. */
struct mr_bundle_desc {
    struct mr_relay *relay;
    struct mr_peer *peer;
    char id[MR_SESSION_ID_LEN + 1];
    char ice_ufrag[MR_ICE_CRED_MAX];
    char ice_pwd[MR_ICE_CRED_MAX];
    char fingerprint[128];
    bool restart;              /* after mr_bundle_restart_ice; else the
                                  first gathering */
    int err;                   /* restart: 0 or why it failed */
    unsigned n_lines;
    char lines[MR_TRANSPORT_MAX_CANDIDATES][MR_ICE_CANDIDATE_MAX];
};

/* room_sub.c: runs on the control thread (takes desc). */
gboolean mr_room_sub_described(gpointer desc);

#endif
