/*
 * Overload: when a worker cannot fan a publisher's video out as fast as it
 * arrives, the datagrams wait in the publisher's socket, and so do the ICE
 * consent checks among them (RFC 7675). Left alone, the backlog grows to the
 * receive buffer's size (seconds of media: every viewer falls seconds
 * behind), then the kernel drops datagrams, the checks with them, and the
 * publisher's consent is lost: every viewer loses the stream.
 *
 * So the worker watches the backlog of each publisher's socket (at most
 * once per millisecond, SO_MEMINFO) and, past a threshold, stops fanning out
 * that stream's video: reading and decrypting cost a fraction of the
 * fan-out, so the backlog drains and the consent checks are answered in
 * time. Audio and the recording go on (the medical record stays complete;
 * the experts keep hearing the clinic). Once the backlog is down again, the
 * viewers wait for a key frame, requested at once, and their sequence
 * numbers go on without a gap, as after a moderator's mute, so their
 * decoders restart clean and nothing looks lost. Under sustained overload
 * viewers see video in bursts; the stream itself survives.
 *
 * The backlog alone is not enough. libnice reads a publisher's socket until
 * it is empty, in one dispatch of the worker's main context; while that
 * lasts nothing else on the worker runs: not the side loop (the viewers'
 * consent checks, RTCP, DTLS), not the publisher's own ICE timers. A
 * worker that falls behind by a little keeps the backlog under the
 * threshold and that one dispatch going for seconds, and a peer whose
 * checks go unanswered gives up on the relay (Chromium after 30 s without
 * a consent answer; libnice 0.1.21, when consent freshness was on here,
 * after 10 s). So the worker
 * also sheds while its current turn has lasted over STALL_US with datagrams
 * still waiting (the turn clock, worker.c), and keeps shedding until the
 * turn ends: the rest of the backlog is read cheaply and everything that
 * waited gets its turn.
 */
#include "core/counter.h"
#include "core/log.h"
#include "sfu/sfu_priv.h"
#include "sfu/worker.h"

#define CHECK_EVERY_US 1000
/* Under sustained overload an episode starts about once a second: one
 * warning per stream per LOG_EVERY_US, with the count since the last. */
#define LOG_EVERY_US (10 * 1000000LL)
/* About a third of a second of 2.5 Mbit/s video in the kernel's accounting:
 * more than a key frame's burst while the worker serves other streams. */
#define SHED_ABOVE (256 * 1024)
/* Half a second without a turn for the viewers' events: longer than the
 * fan-out of a key frame to several hundred viewers, far shorter than the
 * seconds after which a peer's unanswered consent checks end its session. */
#define STALL_US (500 * 1000)

/* The worker's current turn has kept everything else waiting too long. */
static bool stalled(const struct mr_stream *s, int64_t now_us)
{
    return now_us - s->worker->turn_started_us > STALL_US;
}

static void start_shedding(struct mr_stream *s, int queued, int64_t now_us)
{
    s->shedding = true;
    s->shed_since_us = now_us;
    s->shed_episodes++;
    mr_stream_restart_receivers(s, MR_MEDIA_VIDEO); /* as a moderator's mute */
    if (s->shed_logged_us && now_us - s->shed_logged_us < LOG_EVERY_US)
        return;
    mr_log_warn(SFU,
                "stream %p: its worker is %d KiB and %lld ms behind; video to viewers paused "
                "until it catches up, audio and recording go on (%u time%s since the last "
                "report)",
                (void *)s, queued / 1024, (long long)((now_us - s->worker->turn_started_us) / 1000),
                s->shed_episodes, s->shed_episodes == 1 ? "" : "s");
    s->shed_logged_us = now_us;
    s->shed_episodes = 0;
}

bool mr_overload_shedding(struct mr_stream *s, struct mr_peer *pub, int64_t now_us)
{
    if (now_us - s->backlog_checked_us < CHECK_EVERY_US)
        return s->shedding;
    s->backlog_checked_us = now_us;
    int limit = 0;
    int queued = mr_transport_rx_queued(pub->transport, &limit);
    if (queued < 0)
        return s->shedding;
    int above = limit / 2 < SHED_ABOVE ? limit / 2 : SHED_ABOVE;
    bool stuck = stalled(s, now_us);
    if (!s->shedding && (queued > above || (stuck && queued > 0))) {
        start_shedding(s, queued, now_us);
    } else if (s->shedding && queued < above / 8 && !stuck) {
        s->shedding = false;
        mr_log_debug(SFU, "stream %p: caught up after %lld ms; video resumes at a key frame",
                     (void *)s, (long long)((now_us - s->shed_since_us) / 1000));
        mr_keyframe_request(s, -1, now_us);
    }
    return s->shedding;
}
