/* GET /api/rooms/{room}/sessions: every media session of a room and how it
 * is connected (docs/api.md). */
#include "api/api_priv.h"

static const char *path_name(enum mr_session_path p)
{
    switch (p) {
    case MR_PATH_UDP:
        return "udp";
    case MR_PATH_TCP:
        return "tcp";
    case MR_PATH_UNKNOWN:
        break;
    }
    return NULL;
}

static const char *const layer_names[] = {"high", "medium", "low"};
static const char *const why_names[] = {[MR_LAYER_WHY_BEST] = "best",
                                        [MR_LAYER_WHY_CAP] = "cap",
                                        [MR_LAYER_WHY_DOWNLINK] = "downlink"};

/* A viewer's simulcast layer and why; null for publishers and for viewers
 * of single-layer streams. */
static json_t *layer_json(const struct mr_session_status *st)
{
    if (st->kind == MR_SESSION_PUBLISH || st->layer < 0 || st->layer > 2)
        return json_null();
    return json_pack("{s:s, s:s, s:o}", "sent", layer_names[st->layer], "why",
                     why_names[st->layer_why], "downlink_kbps",
                     st->downlink_kbps >= 0 ? json_integer(st->downlink_kbps) : json_null());
}

static void add_session(const struct mr_session_status *st, void *user)
{
    json_t *list = user;
    json_t *rtt = st->rtt_ms >= 0 ? json_integer(st->rtt_ms) : json_null();
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s?, s:s, s:s, s:{s:s?, s:b, s:o}, s:o}", "id", st->id,
                        "kind",
                        st->room_subscription ? "room"
                        : st->kind == MR_SESSION_PUBLISH ? "publish"
                                                         : "subscribe",
                        "stream", st->stream[0] ? st->stream : NULL, "sub", st->sub, "role",
                        st->role, "connection", "transport", path_name(st->path), "relayed",
                        st->relayed, "rtt_ms", rtt, "layer", layer_json(st)));
}

void mr_api_list_sessions(struct api_call *c)
{
    json_t *list = json_array();
    mr_relay_each_session(c->api->relay, c->room, add_session, list);
    mr_api_respond_json(c->req, 200, json_pack("{s:s, s:o}", "room", c->room, "sessions", list));
}
