/* Internal to signaling/api. */
#ifndef MR_API_PRIV_H
#define MR_API_PRIV_H

#include <glib.h>
#include <jansson.h>

#include "api/api.h"
#include "api/sign.h"
#include "api/store.h"

struct mr_api {
    const struct mr_config *cfg;
    struct mr_relay *relay;
    const struct mr_auth_key *key;
    uint8_t url_key[MR_API_URL_KEY_LEN];
    /* Download URLs issued by this process: nonce -> struct api_url, so
     * the first use of each is audited once, with who asked for it. */
    GHashTable *urls;
};

/* One request being handled, with its path parameters. */
struct api_call {
    struct mr_api *api;
    struct mr_http_request *req;
    struct mr_claims claims; /* valid except on /media */
    const char *room;        /* path parameters, NULL when absent */
    const char *stream;
    const char *id;
};

/* api.c */
void mr_api_respond_json(struct mr_http_request *req, int status, json_t *body); /* steals */
bool mr_api_covers(const struct api_call *c, const char *room);
/* Refuses the call (401 unauthorized or 403 forbidden) and audits it with
 * the caller's identity; room: the room concerned, or NULL. */
void mr_api_refuse(struct api_call *c, int status, const char *detail, const char *room);

/* streams.c */
void mr_api_list_rooms(struct api_call *c);
void mr_api_list_all_streams(struct api_call *c);
void mr_api_list_streams(struct api_call *c);
void mr_api_get_stream(struct api_call *c);
void mr_api_start_stream(struct api_call *c);
void mr_api_stop_stream(struct api_call *c);
void mr_api_start_room(struct api_call *c);
void mr_api_stop_room(struct api_call *c);

/* sessions.c */
void mr_api_list_sessions(struct api_call *c);

/* recordings.c */
void mr_api_list_recordings(struct api_call *c);
void mr_api_get_recording(struct api_call *c);
void mr_api_issue_url(struct api_call *c);
void mr_api_delete_recording(struct api_call *c);
json_t *mr_api_recording_json(const struct mr_store_entry *e);

/* media.c */
int mr_api_media_check(struct mr_http_request *req, void *user);
void mr_api_media_handle(struct mr_http_request *req, void *user);
void mr_api_url_remember(struct mr_api *api, const char *nonce, int64_t exp, const char *sub,
                         const char *role);

#endif
