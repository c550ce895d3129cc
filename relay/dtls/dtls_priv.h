/* Internal to relay/dtls: the identity's OpenSSL objects. */
#ifndef MR_DTLS_PRIV_H
#define MR_DTLS_PRIV_H

#include <openssl/ssl.h>

#include "dtls/dtls.h"

struct mr_dtls_identity {
    SSL_CTX *ctx; /* DTLS context holding the certificate and key */
    char fingerprint[MR_DTLS_FINGERPRINT_LEN];
};

/* The certificate check of every association (dtls.c): WebRTC certificates
 * are self-signed and authenticated by the fingerprint signalled in SDP. */
int mr_dtls_verify_peer(int preverify_ok, X509_STORE_CTX *ctx);

#endif
