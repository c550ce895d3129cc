/* A GMainContext run inside a worker's main one, woken through epoll (side_loop.h). */
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

/* A descriptor of the side context's poll set and where it sits there. */
struct fd_index {
    int fd;
    int pos; /* in fds[] */
};

struct pump {
    GSource base;
    struct mr_side_loop *l;
};

struct mr_side_loop {
    GMainContext *ctx;  /* the side context */
    struct pump *pump;  /* attached to the main context */
    gpointer epoll_tag; /* the pump's watch on epfd */
    int epfd;
    /* The side context's poll set from its last query: GLib's copy, and
     * the same sorted by descriptor for mapping epoll's answers back. */
    GPollFD *fds, *prev; /* prev: the one before, to see changes */
    struct fd_index *index;
    int n_fds, cap_fds;
    gint max_priority;
    gboolean prepared; /* a query is pending its check */
    gboolean kicked;   /* sources may have come or gone from outside */
    int64_t next_turn_us;   /* not before (the interval) */
    int64_t rebuilt_us;     /* when the epoll set was last made anew */
};

static int cmp_index(const void *a, const void *b)
{
    const struct fd_index *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

/* A fresh epoll descriptor watching every descriptor of the poll set
 * (a descriptor GLib lists twice is watched once, for both). */
static void rebuild_epoll(struct mr_side_loop *l, int64_t now_us)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return; /* keep the old set; retried at the next change */
    for (int i = 0; i < l->n_fds;) {
        struct epoll_event ev = {.data.fd = l->index[i].fd};
        int j = i;
        for (; j < l->n_fds && l->index[j].fd == l->index[i].fd; j++)
            ev.events |= l->fds[l->index[j].pos].events & (EPOLLIN | EPOLLOUT | EPOLLPRI);
        epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
        i = j;
    }
    g_source_remove_unix_fd(&l->pump->base, l->epoll_tag);
    close(l->epfd);
    l->epfd = epfd;
    l->epoll_tag = g_source_add_unix_fd(&l->pump->base, epfd, G_IO_IN);
    l->rebuilt_us = now_us;
}

/* The side context's poll set, and whether it differs from the last one. */
static gboolean query(struct mr_side_loop *l, gint *timeout_ms)
{
    int old_n = l->n_fds;
    if (old_n)
        memcpy(l->prev, l->fds, sizeof(GPollFD) * (size_t)old_n);
    int n;
    while ((n = g_main_context_query(l->ctx, l->max_priority, timeout_ms, l->fds, l->cap_fds)) >
           l->cap_fds) {
        l->cap_fds = n * 2;
        l->fds = g_renew(GPollFD, l->fds, l->cap_fds);
        l->prev = g_renew(GPollFD, l->prev, l->cap_fds);
        l->index = g_renew(struct fd_index, l->index, l->cap_fds);
    }
    l->n_fds = n;
    gboolean changed = n != old_n;
    for (int i = 0; i < n && !changed; i++)
        changed = l->fds[i].fd != l->prev[i].fd || l->fds[i].events != l->prev[i].events;
    if (changed) {
        for (int i = 0; i < n; i++)
            l->index[i] = (struct fd_index){.fd = l->fds[i].fd, .pos = i};
        qsort(l->index, (size_t)n, sizeof(*l->index), cmp_index);
    }
    return changed;
}

/* What epoll found ready, written into the poll set as poll() would. */
static void collect(struct mr_side_loop *l)
{
    for (int i = 0; i < l->n_fds; i++)
        l->fds[i].revents = 0;
    struct epoll_event evs[MAX_EVENTS];
    int n;
    do
        n = epoll_wait(l->epfd, evs, MAX_EVENTS, 0);
    while (n < 0 && errno == EINTR);
    for (int e = 0; e < n; e++) {
        struct fd_index key = {.fd = evs[e].data.fd};
        struct fd_index *hit =
            bsearch(&key, l->index, (size_t)l->n_fds, sizeof(*l->index), cmp_index);
        if (!hit) {
            l->rebuilt_us = 0; /* a descriptor no longer ours: start afresh */
            continue;
        }
        while (hit > l->index && hit[-1].fd == key.fd)
            hit--;
        for (; hit < l->index + l->n_fds && hit->fd == key.fd; hit++) {
            GPollFD *p = &l->fds[hit->pos];
            p->revents = (gushort)(evs[e].events & (p->events | POLLERR | POLLHUP | POLLNVAL));
        }
    }
}

/* One turn of the side context: check and dispatch what the last query
 * asked for, then prepare and query the next, and say when to wake. */
static void turn(struct mr_side_loop *l, int64_t now_us)
{
    if (l->prepared) {
        collect(l);
        if (g_main_context_check(l->ctx, l->max_priority, l->fds, l->n_fds))
            g_main_context_dispatch(l->ctx);
    }
    g_main_context_prepare(l->ctx, &l->max_priority);
    gint timeout_ms;
    gboolean changed = query(l, &timeout_ms);
    l->prepared = TRUE;
    if (changed || l->kicked || now_us - l->rebuilt_us >= REBUILD_US)
        rebuild_epoll(l, now_us);
    l->kicked = FALSE;
    l->next_turn_us = now_us + MR_SIDE_LOOP_INTERVAL_US;
    /* Wake when a descriptor is ready, when a timer is due, and in any
     * case within a second (the epoll set's refresh). */
    int64_t due = now_us + REBUILD_US;
    if (timeout_ms >= 0 && now_us + (int64_t)timeout_ms * 1000 < due)
        due = now_us + (int64_t)timeout_ms * 1000;
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
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return MR_EIO;
    }
    l->ctx = g_main_context_new();
    l->pump = (struct pump *)g_source_new(&pump_funcs, sizeof(struct pump));
    l->pump->l = l;
    g_source_set_name(&l->pump->base, "medrelay side loop");
    l->epoll_tag = g_source_add_unix_fd(&l->pump->base, l->epfd, G_IO_IN);
    g_source_set_ready_time(&l->pump->base, 0); /* the first turn at once */
    g_source_attach(&l->pump->base, main_ctx);
    *out = l;
    return 0;
}

void mr_side_loop_acquire(struct mr_side_loop *l)
{
    g_main_context_acquire(l->ctx);
}

GMainContext *mr_side_loop_context(struct mr_side_loop *l)
{
    return l->ctx;
}

void mr_side_loop_kick(struct mr_side_loop *l)
{
    /* A socket closed and another opened under the same number can leave
     * the poll set as it was while the epoll set lost it: start afresh. */
    l->kicked = TRUE;
    int64_t ready = g_source_get_ready_time(&l->pump->base);
    if (ready < 0 || ready > l->next_turn_us)
        g_source_set_ready_time(&l->pump->base, l->next_turn_us);
}

void mr_side_loop_free(struct mr_side_loop *l)
{
    if (!l)
        return;
    g_source_destroy(&l->pump->base);
    g_source_unref(&l->pump->base);
    if (g_main_context_is_owner(l->ctx))
        g_main_context_release(l->ctx);
    g_main_context_unref(l->ctx);
    close(l->epfd);
    g_free(l->fds);
    g_free(l->prev);
    g_free(l->index);
    free(l);
}
