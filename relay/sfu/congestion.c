/*
 * Congestion feedback to publishers: the relay tells a clinic's encoder
 * what its uplink carries by reporting, every FEEDBACK_MS, when each of
 * its packets arrived (transport-wide congestion control, rtcp/twcc.h).
 * The publisher's own bandwidth estimator (Chromium's GCC, delay- and
 * loss-based) then sizes its encoders; the relay estimates nothing. Why
 * that rather than REMB is in twcc.h.
 *
 * Negotiated with publishers only (the transport-cc feedback and the
 * transport-wide sequence number extension); viewers' own links are
 * issue 17's.
 *
 * Worker thread only. Recording an arrival is a few stores, on the packet
 * path, for every packet of the transport: media, retransmissions and
 * padding probes alike, since the estimator counts them all.
 */
#include <stdlib.h>

#include "core/clock.h"
#include "rtcp/rtcp.h"
#include "rtcp/twcc.h"
#include "sfu/sfu_priv.h"
#include "srtp/srtp.h"

/* libwebrtc's receivers send feedback every 50-250 ms by bitrate; a clinic
 * uplink of 0.3-3 Mbit/s is well served by the short end. */
#define FEEDBACK_MS 50
#define FEEDBACK_BUF (1200 + MR_SRTP_MAX_OVERHEAD)
#define MAX_PER_TICK 4

/* The SSRC feedback names as its media source: the first video's, else
 * any (libwebrtc reads the transport sequence numbers, not this). */
static uint32_t media_ssrc(const struct mr_peer *p)
{
    uint32_t any = 0;
    for (unsigned i = 0; i < p->n_sources; i++) {
        uint32_t ssrc = p->sources[i].enc[0].ssrc;
        if (p->sources[i].kind == MR_MEDIA_VIDEO && ssrc)
            return ssrc;
        any = any ? any : ssrc;
    }
    return any;
}

static gboolean feedback(gpointer data)
{
    struct mr_peer *p = data;
    if (p->dead || !p->transport || mr_transport_state(p->transport) != MR_TRANSPORT_SECURE)
        return G_SOURCE_CONTINUE;
    int64_t now = mr_clock_mono_us();
    uint8_t buf[FEEDBACK_BUF];
    struct mr_rtcp_rr rr = {.ssrc = p->rtcp_ssrc};
    int n = mr_rtcp_write_rr(buf, sizeof(buf), &rr);
    for (unsigned k = 0; n > 0 && k < MAX_PER_TICK; k++) {
        /* A compound packet led by a report (RFC 4585 §3.1), for peers
         * without rtcp-rsize; what did not fit goes in the next. */
        int m = mr_twcc_rx_write_feedback(p->twcc, p->rtcp_ssrc, media_ssrc(p), now, buf + n,
                                          sizeof(buf) - 16 - (size_t)n);
        if (m <= 0)
            break;
        mr_transport_send_rtcp(p->transport, buf, (size_t)(n + m), sizeof(buf));
    }
    return G_SOURCE_CONTINUE;
}

void mr_congestion_setup(struct mr_peer *p)
{
    for (unsigned i = 0; i < p->n_sources && !p->twcc_ext_id; i++)
        if (p->sources[i].codec.fb & MR_FB_TWCC)
            p->twcc_ext_id = p->sources[i].ext.id[MR_RTP_EXT_TRANSPORT_CC];
    if (!p->twcc_ext_id || !(p->twcc = malloc(sizeof(*p->twcc)))) {
        p->twcc_ext_id = 0;
        return;
    }
    mr_twcc_rx_init(p->twcc);
    p->twcc_timer = g_timeout_source_new(FEEDBACK_MS);
    g_source_set_callback(p->twcc_timer, feedback, p, NULL);
    g_source_attach(p->twcc_timer, p->worker->ctx);
}

void mr_congestion_on_packet(struct mr_peer *p, const uint8_t *buf,
                             const struct mr_rtp_ext_list *ext, int64_t now_us)
{
    const struct mr_rtp_ext_elem *e = mr_rtp_ext_find(ext, p->twcc_ext_id);
    uint16_t seq;
    if (e && mr_rtp_ext_transport_seq(buf, e, &seq) == 0)
        mr_twcc_rx_on_packet(p->twcc, seq, now_us);
}

void mr_congestion_free(struct mr_peer *p)
{
    if (p->twcc_timer) {
        g_source_destroy(p->twcc_timer);
        g_source_unref(p->twcc_timer);
        p->twcc_timer = NULL;
    }
    free(p->twcc);
    p->twcc = NULL;
}
