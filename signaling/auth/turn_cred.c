/* TURN REST credentials (turn_cred.h). */
#include "auth/turn_cred.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* coturn refuses a username holding any of these (is_secure_string() in
 * its src/apps/common/ns_turn_utils.c); '"' and '\\' would also break the
 * quoted strings of a Link header. */
static bool username_part_ok(const char *sub, size_t len)
{
    return len > 0 && len <= MR_SUB_MAX && strcspn(sub, " \t\r\n'\"\\") == len;
}

int mr_turn_cred_make(const uint8_t *secret, size_t secret_len, const char *sub, int64_t now_s,
                      unsigned ttl_s, int64_t token_exp, struct mr_turn_cred *out)
{
    memset(out, 0, sizeof(*out));
    if (!secret || secret_len == 0 || secret_len > INT32_MAX || !sub ||
        !username_part_ok(sub, strlen(sub)))
        return MR_EINVAL;
    int64_t expires = now_s + (int64_t)ttl_s;
    if (token_exp < expires)
        expires = token_exp;
    if (expires <= now_s)
        return MR_EEXPIRED;
    int n = snprintf(out->username, sizeof(out->username), "%" PRId64 ":%s", expires, sub);
    if (n < 0 || (size_t)n >= sizeof(out->username))
        return MR_EINVAL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha1(), secret, (int)secret_len, (const unsigned char *)out->username,
              (size_t)n, mac, &mac_len) ||
        mac_len != 20) {
        memset(out, 0, sizeof(*out));
        return MR_ECRYPTO;
    }
    /* EVP_EncodeBlock writes standard base64 with padding and a NUL:
     * 28 characters for 20 bytes. */
    EVP_EncodeBlock((unsigned char *)out->credential, mac, (int)mac_len);
    out->expires = expires;
    return 0;
}

bool mr_turn_enabled(const struct mr_turn *t)
{
    return t && t->n_urls > 0;
}

int mr_turn_for_claims(const struct mr_turn *t, const struct mr_claims *claims, int64_t now_s,
                       struct mr_turn_cred *out)
{
    bool relay = false;
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; t && i < t->n_urls; i++)
        relay = relay || t->urls[i].relay;
    if (!relay)
        return MR_ENOENT;
    return mr_turn_cred_make(t->secret, t->secret_len, claims->sub, now_s, t->ttl_s, claims->exp,
                             out);
}

int mr_turn_link_value(const struct mr_turn_url *url, const struct mr_turn_cred *cred, char *out,
                       size_t cap)
{
    int n;
    if (url->relay && !cred)
        return MR_EINVAL;
    if (url->relay)
        n = snprintf(out, cap,
                     "<%s>; rel=\"ice-server\"; username=\"%s\"; credential=\"%s\"; "
                     "credential-type=\"password\"",
                     url->url, cred->username, cred->credential);
    else
        n = snprintf(out, cap, "<%s>; rel=\"ice-server\"", url->url);
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return MR_ENOSPC;
    }
    return n;
}
