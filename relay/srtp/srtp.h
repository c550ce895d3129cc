/*
 * SRTP and SRTCP sessions (RFC 3711, RFC 7714) on libsrtp2, keyed from the
 * DTLS-SRTP exporter (RFC 5764 §4.2).
 *
 * A session holds one inbound and one outbound context for a peer. It is not
 * thread-safe: it belongs to the media worker that owns the peer.
 */
#ifndef MR_SRTP_SRTP_H
#define MR_SRTP_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DTLS-SRTP protection profile ids (RFC 5764 §4.1.2, RFC 7714 §14.2). */
enum mr_srtp_profile {
    MR_SRTP_AES128_CM_SHA1_80 = 0x0001,
    MR_SRTP_AEAD_AES_128_GCM = 0x0007,
};

/* Bytes a protect call may append (auth tag, MKI, SRTCP index). Buffers
 * passed to the protect functions need this much room past the packet. */
#define MR_SRTP_MAX_OVERHEAD 148

/* Bytes of master key and master salt per profile. */
#define MR_SRTP_MAX_KEY_SALT 30

/* Initializes libsrtp once per process; returns 0 or MR_ECRYPTO. */
int mr_srtp_global_init(void);

/* Which crypto backend the running libsrtp2 uses: "OpenSSL", "NSS",
 * "mbedTLS", "built-in" (libsrtp's own AES), or "unknown" if libsrtp could
 * not be initialized. Asked of libsrtp itself (its cipher modules are named
 * after the backend), once; initializes libsrtp if needed. The string is
 * static. */
const char *mr_srtp_backend(void);

/* Whether HMAC-SHA1 runs on keyed states kept per session (hmac_sha1.h)
 * rather than libsrtp's own per-packet re-keying; initializes libsrtp if
 * needed. */
bool mr_srtp_keyed_hmac(void);

/* The libsrtp2 version string, e.g. "libsrtp2 2.5.0". */
const char *mr_srtp_version(void);

const char *mr_srtp_profile_name(enum mr_srtp_profile p); /* RFC names */
unsigned mr_srtp_key_len(enum mr_srtp_profile p);
unsigned mr_srtp_salt_len(enum mr_srtp_profile p);

struct mr_srtp;

/*
 * Creates a session. local_key_salt and remote_key_salt each hold the master
 * key followed by the master salt (key_len + salt_len bytes), as the DTLS
 * exporter hands them out for this side and the peer's side.
 * Returns 0, MR_ENOTSUP for an unknown profile, or MR_ECRYPTO.
 */
int mr_srtp_new(enum mr_srtp_profile profile, const uint8_t *local_key_salt,
                const uint8_t *remote_key_salt, struct mr_srtp **out);
void mr_srtp_free(struct mr_srtp *s);

/*
 * Protect in place: *len grows by the trailer; cap is the buffer size and
 * must be at least *len + MR_SRTP_MAX_OVERHEAD. Unprotect in place: *len
 * shrinks. Return 0, MR_ENOSPC, MR_EAUTH (authentication or replay check
 * failed), or MR_ECRYPTO.
 */
int mr_srtp_protect_rtp(struct mr_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int mr_srtp_protect_rtcp(struct mr_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int mr_srtp_unprotect_rtp(struct mr_srtp *s, uint8_t *buf, size_t *len);
int mr_srtp_unprotect_rtcp(struct mr_srtp *s, uint8_t *buf, size_t *len);

#endif
