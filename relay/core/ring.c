#include "core/ring.h"

#include <stdlib.h>
#include <string.h>

#include "core/counter.h"
#include "core/error.h"

int mr_ring_init(struct mr_ring *r, uint32_t capacity)
{
    uint32_t cap = 2;
    while (cap < capacity && cap < (1u << 30))
        cap <<= 1;
    memset(r, 0, sizeof(*r));
    r->slots = calloc(cap, sizeof(*r->slots));
    if (!r->slots)
        return MR_ENOMEM;
    r->mask = cap - 1;
    return 0;
}

void mr_ring_cleanup(struct mr_ring *r)
{
    free(r->slots);
    r->slots = NULL;
}

bool mr_ring_push(struct mr_ring *r, const uint8_t *data, size_t len, uint8_t track,
                  uint8_t kind, int64_t arrival_us)
{
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    if (head - tail > r->mask || len > MR_RING_SLOT_DATA) {
        mr_counter_add(&r->dropped, 1);
        return false;
    }
    struct mr_ring_slot *s = &r->slots[head & r->mask];
    s->arrival_us = arrival_us;
    s->len = (uint16_t)len;
    s->track = track;
    s->kind = kind;
    memcpy(s->data, data, len);
    __atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
    mr_counter_add(&r->pushed, 1);
    return true;
}

const struct mr_ring_slot *mr_ring_peek(struct mr_ring *r)
{
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
    uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    return head == tail ? NULL : &r->slots[tail & r->mask];
}

void mr_ring_release(struct mr_ring *r)
{
    uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
    __atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
}
