/* The relay's control side: sessions and streams, on the control thread. */
#include "sfu/relay.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/random.h"
#include "dtls/dtls.h"
#include "sfu/relay_priv.h"
#include "sfu/sfu_priv.h"
#include "srtp/srtp.h"

const struct mr_config *mr_relay_config(const struct mr_relay *r)
{
    return r->cfg;
}

const struct mr_dtls_identity *mr_relay_identity(const struct mr_relay *r)
{
    return r->identity;
}

const struct mr_worker_pool *mr_relay_workers(const struct mr_relay *r)
{
    return r->pool;
}

const char *mr_relay_stun_ip(const struct mr_relay *r)
{
    return r->stun_ip[0] ? r->stun_ip : NULL;
}

/* libnice wants a numeric STUN address; resolve the name once. */
static int resolve_stun(struct mr_relay *r)
{
    const char *host = r->cfg->stun_server;
    if (!host[0])
        return 0;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res) {
        mr_log_error(CONFIG, "[media] stun_server: cannot resolve %s", host);
        return MR_EINVAL;
    }
    getnameinfo(res->ai_addr, res->ai_addrlen, r->stun_ip, sizeof(r->stun_ip), NULL, 0,
                NI_NUMERICHOST);
    freeaddrinfo(res);
    return 0;
}

int mr_relay_new(const struct mr_config *cfg, GMainContext *control, struct mr_relay **out)
{
    struct mr_relay *r = calloc(1, sizeof(*r));
    if (!r)
        return MR_ENOMEM;
    r->cfg = cfg;
    r->control = control;
    int rc = mr_srtp_global_init();
    if (rc == 0)
        rc = resolve_stun(r);
    if (rc == 0)
        rc = mr_dtls_identity_new(&r->identity);
    if (rc < 0)
        goto fail;
    struct mr_record_config rc_cfg = {
        .dir = cfg->record_dir,
        .segment_bytes = (uint64_t)cfg->segment_mb << 20,
        .segment_seconds = cfg->segment_minutes * 60,
        .ring_slots = 2048,
    };
    rc = mr_recorder_new(&rc_cfg, &r->recorder);
    if (rc < 0) {
        mr_log_error(RECORD, "cannot start the recorder in %s: %s", cfg->record_dir,
                     mr_strerror(rc));
        goto fail;
    }
    mr_recorder_recover(r->recorder); /* it logs what it closed */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = cfg->workers ? cfg->workers : (cpus > 0 ? (unsigned)cpus : 1);
    rc = mr_worker_pool_new(n, cfg->io_uring, &r->pool);
    if (rc < 0)
        goto fail;
    r->sessions = g_hash_table_new(g_str_hash, g_str_equal);
    r->streams = g_hash_table_new(g_str_hash, g_str_equal);
    r->rooms = g_hash_table_new(g_str_hash, g_str_equal);
    r->pins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    mr_log_info(SRTP,
                "%s with %s crypto%s, AES-CM RTP to viewers protected directly on OpenSSL; DTLS "
                "certificate sha-256 %s",
                mr_srtp_version(), mr_srtp_backend(),
                mr_srtp_keyed_hmac() ? ", HMAC-SHA1 on keyed states" : "",
                mr_dtls_identity_fingerprint(r->identity));
    *out = r;
    return 0;

    /* ERRORS */
fail:
    if (r->recorder)
        mr_recorder_free(r->recorder, 0);
    mr_dtls_identity_free(r->identity);
    free(r);
    return rc;
}

void mr_relay_stream_check_end(struct mr_relay *r, struct mr_stream *st)
{
    if (st->n_sessions > 0 || st->n_room_holds > 0)
        return;
    mr_relay_record_on_stream_end(r, st);
    g_hash_table_remove(r->streams, st->key);
    struct mr_relay_room *room = st->home;
    st->home = NULL;
    mr_stream_unref(st);
    mr_relay_room_unref(r, room);
}

/* Removes a session and has its worker destroy the peer. */
void mr_relay_remove_session(struct mr_relay *r, struct mr_session *s)
{
    struct mr_stream *st = s->stream;
    g_hash_table_remove(r->sessions, s->id);
    mr_worker_call(s->peer->worker, mr_peer_destroy, s->peer);
    if (s->rsub) {
        mr_room_sub_release(r, s);
    } else {
        if (s->kind == MR_SESSION_PUBLISH && strcmp(st->pub_session, s->id) == 0) {
            st->pub_session[0] = '\0';
            st->pub_sub[0] = st->pub_role[0] = '\0';
            st->pub_ready = false;
            st->n_pub_sources = 0;
        }
        st->n_sessions--;
        mr_relay_stream_check_end(r, st);
    }
    char room[MR_LOG_REDACT_LEN];
    mr_log_info(SFU, "%s %.8s closed (room %s)",
                s->kind == MR_SESSION_PUBLISH ? "publisher"
                : s->rsub                     ? "room subscription"
                                              : "subscriber",
                s->id, mr_log_redact(MR_LOG_SFU, s->room, room));
    free(s);
}

void mr_relay_free(struct mr_relay *r)
{
    if (!r)
        return;
    GList *all = g_hash_table_get_values(r->sessions);
    for (GList *l = all; l; l = l->next)
        mr_relay_remove_session(r, l->data);
    g_list_free(all);
    /* Joins the workers after they ran every queued destroy (which drops
     * their references to recordings), then lets the recorder finalize. */
    mr_worker_pool_free(r->pool);
    mr_recorder_free(r->recorder, 8000);
    g_hash_table_destroy(r->sessions);
    g_hash_table_destroy(r->streams);
    g_hash_table_destroy(r->rooms);
    g_hash_table_destroy(r->pins);
    mr_dtls_identity_free(r->identity);
    free(r);
}

struct mr_stream *mr_relay_find_stream(struct mr_relay *r, const char *room, const char *name)
{
    char key[MR_STREAM_KEY_MAX + 1];
    snprintf(key, sizeof(key), "%s/%s", room, name);
    return g_hash_table_lookup(r->streams, key);
}

/* A new stream goes to its room's worker, where the room's other streams
 * and its room subscriptions live. */
static struct mr_stream *find_or_create_stream(struct mr_relay *r, const char *room_name,
                                               const char *name)
{
    struct mr_stream *st = mr_relay_find_stream(r, room_name, name);
    if (st)
        return st;
    struct mr_relay_room *room = mr_relay_room_get(r, room_name);
    if (!room)
        return NULL;
    st = mr_stream_new(room_name, name, room->worker, r->cfg->viewer_grace_s);
    if (!st) {
        mr_relay_room_unref(r, room);
        return NULL;
    }
    mr_worker_hold(room->worker);
    st->home = room;
    g_hash_table_insert(r->streams, st->key, st);
    mr_relay_apply_pin(r, st);
    return st;
}

struct mr_session *mr_relay_session_new(struct mr_relay *r, enum mr_session_kind kind,
                                        const char *room, const char *stream, const char *sub,
                                        const char *role)
{
    struct mr_session *s = calloc(1, sizeof(*s));
    struct mr_peer *p = calloc(1, sizeof(*p));
    if (!s || !p) {
        free(s);
        free(p);
        return NULL;
    }
    mr_random_hex(s->id, MR_SESSION_ID_LEN / 2);
    s->kind = kind;
    snprintf(s->room, sizeof(s->room), "%s", room);
    snprintf(s->stream_name, sizeof(s->stream_name), "%s", stream);
    snprintf(s->sub, sizeof(s->sub), "%s", sub);
    snprintf(s->role, sizeof(s->role), "%s", role ? role : "");
    s->peer = p;
    memcpy(p->id, s->id, sizeof(p->id));
    p->kind = kind;
    p->relay = r;
    mr_random_hex(p->cname, (MR_CNAME_LEN - 1) / 2);
    p->rtcp_ssrc = mr_random_u32() | 1;
    g_hash_table_insert(r->sessions, s->id, s);
    return s;
}

static struct mr_session *new_session(struct mr_relay *r, const struct mr_session_request *req,
                                      struct mr_stream *st, struct mr_plan *plan)
{
    struct mr_session *s =
        mr_relay_session_new(r, req->kind, req->room, req->stream, req->sub, req->role);
    if (!s)
        return NULL;
    struct mr_peer *p = s->peer;
    const struct mr_sdp_media *tm = &plan->offer->media[plan->transport_m];
    snprintf(s->remote_ufrag, sizeof(s->remote_ufrag), "%s", tm->ice_ufrag);
    snprintf(s->remote_pwd, sizeof(s->remote_pwd), "%s", tm->ice_pwd);
    s->stream = st;
    p->stream = mr_stream_ref(st);
    p->worker = st->worker;
    p->plan = plan;
    p->layer_cap = req->kind == MR_SESSION_SUBSCRIBE ? req->layer_cap : 0;
    snprintf(p->frag_media, sizeof(p->frag_media), "m=%s 9 %s %s", tm->kind_name, tm->proto,
             tm->first_fmt);
    snprintf(p->frag_mid, sizeof(p->frag_mid), "%s", tm->mid);
    st->n_sessions++;
    return s;
}

static void record_publisher(struct mr_stream *st, const struct mr_session *s,
                             const struct mr_plan *plan)
{
    snprintf(st->pub_session, sizeof(st->pub_session), "%s", s->id);
    snprintf(st->pub_sub, sizeof(st->pub_sub), "%s", s->sub);
    snprintf(st->pub_role, sizeof(st->pub_role), "%s", s->role);
    st->pub_ready = false;
    st->n_pub_sources = 0;
    for (unsigned i = 0; i < plan->offer->n_media; i++) {
        const struct mr_plan_media *pm = &plan->media[i];
        if (!pm->accepted)
            continue;
        st->pub_sources[pm->track].kind = plan->offer->media[i].kind;
        st->pub_sources[pm->track].codec = pm->codec;
        st->n_pub_sources++;
    }
}

static int plan_request(struct mr_relay *r, const struct mr_session_request *req,
                        struct mr_plan **plan, char *detail, size_t dlen)
{
    if (req->kind == MR_SESSION_PUBLISH)
        return mr_plan_publish(req->offer, req->offer_len, plan, detail, dlen);
    struct mr_stream *st = mr_relay_find_stream(r, req->room, req->stream);
    bool live = st && st->pub_session[0] && st->pub_ready;
    int rc = mr_plan_subscribe(req->offer, req->offer_len, live ? st->pub_sources : NULL,
                               live ? st->n_pub_sources : 0, plan, detail, dlen);
    /* The body is judged before the state: a bad offer is a 400 even for a
     * stream nobody publishes. */
    if (!live && rc != MR_EPARSE) {
        if (rc == 0)
            mr_plan_free(*plan);
        snprintf(detail, dlen, "nothing is published on this stream");
        return MR_ENOENT;
    }
    return rc;
}

int mr_relay_open(struct mr_relay *r, const struct mr_session_request *req, mr_session_cb cb,
                  void *user, uint64_t *ticket, char *detail, size_t dlen)
{
    struct mr_plan *plan = NULL;
    int rc = plan_request(r, req, &plan, detail, dlen);
    if (rc < 0)
        return rc;
    struct mr_stream *st = find_or_create_stream(r, req->room, req->stream);
    if (!st) {
        mr_plan_free(plan);
        snprintf(detail, dlen, "out of memory");
        return MR_ENOMEM;
    }
    if (req->kind == MR_SESSION_PUBLISH && st->pub_session[0]) {
        if (strcmp(st->pub_sub, req->sub) != 0 ||
            strcmp(st->pub_role, req->role ? req->role : "") != 0) {
            mr_plan_free(plan);
            snprintf(detail, dlen, "another participant is publishing this stream");
            return MR_EBUSY;
        }
        /* The same participant is back (its link dropped): the new session
         * replaces the old one. */
        struct mr_session *old = g_hash_table_lookup(r->sessions, st->pub_session);
        bool muted[2] = {st->muted[0], st->muted[1]};
        if (old)
            mr_relay_remove_session(r, old);
        st = find_or_create_stream(r, req->room, req->stream);
        /* A moderator's mute outlives the publisher's reconnect, even when
         * the stream had to be made anew. */
        if (st && (st->muted[0] != muted[0] || st->muted[1] != muted[1])) {
            st->muted[0] = muted[0];
            st->muted[1] = muted[1];
            mr_stream_post_muted(st);
        }
    }
    if (!st) {
        mr_plan_free(plan);
        snprintf(detail, dlen, "out of memory");
        return MR_ENOMEM;
    }
    struct mr_session *s = new_session(r, req, st, plan);
    if (!s) {
        mr_plan_free(plan);
        snprintf(detail, dlen, "out of memory");
        return MR_ENOMEM;
    }
    if (req->kind == MR_SESSION_PUBLISH)
        record_publisher(st, s, plan);
    s->ticket = ++r->next_ticket;
    s->cb = cb;
    s->user = user;
    *ticket = s->ticket;
    mr_relay_session_trickle(s, req->trickle, req->cand_cb, req->cand_user);
    char room[MR_LOG_REDACT_LEN];
    mr_log_info(SFU, "%s %.8s opening (room %s, worker %u)",
                req->kind == MR_SESSION_PUBLISH ? "publisher" : "subscriber", s->id,
                mr_log_redact(MR_LOG_SFU, req->room, room), st->worker->index);
    mr_worker_call(st->worker, mr_peer_start, s->peer);
    return 0;
}

static struct mr_session *find_by_ticket(struct mr_relay *r, uint64_t ticket)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, r->sessions);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct mr_session *s = value;
        if (s->ticket == ticket || s->restart_ticket == ticket ||
            mr_room_sub_owns_ticket(s, ticket))
            return s;
    }
    return NULL;
}

void mr_relay_cancel(struct mr_relay *r, uint64_t ticket)
{
    struct mr_session *s = ticket ? find_by_ticket(r, ticket) : NULL;
    if (!s)
        return;
    if (s->ticket == ticket) {
        mr_relay_remove_session(r, s);
    } else if (mr_room_sub_owns_ticket(s, ticket)) {
        mr_room_sub_cancel(r, s, ticket);
    } else {
        /* The restart goes on; only its answer has nobody to go to. */
        s->restart_cb = NULL;
        s->restart_user = NULL;
    }
}

int mr_relay_session_info(struct mr_relay *r, const char *session_id, struct mr_session_info *out)
{
    struct mr_session *s = g_hash_table_lookup(r->sessions, session_id);
    if (!s || s->ticket)
        return MR_ENOENT;
    out->kind = s->kind;
    snprintf(out->room, sizeof(out->room), "%s", s->room);
    /* A room subscription receives several streams: its stream is "". */
    snprintf(out->stream, sizeof(out->stream), "%s", s->stream_name);
    snprintf(out->sub, sizeof(out->sub), "%s", s->sub);
    snprintf(out->role, sizeof(out->role), "%s", s->role);
    return 0;
}

static bool asks_restart(const struct mr_session *s, const struct mr_sdp_frag *f)
{
    return (f->ice_ufrag[0] && strcmp(f->ice_ufrag, s->remote_ufrag) != 0) ||
           (f->ice_pwd[0] && strcmp(f->ice_pwd, s->remote_pwd) != 0);
}

static int start_restart(struct mr_relay *r, struct mr_session *s, const struct mr_sdp_frag *f,
                         mr_session_cb cb, void *user, uint64_t *ticket, char *detail, size_t dlen)
{
    if (s->restart_ticket) {
        snprintf(detail, dlen, "an ICE restart of this session is already under way");
        return MR_EBUSY;
    }
    if (!f->ice_ufrag[0] || !f->ice_pwd[0]) {
        snprintf(detail, dlen, "an ICE restart needs both a=ice-ufrag and a=ice-pwd");
        return MR_EPARSE;
    }
    snprintf(s->remote_ufrag, sizeof(s->remote_ufrag), "%s", f->ice_ufrag);
    snprintf(s->remote_pwd, sizeof(s->remote_pwd), "%s", f->ice_pwd);
    s->restart_ticket = ++r->next_ticket;
    s->restart_cb = cb;
    s->restart_user = user;
    *ticket = s->restart_ticket;
    return MR_EAGAIN;
}

int mr_relay_patch(struct mr_relay *r, const char *session_id, const char *frag, size_t len,
                   mr_session_cb cb, void *user, uint64_t *ticket, char *detail, size_t dlen)
{
    struct mr_frag_call *c = mr_frag_call_new();
    struct mr_sdp_frag *f = malloc(sizeof(*f));
    char why[160] = "";
    int rc = (c && f) ? mr_sdp_parse_frag(frag, len, f, why, sizeof(why)) : MR_ENOMEM;
    if (rc < 0) {
        snprintf(detail, dlen, "malformed trickle-ice-sdpfrag: %s", why[0] ? why : mr_strerror(rc));
        goto fail;
    }
    struct mr_session *s = g_hash_table_lookup(r->sessions, session_id);
    if (!s || s->ticket) {
        rc = MR_ENOENT;
        snprintf(detail, dlen, "no such session");
        goto fail;
    }
    if (s->rsub)
        return mr_room_sub_patch(r, s, c, f, detail, dlen); /* takes c and f */
    rc = 0;
    if (asks_restart(s, f)) {
        rc = start_restart(r, s, f, cb, user, ticket, detail, dlen);
        if (rc != MR_EAGAIN)
            goto fail;
    }
    mr_frag_call_post(c, s->peer, f, rc == MR_EAGAIN);
    return rc;

    /* ERRORS */
fail:
    free(c);
    free(f);
    return rc;
}

int mr_relay_close(struct mr_relay *r, const char *session_id)
{
    struct mr_session *s = g_hash_table_lookup(r->sessions, session_id);
    if (!s || s->ticket)
        return MR_ENOENT;
    mr_relay_remove_session(r, s);
    return 0;
}

void mr_relay_counts(struct mr_relay *r, struct mr_relay_counts *out)
{
    GHashTableIter it;
    gpointer key, value;
    memset(out, 0, sizeof(*out));
    g_hash_table_iter_init(&it, r->sessions);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct mr_session *s = value;
        if (s->kind == MR_SESSION_PUBLISH)
            out->publishers++;
        else
            out->subscribers++;
        if (s->rsub)
            out->room_subscribers++;
    }
    out->streams = g_hash_table_size(r->streams);
}

int mr_relay_set_muted(struct mr_relay *r, const char *room, const char *stream, bool audio,
                       bool muted)
{
    struct mr_stream *st = mr_relay_find_stream(r, room, stream);
    if (!st)
        return MR_ENOENT;
    enum mr_media_kind kind = audio ? MR_MEDIA_AUDIO : MR_MEDIA_VIDEO;
    if (st->muted[kind] == muted)
        return 0;
    st->muted[kind] = muted;
    mr_stream_post_muted(st);
    char name[MR_LOG_REDACT_LEN];
    mr_log_info(SFU, "stream %s: %s %s", mr_log_redact(MR_LOG_SFU, st->key, name),
                audio ? "audio" : "video", muted ? "muted" : "unmuted");
    return 0;
}

void mr_relay_post(struct mr_relay *r, GSourceFunc fn, void *data)
{
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, fn, data, NULL);
    g_source_attach(src, r->control);
    g_source_unref(src);
}

/* --- Notifications from workers ----------------------------------------- */

struct peer_note {
    struct mr_relay *relay;
    struct mr_peer *peer;
    char id[MR_SESSION_ID_LEN + 1];
    int err;
    char detail[160];
    char *answer; /* owned */
    size_t answer_len;
    bool failed;
    bool restart;
    char ice_ufrag[MR_ICE_CRED_MAX];
};

static struct mr_session_result result_of(const struct mr_session *s, const struct peer_note *n)
{
    return (struct mr_session_result){
        .err = n->err,
        .detail = n->detail,
        .session_id = s->id,
        .answer = n->answer,
        .answer_len = n->answer_len,
        .ice_ufrag = n->ice_ufrag,
    };
}

static void deliver_restart(struct mr_session *s, struct peer_note *n)
{
    mr_session_cb cb = s->restart_cb;
    void *user = s->restart_user;
    struct mr_session_result res = result_of(s, n);
    s->restart_ticket = 0;
    s->restart_cb = NULL;
    s->restart_user = NULL;
    if (cb)
        cb(&res, user);
}

static gboolean deliver_note(gpointer data)
{
    struct peer_note *n = data;
    struct mr_relay *r = n->relay;
    struct mr_session *s = g_hash_table_lookup(r->sessions, n->id);
    /* The session may have been closed or replaced since the worker wrote
     * this note; then its peer's destroy is already queued. */
    if (!s || s->peer != n->peer)
        goto out;
    if (n->failed) {
        if (!s->ticket)
            mr_relay_remove_session(r, s);
        goto out;
    }
    if (n->restart) {
        deliver_restart(s, n);
        goto out;
    }
    struct mr_session_result res = result_of(s, n);
    mr_session_cb cb = s->cb;
    void *user = s->user;
    s->ticket = 0;
    s->cb = NULL;
    if (n->err == 0 && s->kind == MR_SESSION_PUBLISH) {
        s->stream->pub_ready = true;
        mr_relay_record_on_publish(r, s->stream);
    }
    /* The result names the session; a failed one is freed before the
     * callback, so its id is kept here. */
    char id[MR_SESSION_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", s->id);
    res.session_id = id;
    if (n->err < 0)
        mr_relay_remove_session(r, s);
    if (cb)
        cb(&res, user);
out:
    free(n->answer);
    free(n);
    return G_SOURCE_REMOVE;
}

static void post_note(struct mr_peer *p, struct peer_note *n)
{
    if (p->transport) {
        char pwd[MR_ICE_CRED_MAX];
        mr_transport_local_credentials(p->transport, n->ice_ufrag, pwd);
        explicit_bzero(pwd, sizeof(pwd));
    }
    n->relay = p->relay;
    n->peer = p;
    memcpy(n->id, p->id, sizeof(n->id));
    mr_relay_post(p->relay, deliver_note, n);
}

void mr_relay_peer_answered(struct mr_peer *p, int err, const char *detail, char *answer,
                            size_t answer_len)
{
    struct peer_note *n = calloc(1, sizeof(*n));
    if (!n) {
        free(answer);
        return;
    }
    n->err = err;
    snprintf(n->detail, sizeof(n->detail), "%s", detail ? detail : "");
    n->answer = answer;
    n->answer_len = answer_len;
    post_note(p, n);
}

void mr_relay_peer_restarted(struct mr_peer *p, int err, char *frag, size_t len)
{
    struct peer_note *n = calloc(1, sizeof(*n));
    if (!n) {
        free(frag);
        return;
    }
    n->restart = true;
    n->err = err;
    snprintf(n->detail, sizeof(n->detail), "%s", err < 0 ? "the ICE restart failed" : "");
    n->answer = frag;
    n->answer_len = len;
    post_note(p, n);
}

void mr_relay_peer_failed(struct mr_peer *p, const char *why)
{
    struct peer_note *n = calloc(1, sizeof(*n));
    if (!n)
        return;
    n->failed = true;
    snprintf(n->detail, sizeof(n->detail), "%s", why);
    post_note(p, n);
}
