/*
 * The transport counters of the forwarding fixture (sfu_fakes_link.c):
 * what mr_transport_stats answers for every fake transport.
 */
#ifndef MR_TEST_SFU_FAKES_LINK_H
#define MR_TEST_SFU_FAKES_LINK_H

#include <stdint.h>

/* The bytes every transport says it received (link_health.c's bitrate). */
void fx_set_bytes_in(uint64_t bytes);

#endif
