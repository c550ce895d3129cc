/* Recordings on disk: listing, metadata, signed download URLs, deletion. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_priv.h"
#include "api/isotime.h"
#include "core/audit.h"
#include "core/error.h"
#include "core/log.h"
#include "core/name.h"
#include "core/random.h"

#define LIST_DEFAULT 1000
#define LIST_MAX     10000

/* --- One recording as JSON -------------------------------------------------- */

/* A recorder's error may name a file by its absolute path; clients see
 * only the last component (the API never shows where files live). */
static void strip_paths(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; in[i] && n + 1 < cap; i++) {
        bool token_start = i == 0 || strchr(" \t(\"'=", in[i - 1]);
        if (in[i] == '/' && token_start) {
            size_t j = i, last = i;
            for (; in[j] && !strchr(" \t:,)\"'", in[j]); j++)
                if (in[j] == '/')
                    last = j;
            i = last; /* the loop's i++ skips the final '/' */
            continue;
        }
        out[n++] = in[i];
    }
    out[n] = '\0';
}

static void copy_string(json_t *o, const json_t *meta, const char *key)
{
    const json_t *v = json_object_get(meta, key);
    json_object_set_new(o, key,
                        json_is_string(v) ? json_string(json_string_value(v)) : json_null());
}

static void copy_number(json_t *o, const json_t *meta, const char *key)
{
    json_t *v = json_object_get(meta, key);
    json_object_set(o, key, json_is_number(v) ? v : json_null());
}

static json_t *codecs_json(const json_t *meta)
{
    json_t *in = json_object_get(meta, "codecs"), *out = json_object();
    const char *k;
    json_t *v;
    if (!json_is_object(in))
        return out;
    json_object_foreach(in, k, v) {
        if (json_is_string(v) && strlen(k) < 32)
            json_object_set_new(out, k, json_string(json_string_value(v)));
    }
    return out;
}

/* The sidecar's holes per kind ({"audio": N, "video": M}); null in a
 * sidecar written before they were counted. */
static json_t *lost_json(const json_t *meta)
{
    json_t *in = json_object_get(meta, "lost_packets");
    if (!json_is_object(in))
        return json_null();
    json_t *out = json_object();
    static const char *const kinds[] = {"audio", "video"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        json_t *v = json_object_get(in, kinds[i]);
        if (json_is_integer(v))
            json_object_set_new(out, kinds[i], json_integer(json_integer_value(v)));
    }
    return out;
}

json_t *mr_api_recording_json(const struct mr_store_entry *e)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "id", e->id, "recording", e->rec_id, "segment",
                          (int)e->segment, "room", e->room);
    if (!o)
        return NULL;
    static const char *const strings[] = {"stream", "publisher", "publisher_role", "state",
                                          "start",  "end",       "container",      "sha256"};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        copy_string(o, e->meta, strings[i]);
    static const char *const numbers[] = {"duration_s", "width", "height", "dropped_packets"};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        copy_number(o, e->meta, numbers[i]);
    const char *err = json_string_value(json_object_get(e->meta, "error"));
    char clean[512];
    strip_paths(err ? err : "", clean, sizeof(clean));
    json_object_set_new(o, "error", clean[0] ? json_string(clean) : json_null());
    json_object_set_new(o, "codecs", codecs_json(e->meta));
    json_object_set_new(o, "lost_packets", lost_json(e->meta));
    json_int_t w = json_integer_value(json_object_get(e->meta, "width"));
    json_int_t h = json_integer_value(json_object_get(e->meta, "height"));
    char res[48];
    snprintf(res, sizeof(res), "%lldx%lld", (long long)w, (long long)h);
    json_object_set_new(o, "resolution", w > 0 && h > 0 ? json_string(res) : json_null());
    /* The file as it is now (it grows while recording); the sidecar's size
     * when the file is gone. */
    json_t *size = json_object_get(e->meta, "size");
    json_object_set_new(o, "size",
                        e->media_found          ? json_integer((json_int_t)e->media_size)
                        : json_is_integer(size) ? json_copy(size)
                                                : json_null());
    json_object_set_new(o, "content_type", json_string(mr_store_content_type(e)));
    json_object_set_new(o, "downloadable", json_boolean(e->media_found));
    return o;
}

/* --- Listing ------------------------------------------------------------- */

struct filter {
    const struct api_call *c;
    const char *room; /* NULL: every room the token covers */
    char stream[MR_NAME_MAX + 1];
    char recording[17];
    int64_t from, to; /* INT64_MIN / INT64_MAX when open */
    long limit;
    GPtrArray *found; /* of struct mr_store_entry * */
};

static void free_entry(gpointer p)
{
    mr_store_entry_clear(p);
    g_free(p);
}

/* A recording overlaps [from, to]: it started by `to` and had not ended
 * before `from` (one in progress has not ended). */
static bool keep(const struct filter *f, const struct mr_store_entry *e)
{
    const char *stream = json_string_value(json_object_get(e->meta, "stream"));
    if (!mr_api_covers(f->c, e->room))
        return false;
    if (f->stream[0] && (!stream || strcmp(stream, f->stream) != 0))
        return false;
    if (f->recording[0] && strcmp(e->rec_id, f->recording) != 0)
        return false;
    if (f->to != INT64_MAX && (e->start_s == INT64_MIN || e->start_s > f->to))
        return false;
    int64_t end = e->end_s != INT64_MIN ? e->end_s : e->start_s;
    bool open_ended = strcmp(e->state, "recording") == 0 || end == INT64_MIN;
    return f->from == INT64_MIN || open_ended || end >= f->from;
}

static bool collect(const struct mr_store_entry *e, void *user)
{
    struct filter *f = user;
    if (keep(f, e)) {
        struct mr_store_entry *copy = g_new(struct mr_store_entry, 1);
        mr_store_entry_copy(copy, e);
        g_ptr_array_add(f->found, copy);
    }
    return true;
}

/* Newest first; unknown start times last; ties by id, so pages are stable. */
static gint newest_first(gconstpointer a, gconstpointer b)
{
    const struct mr_store_entry *x = *(struct mr_store_entry *const *)a;
    const struct mr_store_entry *y = *(struct mr_store_entry *const *)b;
    if (x->start_s != y->start_s)
        return x->start_s > y->start_s ? -1 : 1;
    return strcmp(x->id, y->id);
}

static bool query_time(struct mr_http_request *req, const char *name, int64_t *out)
{
    char v[64];
    int n = mr_http_query_arg(req, name, v, sizeof(v));
    if (n == -1)
        return true;
    return n >= 0 && mr_iso_time_parse(v, out) == 0;
}

static bool query_name(struct mr_http_request *req, const char *name, char *out, size_t cap,
                       bool *bad)
{
    int n = mr_http_query_arg(req, name, out, cap);
    if (n == -1) {
        out[0] = '\0';
        return false;
    }
    *bad = n < 0 || !mr_name_valid(out, (size_t)n);
    return !*bad;
}

/* recording=<16 hex digits>, the id the stream listing shows for a
 * recording in progress. */
static bool recording_arg(struct mr_http_request *req, char out[17])
{
    char probe[40];
    int n = mr_http_query_arg(req, "recording", out, 17);
    if (n == -1) {
        out[0] = '\0';
        return true;
    }
    snprintf(probe, sizeof(probe), "%s-0", n == 16 ? out : "");
    return mr_store_id_parse(probe, NULL, NULL);
}

/* Reads the query; answers and returns false when it is not acceptable. */
static bool parse_filter(struct api_call *c, struct filter *f, char *room, size_t room_cap)
{
    struct mr_http_request *req = c->req;
    bool bad = false;
    char limit[16];
    if (query_name(req, "room", room, room_cap, &bad))
        f->room = room;
    if (!bad)
        query_name(req, "stream", f->stream, sizeof(f->stream), &bad);
    if (bad) {
        mr_http_respond_error(req, 400, "bad-name",
                              "room and stream names must match [A-Za-z0-9_-]{1,64}");
        return false;
    }
    if (f->room && !mr_api_covers(c, f->room)) {
        mr_api_refuse(c, 403, "the token is not valid for this room", f->room);
        return false;
    }
    bool rec_ok = recording_arg(req, f->recording);
    int n = mr_http_query_arg(req, "limit", limit, sizeof(limit));
    char *end = NULL;
    f->limit = n > 0 ? strtol(limit, &end, 10) : LIST_DEFAULT;
    bool limit_ok = n == -1 || (n > 0 && *end == '\0' && f->limit >= 1 && f->limit <= LIST_MAX);
    if (!rec_ok || !limit_ok || !query_time(req, "from", &f->from) ||
        !query_time(req, "to", &f->to)) {
        mr_http_respond_error(req, 400, "bad-request",
                              "from and to take ISO 8601 times (2025-01-31T08:00:00Z), limit "
                              "1-10000, recording 16 hex digits");
        return false;
    }
    return true;
}

void mr_api_list_recordings(struct api_call *c)
{
    char room[72];
    struct filter f = {.c = c, .from = INT64_MIN, .to = INT64_MAX};
    if (!parse_filter(c, &f, room, sizeof(room)))
        return;
    const char *only = f.room ? f.room : strcmp(c->claims.room, "*") != 0 ? c->claims.room : NULL;
    f.found = g_ptr_array_new_with_free_func(free_entry);
    int rc = mr_store_each(c->api->cfg->record_dir, only, collect, &f);
    if (rc < 0) {
        g_ptr_array_free(f.found, TRUE);
        mr_http_respond_error(c->req, 500, "internal", "the record directory cannot be read");
        return;
    }
    g_ptr_array_sort(f.found, newest_first);
    json_t *list = json_array();
    for (unsigned i = 0; i < f.found->len && i < (unsigned)f.limit; i++)
        json_array_append_new(list, mr_api_recording_json(g_ptr_array_index(f.found, i)));
    json_t *body = json_pack("{s:o, s:I}", "recordings", list, "total", (json_int_t)f.found->len);
    g_ptr_array_free(f.found, TRUE);
    mr_api_respond_json(c->req, 200, body);
}

/* --- One recording ----------------------------------------------------------- */

/* Finds {id} and checks the token's room; answers 404/403 otherwise. */
static bool find_covered(struct api_call *c, struct mr_store_entry *e)
{
    if (mr_store_find(c->api->cfg->record_dir, c->id, e) < 0) {
        mr_http_respond_error(c->req, 404, "not-found", "no such recording");
        return false;
    }
    if (!mr_api_covers(c, e->room)) {
        char room[sizeof(e->room)];
        snprintf(room, sizeof(room), "%s", e->room);
        mr_store_entry_clear(e);
        mr_api_refuse(c, 403, "the token is not valid for this room", room);
        return false;
    }
    return true;
}

void mr_api_get_recording(struct api_call *c)
{
    struct mr_store_entry e;
    if (!find_covered(c, &e))
        return;
    mr_api_respond_json(c->req, 200, mr_api_recording_json(&e));
    mr_store_entry_clear(&e);
}

void mr_api_issue_url(struct api_call *c)
{
    struct mr_store_entry e;
    if (!find_covered(c, &e))
        return;
    if (!e.media_found) {
        mr_store_entry_clear(&e);
        mr_http_respond_error(c->req, 404, "not-found", "the recording has no media file");
        return;
    }
    char nonce[MR_API_NONCE_LEN + 1], sig[MR_API_SIG_LEN + 1], url[256], expires[32], detail[160];
    int64_t exp = (int64_t)time(NULL) + c->api->cfg->download_ttl_s;
    mr_random_hex(nonce, MR_API_NONCE_LEN / 2);
    if (mr_api_url_sign(c->api->url_key, e.id, exp, nonce, sig) < 0) {
        mr_store_entry_clear(&e);
        mr_http_respond_error(c->req, 500, "internal", "cannot sign the download link");
        return;
    }
    snprintf(url, sizeof(url), "/media/recordings/%s?exp=%lld&n=%s&sig=%s", e.id, (long long)exp,
             nonce, sig);
    mr_iso_time_format(exp, expires);
    mr_api_url_remember(c->api, nonce, exp, c->claims.sub, mr_role_name(c->claims.role));
    snprintf(detail, sizeof(detail), "id=%s url=%s expires=%s", e.id, nonce, expires);
    mr_audit("record-url", e.room, c->claims.sub, mr_role_name(c->claims.role), detail);
    mr_api_respond_json(c->req, 200,
                        json_pack("{s:s, s:s, s:I, s:s}", "url", url, "expires", expires, "ttl_s",
                                  (json_int_t)c->api->cfg->download_ttl_s, "content_type",
                                  mr_store_content_type(&e)));
    mr_store_entry_clear(&e);
}

void mr_api_delete_recording(struct api_call *c)
{
    struct mr_store_entry e;
    if (!find_covered(c, &e))
        return;
    if (strcmp(e.state, "recording") == 0) {
        mr_store_entry_clear(&e);
        mr_http_respond_error(c->req, 409, "stream-busy",
                              "the recording is in progress; stop it first");
        return;
    }
    int rc = mr_store_delete(c->api->cfg->record_dir, &e);
    char detail[160], redacted[MR_LOG_REDACT_LEN];
    if (rc == MR_EIO) {
        snprintf(detail, sizeof(detail), "the recording cannot be deleted: %s", strerror(errno));
        mr_log_error(RECORD, "recording %s in room %s: %s", e.id,
                     mr_log_redact(MR_LOG_RECORD, e.room, redacted), detail);
        mr_http_respond_error(c->req, 500, "internal", detail);
    } else if (rc == MR_ENOENT) {
        mr_http_respond_error(c->req, 404, "not-found", "no such recording");
    } else {
        const char *stream = json_string_value(json_object_get(e.meta, "stream"));
        snprintf(detail, sizeof(detail), "id=%s stream=%s", e.id, stream ? stream : "");
        mr_audit("record-delete", e.room, c->claims.sub, mr_role_name(c->claims.role), detail);
        mr_log_info(RECORD, "recording %s in room %s deleted by an operator", e.id,
                    mr_log_redact(MR_LOG_RECORD, e.room, redacted));
        mr_http_respond(c->req, 204, NULL, NULL, 0, NULL, 0);
    }
    mr_store_entry_clear(&e);
}
