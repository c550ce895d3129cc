/*
 * Fuzz target for relay/rtcp: compound iteration, every per-type parser,
 * the writers fed with parsed or input-drawn values (their output must
 * parse back to the same values; abort() marks a broken property), and the
 * receive statistics driven by a packet stream drawn from the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp/rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void same_block(const struct mr_rtcp_report_block *a, const struct mr_rtcp_report_block *b)
{
    check(a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost);
    check(a->cumulative_lost == b->cumulative_lost && a->ext_highest_seq == b->ext_highest_seq);
    check(a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr);
}

static void sr_round_trip(const struct mr_rtcp_sr *sr)
{
    uint8_t out[1024];
    int n = mr_rtcp_write_sr(out, sizeof(out), sr);
    check(n == (int)(28 + 24 * sr->n_reports));
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_sr back;
    mr_rtcp_iter_init(&it, out, (size_t)n);
    check(mr_rtcp_next(&it, &p) == 1);
    check(mr_rtcp_parse_sr(&p, &back) == 0);
    check(back.ssrc == sr->ssrc && back.ntp == sr->ntp && back.rtp_ts == sr->rtp_ts);
    check(back.packet_count == sr->packet_count && back.octet_count == sr->octet_count);
    check(back.n_reports == sr->n_reports);
    for (unsigned i = 0; i < sr->n_reports; i++)
        same_block(&back.reports[i], &sr->reports[i]);
    check(mr_rtcp_next(&it, &p) == 0);
}

static void rr_round_trip(const struct mr_rtcp_rr *rr)
{
    uint8_t out[1024];
    int n = mr_rtcp_write_rr(out, sizeof(out), rr);
    check(n == (int)(8 + 24 * rr->n_reports));
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_rr back;
    mr_rtcp_iter_init(&it, out, (size_t)n);
    check(mr_rtcp_next(&it, &p) == 1);
    check(mr_rtcp_parse_rr(&p, &back) == 0);
    check(back.ssrc == rr->ssrc && back.n_reports == rr->n_reports);
    for (unsigned i = 0; i < rr->n_reports; i++)
        same_block(&back.reports[i], &rr->reports[i]);
}

static void parse_compound(const uint8_t *data, size_t size)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, data, size);
    int rc;
    while ((rc = mr_rtcp_next(&it, &p)) == 1) {
        check(p.data >= data && p.len >= 4 && p.len % 4 == 0);
        check((size_t)(p.data - data) + p.len <= size);
        struct mr_rtcp_sr sr;
        struct mr_rtcp_rr rr;
        struct mr_rtcp_fb fb;
        if (mr_rtcp_parse_sr(&p, &sr) == 0) {
            check(sr.n_reports <= MR_RTCP_MAX_REPORTS);
            sr_round_trip(&sr);
        }
        if (mr_rtcp_parse_rr(&p, &rr) == 0) {
            check(rr.n_reports <= MR_RTCP_MAX_REPORTS);
            rr_round_trip(&rr);
        }
        if (mr_rtcp_parse_fb(&p, &fb) == 0) {
            check(fb.fci >= p.data + 12 && fb.fci + fb.fci_len <= p.data + p.len);
            int n = mr_rtcp_fir_count(&fb);
            for (int i = 0; i < n; i++) {
                uint32_t ssrc;
                uint8_t seq;
                check(mr_rtcp_fir_entry(&fb, (unsigned)i, &ssrc, &seq) == 0);
            }
            if (n >= 0)
                check(mr_rtcp_fir_entry(&fb, (unsigned)n, NULL, NULL) < 0);
        }
    }
    check(rc <= 0);
}

static void writers(const uint8_t *data, size_t size)
{
    if (size < 9)
        return;
    uint8_t out[300];
    uint32_t a = rd32(data), b = rd32(data + 4);
    size_t cap = data[8] % 32; /* sometimes too small */
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    struct mr_rtcp_fb fb;

    int n = mr_rtcp_write_pli(out, cap, a, b);
    if (n > 0) {
        mr_rtcp_iter_init(&it, out, (size_t)n);
        check(mr_rtcp_next(&it, &p) == 1 && mr_rtcp_parse_fb(&p, &fb) == 0);
        check(fb.fmt == MR_RTCP_PSFB_PLI && fb.sender_ssrc == a && fb.media_ssrc == b);
    }
    n = mr_rtcp_write_fir(out, cap, a, b, data[8]);
    if (n > 0) {
        uint32_t ssrc;
        uint8_t seq;
        mr_rtcp_iter_init(&it, out, (size_t)n);
        check(mr_rtcp_next(&it, &p) == 1 && mr_rtcp_parse_fb(&p, &fb) == 0);
        check(mr_rtcp_fir_count(&fb) == 1);
        check(mr_rtcp_fir_entry(&fb, 0, &ssrc, &seq) == 0 && ssrc == b && seq == data[8]);
    }

    /* The CNAME is the rest of the input up to its first NUL. */
    char cname[300];
    size_t clen = size - 9 < sizeof(cname) - 1 ? size - 9 : sizeof(cname) - 1;
    memcpy(cname, data + 9, clen);
    cname[clen] = '\0';
    n = mr_rtcp_write_sdes_cname(out, data[8] & 1 ? sizeof(out) : cap * 10, a, cname);
    if (n > 0) {
        size_t len = strlen(cname);
        check(n % 4 == 0 && out[9] == len && memcmp(out + 10, cname, len) == 0);
        check(out[n - 1] == 0);
        mr_rtcp_iter_init(&it, out, (size_t)n);
        check(mr_rtcp_next(&it, &p) == 1 && p.type == MR_RTCP_SDES);
        check(mr_rtcp_next(&it, &p) == 0);
    }
}

/* The input as a stream of 8-byte records: seq, timestamp, arrival step,
 * and an opcode choosing between packet, SR and report. */
static void rx_stats(const uint8_t *data, size_t size)
{
    if (size < 4)
        return;
    struct mr_rtp_rx_stats s;
    uint32_t rates[] = {0, 8000, 48000, 90000, rd32(data)};
    mr_rtp_rx_stats_init(&s, rates[data[0] % 5]);
    int64_t now = (int64_t)rd32(data) * (data[1] & 1 ? -1 : 1);
    for (size_t i = 4; i + 8 <= size; i += 8) {
        const uint8_t *r = data + i;
        uint16_t seq = (uint16_t)(r[0] << 8 | r[1]);
        uint32_t ts = rd32(r + 2);
        int64_t step = (int64_t)(int8_t)r[6] * 1000;
        /* Wrapping add: the clock may sit at an extreme after case 2. */
        now = (int64_t)((uint64_t)now + (uint64_t)step);
        switch (r[7] % 8) {
        case 0: {
            struct mr_rtcp_report_block rb;
            mr_rtp_rx_stats_report(&s, ts, now, &rb);
            check(rb.cumulative_lost >= -0x800000 && rb.cumulative_lost <= 0x7fffff);
            uint8_t out[64];
            struct mr_rtcp_rr rr = {.ssrc = 1, .n_reports = 1, .reports = {rb}};
            check(mr_rtcp_write_rr(out, sizeof(out), &rr) == 32);
            break;
        }
        case 1:
            mr_rtp_rx_stats_on_sr(&s, (uint64_t)ts << 32 | seq, now);
            break;
        case 2:
            /* Extreme clock values. */
            now = r[6] & 1 ? INT64_MAX - (int64_t)ts : INT64_MIN + (int64_t)ts;
            (void)mr_rtp_rx_stats_update(&s, seq, ts, now);
            break;
        default:
            (void)mr_rtp_rx_stats_update(&s, seq, ts, now);
            break;
        }
    }
    struct mr_rtcp_report_block rb;
    mr_rtp_rx_stats_report(&s, 0, now, &rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_compound(data, size);
    writers(data, size);
    rx_stats(data, size);
    return 0;
}
