#include "src_sketch.h"

#include <rte_malloc.h>

static uint32_t n_slots;

int src_sketch_init(uint32_t slots)
{
	n_slots = slots;
	for (uint16_t i = 0; i < lb_rt.n_workers && slots != 0; i++) {
		struct lb_worker *w = lb_rt.workers[i];
		w->src_slots = rte_zmalloc("src_sketch", slots * sizeof(struct src_slot),
					   RTE_CACHE_LINE_SIZE);
		if (w->src_slots == NULL)
			return -1;
		w->src_mask = slots - 1;
	}
	return 0;
}

uint32_t src_sketch_slots(void)
{
	return n_slots;
}

bool src_sketch_read(const struct lb_worker *w, uint32_t i, struct src_slot *out)
{
	const struct src_slot *s = &w->src_slots[i];
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

	if (seq & 1)
		return false;
	out->family = s->family;
	memcpy(out->addr, s->addr, sizeof(out->addr));
	out->pkts = __atomic_load_n(&s->pkts, __ATOMIC_RELAXED);
	out->drops = __atomic_load_n(&s->drops, __ATOMIC_RELAXED);
	out->conns = __atomic_load_n(&s->conns, __ATOMIC_RELAXED);
	out->seq = seq;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq;
}
