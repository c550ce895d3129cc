/*
 * ICE-TCP (RFC 6544) and the announced address (relay/ice), with real
 * libnice agents on 127.0.0.1:
 *  - an agent with ICE-TCP offers a passive TCP host candidate on its port
 *    range next to the UDP one, and one without offers none and refuses
 *    the peer's TCP candidates;
 *  - with an announced address every host candidate carries it (with the
 *    bound port), never the bound address; server-reflexive and the
 *    peer's candidates are untouched;
 *  - an agent with an IPv6 address beside its IPv4 one offers host
 *    candidates on both, the announced address replacing the IPv4 one
 *    only, and a client that has IPv6 only connects to it over IPv6;
 *  - two agents that may use TCP only connect over a TCP pair and carry
 *    datagrams both ways, intact and in order (RFC 4571 framing): a client
 *    that offers only an active candidate (as Chromium) connects to the
 *    relay's passive one.
 */
#include "ice/ice.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "mr_test.h"

#define DEADLINE_US (15 * G_USEC_PER_SEC)
#define N_DGRAMS    40

struct side {
    const char *name;
    struct mr_ice *ice;
    bool gathered;
    enum mr_ice_state state;
    unsigned rx, rx_bad;
};

static void on_recv(void *user, const uint8_t *buf, size_t len)
{
    struct side *s = user;
    /* Datagram i is i + 100 bytes of the value i. */
    unsigned i = s->rx;
    bool ok = len == i + 100;
    for (size_t k = 0; ok && k < len; k++)
        ok = buf[k] == (uint8_t)i;
    if (!ok)
        s->rx_bad++;
    s->rx++;
}

static void on_state(void *user, enum mr_ice_state state)
{
    ((struct side *)user)->state = state;
}

static void on_gathered(void *user)
{
    ((struct side *)user)->gathered = true;
}

static const struct mr_ice_ops ops = {.recv = on_recv, .state = on_state, .gathered = on_gathered};

typedef bool (*cond_fn)(struct side *a, struct side *b);

static bool run_until(GMainContext *ctx, cond_fn cond, struct side *a, struct side *b)
{
    gint64 end = g_get_monotonic_time() + DEADLINE_US;
    while (!cond(a, b) && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(1000);
    return cond(a, b);
}

static bool both_gathered(struct side *a, struct side *b)
{
    return a->gathered && b->gathered;
}

static bool both_connected(struct side *a, struct side *b)
{
    return a->state == MR_ICE_CONNECTED && b->state == MR_ICE_CONNECTED;
}

static bool relay_got_one(struct side *a, struct side *b)
{
    (void)b;
    return a->rx >= 1;
}

static bool all_received(struct side *a, struct side *b)
{
    return a->rx >= N_DGRAMS && b->rx >= N_DGRAMS;
}

/* How many of the agent's candidates contain each of the strings. */
static unsigned count_with(struct mr_ice *ice, const char *needle, const char *also)
{
    char lines[16][MR_ICE_CANDIDATE_MAX];
    unsigned n = mr_ice_local_candidates(ice, lines, 16), k = 0;
    for (unsigned i = 0; i < n; i++) {
        printf("#   %s\n", lines[i]);
        if (strstr(lines[i], needle) && (!also || strstr(lines[i], also)))
            k++;
    }
    return k;
}

/* Creates both agents with their configurations and gathers; false when
 * either could not be made. */
static bool open_pair(GMainContext *ctx, struct side *a, const struct mr_ice_config *ac,
                      struct side *b, const struct mr_ice_config *bc)
{
    CHECK_INT(mr_ice_new(ctx, ac, &ops, a, &a->ice), MR_OK);
    CHECK_INT(mr_ice_new(ctx, bc, &ops, b, &b->ice), MR_OK);
    if (!a->ice || !b->ice)
        return false;
    CHECK_INT(mr_ice_gather(a->ice), MR_OK);
    CHECK_INT(mr_ice_gather(b->ice), MR_OK);
    CHECK(run_until(ctx, both_gathered, a, b));
    return true;
}

static void close_pair(GMainContext *ctx, struct side *a, struct side *b)
{
    mr_ice_free(a->ice);
    mr_ice_free(b->ice);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
}

static void test_candidates(void)
{
    GMainContext *ctx = g_main_context_new();
    struct side s = {.name = "relay"}, t = {.name = "plain"};
    struct mr_ice_config cfg = {.local_ip = "127.0.0.1", .port_min = 41000, .port_max = 41999,
                                .tcp = true, .announce_ip = "203.0.113.7"};
    struct mr_ice_config plain = {.local_ip = "127.0.0.1"};
    if (!open_pair(ctx, &s, &cfg, &t, &plain))
        goto out;
    printf("# with ICE-TCP, announcing 203.0.113.7:\n");
    CHECK_INT(count_with(s.ice, " UDP ", " 203.0.113.7 "), 1);
    CHECK_INT(count_with(s.ice, " TCP ", "tcptype passive"), 1);
    CHECK_INT(count_with(s.ice, " 203.0.113.7 4", "tcptype passive"), 1); /* the port range */
    CHECK_INT(count_with(s.ice, "127.0.0.1", NULL), 0);
    printf("# UDP only:\n");
    CHECK_INT(count_with(t.ice, " TCP ", NULL), 0);
    CHECK_INT(count_with(t.ice, " UDP ", " 127.0.0.1 "), 1);

    /* The peer's TCP candidates: taken with ICE-TCP, refused without. */
    CHECK_INT(mr_ice_set_remote_credentials(s.ice, "abcd", "0123456789abcdef0123456789"), MR_OK);
    CHECK_INT(mr_ice_set_remote_credentials(t.ice, "abcd", "0123456789abcdef0123456789"), MR_OK);
    const char *active = "candidate:1 1 TCP 1518280447 127.0.0.1 9 typ host tcptype active";
    CHECK_INT(mr_ice_add_remote_candidate(s.ice, active), MR_OK);
    CHECK_INT(mr_ice_add_remote_candidate(t.ice, active), MR_ENOTSUP);
    /* Garbage stays refused either way. */
    CHECK_INT(mr_ice_add_remote_candidate(s.ice, "candidate:1 1 TCP x"), MR_ENOTSUP);
out:
    close_pair(ctx, &s, &t);
}

/* Each side takes the other's credentials and candidates, as signalling
 * would; only those containing `only` when given. */
static void exchange(struct side *from, struct side *to, const char *only)
{
    char ufrag[MR_ICE_CRED_MAX], pwd[MR_ICE_CRED_MAX];
    mr_ice_local_credentials(from->ice, ufrag, pwd);
    CHECK_INT(mr_ice_set_remote_credentials(to->ice, ufrag, pwd), MR_OK);
    char lines[16][MR_ICE_CANDIDATE_MAX];
    unsigned n = mr_ice_local_candidates(from->ice, lines, 16), added = 0;
    for (unsigned i = 0; i < n; i++)
        if (!only || strstr(lines[i], only))
            added += mr_ice_add_remote_candidate(to->ice, lines[i]) == 0;
    CHECK(added >= 1);
    mr_ice_remote_gathering_done(to->ice);
}

static void test_tcp_only_pair(void)
{
    GMainContext *ctx = g_main_context_new();
    struct side relay = {.name = "relay"}, client = {.name = "client"};
    struct mr_ice_config rc = {.local_ip = "127.0.0.1", .tcp = true, .no_udp = true};
    struct mr_ice_config cc = rc;
    cc.controlling = true;
    if (!open_pair(ctx, &relay, &rc, &client, &cc))
        goto out;
    /* The client offers its active candidate only, as Chromium does, so
     * the relay's passive one takes the connection. */
    exchange(&relay, &client, NULL);
    exchange(&client, &relay, "tcptype active");
    CHECK(run_until(ctx, both_connected, &relay, &client));
    char pair[256];
    mr_ice_describe_pair(relay.ice, pair, sizeof(pair));
    printf("# relay's pair: %s\n", pair);
    CHECK(strncmp(pair, "tcp-passive ", 12) == 0);
    if (relay.state != MR_ICE_CONNECTED || client.state != MR_ICE_CONNECTED)
        goto out;
    uint8_t buf[N_DGRAMS + 100];
    int rc_a = 0, rc_b = 0;
    for (unsigned i = 0; i < N_DGRAMS; i++) {
        memset(buf, (int)i, i + 100);
        rc_a |= mr_ice_send(client.ice, buf, i + 100);
        rc_b |= mr_ice_send(relay.ice, buf, i + 100);
        g_main_context_iteration(ctx, FALSE);
    }
    CHECK_INT(rc_a, 0);
    CHECK_INT(rc_b, 0);
    CHECK(run_until(ctx, all_received, &relay, &client));
    CHECK_INT(relay.rx, N_DGRAMS);
    CHECK_INT(client.rx, N_DGRAMS);
    CHECK_INT(relay.rx_bad + client.rx_bad, 0);
out:
    close_pair(ctx, &relay, &client);
}

static void test_ipv6(void)
{
    GMainContext *ctx = g_main_context_new();
    struct side relay = {.name = "relay"}, client = {.name = "client"};
    struct mr_ice_config rc = {.local_ip = "127.0.0.1", .local_ip6 = "::1",
                               .announce_ip = "203.0.113.7"};
    struct mr_ice_config cc = {.local_ip = "::1", .controlling = true};
    if (!open_pair(ctx, &relay, &rc, &client, &cc))
        goto out;
    printf("# IPv4 and IPv6, announcing 203.0.113.7:\n");
    CHECK_INT(count_with(relay.ice, " UDP ", " 203.0.113.7 "), 1);
    CHECK_INT(count_with(relay.ice, " UDP ", " ::1 "), 1);
    CHECK_INT(count_with(relay.ice, "127.0.0.1", NULL), 0);
    exchange(&relay, &client, NULL);
    exchange(&client, &relay, NULL);
    CHECK(run_until(ctx, both_connected, &relay, &client));
    char pair[256];
    mr_ice_describe_pair(relay.ice, pair, sizeof(pair));
    printf("# relay's pair: %s\n", pair);
    CHECK(strncmp(pair, "udp ::1:", 8) == 0);
    uint8_t buf[100];
    memset(buf, 0, sizeof(buf));
    CHECK_INT(mr_ice_send(client.ice, buf, 100), 0);
    CHECK(run_until(ctx, relay_got_one, &relay, &client));
out:
    close_pair(ctx, &relay, &client);
}

MR_TEST_MAIN(MR_TEST(test_candidates), MR_TEST(test_ipv6), MR_TEST(test_tcp_only_pair))
