/* HMAC-SHA1 with precomputed key states, as libsrtp's auth type (hmac_sha1.h). */

/* OpenSSL 3 deprecates the SHA1_* functions in favour of EVP, but EVP
 * cannot copy a keyed state without allocating a provider context, and
 * copying a keyed state per packet is the point here. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "srtp/hmac_sha1.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <srtp2/auth.h>
#include <srtp2/srtp.h>

#define BLOCK  64 /* SHA-1 block size (RFC 2104's B) */
#define DIGEST SHA_DIGEST_LENGTH

/*
 * RFC 2104: HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)). The states
 * after hashing the two padded keys are kept; a packet starts from a copy
 * of the inner one (a 96-byte struct copy).
 */
struct hmac_state {
    struct mr_hmac_sha1 keyed;
    SHA_CTX running;
};

bool mr_hmac_sha1_key(struct mr_hmac_sha1 *h, const uint8_t *key, size_t key_len)
{
    uint8_t k[BLOCK] = {0}, pad[BLOCK];
    /* Keys longer than a block are hashed first (RFC 2104 §2). */
    if (key_len > BLOCK)
        SHA1(key, key_len, k);
    else
        memcpy(k, key, key_len);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    int ok = SHA1_Init(&h->inner_keyed) && SHA1_Update(&h->inner_keyed, pad, BLOCK);
    for (int i = 0; i < BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    ok = ok && SHA1_Init(&h->outer_keyed) && SHA1_Update(&h->outer_keyed, pad, BLOCK);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    return ok;
}

/* The inner hash done (running holds it): the outer one, into tag. */
static bool finish(const struct mr_hmac_sha1 *h, SHA_CTX *running, uint8_t *tag, size_t tag_len)
{
    uint8_t digest[DIGEST];
    int ok = SHA1_Final(digest, running);
    *running = h->outer_keyed;
    ok = ok && SHA1_Update(running, digest, DIGEST) && SHA1_Final(digest, running);
    if (ok)
        memcpy(tag, digest, tag_len);
    OPENSSL_cleanse(digest, sizeof(digest));
    return ok;
}

bool mr_hmac_sha1_tag(const struct mr_hmac_sha1 *h, const uint8_t *a, size_t a_len,
                      const uint8_t *b, size_t b_len, uint8_t *tag, size_t tag_len)
{
    if (tag_len > DIGEST)
        return false;
    SHA_CTX running = h->inner_keyed;
    int ok = SHA1_Update(&running, a, a_len) && (!b_len || SHA1_Update(&running, b, b_len));
    return ok && finish(h, &running, tag, tag_len);
}

static const srtp_auth_type_t hmac_sha1_type;

static srtp_err_status_t hmac_alloc(srtp_auth_t **a, int key_len, int out_len)
{
    if (out_len < 0 || out_len > DIGEST || key_len < 0)
        return srtp_err_status_bad_param;
    /* One allocation: the auth object, then its state. */
    struct {
        srtp_auth_t auth;
        struct hmac_state state;
    } *both = calloc(1, sizeof(*both));
    if (!both)
        return srtp_err_status_alloc_fail;
    both->auth.type = &hmac_sha1_type;
    both->auth.state = &both->state;
    both->auth.out_len = out_len;
    both->auth.key_len = key_len;
    both->auth.prefix_len = 0;
    *a = &both->auth;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_t *a)
{
    /* The keyed states are as good as the key. */
    OPENSSL_cleanse(a->state, sizeof(struct hmac_state));
    free(a);
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_init(void *statev, const uint8_t *key, int key_len)
{
    struct hmac_state *h = statev;
    if (key_len < 0)
        return srtp_err_status_bad_param;
    return mr_hmac_sha1_key(&h->keyed, key, (size_t)key_len) ? srtp_err_status_ok
                                                             : srtp_err_status_init_fail;
}

static srtp_err_status_t hmac_start(void *statev)
{
    struct hmac_state *h = statev;
    h->running = h->keyed.inner_keyed;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_update(void *statev, const uint8_t *msg, int len)
{
    struct hmac_state *h = statev;
    if (len < 0)
        return srtp_err_status_bad_param;
    return SHA1_Update(&h->running, msg, (size_t)len) ? srtp_err_status_ok
                                                      : srtp_err_status_auth_fail;
}

/* The last part of the message (libsrtp passes the ROC here), then the tag. */
static srtp_err_status_t hmac_compute(void *statev, const uint8_t *msg, int len, int tag_len,
                                      uint8_t *tag)
{
    struct hmac_state *h = statev;
    if (len < 0 || tag_len < 0 || tag_len > DIGEST)
        return srtp_err_status_bad_param;
    bool ok = SHA1_Update(&h->running, msg, (size_t)len) &&
              finish(&h->keyed, &h->running, tag, (size_t)tag_len);
    return ok ? srtp_err_status_ok : srtp_err_status_auth_fail;
}

/* RFC 2202 §3, test cases 1, 2, 3 and 6 (a key longer than a block). */
static const uint8_t key1[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t data1[] = "Hi There";
static const uint8_t tag1[20] = {0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
                                 0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};
static const uint8_t key2[] = "Jefe";
static const uint8_t data2[] = "what do ya want for nothing?";
static const uint8_t tag2[20] = {0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
                                 0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79};
static const uint8_t key3[20] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
static const uint8_t data3[50] = {0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
                                  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
                                  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
                                  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd,
                                  0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd};
static const uint8_t tag3[20] = {0x12, 0x5d, 0x73, 0x42, 0xb9, 0xac, 0x11, 0xcd, 0x91, 0xa3,
                                 0x9a, 0xf4, 0x8a, 0xa1, 0x7b, 0x4f, 0x63, 0xf1, 0x75, 0xd3};
static uint8_t key6[80]; /* 0xaa x 80, filled at installation */
static const uint8_t data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
static const uint8_t tag6[20] = {0xaa, 0x4a, 0xe5, 0xe1, 0x52, 0x72, 0xd0, 0x0e, 0x95, 0x70,
                                 0x56, 0x37, 0xce, 0x8a, 0x3b, 0x55, 0xed, 0x40, 0x21, 0x12};

static const srtp_auth_test_case_t case6 = {
    sizeof(key6), key6, sizeof(data6) - 1, data6, sizeof(tag6), tag6, NULL};
static const srtp_auth_test_case_t case3 = {sizeof(key3), key3, sizeof(data3), data3,
                                            sizeof(tag3), tag3, &case6};
static const srtp_auth_test_case_t case2 = {
    sizeof(key2) - 1, key2, sizeof(data2) - 1, data2, sizeof(tag2), tag2, &case3};
static const srtp_auth_test_case_t case1 = {
    sizeof(key1), key1, sizeof(data1) - 1, data1, sizeof(tag1), tag1, &case2};

static const srtp_auth_type_t hmac_sha1_type = {
    hmac_alloc,
    hmac_dealloc,
    hmac_init,
    hmac_compute,
    hmac_update,
    hmac_start,
    "HMAC-SHA1 with keyed states (medrelay)",
    &case1,
    SRTP_HMAC_SHA1,
};

bool mr_srtp_install_hmac_sha1(void)
{
    memset(key6, 0xaa, sizeof(key6));
    /* libsrtp runs our test cases and those of the type it replaces. */
    return srtp_replace_auth_type(&hmac_sha1_type, SRTP_HMAC_SHA1) == srtp_err_status_ok;
}
