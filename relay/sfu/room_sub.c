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
 * Payload types are fixed per session so that one number never means two
 * codec configurations in the bundle (RFC 8843 §9.1): Opus 111, VP8 96,
 * H.264 102 and up, one per profile-level-id seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "sfu/bundle.h"
#include "sfu/relay_priv.h"

#define MAX_SECTIONS MR_ROOM_SUB_MAX_SECTIONS
#define MAX_H264     8
#define PT_OPUS      111
#define PT_VP8       96
#define PT_H264      102
#define EXT_MID      1
#define EXT_LEVEL    2
#define OFFER_MAX    65536

/* A codec in the bundle's numbering, small enough to copy per section. */
struct rs_codec {
    enum mr_codec_id id;
    uint8_t pt;
    uint8_t idc, iop, level; /* H.264 profile-level-id */
};

/* One stream a room subscription offers or sends. */
struct rs_binding {
    bool used;
    struct mr_stream *st;                /* held through mr_room_sub.held */
    struct rs_codec pub[MR_MAX_TRACKS];  /* the publisher's sources offered */
    enum mr_media_kind pub_kind[MR_MAX_TRACKS];
    unsigned n_pub;
    struct mr_bundle_slot *slot;         /* a handle once answered */
    char cname[MR_CNAME_LEN];
};

struct rs_section {
    char mid[MR_SDP_MID_MAX + 1];
    enum mr_media_kind kind;
    int binding;                         /* -1: retired */
    unsigned pub_track;                  /* the publisher's track index */
    struct rs_codec codec;
    uint32_t out_ssrc;
};

struct rs_state {
    unsigned n_sections;
    struct rs_section sections[MAX_SECTIONS];
    struct rs_binding bindings[MAX_SECTIONS];
};

struct mr_room_sub {
    struct mr_relay_room *room;         /* a reference */
    struct rs_state cur;          /* answered */
    struct rs_state next;         /* offered, waiting for the answer */
    bool offer_pending;
    /* The transport, as the worker described it after gathering. */
    char ice_ufrag[MR_ICE_CRED_MAX];
    char ice_pwd[MR_ICE_CRED_MAX];
    char fingerprint[128];
    unsigned n_cands;
    struct mr_sdp_candidate cands[MR_TRANSPORT_MAX_CANDIDATES];
    bool gathering_done;          /* offers say a=end-of-candidates */
    uint64_t sess_id, sess_version;
    unsigned next_mid;
    unsigned n_h264;
    struct rs_codec h264[MAX_H264];
    bool remote_set;
    char remote_ufrag[MR_SDP_ICE_MAX + 1];
    /* An update's offer, delivered later through its callback. */
    uint64_t offer_ticket;
    mr_session_cb offer_cb;
    void *offer_user;
    char *offer_text;
    size_t offer_len;
    /* Streams held (their n_room_holds) and those sent (n_room_receivers). */
    GPtrArray *held;
    GPtrArray *receiving;
};

/* --- Payload types ------------------------------------------------------- */

/* The bundle's codec for what a publisher sends; false when the session
 * has no payload type left for another H.264 profile. */
static bool bundle_codec(struct mr_room_sub *rs, const struct mr_codec *pub, struct rs_codec *out)
{
    *out = (struct rs_codec){.id = pub->id};
    if (pub->id == MR_CODEC_OPUS) {
        out->pt = PT_OPUS;
        return true;
    }
    if (pub->id == MR_CODEC_VP8) {
        out->pt = PT_VP8;
        return true;
    }
    if (pub->id != MR_CODEC_H264)
        return false;
    out->idc = pub->h264_profile_idc;
    out->iop = pub->h264_profile_iop;
    out->level = pub->h264_level_idc;
    for (unsigned i = 0; i < rs->n_h264; i++) {
        const struct rs_codec *k = &rs->h264[i];
        if (k->idc == out->idc && k->iop == out->iop && k->level == out->level) {
            out->pt = k->pt;
            return true;
        }
    }
    if (rs->n_h264 == MAX_H264)
        return false;
    out->pt = (uint8_t)(PT_H264 + rs->n_h264);
    rs->h264[rs->n_h264++] = *out;
    return true;
}

static void fill_sdp_codec(const struct rs_codec *c, struct mr_sdp_codec *out)
{
    memset(out, 0, sizeof(*out));
    out->pt = c->pt;
    snprintf(out->name, sizeof(out->name), "%s", mr_codec_name(c->id));
    if (c->id == MR_CODEC_OPUS) {
        out->clock_rate = 48000;
        out->channels = 2;
        snprintf(out->fmtp, sizeof(out->fmtp), "minptime=10;useinbandfec=1");
        return;
    }
    out->clock_rate = 90000;
    /* Only the feedback the relay honours: key-frame requests. */
    out->fb = MR_FB_NACK_PLI | MR_FB_CCM_FIR;
    if (c->id == MR_CODEC_H264)
        snprintf(out->fmtp, sizeof(out->fmtp),
                 "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=%02x%02x%02x",
                 c->idc, c->iop, c->level);
}

/* The codec a track of a slot sends, as forwarding and binding read it. */
static void fill_track_codec(const struct rs_codec *c, uint32_t fb, struct mr_codec *out)
{
    struct mr_sdp_codec k;
    fill_sdp_codec(c, &k);
    memset(out, 0, sizeof(*out));
    out->id = c->id;
    out->pt = c->pt;
    out->clock_rate = k.clock_rate;
    out->channels = k.channels;
    out->h264_profile_idc = c->idc;
    out->h264_profile_iop = c->iop;
    out->h264_level_idc = c->level;
    snprintf(out->fmtp, sizeof(out->fmtp), "%s", k.fmtp);
    out->fb = fb & (MR_FB_NACK_PLI | MR_FB_CCM_FIR);
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
    for (unsigned i = 0; i < MAX_SECTIONS; i++) {
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
static void sync_holds(struct mr_relay *r, struct mr_room_sub *rs)
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

static void retire_binding(struct rs_state *s, int bi)
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
    if (n->n_sections == MAX_SECTIONS)
        return -1;
    return (int)n->n_sections++;
}

static int free_binding(const struct mr_room_sub *rs)
{
    for (unsigned i = 0; i < MAX_SECTIONS; i++)
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
        snprintf(sec->mid, sizeof(sec->mid), "%u", rs->next_mid++);
        placed++;
    }
    if (placed == 0)
        retire_binding(&rs->next, bi);
}

/* next := cur, changed to the streams of req that are live now. */
static void plan(struct mr_relay *r, struct mr_room_sub *rs, const struct mr_room_sub_request *req)
{
    rs->next = rs->cur;
    struct rs_state *n = &rs->next;
    for (unsigned i = 0; i < MAX_SECTIONS; i++) {
        struct rs_binding *b = &n->bindings[i];
        if (b->used && (!asked_for(req, b->st->name) || !is_live(b->st) ||
                        mr_relay_find_stream(r, rs->room->name, b->st->name) != b->st ||
                        !same_publication(rs, b)))
            retire_binding(n, (int)i);
    }
    for (unsigned k = 0; k < req->n_streams; k++) {
        struct mr_stream *st = mr_relay_find_stream(r, rs->room->name, req->streams[k]);
        bool bound = false;
        for (unsigned i = 0; i < MAX_SECTIONS && st; i++)
            bound = bound || (n->bindings[i].used && n->bindings[i].st == st);
        if (is_live(st) && !bound)
            add_stream(rs, st);
    }
}

/* --- Writing offers ------------------------------------------------------ */

static void fill_offer_media(const struct mr_room_sub *rs, const struct rs_section *sec,
                             struct mr_sdp_offer_media *m)
{
    m->kind = sec->kind;
    snprintf(m->mid, sizeof(m->mid), "%s", sec->mid);
    fill_sdp_codec(&sec->codec, &m->codec);
    m->extmaps[m->n_extmaps++] = (struct mr_sdp_extmap){.id = EXT_MID};
    snprintf(m->extmaps[0].uri, sizeof(m->extmaps[0].uri), "%s",
             mr_rtp_ext_kind_uri(MR_RTP_EXT_MID));
    if (sec->kind == MR_MEDIA_AUDIO) {
        m->extmaps[m->n_extmaps] = (struct mr_sdp_extmap){.id = EXT_LEVEL};
        snprintf(m->extmaps[m->n_extmaps].uri, sizeof(m->extmaps[0].uri), "%s",
                 mr_rtp_ext_kind_uri(MR_RTP_EXT_AUDIO_LEVEL));
        m->n_extmaps++;
    }
    if (sec->binding < 0) {
        m->retired = true;
        return;
    }
    const struct rs_binding *b = &rs->next.bindings[sec->binding];
    m->ssrc = sec->out_ssrc;
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
    if (req->n_streams > MAX_SECTIONS) {
        snprintf(detail, dlen, "at most %u streams per room subscription", MAX_SECTIONS);
        return MR_EINVAL;
    }
    for (unsigned i = 0; i < req->n_streams; i++) {
        if (!req->streams[i] || !req->streams[i][0] || strlen(req->streams[i]) > 64) {
            snprintf(detail, dlen, "stream %u has no valid name", i);
            return MR_EINVAL;
        }
    }
    return 0;
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
    s->peer->worker = rs->room->worker;
    s->peer->bundle = bundle;
    plan(r, rs, req);
    rs->offer_pending = true;
    sync_holds(r, rs);
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

gboolean mr_room_sub_described(gpointer data)
{
    struct mr_bundle_desc *d = data;
    struct mr_relay *r = d->relay;
    struct mr_session *s = g_hash_table_lookup(r->sessions, d->id);
    if (!s || s->peer != d->peer || !s->rsub || !s->ticket)
        goto out; /* closed or cancelled meanwhile */
    struct mr_room_sub *rs = s->rsub;
    snprintf(rs->ice_ufrag, sizeof(rs->ice_ufrag), "%s", d->ice_ufrag);
    snprintf(rs->ice_pwd, sizeof(rs->ice_pwd), "%s", d->ice_pwd);
    snprintf(rs->fingerprint, sizeof(rs->fingerprint), "%s", d->fingerprint);
    rs->n_cands = 0;
    for (unsigned i = 0; i < d->n_lines; i++)
        if (mr_sdp_parse_candidate(d->lines[i], strlen(d->lines[i]), &rs->cands[rs->n_cands]) == 0)
            rs->n_cands++;
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
static gboolean deliver_offer(gpointer data)
{
    struct offer_note *n = data;
    struct mr_session *s = g_hash_table_lookup(n->relay->sessions, n->id);
    struct mr_room_sub *rs = s ? s->rsub : NULL;
    if (rs && rs->offer_ticket == n->ticket) {
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
    free(n);
    return G_SOURCE_REMOVE;
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
    sync_holds(r, rs);
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
    sync_holds(r, rs);
}

void mr_room_sub_release(struct mr_relay *r, struct mr_session *s)
{
    struct mr_room_sub *rs = s->rsub;
    memset(&rs->cur, 0, sizeof(rs->cur));
    rs->offer_pending = false;
    sync_holds(r, rs);
    g_ptr_array_free(rs->held, TRUE);
    g_ptr_array_free(rs->receiving, TRUE);
    mr_relay_room_unref(r, rs->room);
    free(rs->offer_text);
    free(rs);
    s->rsub = NULL;
}

struct trickle_call {
    struct mr_peer *peer;
    struct mr_sdp_frag *frag;
};

static void run_trickle(void *data)
{
    struct trickle_call *c = data;
    mr_peer_trickle(c->peer, c->frag);
    free(c);
}

int mr_room_sub_patch(struct mr_relay *r, struct mr_session *s, struct mr_sdp_frag *f,
                      char *detail, size_t dlen)
{
    (void)r;
    struct mr_room_sub *rs = s->rsub;
    struct trickle_call *c = malloc(sizeof(*c));
    int rc = c ? 0 : MR_ENOMEM;
    if (rs->remote_set && f->ice_ufrag[0] && strcmp(f->ice_ufrag, rs->remote_ufrag) != 0) {
        snprintf(detail, dlen, "ICE restart is not supported in a room subscription");
        rc = MR_EPARSE;
    }
    if (rc < 0) {
        free(c);
        free(f);
        return rc;
    }
    /* Before the answer the worker keeps them until it knows the client's
     * credentials. */
    c->peer = s->peer;
    c->frag = f;
    mr_worker_call(s->peer->worker, run_trickle, c);
    return 0;
}

/* --- Answers ------------------------------------------------------------- */

/* What the answer says of each offered section. */
struct answered {
    bool accepted[MAX_SECTIONS];
    uint32_t fb[MAX_SECTIONS];
    struct mr_ext_ids ext[MAX_SECTIONS];
    const struct mr_sdp_media *transport; /* the BUNDLE tag, NULL: none live */
};

static int read_sections(const struct mr_room_sub *rs, const struct mr_sdp *a,
                         struct answered *out, char *detail, size_t dlen)
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
        mr_negotiate_ext_ids(m, &out->ext[i]);
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

/* RFC 8842 §5.2: the answerer picks; actpass is not an answer. */
static int check_transport(const struct mr_room_sub *rs, const struct mr_sdp_media *tm,
                           char *detail, size_t dlen)
{
    if (!tm)
        return 0;
    if (rs->remote_set) {
        if (strcmp(tm->ice_ufrag, rs->remote_ufrag) != 0) {
            /* The client would have to restart ICE on our side too; not
             * done yet. */
            snprintf(detail, dlen, "ICE restart not supported in a room subscription answer");
            return MR_EPARSE;
        }
        return 0;
    }
    if (!tm->ice_ufrag[0] || !tm->ice_pwd[0] || tm->fingerprint_len == 0) {
        snprintf(detail, dlen, "the answer lacks ICE credentials or a DTLS fingerprint");
        return MR_EPARSE;
    }
    if (tm->setup != MR_SETUP_ACTIVE && tm->setup != MR_SETUP_PASSIVE) {
        snprintf(detail, dlen, "the answer must say a=setup:active or a=setup:passive");
        return MR_EPARSE;
    }
    if (!tm->rtcp_mux) {
        snprintf(detail, dlen, "the answer lacks a=rtcp-mux, which is required");
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
static struct mr_bundle_slot *make_slot(const struct rs_state *s, int bi,
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
        fill_track_codec(&sec->codec, ans->fb[i], &t->codec);
        t->ext = ans->ext[i];
        t->src = -1;
        /* Bound by kind and rank among the publisher's sources, as WHEP
         * subscribers are, so a reconnecting publisher rebinds them. */
        for (unsigned k = 0; k < sec->pub_track; k++)
            t->rank += b->pub_kind[k] == sec->kind;
        t->out_ssrc = sec->out_ssrc;
        mr_rewrite_init(&t->rw, (uint16_t)mr_random_u32(), mr_random_u32());
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
    for (unsigned bi = 0; bi < MAX_SECTIONS; bi++) {
        struct rs_binding *b = &n->bindings[bi];
        if (!b->used)
            continue;
        if (b->slot && same_sections(&rs->cur, n, (int)bi))
            continue;
        b->slot = make_slot(n, (int)bi, ans);
        if (b->slot)
            c->add[c->n_add++] = b->slot;
        else
            retire_binding(n, (int)bi);
    }
    for (unsigned bi = 0; bi < MAX_SECTIONS; bi++) {
        struct mr_bundle_slot *old = rs->cur.bindings[bi].used ? rs->cur.bindings[bi].slot : NULL;
        bool kept = false;
        for (unsigned k = 0; k < MAX_SECTIONS && old; k++)
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
    if (ans->transport && !rs->remote_set) {
        fill_remote(c, a, ans->transport);
        rs->remote_set = true;
        snprintf(rs->remote_ufrag, sizeof(rs->remote_ufrag), "%s", ans->transport->ice_ufrag);
    }
    settle(rs, ans, c);
    rs->offer_pending = false;
    sync_holds(r, rs);
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
