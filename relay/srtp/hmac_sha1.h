/*
 * HMAC-SHA1 (RFC 2104) for libsrtp's AES_CM_128_HMAC_SHA1_80 profile, with
 * the key's inner and outer SHA-1 states computed once per key instead of
 * once per packet. Depends on libsrtp and OpenSSL's libcrypto only, so that
 * the SRTP benchmark can compile it too.
 *
 * libsrtp 2.5 on OpenSSL 3 re-initializes an EVP_MAC context for every
 * packet, which copies a provider digest context (a malloc and a free) and
 * goes through the provider dispatch four times; protecting a 1200-byte
 * packet costs ~1.1-1.4 µs that way against ~1.0 µs with the states kept
 * (tests/bench/srtp_bench.c). The SHA-1 itself is the same (OpenSSL's, with
 * the CPU's SHA extensions when it has them).
 */
#ifndef MR_SRTP_HMAC_SHA1_H
#define MR_SRTP_HMAC_SHA1_H

#include <stdbool.h>

/*
 * Replaces libsrtp's HMAC-SHA1 authentication type with this one through
 * libsrtp's own srtp_replace_auth_type(), which first runs the type's self
 * test (RFC 2202 test cases 1-3). Call once, after srtp_init() and before
 * any session exists; not thread-safe. Returns false, leaving libsrtp's
 * own implementation in place, if libsrtp refuses it.
 */
bool mr_srtp_install_hmac_sha1(void);

#endif
