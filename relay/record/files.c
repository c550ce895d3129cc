/*
 * Paths, names and modes of recordings. Modes are set with chmod/fchmod
 * after creation, so a permissive umask cannot widen them: directories
 * 0750, files 0640 (the relay's group may read; nobody else).
 */
#include "record/record_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"

int mr_rec_path(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? MR_ETOOBIG : 0;
}

int mr_rec_mkdir(const char *path, char *err, size_t err_len)
{
    struct stat st;
    if (mkdir(path, 0750) == 0) {
        if (chmod(path, 0750) < 0)
            goto fail;
        return 0;
    }
    if (errno != EEXIST)
        goto fail;
    if (stat(path, &st) < 0)
        goto fail;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        goto fail;
    }
    return 0;

    /* ERRORS */
fail:
    snprintf(err, err_len, "%s", strerror(errno));
    return MR_EIO;
}

int mr_rec_mkdirs(const char *root, const char *rel, char *err, size_t err_len)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(err, err_len, "path too long");
        return MR_EINVAL;
    }
    /* Each component after the root, in order, so that every level we
     * create gets 0750. */
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mr_rec_mkdir(path, err, err_len);
        *p = '/';
        if (rc < 0)
            return rc;
    }
    return mr_rec_mkdir(path, err, err_len);
}

/* Creates an empty file 0640 and fails if it exists: names carry a random
 * id, so an existing one means something is wrong. */
int mr_rec_create_file(const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    if (fchmod(fd, 0640) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        goto fail;
    }
    close(fd);
    return 0;

    /* ERRORS */
fail:
    snprintf(err, err_len, "%s", strerror(errno));
    return MR_EIO;
}

static void utc(int64_t unix_us, struct tm *tm)
{
    time_t t = (time_t)(unix_us / 1000000);
    gmtime_r(&t, tm);
}

void mr_rec_utc_stamp(int64_t unix_us, char out[17])
{
    struct tm tm;
    utc(unix_us, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

void mr_rec_utc_date(int64_t unix_us, char out[11])
{
    struct tm tm;
    utc(unix_us, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

void mr_rec_iso8601(int64_t unix_us, char out[32])
{
    struct tm tm;
    char date[24];
    utc(unix_us, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", date, (int)(unix_us % 1000000 / 1000));
}

static bool all_of(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return false;
    return true;
}

/*
 * Splits "<stream>_<YYYYMMDDTHHMMSSZ>_<id8>[_<segment>]" from the right,
 * since a stream name may itself contain '_'.
 */
bool mr_rec_parse_stem(const char *stem, char *stream, size_t stream_len, char id8[9],
                       unsigned *segment)
{
    size_t len = strlen(stem);
    *segment = 1;
    const char *last = strrchr(stem, '_');
    if (last && last[1] && strlen(last + 1) <= 5 &&
        all_of(last + 1, strlen(last + 1), "0123456789")) {
        if (last - stem >= 9 && last[-9] == '_' && all_of(last - 8, 8, "0123456789abcdef")) {
            *segment = (unsigned)atoi(last + 1);
            len = (size_t)(last - stem);
        }
    }
    /* len now covers "<stream>_<stamp>_<id8>" */
    if (len < 1 + 1 + 16 + 1 + 8)
        return false;
    const char *id = stem + len - 8;
    const char *stamp = id - 1 - 16;
    if (id[-1] != '_' || stamp[-1] != '_' || !all_of(id, 8, "0123456789abcdef") ||
        stamp[8] != 'T' || stamp[15] != 'Z')
        return false;
    size_t slen = (size_t)(stamp - 1 - stem);
    if (slen == 0 || slen >= stream_len)
        return false;
    memcpy(stream, stem, slen);
    stream[slen] = '\0';
    memcpy(id8, id, 8);
    id8[8] = '\0';
    return true;
}
