/*
 * A direct SRTP sender for RTP under AES_CM_128_HMAC_SHA1_80 (RFC 3711),
 * the profile every browser negotiates: what the fan-out runs once per
 * packet and viewer, without libsrtp's bookkeeping around the cipher.
 *
 * Why: with one session per viewer, libsrtp's protect walks from the
 * session to the stream of the packet's SSRC, to its replay database, its
 * key-usage limit and its cipher and auth objects: at 1 -> 200 those lookups
 * and the calls around them were ~9 % of the relay's CPU, mostly cache
 * misses on state spread over each viewer's allocations. Here a sender is
 * one allocation holding the session keys (derived once, RFC 3711 §4.3),
 * the cipher context and the keyed HMAC states (hmac_sha1.h), and a small
 * table of rollover counters by SSRC. The cryptography is OpenSSL's, as in
 * libsrtp on OpenSSL: AES-128 in counter mode, HMAC-SHA1 with the CPU's
 * extensions.
 *
 * The packet index of each SSRC starts at rollover counter 0 and follows
 * RFC 3711 §3.3.1 (Appendix A) against the highest index sent, as libsrtp's
 * does for a sender: a wrap of the sequence number moves the counter on, a
 * late retransmission from before a wrap is sent under the counter before.
 * Sequence numbers may repeat (retransmissions). RTCP, other profiles and
 * receiving stay with libsrtp (srtp.h).
 *
 * Not thread-safe: it belongs to the worker that owns the peer.
 */
#ifndef MR_SRTP_SRTP_SEND_H
#define MR_SRTP_SRTP_SEND_H

#include <stddef.h>
#include <stdint.h>

/* The HMAC-SHA1-80 tag this sender appends. */
#define MR_SRTP_SEND_TAG_LEN 10

struct mr_srtp_sender;

/* From the 16-byte master key followed by the 14-byte master salt. Returns 0,
 * MR_ENOMEM or MR_ECRYPTO. */
int mr_srtp_sender_new(const uint8_t *master_key_salt, struct mr_srtp_sender **out);
/* Wipes the keys. NULL is fine. */
void mr_srtp_sender_free(struct mr_srtp_sender *s);

/* Encrypts the payload of the RTP packet in buf in place and appends the
 * tag: *len grows by MR_SRTP_SEND_TAG_LEN; cap is the buffer's size.
 * Returns 0, MR_ENOSPC, MR_EPARSE (not an RTP packet), MR_ENOMEM (a new SSRC
 * and no memory for it) or MR_ECRYPTO (OpenSSL failed, or the SSRC's 2^48
 * indexes are used up). */
int mr_srtp_sender_protect(struct mr_srtp_sender *s, uint8_t *buf, size_t *len, size_t cap);

#endif
