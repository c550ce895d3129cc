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
 */
#include "core/counter.h"
#include "core/log.h"
#include "sfu/sfu_priv.h"

#define CHECK_EVERY_US 1000
/* Under sustained overload an episode starts about once a second: one
 * warning per stream per LOG_EVERY_US, with the count since the last. */
#define LOG_EVERY_US (10 * 1000000LL)
/* About a third of a second of 2.5 Mbit/s video in the kernel's accounting:
 * more than a key frame's burst while the worker serves other streams. */
#define SHED_ABOVE (256 * 1024)

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
    if (!s->shedding && queued > above) {
        s->shedding = true;
        s->shed_since_us = now_us;
        s->shed_episodes++;
        mr_stream_restart_receivers(s, MR_MEDIA_VIDEO); /* as a moderator's mute */
        if (!s->shed_logged_us || now_us - s->shed_logged_us >= LOG_EVERY_US) {
            mr_log_warn(SFU,
                        "stream %p: its worker is %d KiB behind; video to viewers paused until "
                        "it catches up, audio and recording go on (%u time%s since the last "
                        "report)",
                        (void *)s, queued / 1024, s->shed_episodes,
                        s->shed_episodes == 1 ? "" : "s");
            s->shed_logged_us = now_us;
            s->shed_episodes = 0;
        }
    } else if (s->shedding && queued < above / 8) {
        s->shedding = false;
        mr_log_debug(SFU, "stream %p: caught up after %lld ms; video resumes at a key frame",
                     (void *)s, (long long)((now_us - s->shed_since_us) / 1000));
        mr_stream_request_keyframe(s, now_us);
    }
    return s->shedding;
}
