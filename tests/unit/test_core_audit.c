/* The audit trail: one JSON object per line, escaped, mode 0640, appended;
 * refusals itemised up to a rate and counted beyond it. */
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/error.h"
#include "mr_test.h"

static void temp_path(char *path)
{
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
}

static unsigned count(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_lines(void)
{
    char path[] = "/tmp/mr-audit-XXXXXX";
    temp_path(path);
    CHECK_INT(mr_audit_open(path), 0);
    mr_audit("record-start", "ward-1", "dr \"li\"\n", "operator", NULL);
    mr_audit("delete", NULL, "op\\1", NULL, "x\ty\x7f");
    mr_audit_close();
    mr_audit("ignored", "r", "s", NULL, NULL); /* closed: nothing written */
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    size_t len;
    char *text = mr_test_read_file(path, &len);
    CHECK(text != NULL);
    if (text) {
        CHECK_INT(count(text, "\n"), 2);
        CHECK(strstr(text, "\"action\":\"record-start\",\"room\":\"ward-1\","
                           "\"sub\":\"dr \\\"li\\\"\\u000a\",\"detail\":null,"
                           "\"role\":\"operator\"}") != NULL);
        CHECK(strstr(text, "\"room\":null,\"sub\":\"op\\\\1\",\"detail\":\"x\\u0009y\\u007f\","
                           "\"role\":null}") != NULL);
        CHECK(strncmp(text, "{\"time\":\"20", 11) == 0);
        CHECK(strstr(text, "ignored") == NULL);
    }
    free(text);
    unlink(path);
    CHECK_INT(mr_audit_open("/nonexistent-dir/audit.log"), MR_EIO);
    CHECK_INT(mr_audit_open(""), 0);
}

static void test_refusals(void)
{
    char path[] = "/tmp/mr-audit-XXXXXX";
    temp_path(path);
    CHECK_INT(mr_audit_open(path), 0);
    struct mr_audit_refusal r = {
        .request = "POST /whip/ward-3/cam",
        .room = "ward-3",
        .sub = "dr-li",
        .role = "viewer",
        .addr = "127.0.0.1",
        .status = 403,
        .detail = "this role may not publish",
    };
    int64_t t = 1000000000;
    mr_audit_refused_at(&r, t);
    /* A flood: 50 a second are itemised, the rest counted, and the count
     * written when the next second's first entry comes. */
    struct mr_audit_refusal anon = {.request = "ws join", .addr = "10.0.0.9", .status = 401,
                                    .detail = "invalid token: bad signature"};
    for (int i = 0; i < 300; i++)
        mr_audit_refused_at(&anon, t + 1000 + i);
    mr_audit_refused_at(&anon, t + 1500000);
    /* Another flood, cut short by the close: its count is written there. */
    for (int i = 0; i < 60; i++)
        mr_audit_refused_at(&anon, t + 1600000 + i);
    mr_audit_close();
    size_t len;
    char *text = mr_test_read_file(path, &len);
    CHECK(text != NULL);
    if (text) {
        CHECK(strstr(text, "\"action\":\"refused\",\"room\":\"ward-3\",\"sub\":\"dr-li\","
                           "\"detail\":\"this role may not publish\",\"role\":\"viewer\","
                           "\"addr\":\"127.0.0.1\",\"status\":403,"
                           "\"request\":\"POST /whip/ward-3/cam\"}") != NULL);
        CHECK(strstr(text, "\"room\":null,\"sub\":null,\"detail\":\"invalid token: bad "
                           "signature\",\"role\":null,\"addr\":\"10.0.0.9\",\"status\":401,"
                           "\"request\":\"ws join\"}") != NULL);
        /* 1 + 49 itemised in the first second, 251 counted; then 50 more
         * itemised in the next and 11 counted at the close. */
        CHECK_INT(count(text, "\"action\":\"refused\""), 1 + 49 + 50);
        CHECK_INT(count(text, "\"action\":\"refused-suppressed\""), 2);
        CHECK(strstr(text, "\"count\":251") != NULL);
        CHECK(strstr(text, "\"count\":11") != NULL);
        /* The first count comes before the entry that rolled the window. */
        char *summary = strstr(text, "\"count\":251");
        char *late = strstr(text, "refused-suppressed");
        CHECK(summary && late && summary > late);
    }
    free(text);
    unlink(path);
}

MR_TEST_MAIN(MR_TEST(test_lines), MR_TEST(test_refusals))
