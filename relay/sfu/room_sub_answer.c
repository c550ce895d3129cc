/*
 * A room subscription's answers on the control thread (room_sub_priv.h):
 * the client accepts or rejects each section the relay offered; its
 * transport is checked by the media description's rules (negotiate.h), and
 * what changes goes to the worker (bundle.c) as one commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "sfu/room_sub_priv.h"

/* --- Answers ------------------------------------------------------------- */

/* What the answer says of each offered section. */
struct answered {
    bool accepted[MR_ROOM_SUB_MAX_SECTIONS];
    uint32_t fb[MR_ROOM_SUB_MAX_SECTIONS];
    bool rtx[MR_ROOM_SUB_MAX_SECTIONS]; /* the answer kept the RTX format */
    bool red[MR_ROOM_SUB_MAX_SECTIONS]; /* and the RED one */
    struct mr_ext_ids ext[MR_ROOM_SUB_MAX_SECTIONS];
    const struct mr_sdp_media *transport; /* the BUNDLE tag, NULL: none live */
};

static int read_sections(struct mr_room_sub *rs, const struct mr_sdp *a, struct answered *out,
                         char *detail, size_t dlen)
{
    const struct rs_state *n = &rs->next;
    if (a->n_media != n->n_sections) {
        snprintf(detail, dlen, "the answer has %u media sections, the offer %u", a->n_media,
                 n->n_sections);
        return MR_EPARSE;
    }
    for (unsigned i = 0; i < a->n_media; i++) {
        const struct mr_sdp_media *m = &a->media[i];
        const struct rs_section *sec = &n->sections[i];
        if (strcmp(m->mid, sec->mid) != 0) {
            snprintf(detail, dlen, "answer section %u has mid \"%s\", the offer's is \"%s\"", i,
                     m->mid, sec->mid);
            return MR_EPARSE;
        }
        out->accepted[i] = m->port != 0 && m->dir != MR_DIR_INACTIVE;
        if (!out->accepted[i])
            continue;
        if (sec->binding < 0) {
            snprintf(detail, dlen, "the answer accepts section %s, which the offer retired",
                     sec->mid);
            return MR_EPARSE;
        }
        const struct mr_sdp_codec *k = mr_sdp_media_codec(m, sec->codec.pt);
        if (!k) {
            snprintf(detail, dlen, "the answer drops the codec of section %s", sec->mid);
            return MR_ECODEC;
        }
        out->fb[i] = k->fb;
        struct mr_codec full;
        mr_rs_codec_full(rs, &sec->codec, &full);
        out->rtx[i] = full.rtx_pt && mr_sdp_media_codec(m, full.rtx_pt);
        out->red[i] = full.red_pt && mr_sdp_media_codec(m, full.red_pt);
        /* Congestion feedback needs the sequence number it reports on. */
        struct mr_codec answered = {.fb = k->fb};
        mr_negotiate_codec_ext_ids(m, &answered, &out->ext[i]);
        if (!out->ext[i].id[MR_RTP_EXT_TRANSPORT_CC])
            out->fb[i] &= ~(uint32_t)MR_FB_TWCC;
        if (!out->transport)
            out->transport = m;
    }
    if (a->n_bundle > 0 && out->transport) {
        const struct mr_sdp_media *tag = mr_sdp_find_mid(a, a->bundle[0]);
        if (tag && tag->port != 0)
            out->transport = tag;
    }
    return 0;
}

/* The answer's transport: checked on the first answer; after that the
 * same ICE credentials, unless the offer restarted ICE, whose answer must
 * bring new ones (RFC 8445 §9). */
static int check_transport(const struct mr_room_sub *rs, const struct mr_sdp_media *tm,
                           char *detail, size_t dlen)
{
    if (!tm)
        return 0;
    if (!rs->remote_set || rs->restart_pending)
        return mr_negotiate_answer_transport(tm, detail, dlen);
    if (strcmp(tm->ice_ufrag, rs->remote_ufrag) != 0) {
        snprintf(detail, dlen,
                 "the answer changes the ICE credentials without an ICE restart "
                 "(ask for one with \"iceRestart\")");
        return MR_EPARSE;
    }
    return 0;
}

static void fill_remote(struct mr_bundle_commit *c, const struct mr_sdp *a,
                        const struct mr_sdp_media *tm)
{
    c->set_remote = true;
    snprintf(c->ice_ufrag, sizeof(c->ice_ufrag), "%s", tm->ice_ufrag);
    snprintf(c->ice_pwd, sizeof(c->ice_pwd), "%s", tm->ice_pwd);
    snprintf(c->fingerprint_alg, sizeof(c->fingerprint_alg), "%s", tm->fingerprint_alg);
    memcpy(c->fingerprint, tm->fingerprint, tm->fingerprint_len);
    c->fingerprint_len = tm->fingerprint_len;
    /* The client's active makes the relay the DTLS server. */
    c->role = tm->setup == MR_SETUP_ACTIVE ? MR_DTLS_SERVER : MR_DTLS_CLIENT;
    for (unsigned i = 0; i < a->n_media; i++) {
        const struct mr_sdp_media *m = &a->media[i];
        if (m->port == 0)
            continue;
        for (unsigned k = 0; k < m->n_candidates && c->n_candidates < MR_SDP_MAX_CANDIDATES; k++)
            c->candidates[c->n_candidates++] = m->candidates[k];
        c->end_of_candidates = c->end_of_candidates || m->end_of_candidates;
    }
}

/* The worker's slot for binding bi of the new state, from its live
 * sections in m-line order. NULL: none live (or out of memory). */
static struct mr_bundle_slot *make_slot(struct mr_room_sub *rs, const struct rs_state *s, int bi,
                                        const struct answered *ans)
{
    const struct rs_binding *b = &s->bindings[bi];
    unsigned n = 0;
    for (unsigned i = 0; i < s->n_sections; i++)
        n += s->sections[i].binding == bi;
    struct mr_bundle_slot *slot = n ? mr_bundle_slot_new(b->st, n) : NULL;
    if (!slot)
        return NULL;
    memcpy(slot->cname, b->cname, sizeof(slot->cname));
    unsigned j = 0;
    for (unsigned i = 0; i < s->n_sections; i++) {
        const struct rs_section *sec = &s->sections[i];
        if (sec->binding != bi)
            continue;
        struct mr_receiver *t = &slot->receivers[j++];
        t->kind = sec->kind;
        snprintf(t->mid, sizeof(t->mid), "%s", sec->mid);
        mr_rs_codec_full(rs, &sec->codec, &t->codec);
        t->codec.fb &= ans->fb[i]; /* what the client's answer kept */
        t->ext = ans->ext[i];
        t->src = -1;
        t->layer_cap = rs->layer_cap;
        /* Bound by kind and rank among the publisher's sources, as WHEP
         * subscribers are, so a reconnecting publisher rebinds them. */
        for (unsigned k = 0; k < sec->pub_track; k++)
            t->rank += b->pub_kind[k] == sec->kind;
        t->out_ssrc = sec->out_ssrc;
        mr_rewrite_init(&t->rw, (uint16_t)mr_random_u32(), mr_random_u32());
        if (!ans->rtx[i])
            t->codec.rtx_pt = 0;
        if (!ans->red[i])
            t->codec.red_pt = 0; /* it gets the primary, as plain Opus */
        mr_receiver_init_rtx(t);
        if (t->rtx_ssrc)
            t->rtx_ssrc = sec->rtx_ssrc; /* the one the offer announced */
    }
    return slot;
}

/* Whether binding bi keeps exactly the live sections it had in cur: then
 * its slot (and the receiver's sequence numbers) carries on. */
static bool same_sections(const struct rs_state *cur, const struct rs_state *next, int bi)
{
    for (unsigned i = 0; i < next->n_sections; i++) {
        bool was = i < cur->n_sections && cur->sections[i].binding == bi;
        if (was != (next->sections[i].binding == bi))
            return false;
    }
    return true;
}

/* next becomes the answered state; c gets the slots to drop and add. */
static void settle(struct mr_room_sub *rs, const struct answered *ans, struct mr_bundle_commit *c)
{
    struct rs_state *n = &rs->next;
    for (unsigned i = 0; i < n->n_sections; i++)
        if (!ans->accepted[i])
            n->sections[i].binding = -1; /* rejected by the client */
    for (unsigned bi = 0; bi < MR_ROOM_SUB_MAX_SECTIONS; bi++) {
        struct rs_binding *b = &n->bindings[bi];
        if (!b->used)
            continue;
        if (b->slot && same_sections(&rs->cur, n, (int)bi))
            continue;
        b->slot = make_slot(rs, n, (int)bi, ans);
        if (b->slot)
            c->add[c->n_add++] = b->slot;
        else
            mr_rs_retire_binding(n, (int)bi);
    }
    for (unsigned bi = 0; bi < MR_ROOM_SUB_MAX_SECTIONS; bi++) {
        struct mr_bundle_slot *old = rs->cur.bindings[bi].used ? rs->cur.bindings[bi].slot : NULL;
        bool kept = false;
        for (unsigned k = 0; k < MR_ROOM_SUB_MAX_SECTIONS && old; k++)
            kept = kept || (n->bindings[k].used && n->bindings[k].slot == old);
        if (old && !kept)
            c->drop[c->n_drop++] = old;
    }
    rs->cur = *n;
}

int mr_relay_room_sub_answer(struct mr_relay *r, const char *session_id, const char *sdp,
                             size_t len, char *detail, size_t dlen)
{
    struct mr_session *s = g_hash_table_lookup(r->sessions, session_id);
    if (!s || !s->rsub) {
        snprintf(detail, dlen, "no such room subscription");
        return MR_ENOENT;
    }
    struct mr_room_sub *rs = s->rsub;
    if (s->ticket || !rs->offer_pending) {
        snprintf(detail, dlen, "no offer is waiting for an answer");
        return MR_ESTATE;
    }
    struct mr_sdp *a = malloc(sizeof(*a));
    struct answered *ans = calloc(1, sizeof(*ans));
    struct mr_bundle_commit *c = calloc(1, sizeof(*c));
    char why[160] = "";
    int rc = (a && ans && c) ? mr_sdp_parse(sdp, len, a, why, sizeof(why)) : MR_ENOMEM;
    if (rc < 0) {
        snprintf(detail, dlen, "malformed SDP answer: %s", why[0] ? why : mr_strerror(rc));
        rc = rc == MR_ENOMEM ? rc : MR_EPARSE;
        goto out;
    }
    rc = read_sections(rs, a, ans, detail, dlen);
    if (rc == 0)
        rc = check_transport(rs, ans->transport, detail, dlen);
    if (rc < 0)
        goto out;
    c->peer = s->peer;
    if (ans->transport && (!rs->remote_set || rs->restart_pending)) {
        fill_remote(c, a, ans->transport);
        c->ice_restart = rs->remote_set; /* new ICE credentials, same DTLS */
        rs->remote_set = true;
        snprintf(rs->remote_ufrag, sizeof(rs->remote_ufrag), "%s", ans->transport->ice_ufrag);
    }
    rs->restart_pending = false;
    settle(rs, ans, c);
    rs->offer_pending = false;
    mr_rs_sync_holds(r, rs);
    mr_log_info(SFU, "room subscription %.8s: answered, %u stream(s) start, %u stop", s->id,
                c->n_add, c->n_drop);
    mr_worker_call(s->peer->worker, mr_bundle_commit, c);
    c = NULL;
out:
    free(a);
    free(ans);
    free(c);
    return rc;
}
