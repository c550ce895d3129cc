/*
 * The recorder's insides, shared by its files and by nothing else.
 *
 * Two pipelines per recording, both driven by the recorder thread:
 *
 *   rx (one for the whole recording):
 *     appsrc rtp_i  -> rtpbin.recv_rtp_sink_i  -> depay_i [-> parse_i] -> appsink_i
 *     appsrc rtcp_i -> rtpbin.recv_rtcp_sink_i
 *   rtpbin reorders and de-jitters (a jitter buffer per session) and, from
 *   the sender reports and the shared CNAME, shifts each stream so that
 *   equal capture times get equal running times: that is the lip-sync.
 *
 *   segment (one per output file):
 *     our pad_i -> queue_i -> webmmux|matroskamux -> filesink
 *   The recorder thread pulls frames from the appsinks and pushes them into
 *   the current segment with timestamps made relative to its start. Owning
 *   the pads lets it fill audio gaps with Opus silence (the muxer waits for
 *   data on every pad and ignores GAP events), end a stalled video track,
 *   and cut a new file at a key frame without pausing the rx side.
 *
 * Thread ownership: everything under "recorder thread" is touched only by
 * the recorder thread (rx elements are created by mr_recording_start before
 * the recorder thread sees them). Fields marked atomic or guarded by
 * rec->lock may be read anywhere.
 */
#ifndef MR_RECORD_PRIV_H
#define MR_RECORD_PRIV_H

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/ring.h"
#include "record/record.h"

#define MR_REC_TICK_MS          10
#define MR_REC_LATENCY_MS       400              /* rtpbin jitter buffers */
#define MR_REC_STARTUP_WAIT     (2 * GST_SECOND) /* for the first video key frame */
#define MR_REC_SILENCE_LAG      (500 * GST_MSECOND)
/* Video that has not come while audio kept coming for this long has
 * stopped (the camera, not the link). An outage of the clinic's link or a
 * network change stops both tracks: however long it lasts, they resume in
 * the same file (issues 15 and 16), unless the audio then goes on alone
 * this long. */
#define MR_REC_VIDEO_STALL      (10 * GST_SECOND)
/* A track's frames further apart than this start a new run (an outage). */
#define MR_REC_RUN_GAP          GST_SECOND
#define MR_REC_CLOSE_GRACE_US   1000000 /* an old segment waits for late audio */
#define MR_REC_RX_EOS_WAIT_US   2000000
#define MR_REC_RX_MAX_BYTES     (2u << 20) /* per rx appsrc, before we stop draining */
#define MR_REC_QUEUE_MAX_BYTES  (32u << 20)
#define MR_REC_QUEUE_HIGH_BYTES (8u << 20)
#define MR_REC_HASH_STEP        (4u << 20) /* bytes hashed per tick and file */
#define MR_REC_OPUS_FRAME       (20 * GST_MSECOND)

/* codec.c: what the recorder can take, and how. */
struct mr_rec_codec {
    const char *name; /* RTP encoding name, compared without case */
    enum mr_record_kind kind;
    const char *encoding; /* encoding-name in RTP caps */
    const char *depay;
    const char *parse;    /* NULL: none */
    const char *out_caps; /* a capsfilter after the parser; NULL: none */
    const char *label;    /* in the sidecar */
    bool webm;            /* WebM can carry it; otherwise Matroska */
};

const struct mr_rec_codec *mr_rec_codec_find(const char *name, enum mr_record_kind kind);
GstCaps *mr_rec_rtp_caps(const struct mr_record_track *t, const struct mr_rec_codec *c);
GstCaps *mr_rec_opus_caps(unsigned channels);

/* vp8.c: RFC 6386 section 9.1. Returns 0 with the size of a key frame,
 * MR_ENOENT for an inter frame, MR_EPARSE for a broken header. Pure. */
int mr_rec_vp8_size(const uint8_t *buf, size_t len, unsigned *width, unsigned *height);

/* hash.c: SHA-256 of a file, a slice at a time so that a large file does
 * not stall the recorder thread. */
struct mr_rec_hash {
    int fd;
    void *md;     /* EVP_MD_CTX */
    char hex[MR_RECORD_SHA256_LEN + 1]; /* when done */
};
int mr_rec_hash_begin(struct mr_rec_hash *h, const char *path);
/* Returns 1 when finished (hex set), 0 when there is more, or MR_EIO. */
int mr_rec_hash_step(struct mr_rec_hash *h, size_t max_bytes);
void mr_rec_hash_cleanup(struct mr_rec_hash *h);
int mr_rec_hash_file(const char *path, char hex[MR_RECORD_SHA256_LEN + 1]);

/* mkv.c: walks a Matroska file (possibly cut off) to the last complete
 * block; see the file for details. */
struct mr_rec_mkv_scan {
    uint64_t duration_ns; /* timestamp of the last complete block */
    uint64_t timecode_scale;
    int64_t duration_off;  /* file offset of Info/Duration's value; -1 */
    unsigned duration_len; /* 4 or 8 */
    double duration_val;   /* as written, in timecode_scale units */
    unsigned blocks;
};
int mr_rec_ebml_header(const uint8_t *buf, size_t len, uint32_t *id, uint64_t *size, bool *unknown,
                       size_t *hdr_len);
int mr_rec_mkv_scan(int fd, struct mr_rec_mkv_scan *out);
/* Writes the duration into Info/Duration when it holds 0 (a file whose
 * muxer never finished). Returns 0, or MR_ENOENT when there is no such field. */
int mr_rec_mkv_patch_duration(int fd, const struct mr_rec_mkv_scan *scan);

/* files.c */
/* snprintf for paths; returns 0 or MR_ETOOBIG (out then holds a truncated
 * string that names nothing). */
__attribute__((format(printf, 3, 4))) int mr_rec_path(char *out, size_t len, const char *fmt, ...);
int mr_rec_mkdir(const char *path, char *err, size_t err_len);
int mr_rec_mkdirs(const char *root, const char *rel, char *err, size_t err_len);
int mr_rec_create_file(const char *path, char *err, size_t err_len);
void mr_rec_utc_stamp(int64_t unix_us, char out[17]);
void mr_rec_utc_date(int64_t unix_us, char out[11]);
void mr_rec_iso8601(int64_t unix_us, char out[32]);
bool mr_rec_parse_stem(const char *stem, char *stream, size_t stream_len, char id8[9],
                       unsigned *segment);

/* sidecar.c: the JSON next to each file, replaced atomically. */
struct mr_rec_sidecar {
    const char *id, *room, *stream, *publisher, *publisher_role, *state, *error, *file,
        *container;
    const char *audio, *video; /* codec labels; NULL: no such track */
    unsigned width, height;    /* 0: unknown */
    int64_t start_us, end_us;  /* Unix time; 0: unknown */
    double duration_s;         /* < 0: unknown */
    int64_t size;              /* < 0: unknown */
    const char *sha256;        /* NULL: not yet */
    unsigned segment;
    uint64_t dropped;
    uint64_t lost[2]; /* by enum mr_record_kind */
};
int mr_rec_sidecar_write(const char *path, const struct mr_rec_sidecar *sc);
/* Replaces path with text: temporary file (0640), fsync, rename. */
int mr_rec_replace_file(const char *path, const char *text);

/* The rest is one recording and its recorder. */
struct mr_rec_track {
    const struct mr_rec_codec *codec;
    GstElement *rtp_src, *rtcp_src; /* appsrc */
    GstElement *depay;
    GstElement *sink;  /* appsink */
    GstCaps *caps;     /* for the muxer; owned; NULL until known */
    GstCaps *raw_caps; /* as the appsink gave them; owned */
    bool eos;
    unsigned width, height;
};

enum mr_rec_seg_state {
    MR_SEG_WRITING,
    MR_SEG_CLOSING,  /* a successor exists; takes late buffers for a while */
    MR_SEG_EOS_SENT, /* waiting for the muxer to finish the file */
    MR_SEG_HASHING,
    MR_SEG_DONE,
};

struct mr_rec_seg {
    struct mr_recording *rec;
    unsigned n; /* 1, 2, ... */
    enum mr_rec_seg_state state;
    GstElement *pipe;
    GstElement *queue[MR_RECORD_MAX_TRACKS];
    GstPad *pad[MR_RECORD_MAX_TRACKS];           /* NULL: track not in this file */
    bool open[MR_RECORD_MAX_TRACKS];             /* no EOS pushed yet */
    bool need_key[MR_RECORD_MAX_TRACKS];         /* video: drop until a key frame */
    GstClockTime end[MR_RECORD_MAX_TRACKS];      /* file time after the last buffer */
    GstClockTime real_end[MR_RECORD_MAX_TRACKS]; /* ... of the last non-filler */
    GstClockTime run_start[MR_RECORD_MAX_TRACKS]; /* where its current run of
                                                    real frames began */
    GstClockTime max_end;                        /* latest real media in the file */
    GstClockTime base;                           /* rx running time of file time 0 */
    GstClockTime cut;                            /* rx time where the successor starts */
    bool past_cut[MR_RECORD_MAX_TRACKS];         /* track already delivered past it */
    int64_t cut_mono_us;
    GSource *watch;
    uint64_t bytes_in;
    char stem[224];      /* file name without extension */
    char path[PATH_MAX]; /* the media file now */
    struct mr_rec_hash hash;
    int64_t size;
    double scanned_s; /* duration found in a file cut short; < 0 */
    unsigned width, height;
};

enum mr_rec_phase {
    MR_PHASE_RUN,
    MR_PHASE_DRAIN, /* stop asked: rx sources ended, frames still coming out */
    MR_PHASE_CLOSE, /* segments finishing */
    MR_PHASE_END,
};

struct mr_recorder;

struct mr_recording {
    int refs; /* atomic */
    struct mr_recorder *r;
    struct mr_record_params p;
    char id[MR_RECORD_ID_LEN + 1];
    mr_recording_done_cb done;
    void *user;
    struct mr_ring ring;
    int accepting;  /* atomic: pushes go to the ring */
    int failed;     /* atomic: pushes count as drops */
    int stop_asked; /* atomic */
    int want_key;   /* atomic: the worker should ask for one */

    GMutex lock; /* guards the four fields below */
    enum mr_recording_state state;
    char error[256];
    char path[1024];
    int64_t started_unix_us;

    uint64_t packets, bytes; /* counters written by the recorder thread */
    unsigned segments;       /* atomic */
    uint64_t lost[2];        /* atomic, by kind: holes (rx.c) */

    /* fixed at start */
    int64_t start_mono_us;
    char reldir[160]; /* <room>/<YYYY-MM-DD> */
    char dir[PATH_MAX];
    char stem[200];  /* <stream>_<YYYYMMDDTHHMMSSZ>_<id8> */
    const char *ext; /* "webm" or "mkv" */
    bool webm;

    /* recorder thread */
    enum mr_rec_phase phase;
    bool adopted;
    GstElement *rx;
    GstElement *rtpbin;
    GSource *rx_watch;
    GstClockTime rx_base; /* gst clock time of rx running time 0 */
    struct mr_rec_track tracks[MR_RECORD_MAX_TRACKS];
    struct mr_rec_seg *seg; /* takes new media; NULL before the first */
    GList *old;             /* earlier segments, not yet done */
    GQueue held;            /* startup: audio waiting for a key frame */
    GstClockTime held_first;
    int64_t held_mono_us;
    int64_t bytes_mono_us; /* last look at the file size */
    int64_t deadline_us;
    uint64_t done_bytes; /* sizes of finished segments */
    bool reported;
};

struct mr_recorder {
    struct mr_record_config cfg;
    char dir[PATH_MAX];
    GThread *thread;
    GMainContext *ctx;
    GMainLoop *loop;
    GSource *tick;
    GMutex lock;    /* guards pending and closing */
    GList *pending; /* started, not yet adopted (refs held) */
    bool closing;
    GList *active;           /* recorder thread; refs held */
    int64_t clock_offset_ns; /* gst clock minus CLOCK_MONOTONIC */
    int64_t deadline_us;     /* shutdown */
    bool shutdown;
};

/* recorder.c */
void mr_rec_wake(struct mr_recorder *r);

/* recording.c */
void mr_rec_set_state(struct mr_recording *rec, enum mr_recording_state st, const char *error);
void mr_rec_set_path(struct mr_recording *rec, const char *path);

/* recorder.c: the ends of a recording, on the recorder thread. */
void mr_rec_fail(struct mr_recording *rec, const char *why);
void mr_rec_log_path(const struct mr_recording *rec, const char *stem, const char *suffix,
                     char *out, size_t len);

/* rx.c */
uint64_t mr_rec_lost(const struct mr_recording *rec, enum mr_record_kind kind);
int mr_rec_rx_build(struct mr_recording *rec, char *err, size_t err_len);
int mr_rec_rx_start(struct mr_recording *rec);
void mr_rec_rx_drain(struct mr_recording *rec, bool force);
void mr_rec_rx_end(struct mr_recording *rec);
void mr_rec_rx_free(struct mr_recording *rec);
bool mr_rec_rx_done(struct mr_recording *rec);

/* route.c: frames from the appsinks into segments. */
void mr_rec_route_pull(struct mr_recording *rec);
void mr_rec_route_tick(struct mr_recording *rec, int64_t now_us);
void mr_rec_route_flush(struct mr_recording *rec);
void mr_rec_route_cleanup(struct mr_recording *rec);

/* mux.c: one segment's pipeline. */
enum mr_rec_role { MR_ROLE_NONE, MR_ROLE_MEMBER, MR_ROLE_WAIT_KEY };
struct mr_rec_seg *mr_rec_seg_new(struct mr_recording *rec, unsigned n, GstClockTime base,
                                  const enum mr_rec_role roles[MR_RECORD_MAX_TRACKS], char *err,
                                  size_t err_len);
void mr_rec_seg_push(struct mr_rec_seg *s, unsigned track, GstBuffer *buf);
void mr_rec_seg_fill(struct mr_rec_seg *s, unsigned track, GstClockTime until);
void mr_rec_seg_end_track(struct mr_rec_seg *s, unsigned track);
void mr_rec_seg_eos(struct mr_rec_seg *s);
bool mr_rec_seg_congested(const struct mr_rec_seg *s);
void mr_rec_seg_stop(struct mr_rec_seg *s);
void mr_rec_seg_free(struct mr_rec_seg *s);

/* segment.c: files and sidecars of a segment. */
void mr_rec_seg_stem(const struct mr_recording *rec, unsigned n, char *out, size_t len);
int mr_rec_files_create(struct mr_recording *rec, unsigned n, char *err, size_t err_len);
void mr_rec_seg_sidecar(struct mr_rec_seg *s, const char *state, const char *error);
void mr_rec_seg_finished(struct mr_rec_seg *s);
int mr_rec_seg_hash_step(struct mr_rec_seg *s);
void mr_rec_seg_abort(struct mr_rec_seg *s, const char *state, const char *error);
double mr_rec_seg_duration(const struct mr_rec_seg *s);

#endif
