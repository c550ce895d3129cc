/*
 * A room subscription on its worker: slots of tracks, one per stream, on
 * one transport. See bundle.h.
 */
#include "sfu/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "sfu/relay_priv.h"

struct mr_bundle {
    GPtrArray *slots;  /* struct mr_bundle_slot *, owned */
    GPtrArray *queued; /* struct mr_sdp_frag *, owned: trickled before the
                          answer gave the remote credentials */
    bool remote_set;
};

struct mr_bundle_slot *mr_bundle_slot_new(struct mr_stream *st, unsigned n_receivers)
{
    struct mr_bundle_slot *slot =
        calloc(1, sizeof(*slot) + n_receivers * sizeof(struct mr_receiver));
    if (!slot)
        return NULL;
    slot->stream = mr_stream_ref(st);
    slot->n_receivers = n_receivers;
    return slot;
}

void mr_bundle_slot_free(struct mr_bundle_slot *slot)
{
    if (!slot)
        return;
    mr_stream_unref(slot->stream);
    free(slot);
}

struct mr_bundle *mr_bundle_new(void)
{
    struct mr_bundle *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->slots = g_ptr_array_new();
    b->queued = g_ptr_array_new_with_free_func(free);
    return b;
}

void mr_bundle_free(struct mr_peer *p)
{
    struct mr_bundle *b = p->bundle;
    if (!b)
        return;
    mr_bundle_detach_all(p);
    for (unsigned i = 0; i < b->slots->len; i++)
        mr_bundle_slot_free(g_ptr_array_index(b->slots, i));
    g_ptr_array_free(b->slots, TRUE);
    g_ptr_array_free(b->queued, TRUE);
    free(b);
    p->bundle = NULL;
}

void mr_bundle_attach_all(struct mr_peer *p)
{
    for (unsigned i = 0; i < p->bundle->slots->len; i++) {
        struct mr_bundle_slot *slot = g_ptr_array_index(p->bundle->slots, i);
        mr_stream_add_sink(slot->stream, &slot->sink);
    }
}

void mr_bundle_detach_all(struct mr_peer *p)
{
    for (unsigned i = 0; i < p->bundle->slots->len; i++) {
        struct mr_bundle_slot *slot = g_ptr_array_index(p->bundle->slots, i);
        mr_stream_remove_sink(slot->stream, &slot->sink);
    }
}

bool mr_bundle_queue_trickle(struct mr_peer *p, struct mr_sdp_frag *frag)
{
    if (p->bundle->remote_set)
        return false;
    g_ptr_array_add(p->bundle->queued, frag);
    return true;
}

void mr_bundle_set_layer_cap(void *data)
{
    struct mr_bundle_cap *c = data;
    struct mr_peer *p = c->peer;
    for (unsigned i = 0; p->bundle && i < p->bundle->slots->len; i++) {
        struct mr_bundle_slot *slot = g_ptr_array_index(p->bundle->slots, i);
        for (unsigned j = 0; j < slot->n_receivers; j++)
            slot->receivers[j].layer_cap = c->layer_cap;
    }
    free(c);
}

unsigned mr_peer_sinks(struct mr_peer *p, struct mr_sink **sinks, struct mr_stream **streams,
                       unsigned max)
{
    if (!p->bundle) {
        if (max == 0)
            return 0;
        sinks[0] = &p->sink;
        streams[0] = p->stream;
        return 1;
    }
    unsigned n = 0;
    for (unsigned i = 0; i < p->bundle->slots->len && n < max; i++, n++) {
        struct mr_bundle_slot *slot = g_ptr_array_index(p->bundle->slots, i);
        sinks[n] = &slot->sink;
        streams[n] = slot->stream;
    }
    return n;
}

struct mr_receiver *mr_bundle_video_receiver(struct mr_peer *p, uint32_t ssrc,
                                             struct mr_stream **stream)
{
    for (unsigned i = 0; i < p->bundle->slots->len; i++) {
        struct mr_bundle_slot *slot = g_ptr_array_index(p->bundle->slots, i);
        struct mr_receiver *rx = mr_receivers_video(slot->receivers, slot->n_receivers, ssrc);
        if (rx) {
            *stream = slot->stream;
            return rx;
        }
    }
    return NULL;
}

static void post_description(struct mr_peer *p, bool restart, int err)
{
    struct mr_bundle_desc *d = calloc(1, sizeof(*d));
    if (!d) {
        if (restart)
            mr_relay_peer_failed(p, "out of memory");
        else
            mr_relay_peer_answered(p, MR_ENOMEM, "out of memory", NULL, 0);
        return;
    }
    d->restart = restart;
    d->err = err;
    d->relay = p->relay;
    d->peer = p;
    memcpy(d->id, p->id, sizeof(d->id));
    mr_transport_local_credentials(p->transport, d->ice_ufrag, d->ice_pwd);
    snprintf(d->fingerprint, sizeof(d->fingerprint), "%s", mr_transport_fingerprint(p->transport));
    d->n_lines = mr_transport_local_candidates(p->transport, d->lines, MR_TRANSPORT_MAX_CANDIDATES);
    mr_relay_post(p->relay, mr_room_sub_described, d);
}

void mr_bundle_gathered(struct mr_peer *p)
{
    post_description(p, false, 0);
}

void mr_bundle_restart_ice(void *data)
{
    struct mr_peer *p = data;
    if (p->dead || !p->transport)
        return;
    int rc = mr_transport_restart_ice_local(p->transport);
    mr_log_info(SFU, "room subscription %.8s: ICE restart%s", p->id, rc < 0 ? " failed" : "");
    post_description(p, true, rc);
}

/* The first answer: the client's ICE credentials, fingerprint and DTLS
 * role, then the candidates trickled before it. */
static int set_remote(struct mr_peer *p, struct mr_bundle_commit *c)
{
    struct mr_transport_remote r = {
        .ice_ufrag = c->ice_ufrag,
        .ice_pwd = c->ice_pwd,
        .fingerprint_alg = c->fingerprint_alg,
        .fingerprint = c->fingerprint,
        .fingerprint_len = c->fingerprint_len,
        .local_role = c->role,
    };
    int rc = mr_transport_set_remote(p->transport, &r);
    if (rc < 0)
        return rc;
    p->bundle->remote_set = true;
    for (unsigned i = 0; i < p->bundle->queued->len; i++) {
        struct mr_sdp_frag *f = g_ptr_array_index(p->bundle->queued, i);
        mr_peer_add_remote_candidates(p, f->candidates, f->n_candidates, f->end_of_candidates);
    }
    g_ptr_array_set_size(p->bundle->queued, 0);
    return 0;
}

static void drop_slot(struct mr_peer *p, struct mr_bundle_slot *slot)
{
    mr_stream_remove_sink(slot->stream, &slot->sink);
    if (g_ptr_array_remove_fast(p->bundle->slots, slot))
        mr_bundle_slot_free(slot);
}

static void add_slot(struct mr_peer *p, struct mr_bundle_slot *slot)
{
    slot->sink = (struct mr_sink){.peer = p,
                                  .receivers = slot->receivers,
                                  .n_receivers = slot->n_receivers,
                                  .cname = slot->cname};
    g_ptr_array_add(p->bundle->slots, slot);
    if (p->transport && mr_transport_state(p->transport) == MR_TRANSPORT_SECURE)
        mr_stream_add_sink(slot->stream, &slot->sink);
}

void mr_bundle_commit(void *data)
{
    struct mr_bundle_commit *c = data;
    struct mr_peer *p = c->peer;
    unsigned added = 0;
    if (p->dead || !p->transport)
        goto out;
    if (c->set_remote && c->ice_restart && p->bundle->remote_set &&
        mr_transport_set_remote_ice(p->transport, c->ice_ufrag, c->ice_pwd) < 0) {
        p->dead = true;
        mr_relay_peer_failed(p, "the ICE restart's credentials were refused");
        goto out;
    }
    if (c->set_remote && !c->ice_restart && !p->bundle->remote_set && set_remote(p, c) < 0) {
        mr_log_warn(SFU, "room subscription %.8s: the answer's transport was refused", p->id);
        p->dead = true;
        mr_relay_peer_failed(p, "the answer's transport parameters were refused");
        goto out;
    }
    mr_peer_add_remote_candidates(p, c->candidates, c->n_candidates, c->end_of_candidates);
    for (unsigned i = 0; i < c->n_drop; i++)
        drop_slot(p, c->drop[i]);
    for (; added < c->n_add; added++)
        add_slot(p, c->add[added]);
    mr_log_debug(SFU, "room subscription %.8s: %u stream(s) sent", p->id, p->bundle->slots->len);
out:
    for (unsigned i = added; i < c->n_add; i++)
        mr_bundle_slot_free(c->add[i]);
    free(c);
}
