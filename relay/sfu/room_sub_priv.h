/*
 * Internal to a room subscription's control side: room_sub.c (planning,
 * offers, updates, ICE restart) and room_sub_answer.c (the client's
 * answers). The worker side is bundle.c.
 */
#ifndef MR_SFU_ROOM_SUB_PRIV_H
#define MR_SFU_ROOM_SUB_PRIV_H

#include "sfu/bundle.h"
#include "sfu/relay_priv.h"

/* A codec in the bundle's numbering, small enough to copy per section. */
struct rs_codec {
    enum mr_codec_id id;
    uint8_t pt;
    uint8_t idc, iop, level; /* H.264 profile-level-id */
    bool red;                /* Opus sent as RED */
};

/* One stream a room subscription offers or sends. */
struct rs_binding {
    bool used;
    struct mr_stream *st;               /* held through mr_room_sub.held */
    struct rs_codec pub[MR_MAX_TRACKS]; /* the publisher's sources offered */
    enum mr_media_kind pub_kind[MR_MAX_TRACKS];
    unsigned n_pub;
    struct mr_bundle_slot *slot; /* a handle once answered */
    char cname[MR_CNAME_LEN];
};

struct rs_section {
    char mid[MR_SDP_MID_MAX + 1];
    enum mr_media_kind kind;
    int binding;        /* -1: retired */
    unsigned pub_track; /* the publisher's track index */
    struct rs_codec codec;
    uint32_t out_ssrc;
    uint32_t rtx_ssrc; /* video: its retransmissions (RFC 4588) */
};

struct rs_state {
    unsigned n_sections;
    struct rs_section sections[MR_ROOM_SUB_MAX_SECTIONS];
    struct rs_binding bindings[MR_ROOM_SUB_MAX_SECTIONS];
};

struct mr_room_sub {
    struct mr_relay_room *room; /* a reference */
    struct rs_state cur;        /* answered */
    struct rs_state next;       /* offered, waiting for the answer */
    bool offer_pending;
    /* The transport, as the worker described it after gathering. */
    char ice_ufrag[MR_ICE_CRED_MAX];
    char ice_pwd[MR_ICE_CRED_MAX];
    char fingerprint[128];
    unsigned n_cands;
    struct mr_sdp_candidate cands[MR_TRANSPORT_MAX_CANDIDATES];
    bool gathering_done; /* offers say a=end-of-candidates */
    uint64_t sess_id, sess_version;
    unsigned next_mid;
    struct mr_pt_table pts; /* the session's payload types */
    bool remote_set;
    char remote_ufrag[MR_SDP_ICE_MAX + 1];
    /* An ICE restart (the client asked, "iceRestart"): the next offer
     * carries new credentials, its answer the client's new ones. */
    bool restart_wanted;  /* the offer waits for the new credentials */
    bool restart_pending; /* offered; the answer completes it */
    uint8_t layer_cap;    /* the request's, for its receivers */
    /* An update's offer, delivered later through its callback. */
    uint64_t offer_ticket;
    mr_session_cb offer_cb;
    void *offer_user;
    char *offer_text;
    size_t offer_len;
    /* Streams held (their n_room_holds) and those sent (n_room_receivers). */
    GPtrArray *held;
    GPtrArray *receiving;
};

/* The codec a section sends, in full (payload type from the session's
 * table, fmtp, feedback the relay honours). */
void mr_rs_codec_full(struct mr_room_sub *rs, const struct rs_codec *c, struct mr_codec *out);
/* Keeps the streams of cur and next registered (after every change). */
void mr_rs_sync_holds(struct mr_relay *r, struct mr_room_sub *rs);
/* Retires binding bi of s and its sections. */
void mr_rs_retire_binding(struct rs_state *s, int bi);

#endif
