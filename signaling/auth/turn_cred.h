/*
 * TURN credentials for clients, in the "TURN REST API" scheme that coturn
 * implements with use-auth-secret and static-auth-secret
 * (draft-uberti-behave-turn-rest-00 §2.2; coturn's src/apps/relay/userdb.c):
 *
 *   username   = <expiry, Unix seconds, decimal> ":" <sub>
 *   credential = base64(HMAC-SHA1(secret, username))       (RFC 4648 §4)
 *
 * The client uses them as a long-term credential (RFC 8489 §9.2). coturn
 * computes the same HMAC with its static-auth-secret and refuses a username
 * whose expiry has passed. How coturn reads the username: it looks for the
 * first ':' (its rest-api-separator, which must stay the default ':'); when
 * everything before it is digits, that is the expiry and the rest, ':'
 * included, is the user. The expiry always comes first and is all digits,
 * so a sub that holds ':' (the sub grammar allows it, e.g. "ward:7") is
 * read correctly: "1700000000:ward:7" expires at 1700000000.
 *
 * coturn checks the expiry when a TURN session authenticates for the first
 * time (its Allocate); later requests of that session (Refresh,
 * CreatePermission, ChannelBind) are checked against the key it derived
 * then. So a relayed connection made in time keeps going past the expiry;
 * a new one (a new RTCPeerConnection, an ICE restart that allocates again)
 * needs fresh credentials.
 *
 * Credentials never live longer than the caller's token: the expiry is
 * min(now + [turn] ttl, the token's exp). Neither the secret nor a
 * credential is ever logged.
 *
 * Pure: no clock read (the caller passes now), no I/O, no logging.
 */
#ifndef MR_AUTH_TURN_CRED_H
#define MR_AUTH_TURN_CRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "core/config.h"

/* 20 digits of expiry (int64), ':' and a sub. */
#define MR_TURN_USERNAME_MAX (20 + 1 + MR_SUB_MAX)
/* base64 of the 20 bytes of HMAC-SHA1, padding included. */
#define MR_TURN_CREDENTIAL_LEN 28
/* A Link header value (mr_turn_link_value) always fits this, NUL included:
 * the URL, the username, the credential and the fixed text. */
#define MR_TURN_LINK_MAX (MR_TURN_URL_MAX + MR_TURN_USERNAME_MAX + MR_TURN_CREDENTIAL_LEN + 96)

struct mr_turn_cred {
    char username[MR_TURN_USERNAME_MAX + 1];
    char credential[MR_TURN_CREDENTIAL_LEN + 1];
    int64_t expires; /* Unix seconds */
};

/*
 * What the process hands out: [turn] urls and ttl (urls borrowed from the
 * configuration, which outlives it) and coturn's secret (its bytes, copied;
 * from [turn] secret or secret_file, see app/secret.c). Process lifetime,
 * control thread; read-only once set up. An mr_turn with no URLs gives no
 * ICE servers.
 */
struct mr_turn {
    const struct mr_turn_url *urls;
    unsigned n_urls;
    unsigned ttl_s;
    uint8_t secret[MR_TURN_SECRET_MAX];
    size_t secret_len;
};

/*
 * Makes the credentials of sub, expiring at min(now_s + ttl_s, token_exp).
 * Returns 0; MR_EEXPIRED when that is not after now_s (a token accepted
 * within its clock leeway: coturn would refuse such credentials); MR_EINVAL
 * for an empty secret or a sub that is empty, too long or holds a character
 * coturn refuses in a username (space, tab, quote, backslash, CR, LF);
 * MR_ECRYPTO when OpenSSL fails. out is zeroed on failure.
 */
int mr_turn_cred_make(const uint8_t *secret, size_t secret_len, const char *sub, int64_t now_s,
                      unsigned ttl_s, int64_t token_exp, struct mr_turn_cred *out);

/* True when t hands out anything (it has URLs). */
bool mr_turn_enabled(const struct mr_turn *t);

/*
 * The credentials t gives the holder of claims at now_s (sub and exp from
 * the token). Returns as mr_turn_cred_make, or MR_ENOENT when t names no
 * TURN server (only STUN, or nothing): those URLs need no credentials.
 */
int mr_turn_for_claims(const struct mr_turn *t, const struct mr_claims *claims, int64_t now_s,
                       struct mr_turn_cred *out);

/*
 * One Link header value for url (RFC 9725 §4.6, RFC 8288):
 *   <turn:host:3478?transport=udp>; rel="ice-server"; username="...";
 *       credential="..."; credential-type="password"
 * and for a STUN URL only "<url>; rel="ice-server"" (cred is not used).
 * Usernames and credentials hold no '"' or '\\' (mr_turn_cred_make refuses
 * them; credentials are base64), so the quoted strings need no escapes.
 * Returns the length written (NUL-terminated), MR_EINVAL for a TURN URL
 * without cred, or MR_ENOSPC.
 */
int mr_turn_link_value(const struct mr_turn_url *url, const struct mr_turn_cred *cred, char *out,
                       size_t cap);

#endif
