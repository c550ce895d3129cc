/*
 * The audit trail: one JSON object per line, appended to a file only the
 * service (and its group) can read. Who did what, to which room, when:
 * joins, recording starts and stops, downloads, deletions, and every
 * protected action refused. Unlike the operational log, it names rooms and
 * participants, which is why it is a separate file with its own
 * permissions.
 *
 * Thread-safe (a mutex; audit events are rare). Write failures are logged
 * (rate-limited) and never stop the caller.
 */
#ifndef MR_CORE_AUDIT_H
#define MR_CORE_AUDIT_H

#include <stdint.h>

/* Opens (creates, mode 0640) the trail; path NULL or "" disables it.
 * Returns 0 or MR_EIO. */
int mr_audit_open(const char *path);
/* Writes what the refusal limit held back (below), then closes. */
void mr_audit_close(void);

/* Appends {"time": UTC, "action", "room", "sub", "detail", "role"}: who
 * (sub and role together are one identity) did what. room, sub, role and
 * detail may be NULL. Strings are JSON-escaped. */
void mr_audit(const char *action, const char *room, const char *sub, const char *role,
              const char *detail);

/* A protected action refused (401 or 403). Every string may be NULL. */
struct mr_audit_refusal {
    const char *request; /* what was attempted: "POST /whip/ward-3/cam" (no query
                            string), "ws join" */
    const char *room;    /* the room the request named */
    const char *sub;     /* the identity, when the token was authentic */
    const char *role;
    const char *addr;    /* the client's IP address */
    int status;          /* 401 or 403 */
    const char *detail;  /* why, as the client was told (never the token) */
};

/*
 * Appends {"time", "action": "refused", "room", "sub", "detail", "role",
 * "addr", "status", "request"}.
 *
 * A client hammering the server with bad tokens must not fill the disk
 * with the trail, so at most MR_AUDIT_REFUSALS_PER_S refusals a second are
 * written one by one; the others are counted, and the count goes into one
 * {"action": "refused-suppressed", "count": N, "detail"} entry, written
 * before the next entry of any kind after that second, or at close. Every
 * refusal is thus accounted for, itemised or counted.
 */
#define MR_AUDIT_REFUSALS_PER_S 50
void mr_audit_refused(const struct mr_audit_refusal *r);

/* The same, with the clock given (tests); now_us is monotonic. */
void mr_audit_refused_at(const struct mr_audit_refusal *r, int64_t now_us);

#endif
