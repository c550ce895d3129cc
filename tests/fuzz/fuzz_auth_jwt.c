/*
 * Fuzzes mr_jwt_verify, the first code to touch an untrusted token.
 *
 * Each input is tried twice: whole, as a token under a fixed secret (the
 * corpus holds tokens signed with it, so mutations reach the claim checks
 * behind the MAC), and split, with its first byte giving the length of a
 * secret taken from the bytes that follow and the rest as the token.
 *
 * Besides memory errors, it aborts when the verifier breaks its contract:
 * an unexpected return code, an err text that is not a short NUL-terminated
 * string or that echoes the token, or accepted claims that fail the rules
 * (room, sub) or do not survive a sign/verify round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "core/error.h"
#include "core/name.h"

/* The corpus in corpus/fuzz_auth_jwt/ was signed with this secret (by a
 * one-off Python script using hmac and hashlib): the files named valid-*
 * verify at FUZZ_NOW, the others are refused for the reason in their name;
 * the split-* files start with a length byte and their own secret. */
static const uint8_t fuzz_secret[] = "medrelay-fuzz-secret-0123456789abcdef";
#define FUZZ_NOW INT64_C(1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_claims(const struct mr_claims *c)
{
    size_t room_len = strnlen(c->room, sizeof(c->room));
    size_t sub_len = strnlen(c->sub, sizeof(c->sub));
    if (room_len == sizeof(c->room) || sub_len == sizeof(c->sub) || sub_len == 0)
        abort();
    if (strcmp(c->room, "*") != 0 && !mr_name_valid(c->room, room_len))
        abort();
    if (c->exp < FUZZ_NOW - MR_JWT_LEEWAY_S)
        abort();
    for (size_t i = 0; i < sub_len; i++)
        if ((unsigned char)c->sub[i] < 0x20 || c->sub[i] == 0x7f)
            abort();
}

static void check_err(int rc, const char *err, const uint8_t *tok, size_t len)
{
    if (rc != 0 && rc != MR_EAUTH && rc != MR_EEXPIRED && rc != MR_EINVAL)
        abort();
    size_t n = strnlen(err, 128);
    if (n == 128 || (rc != 0 && n == 0) || (rc == 0 && n != 0))
        abort();
    /* The reason must never carry the token (or a long piece of it). */
    if (len >= 8 && n >= 8 && memmem(err, n, tok, 8) != NULL)
        abort();
}

static void one(const uint8_t *tok, size_t len, const uint8_t *secret, size_t secret_len)
{
    struct mr_claims c, again;
    char err[128];
    memset(err, 'x', sizeof(err));
    int rc =
        mr_jwt_verify((const char *)tok, len, secret, secret_len, FUZZ_NOW, 0, &c, err, sizeof(err));
    check_err(rc, err, tok, len);
    if (rc != 0)
        return;
    check_claims(&c);
    /* What was accepted can be signed again and reads back the same. */
    char out[MR_JWT_MAX_LEN + 1];
    int n = mr_jwt_sign(&c, secret, secret_len, out, sizeof(out));
    if (n <= 0)
        abort();
    if (mr_jwt_verify(out, (size_t)n, secret, secret_len, FUZZ_NOW, 0, &again, err, sizeof(err)) != 0)
        abort();
    if (strcmp(c.room, again.room) != 0 || c.role != again.role || strcmp(c.sub, again.sub) != 0 ||
        c.exp != again.exp)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, fuzz_secret, sizeof(fuzz_secret) - 1);
    if (size >= 1) {
        size_t k = data[0];
        if (k <= size - 1)
            one(data + 1 + k, size - 1 - k, data + 1, k);
    }
    return 0;
}
