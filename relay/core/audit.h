/*
 * The audit trail: one JSON object per line, appended to a file only the
 * service (and its group) can read. Who did what, to which room, when:
 * joins, recording starts and stops, downloads, deletions. Unlike the
 * operational log, it names rooms and participants, which is why it is a
 * separate file with its own permissions.
 *
 * Thread-safe (a mutex; audit events are rare). Write failures are logged
 * (rate-limited) and never stop the caller.
 */
#ifndef MR_CORE_AUDIT_H
#define MR_CORE_AUDIT_H

/* Opens (creates, mode 0640) the trail; path NULL or "" disables it.
 * Returns 0 or MR_EIO. */
int mr_audit_open(const char *path);
void mr_audit_close(void);

/* Appends {"time": UTC, "action", "room", "sub", "detail"}; room, sub and
 * detail may be NULL. Strings are JSON-escaped. */
void mr_audit(const char *action, const char *room, const char *sub, const char *detail);

#endif
