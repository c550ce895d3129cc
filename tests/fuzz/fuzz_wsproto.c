/*
 * Fuzzes the room protocol (signaling/ws, docs/protocol.md): the real
 * protocol code, driven through its struct mr_ws_handler as the HTTP
 * server drives it, against a fake relay and fake WebSocket connections
 * (fake.h). Each input is a script for four connections; every input
 * starts from nothing (a new protocol, relay and clock) and everything is
 * freed at its end, so inputs are independent and LeakSanitizer sees
 * leaks.
 *
 * Besides memory errors, it aborts (with a line on stderr saying why) when
 * the protocol breaks the contracts of the interfaces it uses:
 *  - a connection was freed (closed() returned) while a relay session
 *    still calls back to it: relay.h calls back until mr_relay_cancel or
 *    mr_relay_close, so the next answer, offer or candidate would be a
 *    use after free;
 *  - a relay session it opened is still open after mr_room_proto_free
 *    (it lost track of it);
 *  - it used a connection after closed(), sent something other than a
 *    JSON object, closed with an odd code, or left its timer set.
 * The first two caught a real bug: a room subscription whose update offer
 * the protocol withdrew (mr_relay_cancel) was then forgotten but left
 * open, and its candidates called back a freed client
 * (corpus/fuzz_wsproto/crash-*, fixed in proto_media.c's
 * drop_subscription). With FUZZ_WSPROTO_TRACE=1 every step and every
 * message sent goes to stderr.
 *
 * Input format: lines (LF-terminated; the last may lack it). A first line
 * "!" selects tight limits (2 participants and 2 viewers a room, 8
 * sessions, 4 KiB messages, 64 KiB queues, 5 s grace, recording
 * "ward-1=on-demand, ward-2=never"); otherwise the configuration is
 * mr_config_defaults(). Every other line is a step:
 *
 *     [+]<slot><op><arg>
 *
 * slot: one byte, its value modulo 4 ('0'..'3') picks the connection;
 * op and arg:
 *     T<text>   a text message (placeholders below are replaced first)
 *     B<text>   the same as a binary message
 *     L<text>   a message over ws_max_message (arrives as too_large)
 *     J<i><room>  join with token i ('0'..'7', below) and, when <room> is
 *               not empty, "room": <room>
 *     C         the client closes the connection (closed() at once)
 *     O         connect again (a slot is connected at the start, and
 *               after C or a close by the server it stays empty until O)
 *     D / d     the client stops / starts reading (what is sent piles up
 *               to ws_max_queue, then the server closes the connection)
 *     t<secs>   the clock moves on <secs> seconds (decimal; default 1)
 *     k         the protocol's once-a-second timer fires
 *     R<event>  something happens in the relay (fake_relay_event() in
 *               fake.h: w[name] WHIP publisher in ward-1, x WHIP/WHEP
 *               end, v[name] WHEP viewer, f<n> a session fails, e the
 *               next open fails late, r[name] REST recording toggle,
 *               d recordings fail)
 *     M         /metrics and a WHIP and a WHEP admission check
 * The slot byte is read but unused by t, k, R and M. Unknown ops do
 * nothing. Each step moves the clock 1 ms; after it the relay's queued
 * callbacks that are due run (answers, offers, candidates) and the
 * connections the server closed get closed(), unless the line starts with
 * "+" (the next step comes first: a race). At the end everything queued is
 * delivered, then mr_room_proto_free().
 *
 * Placeholders in T and B messages (JSON-ready: they go inside quotes):
 *     @T0..@T7  tokens signed with the test secret, fresh for each run:
 *               0 clinic "cart-1" room ward-1    4 viewer "cart-1" ward-1
 *               1 expert "dr-li" ward-1          5 expert "dr-li" ward-2
 *               2 operator "op-anna" "*"         6 clinic "cart-1", expired
 *               3 viewer "v-1" ward-1            7 clinic "cart-1", other secret
 *     @M0..@M3  the member id slot 0..3 was last given ("joined")
 *     @O        an SDP offer the fake relay accepts (audio and video)
 *     @A        an SDP answer it accepts for a room subscription
 * e.g.  0J0
 *       0T{"type":"publish","id":2,"stream":"cam","sdp":"@O"}
 *       2J2ward-1
 *       2T{"type":"remove","participant":"@M0"}
 * tests/fuzz/gen_wsproto_seeds.py writes the committed seeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "auth/bearer.h"
#include "auth/jwt.h"
#include "core/config.h"
#include "core/log.h"
#include "fake.h"
#include "ws/ws_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 48 bytes, the test secret of every token but @T7. */
#define FUZZ_SECRET "medrelay-fuzz-wsproto-secret/0123456789abcdefABC"
#define FUZZ_OTHER_SECRET "not-the-server-secret-but-just-as-long-012345678"
_Static_assert(sizeof(FUZZ_SECRET) - 1 == 48, "the test secret is 48 bytes");

#define MAX_STEPS 4096
#define N_TOKENS 8

struct ident {
    const char *room;
    enum mr_role role;
    const char *sub;
    int64_t ttl_s;    /* exp - now */
    bool other_secret;
};

static const struct ident idents[N_TOKENS] = {
    {"ward-1", MR_ROLE_CLINIC, "cart-1", 3600, false},
    {"ward-1", MR_ROLE_EXPERT, "dr-li", 3600, false},
    {"*", MR_ROLE_OPERATOR, "op-anna", 3600, false},
    {"ward-1", MR_ROLE_VIEWER, "v-1", 3600, false},
    {"ward-1", MR_ROLE_VIEWER, "cart-1", 3600, false},
    {"ward-2", MR_ROLE_EXPERT, "dr-li", 3600, false},
    {"ward-1", MR_ROLE_CLINIC, "cart-1", -3600, false},
    {"ward-1", MR_ROLE_CLINIC, "cart-1", 3600, true},
};

/* JSON string contents (escaped) for @O and @A. */
static const char offer_json[] = "v=0\\r\\no=- 4611731400430051336 2 IN IP4 127.0.0.1\\r\\n"
                                 "s=-\\r\\nt=0 0\\r\\na=group:BUNDLE 0 1\\r\\n"
                                 "m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=mid:0\\r\\n"
                                 "a=ice-ufrag:Zx9a\\r\\na=ice-pwd:4ZcD7Qx0BRZ6Rq3bcGyhwAkd\\r\\n"
                                 "a=setup:actpass\\r\\na=sendonly\\r\\n"
                                 "a=rtpmap:111 opus/48000/2\\r\\n"
                                 "m=video 9 UDP/TLS/RTP/SAVPF 96\\r\\na=mid:1\\r\\n"
                                 "a=sendonly\\r\\na=rtpmap:96 VP8/90000\\r\\n";
static const char answer_json[] = "v=0\\r\\no=- 7 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n"
                                  "a=group:BUNDLE 0\\r\\n"
                                  "m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=mid:0\\r\\n"
                                  "a=ice-ufrag:Yq2b\\r\\na=ice-pwd:8fJd0Lw2Qe5Tr6Yu7Io9PaSd\\r\\n"
                                  "a=setup:active\\r\\na=recvonly\\r\\n"
                                  "a=rtpmap:111 opus/48000/2\\r\\n";

static char tokens[N_TOKENS][MR_JWT_MAX_LEN + 1];
static int64_t tokens_at;

/* Tokens are checked against the real clock: signed again every ten
 * minutes, so that a long run never sees them expire. */
static void sign_tokens(void)
{
    int64_t now = (int64_t)time(NULL);
    if (tokens_at && now - tokens_at < 600)
        return;
    for (unsigned i = 0; i < N_TOKENS; i++) {
        struct mr_claims c;
        memset(&c, 0, sizeof(c));
        snprintf(c.room, sizeof(c.room), "%s", idents[i].room);
        snprintf(c.sub, sizeof(c.sub), "%s", idents[i].sub);
        c.role = idents[i].role;
        c.exp = now + idents[i].ttl_s;
        const char *secret = idents[i].other_secret ? FUZZ_OTHER_SECRET : FUZZ_SECRET;
        if (mr_jwt_sign(&c, (const uint8_t *)secret, strlen(secret), tokens[i],
                        sizeof(tokens[i])) < 0) {
            fprintf(stderr, "fuzz_wsproto: cannot sign token %u\n", i);
            abort();
        }
    }
    tokens_at = now;
}

struct run {
    struct mr_config cfg;
    struct mr_auth_key key;
    struct mr_relay *relay;
    struct mr_room_proto *p;
    struct fake_ws *ws;
    int next_id;
    bool trace;
};

static void finding(const char *what)
{
    fprintf(stderr, "fuzz_wsproto: %s\n", what);
    abort();
}

/* closed() has returned: nothing in the relay may call back to the freed
 * connection any more. */
static void after_closed(void *conn_user, void *arg)
{
    struct run *rn = arg;
    if (fake_relay_sessions_calling(rn->relay, conn_user, true) > 0)
        finding("a connection was freed while relay sessions still call back to it");
}

static void configure(struct mr_config *cfg, bool tight)
{
    mr_config_defaults(cfg);
    if (tight) {
        cfg->room_participants = 2;
        cfg->room_viewers = 2;
        cfg->max_sessions = 8;
        cfg->ws_max_message = 4096;
        cfg->ws_max_queue = 65536;
        cfg->viewer_grace_s = 5;
        snprintf(cfg->record_rooms, sizeof(cfg->record_rooms), "ward-1=on-demand, ward-2=never");
    }
    char err[256];
    if (mr_config_validate(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz_wsproto: bad configuration: %s\n", err);
        abort();
    }
}

static void expand(GString *out, const struct run *rn, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char n1 = i + 1 < len ? s[i + 1] : '\0';
        char n2 = i + 2 < len ? s[i + 2] : '\0';
        if (s[i] != '@') {
            g_string_append_c(out, s[i]);
        } else if (n1 == 'T' && n2 >= '0' && n2 < '0' + N_TOKENS) {
            g_string_append(out, tokens[n2 - '0']);
            i += 2;
        } else if (n1 == 'M' && n2 >= '0' && n2 < '0' + FAKE_WS_SLOTS) {
            g_string_append(out, fake_ws_member_id(rn->ws, (unsigned)(n2 - '0')));
            i += 2;
        } else if (n1 == 'O') {
            g_string_append(out, offer_json);
            i++;
        } else if (n1 == 'A') {
            g_string_append(out, answer_json);
            i++;
        } else {
            g_string_append_c(out, '@');
        }
    }
}

static void send_text(struct run *rn, unsigned slot, const char *arg, size_t len, bool binary)
{
    GString *msg = g_string_sized_new(len + 64);
    expand(msg, rn, arg, len);
    fake_ws_message(rn->ws, slot, msg->str, msg->len, binary, false);
    g_string_free(msg, TRUE);
}

static void join(struct run *rn, unsigned slot, const char *arg, size_t len)
{
    unsigned i = len > 0 ? (unsigned char)arg[0] % N_TOKENS : slot;
    json_t *msg = json_pack("{s:s, s:i, s:s}", "type", "join", "id", ++rn->next_id, "token",
                            tokens[i]);
    if (msg && len > 1) {
        json_t *room = json_stringn(arg + 1, len - 1);
        if (room)
            json_object_set_new(msg, "room", room);
    }
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (text)
        fake_ws_message(rn->ws, slot, text, strlen(text), false, false);
    free(text);
    json_decref(msg);
}

static int64_t seconds_arg(const char *arg, size_t len)
{
    int64_t s = 0;
    size_t i = 0;
    for (; i < len && i < 6 && arg[i] >= '0' && arg[i] <= '9'; i++)
        s = s * 10 + (arg[i] - '0');
    return i ? s : 1;
}

static void metrics(struct run *rn)
{
    GString *out = g_string_new(NULL);
    mr_room_proto_metrics(rn->p, out);
    g_string_free(out, TRUE);
    char detail[128];
    mr_room_proto_admit_http(rn->p, MR_SESSION_PUBLISH, "ward-1", detail, sizeof(detail));
    mr_room_proto_admit_http(rn->p, MR_SESSION_SUBSCRIBE, "ward-1", detail, sizeof(detail));
}

static void step(struct run *rn, unsigned slot, char op, const char *arg, size_t len)
{
    switch (op) {
    case 'T':
    case 'B':
        send_text(rn, slot, arg, len, op == 'B');
        break;
    case 'L':
        fake_ws_message(rn->ws, slot, NULL, rn->cfg.ws_max_message + 1 + len, false, true);
        break;
    case 'J':
        join(rn, slot, arg, len);
        break;
    case 'C':
        fake_ws_drop(rn->ws, slot);
        break;
    case 'O':
        fake_ws_open(rn->ws, slot);
        break;
    case 'D':
    case 'd':
        fake_ws_set_reading(rn->ws, slot, op == 'd');
        break;
    case 't':
        fake_clock_advance(seconds_arg(arg, len) * G_USEC_PER_SEC);
        break;
    case 'k':
        fake_timer_fire();
        break;
    case 'R':
        fake_relay_event(rn->relay, arg, len);
        break;
    case 'M':
        metrics(rn);
        break;
    default:
        break;
    }
}

/* Delivers what is queued and closes what was closed until nothing moves. */
static void settle(struct run *rn)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned n = fake_relay_drain(rn->relay, 1);
        n += fake_ws_run_closes(rn->ws);
        if (n == 0)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    if (!once) {
        once = true;
        mr_log_set_all(MR_LOG_LEVEL_ERROR);
    }
    sign_tokens();
    const char *in = (const char *)data;
    size_t pos = 0;
    bool tight = size > 0 && in[0] == '!';
    if (tight) {
        const char *nl = memchr(in, '\n', size);
        pos = nl ? (size_t)(nl - in) + 1 : size;
    }

    struct run rn;
    memset(&rn, 0, sizeof(rn));
    const char *trace = getenv("FUZZ_WSPROTO_TRACE");
    rn.trace = trace && trace[0] == '1';
    configure(&rn.cfg, tight);
    memcpy(rn.key.secret, FUZZ_SECRET, 48);
    rn.key.len = 48;
    rn.key.max_ttl_s = 86400;
    fake_clock_reset();
    rn.relay = fake_relay_new(&rn.cfg);
    if (mr_room_proto_new(&rn.cfg, rn.relay, &rn.key, &rn.p) < 0)
        abort();
    rn.ws = fake_ws_new(&rn.cfg, mr_room_proto_handler(rn.p));
    fake_ws_set_closed_hook(rn.ws, after_closed, &rn);
    fake_ws_set_trace(rn.ws, rn.trace);
    for (unsigned i = 0; i < FAKE_WS_SLOTS; i++)
        fake_ws_open(rn.ws, i);

    for (unsigned steps = 0; pos < size && steps < MAX_STEPS; steps++) {
        const char *line = in + pos;
        const char *nl = memchr(line, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - line) : size - pos;
        pos += len + (nl ? 1 : 0);
        bool hold = len > 0 && line[0] == '+';
        if (hold) {
            line++;
            len--;
        }
        if (len < 2)
            continue;
        if (rn.trace)
            fprintf(stderr, "%s%.*s%s\n", hold ? "+" : "", len > 300 ? 300 : (int)len, line,
                    len > 300 ? "..." : "");
        step(&rn, (unsigned char)line[0] % FAKE_WS_SLOTS, line[1], line + 2, len - 2);
        fake_clock_advance(1000);
        if (!hold) {
            fake_relay_run_pending(rn.relay);
            fake_ws_run_closes(rn.ws);
        }
    }

    settle(&rn);
    mr_room_proto_free(rn.p);
    if (fake_relay_proto_sessions(rn.relay, true) > 0)
        finding("relay sessions the protocol opened are open after mr_room_proto_free");
    if (fake_timer_pending()) {
        finding("the protocol's timer is still set after mr_room_proto_free");
        fake_timer_clear();
    }
    fake_ws_free(rn.ws);
    fake_relay_free(rn.relay);
    return 0;
}
