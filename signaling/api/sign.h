/*
 * Signed, short-lived download URLs for recordings.
 *
 * A browser's <video> element cannot send an Authorization header, so an
 * authorized client asks the API for a URL that carries its own proof:
 *
 *   /media/recordings/{id}?exp={unix seconds}&n={nonce}&sig={signature}
 *   sig = BASE64URL(HMAC-SHA-256(K, "medrelay-download\n" id "\n" exp "\n" n))
 *   K   = HMAC-SHA-256(token secret, "medrelay download v1")
 *
 * K is derived from the token secret, so no second secret has to be kept,
 * and a download signature can never be replayed as a token MAC (different
 * key). The nonce makes every URL distinct, which lets the audit trail tie
 * a download to the URL (and the person) it was issued to. The signature
 * is compared in constant time. Pure: no clock reads (callers pass now),
 * no allocation; OpenSSL's HMAC only.
 */
#ifndef MR_API_SIGN_H
#define MR_API_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define MR_API_URL_KEY_LEN 32
#define MR_API_SIG_LEN     43 /* base64url characters of a SHA-256 MAC */
#define MR_API_NONCE_LEN   16 /* hex digits */

/* Derives the URL key from the token secret. Returns 0 or MR_ECRYPTO. */
int mr_api_url_key(const uint8_t *secret, size_t secret_len, uint8_t key[MR_API_URL_KEY_LEN]);

/* Writes the signature (MR_API_SIG_LEN characters and a NUL) for a
 * recording id, an expiry and a nonce. Returns 0, MR_EINVAL (bad nonce or
 * id) or MR_ECRYPTO. */
int mr_api_url_sign(const uint8_t key[MR_API_URL_KEY_LEN], const char *id, int64_t exp,
                    const char *nonce, char sig[MR_API_SIG_LEN + 1]);

/*
 * Checks the query values of a download URL (as received, any may be NULL
 * when absent). Returns 0, MR_EAUTH (missing, malformed or wrong
 * signature) or MR_EEXPIRED (valid but now > exp), with a client-safe
 * reason in why.
 */
int mr_api_url_verify(const uint8_t key[MR_API_URL_KEY_LEN], const char *id, const char *exp,
                      const char *nonce, const char *sig, int64_t now, const char **why);

#endif
