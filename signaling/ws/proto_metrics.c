/* The room protocol's metrics, in the Prometheus text format. */
#include <inttypes.h>

#include "ws/proto_priv.h"

static void counter(GString *out, const char *name, const char *help, const char *labels,
                    uint64_t v)
{
    if (help)
        g_string_append_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    g_string_append_printf(out, "%s%s %" PRIu64 "\n", name, labels, v);
}

struct role_count {
    unsigned n[4];
};

static void count_roles(struct mr_room *room, void *user)
{
    struct role_count *rc = user;
    for (unsigned i = 0; i < room->members->len; i++) {
        const struct mr_member *m = g_ptr_array_index(room->members, i);
        if ((unsigned)m->role < 4)
            rc->n[m->role]++;
    }
}

void mr_room_proto_metrics(struct mr_room_proto *p, GString *out)
{
    const struct proto_stats *s = &p->stats;
    g_string_append_printf(out, "# HELP medrelay_ws_connections WebSocket connections to /ws\n"
                                "# TYPE medrelay_ws_connections gauge\n"
                                "medrelay_ws_connections %u\n",
                           p->clients->len);
    struct role_count rc = {{0}};
    mr_rooms_each(p->rooms, count_roles, &rc);
    g_string_append(out, "# HELP medrelay_room_members Room members by role\n"
                         "# TYPE medrelay_room_members gauge\n");
    for (unsigned r = 0; r < 4; r++)
        g_string_append_printf(out, "medrelay_room_members{role=\"%s\"} %u\n",
                               mr_role_name((enum mr_role)r), rc.n[r]);
    counter(out, "medrelay_ws_messages_received_total", "room-protocol messages received", "",
            s->messages);
    counter(out, "medrelay_ws_errors_total", "room-protocol requests refused with an error", "",
            s->refused);
    counter(out, "medrelay_room_joins_total", "joins", "{result=\"admitted\"}", s->joins);
    counter(out, "medrelay_room_joins_total", NULL, "{result=\"refused\"}", s->joins_refused);
    counter(out, "medrelay_ws_disconnects_total", "connections closed by the server, by cause",
            "{cause=\"flood\"}", s->drop_flood);
    counter(out, "medrelay_ws_disconnects_total", NULL, "{cause=\"no_join\"}", s->drop_no_join);
    counter(out, "medrelay_ws_disconnects_total", NULL, "{cause=\"removed\"}", s->drop_removed);
    counter(out, "medrelay_ws_disconnects_total", NULL, "{cause=\"replaced\"}", s->drop_replaced);
}
