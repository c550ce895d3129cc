/*
 * Room subscriptions on the control thread: which streams a client
 * receives over its one transport, the relay's offers, and the client's
 * answers. The worker side is bundle.c.
 *
 * State: `cur` is what the last answer settled (and what the worker
 * sends); `next` is what the pending offer proposes. An update copies cur
 * into next, retires the sections of streams no longer asked for, no
 * longer published or published with other codecs, and adds sections for
 * new streams, reusing positions that were retired in cur (JSEP §5.2.2:
 * m-lines never go away; a reused position gets a fresh mid, as browsers
 * do when they recycle one). The answer turns next into cur and hands the
 * worker the slots that begin and end.
 *
 * Codecs, payload types, feedback and header extensions come from the
 * media description (sdp/negotiate.h), as WHIP/WHEP answers' do. The
 * client's answers are read in room_sub_answer.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "sfu/room_sub_priv.h"

#define OFFER_MAX 65536

/* --- Payload types ------------------------------------------------------- */

/* The bundle's codec for what a publisher sends (the media description's
 * payload types, negotiate.h); false when the session has no payload type
 * left for another H.264 profile. */
static bool bundle_codec(struct mr_room_sub *rs, const struct mr_codec *pub, struct rs_codec *out)
{
    struct mr_codec c;
    if (mr_negotiate_offer_codec(&rs->pts, pub, &c) < 0)
        return false;
    *out = (struct rs_codec){.id = c.id,
                             .pt = c.pt,
                             .idc = c.h264_profile_idc,
                             .iop = c.h264_profile_iop,
                             .level = c.h264_level_idc,
                             .red = c.red_pt != 0};
    return true;
}

void mr_rs_codec_full(struct mr_room_sub *rs, const struct rs_codec *c, struct mr_codec *out)
{
    const struct mr_codec pub = {.id = c->id,
                                 .h264_profile_idc = c->idc,
                                 .h264_profile_iop = c->iop,
                                 .h264_level_idc = c->level,
                                 .red_pt = c->red ? 1 : 0};
    /* The table has the profile already: the same payload type again. */
    if (mr_negotiate_offer_codec(&rs->pts, &pub, out) < 0)
        memset(out, 0, sizeof(*out));
}

/* --- Holding streams ----------------------------------------------------- */

static bool in_list(GPtrArray *a, const void *p)
{
    for (unsigned i = 0; i < a->len; i++)
        if (g_ptr_array_index(a, i) == p)
            return true;
    return false;
}

static void add_bound(GPtrArray *a, const struct rs_state *state, bool answered_only)
{
    for (unsigned i = 0; i < MR_ROOM_SUB_MAX_SECTIONS; i++) {
        const struct rs_binding *b = &state->bindings[i];
        if (b->used && (!answered_only || b->slot) && !in_list(a, b->st))
            g_ptr_array_add(a, b->st);
    }
}

/*
 * A stream offered or sent stays registered (n_room_holds), so a publisher
 * that reconnects finds the same stream and its receivers; the streams
 * sent are what the API counts as this subscription's. Called after every
 * change of cur or next.
 */
void mr_rs_sync_holds(struct mr_relay *r, struct mr_room_sub *rs)
{
    for (unsigned i = 0; i < rs->receiving->len; i++)
        ((struct mr_stream *)g_ptr_array_index(rs->receiving, i))->n_room_receivers--;
    g_ptr_array_set_size(rs->receiving, 0);
    add_bound(rs->receiving, &rs->cur, true);
    for (unsigned i = 0; i < rs->receiving->len; i++)
        ((struct mr_stream *)g_ptr_array_index(rs->receiving, i))->n_room_receivers++;

    GPtrArray *want = g_ptr_array_new();
    add_bound(want, &rs->cur, false);
    if (rs->offer_pending)
        add_bound(want, &rs->next, false);
    for (unsigned i = 0; i < want->len; i++) {
        struct mr_stream *st = g_ptr_array_index(want, i);
        if (!in_list(rs->held, st)) {
            mr_stream_ref(st);
            st->n_room_holds++;
        }
    }
    for (unsigned i = 0; i < rs->held->len; i++) {
        struct mr_stream *st = g_ptr_array_index(rs->held, i);
        if (in_list(want, st))
            continue;
        st->n_room_holds--;
        mr_relay_stream_check_end(r, st);
        mr_stream_unref(st);
    }
    g_ptr_array_free(rs->held, TRUE);
    rs->held = want;
}

/* --- Planning an offer --------------------------------------------------- */

static bool asked_for(const struct mr_room_sub_request *req, const char *name)
{
    for (unsigned i = 0; i < req->n_streams; i++)
        if (strcmp(req->streams[i], name) == 0)
            return true;
    return false;
}

static bool is_live(const struct mr_stream *st)
{
    return st && st->pub_session[0] && st->pub_ready;
}

/* Whether a bound stream still sends what its sections were offered with:
 * a publisher back with the same codecs keeps them. */
static bool same_publication(struct mr_room_sub *rs, const struct rs_binding *b)
{
    const struct mr_stream *st = b->st;
    if (st->n_pub_sources != b->n_pub)
        return false;
    for (unsigned t = 0; t < b->n_pub; t++) {
        struct rs_codec c;
        if (st->pub_sources[t].kind != b->pub_kind[t] ||
            !bundle_codec(rs, &st->pub_sources[t].codec, &c) || c.pt != b->pub[t].pt)
            return false;
    }
    return true;
}

void mr_rs_retire_binding(struct rs_state *s, int bi)
{
    for (unsigned i = 0; i < s->n_sections; i++)
        if (s->sections[i].binding == bi)
            s->sections[i].binding = -1;
    s->bindings[bi] = (struct rs_binding){0};
}

/* A position for a new section: one retired in the answered state (and
 * not yet reused by this offer), else a new one at the end. */
static int take_position(struct mr_room_sub *rs)
{
    struct rs_state *n = &rs->next;
    for (unsigned i = 0; i < rs->cur.n_sections; i++)
        if (rs->cur.sections[i].binding < 0 && n->sections[i].binding < 0)
            return (int)i;
    if (n->n_sections == MR_ROOM_SUB_MAX_SECTIONS)
        return -1;
    return (int)n->n_sections++;
}

static int free_binding(const struct mr_room_sub *rs)
{
    for (unsigned i = 0; i < MR_ROOM_SUB_MAX_SECTIONS; i++)
        if (!rs->next.bindings[i].used && !rs->cur.bindings[i].used)
            return (int)i;
    return -1;
}

/* Adds a live stream to next: one section per published track. */
static void add_stream(struct mr_room_sub *rs, struct mr_stream *st)
{
    int bi = free_binding(rs);
    if (bi < 0)
        return;
    struct rs_binding *b = &rs->next.bindings[bi];
    *b = (struct rs_binding){.used = true, .st = st, .n_pub = st->n_pub_sources};
    mr_random_hex(b->cname, (MR_CNAME_LEN - 1) / 2);
    unsigned placed = 0;
    for (unsigned t = 0; t < st->n_pub_sources; t++) {
        b->pub_kind[t] = st->pub_sources[t].kind;
        bool ok = bundle_codec(rs, &st->pub_sources[t].codec, &b->pub[t]);
        int pos = ok ? take_position(rs) : -1;
        if (pos < 0)
            continue; /* out of sections or payload types: that track waits */
        struct rs_section *sec = &rs->next.sections[pos];
        *sec = (struct rs_section){.kind = b->pub_kind[t], .binding = bi, .pub_track = t,
                                   .codec = b->pub[t], .out_ssrc = mr_random_ssrc()};
        if (sec->kind == MR_MEDIA_VIDEO)
            sec->rtx_ssrc = mr_random_ssrc();
        snprintf(sec->mid, sizeof(sec->mid), "%u", rs->next_mid++);
        placed++;
    }
    if (placed == 0)
        mr_rs_retire_binding(&rs->next, bi);
}

/* next := cur, changed to the streams of req that are live now. */
static void plan(struct mr_relay *r, struct mr_room_sub *rs, const struct mr_room_sub_request *req)
{
    rs->next = rs->cur;
    struct rs_state *n = &rs->next;
    for (unsigned i = 0; i < MR_ROOM_SUB_MAX_SECTIONS; i++) {
        struct rs_binding *b = &n->bindings[i];
        if (b->used && (!asked_for(req, b->st->name) || !is_live(b->st) ||
                        mr_relay_find_stream(r, rs->room->name, b->st->name) != b->st ||
                        !same_publication(rs, b)))
            mr_rs_retire_binding(n, (int)i);
    }
    for (unsigned k = 0; k < req->n_streams; k++) {
        struct mr_stream *st = mr_relay_find_stream(r, rs->room->name, req->streams[k]);
        bool bound = false;
        for (unsigned i = 0; i < MR_ROOM_SUB_MAX_SECTIONS && st; i++)
            bound = bound || (n->bindings[i].used && n->bindings[i].st == st);
        if (is_live(st) && !bound)
            add_stream(rs, st);
    }
}

/* --- Writing offers ------------------------------------------------------ */

static void fill_offer_media(struct mr_room_sub *rs, const struct rs_section *sec,
                             struct mr_sdp_offer_media *m)
{
    m->kind = sec->kind;
    snprintf(m->mid, sizeof(m->mid), "%s", sec->mid);
    struct mr_codec c;
    mr_rs_codec_full(rs, &sec->codec, &c);
    mr_negotiate_codec_sdp(&c, &m->codec);
    struct mr_ext_ids ids;
    mr_negotiate_offer_exts(sec->kind, &ids);
    m->n_extmaps = mr_negotiate_extmaps(&ids, m->extmaps, MR_SDP_ANSWER_MAX_EXTMAPS);
    if (sec->binding < 0) {
        m->retired = true;
        return;
    }
    const struct rs_binding *b = &rs->next.bindings[sec->binding];
    m->ssrc = sec->out_ssrc;
    mr_negotiate_red_sdp(&c, &m->red);
    if (mr_negotiate_rtx_sdp(&c, &m->rtx))
        m->rtx_ssrc = sec->rtx_ssrc;
    snprintf(m->cname, sizeof(m->cname), "%s", b->cname);
    snprintf(m->msid_stream, sizeof(m->msid_stream), "%s", b->st->name);
    /* Track ids must be unique within the whole connection (browsers key
     * receivers by them), not only within the stream: "<kind>-<our SSRC>". */
    const char *kind = sec->kind == MR_MEDIA_AUDIO ? "audio" : "video";
    snprintf(m->msid_track, sizeof(m->msid_track), "%s-%08x", kind, (unsigned)sec->out_ssrc);
}

/* Writes next as an offer into a malloc'd rs->offer_text. */
static int write_offer(struct mr_relay *r, struct mr_room_sub *rs)
{
    struct mr_sdp_offer *o = calloc(1, sizeof(*o));
    char *text = malloc(OFFER_MAX);
    int n = MR_ENOMEM;
    if (!o || !text)
        goto out;
    o->sess_id = rs->sess_id;
    o->sess_version = ++rs->sess_version;
    o->ice_ufrag = rs->ice_ufrag;
    o->ice_pwd = rs->ice_pwd;
    o->fingerprint_alg = "sha-256";
    o->fingerprint = rs->fingerprint;
    o->conn_addr = mr_relay_config(r)->media_ip;
    o->conn_port = rs->n_cands > 0 ? rs->cands[0].port : 9;
    o->n_candidates = rs->n_cands;
    o->candidates = rs->cands;
    o->end_of_candidates = rs->gathering_done;
    o->n_media = rs->next.n_sections;
    for (unsigned i = 0; i < o->n_media; i++)
        fill_offer_media(rs, &rs->next.sections[i], &o->media[i]);
    n = mr_sdp_write_offer(o, text, OFFER_MAX);
out:
    free(o);
    if (n < 0) {
        free(text);
        return n;
    }
    free(rs->offer_text);
    rs->offer_text = text;
    rs->offer_len = (size_t)n;
    return 0;
}

/* --- Opening and updating ------------------------------------------------ */

static int check_request(const struct mr_room_sub_request *req, char *detail, size_t dlen)
{
    if (!req || !req->room || !req->room[0] || !req->sub || (req->n_streams && !req->streams)) {
        snprintf(detail, dlen, "a room subscription needs a room, a sub and its streams");
        return MR_EINVAL;
    }
    if (req->n_streams > MR_ROOM_SUB_MAX_SECTIONS) {
        snprintf(detail, dlen, "at most %u streams per room subscription",
                 MR_ROOM_SUB_MAX_SECTIONS);
        return MR_EINVAL;
    }
    for (unsigned i = 0; i < req->n_streams; i++) {
        if (!req->streams[i] || !req->streams[i][0] || strlen(req->streams[i]) > 64) {
            snprintf(detail, dlen, "stream %u has no valid name", i);
            return MR_EINVAL;
        }
    }
    if (req->layer_cap > MR_LAYER_CAP_LOW) {
        snprintf(detail, dlen, "no such layer cap");
        return MR_EINVAL;
    }
    return 0;
}

/* A changed cap reaches the receivers the worker has now; later ones are
 * made with it (room_sub_answer.c). */
static void post_layer_cap(struct mr_session *s, unsigned cap)
{
    struct mr_bundle_cap *c = malloc(sizeof(*c));
    if (!c)
        return; /* the streams sent from now on still get it */
    *c = (struct mr_bundle_cap){.peer = s->peer, .layer_cap = (uint8_t)cap};
    mr_worker_call(s->peer->worker, mr_bundle_set_layer_cap, c);
}

static struct mr_room_sub *room_sub_new(struct mr_relay *r, const char *room)
{
    struct mr_room_sub *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return NULL;
    rs->room = mr_relay_room_get(r, room);
    if (!rs->room) {
        free(rs);
        return NULL;
    }
    rs->held = g_ptr_array_new();
    rs->receiving = g_ptr_array_new();
    rs->sess_id = ((uint64_t)mr_random_u32() << 31) ^ mr_random_u32();
    return rs;
}

int mr_relay_open_room_sub(struct mr_relay *r, const struct mr_room_sub_request *req,
                           mr_session_cb cb, void *user, uint64_t *ticket, char *detail,
                           size_t dlen)
{
    int rc = check_request(req, detail, dlen);
    if (rc < 0)
        return rc;
    struct mr_room_sub *rs = room_sub_new(r, req->room);
    struct mr_bundle *bundle = rs ? mr_bundle_new() : NULL;
    struct mr_session *s =
        bundle ? mr_relay_session_new(r, MR_SESSION_SUBSCRIBE, req->room, "", req->sub, req->role)
               : NULL;
    if (!s) {
        free(bundle);
        if (rs) {
            mr_relay_room_unref(r, rs->room);
            g_ptr_array_free(rs->held, TRUE);
            g_ptr_array_free(rs->receiving, TRUE);
            free(rs);
        }
        snprintf(detail, dlen, "out of memory");
        return MR_ENOMEM;
    }
    s->rsub = rs;
    rs->layer_cap = (uint8_t)req->layer_cap;
    s->peer->worker = rs->room->worker;
    s->peer->bundle = bundle;
    plan(r, rs, req);
    rs->offer_pending = true;
    mr_rs_sync_holds(r, rs);
    s->ticket = ++r->next_ticket;
    s->cb = cb;
    s->user = user;
    *ticket = s->ticket;
    mr_relay_session_trickle(s, req->trickle, req->cand_cb, req->cand_user);
    rs->gathering_done = !req->trickle; /* else the end-of-candidates note */
    char room[MR_LOG_REDACT_LEN];
    mr_log_info(SFU, "room subscription %.8s opening (room %s, worker %u, %u section(s))", s->id,
                mr_log_redact(MR_LOG_SFU, req->room, room), rs->room->worker->index,
                rs->next.n_sections);
    mr_worker_call(rs->room->worker, mr_peer_start, s->peer);
    return 0;
}

/* The transport's side of the offers: credentials, fingerprint and the
 * candidates known now. */
static void take_description(struct mr_room_sub *rs, const struct mr_bundle_desc *d)
{
    snprintf(rs->ice_ufrag, sizeof(rs->ice_ufrag), "%s", d->ice_ufrag);
    snprintf(rs->ice_pwd, sizeof(rs->ice_pwd), "%s", d->ice_pwd);
    snprintf(rs->fingerprint, sizeof(rs->fingerprint), "%s", d->fingerprint);
    rs->n_cands = 0;
    for (unsigned i = 0; i < d->n_lines; i++)
        if (mr_sdp_parse_candidate(d->lines[i], strlen(d->lines[i]), &rs->cands[rs->n_cands]) == 0)
            rs->n_cands++;
}

static void deliver_offer_now(struct mr_session *s);
static void restarted(struct mr_relay *r, struct mr_session *s, const struct mr_bundle_desc *d);

gboolean mr_room_sub_described(gpointer data)
{
    struct mr_bundle_desc *d = data;
    struct mr_relay *r = d->relay;
    struct mr_session *s = g_hash_table_lookup(r->sessions, d->id);
    if (d->restart && s && s->peer == d->peer && s->rsub) {
        restarted(r, s, d);
        goto out;
    }
    if (!s || s->peer != d->peer || !s->rsub || !s->ticket)
        goto out; /* closed or cancelled meanwhile */
    struct mr_room_sub *rs = s->rsub;
    take_description(rs, d);
    int rc = write_offer(r, rs);
    struct mr_session_result res = {
        .err = rc,
        .detail = rc < 0 ? "could not write the SDP offer" : "",
        .session_id = s->id,
        .answer = rc < 0 ? NULL : rs->offer_text,
        .answer_len = rc < 0 ? 0 : rs->offer_len,
        .ice_ufrag = rs->ice_ufrag,
    };
    mr_session_cb cb = s->cb;
    void *user = s->user;
    s->ticket = 0;
    s->cb = NULL;
    if (cb)
        cb(&res, user);
    /* The callback may have closed the session. */
    s = g_hash_table_lookup(r->sessions, d->id);
    if (rc < 0 && s && s->peer == d->peer)
        mr_relay_remove_session(r, s);
out:
    free(d);
    return G_SOURCE_REMOVE;
}

/* The section a trickled candidate belongs to: the first live one the
 * client knows (the BUNDLE tag of its remote description), so that
 * addIceCandidate finds it whether or not the pending offer is answered. */
static const char *transport_mid(const struct mr_room_sub *rs)
{
    const struct rs_state *states[2] = {&rs->cur, &rs->next};
    for (unsigned k = 0; k < 2; k++)
        for (unsigned i = 0; i < states[k]->n_sections; i++)
            if (states[k]->sections[i].binding >= 0)
                return states[k]->sections[i].mid;
    return rs->next.n_sections ? rs->next.sections[0].mid : "";
}

const char *mr_room_sub_local_candidate(struct mr_session *s, const char *line)
{
    struct mr_room_sub *rs = s->rsub;
    if (!line)
        rs->gathering_done = true;
    else if (rs->n_cands < MR_TRANSPORT_MAX_CANDIDATES &&
             mr_sdp_parse_candidate(line, strlen(line), &rs->cands[rs->n_cands]) == 0)
        rs->n_cands++; /* a re-offer lists every candidate known so far */
    return transport_mid(rs);
}

struct offer_note {
    struct mr_relay *relay;
    char id[MR_SESSION_ID_LEN + 1];
    uint64_t ticket;
};

/* Delivers an update's offer, unless it was cancelled or the session
 * closed in between. */
/* Hands the pending update's offer to its requester. */
static void deliver_offer_now(struct mr_session *s)
{
    struct mr_room_sub *rs = s->rsub;
    struct mr_session_result res = {
        .session_id = s->id,
        .detail = "",
        .answer = rs->offer_text,
        .answer_len = rs->offer_len,
        .ice_ufrag = rs->ice_ufrag,
    };
    mr_session_cb cb = rs->offer_cb;
    void *user = rs->offer_user;
    rs->offer_ticket = 0;
    rs->offer_cb = NULL;
    if (cb)
        cb(&res, user);
}

/* Delivers an update's offer, unless it was cancelled or the session
 * closed in between. */
static gboolean deliver_offer(gpointer data)
{
    struct offer_note *n = data;
    struct mr_session *s = g_hash_table_lookup(n->relay->sessions, n->id);
    struct mr_room_sub *rs = s ? s->rsub : NULL;
    if (rs && rs->offer_ticket == n->ticket)
        deliver_offer_now(s);
    free(n);
    return G_SOURCE_REMOVE;
}

/* The worker restarted ICE (mr_bundle_restart_ice): the offer carries the
 * new credentials. When the update was cancelled meanwhile, the next offer
 * carries them; either way the next answer completes the restart. */
static void restarted(struct mr_relay *r, struct mr_session *s, const struct mr_bundle_desc *d)
{
    struct mr_room_sub *rs = s->rsub;
    if (!rs->restart_wanted)
        return;
    rs->restart_wanted = false;
    if (d->err < 0) {
        mr_relay_peer_failed(s->peer, "the ICE restart failed");
        return;
    }
    take_description(rs, d);
    rs->restart_pending = true;
    if (!rs->offer_ticket)
        return; /* cancelled */
    if (write_offer(r, rs) < 0) {
        mr_relay_peer_failed(s->peer, "could not write the SDP offer");
        return;
    }
    deliver_offer_now(s);
}

/* An update that restarts ICE: its offer waits for the worker's new
 * credentials (restarted). */
static int start_restart(struct mr_relay *r, struct mr_session *s,
                         const struct mr_room_sub_request *req, mr_session_cb cb, void *user,
                         uint64_t *ticket, char *detail, size_t dlen)
{
    struct mr_room_sub *rs = s->rsub;
    if (!rs->remote_set) {
        snprintf(detail, dlen, "no connection to restart yet: answer the first offer");
        return MR_ESTATE;
    }
    plan(r, rs, req);
    rs->offer_pending = true;
    rs->restart_wanted = true;
    mr_rs_sync_holds(r, rs);
    rs->offer_ticket = ++r->next_ticket;
    rs->offer_cb = cb;
    rs->offer_user = user;
    *ticket = rs->offer_ticket;
    mr_worker_call(s->peer->worker, mr_bundle_restart_ice, s->peer);
    return 0;
}

int mr_relay_room_sub_update(struct mr_relay *r, const char *session_id,
                             const struct mr_room_sub_request *req, mr_session_cb cb, void *user,
                             uint64_t *ticket, char *detail, size_t dlen)
{
    struct mr_session *s = g_hash_table_lookup(r->sessions, session_id);
    if (!s || !s->rsub || (req && req->room && strcmp(req->room, s->room) != 0) ||
        (req && req->sub && strcmp(req->sub, s->sub) != 0) ||
        (req && req->role && strcmp(req->role, s->role) != 0)) {
        snprintf(detail, dlen, "no such room subscription");
        return MR_ENOENT;
    }
    int rc = check_request(req, detail, dlen);
    if (rc < 0)
        return rc;
    struct mr_room_sub *rs = s->rsub;
    if (s->ticket || rs->offer_pending) {
        snprintf(detail, dlen, "the previous offer is not answered yet");
        return MR_EBUSY;
    }
    if (req->ice_restart)
        return start_restart(r, s, req, cb, user, ticket, detail, dlen);
    if (req->layer_cap != rs->layer_cap) {
        rs->layer_cap = (uint8_t)req->layer_cap;
        post_layer_cap(s, req->layer_cap);
    }
    struct offer_note *n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(detail, dlen, "out of memory");
        return MR_ENOMEM;
    }
    plan(r, rs, req);
    rc = write_offer(r, rs);
    if (rc < 0) {
        free(n);
        snprintf(detail, dlen, "could not write the SDP offer");
        return rc;
    }
    rs->offer_pending = true;
    mr_rs_sync_holds(r, rs);
    rs->offer_ticket = ++r->next_ticket;
    rs->offer_cb = cb;
    rs->offer_user = user;
    *ticket = rs->offer_ticket;
    n->relay = r;
    memcpy(n->id, s->id, sizeof(n->id));
    n->ticket = rs->offer_ticket;
    mr_relay_post(r, deliver_offer, n);
    return 0;
}

bool mr_room_sub_owns_ticket(const struct mr_session *s, uint64_t ticket)
{
    return s->rsub && ticket && s->rsub->offer_ticket == ticket;
}

void mr_room_sub_cancel(struct mr_relay *r, struct mr_session *s, uint64_t ticket)
{
    struct mr_room_sub *rs = s->rsub;
    if (!rs || rs->offer_ticket != ticket)
        return;
    /* Nobody will see this offer: the session goes on as answered. */
    rs->offer_ticket = 0;
    rs->offer_cb = NULL;
    rs->offer_pending = false;
    rs->next = rs->cur;
    mr_rs_sync_holds(r, rs);
}

void mr_room_sub_release(struct mr_relay *r, struct mr_session *s)
{
    struct mr_room_sub *rs = s->rsub;
    memset(&rs->cur, 0, sizeof(rs->cur));
    rs->offer_pending = false;
    mr_rs_sync_holds(r, rs);
    g_ptr_array_free(rs->held, TRUE);
    g_ptr_array_free(rs->receiving, TRUE);
    mr_relay_room_unref(r, rs->room);
    free(rs->offer_text);
    free(rs);
    s->rsub = NULL;
}

int mr_room_sub_patch(struct mr_relay *r, struct mr_session *s, struct mr_frag_call *c,
                      struct mr_sdp_frag *f, char *detail, size_t dlen)
{
    (void)r;
    struct mr_room_sub *rs = s->rsub;
    /* Candidates of the client's new credentials may come while its answer
     * to a restart is on its way. */
    if (rs->remote_set && !rs->restart_pending && f->ice_ufrag[0] &&
        strcmp(f->ice_ufrag, rs->remote_ufrag) != 0) {
        snprintf(detail, dlen, "a fragment with new ICE credentials: ask for an ICE restart "
                               "(\"iceRestart\") and answer its offer");
        free(c);
        free(f);
        return MR_EPARSE;
    }
    /* Before the answer the worker keeps them until it knows the client's
     * credentials. */
    mr_frag_call_post(c, s->peer, f, false);
    return 0;
}
