/*
 * A fake of the relay's control interface (sfu/relay.h) for fuzzing the
 * room protocol: the calls signaling/ws makes, with the state and the
 * results the real relay (relay/sfu/relay.c, room_sub.c, recording.c)
 * would give, and none of the media.
 *
 * State: sessions by id (32 hex digits, from a counter: reproducible),
 * each a publisher, a WHEP subscriber or a room subscription, with the
 * identity (sub and role) that opened it; streams by room and name, with
 * their publisher's identity, tracks, mutes and recording; for a room
 * subscription the streams of its last answered offer and of the offer
 * out. A stream lives while it has a publisher, a WHEP viewer or a room
 * subscription that carries it, as in the relay.
 *
 * Asynchronous results are queued, never delivered from inside a call:
 * the answer to a publisher's offer, a room subscription's first offer
 * (mr_relay_open, mr_relay_open_room_sub), an update's offer
 * (mr_relay_room_sub_update), and after each delivered answer or first
 * offer two trickled candidates: a server-reflexive one at once, then
 * end-of-candidates two seconds later (the STUN server's time). As in the
 * relay, a queued result is checked when it is delivered: one whose session
 * was closed, cancelled or replaced (or whose offer was withdrawn) is
 * dropped.
 *
 * The SDP it accepts (the relay's parsers are not linked):
 *   - an offer (publish) starts with "v=0", else MR_EPARSE; it needs an
 *     "m=" line, else MR_EPARSE; audio is "m=audio" with "opus/48000",
 *     video "m=video" with "VP8/90000" or "H264/90000"; m-lines but
 *     neither: MR_ECODEC;
 *   - an answer (room subscription) starts with "v=0" and has
 *     "a=setup:active" or "a=setup:passive", else MR_EPARSE; m-lines
 *     without "a=rtpmap:" are MR_ECODEC;
 *   - a trickled fragment is "a=end-of-candidates" or "a=candidate:"
 *     with at least eight fields, the seventh "typ", else MR_EPARSE.
 * Its own answers and offers are a fixed small SDP.
 *
 * Failures, as the relay gives them: MR_EBUSY for publishing a stream
 * another identity publishes (the same identity replaces its session);
 * MR_ENOENT for closing or patching a session that does not exist or is
 * still opening, for updating or answering what is not a room
 * subscription of that identity; MR_ESTATE for an answer with no offer
 * out; MR_EBUSY for an update while an offer is out; MR_EINVAL for a room
 * subscription request of more than 32 streams; MR_EPERM for recording
 * in a room whose policy is "never"; MR_EIO for recording a stream whose
 * name starts with "eio" (the recorder refusing). fake_relay_event()
 * adds what happens without being asked (see fake.h).
 *
 * This file: the state, the SDP checks, the queued callbacks, the session
 * calls of relay.h and the checks; fake_relay_rooms.c: room subscriptions,
 * moderation, recordings and the stream list; fake_relay_events.c: what
 * happens without the protocol.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "fake_relay_priv.h"

static const char fake_answer[] = "v=0\r\n"
                                  "o=- 1 1 IN IP4 0.0.0.0\r\n"
                                  "s=-\r\n"
                                  "t=0 0\r\n"
                                  "a=group:BUNDLE 0\r\n"
                                  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                                  "a=mid:0\r\n"
                                  "a=ice-ufrag:fake\r\n"
                                  "a=ice-pwd:fakefakefakefakefakefake\r\n"
                                  "a=setup:passive\r\n"
                                  "a=rtpmap:111 opus/48000/2\r\n"
                                  "a=recvonly\r\n";
static const char fake_offer[] = "v=0\r\n"
                                 "o=- 2 1 IN IP4 0.0.0.0\r\n"
                                 "s=-\r\n"
                                 "t=0 0\r\n"
                                 "a=group:BUNDLE 0\r\n"
                                 "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                                 "a=mid:0\r\n"
                                 "a=ice-ufrag:fake\r\n"
                                 "a=ice-pwd:fakefakefakefakefakefake\r\n"
                                 "a=setup:actpass\r\n"
                                 "a=rtpmap:111 opus/48000/2\r\n"
                                 "a=sendonly\r\n";
static const char fake_candidate[] =
    "candidate:2 1 udp 1686052607 203.0.113.7 40122 typ srflx raddr 10.0.0.2 rport 40122";

/* --- State ----------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

struct fake_session *fake_find_session(const struct mr_relay *r, const char *id)
{
    for (unsigned i = 0; i < r->sessions->len; i++) {
        struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (strcmp(s->id, id) == 0)
            return s;
    }
    return NULL;
}

struct fake_session *fake_new_session(struct mr_relay *r, enum fake_kind kind, bool proto,
                                      const char *room, const char *stream, const char *sub,
                                      const char *role)
{
    struct fake_session *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    r->next_id++;
    snprintf(s->id, sizeof(s->id), "%016llx%016llx", (unsigned long long)mix64(r->next_id),
             (unsigned long long)mix64(~r->next_id));
    s->kind = kind;
    s->proto = proto;
    snprintf(s->room, sizeof(s->room), "%s", room ? room : "");
    snprintf(s->stream, sizeof(s->stream), "%s", stream ? stream : "");
    snprintf(s->sub, sizeof(s->sub), "%s", sub ? sub : "");
    snprintf(s->role, sizeof(s->role), "%s", role ? role : "");
    g_ptr_array_add(r->sessions, s);
    return s;
}

struct fake_stream *fake_find_stream(const struct mr_relay *r, const char *room, const char *name)
{
    for (unsigned i = 0; i < r->streams->len; i++) {
        struct fake_stream *st = g_ptr_array_index(r->streams, i);
        if (strcmp(st->room, room) == 0 && strcmp(st->name, name) == 0)
            return st;
    }
    return NULL;
}

struct fake_stream *fake_get_stream(struct mr_relay *r, const char *room, const char *name)
{
    struct fake_stream *st = fake_find_stream(r, room, name);
    if (st)
        return st;
    st = calloc(1, sizeof(*st));
    if (!st)
        abort();
    snprintf(st->room, sizeof(st->room), "%s", room);
    snprintf(st->name, sizeof(st->name), "%s", name);
    g_ptr_array_add(r->streams, st);
    return st;
}

bool fake_lists(const char (*names)[MR_NAME_MAX + 1], unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* WHEP sessions and room subscriptions receiving st (answered ones). */
unsigned fake_receivers(const struct mr_relay *r, const struct fake_stream *st, bool *held)
{
    unsigned n = 0;
    *held = false;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        const struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (strcmp(s->room, st->room) != 0)
            continue;
        if (s->kind == FAKE_WHEP && strcmp(s->stream, st->name) == 0) {
            n++;
            *held = true;
        } else if (s->kind == FAKE_ROOM_SUB) {
            bool in_cur = fake_lists(s->cur, s->n_cur, st->name);
            n += in_cur;
            *held = *held || in_cur || fake_lists(s->next, s->n_next, st->name);
        }
    }
    return n;
}

/* A stream ends with its last session (its recording with it). */
static void stream_check_end(struct mr_relay *r, struct fake_stream *st)
{
    bool held;
    fake_receivers(r, st, &held);
    if (st->pub_session[0] || held)
        return;
    g_ptr_array_remove(r->streams, st); /* frees it */
}

void fake_check_all_streams(struct mr_relay *r)
{
    for (unsigned i = r->streams->len; i-- > 0;)
        stream_check_end(r, g_ptr_array_index(r->streams, i));
}

/* Queued results of a removed session are dropped when they come up. */
void fake_remove_session(struct mr_relay *r, struct fake_session *s)
{
    if (s->kind == FAKE_PUBLISH) {
        struct fake_stream *st = fake_find_stream(r, s->room, s->stream);
        if (st && strcmp(st->pub_session, s->id) == 0) {
            st->pub_session[0] = st->pub_sub[0] = st->pub_role[0] = '\0';
            st->ready = st->has_audio = st->has_video = false;
        }
    }
    g_ptr_array_remove(r->sessions, s); /* frees it */
    fake_check_all_streams(r);
}

void fake_queue_event(struct mr_relay *r, enum fake_event_kind kind, const char *session,
                      uint64_t ticket, int err, bool end, int64_t delay_us)
{
    struct fake_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        abort();
    ev->kind = kind;
    snprintf(ev->session, sizeof(ev->session), "%s", session);
    ev->ticket = ticket;
    ev->err = err;
    ev->end = end;
    ev->due_us = mr_clock_mono_us() + delay_us;
    g_queue_push_tail(r->events, ev);
}

struct fake_stream *fake_set_publisher(struct mr_relay *r, const struct fake_session *s, bool audio,
                                       bool video)
{
    struct fake_stream *st = fake_get_stream(r, s->room, s->stream);
    snprintf(st->pub_session, sizeof(st->pub_session), "%s", s->id);
    snprintf(st->pub_sub, sizeof(st->pub_sub), "%s", s->sub);
    snprintf(st->pub_role, sizeof(st->pub_role), "%s", s->role);
    st->ready = false;
    st->has_audio = audio;
    st->has_video = video;
    return st;
}

void fake_start_opening(struct mr_relay *r, struct fake_session *s, mr_session_cb cb, void *user,
                        bool trickle, mr_candidate_cb cand_cb, void *cand_user, uint64_t *ticket)
{
    s->ticket = ++r->next_ticket;
    s->cb = cb;
    s->user = user;
    s->cand_cb = trickle ? cand_cb : NULL;
    s->cand_user = trickle ? cand_user : NULL;
    *ticket = s->ticket;
    fake_queue_event(r, EV_OPENED, s->id, s->ticket, r->fail_next, false, 0);
    r->fail_next = 0;
}

void fake_record_on_publish(struct mr_relay *r, struct fake_stream *st)
{
    if (!st->recording && mr_config_record_policy(r->cfg, st->room) == MR_RECORD_ALWAYS &&
        strncmp(st->name, "eio", 3) != 0)
        st->recording = true;
}

struct mr_relay *fake_relay_new(const struct mr_config *cfg)
{
    struct mr_relay *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->cfg = cfg;
    r->sessions = g_ptr_array_new_with_free_func(free);
    r->streams = g_ptr_array_new_with_free_func(free);
    r->events = g_queue_new();
    return r;
}

void fake_relay_free(struct mr_relay *r)
{
    if (!r)
        return;
    g_queue_free_full(r->events, free);
    g_ptr_array_free(r->sessions, TRUE);
    g_ptr_array_free(r->streams, TRUE);
    free(r);
}

/* --- SDP, as much as the fake needs ---------------------------------------- */

static bool has(const char *text, size_t len, const char *what)
{
    return memmem(text, len, what, strlen(what)) != NULL;
}

static int check_offer(const char *sdp, size_t len, bool *audio, bool *video, char *detail,
                       size_t dlen)
{
    if (!sdp || len < 3 || memcmp(sdp, "v=0", 3) != 0) {
        snprintf(detail, dlen, "the offer is not SDP (no v=0 line first)");
        return MR_EPARSE;
    }
    if (!has(sdp, len, "m=")) {
        snprintf(detail, dlen, "the offer has no media section");
        return MR_EPARSE;
    }
    *audio = has(sdp, len, "m=audio") && has(sdp, len, "opus/48000");
    *video =
        has(sdp, len, "m=video") && (has(sdp, len, "VP8/90000") || has(sdp, len, "H264/90000"));
    if (!*audio && !*video) {
        snprintf(detail, dlen, "no offered codec can carry the stream");
        return MR_ECODEC;
    }
    return 0;
}

int fake_check_answer(const char *sdp, size_t len, char *detail, size_t dlen)
{
    if (!sdp || len < 3 || memcmp(sdp, "v=0", 3) != 0) {
        snprintf(detail, dlen, "malformed SDP answer: no v=0 line first");
        return MR_EPARSE;
    }
    if (!has(sdp, len, "a=setup:active") && !has(sdp, len, "a=setup:passive")) {
        snprintf(detail, dlen, "the answer has no a=setup:active or passive");
        return MR_EPARSE;
    }
    if (has(sdp, len, "m=") && !has(sdp, len, "a=rtpmap:")) {
        snprintf(detail, dlen, "an accepted section lacks the offered payload type");
        return MR_ECODEC;
    }
    return 0;
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* "a=candidate:F C T P A PORT typ TYPE ..." or "a=end-of-candidates",
 * each line ending in CRLF. */
static int check_frag(const char *frag, size_t len, char *detail, size_t dlen)
{
    static const char eoc[] = "a=end-of-candidates\r\n";
    if (len == sizeof(eoc) - 1 && memcmp(frag, eoc, len) == 0)
        return 0;
    if (len < 14 || memcmp(frag, "a=candidate:", 12) != 0 || frag[len - 2] != '\r' ||
        frag[len - 1] != '\n' || memchr(frag, '\n', len - 1))
        goto bad;
    const char *p = frag + 12, *end = frag + len - 2;
    const char *field[8];
    size_t flen[8];
    unsigned n = 0;
    while (p < end && n < 8) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *fe = sp ? sp : end;
        field[n] = p;
        flen[n++] = (size_t)(fe - p);
        p = sp ? sp + 1 : end;
    }
    if (n < 8 || flen[0] == 0 || !all_digits(field[1], flen[1]) || !all_digits(field[3], flen[3]) ||
        !all_digits(field[5], flen[5]) || flen[6] != 3 || memcmp(field[6], "typ", 3) != 0 ||
        flen[7] == 0)
        goto bad;
    return 0;

    /* ERRORS */
bad:
    snprintf(detail, dlen, "malformed trickle-ice-sdpfrag: bad candidate line");
    return MR_EPARSE;
}

/* --- Callbacks --------------------------------------------------------------- */

static void queue_candidates(struct mr_relay *r, const struct fake_session *s)
{
    if (!s->cand_cb)
        return;
    fake_queue_event(r, EV_CANDIDATE, s->id, 0, 0, false, 0);
    fake_queue_event(r, EV_CANDIDATE, s->id, 0, 0, true, FAKE_GATHER_US);
}

static bool deliver_opened(struct mr_relay *r, const struct fake_event *ev)
{
    struct fake_session *s = fake_find_session(r, ev->session);
    if (!s || !s->ticket || s->ticket != ev->ticket)
        return false; /* closed or cancelled meanwhile */
    char id[MR_SESSION_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", s->id);
    mr_session_cb cb = s->cb;
    void *user = s->user;
    s->ticket = 0;
    s->cb = NULL;
    bool room_sub = s->kind == FAKE_ROOM_SUB;
    struct mr_session_result res = {
        .err = ev->err,
        .detail = ev->err < 0 ? "could not open a media port" : "",
        .session_id = id,
        .answer = ev->err < 0 ? NULL
                  : room_sub  ? fake_offer
                              : fake_answer,
        .answer_len = ev->err < 0 ? 0
                      : room_sub  ? sizeof(fake_offer) - 1
                                  : sizeof(fake_answer) - 1,
        .ice_ufrag = "fake",
    };
    if (ev->err == 0) {
        if (s->kind == FAKE_PUBLISH) {
            struct fake_stream *st = fake_find_stream(r, s->room, s->stream);
            if (st && strcmp(st->pub_session, s->id) == 0) {
                st->ready = true;
                fake_record_on_publish(r, st);
            }
        }
        queue_candidates(r, s);
    } else if (!room_sub) {
        fake_remove_session(r, s); /* as relay.c: before the callback */
        s = NULL;
    }
    if (cb)
        cb(&res, user);
    /* A room subscription whose offer failed goes after the callback,
     * unless the callback closed it. */
    if (ev->err < 0 && room_sub && (s = fake_find_session(r, id)) != NULL)
        fake_remove_session(r, s);
    return true;
}

static bool deliver_offer(struct mr_relay *r, const struct fake_event *ev)
{
    struct fake_session *s = fake_find_session(r, ev->session);
    if (!s || s->kind != FAKE_ROOM_SUB || !s->offer_ticket || s->offer_ticket != ev->ticket)
        return false; /* withdrawn, or the session is gone */
    char id[MR_SESSION_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", s->id);
    mr_session_cb cb = s->offer_cb;
    void *user = s->offer_user;
    s->offer_ticket = 0;
    s->offer_cb = NULL;
    s->offer_user = NULL;
    struct mr_session_result res = {
        .err = 0,
        .detail = "",
        .session_id = id,
        .answer = fake_offer,
        .answer_len = sizeof(fake_offer) - 1,
        .ice_ufrag = "fake",
    };
    if (cb)
        cb(&res, user);
    return true;
}

static bool deliver_candidate(struct mr_relay *r, const struct fake_event *ev)
{
    struct fake_session *s = fake_find_session(r, ev->session);
    if (!s || s->ticket || !s->cand_cb)
        return false;
    char id[MR_SESSION_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", s->id);
    const char *mid = s->kind == FAKE_ROOM_SUB && s->n_cur + s->n_next == 0 ? "" : "0";
    s->cand_cb(id, ev->end ? NULL : fake_candidate, mid, s->cand_user);
    return true;
}

static unsigned run(struct mr_relay *r, bool ignore_due)
{
    /* Only what was queued before this call: what the callbacks queue
     * comes up next time. */
    unsigned n = g_queue_get_length(r->events), delivered = 0;
    for (unsigned i = 0; i < n; i++) {
        struct fake_event *ev = g_queue_pop_head(r->events);
        if (!ev)
            break;
        if (!ignore_due && ev->due_us > mr_clock_mono_us()) {
            g_queue_push_tail(r->events, ev);
            continue;
        }
        bool done = false;
        switch (ev->kind) {
        case EV_OPENED:
            done = deliver_opened(r, ev);
            break;
        case EV_OFFER:
            done = deliver_offer(r, ev);
            break;
        case EV_CANDIDATE:
            done = deliver_candidate(r, ev);
            break;
        }
        delivered += done;
        free(ev);
    }
    return delivered;
}

unsigned fake_relay_run_pending(struct mr_relay *r)
{
    return run(r, false);
}

unsigned fake_relay_drain(struct mr_relay *r, unsigned rounds)
{
    unsigned n = 0;
    while (rounds-- > 0 && !g_queue_is_empty(r->events))
        n += run(r, true);
    return n;
}

/* --- sfu/relay.h --------------------------------------------------------------- */

int mr_relay_open(struct mr_relay *r, const struct mr_session_request *req, mr_session_cb cb,
                  void *user, uint64_t *ticket, char *detail, size_t dlen)
{
    bool audio = false, video = false;
    int rc = check_offer(req->offer, req->offer_len, &audio, &video, detail, dlen);
    if (rc < 0)
        return rc;
    const char *role = req->role ? req->role : "";
    struct fake_stream *st = fake_find_stream(r, req->room, req->stream);
    if (req->kind == MR_SESSION_SUBSCRIBE) {
        if (!st || !st->pub_session[0] || !st->ready) {
            snprintf(detail, dlen, "nothing is published on this stream");
            return MR_ENOENT;
        }
    } else if (st && st->pub_session[0]) {
        if (strcmp(st->pub_sub, req->sub) != 0 || strcmp(st->pub_role, role) != 0) {
            snprintf(detail, dlen, "another participant is publishing this stream");
            return MR_EBUSY;
        }
        /* The same participant is back: the new session replaces the old
         * one, and a moderator's mute outlives it. */
        bool muted[2] = {st->muted[0], st->muted[1]};
        struct fake_session *old = fake_find_session(r, st->pub_session);
        if (old)
            fake_remove_session(r, old);
        st = fake_get_stream(r, req->room, req->stream);
        st->muted[0] = muted[0];
        st->muted[1] = muted[1];
    }
    struct fake_session *s =
        fake_new_session(r, req->kind == MR_SESSION_PUBLISH ? FAKE_PUBLISH : FAKE_WHEP, true,
                         req->room, req->stream, req->sub, role);
    if (req->kind == MR_SESSION_PUBLISH)
        fake_set_publisher(r, s, audio, video);
    fake_start_opening(r, s, cb, user, req->trickle, req->cand_cb, req->cand_user, ticket);
    return 0;
}

void mr_relay_cancel(struct mr_relay *r, uint64_t ticket)
{
    if (!ticket)
        return;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (s->ticket == ticket) {
            fake_remove_session(r, s); /* a session being opened is closed */
            return;
        }
        if (s->kind == FAKE_ROOM_SUB && s->offer_ticket == ticket) {
            /* Nobody will see this offer: the session goes on as
             * answered. */
            s->offer_ticket = 0;
            s->offer_cb = NULL;
            s->offer_user = NULL;
            s->offer_pending = false;
            s->withdrawn = true;
            s->n_next = s->n_cur;
            memcpy(s->next, s->cur, sizeof(s->next));
            fake_check_all_streams(r);
            return;
        }
    }
}

int mr_relay_patch(struct mr_relay *r, const char *session_id, const char *frag, size_t len,
                   mr_session_cb cb, void *user, uint64_t *ticket, char *detail, size_t dlen)
{
    (void)cb;
    (void)user;
    (void)ticket; /* a lone candidate line never restarts ICE */
    int rc = check_frag(frag, len, detail, dlen);
    if (rc < 0)
        return rc;
    struct fake_session *s = fake_find_session(r, session_id);
    if (!s || s->ticket) {
        snprintf(detail, dlen, "no such session");
        return MR_ENOENT;
    }
    return 0;
}

int mr_relay_close(struct mr_relay *r, const char *session_id)
{
    struct fake_session *s = fake_find_session(r, session_id);
    if (!s || s->ticket)
        return MR_ENOENT;
    fake_remove_session(r, s);
    return 0;
}

void mr_relay_counts(struct mr_relay *r, struct mr_relay_counts *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < r->sessions->len; i++) {
        const struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (s->kind == FAKE_PUBLISH)
            out->publishers++;
        else
            out->subscribers++;
        if (s->kind == FAKE_ROOM_SUB)
            out->room_subscribers++;
    }
    out->streams = r->streams->len;
}

/* --- Checks ------------------------------------------------------------------- */

static const char *kind_name(enum fake_kind k)
{
    return k == FAKE_PUBLISH ? "publisher"
           : k == FAKE_WHEP  ? "WHEP subscriber"
                             : "room subscription";
}

static void describe(const struct fake_session *s, const char *why)
{
    fprintf(stderr, "fake_relay: %s %.8s (room %s, stream \"%s\", %s/%s)%s%s%s%s%s\n",
            kind_name(s->kind), s->id, s->room, s->stream, s->role, s->sub,
            s->ticket ? ", opening" : "", s->offer_ticket ? ", an update's offer out" : "",
            s->offer_pending ? ", offer pending" : "",
            s->withdrawn ? ", an update's offer was withdrawn (mr_relay_cancel)" : "",
            why ? why : "");
}

unsigned fake_relay_proto_sessions(const struct mr_relay *r, bool report)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        const struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (!s->proto)
            continue;
        n++;
        if (report)
            describe(s, NULL);
    }
    return n;
}

static const char *calls(const struct fake_session *s, const void *user)
{
    if (s->ticket && s->user == user)
        return ": its answer or offer goes to it";
    if (s->offer_ticket && s->offer_user == user)
        return ": an update's offer goes to it";
    if (s->cand_cb && s->cand_user == user)
        return ": its trickled candidates go to it";
    return NULL;
}

unsigned fake_relay_sessions_calling(const struct mr_relay *r, const void *user, bool report)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        const struct fake_session *s = g_ptr_array_index(r->sessions, i);
        const char *why = calls(s, user);
        if (!why)
            continue;
        n++;
        if (report)
            describe(s, why);
    }
    return n;
}
