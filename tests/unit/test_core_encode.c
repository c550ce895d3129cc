/*
 * Tests for relay/core/encode.c: lowercase hex, and unpadded base64url
 * (RFC 4648 §5) as JWT uses it (RFC 7515 §2). The base64 vectors are those
 * of RFC 4648 §10 with the padding removed; their alphabet has no '+' or
 * '/', so the url-alphabet characters get vectors of their own.
 */
#include <stdint.h>

#include "core/encode.h"
#include "core/error.h"
#include "mr_test.h"

static void test_hex(void)
{
    char out[64];
    static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    mr_hex_encode(bytes, sizeof(bytes), out);
    CHECK_STR(out, "00017f80abcdefff");
    memset(out, 'x', sizeof(out));
    mr_hex_encode(bytes, 0, out);
    CHECK_STR(out, "");
    mr_hex_encode(bytes + 4, 1, out);
    CHECK_STR(out, "ab");
}

static const struct {
    const char *plain, *encoded;
} rfc4648[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void test_b64url_rfc4648(void)
{
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const char *plain = rfc4648[i].plain, *enc = rfc4648[i].encoded;
        char out[32];
        uint8_t dec[32];
        CHECK_INT(mr_b64url_encoded_len(strlen(plain)), strlen(enc));
        CHECK_INT(mr_b64url_encode((const uint8_t *)plain, strlen(plain), out, sizeof(out)),
                  strlen(enc));
        CHECK_STR(out, enc);
        CHECK_INT(mr_b64url_decode(enc, strlen(enc), dec, sizeof(dec)), strlen(plain));
        CHECK_MEM(dec, plain, strlen(plain));
    }
}

/* The two characters where base64url differs from base64: 62 is '-' (not
 * '+') and 63 is '_' (not '/'). */
static void test_b64url_alphabet(void)
{
    static const uint8_t b1[] = {0xfb, 0xff, 0xbf};       /* 111110 111111 111110 111111 */
    static const uint8_t b2[] = {0xfb, 0xff};             /* base64 "+/8=" */
    static const uint8_t b3[] = {0x03, 0xef, 0xff, 0xf9}; /* base64 "A+//+Q==" */
    char out[16];
    uint8_t dec[16];
    CHECK_INT(mr_b64url_encode(b1, sizeof(b1), out, sizeof(out)), 4);
    CHECK_STR(out, "-_-_");
    CHECK_INT(mr_b64url_encode(b2, sizeof(b2), out, sizeof(out)), 3);
    CHECK_STR(out, "-_8");
    CHECK_INT(mr_b64url_encode(b3, sizeof(b3), out, sizeof(out)), 6);
    CHECK_STR(out, "A-__-Q");
    CHECK_INT(mr_b64url_decode("A-__-Q", 6, dec, sizeof(dec)), 4);
    CHECK_MEM(dec, b3, 4);

    /* Every byte value, and every length from 0 to 100, round-trips. */
    uint8_t all[256], back[256];
    char enc[400];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    int n = mr_b64url_encode(all, sizeof(all), enc, sizeof(enc));
    CHECK_INT(n, mr_b64url_encoded_len(sizeof(all)));
    CHECK(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          (size_t)n);
    CHECK_INT(mr_b64url_decode(enc, (size_t)n, back, sizeof(back)), 256);
    CHECK_MEM(back, all, 256);
    int bad = 0;
    for (size_t len = 0; len <= 100; len++) {
        n = mr_b64url_encode(all + 100, len, enc, sizeof(enc));
        if (n != (int)mr_b64url_encoded_len(len) ||
            mr_b64url_decode(enc, (size_t)n, back, sizeof(back)) != (int)len ||
            memcmp(back, all + 100, len) != 0)
            bad++;
    }
    CHECK_INT(bad, 0);
}

static void test_b64url_decode_rejects(void)
{
    uint8_t dec[32];
    /* Padding is refused, as JWT requires. */
    CHECK_INT(mr_b64url_decode("Zg==", 4, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm8=", 4, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zg=", 3, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("====", 4, dec, sizeof(dec)), MR_EPARSE);
    /* Characters of the standard alphabet and others. */
    CHECK_INT(mr_b64url_decode("+/8", 3, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm9v Yg", 7, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm9v\nYg", 7, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm9.", 4, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm\0v", 4, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm\xc3\xa9", 4, dec, sizeof(dec)), MR_EPARSE);
    /* A length of 1 mod 4 cannot come from any byte string. */
    CHECK_INT(mr_b64url_decode("Z", 1, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm9vY", 5, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm9vYmFyZ", 9, dec, sizeof(dec)), MR_EPARSE);
    /* Non-zero trailing bits: "Zh" would decode to "f" like "Zg" does. */
    CHECK_INT(mr_b64url_decode("Zh", 2, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zv", 2, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm8", 3, dec, sizeof(dec)), 2);
    CHECK_INT(mr_b64url_decode("Zm9", 3, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm-", 3, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm_", 3, dec, sizeof(dec)), MR_EPARSE);
    CHECK_INT(mr_b64url_decode("Zm9vYmF", 7, dec, sizeof(dec)), MR_EPARSE);
    /* Only len bytes are read: what follows does not matter. */
    CHECK_INT(mr_b64url_decode("Zm9v!!!", 4, dec, sizeof(dec)), 3);
    CHECK_INT(mr_b64url_decode("", 0, dec, sizeof(dec)), 0);
}

static void test_enospc(void)
{
    char out[16];
    uint8_t dec[16];
    /* Encoding needs room for the NUL. */
    CHECK_INT(mr_b64url_encode((const uint8_t *)"foobar", 6, out, 8), MR_ENOSPC);
    CHECK_INT(mr_b64url_encode((const uint8_t *)"foobar", 6, out, 9), 8);
    CHECK_INT(mr_b64url_encode((const uint8_t *)"f", 1, out, 2), MR_ENOSPC);
    CHECK_INT(mr_b64url_encode((const uint8_t *)"", 0, out, 0), MR_ENOSPC);
    CHECK_INT(mr_b64url_encode((const uint8_t *)"", 0, out, 1), 0);
    /* Decoding needs exactly the decoded length. */
    CHECK_INT(mr_b64url_decode("Zm9vYmFy", 8, dec, 5), MR_ENOSPC);
    CHECK_INT(mr_b64url_decode("Zm9vYmFy", 8, dec, 6), 6);
    CHECK_INT(mr_b64url_decode("Zm9vYmE", 7, dec, 4), MR_ENOSPC);
    CHECK_INT(mr_b64url_decode("Zm9vYmE", 7, dec, 5), 5);
    CHECK_INT(mr_b64url_decode("Zg", 2, dec, 0), MR_ENOSPC);
    /* Nothing is written past out_size (the guard byte stays). */
    memset(dec, 0xee, sizeof(dec));
    CHECK_INT(mr_b64url_decode("Zm9vYmFy", 8, dec, 6), 6);
    CHECK_INT(dec[6], 0xee);
}

static void test_encoded_len(void)
{
    static const size_t want[] = {0, 2, 3, 4, 6, 7, 8, 10};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        CHECK_INT(mr_b64url_encoded_len(i), want[i]);
    CHECK_INT(mr_b64url_encoded_len(32), 43); /* an HS256 MAC */
}

MR_TEST_MAIN(MR_TEST(test_hex), MR_TEST(test_b64url_rfc4648), MR_TEST(test_b64url_alphabet),
             MR_TEST(test_b64url_decode_rejects), MR_TEST(test_enospc), MR_TEST(test_encoded_len))
