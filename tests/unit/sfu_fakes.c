/*
 * Link-time doubles for what forward.c, burst.c, stream.c, sfu_rtcp.c and
 * record_tap.c call outside the forwarding path (sfu_fixture.h says which
 * and why). Each keeps a plain log that the tests read through the
 * fixture.
 */
#include <stdlib.h>
#include <string.h>

#include "sfu_fakes.h"
#include "srtp/srtp.h"

/* --- Logs ---------------------------------------------------------------------- */

static GPtrArray *sent;    /* struct fx_datagram *, in the order they left */
static GPtrArray *pending; /* queued in send-queue slots, not sent yet */
static GPtrArray *failed;  /* struct failure * */
static unsigned n_released, n_errors, n_receivers_done, n_flushes;

struct failure {
    const struct mr_peer *peer;
    char why[128];
};

void fx_fakes_reset(void)
{
    if (sent)
        g_ptr_array_free(sent, TRUE);
    if (pending)
        g_ptr_array_free(pending, TRUE);
    if (failed)
        g_ptr_array_free(failed, TRUE);
    sent = g_ptr_array_new_with_free_func(g_free);
    pending = g_ptr_array_new_with_free_func(g_free);
    failed = g_ptr_array_new_with_free_func(g_free);
    n_released = n_errors = n_receivers_done = n_flushes = 0;
}

unsigned fx_fakes_errors(void)
{
    return n_errors;
}

static struct fx_datagram *datagram_new(const struct mr_transport *t, bool rtcp, const uint8_t *buf,
                                        size_t len)
{
    struct fx_datagram *d = g_new0(struct fx_datagram, 1);
    d->peer = t->peer;
    d->rtcp = rtcp;
    d->len = len < sizeof(d->data) ? len : sizeof(d->data);
    memcpy(d->data, buf, d->len);
    return d;
}

/* Moves the pending datagrams of t (all when t is NULL) to the sent log. */
static void send_pending(const struct mr_transport *t)
{
    for (unsigned i = 0; i < pending->len;) {
        struct fx_datagram *d = g_ptr_array_index(pending, i);
        if (t && d->peer != t->peer) {
            i++;
            continue;
        }
        g_ptr_array_steal_index(pending, i);
        g_ptr_array_add(sent, d);
    }
}

unsigned fx_sent_total(void)
{
    return sent->len;
}

const struct fx_datagram *fx_sent_at(unsigned i)
{
    return i < sent->len ? g_ptr_array_index(sent, i) : NULL;
}

unsigned fx_pending(void)
{
    return pending->len;
}

unsigned fx_receivers_done(void)
{
    return n_receivers_done;
}

unsigned fx_sendq_flushes(void)
{
    return n_flushes;
}

void fx_sent_clear(void)
{
    g_ptr_array_set_size(sent, 0);
    n_receivers_done = n_flushes = 0;
}

unsigned fx_released(void)
{
    return n_released;
}

unsigned fx_failed_count(void)
{
    return failed->len;
}

const struct mr_peer *fx_failed_peer(unsigned i)
{
    return i < failed->len ? ((struct failure *)g_ptr_array_index(failed, i))->peer : NULL;
}

const char *fx_failed_why(unsigned i)
{
    return i < failed->len ? ((struct failure *)g_ptr_array_index(failed, i))->why : NULL;
}

/* --- Transports (transport/transport.h) ------------------------------------------- */

struct mr_transport *fx_transport_new(const struct mr_peer *peer)
{
    struct mr_transport *t = g_new0(struct mr_transport, 1);
    t->peer = peer;
    t->limit = 1 << 20;
    return t;
}

void fx_transport_free(struct mr_transport *t)
{
    if (!t)
        return;
    send_pending(t);
    g_free(t);
}

/* --- The send queue (transport/sendq.h) ------------------------------------------- */

struct mr_sendq {
    uint8_t slots[MR_SENDQ_SLOTS][MR_TRANSPORT_BUF];
    uint8_t *last; /* the slot handed out last */
};

int mr_sendq_new(GMainContext *ctx, bool io_uring, struct mr_sendq **out)
{
    *out = g_new0(struct mr_sendq, 1);
    return 0;
}

void mr_sendq_free(struct mr_sendq *q)
{
    if (q)
        mr_sendq_flush(q);
    g_free(q);
}

uint8_t *mr_sendq_slot(struct mr_sendq *q)
{
    if (pending->len == MR_SENDQ_SLOTS)
        mr_sendq_flush(q); /* all taken: as the real queue does */
    q->last = q->slots[pending->len];
    return q->last;
}

void mr_sendq_flush(struct mr_sendq *q)
{
    n_flushes++;
    send_pending(NULL);
}

/* Without io_uring, as on most machines: one receiver's share leaves now. */
void mr_sendq_receiver_done(struct mr_sendq *q)
{
    n_receivers_done++;
    send_pending(NULL);
}

bool mr_sendq_io_uring(const struct mr_sendq *q)
{
    return false;
}

/* In clear: the fixture checks what SRTP would protect. */
int mr_transport_queue_rtp(struct mr_transport *t, struct mr_sendq *q, uint8_t *buf, size_t len,
                           size_t cap)
{
    if (buf != q->last || len > cap)
        n_errors++;
    q->last = NULL;
    g_ptr_array_add(pending, datagram_new(t, false, buf, len));
    return 0;
}

enum mr_transport_state mr_transport_state(const struct mr_transport *t)
{
    return MR_TRANSPORT_SECURE;
}

/* At once, as a retransmission goes. */
int mr_transport_send_rtp(struct mr_transport *t, uint8_t *buf, size_t len, size_t cap)
{
    if (len + MR_SRTP_MAX_OVERHEAD > cap)
        n_errors++;
    g_ptr_array_add(sent, datagram_new(t, false, buf, len));
    return 0;
}

int mr_transport_send_rtcp(struct mr_transport *t, uint8_t *buf, size_t len, size_t cap)
{
    if (len > cap)
        n_errors++;
    g_ptr_array_add(sent, datagram_new(t, true, buf, len));
    return 0;
}

int mr_transport_rx_queued(struct mr_transport *t, int *limit)
{
    *limit = t->limit;
    return t->queued;
}

/* --- The worker (sfu/worker.h) --------------------------------------------------- */

struct call {
    void (*fn)(void *data);
    void *data;
};

static gboolean run_call(gpointer data)
{
    struct call *c = data;
    c->fn(c->data);
    return G_SOURCE_REMOVE;
}

/* Later, never at once, on the worker's context: as worker.c does. */
void mr_worker_call(struct mr_worker *w, void (*fn)(void *data), void *data)
{
    struct call *c = g_new(struct call, 1);
    c->fn = fn;
    c->data = data;
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, run_call, c, g_free);
    g_source_attach(src, w->ctx);
    g_source_unref(src);
}

void mr_worker_release(struct mr_worker *w)
{
    n_released++;
}

/* --- The control thread (relay.c) and room subscriptions (bundle.c) ---------------- */

void mr_relay_peer_failed(struct mr_peer *p, const char *why)
{
    struct failure *f = g_new0(struct failure, 1);
    f->peer = p;
    g_strlcpy(f->why, why, sizeof(f->why));
    g_ptr_array_add(failed, f);
}

unsigned mr_peer_sinks(struct mr_peer *p, struct mr_sink **sinks, struct mr_stream **streams,
                       unsigned max)
{
    if (!p->bundle) {
        sinks[0] = &p->sink;
        streams[0] = p->stream;
        return max ? 1 : 0;
    }
    unsigned n = 0;
    for (; n < p->bundle->n && n < max; n++) {
        sinks[n] = &p->bundle->slices[n].sink;
        streams[n] = p->bundle->slices[n].stream;
    }
    return n;
}

struct mr_receiver *mr_bundle_video_receiver(struct mr_peer *p, uint32_t ssrc,
                                             struct mr_stream **stream)
{
    for (unsigned i = 0; i < p->bundle->n; i++) {
        struct fx_slice *sl = &p->bundle->slices[i];
        struct mr_receiver *rx = mr_receivers_video(sl->receivers, sl->sink.n_receivers, ssrc);
        if (rx) {
            *stream = sl->stream;
            return rx;
        }
    }
    return NULL;
}

/* --- Recordings (record/record.h) -------------------------------------------------- */

struct mr_recording {
    int refs;
    bool want_keyframe;
    bool full;
    GPtrArray *pushes; /* struct push * */
};

struct push {
    unsigned track;
    int what;
    size_t len;
    uint8_t data[MR_TRANSPORT_BUF];
};

struct mr_recording *fx_recording_new(void)
{
    struct mr_recording *rec = g_new0(struct mr_recording, 1);
    rec->refs = 2;
    rec->pushes = g_ptr_array_new_with_free_func(g_free);
    return rec;
}

struct mr_recording *mr_recording_ref(struct mr_recording *rec)
{
    rec->refs++;
    return rec;
}

void mr_recording_unref(struct mr_recording *rec)
{
    if (!rec || --rec->refs > 0)
        return;
    g_ptr_array_free(rec->pushes, TRUE);
    g_free(rec);
}

bool mr_recording_push(struct mr_recording *rec, unsigned track, int what, const uint8_t *pkt,
                       size_t len, int64_t arrival_us)
{
    if (rec->full)
        return false;
    struct push *p = g_new0(struct push, 1);
    p->track = track;
    p->what = what;
    p->len = len < sizeof(p->data) ? len : sizeof(p->data);
    memcpy(p->data, pkt, p->len);
    g_ptr_array_add(rec->pushes, p);
    return true;
}

bool mr_recording_keyframe_wanted(struct mr_recording *rec)
{
    bool want = rec->want_keyframe;
    rec->want_keyframe = false;
    return want;
}

unsigned fx_rec_count(const struct mr_recording *rec)
{
    return rec->pushes->len;
}

const uint8_t *fx_rec_get(const struct mr_recording *rec, unsigned i, unsigned *track, int *what,
                          size_t *len)
{
    if (i >= rec->pushes->len)
        return NULL;
    const struct push *p = g_ptr_array_index(rec->pushes, i);
    *track = p->track;
    *what = p->what;
    *len = p->len;
    return p->data;
}

void fx_rec_want_keyframe(struct mr_recording *rec)
{
    rec->want_keyframe = true;
}

void fx_rec_set_full(struct mr_recording *rec, bool full)
{
    rec->full = full;
}

int fx_rec_refs(const struct mr_recording *rec)
{
    return rec->refs - 1;
}
