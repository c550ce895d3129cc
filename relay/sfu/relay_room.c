/*
 * Rooms on the control thread: which media worker a room's streams and
 * room subscriptions live on.
 *
 * A room subscription sends several streams of its room over one
 * transport, and a transport lives on one worker; forwarding must never
 * cross threads. So a room is placed on a worker when it gets its first
 * stream or room subscription, and everything in it goes there until the
 * last of them is gone. The price: one room is bounded by one core. For
 * consultations (a few streams, a few viewers) that is far from a limit;
 * large broadcasts will cascade to further workers or nodes later.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"
#include "sfu/relay_priv.h"

struct mr_relay_room *mr_relay_room_get(struct mr_relay *r, const char *name)
{
    struct mr_relay_room *room = g_hash_table_lookup(r->rooms, name);
    if (room) {
        room->refs++;
        return room;
    }
    room = calloc(1, sizeof(*room));
    if (!room)
        return NULL;
    room->refs = 1;
    snprintf(room->name, sizeof(room->name), "%s", name);
    /* The least-loaded worker (by streams) when the room begins; its
     * streams then count towards that worker's load one by one. */
    room->worker = mr_worker_pool_pick(r->pool);
    g_hash_table_insert(r->rooms, room->name, room);
    char redacted[MR_LOG_REDACT_LEN];
    mr_log_debug(SFU, "room %s placed on worker %u",
                 mr_log_redact(MR_LOG_SFU, name, redacted), room->worker->index);
    return room;
}

void mr_relay_room_unref(struct mr_relay *r, struct mr_relay_room *room)
{
    if (!room || --room->refs > 0)
        return;
    g_hash_table_remove(r->rooms, room->name);
    free(room);
}
