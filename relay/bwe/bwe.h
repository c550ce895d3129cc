/*
 * Send-side bandwidth estimation for one viewer's downlink: how many bits a
 * second the relay can send a viewer before its link queues or drops.
 *
 * Why: the relay forwards each viewer the simulcast layer its link carries.
 * A viewer's own Chromium could estimate that (REMB), but the relay knows
 * what it sent and when; with transport-wide feedback (rtcp/twcc.h) the
 * viewer only reports arrivals and the relay runs the estimator, so a
 * probe burst or a layer switch is judged by the party that made it.
 *
 * The method is Google Congestion Control's send side
 * (draft-ietf-rmcat-gcc-02, as libwebrtc ships it), one concern a file:
 *  - history.c: the packets sent, by transport-wide sequence number, so a
 *    feedback's statuses find their send time and size, each counted once;
 *  - group.c, trendline.c: packets sent within 5 ms form a group; the
 *    growth of the queueing delay between groups, as the least-squares
 *    slope of the smoothed accumulated delay over the last 20 groups,
 *    against an adaptive threshold, says overuse, normal or underuse;
 *  - rate.c, acked.c: AIMD on that signal, never above what the viewer was
 *    seen to receive (acked.c) times 1.5; loss.c cuts on heavy loss;
 *  - probe.c: a cluster of packets sent faster than the estimate measures
 *    the link at once, so a viewer held on a low layer can climb in seconds
 *    rather than at 8 % a second.
 * bwe.c feeds them.
 *
 * Storage: struct mr_bwe holds everything by value (about 18 KB, most of
 * it the history); the caller allocates it once per viewer and calls
 * mr_bwe_init. Nothing is allocated, locked, logged or read from a clock
 * afterwards; nothing to free.
 *
 * Thread: one, the viewer's worker; the struct is not shared.
 *
 * Clocks: send_us and now_us are the relay's monotonic microseconds
 * (mr_clock_mono_us); arrival_us is the viewer's clock as a parsed feedback
 * gives it (struct mr_twcc_status), of which only differences matter. A
 * jump of the viewer's clock by more than 3 s against the send times (its
 * 24-bit reference time wrapped, or a restart) restarts the delay and
 * receive-rate measurements rather than producing rates from it.
 *
 * Fields of the structs below are private: read them through the getters.
 */
#ifndef MR_BWE_BWE_H
#define MR_BWE_BWE_H

#include <stdbool.h>
#include <stdint.h>

/* Sent packets remembered, a power of two: a second at 1000 packets a
 * second (10 Mbit/s), four of Chromium's longest feedback intervals
 * (250 ms). A status for an older packet is ignored. */
#define MR_BWE_HISTORY 1024
/* Groups the trendline fits its slope over (libwebrtc's window). */
#define MR_BWE_TREND_WINDOW 20
/* The receive rate is measured over the last MR_BWE_ACKED_BUCKETS buckets
 * of 50 ms of the viewer's clock: half a second. */
#define MR_BWE_ACKED_BUCKETS 10
/* Probe clusters followed at once: a new one replaces the oldest. */
#define MR_BWE_PROBE_CLUSTERS 4

struct mr_bwe_config {
    uint32_t start_bps; /* clamped into [min_bps, max_bps] */
    uint32_t min_bps;
    uint32_t max_bps; /* raised to min_bps if below it */
};

enum mr_bwe_usage {
    MR_BWE_NORMAL,
    MR_BWE_OVERUSE,  /* the viewer's queue is growing */
    MR_BWE_UNDERUSE, /* it is draining */
};

/* A sent packet (history.c), 16 bytes: the history is walked by every
 * packet the viewer is sent, so it is kept small. seq is the unwrapped
 * number's low 32 bits; 0 marks an empty slot. send_lo is the send time's
 * low 32 bits (µs): mr_bwe_history_send_us gives it whole. */
struct mr_bwe_sent {
    uint32_t seq;
    uint32_t send_lo;
    uint16_t size;
    uint16_t probe;
    uint8_t state; /* enum in bwe_priv.h */
};

struct mr_bwe_history {
    struct mr_bwe_sent slot[MR_BWE_HISTORY];
    int64_t high;    /* highest unwrapped seq sent */
    int64_t last_us; /* the latest send time */
    bool started;
};

/* A group of packets sent within 5 ms (group.c). */
struct mr_bwe_group {
    int64_t first_send_us, last_send_us;
    int64_t first_arrival_us, last_arrival_us;
    bool valid;
};

struct mr_bwe_groups {
    struct mr_bwe_group cur, prev;
    unsigned reordered; /* consecutive groups that arrived before the previous */
};

/* The trendline overuse detector (trendline.c); times in ms, as doubles. */
struct mr_bwe_trend {
    double x_ms[MR_BWE_TREND_WINDOW]; /* arrival since first_arrival_us */
    double y_ms[MR_BWE_TREND_WINDOW]; /* smoothed accumulated delay */
    unsigned n_points, next;
    unsigned n_deltas;
    int64_t first_arrival_us;
    double acc_ms, smoothed_ms;
    double trend, prev_trend;
    double threshold;
    double over_ms; /* time over the threshold; < 0: not over */
    unsigned over_count;
    int64_t threshold_us; /* the threshold's last update, arrival clock */
    bool threshold_started;
    enum mr_bwe_usage usage;
};

/* Bytes received by arrival time (acked.c). */
struct mr_bwe_acked {
    uint32_t bytes[MR_BWE_ACKED_BUCKETS];
    int64_t head;      /* the latest bucket's index (arrival / 50 ms) */
    int64_t start_us;  /* arrivals are counted from here */
    int64_t latest_us; /* the latest arrival */
    bool started;
};

/* AIMD (rate.c). The link capacity is the receive rate at past overuses,
 * in kbit/s, with its variance normalised by it (libwebrtc's). */
struct mr_bwe_rate {
    double bps, min_bps, max_bps;
    double cap_kbps, cap_var;
    int64_t last_change_us, last_response_us;
    uint8_t state;
    bool has_cap, responded;
};

/* Loss-based limit (loss.c); limit_bps 0: none. */
struct mr_bwe_loss {
    double smoothed;
    double limit_bps;
    int64_t last_cut_us, last_update_us;
    bool cut_ever, updated;
};

/* A probe cluster (probe.c): when its first and latest packets were
 * sent, and the send and arrival extremes of its received packets. */
struct mr_bwe_cluster {
    int64_t started_us, latest_sent_us;
    int64_t first_send_us, last_send_us;
    int64_t first_arrival_us, last_arrival_us;
    uint32_t bytes, result_bps;
    uint16_t id, sent, received;
    uint16_t last_send_size, first_arrival_size;
    bool overuse, fresh;
};

struct mr_bwe_probes {
    struct mr_bwe_cluster c[MR_BWE_PROBE_CLUSTERS];
};

struct mr_bwe {
    struct mr_bwe_config cfg;
    int64_t rtt_us;
    uint32_t estimate, acked_bps;
    int64_t last_decrease_us;
    /* The feedback being read: first reports, losses among them,
     * packets reported lost before and received now, and all received. */
    unsigned fb_reported, fb_lost, fb_recovered, fb_received;
    bool fb_overuse;
    struct mr_bwe_history history;
    struct mr_bwe_groups groups;
    struct mr_bwe_trend trend;
    struct mr_bwe_acked acked;
    struct mr_bwe_rate rate;
    struct mr_bwe_loss loss;
    struct mr_bwe_probes probes;
};

/* Starts an estimator at cfg->start_bps; cfg is copied. */
void mr_bwe_init(struct mr_bwe *b, const struct mr_bwe_config *cfg, int64_t now_us);

/*
 * A packet left for the viewer: its transport-wide sequence number, its
 * size on the wire in bytes, when, and the id of the probe cluster it
 * belongs to (0: none). Sequence numbers are expected in sending order and
 * may wrap; retransmissions and padding count like media, as the viewer's
 * link carries them. Packets of one probe cluster share an id and are sent
 * back to back, paced above the estimate: at least 5, over up to 2 s (a
 * longer one is measured over its start). The caller chooses the ids; one
 * used again after 1 s without a packet starts a new cluster.
 */
void mr_bwe_on_sent(struct mr_bwe *b, uint16_t tseq, uint16_t size, int64_t send_us,
                    uint16_t probe);

/*
 * One transport-cc feedback: begin, every status in sequence order
 * (mr_twcc_next's), then end, which updates the estimate. A status for a
 * sequence number not sent, or older than MR_BWE_HISTORY packets, is
 * ignored. A packet is counted once: reported again, it is ignored, but a
 * packet reported lost and later received counts as received (and no
 * longer as lost). A feedback that reports nothing new changes nothing: a
 * sender with nothing to send earns no increase. A status's arrival_us is
 * ignored when received is false.
 */
void mr_bwe_feedback_begin(struct mr_bwe *b, int64_t now_us);
void mr_bwe_feedback_status(struct mr_bwe *b, uint16_t tseq, bool received, int64_t arrival_us);
void mr_bwe_feedback_end(struct mr_bwe *b, int64_t now_us);

/* The round trip when known (RTCP receiver reports); 200 ms until then, and
 * a value <= 0 is ignored. The rate controller responds to overuse at most
 * once per rtt + 100 ms, and near the link's capacity adds about a packet
 * per rtt + 100 ms. */
void mr_bwe_set_rtt(struct mr_bwe *b, int64_t rtt_us);

/* The estimate, bits/s, within [min_bps, max_bps]. */
uint32_t mr_bwe_estimate(const struct mr_bwe *b);
/* What the viewer received over the last half second of its clock that
 * feedback reported, bits/s; 0 while unknown (less than 250 ms of
 * arrivals since the start or since a gap of half a second). */
uint32_t mr_bwe_acked_bps(const struct mr_bwe *b);
/* The delay detector's latest verdict; it stands until a later group says
 * otherwise. */
enum mr_bwe_usage mr_bwe_usage(const struct mr_bwe *b);
/* When (now_us of mr_bwe_feedback_end) the estimate was last lowered, by
 * delay or by loss; 0: never. */
int64_t mr_bwe_last_decrease_us(const struct mr_bwe *b);
/* Loss among reported packets, smoothed over about 50 packets, in 1/1000. */
uint32_t mr_bwe_loss_permille(const struct mr_bwe *b);
/* The rate cluster probe measured, bits/s; 0 while not measured (fewer
 * than 5, or 80 %, of its packets received) or no longer remembered. */
uint32_t mr_bwe_probe_result(const struct mr_bwe *b, uint16_t probe);

#endif
