#include "core/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

/* Everything below is guarded by lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fd = -1;
/* The refusal limit: refusals itemised in the window that started at
 * window_us, and those counted but not written since the last summary. */
static int64_t window_us;
static unsigned window_refusals;
static uint64_t suppressed;
static int64_t suppressed_since_us;

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
    window_us = 0;
    window_refusals = 0;
    suppressed = 0;
    pthread_mutex_unlock(&lock);
    return 0;
}

/* --- One line ------------------------------------------------------------- */

/* A line being built; n may run past cap, and then the line is dropped. */
struct line {
    char buf[2048];
    size_t n;
};

static void put_raw(struct line *l, const char *s)
{
    size_t len = strlen(s);
    if (l->n + len < sizeof(l->buf))
        memcpy(l->buf + l->n, s, len);
    l->n += len;
}

static void put_char(struct line *l, char c)
{
    if (l->n < sizeof(l->buf))
        l->buf[l->n] = c;
    l->n++;
}

/* Appends ,"key": and s as a JSON string value (RFC 8259 §7) or null. */
static void put_string(struct line *l, const char *key, const char *s)
{
    char head[48];
    snprintf(head, sizeof(head), ",\"%s\":", key);
    put_raw(l, head);
    if (!s) {
        put_raw(l, "null");
        return;
    }
    put_char(l, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            snprintf(esc, sizeof(esc), "\\%c", c);
            put_raw(l, esc);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put_raw(l, esc);
        } else {
            put_char(l, (char)c);
        }
    }
    put_char(l, '"');
}

static void put_int(struct line *l, const char *key, long long v)
{
    char text[64];
    snprintf(text, sizeof(text), ",\"%s\":%lld", key, v);
    put_raw(l, text);
}

static void begin(struct line *l, const char *action)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    l->n = (size_t)snprintf(l->buf, sizeof(l->buf),
                            "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
                            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                            tm.tm_sec, ts.tv_nsec / 1000000);
    put_string(l, "action", action);
}

/* Ends the line and appends it to the trail. Caller holds lock. */
static void write_locked(struct line *l)
{
    put_raw(l, "}\n");
    if (l->n > sizeof(l->buf))
        return; /* an absurdly long entry: drop rather than write half */
    if (fd >= 0 && write(fd, l->buf, l->n) != (ssize_t)l->n) {
        static struct mr_ratelimit rl = MR_RATELIMIT_INIT(10000000, 1);
        if (mr_ratelimit_ok(&rl, mr_clock_mono_us()))
            mr_log_error(CORE, "cannot write the audit log: %s", strerror(errno));
    }
}

/* Writes the count of refusals held back, if any. Caller holds lock. */
static void flush_suppressed_locked(int64_t now_us)
{
    if (!suppressed)
        return;
    struct line l;
    char detail[160];
    snprintf(detail, sizeof(detail),
             "%llu refusals in the last %lld ms were counted but not itemised (more than %d a "
             "second)",
             (unsigned long long)suppressed, (long long)((now_us - suppressed_since_us) / 1000),
             MR_AUDIT_REFUSALS_PER_S);
    begin(&l, "refused-suppressed");
    put_int(&l, "count", (long long)suppressed);
    put_string(&l, "detail", detail);
    write_locked(&l);
    suppressed = 0;
}

/* A new one-second window: what the last one held back is written first. */
static void roll_window_locked(int64_t now_us)
{
    if (now_us - window_us < 1000000)
        return;
    flush_suppressed_locked(now_us);
    window_us = now_us;
    window_refusals = 0;
}

void mr_audit_close(void)
{
    pthread_mutex_lock(&lock);
    flush_suppressed_locked(mr_clock_mono_us());
    if (fd >= 0)
        close(fd);
    fd = -1;
    pthread_mutex_unlock(&lock);
}

void mr_audit(const char *action, const char *room, const char *sub, const char *role,
              const char *detail)
{
    struct line l;
    begin(&l, action);
    put_string(&l, "room", room);
    put_string(&l, "sub", sub);
    put_string(&l, "detail", detail);
    put_string(&l, "role", role);
    pthread_mutex_lock(&lock);
    roll_window_locked(mr_clock_mono_us());
    write_locked(&l);
    pthread_mutex_unlock(&lock);
}

void mr_audit_refused_at(const struct mr_audit_refusal *r, int64_t now_us)
{
    pthread_mutex_lock(&lock);
    if (fd < 0) {
        pthread_mutex_unlock(&lock);
        return;
    }
    roll_window_locked(now_us);
    if (window_refusals >= MR_AUDIT_REFUSALS_PER_S) {
        if (!suppressed)
            suppressed_since_us = now_us;
        suppressed++;
        pthread_mutex_unlock(&lock);
        return;
    }
    window_refusals++;
    struct line l;
    begin(&l, "refused");
    put_string(&l, "room", r->room);
    put_string(&l, "sub", r->sub);
    put_string(&l, "detail", r->detail);
    put_string(&l, "role", r->role);
    put_string(&l, "addr", r->addr);
    put_int(&l, "status", r->status);
    put_string(&l, "request", r->request);
    write_locked(&l);
    pthread_mutex_unlock(&lock);
}

void mr_audit_refused(const struct mr_audit_refusal *r)
{
    mr_audit_refused_at(r, mr_clock_mono_us());
}
