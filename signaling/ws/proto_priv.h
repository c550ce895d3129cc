/* Internal to signaling/ws: connections, their sessions, room snapshots. */
#ifndef MR_WS_PROTO_PRIV_H
#define MR_WS_PROTO_PRIV_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "room/flood.h"
#include "room/room.h"
#include "ws/ws_proto.h"

#define PROTO_MAX_PUBS 8      /* streams one client may publish at once */
#define PROTO_MAX_WANTED 32   /* streams one client may ask for by name */

/* Counters for /metrics (control thread only). */
struct proto_stats {
    uint64_t messages;        /* messages received */
    uint64_t refused;         /* error replies */
    uint64_t joins, joins_refused;
    uint64_t drop_flood, drop_no_join, drop_removed, drop_replaced;
};

struct mr_room_proto {
    const struct mr_config *cfg;
    struct mr_relay *relay;
    const struct mr_auth_key *key;
    const struct mr_turn *turn;   /* ICE servers for "joined"; NULL: none */
    struct mr_rooms *rooms;
    struct mr_ws_handler handler;
    GPtrArray *clients;       /* struct client *, every connection */
    GPtrArray *orphans;       /* struct orphan *: publishers whose
                                 connection dropped, kept a grace period */
    guint tick;               /* room sync and housekeeping */
    struct proto_stats stats;
};

/* A stream this client publishes (heap-allocated: relay callbacks carry
 * it). */
struct pub {
    struct client *c;                    /* NULL while orphaned */
    char stream[MR_NAME_MAX + 1];
    char session[MR_SESSION_ID_LEN + 1]; /* "" until the answer */
    uint64_t ticket;                     /* non-zero while opening */
    json_t *re;                          /* the request's id, until answered */
    char *answer;                        /* the last answer sent (owned), for
                                            an ICE restart's new one */
    uint64_t restart_ticket;             /* non-zero while ICE restarts */
    json_t *restart_re;                  /* that request's id */
};

/* What the client wants on its subscriber connection. */
enum want { WANT_NONE, WANT_ALL, WANT_PROGRAM, WANT_LIST };

struct subpc {
    char session[MR_SESSION_ID_LEN + 1]; /* "" until the first offer */
    uint64_t ticket;                     /* non-zero while an offer is made */
    bool awaiting_answer;                /* an offer is out */
    bool dirty;                          /* the set changed meanwhile */
    bool ice_restart;                    /* the next offer restarts ICE */
    json_t *re;                          /* request id for the next offer */
    enum want want;
    unsigned n_wanted;
    char wanted[PROTO_MAX_WANTED][MR_NAME_MAX + 1];
    unsigned layer_cap;                  /* MR_LAYER_CAP_*: "layer" */
    unsigned n_offered;                  /* streams in the last offer */
    char offered[PROTO_MAX_WANTED][MR_NAME_MAX + 1];
};

struct client {
    struct mr_room_proto *p;
    struct mr_ws_conn *conn;             /* NULL once closed */
    char addr[64];
    struct mr_member *m;                 /* NULL until joined */
    struct mr_claims claims;
    int64_t opened_us;
    struct pub *pubs[PROTO_MAX_PUBS];
    unsigned n_pubs;
    struct subpc sub;
    struct mr_flood flood;               /* the message-rate limit */
    bool leaving;                        /* closing on purpose (leave, removed) */
};

/* A publisher session whose WebSocket dropped: its media may still flow
 * (a clinic's link blipped); kept until the same participant rejoins and
 * adopts it, or the grace period ends. */
struct orphan {
    char room[MR_NAME_MAX + 1];
    char sub[MR_SUB_MAX + 1];            /* whose: sub and role */
    enum mr_role role;
    struct pub *pub;                     /* owned */
    int64_t expires_us;
};

/* Per-room protocol data (struct mr_room.proto): the streams last seen,
 * to turn the relay's state into events. */
struct stream_snap {
    char name[MR_NAME_MAX + 1];
    char publisher[MR_SUB_MAX + 1];
    char publisher_role[MR_ROLE_NAME_MAX + 1];
    bool has_audio, has_video;
    bool audio_muted, video_muted;
    bool recording;
};

struct room_snap {
    GArray *streams;                     /* struct stream_snap, by name */
};

/* proto.c */
void proto_send(struct client *c, json_t *msg);       /* takes msg */
void proto_error(struct client *c, json_t *re, const char *request, const char *code,
                 const char *detail);
void proto_ok(struct client *c, json_t *re, const char *request);
/* Refuses a protected action ("unauthorized" or "forbidden") and writes the
 * refusal to the audit trail with the client's address and identity (when
 * its token was authentic); room: the room concerned, or NULL for the
 * client's own. */
void proto_refuse(struct client *c, json_t *re, const char *request, const char *code,
                  const char *detail, const char *room);
/* Sends msg to every member of room except `except` (NULL: all); takes msg. */
void proto_broadcast(struct mr_room_proto *p, struct mr_room *room, const struct client *except,
                     json_t *msg);
struct client *proto_client_of(struct mr_member *m);
/* The client leaves its room (reason for the others and the audit log);
 * keep_pubs: its publishers wait a grace period for it to come back. */
void proto_leave(struct client *c, const char *reason, bool keep_pubs);
/* Closes a client's media sessions (publishers too unless keep_pubs). */
void proto_close_sessions(struct client *c, bool keep_pubs);
/* The contract's error code for an MR_E* failure: the one table of
 * http/error_code.h, the same code WHIP, WHEP and the API answer. */
const char *proto_error_code(int err);

/* proto_restart.c: a publisher's ICE restart on its session (a "publish"
 * with "iceRestart": true and the new offer), and what cancels one. */
void proto_restart_publisher(struct client *c, struct pub *pb, json_t *sdp, json_t *re);
void proto_restart_cancel(struct mr_room_proto *p, struct pub *pb);

/* proto_media.c */
void on_publish(struct client *c, json_t *msg, json_t *re);
void on_unpublish(struct client *c, json_t *msg, json_t *re);
void on_subscribe(struct client *c, json_t *msg, json_t *re);
void on_answer(struct client *c, json_t *msg, json_t *re);
void on_candidate(struct client *c, json_t *msg, json_t *re);
/* The set of streams a subscriber connection should carry may have
 * changed: re-offer when it did. */
void proto_refresh_subscription(struct client *c);
struct pub *proto_find_pub(struct client *c, const char *stream);
void proto_adopt_orphans(struct client *c);
void proto_sweep_orphans(struct mr_room_proto *p, int64_t now_us);
/* Ends at once the orphaned publishers of an identity in a room. */
void proto_close_orphans(struct mr_room_proto *p, const char *room, const char *sub,
                         enum mr_role role);
void proto_orphan_pubs(struct client *c);

/* proto_moderate.c */
void on_mute(struct client *c, json_t *msg, json_t *re);
void on_remove(struct client *c, json_t *msg, json_t *re);
void on_record(struct client *c, json_t *msg, json_t *re);
void on_program(struct client *c, json_t *msg, json_t *re);

/* proto_state.c */
json_t *proto_room_state(struct mr_room_proto *p, struct mr_room *room);
json_t *proto_member_json(const struct mr_member *m);
/* Compares the relay's streams of room with the last snapshot, sends the
 * differences as events, and refreshes subscriptions that they touch. */
void proto_sync_room(struct mr_room_proto *p, struct mr_room *room);
void proto_room_snap_free(void *snap);
/* The room's live streams (published, answer out), sorted by name. */
GPtrArray *proto_live_streams(struct mr_room_proto *p, struct mr_room *room);

/* Message fields. */
const char *proto_str(json_t *msg, const char *field);
/* msg's "stream", a valid name; or NULL after an error reply (bad-request
 * when absent, bad-name when invalid) to the request of that type. */
const char *proto_stream_arg(struct client *c, json_t *msg, json_t *re, const char *request);

#endif
