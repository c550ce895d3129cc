/*
 * DTLS 1.2 for DTLS-SRTP (RFC 5764, RFC 8842) over memory: a client and a
 * server association wired to each other through in-memory datagram queues.
 * Handshake and exported SRTP keys, fingerprint format and checking, a lost
 * first flight recovered by the retransmission timer, garbage input, and
 * close_notify.
 */
#include "dtls/dtls.h"

#include <ctype.h>
#include <stdbool.h>
#include <time.h>

#include "core/error.h"
#include "mr_test.h"

#define QUEUE_LEN 64
#define DGRAM_MAX 1500

/* Datagrams on their way to one side, first in, first out. */
struct queue {
    uint8_t data[QUEUE_LEN][DGRAM_MAX];
    size_t len[QUEUE_LEN];
    unsigned head, count;
    unsigned overflow;
};

struct side {
    struct mr_dtls *d;
    struct queue inbox;
    struct side *peer;
    unsigned drop; /* discard this many of our next datagrams */
    unsigned sent; /* datagrams handed to send, dropped or not */
    unsigned dropped;
    unsigned connected, failed, closed;
    const char *why;
};

static void queue_push(struct queue *q, const uint8_t *buf, size_t len)
{
    if (q->count == QUEUE_LEN || len > DGRAM_MAX) {
        q->overflow++;
        return;
    }
    unsigned i = (q->head + q->count) % QUEUE_LEN;
    memcpy(q->data[i], buf, len);
    q->len[i] = len;
    q->count++;
}

static void on_send(void *user, const uint8_t *buf, size_t len)
{
    struct side *s = user;
    s->sent++;
    if (s->drop > 0) {
        s->drop--;
        s->dropped++;
        return;
    }
    queue_push(&s->peer->inbox, buf, len);
}

static void on_connected(void *user)
{
    struct side *s = user;
    s->connected++;
}

static void on_failed(void *user, const char *why)
{
    struct side *s = user;
    s->failed++;
    s->why = why;
}

static void on_closed(void *user)
{
    struct side *s = user;
    s->closed++;
}

static const struct mr_dtls_ops ops = {
    .send = on_send,
    .connected = on_connected,
    .failed = on_failed,
    .closed = on_closed,
};

/* Delivers what is queued for s; callbacks may queue more for the peer.
 * Returns how many datagrams were delivered. */
static unsigned deliver(struct side *s)
{
    unsigned n = 0;
    while (s->inbox.count > 0) {
        uint8_t buf[DGRAM_MAX];
        unsigned i = s->inbox.head;
        size_t len = s->inbox.len[i];
        memcpy(buf, s->inbox.data[i], len);
        s->inbox.head = (i + 1) % QUEUE_LEN;
        s->inbox.count--;
        mr_dtls_handle_datagram(s->d, buf, len);
        n++;
    }
    return n;
}

/* Pumps both queues until both sides are connected, nothing moves any more,
 * or the step limit is reached. */
static void pump(struct side *a, struct side *b, int steps)
{
    for (int i = 0; i < steps; i++) {
        if (a->connected && b->connected)
            return;
        unsigned moved = deliver(a) + deliver(b);
        if (moved == 0)
            return;
    }
}

static bool parse_fingerprint(const char *s, uint8_t *out, size_t *len)
{
    size_t n = 0;
    while (*s) {
        unsigned v;
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
            sscanf(s, "%2x", &v) != 1 || n == 64)
            return false;
        out[n++] = (uint8_t)v;
        s += 2;
        if (*s == ':')
            s++;
        else if (*s)
            return false;
    }
    *len = n;
    return n > 0;
}

/* Sets the peer's real SHA-256 fingerprint, optionally with one bit
 * flipped. */
static void set_fingerprint(struct mr_dtls *d, const struct mr_dtls_identity *peer, bool corrupt)
{
    uint8_t fp[64];
    size_t len = 0;
    CHECK(parse_fingerprint(mr_dtls_identity_fingerprint(peer), fp, &len));
    CHECK_INT(len, 32);
    if (corrupt)
        fp[17] ^= 0x40;
    CHECK_INT(mr_dtls_set_remote_fingerprint(d, "sha-256", fp, len), MR_OK);
}

static struct mr_dtls_identity *id_client, *id_server;

static bool identities(void)
{
    if (!id_client)
        CHECK_INT(mr_dtls_identity_new(&id_client), MR_OK);
    if (!id_server)
        CHECK_INT(mr_dtls_identity_new(&id_server), MR_OK);
    return id_client && id_server;
}

/* Creates both associations, each expecting the other's fingerprint. */
static bool setup(struct side *c, struct side *s)
{
    memset(c, 0, sizeof(*c));
    memset(s, 0, sizeof(*s));
    c->peer = s;
    s->peer = c;
    if (!identities())
        return false;
    CHECK_INT(mr_dtls_new(id_client, MR_DTLS_CLIENT, &ops, c, &c->d), MR_OK);
    CHECK_INT(mr_dtls_new(id_server, MR_DTLS_SERVER, &ops, s, &s->d), MR_OK);
    if (!c->d || !s->d) {
        mr_dtls_free(c->d);
        mr_dtls_free(s->d);
        return false;
    }
    set_fingerprint(c->d, id_server, false);
    set_fingerprint(s->d, id_client, false);
    return true;
}

static void teardown(struct side *c, struct side *s)
{
    mr_dtls_free(c->d);
    mr_dtls_free(s->d);
    c->d = s->d = NULL;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void test_fingerprint_format(void)
{
    if (!identities())
        return;
    const char *fps[] = {mr_dtls_identity_fingerprint(id_client),
                         mr_dtls_identity_fingerprint(id_server)};
    for (size_t k = 0; k < 2; k++) {
        const char *fp = fps[k];
        CHECK_INT(strlen(fp), 95);
        CHECK_INT(strlen(fp) + 1, MR_DTLS_FINGERPRINT_LEN);
        bool ok = true;
        for (size_t i = 0; i < 95; i++) {
            if (i % 3 == 2)
                ok = ok && fp[i] == ':';
            else
                ok = ok && (isdigit((unsigned char)fp[i]) || (fp[i] >= 'A' && fp[i] <= 'F'));
        }
        CHECK(ok);
    }
    /* Fresh key and certificate per identity. */
    CHECK(strcmp(fps[0], fps[1]) != 0);
}

static void test_fingerprint_args(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    uint8_t fp[65] = {0};
    CHECK_INT(mr_dtls_set_remote_fingerprint(c.d, "sha-256", fp, 0), MR_EINVAL);
    CHECK_INT(mr_dtls_set_remote_fingerprint(c.d, "sha-256", fp, 65), MR_EINVAL);
    CHECK_INT(mr_dtls_set_remote_fingerprint(c.d, "sha-256-with-a-long-name", fp, 32), MR_EINVAL);
    CHECK_INT(mr_dtls_set_remote_fingerprint(c.d, "sha-512", fp, 64), MR_OK);
    teardown(&c, &s);
}

static void test_handshake(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    struct mr_dtls_srtp_keys kc, ks;
    CHECK(!mr_dtls_is_connected(c.d));
    CHECK_STR(mr_dtls_cipher(c.d), "");
    CHECK_STR(mr_dtls_version(c.d), "");
    CHECK_INT(mr_dtls_srtp_keys(c.d, &kc), MR_ESTATE);
    CHECK_INT(mr_dtls_timeout_us(c.d), -1); /* not started */

    CHECK_INT(mr_dtls_start(s.d), MR_OK);
    CHECK_INT(s.sent, 0); /* a server waits for the ClientHello */
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    CHECK_INT(mr_dtls_start(c.d), MR_ESTATE);
    CHECK(c.sent >= 1);
    int64_t t = mr_dtls_timeout_us(c.d);
    CHECK(t > 0 && t <= 400000);
    pump(&c, &s, 20);

    CHECK_INT(c.connected, 1);
    CHECK_INT(s.connected, 1);
    CHECK_INT(c.failed + s.failed + c.closed + s.closed, 0);
    CHECK(mr_dtls_is_connected(c.d));
    CHECK(mr_dtls_is_connected(s.d));
    CHECK_INT(c.inbox.overflow + s.inbox.overflow, 0);
    CHECK_INT(mr_dtls_timeout_us(c.d), -1);
    CHECK_INT(mr_dtls_timeout_us(s.d), -1);

    CHECK_STR(mr_dtls_version(c.d), "DTLSv1.2");
    CHECK_STR(mr_dtls_version(s.d), "DTLSv1.2");
    CHECK(mr_dtls_cipher(c.d)[0] != '\0');
    CHECK_STR(mr_dtls_cipher(c.d), mr_dtls_cipher(s.d));
    printf("# cipher %s, version %s\n", mr_dtls_cipher(c.d), mr_dtls_version(c.d));

    memset(&kc, 0xee, sizeof(kc));
    memset(&ks, 0x77, sizeof(ks));
    CHECK_INT(mr_dtls_srtp_keys(c.d, &kc), MR_OK);
    CHECK_INT(mr_dtls_srtp_keys(s.d, &ks), MR_OK);
    /* Both offer GCM first; the server's preference picks it. */
    CHECK_INT(kc.profile, 0x0007);
    CHECK_INT(ks.profile, kc.profile);
    CHECK_INT(kc.key_len, 16);
    CHECK_INT(kc.salt_len, 12);
    CHECK_INT(ks.key_len, kc.key_len);
    CHECK_INT(ks.salt_len, kc.salt_len);
    size_t n = kc.key_len + kc.salt_len;
    CHECK_MEM(kc.local, ks.remote, n);
    CHECK_MEM(kc.remote, ks.local, n);
    CHECK(memcmp(kc.local, kc.remote, n) != 0);
    /* Exporting twice gives the same keys. */
    struct mr_dtls_srtp_keys again;
    CHECK_INT(mr_dtls_srtp_keys(c.d, &again), MR_OK);
    CHECK_MEM(again.local, kc.local, n);
    CHECK_MEM(again.remote, kc.remote, n);

    /* Retransmission handling after the handshake is a no-op. */
    mr_dtls_handle_timeout(c.d);
    CHECK(mr_dtls_is_connected(c.d));
    teardown(&c, &s);
}

/* A ClientHello may arrive before the server's owner called start. */
static void test_hello_before_start(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    pump(&c, &s, 20);
    CHECK_INT(c.connected, 1);
    CHECK_INT(s.connected, 1);
    teardown(&c, &s);
}

static void wrong_fingerprint(bool client_side)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    struct side *bad = client_side ? &c : &s;
    struct side *good = client_side ? &s : &c;
    set_fingerprint(bad->d, client_side ? id_server : id_client, true);
    CHECK_INT(mr_dtls_start(s.d), MR_OK);
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    pump(&c, &s, 20);
    CHECK_INT(bad->connected, 0);
    CHECK_INT(bad->failed, 1);
    CHECK(!mr_dtls_is_connected(bad->d));
    CHECK(bad->why != NULL && strstr(bad->why, "fingerprint") != NULL);
    struct mr_dtls_srtp_keys k;
    CHECK_INT(mr_dtls_srtp_keys(bad->d, &k), MR_ESTATE);
    CHECK_STR(mr_dtls_cipher(bad->d), "");
    /* A failed association takes no more input. */
    uint8_t junk[13] = {0x16, 0xfe, 0xfd};
    CHECK_INT(mr_dtls_handle_datagram(bad->d, junk, sizeof(junk)), MR_ESTATE);
    /* The check runs after the handshake and sends no alert, so the other
     * side (which completed its own half) may consider itself connected;
     * it must never have failed because of our fingerprint. */
    printf("# wrong fingerprint on the %s: peer connected=%u failed=%u\n",
           client_side ? "client" : "server", good->connected, good->failed);
    teardown(&c, &s);
}

static void test_wrong_fingerprint(void)
{
    wrong_fingerprint(true);
    wrong_fingerprint(false);
}

/* The right digest under the wrong algorithm name, or no fingerprint at
 * all, fails as well. */
static void test_fingerprint_alg_mismatch(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    uint8_t fp[64];
    size_t len = 0;
    CHECK(parse_fingerprint(mr_dtls_identity_fingerprint(id_server), fp, &len));
    CHECK_INT(mr_dtls_set_remote_fingerprint(c.d, "sha-384", fp, len), MR_OK);
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    pump(&c, &s, 20);
    CHECK_INT(c.connected, 0);
    CHECK_INT(c.failed, 1);
    teardown(&c, &s);

    if (!identities())
        return;
    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    c.peer = &s;
    s.peer = &c;
    CHECK_INT(mr_dtls_new(id_client, MR_DTLS_CLIENT, &ops, &c, &c.d), MR_OK);
    CHECK_INT(mr_dtls_new(id_server, MR_DTLS_SERVER, &ops, &s, &s.d), MR_OK);
    if (!c.d || !s.d) {
        teardown(&c, &s);
        return;
    }
    set_fingerprint(c.d, id_server, false);
    /* The server never learned the client's fingerprint. */
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    pump(&c, &s, 20);
    CHECK_INT(s.connected, 0);
    CHECK_INT(s.failed, 1);
    teardown(&c, &s);
}

/* Fires the retransmission timer of d once, sleeping until it is due
 * (OpenSSL does not retransmit before the timer has elapsed). */
static void fire_timer(struct mr_dtls *d)
{
    int64_t us = mr_dtls_timeout_us(d);
    if (us < 0)
        return;
    if (us > 0)
        sleep_us(us + 2000);
    mr_dtls_handle_timeout(d);
}

static void test_lost_client_hello(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    c.drop = 1;
    CHECK_INT(mr_dtls_start(s.d), MR_OK);
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    CHECK_INT(c.dropped, 1);
    pump(&c, &s, 20);
    CHECK_INT(s.sent, 0); /* the server heard nothing */
    CHECK_INT(c.connected, 0);

    int64_t us = mr_dtls_timeout_us(c.d);
    CHECK(us >= 0 && us <= 400000);
    CHECK_INT(mr_dtls_timeout_us(s.d), -1); /* nothing to retransmit yet */
    unsigned before = c.sent;
    /* Calling early is harmless: nothing is resent before the timer. */
    mr_dtls_handle_timeout(c.d);
    CHECK(c.sent == before || c.sent == before + 1);
    if (c.sent == before)
        fire_timer(c.d);
    CHECK_INT(c.sent, before + 1); /* the ClientHello again */
    pump(&c, &s, 20);
    CHECK_INT(c.connected, 1);
    CHECK_INT(s.connected, 1);
    CHECK_INT(c.failed + s.failed, 0);
    teardown(&c, &s);
}

/* Losing the server's first datagram too: both timers recover it. */
static void test_lost_server_flight(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    s.drop = 1;
    CHECK_INT(mr_dtls_start(s.d), MR_OK);
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    pump(&c, &s, 20);
    for (int round = 0; round < 4 && !(c.connected && s.connected); round++) {
        int64_t tc = mr_dtls_timeout_us(c.d), ts = mr_dtls_timeout_us(s.d);
        int64_t wait = tc < 0 ? ts : (ts < 0 || tc < ts ? tc : ts);
        if (wait < 0)
            break;
        sleep_us(wait + 2000);
        mr_dtls_handle_timeout(c.d);
        mr_dtls_handle_timeout(s.d);
        pump(&c, &s, 20);
    }
    CHECK_INT(s.dropped, 1);
    CHECK_INT(c.connected, 1);
    CHECK_INT(s.connected, 1);
    CHECK_INT(c.failed + s.failed, 0);
    teardown(&c, &s);
}

/* The retransmission timer starts at 400 ms and doubles. */
static void test_timer_backoff(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    c.drop = 100; /* the server never hears anything */
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    /* Lower bounds leave room for a slow (sanitized, loaded) machine. */
    int64_t first = mr_dtls_timeout_us(c.d);
    CHECK(first > 200000 && first <= 400000);
    fire_timer(c.d);
    CHECK_INT(c.sent, 2);
    int64_t second = mr_dtls_timeout_us(c.d);
    CHECK(second > 600000 && second <= 800000);
    CHECK_INT(c.failed, 0);
    teardown(&c, &s);
}

static void test_garbage(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    CHECK_INT(mr_dtls_start(s.d), MR_OK);
    uint8_t buf[2048];
    /* Empty and oversized datagrams are refused outright. */
    CHECK_INT(mr_dtls_handle_datagram(s.d, buf, 0), MR_EPARSE);
    uint8_t *big = calloc(1, 16385);
    if (big) {
        big[0] = 0x16;
        CHECK_INT(mr_dtls_handle_datagram(s.d, big, 16385), MR_EPARSE);
        free(big);
    }
    /* Pseudo-random bytes of every length, some starting like a DTLS
     * handshake record (content type 22, version 0xfefd). */
    uint32_t x = 12345;
    for (size_t len = 1; len < 300; len += 7) {
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (len % 2) {
            buf[0] = 0x16;
            if (len > 2) {
                buf[1] = 0xfe;
                buf[2] = 0xfd;
            }
        }
        mr_dtls_handle_datagram(s.d, buf, len);
    }
    /* A record header whose length runs past the datagram. */
    const uint8_t short_rec[] = {0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x00, 0x01};
    mr_dtls_handle_datagram(s.d, short_rec, sizeof(short_rec));
    /* Records that do not parse are dropped silently (RFC 6347 §4.1.2.7):
     * the handshake is still open, and nothing was sent back. */
    CHECK_INT(s.failed, 0);
    CHECK_INT(s.sent, 0);
    /* A well-formed record carrying a ClientHello that claims 16 MB, then
     * a plaintext fatal alert: these may legitimately end the handshake
     * (OpenSSL answers the first with an alert), but must not connect. */
    const uint8_t huge_msg[] = {
        0x16, 0xfe, 0xfd,             /* handshake record, DTLS 1.2 */
        0x00, 0x00,                   /* epoch */
        0x00, 0x00, 0x00, 0x00, 0x00, /* sequence number, */
        0x00, 0x00, 0x0c,             /* ... and 12 bytes of fragment */
        0x01, 0xff, 0xff, 0xff,       /* ClientHello, length 2^24 - 1 */
        0x00, 0x00,                   /* message sequence */
        0x00, 0x00, 0x00,             /* fragment offset */
        0xff, 0xff, 0xff,             /* fragment length */
    };
    mr_dtls_handle_datagram(s.d, huge_msg, sizeof(huge_msg));
    /* An alert and a ChangeCipherSpec out of order. */
    const uint8_t alert[] = {0x15, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40};
    mr_dtls_handle_datagram(s.d, alert, sizeof(alert));
    const uint8_t ccs[] = {0x14, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1};
    mr_dtls_handle_datagram(s.d, ccs, sizeof(ccs));

    CHECK_INT(s.connected, 0);
    CHECK(!mr_dtls_is_connected(s.d));
    struct mr_dtls_srtp_keys k;
    CHECK_INT(mr_dtls_srtp_keys(s.d, &k), MR_ESTATE);
    printf("# after garbage: server failed=%u sent=%u\n", s.failed, s.sent);
    teardown(&c, &s);
}

/* Garbage that does not even look like DTLS must not spoil a fresh server
 * for the genuine client that follows. */
static void test_garbage_then_handshake(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    CHECK_INT(mr_dtls_start(s.d), MR_OK);
    uint8_t buf[100];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(0x80 + i); /* RTP-looking bytes */
    mr_dtls_handle_datagram(s.d, buf, sizeof(buf));
    memset(buf, 0, sizeof(buf));
    mr_dtls_handle_datagram(s.d, buf, sizeof(buf));
    CHECK_INT(s.failed, 0);
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    pump(&c, &s, 20);
    CHECK_INT(c.connected, 1);
    CHECK_INT(s.connected, 1);
    teardown(&c, &s);
}

static void close_notify(bool client_closes)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    CHECK_INT(mr_dtls_start(s.d), MR_OK);
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    pump(&c, &s, 20);
    CHECK(c.connected && s.connected);
    struct side *closer = client_closes ? &c : &s;
    struct side *other = client_closes ? &s : &c;
    unsigned before = closer->sent;
    mr_dtls_close(closer->d);
    CHECK_INT(closer->sent, before + 1); /* the close_notify alert */
    CHECK(!mr_dtls_is_connected(closer->d));
    CHECK_INT(closer->closed, 0); /* closing ourselves is not reported */
    deliver(other);
    CHECK_INT(other->closed, 1);
    CHECK_INT(other->failed, 0);
    CHECK(!mr_dtls_is_connected(other->d));
    /* Both ends now refuse input; closing again is harmless. */
    uint8_t rec[13] = {0x17, 0xfe, 0xfd};
    CHECK_INT(mr_dtls_handle_datagram(other->d, rec, sizeof(rec)), MR_ESTATE);
    CHECK_INT(mr_dtls_handle_datagram(closer->d, rec, sizeof(rec)), MR_ESTATE);
    mr_dtls_close(closer->d);
    mr_dtls_close(other->d);
    CHECK_INT(other->closed, 1);
    teardown(&c, &s);
}

static void test_close_notify(void)
{
    close_notify(true);
    close_notify(false);
}

/* Freeing in the middle of a handshake, with a timer armed, is clean. */
static void test_free_mid_handshake(void)
{
    struct side c, s;
    if (!setup(&c, &s))
        return;
    CHECK_INT(mr_dtls_start(c.d), MR_OK);
    deliver(&s); /* the server answers; the client has not read it */
    CHECK(mr_dtls_timeout_us(c.d) >= 0);
    mr_dtls_close(c.d); /* before the handshake: nothing to send */
    teardown(&c, &s);
    mr_dtls_free(NULL);
    mr_dtls_identity_free(NULL);
}

static void test_cleanup(void)
{
    mr_dtls_identity_free(id_client);
    mr_dtls_identity_free(id_server);
    id_client = id_server = NULL;
}

MR_TEST_MAIN(MR_TEST(test_fingerprint_format), MR_TEST(test_fingerprint_args),
             MR_TEST(test_handshake), MR_TEST(test_hello_before_start),
             MR_TEST(test_wrong_fingerprint), MR_TEST(test_fingerprint_alg_mismatch),
             MR_TEST(test_lost_client_hello), MR_TEST(test_lost_server_flight),
             MR_TEST(test_timer_backoff), MR_TEST(test_garbage),
             MR_TEST(test_garbage_then_handshake), MR_TEST(test_close_notify),
             MR_TEST(test_free_mid_handshake), MR_TEST(test_cleanup))
