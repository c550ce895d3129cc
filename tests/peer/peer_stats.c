/* Snapshots of the test peer's counters, as a struct and as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_priv.h"

void mr_test_peer_stats(const struct mr_test_peer *p, struct mr_test_peer_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->state = mr_test_peer_state(p);
    out->was_secure = p->was_secure;
    snprintf(out->state_why, sizeof(out->state_why), "%s", p->state_why);
    out->secure_us = p->secure_us;
    if (p->t) {
        snprintf(out->srtp_profile, sizeof(out->srtp_profile), "%s",
                 mr_transport_srtp_profile(p->t));
        out->transport = *mr_transport_stats(p->t);
        /* Reads libnice's selected pair only. */
        mr_transport_describe_pair((struct mr_transport *)p->t, out->pair, sizeof(out->pair));
    }
    out->layers = p->cfg.video_layers > 1 ? p->cfg.video_layers : 0;
    out->layers_accepted = p->layers_accepted;
    out->n_tracks = p->n_tracks;
    for (unsigned i = 0; i < p->n_tracks; i++) {
        out->tracks[i] = p->tracks[i].st;
        mr_tp_latency_summary(&p->tracks[i].lat, &out->tracks[i].latency);
    }
    out->plis_received = p->plis_received;
    out->firs_received = p->firs_received;
    out->rrs_received = p->rrs_received;
    out->srs_received = p->srs_received;
    out->keyframes_on_request = p->keyframes_on_request;
    out->plis_sent = p->plis_sent;
    out->rrs_sent = p->rrs_sent;
    out->nacks_received = p->nacks_received;
    out->nacked_packets = p->nacked_packets;
    out->resent_packets = p->resent_packets;
    out->resend_missed = p->resend_missed;
    out->send_dropped = p->send_dropped;
    out->nacks_sent = p->nacks_sent;
    out->nack_packets_sent = p->nack_packets_sent;
    out->rtp_unmatched = p->rtp_unmatched;
}

static const char *state_name(enum mr_transport_state st)
{
    static const char *const names[] = {"new", "connecting", "secure", "failed", "closed"};
    return (unsigned)st < G_N_ELEMENTS(names) ? names[st] : "unknown";
}

static void json_sender(GString *s, const struct mr_test_track_stats *t)
{
    g_string_append_printf(s,
                           ",\"ssrc\":%u,\"sent_packets\":%llu,\"sent_bytes\":%llu,"
                           "\"sent_frames\":%llu,\"sent_keyframes\":%llu,\"srs_sent\":%llu,"
                           "\"rtx_pt\":%u,\"rtx_ssrc\":%u",
                           t->ssrc, (unsigned long long)t->sent_packets,
                           (unsigned long long)t->sent_bytes, (unsigned long long)t->sent_frames,
                           (unsigned long long)t->sent_keyframes, (unsigned long long)t->srs_sent,
                           t->rtx_pt, t->rtx_pt ? t->rtx_ssrc : 0);
    if (t->rid[0])
        g_string_append_printf(s,
                               ",\"rid\":\"%s\",\"width\":%u,\"height\":%u,\"kbps\":%u,"
                               "\"ssrc_reported\":%s",
                               t->rid, t->width, t->height, t->kbps,
                               t->ssrc_reported ? "true" : "false");
}

static void json_receiver(GString *s, const struct mr_test_track_stats *t)
{
    g_string_append_printf(
        s,
        ",\"ssrc\":%u,\"ssrcs\":%u,\"rx_pt\":%u,\"packets\":%llu,\"bytes\":%llu,"
        "\"keyframes\":%llu,\"before_keyframe\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
        "\"reordered\":%llu,\"seq_jumps\":%llu,\"ts_backwards\":%llu,\"pt_mismatch\":%llu,"
        "\"mid_mismatch\":%llu,\"probe_missing\":%llu,\"sources\":%u,\"srs_received\":%llu,"
        "\"rtx_packets\":%llu,\"sr_max_skew_us\":%lld,"
        "\"latency_us\":{\"n\":%llu,\"p50\":%lld,\"p99\":%lld,\"max\":%lld}",
        t->rx_ssrc, t->rx_ssrcs, t->rx_pt, (unsigned long long)t->packets,
        (unsigned long long)t->bytes, (unsigned long long)t->keyframes,
        (unsigned long long)t->before_keyframe, (unsigned long long)t->lost,
        (unsigned long long)t->duplicates, (unsigned long long)t->reordered,
        (unsigned long long)t->seq_jumps, (unsigned long long)t->ts_backwards,
        (unsigned long long)t->pt_mismatch, (unsigned long long)t->mid_mismatch,
        (unsigned long long)t->probe_missing, t->sources, (unsigned long long)t->srs_received,
        (unsigned long long)t->rtx_packets, (long long)t->sr_max_skew_us,
        (unsigned long long)t->latency.n, (long long)t->latency.p50_us,
        (long long)t->latency.p99_us, (long long)t->latency.max_us);
}

char *mr_test_peer_stats_json(const struct mr_test_peer *p)
{
    struct mr_test_peer_stats st;
    mr_test_peer_stats(p, &st);
    bool pub = p->cfg.role == MR_TEST_PUBLISHER;
    GString *s = g_string_sized_new(1024);
    g_string_append_printf(s,
                           "{\"name\":\"%s\",\"role\":\"%s\",\"state\":\"%s\",\"why\":\"%s\","
                           "\"srtp\":\"%s\",\"pair\":\"%s\"",
                           p->name, pub ? "publisher" : "subscriber", state_name(st.state),
                           st.state_why, st.srtp_profile, st.pair);
    g_string_append_printf(
        s,
        ",\"rtcp\":{\"plis_received\":%llu,\"firs_received\":%llu,\"rrs_received\":%llu,"
        "\"srs_received\":%llu,\"keyframes_on_request\":%llu,\"plis_sent\":%llu,"
        "\"rrs_sent\":%llu,\"nacks_received\":%llu,\"nacked_packets\":%llu,"
        "\"resent_packets\":%llu,\"resend_missed\":%llu,\"send_dropped\":%llu,"
        "\"nacks_sent\":%llu,\"nack_packets_sent\":%llu}",
        (unsigned long long)st.plis_received, (unsigned long long)st.firs_received,
        (unsigned long long)st.rrs_received, (unsigned long long)st.srs_received,
        (unsigned long long)st.keyframes_on_request, (unsigned long long)st.plis_sent,
        (unsigned long long)st.rrs_sent, (unsigned long long)st.nacks_received,
        (unsigned long long)st.nacked_packets, (unsigned long long)st.resent_packets,
        (unsigned long long)st.resend_missed, (unsigned long long)st.send_dropped,
        (unsigned long long)st.nacks_sent, (unsigned long long)st.nack_packets_sent);
    g_string_append_printf(
        s,
        ",\"transport\":{\"rtp_in\":%llu,\"rtp_out\":%llu,\"srtp_errors\":%llu,"
        "\"dropped_early\":%llu,\"unknown_in\":%llu,\"send_errors\":%llu,\"tcp_dropped\":%llu,"
        "\"rtp_unmatched\":%llu}",
        (unsigned long long)st.transport.rtp_in, (unsigned long long)st.transport.rtp_out,
        (unsigned long long)st.transport.srtp_errors,
        (unsigned long long)st.transport.dropped_early, (unsigned long long)st.transport.unknown_in,
        (unsigned long long)st.transport.send_errors, (unsigned long long)st.transport.tcp_dropped,
        (unsigned long long)st.rtp_unmatched);
    if (st.layers)
        g_string_append_printf(s, ",\"simulcast\":{\"layers\":%u,\"accepted\":%u}", st.layers,
                               st.layers_accepted);
    g_string_append(s, ",\"tracks\":[");
    for (unsigned i = 0; i < st.n_tracks; i++) {
        const struct mr_test_track_stats *t = &st.tracks[i];
        g_string_append_printf(s,
                               "%s{\"mid\":\"%s\",\"kind\":\"%s\",\"accepted\":%s,"
                               "\"codec\":\"%s\",\"pt\":%u",
                               i ? "," : "", t->mid, t->kind == MR_MEDIA_AUDIO ? "audio" : "video",
                               t->accepted ? "true" : "false",
                               t->accepted ? mr_codec_name(t->codec) : "", t->pt);
        if (pub)
            json_sender(s, t);
        else
            json_receiver(s, t);
        g_string_append_c(s, '}');
    }
    g_string_append(s, "]}");
    char *out = strdup(s->str);
    g_string_free(s, TRUE);
    return out;
}
