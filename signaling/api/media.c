/*
 * GET/HEAD /media/recordings/{id}?exp=&n=&sig=: a recording's file for a
 * <video> element, which cannot send a token, so the URL carries a
 * signature instead (api/sign.h). Ranges are served by the HTTP layer.
 * A recording in progress is served as it stands at the time of each
 * request (its sidecar says "recording"; the file is playable up to there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_priv.h"
#include "core/audit.h"
#include "core/error.h"
#include "core/log.h"

/* A download URL this process issued. */
struct api_url {
    int64_t exp;
    bool used;                /* its first use is audited */
    char sub[MR_SUB_MAX + 1]; /* who asked for it; "" when unknown */
    char role[16];
};

static gboolean expired(gpointer key, gpointer value, gpointer now)
{
    const struct api_url *u = value;
    return u->exp < *(int64_t *)now;
}

static struct api_url *remember(struct mr_api *api, const char *nonce, int64_t exp, const char *sub,
                                const char *role)
{
    int64_t now = (int64_t)time(NULL);
    /* Issuing needs a token, so the table holds at most the URLs of one
     * download_ttl; expired ones are dropped here. */
    g_hash_table_foreach_remove(api->urls, expired, &now);
    struct api_url *u = g_new0(struct api_url, 1);
    u->exp = exp;
    snprintf(u->sub, sizeof(u->sub), "%s", sub ? sub : "");
    snprintf(u->role, sizeof(u->role), "%s", role ? role : "");
    g_hash_table_replace(api->urls, g_strdup(nonce), u);
    return u;
}

void mr_api_url_remember(struct mr_api *api, const char *nonce, int64_t exp, const char *sub,
                         const char *role)
{
    remember(api, nonce, exp, sub, role);
}

/* The query's value of name, or NULL. */
static const char *arg(struct mr_http_request *req, const char *name, char *buf, size_t cap)
{
    return mr_http_query_arg(req, name, buf, cap) >= 0 ? buf : NULL;
}

int mr_api_media_check(struct mr_http_request *req, void *user)
{
    struct mr_api *api = user;
    char exp[32], nonce[40], sig[64];
    const char *why = "";
    if (req->bad_path || strcmp(req->segments[1], "recordings") != 0 ||
        !mr_store_id_parse(req->segments[2], NULL, NULL)) {
        mr_http_respond_error(req, 404, "not-found", "no such recording");
        return MR_EAGAIN;
    }
    if (mr_api_url_verify(api->url_key, req->segments[2], arg(req, "exp", exp, sizeof(exp)),
                          arg(req, "n", nonce, sizeof(nonce)), arg(req, "sig", sig, sizeof(sig)),
                          (int64_t)time(NULL), &why) < 0) {
        mr_http_refuse(req, 401, why, NULL, NULL, NULL);
        return MR_EAGAIN;
    }
    return 0;
}

/* Audits the first use of a URL only: a player fetches one recording in
 * many range requests, and the trail should say "downloaded" once. */
static void audit_first_use(struct mr_api *api, struct mr_http_request *req,
                            const struct mr_store_entry *e)
{
    char nonce[40], exp[32], detail[200];
    if (!arg(req, "n", nonce, sizeof(nonce)) || !arg(req, "exp", exp, sizeof(exp)))
        return;
    struct api_url *u = g_hash_table_lookup(api->urls, nonce);
    if (!u) /* issued before a restart: still valid, audited again */
        u = remember(api, nonce, strtoll(exp, NULL, 10), NULL, NULL);
    if (u->used)
        return;
    u->used = true;
    snprintf(detail, sizeof(detail), "id=%s url=%s from=%s", e->id, nonce, req->peer_addr);
    mr_audit("record-download", e->room, u->sub[0] ? u->sub : NULL, u->role[0] ? u->role : NULL,
             detail);
}

void mr_api_media_handle(struct mr_http_request *req, void *user)
{
    struct mr_api *api = user;
    struct mr_store_entry e;
    int fd;
    uint64_t size;
    if (mr_store_find(api->cfg->record_dir, req->segments[2], &e) < 0) {
        mr_http_respond_error(req, 404, "not-found", "no such recording");
        return;
    }
    if (mr_store_open_media(api->cfg->record_dir, &e, &fd, &size) < 0) {
        mr_store_entry_clear(&e);
        mr_http_respond_error(req, 404, "not-found", "the recording has no media file");
        return;
    }
    const char *type = mr_store_content_type(&e);
    char disposition[96];
    snprintf(disposition, sizeof(disposition), "inline; filename=\"%s.%s\"", e.id,
             strcmp(type, "video/webm") == 0 ? "webm" : "mkv");
    struct mr_http_header h[3] = {
        {"Content-Disposition", disposition},
        {"Cache-Control", "private, no-store"},
        {"X-Content-Type-Options", "nosniff"},
    };
    int status = mr_http_respond_file(req, fd, size, type, h, 3);
    if (req->method == MR_HTTP_GET && (status == 200 || status == 206))
        audit_first_use(api, req, &e);
    mr_store_entry_clear(&e);
}
