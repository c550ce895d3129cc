/*
 * A worker's side loop (internal to relay/sfu): more GMainContexts, run by
 * the worker's thread from within its main one, for the ICE agents of
 * subscriber connections.
 *
 * Why: GLib polls every file descriptor and visits every source of a
 * context on each turn of its loop. With all agents in one context, each
 * publisher burst paid for a poll() over every subscriber's socket and a
 * walk over every subscriber's timers, and so did each of the subscribers'
 * own events (RTCP reports, consent checks: about two per subscriber per
 * second): the loop cost grew with the square of the audience (12-15 % of
 * the worker's time at 1->50 and 1->200). Here the main context keeps the
 * publishers, whose packets must be read at once; the subscribers' sockets
 * and timers are watched through one epoll descriptor, and their context
 * runs when one of them is ready or due, at most once per
 * MR_SIDE_LOOP_INTERVAL_US, handling whatever is ready then in one turn.
 * A subscriber's RTCP, STUN and DTLS wait at most that long.
 *
 * The subscribers are spread over MR_SIDE_LOOP_SHARDS side contexts, and a
 * turn runs only those with a descriptor ready or a timer due: GLib's walk
 * over sources (prepare and check) costs what one context holds, so with
 * one context every viewer's report paid for a walk over all viewers'
 * sockets and timers (at 1->200, ~225 turns a second over ~600 sources:
 * 4-6 % of the worker's time; ICE-TCP's listening sockets made it grow by
 * half). A context with sources also turns at least every
 * MR_SIDE_LOOP_IDLE_US, for what code on the main context attached to it
 * without a kick (libnice arms a TCP socket's write watch where it sends).
 *
 * Each context's poll set is mirrored in an epoll descriptor of its own,
 * and those sit in one top epoll set that the main context watches. A
 * context's set is rebuilt from scratch whenever its poll set changes,
 * after every kick, and at least once a second, so a descriptor closed and
 * reused between two turns (a viewer reconnecting) cannot stay unwatched.
 * Code on the main context that may add sources to the side one (a new
 * subscriber, trickled candidates: everything arrives through
 * mr_worker_call) calls mr_side_loop_kick, because GLib does not wake a
 * context for sources attached from its own thread.
 *
 * Thread: created on any thread; everything else on the worker's, which
 * must own the side contexts (mr_side_loop_acquire) before the first turn.
 */
#ifndef MR_SFU_SIDE_LOOP_H
#define MR_SFU_SIDE_LOOP_H

#include <glib.h>

#define MR_SIDE_LOOP_INTERVAL_US 4000
#define MR_SIDE_LOOP_IDLE_US     50000
#define MR_SIDE_LOOP_SHARDS      8

struct mr_side_loop;

/* Makes the side contexts and attaches their pump to main_ctx. Returns 0
 * or MR_ENOMEM / MR_EIO (no epoll descriptor). */
int mr_side_loop_new(GMainContext *main_ctx, struct mr_side_loop **out);
/* Detaches the pump and frees the side contexts (and whatever sources are
 * still attached to them). NULL is fine. On the thread that acquired them. */
void mr_side_loop_free(struct mr_side_loop *l);

/* The worker thread takes ownership of the side contexts (once, first). */
void mr_side_loop_acquire(struct mr_side_loop *l);

/* A context to give the agent (and timers) of one side-loop transport:
 * each call the next one in turn. */
GMainContext *mr_side_loop_context(struct mr_side_loop *l);

/* Runs a turn of every side context as soon as the interval allows, with
 * their epoll sets made anew: sources may have been attached to or removed
 * from them from the worker's main context. */
void mr_side_loop_kick(struct mr_side_loop *l);

#endif
