/*
 * What WHIP and WHEP remember of their sessions, so that DELETE is
 * idempotent (ARCHITECTURE.md §1): a session that has already ended (the
 * client closed DTLS before its DELETE, as some WHIP clients do, its ICE
 * failed or it fell silent, a reconnect of the same publisher replaced it,
 * or an earlier DELETE ended it) is answered like a live one for a while,
 * with the same authorization: the identity that opened it (sub and role)
 * or an operator of its room. That needs its room and owner after the
 * relay has forgotten it, so they are kept here.
 *
 * Sessions are added live when opened and marked ended when the endpoint
 * learns they are gone: its own DELETE, a DELETE that finds the relay no
 * longer has one, or the periodic sweep (whip.c), which asks the relay
 * about each live one. (relay/sfu/relay.h has no "session ended" event; if
 * it gets one, the sweep becomes a call to mr_whip_sessions_end.)
 *
 * Bounded: an ended session is forgotten keep_us after it ended, and the
 * oldest go first when more than max_ended are remembered. Live sessions
 * are as many as the relay holds, and leave with the next sweep.
 *
 * Plain state on the control thread: no I/O, no clock reads (callers pass
 * `now`, monotonic microseconds, never decreasing), no locking.
 */
#ifndef MR_WHIP_SESSIONS_H
#define MR_WHIP_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/name.h"
#include "sfu/relay.h"

/* How long and how many ended sessions are remembered by default. */
#define MR_WHIP_ENDED_KEEP_US (600 * INT64_C(1000000))
#define MR_WHIP_ENDED_MAX     4096

/* A session as its URL and its owner name it. */
struct mr_whip_session {
    char id[MR_SESSION_ID_LEN + 1];
    enum mr_session_kind kind;
    char room[MR_NAME_MAX + 1];
    char stream[MR_NAME_MAX + 1];
    char sub[MR_SUB_MAX + 1];
    char role[MR_ROLE_NAME_MAX + 1];
};

struct mr_whip_sessions;

/* Returns 0 or MR_ENOMEM (max_ended 0 is MR_EINVAL). */
int mr_whip_sessions_new(unsigned max_ended, int64_t keep_us, struct mr_whip_sessions **out);
void mr_whip_sessions_free(struct mr_whip_sessions *s);

/* Remembers a live session (copied). One already known under its id is
 * replaced and live again. Returns 0 or MR_ENOMEM. */
int mr_whip_sessions_add(struct mr_whip_sessions *s, const struct mr_whip_session *rec);

/* The live session id ended at now. Unknown or already ended: nothing. */
void mr_whip_sessions_end(struct mr_whip_sessions *s, const char *id, int64_t now);

/* The session id if it ended no longer than keep_us before now (and was
 * not pushed out by newer ones); NULL when it is live, unknown or
 * forgotten. The record is borrowed until the next call that changes s. */
const struct mr_whip_session *mr_whip_sessions_ended(struct mr_whip_sessions *s, const char *id,
                                                     int64_t now);

/* Ends, at now, every live session for which alive(user, id) is false, and
 * forgets ended ones past keep_us. */
void mr_whip_sessions_sweep(struct mr_whip_sessions *s, int64_t now,
                            bool (*alive)(void *user, const char *id), void *user);

/* How many are remembered, live and ended (for tests and logs). */
void mr_whip_sessions_count(const struct mr_whip_sessions *s, unsigned *live, unsigned *ended);

#endif
