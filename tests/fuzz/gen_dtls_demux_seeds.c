/*
 * Writes the seed corpus of fuzz_dtls_demux: what a WebRTC peer sends to the
 * relay's media socket, in that target's input format (datagrams, each after
 * a 2-byte big-endian length). Run by hand when the corpus should change:
 *
 *   build/tests/fuzz/gen_dtls_demux_seeds tests/fuzz/corpus/fuzz_dtls_demux
 *
 * DTLS flights come from a real handshake between two relay/dtls
 * associations in memory: the client's ClientHello (with use_srtp) and its
 * second flight (Certificate ... Finished). STUN messages are built with
 * libnice's own STUN code, as Chromium and libnice peers send them, with the
 * credentials fuzz_dtls_demux.c validates against. Keys and certificates are
 * fresh on every run, so the DTLS seeds change each time; the program prints
 * the client certificate's SHA-256 digest, which fuzz_dtls_demux.c pins
 * (peer_digest) so that its server gets past the certificate check on the
 * handshake seed: update that array after regenerating.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>

#include "dtls/dtls.h"

/* The relay's credentials (local) and the peer's, as in fuzz_dtls_demux.c. */
#define LOCAL_UFRAG "rLy7"
#define LOCAL_PWD "k2bJ9sQvW4xZ7cN1mP5tR8"
#define REMOTE_UFRAG "EsAw"

#define SEED_MAX 16384
#define DGRAM_MAX 2048
#define FLIGHT_MAX 32

/* --- Seeds: framed datagrams ---------------------------------------------- */

struct seed {
    uint8_t buf[SEED_MAX];
    size_t len;
};

static const char *out_dir;

static void add(struct seed *s, const uint8_t *d, size_t len)
{
    if (s->len + 2 + len > sizeof(s->buf)) {
        fprintf(stderr, "seed too large\n");
        exit(1);
    }
    s->buf[s->len++] = (uint8_t)(len >> 8);
    s->buf[s->len++] = (uint8_t)len;
    if (len)
        memcpy(s->buf + s->len, d, len);
    s->len += len;
}

static void add_raw(struct seed *s, const uint8_t *d, size_t len)
{
    memcpy(s->buf + s->len, d, len);
    s->len += len;
}

static void save(const char *name, const struct seed *s)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    printf("%-36s %5zu bytes\n", name, s->len);
}

/* One datagram alone. */
static void save_one(const char *name, const uint8_t *d, size_t len)
{
    static struct seed s;
    s.len = 0;
    add(&s, d, len);
    save(name, &s);
}

/* --- DTLS: a handshake between two associations in memory ---------------- */

struct dgram {
    uint8_t data[DGRAM_MAX];
    size_t len;
};

struct side {
    struct mr_dtls *d;
    struct dgram out[FLIGHT_MAX]; /* everything this side sent, in order */
    unsigned n_out, delivered;
    int connected;
};

static void on_send(void *user, const uint8_t *buf, size_t len)
{
    struct side *s = user;
    if (s->n_out == FLIGHT_MAX || len > DGRAM_MAX) {
        fprintf(stderr, "handshake larger than expected\n");
        exit(1);
    }
    memcpy(s->out[s->n_out].data, buf, len);
    s->out[s->n_out++].len = len;
}

static void on_connected(void *user)
{
    ((struct side *)user)->connected = 1;
}

static void on_failed(void *user, const char *why)
{
    (void)user;
    fprintf(stderr, "handshake failed: %s\n", why);
    exit(1);
}

static void on_closed(void *user)
{
    (void)user;
}

static const struct mr_dtls_ops ops = {on_send, on_connected, on_failed, on_closed};

/* "AB:CD:...:EF" to bytes. */
static size_t parse_fingerprint(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = hex; n < cap && p[0] && p[1]; p += 3) {
        out[n++] = (uint8_t)strtoul((char[3]){p[0], p[1], 0}, NULL, 16);
        if (p[2] != ':')
            break;
    }
    return n;
}

static struct mr_dtls_identity *identity(const char *profiles)
{
    struct mr_dtls_identity *id;
    if (mr_dtls_identity_new(&id) < 0 ||
        (profiles && mr_dtls_identity_set_srtp_profiles(id, profiles) < 0)) {
        fprintf(stderr, "no DTLS identity\n");
        exit(1);
    }
    return id;
}

static void pin(struct mr_dtls *d, const struct mr_dtls_identity *peer)
{
    uint8_t fp[64];
    size_t n = parse_fingerprint(mr_dtls_identity_fingerprint(peer), fp, sizeof(fp));
    mr_dtls_set_remote_fingerprint(d, "sha-256", fp, n);
}

/* Delivers what a sent since the last call to b. */
static unsigned deliver(struct side *a, struct side *b)
{
    unsigned n = 0;
    for (; a->delivered < a->n_out; a->delivered++, n++)
        mr_dtls_handle_datagram(b->d, a->out[a->delivered].data, a->out[a->delivered].len);
    return n;
}

/* Runs a handshake; client->out holds the client's datagrams afterwards,
 * with a close_notify last. */
static void handshake(struct mr_dtls_identity *cid, struct mr_dtls_identity *sid,
                      struct side *client, struct side *server)
{
    if (mr_dtls_new(cid, MR_DTLS_CLIENT, &ops, client, &client->d) < 0 ||
        mr_dtls_new(sid, MR_DTLS_SERVER, &ops, server, &server->d) < 0) {
        fprintf(stderr, "no DTLS association\n");
        exit(1);
    }
    pin(client->d, sid);
    pin(server->d, cid);
    mr_dtls_start(server->d);
    mr_dtls_start(client->d);
    while (deliver(client, server) + deliver(server, client) > 0)
        ;
    if (!client->connected || !server->connected) {
        fprintf(stderr, "handshake did not finish\n");
        exit(1);
    }
    mr_dtls_close(client->d);
}

static void dtls_seeds(void)
{
    static struct side client, server, client2, server2;
    static struct seed s;
    struct mr_dtls_identity *cid = identity(NULL), *sid = identity(NULL);
    handshake(cid, sid, &client, &server);
    /* The client's first flight is its ClientHello; the server answers it
     * with one or more datagrams, then the client sends the rest. */
    printf("client flights: %u datagrams, server: %u\n", client.n_out, server.n_out);
    for (unsigned i = 0; i < server.n_out; i++)
        printf("  server datagram %u: %zu bytes\n", i, server.out[i].len);
    save_one("dtls_client_hello", client.out[0].data, client.out[0].len);

    s.len = 0;
    for (unsigned i = 0; i < client.n_out; i++)
        add(&s, client.out[i].data, client.out[i].len);
    save("dtls_handshake_client_flights", &s);

    s.len = 0;
    add(&s, client.out[0].data, client.out[0].len);
    add(&s, client.out[0].data, client.out[0].len);
    save("dtls_client_hello_retransmitted", &s);

    /* The second flight (and the close_notify) without a ClientHello. */
    s.len = 0;
    for (unsigned i = 1; i < client.n_out; i++)
        add(&s, client.out[i].data, client.out[i].len);
    save("dtls_second_flight_only", &s);

    /* A client that offers only SRTP_AES128_CM_SHA1_80, the profile every
     * WebRTC stack has (no GCM). */
    struct mr_dtls_identity *cid2 = identity("SRTP_AES128_CM_SHA1_80");
    handshake(cid2, sid, &client2, &server2);
    save_one("dtls_client_hello_cm80", client2.out[0].data, client2.out[0].len);
    /* Its whole handshake: a certificate that does not match the pinned
     * digest, refused in the middle of the second flight. */
    s.len = 0;
    for (unsigned i = 0; i < client2.n_out; i++)
        add(&s, client2.out[i].data, client2.out[i].len);
    save("dtls_handshake_unknown_certificate", &s);

    printf("client certificate sha-256 (peer_digest in fuzz_dtls_demux.c): %s\n",
           mr_dtls_identity_fingerprint(cid));
    mr_dtls_free(client.d);
    mr_dtls_free(server.d);
    mr_dtls_free(client2.d);
    mr_dtls_free(server2.d);
    mr_dtls_identity_free(cid);
    mr_dtls_identity_free(cid2);
    mr_dtls_identity_free(sid);
}

/* --- STUN (RFC 5389, RFC 8445 §7.1.1) with libnice's encoder ---------------- */

static StunAgent agent;

static void agent_init(void)
{
    stun_agent_init(&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
}

/* A Binding request as Chromium sends it: USERNAME, GOOG-NETWORK-INFO
 * (0xC057: network id and cost), ICE-CONTROLLING, [USE-CANDIDATE],
 * PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT. */
static size_t chromium_request(uint8_t *buf, size_t cap, bool nominate, const char *pwd,
                               uint16_t extra_attr)
{
    StunMessage msg;
    agent_init();
    stun_agent_init_request(&agent, &msg, buf, cap, STUN_BINDING);
    stun_message_append_string(&msg, STUN_ATTRIBUTE_USERNAME, LOCAL_UFRAG ":" REMOTE_UFRAG);
    stun_message_append32(&msg, 0xC057, 1u << 16 | 10);
    stun_message_append64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLING, 0x5c1e0d3a9b7f4e21ull);
    if (nominate)
        stun_message_append_flag(&msg, STUN_ATTRIBUTE_USE_CANDIDATE);
    stun_message_append32(&msg, STUN_ATTRIBUTE_PRIORITY, 1853824767);
    if (extra_attr)
        stun_message_append32(&msg, extra_attr, 0);
    return stun_agent_finish_message(&agent, &msg, (const uint8_t *)pwd, strlen(pwd));
}

static bool validater(StunAgent *a, StunMessage *m, uint8_t *user, uint16_t user_len,
                      uint8_t **pwd, size_t *pwd_len, void *data)
{
    (void)a;
    (void)m;
    (void)user;
    (void)user_len;
    (void)data;
    *pwd = (uint8_t *)LOCAL_PWD;
    *pwd_len = strlen(LOCAL_PWD);
    return true;
}

/* The relay's answer to a request: a success response with
 * XOR-MAPPED-ADDRESS, or 487 Role Conflict. */
static size_t reply(const uint8_t *req_buf, size_t req_len, const struct sockaddr *src,
                    socklen_t src_len, bool control, uint64_t tie, uint8_t *buf, size_t cap)
{
    StunMessage req, msg;
    agent_init();
    if (stun_agent_validate(&agent, &req, req_buf, req_len, validater, NULL) !=
        STUN_VALIDATION_SUCCESS) {
        fprintf(stderr, "request does not validate\n");
        exit(1);
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, src, src_len);
    size_t len = cap;
    stun_usage_ice_conncheck_create_reply(&agent, &req, &msg, buf, &len, &ss, src_len, &control,
                                          tie, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    return len;
}

static void stun_seeds(void)
{
    uint8_t req[512], nom[512], resp[512], buf[512];
    size_t req_len = chromium_request(req, sizeof(req), false, LOCAL_PWD, 0);
    size_t nom_len = chromium_request(nom, sizeof(nom), true, LOCAL_PWD, 0);
    save_one("stun_chromium_binding_request", req, req_len);
    save_one("stun_chromium_use_candidate", nom, nom_len);
    size_t n = chromium_request(buf, sizeof(buf), false, "wrongpassword0123456789", 0);
    save_one("stun_wrong_password", buf, n);
    n = chromium_request(buf, sizeof(buf), false, LOCAL_PWD, 0x0030);
    save_one("stun_unknown_required_attribute", buf, n);

    /* libnice's own connectivity check, from a controlled peer. */
    StunMessage msg;
    agent_init();
    n = stun_usage_ice_conncheck_create(
        &agent, &msg, buf, sizeof(buf), (const uint8_t *)LOCAL_UFRAG ":" REMOTE_UFRAG,
        strlen(LOCAL_UFRAG ":" REMOTE_UFRAG), (const uint8_t *)LOCAL_PWD, strlen(LOCAL_PWD),
        false, false, 1845501695, 0x0123456789abcdefull, NULL,
        STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    save_one("stun_libnice_conncheck_controlled", buf, n);

    /* Responses, IPv4 and IPv6, and a 487 Role Conflict: a controlled agent
     * with the smaller tie-breaker answers a controlled peer (RFC 8445
     * §7.3.1.1; with the larger one it would switch roles). */
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(61764)};
    inet_pton(AF_INET, "192.0.2.1", &a4.sin_addr);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(54400)};
    inet_pton(AF_INET6, "2001:db8::7", &a6.sin6_addr);
    size_t r = reply(req, req_len, (struct sockaddr *)&a4, sizeof(a4), false, 1, resp,
                     sizeof(resp));
    save_one("stun_binding_success_ipv4", resp, r);
    r = reply(nom, nom_len, (struct sockaddr *)&a6, sizeof(a6), false, 1, resp, sizeof(resp));
    save_one("stun_binding_success_ipv6", resp, r);
    r = reply(buf, n, (struct sockaddr *)&a4, sizeof(a4), false, 0, resp, sizeof(resp));
    save_one("stun_error_487_role_conflict", resp, r);

    /* A Binding indication (keepalive, RFC 8445 §11): FINGERPRINT only. */
    agent_init();
    stun_agent_init_indication(&agent, &msg, buf, sizeof(buf), STUN_BINDING);
    n = stun_agent_finish_message(&agent, &msg, NULL, 0);
    save_one("stun_binding_indication", buf, n);

    /* An RFC 3489 request: no magic cookie, no attributes. */
    static const uint8_t classic[20] = {0x00, 0x01, 0x00, 0x00, 0x4f, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e,
                                        0x6f, 0x70, 0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8};
    save_one("stun_rfc3489_request", classic, sizeof(classic));
    save_one("stun_truncated_request", req, 30);
}

/* --- Everything else a media socket sees --------------------------------- */

/* RTP (RFC 3550) with a one-byte header extension (RFC 8285: ssrc-audio-level,
 * id 1) and an Opus payload. */
static const uint8_t rtp_opus[] = {
    0x90, 0x6f, 0x1a, 0x2b, 0x00, 0x01, 0xe2, 0x40, 0x11, 0x22, 0x33, 0x44,
    0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00,
    0xfc, 0xff, 0xfe, 0x7a, 0x01, 0x02, 0x03, 0x04};
/* RTCP (RFC 3550 §6.4.2, §6.5): RR with one block, then SDES CNAME. */
static const uint8_t rtcp_rr_sdes[] = {
    0x81, 0xc9, 0x00, 0x07, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x1a, 0x2b, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x81, 0xca, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, 0x01, 0x04, 'a',  'b',  'c',
    'd',  0x00, 0x00};
/* RTP with a two-byte header extension (RFC 8285 §4.3: profile 0x100X). */
static const uint8_t rtp_two_byte_ext[] = {
    0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x10, 0x00, 0x00,
    0x03, 0x01, 0x00, 0x00, 0xc8, 0x03, 0x0a, 0x0b, 0x0c, 0x0f, 0x01, 0x99, 0x00, 0x65, 0x88};
/* RTP with two CSRCs and four bytes of padding (RFC 3550 §5.1). */
static const uint8_t rtp_csrcs_padding[] = {0xa2, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                                            0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x01,
                                            0x00, 0x00, 0x00, 0x02, 0x10, 0xb0, 0x00, 0x00,
                                            0x00, 0x00, 0x00, 0x04};
/* RTCP SR with one report block, then SDES CNAME (RFC 3550 §6.4.1). */
static const uint8_t rtcp_sr_sdes[] = {
    0x81, 0xc8, 0x00, 0x0c, 0x11, 0x22, 0x33, 0x44, 0xe8, 0x6b, 0x1c, 0x39, 0x80, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x5f, 0x90, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x93, 0xe0, 0xaa, 0xbb,
    0xcc, 0xdd, 0x40, 0xff, 0xff, 0xfe, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x2a, 0x6b,
    0x1c, 0x39, 0x80, 0x00, 0x01, 0x80, 0x00, 0x81, 0xca, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44,
    0x01, 0x05, 'a',  'b',  'c',  'd',  'e',  0x00};
/* RTCP FIR (RFC 5104 §4.3.1) with two entries. */
static const uint8_t rtcp_fir_two[] = {0x84, 0xce, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00,
                                       0x00, 0x00, 0x00, 0xaa, 0xaa, 0xaa, 0xaa, 0x03, 0x00,
                                       0x00, 0x00, 0xbb, 0xbb, 0xbb, 0xbb, 0xfe, 0x00, 0x00,
                                       0x00};
/* RTCP PLI (RFC 4585 §6.3.1). */
static const uint8_t rtcp_pli[] = {0x81, 0xce, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44,
                                   0x55, 0x66, 0x77, 0x88};
/* TURN ChannelData (RFC 8656 §12.4): channel 0x4000, 8 bytes. */
static const uint8_t turn_channel[] = {0x40, 0x00, 0x00, 0x08, 0x80, 0x60, 0x00, 0x01,
                                       0x00, 0x00, 0x00, 0x01};
/* ZRTP Hello (RFC 6189 §5): header, magic cookie, preamble, type. */
static const uint8_t zrtp_hello[] = {0x10, 0x00, 0x00, 0x01, 'Z', 'R', 'T', 'P', 0x11, 0x22,
                                     0x33, 0x44, 0x50, 0x5a, 0x00, 0x1d, 'H', 'e', 'l', 'l',
                                     'o', ' ', ' ', ' ', '1', '.', '1', '0'};
/* A DTLS alert record in epoch 0 (RFC 6347 §4.1): fatal handshake_failure. */
static const uint8_t dtls_alert[] = {0x15, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x28};
/* A handshake record whose length runs past the datagram. */
static const uint8_t dtls_short[] = {0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00};

static void other_seeds(void)
{
    static struct seed s;
    save_one("rtp_opus_audio_level", rtp_opus, sizeof(rtp_opus));
    save_one("rtp_two_byte_ext", rtp_two_byte_ext, sizeof(rtp_two_byte_ext));
    save_one("rtp_csrcs_padding", rtp_csrcs_padding, sizeof(rtp_csrcs_padding));
    save_one("rtcp_rr_sdes", rtcp_rr_sdes, sizeof(rtcp_rr_sdes));
    save_one("rtcp_sr_sdes", rtcp_sr_sdes, sizeof(rtcp_sr_sdes));
    save_one("rtcp_fir_two", rtcp_fir_two, sizeof(rtcp_fir_two));
    save_one("rtcp_pli", rtcp_pli, sizeof(rtcp_pli));
    save_one("turn_channel_data", turn_channel, sizeof(turn_channel));
    save_one("zrtp_hello", zrtp_hello, sizeof(zrtp_hello));
    save_one("dtls_alert_epoch0", dtls_alert, sizeof(dtls_alert));
    save_one("dtls_record_past_end", dtls_short, sizeof(dtls_short));

    /* Unassigned first bytes (RFC 7983 §7: dropped) and a 1-byte RTP. */
    static const uint8_t g1[] = {0x05, 0xde, 0xad}, g2[] = {0x50, 0xbe, 0xef},
                         g3[] = {0xff, 0x00, 0xff, 0x00}, g4[] = {0x80};
    s.len = 0;
    add(&s, g1, sizeof(g1));
    add(&s, g2, sizeof(g2));
    add(&s, g3, sizeof(g3));
    add(&s, g4, sizeof(g4));
    save("garbage_unassigned_ranges", &s);

    /* Zero-length datagrams between real ones. */
    s.len = 0;
    add(&s, NULL, 0);
    add(&s, rtcp_pli, sizeof(rtcp_pli));
    add(&s, NULL, 0);
    save("zero_length_datagrams", &s);

    /* A length prefix longer than what follows; a lone trailing byte. */
    s.len = 0;
    add_raw(&s, (const uint8_t[]){0x04, 0x00}, 2);
    add_raw(&s, rtp_opus, sizeof(rtp_opus));
    save("length_past_end", &s);
    s.len = 0;
    add(&s, rtcp_pli, sizeof(rtcp_pli));
    add_raw(&s, (const uint8_t[]){0x00}, 1);
    save("lone_trailing_byte", &s);
}

/* What a publisher's first second looks like on the socket: checks, the
 * ClientHello, media, a keepalive. Uses the seeds written above. */
static void mixed_seed(void)
{
    static struct seed s, in;
    static const char *const parts[] = {"stun_chromium_binding_request", "dtls_client_hello",
                                        "rtp_opus_audio_level", "rtcp_rr_sdes",
                                        "stun_binding_indication"};
    s.len = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", out_dir, parts[i]);
        FILE *f = fopen(path, "rb");
        in.len = f ? fread(in.buf, 1, sizeof(in.buf), f) : 0;
        if (f)
            fclose(f);
        add_raw(&s, in.buf, in.len);
    }
    save("mixed_publisher_start", &s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    dtls_seeds();
    stun_seeds();
    other_seeds();
    mixed_seed();
    return 0;
}
