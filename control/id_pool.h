/*
 * Stable ids for services and real servers: they index the per-lcore counter arrays and the
 * snapshot's real table. A released real id drains first: it is reused only once no flow
 * counts against it any more, so a new real never inherits an old one's connections.
 */
#ifndef DPDK_LB_ID_POOL_H
#define DPDK_LB_ID_POOL_H

#include <stdbool.h>
#include <stdint.h>

enum id_state { ID_FREE = 0, ID_USED, ID_DRAINING };

struct id_pool {
	uint32_t max; /* ids are 1..max */
	uint32_t n_free;
	uint32_t *free_stack;
	uint32_t *gen;
	uint8_t *state;
};

/* Prepares ids 1..max; 0 or -1. */
int id_pool_init(struct id_pool *p, uint32_t max);

/* Takes a free id and bumps its generation; 0 when none is free. */
uint32_t id_pool_alloc(struct id_pool *p);

/* Gives id back: free at once, or draining when `drain` (see id_pool_reclaim). */
void id_pool_release(struct id_pool *p, uint32_t id, bool drain);

/* Frees draining ids for which is_idle(id) is true. */
void id_pool_reclaim(struct id_pool *p, bool (*is_idle)(uint32_t id));

#endif
