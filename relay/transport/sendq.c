#include "transport/sendq.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "core/error.h"
#include "core/log.h"
#include "ice/ice.h"
#include "ice/ice_uring.h"
#include "transport/transport.h"
#include "transport/transport_batch.h"

struct sendq_entry {
    struct mr_transport *t; /* NULL once sent */
    struct mr_sendq_link *link;
    uint16_t len;
    int16_t next; /* the same transport's next entry, or -1 */
};

struct flush_source {
    GSource base;
    struct mr_sendq *q;
};

/* A chain staged on the ring, counted after the submit. */
struct staged_chain {
    struct mr_transport *t;
    int handle;
    unsigned n;
};

struct mr_sendq {
    struct flush_source *src;
    struct mr_ice_uring *uring; /* NULL: a sendmmsg per transport */
    unsigned n;                 /* entries used */
    unsigned n_staged;
    struct staged_chain staged[MR_SENDQ_SLOTS];
    struct sendq_entry entries[MR_SENDQ_SLOTS];
    uint8_t slots[MR_SENDQ_SLOTS][MR_TRANSPORT_BUF];
};

_Static_assert(MR_SENDQ_SLOTS <= INT16_MAX, "entry links are int16_t");
_Static_assert(MR_TRANSPORT_BUF <= UINT16_MAX, "entry lengths are uint16_t");
_Static_assert(MR_SENDQ_SLOTS <= MR_ICE_URING_DATAGRAMS, "one submit carries a full queue");

/* Ready whenever something waits; the priority keeps it behind every input
 * source, so it runs once the burst is handled. */
static gboolean flush_prepare(GSource *base, gint *timeout)
{
    struct flush_source *s = (struct flush_source *)base;
    *timeout = -1;
    return s->q->n > 0;
}

static gboolean flush_check(GSource *base)
{
    struct flush_source *s = (struct flush_source *)base;
    return s->q->n > 0;
}

static gboolean flush_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
    struct flush_source *s = (struct flush_source *)base;
    (void)cb;
    (void)data;
    mr_sendq_flush(s->q);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_funcs = {
    .prepare = flush_prepare,
    .check = flush_check,
    .dispatch = flush_dispatch,
};

int mr_sendq_new(GMainContext *ctx, bool io_uring, struct mr_sendq **out)
{
    struct mr_sendq *q = calloc(1, sizeof(*q));
    if (!q)
        return MR_ENOMEM;
    if (io_uring && mr_ice_uring_new(&q->uring) < 0)
        q->uring = NULL; /* not here: a sendmmsg per transport */
    /* calloc's big blocks are fresh zero pages: touch them now rather than
     * on the forwarding path. */
    memset(q->slots, 0xa5, sizeof(q->slots));
    q->src = (struct flush_source *)g_source_new(&flush_funcs, sizeof(struct flush_source));
    q->src->q = q;
    g_source_set_priority(&q->src->base, G_PRIORITY_DEFAULT + 1);
    g_source_set_name(&q->src->base, "medrelay send queue");
    g_source_attach(&q->src->base, ctx);
    *out = q;
    return 0;
}

void mr_sendq_free(struct mr_sendq *q)
{
    if (!q)
        return;
    mr_sendq_flush(q);
    g_source_destroy(&q->src->base);
    g_source_unref(&q->src->base);
    mr_ice_uring_free(q->uring);
    free(q);
}

uint8_t *mr_sendq_slot(struct mr_sendq *q)
{
    if (q->n == MR_SENDQ_SLOTS)
        mr_sendq_flush(q);
    return q->slots[q->n];
}

void mr_sendq_commit(struct mr_sendq *q, struct mr_transport *t, struct mr_sendq_link *link,
                     size_t len)
{
    int i = (int)q->n++;
    q->entries[i] = (struct sendq_entry){.t = t, .link = link, .len = (uint16_t)len, .next = -1};
    if (link->last >= 0)
        q->entries[link->last].next = (int16_t)i;
    else
        link->first = i;
    link->last = i;
}

/* One batch of a chain: staged on the ring when there is one and the
 * transport can go that way, else sent now. */
static void send_batch(struct mr_sendq *q, struct mr_transport *t, const struct iovec *iov,
                       unsigned n, bool stage)
{
    int h = stage && q->uring ? mr_transport_stage_queued(t, q->uring, iov, n) : -1;
    if (h < 0)
        mr_transport_send_queued(t, iov, n);
    else
        q->staged[q->n_staged++] = (struct staged_chain){.t = t, .handle = h, .n = n};
}

/* Sends (or stages) one transport's chain, MR_ICE_BATCH_MAX datagrams per
 * batch. */
static void send_chain(struct mr_sendq *q, struct mr_sendq_link *link, bool stage)
{
    struct iovec iov[MR_ICE_BATCH_MAX];
    struct mr_transport *t = NULL;
    unsigned n = 0;
    for (int i = link->first; i >= 0; i = q->entries[i].next) {
        struct sendq_entry *e = &q->entries[i];
        t = e->t;
        e->t = NULL;
        iov[n++] = (struct iovec){.iov_base = q->slots[i], .iov_len = e->len};
        if (n == MR_ICE_BATCH_MAX) {
            send_batch(q, t, iov, n, stage);
            n = 0;
        }
    }
    if (n)
        send_batch(q, t, iov, n, stage);
    link->first = link->last = -1;
}

/* Every staged chain in one submit, then each transport's count. */
static void submit_staged(struct mr_sendq *q)
{
    if (q->n_staged == 0)
        return;
    if (mr_ice_uring_submit(q->uring) < 0)
        mr_log_warn(ICE, "io_uring submit failed: sending with sendmmsg from now on");
    for (unsigned i = 0; i < q->n_staged; i++) {
        unsigned sent;
        size_t bytes;
        mr_ice_uring_result(q->uring, q->staged[i].handle, &sent, &bytes);
        mr_transport_count_queued(q->staged[i].t, q->staged[i].n, sent, bytes);
    }
    mr_ice_uring_reset(q->uring);
    q->n_staged = 0;
}

void mr_sendq_flush_one(struct mr_sendq *q, struct mr_sendq_link *link)
{
    if (link->first >= 0)
        send_chain(q, link, false);
}

void mr_sendq_flush(struct mr_sendq *q)
{
    for (unsigned i = 0; i < q->n; i++)
        if (q->entries[i].t)
            send_chain(q, q->entries[i].link, true);
    submit_staged(q);
    q->n = 0;
}

void mr_sendq_receiver_done(struct mr_sendq *q)
{
    if (!q->uring || q->n >= MR_SENDQ_URING_BATCH)
        mr_sendq_flush(q);
}

bool mr_sendq_io_uring(const struct mr_sendq *q)
{
    return q->uring != NULL;
}
