/*
 * Access tokens: JWT (RFC 7519) signed with HS256 (RFC 7518 §3.2).
 *
 * Only "alg":"HS256" is accepted; "none" and every other algorithm are
 * refused before any signature work. The MAC is compared in constant time.
 * Claims, all required: room (a room name or "*"), role, sub (the grammar of
 * core/name.h), exp; at most MR_JWT_LEEWAY_S seconds of clock leeway on exp,
 * and exp at most max_ttl_s seconds ahead (a hospital caps how long a token
 * may live; a token "valid until 2^63" is refused, not trusted).
 *
 * An identity is sub and role together: a token with the same sub and
 * another role is someone else (mr_claims_same_identity).
 */
#ifndef MR_AUTH_JWT_H
#define MR_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/name.h"

#define MR_JWT_LEEWAY_S 5
#define MR_JWT_MAX_LEN 4096

enum mr_role { MR_ROLE_CLINIC, MR_ROLE_EXPERT, MR_ROLE_OPERATOR, MR_ROLE_VIEWER };

struct mr_claims {
    char room[MR_NAME_MAX + 1]; /* a room name, or "*" for every room */
    enum mr_role role;
    char sub[MR_SUB_MAX + 1];
    int64_t exp;   /* seconds since the Unix epoch */
};

/*
 * Verifies token (len bytes, not NUL-terminated necessarily) with the secret
 * and fills out. now_s is the current Unix time in seconds; max_ttl_s the
 * longest lifetime accepted (exp - now_s, with the leeway), 0 for no cap.
 * Returns 0, MR_EAUTH (malformed, wrong alg, bad signature, missing or
 * ill-typed claim, unknown role, bad room name or sub, "nbf" in the future,
 * exp past the lifetime cap) or MR_EEXPIRED, with a short reason in err
 * (safe to show the client: it never echoes the token). A caller's bug
 * (token NULL with len > 0, secret NULL or empty, out NULL) gives MR_EINVAL
 * and an OpenSSL failure MR_ECRYPTO; neither is the client's fault. err may
 * be NULL.
 * On failure out is zeroed, except when the signature was good and only the
 * token's time was wrong (expired, not yet valid, or too long-lived): then
 * out holds its authentic claims, so that the refusal can be audited with
 * who it was. out->sub[0] != '\0' tells that case apart.
 */
int mr_jwt_verify(const char *token, size_t len, const uint8_t *secret, size_t secret_len,
                  int64_t now_s, int64_t max_ttl_s, struct mr_claims *out, char *err,
                  size_t err_len);

/* Signs claims into out ("header.payload.signature", NUL-terminated).
 * Returns the token length, or MR_ENOSPC / MR_EINVAL (empty secret, or claims
 * that mr_jwt_verify would refuse). */
int mr_jwt_sign(const struct mr_claims *claims, const uint8_t *secret, size_t secret_len,
                char *out, size_t cap);

/* "clinic", "expert", "operator", "viewer" ("unknown" for any other value).
 * mr_role_from_name matches exactly (case-sensitive); 0 or MR_EINVAL. */
const char *mr_role_name(enum mr_role role);
int mr_role_from_name(const char *name, enum mr_role *out);

/* Contract (ARCHITECTURE.md §1 Tokens): clinic, expert and operator may
 * publish; every role may subscribe; only operator moderates. */
bool mr_role_can_publish(enum mr_role role);
bool mr_role_can_moderate(enum mr_role role);

/* True when the claims cover room ("*" covers every room). */
bool mr_claims_cover_room(const struct mr_claims *c, const char *room);

/* True when a and b name the same identity: the same sub and the same role. */
bool mr_claims_same_identity(const struct mr_claims *a, const struct mr_claims *b);

#endif
