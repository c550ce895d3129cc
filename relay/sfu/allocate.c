/*
 * A viewer's simulcast layers for its downlink's estimate (downlink.h).
 *
 * What the viewer's other receivers send (audio, single-layer video) is
 * taken off the estimate first, as measured; a tenth is kept in reserve
 * for what the estimate does not see coming (a key frame, RTCP,
 * retransmissions). Every simulcast receiver then gets its lowest layer
 * alive (a viewer is never left without video while any layer arrives),
 * and they are raised one layer at a time, in turn, while the rest of the
 * estimate pays for it and within their own caps.
 *
 * The result is each receiver's bw_cap, which layers.c reads like a cap
 * of its own: lowered at once when the link is congested, raised only
 * when the better layer has fitted for UP_HOLD_US, so a link that dips now
 * and then does not make a viewer's picture change every few seconds.
 */
#include "core/counter.h"
#include "core/log.h"
#include "sfu/downlink.h"

#define UP_HOLD_US   1000000
#define DOWN_HOLD_US 2000000
/* The estimate fell this recently: the link is congested now. */
#define CONGESTED_US 1000000
/* A layer that had to be left within UP_TRIAL_US of being taken is not
 * taken again for TRIAL_BACKOFF_US, unless the estimate has grown to half
 * as much again as the one that allowed it: that estimate was wrong (a
 * link's burst allowance let a probe through at a rate it cannot keep up),
 * and a picture that changes every few seconds is worse than a steady
 * lower one. Probes aim at that much, which no burst allowance fakes. */
#define UP_TRIAL_US      4000000
#define TRIAL_BACKOFF_US 30000000
#define TRIAL_PROOF(bps) ((uint64_t)(bps)*3 / 2)
/* Per packet beyond its payload: RTP header and extensions, SRTP tag,
 * UDP and IPv4 headers. */
#define PACKET_OVERHEAD 60
#define RATE_WINDOW_US  500000
#define MAX_CHOICES     16

/* One simulcast receiver's allocation, in ranks (0: the source's best). */
struct choice {
    struct mr_receiver *rx;
    const struct mr_source *src;
    unsigned pick;
};

/* What a layer costs the link; 0 when it is not arriving. */
static uint32_t cost(const struct mr_source *src, unsigned rank)
{
    uint32_t bps = src->enc[src->ranked[rank]].rate_bps;
    return bps + bps / 16;
}

/* What a receiver sends, measured over RATE_WINDOW_US or more. */
static uint32_t measured(struct mr_receiver *rx, int64_t now)
{
    int64_t dt = now - rx->rate_us;
    if (rx->rate_us && dt < RATE_WINDOW_US)
        return rx->rate_bps;
    if (rx->rate_us) {
        uint64_t bytes = (uint32_t)(rx->octets_out - rx->rate_octets) +
                         (uint64_t)(uint32_t)(rx->packets_out - rx->rate_packets) * PACKET_OVERHEAD;
        rx->rate_bps = (uint32_t)(bytes * 8 * 1000000 / (uint64_t)dt);
    }
    rx->rate_us = now;
    rx->rate_octets = rx->octets_out;
    rx->rate_packets = rx->packets_out;
    return rx->rate_bps;
}

/* The best rank at or after `from` whose layer arrives; n_ranked if none. */
static unsigned usable_from(const struct mr_source *src, unsigned from)
{
    while (from < src->n_ranked && !cost(src, from))
        from++;
    return from;
}

/* The lowest rank whose layer arrives; n_ranked if none. */
static unsigned lowest(const struct mr_source *src)
{
    for (unsigned r = src->n_ranked; r-- > 0;)
        if (cost(src, r))
            return r;
    return src->n_ranked;
}

/* The receivers of one sink: simulcast ones into c, the others' rates
 * into *fixed. */
static void collect(struct mr_sink *sink, const struct mr_stream *s, struct choice *c, unsigned *n,
                    uint64_t *fixed, int64_t now)
{
    const struct mr_peer *pub = s ? s->publisher : NULL;
    for (unsigned j = 0; j < sink->n_receivers; j++) {
        struct mr_receiver *rx = &sink->receivers[j];
        const struct mr_source *src =
            pub && !pub->dead && rx->src >= 0 && (unsigned)rx->src < pub->n_sources
                ? &pub->sources[rx->src]
                : NULL;
        /* A pinned stream's layer is the operator's choice: paid for as
         * it is sent. */
        if (src && !s->fwd_pinned && src->n_encodings > 1 && src->n_ranked && rx->compatible && *n < MAX_CHOICES &&
            lowest(src) < src->n_ranked)
            c[(*n)++] = (struct choice){.rx = rx, .src = src, .pick = lowest(src)};
        else
            *fixed += measured(rx, now);
    }
}

/* The next better rank than `at`, within the cap, whose layer arrives;
 * at if none. */
static unsigned better(const struct mr_source *src, unsigned at, unsigned cap)
{
    for (unsigned r = at; r-- > cap;)
        if (cost(src, r))
            return r;
    return at;
}

/* Whether a receiver's last failed raise still holds it back. */
static bool trial_failed(const struct mr_receiver *rx, uint32_t estimate, int64_t now)
{
    return now < rx->bw_failed_until_us && estimate < TRIAL_PROOF(rx->bw_failed_bps);
}

/* The best rank a receiver may be raised to: its own cap, or below a
 * layer it recently failed to keep. */
static unsigned ceiling(const struct mr_receiver *rx, uint32_t estimate, int64_t now)
{
    unsigned cap = rx->layer_cap;
    if (trial_failed(rx, estimate, now) && rx->bw_failed + 1u > cap)
        cap = rx->bw_failed + 1u;
    return cap;
}

/* Raises the choices one layer at a time, in turn, while budget pays. */
static void raise_while_fits(struct choice *c, unsigned n, int64_t budget, uint32_t estimate,
                             int64_t now)
{
    for (bool more = true; more;) {
        more = false;
        for (unsigned i = 0; i < n; i++) {
            unsigned at = c[i].pick, next = better(c[i].src, at, ceiling(c[i].rx, estimate, now));
            if (next == at)
                continue;
            int64_t delta = (int64_t)cost(c[i].src, next) - cost(c[i].src, at);
            if (delta <= budget) {
                budget -= delta;
                c[i].pick = next;
                more = true;
            }
        }
    }
}

static void lower(struct mr_receiver *rx, unsigned pick, struct mr_worker *w, uint32_t estimate,
                  int64_t now)
{
    /* Left soon after it was taken: that raise was a mistake. */
    if (rx->bw_raised_us && now - rx->bw_raised_us < UP_TRIAL_US) {
        rx->bw_failed = rx->bw_cap;
        rx->bw_failed_until_us = now + TRIAL_BACKOFF_US;
        rx->bw_failed_bps = rx->bw_raised_bps;
    }
    mr_log_debug(SFU, "receiver %s: down to rank %u at %u kbit/s%s", rx->mid, pick, estimate / 1000,
                 rx->bw_failed_until_us > now ? " (the raise failed)" : "");
    rx->bw_cap = (uint8_t)pick;
    rx->bw_down_since_us = rx->bw_raised_us = 0;
    mr_counter_add(&w->sfu.bw_down, 1);
}

static void lift(struct mr_receiver *rx, unsigned pick, struct mr_worker *w, uint32_t estimate,
                 int64_t now)
{
    mr_log_debug(SFU, "receiver %s: up to rank %u at %u kbit/s", rx->mid, pick, estimate / 1000);
    rx->bw_cap = (uint8_t)pick;
    rx->bw_up_since_us = 0;
    rx->bw_raised_us = now;
    rx->bw_raised_bps = estimate;
    mr_counter_add(&w->sfu.bw_up, 1);
}

/* Moves a receiver's bw_cap towards its allocation. Down at once when the
 * link has just shown congestion (the estimate fell); without that, only
 * once the lower layer has been all that fits for DOWN_HOLD_US, as a
 * layer's measured rate jumps with each key frame (those a switch asks
 * for included) while the link is fine. Up once the better layer has
 * fitted for UP_HOLD_US. */
static void apply(const struct choice *c, struct mr_worker *w, uint32_t estimate, bool congested,
                  int64_t now)
{
    struct mr_receiver *rx = c->rx;
    if (c->pick == rx->bw_cap) {
        rx->bw_up_since_us = rx->bw_down_since_us = 0;
    } else if (c->pick > rx->bw_cap) {
        rx->bw_up_since_us = 0;
        if (!rx->bw_down_since_us)
            rx->bw_down_since_us = now;
        if (congested || now - rx->bw_down_since_us >= DOWN_HOLD_US)
            lower(rx, c->pick, w, estimate, now);
    } else {
        rx->bw_down_since_us = 0;
        if (!rx->bw_up_since_us)
            rx->bw_up_since_us = now;
        else if (now - rx->bw_up_since_us >= UP_HOLD_US)
            lift(rx, c->pick, w, estimate, now);
    }
}

/* What the operator sees of the viewer (session_status.c): the layer its
 * first simulcast stream is sent, why not a better one, the estimate. */
static void share(struct mr_peer *p, const struct choice *c, uint32_t estimate)
{
    const struct mr_receiver *rx = c->rx;
    unsigned rank = 0;
    while (rank + 1 < c->src->n_ranked && c->src->ranked[rank] != rx->encoding)
        rank++;
    enum mr_layer_why why = MR_LAYER_WHY_BEST;
    if (rank > 0 && rank >= rx->bw_cap && rx->bw_cap > rx->layer_cap)
        why = MR_LAYER_WHY_DOWNLINK;
    else if (rank > 0 && rank == rx->layer_cap)
        why = MR_LAYER_WHY_CAP;
    __atomic_store_n(&p->layer_shared, MR_LAYER_SHARED(rank, why), __ATOMIC_RELAXED);
    __atomic_store_n(&p->down_kbps_shared, (int)(estimate / 1000) ? (int)(estimate / 1000) : 1,
                     __ATOMIC_RELAXED);
}

uint32_t mr_downlink_allocate(struct mr_peer *p, uint32_t estimate, int64_t now)
{
    struct choice c[MAX_CHOICES];
    unsigned n = 0;
    uint64_t fixed = 0;
    struct mr_sink *sinks[MR_PEER_MAX_SINKS];
    struct mr_stream *streams[MR_PEER_MAX_SINKS];
    unsigned n_sinks = mr_peer_sinks(p, sinks, streams, MR_PEER_MAX_SINKS);
    for (unsigned i = 0; i < n_sinks; i++)
        collect(sinks[i], streams[i], c, &n, &fixed, now);
    if (n == 0)
        return 0;
    int64_t fell = mr_bwe_last_decrease_us(&p->down->bwe);
    bool congested = fell && now - fell < CONGESTED_US;
    int64_t budget = (int64_t)estimate / 10 * 9 - (int64_t)fixed;
    for (unsigned i = 0; i < n; i++)
        budget -= cost(c[i].src, c[i].pick);
    raise_while_fits(c, n, budget, estimate, now);
    /* A receiver below the best it would take: what all would need, with
     * the reserve; past a failed raise, what proves the link grew. */
    uint64_t need = fixed, proof = 0;
    bool held = false;
    for (unsigned i = 0; i < n; i++) {
        const struct mr_receiver *rx = c[i].rx;
        unsigned best = usable_from(c[i].src, rx->layer_cap);
        if (best >= c[i].src->n_ranked)
            best = c[i].pick;
        need += cost(c[i].src, best);
        held = held || c[i].pick > best;
        if (trial_failed(rx, estimate, now) && TRIAL_PROOF(rx->bw_failed_bps) > proof)
            proof = TRIAL_PROOF(rx->bw_failed_bps);
        apply(&c[i], p->worker, estimate, congested, now);
    }
    share(p, &c[0], estimate);
    uint64_t want = need / 9 * 10;
    want = want > proof ? want : proof;
    return held ? (uint32_t)(want < UINT32_MAX ? want : UINT32_MAX) : 0;
}
