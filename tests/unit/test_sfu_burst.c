/*
 * burst.c: a worker's burst of input fanned out sink by sink (burst.h).
 * Packets wait while the publisher's socket has more queued, then go out
 * each sink's at once, in arrival order, stream by stream; at most
 * MR_BURST_PACKETS wait; a publisher change sends what waits under the old
 * binding first; each waiting packet holds a reference on its stream.
 */
#include "sfu_fixture.h"

#include "mr_test.h"

#define PT_OPUS 111

static const struct fx_track mic[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = PT_OPUS, .ssrc = 0xa0}};
static const struct fx_track ear[] = {
    {.kind = MR_MEDIA_AUDIO, .mid = "0", .codec = MR_CODEC_OPUS, .pt = 109}};

static struct mr_peer *publisher(struct mr_stream *s, uint32_t ssrc)
{
    struct fx_track t = mic[0];
    t.ssrc = ssrc;
    struct mr_peer *p = fx_publisher(s, &t, 1);
    mr_stream_attach(s, p);
    return p;
}

static struct mr_peer *viewer(struct mr_stream *s)
{
    struct mr_peer *p = fx_subscriber(s, ear, 1);
    mr_stream_attach(s, p);
    return p;
}

/* Audio packet seq of ssrc; its payload is 10 + seq bytes long, so the
 * output tells which input it was. */
static void audio(struct mr_peer *pub, uint32_t ssrc, uint16_t seq)
{
    fx_feed(pub, &(struct fx_rtp){
                     .pt = PT_OPUS, .ssrc = ssrc, .seq = seq, .ts = seq * 960u, .size = 10u + seq});
}

/* Datagram i of everything sent: to p, and input packet seq? */
static bool sent_is(unsigned i, const struct mr_peer *p, uint16_t seq)
{
    const struct fx_datagram *d = fx_sent_at(i);
    struct fx_out o;
    return d && d->peer == p && !d->rtcp && fx_out_parse(d->data, d->len, &o) &&
           fx_out_payload_is(&o, seq, 10u + seq, 0);
}

static void test_sink_by_sink(void)
{
    fx_setup();
    struct mr_stream *s = fx_stream("cam", 5);
    struct mr_peer *pub = publisher(s, 0xa0);
    struct mr_peer *a = viewer(s), *b = viewer(s);
    fx_sent_clear();
    fx_set_backlog(pub, 3000, 1 << 20);
    audio(pub, 0xa0, 1);
    audio(pub, 0xa0, 2);
    audio(pub, 0xa0, 3);
    CHECK_INT(fx_sent_total(), 0);
    CHECK_INT(fx_pending(), 0); /* not even written into slots yet */

    /* The burst is over when the loop has nothing more to read. */
    fx_run();
    CHECK_INT(fx_sent_total(), 6);
    CHECK(sent_is(0, a, 1));
    CHECK(sent_is(1, a, 2));
    CHECK(sent_is(2, a, 3));
    CHECK(sent_is(3, b, 1));
    CHECK(sent_is(4, b, 2));
    CHECK(sent_is(5, b, 3));
    CHECK_INT(fx_receivers_done(), 2);
    CHECK_INT(fx_sendq_flushes(), 1);

    /* The last packet waiting on the socket ends the burst at once. */
    audio(pub, 0xa0, 4);
    fx_set_backlog(pub, 0, 1 << 20);
    audio(pub, 0xa0, 5);
    CHECK_INT(fx_sent_total(), 10);
    CHECK(sent_is(6, a, 4));
    CHECK(sent_is(7, a, 5));
    CHECK(sent_is(8, b, 4));
    CHECK(sent_is(9, b, 5));
    CHECK_INT(fx_teardown(), 0);
}

static gboolean count_sent(gpointer data)
{
    *(unsigned *)data = fx_sent_total() + 1;
    return G_SOURCE_REMOVE;
}

static void test_after_other_input(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("cam", 5);
    struct mr_peer *pub = publisher(s, 0xa0);
    viewer(s);
    fx_run();
    fx_sent_clear();
    fx_set_backlog(pub, 3000, 1 << 20);
    audio(pub, 0xa0, 1);
    /* Input ready in the same turn (another socket, a timer, a posted
     * call) is handled before the fan-out. */
    unsigned seen = 0;
    GSource *idle = g_idle_source_new();
    g_source_set_priority(idle, G_PRIORITY_DEFAULT);
    g_source_set_callback(idle, count_sent, &seen, NULL);
    g_source_attach(idle, w->ctx);
    g_source_unref(idle);
    fx_run();
    CHECK_INT(seen, 1); /* nothing had been sent */
    CHECK_INT(fx_sent_total(), 1);
    CHECK_INT(fx_teardown(), 0);
}

static void test_grouped_by_stream(void)
{
    fx_setup();
    struct mr_stream *s1 = fx_stream("one", 5), *s2 = fx_stream("two", 5);
    struct mr_peer *p1 = publisher(s1, 0x11), *p2 = publisher(s2, 0x22);
    struct mr_peer *v1 = viewer(s1), *v2 = viewer(s2), *w1 = viewer(s1);
    fx_sent_clear();
    fx_set_backlog(p1, 3000, 1 << 20);
    fx_set_backlog(p2, 3000, 1 << 20);
    audio(p2, 0x22, 1);
    audio(p1, 0x11, 2);
    audio(p2, 0x22, 3);
    audio(p1, 0x11, 4);
    fx_run();
    /* The stream of the first packet first, each stream's in order. */
    CHECK_INT(fx_sent_total(), 6);
    CHECK(sent_is(0, v2, 1));
    CHECK(sent_is(1, v2, 3));
    CHECK(sent_is(2, v1, 2));
    CHECK(sent_is(3, v1, 4));
    CHECK(sent_is(4, w1, 2));
    CHECK(sent_is(5, w1, 4));
    CHECK_INT(fx_receivers_done(), 3);
    CHECK_INT(fx_teardown(), 0);
}

static void test_flush_when_full(void)
{
    fx_setup();
    struct mr_stream *s = fx_stream("cam", 5);
    struct mr_peer *pub = publisher(s, 0xa0);
    struct mr_peer *v = viewer(s);
    fx_sent_clear();
    fx_set_backlog(pub, 3000, 1 << 20);
    for (unsigned i = 0; i < MR_BURST_PACKETS; i++)
        audio(pub, 0xa0, (uint16_t)(100 + i));
    CHECK_INT(fx_sent_total(), 0);
    audio(pub, 0xa0, 100 + MR_BURST_PACKETS);
    CHECK_INT(fx_rtp_count(v), MR_BURST_PACKETS);
    CHECK(sent_is(0, v, 100));
    CHECK(sent_is(MR_BURST_PACKETS - 1, v, 100 + MR_BURST_PACKETS - 1));
    fx_run();
    CHECK_INT(fx_rtp_count(v), MR_BURST_PACKETS + 1);
    CHECK(sent_is(MR_BURST_PACKETS, v, 100 + MR_BURST_PACKETS));
    /* One sequence, nothing lost at the seam. */
    struct fx_out first, last;
    CHECK(fx_rtp_get(v, 0, &first) && fx_rtp_get(v, MR_BURST_PACKETS, &last));
    CHECK_INT(last.h.seq, (uint16_t)(first.h.seq + MR_BURST_PACKETS));
    CHECK_INT(fx_teardown(), 0);
}

static void test_publisher_change_flushes(void)
{
    fx_setup();
    struct mr_stream *s = fx_stream("cam", 5);
    struct mr_peer *old = publisher(s, 0xa0);
    struct mr_peer *v = viewer(s);
    struct mr_receiver *rx = &v->receivers[0];
    uint16_t seq0 = (uint16_t)(rx->rw.last_seq + 1);
    fx_sent_clear();
    fx_set_backlog(old, 3000, 1 << 20);
    audio(old, 0xa0, 1);
    audio(old, 0xa0, 2);

    /* The clinic reconnects: what the old publisher sent goes out first,
     * under the old binding, before the receiver is rebound. */
    struct mr_peer *new = fx_publisher(s, mic, 1);
    new->sources[0].enc[0].ssrc = 0xb0;
    mr_stream_attach(s, new);
    CHECK_INT(fx_rtp_count(v), 2);
    CHECK(sent_is(0, v, 1));
    CHECK(sent_is(1, v, 2));
    CHECK(!old->attached);
    CHECK(s->publisher == new);
    CHECK(!rx->rw.bound);

    /* Its packets continue the viewer's sequence. */
    audio(new, 0xb0, 400);
    CHECK_INT(fx_rtp_count(v), 3);
    struct fx_out o;
    CHECK(fx_rtp_get(v, 2, &o));
    CHECK_INT(o.h.seq, (uint16_t)(seq0 + 2));
    CHECK_INT(o.h.ssrc, rx->out_ssrc);

    /* Packets of a publisher that is no longer the stream's (the
     * transport's callback stops them; the fan-out skips them too). */
    fx_set_backlog(new, 3000, 1 << 20);
    audio(old, 0xa0, 3);
    audio(new, 0xb0, 401);
    fx_run();
    CHECK_INT(fx_rtp_count(v), 4);
    CHECK(sent_is(3, v, 401));

    /* Leaving flushes too. */
    audio(new, 0xb0, 402);
    mr_stream_detach(s, new);
    CHECK_INT(fx_rtp_count(v), 5);
    CHECK(sent_is(4, v, 402));
    CHECK(!s->publisher);
    CHECK_INT(fx_teardown(), 0);
}

static void test_stream_references(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("cam", 5);
    struct mr_peer *pub = publisher(s, 0xa0);
    struct mr_peer *v = viewer(s);
    int base = g_atomic_int_get(&s->refs);
    fx_set_backlog(pub, 3000, 1 << 20);
    audio(pub, 0xa0, 1);
    audio(pub, 0xa0, 2);
    CHECK_INT(g_atomic_int_get(&s->refs), base + 2);
    fx_run();
    CHECK_INT(g_atomic_int_get(&s->refs), base);

    /* Freeing the burst fans out what waits and lets the references go. */
    audio(pub, 0xa0, 3);
    CHECK_INT(g_atomic_int_get(&s->refs), base + 1);
    mr_burst_free(w->burst);
    mr_burst_new(w, &w->burst);
    CHECK_INT(g_atomic_int_get(&s->refs), base);
    CHECK_INT(fx_rtp_count(v), 3);
    CHECK_INT(fx_teardown(), 0);
}

static void test_oversized_not_kept(void)
{
    struct mr_worker *w = fx_setup();
    struct mr_stream *s = fx_stream("cam", 5);
    struct mr_peer *pub = publisher(s, 0xa0);
    struct mr_peer *v = viewer(s);
    int base = g_atomic_int_get(&s->refs);
    /* Larger than any datagram the transport takes: not copied. */
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS, .ssrc = 0xa0, .seq = 1, .size = 1600});
    CHECK_INT(fx_rtp_count(v), 0);
    CHECK_INT(g_atomic_int_get(&s->refs), base);
    CHECK_INT(w->sfu.forwarded, 0);
    fx_feed(pub, &(struct fx_rtp){.pt = PT_OPUS, .ssrc = 0xa0, .seq = 2, .size = 1400});
    CHECK_INT(fx_rtp_count(v), 1);
    CHECK_INT(fx_teardown(), 0);
}

MR_TEST_MAIN(MR_TEST(test_sink_by_sink), MR_TEST(test_after_other_input),
             MR_TEST(test_grouped_by_stream), MR_TEST(test_flush_when_full),
             MR_TEST(test_publisher_change_flushes), MR_TEST(test_stream_references),
             MR_TEST(test_oversized_not_kept))
