/* MR_E* codes to the contract's answers: the one table (error_code.h). */
#include "http/error_code.h"

#include <stddef.h>

#include "core/error.h"

static const struct {
    int err;
    struct mr_http_error answer;
} table[] = {
    {MR_EPARSE, {400, "bad-sdp"}},           /* an offer, answer or fragment */
    {MR_ECODEC, {400, "unsupported-codec"}}, /* no codec the stream uses */
    {MR_EPERM, {403, "forbidden"}},          /* the room's policy forbids it */
    {MR_ENOENT, {404, "stream-not-found"}},  /* nothing published there */
    {MR_EBUSY, {409, "stream-busy"}},        /* another identity publishes */
    {MR_ELIMIT, {503, "server-busy"}},       /* admission limits */
};

struct mr_http_error mr_http_error_of(int err)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].err == err)
            return table[i].answer;
    return (struct mr_http_error){500, "internal"};
}
