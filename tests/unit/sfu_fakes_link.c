/*
 * The transport counters link_health.c reads (mr_transport_stats), for the
 * forwarding fixture: one set for every fake transport, whose bytes_in the
 * test sets with fx_set_bytes_in (sfu_fakes_link.h). Kept apart from sfu_fakes.c because only
 * the link-health tests look at it.
 */
#include "sfu_fakes_link.h"

#include "sfu_fakes.h"

static struct mr_transport_stats stats;

const struct mr_transport_stats *mr_transport_stats(const struct mr_transport *t)
{
    (void)t;
    return &stats;
}

void fx_set_bytes_in(uint64_t bytes)
{
    stats.bytes_in = bytes;
}
