#include "auth/bearer.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

int mr_auth_token(const struct mr_auth_key *key, const char *token, size_t len, int64_t now_s,
                  struct mr_claims *out, char *err, size_t err_len)
{
    char why[96] = "";
    int rc = mr_jwt_verify(token, len, key->secret, key->len, now_s, key->max_ttl_s, out, why,
                           sizeof(why));
    if (rc == 0)
        return 0;
    snprintf(err, err_len, "invalid token: %s", why[0] ? why : "rejected");
    return rc == MR_EEXPIRED ? MR_EEXPIRED : MR_EAUTH;
}

int mr_auth_bearer(const struct mr_auth_key *key, const char *header, int64_t now_s,
                   struct mr_claims *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (!header || !header[0]) {
        snprintf(err, err_len, "missing Authorization: Bearer token");
        return MR_EAUTH;
    }
    if (strncasecmp(header, "Bearer ", 7) != 0) {
        snprintf(err, err_len, "the Authorization scheme must be Bearer");
        return MR_EAUTH;
    }
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen(token);
    while (len > 0 && token[len - 1] == ' ')
        len--;
    return mr_auth_token(key, token, len, now_s, out, err, err_len);
}
