#include "room/flood.h"

#define WINDOW_US 1000000

static unsigned popcount(uint32_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* Moves to the window holding now_us; the windows skipped were quiet. */
static void roll(struct mr_flood *f, int64_t now_us)
{
    if (f->window_us && now_us - f->window_us < WINDOW_US)
        return;
    int64_t elapsed = f->window_us ? (now_us - f->window_us) / WINDOW_US : 32;
    f->over = elapsed >= 32 ? 0 : f->over << elapsed;
    f->window_us = f->window_us && elapsed < 32 ? f->window_us + elapsed * WINDOW_US : now_us;
    f->msgs = f->refused = 0;
}

enum mr_flood_verdict mr_flood_count(struct mr_flood *f, int64_t now_us)
{
    roll(f, now_us);
    if (++f->msgs <= MR_FLOOD_PER_S)
        return MR_FLOOD_OK;
    f->over |= 1;
    f->refused++;
    uint32_t run = (1u << MR_FLOOD_RUN) - 1;
    uint32_t last = (1u << MR_FLOOD_LAST) - 1;
    if (f->refused >= MR_FLOOD_BURST || (f->over & run) == run ||
        popcount(f->over & last) >= MR_FLOOD_OF)
        return MR_FLOOD_DISCONNECT;
    return f->refused <= MR_FLOOD_ANSWERED ? MR_FLOOD_REFUSE : MR_FLOOD_DROP;
}
