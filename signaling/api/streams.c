/* Streams and their recording: what the relay reports, and operators'
 * start/stop requests (relay/sfu/relay.h). */
#include <stdio.h>
#include <string.h>

#include "api/api_priv.h"
#include "api/isotime.h"
#include "core/error.h"
#include "http/error_code.h"

/* The recorder's states as the API names them (the sidecar's words where
 * they exist). */
static const char *rec_state_name(enum mr_recording_state s)
{
    switch (s) {
    case MR_RECORDING_STARTING:
        return "starting";
    case MR_RECORDING_ACTIVE:
        return "recording";
    case MR_RECORDING_FINALIZING:
        return "finalizing";
    case MR_RECORDING_DONE:
        return "complete";
    case MR_RECORDING_FAILED:
        return "failed";
    }
    return "unknown";
}

static json_t *recording_status(const struct mr_recording_info *r)
{
    char started[MR_ISO_TIME_LEN + 1];
    mr_iso_time_format(r->started_unix_us / 1000000, started);
    return json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:I, s:I, s:i, s:{s:I, s:I}}", "id", r->id, "state",
                     rec_state_name(r->state), "error", r->error[0] ? r->error : NULL, "started",
                     r->started_unix_us > 0 ? started : NULL, "bytes", (json_int_t)r->bytes, "packets", (json_int_t)r->packets,
                     "dropped", (json_int_t)r->dropped, "segments", (int)r->segments,
                     "lost_packets", "audio", (json_int_t)r->lost_packets[MR_RECORD_AUDIO], "video",
                     (json_int_t)r->lost_packets[MR_RECORD_VIDEO]);
}

/* A fraction in parts per million as a JSON number, rounded to 1e-4 (what
 * a console shows), or null when nothing was sent to lose. */
static json_t *fraction(uint32_t ppm, uint32_t packets)
{
    if (packets == 0)
        return json_null();
    return json_real((double)((ppm + 50) / 100) / 10000.0);
}

/* The publisher's uplink over the relay's last window (relay.h, struct
 * mr_link_health), or null when not known. */
static json_t *link_json(const struct mr_link_health *l)
{
    if (!l->known)
        return json_null();
    return json_pack("{s:o, s:o, s:o, s:I, s:o, s:I, s:I, s:I, s:I, s:I}", "loss",
                     fraction(l->loss_ppm, l->video_packets), "loss_after_repair",
                     fraction(l->loss_after_ppm, l->video_packets), "audio_loss",
                     fraction(l->audio_loss_ppm, l->audio_packets), "kbps", (json_int_t)l->kbps,
                     "rtt_ms", l->rtt_ms >= 0 ? json_integer(l->rtt_ms) : json_null(), "recovered",
                     (json_int_t)l->recovered, "gave_up", (json_int_t)l->gave_up, "video_packets",
                     (json_int_t)l->video_packets, "audio_packets", (json_int_t)l->audio_packets,
                     "window_ms", (json_int_t)l->window_ms);
}

static json_t *stream_json(const struct mr_stream_status *st)
{
    return json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:i, s:s, s:o, s:s?, s:o}", "room", st->room,
                     "stream", st->stream, "publisher", st->publisher[0] ? st->publisher : NULL,
                     "publisher_role", st->publisher[0] ? st->publisher_role : NULL,
                     "published", st->published, "subscribers", (int)st->subscribers, "policy",
                     mr_record_policy_name(st->policy), "recording",
                     st->recording ? recording_status(&st->rec) : json_null(),
                     "recording_error", st->record_error[0] ? st->record_error : NULL, "link",
                     link_json(&st->link));
}

/* --- Collecting the relay's view ----------------------------------------- */

struct collect {
    const struct api_call *c;
    const char *stream; /* only this one, when set */
    json_t *list;
};

static void add_stream(const struct mr_stream_status *st, void *user)
{
    struct collect *k = user;
    if (!mr_api_covers(k->c, st->room) || (k->stream && strcmp(k->stream, st->stream) != 0))
        return;
    json_array_append_new(k->list, stream_json(st));
}

/* The streams of room (NULL: all) the token covers, as a JSON array. */
static json_t *streams_of(const struct api_call *c, const char *room, const char *stream)
{
    struct collect k = {c, stream, json_array()};
    mr_relay_each_stream(c->api->relay, room, add_stream, &k);
    return k.list;
}

static void add_room(const struct mr_stream_status *st, void *user)
{
    struct collect *k = user;
    if (!mr_api_covers(k->c, st->room))
        return;
    size_t n = json_array_size(k->list);
    json_t *last = n ? json_array_get(k->list, n - 1) : NULL;
    if (!last || strcmp(json_string_value(json_object_get(last, "room")), st->room) != 0) {
        last = json_pack("{s:s, s:i, s:i, s:i, s:i}", "room", st->room, "streams", 0, "published",
                         0, "subscribers", 0, "recording", 0);
        json_array_append_new(k->list, last);
    }
    static const char *const keys[] = {"streams", "published", "subscribers", "recording"};
    json_int_t add[] = {1, st->published, st->subscribers, st->recording};
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(last, keys[i]);
        json_integer_set(v, json_integer_value(v) + add[i]);
    }
}

/* --- Listing ------------------------------------------------------------ */

void mr_api_list_rooms(struct api_call *c)
{
    struct collect k = {c, NULL, json_array()};
    /* Streams come sorted by room, so each room's are consecutive. */
    mr_relay_each_stream(c->api->relay, NULL, add_room, &k);
    mr_api_respond_json(c->req, 200, json_pack("{s:o}", "rooms", k.list));
}

void mr_api_list_all_streams(struct api_call *c)
{
    mr_api_respond_json(c->req, 200, json_pack("{s:o}", "streams", streams_of(c, NULL, NULL)));
}

void mr_api_list_streams(struct api_call *c)
{
    mr_api_respond_json(
        c->req, 200,
        json_pack("{s:s, s:o}", "room", c->room, "streams", streams_of(c, c->room, NULL)));
}

/* The one stream's status as a JSON object (new reference), or NULL. */
static json_t *one_stream(const struct api_call *c, const char *room, const char *stream)
{
    json_t *list = streams_of(c, room, stream);
    json_t *st = json_array_get(list, 0);
    json_incref(st);
    json_decref(list);
    return st;
}

void mr_api_get_stream(struct api_call *c)
{
    json_t *st = one_stream(c, c->room, c->stream);
    if (!st) {
        mr_http_respond_error(c->req, 404, "stream-not-found", "no such stream");
        return;
    }
    mr_api_respond_json(c->req, 200, st);
}

/* --- Recording control ----------------------------------------------------- */

/* Starting is idempotent: a stream already being recorded is answered 200
 * like one whose recording starts now (MR_EBUSY is not an error here). */
static int start_one(const struct api_call *c, const char *stream, char *detail, size_t len)
{
    detail[0] = '\0';
    int rc = mr_relay_record_start(c->api->relay, c->room, stream, c->claims.sub,
                                   mr_role_name(c->claims.role), detail, len);
    return rc == MR_EBUSY ? 0 : rc;
}

void mr_api_start_stream(struct api_call *c)
{
    char detail[300];
    int rc = start_one(c, c->stream, detail, sizeof(detail));
    json_t *st = rc == 0 ? one_stream(c, c->room, c->stream) : NULL;
    if (rc < 0)
        mr_http_respond_err(c->req, rc, detail);
    else if (!st) /* the stream ended in between */
        mr_http_respond_error(c->req, 404, "stream-not-found", "the stream has ended");
    else
        mr_api_respond_json(c->req, 200, st);
}

/* Stopping is idempotent too: a stream that is not being recorded is
 * answered 200; only a stream the relay does not know is 404. */
void mr_api_stop_stream(struct api_call *c)
{
    json_t *st = one_stream(c, c->room, c->stream);
    if (!st) {
        mr_http_respond_error(c->req, 404, "stream-not-found", "no such stream");
        return;
    }
    if (json_is_object(json_object_get(st, "recording"))) {
        mr_relay_record_stop(c->api->relay, c->room, c->stream, c->claims.sub,
                             mr_role_name(c->claims.role));
        json_decref(st);
        st = one_stream(c, c->room, c->stream);
    }
    if (!st)
        mr_http_respond_error(c->req, 404, "stream-not-found", "the stream has ended");
    else
        mr_api_respond_json(c->req, 200, st);
}

/* Applies start or stop to every stream of the room; each stream's status
 * comes back with "result" and, on failure, "detail". */
static void each_in_room(struct api_call *c, bool start)
{
    json_t *before = streams_of(c, c->room, NULL), *out = json_array();
    size_t i;
    json_t *st;
    int first_err = 0, recording = 0, published = 0;
    char first_detail[300] = "";
    json_array_foreach(before, i, st) {
        const char *name = json_string_value(json_object_get(st, "stream"));
        bool was = json_is_object(json_object_get(st, "recording"));
        published += json_is_true(json_object_get(st, "published"));
        const char *result = was == start ? (start ? "already-recording" : "not-recording")
                                          : (start ? "started" : "stopped");
        char detail[300] = "";
        int rc = 0;
        if (start && !was && !json_is_true(json_object_get(st, "published")))
            result = "not-published";
        else if (start && !was)
            rc = start_one(c, name, detail, sizeof(detail));
        else if (!start && was)
            mr_relay_record_stop(c->api->relay, c->room, name, c->claims.sub,
                                 mr_role_name(c->claims.role));
        if (rc < 0) {
            result = "failed";
            if (!first_err) {
                first_err = rc;
                snprintf(first_detail, sizeof(first_detail), "%s", detail);
            }
        }
        json_t *now = one_stream(c, c->room, name);
        if (!now)
            continue;
        recording += json_is_object(json_object_get(now, "recording"));
        json_object_set_new(now, "result", json_string(result));
        if (detail[0])
            json_object_set_new(now, "detail", json_string(detail));
        json_array_append_new(out, now);
    }
    size_t n = json_array_size(before);
    json_decref(before);
    if (n == 0 || (start && published == 0)) {
        json_decref(out);
        mr_http_respond_error(c->req, 404, "stream-not-found", "nothing is published in this room");
    } else if (start && first_err && recording == 0) {
        json_decref(out);
        mr_http_respond_err(c->req, first_err, first_detail);
    } else {
        mr_api_respond_json(c->req, 200, json_pack("{s:s, s:o}", "room", c->room, "streams", out));
    }
}

void mr_api_start_room(struct api_call *c)
{
    each_in_room(c, true);
}

void mr_api_stop_room(struct api_call *c)
{
    each_in_room(c, false);
}
