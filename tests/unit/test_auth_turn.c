/*
 * Tests for signaling/auth/turn_cred.c: TURN REST credentials as coturn
 * checks them (use-auth-secret), against values computed independently,
 * the expiry capped by the token, subs holding ':', refusals, and the
 * RFC 9725 §4.6 Link header values.
 */
#include <stdint.h>

#include "auth/turn_cred.h"
#include "core/error.h"
#include "mr_test.h"

static const char secret[] = "north-county-coturn-secret-2024";
#define SECRET ((const uint8_t *)secret), (sizeof(secret) - 1)

/*
 * Expected credentials, computed outside medrelay with:
 *   python3 -c 'import hmac,hashlib,base64; u=b"1700003600:clinic-7";
 *     print(base64.b64encode(hmac.new(b"north-county-coturn-secret-2024",
 *     u, hashlib.sha1).digest()).decode())'
 * and checked with
 *   echo -n 1700003600:clinic-7 | openssl dgst -sha1 \
 *     -hmac north-county-coturn-secret-2024 -binary | base64
 */
#define CRED_CLINIC7 "lrA2/Wiizstasb/CK08vvtbWvTg="
/* The same with u=b"1700000100:ward:7". */
#define CRED_WARD7 "HE274aBYQf+buEbH4Xi60OB4ng0="

static const int64_t now = 1700000000;

/* The ttl decides when the token lives longer. */
static void test_vector(void)
{
    struct mr_turn_cred c;
    CHECK_INT(mr_turn_cred_make(SECRET, "clinic-7", now, 3600, now + 86400, &c), 0);
    CHECK_STR(c.username, "1700003600:clinic-7");
    CHECK_STR(c.credential, CRED_CLINIC7);
    CHECK_INT(c.expires, 1700003600);
    CHECK_INT(strlen(c.credential), MR_TURN_CREDENTIAL_LEN);
}

/* Never longer-lived than the token: its exp wins when it comes first. A
 * sub with ':' stays whole after the expiry, which coturn reads from the
 * digits before the first ':'. */
static void test_token_caps_and_colon(void)
{
    struct mr_turn_cred c;
    CHECK_INT(mr_turn_cred_make(SECRET, "ward:7", now, 86400, now + 100, &c), 0);
    CHECK_STR(c.username, "1700000100:ward:7");
    CHECK_STR(c.credential, CRED_WARD7);
    CHECK_INT(c.expires, now + 100);
    /* A token exactly as long as the ttl. */
    CHECK_INT(mr_turn_cred_make(SECRET, "clinic-7", now, 3600, now + 3600, &c), 0);
    CHECK_STR(c.credential, CRED_CLINIC7);
}

/* A token accepted inside its clock leeway (exp now or just past) gives no
 * credentials: coturn would refuse them at once. */
static void test_expired(void)
{
    struct mr_turn_cred c;
    CHECK_INT(mr_turn_cred_make(SECRET, "clinic-7", now, 3600, now, &c), MR_EEXPIRED);
    CHECK_STR(c.username, "");
    CHECK_STR(c.credential, "");
    CHECK_INT(mr_turn_cred_make(SECRET, "clinic-7", now, 3600, now - 3, &c), MR_EEXPIRED);
    CHECK_INT(mr_turn_cred_make(SECRET, "clinic-7", now, 3600, now + 1, &c), 0);
    CHECK_INT(c.expires, now + 1);
}

static void test_refused(void)
{
    struct mr_turn_cred c;
    char long_sub[MR_SUB_MAX + 2];
    memset(long_sub, 'a', sizeof(long_sub) - 1);
    long_sub[sizeof(long_sub) - 1] = '\0';
    CHECK_INT(mr_turn_cred_make(SECRET, "", now, 60, now + 60, &c), MR_EINVAL);
    CHECK_INT(mr_turn_cred_make(SECRET, NULL, now, 60, now + 60, &c), MR_EINVAL);
    CHECK_INT(mr_turn_cred_make(SECRET, long_sub, now, 60, now + 60, &c), MR_EINVAL);
    long_sub[MR_SUB_MAX] = '\0';
    CHECK_INT(mr_turn_cred_make(SECRET, long_sub, now, 60, now + 60, &c), 0);
    CHECK_INT(mr_turn_cred_make((const uint8_t *)secret, 0, "x", now, 60, now + 60, &c), MR_EINVAL);
    /* What coturn refuses in a username, or would break a quoted string. */
    const char *bad[] = {"a b", "a\tb", "a'b", "a\"b", "a\\b", "a\nb", "a\rb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(mr_turn_cred_make(SECRET, bad[i], now, 60, now + 60, &c), MR_EINVAL);
    /* A 64-bit expiry fits the username. */
    CHECK_INT(mr_turn_cred_make(SECRET, "x", INT64_MAX - 10, 5, INT64_MAX, &c), 0);
    CHECK_STR(c.username, "9223372036854775802:x");
}

static void test_for_claims(void)
{
    struct mr_turn_url urls[2] = {{"stun:turn.example.org:3478", false},
                                  {"turn:turn.example.org:3478?transport=udp", true}};
    struct mr_turn t = {.urls = urls, .n_urls = 2, .ttl_s = 3600};
    memcpy(t.secret, secret, sizeof(secret) - 1);
    t.secret_len = sizeof(secret) - 1;
    struct mr_claims claims = {.room = "or-3", .role = MR_ROLE_CLINIC, .sub = "clinic-7",
                               .exp = now + 7200};
    struct mr_turn_cred c;
    CHECK(mr_turn_enabled(&t));
    CHECK_INT(mr_turn_for_claims(&t, &claims, now, &c), 0);
    CHECK_STR(c.username, "1700003600:clinic-7");
    CHECK_STR(c.credential, CRED_CLINIC7);
    /* STUN only: nothing to make. */
    t.n_urls = 1;
    CHECK_INT(mr_turn_for_claims(&t, &claims, now, &c), MR_ENOENT);
    t.n_urls = 0;
    CHECK(!mr_turn_enabled(&t));
    CHECK(!mr_turn_enabled(NULL));
    CHECK_INT(mr_turn_for_claims(NULL, &claims, now, &c), MR_ENOENT);
}

static void test_link(void)
{
    struct mr_turn_url turn = {"turn:turn.example.org:3478?transport=udp", true};
    struct mr_turn_url turns = {"turns:turn.example.org:443?transport=tcp", true};
    struct mr_turn_url stun = {"stun:turn.example.org", false};
    struct mr_turn_cred c;
    char out[512];
    CHECK_INT(mr_turn_cred_make(SECRET, "clinic-7", now, 3600, now + 86400, &c), 0);
    int n = mr_turn_link_value(&turn, &c, out, sizeof(out));
    CHECK_STR(out, "<turn:turn.example.org:3478?transport=udp>; rel=\"ice-server\"; "
                   "username=\"1700003600:clinic-7\"; credential=\"" CRED_CLINIC7 "\"; "
                   "credential-type=\"password\"");
    CHECK_INT(n, strlen(out));
    CHECK(mr_turn_link_value(&turns, &c, out, sizeof(out)) > 0);
    CHECK(strncmp(out, "<turns:turn.example.org:443?transport=tcp>; rel=\"ice-server\"; ", 62) == 0);
    static const char stun_link[] = "<stun:turn.example.org>; rel=\"ice-server\"";
    CHECK_INT(mr_turn_link_value(&stun, NULL, out, sizeof(out)), sizeof(stun_link) - 1);
    CHECK_STR(out, stun_link);
    CHECK_INT(mr_turn_link_value(&turn, NULL, out, sizeof(out)), MR_EINVAL);
    CHECK_INT(mr_turn_link_value(&turn, &c, out, 40), MR_ENOSPC);
    CHECK_STR(out, "");
}

MR_TEST_MAIN(MR_TEST(test_vector), MR_TEST(test_token_caps_and_colon), MR_TEST(test_expired),
             MR_TEST(test_refused), MR_TEST(test_for_claims), MR_TEST(test_link))
