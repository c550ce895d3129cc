/* Refusals of protected actions: the answer and its audit entry, together. */
#include <stdio.h>

#include "core/audit.h"
#include "http/http.h"

static const char *method_name(enum mr_http_method m)
{
    static const char *const names[] = {
        [MR_HTTP_GET] = "GET",         [MR_HTTP_POST] = "POST", [MR_HTTP_PATCH] = "PATCH",
        [MR_HTTP_DELETE] = "DELETE",   [MR_HTTP_OPTIONS] = "OPTIONS", [MR_HTTP_PUT] = "PUT",
        [MR_HTTP_HEAD] = "HEAD",       [MR_HTTP_OTHER] = "OTHER",
    };
    return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "OTHER";
}

void mr_http_refuse(struct mr_http_request *req, int status, const char *detail, const char *room,
                    const char *sub, const char *role)
{
    /* The path, never the query: a signed download URL carries its
     * signature there. */
    char what[sizeof(req->path) + 16];
    snprintf(what, sizeof(what), "%s %s", method_name(req->method), req->path);
    struct mr_audit_refusal r = {
        .request = what,
        .room = room,
        .sub = sub && sub[0] ? sub : NULL,
        .role = sub && sub[0] ? role : NULL,
        .addr = req->peer_addr,
        .status = status,
        .detail = detail,
    };
    mr_audit_refused(&r);
    mr_http_respond_error(req, status, status == 401 ? "unauthorized" : "forbidden", detail);
}
