/* The token secret: where it comes from, and the first-run secret file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "core/encode.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random.h"

static int set_key(struct mr_auth_key *key, const char *value, size_t len, const char *source,
                   char *err, size_t err_len)
{
    if (len < MR_JWT_SECRET_MIN) {
        snprintf(err, err_len, "the token secret from %s is %zu bytes; it must be at least %d",
                 source, len, MR_JWT_SECRET_MIN);
        return MR_EINVAL;
    }
    if (len > sizeof(key->secret)) {
        snprintf(err, err_len, "the token secret from %s is longer than %zu bytes", source,
                 sizeof(key->secret));
        return MR_EINVAL;
    }
    memcpy(key->secret, value, len);
    key->len = len;
    return 0;
}

/* Reads a secret file into buf (up to cap bytes; a trailing newline is not
 * part of the secret) and warns when others may read it. Returns 0,
 * MR_ENOENT when it does not exist, or MR_EIO / MR_EINVAL with err set. */
static int read_secret_bytes(const char *path, char *buf, size_t cap, size_t *len, char *err,
                             size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? MR_ENOENT : MR_EIO;
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 0077))
        mr_log_warn(AUTH, "secret file %s is readable by others (mode %03o); chmod 600 it",
                    path, st.st_mode & 0777);
    ssize_t n = read(fd, buf, cap);
    char more;
    bool longer = n == (ssize_t)cap && read(fd, &more, 1) == 1;
    close(fd);
    if (n < 0) {
        snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
        return MR_EIO;
    }
    if (longer) {
        snprintf(err, err_len, "%s: the secret is longer than %zu bytes", path, cap);
        return MR_EINVAL;
    }
    *len = (size_t)n;
    while (*len > 0 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
        (*len)--;
    return 0;
}

static int read_secret_file(const char *path, struct mr_auth_key *key, char *err, size_t err_len)
{
    char buf[1024];
    size_t len;
    int rc = read_secret_bytes(path, buf, sizeof(buf), &len, err, err_len);
    if (rc == 0)
        rc = set_key(key, buf, len, path, err, err_len);
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

static int create_secret_file(const char *path, struct mr_auth_key *key, char *err,
                              size_t err_len)
{
    char dir[MR_CONFIG_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *d = dirname(dir);
    if (mkdir(d, 0700) < 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create %s: %s", d, strerror(errno));
        return MR_EIO;
    }
    uint8_t raw[36];
    char text[64];
    mr_random_bytes(raw, sizeof(raw));
    int len = mr_b64url_encode(raw, sizeof(raw), text, sizeof(text));
    explicit_bzero(raw, sizeof(raw));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        return MR_EIO;
    }
    bool ok = write(fd, text, (size_t)len) == len && write(fd, "\n", 1) == 1;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(path);
        snprintf(err, err_len, "cannot write %s", path);
        return MR_EIO;
    }
    int rc = set_key(key, text, (size_t)len, path, err, err_len);
    explicit_bzero(text, sizeof(text));
    return rc;
}

int mr_secret_load(const struct mr_config *cfg, bool may_create, struct mr_auth_key *key,
                   bool *created, char *err, size_t err_len)
{
    *created = false;
    key->max_ttl_s = cfg->max_token_ttl_s;
    const char *env = getenv("MEDRELAY_JWT_SECRET");
    if (env)
        return set_key(key, env, strlen(env), "MEDRELAY_JWT_SECRET", err, err_len);
    if (cfg->jwt_secret[0])
        return set_key(key, cfg->jwt_secret, strlen(cfg->jwt_secret), "[auth] jwt_secret",
                       err, err_len);
    if (cfg->jwt_secret_file[0]) {
        int rc = read_secret_file(cfg->jwt_secret_file, key, err, err_len);
        if (rc != MR_ENOENT) {
            if (rc == MR_EIO && !err[0])
                snprintf(err, err_len, "%s: cannot open: %s", cfg->jwt_secret_file,
                         strerror(errno));
            return rc;
        }
        if (may_create) {
            rc = create_secret_file(cfg->jwt_secret_file, key, err, err_len);
            *created = rc == 0;
            return rc;
        }
    }
    snprintf(err, err_len,
             "no token secret is configured (set MEDRELAY_JWT_SECRET, [auth] jwt_secret or "
             "[auth] jwt_secret_file); without one the server listens on loopback only");
    return MR_ENOENT;
}

int mr_turn_load(const struct mr_config *cfg, struct mr_turn *turn, char *err, size_t err_len)
{
    char buf[MR_TURN_SECRET_MAX + 2];
    size_t len = strlen(cfg->turn_secret);
    const char *source = "[turn] secret";
    memset(turn, 0, sizeof(*turn));
    turn->urls = cfg->turn_urls;
    turn->n_urls = cfg->n_turn_urls;
    turn->ttl_s = cfg->turn_ttl_s;
    if (!mr_config_has_turn(cfg))
        return 0;
    if (len > 0) {
        memcpy(buf, cfg->turn_secret, len);
    } else {
        source = cfg->turn_secret_file;
        int rc = read_secret_bytes(source, buf, MR_TURN_SECRET_MAX, &len, err, err_len);
        if (rc < 0) {
            if (rc == MR_ENOENT || (rc == MR_EIO && !err[0]))
                snprintf(err, err_len, "[turn] secret_file %s: cannot open: %s", source,
                         strerror(rc == MR_ENOENT ? ENOENT : errno));
            explicit_bzero(buf, sizeof(buf));
            return rc;
        }
    }
    int rc = 0;
    if (len < MR_TURN_SECRET_MIN) {
        snprintf(err, err_len, "the TURN secret from %s is %zu bytes; it must be at least %d",
                 source, len, MR_TURN_SECRET_MIN);
        rc = MR_EINVAL;
    } else {
        memcpy(turn->secret, buf, len);
        turn->secret_len = len;
    }
    explicit_bzero(buf, sizeof(buf));
    return rc;
}
