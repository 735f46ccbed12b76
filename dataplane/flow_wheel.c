/* The flow table's timer wheel (flow_wheel.h). */
#include "flow_wheel.h"

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

int flow_wheel_init(struct flow_wheel *w, uint32_t positions, uint32_t tick_shift, uint64_t now,
		    int socket)
{
	memset(w, 0, sizeof(*w));
	w->next = rte_malloc_socket("flow_wheel", sizeof(uint32_t) * positions, RTE_CACHE_LINE_SIZE,
				    socket);
	w->prev = rte_malloc_socket("flow_wheel", sizeof(uint32_t) * positions, RTE_CACHE_LINE_SIZE,
				    socket);
	w->head = rte_malloc_socket("flow_wheel", sizeof(uint32_t) * FLOW_WHEEL_LISTS,
				    RTE_CACHE_LINE_SIZE, socket);
	if (w->next == NULL || w->prev == NULL || w->head == NULL) {
		flow_wheel_free(w);
		return -ENOMEM;
	}
	memset(w->prev, 0xff, sizeof(uint32_t) * positions);
	memset(w->head, 0xff, sizeof(uint32_t) * FLOW_WHEEL_LISTS);
	w->positions = positions;
	w->tick_shift = tick_shift;
	w->cur = now >> tick_shift;
	return 0;
}

void flow_wheel_free(struct flow_wheel *w)
{
	rte_free(w->next);
	rte_free(w->prev);
	rte_free(w->head);
	w->next = w->prev = w->head = NULL;
}

uint64_t flow_wheel_bytes(const struct flow_wheel *w)
{
	return (uint64_t)w->positions * 2 * sizeof(uint32_t) + FLOW_WHEEL_LISTS * sizeof(uint32_t);
}

void flow_wheel_link(struct flow_wheel *w, uint32_t pos, uint64_t expires)
{
	uint64_t t = expires >> w->tick_shift;

	/* Past due: the list being worked through; beyond one turn: the last list of the turn,
	 * which is looked at again (and the flow moved on) when it comes due. */
	if (t < w->cur)
		t = w->cur;
	else if (t > w->cur + FLOW_WHEEL_LISTS - 1)
		t = w->cur + FLOW_WHEEL_LISTS - 1;
	uint32_t list = (uint32_t)(t & (FLOW_WHEEL_LISTS - 1));
	uint32_t first = w->head[list];

	w->next[pos] = first;
	w->prev[pos] = FLOW_WHEEL_HEAD_OF | list;
	if (first != FLOW_WHEEL_NONE)
		w->prev[first] = pos;
	w->head[list] = pos;
}

void flow_wheel_unlink(struct flow_wheel *w, uint32_t pos)
{
	uint32_t p = w->prev[pos];
	uint32_t n = w->next[pos];

	if (p == FLOW_WHEEL_NONE)
		return;
	if (p & FLOW_WHEEL_HEAD_OF)
		w->head[p & ~FLOW_WHEEL_HEAD_OF] = n;
	else
		w->next[p] = n;
	if (n != FLOW_WHEEL_NONE)
		w->prev[n] = p;
	w->prev[pos] = FLOW_WHEEL_NONE;
}

uint32_t flow_wheel_pop_due(struct flow_wheel *w, uint64_t now)
{
	uint64_t now_tick = now >> w->tick_shift;

	/* A tick is processed once it has passed, so an entry relinked at its expiry never lands
	 * in the list being emptied. */
	while (w->cur < now_tick) {
		uint32_t list = (uint32_t)(w->cur & (FLOW_WHEEL_LISTS - 1));
		uint32_t pos = w->head[list];
		if (pos != FLOW_WHEEL_NONE) {
			flow_wheel_unlink(w, pos);
			return pos;
		}
		w->cur++;
	}
	return FLOW_WHEEL_NONE;
}
