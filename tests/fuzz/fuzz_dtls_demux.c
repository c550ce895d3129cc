/*
 * Fuzz target for the path a datagram takes on the relay's media socket
 * before SRTP: anyone who can reach the port can send it anything, before
 * ICE or DTLS have authenticated them. The steps are those of production
 * (libnice's receive path, then relay/transport/transport.c ice_recv):
 *
 *  - RFC 7983 demux by the first byte (mr_demux_classify);
 *  - STUN: libnice's parser as its agent uses it (RFC 5245 compatibility,
 *    short-term credentials, FINGERPRINT, consent freshness):
 *    stun_message_validate_buffer_length, stun_agent_validate against the
 *    relay's credentials, then what libnice's conncheck.c does with the
 *    result: for a Binding request that authenticates, the reply
 *    (stun_usage_ice_conncheck_create_reply); for a refused request, the
 *    400/401/420 error; for a response, the mapped address
 *    (stun_usage_ice_conncheck_process);
 *  - DTLS: a server association of relay/dtls (the relay's usual role)
 *    with a pinned peer fingerprint, fed the datagrams in order;
 *  - RTP and RTCP: mr_rtp_parse with its header extensions, and the RTCP
 *    compound iterator with each packet parser. In production they are
 *    SRTP-protected, so these run on what the peer would have encrypted;
 *    fuzz_rtp and fuzz_rtcp go deeper into each.
 *
 * Input: a sequence of datagrams, each after a 2-byte big-endian length
 * (a length past the end takes what remains; a lone last byte is dropped),
 * so that the fuzzer can build multi-datagram handshakes. Each datagram is
 * copied into an exact-size heap block so that ASan sees reads past it.
 * The DTLS association is made per input (at its first DTLS datagram), so
 * inputs are independent; the identity (key and certificate) is made once.
 *
 * Properties (abort() when broken): the demux class agrees with the RFC 7983
 * table; a datagram libnice takes as STUN is as long as the message it
 * holds, and a reply it builds is a whole STUN message; the server never
 * sends a datagram larger than relay/dtls's MTU (1200 bytes), reports at
 * most one failure, and never reports a completed handshake: completing one
 * takes the private key of the pinned certificate and the server's fresh
 * ECDHE key, which no input has.
 *
 * OpenSSL and libnice are system libraries without coverage instrumentation
 * or ASan: libFuzzer steers by the code of relay/ and of this file only
 * (hence the branches on STUN results below), and ASan sees their memory
 * errors only where they go through intercepted functions (memcpy, memcmp,
 * malloc). OpenSSL is fuzzed upstream (OSS-Fuzz); libnice's STUN code
 * could be compiled in here from its sources to fuzz it deeper. As it is,
 * this target checks the relay's use of both and its own code on the path.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <sys/socket.h>

#include "dtls/dtls.h"
#include "rtcp/rtcp.h"
#include "rtp/demux.h"
#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The relay's ICE credentials; any remote ufrag is accepted. The STUN seeds
 * (gen_dtls_demux_seeds.c) are built with the same. */
#define LOCAL_UFRAG "rLy7"
#define LOCAL_PWD "k2bJ9sQvW4xZ7cN1mP5tR8"

/* relay/dtls/dtls.c's DTLS_MTU: every flight is split below it. */
#define DTLS_MTU 1200

/* SHA-256 of the client certificate in corpus/fuzz_dtls_demux/
 * dtls_handshake_client_flights, as gen_dtls_demux_seeds printed it: with
 * it, that seed gets past the certificate check to CertificateVerify. */
static const uint8_t peer_digest[32] = {
    0x1d, 0x70, 0x92, 0xb7, 0x2b, 0x9b, 0x95, 0xe4, 0x44, 0xd1, 0x1e,
    0x90, 0x80, 0xca, 0x99, 0x2b, 0x66, 0x52, 0x40, 0x73, 0x24, 0x9d,
    0xf7, 0x86, 0x60, 0xab, 0xe4, 0xfe, 0x54, 0x7d, 0xdf, 0xd0};

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "property broken: %s\n", what);
        abort();
    }
}

/* --- Demux (RFC 7983 §7) -------------------------------------------------- */

static void check_class(const uint8_t *b, size_t len, enum mr_demux_class c)
{
    enum mr_demux_class want = MR_DEMUX_UNKNOWN;
    if (len >= 1) {
        if (b[0] <= 3)
            want = MR_DEMUX_STUN;
        else if (b[0] >= 16 && b[0] <= 19)
            want = MR_DEMUX_ZRTP;
        else if (b[0] >= 20 && b[0] <= 63)
            want = MR_DEMUX_DTLS;
        else if (b[0] >= 64 && b[0] <= 79)
            want = MR_DEMUX_TURN_CHANNEL;
        else if (b[0] >= 128 && b[0] <= 191 && len >= 2)
            want = b[1] >= 192 && b[1] <= 223 ? MR_DEMUX_RTCP : MR_DEMUX_RTP;
    }
    check(c == want, "demux class disagrees with RFC 7983");
}

/* --- STUN through libnice ------------------------------------------------- */

/* libnice's conncheck validater for requests: the USERNAME is
 * "<local ufrag>:<remote ufrag>" and the key is the local password. */
static bool validater(StunAgent *agent, StunMessage *msg, uint8_t *user, uint16_t user_len,
                      uint8_t **pwd, size_t *pwd_len, void *data)
{
    (void)agent;
    (void)msg;
    (void)data;
    size_t n = strlen(LOCAL_UFRAG);
    if (user_len <= n || memcmp(user, LOCAL_UFRAG, n) != 0 || user[n] != ':')
        return false;
    *pwd = (uint8_t *)LOCAL_PWD;
    *pwd_len = strlen(LOCAL_PWD);
    return true;
}

/* libnice is not instrumented: counting its outcomes here, each at its own
 * branch, lets libFuzzer tell inputs that reach new ones apart. */
static unsigned long stun_outcomes[11];

static uint8_t reply_buf[1280];

static void check_reply(size_t len)
{
    check(len <= sizeof(reply_buf), "reply longer than its buffer");
    if (len > 0)
        check(stun_message_validate_buffer_length(reply_buf, len, true) == (int)len,
              "libnice built a reply that is not one whole STUN message");
}

/* The error libnice's conncheck.c answers a refused request with. */
static void stun_error_reply(StunAgent *agent, StunMessage *req, StunError code)
{
    StunMessage resp;
    if (stun_message_get_class(req) != STUN_REQUEST ||
        !stun_agent_init_error(agent, &resp, reply_buf, sizeof(reply_buf), req, code))
        return;
    check_reply(stun_agent_finish_message(agent, &resp, NULL, 0));
}

/* A distinct branch per attribute present, for the same reason. */
#define SEEN(attr)                                                                            \
    do {                                                                                      \
        uint16_t alen_;                                                                       \
        if (stun_message_find(msg, (attr), &alen_))                                           \
            seen++;                                                                           \
    } while (0)

static unsigned attributes_seen(const StunMessage *msg)
{
    unsigned seen = 0;
    SEEN(STUN_ATTRIBUTE_USERNAME);
    SEEN(STUN_ATTRIBUTE_MESSAGE_INTEGRITY);
    SEEN(STUN_ATTRIBUTE_FINGERPRINT);
    SEEN(STUN_ATTRIBUTE_PRIORITY);
    SEEN(STUN_ATTRIBUTE_USE_CANDIDATE);
    SEEN(STUN_ATTRIBUTE_ICE_CONTROLLING);
    SEEN(STUN_ATTRIBUTE_ICE_CONTROLLED);
    SEEN(STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS);
    SEEN(STUN_ATTRIBUTE_MAPPED_ADDRESS);
    SEEN(STUN_ATTRIBUTE_ERROR_CODE);
    SEEN(STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES);
    SEEN(STUN_ATTRIBUTE_SOFTWARE);
    SEEN(STUN_ATTRIBUTE_NOMINATION);
    return seen;
}

static void stun_request(StunAgent *agent, StunMessage *req)
{
    StunMessage resp;
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(61764)};
    from.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
    struct sockaddr_storage src;
    memset(&src, 0, sizeof(src));
    memcpy(&src, &from, sizeof(from));
    bool control = false; /* the WHIP client offers, so it controls */
    size_t len = sizeof(reply_buf);
    (void)stun_usage_ice_conncheck_priority(req);
    (void)stun_usage_ice_conncheck_use_candidate(req);
    StunUsageIceReturn r = stun_usage_ice_conncheck_create_reply(
        agent, req, &resp, reply_buf, &len, &src, sizeof(from), &control, 0x8000000000000000ull,
        STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    check_reply(len);
    stun_outcomes[r == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT ? 0 : 1]++;
}

static void stun_datagram(const uint8_t *buf, size_t len)
{
    /* libnice takes a datagram as STUN only when it holds one whole
     * message (agent.c); otherwise it is handed on as data. */
    int n = stun_message_validate_buffer_length(buf, len, true);
    if (n <= 0)
        return;
    check((size_t)n <= len, "STUN message longer than its datagram");
    if ((size_t)n != len)
        return;

    StunAgent agent;
    StunMessage msg;
    stun_agent_init(&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT |
                        STUN_AGENT_USAGE_CONSENT_FRESHNESS);
    StunValidationStatus st = stun_agent_validate(&agent, &msg, buf, len, validater, NULL);
    switch (st) {
    case STUN_VALIDATION_NOT_STUN:
    case STUN_VALIDATION_INCOMPLETE_STUN:
        stun_outcomes[2]++;
        return;
    case STUN_VALIDATION_SUCCESS:
        stun_outcomes[3]++;
        if (stun_message_get_class(&msg) == STUN_REQUEST &&
            stun_message_get_method(&msg) == STUN_BINDING)
            stun_request(&agent, &msg);
        break;
    case STUN_VALIDATION_UNMATCHED_RESPONSE: {
        /* No request of ours is pending; still read what a response
         * carries, as the conncheck code does for a matched one. */
        struct sockaddr_storage addr;
        socklen_t addrlen = sizeof(addr);
        int code = 0;
        stun_outcomes[4]++;
        if (stun_usage_ice_conncheck_process(&msg, &addr, &addrlen,
                                             STUN_USAGE_ICE_COMPATIBILITY_RFC5245) ==
            STUN_USAGE_ICE_RETURN_SUCCESS)
            check(addrlen <= sizeof(addr), "mapped address longer than its buffer");
        if (stun_message_find_error(&msg, &code) == STUN_MESSAGE_RETURN_SUCCESS)
            stun_outcomes[5]++;
        break;
    }
    case STUN_VALIDATION_UNAUTHORIZED:
        stun_outcomes[6]++;
        stun_error_reply(&agent, &msg, STUN_ERROR_UNAUTHORIZED);
        break;
    case STUN_VALIDATION_BAD_REQUEST:
    case STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST:
        stun_outcomes[7]++;
        stun_error_reply(&agent, &msg, STUN_ERROR_BAD_REQUEST);
        break;
    case STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE: {
        /* 420 listing the attributes, from the request's own list. */
        StunMessage resp;
        size_t rlen = stun_agent_build_unknown_attributes_error(&agent, &resp, reply_buf,
                                                                sizeof(reply_buf), &msg);
        stun_outcomes[8]++;
        check_reply(rlen);
        break;
    }
    default: /* unknown attributes in a response or indication, 403 */
        stun_outcomes[9]++;
        break;
    }
    stun_outcomes[10] += attributes_seen(&msg);
}

/* --- DTLS server ---------------------------------------------------------- */

static struct mr_dtls_identity *identity;

struct dtls_seen {
    unsigned sent, connected, failed, closed;
};

static void on_send(void *user, const uint8_t *buf, size_t len)
{
    struct dtls_seen *s = user;
    check(buf != NULL && len > 0 && len <= DTLS_MTU, "DTLS datagram empty or above the MTU");
    s->sent++;
}

static void on_connected(void *user)
{
    ((struct dtls_seen *)user)->connected++;
}

static void on_failed(void *user, const char *why)
{
    check(why != NULL && why[0] != '\0', "failure without a reason");
    ((struct dtls_seen *)user)->failed++;
}

static void on_closed(void *user)
{
    ((struct dtls_seen *)user)->closed++;
}

static const struct mr_dtls_ops dtls_ops = {on_send, on_connected, on_failed, on_closed};

static struct mr_dtls *dtls_server(struct dtls_seen *seen)
{
    struct mr_dtls *d;
    if (mr_dtls_new(identity, MR_DTLS_SERVER, &dtls_ops, seen, &d) < 0)
        return NULL;
    if (mr_dtls_set_remote_fingerprint(d, "sha-256", peer_digest, sizeof(peer_digest)) < 0 ||
        mr_dtls_start(d) < 0) {
        mr_dtls_free(d);
        return NULL;
    }
    return d;
}

static void dtls_datagram(struct mr_dtls *d, const struct dtls_seen *seen, const uint8_t *buf,
                          size_t len)
{
    unsigned failed_before = seen->failed;
    int rc = mr_dtls_handle_datagram(d, buf, len);
    (void)mr_dtls_timeout_us(d);
    check(seen->connected == 0 && !mr_dtls_is_connected(d),
          "handshake completed without the pinned certificate's key");
    check(seen->failed <= 1, "failure reported twice");
    if (failed_before)
        check(rc < 0, "datagram accepted after a failure");
}

/* --- RTP and RTCP --------------------------------------------------------- */

static void rtp_datagram(const uint8_t *buf, size_t len)
{
    struct mr_rtp_header h;
    struct mr_rtp_ext_list l;
    if (mr_rtp_parse(buf, len, &h) != 0)
        return;
    check((size_t)h.header_len + h.payload_len + h.padding_len == len,
          "RTP lengths do not add up");
    if (mr_rtp_ext_parse(buf, &h, &l) == 0)
        for (unsigned i = 0; i < l.count; i++)
            check((size_t)l.elems[i].offset + l.elems[i].len <= len,
                  "RTP extension past the packet");
}

static void rtcp_datagram(const uint8_t *buf, size_t len)
{
    struct mr_rtcp_iter it;
    struct mr_rtcp_pkt p;
    mr_rtcp_iter_init(&it, buf, len);
    while (mr_rtcp_next(&it, &p) == 1) {
        check(p.data >= buf && (size_t)(p.data - buf) + p.len <= len, "RTCP packet past the end");
        struct mr_rtcp_sr sr;
        struct mr_rtcp_rr rr;
        struct mr_rtcp_fb fb;
        (void)mr_rtcp_parse_sr(&p, &sr);
        (void)mr_rtcp_parse_rr(&p, &rr);
        if (mr_rtcp_parse_fb(&p, &fb) == 0) {
            int n = mr_rtcp_fir_count(&fb);
            for (int i = 0; i < n; i++) {
                uint32_t ssrc;
                uint8_t seq;
                check(mr_rtcp_fir_entry(&fb, (unsigned)i, &ssrc, &seq) == 0, "FIR entry lost");
            }
        }
    }
}

/* --- One input: datagrams in order ---------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!identity && mr_dtls_identity_new(&identity) < 0)
        abort();
    struct dtls_seen seen = {0, 0, 0, 0};
    struct mr_dtls *dtls = NULL;
    size_t pos = 0;
    while (size - pos >= 2) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (len > size - pos)
            len = size - pos;
        uint8_t *dgram = malloc(len ? len : 1);
        if (!dgram)
            break;
        memcpy(dgram, data + pos, len);
        pos += len;

        enum mr_demux_class c = mr_demux_classify(dgram, len);
        check_class(dgram, len, c);
        switch (c) {
        case MR_DEMUX_STUN:
            stun_datagram(dgram, len);
            break;
        case MR_DEMUX_DTLS:
            if (!dtls)
                dtls = dtls_server(&seen);
            if (dtls)
                dtls_datagram(dtls, &seen, dgram, len);
            break;
        case MR_DEMUX_RTP:
            rtp_datagram(dgram, len);
            break;
        case MR_DEMUX_RTCP:
            rtcp_datagram(dgram, len);
            break;
        case MR_DEMUX_ZRTP:
        case MR_DEMUX_TURN_CHANNEL:
        case MR_DEMUX_UNKNOWN:
            break; /* dropped by the relay (transport.c) */
        }
        free(dgram);
    }
    mr_dtls_free(dtls);
    return 0;
}
