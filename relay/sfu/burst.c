/* Subscriber-major fan-out of a worker's burst of input (burst.h). */
#include "sfu/burst.h"

#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "core/error.h"
#include "sfu/sfu_priv.h"

struct burst_entry {
    struct mr_stream *s; /* a reference while waiting */
    struct mr_fwd_packet pkt;
    uint8_t data[MR_TRANSPORT_MTU];
};

struct fanout_source {
    GSource base;
    struct mr_burst *b;
};

struct mr_burst {
    struct mr_worker *w;
    struct fanout_source *src;
    unsigned n;
    bool flushing;
    struct burst_entry entries[MR_BURST_PACKETS];
};

/* Ready whenever something waits; the priority keeps it behind every input
 * source, so it runs once the burst is handled. */
static gboolean fanout_prepare(GSource *base, gint *timeout)
{
    *timeout = -1;
    return ((struct fanout_source *)base)->b->n > 0;
}

static gboolean fanout_check(GSource *base)
{
    return ((struct fanout_source *)base)->b->n > 0;
}

static gboolean fanout_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
    (void)cb;
    (void)data;
    mr_burst_flush(((struct fanout_source *)base)->b);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs fanout_funcs = {
    .prepare = fanout_prepare,
    .check = fanout_check,
    .dispatch = fanout_dispatch,
};

int mr_burst_new(struct mr_worker *w, struct mr_burst **out)
{
    struct mr_burst *b = calloc(1, sizeof(*b));
    if (!b)
        return MR_ENOMEM;
    /* Touch the copies now rather than on the forwarding path. */
    memset(b->entries, 0, sizeof(b->entries));
    b->w = w;
    b->src = (struct fanout_source *)g_source_new(&fanout_funcs, sizeof(struct fanout_source));
    b->src->b = b;
    g_source_set_priority(&b->src->base, G_PRIORITY_DEFAULT + 1);
    g_source_set_name(&b->src->base, "medrelay fan-out");
    g_source_attach(&b->src->base, w->ctx);
    *out = b;
    return 0;
}

void mr_burst_free(struct mr_burst *b)
{
    if (!b)
        return;
    mr_burst_flush(b);
    g_source_destroy(&b->src->base);
    g_source_unref(&b->src->base);
    free(b);
}

void mr_burst_add(struct mr_burst *b, struct mr_stream *s, const struct mr_fwd_packet *pkt,
                  size_t len)
{
    if (len > MR_TRANSPORT_MTU)
        return; /* cannot be: the transport takes no larger datagram */
    if (b->n == MR_BURST_PACKETS)
        mr_burst_flush(b);
    struct burst_entry *e = &b->entries[b->n++];
    e->s = mr_stream_ref(s);
    e->pkt = *pkt;
    memcpy(e->data, pkt->buf, len);
    e->pkt.buf = e->data;
    e->pkt.payload = e->data + (pkt->payload - pkt->buf);
}

/* Every sink of s gets its share of the packets, one sink after
 * the other. Packets of a publisher that is no longer s's cannot be here
 * (stream.c flushes before it changes), but are skipped if they were. */
static void fan_out(struct mr_stream *s, const struct mr_fwd_packet **pkts, unsigned n,
                    struct mr_worker *w)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (pkts[i]->pub == s->publisher)
            pkts[k++] = pkts[i];
    if (k == 0)
        return;
    for (unsigned i = 0; i < s->sinks->len; i++)
        mr_forward_to_sink(g_ptr_array_index(s->sinks, i), pkts, k, w);
}

void mr_burst_flush(struct mr_burst *b)
{
    if (b->flushing || b->n == 0)
        return;
    b->flushing = true;
    const struct mr_fwd_packet *pkts[MR_BURST_PACKETS];
    bool done[MR_BURST_PACKETS] = {false};
    /* Stream by stream (a worker carries a room's streams), each stream's
     * packets in arrival order. */
    for (unsigned i = 0; i < b->n; i++) {
        if (done[i])
            continue;
        struct mr_stream *s = b->entries[i].s;
        unsigned k = 0;
        for (unsigned j = i; j < b->n; j++)
            if (!done[j] && b->entries[j].s == s) {
                pkts[k++] = &b->entries[j].pkt;
                done[j] = true;
            }
        fan_out(s, pkts, k, b->w);
    }
    mr_sendq_flush(b->w->sendq); /* what the fan-out left queued (io_uring) */
    for (unsigned i = 0; i < b->n; i++)
        mr_stream_unref(b->entries[i].s);
    b->n = 0;
    b->flushing = false;
}
