/* medrelay-bench reports: a table for people, a JSON line and CSV rows for tools. */
#include <stdio.h>
#include <sys/stat.h>

#include "bench.h"
#include "core/error.h"

static double ms(int64_t us)
{
    return (double)us / 1000.0;
}

static double loss_pct(const struct mr_bench_result *r)
{
    uint64_t total = r->forwarded + r->lost;
    return total ? 100.0 * (double)r->lost / (double)total : 0.0;
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The publishers' leg: what --pub-loss dropped, the NACKs the publishers
 * answered, and the server's own account of its repair. */
static void print_repair(FILE *f, const struct mr_bench_options *o, const struct mr_bench_result *r)
{
    char what[64];
    snprintf(what, sizeof(what), "publisher leg (--pub-loss %g %%)", o->pub_loss_pct);
    fprintf(f, "  %-34s %llu of %llu RTP packets dropped (%.2f %%)\n", what,
            (unsigned long long)r->pub_dropped, (unsigned long long)(r->pub_sent + r->pub_resent),
            pct(r->pub_dropped, r->pub_sent + r->pub_resent));
    fprintf(f, "  %-34s %llu NACKs for %llu packets: %llu resent, %llu no longer kept\n",
            "publishers' NACKs received", (unsigned long long)r->pub_nacks,
            (unsigned long long)r->pub_nacked, (unsigned long long)r->pub_resent,
            (unsigned long long)r->pub_resend_missed);
    if (r->server_nack_sent >= 0)
        fprintf(f, "  %-34s asked for %.0f, recovered %.0f, gave up on %.0f\n", "server's repair",
                r->server_nack_sent, r->server_recovered, r->server_gave_up);
}

/* The repair figures as JSON members (each followed by a comma). */
static void json_repair(FILE *f, const struct mr_bench_options *o, const struct mr_bench_result *r)
{
    fprintf(f,
            "\"pub_loss_pct\":%g,\"publisher_dropped\":%llu,\"publisher_nacks_received\":%llu,"
            "\"publisher_nacked_packets\":%llu,\"publisher_resent\":%llu,"
            "\"publisher_resend_missed\":%llu,\"server_nack_packets_sent\":%.0f,"
            "\"server_recovered_packets\":%.0f,\"server_nack_giveups\":%.0f,"
            "\"lost_video\":%llu,\"lost_audio\":%llu,",
            o->pub_loss_pct, (unsigned long long)r->pub_dropped, (unsigned long long)r->pub_nacks,
            (unsigned long long)r->pub_nacked, (unsigned long long)r->pub_resent,
            (unsigned long long)r->pub_resend_missed, r->server_nack_sent, r->server_recovered,
            r->server_gave_up, (unsigned long long)r->lost_video,
            (unsigned long long)r->lost_audio);
}

/* How the subscribers connected: asked for, selected, and the server's
 * drops to ICE-TCP subscribers. */
static void print_transport(FILE *f, const struct mr_bench_options *o,
                            const struct mr_bench_result *r)
{
    fprintf(f, "  %-34s %s; selected pairs: %u tcp, %u udp, %u other (e.g. %s)\n",
            "subscriber transport", o->sub_tcp ? "ICE-TCP only" : "udp", r->pairs_tcp, r->pairs_udp,
            r->pairs_other, r->pair_example[0] ? r->pair_example : "none");
    if (r->server_tcp_backlog >= 0)
        fprintf(f, "  %-34s %.0f  (%.4f %% of the forwarded packets)\n", "server tcp_backlog drops",
                r->server_tcp_backlog,
                r->forwarded ? 100.0 * r->server_tcp_backlog / (double)r->forwarded : 0.0);
}

/* The transport figures as JSON members (each followed by a comma). */
static void json_transport(FILE *f, const struct mr_bench_options *o,
                           const struct mr_bench_result *r)
{
    fprintf(f,
            "\"sub_transport\":\"%s\",\"subscriber_pairs\":{\"tcp\":%u,\"udp\":%u,\"other\":%u},"
            "\"pair_example\":\"%s\",\"server_tcp_backlog_drops\":%.0f,",
            o->sub_tcp ? "tcp" : "udp", r->pairs_tcp, r->pairs_udp, r->pairs_other, r->pair_example,
            r->server_tcp_backlog);
}

/* Simulcast (--layers): what the publishers sent in, what the server
 * learned of their layers, and how often subscribers were moved. */
static void print_layers(FILE *f, const struct mr_bench_options *o, const struct mr_bench_result *r)
{
    if (o->layers <= 1)
        return;
    fprintf(f, "  %-34s %u per publisher; accepted %u, known to the server %u (of %u)\n",
            "simulcast layers", o->layers, r->pub_layers_accepted, r->pub_layers_reported,
            o->layers * o->publishers);
    fprintf(f, "  %-34s %.0f /s in (all layers), %.2f forwarded per packet in\n",
            "publishers' packets", r->window_s > 0 ? (double)r->pub_sent / r->window_s : 0.0,
            r->pub_sent ? (double)r->forwarded / (double)r->pub_sent : 0.0);
    fprintf(f, "  %-34s %llu by the subscribers' probes, %.0f by the server%s\n",
            "layer switches in the window", (unsigned long long)r->sub_source_changes,
            r->server_layer_switches, o->top_pause_ms ? " (top layer paused)" : "");
    fprintf(f, "  %-34s %u of %u on 1280x720 (their latest key frame)\n", "subscribers at the end",
            r->subs_on_top, r->subs_ok);
}

/* The simulcast figures as JSON members (each followed by a comma). */
static void json_layers(FILE *f, const struct mr_bench_options *o, const struct mr_bench_result *r)
{
    fprintf(f,
            "\"layers\":%u,\"publisher_layers_accepted\":%u,\"publisher_layers_known\":%u,"
            "\"subscriber_source_changes\":%llu,\"server_layer_switches\":%.0f,"
            "\"top_layer_pause_ms\":%u,\"subscribers_on_top_layer\":%u,",
            o->layers, r->pub_layers_accepted, r->pub_layers_reported,
            (unsigned long long)r->sub_source_changes, r->server_layer_switches, o->top_pause_ms,
            r->subs_on_top);
}

/* Video latency of each latency subscriber, by its place in the join order. */
static void print_places(FILE *f, const struct mr_bench_result *r)
{
    for (unsigned k = 0; k < r->latency_subs && k < MR_BENCH_MAX_LAT; k++) {
        const struct mr_bench_place *pl = &r->lat_places[k];
        char what[40];
        snprintf(what, sizeof(what), "  video, subscriber joined %u.", pl->place);
        fprintf(f, "  %-34s p50 %.3f  p99 %.3f  max %.3f ms\n", what, ms(pl->video.p50_us),
                ms(pl->video.p99_us), ms(pl->video.max_us));
    }
}

/* Appends the places as a JSON array. */
static void json_places(FILE *f, const struct mr_bench_result *r)
{
    fprintf(f, "\"latency_video_by_place\":[");
    for (unsigned k = 0; k < r->latency_subs && k < MR_BENCH_MAX_LAT; k++) {
        const struct mr_bench_place *pl = &r->lat_places[k];
        fprintf(f, "%s{\"place\":%u,\"p50\":%lld,\"p99\":%lld,\"max\":%lld}", k ? "," : "",
                pl->place, (long long)pl->video.p50_us, (long long)pl->video.p99_us,
                (long long)pl->video.max_us);
    }
    fprintf(f, "],");
}

void mr_bench_print_table(FILE *f, const struct mr_bench_options *o,
                          const struct mr_bench_result *r)
{
    fprintf(f, "\n== %s %s: %u publisher(s) -> %u subscribers (%u connected), round %u ==\n",
            o->target->name, o->label, o->publishers, r->subs, r->subs_ok, r->round);
    fprintf(f, "   load: video %u kbit/s %u fps + Opus 20 ms; window %.1f s after %u s warm-up\n",
            o->video_kbps, o->fps, r->window_s, o->warmup_s);
    if (o->layers > 1)
        fprintf(f, "   video as %u simulcast layers (rid %s of the bitrate)\n", o->layers,
                o->layers == 2 ? "h, f: 24, 76 %" : "q, h, f: 8, 22, 70 %");
    fprintf(f, "   clients: %s%s\n", o->client_name,
            o->client == 0 ? " (one frame size, a key frame every 2 s, an SR/RR a second)"
            : o->client == MR_TEST_CLIENT_REAL
                ? " (as measured of Chromium: sizes, key frames on PLI, extensions, RTCP)"
                : "");
    if (o->pacing_pct)
        fprintf(f, "   frames paced at %u %% of the video bitrate\n", o->pacing_pct);
    else
        fprintf(f, "   each frame sent in one burst\n");
    if (o->bulk_nice)
        fprintf(f, "   bulk subscribers at nice %u\n", o->bulk_nice);
    if (r->failure[0])
        fprintf(f, "  !! %s\n", r->failure);
    fprintf(f, "  %-34s %s\n", "SRTP cipher", r->cipher);
    print_transport(f, o, r);
    print_layers(f, o, r);
    fprintf(f, "  %-34s %.3f us  (%.2f s CPU / %llu packets)\n", "server CPU per forwarded packet",
            r->cpu_us_per_pkt, r->server_cpu_s, (unsigned long long)r->forwarded);
    fprintf(f, "  %-34s %.0f /s   (server CPU %.1f %% of one core; bench %.1f %%)\n",
            "forwarded packets", r->pps, r->server_cpu_pct, r->bench_cpu_pct);
    if (r->server_forwarded >= 0)
        fprintf(f, "  %-34s %.0f  (%+.2f %% vs. received)\n", "server's own forwarded count",
                r->server_forwarded,
                r->forwarded
                    ? 100.0 * (r->server_forwarded - (double)r->forwarded) / (double)r->forwarded
                    : 0.0);
    fprintf(f, "  %-34s %.1f MiB before subscribers, %.1f after, %.1f at the end\n", "server RSS",
            r->rss_before_kib / 1024.0, r->rss_after_kib / 1024.0, r->rss_end_kib / 1024.0);
    fprintf(f, "  %-34s %.1f KiB  (from %.1f MiB before the server's first subscriber)\n",
            "RSS per subscriber", r->rss_per_sub_kib, r->rss_base_kib / 1024.0);
    fprintf(f, "  %-34s p50 %.3f  p99 %.3f  max %.3f ms  (%llu samples, %u subscribers)\n",
            "transit latency video", ms(r->lat_video.p50_us), ms(r->lat_video.p99_us),
            ms(r->lat_video.max_us), (unsigned long long)r->lat_video.n, r->latency_subs);
    fprintf(f, "  %-34s p50 %.3f  p99 %.3f  max %.3f ms  (%llu samples)\n", "transit latency audio",
            ms(r->lat_audio.p50_us), ms(r->lat_audio.p99_us), ms(r->lat_audio.max_us),
            (unsigned long long)r->lat_audio.n);
    print_places(f, r);
    fprintf(f, "  %-34s p50 %.3f  p99 %.3f  max %.3f ms  (bulk subscribers, +<= %u us batching)\n",
            "", ms(r->lat_bulk_video.p50_us), ms(r->lat_bulk_video.p99_us),
            ms(r->lat_bulk_video.max_us), o->tick_us);
    fprintf(f,
            "  %-34s %llu packets (%.4f %%; video %llu, audio %llu), %u subscribers with loss, "
            "worst %llu\n",
            "loss", (unsigned long long)r->lost, loss_pct(r), (unsigned long long)r->lost_video,
            (unsigned long long)r->lost_audio, r->subs_with_loss,
            (unsigned long long)r->worst_sub_lost);
    fprintf(f, "  %-34s %llu sequence jumps, %llu timestamps back, %llu SRTP errors\n", "",
            (unsigned long long)r->seq_jumps, (unsigned long long)r->ts_backwards,
            (unsigned long long)r->srtp_errors);
    fprintf(f, "  %-34s server %llu, bench %llu (send buffer: server %llu)\n",
            "UDP receive-buffer drops", (unsigned long long)r->server_rcvbuf_errors,
            (unsigned long long)r->bench_rcvbuf_errors,
            (unsigned long long)r->server_sndbuf_errors);
    print_repair(f, o, r);
    fprintf(f, "  %-34s p50 %.0f  max %.0f ms  (%u late joiners)\n", "subscribe to first key frame",
            r->kf_p50_ms, r->kf_max_ms, r->kf_n);
}

void mr_bench_print_json(FILE *f, const struct mr_bench_options *o, const struct mr_bench_result *r)
{
    fprintf(f,
            "BENCH_JSON {\"target\":\"%s\",\"label\":\"%s\",\"publishers\":%u,\"subscribers\":%u,"
            "\"subscribers_connected\":%u,\"round\":%u,\"video_kbps\":%u,\"fps\":%u,"
            "\"window_s\":%.3f,\"cipher\":\"%s\",\"server_cpu_s\":%.3f,"
            "\"forwarded_packets\":%llu,\"server_forwarded_packets\":%.0f,"
            "\"cpu_us_per_packet\":%.4f,\"forwarded_pps\":%.1f,\"server_cpu_pct\":%.2f,"
            "\"bench_cpu_pct\":%.2f,\"rss_before_kib\":%llu,\"rss_after_kib\":%llu,"
            "\"rss_end_kib\":%llu,\"rss_base_kib\":%llu,\"rss_per_subscriber_kib\":%.2f,"
            "\"latency_video_us\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld,\"n\":%llu},"
            "\"latency_audio_us\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld,\"n\":%llu},"
            "\"latency_subscribers\":%u,\"tick_us\":%u,"
            "\"latency_bulk_video_us\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld},"
            "\"publisher_sent_packets\":%llu,\"lost_packets\":%llu,\"loss_pct\":%.5f,"
            "\"subscribers_with_loss\":%u,\"worst_subscriber_lost\":%llu,\"seq_jumps\":%llu,"
            "\"ts_backwards\":%llu,\"srtp_errors\":%llu,\"server_rcvbuf_errors\":%llu,"
            "\"bench_rcvbuf_errors\":%llu,"
            "\"first_keyframe_ms\":{\"p50\":%.1f,\"max\":%.1f,\"n\":%u},\"pacing_pct\":%u,"
            "\"bulk_nice\":%u,\"client\":\"%s\",",
            o->target->name, o->label, o->publishers, r->subs, r->subs_ok, r->round, o->video_kbps,
            o->fps, r->window_s, r->cipher, r->server_cpu_s, (unsigned long long)r->forwarded,
            r->server_forwarded, r->cpu_us_per_pkt, r->pps, r->server_cpu_pct, r->bench_cpu_pct,
            (unsigned long long)r->rss_before_kib, (unsigned long long)r->rss_after_kib,
            (unsigned long long)r->rss_end_kib, (unsigned long long)r->rss_base_kib,
            r->rss_per_sub_kib, (long long)r->lat_video.p50_us, (long long)r->lat_video.p99_us,
            (long long)r->lat_video.max_us, (unsigned long long)r->lat_video.n,
            (long long)r->lat_audio.p50_us, (long long)r->lat_audio.p99_us,
            (long long)r->lat_audio.max_us, (unsigned long long)r->lat_audio.n, r->latency_subs,
            o->tick_us, (long long)r->lat_bulk_video.p50_us, (long long)r->lat_bulk_video.p99_us,
            (long long)r->lat_bulk_video.max_us, (unsigned long long)r->pub_sent,
            (unsigned long long)r->lost, loss_pct(r), r->subs_with_loss,
            (unsigned long long)r->worst_sub_lost, (unsigned long long)r->seq_jumps,
            (unsigned long long)r->ts_backwards, (unsigned long long)r->srtp_errors,
            (unsigned long long)r->server_rcvbuf_errors, (unsigned long long)r->bench_rcvbuf_errors,
            r->kf_p50_ms, r->kf_max_ms, r->kf_n, o->pacing_pct, o->bulk_nice, o->client_name);
    json_repair(f, o, r);
    json_transport(f, o, r);
    json_layers(f, o, r);
    json_places(f, r);
    fprintf(f, "\"valid\":%s}\n", r->failure[0] ? "false" : "true");
    fflush(f);
}

int mr_bench_append_csv(const char *path, const struct mr_bench_options *o,
                        const struct mr_bench_result *r)
{
    struct stat st;
    bool fresh = stat(path, &st) != 0 || st.st_size == 0;
    FILE *f = fopen(path, "a");
    if (!f)
        return MR_EIO;
    if (fresh)
        fprintf(f, "target,label,publishers,subscribers,connected,round,cipher,cpu_us_per_packet,"
                   "forwarded_pps,server_cpu_pct,rss_before_kib,rss_end_kib,rss_per_sub_kib,"
                   "lat_video_p50_us,lat_video_p99_us,lat_video_max_us,lat_audio_p99_us,"
                   "loss_pct,first_keyframe_p50_ms,first_keyframe_max_ms,valid,client,"
                   "pub_loss_pct,sub_transport,server_tcp_backlog,layers\n");
    fprintf(f,
            "%s,%s,%u,%u,%u,%u,%s,%.4f,%.1f,%.2f,%llu,%llu,%.2f,%lld,%lld,%lld,%lld,%.5f,%.1f,%.1f,"
            "%d,%s,%g,%s,%.0f,%u\n",
            o->target->name, o->label, o->publishers, r->subs, r->subs_ok, r->round, r->cipher,
            r->cpu_us_per_pkt, r->pps, r->server_cpu_pct, (unsigned long long)r->rss_before_kib,
            (unsigned long long)r->rss_end_kib, r->rss_per_sub_kib, (long long)r->lat_video.p50_us,
            (long long)r->lat_video.p99_us, (long long)r->lat_video.max_us,
            (long long)r->lat_audio.p99_us, loss_pct(r), r->kf_p50_ms, r->kf_max_ms, !r->failure[0],
            o->client_name, o->pub_loss_pct, o->sub_tcp ? "tcp" : "udp", r->server_tcp_backlog,
            o->layers);
    return fclose(f) == 0 ? 0 : MR_EIO;
}
