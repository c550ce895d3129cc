/*
 * Trickle ICE, both ways, for every kind of session.
 *
 * The client's fragments (mr_relay_patch: WHIP/WHEP PATCH, the room
 * protocol's candidates) travel to the peer's worker as one call each
 * (mr_frag_call), a new candidate or an ICE restart.
 *
 * The relay's own trickled candidates (struct mr_session_request.trickle):
 * from a peer's worker, where libnice finds them, to the session's
 * candidate callback on the control thread.
 *
 * They travel like answers do (an idle source on the control context,
 * posted by the worker), so a candidate never overtakes the answer or
 * offer it belongs to: the worker posts the answer first, and GLib runs
 * idle sources of one priority in the order they were attached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu/relay_priv.h"
#include "sfu/sfu_priv.h"

struct cand_note {
    struct mr_relay *relay;
    struct mr_peer *peer;
    char id[MR_SESSION_ID_LEN + 1];
    bool end;                         /* end-of-candidates */
    char line[MR_ICE_CANDIDATE_MAX];
};

void mr_relay_session_trickle(struct mr_session *s, bool trickle, mr_candidate_cb cb, void *user)
{
    /* The peer reads its flag on the worker, which it has not reached
     * yet: mr_worker_call hands it over after this. */
    s->peer->trickle = trickle;
    s->cand_cb = trickle ? cb : NULL;
    s->cand_user = trickle ? user : NULL;
}

static gboolean deliver_candidate(gpointer data)
{
    struct cand_note *n = data;
    struct mr_session *s = g_hash_table_lookup(n->relay->sessions, n->id);
    /* Closed, cancelled or replaced since the worker wrote the note: its
     * requester must not hear of it any more. A session whose answer has
     * not been delivered (ticket set) cannot have trickled yet. */
    if (!s || s->peer != n->peer || s->ticket || !s->cand_cb)
        goto out;
    const char *line = n->end ? NULL : n->line;
    const char *mid = s->rsub ? mr_room_sub_local_candidate(s, line) : s->peer->frag_mid;
    s->cand_cb(s->id, line, mid, s->cand_user);
out:
    free(n);
    return G_SOURCE_REMOVE;
}

void mr_relay_peer_candidate(struct mr_peer *p, const char *line)
{
    struct cand_note *n = calloc(1, sizeof(*n));
    if (!n)
        return; /* the peer can still connect over the candidates it sent */
    n->relay = p->relay;
    n->peer = p;
    memcpy(n->id, p->id, sizeof(n->id));
    n->end = line == NULL;
    if (line)
        snprintf(n->line, sizeof(n->line), "%s", line);
    mr_relay_post(p->relay, deliver_candidate, n);
}

struct mr_frag_call {
    struct mr_peer *peer;
    struct mr_sdp_frag *frag;
    bool restart;
};

struct mr_frag_call *mr_frag_call_new(void)
{
    return calloc(1, sizeof(struct mr_frag_call));
}

static void run_frag(void *data)
{
    struct mr_frag_call *c = data;
    if (c->restart)
        mr_peer_restart_ice(c->peer, c->frag);
    else
        mr_peer_trickle(c->peer, c->frag);
    free(c);
}

void mr_frag_call_post(struct mr_frag_call *c, struct mr_peer *p, struct mr_sdp_frag *f,
                       bool restart)
{
    c->peer = p;
    c->frag = f;
    c->restart = restart;
    mr_worker_call(p->worker, run_frag, c);
}
