/* Signed download URLs; see sign.h. */
#include "api/sign.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/encode.h"
#include "core/error.h"

#define MAC_LEN    32
#define MAX_ID_LEN 64

static const char key_label[] = "medrelay download v1";

static int hmac(const uint8_t *key, size_t key_len, const void *data, size_t len,
                uint8_t mac[MAC_LEN])
{
    unsigned int mac_len = 0;
    if (key_len > INT_MAX)
        return MR_EINVAL;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, mac, &mac_len) || mac_len != MAC_LEN)
        return MR_ECRYPTO;
    return 0;
}

int mr_api_url_key(const uint8_t *secret, size_t secret_len, uint8_t key[MR_API_URL_KEY_LEN])
{
    if (!secret || !secret_len)
        return MR_EINVAL;
    return hmac(secret, secret_len, key_label, sizeof(key_label) - 1, key);
}

static bool nonce_ok(const char *n)
{
    if (!n || strlen(n) != MR_API_NONCE_LEN)
        return false;
    for (; *n; n++)
        if (!((*n >= '0' && *n <= '9') || (*n >= 'a' && *n <= 'f')))
            return false;
    return true;
}

static bool id_ok(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    if (len == 0 || len > MAX_ID_LEN)
        return false;
    for (; *id; id++)
        if (*id == '\n')
            return false;
    return true;
}

static int mac_for(const uint8_t key[MR_API_URL_KEY_LEN], const char *id, int64_t exp,
                   const char *nonce, uint8_t mac[MAC_LEN])
{
    char msg[160];
    int n =
        snprintf(msg, sizeof(msg), "medrelay-download\n%s\n%lld\n%s", id, (long long)exp, nonce);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return MR_EINVAL;
    return hmac(key, MR_API_URL_KEY_LEN, msg, (size_t)n, mac);
}

int mr_api_url_sign(const uint8_t key[MR_API_URL_KEY_LEN], const char *id, int64_t exp,
                    const char *nonce, char sig[MR_API_SIG_LEN + 1])
{
    uint8_t mac[MAC_LEN];
    if (!id_ok(id) || !nonce_ok(nonce) || exp < 0)
        return MR_EINVAL;
    int rc = mac_for(key, id, exp, nonce, mac);
    if (rc < 0)
        return rc;
    return mr_b64url_encode(mac, MAC_LEN, sig, MR_API_SIG_LEN + 1) == MR_API_SIG_LEN ? 0
                                                                                     : MR_EINVAL;
}

/* Decimal seconds, no sign, no leading zero, at most 12 digits (year 33658):
 * exactly the form mr_api_url_sign() writes, so one URL has one spelling. */
static bool parse_exp(const char *s, int64_t *out)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > 12 || (s[0] == '0' && len > 1))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int mr_api_url_verify(const uint8_t key[MR_API_URL_KEY_LEN], const char *id, const char *exp,
                      const char *nonce, const char *sig, int64_t now, const char **why)
{
    static const char *dummy;
    int64_t e;
    uint8_t want[MAC_LEN], got[MAC_LEN + 3];
    if (!why)
        why = &dummy;
    if (!exp || !nonce || !sig) {
        *why = "the download link lacks its signature (exp, n, sig)";
        return MR_EAUTH;
    }
    if (!id_ok(id) || !parse_exp(exp, &e) || !nonce_ok(nonce) || strlen(sig) != MR_API_SIG_LEN ||
        mr_b64url_decode(sig, MR_API_SIG_LEN, got, sizeof(got)) != MAC_LEN) {
        *why = "the download link is malformed";
        return MR_EAUTH;
    }
    if (mac_for(key, id, e, nonce, want) < 0 || CRYPTO_memcmp(want, got, MAC_LEN) != 0) {
        *why = "the download link's signature is not valid";
        return MR_EAUTH;
    }
    if (now > e) {
        *why = "the download link has expired";
        return MR_EEXPIRED;
    }
    return 0;
}
