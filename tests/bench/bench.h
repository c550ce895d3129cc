/*
 * medrelay-bench internals: the options, one run's figures, and the
 * reports (human table, one BENCH_JSON line, CSV rows).
 */
#ifndef MR_BENCH_H
#define MR_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "peer.h"
#include "target.h"

#define MR_BENCH_MAX_SWEEP   16
#define MR_BENCH_MAX_SUBS    5000
#define MR_BENCH_MAX_PUBS    64
#define MR_BENCH_MAX_THREADS 16
#define MR_BENCH_MAX_LAT     64 /* latency subscribers */

struct mr_bench_options {
    const struct mr_bench_target_ops *target;
    struct mr_bench_target_config tc;
    pid_t pid;                         /* the server; 0: found from /proc by the URL's host:port */
    unsigned publishers;               /* P [1] */
    unsigned subs[MR_BENCH_MAX_SWEEP]; /* N, one run per value (a sweep) [10] */
    unsigned n_subs;
    unsigned rounds;       /* runs per N [1] */
    unsigned first_round;  /* the first run's round number [1] */
    unsigned warmup_s;     /* [5] */
    unsigned seconds;      /* measurement window [20] */
    unsigned video_kbps;   /* [2500] */
    unsigned fps;          /* [30] */
    unsigned pacing_pct;   /* publishers pace frames at this % of the bitrate, 0: bursts [0] */
    unsigned client;       /* MR_TEST_CLIENT_* bits (tests/peer/peer.h) [0] */
    double pub_loss_pct;   /* publishers drop this % of their RTP at random [0] */
    bool sub_tcp;          /* subscribers (and late joiners) over ICE-TCP only [UDP] */
    unsigned layers;       /* publishers' simulcast layers by rid, 1-3 (1: one stream) [1] */
    unsigned top_pause_ms; /* with layers: the top layer stops this long in the
                              middle of the window [0] */
    char client_name[24];  /* for the reports: synthetic, real, or the bits ("sizes+rtcp") */
    const char *srtp;      /* OpenSSL DTLS-SRTP profile names offered */
    const char *local_ip;  /* the peers' host candidates [127.0.0.1] */
    unsigned threads;      /* bulk subscriber threads, one GMainContext each [2] */
    unsigned latency_subs; /* subscribers on the latency thread [4] */
    unsigned tick_us;      /* bulk threads' loop period, 0: wake per packet [1000] */
    unsigned bulk_nice;    /* the bulk threads' nice value, 0-19 [19] */
    unsigned join_probes;  /* late joiners timed to their first key frame [5] */
    const char *csv;       /* append one row per run, NULL: none */
    char label[32];        /* free tag for the reports, e.g. "veth" */
    char room_prefix[32];  /* [bench] */
};

/* What one run measured. Counts are over the measurement window. */
struct mr_bench_result {
    unsigned subs, subs_ok, pubs_ok, round;
    double window_s;
    /* Server process. */
    double server_cpu_s;
    uint64_t forwarded;      /* RTP packets the subscribers received */
    double server_forwarded; /* the server's own count, < 0: not known */
    double cpu_us_per_pkt, pps, server_cpu_pct, bench_cpu_pct;
    uint64_t rss_before_kib, rss_after_kib, rss_end_kib;
    /* rss_before_kib of the first run on this server: what each run's
     * per-subscriber figure is counted from (main in bench.c). */
    uint64_t rss_base_kib;
    double rss_per_sub_kib;
    /* Delivery. */
    unsigned latency_subs;
    struct mr_test_latency lat_video, lat_audio; /* the latency subscribers */
    struct mr_test_latency lat_bulk_video;       /* the others, up to a tick late */
    /* Each latency subscriber's own video figures, by its place in the join
     * order (1-based). */
    struct mr_bench_place {
        unsigned place;
        struct mr_test_latency video;
    } lat_places[MR_BENCH_MAX_LAT];
    uint64_t pub_sent; /* packets the publishers sent (all their layers) */
    /* Simulcast (--layers): the publishers' layers the answers accepted
     * and those the server knows (its receiver reports name their SSRCs,
     * learned from the rid extension), summed over the publishers; the
     * subscribers' changes of source over the window (a layer switch, or
     * a publisher reconnecting: the probes' source id is per layer), and
     * the server's own count of layer switches (< 0: not known). */
    unsigned pub_layers_accepted, pub_layers_reported;
    uint64_t sub_source_changes;
    double server_layer_switches;
    /* Subscribers whose latest video key frame had the top layer's picture
     * size (1280x720), at the end; RTP timestamps that went back. */
    unsigned subs_on_top;
    uint64_t ts_backwards;
    /* Loss repair on the publishers' leg: the RTP packets --pub-loss
     * dropped, the NACKs the publishers received, the packets those named,
     * sent again, or no longer had; the server's own counts of packets it
     * asked for, recovered and gave up on (< 0: not known). */
    uint64_t pub_dropped, pub_nacks, pub_nacked, pub_resent, pub_resend_missed;
    double server_nack_sent, server_recovered, server_gave_up;
    /* Subscribers' loss (probe counters never received, per kind). A
     * repair in flight at either end of the window counts -1 (lost before
     * it, recovered in it) or +1 (lost in it, recovered after); the sums
     * are clamped at 0. */
    uint64_t lost_video, lost_audio;
    uint64_t lost, seq_jumps, srtp_errors, worst_sub_lost;
    unsigned subs_with_loss;
    uint64_t server_rcvbuf_errors, bench_rcvbuf_errors, server_sndbuf_errors;
    /* The subscribers' selected ICE pairs at the end, by transport, and
     * one of them as an example (mr_transport_describe_pair); the server's
     * datagrams to ICE-TCP subscribers dropped while their connection
     * drained, over the window (< 0: not known). */
    unsigned pairs_udp, pairs_tcp, pairs_other;
    char pair_example[128];
    double server_tcp_backlog;
    /* Joining: subscribe (offer) to first key frame, ms. */
    unsigned kf_n;
    double kf_p50_ms, kf_max_ms; /* late joiners, measured alone */
    char cipher[40];
    char failure[200]; /* why the run is not valid, or "" */
};

/* options.c: the usage text; parses argv into o (defaults for what is not
 * given); returns 0 or MR_EINVAL (with a message on stderr). */
extern const char mr_bench_usage[];
int mr_bench_parse_args(int argc, char **argv, struct mr_bench_options *o);
/* The server's pid: --pid, else the one process named after the target
 * whose command line holds the URL's HOST:PORT. 0 or an MR_E* code. */
int mr_bench_find_server(const struct mr_bench_options *o, pid_t *pid);

void mr_bench_print_table(FILE *f, const struct mr_bench_options *o,
                          const struct mr_bench_result *r);
void mr_bench_print_json(FILE *f, const struct mr_bench_options *o,
                         const struct mr_bench_result *r);
/* Writes the header first when the file is new or empty. */
int mr_bench_append_csv(const char *path, const struct mr_bench_options *o,
                        const struct mr_bench_result *r);

#endif
