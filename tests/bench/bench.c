/*
 * medrelay-bench: P publishers and N subscribers (C test peers over real
 * ICE/DTLS/SRTP) against a running server, and what the server spent on
 * them. See tests/bench/README.md.
 *
 * Threads: one for the publishers (their own GMainContext, so media keeps
 * its pace; it starts once every subscriber is set up), `--threads` bulk
 * subscriber threads and one latency thread (see run_until_phase; each
 * iterates its own context and owns its peers), and the
 * main thread, which drives the phases, times the late joiners on a
 * context of its own and reads /proc. A phase change is a number under a
 * mutex; each thread acknowledges it after taking its snapshot, and at the
 * end of the window the threads stop iterating until the main thread has
 * read their counters, so no peer is read while its thread writes it.
 */
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "core/clock.h"
#include "core/error.h"
#include "dtls/dtls.h"
#include "http_client.h"
#include "procstat.h"

#define SECURE_MS     30000
#define PROBE_WAIT_MS 5000

enum phase { PH_SETUP, PH_WARM, PH_MEASURE, PH_END, PH_STOP };

struct sub {
    struct mr_test_peer *peer;
    struct mr_bench_session *sess;
    unsigned stream;
    unsigned thread;  /* index of the worker that owns it */
    bool latency;     /* one of the latency subscribers */
    unsigned segment; /* latency subscribers before it in the join order */
    int64_t open_us;  /* when the offer was started */
    bool ok;          /* SECURE by the end of set-up */
    struct mr_test_peer_stats start, end;
};

struct pub {
    struct mr_test_peer *peer;
    struct mr_bench_session *sess;
    struct mr_test_peer_stats start, end;
};

struct run;

struct worker {
    struct run *run;
    GThread *thread;
    GMainContext *ctx;
    unsigned index;
    bool publisher; /* the publishers' thread, else a subscriber thread */
    bool latency;   /* the latency subscribers' thread: wakes on every packet */
};

struct run {
    const struct mr_bench_options *o;
    unsigned n_subs;
    struct mr_dtls_identity *identity; /* shared by every peer */
    struct sub *subs;
    struct pub pubs[MR_BENCH_MAX_PUBS];
    unsigned pubs_ok;
    struct worker workers[MR_BENCH_MAX_THREADS + 1]; /* [0]: publishers */
    unsigned n_workers;
    unsigned tick_us; /* bulk threads: one loop pass per tick */
    /* Subscribers set up (SECURE or failed), for the ordered join
     * (subscriber_main): the bulk threads', the latency thread's (atomic). */
    int bulk_settled, lat_settled;

    GMutex lock;
    GCond cond;
    int phase;     /* written under lock, read atomically by the loops */
    unsigned acks; /* threads done with the current phase (or set-up) */
};

/* --- Phases ------------------------------------------------------------- */

static void ack(struct run *r)
{
    g_mutex_lock(&r->lock);
    r->acks++;
    g_cond_broadcast(&r->cond);
    g_mutex_unlock(&r->lock);
}

struct phase_wait {
    struct run *run;
    int phase;
};

static bool phase_reached(void *arg)
{
    struct phase_wait *w = arg;
    return g_atomic_int_get(&w->run->phase) >= w->phase;
}

/*
 * Iterates the worker's context until the main thread moves to `phase`.
 *
 * The latency thread blocks in poll and wakes for every packet, so its
 * receive times are as early as the scheduler allows. Bulk threads, which
 * hold most of the subscribers, instead take one non-blocking pass every
 * tick: a GLib iteration costs a poll over every socket of the context and
 * a look at every source, which per packet (the relay's fan-out wakes the
 * loop once per copy) costs more than the packet itself; once per tick it
 * is shared by all the packets that arrived meanwhile. Their receive times
 * are therefore up to a tick late, and reported apart.
 */
static void run_until_phase(struct worker *w, int phase)
{
    struct phase_wait pw = {w->run, phase};
    while (!phase_reached(&pw)) {
        if (w->latency || w->publisher || !w->run->tick_us) {
            mr_test_loop_until(w->ctx, phase_reached, &pw, 1000);
            continue;
        }
        while (g_main_context_iteration(w->ctx, FALSE))
            ;
        g_usleep(w->run->tick_us);
    }
}

/* Blocks, without iterating, until the main thread moves to `phase`. */
static void block_until_phase(struct run *r, int phase)
{
    g_mutex_lock(&r->lock);
    while (r->phase < phase)
        g_cond_wait(&r->cond, &r->lock);
    g_mutex_unlock(&r->lock);
}

/* Main thread: waits until `want` threads have acknowledged. */
static bool wait_acks(struct run *r, unsigned want, int timeout_ms)
{
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    g_mutex_lock(&r->lock);
    while (r->acks < want && g_cond_wait_until(&r->cond, &r->lock, end))
        ;
    bool ok = r->acks >= want;
    g_mutex_unlock(&r->lock);
    return ok;
}

/* Main thread: moves every worker to `phase` (and wakes its loop). */
static void set_phase(struct run *r, int phase)
{
    g_mutex_lock(&r->lock);
    r->acks = 0;
    g_atomic_int_set(&r->phase, phase);
    g_cond_broadcast(&r->cond);
    g_mutex_unlock(&r->lock);
    for (unsigned i = 0; i < r->n_workers; i++)
        if (r->workers[i].ctx)
            g_main_context_wakeup(r->workers[i].ctx);
}

/* --- Peers --------------------------------------------------------------- */

static int new_peer(struct run *r, GMainContext *ctx, bool publisher, const char *name,
                    struct mr_test_peer **out)
{
    const struct mr_bench_options *o = r->o;
    struct mr_test_peer_config c = {
        .ctx = ctx,
        .role = publisher ? MR_TEST_PUBLISHER : MR_TEST_SUBSCRIBER,
        .name = name,
        .local_ip = o->local_ip,
        .identity = r->identity,
        .video_kbps = o->video_kbps,
        .fps = o->fps,
        .pacing_pct = o->pacing_pct,
        .client = o->client,
        .send_loss_pct = publisher ? o->pub_loss_pct : 0,
        .video_layers = publisher ? o->layers : 0,
        .ice_tcp_only = !publisher && o->sub_tcp,
        /* Publishers start sending when every subscriber is set up: a
         * loop that sets up peers cannot batch its wake-ups, and media
         * arriving meanwhile would slow set-up down more the more
         * subscribers already receive it. */
        .manual_start = publisher,
    };
    return mr_test_peer_new(&c, out);
}

struct settle_wait {
    struct mr_test_peer **peers;
    unsigned n;
};

static bool all_settled(void *arg)
{
    struct settle_wait *w = arg;
    for (unsigned i = 0; i < w->n; i++) {
        enum mr_transport_state st =
            w->peers[i] ? mr_test_peer_state(w->peers[i]) : MR_TRANSPORT_FAILED;
        if (st == MR_TRANSPORT_NEW || st == MR_TRANSPORT_CONNECTING)
            return false;
    }
    return true;
}

/* Iterates ctx until every peer is SECURE or has failed; returns how many
 * are SECURE. */
static unsigned wait_secure(GMainContext *ctx, struct mr_test_peer **peers, unsigned n)
{
    struct settle_wait w = {peers, n};
    mr_test_loop_until(ctx, all_settled, &w, SECURE_MS);
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++)
        ok += peers[i] && mr_test_peer_state(peers[i]) == MR_TRANSPORT_SECURE;
    return ok;
}

/* --- Threads ------------------------------------------------------------- */

/* --top-layer-pause: the publishers' top layer ("f"), stopped in the
 * middle of the window and resumed --top-layer-pause ms later, on the
 * publishers' thread (a timeout source on its context). */
struct layer_pause {
    struct run *run;
    struct mr_test_peer **peers;
    bool active; /* what the next firing sets */
};

static gboolean toggle_top_layer(gpointer data)
{
    struct layer_pause *lp = data;
    for (unsigned i = 0; i < lp->run->o->publishers; i++)
        if (lp->peers[i])
            mr_test_peer_set_layer_active(lp->peers[i], "f", lp->active);
    fprintf(stderr, "medrelay-bench: top layer %s\n", lp->active ? "resumed" : "stopped");
    lp->active = !lp->active;
    return G_SOURCE_REMOVE;
}

static GSource *schedule(GMainContext *ctx, unsigned ms, GSourceFunc fn, void *arg)
{
    GSource *s = g_timeout_source_new(ms);
    g_source_set_callback(s, fn, arg, NULL);
    g_source_attach(s, ctx);
    return s;
}

static gpointer publisher_main(gpointer data)
{
    struct worker *w = data;
    struct run *r = w->run;
    const struct mr_bench_options *o = r->o;
    struct mr_test_peer *peers[MR_BENCH_MAX_PUBS] = {0};
    char name[32], err[600];
    /* --client spread sleeps tens of microseconds between a frame's
     * packets: without this, each sleep would last 50 us longer (the
     * default timer slack). */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    g_main_context_push_thread_default(w->ctx);
    for (unsigned i = 0; i < o->publishers; i++) {
        struct pub *p = &r->pubs[i];
        snprintf(name, sizeof(name), "pub-%u", i);
        int rc = new_peer(r, w->ctx, true, name, &p->peer);
        if (rc == 0)
            rc = o->target->open_publisher(&o->tc, p->peer, i, &p->sess, err, sizeof(err));
        if (rc < 0)
            fprintf(stderr, "medrelay-bench: %s: %s\n", name, p->peer ? err : mr_strerror(rc));
        peers[i] = rc == 0 ? p->peer : NULL;
    }
    r->pubs_ok = wait_secure(w->ctx, peers, o->publishers);
    ack(r);
    run_until_phase(w, PH_WARM);
    for (unsigned i = 0; i < o->publishers; i++)
        if (peers[i])
            mr_test_peer_start_media(peers[i]);
    run_until_phase(w, PH_MEASURE);
    for (unsigned i = 0; i < o->publishers; i++)
        if (peers[i])
            mr_test_peer_stats(peers[i], &r->pubs[i].start);
    ack(r);
    struct layer_pause lp = {r, peers, false};
    GSource *pause[2] = {NULL, NULL};
    if (o->top_pause_ms) {
        unsigned from = (o->seconds * 1000 - o->top_pause_ms) / 2;
        pause[0] = schedule(w->ctx, from, toggle_top_layer, &lp);
        pause[1] = schedule(w->ctx, from + o->top_pause_ms, toggle_top_layer, &lp);
    }
    run_until_phase(w, PH_END);
    for (unsigned k = 0; k < 2; k++)
        if (pause[k]) {
            g_source_destroy(pause[k]);
            g_source_unref(pause[k]);
        }
    for (unsigned i = 0; i < o->publishers; i++)
        if (peers[i])
            mr_test_peer_stats(peers[i], &r->pubs[i].end);
    ack(r);
    block_until_phase(r, PH_STOP);
    for (unsigned i = 0; i < o->publishers; i++) {
        struct pub *p = &r->pubs[i];
        if (p->peer)
            mr_test_peer_stop_media(p->peer);
        o->target->close(&o->tc, p->sess);
        mr_test_peer_free(p->peer);
        p->peer = NULL;
    }
    g_main_context_pop_thread_default(w->ctx);
    return NULL;
}

struct count_wait {
    struct run *run;
    const int *count;
    unsigned want;
};

static bool count_reached(void *arg)
{
    struct count_wait *w = arg;
    return (unsigned)g_atomic_int_get(w->count) >= w->want ||
           g_atomic_int_get(&w->run->phase) >= PH_STOP;
}

/* Iterates ctx until *count reaches want (or the run is stopped). */
static void wait_count(struct worker *w, const int *count, unsigned want)
{
    struct count_wait cw = {w->run, count, want};
    while (!mr_test_loop_until(w->ctx, count_reached, &cw, 1000))
        ;
}

/* Waits until the n peers are SECURE or failed, and counts them settled. */
static void settle_into(struct worker *w, struct mr_test_peer **peers, unsigned n, int *count)
{
    wait_secure(w->ctx, peers, n);
    g_atomic_int_add(count, (int)n);
}

/* Subscriber i of the run: a new peer, and the target's signaling. */
static bool open_subscriber(struct worker *w, unsigned i)
{
    struct run *r = w->run;
    const struct mr_bench_options *o = r->o;
    struct sub *s = &r->subs[i];
    char name[32], err[600];
    snprintf(name, sizeof(name), "sub-%u", i);
    s->open_us = mr_clock_mono_us();
    int rc = new_peer(r, w->ctx, false, name, &s->peer);
    if (rc == 0)
        rc = o->target->open_subscriber(&o->tc, s->peer, s->stream, &s->sess, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "medrelay-bench: %s: %s\n", name, s->peer ? err : mr_strerror(rc));
    return rc == 0;
}

/*
 * The latency thread runs ahead of every ordinary thread when it may
 * (SCHED_FIFO, root): on two cores the bulk threads' pass over a whole
 * fan-out of packets, which lands at once, would otherwise hold its wake-up
 * back by milliseconds, most for the subscriber the relay serves last, and
 * the figure would be the benchmark's own wait, not the relay's. It costs
 * the relay a preemption per latency packet (four subscribers' worth).
 */
static void latency_thread_priority(void)
{
    struct sched_param sp = {.sched_priority = 1};
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
        fprintf(stderr, "medrelay-bench: the latency thread keeps an ordinary priority "
                        "(SCHED_FIFO needs root): its figures include waits for the CPU\n");
}

/*
 * With --bulk-nice the bulk threads run at a lower priority than the server
 * (Linux: a thread's own nice value), so that on two cores the server gets
 * a CPU when its packets arrive instead of waiting behind the benchmark's
 * receive work, as it would with its peers on other machines. Latency is
 * then the server's own; the bulk subscribers take what CPU is left, so
 * watch their receive-buffer drops.
 */
static void bulk_thread_priority(unsigned nice_value)
{
    if (nice_value && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), (int)nice_value) != 0)
        fprintf(stderr, "medrelay-bench: the bulk threads keep their priority: %s\n",
                strerror(errno));
}

/*
 * Opens this thread's subscribers (into mine[], the opened ones' peers into
 * peers[]) and waits until they are set up; returns how many are mine.
 *
 * The join is ordered around the latency subscribers, so that each one
 * samples the place of the relay's fan-out it has in the join order (a
 * relay serves its subscribers in the order their media started, or
 * joined): latency subscriber k is opened once every bulk subscriber before
 * it is set up, and the bulk subscribers after it once it is. The bulk
 * threads still set up everything between two latency subscribers at once.
 */
static unsigned join_in_order(struct worker *w, struct sub **mine, struct mr_test_peer **peers)
{
    struct run *r = w->run;
    unsigned n = 0, n_open = 0;
    unsigned settled = 0; /* of peers[]: counted in bulk_settled */
    for (unsigned i = 0; i < r->n_subs; i++) {
        struct sub *s = &r->subs[i];
        if (s->thread != w->index)
            continue;
        if (w->latency) {
            wait_count(w, &r->bulk_settled, i - s->segment);
        } else if ((unsigned)g_atomic_int_get(&r->lat_settled) < s->segment) {
            settle_into(w, peers + settled, n_open - settled, &r->bulk_settled);
            settled = n_open;
            wait_count(w, &r->lat_settled, s->segment);
        }
        mine[n++] = s;
        bool opened = open_subscriber(w, i);
        if (opened)
            peers[n_open++] = s->peer;
        if (w->latency) {
            if (opened)
                wait_secure(w->ctx, &s->peer, 1);
            g_atomic_int_inc(&r->lat_settled);
        } else if (!opened) {
            g_atomic_int_inc(&r->bulk_settled);
        }
    }
    if (!w->latency)
        settle_into(w, peers + settled, n_open - settled, &r->bulk_settled);
    return n;
}

static gpointer subscriber_main(gpointer data)
{
    struct worker *w = data;
    struct run *r = w->run;
    const struct mr_bench_options *o = r->o;
    struct sub **mine = calloc(r->n_subs, sizeof(*mine));
    struct mr_test_peer **peers = calloc(r->n_subs, sizeof(*peers));
    g_main_context_push_thread_default(w->ctx);
    if (w->latency)
        latency_thread_priority();
    else
        bulk_thread_priority(o->bulk_nice);
    unsigned n = mine && peers ? join_in_order(w, mine, peers) : 0;
    for (unsigned k = 0; k < n; k++)
        mine[k]->ok = mine[k]->sess && mr_test_peer_state(mine[k]->peer) == MR_TRANSPORT_SECURE;
    ack(r);

    run_until_phase(w, PH_MEASURE);
    for (unsigned k = 0; k < n; k++) {
        if (mine[k]->ok) {
            mr_test_peer_reset_latency(mine[k]->peer);
            mr_test_peer_stats(mine[k]->peer, &mine[k]->start);
        }
    }
    ack(r);
    run_until_phase(w, PH_END);
    for (unsigned k = 0; k < n; k++)
        if (mine[k]->ok)
            mr_test_peer_stats(mine[k]->peer, &mine[k]->end);
    ack(r);

    block_until_phase(r, PH_STOP);
    for (unsigned k = 0; k < n; k++) {
        o->target->close(&o->tc, mine[k]->sess);
        mine[k]->sess = NULL;
        mr_test_peer_free(mine[k]->peer);
        mine[k]->peer = NULL;
    }
    g_main_context_pop_thread_default(w->ctx);
    free(mine);
    free(peers);
    return NULL;
}

static void start_worker(struct run *r, unsigned index, bool publisher, bool latency)
{
    struct worker *w = &r->workers[index];
    char name[16];
    w->run = r;
    w->index = index;
    w->publisher = publisher;
    w->latency = latency;
    w->ctx = g_main_context_new();
    snprintf(name, sizeof(name),
             publisher ? "bench-pub"
             : latency ? "bench-lat"
                       : "bench-sub%u",
             index);
    w->thread = g_thread_new(name, publisher ? publisher_main : subscriber_main, w);
}

/* --- Late joiners ----------------------------------------------------------- */

static bool got_keyframe(void *arg)
{
    struct mr_test_peer_stats st;
    mr_test_peer_stats(arg, &st);
    for (unsigned k = 0; k < st.n_tracks; k++)
        if (st.tracks[k].kind == MR_MEDIA_VIDEO && st.tracks[k].first_keyframe_us)
            return true;
    return st.state == MR_TRANSPORT_FAILED || st.state == MR_TRANSPORT_CLOSED;
}

static int64_t first_keyframe_us(const struct mr_test_peer_stats *st)
{
    for (unsigned k = 0; k < st->n_tracks; k++)
        if (st->tracks[k].kind == MR_MEDIA_VIDEO)
            return st->tracks[k].first_keyframe_us;
    return 0;
}

/*
 * Subscribes `n` more peers one at a time, each alone on the main thread's
 * context (nothing else stalls it), and times each from the start of its
 * offer to its first key frame; then closes it. The N subscribers' own
 * times include the stalls of setting up their neighbours.
 */
static unsigned time_joiners(struct run *r, unsigned n, double *ms_out)
{
    const struct mr_bench_options *o = r->o;
    GMainContext *ctx = g_main_context_new();
    char name[32], err[600];
    unsigned got = 0;
    g_main_context_push_thread_default(ctx);
    for (unsigned k = 0; k < n; k++) {
        struct mr_test_peer *p = NULL;
        struct mr_bench_session *sess = NULL;
        snprintf(name, sizeof(name), "join-%u", k);
        int64_t t0 = mr_clock_mono_us();
        int rc = new_peer(r, ctx, false, name, &p);
        if (rc == 0)
            rc = o->target->open_subscriber(&o->tc, p, k % o->publishers, &sess, err, sizeof(err));
        if (rc == 0) {
            mr_test_loop_until(ctx, got_keyframe, p, PROBE_WAIT_MS);
            struct mr_test_peer_stats st;
            mr_test_peer_stats(p, &st);
            int64_t kf = first_keyframe_us(&st);
            if (kf)
                ms_out[got++] = (double)(kf - t0) / 1000.0;
            else
                fprintf(stderr, "medrelay-bench: %s: no key frame within %d ms\n", name,
                        PROBE_WAIT_MS);
            if (kf && getenv("MR_BENCH_DEBUG"))
                fprintf(stderr,
                        "medrelay-bench: %s: secure after %.1f ms, key frame after %.1f ms\n", name,
                        (double)(st.secure_us - t0) / 1000.0, (double)(kf - t0) / 1000.0);
        } else {
            fprintf(stderr, "medrelay-bench: %s: %s\n", name, p ? err : mr_strerror(rc));
        }
        o->target->close(&o->tc, sess);
        mr_test_peer_free(p);
        /* Apart, so that the relay's key-frame requests are not coalesced. */
        mr_test_loop_until(ctx, NULL, NULL, 400);
    }
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
    return got;
}

/* --- Figures ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void p50_max(double *v, unsigned n, double *p50, double *max)
{
    *p50 = *max = 0;
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), cmp_double);
    *p50 = v[n / 2];
    *max = v[n - 1];
}

/* The transport of a subscriber's selected pair ("udp ...", "tcp-active
 * ...", mr_transport_describe_pair), counted in res. */
static void count_pair(const char *pair, struct mr_bench_result *res)
{
    if (strncmp(pair, "udp ", 4) == 0)
        res->pairs_udp++;
    else if (strncmp(pair, "tcp-", 4) == 0)
        res->pairs_tcp++;
    else
        res->pairs_other++;
    if (!res->pair_example[0])
        snprintf(res->pair_example, sizeof(res->pair_example), "%s", pair);
}

/* One subscriber's delivery over the window, added to res; its loss
 * (signed) added to *lost_video and *lost_audio. */
static void sum_delivery(const struct sub *s, struct mr_bench_result *res, int64_t *lost_video,
                         int64_t *lost_audio)
{
    int64_t lost = 0;
    for (unsigned k = 0; k < s->end.n_tracks; k++) {
        const struct mr_test_track_stats *a = &s->start.tracks[k], *b = &s->end.tracks[k];
        /* Signed: a loss pending at the start may have been repaired since. */
        int64_t d = (int64_t)(b->lost - a->lost);
        res->forwarded += b->packets - a->packets;
        lost += d;
        *(b->kind == MR_MEDIA_VIDEO ? lost_video : lost_audio) += d;
        res->seq_jumps += b->seq_jumps - a->seq_jumps;
        res->ts_backwards += b->ts_backwards - a->ts_backwards;
        /* A layer switch changes the probes' source (one per layer). */
        if (b->kind == MR_MEDIA_VIDEO)
            res->sub_source_changes += b->sources - a->sources;
        if (b->kind == MR_MEDIA_VIDEO && b->key_width == 1280 && b->key_height == 720)
            res->subs_on_top++;
    }
    res->srtp_errors += s->end.transport.srtp_errors - s->start.transport.srtp_errors;
    count_pair(s->end.pair, res);
    res->subs_with_loss += lost > 0;
    if (lost > (int64_t)res->worst_sub_lost)
        res->worst_sub_lost = (uint64_t)lost;
    if (!res->cipher[0])
        snprintf(res->cipher, sizeof(res->cipher), "%s", s->end.srtp_profile);
    else if (strcmp(res->cipher, s->end.srtp_profile) != 0)
        snprintf(res->cipher, sizeof(res->cipher), "mixed");
}

/* What the publishers sent, dropped (--pub-loss) and resent on NACKs. */
static void sum_publishers(struct run *r, struct mr_bench_result *res)
{
    for (unsigned i = 0; i < r->o->publishers; i++) {
        const struct mr_test_peer_stats *a = &r->pubs[i].start, *e = &r->pubs[i].end;
        if (e->state != MR_TRANSPORT_SECURE && !res->failure[0])
            snprintf(res->failure, sizeof(res->failure),
                     "publisher %u lost during the run (%s): the figures are not valid", i,
                     e->state_why[0] ? e->state_why : "transport not secure");
        for (unsigned k = 0; k < e->n_tracks; k++) {
            res->pub_sent += e->tracks[k].sent_packets - a->tracks[k].sent_packets;
            res->pub_layers_reported += e->tracks[k].rid[0] && e->tracks[k].ssrc_reported;
        }
        res->pub_layers_accepted += e->layers_accepted;
        if (e->layers != e->layers_accepted && !res->failure[0])
            snprintf(res->failure, sizeof(res->failure),
                     "publisher %u: the answer accepted %u of its %u simulcast layers", i,
                     e->layers_accepted, e->layers);
        res->pub_dropped += e->send_dropped - a->send_dropped;
        res->pub_nacks += e->nacks_received - a->nacks_received;
        res->pub_nacked += e->nacked_packets - a->nacked_packets;
        res->pub_resent += e->resent_packets - a->resent_packets;
        res->pub_resend_missed += e->resend_missed - a->resend_missed;
    }
}

/* Transit latency: the latency subscribers' (each by its join place, and
 * together), and the bulk subscribers'. */
static void sum_latency(struct run *r, struct mr_bench_result *res)
{
    struct mr_test_peer **lat = calloc(r->n_subs ? r->n_subs : 1, sizeof(*lat));
    struct mr_test_peer **bulk = calloc(r->n_subs ? r->n_subs : 1, sizeof(*bulk));
    unsigned n_lat = 0, n_bulk = 0;
    for (unsigned i = 0; lat && bulk && i < r->n_subs; i++) {
        if (r->subs[i].ok && r->subs[i].latency) {
            struct mr_bench_place *pl = &res->lat_places[n_lat];
            pl->place = i + 1;
            mr_test_peers_latency(&r->subs[i].peer, 1, MR_MEDIA_VIDEO, &pl->video);
            lat[n_lat++] = r->subs[i].peer;
        } else if (r->subs[i].ok)
            bulk[n_bulk++] = r->subs[i].peer;
    }
    /* Without latency subscribers, the bulk ones are all there is. */
    mr_test_peers_latency(n_lat ? lat : bulk, n_lat ? n_lat : n_bulk, MR_MEDIA_VIDEO,
                          &res->lat_video);
    mr_test_peers_latency(n_lat ? lat : bulk, n_lat ? n_lat : n_bulk, MR_MEDIA_AUDIO,
                          &res->lat_audio);
    mr_test_peers_latency(bulk, n_bulk, MR_MEDIA_VIDEO, &res->lat_bulk_video);
    res->latency_subs = n_lat;
    free(lat);
    free(bulk);
}

static uint64_t at_least_zero(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

static void sum_subscribers(struct run *r, struct mr_bench_result *res)
{
    int64_t lost_video = 0, lost_audio = 0;
    res->cipher[0] = '\0';
    for (unsigned i = 0; i < r->n_subs; i++) {
        if (!r->subs[i].ok)
            continue;
        res->subs_ok++;
        sum_delivery(&r->subs[i], res, &lost_video, &lost_audio);
    }
    res->lost_video = at_least_zero(lost_video);
    res->lost_audio = at_least_zero(lost_audio);
    res->lost = at_least_zero(lost_video + lost_audio);
    sum_publishers(r, res);
    sum_latency(r, res);
}

/* Server-side readings at one end of the window. */
struct reading {
    int64_t t_us;
    double cpu_s, bench_cpu_s;
    struct mr_bench_server_counters srv; /* each < 0: not known */
    struct mr_bench_udp server_udp, bench_udp;
};

static void take_reading(const struct mr_bench_options *o, pid_t pid, struct reading *x)
{
    x->t_us = mr_clock_mono_us();
    mr_bench_proc_cpu(pid, &x->cpu_s);
    mr_bench_proc_cpu(getpid(), &x->bench_cpu_s);
    mr_bench_proc_udp(pid, &x->server_udp);
    mr_bench_proc_udp(getpid(), &x->bench_udp);
    x->srv = (struct mr_bench_server_counters){-1, -1, -1, -1, -1, -1};
    if (o->target->counters && o->target->counters(&o->tc, &x->srv) < 0)
        x->srv = (struct mr_bench_server_counters){-1, -1, -1, -1, -1, -1};
}

/* b - a of a server counter, < 0 when either is not known. */
static double counter_delta(double a, double b)
{
    return a >= 0 && b >= 0 ? b - a : -1;
}

static void compute(struct run *r, const struct reading *a, const struct reading *b,
                    struct mr_bench_result *res)
{
    res->window_s = (double)(b->t_us - a->t_us) / 1e6;
    res->server_cpu_s = b->cpu_s - a->cpu_s;
    sum_subscribers(r, res);
    res->server_forwarded = counter_delta(a->srv.forwarded, b->srv.forwarded);
    res->server_nack_sent = counter_delta(a->srv.nack_sent, b->srv.nack_sent);
    res->server_recovered = counter_delta(a->srv.recovered, b->srv.recovered);
    res->server_gave_up = counter_delta(a->srv.gave_up, b->srv.gave_up);
    res->server_tcp_backlog = counter_delta(a->srv.tcp_backlog, b->srv.tcp_backlog);
    res->server_layer_switches = counter_delta(a->srv.layer_switches, b->srv.layer_switches);
    res->cpu_us_per_pkt = res->forwarded ? res->server_cpu_s * 1e6 / (double)res->forwarded : 0;
    res->pps = res->window_s > 0 ? (double)res->forwarded / res->window_s : 0;
    res->server_cpu_pct = res->window_s > 0 ? 100.0 * res->server_cpu_s / res->window_s : 0;
    res->bench_cpu_pct =
        res->window_s > 0 ? 100.0 * (b->bench_cpu_s - a->bench_cpu_s) / res->window_s : 0;
    res->server_rcvbuf_errors = b->server_udp.rcvbuf_errors - a->server_udp.rcvbuf_errors;
    res->server_sndbuf_errors = b->server_udp.sndbuf_errors - a->server_udp.sndbuf_errors;
    res->bench_rcvbuf_errors = b->bench_udp.rcvbuf_errors - a->bench_udp.rcvbuf_errors;
}

/*
 * RSS per subscriber, counted from the server's RSS before its first
 * subscriber ever (the first run's, with its publishers up), not from this
 * run's start: a server keeps the memory earlier runs freed and reuses it,
 * so counting from the run's start saw only the growth past the previous
 * high-water mark (8-36 KiB in later rounds where a fresh server needs about
 * 100). scripts/bench.sh --sweep starts a server for every run, where the two
 * are the same; several runs against one server err high instead (what the
 * allocator kept from earlier runs counts too).
 */
static void per_subscriber_rss(struct mr_bench_result *res, uint64_t *base_kib)
{
    if (!*base_kib)
        *base_kib = res->rss_before_kib;
    res->rss_base_kib = *base_kib;
    res->rss_per_sub_kib =
        res->subs ? ((double)res->rss_end_kib - (double)*base_kib) / (double)res->subs : 0;
}

/* --- One run ------------------------------------------------------------- */

/*
 * Streams round-robin; the n_lat latency subscribers, spread evenly over
 * the join order (first, ..., last), to worker 1; the others round-robin
 * to the bulk workers after it.
 */
static void assign_threads(struct run *r, unsigned n_lat, unsigned bulk)
{
    unsigned first_bulk = 1 + (n_lat > 0), j = 0;
    for (unsigned k = 0; k < n_lat; k++) {
        unsigned i = n_lat == 1 ? r->n_subs - 1 : k * (r->n_subs - 1) / (n_lat - 1);
        r->subs[i].latency = true;
        r->subs[i].thread = 1;
    }
    for (unsigned i = 0, seg = 0; i < r->n_subs; i++) {
        r->subs[i].segment = seg;
        seg += r->subs[i].latency;
    }
    for (unsigned i = 0; i < r->n_subs; i++) {
        r->subs[i].stream = i % r->o->publishers;
        if (!r->subs[i].latency)
            r->subs[i].thread = first_bulk + j++ % (bulk ? bulk : 1);
    }
}

static int run_once(const struct mr_bench_options *o, pid_t pid, unsigned n_subs,
                    struct mr_bench_result *res)
{
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        return MR_ENOMEM;
    int rc = 0;
    r->o = o;
    r->n_subs = n_subs;
    g_mutex_init(&r->lock);
    g_cond_init(&r->cond);
    r->subs = calloc(n_subs ? n_subs : 1, sizeof(*r->subs));
    rc = r->subs ? mr_dtls_identity_new(&r->identity) : MR_ENOMEM;
    if (rc == 0 && o->srtp)
        rc = mr_dtls_identity_set_srtp_profiles(r->identity, o->srtp);
    if (rc < 0)
        goto done;
    unsigned n_lat = o->latency_subs < n_subs ? o->latency_subs : n_subs;
    unsigned bulk = o->threads < n_subs - n_lat ? o->threads : n_subs - n_lat;
    assign_threads(r, n_lat, bulk);
    r->tick_us = o->tick_us;
    res->subs = n_subs;

    /* Publishers first: the streams must exist before anyone subscribes. */
    r->n_workers = 1;
    start_worker(r, 0, true, false);
    wait_acks(r, 1, SECURE_MS + 15000);
    if (r->pubs_ok < o->publishers) {
        fprintf(stderr, "medrelay-bench: %u of %u publishers connected\n", r->pubs_ok,
                o->publishers);
        rc = MR_EIO;
        goto stop;
    }
    res->pubs_ok = r->pubs_ok;
    g_usleep(1000 * 1000);
    mr_bench_proc_rss_kib(pid, &res->rss_before_kib);

    fprintf(stderr,
            "medrelay-bench: %u publisher(s) up; subscribing %u (%u for latency) on %u thread(s)\n",
            r->pubs_ok, n_subs, n_lat, bulk + (n_lat > 0));
    int64_t t_setup = mr_clock_mono_us();
    r->n_workers = 1 + (n_lat > 0) + bulk;
    for (unsigned t = 1; t < r->n_workers; t++)
        start_worker(r, t, false, n_lat > 0 && t == 1);
    if (!wait_acks(r, r->n_workers, SECURE_MS + 60000 + (int)(n_subs * 1000))) {
        fprintf(stderr, "medrelay-bench: set-up timed out\n");
        rc = MR_EIO;
        goto stop;
    }
    mr_bench_proc_rss_kib(pid, &res->rss_after_kib);
    fprintf(stderr, "medrelay-bench: subscribers set up in %.1f s; warming up\n",
            (double)(mr_clock_mono_us() - t_setup) / 1e6);

    set_phase(r, PH_WARM);
    int64_t warm_end = mr_clock_mono_us() + (int64_t)o->warmup_s * 1000000;
    double kf[64];
    res->kf_n = time_joiners(r, o->join_probes < 64 ? o->join_probes : 64, kf);
    p50_max(kf, res->kf_n, &res->kf_p50_ms, &res->kf_max_ms);
    int64_t left = warm_end - mr_clock_mono_us();
    if (left > 0)
        g_usleep((gulong)left);

    struct reading a, b;
    set_phase(r, PH_MEASURE);
    wait_acks(r, r->n_workers, 10000);
    take_reading(o, pid, &a);
    fprintf(stderr, "medrelay-bench: measuring for %u s\n", o->seconds);
    g_usleep((gulong)o->seconds * 1000000);
    set_phase(r, PH_END);
    wait_acks(r, r->n_workers, 10000);
    take_reading(o, pid, &b);
    mr_bench_proc_rss_kib(pid, &res->rss_end_kib);
    compute(r, &a, &b, res);

stop:
    set_phase(r, PH_STOP);
    for (unsigned i = 0; i < r->n_workers; i++) {
        if (r->workers[i].thread)
            g_thread_join(r->workers[i].thread);
        if (r->workers[i].ctx)
            g_main_context_unref(r->workers[i].ctx);
    }
done:
    mr_dtls_identity_free(r->identity);
    free(r->subs);
    g_mutex_clear(&r->lock);
    g_cond_clear(&r->cond);
    free(r);
    return rc;
}

int main(int argc, char **argv)
{
    struct mr_bench_options o;
    if (mr_bench_parse_args(argc, argv, &o) < 0) {
        fputs(mr_bench_usage, stderr);
        return 2;
    }
    pid_t pid;
    if (mr_bench_find_server(&o, &pid) < 0)
        return 1;
    int status = 0;
    uint64_t rss_base_kib = 0;
    const char *prefix = o.room_prefix;
    char room[64];
    for (unsigned s = 0, run = 1; s < o.n_subs; s++) {
        for (unsigned round = o.first_round; round < o.first_round + o.rounds; round++, run++) {
            struct mr_bench_result res = {.round = round,
                                          .server_forwarded = -1,
                                          .server_nack_sent = -1,
                                          .server_recovered = -1,
                                          .server_gave_up = -1,
                                          .server_tcp_backlog = -1,
                                          .server_layer_switches = -1};
            /* Rooms of their own for each run (PREFIX-r<run>-<stream>), so
             * that nothing a previous run left (a session in its grace
             * period, a room pinned to a worker) carries over. */
            snprintf(room, sizeof(room), "%s-r%u-", prefix, run);
            o.tc.room_prefix = room;
            int rc = run_once(&o, pid, o.subs[s], &res);
            if (rc < 0) {
                fprintf(stderr, "medrelay-bench: run with %u subscribers failed: %s\n", o.subs[s],
                        mr_strerror(rc));
                status = 1;
                continue;
            }
            per_subscriber_rss(&res, &rss_base_kib);
            mr_bench_print_table(stdout, &o, &res);
            mr_bench_print_json(stdout, &o, &res);
            if (res.subs_ok < res.subs || res.forwarded == 0 || res.failure[0])
                status = 1;
            if (o.csv && mr_bench_append_csv(o.csv, &o, &res) < 0) {
                fprintf(stderr, "medrelay-bench: cannot write %s\n", o.csv);
                status = 1;
            }
        }
    }
    return status;
}
