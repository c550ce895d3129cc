/* Rooms, members, bans and admission limits (see room.h). */
#include "room/room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/random.h"

struct mr_rooms {
    const struct mr_config *cfg;
    GHashTable *rooms;        /* name -> struct mr_room (owned) */
    unsigned connections;
    void (*free_proto)(void *proto);
};

static void room_free(gpointer data)
{
    struct mr_room *r = data;
    g_ptr_array_free(r->members, TRUE);
    g_hash_table_destroy(r->bans);
    free(r);
}

struct mr_rooms *mr_rooms_new(const struct mr_config *cfg, void (*free_proto)(void *proto))
{
    struct mr_rooms *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return NULL;
    rs->cfg = cfg;
    rs->free_proto = free_proto;
    rs->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
    return rs;
}

static void drop_proto(gpointer key, gpointer value, gpointer user)
{
    (void)key;
    struct mr_rooms *rs = user;
    struct mr_room *r = value;
    if (r->proto && rs->free_proto)
        rs->free_proto(r->proto);
    r->proto = NULL;
}

void mr_rooms_free(struct mr_rooms *rs)
{
    if (!rs)
        return;
    g_hash_table_foreach(rs->rooms, drop_proto, rs);
    g_hash_table_destroy(rs->rooms);
    free(rs);
}

struct mr_room *mr_rooms_find(struct mr_rooms *rs, const char *room)
{
    return g_hash_table_lookup(rs->rooms, room);
}

static struct mr_room *get_room(struct mr_rooms *rs, const char *name)
{
    struct mr_room *r = mr_rooms_find(rs, name);
    if (r)
        return r;
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->members = g_ptr_array_new_with_free_func(free);
    r->bans = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    g_hash_table_insert(rs->rooms, r->name, r);
    return r;
}

static void prune_bans(struct mr_room *r, int64_t now_s)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, r->bans);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (*(gint64 *)v <= now_s)
            g_hash_table_iter_remove(&it);
}

/* Drops an empty room, unless it still has to remember a ban. */
static void maybe_drop(struct mr_rooms *rs, struct mr_room *r, int64_t now_s)
{
    prune_bans(r, now_s);
    if (r->members->len > 0 || g_hash_table_size(r->bans) > 0)
        return;
    if (r->proto && rs->free_proto)
        rs->free_proto(r->proto);
    r->proto = NULL;
    g_hash_table_remove(rs->rooms, r->name);
}

struct mr_member *mr_room_member(struct mr_room *r, const char *id)
{
    for (unsigned i = 0; i < r->members->len; i++) {
        struct mr_member *m = g_ptr_array_index(r->members, i);
        if (strcmp(m->id, id) == 0)
            return m;
    }
    return NULL;
}

struct mr_member *mr_room_member_by_identity(struct mr_room *r, const char *sub,
                                             enum mr_role role, const struct mr_member *except)
{
    for (unsigned i = 0; i < r->members->len; i++) {
        struct mr_member *m = g_ptr_array_index(r->members, i);
        if (m != except && m->role == role && strcmp(m->sub, sub) == 0)
            return m;
    }
    return NULL;
}

/* The key of an identity in a room's bans: "role/sub" (sub has no '/'). */
static void ban_key(const char *sub, enum mr_role role, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", mr_role_name(role), sub);
}

unsigned mr_room_viewers(const struct mr_room *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->members->len; i++)
        if (((struct mr_member *)g_ptr_array_index(r->members, i))->role == MR_ROLE_VIEWER)
            n++;
    return n;
}

unsigned mr_rooms_connections(const struct mr_rooms *rs)
{
    return rs->connections;
}

static enum mr_admit_refusal check_limits(const struct mr_rooms *rs, struct mr_room *r,
                                          const char *sub, enum mr_role role,
                                          unsigned extra_sessions, unsigned extra_viewers)
{
    const struct mr_config *cfg = rs->cfg;
    /* A returning identity replaces its old connection: it takes no new
     * place. */
    struct mr_member *old = r ? mr_room_member_by_identity(r, sub, role, NULL) : NULL;
    unsigned replacing = old ? 1 : 0;
    if (cfg->max_sessions && rs->connections - replacing + extra_sessions >= cfg->max_sessions)
        return MR_ADMIT_SERVER_FULL;
    if (!r)
        return MR_ADMIT_OK;
    if (role == MR_ROLE_VIEWER) {
        unsigned viewers = mr_room_viewers(r) - (old && old->role == MR_ROLE_VIEWER ? 1 : 0);
        if (cfg->room_viewers && viewers + extra_viewers >= cfg->room_viewers)
            return MR_ADMIT_VIEWERS_FULL;
    } else {
        unsigned others = r->members->len - mr_room_viewers(r) -
                          (old && old->role != MR_ROLE_VIEWER ? 1 : 0);
        if (others >= cfg->room_participants)
            return MR_ADMIT_ROOM_FULL;
    }
    return MR_ADMIT_OK;
}

struct mr_member *mr_rooms_admit(struct mr_rooms *rs, const char *room, const char *sub,
                                 enum mr_role role, int64_t now_s, unsigned extra_sessions,
                                 unsigned extra_viewers, enum mr_admit_refusal *why)
{
    struct mr_room *r = mr_rooms_find(rs, room);
    if (r) {
        char key[MR_SUB_MAX + 32];
        ban_key(sub, role, key, sizeof(key));
        prune_bans(r, now_s);
        if (g_hash_table_contains(r->bans, key)) {
            *why = MR_ADMIT_BANNED;
            return NULL;
        }
    }
    *why = check_limits(rs, r, sub, role, extra_sessions, extra_viewers);
    if (*why != MR_ADMIT_OK)
        return NULL;
    r = get_room(rs, room);
    struct mr_member *m = r ? calloc(1, sizeof(*m)) : NULL;
    if (!m) {
        *why = MR_ADMIT_SERVER_FULL; /* out of memory: as good as full */
        return NULL;
    }
    mr_random_hex(m->id, MR_MEMBER_ID_LEN / 2);
    snprintf(m->sub, sizeof(m->sub), "%s", sub);
    m->role = role;
    m->room = r;
    m->joined_s = now_s;
    g_ptr_array_add(r->members, m);
    rs->connections++;
    return m;
}

void mr_rooms_leave(struct mr_rooms *rs, struct mr_member *m, int64_t now_s)
{
    struct mr_room *r = m->room;
    rs->connections--;
    g_ptr_array_remove(r->members, m); /* frees m */
    maybe_drop(rs, r, now_s);
}

void mr_rooms_ban(struct mr_rooms *rs, struct mr_room *r, const char *sub, enum mr_role role,
                  int64_t now_s)
{
    if (rs->cfg->ban_seconds == 0)
        return;
    char text[MR_SUB_MAX + 32];
    ban_key(sub, role, text, sizeof(text));
    gint64 *until = malloc(sizeof(*until));
    char *key = strdup(text);
    if (!until || !key) {
        free(until);
        free(key);
        return;
    }
    *until = now_s + rs->cfg->ban_seconds;
    g_hash_table_replace(r->bans, key, until);
}

struct each_ctx {
    void (*fn)(struct mr_room *room, void *user);
    void *user;
};

static void each_one(gpointer key, gpointer value, gpointer user)
{
    (void)key;
    struct each_ctx *c = user;
    c->fn(value, c->user);
}

void mr_rooms_each(struct mr_rooms *rs, void (*fn)(struct mr_room *room, void *user),
                   void *user)
{
    struct each_ctx c = {fn, user};
    g_hash_table_foreach(rs->rooms, each_one, &c);
}

const char *mr_admit_refusal_text(enum mr_admit_refusal why)
{
    switch (why) {
    case MR_ADMIT_OK:
        return "admitted";
    case MR_ADMIT_BANNED:
        return "removed from this room by an operator; try again later";
    case MR_ADMIT_ROOM_FULL:
        return "the room has as many participants as it admits";
    case MR_ADMIT_VIEWERS_FULL:
        return "the room has as many viewers as it admits";
    case MR_ADMIT_SERVER_FULL:
        return "the server has as many sessions as it admits";
    }
    return "refused";
}
