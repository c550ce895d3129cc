/*
 * The direct SRTP sender (relay/srtp/srtp_send.h), read back by libsrtp:
 * every packet it protects must authenticate and decrypt in a libsrtp
 * session (mr_srtp's inbound side) keyed with the same master key and
 * salt, which checks the session keys, the IV, the tag and the rollover
 * counter the sender used. Exact bytes against libsrtp's reference packet
 * are in test_srtp.c (test_known_answer_aes_cm), through mr_srtp.
 *
 *  - headers with CSRCs, a header extension and padding: only the payload
 *    is encrypted, and all of it;
 *  - sequence numbers through a wrap, a first packet past 2^15, and a
 *    retransmission from before the wrap sent after it;
 *  - many SSRCs interleaved (the sender's table grows);
 *  - what is not RTP, or has no room for the tag, is refused untouched.
 */
#include "srtp/srtp_send.h"

#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "mr_test.h"
#include "srtp/srtp.h"

#define MAX_PKT 1400

struct pair {
    struct mr_srtp_sender *tx;
    struct mr_srtp *rx; /* libsrtp's inbound context under the same key */
};

static bool open_pair(struct pair *p)
{
    uint8_t key[MR_SRTP_MAX_KEY_SALT], other[MR_SRTP_MAX_KEY_SALT] = {0};
    for (unsigned i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(0x3c ^ (29 * i));
    p->tx = NULL;
    p->rx = NULL;
    CHECK_INT(mr_srtp_sender_new(key, &p->tx), MR_OK);
    CHECK_INT(mr_srtp_new(MR_SRTP_AES128_CM_SHA1_80, other, key, &p->rx), MR_OK);
    return p->tx && p->rx;
}

static void close_pair(struct pair *p)
{
    mr_srtp_sender_free(p->tx);
    mr_srtp_free(p->rx);
}

/* V=2, PT 96, optional CSRCs, a one-byte-header extension of ext_words
 * words, payload_len bytes and pad bytes of RTP padding. */
static size_t write_rtp(uint8_t *b, uint16_t seq, uint32_t ssrc, unsigned csrcs, unsigned ext_words,
                        size_t payload_len, unsigned pad)
{
    size_t n = 12;
    b[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | (ext_words ? 0x10 : 0) | csrcs);
    b[1] = 96;
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    memset(b + 4, 0x5a, 4);
    for (int i = 0; i < 4; i++)
        b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    for (unsigned c = 0; c < 4 * csrcs; c++)
        b[n++] = (uint8_t)(0xc0 + c);
    if (ext_words) {
        b[n++] = 0xbe;
        b[n++] = 0xde;
        b[n++] = 0;
        b[n++] = (uint8_t)ext_words;
        for (unsigned i = 0; i < 4 * ext_words; i++)
            b[n++] = (uint8_t)(0x10 + i);
    }
    for (size_t i = 0; i < payload_len; i++)
        b[n++] = (uint8_t)(seq * 7 + i);
    for (unsigned i = 1; i <= pad; i++)
        b[n++] = i == pad ? (uint8_t)pad : 0;
    return n;
}

/* Protects a copy of orig, checks what changed, has libsrtp read it back. */
static bool send_one(struct pair *p, const uint8_t *orig, size_t n, size_t header)
{
    uint8_t buf[MAX_PKT + MR_SRTP_MAX_OVERHEAD];
    memcpy(buf, orig, n);
    size_t len = n;
    if (mr_srtp_sender_protect(p->tx, buf, &len, sizeof(buf)) != MR_OK ||
        len != n + MR_SRTP_SEND_TAG_LEN || memcmp(buf, orig, header) != 0)
        return false;
    if (n - header >= 16 && memcmp(buf + header, orig + header, n - header) == 0)
        return false; /* the payload went out in the clear */
    return mr_srtp_unprotect_rtp(p->rx, buf, &len) == MR_OK && len == n &&
           memcmp(buf, orig, n) == 0;
}

static void test_header_shapes(void)
{
    struct pair p;
    if (!open_pair(&p))
        goto out;
    static const struct {
        unsigned csrcs, ext_words;
        size_t payload;
        unsigned pad;
    } shapes[] = {{0, 0, 1200, 0}, {0, 0, 0, 0},  {0, 0, 1, 0},  {3, 0, 160, 0},
                  {0, 2, 900, 0},  {2, 5, 37, 0}, {0, 1, 20, 4}, {15, 3, 1100, 0}};
    int ok = 0;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        uint8_t orig[MAX_PKT];
        size_t n = write_rtp(orig, (uint16_t)(500 + i), 0x01020304, shapes[i].csrcs,
                             shapes[i].ext_words, shapes[i].payload, shapes[i].pad);
        size_t header =
            12 + 4 * shapes[i].csrcs + (shapes[i].ext_words ? 4 + 4 * shapes[i].ext_words : 0);
        bool fine = send_one(&p, orig, n, header);
        if (!fine)
            printf("  shape %zu (csrcs %u, extension %u words, payload %zu, pad %u) failed\n", i,
                   shapes[i].csrcs, shapes[i].ext_words, shapes[i].payload, shapes[i].pad);
        ok += fine;
    }
    CHECK_INT(ok, (int)(sizeof(shapes) / sizeof(shapes[0])));
out:
    close_pair(&p);
}

/* Sequence numbers 65000 .. 65535, 0 .. 499 except 65533, then 65533: the
 * wrap moves the rollover counter to 1, the late packet goes out under 0. */
static void test_wrap_and_late_retransmission(void)
{
    struct pair p;
    if (!open_pair(&p))
        goto out;
    int ok = 0, sent = 0;
    for (uint32_t i = 65000; i < 65536 + 500; i++) {
        uint16_t seq = (uint16_t)i;
        if (seq == 65533)
            continue;
        uint8_t orig[MAX_PKT];
        size_t n = write_rtp(orig, seq, 0xfeedface, 0, 0, 200, 0);
        ok += send_one(&p, orig, n, 12);
        sent++;
    }
    CHECK_INT(ok, sent);
    uint8_t orig[MAX_PKT];
    size_t n = write_rtp(orig, 65533, 0xfeedface, 0, 0, 200, 0);
    CHECK(send_one(&p, orig, n, 12));
out:
    close_pair(&p);
}

/* A stream whose first sequence number is past 2^15 starts at rollover
 * counter 0 (as libsrtp's receiver assumes), and wraps from there. */
static void test_first_seq_high(void)
{
    struct pair p;
    if (!open_pair(&p))
        goto out;
    int ok = 0;
    for (uint32_t i = 60000; i < 60000 + 8000; i++) {
        uint8_t orig[MAX_PKT];
        size_t n = write_rtp(orig, (uint16_t)i, 0x0badcafe, 0, 0, 100, 0);
        ok += send_one(&p, orig, n, 12);
    }
    CHECK_INT(ok, 8000);
out:
    close_pair(&p);
}

static void test_many_ssrcs(void)
{
    struct pair p;
    if (!open_pair(&p))
        goto out;
    int ok = 0;
    for (uint16_t seq = 10; seq < 30; seq++)
        for (uint32_t k = 0; k < 24; k++) {
            uint8_t orig[MAX_PKT];
            size_t n = write_rtp(orig, seq, 0x10000000u + 977u * k, 0, 0, 60, 0);
            ok += send_one(&p, orig, n, 12);
        }
    CHECK_INT(ok, 20 * 24);
out:
    close_pair(&p);
}

static void test_refused(void)
{
    struct pair p;
    if (!open_pair(&p))
        goto out;
    uint8_t orig[MAX_PKT], buf[MAX_PKT + MR_SRTP_MAX_OVERHEAD];
    size_t n = write_rtp(orig, 1, 0x01020304, 0, 2, 100, 0);

    memcpy(buf, orig, n);
    buf[0] = (uint8_t)((buf[0] & 0x3f) | 0x40); /* version 1 */
    size_t len = n;
    CHECK_INT(mr_srtp_sender_protect(p.tx, buf, &len, sizeof(buf)), MR_EPARSE);
    CHECK_INT(len, n);

    len = 11;
    memcpy(buf, orig, n);
    CHECK_INT(mr_srtp_sender_protect(p.tx, buf, &len, sizeof(buf)), MR_EPARSE);

    /* The extension claims more words than the packet has. */
    memcpy(buf, orig, n);
    buf[15] = 200;
    len = n;
    CHECK_INT(mr_srtp_sender_protect(p.tx, buf, &len, sizeof(buf)), MR_EPARSE);
    CHECK_MEM(buf + 16, orig + 16, n - 16);

    /* Fifteen CSRCs announced in a 40-byte packet. */
    memcpy(buf, orig, n);
    buf[0] = 0x8f;
    len = 40;
    CHECK_INT(mr_srtp_sender_protect(p.tx, buf, &len, sizeof(buf)), MR_EPARSE);

    /* No room for the tag. */
    memcpy(buf, orig, n);
    len = n;
    CHECK_INT(mr_srtp_sender_protect(p.tx, buf, &len, n + MR_SRTP_SEND_TAG_LEN - 1), MR_ENOSPC);
    CHECK_MEM(buf, orig, n);
    CHECK_INT(len, n);
out:
    close_pair(&p);
}

MR_TEST_MAIN(MR_TEST(test_header_shapes), MR_TEST(test_wrap_and_late_retransmission),
             MR_TEST(test_first_seq_high), MR_TEST(test_many_ssrcs), MR_TEST(test_refused))
