/* The forwarding fixture (sfu_fixture.h): a hand-built worker, peers,
 * RTP in, datagrams out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "rtcp/rtcp.h"
#include "sfu/burst.h"
#include "sfu/downlink.h"
#include "sfu_fakes.h"

static struct {
    struct mr_worker *w;
    GPtrArray *streams; /* the fixture's references */
    GPtrArray *peers;   /* struct mr_peer *, freed at tear-down */
    GPtrArray *recs;    /* the fixture's references to fake recordings */
    unsigned n_peers;
} fx;

struct mr_worker *fx_setup(void)
{
    fx_fakes_reset();
    struct mr_worker *w = calloc(1, sizeof(*w));
    w->ctx = g_main_context_new();
    mr_sendq_new(w->ctx, false, &w->sendq);
    mr_burst_new(w, &w->burst);
    /* worker.c's turn clock does not run: fx_feed starts a turn. */
    w->turn_started_us = mr_clock_mono_us();
    fx.w = w;
    fx.streams = g_ptr_array_new();
    fx.peers = g_ptr_array_new();
    fx.recs = g_ptr_array_new();
    fx.n_peers = 0;
    return w;
}

int fx_teardown(void)
{
    int rc = 0;
    /* Without io_uring (as the fake queue is), the fan-out sends each
     * receiver's share when it is written, or flushes the queue. */
    if (fx_pending() > 0) {
        fprintf(stderr, "fixture: %u datagrams left in the send queue\n", fx_pending());
        rc = -1;
    }
    fx_run();
    mr_burst_flush(fx.w->burst);
    while (fx.peers->len > 0)
        fx_peer_free(g_ptr_array_index(fx.peers, fx.peers->len - 1));
    unsigned n_streams = fx.streams->len;
    for (unsigned i = 0; i < fx.streams->len; i++)
        mr_stream_unref(g_ptr_array_index(fx.streams, i));
    fx_run();
    mr_burst_free(fx.w->burst);
    if (fx_released() != n_streams) {
        fprintf(stderr, "fixture: %u of %u streams freed\n", fx_released(), n_streams);
        rc = -1;
    }
    if (fx_fakes_errors() > 0) {
        fprintf(stderr, "fixture: %u datagrams queued from a buffer that is not a slot\n",
                fx_fakes_errors());
        rc = -1;
    }
    mr_sendq_free(fx.w->sendq);
    for (unsigned i = 0; i < fx.recs->len; i++)
        mr_recording_unref(g_ptr_array_index(fx.recs, i));
    g_main_context_unref(fx.w->ctx);
    free(fx.w);
    g_ptr_array_free(fx.streams, TRUE);
    g_ptr_array_free(fx.peers, TRUE);
    g_ptr_array_free(fx.recs, TRUE);
    fx_fakes_reset();
    memset(&fx, 0, sizeof(fx));
    return rc;
}

struct mr_stream *fx_stream(const char *name, unsigned grace_s)
{
    struct mr_stream *s = mr_stream_new("room", name, fx.w, grace_s);
    g_ptr_array_add(fx.streams, s);
    return s;
}

/* --- Peers ------------------------------------------------------------------------ */

static void codec_of(const struct fx_track *t, struct mr_codec *c)
{
    memset(c, 0, sizeof(*c));
    c->id = t->codec;
    c->pt = t->pt;
    c->clock_rate = t->codec == MR_CODEC_OPUS ? 48000 : 90000;
    c->channels = t->codec == MR_CODEC_OPUS ? 2 : 0;
    c->h264_profile_idc = t->h264_profile_idc;
    c->h264_profile_iop = t->h264_profile_iop;
    c->fb = t->fb;
    c->rtx_pt = t->rtx_pt;
    c->red_pt = t->red_pt;
}

static void ext_of(const struct fx_track *t, struct mr_ext_ids *ext)
{
    memset(ext, 0, sizeof(*ext));
    ext->id[MR_RTP_EXT_MID] = t->mid_id;
    ext->id[MR_RTP_EXT_AUDIO_LEVEL] = t->level_id;
    ext->id[MR_RTP_EXT_RID] = t->rid_id;
    ext->id[MR_RTP_EXT_RRID] = t->rrid_id;
    ext->id[MR_RTP_EXT_TRANSPORT_CC] = t->tcc_id;
}

static struct mr_peer *peer_new(struct mr_stream *s, enum mr_session_kind kind)
{
    struct mr_peer *p = calloc(1, sizeof(*p));
    snprintf(p->id, sizeof(p->id), "%s%u", kind == MR_SESSION_PUBLISH ? "pub" : "sub",
             ++fx.n_peers);
    p->kind = kind;
    p->stream = s ? mr_stream_ref(s) : NULL;
    p->worker = fx.w;
    snprintf(p->cname, sizeof(p->cname), "cn%.14s", p->id);
    p->rtcp_ssrc = mr_random_ssrc();
    p->transport = fx_transport_new(p);
    p->answered = true;
    p->created_us = mr_clock_mono_us();
    p->secure_us = p->created_us;
    g_ptr_array_add(fx.peers, p);
    return p;
}

struct mr_peer *fx_publisher(struct mr_stream *s, const struct fx_track *tracks, unsigned n)
{
    struct mr_peer *p = peer_new(s, MR_SESSION_PUBLISH);
    p->sources = calloc(MR_MAX_TRACKS, sizeof(*p->sources));
    struct mr_sdp_media *m = calloc(1, sizeof(*m));
    for (unsigned i = 0; i < n && i < MR_MAX_TRACKS; i++) {
        struct mr_codec c;
        struct mr_ext_ids ext;
        memset(m, 0, sizeof(*m));
        m->kind = tracks[i].kind;
        snprintf(m->mid, sizeof(m->mid), "%s", tracks[i].mid);
        if (tracks[i].rtx_ssrc) {
            m->ssrcs[m->n_ssrcs++].ssrc = tracks[i].rtx_ssrc;
            m->fid[0][0] = tracks[i].ssrc;
            m->fid[0][1] = tracks[i].rtx_ssrc;
            m->n_fid = 1;
        }
        if (tracks[i].ssrc)
            m->ssrcs[m->n_ssrcs++].ssrc = tracks[i].ssrc;
        codec_of(&tracks[i], &c);
        ext_of(&tracks[i], &ext);
        struct mr_sdp_sim_stream layers[MR_MAX_ENCODINGS];
        unsigned n_layers = tracks[i].n_layers < MR_MAX_ENCODINGS ? tracks[i].n_layers
                                                                  : MR_MAX_ENCODINGS;
        for (unsigned e = 0; e < n_layers; e++) {
            snprintf(layers[e].rid, sizeof(layers[e].rid), "%s", tracks[i].rids[e]);
            layers[e].paused = false;
        }
        mr_source_init(&p->sources[i], m, &c, &ext, layers, n_layers);
        p->n_sources++;
    }
    free(m);
    return p;
}

/* Receivers as plan.c and room_sub.c make them: kind, mid, codec and
 * extensions from the answer, then mr_receiver_init. */
static void receivers_init(struct mr_receiver *rx, const struct fx_track *tracks, unsigned n)
{
    for (unsigned j = 0; j < n; j++) {
        rx[j].kind = tracks[j].kind;
        snprintf(rx[j].mid, sizeof(rx[j].mid), "%s", tracks[j].mid);
        codec_of(&tracks[j], &rx[j].codec);
        ext_of(&tracks[j], &rx[j].ext);
        mr_receiver_init(&rx[j], rx, j);
    }
}

struct mr_peer *fx_subscriber(struct mr_stream *s, const struct fx_track *tracks, unsigned n)
{
    struct mr_peer *p = peer_new(s, MR_SESSION_SUBSCRIBE);
    p->receivers = calloc(MR_MAX_TRACKS, sizeof(*p->receivers));
    p->n_receivers = n < MR_MAX_TRACKS ? n : MR_MAX_TRACKS;
    receivers_init(p->receivers, tracks, p->n_receivers);
    p->sink = (struct mr_sink){
        .peer = p,
        .receivers = p->receivers,
        .n_receivers = p->n_receivers,
        .cname = p->cname,
    };
    return p;
}

struct mr_sink *fx_room_sub(struct mr_peer *p, struct mr_stream *s, const struct fx_track *tracks,
                            unsigned n)
{
    if (!p) {
        p = peer_new(NULL, MR_SESSION_SUBSCRIBE);
        p->bundle = calloc(1, sizeof(*p->bundle));
    }
    if (p->bundle->n == FX_SLICES)
        return NULL;
    struct fx_slice *sl = &p->bundle->slices[p->bundle->n++];
    sl->stream = mr_stream_ref(s);
    n = n < MR_MAX_TRACKS ? n : MR_MAX_TRACKS;
    receivers_init(sl->receivers, tracks, n);
    sl->sink = (struct mr_sink){
        .peer = p,
        .receivers = sl->receivers,
        .n_receivers = n,
        .cname = p->cname,
    };
    mr_stream_add_sink(s, &sl->sink);
    return &sl->sink;
}

struct mr_receiver *fx_receiver(struct mr_sink *sink, const char *mid)
{
    for (unsigned j = 0; j < sink->n_receivers; j++)
        if (strcmp(sink->receivers[j].mid, mid) == 0)
            return &sink->receivers[j];
    return NULL;
}

/* As mr_peer_destroy: detached (a room subscription's slices removed),
 * transport gone, stream released. */
void fx_peer_free(struct mr_peer *p)
{
    g_ptr_array_remove(fx.peers, p);
    p->dead = true;
    if (p->bundle) {
        for (unsigned i = 0; i < p->bundle->n; i++) {
            mr_stream_remove_sink(p->bundle->slices[i].stream, &p->bundle->slices[i].sink);
            mr_stream_unref(p->bundle->slices[i].stream);
        }
        free(p->bundle);
    } else {
        mr_stream_detach(p->stream, p);
    }
    mr_congestion_free(p);
    mr_downlink_free(p);
    fx_transport_free(p->transport);
    if (p->stream)
        mr_stream_unref(p->stream);
    mr_sources_free(p->sources, p->n_sources);
    free(p->receivers);
    free(p);
}

void fx_set_backlog(struct mr_peer *p, int queued, int limit)
{
    p->transport->queued = queued;
    p->transport->limit = limit;
}

/* --- The loop --------------------------------------------------------------------- */

void fx_run(void)
{
    while (g_main_context_iteration(fx.w->ctx, FALSE))
        ;
}

static gboolean set_flag(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

void fx_run_ms(unsigned ms)
{
    bool done = false;
    GSource *t = g_timeout_source_new(ms);
    g_source_set_priority(t, G_PRIORITY_HIGH);
    g_source_set_callback(t, set_flag, &done, NULL);
    g_source_attach(t, fx.w->ctx);
    while (!done)
        g_main_context_iteration(fx.w->ctx, TRUE);
    g_source_destroy(t);
    g_source_unref(t);
    fx_run();
}

/* --- RTP in ---------------------------------------------------------------------- */

uint8_t fx_pattern(uint16_t seq, unsigned i)
{
    return (uint8_t)(seq * 7 + i * 13 + 1);
}

/* The codec's leading bytes for each kind of payload (RFC 7741 §4.2-4.3,
 * RFC 6184 §5.7.1 and §5.8). */
static const uint8_t vp8_key[] = {0x10, 0x00, 0x9d, 0x01, 0x2a}; /* S=1 PID=0, P=0 */
static const uint8_t vp8_delta[] = {0x10, 0x01};                 /* P=1 */
static const uint8_t h264_idr[] = {0x7c, 0x85};                  /* FU-A, S=1, IDR */
static const uint8_t h264_stap[] = {0x78, 0x00, 0x04, 0x67, 0x42, 0xe0,
                                    0x1f, 0x00, 0x02, 0x68, 0xce}; /* SPS, PPS */
static const uint8_t h264_slice[] = {0x41, 0x9a};                  /* non-IDR slice */

static const struct {
    const uint8_t *bytes;
    unsigned n;
} heads[] = {
    [FX_VP8_KEY] = {vp8_key, sizeof(vp8_key)},
    [FX_VP8_DELTA] = {vp8_delta, sizeof(vp8_delta)},
    [FX_H264_IDR] = {h264_idr, sizeof(h264_idr)},
    [FX_H264_STAP] = {h264_stap, sizeof(h264_stap)},
    [FX_H264_SLICE] = {h264_slice, sizeof(h264_slice)},
    [FX_NONE] = {NULL, 0},
};

static unsigned payload_head(const struct fx_rtp *r, uint8_t *out, unsigned size)
{
    enum fx_payload kind = r->payload;
    if (r->vp8_pid && (kind == FX_VP8_KEY || kind == FX_VP8_DELTA) && size >= 8) {
        /* X=1 S=1; I=1 L=1; M=1 and the 15-bit picture id; TL0PICIDX. */
        const uint8_t d[] = {0x90, 0xc0, (uint8_t)(0x80 | (r->pid >> 8)), (uint8_t)r->pid, r->tl0,
                             kind == FX_VP8_KEY ? 0x00 : 0x01, 0x9d, 0x01};
        memcpy(out, d, sizeof(d));
        return sizeof(d);
    }
    unsigned n = heads[kind].n < size ? heads[kind].n : size;
    if (n)
        memcpy(out, heads[kind].bytes, n);
    return n;
}

size_t fx_rtp_build(const struct fx_rtp *r, uint8_t *out, size_t cap)
{
    struct mr_rtp_out_header oh = {
        .marker = r->marker,
        .payload_type = r->pt,
        .seq = r->seq,
        .timestamp = r->ts,
        .ssrc = r->ssrc,
    };
    struct mr_rtp_ext_out ext[3];
    unsigned n_ext = 0;
    if (r->rid_id)
        ext[n_ext++] =
            (struct mr_rtp_ext_out){r->rid_id, (uint8_t)strlen(r->rid), (const uint8_t *)r->rid};
    if (r->mid_id)
        ext[n_ext++] =
            (struct mr_rtp_ext_out){r->mid_id, (uint8_t)strlen(r->mid), (const uint8_t *)r->mid};
    if (r->level_id)
        ext[n_ext++] = (struct mr_rtp_ext_out){r->level_id, 1, &r->level};
    int hlen = mr_rtp_write_header(out, cap, &oh, ext, n_ext);
    unsigned size = r->payload == FX_NONE ? 0 : r->size ? r->size : 60;
    if (hlen < 0 || (size_t)hlen + size + r->padding > cap)
        return 0;
    uint8_t *p = out + hlen;
    unsigned head = payload_head(r, p, size);
    for (unsigned i = head; i < size; i++)
        p[i] = fx_pattern(r->seq, i);
    size_t len = (size_t)hlen + size;
    if (r->padding) {
        out[0] |= 0x20;
        memset(out + len, 0, r->padding);
        len += r->padding;
        out[len - 1] = r->padding;
    }
    return len;
}

void fx_feed(struct mr_peer *pub, const struct fx_rtp *r)
{
    uint8_t buf[MR_TRANSPORT_BUF];
    size_t len = fx_rtp_build(r, buf, sizeof(buf));
    if (len == 0) {
        fprintf(stderr, "fixture: packet seq %u does not fit\n", r->seq);
        abort();
    }
    /* Each packet comes in a turn of the loop of its own (overload.c sees
     * no stall). */
    fx.w->turn_started_us = mr_clock_mono_us();
    mr_forward_rtp(pub, buf, len);
    /* What forwarding may keep must be a copy. */
    memset(buf, 0xee, sizeof(buf));
}

/* --- Out ------------------------------------------------------------------------- */

bool fx_out_parse(const uint8_t *buf, size_t len, struct fx_out *out)
{
    memset(out, 0, sizeof(*out));
    if (mr_rtp_parse(buf, len, &out->h) < 0 || mr_rtp_ext_parse(buf, &out->h, &out->ext) < 0)
        return false;
    out->buf = buf;
    out->len = len;
    out->payload = buf + out->h.header_len;
    return true;
}

bool fx_out_payload_is(const struct fx_out *o, uint16_t in_seq, unsigned size, unsigned from)
{
    if (o->h.payload_len != size)
        return false;
    for (unsigned i = from; i < size; i++)
        if (o->payload[i] != fx_pattern(in_seq, i))
            return false;
    return true;
}

const uint8_t *fx_out_ext(const struct fx_out *o, uint8_t id, unsigned *len)
{
    const struct mr_rtp_ext_elem *e = mr_rtp_ext_find(&o->ext, id);
    if (!e)
        return NULL;
    if (len)
        *len = e->len;
    return o->buf + e->offset;
}

static const struct fx_datagram *nth(const struct mr_peer *p, bool rtcp, unsigned i)
{
    for (unsigned k = 0; k < fx_sent_total(); k++) {
        const struct fx_datagram *d = fx_sent_at(k);
        if (d->peer == p && d->rtcp == rtcp && i-- == 0)
            return d;
    }
    return NULL;
}

static unsigned count(const struct mr_peer *p, bool rtcp)
{
    unsigned n = 0;
    for (unsigned k = 0; k < fx_sent_total(); k++)
        n += fx_sent_at(k)->peer == p && fx_sent_at(k)->rtcp == rtcp;
    return n;
}

unsigned fx_rtp_count(const struct mr_peer *p)
{
    return count(p, false);
}

bool fx_rtp_get(const struct mr_peer *p, unsigned i, struct fx_out *out)
{
    const struct fx_datagram *d = nth(p, false, i);
    return d && fx_out_parse(d->data, d->len, out);
}

unsigned fx_rtcp_count(const struct mr_peer *p)
{
    return count(p, true);
}

const uint8_t *fx_rtcp_get(const struct mr_peer *p, unsigned i, size_t *len)
{
    const struct fx_datagram *d = nth(p, true, i);
    if (!d)
        return NULL;
    *len = d->len;
    return d->data;
}

bool fx_rtcp_find(const uint8_t *buf, size_t len, uint8_t type, struct mr_rtcp_pkt *pkt)
{
    struct mr_rtcp_iter it;
    mr_rtcp_iter_init(&it, buf, len);
    while (mr_rtcp_next(&it, pkt) == 1)
        if (pkt->type == type)
            return true;
    return false;
}

/* RFC 3550 §6.5: an SDES chunk is an SSRC, then items (type, length,
 * text), ended by a zero byte and padded to 32 bits. */
bool fx_rtcp_cname(const uint8_t *buf, size_t len, uint32_t ssrc, char *out, size_t cap)
{
    struct mr_rtcp_pkt pkt;
    out[0] = '\0';
    if (!fx_rtcp_find(buf, len, MR_RTCP_SDES, &pkt) || pkt.len < 10 || pkt.count < 1)
        return false;
    const uint8_t *c = pkt.data + 4;
    uint32_t chunk_ssrc = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
    if (chunk_ssrc != ssrc || c[4] != 1 || (size_t)c[5] + 10 > pkt.len || c[5] >= cap)
        return false;
    memcpy(out, c + 6, c[5]);
    out[c[5]] = '\0';
    return true;
}

static bool asks_for(const struct mr_rtcp_pkt *pkt, uint32_t media_ssrc)
{
    struct mr_rtcp_fb fb;
    uint32_t ssrc;
    uint8_t seq;
    if (mr_rtcp_parse_fb(pkt, &fb) < 0)
        return false;
    if (fb.fmt == MR_RTCP_PSFB_PLI)
        return fb.media_ssrc == media_ssrc;
    return fb.fmt == MR_RTCP_PSFB_FIR && mr_rtcp_fir_entry(&fb, 0, &ssrc, &seq) == 0 &&
           ssrc == media_ssrc;
}

unsigned fx_keyframe_requests(const struct mr_peer *p, uint32_t media_ssrc)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fx_rtcp_count(p); i++) {
        size_t len = 0;
        const uint8_t *buf = fx_rtcp_get(p, i, &len);
        /* Any of the compound's feedback packets (one per simulcast layer). */
        struct mr_rtcp_iter it;
        struct mr_rtcp_pkt pkt;
        bool asks = false;
        mr_rtcp_iter_init(&it, buf, len);
        while (mr_rtcp_next(&it, &pkt) == 1)
            asks = asks || (pkt.type == MR_RTCP_PSFB && asks_for(&pkt, media_ssrc));
        n += asks;
    }
    return n;
}

unsigned fx_reports(const struct mr_peer *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fx_rtcp_count(p); i++) {
        size_t len = 0;
        const uint8_t *buf = fx_rtcp_get(p, i, &len);
        struct mr_rtcp_pkt pkt;
        n += fx_rtcp_find(buf, len, MR_RTCP_RR, &pkt) && pkt.count > 0;
    }
    return n;
}

/* --- The recording -------------------------------------------------------------- */

struct mr_recording *fx_record(struct mr_stream *s, const struct fx_track *tracks, unsigned n)
{
    struct mr_source_desc desc[MR_MAX_TRACKS];
    struct mr_record_params params;
    memset(&params, 0, sizeof(params));
    for (unsigned i = 0; i < n && i < MR_MAX_TRACKS; i++) {
        desc[i].kind = tracks[i].kind;
        codec_of(&tracks[i], &desc[i].codec);
    }
    struct mr_rec_tap *tap = mr_rec_tap_new(desc, n, &params);
    tap->rec = fx_recording_new();
    g_ptr_array_add(fx.recs, tap->rec);
    mr_stream_post_tap(s, tap);
    fx_run();
    return tap->rec;
}

void fx_record_stop(struct mr_stream *s)
{
    mr_stream_post_tap(s, NULL);
    fx_run();
}
