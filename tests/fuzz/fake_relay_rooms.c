/* The relay fake's room subscriptions, moderation, recordings and stream
 * list (relay.h); see fake_relay.c. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "fake_relay_priv.h"

/* What relay.h asks of a room subscription request: a room, a sub, at
 * most FAKE_ROOM_SUB_MAX valid stream names (the protocol validated them,
 * so anything else is its bug, answered MR_EINVAL as the relay does). */
static int check_room_sub(const struct mr_room_sub_request *req, char *detail, size_t dlen)
{
    bool ok = req && req->room && req->room[0] && req->sub && req->n_streams <= FAKE_ROOM_SUB_MAX &&
              (req->n_streams == 0 || req->streams);
    for (unsigned i = 0; ok && i < req->n_streams; i++)
        ok = req->streams[i] && mr_name_valid(req->streams[i], strlen(req->streams[i]));
    if (!ok)
        snprintf(detail, dlen, "not a room subscription request relay.h accepts");
    return ok ? 0 : MR_EINVAL;
}

/* The streams of req published now: the next offer's. */
static void plan_offer(struct mr_relay *r, struct fake_session *s,
                       const struct mr_room_sub_request *req)
{
    s->n_next = 0;
    for (unsigned i = 0; i < req->n_streams; i++) {
        const struct fake_stream *st = fake_find_stream(r, req->room, req->streams[i]);
        if (st && st->pub_session[0] && st->ready && !fake_lists(s->next, s->n_next, st->name))
            snprintf(s->next[s->n_next++], sizeof(s->next[0]), "%s", st->name);
    }
    s->offer_pending = true;
}

int mr_relay_open_room_sub(struct mr_relay *r, const struct mr_room_sub_request *req,
                           mr_session_cb cb, void *user, uint64_t *ticket, char *detail,
                           size_t dlen)
{
    int rc = check_room_sub(req, detail, dlen);
    if (rc < 0)
        return rc;
    struct fake_session *s =
        fake_new_session(r, FAKE_ROOM_SUB, true, req->room, "", req->sub, req->role);
    plan_offer(r, s, req);
    fake_start_opening(r, s, cb, user, req->trickle, req->cand_cb, req->cand_user, ticket);
    return 0;
}

int mr_relay_room_sub_answer(struct mr_relay *r, const char *session_id, const char *sdp,
                             size_t len, char *detail, size_t dlen)
{
    struct fake_session *s = fake_find_session(r, session_id);
    if (!s || s->kind != FAKE_ROOM_SUB) {
        snprintf(detail, dlen, "no such room subscription");
        return MR_ENOENT;
    }
    if (s->ticket || !s->offer_pending) {
        snprintf(detail, dlen, "no offer is waiting for an answer");
        return MR_ESTATE;
    }
    int rc = fake_check_answer(sdp, len, detail, dlen);
    if (rc < 0)
        return rc;
    s->n_cur = s->n_next;
    memcpy(s->cur, s->next, sizeof(s->cur));
    s->offer_pending = false;
    fake_check_all_streams(r);
    return 0;
}

int mr_relay_room_sub_update(struct mr_relay *r, const char *session_id,
                             const struct mr_room_sub_request *req, mr_session_cb cb, void *user,
                             uint64_t *ticket, char *detail, size_t dlen)
{
    struct fake_session *s = fake_find_session(r, session_id);
    if (!s || s->kind != FAKE_ROOM_SUB || (req && req->room && strcmp(req->room, s->room) != 0) ||
        (req && req->sub && strcmp(req->sub, s->sub) != 0) ||
        (req && req->role && strcmp(req->role, s->role) != 0)) {
        snprintf(detail, dlen, "no such room subscription");
        return MR_ENOENT;
    }
    int rc = check_room_sub(req, detail, dlen);
    if (rc < 0)
        return rc;
    if (s->ticket || s->offer_pending) {
        snprintf(detail, dlen, "the previous offer is not answered yet");
        return MR_EBUSY;
    }
    plan_offer(r, s, req);
    s->offer_ticket = ++r->next_ticket;
    s->offer_cb = cb;
    s->offer_user = user;
    *ticket = s->offer_ticket;
    fake_queue_event(r, EV_OFFER, s->id, s->offer_ticket, 0, false, 0);
    fake_check_all_streams(r);
    return 0;
}

int mr_relay_set_muted(struct mr_relay *r, const char *room, const char *stream, bool audio,
                       bool muted)
{
    struct fake_stream *st = fake_find_stream(r, room, stream);
    if (!st)
        return MR_ENOENT;
    st->muted[audio ? 0 : 1] = muted;
    return 0;
}

int mr_relay_set_pin(struct mr_relay *r, const char *room, const char *stream)
{
    (void)r;
    (void)room;
    (void)stream;
    return 0;
}

int mr_relay_record_start(struct mr_relay *r, const char *room, const char *stream, const char *by,
                          const char *by_role, char *detail, size_t dlen)
{
    (void)by;
    (void)by_role;
    struct fake_stream *st = fake_find_stream(r, room, stream);
    if (!st || !st->pub_session[0] || !st->ready) {
        snprintf(detail, dlen, "nothing is published on this stream");
        return MR_ENOENT;
    }
    if (mr_config_record_policy(r->cfg, room) == MR_RECORD_NEVER) {
        snprintf(detail, dlen, "this room's recording policy is \"never\"");
        return MR_EPERM;
    }
    if (st->recording) {
        snprintf(detail, dlen, "this stream is already being recorded");
        return MR_EBUSY;
    }
    if (strncmp(st->name, "eio", 3) == 0) {
        snprintf(detail, dlen, "the recording could not start: the directory is not writable");
        snprintf(st->record_error, sizeof(st->record_error), "not writable");
        return MR_EIO;
    }
    st->recording = true;
    st->record_error[0] = '\0';
    return 0;
}

int mr_relay_record_stop(struct mr_relay *r, const char *room, const char *stream, const char *by,
                         const char *by_role)
{
    (void)by;
    (void)by_role;
    struct fake_stream *st = fake_find_stream(r, room, stream);
    if (!st || !st->recording)
        return MR_ENOENT;
    st->recording = false;
    return 0;
}

static gint by_key(gconstpointer a, gconstpointer b)
{
    const struct fake_stream *x = *(struct fake_stream *const *)a;
    const struct fake_stream *y = *(struct fake_stream *const *)b;
    int c = strcmp(x->room, y->room);
    return c ? c : strcmp(x->name, y->name);
}

void mr_relay_each_stream(struct mr_relay *r, const char *room, mr_stream_status_fn fn, void *user)
{
    GPtrArray *list = g_ptr_array_new();
    for (unsigned i = 0; i < r->streams->len; i++) {
        struct fake_stream *st = g_ptr_array_index(r->streams, i);
        if (!room || strcmp(st->room, room) == 0)
            g_ptr_array_add(list, st);
    }
    g_ptr_array_sort(list, by_key);
    for (unsigned i = 0; i < list->len; i++) {
        const struct fake_stream *st = g_ptr_array_index(list, i);
        struct mr_stream_status s;
        bool held;
        memset(&s, 0, sizeof(s));
        snprintf(s.room, sizeof(s.room), "%s", st->room);
        snprintf(s.stream, sizeof(s.stream), "%s", st->name);
        snprintf(s.publisher, sizeof(s.publisher), "%s", st->pub_sub);
        snprintf(s.publisher_role, sizeof(s.publisher_role), "%s", st->pub_role);
        s.published = st->pub_session[0] && st->ready;
        s.has_audio = st->has_audio;
        s.has_video = st->has_video;
        s.audio_muted = st->muted[0];
        s.video_muted = st->muted[1];
        s.subscribers = fake_receivers(r, st, &held);
        s.policy = mr_config_record_policy(r->cfg, st->room);
        s.recording = st->recording;
        snprintf(s.record_error, sizeof(s.record_error), "%s", st->record_error);
        fn(&s, user);
    }
    g_ptr_array_free(list, TRUE);
}
