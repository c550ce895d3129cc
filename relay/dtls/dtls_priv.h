/* Internal to relay/dtls: the identity's OpenSSL objects. */
#ifndef MR_DTLS_PRIV_H
#define MR_DTLS_PRIV_H

#include <openssl/ssl.h>

#include "dtls/dtls.h"

struct mr_dtls_identity {
    SSL_CTX *ctx; /* DTLS context holding the certificate and key */
    char fingerprint[MR_DTLS_FINGERPRINT_LEN];
};

#endif
