/*
 * a=rid (RFC 8851) and a=simulcast (RFC 8853) of an offer.
 *
 *   a=rid:<rid-id> send|recv [pt=96,97;max-width=1280;max-height=720;...]
 *   a=simulcast:send q;h;~f [recv ...]
 *
 * rid-ids are 1*(ALPHA / DIGIT / "-" / "_") (RFC 8851 §10), at most
 * MR_SDP_RID_MAX bytes here. Whether the a=simulcast list names defined
 * rids is for negotiation to judge (the attributes come in any order).
 */
#include <string.h>

#include "core/error.h"
#include "sdp/sdp.h"
#include "sdp/sdp_internal.h"

static int fail(struct mr_sdp_pctx *c, const char *why)
{
    c->why = why;
    return MR_EPARSE;
}

static bool is_rid_id(struct mr_sdp_span s)
{
    if (s.n == 0 || s.n > MR_SDP_RID_MAX)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        char ch = s.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

/* Splits off the next item of a list separated by sep; false at its end. */
static bool next_item(struct mr_sdp_span *rest, char sep, struct mr_sdp_span *item)
{
    if (rest->n == 0)
        return false;
    if (!mr_sdp_span_cut(*rest, sep, item, rest)) {
        *item = *rest;
        rest->p += rest->n;
        rest->n = 0;
    }
    return true;
}

/* pt=96,97: the formats a rid may use. */
static int rid_pts(struct mr_sdp_pctx *c, struct mr_sdp_rid *r, struct mr_sdp_span v)
{
    struct mr_sdp_span item;
    uint64_t pt;
    while (next_item(&v, ',', &item)) {
        if (mr_sdp_span_uint(mr_sdp_span_trim(item), 127, &pt) < 0)
            return fail(c, "a=rid pt= value is not a payload type");
        if (r->n_pts < MR_SDP_RID_PTS)
            r->pts[r->n_pts++] = (uint8_t)pt;
    }
    return 0;
}

static int rid_params(struct mr_sdp_pctx *c, struct mr_sdp_rid *r, struct mr_sdp_span v)
{
    static const struct {
        const char *name;
        size_t off;
    } limits[] = {
        {"max-width", offsetof(struct mr_sdp_rid, max_width)},
        {"max-height", offsetof(struct mr_sdp_rid, max_height)},
        {"max-fps", offsetof(struct mr_sdp_rid, max_fps)},
    };
    struct mr_sdp_span item, key, val;
    while (next_item(&v, ';', &item)) {
        item = mr_sdp_span_trim(item);
        if (item.n == 0)
            continue;
        if (!mr_sdp_span_cut(item, '=', &key, &val))
            continue; /* a flag parameter the relay does not use */
        key = mr_sdp_span_trim(key);
        if (mr_sdp_span_eq(key, "pt")) {
            if (rid_pts(c, r, val) < 0)
                return MR_EPARSE;
            continue;
        }
        for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
            uint64_t n;
            if (!mr_sdp_span_eq(key, limits[i].name))
                continue;
            if (mr_sdp_span_uint(mr_sdp_span_trim(val), UINT32_MAX, &n) < 0)
                return fail(c, "a=rid limit is not a number");
            *(uint32_t *)((char *)r + limits[i].off) = (uint32_t)n;
        }
    }
    return 0;
}

int mr_sdp_attr_rid(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_media *m = c->cur;
    struct mr_sdp_span id, dir;
    if (!mr_sdp_token_next(&v, &id) || !is_rid_id(id))
        return fail(c, "a=rid id is not 1-16 letters, digits, '-' or '_'");
    if (!mr_sdp_token_next(&v, &dir) ||
        !(mr_sdp_span_eq(dir, "send") || mr_sdp_span_eq(dir, "recv")))
        return fail(c, "a=rid direction is not send or recv");
    for (unsigned i = 0; i < m->n_rids; i++)
        if (mr_sdp_span_eq(id, m->rids[i].id))
            return fail(c, "second a=rid with the same id");
    if (m->n_rids == MR_SDP_MAX_RIDS)
        return fail(c, "more than 8 a=rid lines in a section");
    struct mr_sdp_rid *r = &m->rids[m->n_rids];
    memset(r, 0, sizeof(*r));
    mr_sdp_span_copy(id, r->id, sizeof(r->id));
    r->send = mr_sdp_span_eq(dir, "send");
    struct mr_sdp_span params = mr_sdp_span_trim(v);
    if (params.n && rid_params(c, r, params) < 0)
        return MR_EPARSE;
    m->n_rids++;
    return 0;
}

/* One direction's list: "a;~b,c;d". Keeps the first id of each
 * alternative list when keep is set. */
static int sim_list(struct mr_sdp_pctx *c, struct mr_sdp_span list, bool keep)
{
    struct mr_sdp_media *m = c->cur;
    struct mr_sdp_span alts, one;
    unsigned n = 0;
    if (list.n && list.p[list.n - 1] == ';')
        return fail(c, "a=simulcast has an empty stream");
    while (next_item(&list, ';', &alts)) {
        bool first = true, more = true;
        while (more) {
            /* The last id of the list is what follows the last comma. */
            more = mr_sdp_span_cut(alts, ',', &one, &alts);
            if (!more)
                one = alts;
            bool paused = one.n && one.p[0] == '~';
            if (paused) {
                one.p++;
                one.n--;
            }
            if (one.n == 0 && !paused)
                return fail(c, "a=simulcast has an empty stream");
            if (!is_rid_id(one))
                return fail(c, "a=simulcast rid is not 1-16 letters, digits, '-' or '_'");
            if (keep && first) {
                if (m->n_sim_send == MR_SDP_MAX_RIDS)
                    return fail(c, "more than 8 streams in a=simulcast");
                struct mr_sdp_sim_stream *s = &m->sim_send[m->n_sim_send++];
                mr_sdp_span_copy(one, s->rid, sizeof(s->rid));
                s->paused = paused;
            }
            first = false;
        }
        n++;
    }
    return n ? 0 : fail(c, "a=simulcast lists no stream");
}

int mr_sdp_attr_simulcast(struct mr_sdp_pctx *c, struct mr_sdp_span v)
{
    struct mr_sdp_media *m = c->cur;
    if (m->simulcast)
        return fail(c, "second a=simulcast in a section");
    m->simulcast = true;
    struct mr_sdp_span dir, list;
    bool seen_send = false, seen_recv = false;
    while (mr_sdp_token_next(&v, &dir)) {
        bool send = mr_sdp_span_eq(dir, "send");
        if (!send && !mr_sdp_span_eq(dir, "recv"))
            return fail(c, "a=simulcast direction is not send or recv");
        if (send ? seen_send : seen_recv)
            return fail(c, "a=simulcast names a direction twice");
        if (send)
            seen_send = true;
        else
            seen_recv = true;
        if (!mr_sdp_token_next(&v, &list))
            return fail(c, "a=simulcast direction without streams");
        if (sim_list(c, list, send) < 0)
            return MR_EPARSE;
    }
    return seen_send || seen_recv ? 0 : fail(c, "a=simulcast without a direction");
}
