/*
 * Receive statistics for one source, following RFC 3550 Appendix A.1
 * (sequence validation), A.3 (expected and lost packets) and A.8
 * (interarrival jitter), to fill the report blocks of our RRs and SRs.
 *
 * The caller passes every time in microseconds of its monotonic clock; no
 * clock is read here.
 */
#include "rtcp/rtcp.h"

#include <string.h>

#define RTP_SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define MIN_SEQUENTIAL 2
#define CUM_LOST_MAX 0x7fffff
#define CUM_LOST_MIN (-0x800000)
#define US_PER_S 1000000

void mr_rtp_rx_stats_init(struct mr_rtp_rx_stats *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->clock_rate = clock_rate;
}

/* RFC 3550 A.1 init_seq(). */
static void init_seq(struct mr_rtp_rx_stats *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
}

/*
 * RFC 3550 A.1 update_seq(), with one correction: the RFC compares
 * "seq == s->max_seq + 1" in int arithmetic, which never holds when max_seq
 * is 65535, so a source whose probation straddles the wrap would be put
 * back on probation. Here the successor is taken modulo 2^16.
 */
static bool update_seq(struct mr_rtp_rx_stats *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);

    if (s->probation) {
        /* The source is not valid until MIN_SEQUENTIAL packets with
         * consecutive numbers have arrived. */
        if (seq == (uint16_t)(s->max_seq + 1)) {
            s->probation--;
            s->max_seq = seq;
            if (s->probation == 0) {
                init_seq(s, seq);
                s->received++;
                return true;
            }
        } else {
            s->probation = MIN_SEQUENTIAL - 1;
            s->max_seq = seq;
        }
        return false;
    } else if (udelta < MAX_DROPOUT) {
        /* In order, with a permissible gap. */
        if (seq < s->max_seq) {
            /* The sequence number wrapped: count another 64K cycle. */
            s->cycles += RTP_SEQ_MOD;
        }
        s->max_seq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
        /* The sequence number made a very large jump. */
        if (seq == s->bad_seq) {
            /* Two sequential packets: assume the other side restarted
             * without telling us, and re-sync as if this were the first. */
            init_seq(s, seq);
        } else {
            s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
            return false;
        }
    } else {
        /* A duplicate or reordered packet: counted, but max_seq stays. */
    }
    s->received++;
    return true;
}

/*
 * The arrival time in units of the source's RTP clock, modulo 2^32 like
 * the RTP timestamp it is compared with. Floor division keeps negative
 * clock values consistent, and unsigned arithmetic wraps instead of
 * overflowing for arbitrarily large ones.
 */
static uint32_t arrival_to_rtp_units(int64_t arrival_us, uint32_t clock_rate)
{
    int64_t sec = arrival_us / US_PER_S;
    int64_t rem = arrival_us % US_PER_S;
    if (rem < 0) {
        rem += US_PER_S;
        sec--;
    }
    uint64_t units = (uint64_t)sec * clock_rate + (uint64_t)rem * clock_rate / US_PER_S;
    return (uint32_t)units;
}

/*
 * RFC 3550 A.8: with transit = arrival - timestamp (both in RTP units),
 *   D = transit - previous transit
 *   J += (|D| - J) / 16
 * kept as 16*J in integers: J16 += |D| - ((J16 + 8) >> 4).
 * The transit difference is taken modulo 2^32 and read as signed, since
 * both the RTP timestamp and our conversion of the clock wrap.
 */
static void update_jitter(struct mr_rtp_rx_stats *s, uint32_t rtp_ts, int64_t arrival_us)
{
    uint32_t transit = arrival_to_rtp_units(arrival_us, s->clock_rate) - rtp_ts;
    if (s->received == 1) {
        /* First accepted packet since (re)synchronisation: no previous
         * transit to compare with, and the source may have changed its
         * timestamp base. */
        s->transit = transit;
        return;
    }
    uint32_t diff = transit - (uint32_t)s->transit;
    s->transit = transit;
    int64_t d = diff < 0x80000000u ? (int64_t)diff : (int64_t)(UINT32_C(0xffffffff) - diff) + 1;

    int64_t j = (int64_t)s->jitter + d - (((int64_t)s->jitter + 8) >> 4);
    if (j < 0)
        j = 0;
    else if (j > UINT32_MAX)
        j = UINT32_MAX;
    s->jitter = (uint32_t)j;
}

bool mr_rtp_rx_stats_update(struct mr_rtp_rx_stats *s, uint16_t seq, uint32_t rtp_ts,
                            int64_t arrival_us)
{
    if (!s->started) {
        /* RFC 3550 A.1: a new source starts on probation. */
        init_seq(s, seq);
        s->max_seq = (uint16_t)(seq - 1);
        s->probation = MIN_SEQUENTIAL;
        s->started = true;
    }
    if (!update_seq(s, seq))
        return false;
    if (s->clock_rate > 0)
        update_jitter(s, rtp_ts, arrival_us);
    return true;
}

/* LSR (RFC 3550 §6.4.1): "the middle 32 bits out of 64 in the NTP
 * timestamp received as part of the most recent RTCP sender report". */
void mr_rtp_rx_stats_on_sr(struct mr_rtp_rx_stats *s, uint64_t ntp, int64_t arrival_us)
{
    s->last_sr = (uint32_t)(ntp >> 16);
    s->last_sr_arrival_us = arrival_us;
}

/* DLSR: the delay since the SR arrived, in units of 1/65536 second,
 * saturating rather than wrapping if the SR is more than 18 hours old. */
static uint32_t dlsr_units(int64_t now_us, int64_t arrival_us)
{
    if (now_us <= arrival_us)
        return 0;
    uint64_t delta = (uint64_t)now_us - (uint64_t)arrival_us;
    uint64_t sec = delta / US_PER_S;
    if (sec >= 65536)
        return UINT32_MAX;
    return (uint32_t)(sec * 65536 + (delta % US_PER_S) * 65536 / US_PER_S);
}

/*
 * RFC 3550 A.3:
 *   extended_max = cycles + max_seq
 *   expected     = extended_max - base_seq + 1
 *   lost         = expected - received          (clamped to 24 signed bits)
 *   fraction     = (lost_interval << 8) / expected_interval
 * with the intervals measured since the previous report.
 */
void mr_rtp_rx_stats_report(struct mr_rtp_rx_stats *s, uint32_t ssrc, int64_t now_us,
                            struct mr_rtcp_report_block *out)
{
    *out = (struct mr_rtcp_report_block){.ssrc = ssrc};

    /* Until probation ends, base_seq and max_seq describe candidates, not
     * a validated source: report nothing about loss. */
    if (s->started && s->probation == 0) {
        uint32_t extended_max = s->cycles + s->max_seq;
        uint32_t expected = extended_max - s->base_seq + 1;
        int64_t lost = (int64_t)expected - s->received;
        if (lost > CUM_LOST_MAX)
            lost = CUM_LOST_MAX;
        else if (lost < CUM_LOST_MIN)
            lost = CUM_LOST_MIN;

        int64_t expected_interval = (int64_t)expected - s->expected_prior;
        s->expected_prior = expected;
        int64_t received_interval = (int64_t)s->received - s->received_prior;
        s->received_prior = s->received;
        int64_t lost_interval = expected_interval - received_interval;
        int64_t fraction = 0;
        if (expected_interval > 0 && lost_interval > 0)
            fraction = (lost_interval << 8) / expected_interval;

        out->fraction_lost = (uint8_t)(fraction > 255 ? 255 : fraction);
        out->cumulative_lost = (int32_t)lost;
        out->ext_highest_seq = extended_max;
        out->jitter = s->jitter >> 4;
    }

    /* No SR yet: LSR and DLSR are zero (§6.4.1), which also tells the
     * sender not to compute a round-trip time from this block. */
    if (s->last_sr != 0) {
        out->lsr = s->last_sr;
        out->dlsr = dlsr_units(now_us, s->last_sr_arrival_us);
    }
}
