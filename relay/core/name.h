/* Room and stream names: [A-Za-z0-9_-]{1,64} (they become parts of paths). */
#ifndef MR_CORE_NAME_H
#define MR_CORE_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define MR_NAME_MAX 64

/* True when the len bytes at s form a valid room or stream name. */
bool mr_name_valid(const char *s, size_t len);

#endif
