/*
 * DTLS 1.2 for DTLS-SRTP (RFC 5764, RFC 8842) on OpenSSL 3, driven entirely
 * through memory: the owner feeds received datagrams in and gets datagrams to
 * send through a callback, so the same code serves the relay (usually the
 * DTLS server) and the test peer (usually the client) over any transport.
 *
 * Threads: a struct mr_dtls_identity is immutable once made and may be shared
 * by every media worker; a struct mr_dtls belongs to one worker.
 */
#ifndef MR_DTLS_DTLS_H
#define MR_DTLS_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MR_DTLS_FINGERPRINT_LEN 96 /* "AB:CD:..." for SHA-256, with NUL */
#define MR_DTLS_MAX_KEY_SALT 30

struct mr_dtls_identity;

/* Creates a fresh ECDSA P-256 key and a self-signed certificate valid for
 * 30 days (made at start-up; WebRTC certificates are not pinned by CAs).
 * Returns 0 or MR_ECRYPTO. */
int mr_dtls_identity_new(struct mr_dtls_identity **out);
void mr_dtls_identity_free(struct mr_dtls_identity *id);

/* Restricts the DTLS-SRTP profiles offered or accepted, in preference order,
 * e.g. "SRTP_AES128_CM_SHA1_80" (OpenSSL names, ':'-separated). The default
 * prefers SRTP_AEAD_AES_128_GCM, then SRTP_AES128_CM_SHA1_80. For test
 * peers and benchmarks that must pin a cipher; call before any association
 * is made. Returns 0 or MR_EINVAL. */
int mr_dtls_identity_set_srtp_profiles(struct mr_dtls_identity *id, const char *profiles);

/* SHA-256 fingerprint of the certificate, "AB:CD:...". Borrowed. */
const char *mr_dtls_identity_fingerprint(const struct mr_dtls_identity *id);

enum mr_dtls_role { MR_DTLS_SERVER, MR_DTLS_CLIENT };

struct mr_dtls_ops {
    /* Sends one datagram (one DTLS flight or part of it). */
    void (*send)(void *user, const uint8_t *buf, size_t len);
    /* The handshake finished and the peer's certificate matched the
     * fingerprint: keys are available. */
    void (*connected)(void *user);
    /* The handshake failed or the peer sent a fatal alert. `why` is static. */
    void (*failed)(void *user, const char *why);
    /* The peer closed the association (close_notify). */
    void (*closed)(void *user);
};

/* Keying material exported after the handshake (RFC 5764 §4.2). */
struct mr_dtls_srtp_keys {
    uint16_t profile;        /* DTLS-SRTP protection profile id */
    uint8_t local[MR_DTLS_MAX_KEY_SALT];  /* our master key then salt */
    uint8_t remote[MR_DTLS_MAX_KEY_SALT]; /* the peer's master key then salt */
    unsigned key_len;
    unsigned salt_len;
};

struct mr_dtls;

/* Creates an association. ops and user are borrowed for its lifetime.
 * Returns 0, MR_ENOMEM or MR_ECRYPTO. */
int mr_dtls_new(const struct mr_dtls_identity *id, enum mr_dtls_role role,
                const struct mr_dtls_ops *ops, void *user, struct mr_dtls **out);
void mr_dtls_free(struct mr_dtls *d);

/* The fingerprint from the peer's SDP (alg "sha-256" etc., raw digest). The
 * handshake fails unless the peer's certificate has this digest. */
int mr_dtls_set_remote_fingerprint(struct mr_dtls *d, const char *alg, const uint8_t *digest,
                                   size_t len);

/* A client sends its ClientHello; a server waits for one. */
int mr_dtls_start(struct mr_dtls *d);

/* Feeds one received DTLS datagram. Callbacks may run inside. Returns 0, or
 * MR_EPARSE for records the association rejects (ignored by the caller). */
int mr_dtls_handle_datagram(struct mr_dtls *d, const uint8_t *buf, size_t len);

/* Microseconds until the retransmission timer fires, or -1 when no timer is
 * running. The owner arms a timer and then calls mr_dtls_handle_timeout. */
int64_t mr_dtls_timeout_us(struct mr_dtls *d);
void mr_dtls_handle_timeout(struct mr_dtls *d);

bool mr_dtls_is_connected(const struct mr_dtls *d);
int mr_dtls_srtp_keys(struct mr_dtls *d, struct mr_dtls_srtp_keys *out);

/* Negotiated cipher suite ("ECDHE-ECDSA-AES128-GCM-SHA256") and protocol
 * version ("DTLSv1.2"); "" before the handshake. */
const char *mr_dtls_cipher(const struct mr_dtls *d);
const char *mr_dtls_version(const struct mr_dtls *d);

/* Sends close_notify (best effort). */
void mr_dtls_close(struct mr_dtls *d);

#endif
