/*
 * Recordings as the recorder leaves them on disk (relay/record/record.h):
 *
 *   <record_dir>/<room>/<YYYY-MM-DD>/<name>.json          the sidecar
 *   <record_dir>/<room>/<YYYY-MM-DD>/<name>.webm|.mkv      the media file
 *                                   (<name>.recording.webm|.mkv while written)
 *
 * The API reads this layout and nothing else, so it needs no code of the
 * recorder and sees recordings made before a restart.
 *
 * Path safety: paths are never built from what a client sends. Entries are
 * found by walking the record directory with openat(O_NOFOLLOW): room
 * folders must be valid room names, date folders YYYY-MM-DD, files plain
 * names; symbolic links are never followed below the record directory
 * (the directory itself may be one: that is the administrator's choice).
 * A recording's API id is "<id>-<segment>": the sidecar's 16 hex digits
 * (shared by the segments of one recording) and its segment number, so one
 * id names one file.
 *
 * All calls run on the control thread and are synchronous: they cost a
 * directory walk, which is fine for thousands of recordings.
 */
#ifndef MR_API_STORE_H
#define MR_API_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/name.h"

#define MR_STORE_ID_MAX   32  /* "<16 hex>-<up to 9 digits>" and a NUL */
#define MR_STORE_NAME_MAX 256 /* a file name inside a date folder */

struct mr_store_entry {
    char id[MR_STORE_ID_MAX]; /* the API id */
    char rec_id[17];          /* the sidecar's id */
    unsigned segment;
    char room[MR_NAME_MAX + 1]; /* the room folder */
    char date[11]; /* the date folder */
    char sidecar[MR_STORE_NAME_MAX];
    char media[MR_STORE_NAME_MAX]; /* the media file found; "" when none */
    bool media_found;
    uint64_t media_size; /* the media file's size now */
    char state[16];      /* "recording", "complete", "interrupted", "failed" */
    int64_t start_s;     /* Unix seconds; INT64_MIN when unknown */
    int64_t end_s;       /* INT64_MIN when unknown (in progress) */
    json_t *meta;        /* the parsed sidecar (owned) */
};

/* Called for each recording; e is borrowed for the call. Return false to
 * stop the walk. */
typedef bool (*mr_store_fn)(const struct mr_store_entry *e, void *user);

/* Walks the recordings of room (NULL: every room). Unreadable, malformed
 * or inconsistent sidecars are skipped. Returns 0, or MR_EIO when dir
 * cannot be opened (a missing directory just has no recordings). */
int mr_store_each(const char *dir, const char *room, mr_store_fn fn, void *user);

/* Finds one recording by API id. Returns 0 with *out filled (release it
 * with mr_store_entry_clear) or MR_ENOENT. */
int mr_store_find(const char *dir, const char *id, struct mr_store_entry *out);

/* Copies e into out (a new reference on meta). */
void mr_store_entry_copy(struct mr_store_entry *out, const struct mr_store_entry *e);
void mr_store_entry_clear(struct mr_store_entry *e);

/* Opens e's media file read-only (O_NOFOLLOW, regular files only) and
 * reports its current size. Returns 0 or MR_ENOENT. */
int mr_store_open_media(const char *dir, const struct mr_store_entry *e, int *fd, uint64_t *size);

/* Removes e's media file (and any other of its candidate names), then its
 * sidecar. Returns 0, MR_ENOENT (already gone) or MR_EIO (errno kept). */
int mr_store_delete(const char *dir, const struct mr_store_entry *e);

/* Removes date folders that are empty and older than the UTC day of
 * now_s (today's folder may be about to receive a recording). Returns the
 * number removed. */
unsigned mr_store_prune_dates(const char *dir, int64_t now_s);

/* True when s has the form of an API id ("<16 lowercase hex>-<digits>",
 * segment below 10^9); fills rec_id and segment when not NULL. */
bool mr_store_id_parse(const char *s, char rec_id[17], unsigned *segment);

/* "video/webm" or "video/x-matroska", from the media file's name. */
const char *mr_store_content_type(const struct mr_store_entry *e);

#endif
