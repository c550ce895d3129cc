/* GET /metrics: the relay's counters in the Prometheus text format 0.0.4.
 * Labels never carry room, stream or participant names. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/counter.h"
#include "sfu/relay.h"
#include "sfu/sfu_priv.h"
#include "srtp/srtp.h"

static void family(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(GString *out, const char *name, const char *labels, uint64_t value)
{
    g_string_append_printf(out, "%s%s%s%s %llu\n", name, labels ? "{" : "", labels ? labels : "",
                           labels ? "}" : "", (unsigned long long)value);
}

/* Sums one transport counter over every worker. */
#define SUM_TRANSPORT(pool, field) sum_transport(pool, offsetof(struct mr_transport_stats, field))
#define SUM_SFU(pool, field) sum_sfu(pool, offsetof(struct mr_sfu_stats, field))

static uint64_t sum_transport(const struct mr_worker_pool *pool, size_t offset)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < pool->n; i++)
        total += mr_counter_read((const uint64_t *)((const char *)&pool->workers[i].transport +
                                                    offset));
    return total;
}

static uint64_t sum_sfu(const struct mr_worker_pool *pool, size_t offset)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < pool->n; i++)
        total += mr_counter_read((const uint64_t *)((const char *)&pool->workers[i].sfu + offset));
    return total;
}

static void traffic(GString *out, const struct mr_worker_pool *pool)
{
    family(out, "medrelay_packets_received_total", "counter",
           "Decrypted RTP and RTCP packets received from peers.");
    sample(out, "medrelay_packets_received_total", "type=\"rtp\"", SUM_TRANSPORT(pool, rtp_in));
    sample(out, "medrelay_packets_received_total", "type=\"rtcp\"", SUM_TRANSPORT(pool, rtcp_in));
    family(out, "medrelay_received_bytes_total", "counter", "UDP payload bytes received.");
    sample(out, "medrelay_received_bytes_total", NULL, SUM_TRANSPORT(pool, bytes_in));
    family(out, "medrelay_packets_sent_total", "counter", "RTP and RTCP packets sent to peers.");
    sample(out, "medrelay_packets_sent_total", "type=\"rtp\"", SUM_TRANSPORT(pool, rtp_out));
    sample(out, "medrelay_packets_sent_total", "type=\"rtcp\"", SUM_TRANSPORT(pool, rtcp_out));
    family(out, "medrelay_sent_bytes_total", "counter", "UDP payload bytes sent (SRTP included).");
    sample(out, "medrelay_sent_bytes_total", NULL, SUM_TRANSPORT(pool, bytes_out));
    family(out, "medrelay_rtp_forwarded_packets_total", "counter",
           "RTP packets forwarded from publishers to subscribers.");
    sample(out, "medrelay_rtp_forwarded_packets_total", NULL, SUM_SFU(pool, forwarded));
    family(out, "medrelay_srtp_errors_total", "counter",
           "Packets that failed SRTP/SRTCP authentication or replay checks.");
    sample(out, "medrelay_srtp_errors_total", NULL, SUM_TRANSPORT(pool, srtp_errors));
}

static void drops(GString *out, const struct mr_worker_pool *pool)
{
    static const struct {
        const char *cause;
        bool sfu;
        size_t offset;
    } causes[] = {
        {"srtp", false, offsetof(struct mr_transport_stats, srtp_errors)},
        {"not_secure", false, offsetof(struct mr_transport_stats, dropped_early)},
        {"unknown_protocol", false, offsetof(struct mr_transport_stats, unknown_in)},
        {"too_many_ssrcs", false, offsetof(struct mr_transport_stats, dropped_ssrc)},
        {"send_error", false, offsetof(struct mr_transport_stats, send_errors)},
        {"tcp_backlog", false, offsetof(struct mr_transport_stats, tcp_dropped)},
        {"parse", true, offsetof(struct mr_sfu_stats, drop_parse)},
        {"unknown_track", true, offsetof(struct mr_sfu_stats, drop_unknown_track)},
        {"padding", true, offsetof(struct mr_sfu_stats, drop_padding)},
        {"keyframe_wait", true, offsetof(struct mr_sfu_stats, drop_keyframe_wait)},
        {"incompatible", true, offsetof(struct mr_sfu_stats, drop_incompatible)},
        {"layer_wait", true, offsetof(struct mr_sfu_stats, drop_layer_wait)},
        {"record_queue", true, offsetof(struct mr_sfu_stats, drop_record)},
        {"muted", true, offsetof(struct mr_sfu_stats, drop_muted)},
        {"overload", true, offsetof(struct mr_sfu_stats, drop_overload)},
        {"rtx_duplicate", true, offsetof(struct mr_sfu_stats, drop_rtx_duplicate)},
        {"rtx_malformed", true, offsetof(struct mr_sfu_stats, drop_rtx_malformed)},
    };
    family(out, "medrelay_packets_dropped_total", "counter",
           "Packets not delivered, by cause (keyframe_wait, layer_wait and incompatible count "
           "per viewer).");
    for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "cause=\"%s\"", causes[i].cause);
        sample(out, "medrelay_packets_dropped_total", labels,
               causes[i].sfu ? sum_sfu(pool, causes[i].offset)
                             : sum_transport(pool, causes[i].offset));
    }
}

static void keyframes(GString *out, const struct mr_worker_pool *pool)
{
    family(out, "medrelay_layer_switches_total", "counter",
           "Viewers (and recordings) moved from one simulcast layer to another.");
    sample(out, "medrelay_layer_switches_total", NULL, SUM_SFU(pool, layer_switches));
    family(out, "medrelay_layer_bandwidth_moves_total", "counter",
           "Viewers' layer limits lowered (down) or raised (up) for their downlink's estimate.");
    sample(out, "medrelay_layer_bandwidth_moves_total", "direction=\"down\"", SUM_SFU(pool, bw_down));
    sample(out, "medrelay_layer_bandwidth_moves_total", "direction=\"up\"", SUM_SFU(pool, bw_up));
    family(out, "medrelay_downlink_probes_total", "counter",
           "Probes of viewers' downlinks (padding up to what a better layer needs).");
    sample(out, "medrelay_downlink_probes_total", NULL, SUM_SFU(pool, probes));
    family(out, "medrelay_downlink_padding_packets_total", "counter",
           "Padding packets sent to viewers by those probes.");
    sample(out, "medrelay_downlink_padding_packets_total", NULL, SUM_SFU(pool, padding_out));
    family(out, "medrelay_keyframe_requests_received_total", "counter",
           "PLI and FIR messages received from subscribers.");
    sample(out, "medrelay_keyframe_requests_received_total", "type=\"pli\"", SUM_SFU(pool, pli_in));
    sample(out, "medrelay_keyframe_requests_received_total", "type=\"fir\"", SUM_SFU(pool, fir_in));
    family(out, "medrelay_keyframe_requests_sent_total", "counter",
           "Key-frame requests (PLI or FIR) sent to publishers.");
    sample(out, "medrelay_keyframe_requests_sent_total", NULL, SUM_SFU(pool, keyframe_requests));
    family(out, "medrelay_keyframe_requests_coalesced_total", "counter",
           "Key-frame requests merged into one sent less than 300 ms before.");
    sample(out, "medrelay_keyframe_requests_coalesced_total", NULL,
           SUM_SFU(pool, keyframe_coalesced));
}

/* Loss repair: the publishers' legs (NACKs sent, packets recovered or
 * given up) and the viewers' (NACKs received, answered from the history,
 * missed, refused). */
static void repair(GString *out, const struct mr_worker_pool *pool)
{
    static const struct {
        const char *name;
        const char *help;
        size_t offset;
    } fams[] = {
        {"medrelay_nack_packets_received_total", "Packets viewers' NACKs asked the relay for.",
         offsetof(struct mr_sfu_stats, nack_in)},
        {"medrelay_retransmitted_packets_total",
         "Packets the relay resent to viewers from its history.",
         offsetof(struct mr_sfu_stats, rtx_out)},
        {"medrelay_retransmissions_missed_total",
         "Packets viewers asked for that were no longer (or never) in the history.",
         offsetof(struct mr_sfu_stats, rtx_missed)},
        {"medrelay_retransmissions_pending_total",
         "Packets viewers asked for that the relay had lost too and was asking the publisher "
         "for: they go out when they arrive.",
         offsetof(struct mr_sfu_stats, rtx_pending)},
        {"medrelay_retransmissions_limited_total",
         "Viewers' requests refused: over the viewer's rate (a NACK storm) or resent enough.",
         offsetof(struct mr_sfu_stats, rtx_limited)},
        {"medrelay_nack_packets_sent_total", "Packets the relay's NACKs asked publishers for.",
         offsetof(struct mr_sfu_stats, nack_out)},
        {"medrelay_recovered_packets_total",
         "Lost packets recovered from publishers' retransmissions.",
         offsetof(struct mr_sfu_stats, rtx_recovered)},
        {"medrelay_recording_red_recovered_packets_total",
         "Audio packets lost on publishers' links and recorded from the RED redundancy of the "
         "next.",
         offsetof(struct mr_sfu_stats, red_recovered)},
        {"medrelay_nack_giveups_total",
         "Lost packets given up on (a key frame was asked for instead).",
         offsetof(struct mr_sfu_stats, nack_gave_up)},
    };
    for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
        family(out, fams[i].name, "counter", fams[i].help);
        sample(out, fams[i].name, NULL, sum_sfu(pool, fams[i].offset));
    }
}

static double thread_cpu_seconds(const struct mr_worker *w)
{
    struct timespec ts;
    clockid_t clock = __atomic_load_n(&w->cpu_clock, __ATOMIC_ACQUIRE);
    if (clock == (clockid_t)-1 || clock_gettime(clock, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void workers(GString *out, const struct mr_worker_pool *pool)
{
    family(out, "medrelay_worker_streams", "gauge", "Streams placed on each media worker.");
    for (unsigned i = 0; i < pool->n; i++) {
        char l[32];
        snprintf(l, sizeof(l), "worker=\"%u\"", i);
        sample(out, "medrelay_worker_streams", l, (uint64_t)g_atomic_int_get(&pool->workers[i].load));
    }
    family(out, "medrelay_worker_peers", "gauge", "Peers living on each media worker.");
    for (unsigned i = 0; i < pool->n; i++) {
        char l[32];
        snprintf(l, sizeof(l), "worker=\"%u\"", i);
        sample(out, "medrelay_worker_peers", l, (uint64_t)g_atomic_int_get(&pool->workers[i].peers));
    }
    family(out, "medrelay_worker_cpu_seconds_total", "counter",
           "CPU time used by each media worker thread.");
    for (unsigned i = 0; i < pool->n; i++)
        g_string_append_printf(out, "medrelay_worker_cpu_seconds_total{worker=\"%u\"} %.6f\n", i,
                               thread_cpu_seconds(&pool->workers[i]));
    family(out, "medrelay_worker_rtp_forwarded_packets_total", "counter",
           "RTP packets forwarded by each media worker.");
    for (unsigned i = 0; i < pool->n; i++) {
        char l[32];
        snprintf(l, sizeof(l), "worker=\"%u\"", i);
        sample(out, "medrelay_worker_rtp_forwarded_packets_total", l,
               mr_counter_read(&pool->workers[i].sfu.forwarded));
    }
}

void mr_relay_metrics(struct mr_relay *r, GString *out)
{
    struct mr_relay_counts c;
    mr_relay_counts(r, &c);
    family(out, "medrelay_sessions", "gauge", "Open sessions by kind.");
    sample(out, "medrelay_sessions", "kind=\"publish\"", c.publishers);
    sample(out, "medrelay_sessions", "kind=\"subscribe\"", c.subscribers - c.room_subscribers);
    sample(out, "medrelay_sessions", "kind=\"room_subscriber\"", c.room_subscribers);
    family(out, "medrelay_streams", "gauge", "Streams with a publisher or waiting viewers.");
    sample(out, "medrelay_streams", NULL, c.streams);
    const struct mr_worker_pool *pool = mr_relay_workers(r);
    traffic(out, pool);
    drops(out, pool);
    keyframes(out, pool);
    repair(out, pool);
    workers(out, pool);
    family(out, "medrelay_build_info", "gauge", "Version and SRTP crypto backend.");
    g_string_append_printf(out, "medrelay_build_info{version=\"%s\",srtp_backend=\"%s\"} 1\n",
                           MEDRELAY_VERSION, mr_srtp_backend());
}
