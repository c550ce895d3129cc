/*
 * Internal to relay/sfu, control thread: the relay's registries. Only
 * relay.c and recording.c (the control side of recordings) use them.
 */
#ifndef MR_SFU_RELAY_PRIV_H
#define MR_SFU_RELAY_PRIV_H

#include <glib.h>

#include "record/record.h"
#include "sdp/sdp.h"
#include "sfu/relay.h"
#include "sfu/sfu_priv.h"

struct mr_session {
    char id[MR_SESSION_ID_LEN + 1];
    enum mr_session_kind kind;
    char room[65];
    char stream_name[65];
    char sub[129];
    char remote_ufrag[MR_SDP_ICE_MAX + 1];
    char remote_pwd[MR_SDP_ICE_MAX + 1];
    struct mr_stream *stream; /* reference */
    struct mr_peer *peer;     /* destroyed by the worker when we say so */
    uint64_t ticket;          /* non-zero until answered */
    mr_session_cb cb;
    void *user;
    uint64_t restart_ticket;  /* non-zero while an ICE restart runs */
    mr_session_cb restart_cb;
    void *restart_user;
};

struct mr_relay {
    const struct mr_config *cfg;
    GMainContext *control;
    struct mr_worker_pool *pool;
    struct mr_dtls_identity *identity;
    char stun_ip[64];
    GHashTable *sessions; /* id -> struct mr_session (owned) */
    GHashTable *streams;  /* "room/name" -> struct mr_stream (one reference) */
    uint64_t next_ticket;
    struct mr_recorder *recorder;
};

/* recording.c */
/* A publisher's answer went out: apply the room's recording policy. */
void mr_relay_record_on_publish(struct mr_relay *r, struct mr_stream *st);
/* The stream's last session is gone: finalize its recording. */
void mr_relay_record_on_stream_end(struct mr_relay *r, struct mr_stream *st);
/* Stops every recording (shutdown). */
void mr_relay_record_stop_all(struct mr_relay *r);

#endif
