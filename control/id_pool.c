#include "id_pool.h"

#include <stdlib.h>

int id_pool_init(struct id_pool *p, uint32_t max)
{
	p->max = max;
	p->free_stack = calloc(max, sizeof(uint32_t));
	p->gen = calloc(max + 1, sizeof(uint32_t));
	p->state = calloc(max + 1, 1);
	if (p->free_stack == NULL || p->gen == NULL || p->state == NULL)
		return -1;
	/* Lowest ids on top, so a fresh daemon numbers objects 1, 2, 3 ... */
	for (uint32_t i = 0; i < max; i++)
		p->free_stack[i] = max - i;
	p->n_free = max;
	return 0;
}

uint32_t id_pool_alloc(struct id_pool *p)
{
	if (p->n_free == 0)
		return 0;
	uint32_t id = p->free_stack[--p->n_free];
	p->state[id] = ID_USED;
	if (++p->gen[id] == 0) /* generation 0 means "no real" in snapshots */
		p->gen[id] = 1;
	return id;
}

void id_pool_release(struct id_pool *p, uint32_t id, bool drain)
{
	if (id == 0 || id > p->max || p->state[id] != ID_USED)
		return;
	if (drain) {
		p->state[id] = ID_DRAINING;
		return;
	}
	p->state[id] = ID_FREE;
	p->free_stack[p->n_free++] = id;
}

void id_pool_reclaim(struct id_pool *p, bool (*is_idle)(uint32_t id))
{
	for (uint32_t id = 1; id <= p->max; id++)
		if (p->state[id] == ID_DRAINING && is_idle(id)) {
			p->state[id] = ID_FREE;
			p->free_stack[p->n_free++] = id;
		}
}
