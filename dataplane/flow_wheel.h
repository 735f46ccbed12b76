/*
 * A timer wheel over flow-table positions (docs/architecture.md, "The flow table"). 4,096
 * lists, one per tick of 2^tick_shift TSC cycles (about 1/64 s), doubly linked through two
 * arrays indexed by position, so that linking and unlinking are O(1) and a removed flow leaves
 * no trace. Lazy: a flow's expiry moves with every packet but its list does not; when its list
 * comes due, a flow still alive is linked again where its expiry now falls. So a flow is looked
 * at about once per timeout (at most once per wheel turn, about 64 s), never per packet.
 */
#ifndef DPDK_LB_FLOW_WHEEL_H
#define DPDK_LB_FLOW_WHEEL_H

#include <stdint.h>

#define FLOW_WHEEL_LISTS 4096u
#define FLOW_WHEEL_TICKS_PER_S 64u /* at least: the tick is the power of 2 cycles below 1/64 s */
#define FLOW_WHEEL_NONE UINT32_MAX
#define FLOW_WHEEL_HEAD_OF 0x80000000u /* prev of a list's first element: this bit | list */

struct flow_wheel {
	uint32_t *next;     /* per position: the next one in its list, FLOW_WHEEL_NONE at the end */
	uint32_t *prev;     /* per position: the previous one, HEAD_OF | list, or NONE: not linked */
	uint32_t *head;     /* per list: its first position or FLOW_WHEEL_NONE */
	uint64_t cur;       /* the oldest tick not processed yet */
	uint32_t tick_shift;
	uint32_t positions;
};

/* Allocates the wheel for `positions` positions on socket, ticking every 2^tick_shift cycles
 * from now; 0 or -ENOMEM. */
int flow_wheel_init(struct flow_wheel *w, uint32_t positions, uint32_t tick_shift, uint64_t now,
		    int socket);

/* Frees the wheel's arrays. */
void flow_wheel_free(struct flow_wheel *w);

/* Heap bytes of the wheel. */
uint64_t flow_wheel_bytes(const struct flow_wheel *w);

/* Links pos (not linked) into the list of the tick its expiry falls in, within one turn. */
void flow_wheel_link(struct flow_wheel *w, uint32_t pos, uint64_t expires);

/* Unlinks pos if it is linked. */
void flow_wheel_unlink(struct flow_wheel *w, uint32_t pos);

/* Unlinks and returns a position of a list whose tick has passed at `now`, or FLOW_WHEEL_NONE. */
uint32_t flow_wheel_pop_due(struct flow_wheel *w, uint64_t now);

/* The tick length in TSC cycles. */
static inline uint64_t flow_wheel_tick_tsc(const struct flow_wheel *w)
{
	return (uint64_t)1 << w->tick_shift;
}

#endif
