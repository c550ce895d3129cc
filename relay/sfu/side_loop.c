/* GMainContexts run inside a worker's main one, woken through epoll (side_loop.h). */
#include "sfu/side_loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/error.h"

#define MAX_EVENTS 64
#define REBUILD_US G_USEC_PER_SEC

/* A descriptor of a shard's poll set and where it sits there. */
struct fd_index {
    int fd;
    int pos; /* in fds[] */
};

/* One side context, its poll set mirrored in an epoll descriptor of its
 * own, which sits in the loop's top epoll set. */
struct shard {
    GMainContext *ctx;
    int epfd;
    /* The poll set from the last query: GLib's copy, and the same sorted
     * by descriptor for mapping epoll's answers back. */
    GPollFD *fds, *prev; /* prev: the one before, to see changes */
    struct fd_index *index;
    int n_fds, cap_fds;
    gint max_priority;
    gboolean prepared;  /* a query is pending its check */
    gboolean kicked;    /* sources may have come or gone from outside */
    gboolean ready;     /* its epoll set has something (this turn) */
    int64_t due_us;     /* its earliest timer, from the last query */
    int64_t turned_us;  /* its last turn */
    int64_t rebuilt_us; /* when its epoll set was last made anew */
};

struct pump {
    GSource base;
    struct mr_side_loop *l;
};

struct mr_side_loop {
    struct pump *pump;  /* attached to the main context */
    gpointer epoll_tag; /* the pump's watch on top */
    int top;            /* epoll set of the shards' epoll descriptors */
    struct shard shards[MR_SIDE_LOOP_SHARDS];
    unsigned next_shard;  /* handed out by mr_side_loop_context */
    int64_t next_turn_us; /* not before (the interval) */
};

static int cmp_index(const void *a, const void *b)
{
    const struct fd_index *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

/* A fresh epoll descriptor for shard s watching every descriptor of its
 * poll set (a descriptor GLib lists twice is watched once, for both), in
 * the top set in place of the old one. */
static void rebuild_epoll(struct mr_side_loop *l, struct shard *s, int64_t now_us)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return; /* keep the old set; retried at the next change */
    for (int i = 0; i < s->n_fds;) {
        struct epoll_event ev = {.data.fd = s->index[i].fd};
        int j = i;
        for (; j < s->n_fds && s->index[j].fd == s->index[i].fd; j++)
            ev.events |= s->fds[s->index[j].pos].events & (EPOLLIN | EPOLLOUT | EPOLLPRI);
        epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
        i = j;
    }
    struct epoll_event top_ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(s - l->shards)};
    if (epoll_ctl(l->top, EPOLL_CTL_ADD, epfd, &top_ev) < 0) {
        close(epfd);
        return;
    }
    close(s->epfd); /* leaves the top set with it */
    s->epfd = epfd;
    s->rebuilt_us = now_us;
}

/* The shard's poll set, and whether it differs from the last one. */
static gboolean query(struct shard *s, gint *timeout_ms)
{
    int old_n = s->n_fds;
    if (old_n)
        memcpy(s->prev, s->fds, sizeof(GPollFD) * (size_t)old_n);
    int n;
    while ((n = g_main_context_query(s->ctx, s->max_priority, timeout_ms, s->fds, s->cap_fds)) >
           s->cap_fds) {
        s->cap_fds = n * 2;
        s->fds = g_renew(GPollFD, s->fds, s->cap_fds);
        s->prev = g_renew(GPollFD, s->prev, s->cap_fds);
        s->index = g_renew(struct fd_index, s->index, s->cap_fds);
    }
    s->n_fds = n;
    gboolean changed = n != old_n;
    for (int i = 0; i < n && !changed; i++)
        changed = s->fds[i].fd != s->prev[i].fd || s->fds[i].events != s->prev[i].events;
    if (changed) {
        for (int i = 0; i < n; i++)
            s->index[i] = (struct fd_index){.fd = s->fds[i].fd, .pos = i};
        qsort(s->index, (size_t)n, sizeof(*s->index), cmp_index);
    }
    return changed;
}

/* What epoll found ready, written into the poll set as poll() would. */
static void collect(struct shard *s)
{
    for (int i = 0; i < s->n_fds; i++)
        s->fds[i].revents = 0;
    struct epoll_event evs[MAX_EVENTS];
    int n;
    do
        n = epoll_wait(s->epfd, evs, MAX_EVENTS, 0);
    while (n < 0 && errno == EINTR);
    for (int e = 0; e < n; e++) {
        struct fd_index key = {.fd = evs[e].data.fd};
        struct fd_index *hit =
            bsearch(&key, s->index, (size_t)s->n_fds, sizeof(*s->index), cmp_index);
        if (!hit) {
            s->rebuilt_us = 0; /* a descriptor no longer ours: start afresh */
            continue;
        }
        while (hit > s->index && hit[-1].fd == key.fd)
            hit--;
        for (; hit < s->index + s->n_fds && hit->fd == key.fd; hit++) {
            GPollFD *p = &s->fds[hit->pos];
            p->revents = (gushort)(evs[e].events & (p->events | POLLERR | POLLHUP | POLLNVAL));
        }
    }
}

/* Whether shard s has anything to do in this turn. A shard with sources
 * turns at least every MR_SIDE_LOOP_IDLE_US, for what was attached to it
 * from elsewhere on this thread without a kick (libnice arming a TCP
 * socket's write watch while the main context sends, say). */
static gboolean shard_due(const struct shard *s, int64_t now_us)
{
    return !s->prepared || s->ready || s->kicked || now_us >= s->due_us ||
           now_us - s->rebuilt_us >= REBUILD_US ||
           (s->n_fds > 1 && now_us - s->turned_us >= MR_SIDE_LOOP_IDLE_US);
}

/* One turn of a shard: check and dispatch what its last query asked for,
 * then prepare and query the next. */
static void shard_turn(struct mr_side_loop *l, struct shard *s, int64_t now_us)
{
    if (s->prepared) {
        collect(s);
        if (g_main_context_check(s->ctx, s->max_priority, s->fds, s->n_fds))
            g_main_context_dispatch(s->ctx);
    }
    g_main_context_prepare(s->ctx, &s->max_priority);
    gint timeout_ms;
    gboolean changed = query(s, &timeout_ms);
    s->prepared = TRUE;
    if (changed || s->kicked || now_us - s->rebuilt_us >= REBUILD_US)
        rebuild_epoll(l, s, now_us);
    s->kicked = FALSE;
    s->turned_us = now_us;
    s->due_us = timeout_ms >= 0 ? now_us + (int64_t)timeout_ms * 1000 : INT64_MAX;
}

/* Marks the shards whose epoll sets have something ready. */
static void find_ready(struct mr_side_loop *l)
{
    for (unsigned i = 0; i < MR_SIDE_LOOP_SHARDS; i++)
        l->shards[i].ready = FALSE;
    struct epoll_event evs[MR_SIDE_LOOP_SHARDS];
    int n;
    do
        n = epoll_wait(l->top, evs, MR_SIDE_LOOP_SHARDS, 0);
    while (n < 0 && errno == EINTR);
    for (int e = 0; e < n; e++)
        if (evs[e].data.u32 < MR_SIDE_LOOP_SHARDS)
            l->shards[evs[e].data.u32].ready = TRUE;
}

/* One turn: the shards that have something to do, then when to wake. */
static void turn(struct mr_side_loop *l, int64_t now_us)
{
    find_ready(l);
    int64_t due = now_us + REBUILD_US;
    for (unsigned i = 0; i < MR_SIDE_LOOP_SHARDS; i++) {
        struct shard *s = &l->shards[i];
        if (shard_due(s, now_us))
            shard_turn(l, s, now_us);
        int64_t next = MIN(s->due_us, s->rebuilt_us + REBUILD_US);
        if (s->n_fds > 1)
            next = MIN(next, s->turned_us + MR_SIDE_LOOP_IDLE_US);
        due = MIN(due, next);
    }
    l->next_turn_us = now_us + MR_SIDE_LOOP_INTERVAL_US;
    /* Wake when a descriptor is ready, when a timer is due, and in any
     * case within a second (the epoll sets' refresh). */
    g_source_modify_unix_fd(&l->pump->base, l->epoll_tag, G_IO_IN);
    g_source_set_ready_time(&l->pump->base, MAX(due, l->next_turn_us));
}

static gboolean pump_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
    (void)cb;
    (void)data;
    struct mr_side_loop *l = ((struct pump *)base)->l;
    int64_t now_us = g_get_monotonic_time();
    if (now_us < l->next_turn_us) {
        /* Ready too soon after the last turn: stop watching until then,
         * and let what is ready gather. */
        g_source_modify_unix_fd(base, l->epoll_tag, 0);
        g_source_set_ready_time(base, l->next_turn_us);
        return G_SOURCE_CONTINUE;
    }
    turn(l, now_us);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs pump_funcs = {.dispatch = pump_dispatch};

int mr_side_loop_new(GMainContext *main_ctx, struct mr_side_loop **out)
{
    struct mr_side_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return MR_ENOMEM;
    l->top = epoll_create1(EPOLL_CLOEXEC);
    for (unsigned i = 0; i < MR_SIDE_LOOP_SHARDS; i++)
        l->shards[i].epfd = -1;
    for (unsigned i = 0; i < MR_SIDE_LOOP_SHARDS && l->top >= 0; i++) {
        struct shard *s = &l->shards[i];
        s->epfd = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        if (s->epfd < 0 || epoll_ctl(l->top, EPOLL_CTL_ADD, s->epfd, &ev) < 0) {
            mr_side_loop_free(l);
            return MR_EIO;
        }
        s->ctx = g_main_context_new();
    }
    if (l->top < 0) {
        mr_side_loop_free(l);
        return MR_EIO;
    }
    l->pump = (struct pump *)g_source_new(&pump_funcs, sizeof(struct pump));
    l->pump->l = l;
    g_source_set_name(&l->pump->base, "medrelay side loop");
    l->epoll_tag = g_source_add_unix_fd(&l->pump->base, l->top, G_IO_IN);
    g_source_set_ready_time(&l->pump->base, 0); /* the first turn at once */
    g_source_attach(&l->pump->base, main_ctx);
    *out = l;
    return 0;
}

void mr_side_loop_acquire(struct mr_side_loop *l)
{
    for (unsigned i = 0; i < MR_SIDE_LOOP_SHARDS; i++)
        g_main_context_acquire(l->shards[i].ctx);
}

GMainContext *mr_side_loop_context(struct mr_side_loop *l)
{
    /* In turn: the audience of a worker spreads evenly enough, and a
     * context's cost per turn is what it holds. */
    unsigned i = __atomic_fetch_add(&l->next_shard, 1, __ATOMIC_RELAXED);
    return l->shards[i % MR_SIDE_LOOP_SHARDS].ctx;
}

void mr_side_loop_kick(struct mr_side_loop *l)
{
    /* A socket closed and another opened under the same number can leave
     * a poll set as it was while its epoll set lost it: start afresh. */
    for (unsigned i = 0; i < MR_SIDE_LOOP_SHARDS; i++)
        l->shards[i].kicked = TRUE;
    int64_t ready = g_source_get_ready_time(&l->pump->base);
    if (ready < 0 || ready > l->next_turn_us)
        g_source_set_ready_time(&l->pump->base, l->next_turn_us);
}

void mr_side_loop_free(struct mr_side_loop *l)
{
    if (!l)
        return;
    if (l->pump) {
        g_source_destroy(&l->pump->base);
        g_source_unref(&l->pump->base);
    }
    for (unsigned i = 0; i < MR_SIDE_LOOP_SHARDS; i++) {
        struct shard *s = &l->shards[i];
        if (s->ctx) {
            if (g_main_context_is_owner(s->ctx))
                g_main_context_release(s->ctx);
            g_main_context_unref(s->ctx);
        }
        if (s->epfd >= 0)
            close(s->epfd);
        g_free(s->fds);
        g_free(s->prev);
        g_free(s->index);
    }
    if (l->top >= 0)
        close(l->top);
    free(l);
}
