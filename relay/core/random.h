/* Cryptographically strong random bytes from the kernel (getrandom(2)). */
#ifndef MR_CORE_RANDOM_H
#define MR_CORE_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf; aborts the process if the kernel cannot supply randomness,
 * because every caller (ids, SSRCs, secrets) depends on it for security. */
void mr_random_bytes(void *buf, size_t len);

uint32_t mr_random_u32(void);

/* Writes 2*nbytes lowercase hex digits and a NUL into out. */
void mr_random_hex(char *out, size_t nbytes);

#endif
