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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/name.h"
#include "fake.h"

#define FAKE_ROOM_SUB_MAX 32 /* the relay's MR_ROOM_SUB_MAX_SECTIONS */

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

/* The STUN server's silence: end-of-candidates comes this much later. */
#define FAKE_GATHER_US (2 * G_USEC_PER_SEC)

enum fake_kind { FAKE_PUBLISH, FAKE_WHEP, FAKE_ROOM_SUB };

struct fake_session {
    char id[MR_SESSION_ID_LEN + 1];
    enum fake_kind kind;
    bool proto;                   /* opened through the interface (not an event) */
    char room[65];
    char stream[65];              /* "" for a room subscription */
    char sub[MR_SUB_MAX + 1];
    char role[MR_ROLE_NAME_MAX + 1];
    uint64_t ticket;              /* non-zero until the answer or first offer */
    mr_session_cb cb;
    void *user;
    mr_candidate_cb cand_cb;      /* with trickle */
    void *cand_user;
    /* Room subscription. */
    bool offer_pending;           /* an offer is out, not answered */
    uint64_t offer_ticket;        /* an update's offer, until delivered */
    mr_session_cb offer_cb;
    void *offer_user;
    bool withdrawn;               /* an update's offer was cancelled */
    unsigned n_cur, n_next;       /* streams answered, and offered */
    char cur[FAKE_ROOM_SUB_MAX][65];
    char next[FAKE_ROOM_SUB_MAX][65];
};

struct fake_stream {
    char room[65];
    char name[65];
    char pub_session[MR_SESSION_ID_LEN + 1]; /* "" when none */
    char pub_sub[MR_SUB_MAX + 1];
    char pub_role[MR_ROLE_NAME_MAX + 1];
    bool ready;                   /* the publisher's answer was delivered */
    bool has_audio, has_video;
    bool muted[2];                /* audio, video */
    bool recording;
    char record_error[64];
};

enum fake_event_kind { EV_OPENED, EV_OFFER, EV_CANDIDATE };

struct fake_event {
    enum fake_event_kind kind;
    char session[MR_SESSION_ID_LEN + 1];
    uint64_t ticket;
    int err;                      /* EV_OPENED: a late failure */
    bool end;                     /* EV_CANDIDATE: end-of-candidates */
    int64_t due_us;
};

struct mr_relay {
    const struct mr_config *cfg;
    GPtrArray *sessions;          /* struct fake_session *, owned, in opening order */
    GPtrArray *streams;           /* struct fake_stream *, owned */
    GQueue *events;               /* struct fake_event *, owned */
    uint64_t next_ticket;
    uint64_t next_id;
    int fail_next;                /* the next open's late failure, or 0 */
};

/* --- State ----------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static struct fake_session *find_session(const struct mr_relay *r, const char *id)
{
    for (unsigned i = 0; i < r->sessions->len; i++) {
        struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (strcmp(s->id, id) == 0)
            return s;
    }
    return NULL;
}

static struct fake_session *new_session(struct mr_relay *r, enum fake_kind kind, bool proto,
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

static struct fake_stream *find_stream(const struct mr_relay *r, const char *room,
                                       const char *name)
{
    for (unsigned i = 0; i < r->streams->len; i++) {
        struct fake_stream *st = g_ptr_array_index(r->streams, i);
        if (strcmp(st->room, room) == 0 && strcmp(st->name, name) == 0)
            return st;
    }
    return NULL;
}

static struct fake_stream *get_stream(struct mr_relay *r, const char *room, const char *name)
{
    struct fake_stream *st = find_stream(r, room, name);
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

static bool lists(const char (*names)[65], unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* WHEP sessions and room subscriptions receiving st (answered ones). */
static unsigned receivers(const struct mr_relay *r, const struct fake_stream *st, bool *held)
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
            bool in_cur = lists(s->cur, s->n_cur, st->name);
            n += in_cur;
            *held = *held || in_cur || lists(s->next, s->n_next, st->name);
        }
    }
    return n;
}

/* A stream ends with its last session (its recording with it). */
static void stream_check_end(struct mr_relay *r, struct fake_stream *st)
{
    bool held;
    receivers(r, st, &held);
    if (st->pub_session[0] || held)
        return;
    g_ptr_array_remove(r->streams, st); /* frees it */
}

static void check_all_streams(struct mr_relay *r)
{
    for (unsigned i = r->streams->len; i-- > 0;)
        stream_check_end(r, g_ptr_array_index(r->streams, i));
}

/* Queued results of a removed session are dropped when they come up. */
static void remove_session(struct mr_relay *r, struct fake_session *s)
{
    if (s->kind == FAKE_PUBLISH) {
        struct fake_stream *st = find_stream(r, s->room, s->stream);
        if (st && strcmp(st->pub_session, s->id) == 0) {
            st->pub_session[0] = st->pub_sub[0] = st->pub_role[0] = '\0';
            st->ready = st->has_audio = st->has_video = false;
        }
    }
    g_ptr_array_remove(r->sessions, s); /* frees it */
    check_all_streams(r);
}

static void queue_event(struct mr_relay *r, enum fake_event_kind kind, const char *session,
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

static void record_on_publish(struct mr_relay *r, struct fake_stream *st)
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
    *video = has(sdp, len, "m=video") && (has(sdp, len, "VP8/90000") || has(sdp, len, "H264/90000"));
    if (!*audio && !*video) {
        snprintf(detail, dlen, "no offered codec can carry the stream");
        return MR_ECODEC;
    }
    return 0;
}

static int check_answer(const char *sdp, size_t len, char *detail, size_t dlen)
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
    queue_event(r, EV_CANDIDATE, s->id, 0, 0, false, 0);
    queue_event(r, EV_CANDIDATE, s->id, 0, 0, true, FAKE_GATHER_US);
}

static bool deliver_opened(struct mr_relay *r, const struct fake_event *ev)
{
    struct fake_session *s = find_session(r, ev->session);
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
        .answer = ev->err < 0 ? NULL : room_sub ? fake_offer : fake_answer,
        .answer_len = ev->err < 0 ? 0 : room_sub ? sizeof(fake_offer) - 1 : sizeof(fake_answer) - 1,
        .ice_ufrag = "fake",
    };
    if (ev->err == 0) {
        if (s->kind == FAKE_PUBLISH) {
            struct fake_stream *st = find_stream(r, s->room, s->stream);
            if (st && strcmp(st->pub_session, s->id) == 0) {
                st->ready = true;
                record_on_publish(r, st);
            }
        }
        queue_candidates(r, s);
    } else if (!room_sub) {
        remove_session(r, s); /* as relay.c: before the callback */
        s = NULL;
    }
    if (cb)
        cb(&res, user);
    /* A room subscription whose offer failed goes after the callback,
     * unless the callback closed it. */
    if (ev->err < 0 && room_sub && (s = find_session(r, id)) != NULL)
        remove_session(r, s);
    return true;
}

static bool deliver_offer(struct mr_relay *r, const struct fake_event *ev)
{
    struct fake_session *s = find_session(r, ev->session);
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
    struct fake_session *s = find_session(r, ev->session);
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
    struct fake_stream *st = find_stream(r, req->room, req->stream);
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
        struct fake_session *old = find_session(r, st->pub_session);
        if (old)
            remove_session(r, old);
        st = get_stream(r, req->room, req->stream);
        st->muted[0] = muted[0];
        st->muted[1] = muted[1];
    }
    struct fake_session *s =
        new_session(r, req->kind == MR_SESSION_PUBLISH ? FAKE_PUBLISH : FAKE_WHEP, true, req->room,
                    req->stream, req->sub, role);
    if (req->kind == MR_SESSION_PUBLISH) {
        st = get_stream(r, req->room, req->stream);
        snprintf(st->pub_session, sizeof(st->pub_session), "%s", s->id);
        snprintf(st->pub_sub, sizeof(st->pub_sub), "%s", req->sub);
        snprintf(st->pub_role, sizeof(st->pub_role), "%s", role);
        st->ready = false;
        st->has_audio = audio;
        st->has_video = video;
    }
    s->ticket = ++r->next_ticket;
    s->cb = cb;
    s->user = user;
    s->cand_cb = req->trickle ? req->cand_cb : NULL;
    s->cand_user = req->trickle ? req->cand_user : NULL;
    *ticket = s->ticket;
    queue_event(r, EV_OPENED, s->id, s->ticket, r->fail_next, false, 0);
    r->fail_next = 0;
    return 0;
}

void mr_relay_cancel(struct mr_relay *r, uint64_t ticket)
{
    if (!ticket)
        return;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (s->ticket == ticket) {
            remove_session(r, s); /* a session being opened is closed */
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
            check_all_streams(r);
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
    struct fake_session *s = find_session(r, session_id);
    if (!s || s->ticket) {
        snprintf(detail, dlen, "no such session");
        return MR_ENOENT;
    }
    return 0;
}

int mr_relay_close(struct mr_relay *r, const char *session_id)
{
    struct fake_session *s = find_session(r, session_id);
    if (!s || s->ticket)
        return MR_ENOENT;
    remove_session(r, s);
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

static int check_room_sub(const struct mr_room_sub_request *req, char *detail, size_t dlen)
{
    if (!req || !req->room || !req->room[0] || !req->sub || (req->n_streams && !req->streams)) {
        snprintf(detail, dlen, "a room subscription needs a room, a sub and its streams");
        return MR_EINVAL;
    }
    if (req->n_streams > FAKE_ROOM_SUB_MAX) {
        snprintf(detail, dlen, "at most %u streams per room subscription", FAKE_ROOM_SUB_MAX);
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

/* The streams of req published now: the next offer's. */
static void plan_offer(struct mr_relay *r, struct fake_session *s,
                       const struct mr_room_sub_request *req)
{
    s->n_next = 0;
    for (unsigned i = 0; i < req->n_streams; i++) {
        const struct fake_stream *st = find_stream(r, req->room, req->streams[i]);
        if (st && st->pub_session[0] && st->ready && !lists(s->next, s->n_next, st->name))
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
        new_session(r, FAKE_ROOM_SUB, true, req->room, "", req->sub, req->role);
    plan_offer(r, s, req);
    s->ticket = ++r->next_ticket;
    s->cb = cb;
    s->user = user;
    s->cand_cb = req->trickle ? req->cand_cb : NULL;
    s->cand_user = req->trickle ? req->cand_user : NULL;
    *ticket = s->ticket;
    queue_event(r, EV_OPENED, s->id, s->ticket, r->fail_next, false, 0);
    r->fail_next = 0;
    return 0;
}

int mr_relay_room_sub_answer(struct mr_relay *r, const char *session_id, const char *sdp,
                             size_t len, char *detail, size_t dlen)
{
    struct fake_session *s = find_session(r, session_id);
    if (!s || s->kind != FAKE_ROOM_SUB) {
        snprintf(detail, dlen, "no such room subscription");
        return MR_ENOENT;
    }
    if (s->ticket || !s->offer_pending) {
        snprintf(detail, dlen, "no offer is waiting for an answer");
        return MR_ESTATE;
    }
    int rc = check_answer(sdp, len, detail, dlen);
    if (rc < 0)
        return rc;
    s->n_cur = s->n_next;
    memcpy(s->cur, s->next, sizeof(s->cur));
    s->offer_pending = false;
    check_all_streams(r);
    return 0;
}

int mr_relay_room_sub_update(struct mr_relay *r, const char *session_id,
                             const struct mr_room_sub_request *req, mr_session_cb cb, void *user,
                             uint64_t *ticket, char *detail, size_t dlen)
{
    struct fake_session *s = find_session(r, session_id);
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
    queue_event(r, EV_OFFER, s->id, s->offer_ticket, 0, false, 0);
    check_all_streams(r);
    return 0;
}

int mr_relay_set_muted(struct mr_relay *r, const char *room, const char *stream, bool audio,
                       bool muted)
{
    struct fake_stream *st = find_stream(r, room, stream);
    if (!st)
        return MR_ENOENT;
    st->muted[audio ? 0 : 1] = muted;
    return 0;
}

int mr_relay_record_start(struct mr_relay *r, const char *room, const char *stream,
                          const char *by, const char *by_role, char *detail, size_t dlen)
{
    (void)by;
    (void)by_role;
    struct fake_stream *st = find_stream(r, room, stream);
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
    struct fake_stream *st = find_stream(r, room, stream);
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

void mr_relay_each_stream(struct mr_relay *r, const char *room, mr_stream_status_fn fn,
                          void *user)
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
        s.subscribers = receivers(r, st, &held);
        s.policy = mr_config_record_policy(r->cfg, st->room);
        s.recording = st->recording;
        snprintf(s.record_error, sizeof(s.record_error), "%s", st->record_error);
        fn(&s, user);
    }
    g_ptr_array_free(list, TRUE);
}

/* --- What happens without the protocol --------------------------------------- */

#define EVENT_ROOM "ward-1"

/* The optional stream name after an event's letter, or dflt. */
static void event_name(const char *arg, size_t len, const char *dflt, char *out, size_t cap)
{
    if (len > 1 && len - 1 < cap && mr_name_valid(arg + 1, len - 1)) {
        memcpy(out, arg + 1, len - 1);
        out[len - 1] = '\0';
    } else {
        snprintf(out, cap, "%s", dflt);
    }
}

static void whip_publish(struct mr_relay *r, const char *name)
{
    struct fake_stream *st = find_stream(r, EVENT_ROOM, name);
    if (st && st->pub_session[0]) {
        if (strcmp(st->pub_sub, "enc-1") != 0 || strcmp(st->pub_role, "clinic") != 0)
            return; /* 409: someone else publishes it */
        struct fake_session *old = find_session(r, st->pub_session);
        if (old)
            remove_session(r, old);
    }
    struct fake_session *s =
        new_session(r, FAKE_PUBLISH, false, EVENT_ROOM, name, "enc-1", "clinic");
    st = get_stream(r, EVENT_ROOM, name);
    snprintf(st->pub_session, sizeof(st->pub_session), "%s", s->id);
    snprintf(st->pub_sub, sizeof(st->pub_sub), "enc-1");
    snprintf(st->pub_role, sizeof(st->pub_role), "clinic");
    st->ready = st->has_audio = st->has_video = true;
    record_on_publish(r, st);
}

static void fail_session(struct mr_relay *r, unsigned n)
{
    unsigned live = 0;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        const struct fake_session *s = g_ptr_array_index(r->sessions, i);
        live += s->proto && !s->ticket;
    }
    if (!live)
        return;
    n %= live;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (s->proto && !s->ticket && n-- == 0) {
            remove_session(r, s);
            return;
        }
    }
}

void fake_relay_event(struct mr_relay *r, const char *arg, size_t len)
{
    char name[65];
    if (len == 0)
        return;
    switch (arg[0]) {
    case 'w':
        event_name(arg, len, "whip", name, sizeof(name));
        whip_publish(r, name);
        break;
    case 'x':
        for (unsigned i = r->sessions->len; i-- > 0;) {
            struct fake_session *s = g_ptr_array_index(r->sessions, i);
            if (!s->proto || s->kind == FAKE_WHEP)
                remove_session(r, s);
        }
        break;
    case 'v': {
        event_name(arg, len, "cam", name, sizeof(name));
        const struct fake_stream *st = find_stream(r, EVENT_ROOM, name);
        if (st && st->pub_session[0] && st->ready)
            new_session(r, FAKE_WHEP, false, EVENT_ROOM, name, "v-http", "viewer");
        break;
    }
    case 'f':
        fail_session(r, len > 1 ? (unsigned char)arg[1] : 0);
        break;
    case 'e':
        r->fail_next = MR_EIO;
        break;
    case 'r': {
        struct fake_stream *st = NULL;
        if (len > 1) {
            event_name(arg, len, "", name, sizeof(name));
            st = name[0] ? find_stream(r, EVENT_ROOM, name) : NULL;
        } else {
            for (unsigned i = 0; i < r->streams->len && !st; i++) {
                struct fake_stream *x = g_ptr_array_index(r->streams, i);
                if (strcmp(x->room, EVENT_ROOM) == 0)
                    st = x;
            }
        }
        char detail[128];
        if (st && st->recording)
            mr_relay_record_stop(r, st->room, st->name, "api", "operator");
        else if (st)
            mr_relay_record_start(r, st->room, st->name, "api", "operator", detail,
                                  sizeof(detail));
        break;
    }
    case 'd':
        for (unsigned i = 0; i < r->streams->len; i++) {
            struct fake_stream *st = g_ptr_array_index(r->streams, i);
            if (st->recording) {
                st->recording = false;
                snprintf(st->record_error, sizeof(st->record_error), "no space left on device");
            }
        }
        break;
    default:
        break;
    }
}

/* --- Checks ------------------------------------------------------------------- */

static const char *kind_name(enum fake_kind k)
{
    return k == FAKE_PUBLISH ? "publisher" : k == FAKE_WHEP ? "WHEP subscriber" : "room subscription";
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
