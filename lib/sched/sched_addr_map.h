/*
 * The per-lcore address map behind lblc and lblcr: a fixed table of sets * ways entries, set
 * associative by the hash of the destination address, evicting the least recently used entry of
 * a full set. Each scheduler's entry type starts with struct sched_addr_entry and adds its own
 * payload (one dest, or a member set). Internal to lib/sched.
 */
#ifndef DPDK_LB_SCHED_ADDR_MAP_H
#define DPDK_LB_SCHED_ADDR_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inet_addr.h"

/* The head every entry of an address map starts with. */
struct sched_addr_entry {
	struct lb_addr addr; /* family 0: empty */
	uint32_t last_use;   /* lcore tick of the last lookup: LRU eviction */
};

/*
 * In table (sets * ways entries of entry_size bytes, each starting with struct sched_addr_entry;
 * sets a power of two), the entry for addr (*found true), or the slot to (re)use for it: the
 * first empty way of its set, else the one least recently used as of tick (*found false).
 */
void *sched_addr_map_slot(void *table, size_t entry_size, uint32_t sets, uint32_t ways,
			  uint32_t tick, const struct lb_addr *addr, uint64_t seed, bool *found);

#endif
