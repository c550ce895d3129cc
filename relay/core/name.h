/*
 * Names that come from clients and end up in paths, logs, the audit trail
 * and other people's consoles, each with a grammar small enough to be safe
 * in all of those places.
 *
 *   room and stream names   [A-Za-z0-9_-]{1,64}     (parts of file paths)
 *   a token's sub           [A-Za-z0-9._@:+-]{1,128}
 *
 * sub names a person or a device ("dr.wang@hospital-3.cn", "urn:his:1234",
 * "cart-7"). It is shown to the other participants of a room, so it may
 * hold nothing that could be mistaken for something else on their screen:
 * no spaces, no control or format characters (the bidirectional overrides
 * U+202A..U+202E, zero-width characters, line and paragraph separators),
 * and no characters outside ASCII, where look-alike letters live.
 */
#ifndef MR_CORE_NAME_H
#define MR_CORE_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define MR_NAME_MAX 64
#define MR_SUB_MAX 128
/* A stream's key, "<room>/<stream>". */
#define MR_STREAM_KEY_MAX (2 * MR_NAME_MAX + 1)

/* True when the len bytes at s form a valid room or stream name. */
bool mr_name_valid(const char *s, size_t len);

/* True when the len bytes at s form a valid sub. */
bool mr_sub_valid(const char *s, size_t len);

#endif
