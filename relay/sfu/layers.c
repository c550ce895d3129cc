/*
 * Simulcast layers (track.h): which layer each receiver of a simulcast
 * source takes.
 *
 * Layers are ranked by picture size (from VP8 key frames), else by the
 * bitrate they carry, and a layer is alive while its packets arrive. Each
 * receiver takes the best layer that is alive; when a layer stops (the
 * clinic's encoder drops its top layer on a weak uplink) its receivers
 * move to the next one at that layer's key frame, asked for at once, and
 * back when it returns. A viewer may cap its layer (MR_LAYER_CAP_*: the
 * best it takes, counted from the top); a capped viewer whose layers all
 * stopped takes one above its cap rather than none. The recording always
 * takes the best. A viewer's downlink caps it too (bw_cap, allocate.c),
 * like a cap of its own, unless the operator pinned the stream at its top
 * layer (layer_control.c).
 *
 * Runs on the stream's worker, on a timer of its own that only streams
 * with a simulcast publisher have.
 */
#include <string.h>

#include "core/clock.h"
#include "sfu/downlink.h"
#include "sfu/sfu_priv.h"

#define LAYERS_TICK_MS 50
/* A layer that has sent nothing for four of its mean gaps between packets,
 * and at least this long, has stopped: a 30 fps layer sends a packet every
 * 10-30 ms, and the viewers of a layer that stopped see nothing until
 * they are moved; a device screen at 2 fps is given 2 s. */
#define LAYER_SILENCE_MIN_US     300000
#define LAYER_SILENCE_MAX_US     2000000
#define LAYER_SILENCE_UNKNOWN_US 500000
#define RATE_WINDOW_US           500000

static bool alive(const struct mr_encoding *e, int64_t now)
{
    int64_t silence = e->silence_us ? e->silence_us : LAYER_SILENCE_UNKNOWN_US;
    return e->last_us && now - e->last_us < silence;
}

/* Whether a ranks above b. */
static bool better(const struct mr_encoding *a, const struct mr_encoding *b)
{
    uint32_t pa = (uint32_t)a->width * a->height, pb = (uint32_t)b->width * b->height;
    if (pa && pb && pa != pb)
        return pa > pb;
    return a->rate_bps > b->rate_bps;
}

void mr_layers_rank(struct mr_source *src, int64_t now, int64_t window_us)
{
    unsigned n = src->n_encodings;
    for (unsigned e = 0; e < n; e++) {
        struct mr_encoding *enc = &src->enc[e];
        uint64_t d = enc->octets - enc->rate_octets, np = enc->packets - enc->rate_packets;
        enc->rate_octets = enc->octets;
        enc->rate_packets = enc->packets;
        enc->rate_bps = window_us > 0 ? (uint32_t)(d * 8 * 1000000 / (uint64_t)window_us) : 0;
        if (np > 0 && window_us > 0) {
            int64_t gap4 = 4 * window_us / (int64_t)np;
            enc->silence_us = (uint32_t)(gap4 < LAYER_SILENCE_MIN_US   ? LAYER_SILENCE_MIN_US
                                         : gap4 > LAYER_SILENCE_MAX_US ? LAYER_SILENCE_MAX_US
                                                                       : gap4);
        }
        if (!alive(enc, now))
            enc->rate_bps = 0;
        src->ranked[e] = (uint8_t)e;
    }
    /* Insertion sort of at most MR_MAX_ENCODINGS; stable, so equal layers
     * keep the offer's order. */
    for (unsigned i = 1; i < n; i++) {
        uint8_t k = src->ranked[i];
        unsigned j = i;
        for (; j > 0 && better(&src->enc[k], &src->enc[src->ranked[j - 1]]); j--)
            src->ranked[j] = src->ranked[j - 1];
        src->ranked[j] = k;
    }
    src->n_ranked = n;
}

unsigned mr_layers_pick(const struct mr_source *src, int64_t now, unsigned current, unsigned cap)
{
    if (src->n_encodings < 2)
        return 0;
    /* The best within the cap; past the lowest, the lowest. */
    unsigned from = cap < src->n_ranked ? cap : src->n_ranked ? src->n_ranked - 1 : 0;
    for (unsigned i = from; i < src->n_ranked; i++)
        if (alive(&src->enc[src->ranked[i]], now))
            return src->ranked[i];
    /* Nothing alive within it: better a layer above the cap than none. */
    for (unsigned i = from; i-- > 0;)
        if (alive(&src->enc[src->ranked[i]], now))
            return src->ranked[i];
    /* Not ranked yet: the current layer while it arrives, else any that
     * does. */
    for (unsigned e = 0; !alive(&src->enc[current], now) && e < src->n_encodings; e++)
        if (alive(&src->enc[e], now))
            return e;
    return current;
}

/* The encodings of source src that rx[0..n) take or move to (bit e). */
static unsigned wanted_by(const struct mr_receiver *rx, unsigned n, int src)
{
    unsigned mask = 0;
    for (unsigned j = 0; j < n; j++)
        if (rx[j].src == src)
            mask |= 1u << rx[j].encoding | 1u << rx[j].target;
    return mask;
}

unsigned mr_layers_wanted(struct mr_stream *s, int src)
{
    unsigned mask = s->rec_tap ? wanted_by(s->rec_tap->receivers, s->rec_tap->n_receivers, src) : 0;
    for (unsigned i = 0; i < s->sinks->len; i++) {
        const struct mr_sink *sink = g_ptr_array_index(s->sinks, i);
        mask |= wanted_by(sink->receivers, sink->n_receivers, src);
    }
    return mask;
}

/* Moves rx[0..n) of source `si` to the layer they should take; true when
 * one of them waits for a layer's key frame (asked again until it comes:
 * Chromium ignores a request that follows the layer's last key frame
 * closely; the gate in keyframe.c spaces them). */
static bool choose(struct mr_receiver *rx, unsigned n, int si, const struct mr_source *src,
                   bool pinned, int64_t now)
{
    bool ask = false;
    for (unsigned j = 0; j < n; j++) {
        struct mr_receiver *r = &rx[j];
        if (r->src != si || !r->compatible)
            continue;
        unsigned bw = pinned ? 0 : r->bw_cap;
        unsigned cap = r->layer_cap > bw ? r->layer_cap : bw;
        r->target = mr_layers_pick(src, now, r->encoding, cap);
        ask = ask || r->target != r->encoding;
    }
    return ask;
}

static bool sizes_known(const struct mr_source *src)
{
    for (unsigned e = 0; e < src->n_encodings; e++)
        if (!src->enc[e].width || !src->enc[e].height)
            return false;
    return true;
}

static gboolean tick(gpointer data)
{
    struct mr_stream *s = data;
    struct mr_peer *pub = s->publisher;
    if (!pub || pub->dead)
        return G_SOURCE_CONTINUE;
    int64_t now = mr_clock_mono_us();
    bool measure = now - s->layers_rated_us >= RATE_WINDOW_US;
    for (unsigned i = 0; i < pub->n_sources; i++) {
        struct mr_source *src = &pub->sources[i];
        if (src->n_encodings < 2)
            continue;
        /* A new publisher's layers are ranked as soon as their key frames
         * told every size, not half a second later: the recording and the
         * first viewers start on the best layer. */
        if (measure || (src->n_ranked == 0 && sizes_known(src)))
            mr_layers_rank(src, now, now - s->layers_rated_us);
        bool ask = false;
        for (unsigned k = 0; k < s->sinks->len; k++) {
            struct mr_sink *sink = g_ptr_array_index(s->sinks, k);
            /* A viewer of layers: its downlink is measured from now on. */
            mr_downlink_setup(sink->peer);
            ask |= choose(sink->receivers, sink->n_receivers, (int)i, src, s->fwd_pinned, now);
        }
        if (s->rec_tap)
            ask |= choose(s->rec_tap->receivers, s->rec_tap->n_receivers, (int)i, src, true,
                          now);
        if (ask)
            mr_keyframe_request(s, (int)i, now);
    }
    if (measure)
        s->layers_rated_us = now;
    return G_SOURCE_CONTINUE;
}

void mr_layers_start(struct mr_stream *s)
{
    const struct mr_peer *pub = s->publisher;
    bool simulcast = false;
    for (unsigned i = 0; pub && i < pub->n_sources; i++)
        simulcast = simulcast || pub->sources[i].n_encodings > 1;
    if (!simulcast || s->layers_tick)
        return;
    s->layers_rated_us = mr_clock_mono_us();
    s->layers_tick = g_timeout_source_new(LAYERS_TICK_MS);
    g_source_set_callback(s->layers_tick, tick, s, NULL);
    g_source_attach(s->layers_tick, s->worker->ctx);
}

void mr_layers_stop(struct mr_stream *s)
{
    if (s->layers_tick) {
        g_source_destroy(s->layers_tick);
        g_source_unref(s->layers_tick);
        s->layers_tick = NULL;
    }
}
