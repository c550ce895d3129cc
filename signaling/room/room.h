/*
 * Rooms as the room protocol sees them: who is connected to which room,
 * with which role, who was removed and may not come back yet, the room's
 * "program" stream, and the admission limits that protect a running live
 * surgery from a rush of viewers.
 *
 * Plain state on the control thread: no I/O, no media. Streams themselves
 * belong to the relay (they exist while something is published); this
 * module only remembers per room what the protocol adds to them. (The
 * relay's own struct mr_relay_room, in relay/sfu/relay_room.c, places a
 * room's streams on a media worker; the two are not connected.)
 */
#ifndef MR_ROOM_ROOM_H
#define MR_ROOM_ROOM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "core/config.h"

#define MR_MEMBER_ID_LEN 16 /* hex digits */

struct mr_room;

struct mr_member {
    char id[MR_MEMBER_ID_LEN + 1]; /* public, random: names the participant
                                      in messages without exposing sub */
    char sub[MR_SUB_MAX + 1];
    enum mr_role role;
    struct mr_room *room;
    void *conn;                    /* the protocol's connection */
    int64_t joined_s;
};

struct mr_room {
    char name[MR_NAME_MAX + 1];
    GPtrArray *members;            /* struct mr_member *, owned, join order */
    char program[MR_NAME_MAX + 1]; /* the stream viewers get by default; "" */
    bool program_pinned;           /* at its top layer (mr_relay_set_pin) */
    GHashTable *bans;              /* "role/sub" -> expiry (gint64 *, Unix s) */
    void *proto;                   /* the protocol's per-room data */
};

struct mr_rooms;

/* free_proto frees a room's proto data when the room goes (may be NULL). */
struct mr_rooms *mr_rooms_new(const struct mr_config *cfg, void (*free_proto)(void *proto));
/* Frees every room and member (the protocol has closed its connections). */
void mr_rooms_free(struct mr_rooms *rooms);

/* Where a join was refused. */
enum mr_admit_refusal {
    MR_ADMIT_OK,
    MR_ADMIT_BANNED,       /* removed by an operator, ban not over */
    MR_ADMIT_ROOM_FULL,    /* [rooms] room_participants */
    MR_ADMIT_VIEWERS_FULL, /* [rooms] room_viewers (with extra_viewers) */
    MR_ADMIT_SERVER_FULL,  /* [rooms] max_sessions (with extra_sessions) */
};

/*
 * Admits sub with role into room (created on first use) and returns the new
 * member, or NULL with the refusal in *why. A member with the same identity
 * (sub and role) already in the room is not counted against the limits (it
 * is about to be replaced: a client reconnecting after its link dropped). extra_sessions
 * and extra_viewers are what the relay holds besides /ws connections (WHIP
 * and WHEP sessions on the server, WHEP viewers of this room).
 */
struct mr_member *mr_rooms_admit(struct mr_rooms *rooms, const char *room, const char *sub,
                                 enum mr_role role, int64_t now_s, unsigned extra_sessions,
                                 unsigned extra_viewers, enum mr_admit_refusal *why);

/* Removes and frees a member. A room goes with its last member unless a
 * ban is still running (its program choice goes with it). */
void mr_rooms_leave(struct mr_rooms *rooms, struct mr_member *m, int64_t now_s);

/* Bars the identity (sub and role) from room for [rooms] ban_seconds. */
void mr_rooms_ban(struct mr_rooms *rooms, struct mr_room *room, const char *sub, enum mr_role role,
                  int64_t now_s);

struct mr_room *mr_rooms_find(struct mr_rooms *rooms, const char *room);
struct mr_member *mr_room_member(struct mr_room *room, const char *id);
/* The member of room with this identity (sub and role) other than
 * `except`, or NULL. */
struct mr_member *mr_room_member_by_identity(struct mr_room *room, const char *sub,
                                             enum mr_role role, const struct mr_member *except);

/* /ws connections on the server, and viewers among them in one room. */
unsigned mr_rooms_connections(const struct mr_rooms *rooms);
unsigned mr_room_viewers(const struct mr_room *room);

/* Calls fn for every room; fn must not admit or remove members. */
void mr_rooms_each(struct mr_rooms *rooms, void (*fn)(struct mr_room *room, void *user),
                   void *user);

const char *mr_admit_refusal_text(enum mr_admit_refusal why);

#endif
