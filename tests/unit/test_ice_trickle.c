/*
 * Local candidates over time (relay/ice): the host candidates are known
 * when mr_ice_gather returns, and a server-reflexive one found later goes
 * to the `candidate` op, before `gathered`; host candidates never do. A
 * STUN server that never answers delays `gathered` but reports nothing.
 *
 * The STUN server is a UDP socket on 127.0.0.1 that the test polls while
 * it iterates the agent's context. libnice discovers server-reflexive
 * candidates with classic RFC 3489 Binding requests (no magic cookie), so
 * it answers those with MAPPED-ADDRESS (RFC 5389 §12.2), mapping every
 * request to 127.0.0.2 and the source port + 1: an address that differs
 * from the host candidate's, as a NAT's would.
 */
#include "ice/ice.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "mr_test.h"

#define DEADLINE_US (15 * G_USEC_PER_SEC)
#define MAX_SEEN    8

struct seen {
    bool gathered;
    unsigned n_cands;
    char cands[MAX_SEEN][MR_ICE_CANDIDATE_MAX];
    unsigned cands_at_gathered; /* candidates reported before `gathered` */
};

static void on_recv(void *user, const uint8_t *buf, size_t len)
{
    (void)user;
    (void)buf;
    (void)len;
}

static void on_state(void *user, enum mr_ice_state state)
{
    (void)user;
    (void)state;
}

static void on_gathered(void *user)
{
    struct seen *s = user;
    s->gathered = true;
    s->cands_at_gathered = s->n_cands;
}

static void on_candidate(void *user, const char *line)
{
    struct seen *s = user;
    if (s->n_cands < MAX_SEEN)
        snprintf(s->cands[s->n_cands], MR_ICE_CANDIDATE_MAX, "%s", line);
    s->n_cands++;
}

static const struct mr_ice_ops ops = {
    .recv = on_recv,
    .state = on_state,
    .gathered = on_gathered,
    .candidate = on_candidate,
};

struct stun {
    int fd;
    uint16_t port;
    bool answer;
    unsigned requests;
};

static bool stun_open(struct stun *st, bool answer)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    st->answer = answer;
    st->requests = 0;
    st->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (st->fd < 0 || bind(st->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(st->fd, (struct sockaddr *)&a, &alen) < 0)
        return false;
    st->port = ntohs(a.sin_port);
    return true;
}

/* A classic Binding response: type 0x0101, the request's 16-byte
 * transaction id, MAPPED-ADDRESS (family 1, port, IPv4). */
static void stun_poll(struct stun *st)
{
    uint8_t req[512], rsp[32];
    struct sockaddr_in src;
    socklen_t slen = sizeof(src);
    ssize_t n;
    while ((n = recvfrom(st->fd, req, sizeof(req), 0, (struct sockaddr *)&src, &slen)) > 0) {
        st->requests++;
        if (!st->answer || n < 20 || req[0] != 0x00 || req[1] != 0x01)
            continue;
        uint16_t port = (uint16_t)(ntohs(src.sin_port) + 1);
        const uint8_t mapped[4] = {127, 0, 0, 2};
        memset(rsp, 0, sizeof(rsp));
        rsp[0] = 0x01, rsp[1] = 0x01, rsp[3] = 12;
        memcpy(rsp + 4, req + 4, 16);
        rsp[21] = 0x01, rsp[23] = 8;              /* MAPPED-ADDRESS, 8 bytes */
        rsp[25] = 0x01;                           /* IPv4 */
        rsp[26] = (uint8_t)(port >> 8), rsp[27] = (uint8_t)port;
        memcpy(rsp + 28, mapped, 4);
        sendto(st->fd, rsp, sizeof(rsp), 0, (struct sockaddr *)&src, slen);
        slen = sizeof(src);
    }
}

static void run_until_gathered(GMainContext *ctx, struct stun *st, struct seen *s)
{
    gint64 end = g_get_monotonic_time() + DEADLINE_US;
    while (!s->gathered && g_get_monotonic_time() < end) {
        stun_poll(st);
        if (!g_main_context_iteration(ctx, FALSE))
            g_usleep(1000);
    }
}

static bool has_type(char (*lines)[MR_ICE_CANDIDATE_MAX], unsigned n, const char *typ)
{
    for (unsigned i = 0; i < n; i++)
        if (strstr(lines[i], typ))
            return true;
    return false;
}

/* Gathers against st; returns the agent (caller frees) with s filled. */
static struct mr_ice *gather(GMainContext *ctx, struct stun *st, struct seen *s,
                             unsigned *n_at_return, char (*at_return)[MR_ICE_CANDIDATE_MAX])
{
    struct mr_ice_config cfg = {
        .local_ip = "127.0.0.1", .stun_ip = "127.0.0.1", .stun_port = st->port};
    struct mr_ice *ice = NULL;
    CHECK_INT(mr_ice_new(ctx, &cfg, &ops, s, &ice), MR_OK);
    if (!ice)
        return NULL;
    CHECK_INT(mr_ice_gather(ice), MR_OK);
    *n_at_return = mr_ice_local_candidates(ice, at_return, MAX_SEEN);
    run_until_gathered(ctx, st, s);
    return ice;
}

static void test_srflx_is_trickled(void)
{
    GMainContext *ctx = g_main_context_new();
    struct stun st;
    struct seen s = {0};
    char at_return[MAX_SEEN][MR_ICE_CANDIDATE_MAX];
    unsigned n_at_return = 0;
    CHECK(stun_open(&st, true));
    struct mr_ice *ice = gather(ctx, &st, &s, &n_at_return, at_return);

    CHECK(n_at_return >= 1);
    CHECK(has_type(at_return, n_at_return, " typ host"));
    CHECK(!has_type(at_return, n_at_return, " typ srflx"));
    CHECK(st.requests > 0);
    CHECK(s.gathered);
    CHECK_INT(s.n_cands, 1);
    CHECK_INT(s.cands_at_gathered, 1); /* reported before the end */
    CHECK(strncmp(s.cands[0], "candidate:", 10) == 0);
    CHECK(strstr(s.cands[0], " 127.0.0.2 ") != NULL);
    CHECK(strstr(s.cands[0], " typ srflx raddr 127.0.0.1 ") != NULL);
    /* The agent lists it from now on, for later SDP. */
    char after[MAX_SEEN][MR_ICE_CANDIDATE_MAX];
    unsigned n_after = ice ? mr_ice_local_candidates(ice, after, MAX_SEEN) : 0;
    CHECK(has_type(after, n_after, " typ srflx"));

    mr_ice_free(ice);
    close(st.fd);
    g_main_context_unref(ctx);
}

static void test_silent_stun_reports_nothing(void)
{
    GMainContext *ctx = g_main_context_new();
    struct stun st;
    struct seen s = {0};
    char at_return[MAX_SEEN][MR_ICE_CANDIDATE_MAX];
    unsigned n_at_return = 0;
    CHECK(stun_open(&st, false));
    gint64 t0 = g_get_monotonic_time();
    struct mr_ice *ice = gather(ctx, &st, &s, &n_at_return, at_return);
    gint64 took_ms = (g_get_monotonic_time() - t0) / 1000;

    CHECK(has_type(at_return, n_at_return, " typ host"));
    CHECK(st.requests > 0);
    CHECK(s.gathered);
    CHECK_INT(s.n_cands, 0);
    /* Gathering waited for the STUN timeout: why answers must not. */
    CHECK(took_ms > 1000);

    mr_ice_free(ice);
    close(st.fd);
    g_main_context_unref(ctx);
}

MR_TEST_MAIN(MR_TEST(test_srflx_is_trickled), MR_TEST(test_silent_stun_reports_nothing))
