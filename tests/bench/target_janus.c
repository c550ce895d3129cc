/*
 * The Janus target: Janus 1.1.2's VideoRoom plugin over its WebSocket API
 * (subprotocol janus-protocol). Every publisher and subscriber has its own
 * WebSocket, Janus session and plugin handle, so that threads share nothing.
 *
 * Publisher i: creates room ROOM(i) (ignoring "already exists"), then
 * "joinandconfigure" as a publisher with the peer's offer; Janus's answer
 * comes in the event. Subscriber: "listparticipants" finds the room's
 * publisher, "join" as a subscriber makes Janus offer; the peer answers
 * (mr_test_peer_answer) and "start" carries the answer.
 *
 * The benchmark's Janus configuration (scripts/bench.sh) disables session
 * timeouts, so no keep-alive is needed during a run.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http_client.h"
#include "target.h"
#include "ws_client.h"

#define TIMEOUT_MS 10000

struct mr_bench_session {
    struct mr_bench_ws ws;
    json_int_t session, handle;
    unsigned tx; /* transaction counter */
};

/* A room number from the run's prefix and the stream index. */
static json_int_t room_id(const struct mr_bench_target_config *cfg, unsigned stream)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = cfg->room_prefix; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return (json_int_t)(h % 100000u) * 100 + stream + 1;
}

/*
 * Sends `req` (stolen) with a fresh transaction and the session's ids, and
 * returns the answer to it: a "success" or "error", or for asynchronous
 * plugin requests (want_event) the "event" after the "ack". Other messages
 * (webrtcup, media, ...) are skipped. NULL on timeout or a closed socket.
 */
static json_t *call(struct mr_bench_session *s, json_t *req, bool want_event, char *err,
                    size_t err_len)
{
    char tx[16];
    snprintf(tx, sizeof(tx), "t%u", ++s->tx);
    json_object_set_new(req, "transaction", json_string(tx));
    if (s->session)
        json_object_set_new(req, "session_id", json_integer(s->session));
    if (s->handle)
        json_object_set_new(req, "handle_id", json_integer(s->handle));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    int rc = text ? mr_bench_ws_send(&s->ws, text, strlen(text), TIMEOUT_MS) : MR_ENOMEM;
    free(text);
    while (rc == 0) {
        char *msg = NULL;
        int n = mr_bench_ws_recv(&s->ws, &msg, TIMEOUT_MS);
        if (n < 0) {
            snprintf(err, err_len, "janus: no answer to %s: %s", tx, mr_strerror(n));
            return NULL;
        }
        json_t *j = json_loadb(msg, (size_t)n, 0, NULL);
        g_free(msg);
        const char *kind = json_string_value(json_object_get(j, "janus"));
        const char *jtx = json_string_value(json_object_get(j, "transaction"));
        bool mine = jtx && strcmp(jtx, tx) == 0 && kind;
        if (mine && (strcmp(kind, "error") == 0 || strcmp(kind, "success") == 0 ||
                     (want_event && strcmp(kind, "event") == 0)))
            return j;
        json_decref(j);
    }
    snprintf(err, err_len, "janus: cannot send: %s", mr_strerror(rc));
    return NULL;
}

/* The plugin's data in an answer, or NULL with the reason in err. */
static json_t *plugin_data(json_t *j, char *err, size_t err_len)
{
    json_t *data = json_object_get(json_object_get(j, "plugindata"), "data");
    const char *e = json_string_value(json_object_get(data, "error"));
    const char *je = json_string_value(json_object_get(json_object_get(j, "error"), "reason"));
    if (!data || e || je) {
        snprintf(err, err_len, "janus: %s", e ? e : je ? je : "no plugin data");
        return NULL;
    }
    return data;
}

/* WebSocket, session, videoroom handle. */
static int open_handle(const struct mr_bench_target_config *cfg, struct mr_bench_session **out,
                       char *err, size_t err_len)
{
    char host[64], path[MR_TEST_HTTP_URL_MAX];
    uint16_t port;
    /* ws://HOST:PORT/path parses like the same http:// URL. */
    char http[600];
    snprintf(http, sizeof(http), "http://%s",
             strncmp(cfg->url, "ws://", 5) == 0 ? cfg->url + 5 : cfg->url);
    if (mr_test_http_parse_url(http, host, sizeof(host), &port, path, sizeof(path)) < 0) {
        snprintf(err, err_len, "janus: bad URL %s (ws://HOST:PORT)", cfg->url);
        return MR_EINVAL;
    }
    struct mr_bench_session *s = calloc(1, sizeof(*s));
    if (!s)
        return MR_ENOMEM;
    int rc = mr_bench_ws_connect(&s->ws, host, port, path[0] ? path : "/", "janus-protocol",
                                 TIMEOUT_MS, err, err_len);
    json_t *j =
        rc == 0 ? call(s, json_pack("{s:s}", "janus", "create"), false, err, err_len) : NULL;
    s->session = json_integer_value(json_object_get(json_object_get(j, "data"), "id"));
    json_decref(j);
    j = s->session
            ? call(s,
                   json_pack("{s:s, s:s}", "janus", "attach", "plugin", "janus.plugin.videoroom"),
                   false, err, err_len)
            : NULL;
    s->handle = json_integer_value(json_object_get(json_object_get(j, "data"), "id"));
    json_decref(j);
    if (!s->handle) {
        if (rc == 0 && !err[0])
            snprintf(err, err_len, "janus: no session or handle");
        mr_bench_ws_close(&s->ws);
        free(s);
        return MR_EIO;
    }
    *out = s;
    return 0;
}

static void close_session(const struct mr_bench_target_config *cfg, struct mr_bench_session *s)
{
    (void)cfg;
    if (!s)
        return;
    char err[128];
    if (s->session && s->ws.fd >= 0) {
        json_t *j = call(s, json_pack("{s:s}", "janus", "destroy"), false, err, sizeof(err));
        json_decref(j);
    }
    mr_bench_ws_close(&s->ws);
    free(s);
}

static json_t *message(struct mr_bench_session *s, json_t *body, json_t *jsep, bool async,
                       char *err, size_t err_len)
{
    json_t *req = json_pack("{s:s, s:o}", "janus", "message", "body", body);
    if (jsep)
        json_object_set_new(req, "jsep", jsep);
    return call(s, req, async, err, err_len);
}

static int open_publisher(const struct mr_bench_target_config *cfg, struct mr_test_peer *p,
                          unsigned stream, struct mr_bench_session **out, char *err, size_t err_len)
{
    struct mr_bench_session *s = NULL;
    err[0] = '\0';
    int rc = open_handle(cfg, &s, err, err_len);
    if (rc < 0)
        return rc;
    json_int_t room = room_id(cfg, stream);
    /* Room for one publisher; 427 "already exists" is fine. */
    json_t *j = message(s,
                        json_pack("{s:s, s:I, s:i, s:s, s:s, s:b, s:i}", "request", "create",
                                  "room", room, "publishers", 1, "videocodec", "vp8", "audiocodec",
                                  "opus", "permanent", 0, "bitrate", 0),
                        NULL, false, err, err_len);
    json_decref(j);
    char *offer = NULL;
    size_t offer_len = 0;
    rc = mr_test_peer_create_offer(p, &offer, &offer_len);
    if (rc < 0) {
        snprintf(err, err_len, "cannot create the offer: %s", mr_strerror(rc));
        goto fail;
    }
    j = message(s,
                json_pack("{s:s, s:I, s:s, s:s, s:b, s:b}", "request", "joinandconfigure", "room",
                          room, "ptype", "publisher", "display", "bench", "audio", 1, "video", 1),
                json_pack("{s:s, s:s}", "type", "offer", "sdp", offer), true, err, err_len);
    free(offer);
    json_t *data = j ? plugin_data(j, err, err_len) : NULL;
    const char *answer = json_string_value(json_object_get(json_object_get(j, "jsep"), "sdp"));
    rc = data && answer ? mr_test_peer_apply_answer(p, answer, strlen(answer), err, err_len)
                        : MR_EIO;
    json_decref(j);
    if (rc < 0)
        goto fail;
    *out = s;
    return 0;

fail:
    if (!err[0])
        snprintf(err, err_len, "janus: no answer to the publisher's offer");
    close_session(cfg, s);
    return rc < 0 ? rc : MR_EIO;
}

/* The id of the room's (first) publisher. */
static json_int_t find_feed(struct mr_bench_session *s, json_int_t room, char *err, size_t err_len)
{
    json_t *j = message(s, json_pack("{s:s, s:I}", "request", "listparticipants", "room", room),
                        NULL, false, err, err_len);
    json_t *data = j ? plugin_data(j, err, err_len) : NULL;
    json_t *parts = json_object_get(data, "participants");
    json_int_t feed = 0;
    for (size_t i = 0; !feed && i < json_array_size(parts); i++)
        if (json_is_true(json_object_get(json_array_get(parts, i), "publisher")))
            feed = json_integer_value(json_object_get(json_array_get(parts, i), "id"));
    if (!feed && !err[0])
        snprintf(err, err_len, "janus: room %lld has no publisher", (long long)room);
    json_decref(j);
    return feed;
}

static int open_subscriber(const struct mr_bench_target_config *cfg, struct mr_test_peer *p,
                           unsigned stream, struct mr_bench_session **out, char *err,
                           size_t err_len)
{
    struct mr_bench_session *s = NULL;
    err[0] = '\0';
    int rc = open_handle(cfg, &s, err, err_len);
    if (rc < 0)
        return rc;
    json_int_t room = room_id(cfg, stream);
    json_int_t feed = find_feed(s, room, err, err_len);
    json_t *j = NULL;
    char *answer = NULL;
    size_t answer_len = 0;
    rc = MR_EIO;
    if (!feed)
        goto fail;
    j = message(s,
                json_pack("{s:s, s:I, s:s, s:[{s:I}]}", "request", "join", "room", room, "ptype",
                          "subscriber", "streams", "feed", feed),
                NULL, true, err, err_len);
    const char *offer = json_string_value(json_object_get(json_object_get(j, "jsep"), "sdp"));
    if (!j || !plugin_data(j, err, err_len) || !offer)
        goto fail;
    rc = mr_test_peer_answer(p, offer, strlen(offer), &answer, &answer_len, err, err_len);
    json_decref(j);
    j = NULL;
    if (rc < 0)
        goto fail;
    j = message(s, json_pack("{s:s}", "request", "start"),
                json_pack("{s:s, s:s}", "type", "answer", "sdp", answer), true, err, err_len);
    free(answer);
    rc = j && plugin_data(j, err, err_len) ? 0 : MR_EIO;
    if (rc < 0)
        goto fail;
    json_decref(j);
    *out = s;
    return 0;

fail:
    json_decref(j);
    if (!err[0])
        snprintf(err, err_len, "janus: subscribing failed");
    close_session(cfg, s);
    return rc < 0 ? rc : MR_EIO;
}

const struct mr_bench_target_ops mr_bench_target_janus = {
    .name = "janus",
    .open_publisher = open_publisher,
    .open_subscriber = open_subscriber,
    .close = close_session,
    .counters = NULL,
};
