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
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

/* A key's HMAC-SHA1 states (RFC 2104): SHA-1 after the key ^ ipad block,
 * and after the key ^ opad block. As secret as the key. */
struct mr_hmac_sha1 {
    SHA_CTX inner_keyed, outer_keyed;
};

/* Keys h (keys longer than a block are hashed first). False if SHA-1
 * failed. */
bool mr_hmac_sha1_key(struct mr_hmac_sha1 *h, const uint8_t *key, size_t key_len);

/* The first tag_len (<= 20) bytes of HMAC(key, a || b). False if SHA-1
 * failed. */
bool mr_hmac_sha1_tag(const struct mr_hmac_sha1 *h, const uint8_t *a, size_t a_len,
                      const uint8_t *b, size_t b_len, uint8_t *tag, size_t tag_len);

/*
 * Replaces libsrtp's HMAC-SHA1 authentication type with this one through
 * libsrtp's own srtp_replace_auth_type(), which first runs the type's self
 * test (RFC 2202 test cases 1-3). Call once, after srtp_init() and before
 * any session exists; not thread-safe. Returns false, leaving libsrtp's
 * own implementation in place, if libsrtp refuses it.
 */
bool mr_srtp_install_hmac_sha1(void);

#endif
