/*
 * The publisher leg's health for the consoles: loss before and after
 * repair, bitrate and round trip, over windows of about 2 s
 * (struct mr_link_health in relay.h says what each figure means).
 *
 * The stream's worker samples the publisher's cumulative counters every
 * window (the receive statistics of each encoding, the sources' recovered
 * and given-up counts, the transport's bytes) and turns the differences
 * into figures; the control thread reads the last figures without a lock
 * (a sequence counter around relaxed atomic stores: the worker never
 * waits, the reader retries while a window is being written).
 *
 * The arithmetic is pure (mr_link_rtp_delta, mr_link_health_compute) so it
 * is tested on its own; the sampling, which reads a stream's publisher,
 * is declared in sfu_priv.h.
 */
#ifndef MR_SFU_LINK_HEALTH_H
#define MR_SFU_LINK_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "rtcp/rtcp.h"
#include "sfu/relay.h"
#include "sfu/track.h"

/* How long a window lasts, and the slack for the 500 ms tick that ends it. */
#define MR_LINK_WINDOW_US 2000000
#define MR_LINK_SLACK_US  100000

/* One encoding's receive statistics at one instant: what its first
 * arrivals add up to since the statistics (re)started. */
struct mr_link_rtp_count {
    bool valid; /* past the RFC 3550 A.1 probation */
    uint32_t ssrc;
    uint32_t base_seq; /* changes when the statistics restart */
    uint32_t expected; /* extended highest sequence number - base + 1 */
    uint32_t received; /* first arrivals (retransmissions are not counted) */
};

/* Reads rx (of the RTP stream ssrc) into *out. */
void mr_link_rtp_count(const struct mr_rtp_rx_stats *rx, uint32_t ssrc,
                       struct mr_link_rtp_count *out);

/* Adds what the stream sent (*expected) and what arrived (*received)
 * between two counts. When the statistics restarted in between (another
 * SSRC, a new base after a sequence jump, fewer packets than before) or
 * were not valid before, everything since the restart is counted. */
void mr_link_rtp_delta(const struct mr_link_rtp_count *before, const struct mr_link_rtp_count *now,
                       uint64_t *expected, uint64_t *received);

/* What one window added up to, over the publisher's sources. */
struct mr_link_window {
    int64_t duration_us;
    uint64_t video_expected, video_received; /* first arrivals */
    uint64_t audio_expected, audio_received;
    uint64_t recovered, gave_up;
    uint64_t bytes; /* all the publisher's transport received */
    int64_t rtt_us; /* 0: unknown */
};

/* The figures of a window. Loss never goes below 0 (duplicates count as
 * arrivals) nor above everything; loss after repair is the loss before it
 * less what retransmissions brought, never below 0 (a packet lost at the
 * end of one window may be recovered in the next). A window of no
 * duration is not known. */
void mr_link_health_compute(const struct mr_link_window *w, struct mr_link_health *out);

/* The worker's state for one stream: the counters at the start of the
 * current window. Worker thread only. */
struct mr_link_meter {
    bool running;     /* a publisher is being measured */
    int64_t since_us; /* the window's start */
    struct mr_link_rtp_count rtp[MR_MAX_TRACKS][MR_MAX_ENCODINGS];
    uint32_t recovered[MR_MAX_TRACKS], gave_up[MR_MAX_TRACKS];
    uint64_t bytes;
};

/* The last window's figures, written by the worker and read by the
 * control thread (atomics only). */
struct mr_link_shared {
    uint32_t seq; /* odd while the worker writes */
    struct mr_link_health h;
};

/* Worker: publishes h. */
void mr_link_shared_write(struct mr_link_shared *sh, const struct mr_link_health *h);
/* Any thread: the last figures published (not known while the worker is
 * writing them after a few tries, which the next poll will not see). */
void mr_link_shared_read(const struct mr_link_shared *sh, struct mr_link_health *out);

#endif
