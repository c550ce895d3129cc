/*
 * Tests for relay/core/name.c: room and stream names are
 * [A-Za-z0-9_-]{1,64} (ARCHITECTURE.md §1 "Names") because they become
 * parts of file paths, so everything that could traverse or escape a path
 * must be refused.
 */
#include "core/name.h"
#include "mr_test.h"

static bool valid(const char *s)
{
    return mr_name_valid(s, strlen(s));
}

static void test_valid(void)
{
    CHECK(valid("a"));
    CHECK(valid("Z"));
    CHECK(valid("0"));
    CHECK(valid("_"));
    CHECK(valid("-"));
    CHECK(valid("ward-7"));
    CHECK(valid("Room_1-a"));
    CHECK(valid("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));

    char name[MR_NAME_MAX + 2];
    memset(name, 'n', sizeof(name));
    CHECK(mr_name_valid(name, MR_NAME_MAX));      /* 64: the longest */
    CHECK(!mr_name_valid(name, MR_NAME_MAX + 1)); /* 65: one too many */
    CHECK_INT(MR_NAME_MAX, 64);
}

static void test_invalid(void)
{
    static const char *const bad[] = {
        "",  ".",   "..",    "a.b", "/",        "a/b",   "../etc", "\\",           "a\\b",
        "%", "%2e", "a%2fb", " ",   "a b",      " a",    "a ",     "\t",           "a\nb",
        "*", "a:b", "a;b",   "a?b", "a#b",      "~",     "a+b",    "a=b",          "\"",
        "'", "<a>", "a&b",   "é",   "\xc3\xa9", "a\xff", "\x80",   "\xe2\x80\x8b",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (valid(bad[i]))
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK(!valid(bad[i]));
    }
    /* A NUL inside the given length, at the start, and at the end. */
    CHECK(!mr_name_valid("ab\0cd", 5));
    CHECK(!mr_name_valid("\0abc", 4));
    CHECK(!mr_name_valid("abc\0", 4));
    CHECK(!mr_name_valid(NULL, 3));
    CHECK(!mr_name_valid(NULL, 0));
    CHECK(!mr_name_valid("abc", 0));
}

/* Only len bytes count, so a name can be checked inside a longer buffer
 * such as a URL path. */
static void test_length_bounded(void)
{
    CHECK(mr_name_valid("room/stream", 4));
    CHECK(!mr_name_valid("room/stream", 5));
    CHECK(mr_name_valid("abc.def", 3));
}

MR_TEST_MAIN(MR_TEST(test_valid), MR_TEST(test_invalid), MR_TEST(test_length_bounded))
