/*
 * Internal to relay/sfu, control thread: the relay's registries. Only
 * relay.c and record_control.c (the control side of recordings) use them.
 */
#ifndef MR_SFU_RELAY_PRIV_H
#define MR_SFU_RELAY_PRIV_H

#include <glib.h>

#include "record/record.h"
#include "sdp/sdp.h"
#include "sfu/relay.h"
#include "sfu/sfu_priv.h"

struct mr_room_sub;

struct mr_session {
    char id[MR_SESSION_ID_LEN + 1];
    enum mr_session_kind kind;
    char room[MR_NAME_MAX + 1];
    char stream_name[MR_NAME_MAX + 1];
    char sub[MR_SUB_MAX + 1];
    char role[MR_ROLE_NAME_MAX + 1];
    char remote_ufrag[MR_SDP_ICE_MAX + 1];
    char remote_pwd[MR_SDP_ICE_MAX + 1];
    struct mr_stream *stream; /* reference; NULL for a room subscription */
    struct mr_room_sub *rsub; /* a room subscription's state (room_sub.c) */
    struct mr_peer *peer;     /* destroyed by the worker when we say so */
    uint64_t ticket;          /* non-zero until answered */
    mr_session_cb cb;
    void *user;
    uint64_t restart_ticket;  /* non-zero while an ICE restart runs */
    mr_session_cb restart_cb;
    void *restart_user;
    mr_candidate_cb cand_cb;  /* trickle: the relay's later candidates */
    void *cand_user;
};

struct mr_relay {
    const struct mr_config *cfg;
    GMainContext *control;
    struct mr_worker_pool *pool;
    struct mr_dtls_identity *identity;
    char stun_ip[64];
    GHashTable *sessions; /* id -> struct mr_session (owned) */
    GHashTable *streams;  /* "room/name" -> struct mr_stream (one reference) */
    GHashTable *rooms;    /* name -> struct mr_relay_room (owned; freed with its
                             last stream or room subscription) */
    uint64_t next_ticket;
    struct mr_recorder *recorder;
    GHashTable *pins;     /* room -> the stream pinned at its top layer
                             (both strings owned; layer_control.c) */
};

/* relay.c */
struct mr_stream *mr_relay_find_stream(struct mr_relay *r, const char *room, const char *name);
/* Drops a stream from the registry once no session or room subscription
 * holds it any more. */
void mr_relay_stream_check_end(struct mr_relay *r, struct mr_stream *st);
/* Registers a new session (random id) with its peer; NULL on ENOMEM. */
struct mr_session *mr_relay_session_new(struct mr_relay *r, enum mr_session_kind kind,
                                        const char *room, const char *stream, const char *sub,
                                        const char *role);
void mr_relay_remove_session(struct mr_relay *r, struct mr_session *s);
/* trickle.c: sets a new session's trickle mode (before its peer starts). */
void mr_relay_session_trickle(struct mr_session *s, bool trickle, mr_candidate_cb cb, void *user);
/* Runs fn(data) on the control thread, later. */
void mr_relay_post(struct mr_relay *r, GSourceFunc fn, void *data);

/* layer_control.c: a new stream of a room whose pin names it starts
 * pinned. */
void mr_relay_apply_pin(struct mr_relay *r, struct mr_stream *st);

/* relay_room.c */
/* The room named name, created (and placed on a worker) when new; the
 * caller holds one reference. NULL: out of memory. */
struct mr_relay_room *mr_relay_room_get(struct mr_relay *r, const char *name);
void mr_relay_room_unref(struct mr_relay *r, struct mr_relay_room *room);

/* room_sub.c */
/* The session is being removed: release its streams and room. */
void mr_room_sub_release(struct mr_relay *r, struct mr_session *s);
/* Whether ticket is this room subscription's pending offer; cancel it. */
bool mr_room_sub_owns_ticket(const struct mr_session *s, uint64_t ticket);
void mr_room_sub_cancel(struct mr_relay *r, struct mr_session *s, uint64_t ticket);
/* A local candidate trickled after the first offer (NULL: gathering is
 * done): later offers carry it too. Returns the mid the client should
 * apply it to, the bundle's transport section ("" when there is none). */
const char *mr_room_sub_local_candidate(struct mr_session *s, const char *line);
/* A trickle fragment for a room subscription (an ICE restart is asked for
 * with an update, the relay offering); takes c and f. */
struct mr_frag_call;
int mr_room_sub_patch(struct mr_relay *r, struct mr_session *s, struct mr_frag_call *c,
                      struct mr_sdp_frag *f, char *detail, size_t dlen);

/* trickle.c: a client's fragment on its way to the peer's worker, as a
 * trickle or (restart) an ICE restart of a WHIP/WHEP session. new: NULL on
 * ENOMEM; post takes c and f. */
struct mr_frag_call *mr_frag_call_new(void);
void mr_frag_call_post(struct mr_frag_call *c, struct mr_peer *p, struct mr_sdp_frag *f,
                       bool restart);

/* record_control.c */
/* A publisher's answer went out: apply the room's recording policy. */
void mr_relay_record_on_publish(struct mr_relay *r, struct mr_stream *st);
/* The stream's last session is gone: finalize its recording. */
void mr_relay_record_on_stream_end(struct mr_relay *r, struct mr_stream *st);
/* Stops every recording (shutdown). */
void mr_relay_record_stop_all(struct mr_relay *r);

#endif
