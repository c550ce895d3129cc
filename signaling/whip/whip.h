/*
 * WHIP (RFC 9725) and WHEP endpoints:
 *   POST   /whip/{room}/{stream}        publish (offer in, answer out, 201)
 *   POST   /whep/{room}/{stream}        watch
 *   PATCH  /wh?p/{room}/{stream}/{id}   trickle ICE (204)
 *   DELETE /wh?p/{room}/{stream}/{id}   end the session (200), also one that
 *                                        has ended already (sessions.h)
 * Each request is checked in the contract's order (names, token, content
 * type, size, body, state) and turned into a call on the relay.
 *
 * ICE servers (RFC 9725 §4.6): with [turn] configured, a 201 carries one
 * "Link: <url>; rel="ice-server"" header per URL, TURN ones with the
 * caller's credentials (username, credential, credential-type="password";
 * auth/turn_cred.h). An OPTIONS on /wh?p/{room}/{stream} that is not a
 * CORS preflight and carries a token that may POST there gets the same
 * headers, for clients that must know their ICE servers before they make
 * the offer; any other OPTIONS gets none (and is still answered 204).
 */
#ifndef MR_WHIP_WHIP_H
#define MR_WHIP_WHIP_H

#include "auth/bearer.h"
#include "auth/turn_cred.h"
#include "core/config.h"
#include "http/http.h"
#include "sfu/relay.h"
#include "whip/sessions.h"

#define MR_WHIP_ROUTES 10

struct mr_whip {
    const struct mr_config *cfg;
    struct mr_relay *relay;
    const struct mr_auth_key *key;
    /* Admission limits for a new session: 0, or MR_ELIMIT with a reason
     * (answered 503 server-busy). NULL: no limits. */
    int (*admit)(void *user, enum mr_session_kind kind, const char *room, char *detail,
                 size_t detail_len);
    void *admit_user;
    /* ICE servers handed to clients; NULL or without URLs: none. Borrowed,
     * outlives the routes. */
    const struct mr_turn *turn;
    /* Set by mr_whip_init. */
    struct mr_whip_sessions *sessions; /* what DELETE remembers */
    guint sweep;                       /* GLib source of the sweep */
};

/* How often the sessions WHIP and WHEP opened are checked against the
 * relay, to learn which have ended (sessions.h). */
#define MR_WHIP_SWEEP_S 5

/* Sets up the session memory and its sweep, a timer on the thread-default
 * main context (the control loop's). Call on the control thread, with the
 * fields above set, before the routes are used. Returns 0 or MR_ENOMEM. */
int mr_whip_init(struct mr_whip *w);
/* Stops the sweep and forgets every session; after the HTTP server is
 * freed. */
void mr_whip_cleanup(struct mr_whip *w);

/* Fills MR_WHIP_ROUTES routes (borrowing w) into out. */
void mr_whip_routes(struct mr_whip *w, struct mr_http_route *out);

#endif
