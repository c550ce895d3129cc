/*
 * Layers by hand (relay.h): a WHEP viewer's cap changed after it started,
 * and the operator's pin of a stream at its top layer. Both are set on the
 * control thread and applied by the stream's worker.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "sfu/relay_priv.h"

struct cap_call {
    struct mr_peer *peer;
    uint8_t cap;
};

static void apply_cap(void *data)
{
    struct cap_call *c = data;
    struct mr_peer *p = c->peer;
    p->layer_cap = c->cap;
    for (unsigned i = 0; i < p->n_receivers; i++)
        p->receivers[i].layer_cap = c->cap;
    free(c);
}

int mr_relay_set_layer_cap(struct mr_relay *r, const char *session_id, unsigned cap)
{
    struct mr_session *s = session_id ? g_hash_table_lookup(r->sessions, session_id) : NULL;
    if (!s || s->rsub || s->peer->kind != MR_SESSION_SUBSCRIBE)
        return MR_ENOENT;
    if (cap > MR_LAYER_CAP_LOW)
        return MR_EINVAL;
    struct cap_call *c = malloc(sizeof(*c));
    if (!c)
        return MR_ENOMEM;
    *c = (struct cap_call){.peer = s->peer, .cap = (uint8_t)cap};
    /* Ahead of the peer's destruction, which is posted after it. */
    mr_worker_call(s->peer->worker, apply_cap, c);
    return 0;
}

struct pin_call {
    struct mr_stream *stream; /* a reference */
    bool pinned;
};

static void apply_pin(void *data)
{
    struct pin_call *c = data;
    c->stream->fwd_pinned = c->pinned;
    mr_stream_unref(c->stream);
    free(c);
}

static void post_pin(struct mr_stream *st, bool pinned)
{
    if (st->pinned == pinned)
        return;
    struct pin_call *c = malloc(sizeof(*c));
    if (!c)
        return;
    st->pinned = pinned;
    *c = (struct pin_call){.stream = mr_stream_ref(st), .pinned = pinned};
    mr_worker_call(st->worker, apply_pin, c);
}

void mr_relay_apply_pin(struct mr_relay *r, struct mr_stream *st)
{
    const char *pinned = g_hash_table_lookup(r->pins, st->room);
    post_pin(st, pinned && strcmp(pinned, st->name) == 0);
}

int mr_relay_set_pin(struct mr_relay *r, const char *room, const char *stream)
{
    const char *old = g_hash_table_lookup(r->pins, room);
    struct mr_stream *was = old ? mr_relay_find_stream(r, room, old) : NULL;
    if (was)
        post_pin(was, false);
    if (!stream || !stream[0]) {
        g_hash_table_remove(r->pins, room);
        return 0;
    }
    g_hash_table_replace(r->pins, g_strdup(room), g_strdup(stream));
    struct mr_stream *st = mr_relay_find_stream(r, room, stream);
    if (st)
        post_pin(st, true);
    char name[MR_LOG_REDACT_LEN];
    mr_log_info(SFU, "room %s: a stream pinned at its top layer",
                mr_log_redact(MR_LOG_SFU, room, name));
    return 0;
}
