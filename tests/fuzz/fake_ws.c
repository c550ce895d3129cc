/*
 * A fake of the HTTP server's side of the room protocol (see fake.h): the
 * WebSocket connections of signaling/http/ws.h, driven the way ws.c drives
 * struct mr_ws_handler, and the control loop's clock and timer.
 *
 * What ws.c does and this keeps:
 *  - open() on an upgrade; a NULL user refuses the connection (closed with
 *    1013, and closed() is never called for it);
 *  - message() with a NUL-terminated copy of the bytes ("" when empty), or
 *    (NULL, size, binary, true) once for a message past ws_max_message;
 *    nothing after mr_ws_close, which only marks the connection closing;
 *  - mr_ws_send: MR_ESTATE once closing; past ws_max_queue bytes queued the
 *    queue is dropped, the connection closed (1008) and MR_ELIMIT returned;
 *  - closed() later (here: fake_ws_run_closes), or at once when the client
 *    goes away; the mr_ws_conn is freed after it, so a protocol that keeps
 *    using it is caught by AddressSanitizer.
 * Sent messages are only counted (messages and bytes per slot), and the
 * member id of each "joined" is kept so that scripts can name members.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "fake.h"

/* --- Clock and timer ------------------------------------------------------- */

static int64_t fake_now_us = FAKE_CLOCK_START_US;
static GSourceFunc timer_fn;
static gpointer timer_data;
static guint timer_id;
static guint timer_last_id;

int64_t mr_clock_mono_us(void)
{
    return fake_now_us;
}

int64_t mr_clock_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void fake_clock_reset(void)
{
    fake_now_us = FAKE_CLOCK_START_US;
}

void fake_clock_advance(int64_t us)
{
    if (us > 0)
        fake_now_us += us;
}

guint fake_timeout_add(guint interval_ms, GSourceFunc fn, gpointer data)
{
    (void)interval_ms; /* the script says when time passes */
    if (timer_fn) {
        fprintf(stderr, "fake_ws: a second timer while one is set\n");
        abort();
    }
    timer_fn = fn;
    timer_data = data;
    timer_id = ++timer_last_id;
    return timer_id;
}

gboolean fake_source_remove(guint id)
{
    if (!timer_fn || id != timer_id) {
        fprintf(stderr, "fake_ws: g_source_remove(%u) of no timer\n", id);
        abort();
    }
    timer_fn = NULL;
    timer_data = NULL;
    timer_id = 0;
    return TRUE;
}

bool fake_timer_fire(void)
{
    if (!timer_fn)
        return false;
    if (!timer_fn(timer_data)) {
        timer_fn = NULL;
        timer_data = NULL;
        timer_id = 0;
    }
    return true;
}

bool fake_timer_pending(void)
{
    return timer_fn != NULL;
}

void fake_timer_clear(void)
{
    timer_fn = NULL;
    timer_data = NULL;
    timer_id = 0;
}

/* --- Connections ----------------------------------------------------------- */

struct mr_ws_conn {
    struct fake_ws *ws;
    unsigned slot;
    void *user;       /* the handler's, from open() */
    size_t queued;    /* bytes the client has not read */
    bool closing;
    int close_code;
};

struct fake_slot {
    struct mr_ws_conn *conn; /* NULL: not connected */
    bool reading;
    uint64_t messages, bytes;
    char member[MR_SESSION_ID_LEN + 1];
};

struct fake_ws {
    const struct mr_config *cfg;
    const struct mr_ws_handler *h;
    struct fake_slot slots[FAKE_WS_SLOTS];
    void (*closed_hook)(void *conn_user, void *arg);
    void *hook_arg;
    bool trace;
};

struct fake_ws *fake_ws_new(const struct mr_config *cfg, const struct mr_ws_handler *h)
{
    struct fake_ws *ws = calloc(1, sizeof(*ws));
    if (!ws)
        abort();
    ws->cfg = cfg;
    ws->h = h;
    for (unsigned i = 0; i < FAKE_WS_SLOTS; i++)
        ws->slots[i].reading = true;
    return ws;
}

void fake_ws_free(struct fake_ws *ws)
{
    if (!ws)
        return;
    for (unsigned i = 0; i < FAKE_WS_SLOTS; i++)
        free(ws->slots[i].conn);
    free(ws);
}

void fake_ws_set_closed_hook(struct fake_ws *ws, void (*hook)(void *conn_user, void *arg),
                             void *arg)
{
    ws->closed_hook = hook;
    ws->hook_arg = arg;
}

bool fake_ws_open(struct fake_ws *ws, unsigned slot)
{
    struct fake_slot *s = &ws->slots[slot % FAKE_WS_SLOTS];
    if (s->conn)
        return !s->conn->closing;
    struct mr_ws_conn *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->ws = ws;
    c->slot = slot % FAKE_WS_SLOTS;
    s->conn = c;
    s->member[0] = '\0';
    char addr[32];
    snprintf(addr, sizeof(addr), "192.0.2.%u", c->slot + 10);
    c->user = ws->h->open(c, addr, ws->h->user);
    if (!c->user) {
        c->closing = true;
        c->close_code = 1013;
    }
    return c->user != NULL;
}

void fake_ws_message(struct fake_ws *ws, unsigned slot, const char *data, size_t len, bool binary,
                     bool too_large)
{
    struct mr_ws_conn *c = ws->slots[slot % FAKE_WS_SLOTS].conn;
    if (!c || !c->user || c->closing)
        return; /* ws.c drops what arrives after mr_ws_close */
    if (!too_large && len > ws->cfg->ws_max_message)
        too_large = true;
    if (too_large) {
        ws->h->message(c->user, NULL, len, binary, true);
        return;
    }
    /* An exact copy, so that reading past it is caught. */
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    if (len)
        memcpy(copy, data, len);
    copy[len] = '\0';
    ws->h->message(c->user, copy, len, binary, false);
    free(copy);
}

static void close_now(struct fake_ws *ws, struct fake_slot *s)
{
    struct mr_ws_conn *c = s->conn;
    void *user = c->user;
    s->conn = NULL;
    s->member[0] = '\0';
    if (user) {
        ws->h->closed(user);
        if (ws->closed_hook)
            ws->closed_hook(user, ws->hook_arg);
    }
    free(c);
}

void fake_ws_drop(struct fake_ws *ws, unsigned slot)
{
    struct fake_slot *s = &ws->slots[slot % FAKE_WS_SLOTS];
    if (s->conn)
        close_now(ws, s);
}

void fake_ws_set_reading(struct fake_ws *ws, unsigned slot, bool reading)
{
    ws->slots[slot % FAKE_WS_SLOTS].reading = reading;
}

unsigned fake_ws_run_closes(struct fake_ws *ws)
{
    unsigned n = 0;
    for (unsigned i = 0; i < FAKE_WS_SLOTS; i++) {
        struct fake_slot *s = &ws->slots[i];
        if (!s->conn)
            continue;
        if (s->reading)
            s->conn->queued = 0;
        if (s->conn->closing) {
            close_now(ws, s);
            n++;
        }
    }
    return n;
}

void fake_ws_set_trace(struct fake_ws *ws, bool trace)
{
    ws->trace = trace;
}

const char *fake_ws_member_id(const struct fake_ws *ws, unsigned slot)
{
    return ws->slots[slot % FAKE_WS_SLOTS].member;
}

uint64_t fake_ws_sent_messages(const struct fake_ws *ws, unsigned slot)
{
    return ws->slots[slot % FAKE_WS_SLOTS].messages;
}

uint64_t fake_ws_sent_bytes(const struct fake_ws *ws, unsigned slot)
{
    return ws->slots[slot % FAKE_WS_SLOTS].bytes;
}

/* --- http/ws.h ------------------------------------------------------------- */

/* Keeps "you"."id" of a "joined" (the protocol writes it with
 * JSON_COMPACT, keys in the order it packed them). */
static void note_member(struct fake_slot *s, const char *text, size_t len)
{
    static const char joined[] = "{\"type\":\"joined\"";
    static const char you[] = "\"you\":{\"id\":\"";
    if (len < sizeof(joined) - 1 || memcmp(text, joined, sizeof(joined) - 1) != 0)
        return;
    const char *p = strstr(text, you);
    if (!p)
        return;
    p += sizeof(you) - 1;
    size_t n = strcspn(p, "\"");
    if (n >= sizeof(s->member))
        n = sizeof(s->member) - 1;
    memcpy(s->member, p, n);
    s->member[n] = '\0';
}

int mr_ws_send(struct mr_ws_conn *c, const char *text, size_t len)
{
    struct fake_ws *ws = c->ws;
    struct fake_slot *s = &ws->slots[c->slot];
    if (s->conn != c) {
        fprintf(stderr, "fake_ws: mr_ws_send on a connection that is not open\n");
        abort();
    }
    /* The protocol sends JSON objects, one per message. */
    if (!text || len < 2 || text[0] != '{' || text[len - 1] != '}' || memchr(text, '\0', len)) {
        fprintf(stderr, "fake_ws: mr_ws_send of something that is not a JSON object\n");
        abort();
    }
    if (c->closing)
        return MR_ESTATE;
    if (c->queued + len > ws->cfg->ws_max_queue) {
        c->queued = 0;
        mr_ws_close(c, 1008, "too slow: messages not read");
        return MR_ELIMIT;
    }
    if (ws->trace)
        fprintf(stderr, "   %u <- %.*s%s\n", c->slot, len > 300 ? 300 : (int)len, text,
                len > 300 ? "..." : "");
    c->queued += len;
    s->messages++;
    s->bytes += len;
    note_member(s, text, len);
    return 0;
}

void mr_ws_close(struct mr_ws_conn *c, int code, const char *reason)
{
    if (c->ws->slots[c->slot].conn != c) {
        fprintf(stderr, "fake_ws: mr_ws_close on a connection that is not open\n");
        abort();
    }
    /* RFC 6455 §7.4: the codes a server sends; a reason fits a control
     * frame (ws.c keeps 63 bytes of it). */
    if ((code != 1000 && code != 1008 && code != 1011 && code != 1013) ||
        (reason && strlen(reason) > 123)) {
        fprintf(stderr, "fake_ws: mr_ws_close(%d, \"%s\")\n", code, reason ? reason : "");
        abort();
    }
    if (c->closing)
        return;
    if (c->ws->trace)
        fprintf(stderr, "   %u closed by the server: %d %s\n", c->slot, code, reason ? reason : "");
    c->closing = true;
    c->close_code = code;
}

size_t mr_ws_queued(const struct mr_ws_conn *c)
{
    return c->queued;
}
