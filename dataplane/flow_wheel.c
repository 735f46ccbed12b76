/* The flow table's timer wheel (flow_wheel.h). */
#include "flow_wheel.h"

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#define CHUNK_NEXT 0
#define CHUNK_COUNT 1

static inline uint32_t *chunk(const struct flow_wheel *w, uint32_t c)
{
	return w->chunks + (size_t)c * FLOW_WHEEL_CHUNK_WORDS;
}

int flow_wheel_init(struct flow_wheel *w, uint32_t refs, uint32_t tick_shift, uint64_t now,
		    int socket)
{
	memset(w, 0, sizeof(*w));
	/* Every list may hold a partly filled chunk, on top of the references themselves. */
	uint64_t n = (uint64_t)refs / FLOW_WHEEL_CHUNK_REFS + FLOW_WHEEL_LISTS + 1;

	if (n > UINT32_MAX / FLOW_WHEEL_CHUNK_WORDS)
		return -ENOMEM;
	w->chunks = rte_malloc_socket("flow_wheel", n * FLOW_WHEEL_CHUNK_WORDS * sizeof(uint32_t),
				      RTE_CACHE_LINE_SIZE, socket);
	if (w->chunks == NULL)
		return -ENOMEM;
	w->n_chunks = (uint32_t)n;
	for (uint32_t c = 0; c < w->n_chunks; c++)
		chunk(w, c)[CHUNK_NEXT] = c + 1 < w->n_chunks ? c + 1 : FLOW_WHEEL_NONE;
	w->free_head = 0;
	w->free_count = w->n_chunks;
	memset(w->head, 0xff, sizeof(w->head));
	memset(w->tail, 0xff, sizeof(w->tail));
	w->tick_shift = tick_shift;
	w->cur = now >> tick_shift;
	return 0;
}

void flow_wheel_free(struct flow_wheel *w)
{
	rte_free(w->chunks);
	w->chunks = NULL;
}

uint64_t flow_wheel_bytes(const struct flow_wheel *w)
{
	return (uint64_t)w->n_chunks * FLOW_WHEEL_CHUNK_WORDS * sizeof(uint32_t);
}

bool flow_wheel_append(struct flow_wheel *w, uint64_t tick, uint32_t pos)
{
	uint32_t list = (uint32_t)(tick & (FLOW_WHEEL_LISTS - 1));
	uint32_t c = w->tail[list];

	if (c == FLOW_WHEEL_NONE || chunk(w, c)[CHUNK_COUNT] == FLOW_WHEEL_CHUNK_REFS) {
		uint32_t fresh = w->free_head;
		if (fresh == FLOW_WHEEL_NONE) {
			w->full++;
			return false;
		}
		w->free_head = chunk(w, fresh)[CHUNK_NEXT];
		w->free_count--;
		chunk(w, fresh)[CHUNK_NEXT] = FLOW_WHEEL_NONE;
		chunk(w, fresh)[CHUNK_COUNT] = 0;
		if (c == FLOW_WHEEL_NONE)
			w->head[list] = fresh;
		else
			chunk(w, c)[CHUNK_NEXT] = fresh;
		w->tail[list] = fresh;
		c = fresh;
	}
	uint32_t *ch = chunk(w, c);
	ch[2 + ch[CHUNK_COUNT]++] = pos;
	return true;
}

uint32_t flow_wheel_pop_due(struct flow_wheel *w, uint64_t now, uint64_t *tick)
{
	uint64_t now_tick = now >> w->tick_shift;

	/* A tick is processed once it has passed, so a reference queued again at its flow's
	 * expiry never lands in the list being emptied. */
	while (w->cur < now_tick) {
		uint32_t list = (uint32_t)(w->cur & (FLOW_WHEEL_LISTS - 1));
		uint32_t c = w->head[list];
		if (c == FLOW_WHEEL_NONE) {
			w->cur++;
			w->read = 0;
			continue;
		}
		uint32_t *ch = chunk(w, c);
		if (w->read < ch[CHUNK_COUNT]) {
			*tick = w->cur;
			/* the next chunk's first line, while this one is read */
			if (w->read == 0 && ch[CHUNK_NEXT] != FLOW_WHEEL_NONE)
				rte_prefetch0(chunk(w, ch[CHUNK_NEXT]));
			return ch[2 + w->read++];
		}
		/* This chunk is read: back to the free ones (an append to this list takes a fresh
		 * one). */
		w->read = 0;
		if (ch[CHUNK_NEXT] == FLOW_WHEEL_NONE) {
			w->head[list] = w->tail[list] = FLOW_WHEEL_NONE;
		} else {
			w->head[list] = ch[CHUNK_NEXT];
		}
		ch[CHUNK_NEXT] = w->free_head;
		w->free_head = c;
		w->free_count++;
	}
	return FLOW_WHEEL_NONE;
}
