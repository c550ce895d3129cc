#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/random.h"

static enum mr_log_level levels[MR_LOG_SUB_COUNT] = {
#define MR_LOG_SUB_DEFAULT(id, name) [MR_LOG_##id] = MR_LOG_LEVEL_INFO,
    MR_LOG_SUBSYSTEMS(MR_LOG_SUB_DEFAULT)
#undef MR_LOG_SUB_DEFAULT
};

static const char *const sub_names[MR_LOG_SUB_COUNT] = {
#define MR_LOG_SUB_NAME(id, name) [MR_LOG_##id] = name,
    MR_LOG_SUBSYSTEMS(MR_LOG_SUB_NAME)
#undef MR_LOG_SUB_NAME
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static uint64_t redact_key[2];

void mr_log_init(void)
{
    mr_random_bytes(redact_key, sizeof(redact_key));
}

void mr_log_set_level(enum mr_log_sub sub, enum mr_log_level level)
{
    if ((unsigned)sub < MR_LOG_SUB_COUNT)
        levels[sub] = level;
}

void mr_log_set_all(enum mr_log_level level)
{
    for (unsigned i = 0; i < MR_LOG_SUB_COUNT; i++)
        levels[i] = level;
}

static int parse_level(const char *s, size_t len, enum mr_log_level *out)
{
    for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strlen(level_names[i]) == len && strncasecmp(s, level_names[i], len) == 0) {
            *out = (enum mr_log_level)i;
            return 0;
        }
    }
    return MR_EINVAL;
}

static int parse_sub(const char *s, size_t len, enum mr_log_sub *out)
{
    for (unsigned i = 0; i < MR_LOG_SUB_COUNT; i++) {
        if (strlen(sub_names[i]) == len && strncasecmp(s, sub_names[i], len) == 0) {
            *out = (enum mr_log_sub)i;
            return 0;
        }
    }
    return MR_EINVAL;
}

int mr_log_parse_spec(const char *spec, enum mr_log_level parsed[MR_LOG_SUB_COUNT], char *err,
                      unsigned err_len)
{
    for (unsigned i = 0; i < MR_LOG_SUB_COUNT; i++)
        parsed[i] = MR_LOG_LEVEL_INFO;

    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        enum mr_log_level level;
        if (!eq) {
            if (parse_level(p, len, &level) < 0)
                goto bad;
            for (unsigned i = 0; i < MR_LOG_SUB_COUNT; i++)
                parsed[i] = level;
        } else {
            enum mr_log_sub sub;
            if (parse_sub(p, (size_t)(eq - p), &sub) < 0 ||
                parse_level(eq + 1, len - (size_t)(eq - p) - 1, &level) < 0)
                goto bad;
            parsed[sub] = level;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;

bad:
    if (err)
        snprintf(err, err_len,
                 "expected LEVEL or SUBSYSTEM=LEVEL items separated by commas "
                 "(levels: error, warn, info, debug)");
    return MR_EINVAL;
}

int mr_log_configure(const char *spec, char *err, unsigned err_len)
{
    enum mr_log_level parsed[MR_LOG_SUB_COUNT];
    int rc = mr_log_parse_spec(spec, parsed, err, err_len);
    if (rc == 0)
        memcpy(levels, parsed, sizeof(parsed));
    return rc;
}

bool mr_log_enabled(enum mr_log_sub sub, enum mr_log_level level)
{
    return (unsigned)sub < MR_LOG_SUB_COUNT && level <= levels[sub];
}

void mr_log_write(enum mr_log_sub sub, enum mr_log_level level, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-6s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], sub_names[sub]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* Network-supplied text must not forge extra log lines. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

/* SipHash is overkill here; a keyed FNV-1a variant is enough to make the
 * hash of a room name unguessable across processes. */
static uint32_t keyed_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ redact_key[0];
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h ^= redact_key[1];
    h *= 0x100000001b3ULL;
    return (uint32_t)(h ^ (h >> 32));
}

const char *mr_log_redact(enum mr_log_sub sub, const char *name, char *buf)
{
    if (!name)
        name = "";
    if (mr_log_enabled(sub, MR_LOG_LEVEL_DEBUG)) {
        snprintf(buf, MR_LOG_REDACT_LEN, "%s", name);
        return buf;
    }
    snprintf(buf, MR_LOG_REDACT_LEN, "#%08x", keyed_hash(name));
    return buf;
}

bool mr_ratelimit_ok(struct mr_ratelimit *rl, int64_t now_us)
{
    if (rl->last_us == 0)
        rl->last_us = now_us;
    if (now_us > rl->last_us && rl->interval_us > 0) {
        int64_t refill = (now_us - rl->last_us) / rl->interval_us;
        if (refill > 0) {
            uint64_t t = rl->tokens + (uint64_t)refill;
            rl->tokens = t > rl->burst ? rl->burst : (unsigned)t;
            rl->last_us += refill * rl->interval_us;
        }
    }
    if (rl->tokens == 0) {
        rl->suppressed++;
        return false;
    }
    rl->tokens--;
    return true;
}
