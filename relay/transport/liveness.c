#include "transport/liveness.h"

void mr_liveness_start(struct mr_liveness *l, uint64_t heard_n, uint64_t fed_n, int64_t now)
{
    *l = (struct mr_liveness){
        .heard_n = heard_n, .fed_n = fed_n, .heard_us = now, .fed_us = -1, .look_us = now};
}

bool mr_liveness_check(struct mr_liveness *l, uint64_t heard_n, uint64_t rtp_in, uint64_t fed_n,
                       int64_t now, int64_t limit_us)
{
    bool heard = heard_n != l->heard_n;
    bool fed = fed_n != l->fed_n;
    l->heard_n = heard_n;
    l->fed_n = fed_n;
    if (rtp_in)
        l->sender = true;
    if (heard) {
        l->heard_us = now;
        l->owed = false;
    } else if (fed && !l->owed) {
        /* Fed while silent: it owes a report since it was last heard if
         * media kept going to it (fed at the last look too), else from now
         * on (media came back after a pause with nothing to report). */
        l->owed = true;
        l->owed_us = l->fed_us == l->look_us ? l->heard_us : now;
    }
    if (fed)
        l->fed_us = now;
    l->look_us = now;
    if (l->sender && !heard && !l->owed) {
        l->owed = true;
        l->owed_us = l->heard_us;
    }
    return l->owed && now - l->owed_us >= limit_us;
}
