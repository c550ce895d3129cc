/*
 * Counters with one writer thread and any number of readers (metrics).
 *
 * The owning thread adds with a relaxed atomic store of old + n: on x86-64
 * that is a plain load and store, no locked instruction, yet readers on
 * other threads never see a torn value and the program has no data race.
 * Only the owning thread may add.
 */
#ifndef MR_CORE_COUNTER_H
#define MR_CORE_COUNTER_H

#include <stdint.h>

static inline void mr_counter_add(uint64_t *c, uint64_t n)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t mr_counter_read(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif
