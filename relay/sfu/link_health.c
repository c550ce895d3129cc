/*
 * The publisher leg's health: loss before and after repair, bitrate and
 * round trip over windows of about 2 s, for the consoles (link_health.h).
 *
 * Loss before repair comes from each encoding's receive statistics, which
 * count first arrivals only (forward.c does not account retransmissions
 * there), so they are what the relay's receiver reports tell the
 * publisher. Repair is what repair.c counts per source: packets its
 * retransmissions brought (recovered) and packets given up on.
 */
#include "sfu/link_health.h"

#include <string.h>

#include "core/counter.h"
#include "sfu/sfu_priv.h"

#define PPM 1000000u

/* --- The arithmetic (pure) ------------------------------------------------ */

void mr_link_rtp_count(const struct mr_rtp_rx_stats *rx, uint32_t ssrc,
                       struct mr_link_rtp_count *out)
{
    memset(out, 0, sizeof(*out));
    /* During probation base_seq and max_seq describe candidates, not a
     * validated stream (RFC 3550 A.1), as mr_rtp_rx_stats_report says. */
    if (!rx->started || rx->probation != 0 || rx->received == 0)
        return;
    out->valid = true;
    out->ssrc = ssrc;
    out->base_seq = rx->base_seq;
    /* RFC 3550 A.3, in 32-bit arithmetic like the report's. */
    out->expected = rx->cycles + rx->max_seq - rx->base_seq + 1;
    out->received = rx->received;
}

void mr_link_rtp_delta(const struct mr_link_rtp_count *before, const struct mr_link_rtp_count *now,
                       uint64_t *expected, uint64_t *received)
{
    if (!now->valid)
        return;
    uint32_t de = now->expected - before->expected;
    bool restarted = !before->valid || before->ssrc != now->ssrc ||
                     before->base_seq != now->base_seq || now->received < before->received ||
                     de > UINT32_MAX / 2;
    if (restarted) {
        *expected += now->expected;
        *received += now->received;
        return;
    }
    *expected += de;
    *received += now->received - before->received;
}

static uint32_t clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* lost / sent in parts per million, rounded. */
static uint32_t ppm(uint64_t lost, uint64_t sent)
{
    if (sent == 0 || lost == 0)
        return 0;
    if (lost >= sent)
        return PPM;
    return (uint32_t)((lost * PPM + sent / 2) / sent);
}

void mr_link_health_compute(const struct mr_link_window *w, struct mr_link_health *out)
{
    memset(out, 0, sizeof(*out));
    out->rtt_ms = -1;
    if (w->duration_us <= 0)
        return;
    out->known = true;
    out->window_ms = clamp32(((uint64_t)w->duration_us + 500) / 1000);

    uint64_t lost =
        w->video_expected > w->video_received ? w->video_expected - w->video_received : 0;
    uint64_t after = lost > w->recovered ? lost - w->recovered : 0;
    out->video_packets = clamp32(w->video_expected);
    out->loss_ppm = ppm(lost, w->video_expected);
    out->loss_after_ppm = ppm(after, w->video_expected);
    uint64_t audio_lost =
        w->audio_expected > w->audio_received ? w->audio_expected - w->audio_received : 0;
    out->audio_packets = clamp32(w->audio_expected);
    out->audio_loss_ppm = ppm(audio_lost, w->audio_expected);
    out->recovered = clamp32(w->recovered);
    out->gave_up = clamp32(w->gave_up);

    /* bytes * 8 / 1000 per second = bytes * 8000 / duration in µs. */
    out->kbps =
        clamp32((w->bytes * 8000 + (uint64_t)w->duration_us / 2) / (uint64_t)w->duration_us);
    if (w->rtt_us > 0)
        out->rtt_ms =
            (int32_t)(w->rtt_us > INT32_MAX * INT64_C(1000) ? INT32_MAX : (w->rtt_us + 500) / 1000);
}

/* --- Handing the figures to the control thread ------------------------------ */

/* Every field, for the stores and loads below. */
#define LINK_FIELDS(X)                                                                             \
    X(known)                                                                                       \
    X(window_ms)                                                                                   \
    X(video_packets)                                                                               \
    X(loss_ppm)                                                                                    \
    X(loss_after_ppm)                                                                              \
    X(audio_packets)                                                                               \
    X(audio_loss_ppm)                                                                              \
    X(recovered)                                                                                   \
    X(gave_up)                                                                                     \
    X(kbps)                                                                                        \
    X(rtt_ms)

/* A sequence lock with one writer that never waits: the count is odd
 * while the fields change, and a reader that saw it change reads again. */
void mr_link_shared_write(struct mr_link_shared *sh, const struct mr_link_health *h)
{
    uint32_t seq = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&sh->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
#define STORE(f) __atomic_store_n(&sh->h.f, h->f, __ATOMIC_RELAXED);
    LINK_FIELDS(STORE)
#undef STORE
    __atomic_store_n(&sh->seq, seq + 2, __ATOMIC_RELEASE);
}

void mr_link_shared_read(const struct mr_link_shared *sh, struct mr_link_health *out)
{
    for (int tries = 0; tries < 4; tries++) {
        uint32_t s1 = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
#define LOAD(f) out->f = __atomic_load_n(&sh->h.f, __ATOMIC_RELAXED);
        LINK_FIELDS(LOAD)
#undef LOAD
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint32_t s2 = __atomic_load_n(&sh->seq, __ATOMIC_RELAXED);
        if (s1 == s2 && !(s1 & 1))
            return;
    }
    memset(out, 0, sizeof(*out));
    out->rtt_ms = -1;
}

/* --- Sampling a stream's publisher (worker) ----------------------------------- */

static void publish_unknown(struct mr_stream *s)
{
    struct mr_link_health h = {.rtt_ms = -1};
    mr_link_shared_write(&s->link_out, &h);
}

static uint64_t bytes_in(struct mr_peer *pub)
{
    const struct mr_transport_stats *t = pub->transport ? mr_transport_stats(pub->transport) : NULL;
    return t ? mr_counter_read(&t->bytes_in) : 0;
}

/* Counters that only grow while a source lives; a smaller one is a new
 * source's, counted from zero. */
static uint32_t grew(uint32_t now, uint32_t before)
{
    return now >= before ? now - before : now;
}

/* Reads the publisher's counters into the meter; adds what changed since
 * the meter's last reading to w (when not NULL). */
static void read_counters(struct mr_link_meter *m, struct mr_peer *pub, struct mr_link_window *w)
{
    unsigned n = pub->n_sources < MR_MAX_TRACKS ? pub->n_sources : MR_MAX_TRACKS;
    for (unsigned i = 0; i < n; i++) {
        const struct mr_source *src = &pub->sources[i];
        bool video = src->kind == MR_MEDIA_VIDEO;
        unsigned ne = src->n_encodings < MR_MAX_ENCODINGS ? src->n_encodings : MR_MAX_ENCODINGS;
        for (unsigned e = 0; e < ne; e++) {
            struct mr_link_rtp_count now;
            mr_link_rtp_count(&src->enc[e].rx, src->enc[e].ssrc, &now);
            if (w)
                mr_link_rtp_delta(&m->rtp[i][e], &now,
                                  video ? &w->video_expected : &w->audio_expected,
                                  video ? &w->video_received : &w->audio_received);
            m->rtp[i][e] = now;
        }
        if (w) {
            w->recovered += grew(src->recovered, m->recovered[i]);
            w->gave_up += grew(src->gave_up, m->gave_up[i]);
        }
        m->recovered[i] = src->recovered;
        m->gave_up[i] = src->gave_up;
    }
    uint64_t b = bytes_in(pub);
    if (w)
        w->bytes += b >= m->bytes ? b - m->bytes : b;
    m->bytes = b;
}

void mr_link_health_reset(struct mr_stream *s, int64_t now_us)
{
    struct mr_link_meter *m = &s->link;
    memset(m, 0, sizeof(*m));
    publish_unknown(s);
    struct mr_peer *pub = s->publisher;
    if (!pub || pub->dead)
        return;
    m->running = true;
    m->since_us = now_us;
    read_counters(m, pub, NULL);
}

void mr_link_health_sample(struct mr_stream *s, int64_t now_us)
{
    struct mr_link_meter *m = &s->link;
    struct mr_peer *pub = s->publisher;
    if (!pub || pub->dead) {
        if (m->running)
            mr_link_health_reset(s, now_us);
        return;
    }
    if (!m->running) {
        mr_link_health_reset(s, now_us);
        return;
    }
    struct mr_link_window w = {.duration_us = now_us - m->since_us, .rtt_us = pub->rtt_us};
    read_counters(m, pub, &w);
    m->since_us = now_us;
    struct mr_link_health h;
    mr_link_health_compute(&w, &h);
    mr_link_shared_write(&s->link_out, &h);
}

void mr_link_health_tick(struct mr_stream *s, int64_t now_us)
{
    struct mr_link_meter *m = &s->link;
    bool publishing = s->publisher && !s->publisher->dead;
    if (m->running != publishing || now_us - m->since_us >= MR_LINK_WINDOW_US - MR_LINK_SLACK_US)
        mr_link_health_sample(s, now_us);
}
