/* The audit trail: one JSON object per line, escaped, mode 0640, appended. */
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/error.h"
#include "mr_test.h"

static void test_lines(void)
{
    char path[] = "/tmp/mr-audit-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    CHECK_INT(mr_audit_open(path), 0);
    mr_audit("record-start", "ward-1", "dr \"li\"\n", NULL);
    mr_audit("delete", NULL, "op\\1", "x\ty");
    mr_audit_close();
    mr_audit("ignored", "r", "s", NULL); /* closed: nothing written */
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
    size_t len;
    char *text = mr_test_read_file(path, &len);
    CHECK(text != NULL);
    if (text) {
        char *second = strchr(text, '\n');
        CHECK(second && strchr(second + 1, '\n') && !strchr(strchr(second + 1, '\n') + 1, '\n'));
        CHECK(strstr(text, "\"action\":\"record-start\",\"room\":\"ward-1\","
                           "\"sub\":\"dr \\\"li\\\"\\u000a\",\"detail\":null}") != NULL);
        CHECK(strstr(text, "\"room\":null,\"sub\":\"op\\\\1\",\"detail\":\"x\\u0009y\"}") != NULL);
        CHECK(strncmp(text, "{\"time\":\"20", 11) == 0);
        CHECK(strstr(text, "ignored") == NULL);
    }
    free(text);
    unlink(path);
    CHECK_INT(mr_audit_open("/nonexistent-dir/audit.log"), MR_EIO);
    CHECK_INT(mr_audit_open(""), 0);
}

MR_TEST_MAIN(MR_TEST(test_lines))
