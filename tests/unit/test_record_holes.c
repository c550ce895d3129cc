/*
 * Holes in a recording: packets its jitter buffers declared lost. Two
 * recordings are fed at once, in real time, with the same Opus and VP8
 * streams: one as sent, one with packets that never arrive and packets that
 * arrive late but within the jitter buffers' 400 ms latency (a reordering,
 * or a retransmission the relay obtained). The holes must be exactly the
 * packets never sent, per track, in the recording's info, its sidecar and
 * the process-wide totals; the late packets are not holes; the clean
 * recording has none; both files play.
 */
#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"
#include "test_record_media.h"

#define SECONDS 4.0
#define MS      1000000LL /* ns */

static char root[128];

/* RFC 3550 section 5.1: the payload after the fixed header, CSRCs and the
 * header extension. */
static const uint8_t *rtp_payload(const struct tm_pkt *p, size_t *len)
{
    const uint8_t *d = p->data;
    size_t off = 12 + 4u * (d[0] & 0x0f);
    if ((d[0] & 0x10) && off + 4 <= p->len)
        off += 4 + 4u * ((size_t)d[off + 2] << 8 | d[off + 3]);
    *len = off < p->len ? p->len - off : 0;
    return d + off;
}

/* RFC 7741 section 4.2: true when the packet starts a VP8 key frame (its
 * payload descriptor's S bit and partition 0, then the payload header's P
 * bit clear, RFC 6386 section 9.1). */
static bool vp8_key_start(const struct tm_pkt *p)
{
    size_t len, i = 1;
    const uint8_t *d = rtp_payload(p, &len);
    if (len < 1 || !(d[0] & 0x10) || (d[0] & 0x07) != 0)
        return false;
    if (d[0] & 0x80) { /* X: I, L, T and K follow */
        if (len < 2)
            return false;
        uint8_t x = d[1];
        i = 2;
        if (x & 0x80) /* I: a 7- or 15-bit picture id */
            i += i < len && (d[i] & 0x80) ? 2 : 1;
        if (x & 0x40) /* L: TL0PICIDX */
            i++;
        if (x & 0x30) /* T or K: TID, Y, KEYIDX */
            i++;
    }
    return i < len && (d[i] & 0x01) == 0;
}

/* True when packet i belongs to a key frame (same capture time as a
 * packet that starts one). */
static bool in_key_frame(const struct tm_track *t, size_t i)
{
    for (size_t k = 0; k < t->n; k++)
        if (t->p[k].pts_ns == t->p[i].pts_ns && vp8_key_start(&t->p[k]))
            return true;
    return false;
}

/* The first packet at or after capture time at_ns that is not in a key
 * frame (for video) and not yet picked. */
static size_t pick(const struct tm_track *t, int64_t at_ns, bool video, const bool *taken)
{
    for (size_t i = 1; i < t->n; i++)
        if (t->p[i].pts_ns >= at_ns && !taken[i] && !(video && in_key_frame(t, i)))
            return i;
    return 0;
}

/* Sends packet i late_ns after its time: it moves behind the packets sent
 * meanwhile (the feeder sends in order, at capture time + delay). */
static void delay(struct tm_track *t, size_t i, int64_t late_ns)
{
    struct tm_pkt p = t->p[i];
    p.pts_ns += late_ns;
    size_t j = i;
    while (j + 1 < t->n && t->p[j + 1].pts_ns <= p.pts_ns) {
        t->p[j] = t->p[j + 1];
        j++;
    }
    t->p[j] = p;
}

struct impairment {
    int64_t drop_at[5]; /* single packets never sent */
    int64_t outage_at;  /* ... and outage_n consecutive ones from here */
    unsigned outage_n;
    int64_t late_at[3]; /* packets sent late ... */
    int64_t late_ns[3]; /* ... by this much (under the 400 ms latency) */
};

/*
 * Applies an impairment; returns how many packets are never sent. Indexes
 * are chosen on the intact track, then removed from the highest down, and
 * the late packets moved last, so no choice disturbs another.
 */
static unsigned impair(struct tm_track *t, const struct impairment *im, bool video)
{
    bool *taken = calloc(t->n, sizeof(bool));
    size_t gone[64], late[3];
    unsigned n_gone = 0;
    for (int k = 0; k < 5; k++) {
        size_t i = pick(t, im->drop_at[k], video, taken);
        CHECK(i > 0);
        taken[i] = true;
        gone[n_gone++] = i;
    }
    size_t first = im->outage_n ? pick(t, im->outage_at, video, taken) : 0;
    for (unsigned k = 0; k < im->outage_n && first + k < t->n; k++) {
        CHECK(!taken[first + k]);
        taken[first + k] = true;
        gone[n_gone++] = first + k;
    }
    for (int k = 0; k < 3; k++) {
        late[k] = pick(t, im->late_at[k], video, taken);
        CHECK(late[k] > 0);
        taken[late[k]] = true;
    }
    /* Mark the lost ones, move the late ones from the last down, then
     * remove the marked: no step moves a packet another one still names. */
    for (unsigned k = 0; k < n_gone; k++) {
        free(t->p[gone[k]].data);
        t->p[gone[k]].data = NULL;
    }
    for (int k = 2; k >= 0; k--)
        delay(t, late[k], im->late_ns[k]);
    size_t out = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->p[i].data)
            t->p[out++] = t->p[i];
    t->n = out;
    free(taken);
    return n_gone;
}

static void check_file(const char *name, const struct mr_recording_info *info, uint64_t audio,
                       uint64_t video)
{
    struct tm_probe pr = tm_discover(info->path);
    struct tm_decoded d = tm_decode(info->path);
    printf("  %s: holes audio %llu video %llu, %.2f s, video %u frames to %.2f s, audio to "
           "%.2f s%s\n",
           name, (unsigned long long)info->lost_packets[MR_RECORD_AUDIO],
           (unsigned long long)info->lost_packets[MR_RECORD_VIDEO], pr.duration_s, d.video_frames,
           d.video_end_s, d.audio_end_s, d.error ? ", decoding error" : "");
    CHECK_INT(info->lost_packets[MR_RECORD_AUDIO], audio);
    CHECK_INT(info->lost_packets[MR_RECORD_VIDEO], video);
    CHECK_INT(info->dropped, 0);
    CHECK(pr.ok && !d.error);
    CHECK(fabs(pr.duration_s - SECONDS) < SECONDS * 0.1);
    CHECK(d.video_end_s > SECONDS - 0.5 && d.audio_end_s > SECONDS - 0.5);
    CHECK(d.video_frames >= 100);
    json_t *doc = tm_sidecar(info->path);
    CHECK(doc != NULL);
    json_t *lost = json_object_get(doc, "lost_packets");
    CHECK(json_is_object(lost));
    CHECK_INT(json_integer_value(json_object_get(lost, "audio")), audio);
    CHECK_INT(json_integer_value(json_object_get(lost, "video")), video);
    CHECK_STR(tm_jstr(doc, "state"), "complete");
    json_decref(doc);
}

static void test_holes(void)
{
    mr_log_init();
    tm_tmpdir(root, sizeof(root), "holes");
    struct mr_record_config cfg = {.dir = root};
    struct mr_recorder *r = NULL;
    CHECK_INT(mr_recorder_new(&cfg, &r), 0);
    uint64_t total_a = mr_record_lost_total(MR_RECORD_AUDIO);
    uint64_t total_v = mr_record_lost_total(MR_RECORD_VIDEO);
    const char *names[2] = {"clean", "holes"};
    struct tm_track a[2] = {{0}}, v[2] = {{0}};
    struct tm_feed f[2];
    memset(f, 0, sizeof(f));
    for (int k = 0; k < 2; k++) {
        CHECK(tm_make_opus(&a[k], SECONDS, 0x1111));
        CHECK(tm_make_vp8(&v[k], SECONDS, 0, 0x2222, "ball"));
        struct mr_record_params p = tm_params("holes", names[k]);
        p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_AUDIO, "opus", 111, 0x1111);
        p.tracks[p.n_tracks++] = tm_track_param(MR_RECORD_VIDEO, "VP8", 96, 0x2222);
        f[k].tracks[0] = &a[k];
        f[k].tracks[1] = &v[k];
        f[k].n = 2;
        char err[256];
        CHECK_INT(mr_recording_start(r, &p, NULL, NULL, &f[k].rec, err, sizeof(err)), 0);
    }
    /* Video: a burst of three and two single packets never sent, away from
     * key frames (a lost key frame would cost the file seconds, not what
     * is measured here); three sent 60, 120 and 200 ms late. Audio: five
     * single packets and a 600 ms outage (30 packets), longer than the
     * latency, which the jitter buffer declares lost partly as one event
     * for several packets. */
    const struct impairment iv = {
        .drop_at = {1300 * MS, 1300 * MS, 1300 * MS, 2200 * MS, 3300 * MS},
        .late_at = {1600 * MS, 2500 * MS, 2800 * MS},
        .late_ns = {60 * MS, 120 * MS, 200 * MS},
    };
    const struct impairment ia = {
        .drop_at = {700 * MS, 1100 * MS, 1500 * MS, 1900 * MS, 3500 * MS},
        .outage_at = 2400 * MS,
        .outage_n = 30,
        .late_at = {1300 * MS, 1700 * MS, 3200 * MS},
        .late_ns = {60 * MS, 120 * MS, 200 * MS},
    };
    size_t sent_v = v[1].n, sent_a = a[1].n;
    unsigned gone_v = impair(&v[1], &iv, true);
    unsigned gone_a = impair(&a[1], &ia, false);
    CHECK_INT(gone_v, 5);
    CHECK_INT(gone_a, 35);
    CHECK_INT(v[1].n, sent_v - 5);
    CHECK_INT(a[1].n, sent_a - 35);
    tm_feed_run(f, 2, 0);
    for (int k = 0; k < 2; k++) {
        mr_recording_stop(f[k].rec);
        CHECK_INT(tm_wait_end(f[k].rec, 10000), MR_RECORDING_DONE);
        struct mr_recording_info info;
        mr_recording_info(f[k].rec, &info);
        check_file(names[k], &info, k ? gone_a : 0, k ? gone_v : 0);
        mr_recording_unref(f[k].rec);
        tm_track_free(&a[k]);
        tm_track_free(&v[k]);
    }
    CHECK_INT(mr_record_lost_total(MR_RECORD_AUDIO) - total_a, gone_a);
    CHECK_INT(mr_record_lost_total(MR_RECORD_VIDEO) - total_v, gone_v);
    mr_recorder_free(r, 1000);
    tm_rmrf(root);
}

MR_TEST_MAIN(MR_TEST(test_holes))
