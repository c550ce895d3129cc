/*
 * The JSON sidecar beside each media file. It is written when the file is
 * created (state "recording") and replaced when the file is finished, each
 * time through a temporary file, fsync and rename, so a reader (or a crash)
 * sees the old version or the new one, never half of one.
 */
#include "record/record_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

#define SIDECAR_RESERVE 2048

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t unix_us)
{
    char buf[32];
    if (unix_us <= 0)
        return json_null();
    mr_rec_iso8601(unix_us, buf);
    return json_string(buf);
}

static json_t *build(const struct mr_rec_sidecar *sc)
{
    json_t *codecs = json_object();
    json_t *role = sc->publisher_role && sc->publisher_role[0] ? json_string(sc->publisher_role)
                                                               : json_null();
    if (sc->audio)
        json_object_set_new(codecs, "audio", json_string(sc->audio));
    if (sc->video)
        json_object_set_new(codecs, "video", json_string(sc->video));
    /* Durations are rounded to the millisecond, like the times. */
    double dur = sc->duration_s < 0 ? -1 : (double)(int64_t)(sc->duration_s * 1000 + 0.5) / 1000;
    /* Holes over the whole recording so far, like dropped_packets. */
    json_t *lost = json_pack("{s:I, s:I}", "audio", (json_int_t)sc->lost[MR_RECORD_AUDIO],
                             "video", (json_int_t)sc->lost[MR_RECORD_VIDEO]);
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o,"
        " s:o, s:o, s:o, s:o, s:I, s:I}",
        "id", sc->id, "room", sc->room, "stream", sc->stream, "publisher",
        str_or_null(sc->publisher), "publisher_role", role, "state", sc->state, "error", str_or_null(sc->error), "file",
        str_or_null(sc->file), "container", sc->container, "codecs", codecs, "width",
        sc->width ? json_integer(sc->width) : json_null(), "height",
        sc->height ? json_integer(sc->height) : json_null(), "start", time_or_null(sc->start_us),
        "end", time_or_null(sc->end_us), "duration_s", dur < 0 ? json_null() : json_real(dur),
        "size", sc->size < 0 ? json_null() : json_integer(sc->size), "sha256",
        str_or_null(sc->sha256), "dropped_packets", json_integer((json_int_t)sc->dropped),
        "lost_packets", lost, "segment", (json_int_t)sc->segment, "version", (json_int_t)1);
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return MR_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * On a full disk the temporary file cannot be written, but the old sidecar
 * still holds its blocks: overwrite it in place when the new text fits (the
 * first version is padded for that). Not atomic, but better than leaving a
 * failed recording marked "recording".
 */
static int overwrite_in_place(const char *path, const char *text)
{
    size_t len = strlen(text);
    struct stat st;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return MR_EIO;
    int rc = MR_ENOSPC;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size >= len) {
        char *buf = malloc((size_t)st.st_size);
        if (buf) {
            memcpy(buf, text, len);
            memset(buf + len, ' ', (size_t)st.st_size - len);
            if (len && buf[len - 1] == '\n')
                buf[st.st_size - 1] = '\n', buf[len - 1] = ' ';
            rc = write_all(fd, buf, (size_t)st.st_size) == 0 && fsync(fd) == 0 ? 0 : MR_EIO;
            free(buf);
        }
    }
    close(fd);
    return rc;
}

/* Writes text to path atomically with mode 0640. */
int mr_rec_replace_file(const char *path, const char *text)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return MR_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return MR_EIO;
    if (fchmod(fd, 0640) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        fd = -1;
        goto fail;
    }
    return 0;

    /* ERRORS */
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    if ((e == ENOSPC || e == EDQUOT) && overwrite_in_place(path, text) == 0)
        return 0;
    errno = e;
    return MR_EIO;
}

int mr_rec_sidecar_write(const char *path, const struct mr_rec_sidecar *sc)
{
    json_t *doc = build(sc);
    if (!doc)
        return MR_ENOMEM;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(doc);
    if (!text)
        return MR_ENOMEM;
    /* The first version is padded with spaces (JSON whitespace) so that the
     * last one fits in its blocks if the disk fills up meanwhile. */
    size_t len = strlen(text);
    size_t pad =
        strcmp(sc->state, "recording") == 0 && len < SIDECAR_RESERVE ? SIDECAR_RESERVE - len : 0;
    char *withnl = realloc(text, len + pad + 2);
    if (!withnl) {
        free(text);
        return MR_ENOMEM;
    }
    memset(withnl + len, ' ', pad);
    withnl[len + pad] = '\n';
    withnl[len + pad + 1] = '\0';
    int rc = mr_rec_replace_file(path, withnl);
    free(withnl);
    return rc;
}
