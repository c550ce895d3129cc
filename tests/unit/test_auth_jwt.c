/*
 * Tests for signaling/auth/jwt.c: HS256 tokens (RFC 7519, RFC 7515 §7.1,
 * RFC 7518 §3.2) and the role rules of ARCHITECTURE.md §1 "Tokens".
 *
 * Most refusals are tested with tokens crafted here, byte by byte, and
 * signed with a correct HS256 MAC, so that the one thing wrong with each
 * token is the thing under test (a wrong alg must be refused even when the
 * MAC over it is right).
 */
#include <limits.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt.h"
#include "core/encode.h"
#include "core/error.h"
#include "mr_test.h"

#define NOW          INT64_C(1700000000)
#define HS256_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define GOOD_PAYLOAD                                                                               \
    "{\"room\":\"ward-7\",\"role\":\"clinic\",\"sub\":\"nurse-1\",\"exp\":1700003600}"

static const uint8_t secret[] = "unit-test-secret-0123456789abcdef-0123";
#define SECRET_LEN (sizeof(secret) - 1)

/* Appends the unpadded base64url of len bytes at s to out. */
static size_t append_b64(char *out, size_t o, size_t cap, const void *s, size_t len)
{
    int n = mr_b64url_encode(s, len, out + o, cap - o);
    if (n < 0) {
        fprintf(stderr, "append_b64: buffer too small\n");
        abort();
    }
    return o + (size_t)n;
}

/* Builds b64(header) "." b64(payload) "." sig, where sig is the given
 * base64url text, or, when sig is NULL, the HS256 MAC under key. */
static size_t craft_full(const char *header, size_t header_len, const char *payload,
                         size_t payload_len, const uint8_t *key, size_t key_len, const char *sig,
                         char *out, size_t cap)
{
    size_t o = append_b64(out, 0, cap, header, header_len);
    out[o++] = '.';
    o = append_b64(out, o, cap, payload, payload_len);
    if (sig) {
        o += (size_t)snprintf(out + o, cap - o, ".%s", sig);
        return o;
    }
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)out, o, mac, &mac_len);
    out[o++] = '.';
    return append_b64(out, o, cap, mac, mac_len);
}

/* The usual case: NUL-terminated JSON, signed with the test secret. */
static size_t craft(const char *header, const char *payload, char *out, size_t cap)
{
    return craft_full(header, strlen(header), payload, strlen(payload), secret, SECRET_LEN, NULL,
                      out, cap);
}

static int verify_at(const char *tok, int64_t now, struct mr_claims *c, char *err, size_t err_len)
{
    return mr_jwt_verify(tok, strlen(tok), secret, SECRET_LEN, now, 0, c, err, err_len);
}

/* Verifies a crafted token at NOW; returns the code and leaves the reason
 * in err. */
static int verify_crafted(const char *header, const char *payload, char *err, size_t err_len)
{
    char tok[MR_JWT_MAX_LEN * 2];
    struct mr_claims c;
    craft(header, payload, tok, sizeof(tok));
    return verify_at(tok, NOW, &c, err, err_len);
}

static void claims_set(struct mr_claims *c, const char *room, enum mr_role role, const char *sub,
                       int64_t exp)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->room, sizeof(c->room), "%s", room);
    c->role = role;
    snprintf(c->sub, sizeof(c->sub), "%s", sub);
    c->exp = exp;
}

static void test_round_trip(void)
{
    static const enum mr_role roles[] = {MR_ROLE_CLINIC, MR_ROLE_EXPERT, MR_ROLE_OPERATOR,
                                         MR_ROLE_VIEWER};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        struct mr_claims in, out;
        char tok[1024], err[128];
        claims_set(&in, i == 2 ? "*" : "Room_1-a", roles[i], "dr.mueller@icu-3.example:7+x_y-z",
                   NOW + 60);
        int n = mr_jwt_sign(&in, secret, SECRET_LEN, tok, sizeof(tok));
        CHECK(n > 0);
        CHECK_INT(strlen(tok), n);
        CHECK_INT(mr_jwt_verify(tok, (size_t)n, secret, SECRET_LEN, NOW, 0, &out, err, sizeof(err)),
                  0);
        CHECK_STR(err, "");
        CHECK_STR(out.room, in.room);
        CHECK_INT(out.role, in.role);
        CHECK_STR(out.sub, in.sub);
        CHECK_INT(out.exp, in.exp);
    }
}

/* The header is fixed, the payload carries exactly the four claims (no iat). */
static void test_sign_format(void)
{
    struct mr_claims c;
    char tok[1024];
    uint8_t dec[512];
    claims_set(&c, "ward-7", MR_ROLE_EXPERT, "dr-lee", 2000000000);
    int n = mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK(n > 0);
    const char *dot1 = strchr(tok, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    CHECK(dot1 && dot2 && !strchr(dot2 + 1, '.'));
    if (!dot1 || !dot2)
        return;
    int h = mr_b64url_decode(tok, (size_t)(dot1 - tok), dec, sizeof(dec));
    CHECK_INT(h, strlen(HS256_HEADER));
    CHECK_MEM(dec, HS256_HEADER, strlen(HS256_HEADER));
    int p = mr_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), dec, sizeof(dec) - 1);
    CHECK(p > 0);
    dec[p > 0 ? p : 0] = '\0';
    CHECK_STR((char *)dec,
              "{\"room\":\"ward-7\",\"role\":\"expert\",\"sub\":\"dr-lee\",\"exp\":2000000000}");
    CHECK_INT(strlen(dot2 + 1), 43);
}

static void test_sign_errors(void)
{
    struct mr_claims c;
    char tok[1024];
    claims_set(&c, "ward-7", MR_ROLE_VIEWER, "v", NOW);
    int n = mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK(n > 0);
    /* The NUL needs a byte of its own. */
    CHECK_INT(mr_jwt_sign(&c, secret, SECRET_LEN, tok, (size_t)n), MR_ENOSPC);
    CHECK_INT(mr_jwt_sign(&c, secret, SECRET_LEN, tok, (size_t)n + 1), n);
    CHECK_INT(mr_jwt_sign(&c, secret, SECRET_LEN, tok, 0), MR_ENOSPC);
    CHECK_INT(mr_jwt_sign(&c, secret, 0, tok, sizeof(tok)), MR_EINVAL);
    CHECK_INT(mr_jwt_sign(&c, NULL, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    CHECK_INT(mr_jwt_sign(NULL, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    CHECK_INT(mr_jwt_sign(&c, secret, SECRET_LEN, NULL, 100), MR_EINVAL);

    /* Claims that verify would refuse are never signed. */
    struct mr_claims bad = c;
    snprintf(bad.room, sizeof(bad.room), "a/b");
    CHECK_INT(mr_jwt_sign(&bad, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    bad = c;
    bad.room[0] = '\0';
    CHECK_INT(mr_jwt_sign(&bad, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    bad = c;
    memset(bad.room, 'r', sizeof(bad.room)); /* not NUL-terminated */
    CHECK_INT(mr_jwt_sign(&bad, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    bad = c;
    bad.sub[0] = '\0';
    CHECK_INT(mr_jwt_sign(&bad, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    bad = c;
    snprintf(bad.sub, sizeof(bad.sub), "line\nbreak");
    CHECK_INT(mr_jwt_sign(&bad, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    bad = c;
    snprintf(bad.sub, sizeof(bad.sub), "bad-utf8-\xff");
    CHECK_INT(mr_jwt_sign(&bad, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
    bad = c;
    bad.role = (enum mr_role)7;
    CHECK_INT(mr_jwt_sign(&bad, secret, SECRET_LEN, tok, sizeof(tok)), MR_EINVAL);
}

/* [auth] max_token_ttl: a token may not claim to live longer than the
 * server allows, however far its exp (2^63 - 1 included); the refusal still
 * says who it was. */
static void test_lifetime_cap(void)
{
    struct mr_claims c, out;
    char tok[1024], err[128];
    const int64_t cap = 86400;
    claims_set(&c, "ward-7", MR_ROLE_CLINIC, "cart-7", NOW + cap + MR_JWT_LEEWAY_S);
    int n = mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK_INT(mr_jwt_verify(tok, (size_t)n, secret, SECRET_LEN, NOW, cap, &out, err, sizeof(err)),
              0);
    claims_set(&c, "ward-7", MR_ROLE_CLINIC, "cart-7", NOW + cap + MR_JWT_LEEWAY_S + 1);
    n = mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK_INT(mr_jwt_verify(tok, (size_t)n, secret, SECRET_LEN, NOW, cap, &out, err, sizeof(err)),
              MR_EAUTH);
    CHECK_STR(err, "token lifetime exceeds the server's maximum ([auth] max_token_ttl)");
    CHECK_STR(out.sub, "cart-7");
    /* No cap: the same token passes. */
    CHECK_INT(mr_jwt_verify(tok, (size_t)n, secret, SECRET_LEN, NOW, 0, &out, err, sizeof(err)),
              0);
    claims_set(&c, "ward-7", MR_ROLE_CLINIC, "cart-7", INT64_MAX);
    n = mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK(n > 0);
    CHECK_INT(mr_jwt_verify(tok, (size_t)n, secret, SECRET_LEN, NOW, cap, &out, err, sizeof(err)),
              MR_EAUTH);
    /* Near the end of time the sum must not overflow either. */
    CHECK_INT(mr_jwt_verify(tok, (size_t)n, secret, SECRET_LEN, INT64_MAX - 10, cap, &out, err,
                            sizeof(err)),
              0);
    /* A bad signature says nothing about who. */
    tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A';
    CHECK_INT(mr_jwt_verify(tok, (size_t)n, secret, SECRET_LEN, NOW, cap, &out, err, sizeof(err)),
              MR_EAUTH);
    CHECK_STR(out.sub, "");
}

static void test_expiry(void)
{
    struct mr_claims c, out;
    char tok[1024], err[128];

    /* exp itself and up to MR_JWT_LEEWAY_S seconds past it still pass. */
    for (int64_t past = 0; past <= MR_JWT_LEEWAY_S; past++) {
        claims_set(&c, "ward-7", MR_ROLE_VIEWER, "v", NOW - past);
        mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
        CHECK_INT(verify_at(tok, NOW, &out, err, sizeof(err)), 0);
    }
    claims_set(&c, "ward-7", MR_ROLE_VIEWER, "v", NOW - MR_JWT_LEEWAY_S - 1);
    mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &out, err, sizeof(err)), MR_EEXPIRED);
    CHECK_STR(err, "token expired");
    /* The signature was good: out holds who it was, for the audit trail. */
    CHECK_STR(out.room, "ward-7");
    CHECK_STR(out.sub, "v");

    claims_set(&c, "ward-7", MR_ROLE_VIEWER, "v", NOW - 86400);
    mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &out, err, sizeof(err)), MR_EEXPIRED);

    /* The extremes of int64_t must not overflow the comparison. */
    CHECK_INT(verify_crafted(HS256_HEADER,
                             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\","
                             "\"exp\":9223372036854775807}",
                             err, sizeof(err)),
              0);
    CHECK_INT(verify_crafted(HS256_HEADER,
                             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\","
                             "\"exp\":-9223372036854775808}",
                             err, sizeof(err)),
              MR_EEXPIRED);
    claims_set(&c, "ward-7", MR_ROLE_VIEWER, "v", INT64_MAX - 2);
    mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK_INT(verify_at(tok, INT64_MAX, &out, err, sizeof(err)), 0);
    CHECK_INT(verify_at(tok, INT64_MIN, &out, err, sizeof(err)), 0);
}

static void test_nbf(void)
{
    char err[128], payload[256];
    snprintf(payload, sizeof(payload),
             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\",\"exp\":%lld,\"nbf\":%lld}",
             (long long)(NOW + 60), (long long)(NOW + MR_JWT_LEEWAY_S));
    CHECK_INT(verify_crafted(HS256_HEADER, payload, err, sizeof(err)), 0);
    snprintf(payload, sizeof(payload),
             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\",\"exp\":%lld,\"nbf\":%lld}",
             (long long)(NOW + 60), (long long)(NOW + MR_JWT_LEEWAY_S + 1));
    CHECK_INT(verify_crafted(HS256_HEADER, payload, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "token not yet valid");
    CHECK_INT(verify_crafted(HS256_HEADER,
                             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\","
                             "\"exp\":1800000000,\"nbf\":\"1\"}",
                             err, sizeof(err)),
              MR_EAUTH);
    CHECK_INT(verify_crafted(HS256_HEADER,
                             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\","
                             "\"exp\":1800000000,\"nbf\":1.5}",
                             err, sizeof(err)),
              MR_EAUTH);
    /* A huge nbf near INT64_MAX, a clock near INT64_MAX: no overflow. */
    struct mr_claims c;
    char tok[512];
    craft(HS256_HEADER,
          "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\","
          "\"exp\":9223372036854775807,\"nbf\":9223372036854775807}",
          tok, sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_INT(verify_at(tok, INT64_MAX, &c, err, sizeof(err)), 0);
}

/* Each header is signed with a correct HS256 MAC: only its alg is wrong. */
static void test_wrong_alg(void)
{
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"HS384\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"ES256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS256 \",\"typ\":\"JWT\"}",
        "{\"alg\":\"\",\"typ\":\"JWT\"}",
        "{\"alg\":null,\"typ\":\"JWT\"}",
        "{\"alg\":256,\"typ\":\"JWT\"}",
        "{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}",
        "{\"typ\":\"JWT\"}",
        "{\"ALG\":\"HS256\"}",
        "{}",
    };
    char err[128];
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        CHECK_INT(verify_crafted(headers[i], GOOD_PAYLOAD, err, sizeof(err)), MR_EAUTH);
        CHECK_STR(err, "unsupported alg");
    }

    /* The classic "alg":"none" token has an empty signature part. */
    char tok[512];
    struct mr_claims c;
    craft_full("{\"alg\":\"none\",\"typ\":\"JWT\"}", 26, GOOD_PAYLOAD, strlen(GOOD_PAYLOAD), NULL,
               0, "", tok, sizeof(tok));
    CHECK(tok[strlen(tok) - 1] == '.');
    CHECK_INT(verify_at(tok, NOW, &c, err, sizeof(err)), MR_EAUTH);
    /* ... and without the trailing dot it has two parts. */
    tok[strlen(tok) - 1] = '\0';
    CHECK_INT(verify_at(tok, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "malformed token");

    /* An HS384 token with an HS384-sized MAC is refused on alg too. */
    craft_full("{\"alg\":\"HS384\"}", 15, GOOD_PAYLOAD, strlen(GOOD_PAYLOAD), NULL, 0,
               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", tok,
               sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "unsupported alg");
}

static void test_header_rules(void)
{
    char err[128];
    /* typ is optional, but when present it must be "JWT". */
    CHECK_INT(verify_crafted("{\"alg\":\"HS256\"}", GOOD_PAYLOAD, err, sizeof(err)), 0);
    CHECK_INT(verify_crafted("{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"k1\"}", GOOD_PAYLOAD,
                             err, sizeof(err)),
              0);
    CHECK_INT(verify_crafted("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", GOOD_PAYLOAD, err, sizeof(err)),
              MR_EAUTH);
    CHECK_INT(verify_crafted("{\"alg\":\"HS256\",\"typ\":1}", GOOD_PAYLOAD, err, sizeof(err)),
              MR_EAUTH);
    /* crit names extensions we would have to understand (RFC 7515 §4.1.11). */
    CHECK_INT(verify_crafted("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}", GOOD_PAYLOAD, err,
                             sizeof(err)),
              MR_EAUTH);
    /* The header must be a JSON object. */
    CHECK_INT(verify_crafted("[\"HS256\"]", GOOD_PAYLOAD, err, sizeof(err)), MR_EAUTH);
    CHECK_INT(verify_crafted("\"HS256\"", GOOD_PAYLOAD, err, sizeof(err)), MR_EAUTH);
    CHECK_INT(verify_crafted("{\"alg\":\"HS256\"", GOOD_PAYLOAD, err, sizeof(err)), MR_EAUTH);
    CHECK_INT(verify_crafted("{\"alg\":\"HS256\"} x", GOOD_PAYLOAD, err, sizeof(err)), MR_EAUTH);
    CHECK_INT(
        verify_crafted("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", GOOD_PAYLOAD, err, sizeof(err)),
        MR_EAUTH);
    /* A NUL inside a JSON string could make "HS256\0junk" look like HS256. */
    CHECK_INT(verify_crafted("{\"alg\":\"HS256\\u0000x\"}", GOOD_PAYLOAD, err, sizeof(err)),
              MR_EAUTH);
}

static void test_tampered_payload(void)
{
    char good[512], evil[512], err[128];
    struct mr_claims c;
    craft(HS256_HEADER, GOOD_PAYLOAD, good, sizeof(good));
    CHECK_INT(verify_at(good, NOW, &c, err, sizeof(err)), 0);

    /* Swap in a payload that makes the holder an operator of every room,
     * keeping the original header and signature. */
    static const char evil_payload[] =
        "{\"room\":\"*\",\"role\":\"operator\",\"sub\":\"nurse-1\",\"exp\":1700003600}";
    const char *sig = strrchr(good, '.') + 1;
    craft_full(HS256_HEADER, strlen(HS256_HEADER), evil_payload, strlen(evil_payload), NULL, 0, sig,
               evil, sizeof(evil));
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "bad signature");
    CHECK_STR(c.room, "");

    /* Change one character of the payload part. */
    size_t p = (size_t)(strchr(good, '.') - good) + 5;
    snprintf(evil, sizeof(evil), "%s", good);
    evil[p] = evil[p] == 'A' ? 'B' : 'A';
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "bad signature");

    /* And of the header part: the MAC covers it too. */
    snprintf(evil, sizeof(evil), "%s", good);
    evil[3] = evil[3] == 'A' ? 'B' : 'A';
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
}

static void test_tampered_signature(void)
{
    char good[512], evil[512], err[128];
    struct mr_claims c;
    size_t n = craft(HS256_HEADER, GOOD_PAYLOAD, good, sizeof(good));
    char *sig = strrchr(good, '.') + 1;
    size_t prefix = (size_t)(sig - good);
    uint8_t mac[32];
    CHECK_INT(mr_b64url_decode(sig, strlen(sig), mac, sizeof(mac)), 32);

    /* Every single-bit change of the MAC is refused. */
    int refused = 0;
    for (unsigned bit = 0; bit < 256; bit++) {
        mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memcpy(evil, good, prefix);
        mr_b64url_encode(mac, sizeof(mac), evil + prefix, sizeof(evil) - prefix);
        mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (verify_at(evil, NOW, &c, err, sizeof(err)) == MR_EAUTH &&
            strcmp(err, "bad signature") == 0)
            refused++;
    }
    CHECK_INT(refused, 256);

    /* The last character carries 4 bits of the MAC and 2 bits of padding;
     * setting the padding bits must not give a second valid spelling. */
    snprintf(evil, sizeof(evil), "%s", good);
    CHECK_INT(n, strlen(good));
    char *last = &evil[n - 1];
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr(alphabet, *last) - alphabet);
    *last = alphabet[v | 1];
    if (v != (v | 1))
        CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    *last = alphabet[v | 2];
    if (v != (v | 2))
        CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
}

static void test_signature_length(void)
{
    char good[512], evil[600], err[128];
    struct mr_claims c;
    craft(HS256_HEADER, GOOD_PAYLOAD, good, sizeof(good));
    size_t n = strlen(good);

    /* One character short (42) and a truncated MAC (first 16 bytes). */
    snprintf(evil, sizeof(evil), "%.*s", (int)(n - 1), good);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "bad signature");
    size_t sig_at = (size_t)(strrchr(good, '.') - good) + 1;
    snprintf(evil, sizeof(evil), "%.*s", (int)(sig_at + 22), good);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    /* One character and a whole HS512-sized MAC too long. */
    snprintf(evil, sizeof(evil), "%sA", good);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    snprintf(evil, sizeof(evil), "%s%s", good, strrchr(good, '.') + 1);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "bad signature");
    snprintf(evil, sizeof(evil), "%.*sA", (int)sig_at, good);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
}

static void test_wrong_secret(void)
{
    char tok[512], err[128];
    struct mr_claims c;
    craft(HS256_HEADER, GOOD_PAYLOAD, tok, sizeof(tok));
    static const uint8_t other[] = "another-secret-of-sufficient-length-xyz";
    CHECK_INT(mr_jwt_verify(tok, strlen(tok), other, sizeof(other) - 1, NOW, 0, &c, err, sizeof(err)),
              MR_EAUTH);
    CHECK_STR(err, "bad signature");
    /* A prefix of the secret, and the secret with its last byte changed. */
    CHECK_INT(mr_jwt_verify(tok, strlen(tok), secret, SECRET_LEN - 1, NOW, 0, &c, err, sizeof(err)),
              MR_EAUTH);
    uint8_t near[SECRET_LEN];
    memcpy(near, secret, SECRET_LEN);
    near[SECRET_LEN - 1] ^= 1;
    CHECK_INT(mr_jwt_verify(tok, strlen(tok), near, SECRET_LEN, NOW, 0, &c, err, sizeof(err)),
              MR_EAUTH);
    CHECK_INT(mr_jwt_verify(tok, strlen(tok), secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), 0);
}

static void test_rooms(void)
{
    struct mr_claims c, out;
    char tok[512], err[128];
    claims_set(&c, "ward-7", MR_ROLE_EXPERT, "e", NOW + 60);
    mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &out, err, sizeof(err)), 0);
    CHECK(mr_claims_cover_room(&out, "ward-7"));
    CHECK(!mr_claims_cover_room(&out, "ward-8"));
    CHECK(!mr_claims_cover_room(&out, "Ward-7"));
    CHECK(!mr_claims_cover_room(&out, "ward-77"));
    CHECK(!mr_claims_cover_room(&out, "ward"));
    CHECK(!mr_claims_cover_room(&out, "*"));
    CHECK(!mr_claims_cover_room(&out, NULL));
    CHECK(!mr_claims_cover_room(NULL, "ward-7"));

    claims_set(&c, "*", MR_ROLE_OPERATOR, "op", NOW + 60);
    mr_jwt_sign(&c, secret, SECRET_LEN, tok, sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &out, err, sizeof(err)), 0);
    CHECK_STR(out.room, "*");
    CHECK(mr_claims_cover_room(&out, "ward-7"));
    CHECK(mr_claims_cover_room(&out, "any_room"));
    /* The wildcard covers room names, not arbitrary strings. */
    CHECK(!mr_claims_cover_room(&out, ""));
    CHECK(!mr_claims_cover_room(&out, "../etc"));
    CHECK(!mr_claims_cover_room(&out, "a b"));
}

#define CLAIMS(room, role, sub, exp)                                                               \
    "{\"room\":" room ",\"role\":" role ",\"sub\":" sub ",\"exp\":" exp "}"

static void test_bad_claims(void)
{
    static const struct {
        const char *payload, *why;
    } cases[] = {
        /* room */
        {CLAIMS("\"a/b\"", "\"viewer\"", "\"v\"", "1800000000"), "missing or invalid room claim"},
        {CLAIMS("\"\"", "\"viewer\"", "\"v\"", "1800000000"), "missing or invalid room claim"},
        {CLAIMS("\"a.b\"", "\"viewer\"", "\"v\"", "1800000000"), "missing or invalid room claim"},
        {CLAIMS("\"**\"", "\"viewer\"", "\"v\"", "1800000000"), "missing or invalid room claim"},
        {CLAIMS("7", "\"viewer\"", "\"v\"", "1800000000"), "missing or invalid room claim"},
        {CLAIMS("[\"r\"]", "\"viewer\"", "\"v\"", "1800000000"), "missing or invalid room claim"},
        {CLAIMS("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
                "\"viewer\"", "\"v\"", "1800000000"),
         "missing or invalid room claim"},
        /* role */
        {CLAIMS("\"r\"", "\"admin\"", "\"v\"", "1800000000"), "missing or invalid role claim"},
        {CLAIMS("\"r\"", "\"Operator\"", "\"v\"", "1800000000"), "missing or invalid role claim"},
        {CLAIMS("\"r\"", "\"viewer \"", "\"v\"", "1800000000"), "missing or invalid role claim"},
        {CLAIMS("\"r\"", "\"\"", "\"v\"", "1800000000"), "missing or invalid role claim"},
        {CLAIMS("\"r\"", "3", "\"v\"", "1800000000"), "missing or invalid role claim"},
        {CLAIMS("\"r\"", "[\"operator\"]", "\"v\"", "1800000000"), "missing or invalid role claim"},
        /* sub */
        {CLAIMS("\"r\"", "\"viewer\"", "\"\"", "1800000000"), "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\nb\"", "1800000000"), "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\u001bb\"", "1800000000"),
         "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\u007fb\"", "1800000000"),
         "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\u0085b\"", "1800000000"),
         "missing or invalid sub claim"},
        /* Not in [A-Za-z0-9._@:+-]: what could look like something else
         * on another participant's screen or break a log line. */
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\u202eb\"", "1800000000"),
         "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\u2028b\"", "1800000000"),
         "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\u200bb\"", "1800000000"),
         "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a b\"", "1800000000"), "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a\\tb\"", "1800000000"), "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"<script>\"", "1800000000"),
         "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"a/b\"", "1800000000"), "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"\\u00e9l\\u00e8ve\"", "1800000000"),
         "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"\\u738b\"", "1800000000"), "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "42", "1800000000"), "missing or invalid sub claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "null", "1800000000"), "missing or invalid sub claim"},
        /* exp */
        {CLAIMS("\"r\"", "\"viewer\"", "\"v\"", "\"1800000000\""), "missing or invalid exp claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"v\"", "1800000000.0"), "missing or invalid exp claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"v\"", "1800000000.5"), "missing or invalid exp claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"v\"", "18e8"), "missing or invalid exp claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"v\"", "true"), "missing or invalid exp claim"},
        {CLAIMS("\"r\"", "\"viewer\"", "\"v\"", "null"), "missing or invalid exp claim"},
        /* An integer beyond int64_t does not parse at all. */
        {CLAIMS("\"r\"", "\"viewer\"", "\"v\"", "9223372036854775808"), "malformed token"},
        /* Missing claims, one at a time. */
        {"{\"role\":\"viewer\",\"sub\":\"v\",\"exp\":1800000000}", "missing or invalid room claim"},
        {"{\"room\":\"r\",\"sub\":\"v\",\"exp\":1800000000}", "missing or invalid role claim"},
        {"{\"room\":\"r\",\"role\":\"viewer\",\"exp\":1800000000}", "missing or invalid sub claim"},
        {"{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\"}", "missing or invalid exp claim"},
        {"{}", "missing or invalid room claim"},
        /* The payload must be a JSON object. */
        {"[]", "malformed token"},
        {"\"room\"", "malformed token"},
        {"{\"room\":\"r\",", "malformed token"},
        {"", "malformed token"},
    };
    char err[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = verify_crafted(HS256_HEADER, cases[i].payload, err, sizeof(err));
        CHECK_INT(rc, MR_EAUTH);
        if (strcmp(err, cases[i].why) != 0)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].payload);
        CHECK_STR(err, cases[i].why);
    }

    /* Extra claims are ignored; sub may be exactly MR_SUB_MAX characters;
     * room may be exactly 64 characters. */
    char payload[512], sub[MR_SUB_MAX + 2];
    memset(sub, 's', MR_SUB_MAX);
    sub[MR_SUB_MAX] = '\0';
    snprintf(payload, sizeof(payload),
             CLAIMS("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
                    "\"viewer\"", "\"%s\"", "1800000000") "",
             sub);
    CHECK_INT(verify_crafted(HS256_HEADER, payload, err, sizeof(err)), 0);
    memset(sub, 's', MR_SUB_MAX + 1);
    sub[MR_SUB_MAX + 1] = '\0';
    snprintf(payload, sizeof(payload), CLAIMS("\"r\"", "\"viewer\"", "\"%s\"", "1800000000"), sub);
    CHECK_INT(verify_crafted(HS256_HEADER, payload, err, sizeof(err)), MR_EAUTH);
    CHECK_INT(verify_crafted(HS256_HEADER,
                             "{\"iss\":\"x\",\"iat\":1,\"room\":\"r\",\"role\":\"viewer\","
                             "\"sub\":\"dr.wang@hospital-3.cn\",\"exp\":1800000000,"
                             "\"extra\":{\"nested\":[1,2,3]}}",
                             err, sizeof(err)),
              0);
}

static void test_duplicate_keys(void)
{
    char err[128];
    /* Two readers could disagree on which role counts. */
    CHECK_INT(verify_crafted(HS256_HEADER,
                             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\",\"exp\":1800000000,"
                             "\"role\":\"operator\"}",
                             err, sizeof(err)),
              MR_EAUTH);
    CHECK_STR(err, "malformed token");
    CHECK_INT(verify_crafted(HS256_HEADER,
                             "{\"room\":\"r\",\"room\":\"*\",\"role\":\"viewer\",\"sub\":\"v\","
                             "\"exp\":1800000000}",
                             err, sizeof(err)),
              MR_EAUTH);
    CHECK_INT(
        verify_crafted("{\"alg\":\"HS256\",\"alg\":\"none\"}", GOOD_PAYLOAD, err, sizeof(err)),
        MR_EAUTH);
}

static void test_malformed(void)
{
    char good[512], evil[MR_JWT_MAX_LEN * 2], err[128];
    struct mr_claims c;
    size_t n = craft(HS256_HEADER, GOOD_PAYLOAD, good, sizeof(good));
    size_t dot1 = (size_t)(strchr(good, '.') - good);
    size_t dot2 = (size_t)(strrchr(good, '.') - good);

    static const char *const shapes[] = {
        "",     ".",    "..",   "...",     "a",      "a.b",
        "a.b.", ".b.c", "a..c", "a.b.c.d", "a.b.c.", "eyJhbGciOiJIUzI1NiJ9.e30",
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        CHECK_INT(verify_at(shapes[i], NOW, &c, err, sizeof(err)), MR_EAUTH);
        CHECK(strcmp(err, "malformed token") == 0 || strcmp(err, "missing token") == 0);
    }

    /* A fourth part, even an empty one or a copy of the signature. */
    snprintf(evil, sizeof(evil), "%s.", good);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    snprintf(evil, sizeof(evil), "%s.%s", good, good + dot2 + 1);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "malformed token");
    /* Empty header, payload and signature. */
    snprintf(evil, sizeof(evil), "%s", good + dot1);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    snprintf(evil, sizeof(evil), "%.*s%s", (int)dot1 + 1, good, good + dot2);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    snprintf(evil, sizeof(evil), "%.*s", (int)dot2 + 1, good);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);

    /* Characters outside the base64url alphabet, in each part: the
     * standard alphabet's '+' and '/', padding, space, and a NUL. */
    static const char bad_chars[] = {'+', '/', '=', ' ', '\0', '\n', '~', (char)0xc3};
    size_t spots[] = {2, dot1 + 3, dot2 + 3, n - 1};
    for (size_t i = 0; i < sizeof(bad_chars); i++) {
        for (size_t j = 0; j < sizeof(spots) / sizeof(spots[0]); j++) {
            memcpy(evil, good, n + 1);
            evil[spots[j]] = bad_chars[i];
            CHECK_INT(mr_jwt_verify(evil, n, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)),
                      MR_EAUTH);
            CHECK_STR(err, "malformed token");
        }
    }
    /* Padding appended to a part, as standard base64 would write it. */
    snprintf(evil, sizeof(evil), "%.*s=%s", (int)dot1, good, good + dot1);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    snprintf(evil, sizeof(evil), "%s=", good);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    /* A part whose length is 1 mod 4 cannot be base64. */
    snprintf(evil, sizeof(evil), "A.%s", good + dot1 + 1);
    CHECK_INT(verify_at(evil, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "malformed token");
}

/* MR_JWT_MAX_LEN is inclusive: a token of exactly that length is fine. */
static void test_max_len(void)
{
    char payload[MR_JWT_MAX_LEN], tok[MR_JWT_MAX_LEN * 2], err[128];
    struct mr_claims c;
    size_t pad = 0;
    size_t n = 0;
    /* Grow a filler claim until the token is exactly MR_JWT_MAX_LEN long
     * (base64 grows in steps of 4 per 3 bytes, so try each length). */
    for (pad = 2900; pad < 3100; pad++) {
        int m = snprintf(payload, sizeof(payload),
                         "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\",\"exp\":1800000000,"
                         "\"x\":\"%*s\"}",
                         (int)pad, "");
        (void)m;
        n = craft(HS256_HEADER, payload, tok, sizeof(tok));
        if (n >= MR_JWT_MAX_LEN)
            break;
    }
    CHECK_INT(n, MR_JWT_MAX_LEN);
    CHECK_INT(mr_jwt_verify(tok, n, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), 0);

    /* One more byte of filler: too long, refused before any parsing. */
    snprintf(payload, sizeof(payload),
             "{\"room\":\"r\",\"role\":\"viewer\",\"sub\":\"v\",\"exp\":1800000000,"
             "\"x\":\"%*s\"}",
             (int)pad + 1, "");
    n = craft(HS256_HEADER, payload, tok, sizeof(tok));
    CHECK(n > MR_JWT_MAX_LEN);
    CHECK_INT(mr_jwt_verify(tok, n, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "token too long");

    /* A huge token of valid characters. */
    size_t huge_len = 1 << 20;
    char *huge = malloc(huge_len);
    CHECK(huge != NULL);
    if (huge) {
        memset(huge, 'A', huge_len);
        huge[100] = '.';
        huge[200] = '.';
        CHECK_INT(mr_jwt_verify(huge, huge_len, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)),
                  MR_EAUTH);
        CHECK_STR(err, "token too long");
        free(huge);
    }
}

/*
 * An independently computed token. Made with Python 3 (hmac, hashlib,
 * base64, json), not with this code:
 *
 *   import base64, hashlib, hmac, json
 *   b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
 *   secret = b"medrelay-known-vector-secret-0123456789"
 *   h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
 *   p = b64(json.dumps({"room": "ward-7", "role": "expert", "sub": "dr-lee",
 *                       "exp": 2000000000}, separators=(",", ":")).encode())
 *   s = b64(hmac.new(secret, (h + "." + p).encode(), hashlib.sha256).digest())
 *   print(h + "." + p + "." + s)
 */
static const char known_secret[] = "medrelay-known-vector-secret-0123456789";
static const char known_token[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJyb29tIjoid2FyZC03Iiwicm9sZSI6ImV4cGVydCIsInN1YiI6ImRyLWxlZSIsImV4cCI6MjAwMDAwMDAwMH0"
    ".IRt2Giu9a-HSYuySB24pj7vsgnjkevhd_YsFtMh1S8o";

/* RFC 7515 Appendix A.1: the JWS example signed with HMAC SHA-256. Its
 * header has "typ" before "alg" and CRLFs, and its payload lacks our
 * claims, so it checks the MAC over bytes we did not produce ourselves. */
static const uint8_t rfc7515_key[] = {
    0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06, 0x65, 0x77, 0x7b, 0xa6, 0x8f,
    0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54, 0xc9, 0x28, 0xa9, 0x0f, 0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf,
    0xd3, 0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47, 0xef, 0x96, 0x8a, 0xb4, 0xc3, 0x77, 0x62, 0x3d, 0x22,
    0x3d, 0x2e, 0x21, 0x72, 0x05, 0x2e, 0x4f, 0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3,
};
static const char rfc7515_token[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

static void test_known_vectors(void)
{
    struct mr_claims c;
    char tok[512], err[128];
    const uint8_t *ks = (const uint8_t *)known_secret;
    size_t ks_len = strlen(known_secret);

    CHECK_INT(
        mr_jwt_verify(known_token, strlen(known_token), ks, ks_len, NOW, 0, &c, err, sizeof(err)), 0);
    CHECK_STR(c.room, "ward-7");
    CHECK_INT(c.role, MR_ROLE_EXPERT);
    CHECK_STR(c.sub, "dr-lee");
    CHECK_INT(c.exp, 2000000000);
    /* Signing the same claims gives the same bytes. */
    CHECK_INT(mr_jwt_sign(&c, ks, ks_len, tok, sizeof(tok)), strlen(known_token));
    CHECK_STR(tok, known_token);
    CHECK_INT(mr_jwt_verify(known_token, strlen(known_token), secret, SECRET_LEN, NOW, 0, &c, err,
                            sizeof(err)),
              MR_EAUTH);
    CHECK_INT(mr_jwt_verify(known_token, strlen(known_token), ks, ks_len, 2000000000 + 6, 0, &c, err,
                            sizeof(err)),
              MR_EEXPIRED);

    /* The MAC passes, so the refusal is about the claims, not the MAC. */
    CHECK_INT(mr_jwt_verify(rfc7515_token, strlen(rfc7515_token), rfc7515_key, sizeof(rfc7515_key),
                            1300819379, 0, &c, err, sizeof(err)),
              MR_EAUTH);
    CHECK_STR(err, "missing or invalid room claim");
    CHECK_INT(mr_jwt_verify(rfc7515_token, strlen(rfc7515_token), rfc7515_key,
                            sizeof(rfc7515_key) - 1, 1300819379, 0, &c, err, sizeof(err)),
              MR_EAUTH);
    CHECK_STR(err, "bad signature");
}

/* The token need not be NUL-terminated: only len bytes count. */
static void test_length_bounded(void)
{
    struct mr_claims c;
    char tok[600], err[128];
    size_t n = craft(HS256_HEADER, GOOD_PAYLOAD, tok, sizeof(tok));
    memcpy(tok + n, "garbage.more", 13);
    CHECK_INT(mr_jwt_verify(tok, n, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), 0);
    CHECK_INT(mr_jwt_verify(tok, n + 3, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_INT(mr_jwt_verify(tok, n - 1, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), MR_EAUTH);
}

/* err is short, never holds any part of the token, and may be absent. */
static void test_err_text(void)
{
    struct mr_claims c;
    char tok[600], err[128];
    craft("{\"alg\":\"HS256\",\"typ\":\"<script>\"}",
          "{\"room\":\"<script>\",\"role\":\"viewer\",\"sub\":\"v\",\"exp\":1}", tok, sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK(strstr(err, "script") == NULL);
    CHECK(strstr(err, "eyJ") == NULL);
    CHECK(strlen(err) < 40);

    craft(HS256_HEADER, "{\"room\":\"<script>\",\"role\":\"viewer\",\"sub\":\"v\",\"exp\":1}", tok,
          sizeof(tok));
    CHECK_INT(verify_at(tok, NOW, &c, err, sizeof(err)), MR_EAUTH);
    CHECK(strstr(err, "script") == NULL);
    CHECK(strstr(err, "eyJ") == NULL);

    /* No buffer, or a tiny one: no crash, still NUL-terminated. */
    CHECK_INT(verify_at(tok, NOW, &c, NULL, 0), MR_EAUTH);
    char tiny[4] = "xxx";
    CHECK_INT(verify_at(tok, NOW, &c, tiny, sizeof(tiny)), MR_EAUTH);
    CHECK_INT(strlen(tiny), 3);
    CHECK_INT(verify_at(tok, NOW, &c, tiny, 0), MR_EAUTH);
}

static void test_bad_arguments(void)
{
    struct mr_claims c;
    char tok[600], err[128];
    craft(HS256_HEADER, GOOD_PAYLOAD, tok, sizeof(tok));
    CHECK_INT(mr_jwt_verify(tok, strlen(tok), NULL, SECRET_LEN, NOW, 0, &c, err, sizeof(err)),
              MR_EINVAL);
    CHECK_INT(mr_jwt_verify(tok, strlen(tok), secret, 0, NOW, 0, &c, err, sizeof(err)), MR_EINVAL);
    CHECK_INT(mr_jwt_verify(tok, strlen(tok), secret, SECRET_LEN, NOW, 0, NULL, err, sizeof(err)),
              MR_EINVAL);
    CHECK_INT(mr_jwt_verify(NULL, 10, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), MR_EINVAL);
    CHECK_INT(mr_jwt_verify(NULL, 0, secret, SECRET_LEN, NOW, 0, &c, err, sizeof(err)), MR_EAUTH);
    CHECK_STR(err, "missing token");
}

static void test_roles(void)
{
    enum mr_role r;
    CHECK_STR(mr_role_name(MR_ROLE_CLINIC), "clinic");
    CHECK_STR(mr_role_name(MR_ROLE_EXPERT), "expert");
    CHECK_STR(mr_role_name(MR_ROLE_OPERATOR), "operator");
    CHECK_STR(mr_role_name(MR_ROLE_VIEWER), "viewer");
    CHECK_STR(mr_role_name((enum mr_role)9), "unknown");

    static const char *const names[] = {"clinic", "expert", "operator", "viewer"};
    for (int i = 0; i < 4; i++) {
        CHECK_INT(mr_role_from_name(names[i], &r), 0);
        CHECK_INT(r, i);
        CHECK_STR(mr_role_name(r), names[i]);
    }
    CHECK_INT(mr_role_from_name("Clinic", &r), MR_EINVAL);
    CHECK_INT(mr_role_from_name("admin", &r), MR_EINVAL);
    CHECK_INT(mr_role_from_name("unknown", &r), MR_EINVAL);
    CHECK_INT(mr_role_from_name("", &r), MR_EINVAL);
    CHECK_INT(mr_role_from_name(NULL, &r), MR_EINVAL);

    CHECK(mr_role_can_publish(MR_ROLE_CLINIC));
    CHECK(mr_role_can_publish(MR_ROLE_EXPERT));
    CHECK(mr_role_can_publish(MR_ROLE_OPERATOR));
    CHECK(!mr_role_can_publish(MR_ROLE_VIEWER));
    CHECK(!mr_role_can_publish((enum mr_role)9));

    CHECK(mr_role_can_moderate(MR_ROLE_OPERATOR));
    CHECK(!mr_role_can_moderate(MR_ROLE_CLINIC));
    CHECK(!mr_role_can_moderate(MR_ROLE_EXPERT));
    CHECK(!mr_role_can_moderate(MR_ROLE_VIEWER));
    CHECK(!mr_role_can_moderate((enum mr_role)9));
}

MR_TEST_MAIN(MR_TEST(test_round_trip), MR_TEST(test_sign_format), MR_TEST(test_sign_errors),
             MR_TEST(test_expiry), MR_TEST(test_lifetime_cap), MR_TEST(test_nbf), MR_TEST(test_wrong_alg),
             MR_TEST(test_header_rules), MR_TEST(test_tampered_payload),
             MR_TEST(test_tampered_signature), MR_TEST(test_signature_length),
             MR_TEST(test_wrong_secret), MR_TEST(test_rooms), MR_TEST(test_bad_claims),
             MR_TEST(test_duplicate_keys), MR_TEST(test_malformed), MR_TEST(test_max_len),
             MR_TEST(test_known_vectors), MR_TEST(test_length_bounded), MR_TEST(test_err_text),
             MR_TEST(test_bad_arguments), MR_TEST(test_roles))
