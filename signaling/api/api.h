/*
 * The REST API for streams and recordings (documented in docs/api.md):
 *
 *   GET    /api/rooms                                  rooms the token covers
 *   GET    /api/streams                                all streams (room "*" tokens)
 *   GET    /api/rooms/{room}/streams                   a room's streams
 *   GET    /api/rooms/{room}/streams/{stream}          one stream
 *   POST   /api/rooms/{room}/streams/{stream}/recording   start recording (operator)
 *   DELETE /api/rooms/{room}/streams/{stream}/recording   stop recording (operator)
 *   POST   /api/rooms/{room}/recording                 start every stream of a room
 *   DELETE /api/rooms/{room}/recording                 stop every stream of a room
 *   GET    /api/recordings[?room&stream&from&to&limit] recordings (operator, expert)
 *   GET    /api/recordings/{id}                        one recording's metadata
 *   POST   /api/recordings/{id}/url                    a signed download URL
 *   DELETE /api/recordings/{id}                        delete (operator)
 *   GET    /media/recordings/{id}?exp&n&sig            the file, with ranges (HEAD too)
 *
 * Recordings are read from the record directory (api/store.h), streams and
 * recording control go through the relay's control interface. Every
 * download URL issued, every first use of one, every deletion and every
 * recording removed by retention goes to the audit trail.
 */
#ifndef MR_API_API_H
#define MR_API_API_H

#include <stdint.h>

#include "auth/bearer.h"
#include "core/config.h"
#include "http/http.h"
#include "sfu/relay.h"

#define MR_API_ROUTES 5

struct mr_api;

/* cfg, relay and key are borrowed for the API's lifetime. Returns 0,
 * MR_ENOMEM or MR_ECRYPTO. */
int mr_api_new(const struct mr_config *cfg, struct mr_relay *relay, const struct mr_auth_key *key,
               struct mr_api **out);
void mr_api_free(struct mr_api *api);

/* Fills MR_API_ROUTES routes (borrowing api) into out. */
void mr_api_routes(struct mr_api *api, struct mr_http_route *out);

/*
 * Retention: deletes every finished recording (media file and sidecar)
 * whose end (or, without one, start) is more than [recording]
 * retention_days before now_s, logs and audits each deletion, and removes
 * date folders left empty. Recordings in progress, and sidecars whose
 * times cannot be read, are kept. retention_days 0 keeps everything.
 * Returns the number of recordings deleted.
 */
unsigned mr_api_retention_sweep(const struct mr_config *cfg, int64_t now_s);

#endif
