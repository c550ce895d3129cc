#include "core/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fd = -1;

int mr_audit_open(const char *path)
{
    if (!path || !path[0])
        return 0;
    int f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (f < 0) {
        mr_log_error(CORE, "cannot open the audit log %s: %s", path, strerror(errno));
        return MR_EIO;
    }
    fchmod(f, 0640);
    pthread_mutex_lock(&lock);
    if (fd >= 0)
        close(fd);
    fd = f;
    pthread_mutex_unlock(&lock);
    return 0;
}

void mr_audit_close(void)
{
    pthread_mutex_lock(&lock);
    if (fd >= 0)
        close(fd);
    fd = -1;
    pthread_mutex_unlock(&lock);
}

/* Appends s as a JSON string value (RFC 8259 §7) or null. */
static size_t put_string(char *out, size_t cap, size_t n, const char *s)
{
    if (!s)
        return n + (size_t)snprintf(out + n, n < cap ? cap - n : 0, "null");
    if (n < cap)
        out[n] = '"';
    n++;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8] = "";
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof(esc), "\\%c", c);
        else if (c < 0x20)
            snprintf(esc, sizeof(esc), "\\u%04x", c);
        if (esc[0]) {
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s", esc);
        } else {
            if (n < cap)
                out[n] = (char)c;
            n++;
        }
    }
    if (n < cap)
        out[n] = '"';
    return n + 1;
}

void mr_audit(const char *action, const char *room, const char *sub, const char *detail)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = (size_t)snprintf(line, sizeof(line),
                                "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"action\":",
                                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    n = put_string(line, sizeof(line), n, action);
    n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, ",\"room\":");
    n = put_string(line, sizeof(line), n, room);
    n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, ",\"sub\":");
    n = put_string(line, sizeof(line), n, sub);
    n += (size_t)snprintf(line + n, n < sizeof(line) ? sizeof(line) - n : 0, ",\"detail\":");
    n = put_string(line, sizeof(line), n, detail);
    if (n + 2 > sizeof(line))
        return; /* an absurdly long entry: drop rather than write half */
    line[n++] = '}';
    line[n++] = '\n';
    pthread_mutex_lock(&lock);
    if (fd >= 0 && write(fd, line, n) != (ssize_t)n) {
        static struct mr_ratelimit rl = MR_RATELIMIT_INIT(10000000, 1);
        if (mr_ratelimit_ok(&rl, mr_clock_mono_us()))
            mr_log_error(CORE, "cannot write the audit log: %s", strerror(errno));
    }
    pthread_mutex_unlock(&lock);
}
