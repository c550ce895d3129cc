/*
 * Fuzz target for signaling/http/range.h: the Range header of a recording
 * download (RFC 9110 §14.2), the one header whose numbers decide which bytes
 * of a file the server reads and sends. A range outside the file would read
 * past it, or send another offset than Content-Range claims.
 *
 * Input: "<file size>\n<header>", e.g. "10000\nbytes=-500": the decimal
 * digits before the first LF give a file size N (other bytes there are
 * skipped, and it wraps modulo 2^64, so the fuzzer reaches every size);
 * without a LF the whole input is the header. The header is parsed against
 * N - 1, N, N + 1 and the edges 0, 1, 10000 (the RFC's examples) and
 * UINT64_MAX. It is NUL-terminated, as libwebsockets hands it over, in an
 * exact-size heap block so that ASan sees a read past the NUL.
 *
 * Property (abort() when broken): a returned range lies inside the file,
 * first <= last < size, and the kind is one of the three.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_one(const char *header, uint64_t file_size)
{
    struct mr_http_range r = {0, 0};
    enum mr_http_range_kind k = mr_http_range_parse(header, file_size, &r);
    if (k == MR_HTTP_RANGE_NONE || k == MR_HTTP_RANGE_UNSATISFIABLE)
        return;
    if (k != MR_HTTP_RANGE_ONE) {
        fprintf(stderr, "unknown kind %d\n", (int)k);
        abort();
    }
    if (!(r.first <= r.last && r.last < file_size)) {
        fprintf(stderr, "range %llu-%llu outside a file of %llu bytes\n",
                (unsigned long long)r.first, (unsigned long long)r.last,
                (unsigned long long)file_size);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t n = 0;
    const uint8_t *lf = size ? memchr(data, '\n', size) : NULL;
    if (lf) {
        for (const uint8_t *p = data; p < lf; p++)
            if (*p >= '0' && *p <= '9')
                n = n * 10 + (uint64_t)(*p - '0');
        size -= (size_t)(lf + 1 - data);
        data = lf + 1;
    }
    char *header = malloc(size + 1);
    if (!header)
        return 0;
    memcpy(header, data, size);
    header[size] = '\0';

    const uint64_t sizes[] = {n - 1, n, n + 1, 0, 1, 10000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        check_one(header, sizes[i]);
    check_one(NULL, n);
    free(header);
    return 0;
}
