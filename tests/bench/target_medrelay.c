/* The medrelay target: WHIP publishers, WHEP subscribers, /metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "target.h"
#include "whip_client.h"

#define HTTP_TIMEOUT_MS 10000
#define STREAM_NAME     "cam"

struct mr_bench_session {
    struct mr_test_whip whip;
};

static int open_session(const struct mr_bench_target_config *cfg, struct mr_test_peer *p,
                        bool publish, unsigned stream, struct mr_bench_session **out, char *err,
                        size_t err_len)
{
    struct mr_bench_session *s = calloc(1, sizeof(*s));
    if (!s)
        return MR_ENOMEM;
    char url[512];
    snprintf(url, sizeof(url), "%s/%s/%s%u/%s", cfg->url, publish ? "whip" : "whep",
             cfg->room_prefix, stream, STREAM_NAME);
    int rc = mr_test_whip_connect_url(&s->whip, p, url, publish ? cfg->pub_token : cfg->sub_token,
                                      HTTP_TIMEOUT_MS);
    if (rc < 0) {
        snprintf(err, err_len, "%s: %s (HTTP %d %s) %s", url, mr_strerror(rc), s->whip.status,
                 s->whip.error, s->whip.detail);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int open_publisher(const struct mr_bench_target_config *cfg, struct mr_test_peer *p,
                          unsigned stream, struct mr_bench_session **out, char *err, size_t err_len)
{
    return open_session(cfg, p, true, stream, out, err, err_len);
}

static int open_subscriber(const struct mr_bench_target_config *cfg, struct mr_test_peer *p,
                           unsigned stream, struct mr_bench_session **out, char *err,
                           size_t err_len)
{
    return open_session(cfg, p, false, stream, out, err, err_len);
}

static void close_session(const struct mr_bench_target_config *cfg, struct mr_bench_session *s)
{
    (void)cfg;
    if (!s)
        return;
    if (s->whip.location[0])
        mr_test_whip_delete(&s->whip, HTTP_TIMEOUT_MS);
    free(s);
}

/* The value of an unlabelled sample in a Prometheus text body, or -1. */
static double sample(const char *body, const char *name)
{
    char needle[96];
    snprintf(needle, sizeof(needle), "\n%s ", name);
    const char *p = body ? strstr(body, needle) : NULL;
    return p ? strtod(p + strlen(needle), NULL) : -1;
}

/* One reading of GET /metrics (an operator token, or loopback). */
static int counters(const struct mr_bench_target_config *cfg, struct mr_bench_server_counters *out)
{
    char host[64], path[MR_TEST_HTTP_URL_MAX], auth[1100], err[128];
    uint16_t port;
    if (mr_test_http_parse_url(cfg->url, host, sizeof(host), &port, path, sizeof(path)) < 0)
        return MR_EINVAL;
    const char *headers[] = {auth, NULL};
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
             cfg->metrics_token ? cfg->metrics_token : "");
    struct mr_test_http_response r;
    if (mr_test_http_request(host, port, "GET", "/metrics", cfg->metrics_token ? headers : NULL,
                             NULL, 0, HTTP_TIMEOUT_MS, &r, err, sizeof(err)) < 0)
        return MR_EIO;
    const char *body = r.status == 200 ? r.body : NULL;
    out->forwarded = sample(body, "medrelay_rtp_forwarded_packets_total");
    out->nack_sent = sample(body, "medrelay_nack_packets_sent_total");
    out->recovered = sample(body, "medrelay_recovered_packets_total");
    out->gave_up = sample(body, "medrelay_nack_giveups_total");
    out->tcp_backlog = sample(body, "medrelay_packets_dropped_total{cause=\"tcp_backlog\"}");
    out->layer_switches = sample(body, "medrelay_layer_switches_total");
    int rc = r.status != 200 ? MR_EPERM : out->forwarded < 0 ? MR_ENOENT : 0;
    mr_test_http_response_cleanup(&r);
    return rc;
}

const struct mr_bench_target_ops mr_bench_target_medrelay = {
    .name = "medrelay",
    .open_publisher = open_publisher,
    .open_subscriber = open_subscriber,
    .close = close_session,
    .counters = counters,
};
