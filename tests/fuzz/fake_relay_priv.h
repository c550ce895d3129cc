/*
 * Internal to the relay fake (fake_relay.c, fake_relay_rooms.c,
 * fake_relay_events.c): its state and the helpers its files share. See
 * fake_relay.c for what the fake does and fake.h for its interface.
 */
#ifndef MR_FUZZ_FAKE_RELAY_PRIV_H
#define MR_FUZZ_FAKE_RELAY_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/name.h"
#include "fake.h"

#define FAKE_ROOM_SUB_MAX 32 /* the relay's MR_ROOM_SUB_MAX_SECTIONS */

/* The STUN server's silence: end-of-candidates comes this much later. */
#define FAKE_GATHER_US (2 * G_USEC_PER_SEC)

enum fake_kind { FAKE_PUBLISH, FAKE_WHEP, FAKE_ROOM_SUB };

struct fake_session {
    char id[MR_SESSION_ID_LEN + 1];
    enum fake_kind kind;
    bool proto; /* opened through the interface (not an event) */
    char room[MR_NAME_MAX + 1];
    char stream[MR_NAME_MAX + 1]; /* "" for a room subscription */
    char sub[MR_SUB_MAX + 1];
    char role[MR_ROLE_NAME_MAX + 1];
    uint64_t ticket; /* non-zero until the answer or first offer */
    mr_session_cb cb;
    void *user;
    mr_candidate_cb cand_cb; /* with trickle */
    void *cand_user;
    /* Room subscription. */
    bool offer_pending;    /* an offer is out, not answered */
    uint64_t offer_ticket; /* an update's offer, until delivered */
    mr_session_cb offer_cb;
    void *offer_user;
    bool withdrawn;         /* an update's offer was cancelled */
    unsigned n_cur, n_next; /* streams answered, and offered */
    char cur[FAKE_ROOM_SUB_MAX][MR_NAME_MAX + 1];
    char next[FAKE_ROOM_SUB_MAX][MR_NAME_MAX + 1];
};

struct fake_stream {
    char room[MR_NAME_MAX + 1];
    char name[MR_NAME_MAX + 1];
    char pub_session[MR_SESSION_ID_LEN + 1]; /* "" when none */
    char pub_sub[MR_SUB_MAX + 1];
    char pub_role[MR_ROLE_NAME_MAX + 1];
    bool ready; /* the publisher's answer was delivered */
    bool has_audio, has_video;
    bool muted[2]; /* audio, video */
    bool recording;
    char record_error[64];
};

enum fake_event_kind { EV_OPENED, EV_OFFER, EV_CANDIDATE };

struct fake_event {
    enum fake_event_kind kind;
    char session[MR_SESSION_ID_LEN + 1];
    uint64_t ticket;
    int err;  /* EV_OPENED: a late failure */
    bool end; /* EV_CANDIDATE: end-of-candidates */
    int64_t due_us;
};

struct mr_relay {
    const struct mr_config *cfg;
    GPtrArray *sessions; /* struct fake_session *, owned, in opening order */
    GPtrArray *streams;  /* struct fake_stream *, owned */
    GQueue *events;      /* struct fake_event *, owned */
    uint64_t next_ticket;
    uint64_t next_id;
    int fail_next; /* the next open's late failure, or 0 */
};

/* fake_relay.c: state */
struct fake_session *fake_find_session(const struct mr_relay *r, const char *id);
struct fake_session *fake_new_session(struct mr_relay *r, enum fake_kind kind, bool proto,
                                      const char *room, const char *stream, const char *sub,
                                      const char *role);
struct fake_stream *fake_find_stream(const struct mr_relay *r, const char *room, const char *name);
struct fake_stream *fake_get_stream(struct mr_relay *r, const char *room, const char *name);
/* Makes s (a new publisher session) the publisher of its stream. */
struct fake_stream *fake_set_publisher(struct mr_relay *r, const struct fake_session *s, bool audio,
                                       bool video);
bool fake_lists(const char (*names)[MR_NAME_MAX + 1], unsigned n, const char *name);
/* WHEP sessions and room subscriptions receiving st (answered ones);
 * *held: whether any session still carries it. */
unsigned fake_receivers(const struct mr_relay *r, const struct fake_stream *st, bool *held);
void fake_check_all_streams(struct mr_relay *r);
/* Queued results of a removed session are dropped when they come up. */
void fake_remove_session(struct mr_relay *r, struct fake_session *s);
void fake_queue_event(struct mr_relay *r, enum fake_event_kind kind, const char *session,
                      uint64_t ticket, int err, bool end, int64_t delay_us);
void fake_record_on_publish(struct mr_relay *r, struct fake_stream *st);
/* s starts opening: its answer or first offer (and, with trickle, its
 * candidates) go to cb and cand_cb; the ticket is set in *ticket. */
void fake_start_opening(struct mr_relay *r, struct fake_session *s, mr_session_cb cb, void *user,
                        bool trickle, mr_candidate_cb cand_cb, void *cand_user, uint64_t *ticket);
/* An answer to a room subscription's offer: 0, MR_EPARSE or MR_ECODEC. */
int fake_check_answer(const char *sdp, size_t len, char *detail, size_t dlen);

#endif
