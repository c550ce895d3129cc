/*
 * The room protocol: JSON messages over the WebSocket at /ws (documented in
 * docs/protocol.md). A client joins one room with a token, gets the room's
 * state and its events, publishes streams (one RTCPeerConnection each, the
 * client offers), subscribes to any of the room's streams over one more
 * RTCPeerConnection (the server offers and re-offers as streams come and
 * go), trickles ICE candidates, and, as an operator, moderates.
 *
 * Control thread only. Media goes through the relay's control interface
 * (sfu/relay.h), like WHIP and WHEP.
 */
#ifndef MR_WS_PROTO_H
#define MR_WS_PROTO_H

#include <glib.h>
#include <stddef.h>

#include "auth/bearer.h"
#include "auth/turn_cred.h"
#include "core/config.h"
#include "http/ws.h"
#include "sfu/relay.h"

struct mr_room_proto;

int mr_room_proto_new(const struct mr_config *cfg, struct mr_relay *relay,
                      const struct mr_auth_key *key, struct mr_room_proto **out);
/*
 * The ICE servers the "joined" reply hands out (its "iceServers": RTCIceServer
 * objects, TURN ones with the member's credentials, auth/turn_cred.h);
 * borrowed, outlives p. Without it, or without [turn] urls, "joined" has
 * no "iceServers" key. Call before the loop runs.
 */
void mr_room_proto_set_turn(struct mr_room_proto *p, const struct mr_turn *turn);

/* Closes every connection's sessions and frees the protocol. */
void mr_room_proto_free(struct mr_room_proto *p);

/* The WebSocket handler to register on the HTTP server. */
const struct mr_ws_handler *mr_room_proto_handler(struct mr_room_proto *p);

/*
 * Admission for a WHIP (publish) or WHEP (subscribe) session in room:
 * server-wide sessions (relay sessions plus /ws connections against
 * [rooms] max_sessions) and, for WHEP, the room's viewers. Returns 0 or
 * MR_ELIMIT with the reason in detail (answer 503 server-busy).
 */
int mr_room_proto_admit_http(struct mr_room_proto *p, enum mr_session_kind kind,
                             const char *room, char *detail, size_t detail_len);

/* Appends the protocol's metrics (Prometheus text) to out: connections,
 * members by role, messages, refusals, joins, disconnects by cause. */
void mr_room_proto_metrics(struct mr_room_proto *p, GString *out);

#endif
