/* A test peer and its WHIP/WHEP session on a test server. */
#include "client.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

int mr_test_client_open(struct mr_test_client *c, const struct mr_test_server *s,
                        const struct mr_test_peer_config *cfg, const char *room, const char *stream,
                        const char *role, const char *sub)
{
    memset(c, 0, sizeof(*c));
    char token[1024], path[256];
    int rc = mr_test_server_token(s, room, role, sub, 3600, token, sizeof(token));
    if (rc < 0)
        return rc;
    rc = mr_test_peer_new(cfg, &c->peer);
    if (rc < 0)
        return rc;
    snprintf(path, sizeof(path), "/%s/%s/%s", cfg->role == MR_TEST_PUBLISHER ? "whip" : "whep",
             room, stream);
    return mr_test_whip_connect(&c->whip, c->peer, s->host, s->port, path, token,
                                MR_TEST_HTTP_TIMEOUT_MS);
}

void mr_test_client_free(struct mr_test_client *c)
{
    mr_test_peer_free(c->peer);
    c->peer = NULL;
}

int mr_test_client_delete(struct mr_test_client *c)
{
    if (!c->whip.location[0])
        return MR_ESTATE;
    return mr_test_whip_delete(&c->whip, MR_TEST_HTTP_TIMEOUT_MS);
}

struct secure_wait {
    struct mr_test_client *cs;
    unsigned n;
};

static bool all_settled(void *arg)
{
    const struct secure_wait *w = arg;
    for (unsigned i = 0; i < w->n; i++) {
        enum mr_transport_state st =
            w->cs[i].peer ? mr_test_peer_state(w->cs[i].peer) : MR_TRANSPORT_FAILED;
        if (st == MR_TRANSPORT_NEW || st == MR_TRANSPORT_CONNECTING)
            return false;
    }
    return true;
}

bool mr_test_clients_secure(GMainContext *ctx, struct mr_test_client *cs, unsigned n,
                            int timeout_ms)
{
    struct secure_wait w = {cs, n};
    mr_test_loop_until(ctx, all_settled, &w, timeout_ms);
    for (unsigned i = 0; i < n; i++)
        if (!cs[i].peer || mr_test_peer_state(cs[i].peer) != MR_TRANSPORT_SECURE)
            return false;
    return true;
}
