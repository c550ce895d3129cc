/*
 * Which crypto backend the running libsrtp2 uses. Depends on libsrtp only,
 * so that the SRTP benchmark (linked once per libsrtp build) can compile
 * it too.
 */
#ifndef MR_SRTP_BACKEND_H
#define MR_SRTP_BACKEND_H

/* "OpenSSL", "NSS", "mbedTLS", "built-in" or "unknown". Call after
 * srtp_init() and before any session exists (it briefly installs a libsrtp
 * log handler). The string is static. */
const char *mr_srtp_probe_backend(void);

#endif
