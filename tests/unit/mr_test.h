/*
 * A minimal unit-test harness: CHECK macros record failures with file and
 * line and keep going; MR_TEST_MAIN runs every listed test and returns
 * non-zero when any check failed, which CTest reports.
 */
#ifndef MR_TEST_H
#define MR_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mr_test_failures;
static int mr_test_checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        mr_test_checks++;                                                        \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            mr_test_failures++;                                                  \
        }                                                                        \
    } while (0)

#define CHECK_INT(a, b)                                                               \
    do {                                                                              \
        long long mr_a_ = (long long)(a), mr_b_ = (long long)(b);                     \
        mr_test_checks++;                                                             \
        if (mr_a_ != mr_b_) {                                                         \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,      \
                    __LINE__, #a, mr_a_, #b, mr_b_);                                  \
            mr_test_failures++;                                                       \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                                  \
    do {                                                                                 \
        const char *mr_a_ = (a), *mr_b_ = (b);                                           \
        mr_test_checks++;                                                                \
        if (!mr_a_ || !mr_b_ || strcmp(mr_a_, mr_b_) != 0) {                             \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    #a, mr_a_ ? mr_a_ : "(null)", mr_b_ ? mr_b_ : "(null)");             \
            mr_test_failures++;                                                          \
        }                                                                                \
    } while (0)

#define CHECK_MEM(a, b, n)                                                          \
    do {                                                                            \
        mr_test_checks++;                                                           \
        if (memcmp((a), (b), (n)) != 0) {                                           \
            fprintf(stderr, "%s:%d: %s differs from %s\n", __FILE__, __LINE__, #a, #b); \
            mr_test_failures++;                                                     \
        }                                                                           \
    } while (0)

typedef void (*mr_test_fn)(void);

struct mr_test_case {
    const char *name;
    mr_test_fn fn;
};

#define MR_TEST(fn) { #fn, fn }

static inline int mr_test_run(const struct mr_test_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int before = mr_test_failures;
        cases[i].fn();
        printf("%s %s\n", mr_test_failures == before ? "ok  " : "FAIL", cases[i].name);
    }
    printf("%d checks, %d failed\n", mr_test_checks, mr_test_failures);
    return mr_test_failures ? 1 : 0;
}

#define MR_TEST_MAIN(...)                                                  \
    int main(void)                                                         \
    {                                                                      \
        static const struct mr_test_case cases[] = {__VA_ARGS__};          \
        return mr_test_run(cases, sizeof(cases) / sizeof(cases[0]));       \
    }

/* Reads a whole file into a NUL-terminated heap buffer (caller frees). */
static inline char *mr_test_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len_out)
            *len_out = (size_t)n;
    }
    return buf;
}

#endif
