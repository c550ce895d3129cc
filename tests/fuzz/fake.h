/*
 * Test doubles for fuzzing the room protocol (signaling/ws) without a
 * media plane or an HTTP server: a fake of the relay's control interface
 * (sfu/relay.h, fake_relay.c) and a fake of the WebSocket connections and
 * the control loop's clock and timer (http/ws.h, fake_ws.c).
 *
 * Single-threaded, like the control thread they stand in for. Nothing
 * here calls back into the protocol from inside a call: what the real
 * relay delivers later through a callback is queued and delivered by
 * fake_relay_run_pending(), and what the real server does after
 * mr_ws_close() (call the handler's closed()) is done by
 * fake_ws_run_closes().
 *
 * The time seam: wsproto.cmake compiles the protocol's sources with this
 * header force-included (-include) and MR_FAKE_TIME defined. Defining
 * core/clock.h's include guard here replaces its inline clock with
 * fake_ws.c's fake one, and the two macros below hand the protocol's
 * once-a-second timer to fake_ws.c, so that a script decides when time
 * passes and when the timer fires (floods, the join timeout, the grace
 * period of orphaned publishers) and every replay is deterministic.
 */
#ifndef MR_FUZZ_FAKE_H
#define MR_FUZZ_FAKE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_CORE_CLOCK_H /* the fake clock below instead of core/clock.h */
#include "core/config.h"
#include "http/ws.h"
#include "sfu/relay.h"

/* --- The control loop's clock and timer (fake_ws.c) ---------------------- */

/* Monotonic microseconds: fake, starts at FAKE_CLOCK_START_US for every
 * input and moves only with fake_clock_advance(). */
#define FAKE_CLOCK_START_US INT64_C(1000000000)
int64_t mr_clock_mono_us(void);
/* Wall-clock microseconds: the real clock (tokens and bans use time()). */
int64_t mr_clock_wall_us(void);
void fake_clock_reset(void);
void fake_clock_advance(int64_t us);

/* One timer at a time, as the protocol has (its tick). */
guint fake_timeout_add(guint interval_ms, GSourceFunc fn, gpointer data);
gboolean fake_source_remove(guint id);
/* Runs the timer's function once if one is set; returns whether it ran. */
bool fake_timer_fire(void);
/* Whether a timer is still set (one that was not removed: a leak), and
 * forgetting it. */
bool fake_timer_pending(void);
void fake_timer_clear(void);

#ifdef MR_FAKE_TIME
#define g_timeout_add fake_timeout_add
#define g_source_remove fake_source_remove
#endif

/* --- WebSocket connections (fake_ws.c) ----------------------------------- */

struct fake_ws;

/* The connections of one handler; cfg (ws_max_message, ws_max_queue) and
 * h are borrowed. */
struct fake_ws *fake_ws_new(const struct mr_config *cfg, const struct mr_ws_handler *h);
/* Frees the connections still open without telling the handler (the
 * protocol has gone first, as mr_room_proto_free expects), then ws. */
void fake_ws_free(struct fake_ws *ws);

/* Connects slot (0..FAKE_WS_SLOTS-1) if it has no connection, as the
 * server does on an upgrade: the handler's open(). Returns whether the
 * slot has an open connection now. */
#define FAKE_WS_SLOTS 4
bool fake_ws_open(struct fake_ws *ws, unsigned slot);
/* A message from the client, passed as ws.c passes it: dropped after
 * mr_ws_close, as too_large (NULL, its size) past ws_max_message. */
void fake_ws_message(struct fake_ws *ws, unsigned slot, const char *data, size_t len, bool binary,
                     bool too_large);
/* The client went away: closed() now, and the connection is freed. */
void fake_ws_drop(struct fake_ws *ws, unsigned slot);
/* The client stops reading (or reads again): what is sent to it piles up
 * until ws_max_queue, and then the connection is closed (1008). */
void fake_ws_set_reading(struct fake_ws *ws, unsigned slot, bool reading);
/* What the server does later: clients read their queues, and connections
 * closed by mr_ws_close get closed() and are freed. Returns how many were
 * closed. */
unsigned fake_ws_run_closes(struct fake_ws *ws);

/* The conn_user of each closed() is passed to hook after closed() has
 * returned (the pointer only: the handler has freed it), e.g. to check
 * that no relay session still calls back to it. */
void fake_ws_set_closed_hook(struct fake_ws *ws, void (*hook)(void *conn_user, void *arg),
                             void *arg);
/* With trace set, every message sent and every close goes to stderr. */
void fake_ws_set_trace(struct fake_ws *ws, bool trace);

/* The member id ("you"."id" of the last "joined" sent) of slot's
 * connection, or "" when it has none. */
const char *fake_ws_member_id(const struct fake_ws *ws, unsigned slot);
/* Messages and bytes sent to slot (all its connections). */
uint64_t fake_ws_sent_messages(const struct fake_ws *ws, unsigned slot);
uint64_t fake_ws_sent_bytes(const struct fake_ws *ws, unsigned slot);

/* --- The relay (fake_relay.c) -------------------------------------------- */

/*
 * A relay with plausible state and none of the media: sessions by id,
 * streams with their publisher's identity, room subscriptions with the
 * streams they carry, recordings by the room's policy. cfg is borrowed.
 * See fake_relay.c for the SDP it accepts and the failures it gives.
 */
struct mr_relay *fake_relay_new(const struct mr_config *cfg);
void fake_relay_free(struct mr_relay *r);

/* Delivers the callbacks queued before this call whose time has come
 * (answers, offers, trickled candidates), in order. Returns how many. */
unsigned fake_relay_run_pending(struct mr_relay *r);
/* The same, ignoring due times, until nothing is queued (at most rounds). */
unsigned fake_relay_drain(struct mr_relay *r, unsigned rounds);

/*
 * Things that happen in the relay without the protocol asking (arg: one
 * letter, then an optional stream name or byte):
 *   w[name]  a WHIP encoder (sub "enc-1", clinic) publishes name (default
 *            "whip") in ward-1;   x  every WHIP and WHEP session ends;
 *   v[name]  a WHEP viewer watches name (default "cam") in ward-1;
 *   f[n]     the n-th session the protocol opened fails (ICE, consent);
 *   e        the next open (publisher or room subscription) fails late;
 *   r[name]  the REST API starts or stops name's recording (ward-1);
 *   d        every recording fails (a full disk).
 */
void fake_relay_event(struct mr_relay *r, const char *arg, size_t len);

/*
 * Checks. A room subscription whose update offer was withdrawn by
 * mr_relay_cancel goes on as last answered (as the real relay's does); the
 * description says so, since forgetting such a session was a bug of the
 * protocol's (corpus/fuzz_wsproto/crash-*). With report, each session
 * counted is described on stderr.
 */
/* Sessions the protocol opened that are still open (all kinds). */
unsigned fake_relay_proto_sessions(const struct mr_relay *r, bool report);
/* Open sessions whose callbacks (answer, offer or candidates) go to user. */
unsigned fake_relay_sessions_calling(const struct mr_relay *r, const void *user, bool report);

#endif
