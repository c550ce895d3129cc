/*
 * Recording to disk: each recorded stream becomes Matroska/WebM files that
 * play in ordinary players and browsers, written by GStreamer without
 * transcoding. This is the only module that includes GStreamer.
 *
 * Threads and ownership:
 *  - struct mr_recorder is process-wide. It owns one thread with its own
 *    GMainContext, where every recording's pipeline is built, fed, watched
 *    and finalized.
 *  - A media worker hands packets to a recording with mr_recording_push(),
 *    which copies into the recording's bounded lock-free ring (core/ring.h)
 *    and never blocks or allocates; when the recorder falls behind, packets
 *    are dropped and counted. The recorder thread drains the rings every
 *    few milliseconds.
 *  - struct mr_recording is reference-counted (atomically): the control
 *    thread, the worker feeding it and the recorder thread each hold one.
 *
 * What is fed: RTP packets already rewritten for the recording, as for a
 * subscriber (fixed SSRC per track, continuous sequence numbers and
 * timestamps across publisher reconnects), and sender reports translated the
 * same way, so timing maps to one clock for lip-sync. Packets carry their
 * arrival time on the worker's monotonic clock.
 */
#ifndef MR_RECORD_RECORD_H
#define MR_RECORD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/name.h"

#define MR_RECORD_MAX_TRACKS 8
#define MR_RECORD_ID_LEN 16 /* hex digits */
#define MR_RECORD_SHA256_LEN 64 /* hex digits of a file's SHA-256 (the sidecar's "sha256") */

struct mr_record_config {
    const char *dir;            /* --record-dir; created 0750 if missing */
    uint64_t segment_bytes;     /* start a new file past this size; 0: none */
    unsigned segment_seconds;   /* ... or past this duration; 0: none */
    unsigned ring_slots;        /* per recording (default 2048) */
};

struct mr_recorder;

/* Initializes GStreamer and starts the recorder thread. Returns 0 or
 * MR_ENOMEM / MR_EIO (the directory cannot be created); also MR_EINVAL (no
 * dir) and MR_ENOTSUP (GStreamer or one of its plugins is missing). */
int mr_recorder_new(const struct mr_record_config *cfg, struct mr_recorder **out);

/* Finalizes every active recording (EOS, sidecar with SHA-256) within
 * timeout_ms, then stops the thread. Used on SIGTERM/SIGINT. Recordings not
 * finalized by then are closed as they are: state FAILED ("interrupted at
 * shutdown ..."), sidecar "interrupted", file renamed, hashed, playable. */
void mr_recorder_free(struct mr_recorder *r, int timeout_ms);

/*
 * Looks for recordings a crash or kill left in progress (sidecar state
 * "recording"), closes them (state "interrupted", end time, size, SHA-256,
 * the file renamed like a finished one) and returns how many it closed.
 * Call once at start-up, before the first recording. Also closes media files
 * left without a sidecar (one is written from the file name), and writes the
 * playable length, found by walking the file, into its header and the
 * sidecar's duration_s.
 */
int mr_recorder_recover(struct mr_recorder *r);

enum mr_record_kind { MR_RECORD_AUDIO, MR_RECORD_VIDEO };

struct mr_record_track {
    enum mr_record_kind kind;
    char codec[16];      /* RTP encoding name: "opus", "VP8", "H264" */
    uint8_t pt;          /* payload type of the packets fed */
    uint32_t clock_rate;
    uint8_t channels;    /* audio; 0 when unknown */
    char fmtp[256];      /* H.264: sprop/profile parameters, may be "" */
    uint32_t ssrc;       /* the SSRC of the packets fed */
};

struct mr_record_params {
    char room[MR_NAME_MAX + 1];
    char stream[MR_NAME_MAX + 1];
    char sub[MR_SUB_MAX + 1]; /* the publisher: sub and role */
    char role[16];
    char cname[32];      /* the same for every track: they are synchronised */
    unsigned n_tracks;
    struct mr_record_track tracks[MR_RECORD_MAX_TRACKS];
};

enum mr_recording_state {
    MR_RECORDING_STARTING,
    MR_RECORDING_ACTIVE,
    MR_RECORDING_FINALIZING,
    MR_RECORDING_DONE,
    MR_RECORDING_FAILED,
};

struct mr_recording;

/* Ends of recordings, reported on the recorder thread: the control thread
 * should post them to itself. */
typedef void (*mr_recording_done_cb)(struct mr_recording *rec, void *user);

/*
 * Starts a recording. The file and its sidecar are created under
 * <dir>/<room>/<YYYY-MM-DD>/ at once (so a bad directory fails here, with a
 * reason in err); media arrives through mr_recording_push(). Codecs the
 * container cannot take give MR_ENOTSUP. done is called once when it ends
 * (finalized or failed). Returns 0 with a reference for the caller.
 * Other errors: MR_EINVAL (names, tracks), MR_EIO (directory or file),
 * MR_ESTATE (the recorder is shutting down). err never holds room, stream
 * or participant names. A recording stopped before any media arrived ends
 * FAILED ("no media was received"): its empty file is removed, its sidecar
 * says so.
 *
 * Files (UTC date and time of the start; id8 = the id's first 8 digits):
 *   <stream>_<YYYYMMDDTHHMMSSZ>_<id8>.recording.webm   while written
 *   <stream>_<YYYYMMDDTHHMMSSZ>_<id8>.webm             when finished (.mkv
 *                                                     when there is H.264)
 *   <stream>_<YYYYMMDDTHHMMSSZ>_<id8>.json             the sidecar
 * and with segments, _2, _3 ... before the extension from the second file
 * on; each file has its own sidecar (same "id", "segment": N).
 */
int mr_recording_start(struct mr_recorder *r, const struct mr_record_params *p,
                       mr_recording_done_cb done, void *user, struct mr_recording **out,
                       char *err, size_t err_len);

struct mr_recording *mr_recording_ref(struct mr_recording *rec);
void mr_recording_unref(struct mr_recording *rec);

enum { MR_RECORD_RTP = 0, MR_RECORD_RTCP = 1 };

/* Worker thread (the only producer of this recording): never blocks or
 * allocates. what: MR_RECORD_RTP or MR_RECORD_RTCP (a compound packet with
 * the track's sender report). Returns false when the packet was dropped. */
bool mr_recording_push(struct mr_recording *rec, unsigned track, int what, const uint8_t *pkt,
                       size_t len, int64_t arrival_us);

/* Worker thread: true, once per request, when the recorder needs a video key
 * frame: at the start (a file begins with one), when a segment is due (files
 * are cut at key frames) and when video resumes after a gap. The worker
 * should then ask the publisher for one (PLI), rate-limited as for viewers.
 * (Added by the recorder: without it a file can only start or be cut at the
 * publisher's next spontaneous key frame.) */
bool mr_recording_keyframe_wanted(struct mr_recording *rec);

/* Stops the recording: it is finalized (EOS, duration and index written,
 * sidecar completed with SHA-256) on the recorder thread. Any thread. */
void mr_recording_stop(struct mr_recording *rec);

struct mr_recording_info {
    char id[MR_RECORD_ID_LEN + 1];
    enum mr_recording_state state;
    char error[256];       /* why it failed; "" */
    char path[1024];       /* the current file */
    char room[MR_NAME_MAX + 1], stream[MR_NAME_MAX + 1];
    int64_t started_unix_us;
    uint64_t bytes;
    uint64_t packets;      /* taken from the ring */
    uint64_t dropped;      /* ring full: the recorder fell behind */
    unsigned segments;
    /* Holes, by kind ([MR_RECORD_AUDIO], [MR_RECORD_VIDEO]): packets the
     * recording never got, declared lost by its jitter buffers once they
     * had waited the latency (400 ms) for them. A packet that arrives late
     * but within the latency (reordered, or repaired by a retransmission)
     * is not a hole; one dropped from the ring counts in dropped (and, when
     * the jitter buffer then gives up on it, here too). */
    uint64_t lost_packets[2];
};

/* A consistent snapshot; any thread. */
void mr_recording_info(struct mr_recording *rec, struct mr_recording_info *out);

/* Holes of every recording since the process started (the sum of their
 * lost_packets, finished ones included), for /metrics. Any thread. */
uint64_t mr_record_lost_total(enum mr_record_kind kind);

#endif
