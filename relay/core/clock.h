/* Time sources. Pure modules never read the clock: callers pass `now`. */
#ifndef MR_CORE_CLOCK_H
#define MR_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic microseconds, for timers and intervals. */
static inline int64_t mr_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wall-clock microseconds since the Unix epoch, for NTP timestamps and
 * token expiry. */
static inline int64_t mr_clock_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Converts Unix-epoch microseconds to a 64-bit NTP timestamp (RFC 5905). */
static inline uint64_t mr_clock_ntp_from_unix_us(int64_t us)
{
    uint64_t secs = (uint64_t)(us / 1000000) + 2208988800ULL;
    uint64_t frac = ((uint64_t)(us % 1000000) << 32) / 1000000;
    return secs << 32 | frac;
}

#endif
