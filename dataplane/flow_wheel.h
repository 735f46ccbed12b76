/*
 * The flow table's timer wheel (docs/architecture.md, "Flow table"): 4,096 lists, one per tick
 * of 2^tick_shift TSC cycles (about 1/64 s), each a chain of 256-byte chunks of positions.
 * Appending writes the tail chunk and popping reads the head chunk in order, so the wheel itself
 * costs no cache miss per flow (doubly linked lists through per-position arrays cost four:
 * measured, new connections ran 30 % slower than with the old sweep). A position in a list is
 * a reference, not a membership: the flow table keeps, per slot, the tick it is queued at, and a
 * reference whose slot was freed or queued elsewhere since is skipped when popped.
 */
#ifndef DPDK_LB_FLOW_WHEEL_H
#define DPDK_LB_FLOW_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define FLOW_WHEEL_LISTS 4096u
#define FLOW_WHEEL_TICKS_PER_S 64u /* at least: the tick is the power of 2 cycles below 1/64 s */
#define FLOW_WHEEL_NONE UINT32_MAX
#define FLOW_WHEEL_CHUNK_WORDS 64u /* a chunk: next chunk, count, then 62 positions */
#define FLOW_WHEEL_CHUNK_REFS (FLOW_WHEEL_CHUNK_WORDS - 2)

struct flow_wheel {
	uint32_t *chunks;     /* n_chunks x 64 words */
	uint32_t n_chunks;
	uint32_t free_head;   /* free chunks, chained through word 0 */
	uint32_t free_count;
	uint32_t read;        /* references of the current list's head chunk already popped */
	uint32_t head[FLOW_WHEEL_LISTS]; /* per list: first chunk or FLOW_WHEEL_NONE */
	uint32_t tail[FLOW_WHEEL_LISTS]; /* per list: last chunk */
	uint64_t cur;         /* the oldest tick not processed yet */
	uint64_t full;        /* references not queued: no free chunk (ever) */
	uint32_t tick_shift;
};

/* Allocates chunks for about `refs` references on socket, ticking every 2^tick_shift cycles
 * from now; 0 or -ENOMEM. */
int flow_wheel_init(struct flow_wheel *w, uint32_t refs, uint32_t tick_shift, uint64_t now,
		    int socket);

/* Frees the wheel's chunks. */
void flow_wheel_free(struct flow_wheel *w);

/* Heap bytes of the wheel. */
uint64_t flow_wheel_bytes(const struct flow_wheel *w);

/* The tick a reference for expiry `expires` goes to: within one turn from the current one. */
static inline uint64_t flow_wheel_tick(const struct flow_wheel *w, uint64_t expires)
{
	uint64_t t = expires >> w->tick_shift;

	/* Past due: the list being worked through; beyond one turn: the last list of the turn,
	 * which is looked at again (and the flow moved on) when it comes due. */
	if (t < w->cur)
		return w->cur;
	if (t > w->cur + FLOW_WHEEL_LISTS - 1)
		return w->cur + FLOW_WHEEL_LISTS - 1;
	return t;
}

/* Appends pos to the list of tick (from flow_wheel_tick); false when no chunk is free. */
bool flow_wheel_append(struct flow_wheel *w, uint64_t tick, uint32_t pos);

/* The next reference of a list whose tick has passed at `now` (*tick: that tick), or
 * FLOW_WHEEL_NONE. */
uint32_t flow_wheel_pop_due(struct flow_wheel *w, uint64_t now, uint64_t *tick);

/* The tick length in TSC cycles. */
static inline uint64_t flow_wheel_tick_tsc(const struct flow_wheel *w)
{
	return (uint64_t)1 << w->tick_shift;
}

#endif
