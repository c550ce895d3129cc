/* What WHIP and WHEP remember of their sessions (sessions.h). */
#include "whip/sessions.h"

#include <glib.h>
#include <stdlib.h>

#include "core/error.h"

struct entry {
    struct mr_whip_session rec; /* rec.id is the table's key */
    bool ended;
    int64_t ended_at; /* monotonic us, when ended */
};

struct mr_whip_sessions {
    GHashTable *by_id; /* id -> struct entry (owned), live and ended */
    GQueue ended;      /* struct entry * (borrowed), oldest first */
    unsigned max_ended;
    int64_t keep_us;
    unsigned live;
};

int mr_whip_sessions_new(unsigned max_ended, int64_t keep_us, struct mr_whip_sessions **out)
{
    if (max_ended == 0 || keep_us <= 0)
        return MR_EINVAL;
    struct mr_whip_sessions *s = calloc(1, sizeof(*s));
    if (!s)
        return MR_ENOMEM;
    s->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, free);
    g_queue_init(&s->ended);
    s->max_ended = max_ended;
    s->keep_us = keep_us;
    *out = s;
    return 0;
}

void mr_whip_sessions_free(struct mr_whip_sessions *s)
{
    if (!s)
        return;
    g_queue_clear(&s->ended);
    g_hash_table_destroy(s->by_id);
    free(s);
}

/* Forgets ended sessions past keep_us, and the oldest beyond max_ended.
 * Sessions end in the order of their times (now never decreases), so the
 * queue's head is always the oldest. */
static void forget_old(struct mr_whip_sessions *s, int64_t now)
{
    struct entry *e;
    while ((e = g_queue_peek_head(&s->ended)) &&
           (now - e->ended_at >= s->keep_us || s->ended.length > s->max_ended)) {
        g_queue_pop_head(&s->ended);
        g_hash_table_remove(s->by_id, e->rec.id);
    }
}

int mr_whip_sessions_add(struct mr_whip_sessions *s, const struct mr_whip_session *rec)
{
    struct entry *e = g_hash_table_lookup(s->by_id, rec->id);
    if (e) {
        /* Ids are random, so this does not happen; if it did, the newest
         * opening is the one that counts. */
        if (e->ended)
            g_queue_remove(&s->ended, e);
        else
            s->live--;
        g_hash_table_steal(s->by_id, e->rec.id);
    } else {
        e = malloc(sizeof(*e));
        if (!e)
            return MR_ENOMEM;
    }
    e->rec = *rec;
    e->rec.id[sizeof(e->rec.id) - 1] = '\0';
    e->ended = false;
    e->ended_at = 0;
    g_hash_table_insert(s->by_id, e->rec.id, e);
    s->live++;
    return 0;
}

static void end_entry(struct mr_whip_sessions *s, struct entry *e, int64_t now)
{
    e->ended = true;
    e->ended_at = now;
    s->live--;
    g_queue_push_tail(&s->ended, e);
}

void mr_whip_sessions_end(struct mr_whip_sessions *s, const char *id, int64_t now)
{
    struct entry *e = g_hash_table_lookup(s->by_id, id);
    if (e && !e->ended) {
        end_entry(s, e, now);
        forget_old(s, now);
    }
}

const struct mr_whip_session *mr_whip_sessions_ended(struct mr_whip_sessions *s, const char *id,
                                                     int64_t now)
{
    forget_old(s, now);
    struct entry *e = g_hash_table_lookup(s->by_id, id);
    return e && e->ended ? &e->rec : NULL;
}

void mr_whip_sessions_sweep(struct mr_whip_sessions *s, int64_t now,
                            bool (*alive)(void *user, const char *id), void *user)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, s->by_id);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct entry *e = value;
        if (!e->ended && !alive(user, e->rec.id))
            end_entry(s, e, now);
    }
    forget_old(s, now);
}

void mr_whip_sessions_count(const struct mr_whip_sessions *s, unsigned *live, unsigned *ended)
{
    *live = s->live;
    *ended = s->ended.length;
}
