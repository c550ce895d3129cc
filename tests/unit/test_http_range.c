/* Range header parsing (RFC 9110 §14.1.1-14.2), with the RFC's examples. */
#include "http/range.h"
#include "mr_test.h"

static enum mr_http_range_kind parse(const char *h, uint64_t size, uint64_t *first,
                                     uint64_t *last)
{
    struct mr_http_range r = {99, 99};
    enum mr_http_range_kind k = mr_http_range_parse(h, size, &r);
    *first = r.first;
    *last = r.last;
    return k;
}

#define ONE(h, size, f, l)                                                     \
    do {                                                                       \
        uint64_t a_, b_;                                                       \
        CHECK_INT(parse((h), (size), &a_, &b_), MR_HTTP_RANGE_ONE);            \
        CHECK_INT(a_, (f));                                                    \
        CHECK_INT(b_, (l));                                                    \
    } while (0)

#define KIND(h, size, kind)                                                    \
    do {                                                                       \
        uint64_t a_, b_;                                                       \
        CHECK_INT(parse((h), (size), &a_, &b_), (kind));                       \
    } while (0)

/* §14.1.2's examples on a 10000-byte representation. */
static void test_rfc_examples(void)
{
    ONE("bytes=0-499", 10000, 0, 499);
    ONE("bytes=500-999", 10000, 500, 999);
    ONE("bytes=-500", 10000, 9500, 9999);
    ONE("bytes=9500-", 10000, 9500, 9999);
    ONE("bytes=0-0", 10000, 0, 0);
    ONE("bytes=-1", 10000, 9999, 9999);
    /* Several ranges: served whole (200), which §14.2 allows. */
    KIND("bytes=0-0,-1", 10000, MR_HTTP_RANGE_NONE);
    KIND("bytes=500-600,601-999", 10000, MR_HTTP_RANGE_NONE);
    KIND("bytes=500-700,601-999", 10000, MR_HTTP_RANGE_NONE);
}

static void test_clamping(void)
{
    ONE("bytes=0-99999", 1000, 0, 999);            /* last-pos past the end */
    ONE("bytes=-5000", 1000, 0, 999);              /* suffix longer than the file */
    ONE("bytes=999-", 1000, 999, 999);
    ONE("bytes=0-18446744073709551615", 1000, 0, 999);
    ONE("bytes=0-99999999999999999999999", 1000, 0, 999); /* saturates */
    ONE("bytes=-99999999999999999999999", 1000, 0, 999);
}

static void test_unsatisfiable(void)
{
    KIND("bytes=1000-", 1000, MR_HTTP_RANGE_UNSATISFIABLE);
    KIND("bytes=1000-2000", 1000, MR_HTTP_RANGE_UNSATISFIABLE);
    KIND("bytes=-0", 1000, MR_HTTP_RANGE_UNSATISFIABLE);
    KIND("bytes=99999999999999999999999-", 1000, MR_HTTP_RANGE_UNSATISFIABLE);
    KIND("bytes=2000-,3000-4000", 1000, MR_HTTP_RANGE_UNSATISFIABLE);
    /* One satisfiable range among several: the whole file. */
    KIND("bytes=2000-,0-1", 1000, MR_HTTP_RANGE_NONE);
    /* An empty representation satisfies only a non-zero suffix, which
     * selects nothing: it is sent whole (and empty). */
    KIND("bytes=0-", 0, MR_HTTP_RANGE_UNSATISFIABLE);
    KIND("bytes=0-10", 0, MR_HTTP_RANGE_UNSATISFIABLE);
    KIND("bytes=-10", 0, MR_HTTP_RANGE_NONE);
    KIND("bytes=-0", 0, MR_HTTP_RANGE_UNSATISFIABLE);
}

/* Malformed specifiers and other units are ignored: whole file. */
static void test_ignored(void)
{
    static const char *const bad[] = {
        "",           "bytes",         "bytes=",      "bytes=-",     "bytes=a-b",
        "bytes=5",    "bytes=5-3",     "bytes=1-2-3", "bytes=--1",   "bytes=1--2",
        "items=0-1",  "bytes 0-1",     "bytes=0-1;",  "bytes=+1-2",  "bytes=0x10-",
        "bytes=0 - 1", "bytes=,",      "bytes=0-1 x", "bytesx=0-1",  "=0-1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t a, b;
        enum mr_http_range_kind k = parse(bad[i], 1000, &a, &b);
        if (k != MR_HTTP_RANGE_NONE)
            fprintf(stderr, "not ignored: \"%s\"\n", bad[i]);
        CHECK_INT(k, MR_HTTP_RANGE_NONE);
    }
    KIND(NULL, 1000, MR_HTTP_RANGE_NONE);
}

static void test_syntax_variants(void)
{
    ONE("Bytes=1-2", 1000, 1, 2);                  /* the unit is case-insensitive */
    ONE("BYTES = 1-2", 1000, 1, 2);
    ONE("bytes=1-2 ", 1000, 1, 2);
    ONE("bytes= 1-2", 1000, 1, 2);
    ONE("bytes=,1-2,", 1000, 1, 2);                /* empty list elements (#rule) */
    ONE("bytes=\t5-", 1000, 5, 999);
    ONE("bytes=007-008", 1000, 7, 8);
    KIND("bytes=1-2 , 4-5", 1000, MR_HTTP_RANGE_NONE);
    /* More specs than are looked at: the whole file. */
    KIND("bytes=0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1", 1000,
         MR_HTTP_RANGE_NONE);
}

MR_TEST_MAIN(MR_TEST(test_rfc_examples), MR_TEST(test_clamping), MR_TEST(test_unsatisfiable),
             MR_TEST(test_ignored), MR_TEST(test_syntax_variants))
