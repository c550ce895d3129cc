/*
 * The receiving half of a recording: packets from the ring into rtpbin,
 * depayloaded frames out of appsinks (see record_priv.h for the graph).
 *
 * rtpbin settings, and why:
 *  - latency 400 ms: packets in order leave the jitter buffer at once; the
 *    latency only bounds how long a gap is waited for (reordering,
 *    a late packet) before it is declared lost. A recording is not
 *    interactive, so it can afford more than a viewer would.
 *  - no drop-on-latency: after a stall of the recorder thread, the ring's
 *    backlog arrives in a burst (with its true arrival times) and must not
 *    be thinned out. Memory stays bounded anyway: a jitter buffer waits at
 *    most the latency for a gap, and nothing feeds rtpbin while its output
 *    is backed up (see mr_rec_rx_drain).
 *  - do-lost: lost packets become events the depayloaders understand, so a
 *    frame with a hole is not glued onto the next one.
 *  - buffer-mode synced: a stream's first packet is placed at its arrival
 *    time and every later one by its RTP timestamp alone. The default,
 *    slave, follows arrival times with a skew estimate, so a path that
 *    grows slower (a 4G uplink changing cells, a publisher's loaded CPU)
 *    moved the audio against the video, and when the next sender report
 *    re-aligned them the two corrections added up: tens of ms of overshoot
 *    for seconds after a slip of Chromium's microphone. A file is in media
 *    time; arrival jitter has no place in it (test_record_sync).
 *  - the lip-sync offset from the sender reports is applied at once (no
 *    max-ts-offset-adjustment): the first reports usually arrive while the
 *    jitter buffers still hold their first packets, so the file is in sync
 *    from its first frame; a later correction that would step a timestamp
 *    backwards is absorbed by mux.c, which keeps them increasing.
 *  - an input-selector per track takes every new SSRC pad of rtpbin and
 *    switches to the newest one, so an SSRC change costs nothing (an
 *    unlinked rtpbin pad would be a not-linked error).
 *
 * Holes. A packet still missing when its jitter buffer stops waiting is
 * declared lost: the jitter buffer adds it to its "num-lost" statistic and
 * sends a GstRTPPacketLost event downstream, which the depayloader turns
 * into a dropped partial frame (video) or a gap (audio). The event's fields
 * (seqnum, timestamp, duration, retry) do not say how many packets it
 * stands for: a gap already older than the latency when it is seen (an
 * outage, a burst after a stall) is declared lost at once as one event for
 * several packets. So the count comes from num-lost, read by a probe for
 * downstream events on each jitter buffer's src pad when such an event (or
 * EOS) passes. Events are rare; buffers pass the probe with one mask test.
 * The jitter buffer increments num-lost before it queues the event and
 * pushes events without its lock held, so reading the statistic there
 * neither misses the event's own packets nor deadlocks. A track has one
 * jitter buffer per SSRC, each counted from its own zero.
 */
#include "record/record_priv.h"

#include <stdio.h>
#include <string.h>

#include "core/counter.h"
#include "core/error.h"
#include "core/log.h"

static GstElement *make(const char *factory, const char *name, char *err, size_t err_len)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e)
        snprintf(err, err_len, "GStreamer element %s is missing", factory);
    return e;
}

static void on_pad_added(GstElement *bin, GstPad *pad, gpointer data)
{
    struct mr_recording *rec = data;
    unsigned session, ssrc, pt;
    (void)bin;
    if (sscanf(GST_PAD_NAME(pad), "recv_rtp_src_%u_%u_%u", &session, &ssrc, &pt) != 3 ||
        session >= rec->p.n_tracks)
        return;
    GstElement *sel = rec->tracks[session].depay;
    GstPad *sink = gst_element_request_pad_simple(sel, "sink_%u");
    if (!sink)
        return;
    if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
        mr_log_warn(RECORD, "rec %s: track %u: cannot link SSRC %u", rec->id, session, ssrc);
    else
        g_object_set(sel, "active-pad", sink, NULL);
    mr_log_debug(RECORD, "rec %s: track %u: SSRC %u, payload type %u", rec->id, session, ssrc, pt);
    gst_object_unref(sink);
}

/* Process-wide totals for /metrics; written by any jitter buffer's thread. */
static uint64_t lost_total[2];

struct lost_probe {
    struct mr_recording *rec; /* outlives the rx pipeline, hence the probe */
    enum mr_record_kind kind;
    guint64 seen; /* this jitter buffer's num-lost already counted */
};

static GstPadProbeReturn on_jb_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    struct lost_probe *lp = data;
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) != GST_EVENT_EOS &&
        !(GST_EVENT_TYPE(ev) == GST_EVENT_CUSTOM_DOWNSTREAM &&
          gst_event_has_name(ev, "GstRTPPacketLost")))
        return GST_PAD_PROBE_OK;
    GstObject *jb = gst_pad_get_parent(pad);
    GstStructure *stats = NULL;
    guint64 lost = 0;
    if (jb) {
        g_object_get(jb, "stats", &stats, NULL);
        gst_object_unref(jb);
    }
    if (stats && gst_structure_get_uint64(stats, "num-lost", &lost) && lost > lp->seen) {
        __atomic_add_fetch(&lp->rec->lost[lp->kind], lost - lp->seen, __ATOMIC_RELAXED);
        __atomic_add_fetch(&lost_total[lp->kind], lost - lp->seen, __ATOMIC_RELAXED);
        lp->seen = lost;
    }
    if (stats)
        gst_structure_free(stats);
    return GST_PAD_PROBE_OK;
}

/* rtpbin made a jitter buffer for a new SSRC of session (= track). */
static void on_new_jitterbuffer(GstElement *bin, GstElement *jb, guint session, guint ssrc,
                                gpointer data)
{
    struct mr_recording *rec = data;
    (void)bin;
    (void)ssrc;
    if (session >= rec->p.n_tracks)
        return;
    GstPad *src = gst_element_get_static_pad(jb, "src");
    if (!src)
        return;
    struct lost_probe *lp = g_new0(struct lost_probe, 1);
    lp->rec = rec;
    lp->kind = rec->p.tracks[session].kind == MR_RECORD_AUDIO ? MR_RECORD_AUDIO : MR_RECORD_VIDEO;
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_jb_event, lp, g_free);
    gst_object_unref(src);
}

uint64_t mr_rec_lost(const struct mr_recording *rec, enum mr_record_kind kind)
{
    return __atomic_load_n(&rec->lost[kind == MR_RECORD_AUDIO ? 0 : 1], __ATOMIC_RELAXED);
}

uint64_t mr_record_lost_total(enum mr_record_kind kind)
{
    return __atomic_load_n(&lost_total[kind == MR_RECORD_AUDIO ? 0 : 1], __ATOMIC_RELAXED);
}

static GstCaps *on_pt_map(GstElement *bin, guint session, guint pt, gpointer data)
{
    struct mr_recording *rec = data;
    (void)bin;
    if (session >= rec->p.n_tracks || rec->p.tracks[session].pt != pt)
        return NULL;
    return mr_rec_rtp_caps(&rec->p.tracks[session], rec->tracks[session].codec);
}

static GstElement *make_src(struct mr_recording *rec, const char *name, GstCaps *caps,
                            const char *bin_pad, char *err, size_t err_len)
{
    GstElement *src = make("appsrc", name, err, err_len);
    if (!src) {
        gst_caps_unref(caps);
        return NULL;
    }
    g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE, "max-bytes",
                 (guint64)4 * MR_REC_RX_MAX_BYTES, "block", FALSE, "emit-signals", FALSE, NULL);
    gst_caps_unref(caps);
    gst_bin_add(GST_BIN(rec->rx), src);
    GstPad *sink = gst_element_request_pad_simple(rec->rtpbin, bin_pad);
    GstPad *srcpad = gst_element_get_static_pad(src, "src");
    bool ok = sink && gst_pad_link(srcpad, sink) == GST_PAD_LINK_OK;
    if (sink)
        gst_object_unref(sink);
    gst_object_unref(srcpad);
    if (!ok) {
        snprintf(err, err_len, "cannot link %s to rtpbin", name);
        return NULL;
    }
    return src;
}

/* selector -> depayloader [-> parser [-> capsfilter]] -> appsink */
static int build_chain(struct mr_recording *rec, unsigned i, char *err, size_t err_len)
{
    struct mr_rec_track *t = &rec->tracks[i];
    const struct mr_rec_codec *c = t->codec;
    GstElement *chain[5];
    unsigned n = 0;
    chain[n++] = t->depay = make("input-selector", NULL, err, err_len);
    chain[n++] = make(c->depay, NULL, err, err_len);
    if (c->parse)
        chain[n++] = make(c->parse, NULL, err, err_len);
    if (c->out_caps)
        chain[n++] = make("capsfilter", NULL, err, err_len);
    chain[n++] = t->sink = make("appsink", NULL, err, err_len);
    for (unsigned k = 0; k < n; k++)
        if (!chain[k]) {
            for (unsigned j = 0; j < n; j++)
                if (chain[j])
                    gst_object_unref(gst_object_ref_sink(chain[j]));
            t->depay = t->sink = NULL;
            return MR_ENOTSUP;
        }
    g_object_set(t->depay, "sync-streams", FALSE, "cache-buffers", FALSE, NULL);
    if (c->parse && strcmp(c->parse, "h264parse") == 0)
        g_object_set(chain[2], "config-interval", -1, NULL);
    if (c->out_caps) {
        GstCaps *caps = gst_caps_from_string(c->out_caps);
        g_object_set(chain[n - 2], "caps", caps, NULL);
        gst_caps_unref(caps);
    }
    /* The recorder thread pulls; sync=false because nothing here should wait
     * for the clock; the queue is bounded and blocks rtpbin's output when the
     * recorder falls behind (the ring then overflows and counts drops). */
    g_object_set(t->sink, "sync", FALSE, "async", FALSE, "max-buffers", 1000, "drop", FALSE,
                 "emit-signals", FALSE, "enable-last-sample", FALSE, NULL);
    for (unsigned k = 0; k < n; k++)
        gst_bin_add(GST_BIN(rec->rx), chain[k]);
    for (unsigned k = 0; k + 1 < n; k++)
        if (!gst_element_link(chain[k], chain[k + 1])) {
            snprintf(err, err_len, "cannot link the %s chain", c->label);
            return MR_ENOTSUP;
        }
    return 0;
}

static int build_track(struct mr_recording *rec, unsigned i, char *err, size_t err_len)
{
    struct mr_rec_track *t = &rec->tracks[i];
    char name[32], pad[32];
    snprintf(name, sizeof(name), "rtp%u", i);
    snprintf(pad, sizeof(pad), "recv_rtp_sink_%u", i);
    t->rtp_src =
        make_src(rec, name, mr_rec_rtp_caps(&rec->p.tracks[i], t->codec), pad, err, err_len);
    snprintf(name, sizeof(name), "rtcp%u", i);
    snprintf(pad, sizeof(pad), "recv_rtcp_sink_%u", i);
    if (t->rtp_src)
        t->rtcp_src =
            make_src(rec, name, gst_caps_new_empty_simple("application/x-rtcp"), pad, err, err_len);
    if (!t->rtp_src || !t->rtcp_src)
        return MR_ENOTSUP;
    return build_chain(rec, i, err, err_len);
}

int mr_rec_rx_build(struct mr_recording *rec, char *err, size_t err_len)
{
    char name[40];
    snprintf(name, sizeof(name), "rx-%s", rec->id);
    rec->rx = gst_pipeline_new(name);
    rec->rtpbin = make("rtpbin", NULL, err, err_len);
    if (!rec->rx || !rec->rtpbin) {
        if (rec->rtpbin)
            gst_object_unref(gst_object_ref_sink(rec->rtpbin));
        rec->rtpbin = NULL;
        goto fail;
    }
    g_object_set(rec->rtpbin, "latency", MR_REC_LATENCY_MS, "drop-on-latency", FALSE, "do-lost",
                 TRUE, NULL);
    gst_util_set_object_arg(G_OBJECT(rec->rtpbin), "buffer-mode", "synced");
    gst_bin_add(GST_BIN(rec->rx), rec->rtpbin);
    g_signal_connect(rec->rtpbin, "pad-added", G_CALLBACK(on_pad_added), rec);
    g_signal_connect(rec->rtpbin, "request-pt-map", G_CALLBACK(on_pt_map), rec);
    g_signal_connect(rec->rtpbin, "new-jitterbuffer", G_CALLBACK(on_new_jitterbuffer), rec);
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        if (build_track(rec, i, err, err_len) < 0)
            goto fail;
    return 0;

    /* ERRORS */
fail:
    mr_rec_rx_free(rec);
    return MR_ENOTSUP;
}

static gboolean on_rx_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
    struct mr_recording *rec = data;
    (void)bus;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR && rec->phase != MR_PHASE_END) {
        GError *e = NULL;
        char why[256];
        gst_message_parse_error(msg, &e, NULL);
        snprintf(why, sizeof(why), "receiving pipeline: %s", e ? e->message : "error");
        g_clear_error(&e);
        mr_rec_fail(rec, why);
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
        GError *e = NULL;
        gst_message_parse_warning(msg, &e, NULL);
        mr_log_debug(RECORD, "rec %s: %s", rec->id, e ? e->message : "warning");
        g_clear_error(&e);
    }
    return G_SOURCE_CONTINUE;
}

/* Recorder thread: running time 0 is the moment the recording started on
 * the worker's clock, so that a packet's arrival time maps directly to its
 * running time (rtpbin's jitter buffers take arrival times from DTS). */
int mr_rec_rx_start(struct mr_recording *rec)
{
    GstClock *clock = gst_system_clock_obtain();
    rec->rx_base = (GstClockTime)(rec->start_mono_us * 1000 + rec->r->clock_offset_ns);
    gst_pipeline_use_clock(GST_PIPELINE(rec->rx), clock);
    gst_object_unref(clock);
    gst_element_set_start_time(rec->rx, GST_CLOCK_TIME_NONE);
    gst_element_set_base_time(rec->rx, rec->rx_base);
    GstBus *bus = gst_element_get_bus(rec->rx);
    rec->rx_watch = gst_bus_create_watch(bus);
    gst_object_unref(bus);
    g_source_set_callback(rec->rx_watch, G_SOURCE_FUNC(on_rx_bus), rec, NULL);
    g_source_attach(rec->rx_watch, rec->r->ctx);
    if (gst_element_set_state(rec->rx, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        return MR_EIO;
    return 0;
}

static bool rx_congested(struct mr_recording *rec)
{
    for (unsigned i = 0; i < rec->p.n_tracks; i++)
        if (gst_app_src_get_current_level_bytes(GST_APP_SRC(rec->tracks[i].rtp_src)) >
            MR_REC_RX_MAX_BYTES)
            return true;
    if (rec->seg && mr_rec_seg_congested(rec->seg))
        return true;
    return false;
}

static void push_slot(struct mr_recording *rec, const struct mr_ring_slot *s)
{
    if (s->track >= rec->p.n_tracks)
        return;
    int64_t t = s->arrival_us * 1000 + rec->r->clock_offset_ns - (int64_t)rec->rx_base;
    GstBuffer *buf = gst_buffer_new_memdup(s->data, s->len);
    GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) = t > 0 ? (GstClockTime)t : 0;
    struct mr_rec_track *tr = &rec->tracks[s->track];
    GstElement *src = s->kind == MR_RECORD_RTCP ? tr->rtcp_src : tr->rtp_src;
    gst_app_src_push_buffer(GST_APP_SRC(src), buf);
}

/* Moves packets from the ring into rtpbin, unless something downstream is
 * backed up: then they stay in the ring, and when that is full the worker's
 * pushes fail and count as drops, which is the one place loss is counted. */
void mr_rec_rx_drain(struct mr_recording *rec, bool force)
{
    if (!force && rx_congested(rec))
        return;
    uint64_t n = 0;
    const struct mr_ring_slot *s;
    while ((s = mr_ring_peek(&rec->ring))) {
        push_slot(rec, s);
        mr_ring_release(&rec->ring);
        n++;
    }
    if (n)
        mr_counter_add(&rec->packets, n);
}

void mr_rec_rx_end(struct mr_recording *rec)
{
    for (unsigned i = 0; i < rec->p.n_tracks; i++) {
        gst_app_src_end_of_stream(GST_APP_SRC(rec->tracks[i].rtp_src));
        gst_app_src_end_of_stream(GST_APP_SRC(rec->tracks[i].rtcp_src));
    }
}

/* True when every track either delivered its end of stream or never had a
 * packet (rtpbin then made no pad for it and nothing will come). */
bool mr_rec_rx_done(struct mr_recording *rec)
{
    for (unsigned i = 0; i < rec->p.n_tracks; i++) {
        struct mr_rec_track *t = &rec->tracks[i];
        if (!t->depay)
            continue;
        GST_OBJECT_LOCK(t->depay);
        bool never = t->depay->numsinkpads == 0;
        GST_OBJECT_UNLOCK(t->depay);
        if (!t->eos && !never)
            return false;
    }
    return true;
}

void mr_rec_rx_free(struct mr_recording *rec)
{
    if (rec->rx_watch) {
        g_source_destroy(rec->rx_watch);
        g_source_unref(rec->rx_watch);
        rec->rx_watch = NULL;
    }
    if (rec->rx) {
        gst_element_set_state(rec->rx, GST_STATE_NULL);
        gst_object_unref(rec->rx);
        rec->rx = NULL;
    }
    for (unsigned i = 0; i < MR_RECORD_MAX_TRACKS; i++) {
        gst_caps_replace(&rec->tracks[i].caps, NULL);
        gst_caps_replace(&rec->tracks[i].raw_caps, NULL);
    }
}
