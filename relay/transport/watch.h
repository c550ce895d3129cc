/*
 * One timer that looks at the liveness of many transports (liveness.h).
 *
 * Why not a timer per transport: the relay's subscribers live in one GLib
 * context (sfu/side_loop.h), and GLib visits every source of a context on
 * each turn of its loop. 200 viewers' liveness timers were 200 more
 * sources visited about 250 times a second, for a look every 2 s each:
 * measured at 1 -> 200, a few per cent of the CPU per forwarded packet.
 * A watch is one source that walks its transports when it fires.
 *
 * Thread: created on any thread; the watch's context and the transports it
 * watches must be run by one thread (a worker's main and side contexts),
 * where everything else happens. It must outlive them.
 */
#ifndef MR_TRANSPORT_WATCH_H
#define MR_TRANSPORT_WATCH_H

#include <glib.h>
#include <stdbool.h>

/* A place in a watch's list, embedded in what is watched. */
struct mr_watch_link {
    struct mr_watch_link *prev, *next;
    void (*look)(struct mr_watch_link *l);
    bool linked;
};

struct mr_transport_watch;

/* Looks every limit_ms / 15 (at least every 50 ms, at most every 5 s): the
 * verdict on a silent peer comes within about limit + 2 looks. The timer
 * runs on ctx. Returns 0 or MR_ENOMEM. */
int mr_transport_watch_new(GMainContext *ctx, unsigned limit_ms, struct mr_transport_watch **out);
/* Stops the timer. Nothing may be linked any more. NULL is fine. */
void mr_transport_watch_free(struct mr_transport_watch *w);
unsigned mr_transport_watch_limit_ms(const struct mr_transport_watch *w);

/* Internal to relay/transport. l->look is called for each linked entry at
 * every tick, in the order they were linked; it may unlink its own entry
 * or any other. Linking a linked entry does nothing. */
void mr_watch_link(struct mr_transport_watch *w, struct mr_watch_link *l);
/* w may be NULL (a transport without a watch): nothing to do. */
void mr_watch_unlink(struct mr_transport_watch *w, struct mr_watch_link *l);

#endif
