/*
 * Shared by the C integration tests: the check macros of tests/unit/mr_test.h
 * plus EXPECT (a check with a message that says which peer and track), and
 * the delivery checks every media test makes on a subscriber's track.
 */
#ifndef MR_ITEST_H
#define MR_ITEST_H

#include <stdio.h>

#include "client.h"
#include "core/clock.h"
#include "core/error.h"
#include "mr_test.h"
#include "peer.h"
#include "server.h"

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        mr_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s -- ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            mr_test_failures++;                                                                    \
        }                                                                                          \
    } while (0)

static inline const char *itest_kind(enum mr_media_kind k)
{
    return k == MR_MEDIA_AUDIO ? "audio" : "video";
}

/*
 * What the relay delivered on one track, against what the publisher sent on
 * the matching track (`sent`): from the first packet on (video: from the
 * first key frame, where the relay starts a viewer), every packet, in order,
 * once, up to the publisher's last; contiguous RTP sequence numbers,
 * timestamps that never go back, one SSRC (the answer's), the negotiated
 * payload type and mid, no probe lost.
 */
static inline void itest_check_delivery(const char *who, const struct mr_test_track_stats *r,
                                        const struct mr_test_track_stats *sent)
{
    const char *k = itest_kind(r->kind);
    EXPECT(r->packets > 0, "%s %s: nothing received", who, k);
    EXPECT(r->cur_source == sent->source,
           "%s %s: probes from source %08x, not the publisher's %08x", who, k, r->cur_source,
           sent->source);
    EXPECT(r->last_counter + 1 == sent->sent_packets,
           "%s %s: last packet received is #%u, the publisher sent %llu", who, k, r->last_counter,
           (unsigned long long)sent->sent_packets);
    EXPECT(r->source_packets == sent->sent_packets - r->source_first_counter,
           "%s %s: %llu packets from #%u on, the publisher sent %llu", who, k,
           (unsigned long long)r->source_packets, r->source_first_counter,
           (unsigned long long)sent->sent_packets);
    EXPECT(r->lost == 0 && r->duplicates == 0 && r->reordered == 0,
           "%s %s: lost %llu, duplicates %llu, reordered %llu", who, k, (unsigned long long)r->lost,
           (unsigned long long)r->duplicates, (unsigned long long)r->reordered);
    EXPECT(r->seq_jumps == 0 && r->ts_backwards == 0,
           "%s %s: %llu sequence jumps, %llu timestamps going back", who, k,
           (unsigned long long)r->seq_jumps, (unsigned long long)r->ts_backwards);
    EXPECT(r->rx_ssrcs == 1 && r->rx_ssrc == r->remote_ssrc,
           "%s %s: %u SSRC(s), first %u, answer's %u", who, k, r->rx_ssrcs, r->rx_ssrc,
           r->remote_ssrc);
    EXPECT(r->pt_mismatch == 0 && r->rx_pt == r->pt, "%s %s: payload type %u, negotiated %u", who,
           k, r->rx_pt, r->pt);
    EXPECT(r->mid_mismatch == 0 && r->probe_missing == 0,
           "%s %s: %llu without our mid, %llu "
           "without a probe",
           who, k, (unsigned long long)r->mid_mismatch, (unsigned long long)r->probe_missing);
    if (r->kind == MR_MEDIA_VIDEO)
        EXPECT(r->keyframes >= 1 && r->before_keyframe == 0,
               "%s video: %llu key frames, %llu packets before the first", who,
               (unsigned long long)r->keyframes, (unsigned long long)r->before_keyframe);
}

/* The publisher's track of the same kind. */
static inline const struct mr_test_track_stats *itest_sent_track(const struct mr_test_peer_stats *p,
                                                                 enum mr_media_kind kind)
{
    for (unsigned i = 0; i < p->n_tracks; i++)
        if (p->tracks[i].kind == kind)
            return &p->tracks[i];
    return NULL;
}

/* Runs ctx for ms milliseconds. */
static inline void itest_run(GMainContext *ctx, int ms)
{
    mr_test_loop_until(ctx, NULL, NULL, ms);
}

static inline void itest_print_udp(const char *what, const struct mr_test_udp_counters *a,
                                   const struct mr_test_udp_counters *b)
{
    printf("# kernel UDP %s: in %llu, out %llu, RcvbufErrors +%llu, SndbufErrors +%llu, "
           "InErrors +%llu\n",
           what, (unsigned long long)(b->in_datagrams - a->in_datagrams),
           (unsigned long long)(b->out_datagrams - a->out_datagrams),
           (unsigned long long)(b->rcvbuf_errors - a->rcvbuf_errors),
           (unsigned long long)(b->sndbuf_errors - a->sndbuf_errors),
           (unsigned long long)(b->in_errors - a->in_errors));
}

/* Stops the server and checks it stopped cleanly. */
static inline void itest_stop_server(struct mr_test_server *srv)
{
    char why[512];
    printf("# server log: %s\n", srv->log_path);
    int rc = mr_test_server_stop(srv, 10000, why, sizeof(why));
    EXPECT(rc == 0, "server: %s", why);
    if (rc != 0)
        mr_test_server_print_tail(srv, 40);
}

#endif
