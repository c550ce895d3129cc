/*
 * RTCP (RFC 3550 §6, RFC 4585, RFC 5104): iteration over compound packets,
 * parsers for the packets the relay reads, writers for those it sends.
 *
 * Pure functions on caller-owned buffers: no allocation, no I/O, no clock.
 * Writers return the number of bytes written or MR_ENOSPC.
 */
#ifndef MR_RTCP_RTCP_H
#define MR_RTCP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mr_rtcp_type {
    MR_RTCP_SR = 200,
    MR_RTCP_RR = 201,
    MR_RTCP_SDES = 202,
    MR_RTCP_BYE = 203,
    MR_RTCP_APP = 204,
    MR_RTCP_RTPFB = 205, /* RFC 4585 transport-layer feedback */
    MR_RTCP_PSFB = 206,  /* RFC 4585 payload-specific feedback */
    MR_RTCP_XR = 207,
};

/* Feedback message types (FMT field). */
enum {
    MR_RTCP_RTPFB_NACK = 1,  /* RFC 4585 §6.2.1 */
    MR_RTCP_RTPFB_TWCC = 15, /* draft-holmer-rmcat-transport-wide-cc */
    MR_RTCP_PSFB_PLI = 1,    /* RFC 4585 §6.3.1 */
    MR_RTCP_PSFB_FIR = 4,    /* RFC 5104 §4.3.1 */
    MR_RTCP_PSFB_AFB = 15,   /* application layer feedback (REMB) */
};

/*
 * One packet of a compound RTCP packet (RFC 3550 §6.4.1 common header):
 *  0                   1                   2                   3
 * |V=2|P|    RC   |   PT=SR=200   |             length            |
 */
struct mr_rtcp_pkt {
    uint8_t type;         /* PT */
    uint8_t count;        /* RC / SC / FMT (5 bits) */
    bool padding;
    const uint8_t *data;  /* start of this packet (its common header) */
    size_t len;           /* (length + 1) * 4 */
};

struct mr_rtcp_iter {
    const uint8_t *buf;
    size_t len;
    size_t off;
};

void mr_rtcp_iter_init(struct mr_rtcp_iter *it, const uint8_t *buf, size_t len);

/*
 * Yields the next packet of a compound packet. Returns 1 with *pkt set, 0 at
 * the end, or MR_EPARSE (version not 2, length past the buffer, buffer not a
 * multiple of 4) or MR_ETRUNC (fewer than 4 bytes left).
 */
int mr_rtcp_next(struct mr_rtcp_iter *it, struct mr_rtcp_pkt *pkt);

/* A reception report block (RFC 3550 §6.4.1). */
struct mr_rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* signed 24-bit */
    uint32_t ext_highest_seq;
    uint32_t jitter;
    uint32_t lsr;
    uint32_t dlsr;
};

#define MR_RTCP_MAX_REPORTS 31

/* Sender report (RFC 3550 §6.4.1). */
struct mr_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;      /* 64-bit NTP timestamp */
    uint32_t rtp_ts;
    uint32_t packet_count;
    uint32_t octet_count;
    unsigned n_reports;
    struct mr_rtcp_report_block reports[MR_RTCP_MAX_REPORTS];
};

/* Receiver report (RFC 3550 §6.4.2). */
struct mr_rtcp_rr {
    uint32_t ssrc;
    unsigned n_reports;
    struct mr_rtcp_report_block reports[MR_RTCP_MAX_REPORTS];
};

int mr_rtcp_parse_sr(const struct mr_rtcp_pkt *pkt, struct mr_rtcp_sr *out);
int mr_rtcp_parse_rr(const struct mr_rtcp_pkt *pkt, struct mr_rtcp_rr *out);

/*
 * Generic feedback header (RFC 4585 §6.1), for PT 205 and 206:
 * |V=2|P|   FMT   |       PT      |          length               |
 * |                  SSRC of packet sender                        |
 * |                  SSRC of media source                         |
 * :            Feedback Control Information (FCI)                 :
 */
struct mr_rtcp_fb {
    uint8_t type; /* 205 or 206 */
    uint8_t fmt;
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci;
    size_t fci_len;
};

int mr_rtcp_parse_fb(const struct mr_rtcp_pkt *pkt, struct mr_rtcp_fb *out);

/*
 * FIR entries (RFC 5104 §4.3.1.1): 8 bytes each, SSRC then a command
 * sequence number. Returns the number of entries, or MR_EPARSE.
 */
int mr_rtcp_fir_count(const struct mr_rtcp_fb *fb);
int mr_rtcp_fir_entry(const struct mr_rtcp_fb *fb, unsigned i, uint32_t *ssrc, uint8_t *seq_nr);

/* Writers. Each writes one packet into out (which may be in the middle of a
 * compound packet being built) and returns its length, or MR_ENOSPC. */
int mr_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
int mr_rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seq_nr);
/* Uses sr->n_reports blocks from sr->reports. */
int mr_rtcp_write_sr(uint8_t *out, size_t cap, const struct mr_rtcp_sr *sr);
int mr_rtcp_write_rr(uint8_t *out, size_t cap, const struct mr_rtcp_rr *rr);
/* An SDES packet with one chunk holding a CNAME item (RFC 3550 §6.5.1);
 * cname is at most 255 bytes. */
int mr_rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname);

/*
 * Reception statistics for one incoming source, as RFC 3550 Appendix A.1,
 * A.3 and A.8 describe them, to fill report blocks for the sender.
 */
struct mr_rtp_rx_stats {
    bool started;
    uint16_t max_seq;
    uint32_t cycles;  /* shifted count of sequence number cycles */
    uint32_t base_seq;
    uint32_t bad_seq;
    uint32_t probation;
    uint32_t received;
    uint32_t expected_prior;
    uint32_t received_prior;
    uint32_t clock_rate;
    int64_t transit;  /* previous relative transit time, in clock units */
    uint32_t jitter;  /* scaled by 16, as A.8 does */
    uint32_t last_sr; /* middle 32 bits of the last SR's NTP timestamp */
    int64_t last_sr_arrival_us;
};

void mr_rtp_rx_stats_init(struct mr_rtp_rx_stats *s, uint32_t clock_rate);

/*
 * Accounts one received packet. arrival_us is the receiver's monotonic clock.
 * Returns false when the packet should be treated as invalid by the A.1
 * probation rules (a big jump not yet confirmed).
 */
bool mr_rtp_rx_stats_update(struct mr_rtp_rx_stats *s, uint16_t seq, uint32_t rtp_ts,
                            int64_t arrival_us);

/* Remembers an SR from this source for LSR/DLSR (RFC 3550 §6.4.1). */
void mr_rtp_rx_stats_on_sr(struct mr_rtp_rx_stats *s, uint64_t ntp, int64_t arrival_us);

/* Fills a report block for the interval since the previous call. */
void mr_rtp_rx_stats_report(struct mr_rtp_rx_stats *s, uint32_t ssrc, int64_t now_us,
                            struct mr_rtcp_report_block *out);

/* --- Loss repair (rtcp_repair.c) ------------------------------------------ */

/* Generic NACK (RFC 4585 §6.2.1): the number of PID/BLP entries of a
 * transport-layer feedback message with FMT=1, or MR_EPARSE / MR_EINVAL. */
int mr_rtcp_nack_count(const struct mr_rtcp_fb *fb);
/* The sequence numbers entry i names (its PID and the BLP bits), into
 * seqs; returns how many (1..17), 0 past the end. */
unsigned mr_rtcp_nack_entry(const struct mr_rtcp_fb *fb, unsigned i, uint16_t seqs[17]);
/* A NACK for seqs[0..n), oldest first, packed into as few entries as
 * their spacing allows. */
int mr_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, unsigned n);
/* An XR packet with a Receiver Reference Time block (RFC 3611 §4.4), for
 * the round trip to a peer the relay sends no media. */
int mr_rtcp_write_xr_rrtr(uint8_t *out, size_t cap, uint32_t ssrc, uint64_t ntp);
/* Finds, in an XR packet, the DLRR sub-block (RFC 3611 §4.5) answering
 * ssrc's reference times. Returns 1 with *lrr and *dlrr, 0 when there is
 * none, MR_EPARSE for a malformed packet. */
int mr_rtcp_xr_find_dlrr(const struct mr_rtcp_pkt *pkt, uint32_t ssrc, uint32_t *lrr,
                         uint32_t *dlrr);
/* The round trip (µs) from an echoed middle-32-bit NTP time and the delay
 * since it (1/65536 s), at now_ntp; -1 when nothing was echoed. */
int64_t mr_rtcp_rtt_us(uint64_t now_ntp, uint32_t echoed, uint32_t delay);

#endif
