/*
 * Verifying a client's token: the one rule for every way a token arrives,
 * HTTP's Authorization header (RFC 6750 §2.1) and the room protocol's join.
 */
#ifndef MR_AUTH_BEARER_H
#define MR_AUTH_BEARER_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"

/* The process's token policy: the secret (the bytes of the configured
 * string) and the longest token lifetime accepted ([auth] max_token_ttl). */
struct mr_auth_key {
    uint8_t secret[512];
    size_t len;
    int64_t max_ttl_s;
};

/*
 * Verifies a token (len bytes) against key at now_s, as mr_jwt_verify does
 * (out holds authentic claims on a time refusal; see there). Returns 0,
 * MR_EAUTH or MR_EEXPIRED, with a client-safe reason in err.
 */
int mr_auth_token(const struct mr_auth_key *key, const char *token, size_t len, int64_t now_s,
                  struct mr_claims *out, char *err, size_t err_len);

/*
 * Verifies "Bearer <token>" (scheme case-insensitive) from an Authorization
 * header value (NULL or "" when absent). Returns as mr_auth_token, with
 * MR_EAUTH also for a missing header or another scheme.
 */
int mr_auth_bearer(const struct mr_auth_key *key, const char *header, int64_t now_s,
                   struct mr_claims *out, char *err, size_t err_len);

#endif
