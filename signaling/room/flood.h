/*
 * The message-rate limit of one room-protocol connection.
 *
 * A client may send MR_FLOOD_PER_S messages in a one-second window; more
 * are refused (the first MR_FLOOD_ANSWERED of them in a window with an
 * error, the rest silently, so that refusing costs less than flooding).
 * Being throttled is not enough for a client that keeps it up: one that is
 * over the rate for MR_FLOOD_RUN windows in a row, or in MR_FLOOD_OF of
 * the last MR_FLOOD_LAST windows (a flood that pauses every other second),
 * or that sends MR_FLOOD_BURST refused messages inside one window, is to
 * be disconnected. A browser's burst (a reconnect trickling candidates and
 * answering offers) stays inside one window and is never disconnected.
 *
 * Pure: the caller passes the time.
 */
#ifndef MR_ROOM_FLOOD_H
#define MR_ROOM_FLOOD_H

#include <stdint.h>

#define MR_FLOOD_PER_S 50
#define MR_FLOOD_ANSWERED 10
#define MR_FLOOD_RUN 3
#define MR_FLOOD_LAST 10
#define MR_FLOOD_OF 5
#define MR_FLOOD_BURST 200

struct mr_flood {
    int64_t window_us;  /* start of the current window; 0 before the first */
    unsigned msgs;      /* messages in the current window */
    unsigned refused;   /* of which refused */
    uint32_t over;      /* bit 0: the current window went over the rate,
                           bit i: the window i seconds before it did */
};

enum mr_flood_verdict {
    MR_FLOOD_OK,          /* handle the message */
    MR_FLOOD_REFUSE,      /* refuse it with an error */
    MR_FLOOD_DROP,        /* refuse it without a word */
    MR_FLOOD_DISCONNECT,  /* refuse it and close the connection */
};

/* Counts one message arriving at now_us (monotonic) and says what to do. */
enum mr_flood_verdict mr_flood_count(struct mr_flood *f, int64_t now_us);

#endif
