/* Hex and base64url encodings (pure functions, no allocation). */
#ifndef MR_CORE_ENCODE_H
#define MR_CORE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase hex digits and a NUL into out. */
void mr_hex_encode(const uint8_t *in, size_t len, char *out);

/* Length of the unpadded base64url encoding of len bytes (without NUL). */
size_t mr_b64url_encoded_len(size_t len);

/* Encodes without padding; out needs mr_b64url_encoded_len(len) + 1 bytes.
 * Returns the encoded length or MR_ENOSPC. */
int mr_b64url_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Decodes unpadded base64url (padding '=' is refused, as JWT requires).
 * Returns the decoded length, MR_EPARSE on a bad character or length, or
 * MR_ENOSPC when out is too small. */
int mr_b64url_decode(const char *in, size_t len, uint8_t *out, size_t out_size);

#endif
