/* The set-associative address map shared by lblc and lblcr (sched_addr_map.h). */
#include "sched_addr_map.h"

#include "sched_util.h"

void *sched_addr_map_slot(void *table, size_t entry_size, uint32_t sets, uint32_t ways,
			  uint32_t tick, const struct lb_addr *addr, uint64_t seed, bool *found)
{
	uint32_t set = (uint32_t)sched_hash_addr(addr, 0, false, 0, seed) & (sets - 1);
	char *first = (char *)table + (size_t)set * ways * entry_size;
	struct sched_addr_entry *victim = NULL;

	for (uint32_t w = 0; w < ways; w++) {
		struct sched_addr_entry *e = (struct sched_addr_entry *)(first + w * entry_size);
		if (e->addr.family == 0) {
			if (victim == NULL || victim->addr.family != 0)
				victim = e; /* the first empty way beats any occupied one */
			continue;
		}
		if (lb_addr_equal(&e->addr, addr)) {
			*found = true;
			return e;
		}
		if (victim == NULL ||
		    (victim->addr.family != 0 && tick - e->last_use > tick - victim->last_use))
			victim = e;
	}
	*found = false;
	return victim;
}
