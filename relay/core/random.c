#include "core/random.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "core/encode.h"

void mr_random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("medrelay: getrandom");
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}

uint32_t mr_random_u32(void)
{
    uint32_t v;
    mr_random_bytes(&v, sizeof(v));
    return v;
}

void mr_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    while (nbytes > 0) {
        size_t n = nbytes > sizeof(raw) ? sizeof(raw) : nbytes;
        mr_random_bytes(raw, n);
        mr_hex_encode(raw, n, out);
        out += 2 * n;
        nbytes -= n;
    }
    *out = '\0';
}
