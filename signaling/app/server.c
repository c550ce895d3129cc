/* The server: control loop, relay, HTTP routes, signals. */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "app/app.h"
#include "core/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "http/http.h"
#include "record/record.h"
#include "sfu/relay.h"
#include "srtp/srtp.h"
#include "whip/whip.h"
#include "ws/ws_proto.h"

struct server {
    GMainLoop *loop;
    struct mr_relay *relay;
    struct mr_room_proto *rooms;
    const struct mr_auth_key *key;
    const struct mr_config *cfg;
};

static void handle_health(struct mr_http_request *req, void *user)
{
    struct server *s = user;
    struct mr_relay_counts c;
    char body[160];
    mr_relay_counts(s->relay, &c);
    int n = snprintf(body, sizeof(body),
                     "{\"status\":\"ok\",\"publishers\":%u,\"subscribers\":%u,\"streams\":%u}",
                     c.publishers, c.subscribers, c.streams);
    mr_http_respond(req, 200, "application/json", body, (size_t)n, NULL, 0);
}

/*
 * Metrics carry counts only, never names, but they still tell an outsider
 * how busy each room's server is: an operator token for all rooms is
 * required. [server] metrics_loopback_open (off by default) lets a scraper
 * on the same host in without one; even then a request that came through
 * a proxy (which connects from loopback for everyone) needs the token.
 */
static int check_metrics(struct mr_http_request *req, void *user)
{
    struct server *s = user;
    struct mr_claims claims;
    char why[128];
    if (s->cfg->metrics_loopback_open && mr_http_from_loopback(req))
        return 0;
    if (mr_auth_bearer(s->key, req->authorization, (int64_t)time(NULL), &claims, why,
                       sizeof(why)) < 0) {
        mr_http_refuse(req, 401, why, NULL, claims.sub, mr_role_name(claims.role));
        return MR_EAGAIN;
    }
    if (claims.role != MR_ROLE_OPERATOR || strcmp(claims.room, "*") != 0) {
        mr_http_refuse(req, 403, "metrics need an operator token for all rooms", NULL, claims.sub,
                       mr_role_name(claims.role));
        return MR_EAGAIN;
    }
    return 0;
}

/* The recorder's process-wide counters (relay/record/record.h). */
static void recording_metrics(GString *out)
{
    static const char name[] = "medrelay_recording_lost_packets_total";
    g_string_append_printf(out,
                           "# HELP %s Holes in recordings: packets their jitter buffers declared "
                           "lost (never arrived, or later than the 400 ms latency).\n"
                           "# TYPE %s counter\n",
                           name, name);
    g_string_append_printf(out, "%s{kind=\"audio\"} %llu\n%s{kind=\"video\"} %llu\n", name,
                           (unsigned long long)mr_record_lost_total(MR_RECORD_AUDIO), name,
                           (unsigned long long)mr_record_lost_total(MR_RECORD_VIDEO));
}

static void handle_metrics(struct mr_http_request *req, void *user)
{
    struct server *s = user;
    GString *text = g_string_sized_new(8192);
    mr_relay_metrics(s->relay, text);
    recording_metrics(text);
    if (s->rooms)
        mr_room_proto_metrics(s->rooms, text);
    mr_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", text->str, text->len,
                    NULL, 0);
    g_string_free(text, TRUE);
}

static int admit_http(void *user, enum mr_session_kind kind, const char *room, char *detail,
                      size_t detail_len)
{
    return mr_room_proto_admit_http(user, kind, room, detail, detail_len);
}

/* Retention runs once at start-up and then hourly (api/api.h). */
#define RETENTION_PERIOD_S 3600

static gboolean on_retention(gpointer data)
{
    const struct mr_config *cfg = data;
    mr_api_retention_sweep(cfg, (int64_t)time(NULL));
    return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer data)
{
    struct server *s = data;
    mr_log_info(CORE, "signal received; shutting down");
    g_main_loop_quit(s->loop);
    return G_SOURCE_CONTINUE;
}

int mr_server_run(const struct mr_config *cfg, const struct mr_auth_key *key,
                  const struct mr_turn *turn)
{
    struct server s = {.key = key, .cfg = cfg};
    struct mr_http_server *http = NULL;
    struct mr_api *api = NULL;
    struct mr_room_proto *rooms = NULL;
    guint retention = 0;
    struct mr_whip whip = {0};
    int status = 1;
    s.loop = g_main_loop_new(NULL, FALSE);
    /* A client closing its socket mid-write must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (mr_audit_open(cfg->audit_log) < 0)
        goto out;
    int rc = mr_relay_new(cfg, NULL, &s.relay);
    if (rc < 0) {
        mr_log_error(CORE, "cannot start the media relay: %s", mr_strerror(rc));
        goto out;
    }
    rc = mr_api_new(cfg, s.relay, key, &api);
    if (rc < 0) {
        mr_log_error(CORE, "cannot start the API: %s", mr_strerror(rc));
        goto out;
    }
    /* After the relay, whose recorder has closed recordings a crash left
     * open, and before listening, so that old files are never served. */
    on_retention((gpointer)cfg);
    retention = g_timeout_add_seconds(RETENTION_PERIOD_S, on_retention, (gpointer)cfg);
    rc = mr_room_proto_new(cfg, s.relay, key, &rooms);
    if (rc < 0) {
        mr_log_error(CORE, "cannot start the room protocol: %s", mr_strerror(rc));
        goto out;
    }
    s.rooms = rooms;
    mr_room_proto_set_turn(rooms, turn);
    whip = (struct mr_whip){.cfg = cfg, .relay = s.relay, .key = key, .admit = admit_http,
                            .admit_user = rooms, .turn = turn};
    rc = mr_whip_init(&whip);
    if (rc < 0) {
        mr_log_error(CORE, "cannot start WHIP and WHEP: %s", mr_strerror(rc));
        goto out;
    }
    struct mr_http_route routes[MR_WHIP_ROUTES + 2 + MR_API_ROUTES];
    mr_whip_routes(&whip, routes);
    mr_api_routes(api, routes + MR_WHIP_ROUTES + 2);
    routes[MR_WHIP_ROUTES] = (struct mr_http_route){
        .method = MR_HTTP_GET, .prefix = "healthz", .min_segments = 1, .max_segments = 1,
        .handle = handle_health, .user = &s};
    routes[MR_WHIP_ROUTES + 1] = (struct mr_http_route){
        .method = MR_HTTP_GET, .prefix = "metrics", .min_segments = 1, .max_segments = 1,
        .check = check_metrics, .handle = handle_metrics, .user = &s};
    rc = mr_http_server_new(cfg, s.loop, routes, MR_WHIP_ROUTES + 2 + MR_API_ROUTES, &http);
    if (rc < 0) {
        mr_log_error(CORE, "cannot listen on %s:%u", cfg->listen_host, cfg->listen_port);
        goto out;
    }
    mr_http_server_set_ws(http, mr_room_proto_handler(rooms));
    g_unix_signal_add(SIGTERM, on_signal, &s);
    g_unix_signal_add(SIGINT, on_signal, &s);
    mr_log_info(CORE, "medrelay %s listening on %s://%s:%u (media on %s, SRTP via %s)",
                MR_VERSION, cfg->tls_cert[0] ? "https" : "http", cfg->listen_host,
                cfg->listen_port, cfg->media_ip,
                mr_srtp_backend());
    g_main_loop_run(s.loop);
    status = 0;
out:
    if (retention)
        g_source_remove(retention);
    mr_http_server_free(http);
    mr_whip_cleanup(&whip);
    mr_room_proto_free(rooms);
    mr_api_free(api);
    mr_relay_free(s.relay);
    mr_audit_close();
    g_main_loop_unref(s.loop);
    return status;
}
