/* SRTP for outgoing RTP under AES_CM_128_HMAC_SHA1_80, directly on OpenSSL (srtp_send.h). */
#include "srtp/srtp_send.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/error.h"
#include "rtp/rtp.h"
#include "srtp/hmac_sha1.h"

#define KEY_LEN      16
#define SALT_LEN     14
#define AUTH_KEY_LEN 20
#define SEQ_HALF     32768 /* RFC 3711's 2^15 */

/* RFC 3711 §4.3.1 labels for SRTP's session keys. */
enum { LABEL_ENCRYPTION = 0x00, LABEL_AUTH = 0x01, LABEL_SALT = 0x02 };

/* An SSRC and the highest packet index sent under it (ROC << 16 | SEQ). */
struct ssrc_index {
    uint32_t ssrc;
    uint64_t top;
};

struct mr_srtp_sender {
    EVP_CIPHER_CTX *ctr; /* AES-128-CTR under the session encryption key */
    struct mr_hmac_sha1 auth;
    uint8_t salt[SALT_LEN];
    struct ssrc_index *ssrcs;
    unsigned n_ssrcs, cap_ssrcs;
};

/*
 * A session key with the key derivation rate 0 (RFC 3711 §4.3.1, §4.3.3):
 * the AES-CM keystream under the master key from the IV x * 2^16, where x is
 * the master salt XOR key_id, key_id being the label followed by 48 zero
 * bits, right-aligned (so the label lands on octet 7 of the salt).
 */
static bool derive(const uint8_t *master_key, const uint8_t *master_salt, uint8_t label,
                   uint8_t *out, int len)
{
    static const uint8_t zeros[32];
    uint8_t iv[16] = {0};
    memcpy(iv, master_salt, SALT_LEN);
    iv[7] ^= label;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = c && len <= (int)sizeof(zeros) &&
              EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, master_key, iv) &&
              EVP_EncryptUpdate(c, out, &n, zeros, len) && n == len;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static int key_session(struct mr_srtp_sender *s, const uint8_t *master_key_salt)
{
    const uint8_t *master_salt = master_key_salt + KEY_LEN;
    uint8_t enc[KEY_LEN], auth[AUTH_KEY_LEN];
    bool ok = derive(master_key_salt, master_salt, LABEL_ENCRYPTION, enc, KEY_LEN) &&
              derive(master_key_salt, master_salt, LABEL_AUTH, auth, AUTH_KEY_LEN) &&
              derive(master_key_salt, master_salt, LABEL_SALT, s->salt, SALT_LEN) &&
              EVP_EncryptInit_ex(s->ctr, EVP_aes_128_ctr(), NULL, enc, NULL) &&
              mr_hmac_sha1_key(&s->auth, auth, AUTH_KEY_LEN);
    OPENSSL_cleanse(enc, sizeof(enc));
    OPENSSL_cleanse(auth, sizeof(auth));
    return ok ? 0 : MR_ECRYPTO;
}

int mr_srtp_sender_new(const uint8_t *master_key_salt, struct mr_srtp_sender **out)
{
    struct mr_srtp_sender *s = calloc(1, sizeof(*s));
    if (!s)
        return MR_ENOMEM;
    s->ctr = EVP_CIPHER_CTX_new();
    int rc = s->ctr ? key_session(s, master_key_salt) : MR_ENOMEM;
    if (rc < 0) {
        mr_srtp_sender_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void mr_srtp_sender_free(struct mr_srtp_sender *s)
{
    if (!s)
        return;
    EVP_CIPHER_CTX_free(s->ctr); /* wipes its key schedule */
    free(s->ssrcs);
    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}

static struct ssrc_index *ssrc_entry(struct mr_srtp_sender *s, uint32_t ssrc)
{
    for (unsigned i = 0; i < s->n_ssrcs; i++)
        if (s->ssrcs[i].ssrc == ssrc)
            return &s->ssrcs[i];
    if (s->n_ssrcs == s->cap_ssrcs) {
        unsigned cap = s->cap_ssrcs ? s->cap_ssrcs * 2 : 4;
        struct ssrc_index *grown = realloc(s->ssrcs, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        s->ssrcs = grown;
        s->cap_ssrcs = cap;
    }
    struct ssrc_index *e = &s->ssrcs[s->n_ssrcs++];
    *e = (struct ssrc_index){.ssrc = ssrc};
    return e;
}

/*
 * The packet index for seq (RFC 3711 §3.3.1, Appendix A), guessed against
 * the highest index sent; the rollover counter stays 0 until that index is
 * past 2^15, as in libsrtp. False when the counter would pass 2^32 - 1.
 */
static bool packet_index(const struct ssrc_index *e, uint16_t seq, uint64_t *index)
{
    if (e->top <= SEQ_HALF) {
        *index = seq;
        return true;
    }
    uint32_t roc = (uint32_t)(e->top >> 16);
    int s_l = (int)(e->top & 0xffff);
    if (s_l < SEQ_HALF) {
        if ((int)seq - s_l > SEQ_HALF)
            roc--; /* from before the last wrap; top > 2^15 makes roc >= 1 */
    } else if (s_l - SEQ_HALF > (int)seq) {
        if (roc == UINT32_MAX)
            return false;
        roc++;
    }
    *index = (uint64_t)roc << 16 | seq;
    return true;
}

/* IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), RFC 3711 §4.1.1. */
static void packet_iv(const struct mr_srtp_sender *s, uint32_t ssrc, uint64_t index, uint8_t iv[16])
{
    memcpy(iv, s->salt, SALT_LEN);
    iv[14] = iv[15] = 0;
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; i++)
        iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

static bool encrypt(struct mr_srtp_sender *s, const uint8_t iv[16], uint8_t *p, size_t len)
{
    int n = 0;
    return len == 0 || (EVP_EncryptInit_ex(s->ctr, NULL, NULL, NULL, iv) &&
                        EVP_EncryptUpdate(s->ctr, p, &n, p, (int)len) && n == (int)len);
}

int mr_srtp_sender_protect(struct mr_srtp_sender *s, uint8_t *buf, size_t *len, size_t cap)
{
    size_t n = *len;
    if (n > INT_MAX || cap < n + MR_SRTP_SEND_TAG_LEN)
        return MR_ENOSPC;
    struct mr_rtp_header h;
    if (mr_rtp_parse(buf, n, &h) < 0)
        return MR_EPARSE;
    struct ssrc_index *e = ssrc_entry(s, h.ssrc);
    if (!e)
        return MR_ENOMEM;
    uint64_t index;
    if (!packet_index(e, h.seq, &index))
        return MR_ECRYPTO;
    uint8_t iv[16];
    packet_iv(s, h.ssrc, index, iv);
    /* The authenticated part is the whole packet, then the ROC (§4.2). */
    uint32_t roc = (uint32_t)(index >> 16);
    uint8_t roc_be[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8),
                         (uint8_t)roc};
    if (!encrypt(s, iv, buf + h.header_len, n - h.header_len) ||
        !mr_hmac_sha1_tag(&s->auth, buf, n, roc_be, sizeof(roc_be), buf + n, MR_SRTP_SEND_TAG_LEN))
        return MR_ECRYPTO;
    if (index > e->top)
        e->top = index;
    *len = n + MR_SRTP_SEND_TAG_LEN;
    return 0;
}
