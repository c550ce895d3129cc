/* ISO 8601 UTC times (signaling/api/isotime.h), checked against Python's
 * calendar.timegm. */
#include "api/isotime.h"
#include "core/error.h"
#include "mr_test.h"

static int64_t parse(const char *s)
{
    int64_t t = -424242;
    return mr_iso_time_parse(s, &t) == 0 ? t : -424242;
}

static void test_parse(void)
{
    CHECK_INT(parse("2025-01-02T08:00:00Z"), 1735804800);
    CHECK_INT(parse("2024-02-29T23:59:59Z"), 1709251199);
    CHECK_INT(parse("1970-01-01T00:00:00Z"), 0);
    CHECK_INT(parse("2000-03-01T00:00:00Z"), 951868800);
    CHECK_INT(parse("1969-12-31T23:59:59Z"), -1);
    CHECK_INT(parse("2025-01-02"), 1735776000);
    CHECK_INT(parse("2025-01-02T08:00Z"), 1735804800);
    CHECK_INT(parse("2025-01-02T08:00:00"), 1735804800);
    CHECK_INT(parse("2025-01-02T08:00:00.123456Z"), 1735804800);
    CHECK_INT(parse("2025-01-02t08:00:00z"), 1735804800);
    CHECK_INT(parse("2025-01-02 08:00:00Z"), 1735804800);
    CHECK_INT(parse("2025-01-02T09:00:00+01:00"), 1735804800);
    CHECK_INT(parse("2025-01-02T03:30:00-0430"), 1735804800);
    CHECK_INT(parse("2025-01-02T09:00:00 01:00"), 1735804800); /* '+' decoded as ' ' */
    CHECK_INT(parse("2016-12-31T23:59:60Z"), 1483228799); /* leap second */
}

static void test_refused(void)
{
    static const char *const bad[] = {
        "", "2025", "2025-1-02", "2025-01-2", "2025-13-01", "2025-00-10", "2025-02-29",
        "2025-04-31", "2025-01-02T", "2025-01-02T8:00", "2025-01-02T24:00:00Z",
        "2025-01-02T08:60:00Z", "2025-01-02T08:00:61Z", "2025-01-02T08:00:00.Z",
        "2025-01-02T08:00:00ZZ", "2025-01-02T08:00:00+1", "2025-01-02T08:00:00+24:00",
        "2025-01-02X08:00:00Z", "2025-01-02T08:00:00 Z", "x2025-01-02", "2025-01-02junk",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t;
        int rc = mr_iso_time_parse(bad[i], &t);
        if (rc != MR_EPARSE)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_INT(rc, MR_EPARSE);
    }
    int64_t t;
    CHECK_INT(mr_iso_time_parse(NULL, &t), MR_EPARSE);
}

static void test_format(void)
{
    char out[MR_ISO_TIME_LEN + 1];
    mr_iso_time_format(1735804800, out);
    CHECK_STR(out, "2025-01-02T08:00:00Z");
    mr_iso_time_format(0, out);
    CHECK_STR(out, "1970-01-01T00:00:00Z");
    mr_iso_time_format(-1, out);
    CHECK_STR(out, "1969-12-31T23:59:59Z");
    mr_iso_time_format(1709251199, out);
    CHECK_STR(out, "2024-02-29T23:59:59Z");
    mr_iso_time_format(INT64_MAX, out);
    CHECK_STR(out, "9999-12-31T23:59:59Z");
    mr_iso_time_format(INT64_MIN, out);
    CHECK_STR(out, "0000-01-01T00:00:00Z");
    /* Round trips over a few centuries, a day and a bit at a time. */
    for (int64_t s = -2208988800LL; s < 4102444800LL; s += 86400 * 37 + 3671) {
        int64_t back;
        mr_iso_time_format(s, out);
        CHECK(mr_iso_time_parse(out, &back) == 0 && back == s);
    }
}

MR_TEST_MAIN(MR_TEST(test_parse), MR_TEST(test_refused), MR_TEST(test_format))
