/*
 * A test peer together with its WHIP (publisher) or WHEP (subscriber)
 * session on a test server: what each integration test starts with.
 */
#ifndef MR_TEST_CLIENT_H
#define MR_TEST_CLIENT_H

#include "peer.h"
#include "server.h"
#include "whip_client.h"

#define MR_TEST_HTTP_TIMEOUT_MS 10000

struct mr_test_client {
    struct mr_test_peer *peer; /* owned */
    struct mr_test_whip whip;
};

/*
 * Creates a peer from cfg, mints a token (role, sub, room) and POSTs the
 * offer to /whip/ROOM/STREAM (publisher) or /whep/ROOM/STREAM (subscriber).
 * Returns 0 once the 201 answer is applied; otherwise the code of
 * mr_test_whip_connect (c->whip.status and .error tell a refusal). c->peer
 * exists even on failure (unless creating it failed); free it with
 * mr_test_client_free.
 */
int mr_test_client_open(struct mr_test_client *c, const struct mr_test_server *s,
                        const struct mr_test_peer_config *cfg, const char *room, const char *stream,
                        const char *role, const char *sub);

/* Frees the peer only: no DELETE (the session is left to the relay). */
void mr_test_client_free(struct mr_test_client *c);

/* DELETE the session; returns the HTTP status or MR_EIO. */
int mr_test_client_delete(struct mr_test_client *c);

/* Iterates ctx until every client's transport is SECURE; false on a
 * failure or timeout. */
bool mr_test_clients_secure(GMainContext *ctx, struct mr_test_client *cs, unsigned n,
                            int timeout_ms);

#endif
