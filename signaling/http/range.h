/*
 * HTTP range requests (RFC 9110 §14): parsing a Range header against the
 * size of the representation. Pure: no allocation, no I/O.
 *
 *   Range        = ranges-specifier                       (§14.2)
 *   ranges-specifier = range-unit "=" range-set           (§14.1.1)
 *   range-set    = 1#range-spec
 *   range-spec   = int-range / suffix-range / other-range
 *   int-range    = first-pos "-" [ last-pos ]
 *   suffix-range = "-" suffix-length
 *
 * One range is served (206); a request for several ranges is answered
 * with the whole representation (200), which §14.2 allows ("a server MAY
 * ignore the Range header field"), unless none of them is satisfiable
 * (416). A header that is malformed or names another unit is ignored, as
 * §14.2 requires for unknown units and permits for invalid specifiers.
 */
#ifndef MR_HTTP_RANGE_H
#define MR_HTTP_RANGE_H

#include <stdint.h>

enum mr_http_range_kind {
    MR_HTTP_RANGE_NONE,          /* serve the whole representation (200) */
    MR_HTTP_RANGE_ONE,           /* serve [first, last] (206) */
    MR_HTTP_RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * /size */
};

struct mr_http_range {
    uint64_t first; /* inclusive; only for MR_HTTP_RANGE_ONE */
    uint64_t last;  /* inclusive, < size */
};

/* header: the Range field value ("" or NULL when absent); size: the
 * representation's length in bytes. Fills out for MR_HTTP_RANGE_ONE. */
enum mr_http_range_kind mr_http_range_parse(const char *header, uint64_t size,
                                            struct mr_http_range *out);

#endif
