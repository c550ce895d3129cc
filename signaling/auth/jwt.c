/*
 * JWT (RFC 7519) in its JWS compact serialization (RFC 7515 §7.1), signed
 * with HMAC-SHA-256 (RFC 7518 §3.2):
 *
 *   BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(HMAC-SHA-256(
 *       secret, BASE64URL(header) "." BASE64URL(payload)))
 *
 * The verifier is deliberately narrow. It accepts one algorithm, decides
 * that from the header before any MAC work, checks the MAC before it parses
 * the payload, and treats every claim it needs as required. A general JOSE
 * library would accept far more (other algorithms, embedded keys, critical
 * extensions), and each of those has been a way to forge tokens elsewhere.
 */
#include "auth/jwt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/encode.h"
#include "core/error.h"
#include "core/name.h"

#define MAC_LEN 32
/* Unpadded base64url of 32 bytes: 10 groups of 4, then 3 for the last 2. */
#define MAC_B64_LEN 43

static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static const char *const role_names[] = {
    [MR_ROLE_CLINIC] = "clinic",
    [MR_ROLE_EXPERT] = "expert",
    [MR_ROLE_OPERATOR] = "operator",
    [MR_ROLE_VIEWER] = "viewer",
};

#define ROLE_COUNT (sizeof(role_names) / sizeof(role_names[0]))

const char *mr_role_name(enum mr_role role)
{
    if ((unsigned)role >= ROLE_COUNT)
        return "unknown";
    return role_names[role];
}

int mr_role_from_name(const char *name, enum mr_role *out)
{
    if (!name || !out)
        return MR_EINVAL;
    for (unsigned i = 0; i < ROLE_COUNT; i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum mr_role)i;
            return 0;
        }
    }
    return MR_EINVAL;
}

bool mr_role_can_publish(enum mr_role role)
{
    return role == MR_ROLE_CLINIC || role == MR_ROLE_EXPERT || role == MR_ROLE_OPERATOR;
}

bool mr_role_can_moderate(enum mr_role role)
{
    return role == MR_ROLE_OPERATOR;
}

bool mr_claims_cover_room(const struct mr_claims *c, const char *room)
{
    if (!c || !room)
        return false;
    /* "*" covers every room, but never a string that is not a room name:
     * such a request must fail on the name, not pass on the wildcard. */
    if (!mr_name_valid(room, strlen(room)))
        return false;
    if (strcmp(c->room, "*") == 0)
        return true;
    return strcmp(c->room, room) == 0;
}

static bool room_claim_valid(const char *s, size_t len)
{
    return (len == 1 && s[0] == '*') || mr_name_valid(s, len);
}

bool mr_claims_same_identity(const struct mr_claims *a, const struct mr_claims *b)
{
    return a && b && a->role == b->role && strcmp(a->sub, b->sub) == 0;
}

/* sub ends up in logs, the audit trail and the consoles: core/name.h. */
static bool sub_claim_valid(const char *s, size_t len)
{
    return mr_sub_valid(s, len);
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

struct jwt_parts {
    const char *header, *payload, *sig;
    size_t header_len, payload_len, sig_len;
};

/* Exactly three non-empty parts of base64url characters. Checking the whole
 * alphabet here, before any part is decoded, gives one answer ("malformed")
 * to every token that is not even shaped like a JWT. */
static int split_token(const char *t, size_t len, struct jwt_parts *p)
{
    size_t dots[2];
    unsigned ndots = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (ndots == 2)
                return MR_EAUTH;
            dots[ndots++] = i;
        } else if (!b64url_char(t[i])) {
            return MR_EAUTH;
        }
    }
    if (ndots != 2)
        return MR_EAUTH;
    p->header = t;
    p->header_len = dots[0];
    p->payload = t + dots[0] + 1;
    p->payload_len = dots[1] - dots[0] - 1;
    p->sig = t + dots[1] + 1;
    p->sig_len = len - dots[1] - 1;
    if (p->header_len == 0 || p->payload_len == 0 || p->sig_len == 0)
        return MR_EAUTH;
    return 0;
}

/* Decodes one part and parses it as a JSON object; duplicate keys are
 * refused because two readers could disagree on which one counts. */
static json_t *decode_object(const char *b64, size_t len, uint8_t *buf, size_t cap)
{
    int n = mr_b64url_decode(b64, len, buf, cap);
    if (n < 0)
        return NULL;
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static bool json_string_is(const json_t *v, const char *want)
{
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           memcmp(json_string_value(v), want, strlen(want)) == 0;
}

/* RFC 7515 §4.1: we accept alg exactly "HS256" and typ, when present,
 * exactly "JWT". "crit" names extensions the verifier must understand
 * (§4.1.11); we understand none, so its presence alone refuses the token. */
static int check_header(const json_t *hdr, const char **why)
{
    if (!json_string_is(json_object_get(hdr, "alg"), "HS256")) {
        *why = "unsupported alg";
        return MR_EAUTH;
    }
    const json_t *typ = json_object_get(hdr, "typ");
    if (typ && !json_string_is(typ, "JWT")) {
        *why = "unsupported typ";
        return MR_EAUTH;
    }
    if (json_object_get(hdr, "crit")) {
        *why = "unsupported crit";
        return MR_EAUTH;
    }
    return 0;
}

static int hs256(const uint8_t *secret, size_t secret_len, const char *data, size_t len,
                 uint8_t mac[MAC_LEN])
{
    unsigned int mac_len = 0;
    if (secret_len > INT_MAX)
        return MR_EINVAL;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data, len, mac,
              &mac_len) ||
        mac_len != MAC_LEN)
        return MR_ECRYPTO;
    return 0;
}

/* Reads an integer claim. A fraction, exponent or string is refused rather
 * than rounded: the issuer meant something we cannot be sure of. */
static bool get_int_claim(const json_t *payload, const char *key, int64_t *out, bool *present)
{
    const json_t *v = json_object_get(payload, key);
    *present = v != NULL;
    if (!v)
        return true;
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* The claims' times against the clock. The comparisons are arranged so
 * that no sum can overflow: exp and nbf come from the network and may sit
 * at either end of int64_t. */
static int check_times(const struct mr_claims *c, bool has_nbf, int64_t nbf, int64_t now_s,
                       int64_t max_ttl_s, const char **why)
{
    if (has_nbf && now_s <= INT64_MAX - MR_JWT_LEEWAY_S && nbf > now_s + MR_JWT_LEEWAY_S) {
        *why = "token not yet valid";
        return MR_EAUTH;
    }
    if (c->exp <= INT64_MAX - MR_JWT_LEEWAY_S && now_s > c->exp + MR_JWT_LEEWAY_S) {
        *why = "token expired";
        return MR_EEXPIRED;
    }
    if (max_ttl_s > 0 && now_s <= INT64_MAX - max_ttl_s - MR_JWT_LEEWAY_S &&
        c->exp > now_s + max_ttl_s + MR_JWT_LEEWAY_S) {
        *why = "token lifetime exceeds the server's maximum ([auth] max_token_ttl)";
        return MR_EAUTH;
    }
    return 0;
}

static int read_claims(const json_t *payload, struct mr_claims *c, bool *has_nbf, int64_t *nbf,
                       const char **why)
{
    const json_t *v;
    size_t len;
    bool present;

    v = json_object_get(payload, "room");
    len = json_is_string(v) ? json_string_length(v) : 0;
    if (!json_is_string(v) || !room_claim_valid(json_string_value(v), len)) {
        *why = "missing or invalid room claim";
        return MR_EAUTH;
    }
    memcpy(c->room, json_string_value(v), len);
    c->room[len] = '\0';

    v = json_object_get(payload, "role");
    if (!json_is_string(v) || json_string_length(v) != strlen(json_string_value(v)) ||
        mr_role_from_name(json_string_value(v), &c->role) < 0) {
        *why = "missing or invalid role claim";
        return MR_EAUTH;
    }

    v = json_object_get(payload, "sub");
    len = json_is_string(v) ? json_string_length(v) : 0;
    if (!json_is_string(v) || !sub_claim_valid(json_string_value(v), len)) {
        *why = "missing or invalid sub claim";
        return MR_EAUTH;
    }
    memcpy(c->sub, json_string_value(v), len);
    c->sub[len] = '\0';

    if (!get_int_claim(payload, "exp", &c->exp, &present) || !present) {
        *why = "missing or invalid exp claim";
        return MR_EAUTH;
    }

    *nbf = 0;
    if (!get_int_claim(payload, "nbf", nbf, has_nbf)) {
        *why = "invalid nbf claim";
        return MR_EAUTH;
    }
    return 0;
}

static void set_err(char *err, size_t err_len, const char *why)
{
    if (err && err_len > 0)
        snprintf(err, err_len, "%s", why);
}

int mr_jwt_verify(const char *token, size_t len, const uint8_t *secret, size_t secret_len,
                  int64_t now_s, int64_t max_ttl_s, struct mr_claims *out, char *err,
                  size_t err_len)
{
    struct jwt_parts parts;
    struct mr_claims claims;
    /* Every decoded part is shorter than the token, which is capped. */
    uint8_t buf[MR_JWT_MAX_LEN];
    uint8_t mac[MAC_LEN], sig[MAC_LEN];
    json_t *hdr = NULL, *payload = NULL;
    const char *why = "malformed token";
    int rc = MR_EAUTH;

    set_err(err, err_len, "");
    if (out)
        memset(out, 0, sizeof(*out));
    if ((!token && len > 0) || !secret || secret_len == 0 || !out) {
        why = "internal error";
        rc = MR_EINVAL;
        goto fail;
    }
    if (len == 0) {
        why = "missing token";
        goto fail;
    }
    if (len > MR_JWT_MAX_LEN) {
        why = "token too long";
        goto fail;
    }
    if (split_token(token, len, &parts) < 0)
        goto fail;

    hdr = decode_object(parts.header, parts.header_len, buf, sizeof(buf));
    if (!hdr)
        goto fail;
    rc = check_header(hdr, &why);
    if (rc < 0)
        goto fail;

    /* The length check comes first so that the decoder never sees a
     * signature that could not be an HS256 MAC. */
    if (parts.sig_len != MAC_B64_LEN ||
        mr_b64url_decode(parts.sig, parts.sig_len, sig, sizeof(sig)) != MAC_LEN) {
        why = "bad signature";
        rc = MR_EAUTH;
        goto fail;
    }
    rc = hs256(secret, secret_len, token, parts.header_len + 1 + parts.payload_len, mac);
    if (rc < 0) {
        why = "internal error";
        goto fail;
    }
    if (CRYPTO_memcmp(mac, sig, MAC_LEN) != 0) {
        why = "bad signature";
        rc = MR_EAUTH;
        goto fail;
    }

    /* Only now, with the MAC checked, is the payload worth reading. */
    why = "malformed token";
    rc = MR_EAUTH;
    payload = decode_object(parts.payload, parts.payload_len, buf, sizeof(buf));
    if (!payload)
        goto fail;
    memset(&claims, 0, sizeof(claims));
    bool has_nbf;
    int64_t nbf;
    rc = read_claims(payload, &claims, &has_nbf, &nbf, &why);
    if (rc < 0)
        goto fail;
    rc = check_times(&claims, has_nbf, nbf, now_s, max_ttl_s, &why);
    if (rc < 0) {
        /* Authentic but not valid now: who it was is worth auditing. */
        *out = claims;
        goto fail_keep;
    }

    *out = claims;
    json_decref(payload);
    json_decref(hdr);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;

    /* ERRORS */
fail:
    if (out)
        memset(out, 0, sizeof(*out));
fail_keep:
    json_decref(payload);
    json_decref(hdr);
    OPENSSL_cleanse(mac, sizeof(mac));
    set_err(err, err_len, why);
    return rc;
}

int mr_jwt_sign(const struct mr_claims *claims, const uint8_t *secret, size_t secret_len, char *out,
                size_t cap)
{
    json_t *payload = NULL;
    char *payload_json = NULL;
    uint8_t mac[MAC_LEN];
    int rc = MR_EINVAL;

    if (!claims || !secret || secret_len == 0 || !out)
        goto fail;
    /* Never issue a token that mr_jwt_verify would refuse: a bad claim here
     * is a caller's bug, better reported now than as a 401 later. */
    size_t room_len = strnlen(claims->room, sizeof(claims->room));
    size_t sub_len = strnlen(claims->sub, sizeof(claims->sub));
    if (room_len == sizeof(claims->room) || !room_claim_valid(claims->room, room_len) ||
        sub_len == sizeof(claims->sub) || !sub_claim_valid(claims->sub, sub_len) ||
        (unsigned)claims->role >= ROLE_COUNT)
        goto fail;

    /* Insertion order is kept by jansson, so the payload reads
     * room, role, sub, exp. json_pack fails on a sub that is not UTF-8. */
    payload =
        json_pack("{s:s, s:s, s:s, s:I}", "room", claims->room, "role", role_names[claims->role],
                  "sub", claims->sub, "exp", (json_int_t)claims->exp);
    if (!payload)
        goto fail;
    payload_json = json_dumps(payload, JSON_COMPACT);
    if (!payload_json) {
        rc = MR_ENOMEM;
        goto fail;
    }

    size_t hlen = mr_b64url_encoded_len(sizeof(jwt_header) - 1);
    size_t plen = mr_b64url_encoded_len(strlen(payload_json));
    size_t total = hlen + 1 + plen + 1 + MAC_B64_LEN;
    if (total > MR_JWT_MAX_LEN)
        goto fail;
    if (cap < total + 1) {
        rc = MR_ENOSPC;
        goto fail;
    }

    size_t o = 0;
    o += (size_t)mr_b64url_encode((const uint8_t *)jwt_header, sizeof(jwt_header) - 1, out, cap);
    out[o++] = '.';
    o += (size_t)mr_b64url_encode((const uint8_t *)payload_json, strlen(payload_json), out + o,
                                  cap - o);
    rc = hs256(secret, secret_len, out, o, mac);
    if (rc < 0)
        goto fail;
    out[o++] = '.';
    o += (size_t)mr_b64url_encode(mac, MAC_LEN, out + o, cap - o);

    OPENSSL_cleanse(mac, sizeof(mac));
    free(payload_json);
    json_decref(payload);
    return (int)o;

    /* ERRORS */
fail:
    OPENSSL_cleanse(mac, sizeof(mac));
    free(payload_json);
    json_decref(payload);
    if (out && cap > 0)
        out[0] = '\0';
    return rc;
}
