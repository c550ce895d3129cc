/*
 * Tests for relay/core/log.c: level specifications, the rate limiter for
 * lines triggered by network input, redaction of patient-adjacent names,
 * and that one call writes exactly one line.
 */
#include <stdint.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "mr_test.h"

static void test_parse_spec_valid(void)
{
    enum mr_log_level lv[MR_LOG_SUB_COUNT];
    char err[200] = "";

    CHECK_INT(mr_log_parse_spec("debug", lv, err, sizeof(err)), 0);
    for (int i = 0; i < MR_LOG_SUB_COUNT; i++)
        CHECK_INT(lv[i], MR_LOG_LEVEL_DEBUG);
    CHECK_INT(mr_log_parse_spec("error", lv, err, sizeof(err)), 0);
    CHECK_INT(lv[MR_LOG_CORE], MR_LOG_LEVEL_ERROR);
    CHECK_INT(mr_log_parse_spec("warn", lv, err, sizeof(err)), 0);
    CHECK_INT(lv[MR_LOG_RECORD], MR_LOG_LEVEL_WARN);

    /* Unnamed subsystems stay at info. */
    CHECK_INT(mr_log_parse_spec("ice=debug,sfu=warn", lv, err, sizeof(err)), 0);
    CHECK_INT(lv[MR_LOG_ICE], MR_LOG_LEVEL_DEBUG);
    CHECK_INT(lv[MR_LOG_SFU], MR_LOG_LEVEL_WARN);
    CHECK_INT(lv[MR_LOG_HTTP], MR_LOG_LEVEL_INFO);
    CHECK_INT(lv[MR_LOG_CORE], MR_LOG_LEVEL_INFO);

    /* A bare level sets every subsystem; later items override it. */
    CHECK_INT(mr_log_parse_spec("error,auth=debug", lv, err, sizeof(err)), 0);
    CHECK_INT(lv[MR_LOG_AUTH], MR_LOG_LEVEL_DEBUG);
    CHECK_INT(lv[MR_LOG_RTP], MR_LOG_LEVEL_ERROR);

    /* Case does not matter; every subsystem name is known. */
    CHECK_INT(mr_log_parse_spec("INFO,Ice=Debug", lv, err, sizeof(err)), 0);
    CHECK_INT(lv[MR_LOG_ICE], MR_LOG_LEVEL_DEBUG);
    CHECK_INT(mr_log_parse_spec("core=debug,config=debug,http=debug,auth=debug,sdp=debug,"
                                "ice=debug,dtls=debug,srtp=debug,rtp=debug,sfu=debug,"
                                "record=debug",
                                lv, err, sizeof(err)),
              0);
    for (int i = 0; i < MR_LOG_SUB_COUNT; i++)
        CHECK_INT(lv[i], MR_LOG_LEVEL_DEBUG);

    /* Empty means all at info; a trailing comma is harmless. */
    CHECK_INT(mr_log_parse_spec("", lv, err, sizeof(err)), 0);
    CHECK_INT(lv[MR_LOG_SRTP], MR_LOG_LEVEL_INFO);
    CHECK_INT(mr_log_parse_spec("debug,", lv, err, sizeof(err)), 0);
    CHECK_INT(lv[MR_LOG_SRTP], MR_LOG_LEVEL_DEBUG);
    CHECK_INT(mr_log_parse_spec("warn", lv, NULL, 0), 0);
}

static void test_parse_spec_invalid(void)
{
    static const char *const bad[] = {
        "verbose",      "trace",    "inf",         "infos",          "ice=",       "=debug",
        "nosuch=debug", "ice=loud", "info,,debug", "ice=debug=info", "info debug", " info",
        "info ",        ",",        "ice",         "ice:debug",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum mr_log_level lv[MR_LOG_SUB_COUNT];
        char err[200] = "";
        int rc = mr_log_parse_spec(bad[i], lv, err, sizeof(err));
        if (rc != MR_EINVAL)
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
        CHECK_INT(rc, MR_EINVAL);
        CHECK(strstr(err, "error, warn, info, debug") != NULL);
        CHECK_INT(mr_log_parse_spec(bad[i], lv, NULL, 0), MR_EINVAL);
    }
}

static void test_configure(void)
{
    char err[200];
    CHECK_INT(mr_log_configure("warn,rtp=debug", err, sizeof(err)), 0);
    CHECK(mr_log_enabled(MR_LOG_RTP, MR_LOG_LEVEL_DEBUG));
    CHECK(!mr_log_enabled(MR_LOG_SFU, MR_LOG_LEVEL_INFO));
    CHECK(mr_log_enabled(MR_LOG_SFU, MR_LOG_LEVEL_WARN));
    CHECK(mr_log_enabled(MR_LOG_SFU, MR_LOG_LEVEL_ERROR));
    /* A bad spec changes nothing. */
    CHECK_INT(mr_log_configure("rtp=quiet", err, sizeof(err)), MR_EINVAL);
    CHECK(mr_log_enabled(MR_LOG_RTP, MR_LOG_LEVEL_DEBUG));
    CHECK(!mr_log_enabled((enum mr_log_sub)MR_LOG_SUB_COUNT, MR_LOG_LEVEL_ERROR));

    mr_log_set_all(MR_LOG_LEVEL_ERROR);
    mr_log_set_level(MR_LOG_ICE, MR_LOG_LEVEL_INFO);
    CHECK(mr_log_enabled(MR_LOG_ICE, MR_LOG_LEVEL_INFO));
    CHECK(!mr_log_enabled(MR_LOG_DTLS, MR_LOG_LEVEL_WARN));
    mr_log_set_level((enum mr_log_sub)MR_LOG_SUB_COUNT, MR_LOG_LEVEL_DEBUG); /* ignored */
    mr_log_set_all(MR_LOG_LEVEL_INFO);
}

static void test_ratelimit_burst_and_refill(void)
{
    const int64_t t0 = 1000000, iv = 1000;
    struct mr_ratelimit rl = MR_RATELIMIT_INIT(iv, 3);

    /* The full burst at once, then nothing. */
    CHECK(mr_ratelimit_ok(&rl, t0));
    CHECK(mr_ratelimit_ok(&rl, t0));
    CHECK(mr_ratelimit_ok(&rl, t0));
    CHECK(!mr_ratelimit_ok(&rl, t0));
    CHECK(!mr_ratelimit_ok(&rl, t0 + iv - 1));
    CHECK_INT(rl.suppressed, 2);

    /* One interval buys one line. */
    CHECK(mr_ratelimit_ok(&rl, t0 + iv));
    CHECK(!mr_ratelimit_ok(&rl, t0 + iv));
    /* Partial intervals accumulate: 1.5 + 0.5 intervals is two lines' worth
     * in total, not one line each time rounded down. */
    CHECK(!mr_ratelimit_ok(&rl, t0 + iv + iv / 2));
    CHECK(mr_ratelimit_ok(&rl, t0 + 2 * iv));
    CHECK(!mr_ratelimit_ok(&rl, t0 + 2 * iv + iv / 2));
    CHECK(mr_ratelimit_ok(&rl, t0 + 3 * iv));
    CHECK_INT(rl.suppressed, 5);

    /* A long quiet spell refills to the burst, never beyond it. */
    int64_t t = t0 + 1000 * iv;
    int allowed = 0;
    for (int i = 0; i < 10; i++)
        allowed += mr_ratelimit_ok(&rl, t);
    CHECK_INT(allowed, 3);

    /* Time going backwards grants nothing and breaks nothing. */
    CHECK(!mr_ratelimit_ok(&rl, t - 50 * iv));
    CHECK(mr_ratelimit_ok(&rl, t + iv));
}

static void test_ratelimit_edges(void)
{
    struct mr_ratelimit none = MR_RATELIMIT_INIT(1000, 0);
    CHECK(!mr_ratelimit_ok(&none, 5000));
    CHECK(!mr_ratelimit_ok(&none, 500000));
    CHECK_INT(none.suppressed, 2);

    struct mr_ratelimit one = MR_RATELIMIT_INIT(1000000, 1);
    CHECK(mr_ratelimit_ok(&one, 42));
    CHECK(!mr_ratelimit_ok(&one, 43));
    CHECK(mr_ratelimit_ok(&one, 42 + 1000000));
    /* A very long gap must not overflow the token count. */
    CHECK(mr_ratelimit_ok(&one, INT64_MAX / 2));
    CHECK(!mr_ratelimit_ok(&one, INT64_MAX / 2));
}

static bool is_hash(const char *s)
{
    if (s[0] != '#' || strlen(s) != 9)
        return false;
    return strspn(s + 1, "0123456789abcdef") == 8;
}

static void test_redact(void)
{
    char a[MR_LOG_REDACT_LEN], b[MR_LOG_REDACT_LEN], c[MR_LOG_REDACT_LEN];
    mr_log_init();
    mr_log_set_all(MR_LOG_LEVEL_INFO);

    /* Below debug: a short hash, the same one for the same name. */
    const char *r = mr_log_redact(MR_LOG_SFU, "ward-7", a);
    CHECK(r == a);
    CHECK(is_hash(a));
    CHECK(strstr(a, "ward") == NULL);
    mr_log_redact(MR_LOG_SFU, "ward-7", b);
    CHECK_STR(b, a);
    /* Another subsystem hashes with the same process key. */
    mr_log_redact(MR_LOG_HTTP, "ward-7", b);
    CHECK_STR(b, a);
    mr_log_redact(MR_LOG_SFU, "ward-8", c);
    CHECK(is_hash(c));
    CHECK(strcmp(c, a) != 0);
    mr_log_redact(MR_LOG_SFU, NULL, c);
    CHECK(is_hash(c));
    mr_log_set_level(MR_LOG_SFU, MR_LOG_LEVEL_WARN);
    mr_log_redact(MR_LOG_SFU, "ward-7", b);
    CHECK_STR(b, a);

    /* At debug: the name itself, for that subsystem only. */
    mr_log_set_level(MR_LOG_SFU, MR_LOG_LEVEL_DEBUG);
    CHECK_STR(mr_log_redact(MR_LOG_SFU, "ward-7", b), "ward-7");
    mr_log_redact(MR_LOG_HTTP, "ward-7", b);
    CHECK_STR(b, a);
    /* A long name is cut to the buffer, never overflowing it. */
    char longname[200];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    mr_log_redact(MR_LOG_SFU, longname, b);
    CHECK_INT(strlen(b), MR_LOG_REDACT_LEN - 1);
    mr_log_set_all(MR_LOG_LEVEL_INFO);
    mr_log_redact(MR_LOG_SFU, longname, b);
    CHECK(is_hash(b));
}

/* Runs mr_log_write with stderr sent to a temporary file; returns what was
 * written (NUL-terminated) in out. */
static size_t capture(char *out, size_t cap, enum mr_log_sub sub, enum mr_log_level lv,
                      const char *fmt, const char *arg)
{
    char path[] = "/tmp/test_core_log_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    mr_log_write(sub, lv, fmt, arg);
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    unlink(path);
    out[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

static void test_write_one_line(void)
{
    char out[2048];
    size_t n = capture(out, sizeof(out), MR_LOG_HTTP, MR_LOG_LEVEL_WARN, "peer %s said hi",
                       "p1\nFAKE error line\r");
    CHECK(n > 0);
    /* Exactly one newline, at the end: network text cannot forge a line. */
    CHECK(n > 0 && out[n - 1] == '\n');
    CHECK(strchr(out, '\n') == out + n - 1);
    CHECK(strchr(out, '\r') == NULL);
    CHECK(strstr(out, " warn  http   peer p1 FAKE error line  said hi\n") != NULL);
    /* ISO 8601 UTC timestamp with milliseconds. */
    CHECK(n > 24 && out[4] == '-' && out[10] == 'T' && out[19] == '.' && out[23] == 'Z');

    /* An overlong line is cut, still ending in exactly one newline. */
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    n = capture(out, sizeof(out), MR_LOG_CORE, MR_LOG_LEVEL_ERROR, "%s", big);
    CHECK(n > 0 && n < 1024);
    CHECK(n > 0 && out[n - 1] == '\n');
    CHECK(strchr(out, '\n') == out + n - 1);
}

MR_TEST_MAIN(MR_TEST(test_parse_spec_valid), MR_TEST(test_parse_spec_invalid),
             MR_TEST(test_configure), MR_TEST(test_ratelimit_burst_and_refill),
             MR_TEST(test_ratelimit_edges), MR_TEST(test_redact), MR_TEST(test_write_one_line))
