#include "transport/watch.h"

#include <stdlib.h>

#include "core/error.h"

struct mr_transport_watch {
    GSource *timer;
    unsigned limit_ms;
    struct mr_watch_link head; /* circular; head.look unused */
    /* The entry the tick will look at next; moved on when it is unlinked
     * during a tick. */
    struct mr_watch_link *cursor;
};

static gboolean tick(gpointer data)
{
    struct mr_transport_watch *w = data;
    for (w->cursor = w->head.next; w->cursor != &w->head;) {
        struct mr_watch_link *l = w->cursor;
        w->cursor = l->next;
        l->look(l);
    }
    w->cursor = NULL;
    return G_SOURCE_CONTINUE;
}

int mr_transport_watch_new(GMainContext *ctx, unsigned limit_ms, struct mr_transport_watch **out)
{
    struct mr_transport_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return MR_ENOMEM;
    w->limit_ms = limit_ms;
    w->head.prev = w->head.next = &w->head;
    /* 15 looks per limit (liveness.h). */
    unsigned every = limit_ms / 15;
    w->timer = g_timeout_source_new(every < 50 ? 50 : every > 5000 ? 5000 : every);
    g_source_set_callback(w->timer, tick, w, NULL);
    g_source_set_name(w->timer, "medrelay liveness watch");
    g_source_attach(w->timer, ctx);
    *out = w;
    return 0;
}

void mr_transport_watch_free(struct mr_transport_watch *w)
{
    if (!w)
        return;
    g_source_destroy(w->timer);
    g_source_unref(w->timer);
    free(w);
}

unsigned mr_transport_watch_limit_ms(const struct mr_transport_watch *w)
{
    return w->limit_ms;
}

void mr_watch_link(struct mr_transport_watch *w, struct mr_watch_link *l)
{
    if (l->linked)
        return;
    l->prev = w->head.prev;
    l->next = &w->head;
    w->head.prev->next = l;
    w->head.prev = l;
    l->linked = true;
}

void mr_watch_unlink(struct mr_transport_watch *w, struct mr_watch_link *l)
{
    if (!w || !l->linked)
        return;
    if (w->cursor == l)
        w->cursor = l->next;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = NULL;
    l->linked = false;
}
