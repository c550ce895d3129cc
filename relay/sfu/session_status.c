/* What the API shows of each media session (relay.h,
 * mr_relay_each_session): read on the control thread from what the
 * workers publish in each peer (conn_shared, rtt_shared_us, and a
 * viewer's layer_shared and down_kbps_shared). */
#include <stdio.h>
#include <string.h>

#include "sfu/relay_priv.h"
#include "sfu/sfu_priv.h"

static gint by_owner(gconstpointer a, gconstpointer b)
{
    const struct mr_session *x = *(struct mr_session *const *)a;
    const struct mr_session *y = *(struct mr_session *const *)b;
    int c = strcmp(x->sub, y->sub);
    if (!c)
        c = strcmp(x->role, y->role);
    return c ? c : strcmp(x->id, y->id);
}

static void status_of(const struct mr_session *s, struct mr_session_status *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%.8s", s->id);
    out->kind = s->kind;
    out->room_subscription = s->rsub != NULL;
    snprintf(out->stream, sizeof(out->stream), "%s", s->rsub ? "" : s->stream_name);
    snprintf(out->sub, sizeof(out->sub), "%s", s->sub);
    snprintf(out->role, sizeof(out->role), "%s", s->role);
    out->rtt_ms = -1;
    out->layer = -1;
    out->downlink_kbps = -1;
    if (!s->peer)
        return;
    int layer = __atomic_load_n(&s->peer->layer_shared, __ATOMIC_RELAXED);
    int kbps = __atomic_load_n(&s->peer->down_kbps_shared, __ATOMIC_RELAXED);
    if (layer) {
        out->layer = (layer & 15) - 1;
        out->layer_why = (enum mr_layer_why)(layer >> 4);
    }
    if (kbps)
        out->downlink_kbps = kbps;
    int conn = __atomic_load_n(&s->peer->conn_shared, __ATOMIC_RELAXED);
    int64_t rtt = __atomic_load_n(&s->peer->rtt_shared_us, __ATOMIC_RELAXED);
    if (conn & MR_PEER_CONN_KNOWN)
        out->path = conn & MR_PEER_CONN_TCP ? MR_PATH_TCP : MR_PATH_UDP;
    out->relayed = (conn & MR_PEER_CONN_RELAYED) != 0;
    if (rtt > 0)
        out->rtt_ms = (int32_t)((rtt + 500) / 1000);
}

void mr_relay_each_session(struct mr_relay *r, const char *room, mr_session_status_fn fn,
                           void *user)
{
    GPtrArray *list = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, r->sessions);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct mr_session *s = value;
        if (strcmp(s->room, room) == 0)
            g_ptr_array_add(list, s);
    }
    g_ptr_array_sort(list, by_owner);
    for (unsigned i = 0; i < list->len; i++) {
        struct mr_session_status st;
        status_of(g_ptr_array_index(list, i), &st);
        fn(&st, user);
    }
    g_ptr_array_free(list, TRUE);
}
