/* Bearer tokens in HTTP Authorization headers (RFC 6750 §2.1). */
#ifndef MR_AUTH_BEARER_H
#define MR_AUTH_BEARER_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"

/* The process's token secret: the bytes of the configured string. */
struct mr_auth_key {
    uint8_t secret[512];
    size_t len;
};

/*
 * Verifies "Bearer <token>" (scheme case-insensitive) from an Authorization
 * header value. Returns 0, MR_EAUTH (missing, wrong scheme, bad token) or
 * MR_EEXPIRED, with a client-safe reason in err.
 */
int mr_auth_bearer(const struct mr_auth_key *key, const char *header, int64_t now_s,
                   struct mr_claims *out, char *err, size_t err_len);

#endif
