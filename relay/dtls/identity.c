/* The relay's DTLS certificate and the SSL_CTX every association uses. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "dtls/dtls_priv.h"

/* Server preference decides the profile in OpenSSL: GCM when the peer
 * offers it, AES-CM (what Chromium and aiortc offer) otherwise. */
#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define CIPHERS                                                                          \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"                      \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA"


static X509 *make_certificate(EVP_PKEY *key)
{
    X509 *cert = X509_new();
    if (!cert)
        return NULL;
    unsigned char serial[8];
    ASN1_INTEGER *sn = NULL;
    BIGNUM *bn = NULL;
    X509_NAME *name = NULL;
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    if (!sn || X509_set_serialNumber(cert, sn) != 1 || X509_set_version(cert, 2) != 1)
        goto fail;
    /* Start a day early so peers with skewed clocks accept it. */
    if (!X509_gmtime_adj(X509_getm_notBefore(cert), -24 * 3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600))
        goto fail;
    name = X509_NAME_new();
    if (!name ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"medrelay",
                                   -1, -1, 0) != 1 ||
        X509_set_subject_name(cert, name) != 1 || X509_set_issuer_name(cert, name) != 1 ||
        X509_set_pubkey(cert, key) != 1 || X509_sign(cert, key, EVP_sha256()) == 0)
        goto fail;
    X509_NAME_free(name);
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    return cert;

    /* ERRORS */
fail:
    X509_NAME_free(name);
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    X509_free(cert);
    return NULL;
}

static int format_fingerprint(X509 *cert, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len * 3 > cap)
        return MR_ECRYPTO;
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 3 * i, 4, i + 1 < len ? "%02X:" : "%02X", md[i]);
    return 0;
}

static SSL_CTX *make_context(EVP_PKEY *key, X509 *cert)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    if (!ctx)
        return NULL;
    /* OpenSSL 3.0 has no DTLS 1.3; pin 1.2 so both ends agree on exporter
     * semantics. */
    if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 || SSL_CTX_set_cipher_list(ctx, CIPHERS) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1 ||
        /* Note: returns 0 on success, unlike the others. */
        SSL_CTX_set_tlsext_use_srtp(ctx, SRTP_PROFILES) != 0)
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       mr_dtls_verify_peer);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
    /* After the handshake an association only sees the odd alert: give its
     * record buffers back (tens of KiB per peer, times hundreds of viewers). */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;

    /* ERRORS */
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int mr_dtls_identity_new(struct mr_dtls_identity **out)
{
    struct mr_dtls_identity *id = calloc(1, sizeof(*id));
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    if (!id)
        return MR_ENOMEM;
    key = EVP_EC_gen("P-256");
    if (!key)
        goto fail;
    cert = make_certificate(key);
    if (!cert)
        goto fail;
    if (format_fingerprint(cert, id->fingerprint, sizeof(id->fingerprint)) < 0)
        goto fail;
    id->ctx = make_context(key, cert);
    if (!id->ctx)
        goto fail;
    /* The context holds its own references now. */
    X509_free(cert);
    EVP_PKEY_free(key);
    *out = id;
    return 0;

    /* ERRORS */
fail:
    X509_free(cert);
    EVP_PKEY_free(key);
    free(id);
    return MR_ECRYPTO;
}

void mr_dtls_identity_free(struct mr_dtls_identity *id)
{
    if (!id)
        return;
    SSL_CTX_free(id->ctx);
    free(id);
}

int mr_dtls_identity_set_srtp_profiles(struct mr_dtls_identity *id, const char *profiles)
{
    /* SSL_CTX_set_tlsext_use_srtp returns 0 on success. */
    return SSL_CTX_set_tlsext_use_srtp(id->ctx, profiles) == 0 ? 0 : MR_EINVAL;
}

const char *mr_dtls_identity_fingerprint(const struct mr_dtls_identity *id)
{
    return id->fingerprint;
}
