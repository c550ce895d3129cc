/* The recording tap: a stream's recording, fed from its worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "sfu/sfu_priv.h"

static void describe_track(const struct mr_receiver *t, struct mr_record_track *out)
{
    out->kind = t->kind == MR_MEDIA_AUDIO ? MR_RECORD_AUDIO : MR_RECORD_VIDEO;
    snprintf(out->codec, sizeof(out->codec), "%s", mr_codec_name(t->codec.id));
    out->pt = t->codec.pt;
    out->clock_rate = t->codec.clock_rate;
    out->channels = t->codec.channels;
    snprintf(out->fmtp, sizeof(out->fmtp), "%s", t->codec.fmtp);
    out->ssrc = t->out_ssrc;
}

struct mr_rec_tap *mr_rec_tap_new(const struct mr_source_desc *pub, unsigned n_pub,
                                  struct mr_record_params *params)
{
    struct mr_rec_tap *tap = calloc(1, sizeof(*tap));
    if (!tap)
        return NULL;
    mr_random_hex(tap->cname, (MR_CNAME_LEN - 1) / 2);
    snprintf(params->cname, sizeof(params->cname), "%s", tap->cname);
    for (unsigned i = 0; i < n_pub && i < MR_MAX_TRACKS && i < MR_RECORD_MAX_TRACKS; i++) {
        struct mr_receiver *t = &tap->receivers[i];
        t->kind = pub[i].kind;
        /* The recording keeps the publisher's payload types and no header
         * extensions: the file needs the media, not the transport. */
        t->codec = pub[i].codec;
        t->codec.red_pt = 0; /* Opus itself: RED's primary blocks */
        t->codec.rtx_pt = 0;
        mr_receiver_init(t, tap->receivers, i);
        t->src = (int)i;
        describe_track(t, &params->tracks[i]);
        tap->n_receivers++;
    }
    params->n_tracks = tap->n_receivers;
    return tap;
}

static void tap_free(struct mr_rec_tap *tap)
{
    if (!tap)
        return;
    mr_recording_unref(tap->rec);
    free(tap);
}

struct tap_call {
    struct mr_stream *stream; /* a reference */
    struct mr_rec_tap *tap;
};

/* Worker: the stream starts feeding the recording. */
static void tap_attach(void *data)
{
    struct tap_call *c = data;
    struct mr_stream *s = c->stream;
    tap_free(s->rec_tap);
    s->rec_tap = c->tap;
    struct mr_peer *pub = s->publisher && !s->publisher->dead ? s->publisher : NULL;
    mr_receivers_bind(s->rec_tap->receivers, s->rec_tap->n_receivers, pub, "recording");
    /* The file should start with a picture, not wait for the encoder. */
    mr_keyframe_request(s, -1, mr_clock_mono_us());
    mr_stream_unref(s);
    free(c);
}

/* Worker: the stream stops feeding its recording (the recorder finalizes). */
static void tap_detach(void *data)
{
    struct mr_stream *s = data;
    tap_free(s->rec_tap);
    s->rec_tap = NULL;
    mr_stream_unref(s);
}

void mr_stream_post_tap(struct mr_stream *s, struct mr_rec_tap *tap)
{
    if (!tap) {
        mr_worker_call(s->worker, tap_detach, mr_stream_ref(s));
        return;
    }
    struct tap_call *c = malloc(sizeof(*c));
    if (!c) {
        tap_free(tap);
        return;
    }
    c->stream = mr_stream_ref(s);
    c->tap = tap;
    mr_worker_call(s->worker, tap_attach, c);
}

void mr_rec_tap_sender_report(struct mr_rec_tap *tap, int ti, unsigned enc,
                              const struct mr_rtcp_sr *sr, int64_t now_us)
{
    uint8_t buf[256];
    for (unsigned j = 0; j < tap->n_receivers; j++) {
        struct mr_receiver *t = &tap->receivers[j];
        struct mr_rtcp_sr out = {
            .ssrc = t->out_ssrc,
            .ntp = sr->ntp,
            .packet_count = t->packets_out,
            .octet_count = t->octets_out,
        };
        if (t->src != ti || t->encoding != enc || !t->compatible ||
            !mr_rewrite_ts(&t->rw, sr->ssrc, sr->rtp_ts, &out.rtp_ts))
            continue;
        int n = mr_rtcp_write_sr(buf, sizeof(buf), &out);
        int m = n < 0 ? n : mr_rtcp_write_sdes_cname(buf + n, sizeof(buf) - (size_t)n, t->out_ssrc,
                                                    tap->cname);
        if (m > 0)
            mr_recording_push(tap->rec, j, MR_RECORD_RTCP, buf, (size_t)(n + m), now_us);
    }
}

void mr_rec_tap_free(struct mr_rec_tap *tap)
{
    tap_free(tap);
}
