/* Recordings on disk; see store.h. */
#include "api/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/isotime.h"
#include "core/error.h"
#include "core/name.h"

#define SIDECAR_MAX (64 * 1024)

struct walk {
    mr_store_fn fn;
    void *user;
    bool stop;
};

/* --- Names -------------------------------------------------------------- */

/* A plain file name the recorder could have written: [A-Za-z0-9._-],
 * not hidden, so never "." or "..". */
static bool plain_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len >= MR_STORE_NAME_MAX || s[0] == '.')
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool date_name(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !is_digit(s[i]))
            return false;
    return s[10] == '\0';
}

static bool hex16(const char *s)
{
    for (int i = 0; i < 16; i++)
        if (!(is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool mr_store_id_parse(const char *s, char rec_id[17], unsigned *segment)
{
    if (!s || strlen(s) < 18 || !hex16(s) || s[16] != '-')
        return false;
    const char *d = s + 17;
    size_t n = strlen(d);
    if (n == 0 || n > 9 || (d[0] == '0' && n > 1))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(d[i]))
            return false;
        v = v * 10 + (unsigned)(d[i] - '0');
    }
    if (rec_id) {
        memcpy(rec_id, s, 16);
        rec_id[16] = '\0';
    }
    if (segment)
        *segment = v;
    return true;
}

const char *mr_store_content_type(const struct mr_store_entry *e)
{
    if (ends_with(e->media, ".webm"))
        return "video/webm";
    if (ends_with(e->media, ".mkv"))
        return "video/x-matroska";
    const char *c = json_string_value(json_object_get(e->meta, "container"));
    return c && strcmp(c, "webm") == 0 ? "video/webm" : "video/x-matroska";
}

/* --- Directories ---------------------------------------------------------- */

static int open_dir_at(int parent, const char *name)
{
    return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Calls fn(dirfd, name, ...) for each entry of the directory dirfd. */
typedef void (*entry_fn)(int dirfd, const char *name, void *ctx);

static void each_entry(int dirfd, entry_fn fn, void *ctx)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        fn(dirfd, de->d_name, ctx);
    closedir(d);
}

/* --- Sidecars ------------------------------------------------------------- */

static json_t *read_json_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    json_t *j = NULL;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > SIDECAR_MAX)
        goto out;
    buf = malloc((size_t)st.st_size);
    if (!buf)
        goto out;
    ssize_t got = pread(fd, buf, (size_t)st.st_size, 0);
    if (got == st.st_size)
        j = json_loadb(buf, (size_t)got, JSON_REJECT_DUPLICATES, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
out:
    free(buf);
    close(fd);
    return j;
}

static int64_t time_field(json_t *meta, const char *key)
{
    int64_t t;
    const char *s = json_string_value(json_object_get(meta, key));
    return s && mr_iso_time_parse(s, &t) == 0 ? t : INT64_MIN;
}

/* The media file's possible names: the sidecar's "file", then <base>.webm,
 * <base>.mkv and their in-progress forms. */
static unsigned media_candidates(const struct mr_store_entry *e, char out[5][MR_STORE_NAME_MAX])
{
    static const char *const ext[] = {".webm", ".mkv", ".recording.webm", ".recording.mkv"};
    unsigned n = 0;
    const char *file = json_string_value(json_object_get(e->meta, "file"));
    if (file && plain_name(file) && !ends_with(file, ".json"))
        snprintf(out[n++], MR_STORE_NAME_MAX, "%s", file);
    size_t base = strlen(e->sidecar) - strlen(".json");
    for (unsigned i = 0; i < 4; i++) {
        int w = snprintf(out[n], MR_STORE_NAME_MAX, "%.*s%s", (int)base, e->sidecar, ext[i]);
        if (w > 0 && w < MR_STORE_NAME_MAX)
            n++;
    }
    return n;
}

static void find_media(int dirfd, struct mr_store_entry *e)
{
    char names[5][MR_STORE_NAME_MAX];
    unsigned n = media_candidates(e, names);
    for (unsigned i = 0; i < n; i++) {
        struct stat st;
        if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
            memcpy(e->media, names[i], sizeof(e->media)); /* same size, NUL-terminated */
            e->media_found = true;
            e->media_size = (uint64_t)st.st_size;
            return;
        }
    }
}

/* Fills e from the sidecar `name` in room/date; false when it is not a
 * recording this module understands. */
static bool load_entry(int dirfd, const char *room, const char *date, const char *name,
                       struct mr_store_entry *e)
{
    memset(e, 0, sizeof(*e));
    json_t *meta = read_json_at(dirfd, name);
    if (!meta)
        return false;
    e->meta = meta;
    const char *id = json_string_value(json_object_get(meta, "id"));
    const char *r = json_string_value(json_object_get(meta, "room"));
    json_t *seg = json_object_get(meta, "segment");
    if (!id || strlen(id) != 16 || !hex16(id) || (r && strcmp(r, room) != 0) ||
        (seg && (!json_is_integer(seg) || json_integer_value(seg) < 0 ||
                 json_integer_value(seg) >= 1000000000)))
        goto fail;
    e->segment = seg ? (unsigned)json_integer_value(seg) : 0;
    snprintf(e->rec_id, sizeof(e->rec_id), "%s", id);
    snprintf(e->id, sizeof(e->id), "%s-%u", id, e->segment);
    snprintf(e->room, sizeof(e->room), "%s", room);
    snprintf(e->date, sizeof(e->date), "%s", date);
    snprintf(e->sidecar, sizeof(e->sidecar), "%s", name);
    const char *state = json_string_value(json_object_get(meta, "state"));
    snprintf(e->state, sizeof(e->state), "%s", state ? state : "unknown");
    e->start_s = time_field(meta, "start");
    e->end_s = time_field(meta, "end");
    find_media(dirfd, e);
    return true;
fail:
    mr_store_entry_clear(e);
    return false;
}

/* --- Walking -------------------------------------------------------------- */

struct date_ctx {
    struct walk *w;
    const char *room;
    const char *date;
};

static void visit_sidecar(int dirfd, const char *name, void *ctx)
{
    struct date_ctx *c = ctx;
    struct mr_store_entry e;
    if (c->w->stop || !plain_name(name) || !ends_with(name, ".json"))
        return;
    if (!load_entry(dirfd, c->room, c->date, name, &e))
        return;
    if (!c->w->fn(&e, c->w->user))
        c->w->stop = true;
    mr_store_entry_clear(&e);
}

struct room_ctx {
    struct walk *w;
    const char *room;
};

static void visit_date(int roomfd, const char *name, void *ctx)
{
    struct room_ctx *c = ctx;
    if (c->w->stop || !date_name(name))
        return;
    int fd = open_dir_at(roomfd, name);
    if (fd < 0)
        return;
    struct date_ctx dc = {c->w, c->room, name};
    each_entry(fd, visit_sidecar, &dc);
    close(fd);
}

static void visit_room(int topfd, const char *name, void *ctx)
{
    struct walk *w = ctx;
    if (w->stop || !mr_name_valid(name, strlen(name)))
        return;
    int fd = open_dir_at(topfd, name);
    if (fd < 0)
        return;
    struct room_ctx rc = {w, name};
    each_entry(fd, visit_date, &rc);
    close(fd);
}

static int open_top(const char *dir, int *fd)
{
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd >= 0)
        return 0;
    return errno == ENOENT ? MR_ENOENT : MR_EIO;
}

int mr_store_each(const char *dir, const char *room, mr_store_fn fn, void *user)
{
    int top;
    int rc = open_top(dir, &top);
    if (rc < 0)
        return rc == MR_ENOENT ? 0 : rc;
    struct walk w = {fn, user, false};
    if (room)
        visit_room(top, room, &w);
    else
        each_entry(top, visit_room, &w);
    close(top);
    return 0;
}

struct find_ctx {
    const char *id;
    struct mr_store_entry *out;
    bool found;
};

static bool match_id(const struct mr_store_entry *e, void *user)
{
    struct find_ctx *c = user;
    if (strcmp(e->id, c->id) != 0)
        return true;
    mr_store_entry_copy(c->out, e);
    c->found = true;
    return false;
}

int mr_store_find(const char *dir, const char *id, struct mr_store_entry *out)
{
    struct find_ctx c = {id, out, false};
    memset(out, 0, sizeof(*out));
    if (!mr_store_id_parse(id, NULL, NULL))
        return MR_ENOENT;
    mr_store_each(dir, NULL, match_id, &c);
    return c.found ? 0 : MR_ENOENT;
}

void mr_store_entry_copy(struct mr_store_entry *out, const struct mr_store_entry *e)
{
    *out = *e;
    json_incref(out->meta);
}

void mr_store_entry_clear(struct mr_store_entry *e)
{
    json_decref(e->meta);
    e->meta = NULL;
}

/* --- Media and deletion --------------------------------------------------- */

/* Opens <dir>/<room>/<date> without following links below dir. */
static int open_date_dir(const char *dir, const struct mr_store_entry *e)
{
    int top, fd = -1;
    if (open_top(dir, &top) < 0)
        return -1;
    int room = open_dir_at(top, e->room);
    if (room >= 0) {
        fd = open_dir_at(room, e->date);
        close(room);
    }
    close(top);
    return fd;
}

int mr_store_open_media(const char *dir, const struct mr_store_entry *e, int *fd, uint64_t *size)
{
    if (!e->media_found)
        return MR_ENOENT;
    int dfd = open_date_dir(dir, e);
    if (dfd < 0)
        return MR_ENOENT;
    int f = openat(dfd, e->media, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    close(dfd);
    struct stat st;
    if (f < 0)
        return MR_ENOENT;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return MR_ENOENT;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

int mr_store_delete(const char *dir, const struct mr_store_entry *e)
{
    int dfd = open_date_dir(dir, e);
    if (dfd < 0)
        return MR_ENOENT;
    char names[5][MR_STORE_NAME_MAX];
    unsigned n = media_candidates(e, names);
    int rc = 0;
    /* The media first: a sidecar left alone still lists (and can be deleted
     * again), an orphaned media file would be invisible. */
    for (unsigned i = 0; i < n && rc == 0; i++) {
        struct stat st;
        if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            unlinkat(dfd, names[i], 0) != 0 && errno != ENOENT)
            rc = MR_EIO;
    }
    if (rc == 0 && unlinkat(dfd, e->sidecar, 0) != 0)
        rc = errno == ENOENT ? MR_ENOENT : MR_EIO;
    int saved = errno;
    close(dfd);
    errno = saved;
    return rc;
}

struct prune_ctx {
    char today[MR_ISO_TIME_LEN + 1];
    unsigned removed;
};

static void prune_date(int roomfd, const char *name, void *ctx)
{
    struct prune_ctx *c = ctx;
    /* rmdir refuses a folder that is not empty, which is the test. */
    if (date_name(name) && strncmp(name, c->today, 10) < 0 &&
        unlinkat(roomfd, name, AT_REMOVEDIR) == 0)
        c->removed++;
}

static void prune_room(int topfd, const char *name, void *ctx)
{
    if (!mr_name_valid(name, strlen(name)))
        return;
    int fd = open_dir_at(topfd, name);
    if (fd < 0)
        return;
    each_entry(fd, prune_date, ctx);
    close(fd);
}

unsigned mr_store_prune_dates(const char *dir, int64_t now_s)
{
    struct prune_ctx c = {.removed = 0};
    int top;
    if (open_top(dir, &top) < 0)
        return 0;
    mr_iso_time_format(now_s, c.today);
    each_entry(top, prune_room, &c);
    close(top);
    return c.removed;
}
